/** @file profile_h5.h
 *  @brief Load cleave's own HDF5 profiles (`cleave profile MODEL -o FILE.h5`) into the
 *  planners' profile data model (include/cleave/profile.h).
 *
 *  Units of a loaded model: one layer per executor step (a conv with its folded BN and
 *  activation is one step; step 0 is the graph input), in execution order, with the
 *  real DAG between steps when the model is in the zoo; blocks are the profile's cut
 *  blocks, their first_layer / last_layer being step indices. cl_plan_emit_* (planner.h)
 *  maps steps back to graph nodes.
 */
#ifndef CLEAVE_PROFILE_H5_H
#define CLEAVE_PROFILE_H5_H

#include <stdint.h>

#include "cleave/profile.h"

/** Which per-step statistic becomes the profile's seconds. */
typedef enum cl_profile_time {
  CL_PROFILE_TIME_CPU = 0, /* median thread CPU time (cpu_median), the quantity the
                              runtime's virtual clock uses; falls back to wall if absent */
  CL_PROFILE_TIME_WALL     /* median wall time (median) */
} cl_profile_time;

/** Metadata of a cleave profile file. */
typedef struct cl_profile_h5_info {
  char model[128];  /* /profile attribute model (zoo name) */
  char host[256];   /* /provenance attribute host, "" if absent */
  double slowdown;  /* the profile's --slowdown factor (1 if absent) */
  int fused;        /* 1: steps fuse BN/activations (cl_exec_opts.fuse) */
  int n_steps, n_blocks;
  int cpu_times;    /* 1: the loaded seconds are thread-CPU medians */
  double total_s;   /* sum of the loaded step seconds (already x slowdown) */
} cl_profile_h5_info;

/** @brief Add machine @p name (tier @p tier) with the model profiled in @p path:
 *  layers = executor steps (median thread-CPU seconds when the file has them, else
 *  median wall seconds; op, MACs, output bytes, DAG inputs), blocks = cut blocks
 *  (seconds = sum of their steps' seconds). @p name NULL: the file's base name without
 *  ".h5". Records @p path as the machine's source. */
cl_status cl_profile_load_cleave_h5(cl_profile_set *set, const char *path, const char *tier, const char *name);

/** @brief As cl_profile_load_cleave_h5 with a choice of statistic; @p info (may be NULL)
 *  receives the file's metadata. */
cl_status cl_profile_load_cleave_h5_ex(cl_profile_set *set, const char *path, const char *tier, const char *name,
                                       cl_profile_time time, cl_profile_h5_info *info);

/** @brief Read only the metadata of a cleave profile (total_s: sum of step medians of
 *  the kind cl_profile_load_cleave_h5 would load). */
cl_status cl_profile_h5_info_read(const char *path, cl_profile_h5_info *info);

typedef struct cl_reader cl_reader; /* cleave/store.h */
/** @brief cl_profile_load_cleave_h5_ex on an open reader @p r (borrowed, left open) of
 *  the profile @p path (names it in messages and is the machine's source); the input
 *  checks of cl_reader_open_input(path, "profile") are the caller's. */
cl_status cl_profile_load_cleave_reader(cl_profile_set *set, cl_reader *r, const char *path, const char *tier,
                                        const char *name, cl_profile_time time, cl_profile_h5_info *info);
/** @brief cl_profile_h5_info_read on an open reader @p r (borrowed). */
cl_status cl_profile_h5_info_read_reader(cl_reader *r, const char *path, cl_profile_h5_info *info);

#endif
