/** @file coedge.h
 *  @brief CoEdge planner: energy-minimal cooperative spatial partitioning of a model's
 *  spatial part across heterogeneous edge devices under a latency deadline (LP via
 *  GLPK, rounded and repaired against an exact evaluation), plus baselines.
 *
 *  System model (see docs/coedge.md for the derivation and assumptions):
 *    - device d computes r rows of node l in a_{d,l} + b_{d,l} * r seconds (0 if r = 0);
 *      a, b come from a GSL least-squares fit (cl_coedge_fit_linear) or from the host's
 *      per-node times divided by the device's speed factor (a = 0);
 *    - one shared WLAN: every transfer serialises on it at `bandwidth` bytes/s plus
 *      `msg_latency` seconds per message;
 *    - execution is barrier-synchronous: scatter input, then per node (layer mode:
 *      compute slice, exchange halos) or one fused compute phase, gather the run's
 *      output at the sink, run the non-spatial tail on the sink;
 *    - energy of each participating device = P_comp * busy + P_tx * tx + P_rx * rx
 *      + P_idle * (latency - busy - tx - rx). Non-participating devices cost nothing.
 *
 *  Ownership: the problem borrows everything it points to. A cl_coedge_result owns its
 *  arrays and plan; release with cl_coedge_result_fini().
 */
#ifndef CLEAVE_COEDGE_H
#define CLEAVE_COEDGE_H

#include <stddef.h>

#include "cleave/graph.h"
#include "cleave/spatial.h"

/** One edge device. Powers in watts. */
typedef struct cl_coedge_device {
  const char *name;
  double speed;  /* relative to the host (2 = twice as fast); <= 0: unavailable */
  double p_comp; /* W while computing */
  double p_idle; /* W while waiting */
  double p_tx;   /* W while transmitting */
  double p_rx;   /* W while receiving */
  /** Optional per-graph-node linear model t = a[id] + b[id] * rows (seconds, full width).
   *  Both NULL: a = 0, b = host_time[id] / (speed * out.h). */
  const double *a, *b;
} cl_coedge_device;

/** The planning problem. */
typedef struct cl_coedge_problem {
  const cl_graph *g;
  int first, last;          /* the run; first < 0: the spatial prefix (cl_spatial_prefix) */
  const double *host_time;  /* [graph size] host seconds per node (full tensor); may be NULL
                               only if every device has its own a/b */
  int n_dev;
  const cl_coedge_device *dev;
  int source;               /* device holding the input (and the requester) */
  double bandwidth;         /* bytes/s of the shared WLAN, > 0 */
  double msg_latency;       /* seconds per transfer, >= 0 */
  double deadline;          /* seconds; <= 0: none */
  cl_spatial_mode mode;     /* layer (CoEdge halo exchange) or fused (one block) */
  /** Bytes per element of the graph input as the source sends it (1: an 8-bit camera
   *  frame, 2: fp16, 4: float32); 0 means 4. Only the WLAN charge of the input scatter
   *  changes: the receiver converts to float32, so plans and kernels are unchanged
   *  (cl_spatial_xfer.bytes stays the float32 size; see cl_coedge_xfer_bytes). */
  int input_bytes_per_elem;
  /** 1 (layer mode): each node's halo exchange runs while the devices compute that node's
   *  interior rows (boundary rows first, sent at once; the WLAN and the CPUs work in
   *  parallel), so node l costs max(T_l, H_l) instead of T_l + H_l, with T_l its slowest
   *  device and H_l its halo transfers on the WLAN (docs/coedge.md, "Overlap").
   *  0: a barrier after every phase (the default). */
  int overlap;
} cl_coedge_problem;

#define CL_COEDGE_PLANNER_MAP(X)                                              \
  X(COEDGE, "coedge", "min energy s.t. deadline: LP relaxation + rounding + repair") \
  X(FASTEST, "fastest", "whole run on the single fastest device")            \
  X(EQUAL, "equal", "equal row split over all available devices")            \
  X(PROPORTIONAL, "proportional", "rows proportional to device speed (MoDNN-style)") \
  X(TILES2X2, "tiles2x2", "DeepThings fused 2x2 grid tiles, LPT-assigned")   \
  X(TILES3X3, "tiles3x3", "DeepThings fused 3x3 grid tiles, LPT-assigned")   \
  X(MINLAT, "minlat", "min latency: LP relaxation + rounding + repair")          \
  X(LOCAL, "local", "whole run on the source (the requester), nothing sent")

typedef enum cl_coedge_planner {
#define CL__CP_ENUM(e, name, desc) CL_COEDGE_##e,
  CL_COEDGE_PLANNER_MAP(CL__CP_ENUM)
#undef CL__CP_ENUM
  CL_COEDGE_PLANNER_COUNT
} cl_coedge_planner;

/** @brief Printable planner name ("coedge", ...). */
const char *cl_coedge_planner_name(cl_coedge_planner p);
/** @brief One-line description. */
const char *cl_coedge_planner_desc(cl_coedge_planner p);
/** @brief Parse a planner name; CL_COEDGE_PLANNER_COUNT if unknown. */
cl_coedge_planner cl_coedge_planner_from_name(const char *name);

/** A plan and its evaluation. */
typedef struct cl_coedge_result {
  cl_coedge_planner planner;
  int n_dev;
  int ref_h;          /* decision granularity: rows of the reference height */
  int *rows;          /* [n_dev] rows of ref_h per device (tiles: tiles per device) */
  cl_spatial_plan *plan; /* owned */
  double latency;     /* s, end to end */
  double energy;      /* J, all participating devices */
  int meets_deadline; /* 1 if no deadline or latency <= deadline (+1 ns) */
  double t_scatter, t_compute, t_comm, t_gather, t_tail; /* s, latency breakdown */
  double t_overlap;   /* s of halo exchange hidden behind compute (problem overlap), else 0:
                         latency = scatter + compute + comm - overlap + gather + tail */
  double *busy, *tx, *rx, *e_dev; /* [n_dev] s, s, s, J */
  int *participates;  /* [n_dev] */
  /* rows, busy, tx, rx, e_dev and participates share one block (cl_coedge_result_fini). */
  double lp_objective; /* relaxed LP optimum (J or s) for LP planners, else 0 */
  int lp_solves;      /* LPs solved */
  int evals;          /* exact evaluations done */
} cl_coedge_result;

/** @brief Free a result's arrays and plan; leaves it zeroed. NULL-safe. */
void cl_coedge_result_fini(cl_coedge_result *r);

/** @brief Run planner @p which. Fills *out (caller finis it, also on error when
 *  out->plan != NULL). For CL_COEDGE_COEDGE with an unreachable deadline returns
 *  CL_ERR_INFEASIBLE after logging the minimum achievable latency; *out then holds the
 *  minimum-latency plan found. Baselines ignore the deadline except for meets_deadline.
 *  CL_COEDGE_LOCAL puts every row on p->source (no transfer; the tail runs there too);
 *  it returns CL_ERR_UNSUPPORTED, with no plan, if the source cannot compute (speed 0
 *  and no a/b model). */
cl_status cl_coedge_plan(const cl_coedge_problem *p, cl_coedge_planner which,
                         cl_coedge_result *out);

/** @brief Bytes the problem's WLAN charges for transfer @p x: x->bytes, except for a
 *  scatter of the graph input (CL_OP_INPUT node), which is sent at
 *  p->input_bytes_per_elem bytes per element instead of 4. */
int64_t cl_coedge_xfer_bytes(const cl_coedge_problem *p, const cl_spatial_xfer *x);

/** @brief Evaluate a spatial plan (built by the caller for this problem's run) under the
 *  problem's model. Fills the timing/energy fields of *out; takes ownership of @p plan. */
cl_status cl_coedge_evaluate(const cl_coedge_problem *p, cl_spatial_plan *plan,
                             cl_coedge_result *out);

/** @brief Evaluate the row partition @p rows (n_dev entries summing to ref_h, where
 *  ref_h is cl_coedge_ref_height()) in the problem's mode. Takes no ownership. */
cl_status cl_coedge_evaluate_rows(const cl_coedge_problem *p, const int *rows,
                                  cl_coedge_result *out);

/** @brief Decision granularity of the problem: layer mode the tallest node of the run,
 *  fused mode the run's last node height. */
int cl_coedge_ref_height(const cl_coedge_problem *p);

/** @brief Least-squares fit t = a + b * rows over n >= 2 samples (GSL gsl_fit_linear).
 *  CL_ERR_INVALID if fewer than two distinct row counts. */
cl_status cl_coedge_fit_linear(const double *rows, const double *secs, size_t n, double *a,
                               double *b);

/** Devices file (YAML): top-level map with `devices:` (sequence of maps with keys name,
 *  speed, compute_w, idle_w, tx_w, rx_w, optional source: true) and optional bandwidth
 *  (e.g. "50Mbit/s"), msg_latency ("2ms"), input_bytes_per_elem (1, 2 or 4; default 4).
 *  Read through the config layer: units and ranges of docs/config.md (powers may carry
 *  units, speed is a factor in [0, 1e9]); errors and unknown keys give file:line:col.
 *  A device gives either `speed:` (relative to the host times of the problem) or
 *  `gflops:` (its effective GFLOP/s on the model's layers, absolute: the same device on
 *  any host), not both. */
typedef struct cl_coedge_devfile {
  int n_dev;
  cl_coedge_device *dev; /* names owned by the devfile */
  int source;            /* index of the device marked source (default 0) */
  double bandwidth;      /* bytes/s, 0 if absent */
  double msg_latency;    /* s, -1 if absent */
  int input_bytes_per_elem; /* 1, 2 or 4 (4 if absent): for cl_coedge_problem */
  int overlap;           /* overlap: true (halo exchange hidden behind compute), default 0 */
  double *gflops;        /* per device: `gflops:` (absolute effective GFLOP/s), -1 where the
                          * device gives `speed:` instead; see cl_coedge_devfile_reference */
} cl_coedge_devfile;

/** @brief Load a devices file. Caller frees with cl_coedge_devfile_fini(). */
cl_status cl_coedge_devfile_load(const char *path, cl_coedge_devfile *out);
void cl_coedge_devfile_fini(cl_coedge_devfile *f);
/** @brief Speeds of the devices given in absolute terms (`gflops: G`): speed = G / @p
 *  host_gflops, the rate at which the host times of the problem were taken (`cleave plan
 *  coedge`: --host-gflops; executed runs: this host's measured rate on the model). Devices
 *  given by `speed:` keep it. Returns how many devices were set. */
int cl_coedge_devfile_reference(cl_coedge_devfile *f, double host_gflops);

/** @brief Parse "50Mbit/s", "6.25MB/s", "100Mbps" (the config layer's unit grammar,
 *  docs/config.md; a unit is required) into bytes/s within [1 bit/s, 10 Tbit/s]. */
cl_status cl_coedge_parse_bandwidth(const char *s, double *bytes_per_s);
/** @brief Parse "200ms", "0.2s", "150us", "0.2" (seconds) into seconds within [0, 1 h]. */
cl_status cl_coedge_parse_seconds(const char *s, double *seconds);

#endif
