/* Internal to the many-user code (runtime/multiuser*.c) and its one caller in rt_run.c. */
#ifndef CLEAVE_RUNTIME_MULTIUSER_INTERNAL_H
#define CLEAVE_RUNTIME_MULTIUSER_INTERNAL_H

#include "cleave/multiuser.h"
#include "cleave/runtime.h"

/* Per-user latency and waiting, planner users' placements, per-node load (stdout). */
void cl__mu_print_table(const cl_testbed *tb, const cl_mu *mu);
/* cl_rt_run on a testbed with users (su->users_tb): every user's inferences run for real
 * on the ranks of its plan; rank 0 composes the multi-user virtual clock. Collective;
 * statuses as cl_rt_run (CL_ERR_ABORTED: the caller ends the job). */
cl_status cl__rt_run_users(MPI_Comm comm, const cl_rt_setup *su, const cl_rt_opts *opts);

#endif
