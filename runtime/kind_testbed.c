/* Experiment kind `testbed` (docs/experiments.md): every point is the base testbed with
 * the model, a plan (every_cut or an explicit `plans:` list) and the factor levels
 * substituted, evaluated in-process (cl__sweep_eval_testbed_cached). Records: /inferences,
 * one row per inference of a point; /sweep/layers, one row per executed layer per
 * inference (times, factor and busy energy, as /layers of cleave run). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/exec.h"
#include "cleave/onnx.h"
#include "cleave/records.h"
#include "sweep_internal.h"

/* Plans of one model. */
typedef struct tb_plans {
  int n;
  char **label; /* printable plan label (<= 123 chars), e.g. "cut@features.5" */
  char **yaml;  /* the plan in testbed `plan:` syntax (flow YAML) */
} tb_plans;

typedef struct tb_state {
  int every_cut;
  int n_explicit;
  char **explicit_plan; /* flow YAML of each explicit plan */
  tb_plans *plans;      /* [n_models] (every_cut) */
  int n_models;
  char **profile;       /* [n_models] profile mode: `profiles:` file of each model, else NULL */
} tb_state;

static void tb_state_destroy(void *p) {
  tb_state *s = p;
  for (int i = 0; i < s->n_explicit && s->explicit_plan; i++) free(s->explicit_plan[i]);
  free(s->explicit_plan);
  for (int m = 0; s->plans && m < s->n_models; m++) {
    for (int k = 0; k < s->plans[m].n; k++) {
      free(s->plans[m].label ? s->plans[m].label[k] : NULL);
      free(s->plans[m].yaml ? s->plans[m].yaml[k] : NULL);
    }
    free(s->plans[m].label);
    free(s->plans[m].yaml);
  }
  free(s->plans);
  for (int m = 0; s->profile && m < s->n_models; m++) free(s->profile[m]);
  free(s->profile);
  free(s);
}

/* ---- cut points at executor step boundaries ---- */

cl_status cl__sweep_step_cuts(const char *model, int **cuts, int *n, char ***names, int *out_node) {
  cl_graph *g = NULL;
  CL_TRY(cl_model_load_structure(model, &g)); /* zoo name or ONNX file, no weights read */
  cl_exec_opts o = cl_exec_opts_default();
  o.plan_only = 1;
  cl_exec *ex = NULL;
  cl_status st = cl_exec_create(g, &o, &ex);
  int N = cl_graph_size(g);
  int m = cl_graph_cut_points(g, NULL, 0);
  int *cp = malloc(sizeof(int) * (size_t)(m + 1));
  uint8_t *is_out = calloc((size_t)N, 1);
  *cuts = malloc(sizeof(int) * (size_t)(m + 2));
  *names = calloc((size_t)(m + 2), sizeof(char *));
  *n = 0;
  if (st == CL_OK && (!cp || !is_out || !*cuts || !*names)) st = CL_ERR_NOMEM;
  if (st == CL_OK) {
    cl_graph_cut_points(g, cp, m);
    for (int s = 0; s < cl_exec_step_count(ex); s++) is_out[cl_exec_step_get(ex, s)->out_node] = 1;
    is_out[0] = 1;
    for (int k = 0; k < m; k++)
      if (is_out[cp[k]]) (*cuts)[(*n)++] = cp[k];
    *out_node = cl_graph_output(g);
    for (int k = 0; k < *n && st == CL_OK; k++)
      if (!((*names)[k] = cl__sdup(cl_graph_node(g, (*cuts)[k])->name))) st = CL_ERR_NOMEM;
    /* the output node itself: "everything on the first node" */
    (*cuts)[*n] = *out_node;
    if (st == CL_OK && !((*names)[*n] = cl__sdup(cl_graph_node(g, *out_node)->name))) st = CL_ERR_NOMEM;
  }
  free(cp);
  free(is_out);
  cl_exec_destroy(ex);
  cl_graph_destroy(g);
  return st;
}

/* `{node: NAME, layers: LAYERS}` inside a flow sequence. */
static void node_item(cl_config_writer *w, const char *node, const char *layers) {
  cl_config_writer_map(w, 1);
  cl_config_writer_key_str(w, "node", node);
  cl_config_writer_key_str(w, "layers", layers);
  cl_config_writer_end(w);
}

/* One every_cut plan of a model: cut a (and q for 3 nodes; q < 0: 2 nodes). */
static cl_status cut_plan(const cl_sweep_exp *e, char **names, const int *cuts, int nc, int a, int q, tb_plans *P) {
  cl_config_writer *w = NULL;
  CL_TRY(cl_config_writer_create(&w));
  cl__sb l = {0};
  int by_nodes = (q < 0 && a == nc) || q == nc; /* a node list rather than cut names */
  if (by_nodes) {
    cl_config_writer_seq(w, 1);
    if (q < 0) { /* everything on the first node */
      node_item(w, e->tb_node_name[0], "rest");
      cl__sb_put(&l, "all@%s", e->tb_node_name[0]);
    } else { /* the third node gets nothing */
      char range[32];
      snprintf(range, sizeof range, "0-%d", cuts[a]);
      node_item(w, e->tb_node_name[0], range);
      node_item(w, e->tb_node_name[1], "rest");
      cl__sb_put(&l, "cut@%.100s,-", names[a]);
    }
  } else {
    cl_config_writer_map(w, 1);
    cl_config_writer_key(w, "cuts");
    cl_config_writer_seq(w, 1);
    cl_config_writer_str(w, names[a]);
    if (q >= 0) cl_config_writer_str(w, names[q]);
    cl_config_writer_end(w);
    if (q < 0)
      cl__sb_put(&l, "cut@%.100s", names[a]);
    else
      cl__sb_put(&l, "cut@%.55s,%.55s", names[a], names[q]);
  }
  cl_config_writer_end(w);
  P->yaml[P->n] = cl__sweep_writer_take(w);
  P->label[P->n] = cl__sb_take(&l);
  if (!P->yaml[P->n] || !P->label[P->n]) {
    free(P->yaml[P->n]);
    free(P->label[P->n]);
    return CL_ERR_NOMEM;
  }
  P->n++;
  return CL_OK;
}

static cl_status every_cut_plans(const cl_sweep_exp *e, const cl_cfg *c, const cl_cfg_node *at, tb_state *s) {
  int nn = e->tb_nodes;
  if (nn != 2 && nn != 3) return cl_cfg_error(c, at, "plans: every_cut needs a testbed of 2 or 3 nodes (it has %d)", nn);
  s->plans = calloc((size_t)e->n_models, sizeof(tb_plans));
  if (!s->plans) return CL_ERR_NOMEM;
  for (int m = 0; m < e->n_models; m++) {
    tb_plans *P = &s->plans[m];
    int *cuts = NULL, nc = 0, outn = 0;
    char **names = NULL;
    cl_status st = cl__sweep_step_cuts(e->models[m], &cuts, &nc, &names, &outn);
    int cap = nn == 3 ? (nc + 1) * (nc + 1) : nc + 1;
    if (st == CL_OK) {
      P->label = calloc((size_t)cap, sizeof(char *));
      P->yaml = calloc((size_t)cap, sizeof(char *));
      if (!P->label || !P->yaml) st = CL_ERR_NOMEM;
    }
    /* cut list: nc step boundaries plus the output node (all on the first node(s)) */
    for (int a = 0; st == CL_OK && a <= nc; a++) {
      int qlo = nn == 2 ? -1 : a + 1, qhi = qlo < 0 ? -1 : nc;
      for (int q = qlo; st == CL_OK && q <= qhi; q++) st = cut_plan(e, names, cuts, nc, a, q, P);
    }
    for (int k = 0; names && k <= nc; k++) free(names[k]);
    free(names);
    free(cuts);
    if (st != CL_OK) return st;
  }
  return CL_OK;
}

/* Profile mode (docs/experiments.md): `profiles: {MODEL: FILE, ...}`, one `cleave
 * profile` file per model; every point's text gets `profile: FILE`, so the point is
 * evaluated without execution and its stored config says so. */
static cl_status parse_profiles(cl_sweep_exp *e, const cl_cfg *c, const cl_cfg_node *root, tb_state *s) {
  const cl_cfg_node *pr = cl_cfg_get(root, "profiles");
  if (!pr) return CL_OK;
  CL_TRY(cl_cfg_expect(c, pr, CL_CFG_MAP));
  if (cl_cfg_get(cl_cfg_root(e->tb), "profile"))
    return cl_cfg_error(c, pr, "the base testbed has its own 'profile:'; use one or the other");
  if (!(s->profile = calloc((size_t)e->n_models, sizeof(char *)))) return CL_ERR_NOMEM;
  for (int m = 0; m < e->n_models; m++) {
    const char *file = NULL;
    CL_TRY(cl_cfg_get_str(c, pr, e->models[m], 0, &file));
    if (!file) return cl_cfg_error(c, pr, "no profile for model '%s' (profile mode needs one per model)", e->models[m]);
    if (!(s->profile[m] = cl_sweep_exp_resolve(e, file))) return CL_ERR_NOMEM;
  }
  return CL_OK;
}

static cl_status tb_parse(cl_sweep_exp *e, const cl_cfg *c, const cl_cfg_node *root) {
  CL_TRY(cl_sweep_exp_parse_testbed(e, c, root, CL_SWEEP_FACTOR_ALL));
  tb_state *s = calloc(1, sizeof *s);
  if (!s) return CL_ERR_NOMEM;
  s->n_models = e->n_models;
  cl_sweep_exp_set_state(e, s);
  CL_TRY(parse_profiles(e, c, root, s));
  const cl_cfg_node *plans = cl_cfg_get(root, "plans");
  if (!plans) return cl_cfg_error(c, root, "missing required key 'plans' (every_cut, or a list of plans)");
  if (cl_cfg_kind_of(plans) == CL_CFG_SCALAR) {
    if (strcmp(cl_cfg_scalar(plans), "every_cut"))
      return cl_cfg_error(c, plans, "expected 'every_cut' or a list of plans, got '%s'", cl_cfg_scalar(plans));
    s->every_cut = 1;
    return every_cut_plans(e, c, plans, s);
  }
  CL_TRY(cl_cfg_expect(c, plans, CL_CFG_SEQ));
  if (cl_cfg_len(plans) == 0) return cl_cfg_error(c, plans, "empty plan list");
  s->explicit_plan = calloc((size_t)cl_cfg_len(plans), sizeof(char *));
  if (!s->explicit_plan) return CL_ERR_NOMEM;
  /* each plan is copied as text into the point configs (the testbed loader checks it) */
  for (int p = 0; p < cl_cfg_len(plans); p++) {
    if (!(s->explicit_plan[p] = cl__sweep_emit_node(cl_cfg_at(plans, p)))) return CL_ERR_NOMEM;
    s->n_explicit = p + 1;
  }
  return CL_OK;
}

static int tb_n_plans(const cl_sweep_exp *e, int m) {
  const tb_state *s = cl_sweep_exp_state(e);
  return s->every_cut ? s->plans[m].n : s->n_explicit;
}

static const char *plan_yaml(const cl_sweep_exp *e, const cl__sweep_pt *pt) {
  const tb_state *s = cl_sweep_exp_state(e);
  return s->every_cut ? s->plans[pt->model].yaml[pt->plan] : s->explicit_plan[pt->plan];
}

static char *tb_point_text(const cl_sweep_exp *e, int i) {
  const tb_state *s = cl_sweep_exp_state(e);
  char *t = cl__sweep_testbed_text(e, &e->pts[i], plan_yaml(e, &e->pts[i]));
  if (!t || !s->profile) return t;
  cl_config_writer *w = NULL; /* profile mode: a top-level `profile: FILE` line appended */
  if (cl_config_writer_create(&w) != CL_OK) {
    free(t);
    return NULL;
  }
  cl_config_writer_map(w, 0);
  cl_config_writer_key_str(w, "profile", s->profile[e->pts[i].model]);
  cl_config_writer_end(w);
  char *line = cl__sweep_writer_take(w);
  cl__sb b = {0};
  cl__sb_put(&b, "%s%s%s\n", t, t[0] && t[strlen(t) - 1] != '\n' ? "\n" : "", line ? line : "");
  free(t);
  if (!line) b.oom = 1;
  free(line);
  return cl__sb_take(&b);
}

static void tb_plan_label(const cl_sweep_exp *e, int i, char *buf, size_t cap) {
  const tb_state *s = cl_sweep_exp_state(e);
  const cl__sweep_pt *pt = &e->pts[i];
  if (s->every_cut)
    snprintf(buf, cap, "%s", s->plans[pt->model].label[pt->plan]);
  else
    snprintf(buf, cap, "plan%d: %.100s", pt->plan, s->explicit_plan[pt->plan]);
}

/* Profile mode: the model's profile must be readable and of this model and backend
 * (cl_rt_node_times_for_setup says what is wrong), before any point runs. */
static cl_status check_profile(const cl_sweep_exp *e, const cl_rt_setup *su) {
  cl_graph *g = NULL;
  CL_TRY(cl_model_load_structure(su->model, &g));
  double *t = malloc(sizeof(double) * (size_t)cl_graph_size(g));
  cl_status st = t ? cl_rt_node_times_for_setup(su->profile, su, g, t) : CL_ERR_NOMEM;
  free(t);
  cl_graph_destroy(g);
  if (st != CL_OK && st != CL_ERR_NOMEM) {
    cl_log_error("%s: profiles: the profile of model '%s' cannot be used (see above)", e->path, su->model);
    return CL_ERR_CONFIG;
  }
  return st;
}

/* One point per (model, explicit plan), the first of every_cut per model. */
static cl_status tb_validate(const cl_sweep_exp *e) {
  const tb_state *s = cl_sweep_exp_state(e);
  int last_model = -1, last_plan = -1;
  for (int i = 0; i < e->n_points; i++) {
    const cl__sweep_pt *pt = &e->pts[i];
    if (pt->model == last_model && (s->every_cut || pt->plan == last_plan)) continue;
    int new_model = pt->model != last_model;
    last_model = pt->model;
    last_plan = pt->plan;
    cl_rt_setup su;
    CL_TRY(cl__sweep_check_testbed_point(e, i, cl_sweep_point_text(e, i), &su));
    cl_status st = s->profile && new_model ? check_profile(e, &su) : CL_OK;
    cl_rt_setup_free(&su);
    CL_TRY(st);
  }
  return CL_OK;
}

/* ---- per-layer records ---- */

cl_status cl__sweep_tb_layers(const cl_rt_setup *su, const cl_rt_tasks *t, const cl_timeline *tl,
                              cl_sweep_tb_result *res) {
  const int I = res->inferences, S = t->steps_total;
  res->n_layers = 0;
  res->layers = malloc(sizeof(cl_sweep_tb_layer) * ((size_t)I * (size_t)S + 1));
  if (!res->layers) return CL_ERR_NOMEM;
  for (int i = 0; i < I; i++)
    for (int nd = 0; nd < t->n_nodes; nd++)
      for (int k = 0; k < t->n_steps[nd]; k++) {
        cl_task_result tr;
        CL_TRY(cl_timeline_task(tl, t->comp_task[(size_t)i * S + t->step_off[nd] + k], &tr));
        res->layers[res->n_layers++] = (cl_sweep_tb_layer){
            i, nd, k, t->step_out[nd][k], tr.start, tr.duration, t->step_slowdown[nd][k], su->nodes[nd].power.busy,
            tr.energy};
      }
  return CL_OK;
}

/* ---- evaluation (any rank): the result, packed field by field ---- */

static cl_status tb_eval(const char *origin, const char *text, void **cache, cl_sweep_poll_fn poll, void *pctx,
                         cl_sweep_buf *out) {
  if (!*cache && !(*cache = calloc(1, sizeof(cl__sweep_gcache)))) return CL_ERR_NOMEM;
  cl_sweep_tb_result res;
  CL_TRY(cl__sweep_eval_testbed_cached(origin, text, *cache, poll, pctx, &res));
  cl_sweep_buf_i32(out, res.inferences);
  cl_sweep_buf_f64(out, res.latency_median);
  cl_sweep_buf_f64(out, res.energy);
  for (int i = 0; i < res.inferences; i++) {
    cl_sweep_buf_f64(out, res.latency[i]);
    cl_sweep_buf_f64(out, res.release[i]);
    cl_sweep_buf_f64(out, res.finish[i]);
    cl_sweep_buf_f64(out, res.inf_energy[i]);
    cl_sweep_buf_f64(out, (double)res.inf_bytes[i]); /* exact below 2^53 */
  }
  cl_sweep_buf_i32(out, res.n_layers);
  for (int j = 0; j < res.n_layers; j++) {
    const cl_sweep_tb_layer *L = &res.layers[j];
    cl_sweep_buf_i32(out, L->inference);
    cl_sweep_buf_i32(out, L->node);
    cl_sweep_buf_i32(out, L->step);
    cl_sweep_buf_i32(out, L->out_node);
    cl_sweep_buf_f64(out, L->start);
    cl_sweep_buf_f64(out, L->duration);
    cl_sweep_buf_f64(out, L->slowdown);
    cl_sweep_buf_f64(out, L->power);
    cl_sweep_buf_f64(out, L->energy);
  }
  cl_sweep_tb_result_free(&res);
  return CL_OK;
}

static void tb_cache_destroy(void *p) { cl__sweep_gcache_free(p); }

/* ---- record tables (rank 0) ---- */

static cl_status tb_write(cl_sweep_sink *s, const cl_sweep_exp *e, int i, int64_t att, cl_sweep_rd *r, double *latency,
                          double *energy) {
  char label[CL_DICT_MAXLEN + 1];
  tb_plan_label(e, i, label, sizeof label);
  int32_t mid = 0, pid = 0;
  CL_TRY(cl_dict_id(s->models, e->models[e->pts[i].model], &mid));
  CL_TRY(cl_dict_id(s->plans, label, &pid));
  int32_t I = cl_sweep_rd_i32(r);
  *latency = cl_sweep_rd_f64(r);
  *energy = cl_sweep_rd_f64(r);
  for (int k = 0; k < I && !r->bad; k++) {
    cl_rec_inference_sweep ir = {.attempt = att, .model = mid, .plan = pid, .inference = k};
    ir.latency = cl_sweep_rd_f64(r);
    ir.release = cl_sweep_rd_f64(r);
    ir.finish = cl_sweep_rd_f64(r);
    ir.energy = cl_sweep_rd_f64(r);
    ir.bytes = (int64_t)cl_sweep_rd_f64(r);
    if (r->bad) break;
    CL_TRY(cl_table_append(s->t[0], &ir, 1));
    s->records++;
  }
  int32_t NL = cl_sweep_rd_i32(r);
  for (int j = 0; j < NL && !r->bad; j++) {
    cl_rec_sweep_layer L = {.attempt = att};
    L.inference = cl_sweep_rd_i32(r);
    int32_t nd = cl_sweep_rd_i32(r);
    L.step = cl_sweep_rd_i32(r);
    L.out_node = cl_sweep_rd_i32(r);
    L.start = cl_sweep_rd_f64(r);
    L.duration = cl_sweep_rd_f64(r);
    L.slowdown = cl_sweep_rd_f64(r);
    L.power = cl_sweep_rd_f64(r);
    L.energy = cl_sweep_rd_f64(r);
    if (r->bad || nd < 0 || nd >= e->tb_nodes) return CL_ERR_MPI;
    CL_TRY(cl_dict_id(s->d[0], e->tb_node_name[nd], &L.node));
    CL_TRY(cl_table_append(s->t[1], &L, 1));
    s->records++;
  }
  return r->bad ? CL_ERR_MPI : CL_OK;
}

/* The kind's row (include/cleave/sweep_kind.h; listed in sim/sweep_kinds.c). */
const cl_sweep_kind_i cl_sweep_kind_testbed = {
    .name = "testbed", .id = 0, .onnx_models = 1, .parse = tb_parse, .state_destroy = tb_state_destroy,
    .n_plans = tb_n_plans, .point_text = tb_point_text, .plan_label = tb_plan_label, .validate = tb_validate,
    .eval = tb_eval, .cache_destroy = tb_cache_destroy, .tables = {&CL_REC_INFERENCES_SWEEP, &CL_REC_SWEEP_LAYERS},
    .dicts = {"nodes"}, .write = tb_write,
};
