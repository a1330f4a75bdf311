/** @file plan_profiles.h
 *  @brief The glue between profile files and planners (used by `cleave plan`, `cleave
 *  sim` and sweeps): loading profile sources, matching a model name to its profiles,
 *  two-node problems (Neurosurgeon / DADS: machine matching, per-op regression of
 *  missing layer times) and writing a placement as a runnable testbed config.
 *
 *  Errors are logged where found (file, machine, model) and returned as statuses;
 *  nothing here exits. Ownership is stated per call.
 */
#ifndef CLEAVE_PLAN_PROFILES_H
#define CLEAVE_PLAN_PROFILES_H

#include <stddef.h>

#include "cleave/planner.h"
#include "cleave/profile.h"
#include "cleave/status.h"

#define CL_PLAN_MAX_PROFILES 16

/** Where profiles come from: a folder and/or TIER[:NAME]=FILE items. Strings borrowed. */
typedef struct cl_plan_sources {
  const char *dir; /* <tier>-<machine>.csv (Scission) and .h5 (cleave) files; may be NULL */
  int n;
  const char *items[CL_PLAN_MAX_PROFILES]; /* TIER[:NAME]=FILE (.h5 or .csv) */
} cl_plan_sources;

/** @brief Append an item; CL_ERR_INVALID (logged) when CL_PLAN_MAX_PROFILES are given. */
cl_status cl_plan_sources_add(cl_plan_sources *s, const char *item);
/** @brief Load every source into a new set. *out is set on return even on error (caller
 *  destroys it). An item's NAME defaults to the file's base name without its extension
 *  and a leading "TIER-" (device-pi4.h5 is machine pi4). */
cl_status cl_plan_sources_load(const cl_plan_sources *s, cl_profile_set **out);
/** @brief "DIR", "the --profile files" or "(no profiles)", for messages. Static/borrowed. */
const char *cl_plan_sources_desc(const cl_plan_sources *s);
/** @brief 1 if some machine profiles @p model; its profiled name goes to @p name. Zoo and
 *  Scission names match case-insensitively; an ONNX path matches the same file. */
int cl_plan_model_name(const cl_profile_set *set, const char *model, char *name, size_t cap);
/** @brief 1 if @p md's layers are the steps of a cleave profile with a known DAG (NULL: 0). */
int cl_plan_profile_steps(const cl_profile_model *md);
/** @brief A network file: a bare name is looked up in @p dir first. */
void cl_plan_net_path(const char *dir, const char *name, char *out, size_t cap);

/** Options of a two-node problem (side A: mobile / device, side B: cloud). */
typedef struct cl_plan_twonode_opts {
  cl_plan_sources src;
  const char *net;               /* network file, or NULL: bandwidth_mbps / latency_ms */
  const char *a, *b;             /* machine names; NULL: the first device / cloud machine */
  const char *a_layers, *b_layers; /* per-layer CSV files instead of profiles */
  const char *a_fit, *b_fit;     /* regression training CSVs (predict a side's layer times) */
  const char *model;             /* NULL: the first profiled model */
  double bandwidth_mbps;         /* < 0: not given */
  double latency_ms;             /* < 0: 0 */
  double input_mb;               /* < 0: 0.15 MB, or the input layer's output */
  int dag;                       /* 1: DADS (block mode gets a virtual input node 0) */
} cl_plan_twonode_opts;

/** Initialise @p o: every field unset. */
void cl_plan_twonode_opts_init(cl_plan_twonode_opts *o);

/** A two-node problem: n units (blocks, layers or steps) with times on sides A and B,
 *  output sizes, DAG inputs (CSR) and the link. Arrays owned (cl_plan_twonode_fini). */
typedef struct cl_plan_twonode {
  int n;
  double *ta, *tb, *out;
  int *in_off, *in_idx;
  int *first_layer, *last_layer; /* block mode: layer ranges; NULL otherwise */
  /* ta, tb, out, in_off (and first_layer, last_layer) share one block; in_idx is apart. */
  double input_bytes, lat, bw;
  char a_name[256], b_name[256], model[256];
  cl_profile_set *set; /* profile modes: the loaded profiles (for testbed configs), owned */
  int ia, ib;          /* machines of side A and B in set, -1 if none */
  int steps;           /* 1: units are the steps of cleave .h5 profiles (emittable) */
} cl_plan_twonode;

/** @brief Build the problem of @p o. CL_ERR_NOMEM, or CL_ERR_INVALID / CL_ERR_NOTFOUND /
 *  CL_ERR_IO for bad input (logged). *p is released on error. */
cl_status cl_plan_twonode_load(const cl_plan_twonode_opts *o, cl_plan_twonode *p);
void cl_plan_twonode_fini(cl_plan_twonode *p);
/** @brief Fit per-op regressions on the layers of @p fit_path and predict the times of
 *  @p md's layers into t[md->n_layers]. */
cl_status cl_plan_predict_times(const char *fit_path, const cl_profile_model *md, double *t);

/** @brief Write the best Scission configuration @p c as a testbed config at @p path (one
 *  node per used tier, tier 0 always). @p cmdline goes into the header comment. An
 *  existing @p path is replaced only if @p force (else CL_ERR_EXISTS; cl_plan_config_write). */
cl_status cl_plan_emit_scission(const char *path, const cl_profile_set *set, const cl_netstats *net,
                                const cl_scission_query *q, const cl_scission_config *c, const char *model,
                                long inferences, const char *cmdline, int force);
/** @brief Write a two-node placement (on_b[k] = 1: unit k on side B) as a testbed config.
 *  Needs .h5 step profiles of both machines. @p force as for cl_plan_emit_scission. */
cl_status cl_plan_emit_twonode(const char *path, const cl_plan_twonode *p, const unsigned char *on_b,
                               const char *planner, const char *summary, long inferences, const char *cmdline,
                               int force);

#endif
