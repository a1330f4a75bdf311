/** @file sweep.h
 *  @brief Experiments (`cleave sweep`): a YAML experiment expands into points (one
 *  resolved config each, id = SHA-256 of its text) that are evaluated once, by a
 *  dynamic MPI work queue, into one HDF5 file written by rank 0 and flushed after every
 *  point (so a killed sweep loses at most the points in flight and `--resume` skips
 *  the rest). Format and semantics: docs/experiments.md.
 *
 *  Ownership: a cl_sweep_exp owns its parsed experiment, base testbed text and point
 *  table; point texts returned by cl_sweep_point_text() are malloc'd for the caller.
 */
#ifndef CLEAVE_SWEEP_H
#define CLEAVE_SWEEP_H

#include <mpi.h>
#include <stdint.h>

#include "cleave/runtime.h"
#include "cleave/status.h"

#define CL_SWEEP_MAX_FACTORS 8

typedef struct cl_sweep_exp cl_sweep_exp;
/** An experiment kind (include/cleave/sweep_kind.h). */
typedef struct cl_sweep_kind_i cl_sweep_kind_i;

/** Options of cl_sweep_load (zero = defaults). */
typedef struct cl_sweep_load_opts {
  long sample;       /* > 0: seeded random sample of this many points (overrides the file) */
  int has_seed;      /* seed below overrides the file's seed */
  uint64_t seed;
  /** Kinds the file may name, NULL-terminated; NULL = those of cleave_runtime (testbed,
   *  adaptive). `cleave sweep` passes cl_sweep_kinds_all(). */
  const cl_sweep_kind_i *const *kinds;
} cl_sweep_load_opts;

/** @brief Parse an experiment file and resolve every point (ids included). Every error
 *  (unknown key, unknown factor target, empty level list, bad unit, unknown model, plan
 *  that does not resolve) is reported as FILE:LINE:COL before anything runs;
 *  CL_ERR_CONFIG. Caller owns *out (cl_sweep_exp_destroy). */
cl_status cl_sweep_load(const char *path, const cl_sweep_load_opts *opts, cl_sweep_exp **out);
void cl_sweep_exp_destroy(cl_sweep_exp *e);

/** The experiment's kind name ("testbed", "adaptive", "coedge", "plan"). */
const char *cl_sweep_exp_kind_name(const cl_sweep_exp *e);
/** Points selected (after sampling). */
int cl_sweep_n_points(const cl_sweep_exp *e);
/** Hex SHA-256 id of point @p i (static storage owned by @p e). */
const char *cl_sweep_point_id(const cl_sweep_exp *e, int i);
/** @brief Resolved config text of point @p i (malloc'd; caller frees). For kind testbed
 *  this is a complete testbed config that `cleave run` accepts. */
char *cl_sweep_point_text(const cl_sweep_exp *e, int i);
/** Name given to point texts in messages and for relative paths (the base testbed path). */
const char *cl_sweep_point_origin(const cl_sweep_exp *e);

/** Result of one testbed point evaluated in-process (cl_sweep_eval_testbed). */
/** One executed layer (executor step) of one inference of a testbed point. */
typedef struct cl_sweep_tb_layer {
  int32_t inference, node, step, out_node;
  double start, duration; /* s, virtual */
  double slowdown;        /* factor charged to the step */
  double power;           /* W, busy power of the node */
  double energy;          /* J, power x duration */
} cl_sweep_tb_layer;

typedef struct cl_sweep_tb_result {
  int inferences;
  double latency_mean, latency_median, latency_max; /* s, virtual */
  double makespan;                                  /* s */
  double energy;                                    /* J, whole run */
  double *latency, *release, *finish, *inf_energy;  /* [inferences] */
  uint64_t *inf_bytes;                              /* [inferences] */
  /* The five per-inference columns share one block (cl_sweep_tb_result_free frees it). */
  int n_layers;               /* inferences x executor steps */
  cl_sweep_tb_layer *layers;  /* [n_layers], inference-major (freed by cl_sweep_tb_result_free) */
} cl_sweep_tb_result;
void cl_sweep_tb_result_free(cl_sweep_tb_result *r);

/** Called between executor steps so rank 0 can serve the queue while it computes. */
typedef void (*cl_sweep_poll_fn)(void *ctx);

/** @brief Evaluate a testbed config in-process: one executor per node over its layers
 *  (real kernels, tensors copied across cuts), every step's thread CPU time x the node's
 *  effective slowdown, composed by cl_rt_build + the timeline: the virtual-clock model of
 *  cl_rt_run without MPI. @p origin names the text (relative paths, messages). */
cl_status cl_sweep_eval_testbed(const char *origin, const char *text, cl_sweep_poll_fn poll, void *poll_ctx,
                                cl_sweep_tb_result *res);

/** Resolved condition of an adaptive point: node 0 = edge, node 1 = cloud. */
typedef struct cl_sweep_condition {
  const char *model;  /* owned by the experiment */
  int threads[2];
  double cpu_load[2], mem_pressure[2], speed[2];
  double latency;     /* s, edge -> cloud */
  double bandwidth;   /* B/s */
  int reps, warmup;
  double mem_cap;     /* bytes */
  uint64_t seed;
} cl_sweep_condition;

/** @brief The condition of point @p i of an adaptive experiment (base testbed values with
 *  the point's factor levels applied). CL_ERR_INVALID for other kinds (no message). */
cl_status cl_sweep_adaptive_condition(const cl_sweep_exp *e, int i, cl_sweep_condition *out);

/** Options of a sweep run. */
typedef struct cl_sweep_opts {
  const char *out_path;
  int resume;            /* skip points already in out_path */
  int force;             /* overwrite out_path (not with resume) */
  int quiet;             /* no progress line */
  int argc;              /* command line for provenance */
  char **argv;
  /** Kinds workers may be sent (NULL-terminated); NULL = rank 0's experiment's table or,
   *  on workers, those of cleave_runtime. Must match the table rank 0 loaded with. */
  const cl_sweep_kind_i *const *kinds;
  /* filled by cl_sweep_run on rank 0 */
  int points_run, points_skipped, points_failed;
  uint64_t records;      /* records appended in this run (all tables) */
  double seconds;        /* wall time of the run */
} cl_sweep_opts;

/** @brief Run the sweep on @p comm (collective). Rank 0 must hold the loaded experiment;
 *  other ranks may pass NULL (they receive point texts with their work). Returns CL_OK
 *  when every point was evaluated (on rank 0; workers return CL_OK unless MPI failed).
 *  Every MPI call is checked (@p comm should be MPI_ERRORS_RETURN): a failure comes back
 *  as CL_ERR_MPI and the caller (apps/) decides how the job ends. */
cl_status cl_sweep_run(MPI_Comm comm, cl_sweep_exp *e, cl_sweep_opts *opts);

#endif
