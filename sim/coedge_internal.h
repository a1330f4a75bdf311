/* Internal shared state of the CoEdge planner (sim/coedge*.c). */
#ifndef CLEAVE_SIM_COEDGE_INTERNAL_H
#define CLEAVE_SIM_COEDGE_INTERNAL_H

#include "cleave/coedge.h"

/* Resolved per-problem model: run bounds and per-device per-node linear times. */
typedef struct cl__coedge_ctx {
  const cl_coedge_problem *p;
  int first, last, n_graph;
  int ref_h;
  double *A, *B;  /* [n_dev * n_graph]: seconds, seconds per full-width row */
  double *tail;   /* [n_dev] seconds of the non-spatial tail (nodes after last) */
  double *full;   /* [n_dev] seconds of the whole run on one device */
  int *avail;     /* [n_dev] speed > 0 (or explicit model) */
  int n_avail;
  int evals;
} cl__coedge_ctx;

cl_status cl__coedge_ctx_init(cl__coedge_ctx *c, const cl_coedge_problem *p);
void cl__coedge_ctx_fini(cl__coedge_ctx *c);

/* Exact evaluation of a plan; takes ownership of plan (stored in out->plan). */
cl_status cl__coedge_eval(cl__coedge_ctx *c, cl_spatial_plan *plan, cl_coedge_result *out);
/* Exact evaluation of a row partition at ref_h. */
cl_status cl__coedge_eval_rows(cl__coedge_ctx *c, const int *rows, cl_coedge_result *out);

/* Allocate the per-device arrays of a result. */
cl_status cl__coedge_result_alloc(cl_coedge_result *r, int n_dev);

#endif
