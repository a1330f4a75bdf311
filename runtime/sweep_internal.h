/* Internal layout of experiments (runtime/sweep*.c, runtime/adaptive*.c). */
#ifndef CLEAVE_SWEEP_INTERNAL_H
#define CLEAVE_SWEEP_INTERNAL_H

#include <stdint.h>

#include "cleave/cfg.h"
#include "cleave/sweep.h"

/* Which field a factor sets. */
typedef enum cl__sweep_field {
  CL__F_SPEED,
  CL__F_CPU_LOAD,
  CL__F_MEM_PRESSURE,
  CL__F_THREADS,
  CL__F_BANDWIDTH,
  CL__F_LATENCY,
  CL__F_JITTER,
  CL__F_DEADLINE,  /* coedge */
  CL__F_WLAN,      /* coedge bandwidth */
} cl__sweep_field;

typedef struct cl__sweep_factor {
  char target[160];   /* as written, e.g. "links.edge->cloud.bandwidth" */
  char parent[64];    /* config path of the map it sets ("nodes[1]", "links[0]") */
  char key[32];       /* key inside that map */
  cl__sweep_field field;
  int node;           /* testbed node index (node fields) or link src (link fields) */
  int node2;          /* link dst */
  int n_levels;
  char **level_text;  /* YAML scalar text written into point configs */
  double *level_value; /* SI value */
  const char *unit;   /* printable SI unit of level_value */
} cl__sweep_factor;

typedef struct cl__sweep_pt {
  int model;
  int plan;        /* testbed: plan index of the model; coedge: planner index; adaptive: 0 */
  int grid;        /* index in the full grid (before sampling) */
  int16_t lev[CL_SWEEP_MAX_FACTORS];
  char id[65];
} cl__sweep_pt;

typedef struct cl__sweep_plans {
  int n;
  int *c1, *c2;    /* every_cut: cut graph nodes (c2 = -1 for 2 nodes); explicit: c1 = plan index */
  char **label;    /* printable plan label (<= 123 chars), e.g. "cut@features.5" */
  char **yaml;     /* the plan in testbed `plan:` syntax (flow YAML) */
} cl__sweep_plans;

struct cl_sweep_exp {
  char *path, *dir;
  cl_sweep_kind kind;
  char name[128];
  uint64_t seed;
  long sample;
  int n_models;
  char **models;
  /* testbed / adaptive */
  char *tb_path;     /* base testbed (resolved path) */
  cl_cfg *tb;        /* its parsed tree (emitted with overrides) */
  int tb_nodes;
  char tb_node_name[8][64];
  int every_cut;
  int n_explicit;
  char **explicit_plan;        /* flow YAML of each explicit plan */
  cl__sweep_plans *plans;      /* [n_models] */
  int reps, warmup;            /* adaptive */
  double mem_cap;              /* adaptive: bytes */
  /* coedge */
  char *devices;
  int n_planners;
  char **planners;
  int mode;
  long inferences;
  /* grid */
  int n_factors;
  cl__sweep_factor f[CL_SWEEP_MAX_FACTORS];
  int n_points;
  cl__sweep_pt *pts;
};

/* Emit a config tree as YAML with overrides: every (parent path, key) pair in ov[]
 * replaces (or adds) that key's value with the raw YAML text. Caller frees. */
typedef struct cl__sweep_override {
  const char *parent;
  const char *key;
  const char *value;
} cl__sweep_override;
char *cl__sweep_emit(const cl_cfg *c, const cl__sweep_override *ov, int n_ov);

/* Testbed text of point pt with model, plan and factor levels substituted (caller frees). */
char *cl__sweep_testbed_text(const cl_sweep_exp *e, const cl__sweep_pt *pt, const char *plan_yaml);

/* Executor step boundaries usable as cuts: out[k] = graph node; returns count (incl. input). */
cl_status cl__sweep_step_cuts(const char *model, int **cuts, int *n, char ***names, int *out_node);

/* A graph with initialised weights kept between points of the same model and seed. */
typedef struct cl__sweep_gcache {
  char model[256];
  uint64_t seed;
  cl_graph *g;
} cl__sweep_gcache;
cl_status cl__sweep_eval_testbed_cached(const char *origin, const char *text, cl__sweep_gcache *gc,
                                        cl_sweep_poll_fn poll, void *poll_ctx, cl_sweep_tb_result *res);

#endif
