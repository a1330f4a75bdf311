/** @file spatial_exec.h
 *  @brief Executes a row-strip spatial plan (include/cleave/spatial.h) for real:
 *  each device computes its rows of every node of the run from row-window buffers,
 *  halo rows travel between devices (layer mode) or are recomputed (fused mode),
 *  then the run's output is gathered on the sink, which runs the non-spatial tail.
 *
 *  Grid-tile plans (cl_spatial_plan_tiles: computed regions narrower than the tensor)
 *  run for real too, in fused mode: each task keeps dense column crops of the block's
 *  tensors and runs cropped copies of the nodes (padding kept only at the real image
 *  border, output width = the crop's), then the tiles are stitched on the sink. The
 *  executor uses the plan's last-node boxes (the tiles, which must cover the output
 *  disjointly; any sizes, not only the planner's near-equal grid), task_dev, source
 *  and sink, and derives every other region itself from the kernels' window rules
 *  (cl_spatial_exec_region), so the plan's analytic regions and redundancy can be
 *  checked against what actually ran. Ops that cannot be cropped exactly are refused
 *  at create with an error naming the node.
 *
 *  Two transports: in-process (all devices in one process, transfers are row
 *  copies; used by tests and the planner's checks) and MPI (rank d = device d).
 *  Ownership: borrows graph (with weights) and plan, which must outlive it.
 */
#ifndef CLEAVE_SPATIAL_EXEC_H
#define CLEAVE_SPATIAL_EXEC_H

#include <mpi.h>

#include "cleave/graph.h"
#include "cleave/spatial.h"

typedef struct cl_spatial_exec cl_spatial_exec;

/** @brief Prepare execution. @p comm = MPI_COMM_NULL: every device in this process;
 *  otherwise this rank is device `rank` of @p comm (ranks >= n_dev take no part). */
cl_status cl_spatial_exec_create(const cl_graph *g, const cl_spatial_plan *plan, MPI_Comm comm,
                                 cl_spatial_exec **out);
void cl_spatial_exec_destroy(cl_spatial_exec *se);

/** @brief Run once. @p input: the full tensor of every entry node (the graph input when
 *  the run starts at node 0), read on the source device. @p output: on the sink, receives
 *  the full output of the graph's output node (the non-spatial tail runs on the sink);
 *  may be NULL elsewhere. */
cl_status cl_spatial_exec_run(cl_spatial_exec *se, const float *input, float *output);

/** @brief Seconds of thread CPU time device @p d spent computing in the last run
 *  (in-process transport: every device; MPI: this rank's device). */
double cl_spatial_exec_compute_seconds(const cl_spatial_exec *se, int d);

/** @brief Thread CPU seconds device @p d spent on run node @p i (graph node
 *  plan->first + i) in the last run; 0 outside the range or for other ranks' devices. */
double cl_spatial_exec_node_seconds(const cl_spatial_exec *se, int i, int d);

/** @brief Thread CPU seconds of the non-spatial tail in the last run (on the sink's
 *  process; 0 elsewhere or when the run ends at the graph output). */
double cl_spatial_exec_tail_seconds(const cl_spatial_exec *se);

/** @brief Region of run node @p i that task @p t holds (computes; for the input node:
 *  receives). Row plans: plan->need. Grid-tile plans: the region the executor derived
 *  from the tiles (rows from the kernels' in_rows, columns by the same window rule,
 *  hull over consumers). Empty box outside the ranges. */
cl_box cl_spatial_exec_region(const cl_spatial_exec *se, int i, int t);

/** @brief MACs device @p d computes per run, redundant recomputation included, as
 *  executed (compare with plan->macs[d]); every device's, whatever the transport. */
int64_t cl_spatial_exec_macs(const cl_spatial_exec *se, int d);

/** @brief Full output of the run's last node (plan->last) gathered by the last run, on
 *  the sink; NULL on other ranks. Borrowed, valid until cl_spatial_exec_destroy(). */
const float *cl_spatial_exec_run_output(const cl_spatial_exec *se);

#endif
