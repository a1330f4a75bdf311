/** @file spatial.h
 *  @brief Spatial (row / tile) partitioning of a run of spatial layers across devices.
 *
 *  A *run* is a contiguous index range [first, last] of graph nodes whose ops are all
 *  spatial (cl_op_is_spatial). The *spatial part* of a model is the run from node 0
 *  up to the node before the first non-spatial node (cl_spatial_prefix()).
 *
 *  Work is split into *tasks*; each task runs on one device. In the row modes there
 *  is exactly one task per device (task t == device t); grid tiles may put several
 *  tasks on one device. For every node of the run and every task, the plan records:
 *    - box:  the output region the task computes (for graph-input nodes and other
 *            entry tensors: the region it receives from the source device);
 *    - need: the output region the task must hold (box plus received halo rows),
 *            i.e. the row window a runtime allocates for that node on that device.
 *  and one flat list of transfers (scatter of the input, per-layer halo exchange,
 *  gather of the run's output) that a runtime executes in list order.
 *
 *  Two modes:
 *    CL_SPATIAL_LAYER (CoEdge / MoDNN): every device computes its own slice of every
 *      layer (slices are disjoint and cover the height) and receives, after each
 *      layer, the halo rows its next slices need from the devices that own them.
 *    CL_SPATIAL_FUSED (DeepThings fused tile partitioning): each task computes every
 *      row its final region depends on, growing backwards through the receptive field;
 *      no exchange inside the run, redundant computation instead.
 *
 *  Rows come from cl_graph_input_rows() (stride, padding, dilation, ceil-mode pools);
 *  columns (grid tiles only) from the analogous conv/pool window arithmetic.
 *  Kernels compute full-width row ranges, so row plans are executable as-is; grid
 *  tile plans are executed too, by cl_spatial_exec (runtime/spatial_tiles.c: column
 *  crops of each fused block with border-only padding, stitched on the sink). Transfer
 *  byte counts are float32 sizes (what the executor moves); a cost model may charge the
 *  graph input differently (cl_coedge_xfer_bytes: 8-bit camera frames).
 *
 *  Ownership: cl_spatial_plan_*() allocate a plan the caller frees with
 *  cl_spatial_plan_destroy(); the plan does not reference the graph afterwards.
 */
#ifndef CLEAVE_SPATIAL_H
#define CLEAVE_SPATIAL_H

#include <stdint.h>
#include <stdio.h>

#include "cleave/graph.h"

/** Region [y0, y1) x [x0, x1) of a node's output; empty if y1 <= y0 or x1 <= x0. */
typedef struct cl_box {
  int y0, y1, x0, x1;
} cl_box;

static inline int cl_box_empty(cl_box b) { return b.y1 <= b.y0 || b.x1 <= b.x0; }
static inline int64_t cl_box_area(cl_box b) {
  return cl_box_empty(b) ? 0 : (int64_t)(b.y1 - b.y0) * (b.x1 - b.x0);
}

typedef enum cl_spatial_mode {
  CL_SPATIAL_LAYER = 0, /* per-layer slices + halo exchange (CoEdge) */
  CL_SPATIAL_FUSED = 1  /* fused block, redundant recomputation (DeepThings) */
} cl_spatial_mode;

typedef enum cl_xfer_kind {
  CL_XFER_SCATTER = 0, /* input / entry tensor rows: source -> task device */
  CL_XFER_HALO = 1,    /* rows of an intermediate node: owner -> neighbour (layer mode) */
  CL_XFER_GATHER = 2   /* the run's output region: task device -> sink */
} cl_xfer_kind;

/** One transfer of the region @c box of node @c node's output from device @c src to
 *  device @c dst, on behalf of task @c task (the receiving task for scatter/halo, the
 *  sending task for gather). */
typedef struct cl_spatial_xfer {
  cl_xfer_kind kind;
  int node;
  int src, dst;
  int task;
  cl_box box;
  int64_t bytes; /* float32 payload */
} cl_spatial_xfer;

/** A spatial plan (transparent, read-only for users). Arrays indexed [i * n_tasks + t]
 *  are per run node i (graph node first + i) and task t. */
typedef struct cl_spatial_plan {
  cl_spatial_mode mode;
  int first, last, n_nodes; /* run: graph nodes first..last */
  int n_dev, n_tasks;
  int source; /* device holding the run's input tensors */
  int sink;   /* device that gathers the run's output (and runs the tail) */
  int *task_dev; /* [n_tasks] */
  cl_box *box;   /* [n_nodes * n_tasks] computed (entry nodes: received) region */
  cl_box *need;  /* [n_nodes * n_tasks] region held: box plus halo */
  int n_xfer;
  cl_spatial_xfer *xfer; /* scatter first, then halos in node order, then gather */
  int64_t *macs;      /* [n_dev] MACs each device computes (incl. redundancy) */
  int64_t *flops;     /* [n_dev] */
  int64_t *bytes_out; /* [n_dev] bytes each device sends */
  int64_t *bytes_in;  /* [n_dev] bytes each device receives */
  /* macs, flops, bytes_out, bytes_in, box, need and task_dev share one block. */
  int64_t run_macs;   /* MACs of the run computed once */
  int64_t run_flops;
  double redundancy;  /* sum(macs) / run_macs - 1 (0 for layer mode) */
} cl_spatial_plan;

/** Common description of what to split. */
typedef struct cl_spatial_spec {
  int first, last;      /* the run (inclusive graph node ids) */
  cl_spatial_mode mode;
  int n_dev;            /* devices (>= 1) */
  int source;           /* device holding the input tensors, 0 <= source < n_dev */
  int sink;             /* gathering device, or -1: the device with the largest output share
                           (ties: source, then the lowest index) */
} cl_spatial_spec;

/** @brief The spatial part of @p g: first = 0, last = the node before the first
 *  non-spatial node (or the output node if all are spatial). Returns CL_ERR_UNSUPPORTED
 *  if a node other than last is consumed after the run, CL_ERR_INVALID if the graph has
 *  no spatial node beyond the input. */
cl_status cl_spatial_prefix(const cl_graph *g, int *first, int *last);

/** @brief Check that [first, last] is a valid run of @p g (all spatial, only @p last
 *  consumed after it). Logs why not. */
cl_status cl_spatial_check_run(const cl_graph *g, int first, int last);

/** @brief Row-strip plan from one partition vector. @p bounds has n_dev + 1 entries,
 *  0 = bounds[0] <= ... <= bounds[n_dev] = ref_h: device d takes rows
 *  [bounds[d], bounds[d+1]) of a reference height ref_h. Each node's slice is the
 *  proportional image of that range (boundaries rounded to the nearest row). Layer mode
 *  applies this to every node; fused mode to the last node only and grows backwards.
 *  Caller owns *out. */
cl_status cl_spatial_plan_rows(const cl_graph *g, const cl_spatial_spec *spec, const int *bounds,
                               int ref_h, cl_spatial_plan **out);

/** @brief Layer-mode plan with explicit per-node slices: @p node_bounds holds
 *  n_nodes * (n_dev + 1) entries, row i giving node first+i's boundaries
 *  (0 .. out.h, non-decreasing). Entry (input) nodes' rows are ignored. */
cl_status cl_spatial_plan_layers(const cl_graph *g, const cl_spatial_spec *spec,
                                 const int *node_bounds, cl_spatial_plan **out);

/** @brief Fused grid-tile plan (DeepThings FTP): the last node's output is cut into
 *  grid_r x grid_c near-equal tiles (row-major), tile k runs on device tile_dev[k].
 *  spec->mode is ignored (always fused). */
cl_status cl_spatial_plan_tiles(const cl_graph *g, const cl_spatial_spec *spec, int grid_r,
                                int grid_c, const int *tile_dev, cl_spatial_plan **out);

/** @brief Free a plan. NULL-safe. */
void cl_spatial_plan_destroy(cl_spatial_plan *p);

/** @brief Input region of input @p input_index of spatial node @p id needed for output
 *  region @p out (rows via cl_graph_input_rows, columns by the same window rule). */
cl_box cl_spatial_input_box(const cl_graph *g, int id, int input_index, cl_box out);

/** @brief Bytes of region @p b of node @p id's output (float32). */
int64_t cl_spatial_box_bytes(const cl_graph *g, int id, cl_box b);

/** @brief Human-readable dump: per node per task regions, transfers, MACs. */
void cl_spatial_plan_print(FILE *f, const cl_graph *g, const cl_spatial_plan *p);

#endif
