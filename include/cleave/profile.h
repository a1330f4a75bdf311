/** @file profile.h
 *  @brief Machine profiles (per-block and per-layer timings) and network statistics.
 *
 *  A profile set holds machines; each machine has a name, a tier ("device", "edge",
 *  "cloud", or any name used with a custom tier list) and, per model, a sequence of
 *  blocks (contiguous layer ranges, the only legal split points) plus optional
 *  per-layer entries for DAG planners (DADS) and regression (Neurosurgeon).
 *  The model is independent of the file format: loaders (Scission CSV, per-layer
 *  CSV, cleave HDF5) fill it through the builder functions below.
 *
 *  Ownership: a cl_profile_set owns every machine, model, block and layer, and all
 *  strings; one cl_profile_set_destroy() releases everything. Pointers returned by
 *  the accessors stay valid until the next cl_profile_set_add_*() or destroy.
 */
#ifndef CLEAVE_PROFILE_H
#define CLEAVE_PROFILE_H

#include <stdint.h>

#include "cleave/status.h"

/** One block: the layers [first_layer, last_layer] (inclusive) run as a unit. */
/** Largest run time a profile may give one block or layer (~32 years): anything above is
 *  a corrupt or hostile file, and the bound keeps every sum of a model's times finite. */
#define CL_PROFILE_MAX_SECONDS 1e9

typedef struct cl_profile_block {
  int first_layer, last_layer; /* layer indices, inclusive */
  double seconds;              /* mean run time of the block on this machine */
  int64_t output_bytes;        /* bytes sent if the model is split after this block */
} cl_profile_block;

/** One layer (node of the model DAG), for DAG planners and regression models. */
typedef struct cl_profile_layer {
  char *name;           /* owned by the set; may be "" */
  int op;               /* cl_op value, or -1 if unknown */
  double seconds;       /* mean run time on this machine */
  int64_t output_bytes; /* bytes of this layer's output tensor */
  int64_t macs;         /* multiply-accumulates, -1 if unknown */
  int64_t input_bytes;  /* total bytes of all inputs, -1 if unknown */
  int n_inputs;         /* -1: unknown (then the planner assumes a chain) */
  int *inputs;          /* layer indices < this layer's index; owned by the set */
} cl_profile_layer;

/** All profile data of one model on one machine. */
typedef struct cl_profile_model {
  char *name;
  int n_blocks;
  cl_profile_block *blocks; /* block i follows block i-1 with no gap */
  int n_layers;
  cl_profile_layer *layers; /* optional: n_layers == 0 when not profiled per layer */
} cl_profile_model;

typedef struct cl_profile_machine {
  char *name; /* key used in network files, case-sensitive */
  char *tier;
  char *source; /* file the machine was loaded from (owned), or NULL */
  int n_models;
  cl_profile_model *models;
} cl_profile_machine;

typedef struct cl_profile_set cl_profile_set;

/** @brief Create an empty set. Caller owns *out (cl_profile_set_destroy). */
cl_status cl_profile_set_create(cl_profile_set **out);
/** @brief Free the set and everything in it. NULL-safe. */
void cl_profile_set_destroy(cl_profile_set *set);

/** @brief Add a machine; *idx receives its index. CL_ERR_EXISTS if the name is taken. */
cl_status cl_profile_set_add_machine(cl_profile_set *set, const char *tier, const char *name,
                                     int *idx);
/** @brief Record the file machine @p m was loaded from (copied; see cl_profile_machine.source). */
cl_status cl_profile_set_set_source(cl_profile_set *set, int m, const char *path);
/** @brief Append the next block of @p model on machine @p m (the model is created on
 *  first use). Blocks must be contiguous and cover the model from its first layer:
 *  block 0 starts at layer 0, later ones at the previous last_layer + 1 (a file whose
 *  first rows are missing would otherwise cost those layers nothing). Seconds in
 *  [0, CL_PROFILE_MAX_SECONDS]. */
cl_status cl_profile_set_add_block(cl_profile_set *set, int m, const char *model,
                                   const cl_profile_block *b);
/** @brief Append the next layer of @p model on machine @p m. Copies name and inputs. */
cl_status cl_profile_set_add_layer(cl_profile_set *set, int m, const char *model,
                                   const cl_profile_layer *l);

int cl_profile_set_n_machines(const cl_profile_set *set);
/** @brief Machine @p i, or NULL. Borrowed. */
const cl_profile_machine *cl_profile_set_machine(const cl_profile_set *set, int i);
/** @brief Index of the machine named @p name, or -1. */
int cl_profile_set_find_machine(const cl_profile_set *set, const char *name);
/** @brief The model named @p model on machine @p m, or NULL. Borrowed. */
const cl_profile_model *cl_profile_machine_model(const cl_profile_machine *m, const char *model);

/** @brief Load one Scission CSV (header model,block,input_layer,output_layer,seconds,
 *  output_bytes) as machine @p name of tier @p tier. Errors name file:line and column. */
cl_status cl_profile_load_scission_csv(cl_profile_set *set, const char *path, const char *tier,
                                       const char *name);
/** @brief Load every <tier>-<machine>.csv in @p dir (tier: text before the first '-').
 *  Files are loaded in name order. CL_ERR_NOTFOUND if the directory holds none. */
cl_status cl_profile_load_scission_dir(cl_profile_set *set, const char *dir);

/** @brief Load every <tier>-<machine>.csv (Scission CSV) and <tier>-<machine>.h5 (cleave
 *  profile, cl_profile_load_cleave_h5) in @p dir, in name order. CL_ERR_NOTFOUND if none. */
cl_status cl_profile_load_dir(cl_profile_set *set, const char *dir);

/** @brief Load a per-layer CSV as model @p model of machine @p m. The header names the
 *  columns; required: layer,seconds,out_bytes; optional: name, inputs (layer ids
 *  separated by ';' or ' ', empty = graph input), op (cl_op name), macs, in_bytes.
 *  Layers must be listed in order 0, 1, 2, ... */
cl_status cl_profile_load_layers_csv(cl_profile_set *set, int m, const char *model,
                                     const char *path);

/* ---- network statistics (Scission's network_stats.csv) ---- */

/** One directed link between two machines. */
typedef struct cl_netstats_link {
  char *src, *dst;
  double latency_s;     /* one-way cost per message: ping(ms) / 1000 */
  double bandwidth_Bps; /* bytes per second: round(Mbps * 125000) */
} cl_netstats_link;

typedef struct cl_netstats cl_netstats;

cl_status cl_netstats_create(cl_netstats **out);
void cl_netstats_destroy(cl_netstats *ns);
/** @brief Add or replace the link src -> dst. bandwidth must be > 0. */
cl_status cl_netstats_add(cl_netstats *ns, const char *src, const char *dst, double latency_s,
                          double bandwidth_Bps);
/** @brief Load source,destination,ping(ms),bandwidth(mbps) rows (fields may have
 *  leading/trailing spaces). Caller owns *out. Errors name file:line and column. */
cl_status cl_netstats_load_csv(const char *path, cl_netstats **out);
/** @brief The link src -> dst, or NULL. Borrowed. */
const cl_netstats_link *cl_netstats_find(const cl_netstats *ns, const char *src, const char *dst);
int cl_netstats_size(const cl_netstats *ns);
const cl_netstats_link *cl_netstats_get(const cl_netstats *ns, int i);

#endif
