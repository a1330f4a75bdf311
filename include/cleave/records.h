/** @file records.h
 *  @brief Every HDF5 record table cleave writes, declared once.
 *
 *  Each table's columns are an X-macro list `X(T, ctype, name, dim, ftype, unit, dict, desc)`
 *  that produces both the C record struct (CL_REC_MEMBER) and the store's field table
 *  (CL_REC_FIELD, in runtime/store/records.c). Writers append these structs; readers pass
 *  the same descriptors (or a prefix of the base schema) to cl_reader_read / cl_rec_read.
 *  docs/store.md's field tables are generated from these lists (`test_records --write`)
 *  and a test fails when they differ.
 *
 *  /inferences means one thing: every variant starts with the base columns
 *  CL_REC_INFERENCE_BASE (inference, latency, energy: same names, types, units and
 *  meaning everywhere), so any reader that needs only those reads any /inferences with
 *  CL_REC_INFERENCES (the base descriptor; fields are matched by name). Kinds extend it
 *  with columns declared here, never elsewhere:
 *    - cleave run:      base + TIMELINE (release, finish, bytes) + RUN (energy split, wall)
 *    - testbed sweeps:  SWEEP_KEY (attempt, model, plan) + base + TIMELINE
 *    - CoEdge runs:     base + COEDGE (planner, plan, predictions, deadline, ...)
 *    - cleave run with users: USER_KEY (user, model) + base + TIMELINE + USER (wait, stages)
 *  Per-point CoEdge sweep rows are not inferences: they live in /sweep/coedge.
 */
#ifndef CLEAVE_RECORDS_H
#define CLEAVE_RECORDS_H

#include <stdint.h>
#include <stdio.h>

#include "cleave/store.h"

/* X(T, ctype, name, dim, ftype, unit, dict, desc): dim is "" or an array size [N]. */
#define CL_REC_MEMBER(T, ctype, name, dim, ftype, unit, dict, desc) ctype name dim;

/* ---- /inferences ---- */
#define CL_REC_INFERENCE_BASE(X, T)                                                          \
  X(T, int32_t, inference, , CL_F_INT32, "", NULL, "inference index (0, 1, ... within the run or point)") \
  X(T, double, latency, , CL_F_FLOAT64, "s", NULL, "end-to-end latency of the inference")   \
  X(T, double, energy, , CL_F_FLOAT64, "J", NULL, "energy of the inference, all nodes")
#define CL_REC_INFERENCE_TIMELINE(X, T)                                                      \
  X(T, double, release, , CL_F_FLOAT64, "s", NULL, "arrival (release) time, virtual clock") \
  X(T, double, finish, , CL_F_FLOAT64, "s", NULL, "last task done (latency = finish - release)") \
  X(T, int64_t, bytes, , CL_F_INT64, "B", NULL, "bytes moved between nodes")
#define CL_REC_INFERENCE_RUN(X, T)                                                           \
  X(T, double, energy_compute, , CL_F_FLOAT64, "J", NULL, "busy power x compute time")       \
  X(T, double, energy_tx, , CL_F_FLOAT64, "J", NULL, "transmit energy")                      \
  X(T, double, energy_rx, , CL_F_FLOAT64, "J", NULL, "receive energy")                       \
  X(T, double, energy_idle, , CL_F_FLOAT64, "J", NULL, "idle power of all nodes while idle") \
  X(T, double, wall_latency, , CL_F_FLOAT64, "s", NULL, "wall mode: measured latency (NaN in virtual mode)")
#define CL_REC_SWEEP_KEY(X, T)                                                               \
  X(T, int64_t, attempt, , CL_F_INT64, "", NULL, "attempt key of the point (joins /sweep/points)") \
  X(T, int32_t, model, , CL_F_INT32, "", "models", "model")                                 \
  X(T, int32_t, plan, , CL_F_INT32, "", "plans", "plan")
#define CL_REC_INFERENCE_COEDGE(X, T)                                                        \
  X(T, char, planner, [16], CL_F_STRING, "", NULL, "planner")                               \
  X(T, int32_t, plan_id, , CL_F_INT32, "", NULL, "plan number (changes with the split)")    \
  X(T, char, plan, [128], CL_F_STRING, "", NULL, "row split: rows y0-y1:device")             \
  X(T, double, planned_latency, , CL_F_FLOAT64, "s", NULL, "planner's prediction")          \
  X(T, double, planned_energy, , CL_F_FLOAT64, "J", NULL, "planner's prediction")           \
  X(T, double, deadline, , CL_F_FLOAT64, "s", NULL, "latency deadline (0: none)")            \
  X(T, int32_t, met_deadline, , CL_F_INT32, "", NULL, "latency <= deadline")                 \
  X(T, int32_t, replanned, , CL_F_INT32, "", NULL, "the planner ran after the previous inference") \
  X(T, double, bandwidth, , CL_F_FLOAT64, "B/s", NULL, "true WLAN bandwidth")               \
  X(T, double, min_speed_ratio, , CL_F_FLOAT64, "1", NULL, "min over devices of true / nominal speed") \
  X(T, int32_t, probed, , CL_F_INT32, "", NULL, "idle (unobserved) devices probed after this inference") \
  X(T, double, probe_energy, , CL_F_FLOAT64, "J", NULL, "energy of those probes (not included in energy)")

#define CL_REC_USER_KEY(X, T)                                                                \
  X(T, int32_t, user, , CL_F_INT32, "", "users", "request source (`users:` entry)")          \
  X(T, int32_t, model, , CL_F_INT32, "", "models", "the user's model")
#define CL_REC_INFERENCE_USER(X, T)                                                          \
  X(T, double, wait, , CL_F_FLOAT64, "s", NULL, "queueing: sum over its tasks of start - ready (nodes, FIFO links)") \
  X(T, int32_t, stages, , CL_F_INT32, "", NULL, "compute stages of the user's chain of nodes")

/** Fill the base and TIMELINE columns of /inferences record @p rec (any variant that has
 *  them) from inference @p idx's cl_inference_result @p ir (include/cleave/timeline.h). */
#define CL_REC_INFERENCE_SET_TIMELINE(rec, idx, ir) \
  do {                                              \
    (rec).inference = (idx);                        \
    (rec).latency = (ir).latency;                   \
    (rec).energy = (ir).energy;                     \
    (rec).release = (ir).release;                   \
    (rec).finish = (ir).finish;                     \
    (rec).bytes = (int64_t)(ir).bytes;              \
  } while (0)

typedef struct cl_rec_inference {
  CL_REC_INFERENCE_BASE(CL_REC_MEMBER, _)
} cl_rec_inference;
typedef struct cl_rec_inference_run {
  CL_REC_INFERENCE_BASE(CL_REC_MEMBER, _)
  CL_REC_INFERENCE_TIMELINE(CL_REC_MEMBER, _)
  CL_REC_INFERENCE_RUN(CL_REC_MEMBER, _)
} cl_rec_inference_run;
typedef struct cl_rec_inference_sweep {
  CL_REC_SWEEP_KEY(CL_REC_MEMBER, _)
  CL_REC_INFERENCE_BASE(CL_REC_MEMBER, _)
  CL_REC_INFERENCE_TIMELINE(CL_REC_MEMBER, _)
} cl_rec_inference_sweep;
typedef struct cl_rec_inference_users {
  CL_REC_USER_KEY(CL_REC_MEMBER, _)
  CL_REC_INFERENCE_BASE(CL_REC_MEMBER, _)
  CL_REC_INFERENCE_TIMELINE(CL_REC_MEMBER, _)
  CL_REC_INFERENCE_USER(CL_REC_MEMBER, _)
} cl_rec_inference_users;
typedef struct cl_rec_inference_coedge {
  CL_REC_INFERENCE_BASE(CL_REC_MEMBER, _)
  CL_REC_INFERENCE_COEDGE(CL_REC_MEMBER, _)
} cl_rec_inference_coedge;

/* ---- cleave run: /layers, /transfers, /nodes ---- */
#define CL_REC_RUN_LAYER(X, T)                                                               \
  X(T, int32_t, inference, , CL_F_INT32, "", NULL, "inference index")                        \
  X(T, int32_t, node, , CL_F_INT32, "", "nodes", "testbed node that ran the layer")          \
  X(T, int32_t, layer, , CL_F_INT32, "", "layers", "layer (executor step label)")            \
  X(T, int32_t, step, , CL_F_INT32, "", NULL, "step index on its node")                      \
  X(T, int32_t, out_node, , CL_F_INT32, "", NULL, "graph node id of the step's output")      \
  X(T, double, start, , CL_F_FLOAT64, "s", NULL, "start time (virtual, or wall since run start)") \
  X(T, double, end, , CL_F_FLOAT64, "s", NULL, "end time")                                   \
  X(T, double, duration, , CL_F_FLOAT64, "s", NULL, "cpu_time x slowdown (virtual) or measured (wall)") \
  X(T, double, cpu_time, , CL_F_FLOAT64, "s", NULL, "measured thread CPU time on this host") \
  X(T, double, slowdown, , CL_F_FLOAT64, "1", NULL, "effective slowdown of the node")       \
  X(T, double, energy, , CL_F_FLOAT64, "J", NULL, "busy power x duration")
/* Sender/receiver columns are src_node/dst_node: `src` is cleave merge's input column. */
#define CL_REC_RUN_TRANSFER(X, T)                                                            \
  X(T, int32_t, inference, , CL_F_INT32, "", NULL, "inference index")                        \
  X(T, int32_t, src_node, , CL_F_INT32, "", "nodes", "sending node")                       \
  X(T, int32_t, dst_node, , CL_F_INT32, "", "nodes", "receiving node")                       \
  X(T, int32_t, tensor, , CL_F_INT32, "", "tensors", "graph node whose output travels")     \
  X(T, int64_t, bytes, , CL_F_INT64, "B", NULL, "payload bytes (float32 tensor)")            \
  X(T, double, ready, , CL_F_FLOAT64, "s", NULL, "tensor ready at the sender")               \
  X(T, double, start, , CL_F_FLOAT64, "s", NULL, "first byte leaves (after link/medium queueing)") \
  X(T, double, arrival, , CL_F_FLOAT64, "s", NULL, "model arrival: start + latency + bytes/bandwidth (+jitter)") \
  X(T, double, tx_time, , CL_F_FLOAT64, "s", NULL, "transmission time")                      \
  X(T, double, latency, , CL_F_FLOAT64, "s", NULL, "effective one-way latency incl. jitter") \
  X(T, double, energy, , CL_F_FLOAT64, "J", NULL, "tx + rx radio energy")                    \
  X(T, double, wall_arrival, , CL_F_FLOAT64, "s", NULL, "wall mode: measured arrival (NaN in virtual mode)") \
  X(T, double, wall_error, , CL_F_FLOAT64, "s", NULL,                                        \
    "wall mode: measured arrival - emulated target (send start + latency + bytes/bandwidth)")
#define CL_REC_RUN_NODE(X, T)                                                                \
  X(T, int32_t, node, , CL_F_INT32, "", "nodes", "testbed node")                             \
  X(T, char, tier, [16], CL_F_STRING, "", NULL, "device / edge / cloud")                    \
  X(T, double, slowdown, , CL_F_FLOAT64, "1", NULL, "effective slowdown")                   \
  X(T, double, busy_time, , CL_F_FLOAT64, "s", NULL, "compute time over the run")            \
  X(T, double, tx_time, , CL_F_FLOAT64, "s", NULL, "transmit time")                          \
  X(T, double, rx_time, , CL_F_FLOAT64, "s", NULL, "receive time")                           \
  X(T, double, idle_time, , CL_F_FLOAT64, "s", NULL, "idle time over [0, makespan]")         \
  X(T, double, energy, , CL_F_FLOAT64, "J", NULL, "total energy over [0, makespan]")         \
  X(T, double, energy_compute, , CL_F_FLOAT64, "J", NULL, "compute energy")                  \
  X(T, double, energy_tx, , CL_F_FLOAT64, "J", NULL, "transmit energy")                      \
  X(T, double, energy_rx, , CL_F_FLOAT64, "J", NULL, "receive energy")                       \
  X(T, double, energy_idle, , CL_F_FLOAT64, "J", NULL, "idle energy")
typedef struct cl_rec_run_layer { CL_REC_RUN_LAYER(CL_REC_MEMBER, _) } cl_rec_run_layer;
typedef struct cl_rec_run_transfer { CL_REC_RUN_TRANSFER(CL_REC_MEMBER, _) } cl_rec_run_transfer;
typedef struct cl_rec_run_node { CL_REC_RUN_NODE(CL_REC_MEMBER, _) } cl_rec_run_node;

/* ---- cleave profile: /profile/layers, /profile/blocks, /profile/samples ---- */
#define CL_REC_PROFILE_SUMMARY(X, T)                                                         \
  X(T, double, mean, , CL_F_FLOAT64, "s", NULL, "mean time over repetitions")                \
  X(T, double, median, , CL_F_FLOAT64, "s", NULL, "median time")                             \
  X(T, double, std, , CL_F_FLOAT64, "s", NULL, "sample standard deviation")                  \
  X(T, double, min, , CL_F_FLOAT64, "s", NULL, "fastest repetition")                         \
  X(T, double, max, , CL_F_FLOAT64, "s", NULL, "slowest repetition")                         \
  X(T, double, p5, , CL_F_FLOAT64, "s", NULL, "5th percentile")                              \
  X(T, double, p95, , CL_F_FLOAT64, "s", NULL, "95th percentile")                            \
  X(T, double, ci_lo, , CL_F_FLOAT64, "s", NULL, "95% CI of the median, lower (order statistic)") \
  X(T, double, ci_hi, , CL_F_FLOAT64, "s", NULL, "95% CI of the median, upper (order statistic)") \
  X(T, double, share, , CL_F_FLOAT64, "1", NULL, "median as a fraction of the sum of medians")
#define CL_REC_PROFILE_LAYER(X, T)                                                           \
  X(T, int32_t, model, , CL_F_INT32, "", "models", "model name id")                          \
  X(T, int32_t, step, , CL_F_INT32, "", NULL, "executor step (fused layer) index, execution order") \
  X(T, int32_t, node, , CL_F_INT32, "", NULL, "first graph node of the step")                \
  X(T, int32_t, out_node, , CL_F_INT32, "", NULL, "graph node whose output the step produces") \
  X(T, int32_t, block, , CL_F_INT32, "", NULL, "cut block containing the step")              \
  X(T, int32_t, n_nodes, , CL_F_INT32, "", NULL, "graph nodes fused into the step")          \
  X(T, char, name, [96], CL_F_STRING, "", NULL, "step label: first node name + fused nodes") \
  X(T, char, op, [16], CL_F_STRING, "", NULL, "op of the first node")                        \
  X(T, int32_t, c, , CL_F_INT32, "", NULL, "output channels")                                \
  X(T, int32_t, h, , CL_F_INT32, "", NULL, "output height")                                  \
  X(T, int32_t, w, , CL_F_INT32, "", NULL, "output width")                                   \
  X(T, int64_t, out_bytes, , CL_F_INT64, "B", NULL, "output tensor bytes (float32)")         \
  X(T, int64_t, params, , CL_F_INT64, "", NULL, "learnable parameters")                      \
  X(T, int64_t, macs, , CL_F_INT64, "", NULL, "multiply-accumulates")                        \
  X(T, int64_t, flops, , CL_F_INT64, "", NULL, "floating-point operations")                  \
  CL_REC_PROFILE_SUMMARY(X, T)                                                               \
  X(T, double, cpu_median, , CL_F_FLOAT64, "s", NULL, "median thread CPU time")
#define CL_REC_PROFILE_BLOCK(X, T)                                                           \
  X(T, int32_t, model, , CL_F_INT32, "", "models", "model name id")                          \
  X(T, int32_t, block, , CL_F_INT32, "", NULL, "cut block index (split only between blocks)") \
  X(T, int32_t, first_step, , CL_F_INT32, "", NULL, "first step of the block")               \
  X(T, int32_t, last_step, , CL_F_INT32, "", NULL, "last step of the block")                 \
  X(T, int32_t, first_node, , CL_F_INT32, "", NULL, "first graph node of the block")         \
  X(T, int32_t, last_node, , CL_F_INT32, "", NULL, "last graph node (the cut point after the block)") \
  X(T, char, first_name, [96], CL_F_STRING, "", NULL, "first layer name")                    \
  X(T, char, last_name, [96], CL_F_STRING, "", NULL, "last layer name")                      \
  X(T, int64_t, out_bytes, , CL_F_INT64, "B", NULL, "bytes crossing a cut after this block") \
  X(T, int64_t, macs, , CL_F_INT64, "", NULL, "multiply-accumulates of the block")           \
  CL_REC_PROFILE_SUMMARY(X, T)
#define CL_REC_PROFILE_SAMPLE(X, T)                                                          \
  X(T, int32_t, model, , CL_F_INT32, "", "models", "model name id")                          \
  X(T, int32_t, rep, , CL_F_INT32, "", NULL, "repetition")                                   \
  X(T, int32_t, step, , CL_F_INT32, "", NULL, "executor step")                               \
  X(T, int32_t, block, , CL_F_INT32, "", NULL, "cut block")                                  \
  X(T, double, seconds, , CL_F_FLOAT64, "s", NULL, "wall time of the step (x slowdown)")     \
  X(T, double, cpu_seconds, , CL_F_FLOAT64, "s", NULL, "thread CPU time of the step (x slowdown)")
/* cleave profile --device NAME: the step's emulated time and energy on that device model. */
#define CL_REC_PROFILE_ENERGY(X, T)                                                          \
  X(T, int32_t, model, , CL_F_INT32, "", "models", "model name id")                          \
  X(T, int32_t, step, , CL_F_INT32, "", NULL, "executor step (as in /profile/layers)")       \
  X(T, int32_t, out_node, , CL_F_INT32, "", NULL, "graph node whose output the step produces") \
  X(T, char, device, [64], CL_F_STRING, "", NULL, "device model (configs/devices/NAME.yaml)") \
  X(T, double, device_s, , CL_F_FLOAT64, "s", NULL, "device model time of the step's layers") \
  X(T, double, host_s, , CL_F_FLOAT64, "s", NULL, "this host's calibrated time of the step's layers") \
  X(T, double, slowdown, , CL_F_FLOAT64, "1", NULL, "factor applied to the measured times: device_s / host_s") \
  X(T, double, host_median, , CL_F_FLOAT64, "s", NULL, "median thread CPU time measured on this host") \
  X(T, double, time, , CL_F_FLOAT64, "s", NULL, "median emulated time on the device (host CPU time x slowdown)") \
  X(T, double, time_ci_lo, , CL_F_FLOAT64, "s", NULL, "95% CI of the median emulated time, lower") \
  X(T, double, time_ci_hi, , CL_F_FLOAT64, "s", NULL, "95% CI of the median emulated time, upper") \
  X(T, double, power, , CL_F_FLOAT64, "W", NULL, "busy power of the device")                  \
  X(T, double, energy, , CL_F_FLOAT64, "J", NULL, "busy power x median emulated time (no idle: the device is never idle inside an inference)") \
  X(T, double, energy_ci_lo, , CL_F_FLOAT64, "J", NULL, "busy power x time_ci_lo")           \
  X(T, double, energy_ci_hi, , CL_F_FLOAT64, "J", NULL, "busy power x time_ci_hi")           \
  X(T, double, energy_dynamic, , CL_F_FLOAT64, "J", NULL, "(busy - idle power) x median time: the part above idle")
typedef struct cl_rec_profile_layer { CL_REC_PROFILE_LAYER(CL_REC_MEMBER, _) } cl_rec_profile_layer;
typedef struct cl_rec_profile_energy { CL_REC_PROFILE_ENERGY(CL_REC_MEMBER, _) } cl_rec_profile_energy;
typedef struct cl_rec_profile_block { CL_REC_PROFILE_BLOCK(CL_REC_MEMBER, _) } cl_rec_profile_block;
typedef struct cl_rec_profile_sample { CL_REC_PROFILE_SAMPLE(CL_REC_MEMBER, _) } cl_rec_profile_sample;

/* ---- cleave sweep: /sweep/points, /sweep/configs, /sweep/coedge, /adaptive/..., /plan/choices ---- */
#define CL_REC_SWEEP_POINT(X, T)                                                             \
  X(T, int64_t, attempt, , CL_F_INT64, "", NULL, "attempt key: joins this point's rows in other tables") \
  X(T, int32_t, grid, , CL_F_INT32, "", NULL, "index in the experiment's full grid")         \
  X(T, int32_t, kind, , CL_F_INT32, "", NULL, "kind id: 0 testbed, 1 adaptive, 2 coedge, 3 plan, 4 users (attribute kind: name)")             \
  X(T, int32_t, model, , CL_F_INT32, "", "models", "model")                                 \
  X(T, int32_t, plan, , CL_F_INT32, "", "plans", "plan (testbed), best cut (adaptive), planner (coedge, plan)") \
  X(T, int32_t, rank, , CL_F_INT32, "", NULL, "MPI rank that evaluated the point")           \
  X(T, int32_t, n_factors, , CL_F_INT32, "", NULL, "factors used (f0.. ; names in attributes factor<i>)") \
  X(T, int32_t, failed, , CL_F_INT32, "", NULL, "1 if the evaluation failed")                \
  X(T, double, f0, , CL_F_FLOAT64, "SI", NULL, "level of factor 0 (name and unit in attributes factor0, factor0_unit)") \
  X(T, double, f1, , CL_F_FLOAT64, "SI", NULL, "level of factor 1")                          \
  X(T, double, f2, , CL_F_FLOAT64, "SI", NULL, "level of factor 2")                          \
  X(T, double, f3, , CL_F_FLOAT64, "SI", NULL, "level of factor 3")                          \
  X(T, double, f4, , CL_F_FLOAT64, "SI", NULL, "level of factor 4")                          \
  X(T, double, f5, , CL_F_FLOAT64, "SI", NULL, "level of factor 5")                          \
  X(T, double, f6, , CL_F_FLOAT64, "SI", NULL, "level of factor 6")                          \
  X(T, double, f7, , CL_F_FLOAT64, "SI", NULL, "level of factor 7")                          \
  X(T, double, latency, , CL_F_FLOAT64, "s", NULL, "latency of the point (the kind's summary; docs/experiments.md)") \
  X(T, double, energy, , CL_F_FLOAT64, "J", NULL, "energy of the point (the kind's summary)") \
  X(T, double, seconds, , CL_F_FLOAT64, "s", NULL, "wall time spent evaluating the point")   \
  X(T, char, id, [65], CL_F_STRING, "", NULL, "point id: SHA-256 of the resolved config text")
#define CL_REC_SWEEP_CONFIG(X, T)                                                            \
  X(T, int64_t, attempt, , CL_F_INT64, "", NULL, "attempt key of the point")                 \
  X(T, int32_t, part, , CL_F_INT32, "", NULL, "chunk number (concatenate in order)")         \
  X(T, char, text, [244], CL_F_STRING, "", NULL, "chunk of the resolved config text")
/* Testbed sweeps: one row per (point, inference, executed layer), as /layers of cleave run. */
#define CL_REC_SWEEP_LAYER(X, T)                                                             \
  X(T, int64_t, attempt, , CL_F_INT64, "", NULL, "attempt key of the point (joins /sweep/points)") \
  X(T, int32_t, inference, , CL_F_INT32, "", NULL, "inference index")                        \
  X(T, int32_t, node, , CL_F_INT32, "", "nodes", "testbed node that ran the layer")          \
  X(T, int32_t, step, , CL_F_INT32, "", NULL, "step index on its node")                      \
  X(T, int32_t, out_node, , CL_F_INT32, "", NULL, "graph node id of the step's output")      \
  X(T, double, start, , CL_F_FLOAT64, "s", NULL, "start time (virtual)")                     \
  X(T, double, duration, , CL_F_FLOAT64, "s", NULL, "cpu_time x slowdown (virtual)")          \
  X(T, double, slowdown, , CL_F_FLOAT64, "1", NULL, "slowdown charged to the step (node or device factor)") \
  X(T, double, power, , CL_F_FLOAT64, "W", NULL, "busy power of the node")                   \
  X(T, double, energy, , CL_F_FLOAT64, "J", NULL, "busy power x duration (idle and radio energy: /inferences.energy)")
#define CL_REC_SWEEP_COEDGE(X, T)                                                            \
  X(T, int64_t, attempt, , CL_F_INT64, "", NULL, "attempt key of the point")                 \
  X(T, int32_t, model, , CL_F_INT32, "", "models", "model")                                 \
  X(T, int32_t, planner, , CL_F_INT32, "", "planners", "planner")                           \
  X(T, int32_t, feasible, , CL_F_INT32, "", NULL, "1 if the deadline was met (or none)")     \
  X(T, int32_t, devices_used, , CL_F_INT32, "", NULL, "devices with work")                   \
  X(T, double, deadline, , CL_F_FLOAT64, "s", NULL, "latency deadline (0 = none)")           \
  X(T, double, bandwidth, , CL_F_FLOAT64, "B/s", NULL, "WLAN bandwidth (0 = devices file)")  \
  X(T, double, latency, , CL_F_FLOAT64, "s", NULL, "measured latency per inference (median)") \
  X(T, double, energy, , CL_F_FLOAT64, "J", NULL, "energy per inference, all devices")       \
  X(T, double, planned_latency, , CL_F_FLOAT64, "s", NULL, "planner's prediction")          \
  X(T, double, planned_energy, , CL_F_FLOAT64, "J", NULL, "planner's prediction")           \
  X(T, double, plan_seconds, , CL_F_FLOAT64, "s", NULL, "planner run time")                  \
  X(T, char, plan, [256], CL_F_STRING, "", NULL, "plan summary")
#define CL_REC_ADAPTIVE_UNIT(X, T)                                                           \
  X(T, int64_t, attempt, , CL_F_INT64, "", NULL, "attempt key: joins /adaptive/profile rows") \
  X(T, int32_t, model, , CL_F_INT32, "", "models", "model")                                 \
  X(T, int32_t, threads, , CL_F_INT32, "", NULL, "executor threads (= burner threads)")     \
  X(T, int32_t, reps, , CL_F_INT32, "", NULL, "timed repetitions")                           \
  X(T, int32_t, steps, , CL_F_INT32, "", NULL, "executor steps")                             \
  X(T, double, cpu_load, , CL_F_FLOAT64, "1", NULL, "background CPU load during profiling")  \
  X(T, double, mem_pressure, , CL_F_FLOAT64, "1", NULL, "fraction of mem_cap rewritten in the background") \
  X(T, double, seconds, , CL_F_FLOAT64, "s", NULL, "wall time of the profiling")            \
  X(T, double, burn_cpu, , CL_F_FLOAT64, "s", NULL, "CPU seconds the burner threads used")   \
  X(T, int32_t, repeat, , CL_F_INT32, "", NULL, "repeat of this (model, CPU, memory) unit (interleaved with the others)") \
  X(T, double, started, , CL_F_FLOAT64, "s", NULL, "start of the profiling, Unix time (CLOCK_REALTIME)") \
  X(T, char, id, [65], CL_F_STRING, "", NULL, "SHA-256 of the unit's description")
#define CL_REC_ADAPTIVE_PROFILE(X, T)                                                        \
  X(T, int64_t, attempt, , CL_F_INT64, "", NULL, "attempt key of the profile unit")          \
  X(T, int32_t, step, , CL_F_INT32, "", NULL, "executor step")                               \
  X(T, int32_t, rep, , CL_F_INT32, "", NULL, "repetition")                                   \
  X(T, double, wall, , CL_F_FLOAT64, "s", NULL, "wall time of the step under the condition") \
  X(T, double, cpu, , CL_F_FLOAT64, "s", NULL, "thread CPU time of the step")
#define CL_REC_ADAPTIVE_LAYER(X, T)                                                          \
  X(T, int64_t, attempt, , CL_F_INT64, "", NULL, "attempt key of the (model, condition) point") \
  X(T, int32_t, cut, , CL_F_INT32, "", NULL, "cut index (see /adaptive/cuts)")               \
  X(T, int32_t, step, , CL_F_INT32, "", NULL, "layer (executor step)")                       \
  X(T, int32_t, rep, , CL_F_INT32, "", NULL, "repetition")                                   \
  X(T, float, start, , CL_F_FLOAT32, "s", NULL, "start within the inference (virtual)")      \
  X(T, float, time, , CL_F_FLOAT32, "s", NULL, "duration (virtual: profiled wall x node speed)") \
  X(T, float, energy, , CL_F_FLOAT32, "J", NULL, "busy power of its node x time")            \
  X(T, uint8_t, where, , CL_F_UINT8, "", NULL, "0 edge, 1 cloud")
#define CL_REC_ADAPTIVE_CUT(X, T)                                                            \
  X(T, int64_t, attempt, , CL_F_INT64, "", NULL, "attempt key of the (model, condition) point") \
  X(T, int32_t, model, , CL_F_INT32, "", "models", "model")                                 \
  X(T, int32_t, cut, , CL_F_INT32, "", NULL, "cut index")                                    \
  X(T, int32_t, cut_node, , CL_F_INT32, "", NULL, "graph node the model is cut after")       \
  X(T, int32_t, edge_steps, , CL_F_INT32, "", NULL, "layers on the edge")                    \
  X(T, int32_t, best, , CL_F_INT32, "", NULL, "1 for the lowest median latency of this condition") \
  X(T, int32_t, base_best, , CL_F_INT32, "", NULL, "1 for the best cut of the unstressed condition (levels 0)") \
  X(T, int32_t, ebest, , CL_F_INT32, "", NULL, "1 for the lowest median energy of this condition (energy-optimal cut)") \
  X(T, double, edge_s, , CL_F_FLOAT64, "s", NULL, "median edge compute")                     \
  X(T, double, xfer_s, , CL_F_FLOAT64, "s", NULL, "transfer (latency + bytes/bandwidth)")   \
  X(T, double, cloud_s, , CL_F_FLOAT64, "s", NULL, "median cloud compute")                   \
  X(T, double, latency, , CL_F_FLOAT64, "s", NULL, "median latency over repetitions")        \
  X(T, double, latency_mean, , CL_F_FLOAT64, "s", NULL, "mean latency")                      \
  X(T, double, latency_min, , CL_F_FLOAT64, "s", NULL, "min latency")                        \
  X(T, double, latency_max, , CL_F_FLOAT64, "s", NULL, "max latency")                        \
  X(T, double, latency_spread, , CL_F_FLOAT64, "s", NULL, "host noise: max - min over repeats of the per-repeat median latency") \
  X(T, double, energy, , CL_F_FLOAT64, "J", NULL, "median energy per inference, both nodes (busy, radio, idle)") \
  X(T, double, energy_edge, , CL_F_FLOAT64, "J", NULL, "median energy of the edge node")     \
  X(T, double, energy_spread, , CL_F_FLOAT64, "J", NULL, "max - min over repeats of the per-repeat median energy") \
  X(T, int64_t, bytes, , CL_F_INT64, "B", NULL, "bytes sent edge -> cloud")                  \
  X(T, char, cut_name, [64], CL_F_STRING, "", NULL, "layer the model is cut after")
#define CL_REC_ADAPTIVE_REPEAT(X, T)                                                         \
  X(T, int64_t, attempt, , CL_F_INT64, "", NULL, "attempt key of the (model, condition) point") \
  X(T, int32_t, cut, , CL_F_INT32, "", NULL, "cut index")                                    \
  X(T, int32_t, repeat, , CL_F_INT32, "", NULL, "repeat of the profiling units")            \
  X(T, double, latency, , CL_F_FLOAT64, "s", NULL, "median latency over the repeat's repetitions") \
  X(T, double, energy, , CL_F_FLOAT64, "J", NULL, "median energy over the repeat's repetitions")
#define CL_REC_PLAN_CHOICE(X, T)                                                             \
  X(T, int64_t, attempt, , CL_F_INT64, "", NULL, "attempt key of the point (joins /sweep/points)") \
  X(T, int32_t, model, , CL_F_INT32, "", "models", "model")                                 \
  X(T, int32_t, planner, , CL_F_INT32, "", "planners", "planner")                           \
  X(T, int32_t, status, , CL_F_INT32, "", NULL, "0 planned; else a cl_status (e.g. -8 unsupported: not applicable)") \
  X(T, int32_t, feasible, , CL_F_INT32, "", NULL, "1 if the plan meets its constraints")    \
  X(T, int32_t, best, , CL_F_INT32, "", NULL, "1 for the point's best planned objective (ties: first planner)") \
  X(T, double, latency, , CL_F_FLOAT64, "s", NULL, "predicted latency (plan.h cost model)")  \
  X(T, double, energy, , CL_F_FLOAT64, "J", NULL, "predicted energy")                        \
  X(T, double, bytes, , CL_F_FLOAT64, "B", NULL, "bytes sent between machines")              \
  X(T, double, plan_seconds, , CL_F_FLOAT64, "s", NULL, "planner run time (wall)")          \
  X(T, char, placement, [160], CL_F_STRING, "", NULL, "the choice: units per machine, or the spatial split")
#define CL_REC_USER_STAT(X, T)                                                               \
  X(T, int64_t, attempt, , CL_F_INT64, "", NULL, "attempt key of the point (joins /sweep/points)") \
  CL_REC_USER_KEY(X, T)                                                                      \
  X(T, int32_t, inferences, , CL_F_INT32, "", NULL, "inferences of the user")                \
  X(T, int32_t, stages, , CL_F_INT32, "", NULL, "compute stages of the user's chain")       \
  X(T, double, lat_mean, , CL_F_FLOAT64, "s", NULL, "mean latency")                          \
  X(T, double, lat_p50, , CL_F_FLOAT64, "s", NULL, "median latency")                         \
  X(T, double, lat_p95, , CL_F_FLOAT64, "s", NULL, "95th percentile latency")                \
  X(T, double, lat_p99, , CL_F_FLOAT64, "s", NULL, "99th percentile latency")                \
  X(T, double, lat_max, , CL_F_FLOAT64, "s", NULL, "largest latency")                        \
  X(T, double, wait_mean, , CL_F_FLOAT64, "s", NULL, "mean queueing per inference")
typedef struct cl_rec_sweep_point { CL_REC_SWEEP_POINT(CL_REC_MEMBER, _) } cl_rec_sweep_point;
typedef struct cl_rec_sweep_config { CL_REC_SWEEP_CONFIG(CL_REC_MEMBER, _) } cl_rec_sweep_config;
typedef struct cl_rec_sweep_coedge { CL_REC_SWEEP_COEDGE(CL_REC_MEMBER, _) } cl_rec_sweep_coedge;
typedef struct cl_rec_adaptive_unit { CL_REC_ADAPTIVE_UNIT(CL_REC_MEMBER, _) } cl_rec_adaptive_unit;
typedef struct cl_rec_adaptive_profile { CL_REC_ADAPTIVE_PROFILE(CL_REC_MEMBER, _) } cl_rec_adaptive_profile;
typedef struct cl_rec_adaptive_layer { CL_REC_ADAPTIVE_LAYER(CL_REC_MEMBER, _) } cl_rec_adaptive_layer;
typedef struct cl_rec_adaptive_cut { CL_REC_ADAPTIVE_CUT(CL_REC_MEMBER, _) } cl_rec_adaptive_cut;
typedef struct cl_rec_sweep_layer { CL_REC_SWEEP_LAYER(CL_REC_MEMBER, _) } cl_rec_sweep_layer;
typedef struct cl_rec_adaptive_repeat { CL_REC_ADAPTIVE_REPEAT(CL_REC_MEMBER, _) } cl_rec_adaptive_repeat;
typedef struct cl_rec_plan_choice { CL_REC_PLAN_CHOICE(CL_REC_MEMBER, _) } cl_rec_plan_choice;
typedef struct cl_rec_user_stat { CL_REC_USER_STAT(CL_REC_MEMBER, _) } cl_rec_user_stat;

/* ---- store-internal tables ---- */
#define CL_REC_DICT(X, T)                                                                    \
  X(T, int32_t, id, , CL_F_INT32, "", NULL, "dictionary id stored in records")                          \
  X(T, char, name, [CL_DICT_MAXLEN + 1], CL_F_STRING, "", NULL, "the string")
#define CL_REC_MERGE_SOURCE(X, T)                                                            \
  X(T, int32_t, src, , CL_F_INT32, "", NULL, "value of the merge column (src) of merged tables") \
  X(T, int32_t, rank, , CL_F_INT32, "", NULL, "MPI rank that wrote the input (/provenance rank)") \
  X(T, int32_t, n_ranks, , CL_F_INT32, "", NULL, "ranks in that run")                        \
  X(T, int64_t, records, , CL_F_INT64, "records", NULL, "table records taken from the input") \
  X(T, char, file, [500], CL_F_STRING, "", NULL, "input file path")
typedef struct cl_rec_dict { CL_REC_DICT(CL_REC_MEMBER, _) } cl_rec_dict;
typedef struct cl_rec_merge_source { CL_REC_MERGE_SOURCE(CL_REC_MEMBER, _) } cl_rec_merge_source;

/* ---- descriptors (runtime/store/records.c) ---- */
extern const cl_table_desc CL_REC_INFERENCES;        /**< /inferences, base columns only (readers) */
extern const cl_table_desc CL_REC_INFERENCES_RUN;    /**< /inferences of cleave run */
extern const cl_table_desc CL_REC_INFERENCES_SWEEP;  /**< /inferences of testbed sweeps */
extern const cl_table_desc CL_REC_INFERENCES_COEDGE; /**< /inferences of CoEdge runs */
extern const cl_table_desc CL_REC_INFERENCES_USERS;  /**< /inferences of cleave run with users */
extern const cl_table_desc CL_REC_USER_STATS;        /**< /users/stats (sweep kind users) */
extern const cl_table_desc CL_REC_RUN_LAYERS;        /**< /layers */
extern const cl_table_desc CL_REC_RUN_TRANSFERS;     /**< /transfers */
extern const cl_table_desc CL_REC_RUN_NODES;         /**< /nodes */
extern const cl_table_desc CL_REC_PROFILE_LAYERS;    /**< /profile/layers */
extern const cl_table_desc CL_REC_PROFILE_BLOCKS;    /**< /profile/blocks */
extern const cl_table_desc CL_REC_PROFILE_SAMPLES;   /**< /profile/samples */
extern const cl_table_desc CL_REC_PROFILE_ENERGY;    /**< /profile/energy (cleave profile --device) */
extern const cl_table_desc CL_REC_SWEEP_LAYERS;      /**< /sweep/layers (testbed sweeps) */
extern const cl_table_desc CL_REC_ADAPTIVE_REPEATS;  /**< /adaptive/repeats */
extern const cl_table_desc CL_REC_SWEEP_POINTS;      /**< /sweep/points */
extern const cl_table_desc CL_REC_SWEEP_CONFIGS;     /**< /sweep/configs */
extern const cl_table_desc CL_REC_SWEEP_COEDGE_POINTS; /**< /sweep/coedge */
extern const cl_table_desc CL_REC_ADAPTIVE_UNITS;    /**< /adaptive/profile_units */
extern const cl_table_desc CL_REC_ADAPTIVE_PROFILES; /**< /adaptive/profile */
extern const cl_table_desc CL_REC_ADAPTIVE_LAYERS;   /**< /adaptive/layers */
extern const cl_table_desc CL_REC_ADAPTIVE_CUTS;     /**< /adaptive/cuts */
extern const cl_table_desc CL_REC_PLAN_CHOICES;      /**< /plan/choices */
extern const cl_table_desc CL_REC_DICTS;             /**< /strings/<name> (path is a pattern) */
extern const cl_table_desc CL_REC_MERGE_SOURCES;     /**< /merge/sources */

/** Every declared table, with the command that writes it; NULL-terminated. */
typedef struct cl_rec_entry {
  const cl_table_desc *desc;
  const char *writer; /* "cleave run", "cleave sweep (testbed)", ... */
} cl_rec_entry;
const cl_rec_entry *cl_rec_all(void);

/** Index of field @p name in @p d, or -1. */
int cl_rec_field_index(const cl_table_desc *d, const char *name);

/** Read records [start, start+n) of table d->path laid out as @p d, taking only the
 *  fields the file has; the others are zeroed. *missing (may be NULL) gets bit i set
 *  for each absent field i < 64. The table itself missing -> CL_ERR_NOTFOUND. */
cl_status cl_rec_read(cl_reader *r, const cl_table_desc *d, uint64_t start, size_t n, void *out,
                      uint64_t *missing);

/** Markdown of every declared table (the generated part of docs/store.md). */
cl_status cl_rec_markdown(FILE *f);

#endif
