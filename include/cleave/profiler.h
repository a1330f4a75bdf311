/** @file profiler.h
 *  @brief Per-layer profiler: times every executor step (fused layer) and every
 *  cut block of a model on this host, keeps every repetition, summarises with GSL,
 *  and writes /profile/{layers,blocks,samples} through the record store.
 *
 *  Timing: each step is timed alone (monotonic wall clock and thread CPU time)
 *  inside full inferences, so caches see realistic neighbours. Block times are the
 *  per-repetition sums of their steps. Times are multiplied by opts.slowdown.
 *  Ownership: results are owned by the caller (cl_profile_result_free).
 */
#ifndef CLEAVE_PROFILER_H
#define CLEAVE_PROFILER_H

#include <stdint.h>

#include "cleave/exec.h"
#include "cleave/graph.h"
#include "cleave/store.h"

typedef struct cl_profiler_opts {
  int reps;        /* timed repetitions (default 10) */
  int warmup;      /* untimed inferences first (default 2) */
  int threads;     /* BLAS/kernel threads (default 1) */
  int fuse;        /* profile fused steps (default 1) */
  cl_backend backend; /* kernel backend (default AUTO; recorded in /profile) */
  double slowdown; /* multiply all times (default 1) */
  uint64_t seed;   /* weights and input seed (default 1) */
} cl_profiler_opts;

cl_profiler_opts cl_profiler_opts_default(void);

/** Summary statistics of one series (seconds). ci = 95% distribution-free CI of the median. */
typedef struct cl_stat_summary {
  double mean, median, std, min, max, p5, p95, ci_lo, ci_hi;
} cl_stat_summary;

/** @brief Summarise n samples (copied and sorted internally). */
void cl_stat_summarise(const double *x, int n, cl_stat_summary *out);
/** @brief Median of @p n samples (mean of the middle two for even n; 0 for n <= 0).
 *  Sorts @p x in place. */
double cl_stat_median(double *x, int n);

typedef struct cl_profile_result {
  int n_steps, reps;
  cl_exec_step *steps;  /* copies of the executor's step descriptors (nodes[] owned here) */
  double *wall;         /* [reps * n_steps] seconds (already x slowdown) */
  double *cpu;          /* [reps * n_steps] thread CPU seconds (x slowdown) */
  int n_blocks;
  int *block_first, *block_last; /* step ranges [first, last] of each cut block */
  int *step_block;      /* [n_steps] */
  double gflops;        /* 2*MACs / median inference time */
} cl_profile_result;

/** @brief Profile graph @p g (weights must be initialised). */
cl_status cl_profiler_measure(const cl_graph *g, const cl_profiler_opts *opts, cl_profile_result **out);
void cl_profile_result_free(cl_profile_result *r);

/** @brief Write /profile/layers, /profile/blocks, /profile/samples and attributes. */
cl_status cl_profiler_write(cl_store *st, const char *model, const cl_graph *g, const cl_profiler_opts *opts,
                            const cl_profile_result *r);

#endif
