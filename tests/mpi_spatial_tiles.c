/* MPI test: grid-tile execution (DeepThings fused tiles) with the MPI transport, rank d
 * = device d, equals the monolithic run: random grids (1x1 .. 4x4) with several tiles
 * per rank, random source and sink, on ResNet-18 and GoogLeNet rebuilt at odd input
 * sizes (whole spatial part) and AlexNet at its own size with the tail on the sink. */
#include <stdlib.h>
#include <string.h>

#include "cl_test_mpi.h"
#include "cleave/spatial.h"

/* @p model with weights from seed 9: the whole model at its own size (h <= 0) or its
 * spatial part rebuilt on an h x w input. */
static cl_graph *build(const char *model, int h, int w) {
  if (h <= 0) return cl_test_zoo(model, 9);
  cl_graph *src = NULL, *g = NULL;
  if (cl_zoo_build(model, &src) != CL_OK) return NULL;
  int first, last;
  if (cl_spatial_prefix(src, &first, &last) == CL_OK) {
    cl_shape in = cl_graph_node(src, 0)->out;
    in.h = h;
    in.w = w;
    g = cl_test_rebuild(src, last, in, 9);
  }
  cl_graph_destroy(src);
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
  cl_exec *e = cl_test_reference(g, CL_BACKEND_PORTABLE, 4);
  if (!e) {
    cl_graph_destroy(g);
    return;
  }
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
    char what[128];
    snprintf(what, sizeof what, "%s trial %d %dx%d tiles", model, trial, gr, gc);
    cl_spatial_exec *se = p ? cl_test_mpi_spatial_run(g, e, p, comm, y, what) : NULL;
    if (se) {
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
  MPI_Comm comm = cl_test_mpi_init(&argc, &argv);
  check("resnet18", 61, 53, comm, 4, 91);
  check("googlenet", 71, 57, comm, 3, 92);
  check("alexnet", 0, 0, comm, 2, 93);
  return cl_test_mpi_finish("mpi_spatial_tiles", comm);
}
