/* Experiment kind `plan` (docs/experiments.md): every planner of the planner interface
 * (include/cleave/plan.h) on the same models and network conditions, in one sweep. A
 * point is (model, condition: the base testbed with its factor levels); on any rank the
 * point's testbed becomes one cl_plan_input (unit times = graph FLOPs / host_gflops x
 * node speed, links and powers from the testbed) and every listed planner runs on it.
 * Records: /plan/choices, one row per (point, planner): the placement, its predicted
 * latency, energy and bytes, feasibility, the planner's run time, and the best planner
 * of the point under the objective. The point row carries the best planner's values. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/onnx.h"
#include "cleave/plan.h"
#include "cleave/records.h"
#include "cleave/sweep_kind.h"
#include "cleave/testbed.h"
#include "cleave/wallclock.h"

/* Separates the planner settings from the resolved testbed in a point's text. */
static const char g_sep[] = "--- # testbed\n";

typedef struct pl_state {
  char **planners;
  int n_planners;
  int objective;      /* CL_PLAN_LATENCY or CL_PLAN_ENERGY */
  double host_gflops; /* host speed the unit times assume */
} pl_state;

static void pl_state_destroy(void *p) {
  pl_state *s = p;
  for (int i = 0; s->planners && i < s->n_planners; i++) free(s->planners[i]);
  free(s->planners);
  free(s);
}

static cl_status all_planners(pl_state *s) {
  int n = 0;
  const char *const *names = cl_planner_list(&n);
  s->planners = calloc((size_t)n + 1, sizeof(char *));
  if (!s->planners) return CL_ERR_NOMEM;
  for (s->n_planners = 0; s->n_planners < n; s->n_planners++)
    if (!(s->planners[s->n_planners] = cl_sweep_printf("%s", names[s->n_planners]))) return CL_ERR_NOMEM;
  return CL_OK;
}

static cl_status pl_parse(cl_sweep_exp *e, const cl_cfg *c, const cl_cfg_node *root) {
  /* only what a planner's input depends on: node speeds or devices, link bandwidths and latencies */
  CL_TRY(cl_sweep_exp_parse_testbed(e, c, root,
                                    CL_SWEEP_FACTOR_SPEED | CL_SWEEP_FACTOR_DEVICE | CL_SWEEP_FACTOR_BANDWIDTH |
                                        CL_SWEEP_FACTOR_LATENCY));
  pl_state *s = calloc(1, sizeof *s);
  if (!s) return CL_ERR_NOMEM;
  cl_sweep_exp_set_state(e, s);
  const cl_cfg_node *pn = cl_cfg_get(root, "planners");
  if (pn && cl_cfg_kind_of(pn) == CL_CFG_SCALAR && !strcmp(cl_cfg_scalar(pn), "all")) {
    CL_TRY(all_planners(s));
  } else {
    CL_TRY(cl_sweep_cfg_strings(c, root, "planners", &s->planners, &s->n_planners));
    for (int i = 0; i < s->n_planners; i++)
      if (!cl_planner_find(s->planners[i])) {
        int n = 0;
        const char *const *names = cl_planner_list(&n);
        char known[512] = "";
        for (int k = 0; k < n; k++)
          snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", k ? ", " : "", names[k]);
        return cl_cfg_error(c, cl_cfg_at(pn, i), "unknown planner '%s' (expected all, or some of: %s)",
                            s->planners[i], known);
      }
  }
  static const char *const objectives[] = {"latency", "energy", NULL};
  int obj = 0;
  CL_TRY(cl_cfg_get_enum(c, root, "objective", 0, objectives, &obj));
  s->objective = obj ? CL_PLAN_ENERGY : CL_PLAN_LATENCY;
  s->host_gflops = 20;
  return cl_cfg_get_double(c, root, "host_gflops", 0, 1e-3, 1e6, &s->host_gflops);
}

static int pl_n_plans(const cl_sweep_exp *e, int m) {
  (void)e;
  (void)m;
  return 1; /* every planner runs inside the point, on the same input */
}

/* The planners choose the placement, so the base testbed's plan (written for its own
 * model) is replaced by one any model resolves: everything on the first node. */
static char *neutral_plan(const cl_sweep_exp *e) {
  cl_config_writer *w = NULL;
  if (cl_config_writer_create(&w) != CL_OK) return NULL;
  cl_config_writer_seq(w, 1);
  cl_config_writer_map(w, 1);
  cl_config_writer_key_str(w, "node", cl_sweep_exp_node(e, 0));
  cl_config_writer_key_str(w, "layers", "rest");
  cl_config_writer_end(w);
  cl_config_writer_end(w);
  char *t = NULL;
  if (cl_config_writer_finish(w, &t) == CL_OK) return t;
  free(t);
  return NULL;
}

/* Two YAML documents: the planners' parameters, then (after g_sep) the point's testbed. */
static char *pl_point_text(const cl_sweep_exp *e, int i) {
  const pl_state *s = cl_sweep_exp_state(e);
  cl_config_writer *w = NULL;
  if (cl_config_writer_create(&w) != CL_OK) return NULL;
  cl_config_writer_comment(w, "plan point: every planner on this model and testbed");
  cl_config_writer_map(w, 0);
  cl_config_writer_key(w, "planners");
  cl_config_writer_seq(w, 1);
  for (int k = 0; k < s->n_planners; k++) cl_config_writer_str(w, s->planners[k]);
  cl_config_writer_end(w);
  cl_config_writer_key_str(w, "objective", s->objective == CL_PLAN_ENERGY ? "energy" : "latency");
  cl_config_writer_key_double(w, "host_gflops", s->host_gflops);
  cl_config_writer_end(w);
  char *head = NULL, *plan = neutral_plan(e);
  cl_status st = cl_config_writer_finish(w, &head);
  char *tb = plan ? cl_sweep_point_testbed_text(e, i, plan) : NULL;
  char *t = st == CL_OK && tb ? cl_sweep_printf("%s%s%s", head, g_sep, tb) : NULL;
  free(head);
  free(plan);
  free(tb);
  return t;
}

static void pl_plan_label(const cl_sweep_exp *e, int i, char *buf, size_t cap) {
  (void)e;
  (void)i;
  snprintf(buf, cap, "every planner"); /* completed points carry their best planner */
}

/* The first point of every model loads as a testbed. */
static cl_status pl_validate(const cl_sweep_exp *e) {
  int last_model = -1;
  for (int i = 0; i < cl_sweep_n_points(e); i++) {
    if (cl_sweep_point_model(e, i) == last_model) continue;
    last_model = cl_sweep_point_model(e, i);
    char *plan = neutral_plan(e);
    cl_status st = plan ? cl_sweep_point_check_testbed(e, i, plan) : CL_ERR_NOMEM;
    free(plan);
    CL_TRY(st);
  }
  return CL_OK;
}

/* ---- evaluation (any rank) ---- */

typedef struct pl_cache {
  char model[256];
  cl_graph *g; /* structure only: planners need shapes and FLOPs, not weights */
} pl_cache;

static void pl_cache_destroy(void *p) {
  pl_cache *c = p;
  if (c) cl_graph_destroy(c->g);
  free(c);
}

/* Read the settings half of a point text. */
static cl_status read_settings(const char *text, size_t len, char ***planners, int *n, int *objective, double *gflops) {
  char *head = malloc(len + 1);
  if (!head) return CL_ERR_NOMEM;
  memcpy(head, text, len);
  head[len] = '\0';
  cl_cfg *c = NULL;
  cl_status st = cl_cfg_parse_string("<plan point>", head, &c);
  free(head);
  if (st != CL_OK) return st;
  const cl_cfg_node *root = cl_cfg_root(c);
  static const char *const objectives[] = {"latency", "energy", NULL};
  int obj = 0;
  st = cl_sweep_cfg_strings(c, root, "planners", planners, n);
  if (st == CL_OK) st = cl_cfg_get_enum(c, root, "objective", 1, objectives, &obj);
  if (st == CL_OK) st = cl_cfg_get_double(c, root, "host_gflops", 1, 1e-3, 1e6, gflops);
  *objective = obj ? CL_PLAN_ENERGY : CL_PLAN_LATENCY;
  cl_cfg_free(c);
  return st;
}

static cl_status pl_eval(const char *origin, const char *text, void **cache, cl_sweep_poll_fn poll, void *pctx,
                         cl_sweep_buf *out) {
  (void)poll, (void)pctx;
  const char *tb_text = strstr(text, g_sep);
  if (!tb_text) {
    cl_log_error("sweep: a plan point without its testbed part");
    return CL_ERR_INVALID;
  }
  char **planners = NULL;
  int n = 0, objective = 0;
  double gflops = 20;
  cl_status st = read_settings(text, (size_t)(tb_text - text), &planners, &n, &objective, &gflops);
  cl_testbed tb;
  memset(&tb, 0, sizeof tb);
  if (st == CL_OK) st = cl_testbed_load_string(origin, tb_text + strlen(g_sep), &tb);
  if (st == CL_OK && !*cache && !(*cache = calloc(1, sizeof(pl_cache)))) st = CL_ERR_NOMEM;
  pl_cache *pc = *cache;
  if (st == CL_OK && (!pc->g || strcmp(pc->model, tb.model))) {
    cl_graph_destroy(pc->g);
    pc->g = NULL;
    st = cl_model_load_structure(tb.model, &pc->g);
    snprintf(pc->model, sizeof pc->model, "%s", st == CL_OK ? tb.model : "");
  }
  cl_plan_input in;
  cl_plan_input_init(&in);
  if (st == CL_OK) st = cl_plan_input_from_testbed(&tb, pc->g, NULL, gflops, &in);
  if (st == CL_OK) {
    in.model = tb.model;
    in.objective = (cl_plan_objective)objective;
    cl_sweep_buf_i32(out, n);
  }
  for (int k = 0; st == CL_OK && k < n; k++) {
    cl_plan_result r;
    double t0 = cl_wall_now();
    cl_status ps = cl_plan_run(planners[k], &in, &r);
    double secs = cl_wall_now() - t0;
    char place[256] = "";
    if (ps == CL_OK) cl_plan_placement_text(&in, &r, place, sizeof place);
    /* a planner that does not apply (or fails) is a result of the comparison */
    cl_sweep_buf_i32(out, (int32_t)ps);
    cl_sweep_buf_i32(out, ps == CL_OK && r.feasible);
    cl_sweep_buf_f64(out, ps == CL_OK ? r.latency : NAN);
    cl_sweep_buf_f64(out, ps == CL_OK ? r.energy : NAN);
    cl_sweep_buf_f64(out, ps == CL_OK ? r.bytes : NAN);
    cl_sweep_buf_f64(out, secs);
    cl_sweep_buf_str(out, place);
    cl_plan_result_fini(&r);
  }
  cl_plan_input_fini(&in);
  cl_testbed_free(&tb);
  for (int k = 0; planners && k < n; k++) free(planners[k]);
  free(planners);
  return st;
}

/* ---- record tables (rank 0) ---- */

static cl_status pl_write(cl_sweep_sink *s, const cl_sweep_exp *e, int i, int64_t att, cl_sweep_rd *r, double *latency,
                          double *energy) {
  const pl_state *ps = cl_sweep_exp_state(e);
  int32_t n = cl_sweep_rd_i32(r), mid = 0;
  if (r->bad || n != ps->n_planners) return CL_ERR_MPI;
  cl_rec_plan_choice *rows = calloc((size_t)n + 1, sizeof *rows);
  if (!rows) return CL_ERR_NOMEM;
  cl_status st = cl_dict_id(s->models, cl_sweep_exp_model(e, cl_sweep_point_model(e, i)), &mid);
  int best = -1;
  for (int k = 0; st == CL_OK && k < n; k++) {
    cl_rec_plan_choice *c = &rows[k];
    c->attempt = att;
    c->model = mid;
    st = cl_dict_id(s->d[0], ps->planners[k], &c->planner);
    c->status = cl_sweep_rd_i32(r);
    c->feasible = cl_sweep_rd_i32(r);
    c->latency = cl_sweep_rd_f64(r);
    c->energy = cl_sweep_rd_f64(r);
    c->bytes = cl_sweep_rd_f64(r);
    c->plan_seconds = cl_sweep_rd_f64(r);
    cl_sweep_rd_str(r, c->placement, sizeof c->placement);
    double v = ps->objective == CL_PLAN_ENERGY ? c->energy : c->latency;
    double bv = best < 0 ? INFINITY : ps->objective == CL_PLAN_ENERGY ? rows[best].energy : rows[best].latency;
    if (c->status == CL_OK && c->feasible && v < bv) best = k;
  }
  if (r->bad) st = CL_ERR_MPI;
  *latency = *energy = NAN;
  if (best >= 0) {
    rows[best].best = 1;
    *latency = rows[best].latency;
    *energy = rows[best].energy;
  }
  if (st == CL_OK) st = cl_table_append(s->t[0], rows, (size_t)n);
  if (st == CL_OK) s->records += (uint64_t)n;
  free(rows);
  return st;
}

/* The kind's row (include/cleave/sweep_kind.h; listed in sim/sweep_kinds.c). */
const cl_sweep_kind_i cl_sweep_kind_plan = {
    .name = "plan", .id = 3, .onnx_models = 1, .parse = pl_parse, .state_destroy = pl_state_destroy,
    .n_plans = pl_n_plans, .point_text = pl_point_text, .plan_label = pl_plan_label, .validate = pl_validate,
    .eval = pl_eval, .cache_destroy = pl_cache_destroy, .tables = {&CL_REC_PLAN_CHOICES}, .dicts = {"planners"},
    .write = pl_write,
};
