/** @file multiuser.h
 *  @brief Many request sources on one testbed (`users:`), simulated analytically:
 *  each user has its own model, plan (a chain of compute nodes) and arrival process;
 *  users share the compute nodes (one FIFO server per node: a ready stage waits behind
 *  earlier-ready stages) and the network (routes; FIFO or max-min links). Every
 *  inference records its latency and its waiting time (queueing at nodes and links).
 *
 *  One timeline holds every user's inferences: stage s of a user's inference is a
 *  compute task on chain[s] (duration = the stage's per-layer host times x the node's
 *  slowdown), followed by a transfer of the tensors that cross to chain[s+1] over the
 *  route between them. Semantics: docs/network.md.
 *
 *  Ownership: a cl_mu owns its netmodel, timeline, graphs and results.
 */
#ifndef CLEAVE_MULTIUSER_H
#define CLEAVE_MULTIUSER_H

#include "cleave/testbed.h"
#include "cleave/timeline.h"

typedef struct cl_mu_opts {
  const char *profile; /**< per-layer host times of the testbed's model (cleave profile), or NULL */
  int reps;            /**< repetitions when measuring a model's layer times (>= 1) */
  double layer_time;   /**< > 0: every graph node takes this many host s (tests, benchmarks:
                            no measuring); 0 = from the profile or measured */
} cl_mu_opts;

typedef struct cl_mu_user_stats {
  int inferences, stages;
  double lat_mean, lat_p50, lat_p95, lat_max; /**< s */
  double wait_mean;                           /**< s: per inference, sum over its tasks of start - ready */
} cl_mu_user_stats;

typedef struct cl_mu cl_mu;

/** @brief Build and simulate every user of @p tb (tb->n_users >= 1). Caller owns *out. */
cl_status cl_mu_create(const cl_testbed *tb, const cl_mu_opts *o, cl_mu **out);
void cl_mu_destroy(cl_mu *mu);
/** @brief Per-user summary. */
cl_status cl_mu_user_stats_get(const cl_mu *mu, int user, cl_mu_user_stats *out);
/** @brief Inference @p k of user @p user: release, latency and waiting (s). */
cl_status cl_mu_inference(const cl_mu *mu, int user, int k, double *release, double *latency, double *wait);
/** @brief The simulated timeline (borrowed): per-node results, makespan. */
const cl_timeline *cl_mu_timeline(const cl_mu *mu);

/** @brief `cleave sim` on a testbed with users: prints per-user latency and waiting and
 *  per-node load. Returns -1 when the testbed has no users (not handled), else an exit
 *  code (0 ok, 1 runtime failure, 2 bad input). */
int cl_mu_cmd_sim(const char *path, const char *profile, int reps, int csv);

#endif
