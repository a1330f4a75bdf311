/* Internal shared state of the CoEdge planner (sim/coedge*.c). */
#ifndef CLEAVE_SIM_COEDGE_INTERNAL_H
#define CLEAVE_SIM_COEDGE_INTERNAL_H

#include <stdint.h>

#include "cleave/coedge.h"

/* Exact WLAN accounting of one evaluation: bytes and messages per phase (scatter, halo,
 * gather) and per device (tx, rx); times are derived once from the integer sums. */
typedef struct cl__coedge_wlan {
  int n_dev;
  int64_t pb[3];
  int pn[3];
  int64_t *txb; /* [2 * n_dev]: tx bytes, rx bytes */
  int *txn;     /* [2 * n_dev]: tx messages, rx messages */
} cl__coedge_wlan;

void cl__coedge_wlan_reset(cl__coedge_wlan *w, int n_dev); /* w->txb NULL: out of memory */
void cl__coedge_wlan_fini(cl__coedge_wlan *w);
/* Phase times (t_scatter, t_comm, t_gather) and per-device tx/rx seconds into out. */
void cl__coedge_wlan_times(const cl__coedge_wlan *w, const cl_coedge_problem *p,
                           cl_coedge_result *out);
static inline void cl__coedge_wlan_add(cl__coedge_wlan *w, int phase, int src, int dst,
                                       int64_t bytes) {
  w->pb[phase] += bytes;
  w->pn[phase]++;
  w->txb[2 * src] += bytes;
  w->txn[2 * src]++;
  w->txb[2 * dst + 1] += bytes;
  w->txn[2 * dst + 1]++;
}

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
  /* workspace of cl__coedge_score_rows (allocated on first use) */
  int nn;                  /* nodes in the run */
  cl_box *w_box, *w_need;  /* [nn * n_dev] */
  int *w_ent_idx;          /* [first] index into w_ent_node, -1: not an entry */
  int *w_ent_node;         /* [first] external entry tensors in discovery order */
  cl_box *w_ent_need;      /* [first * n_dev] */
  const cl_node **w_node;  /* [nn] the run's nodes */
  int *w_hcls;             /* [nn] index of the node's height in w_heights */
  int *w_heights, n_heights; /* distinct output heights of the run */
  int *w_yb;               /* [n_heights * (n_dev + 1)] scaled slice bounds, per call */
  int *w_edge;             /* [nn + 1] offsets of each node's inputs in the edge cache */
  cl_box *w_eout, *w_ein;  /* [edges * n_dev] last output box queried / its input box */
  unsigned char *w_eid;    /* [edges] 1: element-wise edge from a same-shape run node */
  cl__coedge_wlan w_wlan;
  int w_record;            /* 1: the next score call lists its transfers in w_xfer */
  cl_spatial_xfer *w_xfer; /* transfers of the last recorded call */
  int w_n_xfer, w_cap_xfer;
  int w_sink;              /* sink of the last score call */
  double *w_stage;         /* [n_dev] */
  double *w_node_t;        /* [nn] slowest device's time per node (overlap) */
  int64_t *w_halo_b;       /* [nn] halo bytes per node (overlap) */
  int *w_halo_n;           /* [nn] halo messages per node (overlap) */
  int64_t *w_share;        /* [n_dev] */
} cl__coedge_ctx;

cl_status cl__coedge_ctx_init(cl__coedge_ctx *c, const cl_coedge_problem *p);
void cl__coedge_ctx_fini(cl__coedge_ctx *c);

/* Exact evaluation of a plan; takes ownership of plan (stored in out->plan). */
cl_status cl__coedge_eval(cl__coedge_ctx *c, cl_spatial_plan *plan, cl_coedge_result *out);
/* Exact evaluation of a row partition at ref_h. */
cl_status cl__coedge_eval_rows(cl__coedge_ctx *c, const int *rows, cl_coedge_result *out);

/* Fast exact evaluation of a row partition at ref_h without building a plan: the same
 * arithmetic as cl_spatial_plan_rows + cl__coedge_eval (same transfers, same summation
 * order), into out's scalars and per-device arrays (out->plan stays NULL; out must have
 * been allocated with cl__coedge_result_alloc for n_dev). Counts as an evaluation. */
cl_status cl__coedge_score_rows(cl__coedge_ctx *c, const int *rows, cl_coedge_result *out);
/* As cl__coedge_score_rows, and afterwards c->w_box holds the plan's boxes
 * ([run node * n_dev + device]), c->w_xfer its transfers (plan order), c->w_sink its sink:
 * what the LP takes from its reference plan, without building one. */
cl_status cl__coedge_score_rows_detail(cl__coedge_ctx *c, const int *rows,
                                       cl_coedge_result *out);

/* WLAN bytes for @p bytes (float32) of node @p n's output: the graph input (CL_OP_INPUT)
 * travels at p->input_bytes_per_elem bytes per element, everything else as float32. The
 * score workspace's w_xfer records these wire bytes. */
int64_t cl__coedge_wire_bytes(const cl_coedge_problem *p, const cl_node *n, int64_t bytes);

/* Allocate the per-device arrays of a result. */
cl_status cl__coedge_result_alloc(cl_coedge_result *r, int n_dev);

#endif
