/* Experiment kind `coedge` (docs/experiments.md): one point per (model, planner,
 * deadline, bandwidth), each executed for real by cl_coedge_run_point. Records:
 * /inferences with one row per point. It lives in sim/ because it runs the CoEdge
 * planners and executor; it reaches the driver only through its cl_sweep_kind_i row. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/coedge_run.h"
#include "cleave/records.h"
#include "cleave/sweep_kind.h"

typedef struct ce_state {
  char *devices; /* resolved path of the devices file */
  char **planners;
  int n_planners;
  int mode; /* 0 layer, 1 fused */
  long inferences;
} ce_state;

static void ce_state_destroy(void *p) {
  ce_state *s = p;
  free(s->devices);
  for (int i = 0; s->planners && i < s->n_planners; i++) free(s->planners[i]);
  free(s->planners);
  free(s);
}

static cl_status ce_parse(cl_sweep_exp *e, const cl_cfg *c, const cl_cfg_node *root) {
  ce_state *s = calloc(1, sizeof *s);
  if (!s) return CL_ERR_NOMEM;
  cl_sweep_exp_set_state(e, s);
  const char *dev = NULL;
  CL_TRY(cl_cfg_get_str(c, root, "devices", 1, &dev));
  if (!(s->devices = cl_sweep_exp_resolve(e, dev))) return CL_ERR_NOMEM;
  CL_TRY(cl_sweep_cfg_strings(c, root, "planners", &s->planners, &s->n_planners));
  static const char *const modes[] = {"layer", "fused", NULL};
  CL_TRY(cl_cfg_get_enum(c, root, "mode", 0, modes, &s->mode));
  s->inferences = 1;
  CL_TRY(cl_cfg_get_int(c, root, "inferences", 0, 1, 100000, &s->inferences));
  /* factor 0: deadlines, factor 1: bandwidths (0 = the devices file's WLAN) */
  CL_TRY(cl_sweep_exp_add_factor(e, c, cl_cfg_get(root, "deadlines"), "deadlines", CL_SWEEP_LEVEL_SECONDS));
  CL_TRY(cl_sweep_exp_add_factor(e, c, cl_cfg_get(root, "bandwidths"), "bandwidths", CL_SWEEP_LEVEL_BANDWIDTH0));
  const cl_cfg_node *fac = cl_cfg_get(root, "factors");
  if (fac) return cl_cfg_error(c, fac, "kind coedge takes deadlines and bandwidths lists, not factors");
  return CL_OK;
}

static int ce_n_plans(const cl_sweep_exp *e, int m) {
  (void)m;
  return ((const ce_state *)cl_sweep_exp_state(e))->n_planners;
}

static char *ce_point_text(const cl_sweep_exp *e, int i) {
  const ce_state *s = cl_sweep_exp_state(e);
  cl_config_writer *w = NULL;
  if (cl_config_writer_create(&w) != CL_OK) return NULL;
  cl_config_writer_map(w, 0);
  cl_config_writer_key_str(w, "kind", "coedge");
  cl_config_writer_key_str(w, "model", cl_sweep_exp_model(e, cl_sweep_point_model(e, i)));
  cl_config_writer_key_str(w, "planner", s->planners[cl_sweep_point_plan(e, i)]);
  cl_config_writer_key_str(w, "devices", s->devices);
  cl_config_writer_key_unit(w, "deadline", CL_CONFIG_DURATION, cl_sweep_point_level(e, i, 0));
  cl_config_writer_key_unit(w, "bandwidth", CL_CONFIG_BANDWIDTH, cl_sweep_point_level(e, i, 1));
  cl_config_writer_key_str(w, "mode", s->mode ? "fused" : "layer");
  cl_config_writer_key_int(w, "inferences", s->inferences);
  cl_config_writer_key_u64(w, "seed", cl_sweep_exp_seed(e));
  cl_config_writer_end(w);
  char *t = NULL;
  if (cl_config_writer_finish(w, &t) == CL_OK) return t;
  free(t);
  return NULL;
}

static void ce_plan_label(const cl_sweep_exp *e, int i, char *buf, size_t cap) {
  const ce_state *s = cl_sweep_exp_state(e);
  snprintf(buf, cap, "%s", s->planners[cl_sweep_point_plan(e, i)]);
}

/* ---- evaluation (any rank) ---- */

static cl_status ce_eval(const char *origin, const char *text, void **cache, cl_sweep_poll_fn poll, void *pctx,
                         cl_sweep_buf *out) {
  (void)origin, (void)cache, (void)poll, (void)pctx;
  cl_cfg *c = NULL;
  CL_TRY(cl_cfg_parse_string("<coedge point>", text, &c));
  const cl_cfg_node *root = cl_cfg_root(c);
  cl_coedge_point pt;
  memset(&pt, 0, sizeof pt);
  const char *kind = NULL, *mode = NULL;
  long inf = 1;
  cl_status st = cl_cfg_get_str(c, root, "kind", 1, &kind);
  if (st == CL_OK) st = cl_cfg_get_str(c, root, "model", 1, &pt.model);
  if (st == CL_OK) st = cl_cfg_get_str(c, root, "planner", 1, &pt.planner);
  if (st == CL_OK) st = cl_cfg_get_str(c, root, "devices", 1, &pt.devices_path);
  if (st == CL_OK) st = cl_cfg_get_unit(c, root, "deadline", 1, CL_UNIT_SECONDS, &pt.deadline_s);
  if (st == CL_OK) st = cl_cfg_get_unit(c, root, "bandwidth", 1, CL_UNIT_BANDWIDTH, &pt.bandwidth_Bps);
  if (st == CL_OK) st = cl_cfg_get_str(c, root, "mode", 1, &mode);
  if (st == CL_OK) st = cl_cfg_get_int(c, root, "inferences", 1, 1, 100000, &inf);
  if (st == CL_OK) st = cl_cfg_get_u64(c, root, "seed", 1, &pt.seed);
  pt.mode = mode && !strcmp(mode, "fused");
  pt.inferences = (int)inf;
  cl_coedge_point_result r;
  memset(&r, 0, sizeof r);
  if (st == CL_OK) st = cl_coedge_run_point(&pt, &r);
  if (st == CL_ERR_INFEASIBLE) { /* an infeasible deadline is a result, not a failure */
    r.feasible = 0;
    st = CL_OK;
  }
  cl_cfg_free(c);
  if (st != CL_OK) return st;
  cl_sweep_buf_i32(out, r.feasible);
  cl_sweep_buf_i32(out, r.devices_used);
  cl_sweep_buf_f64(out, r.latency);
  cl_sweep_buf_f64(out, r.energy);
  cl_sweep_buf_f64(out, r.planned_latency);
  cl_sweep_buf_f64(out, r.planned_energy);
  cl_sweep_buf_f64(out, r.plan_seconds);
  r.plan[sizeof r.plan - 1] = '\0';
  cl_sweep_buf_str(out, r.plan);
  return CL_OK;
}

/* ---- record tables (rank 0) ---- */

static cl_status ce_write(cl_sweep_sink *s, const cl_sweep_exp *e, int i, int64_t att, cl_sweep_rd *r, double *latency,
                          double *energy) {
  const ce_state *st = cl_sweep_exp_state(e);
  cl_rec_sweep_coedge c;
  memset(&c, 0, sizeof c);
  c.attempt = att;
  CL_TRY(cl_dict_id(s->models, cl_sweep_exp_model(e, cl_sweep_point_model(e, i)), &c.model));
  CL_TRY(cl_dict_id(s->d[0], st->planners[cl_sweep_point_plan(e, i)], &c.planner));
  c.feasible = cl_sweep_rd_i32(r);
  c.devices_used = cl_sweep_rd_i32(r);
  c.deadline = cl_sweep_point_level(e, i, 0);
  c.bandwidth = cl_sweep_point_level(e, i, 1);
  c.latency = cl_sweep_rd_f64(r);
  c.energy = cl_sweep_rd_f64(r);
  c.planned_latency = cl_sweep_rd_f64(r);
  c.planned_energy = cl_sweep_rd_f64(r);
  c.plan_seconds = cl_sweep_rd_f64(r);
  cl_sweep_rd_str(r, c.plan, sizeof c.plan);
  if (r->bad) return CL_ERR_MPI;
  CL_TRY(cl_table_append(s->t[0], &c, 1));
  s->records++;
  *latency = c.latency;
  *energy = c.energy;
  return CL_OK;
}

/* The kind's row (include/cleave/sweep_kind.h; listed in sim/sweep_kinds.c). */
const cl_sweep_kind_i cl_sweep_kind_coedge = {
    .name = "coedge", .id = 2, .onnx_models = 1, .parse = ce_parse, .state_destroy = ce_state_destroy,
    .n_plans = ce_n_plans, .point_text = ce_point_text, .plan_label = ce_plan_label, .eval = ce_eval,
    .tables = {&CL_REC_SWEEP_COEDGE_POINTS}, .dicts = {"planners"}, .write = ce_write,
};
