/* Scaffolding shared by the MPI tests (tests/mpi_*.c): start-up with a duplicated
 * communicator that returns errors, the spatial run checked at the sink, and the
 * failure tally summed over all ranks. Header-only, like cl_test.h. */
#ifndef CL_TEST_MPI_H
#define CL_TEST_MPI_H

#include <mpi.h>

#include "cl_test_exec.h"
#include "cleave/spatial_exec.h"

/** MPI_Init, then a duplicate of MPI_COMM_WORLD whose errors return (the style:
 *  never MPI_COMM_WORLD below main). Free it with cl_test_mpi_finish(). */
static inline MPI_Comm cl_test_mpi_init(int *argc, char ***argv) {
  MPI_Init(argc, argv);
  MPI_Comm comm;
  MPI_Comm_dup(MPI_COMM_WORLD, &comm);
  MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
  return comm;
}

/** Print this rank's tally and (rank 0) the failures summed over all ranks, free
 *  @p comm, MPI_Finalize. Returns the exit code: 1 if any rank failed a check. */
static inline int cl_test_mpi_finish(const char *name, MPI_Comm comm) {
  int fails = cl_test_failures, total = 0, rank;
  MPI_Allreduce(&fails, &total, 1, MPI_INT, MPI_SUM, comm);
  MPI_Comm_rank(comm, &rank);
  if (rank == 0) printf("%s: %d failures over all ranks\n", name, total);
  cl_test_finish(name);
  MPI_Comm_free(&comm);
  MPI_Finalize();
  return total ? 1 : 0;
}

/** Run spatial plan @p p over @p comm (rank d = device d) from the input of the
 *  reference run @p e, read by the source rank only; the sink checks the output
 *  (written to @p y, the graph output's size) against @p e within 1e-5 relative,
 *  naming @p what on failure. Returns the executor for further checks (the caller
 *  destroys it), NULL (and a failed check) if it could not be created. */
static inline cl_spatial_exec *cl_test_mpi_spatial_run(const cl_graph *g, cl_exec *e,
                                                       const cl_spatial_plan *p, MPI_Comm comm,
                                                       float *y, const char *what) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  const int out = cl_graph_output(g);
  const int64_t out_n = cl_shape_numel(cl_graph_node(g, out)->out);
  cl_spatial_exec *se = NULL;
  CL_CHECK_OK(cl_spatial_exec_create(g, p, comm, &se));
  if (!se) return NULL;
  memset(y, 0, sizeof(float) * (size_t)out_n);
  CL_CHECK_OK(cl_spatial_exec_run(se, rank == p->source ? cl_exec_buffer(e, 0) : NULL, y));
  if (rank == p->sink) {
    double err = cl_test_rel_err(y, cl_exec_buffer(e, out), out_n);
    if (!(err <= 1e-5)) fprintf(stderr, "%s: rel err %g\n", what, err);
    CL_CHECK(err <= 1e-5);
  }
  return se;
}

#endif
