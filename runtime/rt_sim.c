/* Analytical simulation of a testbed plan from per-layer profiles (cleave sim). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/profiler.h"
#include "cleave/runtime.h"
#include "cleave/store.h"

typedef struct prec {
  int32_t node;
  double median;
} prec;
/* The runtime's virtual clock charges thread CPU time, so the CPU median is the matching
 * statistic (under foreign load wall medians run up to 2x higher); profiles without it
 * fall back to the wall median. */
static const cl_field g_pf_cpu[] = {
    CL_FIELD(prec, node, CL_F_INT32, "", ""),
    {"cpu_median", CL_F_FLOAT64, offsetof(prec, median), sizeof(double), "s", "", NULL},
};
static const cl_field g_pf[] = {
    CL_FIELD(prec, node, CL_F_INT32, "", ""),
    CL_FIELD(prec, median, CL_F_FLOAT64, "s", ""),
};
static const cl_table_desc g_pd_cpu = {"/profile/layers", sizeof(prec), g_pf_cpu, 2, "", 0};
static const cl_table_desc g_pd = {"/profile/layers", sizeof(prec), g_pf, 2, "", 0};

cl_status cl_rt_node_times_from_profile(const char *path, const cl_graph *g, double *t) {
  cl_reader *r = NULL;
  CL_TRY(cl_reader_open(path, &r));
  const cl_table_info *ti = cl_reader_find(r, "/profile/layers");
  cl_status st = CL_OK;
  if (!ti) {
    cl_log_error("%s: no /profile/layers table (make a profile with `cleave profile MODEL -o FILE.h5`)", path);
    cl_reader_close(r);
    return CL_ERR_INVALID;
  }
  prec *p = malloc(sizeof(prec) * (size_t)(ti->n_records + 1));
  if (!p) {
    cl_reader_close(r);
    return CL_ERR_NOMEM;
  }
  int has_cpu = 0;
  for (int f = 0; f < ti->n_fields; f++) has_cpu |= !strcmp(ti->fields[f].name, "cpu_median");
  st = cl_reader_read(r, "/profile/layers", has_cpu ? &g_pd_cpu : &g_pd, 0, (size_t)ti->n_records, p);
  int n = cl_graph_size(g);
  memset(t, 0, sizeof(double) * (size_t)n);
  for (uint64_t k = 0; st == CL_OK && k < ti->n_records; k++) {
    if (p[k].node < 0 || p[k].node >= n) {
      cl_log_error("%s: profile row %llu names graph node %d, but the model has %d nodes (profile of another model?)",
                   path, (unsigned long long)k, p[k].node, n);
      st = CL_ERR_INVALID;
      break;
    }
    t[p[k].node] += p[k].median;
  }
  free(p);
  cl_reader_close(r);
  return st;
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
                                      d[fs] * tasks->step_slowdown[nd][k]);
    }
  free(d);
  return st == CL_OK ? cl_timeline_run(*tl) : st;
}
