/** @file netmodel.h
 *  @brief Deterministic model of emulated network links: latency, bandwidth
 *         (constant, traced, or changed at given times), jitter, shared media.
 *
 *  One model serves the analytical simulator, sweeps and the MPI runtime's
 *  virtual clock. All times are virtual seconds (double), sizes are bytes,
 *  bandwidths bytes/s (1 Mbit/s = 125000 B/s). The exact formulas are in
 *  docs/timing-model.md; in short, a transfer of B bytes requested at t_send on
 *  link l (medium m) gives
 *
 *      start   = max(t_send, link_free[l], medium_free[m])  (then skip a link-down period)
 *      tx_time = time to push B bytes through the piecewise-constant bandwidth from start on
 *      lat     = max(0, latency(start) + jitter)            (jitter truncated at -latency)
 *      arrival = start + lat + tx_time                      (>= previous arrival on l, unless reorder)
 *      link_free[l] = medium_free[m] = start + tx_time
 *
 *  Routes (a link id whose transfers cross several links) and max-min flows: see
 *  cl_netmodel_route() and cl_netmodel_flow_start() below; docs/network.md.
 *
 *  Ownership: a cl_netmodel owns copies of everything passed in (names, traces,
 *  changes) and one GSL RNG per link; cl_netmodel_destroy() releases it all.
 *  A cl_netmodel is not thread-safe; use one per thread.
 */
#ifndef CLEAVE_NETMODEL_H
#define CLEAVE_NETMODEL_H

#include <stdint.h>

#include "cleave/status.h"

/** Jitter distribution (added to the one-way latency of every transfer). */
typedef enum cl_jitter_dist {
  CL_JITTER_NONE = 0,    /**< no jitter */
  CL_JITTER_NORMAL,      /**< gaussian: mean + sigma * N(0,1) */
  CL_JITTER_UNIFORM,     /**< flat on [lo, hi) */
  CL_JITTER_EXPONENTIAL, /**< exponential with mean `mean` */
  CL_JITTER_LOGNORMAL,   /**< lognormal: median `scale` (s), shape `sigma` (std dev of ln) */
  CL_JITTER_PARETO,      /**< pareto: x_m = `scale` (s), exponent `shape` */
  CL_JITTER_COUNT
} cl_jitter_dist;

/** Jitter parameters; only the fields of the chosen distribution are read. */
typedef struct cl_jitter {
  cl_jitter_dist dist;
  double mean;   /**< s: normal mean, exponential mean */
  double sigma;  /**< normal: std dev (s); lognormal: std dev of ln(x) (dimensionless) */
  double lo, hi; /**< s: uniform bounds, lo <= hi */
  double scale;  /**< s: lognormal median, pareto minimum x_m */
  double shape;  /**< pareto exponent a > 0 */
} cl_jitter;

/** Printable distribution name ("none", "normal", "uniform", "exponential", "lognormal", "pareto"). */
const char *cl_jitter_dist_name(cl_jitter_dist d);
/** Parse a distribution name (as printed by cl_jitter_dist_name). CL_ERR_INVALID if unknown. */
cl_status cl_jitter_dist_parse(const char *name, cl_jitter_dist *out);

/** How concurrent transfers share a link or medium. */
typedef enum cl_sharing {
  CL_SHARING_FIFO = 0, /**< one transfer at a time, in send order (cl_netmodel_send) */
  CL_SHARING_MAXMIN,   /**< fluid flows sharing bandwidth max-min fairly (cl_netmodel_flow_*) */
  CL_SHARING_COUNT
} cl_sharing;

/** Printable name ("fifo", "maxmin"). */
const char *cl_sharing_name(cl_sharing s);
/** Parse a name as printed by cl_sharing_name(); CL_ERR_INVALID if unknown. */
cl_status cl_sharing_parse(const char *name, cl_sharing *out);

/** Description of one directed link; copied by cl_netmodel_add_link(). */
typedef struct cl_link_desc {
  const char *name;       /**< optional, for messages (e.g. "device->edge"); NULL = "src->dst" */
  int src, dst;           /**< node indices (>= 0) */
  double latency;         /**< s, one-way, >= 0 */
  double bandwidth;       /**< B/s, >= 0; in force before the first trace point / change */
  int medium;             /**< medium id from cl_netmodel_add_medium(), or -1 (not shared) */
  int reorder;            /**< 0: arrivals on this link stay in send order (TCP-like); 1: jitter may reorder */
  cl_jitter jitter;
  /** Optional bandwidth trace: piecewise constant, trace_bw[i] (B/s, >= 0) holds on
   *  [trace_t[i], trace_t[i+1]); the last value holds forever. trace_t strictly increasing (s).
   *  A value of 0 means the link is down. Arrays are copied; may be NULL with trace_n = 0. */
  const double *trace_t;
  const double *trace_bw;
  int trace_n;
  cl_sharing sharing;     /**< FIFO (default, 0) or MAXMIN; links of one medium must agree */
} cl_link_desc;

/** A timed change of a link's parameters, effective from `at` on. */
typedef struct cl_link_change {
  int link;         /**< link id */
  double at;        /**< s, virtual */
  double bandwidth; /**< new B/s (>= 0), or negative to leave unchanged */
  double latency;   /**< new s (>= 0), or negative to leave unchanged */
} cl_link_change;

/** Outcome of one transfer. */
typedef struct cl_xfer {
  double start;   /**< s: first byte leaves the sender */
  double tx_time; /**< s: transmission time (bytes through the bandwidth schedule) */
  double latency; /**< s: effective one-way latency incl. jitter, >= 0 */
  double arrival; /**< s: last byte at the receiver */
} cl_xfer;

/** Per-link counters since the last reset. */
typedef struct cl_link_stats {
  uint64_t sends;
  uint64_t bytes;
  double busy;  /**< s: sum of tx_time */
  double wait;  /**< s: sum of (start - t_send), queueing behind the link or medium */
} cl_link_stats;

typedef struct cl_netmodel cl_netmodel;

/** @brief Create an empty model. @p seed seeds every link's jitter stream (with its id).
 *  Caller owns *out (cl_netmodel_destroy). */
cl_status cl_netmodel_create(uint64_t seed, cl_netmodel **out);
/** @brief Free the model. NULL-safe. */
void cl_netmodel_destroy(cl_netmodel *net);

/** @brief Add a shared medium: links on it transmit one at a time. @p capacity (B/s)
 *  caps the rate of every link on it; 0 = no cap. @p name is copied (may be NULL). */
cl_status cl_netmodel_add_medium(cl_netmodel *net, const char *name, double capacity, int *id_out);
/** @brief Add a link (validated; errors name the link and field). Ids are 0, 1, 2, ... */
cl_status cl_netmodel_add_link(cl_netmodel *net, const cl_link_desc *desc, int *id_out);
/** @brief Add timed changes atomically: if any is invalid, or a link would end down
 *  forever, none is applied. Changes at equal times apply in call order (last wins);
 *  a change overrides the trace until the trace's next point. */
cl_status cl_netmodel_add_changes(cl_netmodel *net, const cl_link_change *ch, int n);

int cl_netmodel_links(const cl_netmodel *net);
int cl_netmodel_media(const cl_netmodel *net);
/** @brief Link @p id's endpoints; CL_ERR_INVALID for a bad id. */
cl_status cl_netmodel_link_ends(const cl_netmodel *net, int link, int *src, int *dst);
/** @brief Link name (borrowed, valid until destroy), or NULL for a bad id. */
const char *cl_netmodel_link_name(const cl_netmodel *net, int link);
/** @brief First link from @p src to @p dst; CL_ERR_NOTFOUND if none. */
cl_status cl_netmodel_find_link(const cl_netmodel *net, int src, int dst, int *link_out);

/** @brief Register a route: a link id whose transfers cross @p n plain links in order
 *  (each starts where the previous ends; copied). Its src/dst are the first link's src and
 *  the last link's dst; a 1-link route is that link. Links must all share FIFO or all
 *  max-min (CL_ERR_INVALID otherwise, naming the links). */
cl_status cl_netmodel_add_route(cl_netmodel *net, const int *links, int n, int *id_out);
/** @brief Link id from @p src to @p dst: a direct link, a registered route, or else the
 *  shortest path over the plain links (weight: latency at t = 0; ties: fewer hops, then
 *  the path found first from smaller node indices), registered as a route.
 *  CL_ERR_NOTFOUND (logged by the caller) when no path exists. */
cl_status cl_netmodel_route(cl_netmodel *net, int src, int dst, int *id_out);
/** @brief Plain links crossed by @p link (a plain link: itself), written to @p hops (up to
 *  @p cap; may be NULL with cap 0). Returns the count, 0 for a bad id. */
int cl_netmodel_route_hops(const cl_netmodel *net, int link, int *hops, int cap);
/** @brief 1 if transfers on @p link (a link or route) are max-min flows, else 0. */
int cl_netmodel_is_fluid(const cl_netmodel *net, int link);

/** @brief Start a max-min flow of @p bytes on @p link (fluid, see cl_netmodel_is_fluid) at
 *  @p t (>= the time of the last start/advance, <= cl_netmodel_flow_next()). @p tag is the
 *  caller's name for it, returned on completion. Latency (summed over the hops, with
 *  jitter) is fixed at start; the bytes drain at the max-min rate, which changes whenever
 *  a flow starts or ends or a link's bandwidth changes; arrival = drain time + latency. */
cl_status cl_netmodel_flow_start(cl_netmodel *net, int link, double t, uint64_t bytes, int tag);
/** @brief Time of the next flow event (a flow drains or a crossed link's bandwidth
 *  changes), INFINITY with no flow active. Recomputes the allocation if needed. */
double cl_netmodel_flow_next(cl_netmodel *net);
/** Called once per drained flow: its tag and outcome (start, tx_time = drain - start,
 *  latency, arrival). */
typedef void (*cl_flow_done_fn)(void *ctx, int tag, const cl_xfer *x);
/** @brief Advance the flows to @p t (<= cl_netmodel_flow_next()); calls @p done for every
 *  flow that drains at or before @p t. CL_ERR_INVALID if @p t is past the next event or
 *  not finite. */
cl_status cl_netmodel_flow_advance(cl_netmodel *net, double t, cl_flow_done_fn done, void *ctx);
/** @brief Active flows. */
int cl_netmodel_flows_active(const cl_netmodel *net);
/** @brief Current max-min rate (B/s) of the active flow tagged @p tag; CL_ERR_NOTFOUND. */
cl_status cl_netmodel_flow_rate(cl_netmodel *net, int tag, double *rate_out);

/** @brief Bandwidth in force at @p t (B/s, medium cap applied; a route: its bottleneck). */
double cl_netmodel_bandwidth_at(const cl_netmodel *net, int link, double t);
/** @brief Latency in force at @p t (s, no jitter; a route: the sum over its hops). */
double cl_netmodel_latency_at(const cl_netmodel *net, int link, double t);
/** @brief Pure query: transmission time of @p bytes starting exactly at @p start on an idle
 *  link (no queueing, no jitter, no state change). A link that is down at @p start counts
 *  the down time as well. Useful for planners. */
cl_status cl_netmodel_tx_time(const cl_netmodel *net, int link, double start, uint64_t bytes,
                              double *tx_out);

/** @brief Perform a transfer: queue on the link/medium, draw jitter from the link's stream,
 *  update the free times. Calls must come in nondecreasing @p t_send per link for the
 *  FIFO semantics to mean what they say (the timeline guarantees this). */
cl_status cl_netmodel_send(cl_netmodel *net, int link, double t_send, uint64_t bytes, cl_xfer *out);

/** @brief Forget all queueing state and counters, reseed every jitter stream:
 *  the next sequence of sends reproduces the first run bit for bit. */
void cl_netmodel_reset(cl_netmodel *net);
/** @brief Counters of @p link since the last reset. */
cl_status cl_netmodel_link_stats(const cl_netmodel *net, int link, cl_link_stats *out);

#endif
