/** @file timeline.h
 *  @brief Deterministic discrete-event simulation of inferences over a task DAG:
 *         compute tasks on nodes, transfers on netmodel links, arrival processes
 *         and the energy model.
 *
 *  The same code path serves `cleave sim`, sweeps and the runtime's virtual
 *  clock (which feeds measured or profiled durations). Semantics (full text in
 *  docs/timing-model.md):
 *   - a task is ready at max(release of its inference, finish of its deps);
 *     finish = end for compute, arrival for a transfer;
 *   - a node runs at most `slots` compute tasks at once (default 1); a free slot
 *     takes the ready task with the smallest (ready time, inference, task id);
 *   - a ready transfer is handed to cl_netmodel_send() at its ready time; sends
 *     at equal times go in (inference, task id) order;
 *   - an inference finishes when its last task finishes; latency = finish - release.
 *
 *  Task ids are dense (0, 1, 2, ... in add order); deps must name earlier tasks,
 *  so the graph is acyclic by construction. Inference ids are dense from 0; the
 *  number of inferences is (largest id used) + 1.
 *
 *  Ownership: the timeline borrows the netmodel (it must outlive the timeline);
 *  cl_timeline_run() resets the netmodel first so runs are reproducible. Result
 *  getters are valid after a successful run until the next modification.
 *  Memory: O(tasks + deps) in a few arrays; no per-task allocation.
 */
#ifndef CLEAVE_TIMELINE_H
#define CLEAVE_TIMELINE_H

#include <stdint.h>

#include "cleave/netmodel.h"
#include "cleave/status.h"

/** Power model of one node. Radio J/byte terms add to the W x time terms. */
typedef struct cl_node_power {
  double idle;        /**< W while neither computing nor using the radio */
  double busy;        /**< W per running compute task (per occupied slot) */
  double tx;          /**< W while transmitting (tx_time of each outgoing transfer) */
  double rx;          /**< W while receiving (the same tx_time, at the receiver) */
  double tx_per_byte; /**< J/B at the sender */
  double rx_per_byte; /**< J/B at the receiver */
} cl_node_power;

/** How inferences are released (their arrival times). */
typedef enum cl_arrival_kind {
  CL_ARRIVAL_EXPLICIT = 0,  /**< cl_timeline_set_release() times (default 0 each) */
  CL_ARRIVAL_BACK_TO_BACK,  /**< closed loop: `in_flight` at once, next released when one finishes */
  CL_ARRIVAL_FIXED_RATE,    /**< release(i) = t0 + i / rate */
  CL_ARRIVAL_POISSON,       /**< release(0) = t0, then Exp(mean 1/rate) gaps from `seed` */
  CL_ARRIVAL_COUNT
} cl_arrival_kind;

typedef struct cl_arrival {
  cl_arrival_kind kind;
  double t0;        /**< s: first release */
  double rate;      /**< 1/s, > 0 for FIXED_RATE and POISSON */
  int in_flight;    /**< BACK_TO_BACK window; 0 means 1 */
  uint64_t seed;    /**< POISSON stream seed */
} cl_arrival;

/** Printable name ("explicit", "back_to_back", "fixed_rate", "poisson"). */
const char *cl_arrival_kind_name(cl_arrival_kind k);
/** Parse a name as printed by cl_arrival_kind_name(); CL_ERR_INVALID if unknown. */
cl_status cl_arrival_kind_parse(const char *name, cl_arrival_kind *out);

typedef enum cl_task_kind { CL_TASK_COMPUTE = 0, CL_TASK_TRANSFER = 1 } cl_task_kind;

/** Result of one task. For compute: where = node, end = start + duration, tx fields 0.
 *  For a transfer: where = link, end = arrival. */
typedef struct cl_task_result {
  cl_task_kind kind;
  int inference;
  int where;
  double ready;     /**< s: all deps done and inference released */
  double start;     /**< s: compute start / first byte sent */
  double end;       /**< s: compute end / arrival at the receiver */
  double duration;  /**< s: compute duration / tx_time */
  double latency;   /**< s: transfer's effective latency incl. jitter (0 for compute) */
  uint64_t bytes;   /**< transfer size (0 for compute) */
  double energy;    /**< J: busy energy, or tx + rx radio energy */
  double energy_rx; /**< J: receiver's part of `energy` (transfers) */
} cl_task_result;

typedef struct cl_inference_result {
  double release, finish, latency; /**< s */
  int tasks;
  uint64_t bytes;        /**< bytes moved by its transfers */
  double energy;         /**< J: compute + tx + rx + idle */
  double energy_compute; /**< J */
  double energy_tx;      /**< J */
  double energy_rx;      /**< J */
  double energy_idle;    /**< J: all nodes' idle power over [release, finish] while idle */
} cl_inference_result;

/** Per-node figures over the run span [0, makespan]. */
typedef struct cl_node_result {
  double busy_time;  /**< s: sum of compute durations (concurrent slots add up) */
  double tx_time;    /**< s: sum of outgoing transfers' tx_time */
  double rx_time;    /**< s: sum of incoming transfers' tx_time */
  double active_time;/**< s: measure of the union of compute, tx and rx intervals in the span */
  double idle_time;  /**< s: span - active_time */
  double energy_compute, energy_tx, energy_rx, energy_idle, energy; /**< J */
  int tasks;         /**< compute tasks run here */
} cl_node_result;

typedef struct cl_timeline cl_timeline;

/** @brief Create a timeline for @p n_nodes nodes. @p net (borrowed) may be NULL when no
 *  transfers are added. Caller owns *out (cl_timeline_destroy). */
cl_status cl_timeline_create(cl_netmodel *net, int n_nodes, cl_timeline **out);
/** @brief Free everything. NULL-safe. */
void cl_timeline_destroy(cl_timeline *tl);

/** @brief Concurrent compute slots of a node (>= 1; default 1). */
cl_status cl_timeline_set_slots(cl_timeline *tl, int node, int slots);
/** @brief Power model of a node (copied; default all zero). */
cl_status cl_timeline_set_power(cl_timeline *tl, int node, const cl_node_power *p);
/** @brief Arrival process (copied; default EXPLICIT). */
cl_status cl_timeline_set_arrival(cl_timeline *tl, const cl_arrival *a);
/** @brief Release time of one inference (EXPLICIT arrivals; ignored by the other kinds). */
cl_status cl_timeline_set_release(cl_timeline *tl, int inference, double t);
/** @brief Pre-size arrays for @p tasks tasks and @p deps dependency entries (optional). */
cl_status cl_timeline_reserve(cl_timeline *tl, int tasks, int64_t deps);

/** @brief Add a compute task of @p duration s (>= 0) on @p node. @p deps: @p ndeps earlier
 *  task ids (copied). *id_out receives the new task id (may be NULL). */
cl_status cl_timeline_add_compute(cl_timeline *tl, int inference, int node, double duration,
                                  const int *deps, int ndeps, int *id_out);
/** @brief Add a transfer of @p bytes on netmodel link @p link. */
cl_status cl_timeline_add_transfer(cl_timeline *tl, int inference, int link, uint64_t bytes,
                                   const int *deps, int ndeps, int *id_out);
/** @brief Change a compute task's duration (e.g. measured) before the next run. */
cl_status cl_timeline_set_duration(cl_timeline *tl, int task, double duration);

int cl_timeline_tasks(const cl_timeline *tl);
int cl_timeline_inferences(const cl_timeline *tl);
int cl_timeline_nodes(const cl_timeline *tl);

/** @brief Simulate. Resets the netmodel, computes all results. Deterministic: the same
 *  inputs give bit-identical results. */
cl_status cl_timeline_run(cl_timeline *tl);

/** @brief Finish time of the last task (s); 0 with no tasks. */
double cl_timeline_makespan(const cl_timeline *tl);
cl_status cl_timeline_task(const cl_timeline *tl, int task, cl_task_result *out);
cl_status cl_timeline_inference(const cl_timeline *tl, int inference, cl_inference_result *out);
cl_status cl_timeline_node(const cl_timeline *tl, int node, cl_node_result *out);
/** @brief Total energy over the run (J): sum of cl_node_result.energy. */
double cl_timeline_energy(const cl_timeline *tl);

#endif
