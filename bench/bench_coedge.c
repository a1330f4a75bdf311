/* Planner time of the CoEdge LP planner: 8 heterogeneous devices x the spatial part of
 * zoo models (default vgg16), layer and fused mode, deadline at 1.25x the minimum
 * latency. Prints the median (and minimum) wall time of --reps runs (default 21), and the
 * median thread CPU time, which other load on a shared host disturbs less.
 * usage: bench_coedge [--reps N] [--devices N] [MODEL ...] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleave/coedge.h"
#include "cleave/zoo.h"
#include "bench_util.h"

int main(int argc, char **argv) {
  int reps = 21, n_dev = 8;
  const char *models[16];
  int n_models = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--devices") && i + 1 < argc) n_dev = atoi(argv[++i]);
    else if (argv[i][0] == '-') reps = 0; /* -h, --help or an unknown option: usage */
    else if (n_models < 16) models[n_models++] = argv[i];
  }
  if (reps < 1 || n_dev < 1 || n_dev > 64) {
    fprintf(stderr, "usage: bench_coedge [--reps N] [--devices 1..64] [MODEL ...]\n");
    return 2;
  }
  if (!n_models) models[n_models++] = "vgg16";
  cl_coedge_device *dev = calloc((size_t)n_dev, sizeof *dev);
  char (*names)[16] = calloc((size_t)n_dev, sizeof *names);
  double *t = calloc((size_t)reps, sizeof *t), *tc = calloc((size_t)reps, sizeof *tc);
  if (!dev || !names || !t || !tc) return 1;
  /* a heterogeneous cluster: Pi-class, Nano-class and TX2-class devices */
  static const double speed[4] = {0.15, 0.6, 1.2, 0.3}, pc[4] = {6.4, 10, 15, 7};
  static const double pi[4] = {2.7, 1.5, 3.0, 2.0}, ptx[4] = {1.8, 2.0, 2.2, 1.9};
  for (int d = 0; d < n_dev; d++) {
    snprintf(names[d], sizeof names[d], "dev%d", d);
    cl_coedge_device v = {names[d], speed[d % 4] * (1 + 0.05 * (d / 4)), pc[d % 4], pi[d % 4],
                          ptx[d % 4], 0.8 * ptx[d % 4], NULL, NULL};
    dev[d] = v;
  }
  printf("bench_coedge: %d devices, %d reps, median planner wall time\n", n_dev, reps);
  printf("%-12s %-6s %10s %10s %10s %6s %7s %11s %10s\n", "model", "mode", "median_ms", "min_ms",
         "cpu_ms", "LPs", "evals", "latency_ms", "energy_J");
  int rc = 0;
  for (int m = 0; m < n_models; m++) {
    cl_graph *g = NULL;
    if (cl_zoo_build(models[m], &g) != CL_OK) {
      rc = 1;
      continue;
    }
    int n = cl_graph_size(g);
    double *host = calloc((size_t)n, sizeof *host);
    for (int id = 0; id < n; id++) host[id] = (double)cl_graph_node(g, id)->flops / 20e9;
    for (int mode = 0; mode < 2; mode++) {
      cl_coedge_problem pb = {g, -1, -1, host, n_dev, dev, 0, 50e6 / 8, 1e-3, 0,
                              (cl_spatial_mode)mode, 0, 0};
      cl_coedge_result r;
      if (cl_coedge_plan(&pb, CL_COEDGE_MINLAT, &r) != CL_OK) {
        rc = 1;
        continue;
      }
      pb.deadline = 1.25 * r.latency;
      cl_coedge_result_fini(&r);
      cl_status st = CL_OK;
      for (int k = 0; k < reps; k++) {
        double t0 = cl_wall_now(), c0 = bench_cpu_now();
        st = cl_coedge_plan(&pb, CL_COEDGE_COEDGE, &r);
        t[k] = (cl_wall_now() - t0) * 1e3;
        tc[k] = (bench_cpu_now() - c0) * 1e3;
        if (k + 1 < reps) cl_coedge_result_fini(&r);
      }
      qsort(t, (size_t)reps, sizeof *t, bench_cmp_double);
      qsort(tc, (size_t)reps, sizeof *tc, bench_cmp_double);
      printf("%-12s %-6s %10.3f %10.3f %10.3f %6d %7d %11.3f %10.4f%s\n", models[m],
             mode ? "fused" : "layer", t[reps / 2], t[0], tc[reps / 2], r.lp_solves, r.evals,
             r.latency * 1e3,
             r.energy, st == CL_OK ? "" : " (infeasible)");
      cl_coedge_result_fini(&r);
    }
    free(host);
    cl_graph_destroy(g);
  }
  free(dev);
  free(names);
  free(t);
  free(tc);
  return rc;
}
