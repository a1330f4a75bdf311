/** @file runtime.h
 *  @brief The MPI testbed runtime behind `cleave run` and the analytical simulator
 *  behind `cleave sim`: one rank per testbed node, real layers, real tensor
 *  messages, and a virtual clock computed by the deterministic timeline model
 *  (include/cleave/timeline.h) from the measured compute times.
 *
 *  Virtual clock: every executed step's thread CPU time x the node's effective
 *  slowdown is its virtual duration; transfers follow the netmodel; the timeline
 *  composes them (docs/timing-model.md). Wall clock: the same model realised with
 *  real waiting (CPU throttling by sleeping, links by delaying delivery).
 */
#ifndef CLEAVE_RUNTIME_H
#define CLEAVE_RUNTIME_H

#include <mpi.h>

#include "cleave/device.h"
#include "cleave/graph.h"
#include "cleave/netmodel.h"
#include "cleave/timeline.h"

/** One emulated node as the runtime sees it (resolved from the testbed config). */
typedef struct cl_rt_node {
  char name[64];
  char tier[16];
  double slowdown;     /* effective: speed factor x condition factors */
  double speed;        /* configured speed factor alone */
  double cpu_load;     /* fraction of the node's cores busy with background work */
  double mem_pressure; /* fraction of the memory cap touched by background work */
  double memory;       /* memory cap (bytes), 0 = none given */
  int threads;
  cl_node_power power;
  char device[64];     /* `device:` model name ("" = none; docs/devices.md) */
  int speed_override;  /* 1: a device node whose `speed:` overrides its per-layer factors */
  int dvfs;            /* DVFS state the device model was scaled to, -1 nominal (device nodes) */
} cl_rt_node;

/** Everything a run needs, resolved. Owned by the caller; cl_rt_setup_free releases it. */
typedef struct cl_rt_setup {
  char model[256];
  int n_nodes;
  cl_rt_node *nodes;
  cl_netmodel *net;    /* links between node indices */
  int *node_of_layer;  /* [graph size] testbed node of every graph node */
  int inferences;
  cl_arrival arrival;
  uint64_t seed;
  int wall;            /* 1: wall-clock mode */
  int model_clock;     /* 1: clock: model (device nodes charged their device model's time) */
  int backend;         /* cl_backend of every rank's executor (testbed key backend) */
  char *config_text;   /* fully resolved config (provenance) */
  char *config_path;
  char *profile;       /* the config's `profile:` (per-layer host times for the virtual clock), or NULL */
  /* Device models (docs/devices.md), all NULL when no node says `device:`. */
  cl_device *device_models; /* [n_nodes] the node's device model (name "" if none) */
  cl_device *host_models;   /* [n_nodes] this host's calibration for the node's backend + threads */
  double *layer_device_s;   /* [graph size] modelled seconds of every graph node on its node's device */
  double *layer_host_s;     /* [graph size] ... on this host (per-layer calibration, or the class
                               model with CLEAVE_CALIB_LAYERS=0); 0 without a device */
  int host_layers;          /* 1: layer_host_s from cl_calib_layers */
  struct cl_testbed *users_tb; /* the parsed testbed when it has `users:` (cl_rt_run then runs
                                  every user: runtime/multiuser_run.c), else NULL; owned */
} cl_rt_setup;

void cl_rt_setup_free(cl_rt_setup *su);

/** Effective slowdown of a node from its speed factor and background conditions:
 *  speed x (1 + cpu_load) x (1 + CL_RT_MEM_COEF x mem_pressure). See docs/timing-model.md. */
#define CL_RT_MEM_COEF 0.25
double cl_rt_effective_slowdown(double speed, double cpu_load, double mem_pressure);

/** Executor steps of every node (plan-only) and the task graph on the timeline. */
typedef struct cl_rt_tasks {
  int n_nodes;
  int *n_steps;        /* [n_nodes] */
  int **step_node;     /* [node][step] first graph node */
  int **step_out;      /* [node][step] output graph node */
  char ***step_label;  /* [node][step] */
  int64_t **step_macs; /* [node][step] */
  int *node_step;      /* [graph size] flat step that computes each graph node */
  int *step_off;       /* [n_nodes] offset of each node's steps in a flat step index */
  int steps_total;
  int n_xfer;          /* crossing tensors per inference */
  int *xfer_node, *xfer_src, *xfer_dst, *xfer_link; /* [n_xfer] producer, src node, dst node, link */
  int64_t *xfer_bytes;
  int inferences;
  double **step_slowdown; /* [node][step] slowdown charged to the step: the node's effective
                             slowdown, or for a device node (device / host time of the step's
                             layers) x the condition factors */
  double **step_model_host; /* [node][step] with clock: model, the calibrated host seconds of a
                               device step's layers, charged instead of the measured time (so
                               the step costs its device model's time); 0 elsewhere */
  int *comp_task;      /* [inferences * steps_total]: timeline task of (inference, flat step) */
  int *xfer_task;      /* [inferences * n_xfer] */
} cl_rt_tasks;

/** @brief Build the step lists and a timeline with every compute and transfer task of
 *  every inference; compute durations are set to 0 (fill with cl_timeline_set_duration).
 *  Fails with a clear message when a tensor must cross between two nodes without a link. */
cl_status cl_rt_build(const cl_graph *g, const cl_rt_setup *su, cl_rt_tasks *tasks, cl_timeline **tl);
void cl_rt_tasks_free(cl_rt_tasks *t);
/** @brief Virtual seconds charged to step @p k of node @p nd whose host time was
 *  @p measured (measured CPU time or a profile's median): measured x the step's slowdown,
 *  or with clock: model on a device node the device model's time (x the conditions). */
static inline double cl_rt_step_charge(const cl_rt_tasks *t, int nd, int k, double measured) {
  double h = t->step_model_host && t->step_model_host[nd][k] > 0 ? t->step_model_host[nd][k] : measured;
  return h * t->step_slowdown[nd][k];
}

struct cl_mu_plan_req; /* include/cleave/multiuser.h */

/** Options of a run. */
typedef struct cl_rt_opts {
  const char *out_path; /* HDF5 output (rank 0 writes it), or NULL */
  int force;
  int verify;           /* compare the output with a monolithic run on the output rank */
  int quiet;
  int argc;
  char **argv;
  /* Compute durations from this profile's per-layer medians (x slowdown) instead of
   * the measured thread CPU times: reruns are then bit-identical and equal `cleave sim`. */
  const char *profile;
  /* Write the first inference's output tensor (raw little-endian float32, as `cleave
   * infer --save-output`) from the rank that computes it, or NULL. */
  const char *save_output;
  /* Every inference's input tensor from this raw little-endian float32 file (as `cleave
   * infer --input`; the input rank reads it, and the output rank for --verify), or NULL:
   * the input seeded from the testbed's seed. */
  const char *input;
  /* Wall clock: refuse (instead of warning) when a step of a node is faster than this
   * host can run it (slowdown < 1 cannot be realised by sleeping). */
  int strict;
  /* Testbeds with users: the planner hook for `planner:` users (cl_plan_users_hook of
   * cleave_sim; multiuser.h cl_mu_plan_fn), or NULL (then planner users are refused). */
  cl_status (*plan_users)(const struct cl_mu_plan_req *req, int *machine_of_layer);
} cl_rt_opts;

/** @brief Run the testbed on @p comm (rank r = node r; ranks >= n_nodes idle).
 *  Collective. Returns CL_OK on every rank or an error on every rank, except
 *  CL_ERR_ABORTED: this rank failed during the inferences while the others may be
 *  blocked waiting for it; the caller must end the job (MPI_Abort; library code never does). */
cl_status cl_rt_run(MPI_Comm comm, const cl_rt_setup *su, const cl_rt_opts *opts);

#endif

/* ---- analytical simulation (cleave sim) ---- */

/** @brief Per-graph-node host seconds from a cleave profile file (/profile/layers):
 *  each profiled step's thread-CPU median (wall median for profiles without it) is
 *  attributed to its first graph node. The profile
 *  must be of the same model. @p t has cl_graph_size(g) entries. */
cl_status cl_rt_node_times_from_profile(const char *path, const cl_graph *g, double *t);
/** @brief cl_rt_node_times_from_profile after checking the profile against the testbed:
 *  its model must be su->model and its backend su->backend's, its rows the model's
 *  executor steps; otherwise a clear error and CL_ERR_INVALID. */
cl_status cl_rt_node_times_for_setup(const char *path, const cl_rt_setup *su, const cl_graph *g, double *t);

/** @brief Per-graph-node host seconds measured now (cl_profiler_measure, thread-CPU medians). */
cl_status cl_rt_node_times_measure(cl_graph *g, uint64_t seed, int reps, double *t);

/** @brief Predict a plan: builds the task graph, sets each step's duration to the sum of
 *  its nodes' host times x the node's slowdown, runs the timeline. Caller frees both. */
cl_status cl_rt_simulate(const cl_graph *g, const cl_rt_setup *su, const double *node_time, cl_rt_tasks *tasks,
                         cl_timeline **tl);

/* ---- testbed configs (YAML; see docs/config.md) ---- */

/** @brief Load a testbed config (schema: include/cleave/testbed.h, docs/config.md) into
 *  @p su: resolved slowdowns, the link model, the plan resolved against the model's
 *  graph. @p text NULL: read @p path; otherwise @p path names the text in messages and
 *  anchors relative paths. Errors: one line with file:line and field, CL_ERR_CONFIG. */
cl_status cl_rt_setup_load(const char *path, const char *text, cl_rt_setup *su);

/** @brief Why `clock: model` (or `cleave run --clock model`) cannot charge this setup, or
 *  NULL when it can: every inference follows one plan (no `users:`) and at least one
 *  node is a device model. Shared by the config check and the command-line override. */
const char *cl_rt_model_clock_refusal(int has_users, int has_device_models);


struct cl_testbed;
struct cl_store;

/* ---- device models in the runtime (runtime/rt_device.c, docs/devices.md) ---- */

/** @brief The device model of node @p nd of @p tb (its `device:`, at its `dvfs:` state
 *  if given). Errors name the config file and line (CL_ERR_CONFIG); CL_ERR_INVALID
 *  without a message for a node without `device:`. */
cl_status cl_tb_node_device(const struct cl_testbed *tb, int nd, cl_device *d);
/** @brief Resolve the `device:` of every node of @p tb for graph @p g: loads the device
 *  models and this host's calibration (cl_calib_get), fills su->layer_device_s /
 *  layer_host_s, sets each device node's speed to its whole-plan factor (unless `speed:`
 *  overrides it) and its power from the device when the config gives none. Call it
 *  again after changing su->node_of_layer (e.g. a planner's placement): the tables hold
 *  each layer's times on the node it is placed on. */
cl_status cl_rt_setup_devices(const struct cl_testbed *tb, const cl_graph *g, cl_rt_setup *su);
/** @brief Slowdown of the step of node @p nd made of graph nodes @p nodes[0..n). */
double cl_rt_step_slowdown(const cl_rt_setup *su, int nd, const int *nodes, int n);
/** @brief Wall-clock honesty: steps whose slowdown is below 1 cannot be realised by
 *  sleeping (the host is slower than the emulated node for them). Logs a warning naming
 *  the nodes (an error with @p strict, CL_ERR_CONFIG) and returns the count in *n_fast. */
cl_status cl_rt_check_wall(const cl_rt_setup *su, const cl_rt_tasks *t, int strict, int *n_fast);
/** @brief Provenance of the device models: /devices/steps (one row per step of a device
 *  node: device and host seconds, factor) and attributes on /devices: every device
 *  model and host calibration as YAML, speed overrides, unrealisable wall steps. */
cl_status cl_rt_write_devices(struct cl_store *st, const cl_rt_setup *su, const cl_rt_tasks *t, int n_fast);

/** @brief Host fp32 GFLOP/s on one thread (sgemm 512^3, median of 5), for speed: {gflops: X}. */
double cl_rt_host_gflops(void);
