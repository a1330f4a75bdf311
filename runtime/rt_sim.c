/* Analytical simulation of a testbed plan from per-layer profiles (cleave sim). */
#define _XOPEN_SOURCE 700 /* realpath */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/exec.h"
#include "cleave/profiler.h"
#include "cleave/records.h"
#include "cleave/runtime.h"
#include "cleave/store.h"

/* The runtime's virtual clock charges thread CPU time, so the CPU median is the matching
 * statistic (under foreign load wall medians run up to 2x higher); profiles without it
 * fall back to the wall median. Layout: cleave/records.h. */
static cl_status read_layers(const char *path, cl_reader *r, cl_rec_profile_layer **out, size_t *n) {
  *out = NULL;
  const cl_table_info *ti = cl_reader_find(r, CL_REC_PROFILE_LAYERS.path);
  if (!ti) {
    cl_log_error("%s: no /profile/layers table (make a profile with `cleave profile MODEL -o FILE.h5`)", path);
    return CL_ERR_INVALID;
  }
  *n = (size_t)ti->n_records;
  cl_rec_profile_layer *p = calloc(*n + 1, sizeof *p);
  if (!p) return CL_ERR_NOMEM;
  uint64_t missing = 0;
  cl_status st = cl_rec_read(r, &CL_REC_PROFILE_LAYERS, 0, *n, p, &missing);
  int i_node = cl_rec_field_index(&CL_REC_PROFILE_LAYERS, "node");
  int i_med = cl_rec_field_index(&CL_REC_PROFILE_LAYERS, "median");
  int i_cpu = cl_rec_field_index(&CL_REC_PROFILE_LAYERS, "cpu_median");
  if (st == CL_OK && (missing >> i_node & 1 || missing >> i_med & 1)) {
    cl_log_error("%s: /profile/layers lacks the node or median column (not a cleave profile)", path);
    st = CL_ERR_INVALID;
  }
  for (size_t k = 0; st == CL_OK && k < *n; k++)
    if (missing >> i_cpu & 1) p[k].cpu_median = p[k].median;
  if (st != CL_OK) {
    free(p);
    return st;
  }
  *out = p;
  return CL_OK;
}

/* The profile must cover exactly the steps the executor runs for this graph (a profile
 * of another model, or one with rows missing, would silently cost those layers 0 s). */
static cl_status check_steps(const char *path, const cl_graph *g, const cl_rec_profile_layer *p, size_t n,
                             int fused) {
  cl_exec_opts o = cl_exec_opts_default();
  o.plan_only = 1;
  o.fuse = fused;
  cl_exec *e = NULL;
  cl_status st = cl_exec_create(g, &o, &e);
  if (st != CL_OK) return st;
  int ns = cl_exec_step_count(e);
  if ((size_t)ns != n) {
    cl_log_error("%s: the profile has %zu layer rows, the model runs %d steps (a profile of another model, or "
                 "rows missing)", path, n, ns);
    st = CL_ERR_INVALID;
  }
  for (int k = 0; st == CL_OK && k < ns; k++) {
    const cl_exec_step *s = cl_exec_step_get(e, k);
    if (p[k].step != k || p[k].node != s->node || p[k].out_node != s->out_node) {
      cl_log_error("%s: profile row %d (step %d, graph nodes %d..%d) does not match the model's step %d "
                   "(graph nodes %d..%d): a profile of another model?", path, k, p[k].step, p[k].node,
                   p[k].out_node, k, s->node, s->out_node);
      st = CL_ERR_INVALID;
    }
  }
  cl_exec_destroy(e);
  return st;
}

/* Attribute @p key of /profile, "" if absent. */
typedef struct attr_get {
  const char *key;
  char value[4096];
} attr_get;
/* Attributes a[0..n).key of /profile (values "" when absent), by name: an unreadable
 * one fails with one line (cl_reader_attr_text). */
static cl_status profile_attrs(cl_reader *r, attr_get *a, int n) {
  for (int i = 0; i < n; i++) {
    char *v = NULL;
    cl_status st = cl_reader_attr_text(r, "/profile", a[i].key, &v);
    if (st == CL_ERR_NOTFOUND) continue;
    if (st != CL_OK) return CL_ERR_INVALID;
    snprintf(a[i].value, sizeof a[i].value, "%s", v);
    free(v);
  }
  return CL_OK;
}

static int same_model(const char *a, const char *b) {
  if (!strcmp(a, b)) return 1;
  char ra[PATH_MAX], rb[PATH_MAX];
  return realpath(a, ra) && realpath(b, rb) && !strcmp(ra, rb);
}

/* Per-graph-node seconds of the profile open in @p r (closed here); @p fused_in: its
 * /profile attribute 'fused' when already read, else NULL (read here). */
static cl_status node_times_from_reader(const char *path, cl_reader *r, const cl_graph *g, double *t,
                                        const attr_get *fused_in) {
  attr_get fused = {"fused", ""};
  cl_status st = fused_in ? CL_OK : profile_attrs(r, &fused, 1);
  if (fused_in) fused = *fused_in;
  cl_rec_profile_layer *p = NULL;
  size_t nr = 0;
  if (st == CL_OK) st = read_layers(path, r, &p, &nr);
  cl_reader_close(r);
  if (st != CL_OK) return st;
  int n = cl_graph_size(g);
  memset(t, 0, sizeof(double) * (size_t)n);
  for (size_t k = 0; st == CL_OK && k < nr; k++) {
    if (p[k].node < 0 || p[k].node >= n) {
      cl_log_error("%s: profile row %zu names graph node %d, but the model has %d nodes (profile of another model?)",
                   path, k, p[k].node, n);
      st = CL_ERR_INVALID;
      break;
    }
  }
  if (st == CL_OK) st = check_steps(path, g, p, nr, fused.value[0] ? atoi(fused.value) != 0 : 1);
  for (size_t k = 0; st == CL_OK && k < nr; k++) t[p[k].node] += p[k].cpu_median;
  free(p);
  return st;
}

cl_status cl_rt_node_times_for_setup(const char *path, const cl_rt_setup *su, const cl_graph *g, double *t) {
  cl_reader *r = NULL;
  CL_TRY(cl_reader_open_input(path, "profile", &r));
  attr_get a[3] = {{"model", ""}, {"backend", ""}, {"fused", ""}};
  if (profile_attrs(r, a, 3) != CL_OK) {
    cl_reader_close(r);
    return CL_ERR_INVALID;
  }
  const attr_get *model = &a[0], *backend = &a[1];
  const char *want_be = cl_backend_name(cl_backend_resolve((cl_backend)su->backend));
  cl_status st = CL_OK;
  if (!model->value[0] || !same_model(model->value, su->model)) {
    cl_log_error("%s: a profile of model '%s', but the testbed runs '%s'", path, model->value[0] ? model->value : "?",
                 su->model);
    st = CL_ERR_INVALID;
  } else if (backend->value[0] && strcmp(backend->value, want_be)) {
    cl_log_error("%s: a profile made with the %s backend, but the testbed uses %s", path, backend->value, want_be);
    st = CL_ERR_INVALID;
  }
  if (st != CL_OK) {
    cl_reader_close(r);
    return st;
  }
  return node_times_from_reader(path, r, g, t, &a[2]); /* one open (and one libhdf5 probe) per file */
}

cl_status cl_rt_node_times_from_profile(const char *path, const cl_graph *g, double *t) {
  cl_reader *r = NULL;
  CL_TRY(cl_reader_open_input(path, "profile", &r));
  return node_times_from_reader(path, r, g, t, NULL);
}

cl_status cl_rt_node_times_measure(cl_graph *g, uint64_t seed, int reps, double *t) {
  CL_TRY(cl_graph_init_weights(g, seed));
  cl_profiler_opts o = cl_profiler_opts_default();
  o.reps = reps;
  o.seed = seed;
  cl_profile_result *r = NULL;
  cl_status st = cl_profiler_measure(g, &o, &r);
  cl_graph_free_weights(g);
  if (st != CL_OK) return st;
  memset(t, 0, sizeof(double) * (size_t)cl_graph_size(g));
  double *s = malloc(sizeof(double) * (size_t)r->reps);
  if (!s) {
    cl_profile_result_free(r);
    return CL_ERR_NOMEM;
  }
  for (int k = 0; k < r->n_steps; k++) {
    for (int i = 0; i < r->reps; i++) s[i] = r->cpu[(size_t)i * r->n_steps + k]; /* as the runtime charges */
    cl_stat_summary sum;
    cl_stat_summarise(s, r->reps, &sum);
    t[r->steps[k].node] += sum.median;
  }
  free(s);
  cl_profile_result_free(r);
  return CL_OK;
}

cl_status cl_rt_simulate(const cl_graph *g, const cl_rt_setup *su, const double *node_time, cl_rt_tasks *tasks,
                         cl_timeline **tl) {
  CL_TRY(cl_rt_build(g, su, tasks, tl));
  double *d = calloc((size_t)tasks->steps_total + 1, sizeof(double));
  if (!d) return CL_ERR_NOMEM;
  for (int y = 0; y < cl_graph_size(g); y++)
    if (tasks->node_step[y] >= 0) d[tasks->node_step[y]] += node_time[y];
  cl_status st = CL_OK;
  for (int nd = 0; nd < su->n_nodes; nd++)
    for (int k = 0; k < tasks->n_steps[nd]; k++) {
      int fs = tasks->step_off[nd] + k;
      for (int i = 0; i < tasks->inferences && st == CL_OK; i++)
        st = cl_timeline_set_duration(*tl, tasks->comp_task[(size_t)i * tasks->steps_total + fs],
                                      cl_rt_step_charge(tasks, nd, k, d[fs]));
    }
  free(d);
  return st == CL_OK ? cl_timeline_run(*tl) : st;
}
