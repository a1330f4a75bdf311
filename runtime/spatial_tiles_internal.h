/* Grid-tile execution of fused spatial plans (runtime/spatial_tiles.c), driven by
 * runtime/spatial_exec.c. Not public API: use include/cleave/spatial_exec.h. */
#ifndef CLEAVE_SPATIAL_TILES_INTERNAL_H
#define CLEAVE_SPATIAL_TILES_INTERNAL_H

#include <mpi.h>
#include <stdint.h>

#include "cleave/graph.h"
#include "cleave/spatial.h"

typedef struct cl__tiles cl__tiles;

/** 1 if some computed region of @p p is narrower than its tensor (a grid-tile plan). */
int cl__tiles_plan_is_tiled(const cl_graph *g, const cl_spatial_plan *p);

/** Derive every task's regions from the plan's last-node tiles, build the cropped node
 *  copies and buffers of the tasks on device @p rank (-1: all devices). Borrows g, p. */
cl_status cl__tiles_create(const cl_graph *g, const cl_spatial_plan *p, int rank, cl__tiles **out);
void cl__tiles_destroy(cl__tiles *tl);

/** One run: scatter the entry regions, compute every tile's fused block, gather the tiles
 *  into @p gathered (full output of node p->last; on the sink only). @p comm is
 *  MPI_COMM_NULL in-process. Adds thread CPU seconds to compute_s[dev] and
 *  node_s[i * n_dev + dev]. */
cl_status cl__tiles_run(cl__tiles *tl, MPI_Comm comm, const float *input, float *gathered,
                        double *compute_s, double *node_s);

/** Region of run node i held by task t (empty box if none). */
cl_box cl__tiles_region(const cl__tiles *tl, int i, int t);
/** MACs device d computes per run, redundancy included. */
int64_t cl__tiles_macs(const cl__tiles *tl, int d);

#endif
