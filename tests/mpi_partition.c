/* MPI test: partitioned execution equals the monolithic run for many placements
 * (contiguous cuts, round-robin, random, both-direction traffic), over several
 * inferences. Run with mpiexec -n 3. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl_test_mpi.h"
#include "cleave/partition.h"

static void check_model(const char *model, MPI_Comm comm) {
  int rank, size;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  cl_graph *g = cl_test_zoo(model, 7);
  if (!g) return;
  int n = cl_graph_size(g);
  int out = cl_graph_output(g);
  int64_t out_n = cl_shape_numel(cl_graph_node(g, out)->out);
  float *ref = malloc(sizeof(float) * (size_t)out_n);
  /* Monolithic reference on every rank (cheap models only). */
  cl_exec *e = NULL;
  CL_CHECK_OK(cl_exec_create(g, NULL, &e));
  cl_exec_fill_input(e, 11);
  CL_CHECK_OK(cl_exec_run(e));
  memcpy(ref, cl_exec_buffer(e, out), sizeof(float) * (size_t)out_n);
  cl_exec_destroy(e);

  int cuts[4096];
  int nc = cl_graph_cut_points(g, cuts, 4096);
  int *rank_of = malloc(sizeof(int) * (size_t)n);
  uint64_t rng = 12345;
  for (int placement = 0; placement < 6; placement++) {
    for (int i = 0; i < n; i++) {
      switch (placement) {
        case 0: rank_of[i] = 0; break;                                    /* all on rank 0 */
        case 1: rank_of[i] = i < cuts[nc / 3] ? 0 : i <= cuts[2 * nc / 3] ? 1 : 2; break; /* 3-tier cut */
        case 2: rank_of[i] = i % size; break;                             /* round robin */
        case 3: rank_of[i] = (int)(cl_rng_next(&rng) % (uint64_t)size); break; /* random */
        case 4: rank_of[i] = (i / 3) % 2 ? 2 : 1; break;                  /* ping-pong 1<->2, input off rank 0 */
        default: rank_of[i] = size - 1 - (i * size) / n; break;           /* reversed contiguous */
      }
    }
    cl_part *p = NULL;
    CL_CHECK_OK(cl_part_create(g, rank_of, comm, 1, &p));
    if (!p) continue;
    for (int inf = 0; inf < 3; inf++) {
      CL_CHECK_OK(cl_part_run(p, inf, 11, NULL));
      const float *y = cl_part_output(p);
      if (y) {
        double err = cl_test_rel_err(y, ref, out_n);
        if (err > 1e-5) fprintf(stderr, "%s placement %d inference %d: rel err %g\n", model, placement, inf, err);
        CL_CHECK(err <= 1e-5);
      }
    }
    CL_CHECK_OK(cl_part_finish(p));
    int ns = 0;
    cl_part_samples(p, &ns);
    CL_CHECK_INT_EQ(ns, 3 * cl_exec_step_count(cl_part_exec(p)));
    cl_part_destroy(p);
    MPI_Barrier(comm);
  }
  free(rank_of);
  free(ref);
  cl_graph_destroy(g);
}

int main(int argc, char **argv) {
  MPI_Comm comm = cl_test_mpi_init(&argc, &argv);
  check_model("resnet18", comm);
  check_model("googlenet", comm);
  check_model("squeezenet1_1", comm);
  return cl_test_mpi_finish("mpi_partition", comm);
}
