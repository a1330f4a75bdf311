/* cleave sweep: resumable experiment sweeps under MPI (docs/experiments.md). */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/adaptive.h"
#include "cleave/cfg.h"
#include "cleave/partition.h" /* cl_mpi_check */
#include "cleave/sweep.h"
#include "cleave/sweep_kind.h"
#include "cleave/onnx.h"
#include "cleave/zoo.h"
#include "cli.h"
#include "commands.h"

static void help(void) {
  printf(
      "usage: mpirun -n R cleave sweep EXPERIMENT.yaml -o OUT.h5 [--resume] [--force]\n"
      "                                [--sample N --seed S] [--quiet]\n"
      "       cleave sweep EXPERIMENT.yaml --list | --print-point I | --validate K\n"
      "  Evaluates every point of the experiment once (kinds testbed, adaptive, coedge, plan, users;\n"
      "  models: zoo names or ONNX files).\n"
      "  Rank 0 hands out points on request and writes OUT.h5, flushed after every point;\n"
      "  point id = SHA-256 of its resolved config text.\n"
      "  --resume          skip the points already in OUT.h5 (a killed sweep loses only\n"
      "                    the points that were in flight)\n"
      "  --force           overwrite OUT.h5\n"
      "  --sample N        run a seeded random sample of N points of the grid\n"
      "  --seed S          sampling / weights seed (overrides the file's seed)\n"
      "  --quiet           no progress line (it is shown only on a terminal anyway)\n"
      "  --list            print the point ids and exit\n"
      "  --print-point I   print point I's resolved config (for testbed points: a config\n"
      "                    `cleave run` accepts) and exit\n"
      "  --validate K      adaptive: for K sampled (model, condition, cut) triples, run the\n"
      "                    edge and cloud parts for real under their conditions and compare\n"
      "                    with the composition of per-layer profiles; prints the errors\n"
      "  Format and method: docs/experiments.md\n");
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* --validate K: composition of per-layer profiles vs the two parts run for real. */
static int validate_adaptive(const char *path, int K, uint64_t seed) {
  cl_sweep_load_opts lo = {0, 1, seed, cl_sweep_kinds_all()};
  cl_sweep_exp *e = NULL;
  if (cl_sweep_load(path, &lo, &e) != CL_OK) return 2;
  cl_sweep_condition probe;
  if (cl_sweep_adaptive_condition(e, 0, &probe) == CL_ERR_INVALID) {
    fprintf(stderr, "cleave: error: sweep: --validate is for experiments of kind adaptive\n");
    cl_sweep_exp_destroy(e);
    return 2;
  }
  int rc = 0;
  uint64_t rng = seed * 0x2545F4914F6CDD1DULL + 7;
  double sum_abs = 0, max_abs = 0;
  printf("%-12s %-9s %-9s %-24s %10s %10s %8s\n", "model", "edge", "cloud", "cut", "composed_s", "measured_s",
         "error");
  for (int k = 0; k < K && rc == 0; k++) {
    int i = (int)(cl_rng_next(&rng) % (uint64_t)cl_sweep_n_points(e));
    cl_sweep_condition cd;
    if (cl_sweep_adaptive_condition(e, i, &cd) != CL_OK) {
      rc = 1;
      break;
    }
    int reps = cd.reps;
    double cap = cd.mem_cap;
    cl_adaptive_model *m = NULL;
    cl_graph *g = NULL;
    cl_adaptive_profile pe, pc;
    memset(&pe, 0, sizeof pe);
    memset(&pc, 0, sizeof pc);
    cl_status st = cl_adaptive_model_create(cd.model, &m);
    int has_weights = 0; /* an ONNX file brings its own; zoo models are seeded */
    if (st == CL_OK) st = cl_model_load(cd.model, &g, &has_weights);
    if (st == CL_OK && !has_weights) st = cl_graph_init_weights(g, cd.seed);
    int cut = st == CL_OK ? (int)(cl_rng_next(&rng) % (uint64_t)m->n_cuts) : 0;
    int th = cd.threads[0];
    if (st == CL_OK)
      st = cl_adaptive_profile_run(g, th, cd.cpu_load[0], cd.mem_pressure[0], cap, reps, 1, cd.seed, NULL,
                                   NULL, &pe);
    if (st == CL_OK)
      st = cl_adaptive_profile_run(g, th, cd.cpu_load[1], cd.mem_pressure[1], cap, reps, 1, cd.seed, NULL,
                                   NULL, &pc);
    double ew = 0, cw = 0;
    if (st == CL_OK)
      st = cl_adaptive_measure_parts(cd.model, m->cut_node[cut], th, cd.cpu_load[0], cd.mem_pressure[0],
                                     cd.cpu_load[1], cd.mem_pressure[1], cap, reps, cd.seed, &ew, &cw);
    if (st == CL_OK) {
      cl_adaptive_link lk = {.edge_speed = cd.speed[0], .cloud_speed = cd.speed[1], .latency = cd.latency, .bandwidth = cd.bandwidth};
      double lat[1024];
      int R = reps < 1024 ? reps : 1024;
      for (int r = 0; r < R; r++) lat[r] = cl_adaptive_compose(m, &pe, &pc, &lk, cut, r, NULL, NULL, NULL, NULL, NULL);
      qsort(lat, (size_t)R, sizeof(double), cmp_d);
      double comp = R % 2 ? lat[R / 2] : 0.5 * (lat[R / 2 - 1] + lat[R / 2]);
      double xfer = m->cut_bytes[cut] > 0 ? lk.latency + (double)m->cut_bytes[cut] / lk.bandwidth : 0;
      double meas = ew * lk.edge_speed + xfer + cw * lk.cloud_speed;
      double err = (comp - meas) / meas;
      sum_abs += fabs(err);
      if (fabs(err) > max_abs) max_abs = fabs(err);
      char ec[32], cc[32];
      snprintf(ec, sizeof ec, "%.0f%%/%.0f%%", 100 * cd.cpu_load[0], 100 * cd.mem_pressure[0]);
      snprintf(cc, sizeof cc, "%.0f%%/%.0f%%", 100 * cd.cpu_load[1], 100 * cd.mem_pressure[1]);
      printf("%-12s %-9s %-9s %-24.24s %10.5f %10.5f %+7.1f%%\n", cd.model, ec, cc, m->cut_name[cut], comp, meas,
             100 * err);
    } else {
      rc = 1;
    }
    cl_adaptive_profile_free(&pe);
    cl_adaptive_profile_free(&pc);
    cl_adaptive_model_destroy(m);
    cl_graph_destroy(g);
  }
  if (rc == 0)
    printf("validate: %d triples, mean |error| %.1f%%, max |error| %.1f%% (composed from per-layer profiles vs parts "
           "run whole; edge/cloud columns: CPU load/memory use)\n",
           K, 100 * sum_abs / K, 100 * max_abs);
  cl_sweep_exp_destroy(e);
  return rc;
}

int cl__cmd_sweep(int argc, char **argv) {
  const char *path = NULL, *out = NULL;
  int resume = 0, force = 0, quiet = 0, list = 0, has_seed = 0;
  long sample = 0, print_point = -1, validate = 0;
  uint64_t seed = 1;
  static const char *const bools[] = {"--resume", "--force", "--quiet", "--list", NULL};
  int *const on[] = {&resume, &force, &quiet, &list};
  for (int i = 1; i < argc; i++) {
    int missing = 0, c = cl__opt_common(argc, argv, &i, help, &out, bools, on, &missing);
    const char *v;
    if (c >= 0) {
      if (c == 0) return 0;
    } else if ((v = cl__opt(argc, argv, &i, "--sample", &missing))) {
      if (cl__parse_int("sweep", "--sample", v, 1, 50000000L, &sample)) return 2;
    } else if ((v = cl__opt(argc, argv, &i, "--seed", &missing))) {
      if (cl__parse_u64("sweep", "--seed", v, &seed)) return 2;
      has_seed = 1;
    } else if ((v = cl__opt(argc, argv, &i, "--print-point", &missing))) {
      if (cl__parse_int("sweep", "--print-point", v, 0, 50000000L, &print_point)) return 2;
    } else if ((v = cl__opt(argc, argv, &i, "--validate", &missing))) {
      if (cl__parse_int("sweep", "--validate", v, 1, 100000, &validate)) return 2;
    } else if (cl__arg_rest("sweep", "experiment", argv[i], missing, &path)) {
      return 2;
    }
  }
  if (!path) {
    fprintf(stderr, "cleave: error: sweep: no experiment file given (see --help)\n");
    return 2;
  }
  if (resume && force) {
    fprintf(stderr, "cleave: error: sweep: --resume and --force exclude each other\n");
    return 2;
  }
  if (validate > 0) return validate_adaptive(path, (int)validate, seed);
  if (list || print_point >= 0) {
    cl_sweep_load_opts lo = {sample, has_seed, seed, cl_sweep_kinds_all()};
    cl_sweep_exp *e = NULL;
    if (cl_sweep_load(path, &lo, &e) != CL_OK) return 2;
    int rc = 0;
    if (list)
      for (int i = 0; i < cl_sweep_n_points(e); i++) printf("%d %s\n", i, cl_sweep_point_id(e, i));
    if (print_point >= 0) {
      char *t = cl_sweep_point_text(e, (int)print_point);
      if (t)
        fputs(t, stdout);
      else {
        fprintf(stderr, "cleave: error: sweep: point %ld out of range (0-%d)\n", print_point, cl_sweep_n_points(e) - 1);
        rc = 2;
      }
      free(t);
    }
    cl_sweep_exp_destroy(e);
    return rc;
  }
  if (!out) {
    fprintf(stderr, "cleave: error: sweep: no output file given (-o OUT.h5)\n");
    return 2;
  }
  /* apps/ owns the job: MPI failures end it here (the library returns CL_ERR_MPI) */
  MPI_Comm comm = MPI_COMM_NULL;
  int rank = 0;
  if (MPI_Init(&argc, &argv) != MPI_SUCCESS) {
    fprintf(stderr, "cleave: error: sweep: MPI_Init failed\n");
    return 1;
  }
  if (MPI_Comm_dup(MPI_COMM_WORLD, &comm) != MPI_SUCCESS || MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN) != MPI_SUCCESS ||
      MPI_Comm_rank(comm, &rank) != MPI_SUCCESS) {
    fprintf(stderr, "cleave: error: sweep: cannot set up the MPI communicator\n");
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  cl_sweep_exp *e = NULL;
  int ist = CL_OK;
  if (rank == 0) {
    cl_sweep_load_opts lo = {sample, has_seed, seed, cl_sweep_kinds_all()};
    ist = (int)cl_sweep_load(path, &lo, &e);
  }
  if (MPI_Bcast(&ist, 1, MPI_INT, 0, comm) != MPI_SUCCESS) {
    fprintf(stderr, "cleave: error: sweep: MPI_Bcast failed\n");
    MPI_Abort(comm, 1);
  }
  int rc = 2;
  if (ist == CL_OK) {
    cl_sweep_opts o = {.out_path = out, .resume = resume, .force = force, .quiet = quiet, .argc = cl__argc,
                       .argv = cl__argv, .kinds = cl_sweep_kinds_all()};
    cl_status st = cl_sweep_run(comm, e, &o);
    if (st == CL_ERR_MPI) {
      fprintf(stderr, "cleave: error: sweep: rank %d: MPI failed (see above); ending the job\n", rank);
      MPI_Abort(comm, 1);
    }
    if (rank == 0)
      printf("sweep: %d points run, %d skipped (already in %s), %d failed; %llu records in %.1f s (%.0f records/s)\n",
             o.points_run, o.points_skipped, out, o.points_failed, (unsigned long long)o.records, o.seconds,
             o.seconds > 0 ? (double)o.records / o.seconds : 0.0);
    rc = st == CL_OK ? 0 : (st == CL_ERR_CONFIG || st == CL_ERR_EXISTS) ? 2 : 1;
  }
  cl_sweep_exp_destroy(e);
  (void)cl_mpi_check(MPI_Comm_free(&comm), "MPI_Comm_free"); /* logged; MPI_Finalize follows */
  MPI_Finalize();
  return rc;
}
