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

#include "cleave/status.h"

typedef struct cl_coedge_point {
  const char *model;        /* zoo name */
  const char *planner;      /* coedge | fastest | equal | proportional | tiles2x2 | tiles3x3 | minlat */
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

/** @brief Run one point (plans, executes, measures). Errors are logged with context. */
cl_status cl_coedge_run_point(const cl_coedge_point *pt, cl_coedge_point_result *res);

#endif
