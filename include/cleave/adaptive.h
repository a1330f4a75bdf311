/** @file adaptive.h
 *  @brief The adaptivity study ("the case for adaptive DNNs in edge computing",
 *  McNamee et al., IEEE CLOUD 2021, arXiv:2008.01814): per-layer profiles measured for
 *  real under background CPU load and memory use, and their composition with node
 *  speeds and network conditions into the latency of every edge/cloud cut.
 *
 *  Stress (cl_adaptive_stress_start): the calling thread is pinned to the CPU it runs
 *  on; cpu_load L starts `threads` burner threads on that CPU, each busy a fraction L of
 *  every 10 ms (so at L = 100% the profiled thread gets about half the core: the
 *  (1 + L) of cl_rt_effective_slowdown); mem_pressure M starts one thread that holds
 *  M x mem_cap bytes and rewrites them continuously, on the same CPU at idle priority
 *  (nice 19): it costs the profiled thread cache, TLB and memory bandwidth but, by CFS
 *  weights, under 2% of its CPU share, so CPU load and memory use stay separate factors.
 *
 *  Ownership: profiles and models are owned by the caller (the _free/_destroy calls).
 */
#ifndef CLEAVE_ADAPTIVE_H
#define CLEAVE_ADAPTIVE_H

#include <stddef.h>
#include <stdint.h>

#include "cleave/graph.h"
#include "cleave/status.h"
#include "cleave/sweep.h"
#include "cleave/timeline.h" /* cl_node_power */

typedef struct cl_adaptive_stress cl_adaptive_stress;

/** @brief Pin the calling thread and start the background load (see the file brief).
 *  Caller owns *out (cl_adaptive_stress_stop). */
cl_status cl_adaptive_stress_start(int threads, double cpu_load, double mem_pressure, double mem_cap_bytes,
                                   cl_adaptive_stress **out);
/** @brief Stop and free the load, restore the thread's CPU affinity; *burn_cpu (may be
 *  NULL) receives the CPU seconds the burners consumed. NULL-safe. */
void cl_adaptive_stress_stop(cl_adaptive_stress *s, double *burn_cpu);

/** Per-step times of one model under one CPU/memory condition. */
typedef struct cl_adaptive_profile {
  int n_steps, reps;
  double *wall; /* [reps * n_steps] s, monotonic wall time of each executor step */
  double *cpu;  /* [reps * n_steps] s, thread CPU time */
  double seconds;  /* wall time of the whole measurement */
  double burn_cpu; /* CPU seconds used by the burner threads */
  double started;  /* Unix time (CLOCK_REALTIME, s) when the measurement started */
} cl_adaptive_profile;
void cl_adaptive_profile_free(cl_adaptive_profile *p);

/** @brief Profile every executor step of @p g (weights initialised) @p reps times after
 *  @p warmup untimed inferences, under the given stress. @p poll is called between steps. */
cl_status cl_adaptive_profile_run(const cl_graph *g, int threads, double cpu_load, double mem_pressure,
                                  double mem_cap_bytes, int reps, int warmup, uint64_t seed, cl_sweep_poll_fn poll,
                                  void *poll_ctx, cl_adaptive_profile *out);

/** Step structure and cuts of one model (full-model executor steps, every_cut cuts). */
typedef struct cl_adaptive_model {
  int n_steps;
  int *step_node;     /* [n_steps] first graph node of each step */
  char **step_label;  /* [n_steps] */
  int n_cuts;
  int *cut_node;      /* [n_cuts] graph node after which the model is cut */
  char **cut_name;    /* [n_cuts] */
  int *cut_edge_steps;/* [n_cuts] steps run on the edge (a prefix of the step list) */
  int64_t *cut_bytes; /* [n_cuts] bytes sent edge -> cloud (0 when all runs on the edge) */
} cl_adaptive_model;

cl_status cl_adaptive_model_create(const char *model, cl_adaptive_model **out);
void cl_adaptive_model_destroy(cl_adaptive_model *m);

/** One condition: node speeds (virtual), the edge->cloud link (virtual) and the nodes'
 *  power models (all 0: no energy). */
typedef struct cl_adaptive_link {
  double edge_speed, cloud_speed; /* slowdown vs this host */
  double latency;   /* s */
  double bandwidth; /* B/s */
  cl_node_power power[2]; /* edge, cloud */
} cl_adaptive_link;

/** @brief Compose cut @p cut, repetition @p rep: edge steps take edge->wall x edge_speed,
 *  then the transfer (latency + bytes / bandwidth), then the cloud steps; the closed form
 *  of the timeline for one inference on a two-node chain. Per-step start times and
 *  durations go to @p start / @p dur (n_steps each, may be NULL); returns the latency and
 *  the three parts. */
double cl_adaptive_compose(const cl_adaptive_model *m, const cl_adaptive_profile *edge,
                           const cl_adaptive_profile *cloud, const cl_adaptive_link *lk, int cut, int rep,
                           double *start, double *dur, double *edge_s, double *xfer_s, double *cloud_s);

/** @brief Energy of one inference of the two-node chain: the timeline's accounting
 *  (runtime/energy.c) in closed form. Each node: busy power x its compute time, radio
 *  power x bytes / bandwidth (tx at the edge, rx at the cloud; plus the per-byte terms),
 *  and idle power for the rest of [0, latency] (the link latency is idle time on both).
 *  @p bytes 0 = all on the edge (no transfer). *edge_j, *cloud_j may be NULL. */
double cl_adaptive_energy(const cl_adaptive_link *lk, double edge_s, double cloud_s, int64_t bytes, double *edge_j,
                          double *cloud_j);

/** Summary of one cut under one condition over every composed repetition. */
typedef struct cl_adaptive_cut_stat {
  double latency, latency_mean, latency_min, latency_max; /* s: median, mean, min, max */
  double edge_s, xfer_s, cloud_s;                         /* s: medians */
  double energy, energy_edge;                             /* J: medians */
  double latency_spread, energy_spread; /* max - min over repeats of the per-repeat medians */
} cl_adaptive_cut_stat;

/** @brief Summarise cut @p cut over the profiles' repetitions, which are @p repeats
 *  repeats of reps / repeats each (repeat q = rows [q k, (q+1) k)). @p rep_lat and
 *  @p rep_energy ([repeats], may be NULL) receive the per-repeat medians. */
cl_status cl_adaptive_cut_summary(const cl_adaptive_model *m, const cl_adaptive_profile *edge,
                                  const cl_adaptive_profile *cloud, const cl_adaptive_link *lk, int cut, int repeats,
                                  cl_adaptive_cut_stat *out, double *rep_lat, double *rep_energy);

/** @brief The cut of lowest median latency (@p by_energy 0) or energy (1); first on ties. */
int cl_adaptive_best_cut(const cl_adaptive_cut_stat *s, int n_cuts, int by_energy);

/** @brief Validation of the composition: run the edge part (executor over the layers up
 *  to the cut) under the edge condition and the cloud part under the cloud condition
 *  for real, @p reps times each, and return the medians of their wall times (s, host). */
cl_status cl_adaptive_measure_parts(const char *model, int cut_node, int threads, double edge_cpu, double edge_mem,
                                    double cloud_cpu, double cloud_mem, double mem_cap_bytes, int reps, uint64_t seed,
                                    double *edge_wall, double *cloud_wall);

#endif
