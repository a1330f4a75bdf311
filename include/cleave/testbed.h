/** @file testbed.h
 *  @brief Testbed configuration schema: model, nodes, links, plan, workload,
 *  conditions. Parsed from YAML (include/cleave/config.h) into a plain struct with
 *  every value resolved to SI units and every default filled in; docs/config.md
 *  documents each key.
 *
 *  Every validation error is one line `FILE:LINE:COL: field 'links[1].to': ...` and
 *  CL_ERR_CONFIG; unknown keys are errors too. Checks that need more than the config
 *  (the model exists, layer names exist, enough MPI ranks) are done by the callers:
 *  cl_testbed_resolve_plan() for layer names.
 *
 *  Ownership: cl_testbed_load*() fill a caller-provided struct whose arrays and
 *  strings it owns; cl_testbed_free() releases them (and zeroes the struct).
 */
#ifndef CLEAVE_TESTBED_H
#define CLEAVE_TESTBED_H

#include <stdint.h>

#include "cleave/graph.h"
#include "cleave/netmodel.h" /* cl_jitter */
#include "cleave/status.h"
#include "cleave/timeline.h" /* cl_node_power, cl_arrival */

typedef enum cl_tb_tier { CL_TB_DEVICE = 0, CL_TB_EDGE, CL_TB_CLOUD, CL_TB_TIER_COUNT } cl_tb_tier;

/** Printable tier name ("device", "edge", "cloud"). */
const char *cl_tb_tier_name(cl_tb_tier t);

/** Kinds of network elements (forward traffic, compute nothing, no MPI rank). */
typedef enum cl_tb_element_kind {
  CL_TB_ACCESS_POINT = 0,
  CL_TB_SWITCH,
  CL_TB_ROUTER,
  CL_TB_WAN,
  CL_TB_ELEMENT_COUNT
} cl_tb_element_kind;

/** Printable element kind ("access_point", "switch", "router", "wan"). */
const char *cl_tb_element_kind_name(cl_tb_element_kind k);

/** One emulated node, or (is_element = 1) a network element of the `network:` key. */
typedef struct cl_tb_node {
  char *name;
  cl_tb_tier tier;
  double speed;        /**< slowdown factor vs this host (> 0); 0 when gflops is given */
  double gflops;       /**< target GFLOP/s (> 0); 0 when speed is given. The runtime derives
                            the factor as host_gflops / gflops. */
  int threads;         /**< compute threads, default 1 */
  uint64_t memory;     /**< bytes, memory cap; 0 = no cap */
  cl_node_power power; /**< W and J/B; all 0 when no power model is given */
  int has_power;
  double cpu_load;     /**< background CPU load fraction [0, 1), default 0 */
  double mem_pressure; /**< fraction of the memory cap touched in the background [0, 1] */
  int line;            /**< line of the node's entry */
  char *device;        /**< `device:` catalogue name or file (docs/devices.md), NULL if none */
  int speed_given;     /**< 1: `speed:` was written (with a device: an explicit override) */
  int dvfs_set;        /**< 1: `dvfs:` was written */
  int dvfs;            /**< `dvfs:` DVFS state of the device model (0 = lowest frequency) */
  int is_element;      /**< 1: a network element (stored after the compute nodes) */
  cl_tb_element_kind kind; /**< element kind (is_element only) */
} cl_tb_node;

/** One link (directed; both_ways = 1 means a second identical link to -> from). */
typedef struct cl_tb_link {
  int from, to;        /**< node indices */
  double latency;      /**< s, one way */
  double bandwidth;    /**< B/s (1 Mbit/s = 125000 B/s); with a trace: its first value */
  int both_ways;       /**< default 1 */
  int reorder;         /**< 1: jitter may reorder arrivals; default 0 (TCP-like, in order) */
  cl_jitter jitter;    /**< dist CL_JITTER_NONE when absent */
  int medium;          /**< index into cl_testbed.media, -1 = not shared */
  char *trace_path;    /**< resolved path of the bandwidth trace, NULL if none */
  int trace_n;         /**< trace points */
  double *trace_t;     /**< s, strictly increasing, first >= 0 */
  double *trace_bw;    /**< B/s, >= 0 (0 = link down) */
  int line;
  cl_sharing sharing;  /**< fifo (one transfer at a time) or maxmin (fluid flows); default: the
                            testbed's `sharing:` (fifo) */
} cl_tb_link;

/** An explicit route: transfers from -> to cross the links from, via[0], ..., to. */
typedef struct cl_tb_route {
  int from, to;        /**< vertex indices (nodes or elements) */
  int n_via;
  int *via;            /**< intermediate vertices, in order */
  int line;
} cl_tb_route;

/** One plan entry: a testbed node and the layer spec text that goes there. */
typedef struct cl_tb_plan_entry {
  int node;   /**< testbed node index */
  char *spec; /**< canonical spec: items joined by ", " (names, "a..b", "3-17", "rest") */
  int line, col;
} cl_tb_plan_entry;

typedef enum cl_tb_plan_kind {
  CL_TB_PLAN_NONE = 0, /**< no `plan:` key (a planner decides) */
  CL_TB_PLAN_ENTRIES,  /**< plan: [{node, layers}] */
  CL_TB_PLAN_CUTS      /**< plan: {cuts: [...], nodes: [...]} */
} cl_tb_plan_kind;

typedef struct cl_tb_plan {
  cl_tb_plan_kind kind;
  int n_entries;
  cl_tb_plan_entry *entries;
  int n_cuts;
  char **cuts;       /**< layer names (or decimal indices), split AFTER each */
  int *cut_line;
  int n_chain;
  int *chain;        /**< CUTS: testbed nodes in order (default all nodes in list order) */
  int line, col;     /**< position of the `plan:` value */
} cl_tb_plan;

/** Timed change of a link or a node. Fields < 0 are unchanged. */
typedef struct cl_tb_condition {
  double at;           /**< s from the start of the run (default 0) */
  int link;            /**< link index, or -1 for a node condition */
  int reverse;         /**< 1: the change applies to the reverse direction of a both_ways link */
  int node;            /**< node index, or -1 for a link condition */
  double bandwidth;    /**< B/s */
  double latency;      /**< s */
  double cpu_load;     /**< fraction */
  double mem_pressure; /**< fraction */
  int line;
} cl_tb_condition;

/** What a planner user's planner sees of the load (`planner: {load: ...}`). */
enum { CL_TB_LOAD_WAIT = 0, CL_TB_LOAD_UTILISATION, CL_TB_LOAD_NONE };

/** A user's planner (`planner:` instead of `plan:`; docs/network.md). */
typedef struct cl_tb_user_planner {
  char *name;  /**< a layer planner of include/cleave/plan.h; NULL: the user has a `plan:` */
  int n_nodes;
  int *nodes;  /**< compute nodes it may use; nodes[0] is the source (holds the input) */
  int load;    /**< CL_TB_LOAD_*: measured waits (default), utilisation as a load factor, or none */
  int mode;    /**< cl_plan_mode (plan.h): 0 auto, 1 latency, 2 throughput (DADS's modes) */
} cl_tb_user_planner;

/** A request source (`users:`): its own model, plan and arrival process. */
typedef struct cl_tb_user {
  char *name;
  char *model;        /**< zoo name or resolved .onnx path (default: the testbed's model) */
  int model_is_onnx;
  int model_default;  /**< 1: no `model:` of its own, model is the testbed's (a sweep that
                           changes the testbed's model changes this user's too) */
  cl_tb_plan plan;    /**< entries or cuts over compute nodes; must form a chain of nodes */
  int inferences;     /**< >= 1, default 1 */
  cl_arrival arrival; /**< FIXED_RATE (`periodic`, default) or POISSON; t0 = `start`, rate,
                           seed (default: global seed + user index) */
  int line;
  cl_tb_user_planner planner; /**< planner.name != NULL: placed by a planner (plan unused) */
} cl_tb_user;

typedef struct cl_testbed {
  char *source;       /**< config file path or display name */
  char *model;        /**< zoo name, or resolved path of an .onnx file */
  int model_is_onnx;
  uint64_t seed;      /**< global seed, default 1 */
  int wall_clock;     /**< clock: 0 virtual (default), 1 wall */
  int model_clock;    /**< clock: model (virtual; device nodes charged their device model's time) */
  int clock_line;     /**< line of `clock:` (0 if absent) */
  int backend;        /**< backend: cl_backend (AUTO default, PORTABLE, DNNL) */
  char *profile;      /**< resolved path of an HDF5 profile, or NULL */
  int n_nodes;         /**< compute nodes (one MPI rank each) */
  cl_tb_node *nodes;   /**< [n_nodes + n_elements]: compute nodes, then network elements;
                            link ends and routes index this whole array ("vertices") */
  int n_elements;      /**< network elements (the `network:` key), after the nodes */
  cl_sharing sharing;  /**< default sharing of links (`sharing:`, default fifo) */
  int n_routes;
  cl_tb_route *routes; /**< explicit routes (`routes:`); other pairs use shortest paths */
  int n_links;
  cl_tb_link *links;
  int n_media;
  char **media;       /**< shared medium names */
  cl_tb_plan plan;
  int inferences;     /**< >= 1, default 1 */
  cl_arrival arrival; /**< kind back_to_back (default) / fixed_rate / poisson, rate (1/s),
                           in_flight (default 1), seed (default: global seed) */
  int n_conditions;
  cl_tb_condition *conditions; /**< sorted by `at` (stable) */
  int n_users;        /**< request sources (`users:`), 0 = the single-model workload above */
  cl_tb_user *users;
  void *names_;       /**< private: name -> vertex hash index of the loader (runtime/testbed.c);
                           NULL (a testbed built by hand): lookups scan the nodes */
} cl_testbed;

/** @brief Load and validate a testbed config file. Relative paths in it (trace,
 *  profile, .onnx model) are resolved against the file's directory. */
cl_status cl_testbed_load(const char *path, cl_testbed *tb);
/** @brief As cl_testbed_load, from text. @p name appears in messages; relative paths
 *  resolve against dirname(name) when name contains a '/' (and does not start with
 *  '<'), else against the current directory. */
cl_status cl_testbed_load_string(const char *name, const char *text, cl_testbed *tb);
/** @brief Free everything the testbed owns and zero it. NULL-safe, idempotent. */
void cl_testbed_free(cl_testbed *tb);

/** @brief Compute node index by name, -1 if absent. */
int cl_testbed_find_node(const cl_testbed *tb, const char *name);
/** @brief Vertex index (a compute node or a network element) by name, -1 if absent. */
int cl_testbed_find_vertex(const cl_testbed *tb, const char *name);
/** @brief Register tb's explicit routes in @p net, whose plain links join vertex indices as
 *  tb's links do (one netmodel link per direction). Errors name the route's line. */
cl_status cl_testbed_add_routes(const cl_testbed *tb, cl_netmodel *net);
/** @brief The testbed's link model: media, links (ids in link order, the reverse direction
 *  of a both_ways link right after it), timed link conditions, explicit routes. Node
 *  conditions are the caller's. Caller owns *out (cl_netmodel_destroy). */
cl_status cl_testbed_netmodel(const cl_testbed *tb, cl_netmodel **out);
/** @brief Register in @p net the route of every pair of nodes a tensor crosses under
 *  @p node_of_layer (cl_testbed_resolve_plan), so that every process holding the same
 *  testbed has the same link and route ids (wall mode looks routes up on every rank).
 *  Pairs with no path are left to cl_rt_build's error. */
cl_status cl_testbed_plan_routes(const cl_graph *g, const int *node_of_layer, cl_netmodel *net);
/** @brief Link from -> to: its index, or -1. With both_ways links also matches the
 *  reverse direction and sets *reverse = 1 (reverse may be NULL). */
int cl_testbed_find_link(const cl_testbed *tb, int from, int to, int *reverse);

/** @brief Map every graph node to a testbed node: node_of_layer[cl_graph_size(g)].
 *  Errors (logged with the plan's file:line, CL_ERR_CONFIG): unknown layer names or
 *  indices, a layer assigned twice, unassigned layers, a plan of kind NONE. Graph
 *  input nodes not named by the plan go to nodes[0]. */
cl_status cl_testbed_resolve_plan(const cl_testbed *tb, const cl_graph *g, int *node_of_layer);

/** @brief The fully resolved config as canonical YAML (every default filled in, stable
 *  order; loads back to the same testbed). Caller frees *text. */
cl_status cl_testbed_to_yaml(const cl_testbed *tb, char **text);

#endif
