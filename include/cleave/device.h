/** @file device.h
 *  @brief Device models in absolute terms: throughput per op class, a per-layer
 *  overhead, memory and power (with optional DVFS states). A layer's time on a device
 *  is work / throughput(class) + overhead. The host running cleave is described by the
 *  same model, measured at run time (cl_calib_get), so an emulated node's per-layer
 *  slowdown is device time / host time of that layer (docs/devices.md).
 *
 *  Catalogue: configs/devices/NAME.yaml (one file per device; schema in docs/devices.md).
 *  Ownership: cl_device is a plain caller-owned struct (no heap members).
 */
#ifndef CLEAVE_DEVICE_H
#define CLEAVE_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "cleave/exec.h"
#include "cleave/graph.h"
#include "cleave/status.h"
#include "cleave/store.h"    /* cl_store (cl_device_write_attr) */
#include "cleave/timeline.h" /* cl_node_power */

/* Op classes: enum suffix, YAML key, 1 = compute (work in FLOP, throughput GFLOP/s) or
 * 0 = memory-bound (work in bytes read + written, throughput GB/s), the class a device
 * file without this key falls back to (-1: the key is required), description. */
#define CL_DEV_CLASS_MAP(X)                                                                     \
  X(CONV, "conv", 1, -1, "dense convolution, kernel > 1x1, groups = 1")                        \
  X(DWCONV, "dwconv", 1, -1, "grouped / depthwise convolution")                                \
  X(CONV1X1, "conv1x1", 1, -1, "pointwise 1x1 convolution")                                    \
  X(FC, "fc", 1, -1, "fully connected")                                                        \
  X(ELTWISE, "eltwise", 0, -1, "activations, add/mul, softmax, LRN")                           \
  X(COPY, "copy", 0, -1, "memory-bound copies: concat, flatten, padding, reshape; dropout")    \
  X(BN, "bn", 0, CL_DEV_ELTWISE, "batch normalisation (frameworks run it unfused at inference)") \
  X(POOL, "pool", 0, CL_DEV_ELTWISE, "max / average / global average pooling")                 \
  X(CONV_IN, "conv_in", 1, CL_DEV_CONV, "dense convolution of an image (<= 4 input channels)")

typedef enum cl_dev_class {
#define CL__DEV_ENUM(e, key, compute, fallback, desc) CL_DEV_##e,
  CL_DEV_CLASS_MAP(CL__DEV_ENUM)
#undef CL__DEV_ENUM
  CL_DEV_CLASS_COUNT
} cl_dev_class;

/** YAML key of a class ("conv", ...). */
const char *cl_dev_class_name(cl_dev_class c);
/** 1 if the class is compute-bound (FLOP, GFLOP/s), 0 if memory-bound (bytes, GB/s). */
int cl_dev_class_is_compute(cl_dev_class c);

#define CL_DEV_MAX_DVFS 8
#define CL_DEV_MAX_SOURCES 8

/** One DVFS operating point: speed scales with freq, dynamic power with freq x volt^2. */
typedef struct cl_dev_dvfs {
  double freq; /**< GHz */
  double volt; /**< V */
} cl_dev_dvfs;

typedef struct cl_device {
  char name[64];
  char description[256];
  double throughput[CL_DEV_CLASS_COUNT]; /**< FLOP/s (compute classes) or B/s (memory) */
  int fitted[CL_DEV_CLASS_COUNT];        /**< 1: from data; 0: derived (see docs/devices.md) */
  double overhead[CL_DEV_CLASS_COUNT];   /**< s per layer of each class (framework dispatch) */
  /** Memory-bound terms of conv / FC layers (B/s; 0 = no such term): reading the weights
   *  (4 bytes per parameter, conv and FC) and the activations (input + output bytes, conv). */
  double weight_bw, act_bw;
  double memory;                         /**< bytes, 0 = unknown */
  cl_node_power power;                   /**< idle, busy (W at the top DVFS state), tx, rx */
  int has_power;
  int n_dvfs;
  cl_dev_dvfs dvfs[CL_DEV_MAX_DVFS];     /**< ascending frequency; the last is nominal */
  int n_sources;
  char sources[CL_DEV_MAX_SOURCES][512]; /**< citations of every number */
  /* fit report (written by `cleave devices fit`; 0 when hand-written) */
  int fit_blocks;
  double fit_error_pct;                  /**< median |pred - meas| / meas over fitted blocks, % */
  char fit_models[160];
} cl_device;

/** @brief Work of graph node @p id: its class and work (FLOP or bytes). Returns 1 if the
 *  node counts as a layer (pays its class's overhead); 0 for graph inputs (no work
 *  either) and for an activation whose input is a conv / FC (its work counts). Dropout
 *  is a work-free layer of class copy (a framework still dispatches it). */
int cl_device_node_work(const cl_graph *g, int id, cl_dev_class *cls, double *work);
/** @brief Bytes of node @p id's memory-bound terms: @p weights (4 x parameters of a conv
 *  or FC, else 0) and @p acts (input + output bytes of a conv, else 0). */
void cl_device_node_bytes(const cl_graph *g, int id, double *weights, double *acts);
/** @brief Seconds graph node @p id takes on @p d: work / throughput + overhead. */
double cl_device_node_time(const cl_device *d, const cl_graph *g, int id);

/** @brief Load a device YAML file. Errors name the file, line and key (CL_ERR_CONFIG). */
cl_status cl_device_load(const char *path, cl_device *d);
/** @brief Find @p name: a path (contains '/' or ends in .yaml), else NAME.yaml in
 *  $CLEAVE_DEVICE_DIR, then in the catalogue of the source tree (configs/devices). */
cl_status cl_device_find(const char *name, cl_device *d);
/** @brief Where cl_device_find would read @p name: 1 and the file in @p path if it
 *  exists and is readable, else 0 (quiet: callers name their own config location). */
int cl_device_resolve(const char *name, char *path, size_t n);
/** @brief Write @p d as YAML to @p path (atomically: temp file + rename). */
cl_status cl_device_save(const cl_device *d, const char *path);
/** @brief YAML text of @p d (caller frees). */
cl_status cl_device_to_yaml(const cl_device *d, char **text);
/** @brief Store @p d as YAML in attribute @p attr of group or table @p path of @p st
 *  (provenance of emulated devices; runtime/rt_device.c). */
cl_status cl_device_write_attr(cl_store *st, const char *path, const char *attr, const cl_device *d);
/** @brief Directory of the shipped catalogue (configs/devices in the source tree). */
const char *cl_device_catalogue_dir(void);

/** @brief Scale @p d to DVFS state @p state (0-based index into d->dvfs): throughputs
 *  x f/f_nom, per-layer overheads x f_nom/f, busy power = idle + (busy - idle) x
 *  (f V^2)/(f_nom V_nom^2). CL_ERR_INVALID if the state does not exist. */
cl_status cl_device_at_dvfs(const cl_device *d, int state, cl_device *out);

/* ---- host calibration (runtime/device_calib.c) ---- */

/** @brief This host's model for @p backend and @p threads: from the cache file if one
 *  exists for this CPU model, backend, thread count and cleave version, else measured
 *  now (microbenchmarks per op class through the real executor) and cached.
 *  @p force = 1 measures even if cached. @p path_out (may be NULL, cap >= 1) receives
 *  the cache file path. */
cl_status cl_calib_get(cl_backend backend, int threads, int force, cl_device *host, char *path_out, int cap);
/** @brief Measure now without touching the cache. */
cl_status cl_calib_measure(cl_backend backend, int threads, cl_device *host);
/** @brief This host's seconds for every graph node of @p model (zoo name or .onnx path;
 *  @p g its graph, structure only is enough) on @p backend with @p threads: the model is
 *  profiled with fused steps as the runtime runs it, and each step's median thread-CPU
 *  time is split over the step's nodes in proportion to the class model @p host. Cached
 *  beside the class calibration (same key plus the model); @p force 1 re-measures and
 *  replaces the cache, 2 measures without reading or writing it.
 *  @p t has cl_graph_size(g) entries. */
cl_status cl_calib_layers(cl_backend backend, int threads, const char *model, const cl_graph *g,
                          const cl_device *host, int force, double *t);
/** @brief Read a per-layer cache file of cl_calib_layers: CL_OK only when it is for
 *  @p model with @p n nodes and every time is in [0, 1e6] s (else an error status, and
 *  cl_calib_layers measures again). */
cl_status cl_calib_layers_read(const char *path, const char *model, int n, double *t);
/** @brief 1 unless CLEAVE_CALIB_LAYERS=0: device factors then take this host's layer
 *  times from cl_calib_layers (measured per model), else from the host calibration's
 *  class model (cl_device_node_time on the calibration). */
int cl_calib_layers_enabled(void);
/** @brief The CPU model string of this host (/proc/cpuinfo "model name"). */
const char *cl_calib_cpu_model(void);
/** @brief Path of a per-host cache file of kind @p kind ("calib", "kernels"):
 *  DIR/KIND-CPU-BACKEND-tTHREADS-vVERSION[-MODEL].yaml, DIR = $CLEAVE_CALIB_DIR, else
 *  $XDG_CACHE_HOME/cleave, else ~/.cache/cleave; @p model may be NULL. */
void cl_calib_cache_path(const char *kind, cl_backend backend, int threads, const char *model, char *path, int cap);

#endif
