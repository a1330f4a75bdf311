/* bench_zoo: per zoo model, cleave's median inference latency and achieved GFLOP/s
 * (2 x conv+linear MACs / median), against an sgemm reference measured in the same run.
 *   bench_zoo [-t threads] [-r reps] [-1] [-i] [model ...]  (default: every zoo model, 1 thread)
 * With oneDNN built in, each row also times the portable backend (alternating) and
 * prints the speed-up of the default backend over it. -i instead times the default
 * backend with inter-operator parallelism off (the "portable" columns) against AUTO;
 * -R times rows mode on 2 threads (docs/runtime.md) against it off: the first columns
 * with row_split ON, the second with OFF, speed-up = OFF / ON. -n ROUNDS alternating
 * rounds (default 3).
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
#include "bench_util.h"

/* Median and min latency of one model on one backend; -1 on failure. */
static int bench_one(cl_graph *g, cl_backend b, int inter_op, int rows, int threads, int reps, double *med,
                     double *mn) {
  cl_exec *e = NULL;
  cl_exec_opts o = cl_exec_opts_default();
  o.threads = threads;
  o.backend = b;
  o.inter_op = inter_op;
  o.row_split = rows;
  if (cl_exec_create(g, &o, &e) != CL_OK) return 1;
  cl_exec_fill_input(e, 1);
  double *t = malloc(sizeof(double) * (size_t)reps);
  cl_exec_run(e); /* warm-up */
  cl_exec_run(e);
  for (int r = 0; r < reps; r++) {
    double t0 = cl_wall_now();
    cl_exec_run(e);
    t[r] = cl_wall_now() - t0;
  }
  qsort(t, (size_t)reps, sizeof *t, bench_cmp_double);
  *med = t[reps / 2];
  *mn = t[0];
  free(t);
  cl_exec_destroy(e);
  return 0;
}

/* One row per model: each backend's median (alternating backends over 3 rounds, so
 * host noise hits both), GFLOP/s, and the portable/dnnl speed-up. */
static int bench(const char *name, int threads, int reps, double ref, int both, int interop, int rows, int rounds) {
  cl_graph *g = NULL;
  if (cl_zoo_build(name, &g) != CL_OK) return 1;
  if (cl_graph_init_weights(g, 1) != CL_OK) {
    cl_graph_destroy(g);
    return 1;
  }
  cl_graph_stats st;
  cl_graph_stats_get(g, &st);
  int same = interop || rows; /* both columns on the default backend */
  cl_backend bs[2] = {cl_backend_resolve(CL_BACKEND_AUTO), same ? cl_backend_resolve(CL_BACKEND_AUTO) : CL_BACKEND_PORTABLE};
  int io[2] = {CL_INTEROP_AUTO, interop ? CL_INTEROP_OFF : CL_INTEROP_AUTO};
  int rs[2] = {rows ? CL_ROWS_ON : CL_ROWS_AUTO, rows ? CL_ROWS_OFF : CL_ROWS_AUTO};
  int nb = same || (both && bs[0] != CL_BACKEND_PORTABLE) ? 2 : 1;
  if (rounds < 1 || rounds > 99) rounds = 3;
  double med[2][99], mn[2] = {1e30, 1e30};
  for (int round = 0; round < rounds; round++)
    for (int k = 0; k < nb; k++) {
      double m, lo;
      if (bench_one(g, bs[k], io[k], rs[k], threads, reps, &m, &lo)) {
        cl_graph_destroy(g);
        return 1;
      }
      med[k][round] = m;
      if (lo < mn[k]) mn[k] = lo;
    }
  double m0[2];
  for (int k = 0; k < nb; k++) {
    qsort(med[k], (size_t)rounds, sizeof(double), bench_cmp_double);
    m0[k] = rounds % 2 ? med[k][rounds / 2] : 0.5 * (med[k][rounds / 2 - 1] + med[k][rounds / 2]);
  }
  double gf = 2.0 * (double)st.macs / m0[0] / 1e9;
  printf("%-16s %-8s %4d %10.3f %10.3f %9.1f %8.2f", name, cl_backend_name(bs[0]), threads, m0[0] * 1e3, mn[0] * 1e3,
         gf, gf / ref);
  if (nb == 2)
    printf(" %12.3f %9.1f %8.2f", m0[1] * 1e3, 2.0 * (double)st.macs / m0[1] / 1e9, m0[1] / m0[0]);
  printf("\n");
  fflush(stdout);
  cl_graph_destroy(g);
  return 0;
}

int main(int argc, char **argv) {
  cl_blas_fix_env(argv);
  int threads = 1, reps = 7, opt, both = 1, interop = 0, rows = 0, rounds = 3;
  while ((opt = getopt(argc, argv, "t:r:n:1iRh")) != -1) {
    if (opt == 't') threads = atoi(optarg);
    else if (opt == 'r') reps = atoi(optarg);
    else if (opt == 'n') rounds = atoi(optarg);
    else if (opt == '1') both = 0;
    else if (opt == 'i') interop = 1;
    else if (opt == 'R') rows = 1, threads = 2;
    else {
      fprintf(stderr, "usage: bench_zoo [-t threads] [-r reps] [-n rounds] [-1] [-i | -R] [model ...]\n"
                      "  -1  only the default backend (else also the portable one, alternating)\n"
                      "  -i  inter-op parallelism off (2nd columns) vs auto, alternating\n"
                      "  -R  rows mode off (2nd columns) vs on, 2 threads, alternating\n");
      return opt == 'h' ? 0 : 2;
    }
  }
  if (threads < 1 || reps < 1) return 2;
  cl_blas_set_threads(threads);
  double ref = cl_rt_host_gflops() * threads; /* sgemm 512^3 on this host, this run */
  const char *ct = getenv("OPENBLAS_CORETYPE");
  const char *wp = getenv("OMP_WAIT_POLICY");
  printf("# bench_zoo: OPENBLAS_CORETYPE=%s, OpenMP wait %s, reps %d, sgemm reference %.1f GFLOP/s (%d thread%s)\n",
         ct ? ct : "(auto)", wp ? wp : "spin (libgomp default)", reps, ref, threads, threads > 1 ? "s" : "");
  printf("# backend: %s; median of %d alternating rounds of %d reps each\n", cl_backend_version(CL_BACKEND_AUTO),
         rounds, reps);
  printf("%-16s %-8s %4s %10s %10s %9s %8s %12s %9s %8s\n", "model", "backend", "thr", "median_ms", "min_ms",
         "GFLOP/s", "vs_sgemm", interop ? "serial_ms" : rows ? "unsplit_ms" : "portable_ms",
         interop ? "ser_GF/s" : rows ? "uns_GF/s" : "port_GF/s",
         "speedup");
  int rc = 0;
  if (optind < argc)
    for (int i = optind; i < argc; i++) rc |= bench(argv[i], threads, reps, ref, both, interop, rows, rounds);
  else
    for (int i = 0; i < cl_zoo_count(); i++) rc |= bench(cl_zoo_get(i)->name, threads, reps, ref, both, interop, rows, rounds);
  return rc;
}
