/** @file planner.h
 *  @brief Partition planners: Scission (exhaustive multi-tier search with Scission's
 *  query language), Neurosurgeon (best single split, incl. per-op regression models)
 *  and DADS (min-cut partition of a DAG), plus the max-flow solver DADS uses.
 *
 *  All planners are pure functions of their inputs (profiles, link statistics);
 *  they allocate only internal scratch that they free before returning.
 *  See docs/planners.md for the cost models.
 */
#ifndef CLEAVE_PLANNER_H
#define CLEAVE_PLANNER_H

#include <stddef.h>
#include <stdint.h>

#include "cleave/graph.h"
#include "cleave/profile.h"
#include "cleave/status.h"

/* ======================================================================= */
/* Scission                                                                 */
/* ======================================================================= */

#define CL_SCISSION_MAX_TIERS 8

typedef enum cl_plan_objective {
  CL_PLAN_LATENCY = 0, /* end-to-end seconds (Scission's ranking) */
  CL_PLAN_ENERGY,      /* joules: compute power x time + radio tx power x transfer time */
  CL_PLAN_BYTES,       /* bytes sent on all hops (ties broken by latency) */
  CL_PLAN_WEIGHTED     /* w0 * seconds + w1 * joules + w2 * MB */
} cl_plan_objective;

/** A Scission query. Initialise with cl_scission_query_init(), then override.
 *  Strings are borrowed for the duration of the search. */
typedef struct cl_scission_query {
  const char *model; /* matched case-insensitively (stored lower-case) */
  int n_tiers;       /* tiers in pipeline order; default 3: device, edge, cloud */
  const char *tiers[CL_SCISSION_MAX_TIERS];
  /* Per-tier criteria list in Scission syntax ("!-1,10,!6700k(GPU)"), NULL = none. */
  const char *criteria[CL_SCISSION_MAX_TIERS];
  double input_bytes;                         /* raw input on the first hop; 150000 */
  double upload_limit[CL_SCISSION_MAX_TIERS]; /* bytes a tier may send; < 0: none */
  double time_limit[CL_SCISSION_MAX_TIERS];   /* seconds (or percent); < 0: none */
  int time_limit_pct[CL_SCISSION_MAX_TIERS];  /* 1: time_limit is % of total compute */
  int result_count;                           /* top N, default 5 */
  cl_plan_objective objective;
  double weights[3];                         /* CL_PLAN_WEIGHTED: seconds, joules, MB */
  double power_w[CL_SCISSION_MAX_TIERS];     /* compute power of each tier, W */
  double tx_power_w[CL_SCISSION_MAX_TIERS];  /* radio power while a tier sends, W */
  int scission_compat; /* 1: reproduce Scission's zero-time-tier accident (3 tiers) */
} cl_scission_query;

/** One ranked configuration. Arrays are indexed by tier position. */
typedef struct cl_scission_config {
  int machine[CL_SCISSION_MAX_TIERS];     /* profile-set index; tier 0 always set; -1 unused */
  int first_block[CL_SCISSION_MAX_TIERS]; /* inclusive block range; -1 if unused */
  int last_block[CL_SCISSION_MAX_TIERS];
  int first_layer[CL_SCISSION_MAX_TIERS]; /* inclusive layer range; -1 if unused */
  int last_layer[CL_SCISSION_MAX_TIERS];
  double seconds[CL_SCISSION_MAX_TIERS];  /* compute time per tier */
  double upload[CL_SCISSION_MAX_TIERS];   /* bytes each tier sends */
  double compute, comm, latency;          /* seconds: latency = compute + comm */
  double energy;                          /* joules (0 unless powers are given) */
  double bytes;                           /* bytes sent on all hops (Scission's MB) */
  double objective;                       /* the ranked value */
  int64_t seq;                            /* enumeration order, final tie-break */
} cl_scission_config;

typedef struct cl_scission_stats {
  int64_t enumerated; /* distinct configurations evaluated */
  int64_t feasible;   /* those meeting every criterion */
} cl_scission_stats;

typedef enum cl_scission_format {
  CL_SCISSION_FMT_SCISSION = 0, /* Scission's exact line format */
  CL_SCISSION_FMT_TABLE,
  CL_SCISSION_FMT_CSV
} cl_scission_format;

/** @brief Defaults: device/edge/cloud, 0.15 MB input, no limits, top 5, latency. */
void cl_scission_query_init(cl_scission_query *q);

/** @brief Check a criteria string's syntax (logs the bad item). */
cl_status cl_scission_criteria_check(const char *tier, const char *criteria);

/** @brief Rank every configuration of q->model over the machines of @p set whose tier is
 *  in q->tiers. Writes the best min(result_count, feasible) to @p out (caller array of
 *  q->result_count entries), best first, and their number to *n_out. @p st may be NULL.
 *  CL_ERR_NOTFOUND: model or a tier's machines missing; CL_ERR_INVALID: bad query or
 *  block boundaries differing between machines; missing network links skip configs. */
cl_status cl_scission_search(const cl_profile_set *set, const cl_netstats *net,
                             const cl_scission_query *q, cl_scission_config *out, int *n_out,
                             cl_scission_stats *st);

/** @brief Format result @p c (1-based @p rank) as one line without newline into buf.
 *  Returns the snprintf-style length. CSV: call with rank 0 for the header line. */
int cl_scission_format_line(const cl_profile_set *set, const cl_scission_query *q,
                            const cl_scission_config *c, int rank, cl_scission_format fmt,
                            char *buf, size_t cap);

/* ======================================================================= */
/* Neurosurgeon                                                             */
/* ======================================================================= */

typedef enum cl_ns_objective { CL_NS_LATENCY = 0, CL_NS_ENERGY } cl_ns_objective;

/** A chain of n units (blocks or layers) split once: units [0, split) on the mobile,
 *  [split, n) on the cloud. split = n: all local; split = 0: the raw input is sent. */
typedef struct cl_ns_input {
  int n;
  const double *t_mobile;       /* seconds per unit on the mobile [n] */
  const double *t_cloud;        /* seconds per unit on the cloud [n] */
  const double *out_bytes;      /* output bytes of each unit [n] */
  const unsigned char *cut_ok;  /* [n+1]: may split before unit i; NULL = everywhere */
  double input_bytes;           /* sent when split = 0 */
  double latency_s;             /* per message */
  double bandwidth_Bps;         /* uplink, bytes/s (> 0) */
  double result_bytes;          /* sent back when the cloud runs the tail; 0 = ignore */
  cl_ns_objective objective;
  double p_compute_w, p_tx_w, p_idle_w; /* mobile power: computing, sending, waiting */
} cl_ns_input;

typedef struct cl_ns_result {
  int split;
  double latency;   /* seconds end to end */
  double energy;    /* mobile joules */
  double bytes;     /* uploaded bytes */
  double t_mobile, t_cloud, t_comm;
} cl_ns_result;

/** @brief Evaluate one split (0 <= split <= n) of @p in. */
cl_status cl_neurosurgeon_eval(const cl_ns_input *in, int split, cl_ns_result *r);
/** @brief Best split for in->objective (ties: the earliest split). @p all, if not NULL,
 *  receives every split's evaluation ([n+1]; invalid cut points get split = -1). */
cl_status cl_neurosurgeon_plan(const cl_ns_input *in, cl_ns_result *best, cl_ns_result *all);

/** One profiled layer, a regression sample. */
typedef struct cl_ns_sample {
  int op;           /* cl_op */
  double macs;      /* multiply-accumulates */
  double in_bytes;  /* bytes of all inputs */
  double out_bytes; /* bytes of the output */
  double seconds;   /* measured time */
} cl_ns_sample;

/** Per-op-type linear models time ~ a + b*MACs + c*in_bytes + d*out_bytes (GSL least
 *  squares on column-scaled features; features that are constant for an op are
 *  dropped). Op types without samples fall back to a model fitted on all samples. */
typedef struct cl_ns_model cl_ns_model;

/** @brief Fit per-op models from @p n samples. Caller owns *out. */
cl_status cl_ns_model_fit(const cl_ns_sample *s, int n, cl_ns_model **out);
void cl_ns_model_destroy(cl_ns_model *m);
/** @brief Predicted seconds (clamped at 0) for one layer. */
cl_status cl_ns_model_predict(const cl_ns_model *m, int op, double macs, double in_bytes,
                              double out_bytes, double *seconds);
/** @brief Coefficients of op's model: c[0] + c[1]*macs + c[2]*in + c[3]*out; *n_samples
 *  the samples it was fitted on (0: fallback model), *r2 its coefficient of determination. */
cl_status cl_ns_model_coeffs(const cl_ns_model *m, int op, double c[4], int *n_samples,
                             double *r2);

/* ======================================================================= */
/* DADS                                                                     */
/* ======================================================================= */

/** A DAG of n layers in topological order, inputs as CSR: the inputs of node i are
 *  in_idx[in_off[i] .. in_off[i+1]). Nodes without inputs hold the raw input and are
 *  pinned to the device. */
typedef struct cl_dads_input {
  int n;
  const int *in_off; /* [n+1] */
  const int *in_idx;
  const double *t_device; /* seconds [n] */
  const double *t_cloud;  /* seconds [n] */
  const double *out_bytes;/* bytes [n] */
  double bandwidth_Bps;   /* device -> cloud */
  double latency_s;       /* charged per tensor sent */
} cl_dads_input;

typedef struct cl_dads_result {
  double latency; /* sum of device times, cloud times and per-tensor transfers */
  double bytes;   /* bytes sent device -> cloud */
  int n_cloud;    /* nodes on the cloud */
  int n_sent;     /* tensors sent */
} cl_dads_result;

/** @brief Optimal device/cloud assignment by minimum s-t cut. on_cloud[n] receives 0/1;
 *  the cloud set is closed under consumers (no cloud -> device transfers). */
cl_status cl_dads_plan(const cl_dads_input *in, unsigned char *on_cloud, cl_dads_result *r);
/** @brief Cost of a given assignment; CL_ERR_INFEASIBLE if it sends cloud -> device or
 *  puts an input node on the cloud. */
cl_status cl_dads_eval(const cl_dads_input *in, const unsigned char *on_cloud,
                       cl_dads_result *r);
/** @brief CSR adjacency of a cl_graph (in_off[n+1], in_idx[...]); caller frees both. */
cl_status cl_dads_csr_from_graph(const cl_graph *g, int **in_off, int **in_idx);

/* ======================================================================= */
/* Testbed configs from plans (cleave plan ... --emit-config)               */
/* ======================================================================= */

/** One testbed node of an emitted config. Strings are borrowed. */
typedef struct cl_plan_node {
  const char *name; /* testbed node name: [A-Za-z0-9_.-], at most 63 characters */
  const char *tier; /* "device", "edge" or "cloud" */
  double speed;     /* slowdown factor vs the host that runs the testbed (> 0) */
  const char *note; /* how speed was derived (written as a comment), may be NULL */
} cl_plan_node;

/** One link (both ways) of an emitted config. */
typedef struct cl_plan_link {
  int from, to;         /* node indices */
  double latency_s;     /* one way, per message */
  double bandwidth_Bps; /* bytes per second (> 0) */
} cl_plan_link;

/** A plan over the executor steps of a cleave profile, to be written as a testbed config
 *  (schema: include/cleave/testbed.h, docs/config.md). Arrays and strings are borrowed. */
typedef struct cl_plan_config {
  const char *model;       /* zoo name */
  int fuse;                /* the profile's step fusion (cl_exec_opts.fuse; profile attribute fused) */
  int n_steps;             /* steps of the profile; must equal the executor's step count */
  const int *node_of_step; /* [n_steps] node index of each step, in execution order */
  int n_nodes;
  const cl_plan_node *nodes;
  int n_links;
  const cl_plan_link *links;
  int inferences;          /* workload.inferences, >= 1 */
  uint64_t seed;           /* config seed (weights and input) */
  const char *comment;     /* text written first as '# ' lines ('\n' separates lines); may be NULL */
  int replace;             /* cl_plan_config_write may replace an existing file (--force) */
} cl_plan_config;

/** @brief The testbed YAML of @p pc: nodes with speeds, links, the plan as explicit
 *  graph-node ranges by layer name (steps map to the graph nodes they fuse), the
 *  workload. The text is checked by loading it back (cl_testbed_load_string) and
 *  resolving the plan against the model: every graph node must land on the node of its
 *  step (CL_ERR_INTERNAL otherwise). Caller frees *text. */
cl_status cl_plan_config_yaml(const cl_plan_config *pc, char **text);
/** @brief cl_plan_config_yaml() written to @p path, atomically (cl_outfile_write): an
 *  existing file is replaced only if pc->replace, else CL_ERR_EXISTS. */
cl_status cl_plan_config_write(const cl_plan_config *pc, const char *path);

/* ======================================================================= */
/* Max-flow (Dinic, double capacities)                                      */
/* ======================================================================= */

typedef struct cl_maxflow cl_maxflow;

cl_status cl_maxflow_create(int n_nodes, cl_maxflow **out);
void cl_maxflow_destroy(cl_maxflow *mf);
/** @brief Add a directed edge u -> v of capacity cap (>= 0; may be INFINITY). */
cl_status cl_maxflow_add_edge(cl_maxflow *mf, int u, int v, double cap);
/** @brief Maximum s-t flow value. */
cl_status cl_maxflow_solve(cl_maxflow *mf, int s, int t, double *flow);
/** @brief After solve: 1 if v is reachable from s in the residual graph (source side). */
int cl_maxflow_source_side(const cl_maxflow *mf, int v);

#endif
