/* Host calibration: this host described as a device model (include/cleave/device.h),
 * measured per op class by short single-layer benchmarks through the real executor (the
 * profiler, unfused steps, thread CPU time as the runtime charges it), fitted like a
 * catalogue device (runtime/device_fit.c), and cached in a
 * file keyed by CPU model, backend, thread count and cleave version. A cached model
 * cannot go stale silently: a new CPU, backend, thread count or cleave version is a new
 * key and is measured again. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cleave/build_info.h"
#include "cleave/device.h"
#include "cleave/device_fit.h"
#include "cleave/config.h"
#include "cleave/onnx.h"
#include "cleave/profiler.h"

/* One microbenchmark: a graph input and one layer of a shape found in the zoo's models
 * (conv / FC widths, feature-map sizes), so the fitted host model averages over the
 * shapes real layers have, not one favourable size. */
typedef struct bench {
  cl_shape in;
  cl_op op;
  int out_c, k, stride, groups; /* conv: out channels (groups: depthwise); FC: out features */
} bench;

static const bench g_bench[] = {
    {{1, 3, 224, 224}, CL_OP_CONV, 64, 3, 1, 1},     {{1, 64, 112, 112}, CL_OP_CONV, 64, 3, 1, 1},
    {{1, 128, 56, 56}, CL_OP_CONV, 128, 3, 1, 1},    {{1, 256, 28, 28}, CL_OP_CONV, 256, 3, 1, 1},
    {{1, 512, 14, 14}, CL_OP_CONV, 512, 3, 1, 1},    {{1, 64, 56, 56}, CL_OP_CONV, 64, 7, 2, 1},
    {{1, 32, 112, 112}, CL_OP_CONV, 32, 3, 1, 32},   {{1, 128, 56, 56}, CL_OP_CONV, 128, 3, 2, 128},
    {{1, 512, 14, 14}, CL_OP_CONV, 512, 3, 1, 512},  {{1, 1024, 7, 7}, CL_OP_CONV, 1024, 3, 1, 1024},
    {{1, 32, 112, 112}, CL_OP_CONV, 64, 1, 1, 1},    {{1, 128, 56, 56}, CL_OP_CONV, 128, 1, 1, 1},
    {{1, 256, 56, 56}, CL_OP_CONV, 64, 1, 1, 1},     {{1, 512, 14, 14}, CL_OP_CONV, 512, 1, 1, 1},
    {{1, 1024, 7, 7}, CL_OP_CONV, 1024, 1, 1, 1},    {{1, 25088, 1, 1}, CL_OP_FC, 1024, 0, 0, 0},
    {{1, 25088, 1, 1}, CL_OP_FC, 4096, 0, 0, 0},     {{1, 4096, 1, 1}, CL_OP_FC, 4096, 0, 0, 0},
    {{1, 64, 224, 224}, CL_OP_CONV, 64, 3, 1, 1},      {{1, 1024, 1, 1}, CL_OP_FC, 1000, 0, 0, 0},
    {{1, 64, 224, 224}, CL_OP_RELU, 0, 0, 0, 0},     {{1, 128, 56, 56}, CL_OP_RELU, 0, 0, 0, 0},
    {{1, 64, 224, 224}, CL_OP_MAXPOOL, 0, 2, 2, 0},  {{1, 256, 56, 56}, CL_OP_MAXPOOL, 0, 2, 2, 0},
    {{1, 32, 112, 112}, CL_OP_BATCHNORM, 0, 0, 0, 0}, {{1, 512, 14, 14}, CL_OP_BATCHNORM, 0, 0, 0, 0},
    {{1, 1024, 7, 7}, CL_OP_GAP, 0, 0, 0, 0},        {{1, 256, 56, 56}, CL_OP_ADD, 0, 0, 0, 0},
    {{1, 8, 1, 1}, CL_OP_RELU, 0, 0, 0, 0},          {{1, 64, 56, 56}, CL_OP_CONCAT, 0, 0, 0, 0},
    {{1, 256, 28, 28}, CL_OP_CONCAT, 0, 0, 0, 0},    {{1, 8, 1, 1}, CL_OP_CONCAT, 0, 0, 0, 0},
    {{1, 512, 7, 7}, CL_OP_FLATTEN, 0, 0, 0, 0},
};
enum { N_BENCH = sizeof g_bench / sizeof g_bench[0] };

static cl_status build_bench(const bench *b, cl_graph **out) {
  cl_op_params p;
  memset(&p, 0, sizeof p);
  if (b->op == CL_OP_CONV) {
    int pad = b->k / 2;
    p.conv = (cl_conv_params){.out_c = b->out_c, .kh = b->k, .kw = b->k, .sh = b->stride, .sw = b->stride,
                              .pt = pad, .pl = pad, .pb = pad, .pr = pad, .dh = 1, .dw = 1,
                              .groups = b->groups ? b->groups : 1, .has_bias = 1};
  } else if (b->op == CL_OP_FC) {
    p.fc.out_features = b->out_c;
    p.fc.has_bias = 1;
  } else if (b->op == CL_OP_MAXPOOL) {
    p.pool = (cl_pool_params){.kh = b->k, .kw = b->k, .sh = b->stride, .sw = b->stride};
  } else if (b->op == CL_OP_BATCHNORM) {
    p.bn.eps = 1e-5f;
  }
  cl_graph *g = NULL;
  CL_TRY(cl_graph_create("calib", &g));
  int x = cl_graph_add_input(g, "input", b->in), ins[2] = {x, x};
  int two = b->op == CL_OP_CONCAT || b->op == CL_OP_ADD; /* the input with itself */
  if (x >= 0) x = cl_graph_add(g, b->op, "layer", ins, two ? 2 : 1, &p);
  if (x < 0) {
    cl_graph_destroy(g);
    return (cl_status)x;
  }
  *out = g;
  return CL_OK;
}

/* The layer's median thread-CPU seconds and its work, as one fit row. */
static cl_status run_bench(const bench *b, cl_backend backend, int threads, cl_devfit_block *row) {
  cl_graph *g = NULL;
  CL_TRY(build_bench(b, &g));
  cl_status st = cl_graph_init_weights(g, 7);
  cl_profiler_opts o = cl_profiler_opts_default();
  o.reps = 7;
  o.warmup = 1;
  o.fuse = 0;
  o.threads = threads;
  o.backend = backend;
  cl_profile_result *r = NULL;
  if (st == CL_OK) st = cl_profiler_measure(g, &o, &r);
  memset(row, 0, sizeof *row);
  double s[16];
  for (int k = 0; st == CL_OK && k < r->n_steps; k++) {
    if (r->steps[k].node != 1) continue;
    int n = r->reps < 16 ? r->reps : 16;
    for (int q = 0; q < n; q++) s[q] = r->cpu[(size_t)q * r->n_steps + k];
    cl_stat_summary sum;
    cl_stat_summarise(s, n, &sum);
    cl_dev_class c;
    double w;
    row->count[0] = 0;
    int layer = cl_device_node_work(g, 1, &c, &w);
    row->count[c] = layer;
    row->work[c] = w;
    row->seconds = sum.median > 1e-9 ? sum.median : 1e-9;
  }
  cl_profile_result_free(r);
  cl_graph_destroy(g);
  return st;
}

cl_status cl_calib_measure(cl_backend backend, int threads, cl_device *host) {
  memset(host, 0, sizeof *host);
  backend = cl_backend_resolve(backend);
  cl_devfit_data d = {0, calloc(N_BENCH, sizeof(cl_devfit_block))};
  if (!d.b) return CL_ERR_NOMEM;
  cl_status st = CL_OK;
  for (int i = 0; i < N_BENCH && st == CL_OK; i++) st = run_bench(&g_bench[i], backend, threads, &d.b[d.n++]);
  /* Robust per-class estimates (a least-squares fit over a few rows per class trades
   * throughput against overhead): the overhead is the median time of the work-free
   * probes (8-float layers), a class's throughput the median of work / (time - overhead)
   * over its benchmarks. */
  double oh[N_BENCH], tp[N_BENCH];
  int n_oh = 0;
  for (int i = 0; st == CL_OK && i < d.n; i++)
    if (cl_shape_numel(g_bench[i].in) <= 8) oh[n_oh++] = d.b[i].seconds;
  cl_stat_summary sum;
  cl_stat_summarise(oh, n_oh, &sum);
  for (int c = 0; st == CL_OK && c < CL_DEV_CLASS_COUNT; c++) {
    int n = 0;
    for (int i = 0; i < d.n; i++)
      if (d.b[i].count[c] && cl_shape_numel(g_bench[i].in) > 8)
        tp[n++] = d.b[i].work[c] / fmax(d.b[i].seconds - sum.median, 0.1 * d.b[i].seconds);
    host->overhead[c] = sum.median;
    host->fitted[c] = n > 0;
    if (n) {
      cl_stat_summary t;
      cl_stat_summarise(tp, n, &t);
      host->throughput[c] = t.median;
    }
  }
  for (int c = 0; c < CL_DEV_CLASS_COUNT; c++) /* no benchmark of this class: the slowest kind */
    if (!host->fitted[c]) host->throughput[c] = host->throughput[CL_DEV_ELTWISE];
  if (st == CL_OK) host->fit_error_pct = cl_devfit_median_error(&d, NULL, host, &host->fit_blocks);
  cl_devfit_data_fini(&d);
  if (st != CL_OK) return st;
  snprintf(host->fit_models, sizeof host->fit_models, "%d single-layer microbenchmarks", (int)N_BENCH);
  snprintf(host->name, sizeof host->name, "host");
  snprintf(host->description, sizeof host->description, "%s, %s backend, %d thread%s, cleave %s",
           cl_calib_cpu_model(), cl_backend_name(backend), threads, threads == 1 ? "" : "s", CL_VERSION_STRING);
  time_t now = time(NULL);
  char when[32];
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
  snprintf(host->sources[0], sizeof host->sources[0],
           "measured by cleave (runtime/device_calib.c) at %s: median thread-CPU time of 7 runs of %d layers "
           "through the executor; per class the median throughput, overhead from work-free layers",
           when, (int)N_BENCH);
  host->n_sources = 1;
  return CL_OK;
}

/* Cache files share one key scheme (models/kernel_choice.c): directory, CPU model,
 * backend, threads, cleave version (and the model for per-layer files). */
static void cache_path_for(cl_backend backend, int threads, const char *model, char *path, int cap) {
  cl_calib_cache_path("calib", backend, threads, model, path, cap);
}
static void cache_path(cl_backend backend, int threads, char *path, int cap) {
  cache_path_for(backend, threads, NULL, path, cap);
}

static cl_status mkdirs(char *path) { /* parent directories of the file @p path */
  for (char *p = path + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    int r = mkdir(path, 0755);
    *p = '/';
    if (r != 0 && errno != EEXIST) {
      cl_log_error("calibration cache: cannot create directory for '%s': %s", path, strerror(errno));
      return CL_ERR_IO;
    }
  }
  return CL_OK;
}

cl_status cl_calib_get(cl_backend backend, int threads, int force, cl_device *host, char *path_out, int cap) {
  backend = cl_backend_resolve(backend);
  char path[4096];
  cache_path(backend, threads, path, sizeof path);
  if (path_out && cap > 0) snprintf(path_out, (size_t)cap, "%s", path);
  FILE *f = force ? NULL : fopen(path, "r");
  if (f) {
    fclose(f);
    if (cl_device_load(path, host) == CL_OK) return CL_OK;
    cl_log_warn("calibration cache '%s' is unreadable (see above): measuring again", path);
  }
  CL_TRY(cl_calib_measure(backend, threads, host));
  if (mkdirs(path) != CL_OK || cl_device_save(host, path) != CL_OK) {
    cl_log_warn("calibration not cached (see above); it is measured again next time");
    return CL_OK;
  }
  /* What every later run reads: the cache's text rounds the throughputs (1e-4 relative),
   * and the run that measured must give the same numbers as its reruns. */
  cl_device cached;
  if (cl_device_load(path, &cached) == CL_OK) *host = cached;
  return CL_OK;
}

/* ---- per-layer calibration of one model ---- */

int cl_calib_layers_enabled(void) {
  const char *env = getenv("CLEAVE_CALIB_LAYERS");
  return !(env && !strcmp(env, "0"));
}

cl_status cl_calib_layers_read(const char *path, const char *model, int n, double *t) {
  cl_config *cf = NULL;
  CL_TRY(cl_config_load(path, &cf));
  cl_config_node *r = cl_config_root(cf), *sec = NULL;
  const char *m = NULL;
  int64_t nodes = 0;
  cl_status st = r ? cl_config_get_str(r, "model", &m) : CL_ERR_CONFIG;
  if (st == CL_OK) st = cl_config_get_int(r, "nodes", 0, 1 << 30, &nodes);
  if (st == CL_OK && (strcmp(m, model) || nodes != n || !(sec = cl_config_find(r, "seconds")) ||
                      cl_config_len(sec) != n))
    st = CL_ERR_CONFIG; /* another model with the same file name, or changed: measure again */
  for (int i = 0; st == CL_OK && i < n; i++) st = cl_config_as_double(cl_config_at(sec, i), 0, 1e6, &t[i]);
  if (st == CL_OK) st = cl_config_check_unused(cf);
  cl_config_destroy(cf);
  return st;
}

static cl_status save_layers(char *path, const char *model, int n, const double *t) {
  cl_config_writer *w = NULL;
  CL_TRY(cl_config_writer_create(&w));
  cl_config_writer_map(w, 0);
  cl_config_writer_key(w, "model");
  cl_config_writer_str(w, model);
  cl_config_writer_key(w, "nodes");
  cl_config_writer_int(w, n);
  cl_config_writer_key(w, "seconds");
  cl_config_writer_seq(w, 1);
  for (int i = 0; i < n; i++) cl_config_writer_double(w, t[i]);
  cl_config_writer_end(w);
  cl_config_writer_end(w);
  char *text = NULL;
  CL_TRY(cl_config_writer_finish(w, &text));
  cl_status st = mkdirs(path);
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = st == CL_OK ? fopen(tmp, "w") : NULL;
  if (!f || fputs(text, f) < 0) st = CL_ERR_IO;
  if (f && fclose(f) != 0) st = CL_ERR_IO;
  if (st == CL_OK && rename(tmp, path) != 0) st = CL_ERR_IO;
  free(text);
  return st;
}

cl_status cl_calib_layers(cl_backend backend, int threads, const char *model, const cl_graph *g,
                          const cl_device *host, int force, double *t) {
  backend = cl_backend_resolve(backend);
  int n = cl_graph_size(g);
  char path[4096];
  cache_path_for(backend, threads, model, path, sizeof path);
  FILE *f = force ? NULL : fopen(path, "r");
  if (f) {
    fclose(f);
    if (cl_calib_layers_read(path, model, n, t) == CL_OK) return CL_OK;
  }
  cl_graph *m = NULL;
  int has_weights = 0;
  CL_TRY(cl_model_load(model, &m, &has_weights));
  cl_status st = has_weights ? CL_OK : cl_graph_init_weights(m, 1);
  cl_profiler_opts o = cl_profiler_opts_default();
  o.reps = 9; /* the calibration is the denominator of every factor */
  o.warmup = 1;
  o.threads = threads;
  o.backend = backend;
  cl_profile_result *r = NULL;
  if (st == CL_OK && cl_graph_size(m) != n) st = CL_ERR_INVALID;
  if (st == CL_OK) st = cl_profiler_measure(m, &o, &r);
  memset(t, 0, sizeof(double) * (size_t)n);
  double s[16];
  for (int k = 0; st == CL_OK && k < r->n_steps; k++) {
    const cl_exec_step *stp = &r->steps[k];
    int reps = r->reps < 16 ? r->reps : 16;
    for (int q = 0; q < reps; q++) s[q] = r->cpu[(size_t)q * r->n_steps + k];
    cl_stat_summary sum;
    cl_stat_summarise(s, reps, &sum);
    double model_sum = 0;
    for (int j = 0; j < stp->n_nodes; j++) model_sum += cl_device_node_time(host, m, stp->nodes[j]);
    for (int j = 0; j < stp->n_nodes; j++) /* the step's time, split as the class model splits it */
      t[stp->nodes[j]] = model_sum > 0 ? sum.median * cl_device_node_time(host, m, stp->nodes[j]) / model_sum
                                       : sum.median / stp->n_nodes;
  }
  cl_profile_result_free(r);
  cl_graph_destroy(m);
  if (st == CL_OK && force != 2 && save_layers(path, model, n, t) != CL_OK)
    cl_log_warn("per-layer calibration of %s not cached in '%s'; it is measured again next time", model, path);
  return st;
}
