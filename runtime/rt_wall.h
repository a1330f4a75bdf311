/* Wall-clock mode of `cleave run` (runtime/rt_wall.c, runtime/rt_clock.c): the network
 * model realised with real waiting, and one time base across hosts. Internal to the
 * runtime; docs/runtime.md ("Wall clock") and docs/network.md ("Wall mode").
 *
 * Times: "global" seconds are rank 0's CLOCK_MONOTONIC (cl_wall_now() on rank 0); every
 * rank converts with its measured offset (global = local + offset). "Engine" seconds are
 * global - t0, the virtual time of the link model's schedules (traces, conditions). */
#ifndef CLEAVE_RUNTIME_RT_WALL_H
#define CLEAVE_RUNTIME_RT_WALL_H

#include <mpi.h>

#include "cleave/partition.h"
#include "cleave/runtime.h"
#include "cleave/store.h"

typedef struct cl__wall cl__wall;

/** Collective over @p comm. Measures every rank's clock offset to rank 0 (ping-pong,
 *  min RTT), decides whether transfers need the network arbiter (max-min links, shared
 *  media or hops shared by several routes: one link model must see every transfer) and
 *  sets it up. @p tasks: this rank's task lists (NULL on ranks >= n_nodes). */
cl_status cl__wall_create(MPI_Comm comm, const cl_rt_setup *su, const cl_rt_tasks *tasks, cl__wall **out);
/** Stops the arbiter if still running; resets an injected clock skew. NULL-safe. */
void cl__wall_destroy(cl__wall *w);
/** Collective: exchange one byte over every pair of ranks a tensor will use. */
cl_status cl__wall_warm_up(cl__wall *w);
/** Hooks for cl_part_run on a node rank (sends completed eagerly when tensors of @p g
 *  flow between ranks without a cycle). */
cl_part_hooks cl__wall_hooks(cl__wall *w, const cl_graph *g);
/** Collective: common start (global seconds) in *t0; starts the arbiter on rank 0. */
cl_status cl__wall_start(cl__wall *w, double *t0);
/** Collective: every transfer delivered; stops the arbiter. CL_ERR_MPI (on every rank)
 *  if a hook's MPI call failed on some rank. */
cl_status cl__wall_stop(cl__wall *w);
/** Collective barrier that sleeps while it waits (no spinning in MPI). */
cl_status cl__wall_barrier(cl__wall *w);
/** Global now, and an absolute sleep to a global time. */
double cl__wall_now(const cl__wall *w);
void cl__wall_sleep_until(const cl__wall *w, double global);
/** Seconds to add to this rank's cl_wall_now() readings to get global time. */
double cl__wall_offset(const cl__wall *w);
/** Delivered transfers of this rank: rows [inference, x, dst, send_start, model_arrival,
 *  actual_arrival] (global seconds). */
const double *cl__wall_arrivals(const cl__wall *w, int *n_rows);
/** Rank 0: /provenance attributes of the clock offsets and of the arbiter. */
cl_status cl__wall_write_provenance(const cl__wall *w, cl_store *st);

/* ---- clock offsets (runtime/rt_clock.c) ---- */

/** Result of the clock measurement, on rank 0 for every rank (elsewhere: own entry only). */
typedef struct cl__clock_sync {
  int n_ranks, rounds;
  double *offset; /* [n_ranks] s: rank 0's clock - rank r's clock (min-RTT round) */
  double *rtt;    /* [n_ranks] s: that round's RTT; |offset error| <= rtt / 2 */
  double skew;    /* s: injected fake skew of this rank (CLEAVE_CLOCK_FAKE_OFFSET), 0 if none */
  double applied; /* s: this rank's offset in use: 0 on rank 0's host (one CLOCK_MONOTONIC), else measured */
  double *applied_all; /* [n_ranks] on rank 0 */
} cl__clock_sync;

/** Collective: applies an injected skew for this rank (env CLEAVE_CLOCK_FAKE_OFFSET,
 *  "RANK:SECONDS[,RANK:SECONDS...]"), then measures offsets with @p rounds ping-pongs per
 *  rank (env CLEAVE_CLOCK_ROUNDS overrides). */
cl_status cl__clock_sync_run(MPI_Comm comm, int rounds, cl__clock_sync *out);
void cl__clock_sync_fini(cl__clock_sync *cs);

#endif
