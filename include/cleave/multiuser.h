/** @file multiuser.h
 *  @brief Many request sources on one testbed (`users:`), simulated analytically:
 *  each user has its own model, plan (a chain of compute nodes) and arrival process;
 *  users share the compute nodes (one FIFO server per node: a ready stage waits behind
 *  earlier-ready stages) and the network (routes; FIFO or max-min links). Every
 *  inference records its latency and its waiting time (queueing at nodes and links).
 *
 *  One timeline holds every user's inferences: stage s of a user's inference is a
 *  compute task on chain[s] (duration = the stage's per-layer host times x the node's
 *  slowdown; a `device:` node's slowdown is its device model / host calibration of the
 *  stage's layers, and its power the device's), followed by a transfer of the tensors that cross to chain[s+1] over the
 *  route between them. Semantics: docs/network.md.
 *
 *  Ownership: a cl_mu owns its netmodel, timeline, graphs and results.
 */
#ifndef CLEAVE_MULTIUSER_H
#define CLEAVE_MULTIUSER_H

#include "cleave/device.h"
#include "cleave/plan.h" /* cl_plan_machine, cl_plan_link (types only: runtime calls no planner) */
#include "cleave/testbed.h"
#include "cleave/timeline.h"

/** What a user's planner is asked (`planner:` users): the user's model, its nodes as
 *  machines (machine 0 = the source; speed = 1 / the node's slowdown, seconds unset), the
 *  routes between them as links (latency and bottleneck bandwidth at t = 0), and the load
 *  the multi-user simulation measured at those nodes. All borrowed. */
typedef struct cl_mu_plan_req {
  const char *planner;
  const cl_graph *g;
  const double *host_time; /**< [graph size] host s per graph node */
  int n_machines;
  const cl_plan_machine *machines;
  int n_links;
  const cl_plan_link *links;
  const double *load_factor; /**< [n_machines] or NULL (cl_plan_input.load_factor) */
  const double *wait_s;      /**< [n_machines] or NULL (cl_plan_input.wait_s) */
  double arrival_rate;       /**< the user's requests/s */
  int mode;                  /**< cl_plan_mode */
} cl_mu_plan_req;
/** A planner hook (the planners live in cleave_sim: cl_plan_users_hook, plan.h): writes
 *  each graph node's machine index (into req->machines) to @p machine_of_layer. */
typedef cl_status (*cl_mu_plan_fn)(const cl_mu_plan_req *req, int *machine_of_layer);

typedef struct cl_mu_opts {
  const char *profile; /**< per-layer host times of the testbed's model (cleave profile), or NULL */
  int reps;            /**< repetitions when measuring a model's layer times (>= 1) */
  double layer_time;   /**< > 0: every graph node takes this many host s (tests, benchmarks:
                            no measuring); 0 = from the profile or measured */
  cl_mu_plan_fn plan;  /**< planner hook for `planner:` users (NULL: such users are an error) */
  int rounds;          /**< re-planning rounds with the measured load (<= 0: 4) */
  /** Optional measured stage times (`cleave run`): host s of user @p user's inference @p k
   *  on node @p node (the sum of its steps there); NULL = from the layer times. */
  double (*stage_host)(void *ctx, int user, int k, int node);
  void *stage_ctx;
  double host_gflops;  /**< > 0: every graph node takes flops / (host_gflops * 1e9) host s
                            (deterministic sweeps); ignored when layer_time > 0 */
  const int *const *fixed; /**< optional [users]: a user's graph node -> testbed node placement
                                used as is (no plan resolution, no planner; `cleave run`
                                replays what its planning chose); NULL entries: as usual */
} cl_mu_opts;

typedef struct cl_mu_user_stats {
  int inferences, stages;
  double lat_mean, lat_p50, lat_p95, lat_max; /**< s */
  double wait_mean;                           /**< s: per inference, sum over its tasks of start - ready */
  double lat_p99;                             /**< s */
} cl_mu_user_stats;

/** Load state of one compute node after the simulation (what planner users see). */
typedef struct cl_mu_node_load {
  int tasks;
  double wait_mean; /**< s: mean start - ready of its compute tasks */
  double util;      /**< busy time / makespan */
} cl_mu_node_load;

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
/** @brief Graph node -> testbed node placement of user @p user (borrowed; its model's
 *  graph size entries; *n receives it), or NULL for a bad index. */
const int *cl_mu_user_layers(const cl_mu *mu, int user, int *n);
/** @brief The user's chain as text, e.g. "dev05 (13 layers) -> edge1 (48 layers)" (borrowed). */
const char *cl_mu_user_chain_text(const cl_mu *mu, int user);
/** @brief Simulation rounds run (1 + re-planning rounds; 1 without planner users) and
 *  whether the planner users' placements stopped changing (*converged, may be NULL). */
int cl_mu_rounds(const cl_mu *mu, int *converged);
/** @brief The device model of compute node @p node (`device:`; NULL for a node without
 *  one) and, in *host (may be NULL), this host's calibration its stages were charged
 *  against (NULL when a `speed:` override replaced the device's speed). Borrowed. */
const cl_device *cl_mu_node_device(const cl_mu *mu, int node, const cl_device **host);
/** @brief Load state of compute node @p node in the final round. */
cl_status cl_mu_node_load_get(const cl_mu *mu, int node, cl_mu_node_load *out);

/** @brief `cleave sim` on a testbed with users: prints per-user latency and waiting and
 *  per-node load. Returns -1 when the testbed has no users (not handled), else an exit
 *  code (0 ok, 1 runtime failure, 2 bad input). */
int cl_mu_cmd_sim(const char *path, const char *profile, int reps, int csv, cl_mu_plan_fn plan);

#endif
