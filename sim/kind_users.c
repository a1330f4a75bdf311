/* Experiment kind `users` (docs/experiments.md): the many-user simulation of a testbed with
 * `users:` (runtime/multiuser.c) over a grid of user counts and loads. A point is (model,
 * users N, load x): the base testbed with its first N users, every user's arrival rate
 * multiplied by x, and the top-level `model` set to the point's model. It is evaluated in
 * process on any rank (no MPI per point) with deterministic layer times (graph FLOPs /
 * host_gflops, as kind `plan`), planner users through the planner interface.
 * Records: /users/stats, one row per (point, user): latency mean, p50, p95, p99, max and
 * mean waiting. The point row's latency is the mean over all its inferences. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/multiuser.h"
#include "cleave/onnx.h"
#include "cleave/records.h"
#include "cleave/sweep_kind.h"
#include "cleave/testbed.h"

/* Separates the kind's settings from the resolved testbed in a point's text. */
static const char g_sep[] = "--- # testbed\n";

typedef struct us_state {
  char *tb_path;      /* base testbed (relative paths in it resolve against its directory) */
  cl_testbed tb;      /* the base testbed, loaded once */
  double host_gflops; /* unit times: flops / (host_gflops * 1e9) host seconds */
  int f_users, f_load; /* factor index of `users` / `load` (-1: none) */
} us_state;

static void us_state_destroy(void *p) {
  us_state *s = p;
  cl_testbed_free(&s->tb);
  free(s->tb_path);
  free(s);
}

static cl_status us_parse(cl_sweep_exp *e, const cl_cfg *c, const cl_cfg_node *root) {
  us_state *s = calloc(1, sizeof *s);
  if (!s) return CL_ERR_NOMEM;
  cl_sweep_exp_set_state(e, s);
  s->f_users = s->f_load = -1;
  const char *tb = NULL;
  CL_TRY(cl_cfg_get_str(c, root, "testbed", 1, &tb));
  if (!(s->tb_path = cl_sweep_exp_resolve(e, tb))) return CL_ERR_NOMEM;
  if (cl_testbed_load(s->tb_path, &s->tb) != CL_OK)
    return cl_cfg_error(c, cl_cfg_get(root, "testbed"), "cannot load base testbed '%s' (see above)", s->tb_path);
  if (s->tb.n_users < 1)
    return cl_cfg_error(c, cl_cfg_get(root, "testbed"), "base testbed '%s' has no `users:`", s->tb_path);
  s->host_gflops = 20;
  CL_TRY(cl_cfg_get_double(c, root, "host_gflops", 0, 1e-3, 1e6, &s->host_gflops));
  const cl_cfg_node *u = cl_cfg_get(root, "users"), *l = cl_cfg_get(root, "load");
  if (!u) return cl_cfg_error(c, root, "missing required key 'users' (list of user counts)");
  s->f_users = cl_sweep_exp_n_factors(e);
  CL_TRY(cl_sweep_exp_add_factor(e, c, u, "users", CL_SWEEP_LEVEL_SPEED));
  for (int k = 0; k < cl_cfg_len(u); k++) {
    const char *v = cl_cfg_scalar(cl_cfg_at(u, k));
    char *end = NULL;
    long n = v ? strtol(v, &end, 10) : 0;
    if (!v || *end || n < 1 || n > s->tb.n_users)
      return cl_cfg_error(c, cl_cfg_at(u, k), "users level '%s': a whole number of users, 1..%d (the base testbed's)",
                          v ? v : "", s->tb.n_users);
  }
  if (l) {
    s->f_load = cl_sweep_exp_n_factors(e);
    CL_TRY(cl_sweep_exp_add_factor(e, c, l, "load", CL_SWEEP_LEVEL_SPEED));
  }
  return CL_OK;
}

static int us_n_plans(const cl_sweep_exp *e, int m) {
  (void)e, (void)m;
  return 1; /* the users bring their own plans */
}

/* The point's testbed: the first N users, rates x load, the point's top-level model. */
static char *point_testbed(const cl_sweep_exp *e, int i) {
  const us_state *s = cl_sweep_exp_state(e);
  cl_testbed view = s->tb; /* shallow: only users and model differ, nothing is freed */
  view.n_users = (int)cl_sweep_point_level(e, i, s->f_users);
  double load = s->f_load >= 0 ? cl_sweep_point_level(e, i, s->f_load) : 1.0;
  view.model = (char *)cl_sweep_exp_model(e, cl_sweep_point_model(e, i));
  view.model_is_onnx = cl_onnx_is_path(view.model);
  cl_tb_user *users = malloc(sizeof *users * (size_t)view.n_users);
  if (!users) return NULL;
  for (int k = 0; k < view.n_users; k++) {
    users[k] = s->tb.users[k];
    users[k].arrival.rate *= load;
    if (users[k].model_default) { /* the base file gave it the top-level model: the point's */
      users[k].model = view.model;
      users[k].model_is_onnx = view.model_is_onnx;
    }
  }
  view.users = users;
  char *text = NULL;
  if (cl_testbed_to_yaml(&view, &text) != CL_OK) {
    free(text);
    text = NULL;
  }
  free(users);
  return text;
}

static char *us_point_text(const cl_sweep_exp *e, int i) {
  const us_state *s = cl_sweep_exp_state(e);
  char *tb = point_testbed(e, i);
  char *t = tb ? cl_sweep_printf("# users point\nhost_gflops: %.17g\n%s%s", s->host_gflops, g_sep, tb) : NULL;
  free(tb);
  return t;
}

static void us_plan_label(const cl_sweep_exp *e, int i, char *buf, size_t cap) {
  (void)e, (void)i;
  snprintf(buf, cap, "users' own plans");
}

/* ---- evaluation (any rank) ---- */

static cl_status us_eval(const char *origin, const char *text, void **cache, cl_sweep_poll_fn poll, void *pctx,
                         cl_sweep_buf *out) {
  (void)cache, (void)poll, (void)pctx;
  const char *tb_text = strstr(text, g_sep);
  double gflops = 0;
  if (!tb_text || sscanf(text, "# users point\nhost_gflops: %lf", &gflops) != 1 || !(gflops > 0)) {
    cl_log_error("sweep: a users point without its settings or testbed part");
    return CL_ERR_INVALID;
  }
  cl_testbed tb;
  cl_status st = cl_testbed_load_string(origin, tb_text + strlen(g_sep), &tb);
  if (st != CL_OK) return st;
  cl_mu_opts o;
  memset(&o, 0, sizeof o);
  o.reps = 1;
  o.host_gflops = gflops;
  o.plan = cl_plan_users_hook;
  cl_mu *mu = NULL;
  st = cl_mu_create(&tb, &o, &mu);
  if (st == CL_OK) cl_sweep_buf_i32(out, tb.n_users);
  for (int k = 0; st == CL_OK && k < tb.n_users; k++) {
    cl_mu_user_stats us;
    st = cl_mu_user_stats_get(mu, k, &us);
    cl_sweep_buf_str(out, tb.users[k].name);
    cl_sweep_buf_str(out, tb.users[k].model);
    cl_sweep_buf_i32(out, us.inferences);
    cl_sweep_buf_i32(out, us.stages);
    const double v[6] = {us.lat_mean, us.lat_p50, us.lat_p95, us.lat_p99, us.lat_max, us.wait_mean};
    for (int q = 0; q < 6; q++) cl_sweep_buf_f64(out, v[q]);
  }
  cl_mu_destroy(mu);
  cl_testbed_free(&tb);
  return st;
}

/* ---- record tables (rank 0) ---- */

static cl_status us_write(cl_sweep_sink *s, const cl_sweep_exp *e, int i, int64_t att, cl_sweep_rd *r, double *latency,
                          double *energy) {
  (void)e, (void)i;
  int32_t n = cl_sweep_rd_i32(r);
  if (r->bad || n < 1) return CL_ERR_MPI;
  cl_rec_user_stat *rows = calloc((size_t)n, sizeof *rows);
  if (!rows) return CL_ERR_NOMEM;
  cl_status st = CL_OK;
  double sum = 0, cnt = 0;
  for (int k = 0; st == CL_OK && k < n; k++) {
    cl_rec_user_stat *u = &rows[k];
    char name[CL_DICT_MAXLEN + 1], model[CL_DICT_MAXLEN + 1];
    cl_sweep_rd_str(r, name, sizeof name);
    cl_sweep_rd_str(r, model, sizeof model);
    u->attempt = att;
    st = cl_dict_id(s->d[0], name, &u->user);
    if (st == CL_OK) st = cl_dict_id(s->models, model, &u->model);
    u->inferences = cl_sweep_rd_i32(r);
    u->stages = cl_sweep_rd_i32(r);
    double *v[6] = {&u->lat_mean, &u->lat_p50, &u->lat_p95, &u->lat_p99, &u->lat_max, &u->wait_mean};
    for (int q = 0; q < 6; q++) *v[q] = cl_sweep_rd_f64(r);
    sum += u->lat_mean * u->inferences;
    cnt += u->inferences;
  }
  if (r->bad) st = CL_ERR_MPI;
  *latency = cnt > 0 ? sum / cnt : NAN; /* mean over every inference of the point */
  *energy = NAN;
  if (st == CL_OK) st = cl_table_append(s->t[0], rows, (size_t)n);
  if (st == CL_OK) s->records += (uint64_t)n;
  free(rows);
  return st;
}

/* The kind's row (include/cleave/sweep_kind.h; listed in sim/sweep_kinds.c). */
const cl_sweep_kind_i cl_sweep_kind_users = {
    .name = "users", .id = 4, .onnx_models = 1, .parse = us_parse, .state_destroy = us_state_destroy,
    .n_plans = us_n_plans, .point_text = us_point_text, .plan_label = us_plan_label, .eval = us_eval,
    .tables = {&CL_REC_USER_STATS}, .dicts = {"users"}, .write = us_write,
};
