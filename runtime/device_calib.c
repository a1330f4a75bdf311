/* Host calibration: this host described as a device model (include/cleave/device.h),
 * measured per op class by short microbenchmarks through the real executor (the
 * profiler, unfused steps, thread CPU time as the runtime charges it), and cached in a
 * file keyed by CPU model, backend, thread count and cleave version. A cached model
 * cannot go stale silently: a new CPU, backend, thread count or cleave version is a new
 * key and is measured again. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cleave/build_info.h"
#include "cleave/device.h"
#include "cleave/profiler.h"

const char *cl_calib_cpu_model(void) {
  static char model[128];
  if (model[0]) return model;
  snprintf(model, sizeof model, "unknown");
  FILE *f = fopen("/proc/cpuinfo", "r");
  char line[512];
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "model name", 10)) {
      const char *v = strchr(line, ':');
      if (!v) continue;
      for (v++; *v == ' '; v++) {
      }
      snprintf(model, sizeof model, "%s", v);
      model[strcspn(model, "\n")] = '\0';
      break;
    }
  if (f) fclose(f);
  return model;
}

/* One microbenchmark: a graph input then the measured nodes (every node after the
 * input is timed, its work summed into its class). */
typedef struct bench {
  cl_shape in;
  int n_ops;
  struct {
    cl_op op;
    cl_op_params p;
    int self_concat; /* concat of the previous tensor with itself */
  } ops[3];
} bench;

static cl_op_params conv_p(int out_c, int k, int groups) {
  cl_op_params p;
  memset(&p, 0, sizeof p);
  p.conv = (cl_conv_params){.out_c = out_c, .kh = k, .kw = k, .sh = 1, .sw = 1, .pt = k / 2, .pl = k / 2,
                            .pb = k / 2, .pr = k / 2, .dh = 1, .dw = 1, .groups = groups, .has_bias = 1};
  return p;
}

static cl_op_params plain(void) {
  cl_op_params p;
  memset(&p, 0, sizeof p);
  return p;
}

static cl_status build_bench(const bench *b, cl_graph **out) {
  cl_graph *g = NULL;
  CL_TRY(cl_graph_create("calib", &g));
  int x = cl_graph_add_input(g, "input", b->in);
  char name[16];
  for (int i = 0; i < b->n_ops && x >= 0; i++) {
    snprintf(name, sizeof name, "op%d", i);
    int ins[2] = {x, x};
    x = cl_graph_add(g, b->ops[i].op, name, ins, b->ops[i].self_concat ? 2 : 1, &b->ops[i].p);
  }
  if (x < 0) {
    cl_graph_destroy(g);
    return (cl_status)x;
  }
  *out = g;
  return CL_OK;
}

/* Median thread-CPU seconds of every timed node, summed, and their work per class. */
static cl_status run_bench(const bench *b, cl_backend backend, int threads, double *sec, double *work,
                           cl_dev_class *cls, int *layers) {
  cl_graph *g = NULL;
  CL_TRY(build_bench(b, &g));
  cl_status st = cl_graph_init_weights(g, 7);
  cl_profiler_opts o = cl_profiler_opts_default();
  o.reps = 9;
  o.warmup = 2;
  o.fuse = 0;
  o.threads = threads;
  o.backend = backend;
  cl_profile_result *r = NULL;
  if (st == CL_OK) st = cl_profiler_measure(g, &o, &r);
  *sec = *work = 0;
  *layers = 0;
  double s[64];
  for (int k = 0; st == CL_OK && k < r->n_steps; k++) {
    int n = r->reps < 64 ? r->reps : 64;
    for (int q = 0; q < n; q++) s[q] = r->cpu[(size_t)q * r->n_steps + k];
    cl_stat_summary sum;
    cl_stat_summarise(s, n, &sum);
    double w;
    if (!cl_device_node_work(g, r->steps[k].node, cls, &w)) continue;
    *sec += sum.median;
    *work += w;
    (*layers)++;
  }
  cl_profile_result_free(r);
  cl_graph_destroy(g);
  return st;
}

cl_status cl_calib_measure(cl_backend backend, int threads, cl_device *host) {
  memset(host, 0, sizeof *host);
  backend = cl_backend_resolve(backend);
  cl_op_params bn = plain(), pool = plain();
  bn.bn.eps = 1e-5f;
  pool.pool = (cl_pool_params){.kh = 2, .kw = 2, .sh = 2, .sw = 2};
  /* [0] is the overhead probe: a ReLU on 8 floats is all dispatch, no work. */
  bench bs[] = {
      {{1, 8, 1, 1}, 1, {{CL_OP_RELU, plain(), 0}}},
      {{1, 64, 56, 56}, 1, {{CL_OP_CONV, conv_p(64, 3, 1), 0}}},
      {{1, 256, 56, 56}, 1, {{CL_OP_CONV, conv_p(256, 3, 256), 0}}},
      {{1, 128, 56, 56}, 1, {{CL_OP_CONV, conv_p(128, 1, 1), 0}}},
      {{1, 4096, 1, 1}, 1, {{CL_OP_FC, plain(), 0}}},
      {{1, 64, 112, 112}, 3, {{CL_OP_BATCHNORM, bn, 0}, {CL_OP_RELU, plain(), 0}, {CL_OP_MAXPOOL, pool, 0}}},
      {{1, 64, 56, 56}, 1, {{CL_OP_CONCAT, plain(), 1}}},
  };
  bs[4].ops[0].p.fc.out_features = 4096;
  bs[4].ops[0].p.fc.has_bias = 1;
  enum { NB = sizeof bs / sizeof bs[0] };
  for (int i = 0; i < NB; i++) {
    double sec, work;
    cl_dev_class c;
    int layers;
    CL_TRY(run_bench(&bs[i], backend, threads, &sec, &work, &c, &layers));
    if (i == 0) {
      for (int k = 0; k < CL_DEV_CLASS_COUNT; k++) host->overhead[k] = sec / (layers ? layers : 1);
      continue;
    }
    double t = sec - layers * host->overhead[c];
    if (t < 0.1 * sec) t = 0.1 * sec; /* overhead noise must not make a class look free */
    host->throughput[c] = work / t;
    host->fitted[c] = 1;
  }
  snprintf(host->name, sizeof host->name, "host");
  snprintf(host->description, sizeof host->description, "%s, %s backend, %d thread%s, cleave %s",
           cl_calib_cpu_model(), cl_backend_name(backend), threads, threads == 1 ? "" : "s", CL_VERSION_STRING);
  time_t now = time(NULL);
  char when[32];
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
  snprintf(host->sources[0], sizeof host->sources[0],
           "measured by cleave (runtime/device_calib.c) at %s: median thread-CPU time of 9 runs per op class", when);
  host->n_sources = 1;
  return CL_OK;
}

static void cache_path(cl_backend backend, int threads, char *path, int cap) {
  const char *dir = getenv("CLEAVE_CALIB_DIR"), *home = getenv("HOME"), *xdg = getenv("XDG_CACHE_HOME");
  char base[2048];
  if (dir && *dir) snprintf(base, sizeof base, "%s", dir);
  else if (xdg && *xdg) snprintf(base, sizeof base, "%s/cleave", xdg);
  else snprintf(base, sizeof base, "%s/.cache/cleave", home && *home ? home : "/tmp");
  char cpu[128];
  snprintf(cpu, sizeof cpu, "%.96s", cl_calib_cpu_model());
  for (char *p = cpu; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.')) *p = '_';
  snprintf(path, (size_t)cap, "%s/calib-%s-%s-t%d-v%s.yaml", base, cpu, cl_backend_name(backend), threads,
           CL_VERSION_STRING);
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
  if (mkdirs(path) != CL_OK || cl_device_save(host, path) != CL_OK)
    cl_log_warn("calibration not cached (see above); it is measured again next time");
  return CL_OK;
}
