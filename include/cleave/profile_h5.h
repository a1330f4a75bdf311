/** @file profile_h5.h
 *  @brief Load cleave's own HDF5 profiles (`cleave profile -o FILE.h5`) into the
 *  planners' profile data model (include/cleave/profile.h).
 */
#ifndef CLEAVE_PROFILE_H5_H
#define CLEAVE_PROFILE_H5_H

#include "cleave/profile.h"

/** @brief Add machine @p name (tier @p tier) with the model profiled in @p path:
 *  blocks from /profile/blocks (median seconds, layer indices = graph node ids),
 *  layers from /profile/layers (median seconds, op, MACs, output bytes; inputs as a
 *  chain of steps). @p name NULL: the file's base name without ".h5". */
cl_status cl_profile_load_cleave_h5(cl_profile_set *set, const char *path, const char *tier, const char *name);

#endif
