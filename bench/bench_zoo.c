/* bench_zoo: per zoo model, cleave's median inference latency and achieved GFLOP/s
 * (2 x conv+linear MACs / median), against an sgemm reference measured in the same run.
 *   bench_zoo [-t threads] [-r reps] [model ...]      (default: every zoo model, 1 thread)
 * Not a test: timings on a shared machine are noisy; quote medians of several runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cleave/exec.h"
#include "cleave/ops.h"
#include "cleave/runtime.h"
#include "cleave/zoo.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int bench(const char *name, int threads, int reps, double ref) {
  cl_graph *g = NULL;
  if (cl_zoo_build(name, &g) != CL_OK) return 1;
  cl_exec *e = NULL;
  cl_exec_opts o = cl_exec_opts_default();
  o.threads = threads;
  if (cl_graph_init_weights(g, 1) != CL_OK || cl_exec_create(g, &o, &e) != CL_OK) {
    cl_graph_destroy(g);
    return 1;
  }
  cl_exec_fill_input(e, 1);
  double *t = malloc(sizeof(double) * (size_t)reps);
  cl_exec_run(e); /* warm-up */
  cl_exec_run(e);
  for (int r = 0; r < reps; r++) {
    double t0 = now();
    cl_exec_run(e);
    t[r] = now() - t0;
  }
  qsort(t, (size_t)reps, sizeof *t, cmp);
  cl_graph_stats st;
  cl_graph_stats_get(g, &st);
  double med = t[reps / 2], gf = 2.0 * (double)st.macs / med / 1e9;
  printf("%-16s %8d %12.3f %12.3f %10.1f %8.2f\n", name, threads, med * 1e3, t[0] * 1e3, gf, gf / ref);
  fflush(stdout);
  free(t);
  cl_exec_destroy(e);
  cl_graph_destroy(g);
  return 0;
}

int main(int argc, char **argv) {
  cl_blas_fix_coretype(argv);
  int threads = 1, reps = 7, opt;
  while ((opt = getopt(argc, argv, "t:r:h")) != -1) {
    if (opt == 't') threads = atoi(optarg);
    else if (opt == 'r') reps = atoi(optarg);
    else {
      fprintf(stderr, "usage: bench_zoo [-t threads] [-r reps] [model ...]\n");
      return opt == 'h' ? 0 : 2;
    }
  }
  if (threads < 1 || reps < 1) return 2;
  cl_blas_set_threads(threads);
  double ref = cl_rt_host_gflops() * threads; /* sgemm 512^3 on this host, this run */
  const char *ct = getenv("OPENBLAS_CORETYPE");
  printf("# bench_zoo: OPENBLAS_CORETYPE=%s, reps %d, sgemm reference %.1f GFLOP/s (%d thread%s)\n",
         ct ? ct : "(auto)", reps, ref, threads, threads > 1 ? "s" : "");
  printf("%-16s %8s %12s %12s %10s %8s\n", "model", "threads", "median_ms", "min_ms", "GFLOP/s", "vs_sgemm");
  int rc = 0;
  if (optind < argc)
    for (int i = optind; i < argc; i++) rc |= bench(argv[i], threads, reps, ref);
  else
    for (int i = 0; i < cl_zoo_count(); i++) rc |= bench(cl_zoo_get(i)->name, threads, reps, ref);
  return rc;
}
