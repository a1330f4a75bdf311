/* Per-layer profiler: step timing with repetitions, GSL summaries, HDF5 tables. */
#include "cleave/records.h"
#include "cleave/profiler.h"
#include "cleave/wallclock.h"

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cl_profiler_opts cl_profiler_opts_default(void) {
  cl_profiler_opts o = {.reps = 10, .warmup = 2, .threads = 1, .fuse = 1, .backend = CL_BACKEND_AUTO,
                        .slowdown = 1.0, .seed = 1};
  return o;
}


void cl_stat_summarise(const double *x, int n, cl_stat_summary *s) {
  memset(s, 0, sizeof *s);
  if (n <= 0) return;
  double *v = malloc(sizeof(double) * (size_t)n);
  if (!v) return;
  memcpy(v, x, sizeof(double) * (size_t)n);
  gsl_sort(v, 1, (size_t)n);
  s->mean = gsl_stats_mean(v, 1, (size_t)n);
  s->std = n > 1 ? gsl_stats_sd_m(v, 1, (size_t)n, s->mean) : 0.0;
  s->median = gsl_stats_median_from_sorted_data(v, 1, (size_t)n);
  s->min = v[0];
  s->max = v[n - 1];
  s->p5 = gsl_stats_quantile_from_sorted_data(v, 1, (size_t)n, 0.05);
  s->p95 = gsl_stats_quantile_from_sorted_data(v, 1, (size_t)n, 0.95);
  /* Distribution-free 95% CI of the median: order statistics at n/2 -+ 1.96 sqrt(n)/2
   * (normal approximation of Binomial(n, 1/2)), clamped to the sample. */
  double h = 1.96 * sqrt((double)n) / 2.0;
  int lo = (int)floor((double)n / 2.0 - h), hi = (int)ceil((double)n / 2.0 + h);
  if (lo < 0) lo = 0;
  if (hi > n - 1) hi = n - 1;
  s->ci_lo = v[lo];
  s->ci_hi = v[hi];
  free(v);
}

double cl_stat_median(double *x, int n) {
  if (n <= 0) return 0.0;
  gsl_sort(x, 1, (size_t)n);
  return gsl_stats_median_from_sorted_data(x, 1, (size_t)n);
}

void cl_profile_result_free(cl_profile_result *r) {
  if (!r) return;
  if (r->steps)
    for (int k = 0; k < r->n_steps; k++) free((void *)r->steps[k].nodes);
  free(r->steps);
  free(r->wall);
  free(r->cpu);
  free(r->block_first);
  free(r->block_last);
  free(r->step_block);
  free(r);
}

cl_status cl_profiler_measure(const cl_graph *g, const cl_profiler_opts *opts, cl_profile_result **out) {
  *out = NULL;
  cl_profiler_opts o = opts ? *opts : cl_profiler_opts_default();
  if (o.reps < 1 || o.warmup < 0 || o.threads < 1 || !(o.slowdown > 0)) {
    cl_log_error("profiler: invalid options (reps %d, warmup %d, threads %d, slowdown %g)", o.reps, o.warmup,
                 o.threads, o.slowdown);
    return CL_ERR_INVALID;
  }
  cl_exec_opts eo = cl_exec_opts_default();
  eo.threads = o.threads;
  eo.backend = o.backend;
  eo.fuse = o.fuse;
  eo.row_split = CL_ROWS_OFF; /* timed step by step: whole-layer primitives (rows mode splits only whole runs) */
  eo.preact = CL_PREACT_OFF;   /* and a batch norm keeps its own step time (not fused into its 1x1) */
  cl_exec *e = NULL;
  CL_TRY(cl_exec_create(g, &eo, &e));
  cl_status st = CL_ERR_NOMEM;
  cl_profile_result *r = calloc(1, sizeof *r);
  int ns = cl_exec_step_count(e);
  int *cuts = NULL;
  double *tot = NULL;
  if (!r) goto done;
  r->n_steps = ns;
  r->reps = o.reps;
  r->steps = calloc((size_t)ns, sizeof(cl_exec_step));
  r->wall = malloc(sizeof(double) * (size_t)ns * (size_t)o.reps);
  r->cpu = malloc(sizeof(double) * (size_t)ns * (size_t)o.reps);
  r->step_block = malloc(sizeof(int) * (size_t)ns);
  r->block_first = malloc(sizeof(int) * (size_t)ns);
  r->block_last = malloc(sizeof(int) * (size_t)ns);
  tot = malloc(sizeof(double) * (size_t)o.reps);
  if (!r->steps || !r->wall || !r->cpu || !r->step_block || !r->block_first || !r->block_last || !tot) goto done;
  for (int k = 0; k < ns; k++) {
    r->steps[k] = *cl_exec_step_get(e, k);
    int *nodes = malloc(sizeof(int) * (size_t)r->steps[k].n_nodes);
    if (!nodes) goto done;
    memcpy(nodes, r->steps[k].nodes, sizeof(int) * (size_t)r->steps[k].n_nodes);
    r->steps[k].nodes = nodes;
  }
  /* Cut blocks: cut after step k when its output node is a valid single-tensor cut. */
  int nc = cl_graph_cut_points(g, NULL, 0);
  cuts = malloc(sizeof(int) * (size_t)(nc + 1));
  if (!cuts) goto done;
  cl_graph_cut_points(g, cuts, nc);
  uint8_t *is_cut = calloc((size_t)ns, 1);
  if (!is_cut) goto done;
  for (int c = 0; c < nc; c++) {
    int k = cl_exec_step_of(e, cuts[c]);
    if (k >= 0 && r->steps[k].out_node == cuts[c]) is_cut[k] = 1;
  }
  int b = 0, start = 0;
  for (int k = 0; k < ns; k++) {
    r->step_block[k] = b;
    if (is_cut[k] || k == ns - 1) {
      r->block_first[b] = start;
      r->block_last[b] = k;
      b++;
      start = k + 1;
    }
  }
  r->n_blocks = b;
  free(is_cut);
  cl_exec_fill_input(e, o.seed);
  for (int w = 0; w < o.warmup; w++)
    if ((st = cl_exec_run(e)) != CL_OK) goto done;
  for (int rep = 0; rep < o.reps; rep++) {
    tot[rep] = 0;
    for (int k = 0; k < ns; k++) {
      double w0 = cl_wall_now(), c0 = cl_thread_cpu_now();
      if ((st = cl_exec_run_step(e, k)) != CL_OK) goto done;
      double c1 = cl_thread_cpu_now(), w1 = cl_wall_now();
      r->wall[(size_t)rep * ns + k] = (w1 - w0) * o.slowdown;
      r->cpu[(size_t)rep * ns + k] = (c1 - c0) * o.slowdown;
      tot[rep] += (w1 - w0);
    }
  }
  cl_graph_stats gs;
  cl_graph_stats_get(g, &gs);
  cl_stat_summary s;
  cl_stat_summarise(tot, o.reps, &s);
  r->gflops = s.median > 0 ? 2.0 * (double)gs.macs / s.median / 1e9 : 0;
  st = CL_OK;
done:
  if (st == CL_ERR_NOMEM) cl_log_error("profiler: out of memory");
  free(cuts);
  free(tot);
  cl_exec_destroy(e);
  if (st != CL_OK) {
    cl_profile_result_free(r);
    return st;
  }
  *out = r;
  return CL_OK;
}

/* ---- HDF5 tables ---- */

/* Layouts declared in cleave/records.h. */
typedef cl_rec_profile_layer layer_rec;
typedef cl_rec_profile_block block_rec;
typedef cl_rec_profile_sample sample_rec;

/* Truncating copy into a fixed-length record field (always NUL-terminated). */
static void copy_name(char *dst, size_t n, const char *src) {
  size_t len = strlen(src);
  if (len >= n) len = n - 1;
  memcpy(dst, src, len);
  dst[len] = '\0';
}

cl_status cl_profiler_write(cl_store *st, const char *model, const cl_graph *g, const cl_profiler_opts *opts,
                            const cl_profile_result *r) {
  cl_dict *models = NULL;
  int32_t mid = 0;
  CL_TRY(cl_store_dict(st, "models", &models));
  CL_TRY(cl_dict_id(models, model, &mid));
  cl_table *tl = NULL, *tb = NULL, *ts = NULL;
  CL_TRY(cl_store_table(st, &CL_REC_PROFILE_LAYERS, &tl));
  CL_TRY(cl_store_table(st, &CL_REC_PROFILE_BLOCKS, &tb));
  CL_TRY(cl_store_table(st, &CL_REC_PROFILE_SAMPLES, &ts));
  int ns = r->n_steps, reps = r->reps;
  double *series = malloc(sizeof(double) * (size_t)reps);
  double *cseries = malloc(sizeof(double) * (size_t)reps);
  cl_stat_summary *sum = malloc(sizeof(cl_stat_summary) * (size_t)(ns ? ns : 1));
  if (!series || !cseries || !sum) {
    free(series);
    free(cseries);
    free(sum);
    return CL_ERR_NOMEM;
  }
  cl_status stt = CL_OK;
  double total = 0;
  for (int k = 0; k < ns; k++) {
    for (int i = 0; i < reps; i++) series[i] = r->wall[(size_t)i * ns + k];
    cl_stat_summarise(series, reps, &sum[k]);
    total += sum[k].median;
  }
  for (int k = 0; k < ns && stt == CL_OK; k++) {
    const cl_exec_step *s = &r->steps[k];
    const cl_node *fn = cl_graph_node(g, s->node), *on = cl_graph_node(g, s->out_node);
    layer_rec L;
    memset(&L, 0, sizeof L);
    L.model = mid;
    L.step = k;
    L.node = s->node;
    L.out_node = s->out_node;
    L.block = r->step_block[k];
    L.n_nodes = s->n_nodes;
    copy_name(L.name, sizeof L.name, s->label);
    copy_name(L.op, sizeof L.op, cl_op_name(fn->op));
    L.c = on->out.c;
    L.h = on->out.h;
    L.w = on->out.w;
    L.out_bytes = s->out_bytes;
    L.params = s->params;
    L.macs = s->macs;
    L.flops = s->flops;
    L.mean = sum[k].mean;
    L.median = sum[k].median;
    L.std = sum[k].std;
    L.min = sum[k].min;
    L.max = sum[k].max;
    L.p5 = sum[k].p5;
    L.p95 = sum[k].p95;
    L.ci_lo = sum[k].ci_lo;
    L.ci_hi = sum[k].ci_hi;
    L.share = total > 0 ? sum[k].median / total : 0;
    for (int i = 0; i < reps; i++) cseries[i] = r->cpu[(size_t)i * ns + k];
    cl_stat_summary cs;
    cl_stat_summarise(cseries, reps, &cs);
    L.cpu_median = cs.median;
    stt = cl_table_append(tl, &L, 1);
  }
  for (int b = 0; b < r->n_blocks && stt == CL_OK; b++) {
    block_rec B;
    memset(&B, 0, sizeof B);
    int f = r->block_first[b], l = r->block_last[b];
    B.model = mid;
    B.block = b;
    B.first_step = f;
    B.last_step = l;
    B.first_node = r->steps[f].node;
    B.last_node = r->steps[l].out_node;
    copy_name(B.first_name, sizeof B.first_name, cl_graph_node(g, B.first_node)->name);
    copy_name(B.last_name, sizeof B.last_name, cl_graph_node(g, B.last_node)->name);
    B.out_bytes = r->steps[l].out_bytes;
    for (int k = f; k <= l; k++) B.macs += r->steps[k].macs;
    for (int i = 0; i < reps; i++) {
      series[i] = 0;
      for (int k = f; k <= l; k++) series[i] += r->wall[(size_t)i * ns + k];
    }
    cl_stat_summary s;
    cl_stat_summarise(series, reps, &s);
    B.mean = s.mean;
    B.median = s.median;
    B.std = s.std;
    B.min = s.min;
    B.max = s.max;
    B.p5 = s.p5;
    B.p95 = s.p95;
    B.ci_lo = s.ci_lo;
    B.ci_hi = s.ci_hi;
    B.share = total > 0 ? s.median / total : 0;
    stt = cl_table_append(tb, &B, 1);
  }
  for (int i = 0; i < reps && stt == CL_OK; i++)
    for (int k = 0; k < ns && stt == CL_OK; k++) {
      sample_rec S = {mid, i, k, r->step_block[k], r->wall[(size_t)i * ns + k], r->cpu[(size_t)i * ns + k]};
      stt = cl_table_append(ts, &S, 1);
    }
  free(series);
  free(cseries);
  free(sum);
  if (stt != CL_OK) return stt;
  cl_profiler_opts o = opts ? *opts : cl_profiler_opts_default();
  const char *ct = getenv("OPENBLAS_CORETYPE");
  cl_backend be = cl_backend_resolve(o.backend);
  char backend[64], bver[128];
  snprintf(backend, sizeof backend, "%s", cl_backend_name(be));
  snprintf(bver, sizeof bver, "%s; openblas%s%s", cl_backend_version(be), ct ? " coretype=" : "", ct ? ct : "");
  CL_TRY(cl_store_attr_str(st, "/profile", "model", model));
  CL_TRY(cl_store_attr_str(st, "/profile", "backend", backend));
  CL_TRY(cl_store_attr_str(st, "/profile", "backend_version", bver));
  CL_TRY(cl_store_attr_i64(st, "/profile", "threads", o.threads));
  CL_TRY(cl_store_attr_i64(st, "/profile", "reps", o.reps));
  CL_TRY(cl_store_attr_i64(st, "/profile", "warmup", o.warmup));
  CL_TRY(cl_store_attr_i64(st, "/profile", "fused", o.fuse));
  CL_TRY(cl_store_attr_f64(st, "/profile", "slowdown", o.slowdown));
  CL_TRY(cl_store_attr_i64(st, "/profile", "seed", (int64_t)o.seed));
  CL_TRY(cl_store_attr_f64(st, "/profile", "gflops", r->gflops));
  CL_TRY(cl_store_attr_f64(st, "/profile", "total_median_s", total));
  return cl_store_flush(st);
}
