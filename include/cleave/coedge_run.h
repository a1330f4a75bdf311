/** @file coedge_run.h
 *  @brief One CoEdge experiment point, executed for real: plan the spatial split
 *  with a planner (CoEdge LP or a baseline), run the spatial part with the real
 *  kernels on per-device row windows, measure each device's compute, and compose
 *  latency and energy with the devices' speeds/powers and the shared WLAN model.
 *  Used by `cleave sweep` for experiments of kind `coedge` (experiments/coedge.yaml).
 */
#ifndef CLEAVE_COEDGE_RUN_H
#define CLEAVE_COEDGE_RUN_H

#include <stdint.h>

#include "cleave/records.h"
#include "cleave/status.h"

typedef struct cl_coedge_point {
  const char *model;        /* zoo name */
  const char *planner;      /* a cl_coedge_planner name: coedge | fastest | equal | proportional |
                               tiles2x2 | tiles3x3 | minlat | local */
  const char *devices_path; /* devices YAML (configs/coedge.yaml) */
  double deadline_s;        /* latency deadline (s); <= 0: none */
  double bandwidth_Bps;     /* WLAN bandwidth (B/s); <= 0: the devices file's value */
  int mode;                 /* 0 layer (halo exchange), 1 fused (DeepThings) */
  int inferences;           /* inferences to execute (>= 1) */
  uint64_t seed;
} cl_coedge_point;

typedef struct cl_coedge_point_result {
  int feasible;         /* the deadline was met by the plan (or no deadline) */
  double latency;       /* s, per inference (median over inferences) */
  double energy;        /* J, per inference, all devices */
  double planned_latency, planned_energy; /* the planner's prediction */
  double plan_seconds;  /* planner run time (s) */
  int devices_used;
  char plan[256];       /* short description, e.g. "rows 0-55:pi0 56-223:tx2" */
} cl_coedge_point_result;

/** @brief Run one point (plans, executes, measures). Errors are logged with context.
 *  Grid-tile planners (tiles2x2, tiles3x3) run for real through the tile executor (each
 *  device's measured time over its tiles; res->plan "tiles 2x2 0,1:tx2 2,3:pc": tile
 *  indices, row-major, per device). The devices file's input_bytes_per_elem sets the
 *  input scatter's WLAN bytes; with 1 (or 2) the source's input is first rounded to 256
 *  levels (or fp16), the values an 8-bit (fp16) frame delivers, and executed in float32.
 *  local with a source of speed 0: CL_ERR_UNSUPPORTED. An unreachable deadline is not an
 *  error: the planner's minimum-latency plan runs and res->feasible is 0. */
cl_status cl_coedge_run_point(const cl_coedge_point *pt, cl_coedge_point_result *res);

/* ---- Adaptivity: the environment changes between inferences, the planner re-plans ---- */

/** One change of the environment, applied before inference @c at (0-based). */
typedef struct cl_coedge_event {
  int at;           /* inference index */
  int device;       /* device index, or -1: the WLAN */
  double value;     /* device: new speed factor (> 0); WLAN: new bandwidth (B/s) */
} cl_coedge_event;

/** @brief Parse a schedule "AT:NAME=SPEED,AT:bandwidth=BW,..." (e.g.
 *  "10:tx2=0.3,20:bandwidth=5Mbit/s"; device names from @p names[n_dev]). Caller frees
 *  *events. Events are sorted by @c at. */
cl_status cl_coedge_parse_schedule(const char *s, const char *const *names, int n_dev,
                                   cl_coedge_event **events, int *n_events);

/** Options of an adaptive run (pt->inferences inferences). */
typedef struct cl_coedge_adapt_opts {
  const cl_coedge_event *events;
  int n_events;
  int adapt;          /* 1: re-plan when observed speeds/bandwidth drift; 0: keep plan 0 */
  double threshold;   /* relative drift that triggers re-planning (<= 0: 0.15) */
  const char *out;    /* HDF5 file for /inferences records, or NULL */
  int force;          /* overwrite @c out */
  const char *config_text; /* stored as /provenance/config when non-NULL */
} cl_coedge_adapt_opts;

/** One inference of an adaptive run (also the /inferences record layout). */
/* The /inferences record of a CoEdge run, declared in cleave/records.h (base columns
 * inference, latency [s], energy [J] + the CoEdge extension: planner, plan_id, plan,
 * planned_latency, planned_energy, deadline, met_deadline, replanned, bandwidth [B/s],
 * min_speed_ratio, probed, probe_energy [J], not included in energy). */
typedef cl_rec_inference_coedge cl_coedge_inference;

/** @brief Run pt->inferences inferences, applying the events, re-planning if adapt.
 *  Fills *recs (caller frees, pt->inferences entries) and writes them to opts->out. */
cl_status cl_coedge_run_adaptive(const cl_coedge_point *pt, const cl_coedge_adapt_opts *opts,
                                 cl_coedge_inference **recs);

/** Default probe period of cl_coedge_run_adaptive (inferences). */
#define CL_COEDGE_PROBE_EVERY 5

/** @brief cl_coedge_run_adaptive with an explicit probe period. A device the plan does
 *  not observe (no rows, or a sliver under 5 % of the latency) would keep a stale speed
 *  belief forever, so a recovered device would never be used again. Every
 *  @p probe_every inferences each such device runs one probe (one calibrated node of
 *  the run on the full tensor, off the critical path; its energy is recorded in
 *  probe_energy) and its belief is re-estimated from it. 0: CL_COEDGE_PROBE_EVERY;
 *  < 0: never probe (the behaviour before probing existed). */
cl_status cl_coedge_run_adaptive_ex(const cl_coedge_point *pt, const cl_coedge_adapt_opts *opts,
                                    int probe_every, cl_coedge_inference **recs);

#endif
