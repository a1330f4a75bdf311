/* Internal to the MPI runtime (runtime/rt_*.c, runtime/multiuser_run.c). */
#ifndef CLEAVE_RUNTIME_RT_INTERNAL_H
#define CLEAVE_RUNTIME_RT_INTERNAL_H

#include "cleave/runtime.h"
#include "cleave/store.h"

/* The run's output file (rank 0): atomic (a killed or failed run leaves nothing at the
 * path), refused if it exists unless opts->force. */
cl_status cl__rt_store_open(const cl_rt_opts *opts, cl_store **out);
/* /provenance of a run: command line, seed, resolved config, n_ranks = @p size. */
cl_status cl__rt_write_provenance(cl_store *store, const cl_rt_setup *su, const cl_rt_opts *opts, int size);

#endif
