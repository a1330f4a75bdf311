/* MPI test: spatial execution with the MPI transport (rank d = device d) equals the
 * monolithic run, for random row splits (empty and 1-row slices included) in layer
 * (halo exchange) and fused modes, and for the CoEdge planner's own plans. */
#include <stdlib.h>
#include <string.h>

#include "cl_test_graph.h"
#include "cl_test_mpi.h"
#include "cleave/coedge.h"
#include "cleave/spatial.h"

/* Run plan p over comm; every rank checks its part, the sink the output. */
static void run_plan(const cl_graph *g, cl_exec *e, const cl_spatial_plan *p, MPI_Comm comm,
                     float *y, const char *what) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  cl_spatial_exec *se = cl_test_mpi_spatial_run(g, e, p, comm, y, what);
  if (!se) return;
  /* a rank that computed rows measured compute time; the others none */
  if (rank < p->n_dev) {
    int rows = 0;
    for (int i = 1; i < p->n_nodes; i++) rows += !cl_box_empty(p->box[(size_t)i * p->n_tasks + rank]);
    CL_CHECK((cl_spatial_exec_compute_seconds(se, rank) > 0) == (rows > 0));
  }
  cl_spatial_exec_destroy(se);
}

static void check(const char *model, MPI_Comm comm, int trials, uint64_t seed) {
  int rank, size;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  cl_graph *g = cl_test_zoo(model, 9);
  if (!g) return;
  int64_t out_n = cl_shape_numel(cl_graph_node(g, cl_graph_output(g))->out);
  cl_exec *e = cl_test_reference(g, CL_BACKEND_AUTO, 4);
  if (!e) {
    cl_graph_destroy(g);
    return;
  }
  int first, last;
  CL_CHECK_OK(cl_spatial_prefix(g, &first, &last));
  float *y = malloc(sizeof(float) * (size_t)out_n);
  uint64_t rng = seed; /* same sequence on every rank */
  char what[128];
  for (int trial = 0; trial < trials; trial++) {
    cl_spatial_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.first = first;
    spec.last = last;
    spec.mode = trial % 2 ? CL_SPATIAL_FUSED : CL_SPATIAL_LAYER;
    spec.n_dev = size;
    spec.source = (int)(cl_rng_next(&rng) % (uint64_t)size);
    spec.sink = trial % 3 == 2 ? -1 : (int)(cl_rng_next(&rng) % (uint64_t)size);
    int H = spec.mode == CL_SPATIAL_LAYER ? cl_graph_node(g, 0)->out.h : cl_graph_node(g, last)->out.h;
    int bounds[17] = {0};
    for (int d = 1; d < size && d < 16; d++) {
      int lo = bounds[d - 1], r = (int)(cl_rng_next(&rng) % 3);
      bounds[d] = r == 0 ? lo : r == 1 ? (lo < H ? lo + 1 : H) : lo + (int)(cl_rng_next(&rng) % (uint64_t)(H - lo + 1));
    }
    bounds[size] = H;
    cl_spatial_plan *p = NULL;
    CL_CHECK_OK(cl_spatial_plan_rows(g, &spec, bounds, H, &p));
    snprintf(what, sizeof what, "%s trial %d mode %d", model, trial, (int)spec.mode);
    if (p) run_plan(g, e, p, comm, y, what);
    cl_spatial_plan_destroy(p);
    MPI_Barrier(comm);
  }
  /* the CoEdge planner's plans (deterministic: FLOP-based host times on every rank) */
  double *host = cl_test_flop_seconds(g, 20e9);
  cl_coedge_device *dev = calloc((size_t)size, sizeof *dev);
  for (int d = 0; d < size; d++) {
    dev[d].name = "dev";
    dev[d].speed = d == 0 ? 0.1 : 0.3 * d;
    dev[d].p_comp = 5 + d;
    dev[d].p_idle = 1.5;
    dev[d].p_tx = dev[d].p_rx = 2;
  }
  for (int mode = 0; mode < 2; mode++) {
    cl_coedge_problem pb = {g, -1, -1, host, size, dev, 0, 50e6, 1e-3, 0, (cl_spatial_mode)mode, 0, 0};
    cl_coedge_result r;
    CL_CHECK_OK(cl_coedge_plan(&pb, CL_COEDGE_MINLAT, &r));
    snprintf(what, sizeof what, "%s minlat plan mode %d", model, mode);
    if (r.plan) run_plan(g, e, r.plan, comm, y, what);
    cl_coedge_result_fini(&r);
    MPI_Barrier(comm);
  }
  free(host);
  free(dev);
  free(y);
  cl_exec_destroy(e);
  cl_graph_destroy(g);
}

int main(int argc, char **argv) {
  MPI_Comm comm = cl_test_mpi_init(&argc, &argv);
  check("alexnet", comm, 6, 77);
  check("resnet18", comm, 4, 78);
  check("mobilenet_v1", comm, 4, 79);
  check("googlenet", comm, 2, 80);
  return cl_test_mpi_finish("mpi_coedge", comm);
}
