/** @file sweep_kind.h
 *  @brief Experiment kinds behind one interface. A kind (testbed, adaptive, coedge, plan)
 *  is one file that fills one cl_sweep_kind_i row: it parses its keys of the experiment
 *  file, writes the resolved text of a point, evaluates a point on any rank into an
 *  explicitly packed result, and owns the record tables that result goes to on rank 0.
 *  The work queue and the resumable driver (runtime/sweep_queue.c, sweep_out.c) know no
 *  kind: they look the row up by the experiment's `kind:` name.
 *
 *  Adding a kind: write runtime/kind_NAME.c (or sim/kind_NAME.c when it needs planners or
 *  other sim/ code), export its row, and list it in sim/sweep_kinds.c
 *  (cl_sweep_kinds_all). docs/experiments.md, "Adding a kind".
 *
 *  Messages between ranks are built field by field with cl_sweep_buf_* and read back
 *  with cl_sweep_rd_* (never raw structs), so a result's layout is written down once, in
 *  the kind's pack and unpack functions.
 */
#ifndef CLEAVE_SWEEP_KIND_H
#define CLEAVE_SWEEP_KIND_H

#include <stddef.h>
#include <stdint.h>

#include "cleave/cfg.h"
#include "cleave/store.h"
#include "cleave/sweep.h"

/* ---- field-by-field message packing ---- */

/** Growable byte buffer; oom is sticky (check it once at the end). Owns p (free). */
typedef struct cl_sweep_buf {
  unsigned char *p;
  size_t n, cap;
  int oom;
} cl_sweep_buf;
void cl_sweep_buf_put(cl_sweep_buf *b, const void *x, size_t n);
void cl_sweep_buf_i32(cl_sweep_buf *b, int32_t v);
void cl_sweep_buf_f64(cl_sweep_buf *b, double v);
/** A string: int32 length, then the bytes (no NUL). */
void cl_sweep_buf_str(cl_sweep_buf *b, const char *s);

/** Reader over a received message; bad is sticky (a short or malformed message). */
typedef struct cl_sweep_rd {
  const unsigned char *p;
  size_t n, off;
  int bad;
} cl_sweep_rd;
void cl_sweep_rd_get(cl_sweep_rd *r, void *x, size_t n);
int32_t cl_sweep_rd_i32(cl_sweep_rd *r);
double cl_sweep_rd_f64(cl_sweep_rd *r);
/** A string written by cl_sweep_buf_str into dst[cap] (truncated, always NUL-terminated). */
void cl_sweep_rd_str(cl_sweep_rd *r, char *dst, size_t cap);

/** printf into a malloc'd string (NULL on failure); for point texts. */
char *cl_sweep_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** @p s as a YAML scalar: plain when that reads back as the same string, else
 *  double-quoted (malloc'd). */
char *cl_sweep_yaml_scalar(const char *s);

/* ---- what a kind sees of the experiment ---- */

/** Records sink of rank 0 (the only writer): the open output, the shared dictionaries
 *  and the count of records appended (kinds add what they append). */
#define CL_SWEEP_KIND_MAX_TABLES 6
typedef struct cl_sweep_sink {
  cl_store *store;
  cl_dict *models, *plans;
  cl_table *t[CL_SWEEP_KIND_MAX_TABLES]; /* the kind's record tables, as its row lists them */
  cl_dict *d[CL_SWEEP_KIND_MAX_TABLES];  /* the kind's own dictionaries, as its row lists them */
  uint64_t records;
} cl_sweep_sink;

/** How a kind-defined factor's levels are read (cl_sweep_exp_add_factor). */
typedef enum cl_sweep_level_unit {
  CL_SWEEP_LEVEL_SECONDS,       /* durations (100ms) */
  CL_SWEEP_LEVEL_BANDWIDTH,     /* > 0 (50Mbit/s) */
  CL_SWEEP_LEVEL_BANDWIDTH0,    /* a bandwidth, or a bare 0 (= "the file's own value") */
  CL_SWEEP_LEVEL_SPEED,         /* a positive plain number */
} cl_sweep_level_unit;

/** @brief Add a factor named @p name (its levels: the sequence @p levels) to the grid.
 *  Errors as FILE:LINE:COL (CL_ERR_CONFIG). */
cl_status cl_sweep_exp_add_factor(cl_sweep_exp *e, const cl_cfg *c, const cl_cfg_node *levels, const char *name,
                                  cl_sweep_level_unit unit);
/** @brief The required non-empty list of names @p key of map @p root. *out: @p n strings
 *  (the caller frees each and the array, also after an error: unread entries are NULL). */
cl_status cl_sweep_cfg_strings(const cl_cfg *c, const cl_cfg_node *root, const char *key, char ***out, int *n);
/** Factor fields of testbed targets (bits of cl_sweep_exp_parse_testbed's @p allowed). */
enum {
  CL_SWEEP_FACTOR_SPEED = 1u << 0,
  CL_SWEEP_FACTOR_CPU_LOAD = 1u << 1,
  CL_SWEEP_FACTOR_MEM_PRESSURE = 1u << 2,
  CL_SWEEP_FACTOR_THREADS = 1u << 3,
  CL_SWEEP_FACTOR_BANDWIDTH = 1u << 4,
  CL_SWEEP_FACTOR_LATENCY = 1u << 5,
  CL_SWEEP_FACTOR_JITTER = 1u << 6,
  CL_SWEEP_FACTOR_DEVICE = 1u << 9, /**< nodes.NAME.device: a catalogue device per level */
  CL_SWEEP_FACTOR_ALL = ((1u << 7) - 1) | CL_SWEEP_FACTOR_DEVICE,
};
/** @brief Kinds built on a base testbed: read `testbed:` and `factors:` (targets
 *  nodes.NAME.FIELD, links.FROM->TO.FIELD); a factor whose field is not in @p allowed
 *  is an error at its `set:` (FILE:LINE:COL). */
cl_status cl_sweep_exp_parse_testbed(cl_sweep_exp *e, const cl_cfg *c, const cl_cfg_node *root, unsigned allowed);
/** @brief The base testbed with point @p i's model, factor levels and (if not NULL) plan
 *  @p plan_yaml substituted: a config cl_testbed_load_string accepts (malloc'd). */
char *cl_sweep_point_testbed_text(const cl_sweep_exp *e, int i, const char *plan_yaml);
/** @brief Load point @p i's testbed text as a check (before anything runs); logs which
 *  point failed. CL_ERR_CONFIG. */
cl_status cl_sweep_point_check_testbed(const cl_sweep_exp *e, int i, const char *plan_yaml);
/** Name of node @p k of the base testbed (kinds built on one), or NULL. */
const char *cl_sweep_exp_node(const cl_sweep_exp *e, int k);
/** Kind state set by the kind's parse (freed by its state_destroy). */
void cl_sweep_exp_set_state(cl_sweep_exp *e, void *state);
void *cl_sweep_exp_state(const cl_sweep_exp *e);
/** Path @p p relative to the experiment file's directory (malloc'd; caller frees). */
char *cl_sweep_exp_resolve(const cl_sweep_exp *e, const char *p);
int cl_sweep_exp_n_models(const cl_sweep_exp *e);
const char *cl_sweep_exp_model(const cl_sweep_exp *e, int m);
uint64_t cl_sweep_exp_seed(const cl_sweep_exp *e);
int cl_sweep_exp_n_factors(const cl_sweep_exp *e);
/** Model index, plan index (within the model's n_plans) and factor level (SI) of point i. */
int cl_sweep_point_model(const cl_sweep_exp *e, int i);
int cl_sweep_point_plan(const cl_sweep_exp *e, int i);
double cl_sweep_point_level(const cl_sweep_exp *e, int i, int factor);

/* ---- the kind interface: one row per kind ---- */

struct cl__sweep_sched; /* runtime-internal: kinds with their own work units (adaptive) */

typedef struct cl_sweep_kind_i {
  const char *name; /* the `kind:` value */
  int id;           /* stored in /sweep/points.kind; never reused */
  int onnx_models;  /* 1: `models` may name ONNX files (else zoo names only) */
  /** Parse the kind's keys (the common keys, `models` included, are read already);
   *  add factors, set the state. Every error as FILE:LINE:COL. */
  cl_status (*parse)(cl_sweep_exp *e, const cl_cfg *c, const cl_cfg_node *root);
  void (*state_destroy)(void *state);
  /** Plans (or planners) of model @p m in the grid: points = sum_m n_plans x levels. */
  int (*n_plans)(const cl_sweep_exp *e, int m);
  /** Resolved text of point @p i (its id is the SHA-256 of it); malloc'd. */
  char *(*point_text)(const cl_sweep_exp *e, int i);
  /** Printable plan label of point @p i for the `plans` dictionary (<= CL_DICT_MAXLEN). */
  void (*plan_label)(const cl_sweep_exp *e, int i, char *buf, size_t cap);
  /** Optional: check points load before anything runs. */
  cl_status (*validate)(const cl_sweep_exp *e);
  /** Any rank: evaluate a point text into *out (the kind's packed result). @p cache is
   *  the rank's cache between points (NULL at first; freed by cache_destroy). */
  cl_status (*eval)(const char *origin, const char *text, void **cache, cl_sweep_poll_fn poll, void *poll_ctx,
                    cl_sweep_buf *out);
  void (*cache_destroy)(void *cache);
  /** The kind's record tables (each declared once, in the kind's file) and its own
   *  dictionaries, NULL-terminated; the driver opens them into sink->t[] and sink->d[]. */
  const cl_table_desc *tables[CL_SWEEP_KIND_MAX_TABLES + 1];
  const char *dicts[CL_SWEEP_KIND_MAX_TABLES + 1];
  /** Rank 0: unpack point @p i's result and append its records (attempt key @p attempt)
   *  to sink->t[]; return the point row's latency (s) and energy (J). */
  cl_status (*write)(cl_sweep_sink *s, const cl_sweep_exp *e, int i, int64_t attempt, cl_sweep_rd *r,
                     double *latency, double *energy);
  const struct cl__sweep_sched *sched; /* NULL: one task per point */
} cl_sweep_kind_i;

/** The kinds of cleave_runtime. */
extern const cl_sweep_kind_i cl_sweep_kind_testbed, cl_sweep_kind_adaptive;
/** The kinds of cleave_sim (they need planners or the CoEdge executor). */
extern const cl_sweep_kind_i cl_sweep_kind_coedge, cl_sweep_kind_plan, cl_sweep_kind_users;
/** Every kind of the program, NULL-terminated (sim/sweep_kinds.c, in cleave_sim: the
 *  layer that sees both runtime/ and sim/). */
const cl_sweep_kind_i *const *cl_sweep_kinds_all(void);
/** The row named @p name in @p table (NULL-terminated), or NULL. */
const cl_sweep_kind_i *cl_sweep_kind_find(const cl_sweep_kind_i *const *table, const char *name);

#endif
