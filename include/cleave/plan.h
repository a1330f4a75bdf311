/** @file plan.h
 *  @brief One planner interface: every partition planner (Scission, Neurosurgeon, DADS,
 *  CoEdge, MoDNN, DeepThings, the local-only and cloud-only baselines) takes the same
 *  input and returns the same result, and is looked up by name in one table
 *  (sim/plan_registry.c). `cleave plan --planner NAME`, `cleave plan compare`, `cleave
 *  sim` and the sweep kind `plan` use planners only through this header.
 *
 *  The input describes a model as a DAG of n_units *units* (graph nodes, profile steps
 *  or Scission blocks) in topological order, a set of *machines* (each with seconds per
 *  unit and powers), the links between machines, and the objective. Root units (units
 *  without inputs) read the raw input, which lives on machine 0 (the source).
 *  Spatial planners (coedge, modnn, deepthings) also need the graph: they split the rows
 *  of its spatial part across machines and run the tail on one of them.
 *
 *  Cost model of layer placements (cl_plan_eval; docs/planners.md): execution is
 *  sequential (no pipelining across inferences); latency = sum of each unit's seconds on
 *  its machine + for every tensor that crosses machines (once per tensor and destination
 *  machine) latency_s + bytes / bandwidth_Bps of the link; the raw input crosses from
 *  machine 0 to every other machine that runs a root unit. Energy = for every
 *  participating machine (machine 0 always; others if they compute, send or receive):
 *  p_comp * busy + p_tx * send time + p_rx * receive time + p_idle * the rest of the
 *  latency (send / receive time = bytes / bandwidth; per-message latency counts as idle).
 *  Each layer planner's own prediction equals this model on its placement (tested in
 *  tests/test_plan.c); spatial planners report CoEdge's shared-WLAN model instead
 *  (include/cleave/coedge.h).
 *
 *  Ownership: a cl_plan_input borrows everything it points to, unless a builder filled
 *  it (cl_plan_input_from_graph / cl_plan_input_from_profiles): then the builder's
 *  arrays are owned by the input and released by cl_plan_input_fini(). A cl_plan_result
 *  owns its arrays and text; release with cl_plan_result_fini(). Planners are pure
 *  functions of their input; errors come back as statuses (logged where found).
 *
 *  Owners: this header and sim/plan_*.c belong to the planner interface (issue 12,
 *  branch h-planner). The sweep kind `plan` (branch h-kinds) only calls cl_planner_*,
 *  cl_plan_input_* and cl_plan_result_* / cl_plan_placement_text; it does not edit them.
 *  The declarations below are stable: new fields are appended, never reordered.
 */
#ifndef CLEAVE_PLAN_H
#define CLEAVE_PLAN_H

#include <stddef.h>

#include "cleave/graph.h"
#include "cleave/planner.h" /* cl_plan_objective, cl_plan_link */
#include "cleave/profile.h"
#include "cleave/status.h"

struct cl_testbed; /* include/cleave/testbed.h */

/** One machine (testbed node) a planner may place work on. Strings borrowed. */
typedef struct cl_plan_machine {
  const char *name; /* unique; used in placements and link lookups */
  const char *tier; /* "device", "edge", "cloud" (or a custom tier name) */
  const double *seconds; /* [n_units] seconds of each unit on this machine */
  double speed;  /* relative to the host (2 = twice as fast), for spatial planners; <= 0: 1 */
  double p_comp; /* W while computing */
  double p_idle; /* W while waiting */
  double p_tx;   /* W while sending */
  double p_rx;   /* W while receiving */
} cl_plan_machine;

/** The common planner input. Initialise with cl_plan_input_init() (or a builder), then
 *  set fields. Arrays are borrowed unless a builder allocated them. */
typedef struct cl_plan_input {
  const char *model;       /* printable model name */
  const cl_graph *g;       /* the model graph; NULL: spatial planners are unavailable */
  int n_units;             /* units of the DAG (>= 1) */
  const int *in_off;       /* [n_units + 1] CSR inputs of each unit; NULL = a chain */
  const int *in_idx;       /* inputs of unit i: in_idx[in_off[i] .. in_off[i+1]) (< i) */
  const double *out_bytes; /* [n_units] bytes of each unit's output */
  const int *first_layer;  /* [n_units] layer range of each unit, or NULL (unit = layer) */
  const int *last_layer;
  double input_bytes;      /* raw input, held by machine 0 */
  int n_machines;          /* >= 1; machine 0 is the source (holds the input) */
  const cl_plan_machine *machines;
  int n_links;             /* links between machines (cl_plan_link: from, to, latency, bw) */
  const cl_plan_link *links; /* looked up from->to, else to->from (symmetric) */
  double bandwidth_Bps;    /* default link for pairs without one (<= 0: none), and the */
  double latency_s;        /* shared WLAN of spatial planners (<= 0: from the links) */
  cl_plan_objective objective; /* CL_PLAN_LATENCY or CL_PLAN_ENERGY (others: latency) */
  double deadline_s;       /* latency deadline, <= 0: none (coedge minimises energy under it) */
  const double *host_time; /* [graph size] host seconds per graph node for spatial planners;
                              NULL: node flops / (host_gflops * 1e9) */
  double host_gflops;      /* <= 0: 20 */
  void *owned_;            /* builder storage (private); NULL when the caller filled it */
  /* Server load (issue 16; docs/planners.md "Planners that see server load"). */
  const double *load_factor; /* [n_machines] >= 1: unit seconds on machine m are multiplied by it
                                (Neurosurgeon's server-load input); NULL: 1 everywhere */
  const double *wait_s;      /* [n_machines] s of queueing before a request's work starts on
                                machine m, charged once per machine that runs a unit; NULL: 0 */
  double arrival_rate;       /* requests/s of this source (> 0: DADS may choose its heavy-load mode) */
  int mode;                  /* cl_plan_mode: DADS light (latency) / heavy (throughput) / auto */
} cl_plan_input;

/** DADS's two modes (Hu et al., INFOCOM 2019): light load minimises latency; heavy load
 *  (requests arrive faster than the light-load partition's slowest pipeline stage can
 *  serve them) minimises the slowest stage (device compute, device -> cloud transfer,
 *  cloud compute), i.e. maximises throughput. AUTO picks heavy when
 *  arrival_rate x max_stage(light plan) >= 1. */
typedef enum cl_plan_mode { CL_PLAN_MODE_AUTO = 0, CL_PLAN_MODE_LATENCY, CL_PLAN_MODE_THROUGHPUT } cl_plan_mode;

/** A planner's answer. */
typedef struct cl_plan_result {
  const char *planner;   /* static name of the planner that produced it */
  int n_units;
  int *node_of_unit;     /* [n_units] machine of each unit (owned); NULL for spatial plans */
  int n_machines;
  double *share;         /* [n_machines] spatial plans: fraction of the spatial part's rows
                            (grid tiles: of the tiles) each machine computes (owned), else NULL */
  int spatial_first, spatial_last; /* spatial plans: the split graph-node run, else -1 */
  int sink;              /* spatial plans: machine that gathers and runs the tail, else -1 */
  double latency;        /* s, predicted end to end */
  double energy;         /* J, predicted (model in the file comment) */
  double bytes;          /* bytes sent between machines */
  int feasible;          /* 1 unless a deadline or constraint is missed */
  char *detail;          /* planner-specific text (owned, may be NULL) */
  double max_stage;      /* s: slowest pipeline stage of a layer placement (a machine's busy
                            time, or the transfer time on one machine pair); 1 / throughput */
  int heavy;             /* 1: DADS chose its heavy-load (throughput) mode */
} cl_plan_result;

/** What a planner needs from the input (cl_planner_i.needs bits). */
enum { CL_PLAN_NEEDS_UNITS = 1, CL_PLAN_NEEDS_GRAPH = 2, CL_PLAN_NEEDS_TWO = 4 };

/** A planner: one file (sim/plan_<name>.c or an adapter) and one row in the table of
 *  sim/plan_registry.c. plan() fills *out (zeroed first by the caller via
 *  cl_plan_run); on error the caller still calls cl_plan_result_fini(out). */
typedef struct cl_planner_i {
  const char *name; /* lookup key: "scission", "neurosurgeon", "dads", "coedge", ... */
  const char *desc; /* one line */
  unsigned needs;   /* CL_PLAN_NEEDS_* */
  cl_status (*plan)(const cl_plan_input *in, cl_plan_result *out);
} cl_planner_i;

/** @brief Number of registered planners. */
int cl_planner_count(void);
/** @brief Planner @p i (0 <= i < count), or NULL. Static, never freed. */
const cl_planner_i *cl_planner_get(int i);
/** @brief The planner named @p name, or NULL. */
const cl_planner_i *cl_planner_find(const char *name);
/** @brief Names of every planner, NULL-terminated, in table order; *n (may be NULL)
 *  receives the count. Static. */
const char *const *cl_planner_list(int *n);
/** @brief CL_OK if @p in has what planner @p p needs, else CL_ERR_UNSUPPORTED (not logged:
 *  a comparison reports the planner as n/a). */
cl_status cl_planner_applies(const cl_planner_i *p, const cl_plan_input *in);

/** @brief Run the planner named @p name on @p in. *out is initialised first; the caller
 *  calls cl_plan_result_fini() in every case. CL_ERR_NOTFOUND: no such planner;
 *  CL_ERR_UNSUPPORTED: the input lacks what it needs (e.g. a graph). */
cl_status cl_plan_run(const char *name, const cl_plan_input *in, cl_plan_result *out);

/** @brief Zero @p in and set defaults (latency objective, no deadline). */
void cl_plan_input_init(cl_plan_input *in);
/** @brief Release what a builder allocated; leaves *in zeroed. NULL-safe. */
void cl_plan_input_fini(cl_plan_input *in);
/** @brief Check sizes, indices, links (logs the first problem): CL_ERR_INVALID. */
cl_status cl_plan_input_check(const cl_plan_input *in);

/** @brief Units = the nodes of @p g (DAG from the graph, output bytes float32, the input
 *  node's output = the raw input), machine m takes host_time[id] / speed seconds
 *  (host_time NULL: flops / (host_gflops * 1e9)). @p machines' seconds are ignored and
 *  replaced by owned arrays; names, tiers and @p links stay borrowed. */
cl_status cl_plan_input_from_graph(const cl_graph *g, const double *host_time,
                                   double host_gflops, int n_machines,
                                   const cl_plan_machine *machines, int n_links,
                                   const cl_plan_link *links, cl_plan_input *out);
/** @brief Units from a profile set: every machine that profiles @p model (name as
 *  profiled: see cl_plan_model_name) becomes a machine, in set order, the first of tier
 *  "device" (else set index 0) moved to index 0; cleave .h5 steps with their DAG when
 *  every machine has them, else Scission blocks as a chain. Links come from @p net
 *  (may be NULL: then set bandwidth_Bps / latency_s). Names stay borrowed from @p set,
 *  which must outlive the input. Powers are 0: set them after. */
cl_status cl_plan_input_from_profiles(const cl_profile_set *set, const char *model,
                                      const cl_netstats *net, cl_plan_input *out);

/** @brief Machines from the nodes of testbed @p tb (name, tier, powers busy/idle/tx/rx;
 *  speed = 1 / the node's slowdown factor, or gflops / host_gflops), links from its
 *  links (both_ways adds the reverse), units from @p g as cl_plan_input_from_graph.
 *  @p tb must outlive the input (names are borrowed). */
cl_status cl_plan_input_from_testbed(const struct cl_testbed *tb, const cl_graph *g, const double *host_time,
                                     double host_gflops, cl_plan_input *out);

/** @brief Attach graph @p g (borrowed) to an input built from profiles, for the spatial
 *  planners: host_gflops is set so that machine 0 takes its profiled total on the graph's
 *  flops (machine speeds are already relative to machine 0). */
cl_status cl_plan_input_attach_graph(cl_plan_input *in, const cl_graph *g);

/** @brief Latency, energy and bytes of placement @p node_of_unit under the cost model
 *  above. CL_ERR_INFEASIBLE if a needed link is missing. Any pointer out may be NULL. */
cl_status cl_plan_eval(const cl_plan_input *in, const int *node_of_unit, double *latency,
                       double *energy, double *bytes);

/** @brief Slowest pipeline stage of placement @p node_of_unit: the largest machine busy
 *  time (unit seconds x load_factor) or per ordered machine pair sum of the transfers'
 *  latency + bytes / bandwidth. Waits do not occupy a stage. CL_ERR_INFEASIBLE as cl_plan_eval. */
cl_status cl_plan_max_stage(const cl_plan_input *in, const int *node_of_unit, double *max_stage);

/* ---- Load-aware native planners (issue 16): Neurosurgeon's server-load input, DADS's
 * heavy-load mode. The cl_ns_input / cl_dads_input of planner.h stay as they are. ---- */

/** Server load seen by Neurosurgeon: the cloud's per-unit seconds are multiplied by
 *  server_load (K >= 1; <= 0 means 1), and a split that uses the cloud waits
 *  server_wait_s before the cloud starts (queueing). mobile_wait_s: queueing before the
 *  mobile starts (charged when split > 0). Waits count as mobile idle energy. */
typedef struct cl_ns_load {
  double mobile_load; /* multiplies the mobile's per-unit seconds (<= 0: 1) */
  double server_load;
  double server_wait_s;
  double mobile_wait_s;
} cl_ns_load;

/** @brief cl_neurosurgeon_eval under @p load (NULL: unloaded, identical to it). */
cl_status cl_neurosurgeon_eval_load(const cl_ns_input *in, const cl_ns_load *load, int split, cl_ns_result *r);
/** @brief cl_neurosurgeon_plan under @p load (NULL: identical to it). */
cl_status cl_neurosurgeon_plan_load(const cl_ns_input *in, const cl_ns_load *load, cl_ns_result *best,
                                    cl_ns_result *all);

/** Load seen by DADS: times multiplied by the loads (<= 0 means 1), waits charged once
 *  when a side runs at least one non-input node, the mode and the arrival rate. */
typedef struct cl_dads_load {
  double device_load, cloud_load;
  double device_wait_s, cloud_wait_s;
  double arrival_rate; /* requests/s, for CL_PLAN_MODE_AUTO */
  int mode;            /* cl_plan_mode */
} cl_dads_load;

/** Pipeline stages of a DADS assignment (load-scaled, waits excluded). */
typedef struct cl_dads_stages {
  double t_device, t_comm, t_cloud; /* s: device compute, device -> cloud transfers, cloud compute */
  double max_stage;                 /* s: the largest of the three (1 / throughput) */
  int heavy;                        /* 1: chosen in heavy-load (throughput) mode */
} cl_dads_stages;

/** @brief Cost of an assignment under @p load: r->latency includes load and waits;
 *  @p stages (may be NULL) its pipeline stages. */
cl_status cl_dads_eval_load(const cl_dads_input *in, const cl_dads_load *load, const unsigned char *on_cloud,
                            cl_dads_result *r, cl_dads_stages *stages);
/** @brief DADS under @p load (NULL: unloaded light mode, = cl_dads_plan). Light mode: the
 *  latency-optimal assignment (exact: min cut on load-scaled times, compared with
 *  all-device and all-cloud because waits are fixed charges). Heavy mode: the assignment
 *  with the smallest max stage (ties: latency) among min cuts of weighted sums
 *  a*t_device + b*t_comm + c*t_cloud over a simplex grid, improved by single-node moves
 *  (a heuristic: the min-max problem is NP-hard in general; docs/planners.md gives its
 *  agreement with brute force). */
cl_status cl_dads_plan_load(const cl_dads_input *in, const cl_dads_load *load, unsigned char *on_cloud,
                            cl_dads_result *r, cl_dads_stages *stages);

struct cl_mu_plan_req; /* include/cleave/multiuser.h */
/** @brief The planner hook of many-user simulations (cl_mu_opts.plan): runs planner
 *  req->planner on the user's graph over its machines, links and measured load; writes
 *  each graph node's machine to @p machine_of_layer. */
cl_status cl_plan_users_hook(const struct cl_mu_plan_req *req, int *machine_of_layer);

/** @brief Zero @p r. */
void cl_plan_result_init(cl_plan_result *r);
/** @brief Free a result's arrays and text; leaves it zeroed. NULL-safe. */
void cl_plan_result_fini(cl_plan_result *r);
/** @brief Placement as one line, e.g. "dev:0-4 srv:5-20" (units in runs per machine) or
 *  "rows dev=0.50 box=0.50 | tail on box" for spatial plans. snprintf semantics. */
int cl_plan_placement_text(const cl_plan_input *in, const cl_plan_result *r, char *buf,
                           size_t cap);

#endif
