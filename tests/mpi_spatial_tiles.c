/* MPI test: grid-tile execution (DeepThings fused tiles) with the MPI transport, rank d
 * = device d, equals the monolithic run: random grids (1x1 .. 4x4) with several tiles
 * per rank, random source and sink, on ResNet-18 and GoogLeNet rebuilt at odd input
 * sizes (whole spatial part) and AlexNet at its own size with the tail on the sink. */
#include <math.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "cl_test.h"
#include "cleave/exec.h"
#include "cleave/spatial.h"
#include "cleave/spatial_exec.h"
#include "cleave/zoo.h"

static cl_graph *build(const char *model, int h, int w) {
  cl_graph *src = NULL, *g = NULL;
  if (cl_zoo_build(model, &src) != CL_OK) return NULL;
  int first, last;
  if (h <= 0) { /* native size, whole model */
    g = src;
  } else if (cl_spatial_prefix(src, &first, &last) == CL_OK && cl_graph_create(model, &g) == CL_OK) {
    cl_shape in = cl_graph_node(src, 0)->out;
    in.h = h;
    in.w = w;
    for (int id = 0; id <= last && g; id++) {
      const cl_node *nd = cl_graph_node(src, id);
      int r = nd->op == CL_OP_INPUT
                  ? cl_graph_add_input(g, nd->name, in)
                  : cl_graph_add(g, nd->op, nd->name, nd->inputs, nd->n_inputs, &nd->p);
      if (r != id) {
        cl_graph_destroy(g);
        g = NULL;
      }
    }
    cl_graph_destroy(src);
  } else {
    cl_graph_destroy(src);
  }
  if (g && cl_graph_init_weights(g, 9) != CL_OK) {
    cl_graph_destroy(g);
    g = NULL;
  }
  return g;
}

static void check(const char *model, int h, int w, MPI_Comm comm, int trials, uint64_t seed) {
  int rank, size;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  cl_graph *g = build(model, h, w);
  CL_CHECK(g != NULL);
  if (!g) return;
  int out = cl_graph_output(g), first, last;
  CL_CHECK_OK(cl_spatial_prefix(g, &first, &last));
  int64_t out_n = cl_shape_numel(cl_graph_node(g, out)->out);
  cl_exec_opts o = cl_exec_opts_default();
  o.fuse = 0;
  o.backend = CL_BACKEND_PORTABLE;
  cl_exec *e = NULL;
  CL_CHECK_OK(cl_exec_create(g, &o, &e));
  cl_exec_fill_input(e, 4);
  CL_CHECK_OK(cl_exec_run(e));
  const cl_node *ln = cl_graph_node(g, last);
  float *y = malloc(sizeof(float) * (size_t)out_n);
  uint64_t rng = seed; /* same sequence on every rank */
  for (int trial = 0; trial < trials; trial++) {
    int gr = 1 + (int)(cl_rng_next(&rng) % (uint64_t)(ln->out.h < 4 ? ln->out.h : 4));
    int maxc = ln->out.w < 4 ? ln->out.w : 4; /* >= 2 columns: real tiles, not row strips */
    int gc = maxc >= 2 ? 2 + (int)(cl_rng_next(&rng) % (uint64_t)(maxc - 1)) : 1;
    int T = gr * gc, dev[16];
    cl_spatial_spec spec = {first, last, CL_SPATIAL_FUSED, size, 0, -1};
    spec.source = (int)(cl_rng_next(&rng) % (uint64_t)size);
    if (trial % 2) spec.sink = (int)(cl_rng_next(&rng) % (uint64_t)size);
    for (int k = 0; k < T; k++) dev[k] = (int)(cl_rng_next(&rng) % (uint64_t)size);
    cl_spatial_plan *p = NULL;
    CL_CHECK_OK(cl_spatial_plan_tiles(g, &spec, gr, gc, dev, &p));
    cl_spatial_exec *se = NULL;
    if (p) CL_CHECK_OK(cl_spatial_exec_create(g, p, comm, &se));
    if (se) {
      memset(y, 0, sizeof(float) * (size_t)out_n);
      CL_CHECK_OK(cl_spatial_exec_run(se, rank == p->source ? cl_exec_buffer(e, 0) : NULL, y));
      if (rank == p->sink) {
        const float *ref = cl_exec_buffer(e, out);
        double num = 0, den = 0;
        for (int64_t i = 0; i < out_n; i++) {
          num = fmax(num, fabs((double)y[i] - ref[i]));
          den = fmax(den, fabs((double)ref[i]));
        }
        if (!(num <= 1e-5 * den))
          fprintf(stderr, "%s trial %d %dx%d tiles: rel err %g\n", model, trial, gr, gc, num / den);
        CL_CHECK(num <= 1e-5 * den);
      }
      /* a rank with tiles measured compute time; the others none; MACs as planned */
      int tiles = 0;
      for (int t = 0; t < T; t++) tiles += p->task_dev[t] == rank;
      CL_CHECK((cl_spatial_exec_compute_seconds(se, rank) > 0) == (tiles > 0));
      for (int d = 0; d < size; d++) CL_CHECK_INT_EQ(cl_spatial_exec_macs(se, d), p->macs[d]);
    }
    cl_spatial_exec_destroy(se);
    cl_spatial_plan_destroy(p);
    MPI_Barrier(comm);
  }
  free(y);
  cl_exec_destroy(e);
  cl_graph_destroy(g);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm comm;
  MPI_Comm_dup(MPI_COMM_WORLD, &comm);
  MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
  check("resnet18", 61, 53, comm, 4, 91);
  check("googlenet", 71, 57, comm, 3, 92);
  check("alexnet", 0, 0, comm, 2, 93);
  int fails = cl_test_failures, total = 0, rank;
  MPI_Allreduce(&fails, &total, 1, MPI_INT, MPI_SUM, comm);
  MPI_Comm_rank(comm, &rank);
  if (rank == 0) printf("mpi_spatial_tiles: %d failures over all ranks\n", total);
  cl_test_finish("mpi_spatial_tiles");
  MPI_Comm_free(&comm);
  MPI_Finalize();
  return total ? 1 : 0;
}
