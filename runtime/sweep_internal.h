/* Internal layout of experiments (runtime/sweep_*.c, runtime/kind_*.c). Kinds outside
 * runtime/ see only include/cleave/sweep_kind.h. */
#ifndef CLEAVE_SWEEP_INTERNAL_H
#define CLEAVE_SWEEP_INTERNAL_H

#include <stdint.h>

#include "cleave/cfg.h"
#include "cleave/exec.h"
#include "cleave/sweep.h"
#include "cleave/sweep_kind.h"

/* Which field a factor sets. */
typedef enum cl__sweep_field {
  CL__F_SPEED,
  CL__F_CPU_LOAD,
  CL__F_MEM_PRESSURE,
  CL__F_THREADS,
  CL__F_BANDWIDTH,
  CL__F_LATENCY,
  CL__F_JITTER,
  CL__F_SECONDS,    /* kind-defined duration factor (e.g. coedge deadlines) */
  CL__F_BANDWIDTH0, /* kind-defined bandwidth, a bare 0 allowed (coedge bandwidths) */
  CL__F_DEVICE,     /* node device model (catalogue name or file); level_value = level index */
} cl__sweep_field;

/* Levels per factor: level indices are int32 (a factor may have up to this many levels;
 * the whole grid is bounded by CL__SWEEP_MAX_POINTS). */
#define CL__SWEEP_MAX_LEVELS 50000000
#define CL__SWEEP_MAX_POINTS 50000000L

typedef struct cl__sweep_factor {
  char target[160];   /* as written, e.g. "links.edge->cloud.bandwidth" */
  char parent[64];    /* config path of the map it sets ("nodes[1]", "links[0]"); "" for kind factors */
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
  int plan;        /* index among the kind's n_plans of the model */
  long grid;       /* index in the full grid (before sampling) */
  int32_t lev[CL_SWEEP_MAX_FACTORS];
  char id[65];
} cl__sweep_pt;

struct cl_sweep_exp {
  char *path, *dir;
  const cl_sweep_kind_i *kind;
  const cl_sweep_kind_i *const *kinds; /* the table the kind was found in */
  void *state;                          /* the kind's (kind->state_destroy) */
  char name[128];
  uint64_t seed;
  long sample;
  int n_models;
  char **models;
  /* base testbed (kinds built on a testbed: testbed, adaptive, plan) */
  char *tb_path;     /* resolved path; also the origin of point texts */
  cl_cfg *tb;        /* its parsed tree (emitted with overrides) */
  int tb_nodes;
  char tb_node_name[8][64];
  /* grid */
  int n_factors;
  cl__sweep_factor f[CL_SWEEP_MAX_FACTORS];
  int n_points;
  cl__sweep_pt *pts;
};

/* The kinds of cleave_runtime (testbed, adaptive), NULL-terminated. */
extern const cl_sweep_kind_i *const cl__sweep_runtime_kinds[];

/* ---- shared text helpers (runtime/sweep_text.c) ---- */

/* Growable string; oom is sticky. */
typedef struct cl__sb {
  char *s;
  size_t n, cap;
  int oom;
} cl__sb;
void cl__sb_put(cl__sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The string, or NULL (freed) after an allocation failure. */
char *cl__sb_take(cl__sb *b);
char *cl__sdup(const char *s);
/* The text of a finished config writer without its last newline (NULL on error). */
char *cl__sweep_writer_take(cl_config_writer *w);
/* A config subtree as flow YAML (caller frees); marks every key of it read (it is used,
 * as text). */
char *cl__sweep_emit_node(const cl_cfg_node *n);

/* A config tree as YAML with overrides (cl_config_dump_edit): every (parent path, key)
 * pair in ov[] replaces (or adds) that key's value with the YAML text. Caller frees. */
typedef cl_config_override cl__sweep_override;
char *cl__sweep_emit(const cl_cfg *c, const cl__sweep_override *ov, int n_ov);

/* ---- experiment helpers for kinds (runtime/sweep_exp.c) ---- */

/* Testbed text of point pt with model, plan and factor levels substituted (caller frees). */
char *cl__sweep_testbed_text(const cl_sweep_exp *e, const cl__sweep_pt *pt, const char *plan_yaml);
/* Load @p text (point i's testbed text, malloc'd; freed here, NULL = out of memory) as a
 * check; logs which point failed; on success *su is the caller's (cl_rt_setup_free). */
cl_status cl__sweep_check_testbed_point(const cl_sweep_exp *e, int i, char *text, cl_rt_setup *su);

/* Executor step boundaries usable as cuts: out[k] = graph node; returns count (incl. input). */
cl_status cl__sweep_step_cuts(const char *model, int **cuts, int *n, char ***names, int *out_node);

/* ---- executor reuse across points (runtime/exec_cache.c) ---- */

/* Executors keyed by (graph, run mask, backend, threads, fusion, inter-op mode), bounded
 * by bytes (LRU); a got executor is pinned until released. */
typedef struct cl__exec_cache cl__exec_cache;
typedef struct cl__exec_cache_stats {
  int64_t hits, misses, evictions;
  int entries;
  size_t bytes; /* cl_exec_memory_bytes of the cached executors */
} cl__exec_cache_stats;
#define CL__EXEC_CACHE_DEFAULT_MB 1024
/* Capacity from CLEAVE_EXEC_CACHE_MB (MiB; 0 = no reuse), default 1024 MiB. */
size_t cl__exec_cache_default_bytes(void);
cl_status cl__exec_cache_create(size_t cap_bytes, cl__exec_cache **out);
void cl__exec_cache_destroy(cl__exec_cache *c);
/* The executor of @p g for @p opts (its run_mask is copied); borrowed until released. */
cl_status cl__exec_cache_get(cl__exec_cache *c, const cl_graph *g, const cl_exec_opts *opts, cl_exec **out);
void cl__exec_cache_release(cl__exec_cache *c, cl_exec *ex);
/* Destroy every (unpinned) executor of @p g: call before destroying @p g. */
void cl__exec_cache_drop_graph(cl__exec_cache *c, const cl_graph *g);
cl__exec_cache_stats cl__exec_cache_stats_get(const cl__exec_cache *c);

/* A graph with initialised weights kept between points of the same model and seed,
 * its executors (execute mode) and its per-node profile times (profile mode). */
typedef struct cl__sweep_gcache {
  char model[256];
  uint64_t seed;
  cl_graph *g;
  int weights;        /* g's weights are initialised (profile mode loads the structure only) */
  cl__exec_cache *ex; /* created on first use */
  char *prof_path;    /* profile whose times prof_t holds, or NULL */
  double *prof_t;     /* [graph size] host seconds per graph node */
} cl__sweep_gcache;
void cl__sweep_gcache_free(cl__sweep_gcache *gc);
/* Evaluate a testbed point. Execute mode (the point has no `profile:`): real kernels,
 * executors from gc's cache when gc is given. Profile mode (`profile: FILE`): no
 * execution, step times from FILE x the nodes' slowdowns (cl_rt_simulate). */
cl_status cl__sweep_eval_testbed_cached(const char *origin, const char *text, cl__sweep_gcache *gc,
                                        cl_sweep_poll_fn poll, void *poll_ctx, cl_sweep_tb_result *res);
/* Fill res->layers (one per inference and executor step: times, factor, busy energy) from
 * a run timeline (runtime/kind_testbed.c). */
cl_status cl__sweep_tb_layers(const cl_rt_setup *su, const cl_rt_tasks *t, const cl_timeline *tl,
                              cl_sweep_tb_result *res);

/* ---- the driver (runtime/sweep_queue.c, sweep_out.c) ---- */

enum { CL__TAG_MSG = 7101, CL__TAG_TASK = 7102 };
/* Task types: a point, a kind-defined auxiliary unit (adaptive profiling), stop. */
enum { CL__T_POINT = 0, CL__T_AUX = 1, CL__T_STOP = -1 };

typedef struct cl__sweep_srv {
  MPI_Comm comm;
  int rank, size;
  cl_sweep_exp *e;
  cl_sweep_opts *o;
  cl_sweep_sink sink;
  cl_table *t_pt, *t_cfg;
  void *kstate;      /* rank-0 state of a kind with a scheduler */
  int64_t session, counter;
  uint8_t *done;     /* [n_points] */
  int n_todo, n_done, n_failed;
  /* queue */
  int *q_type, *q_ref, q_n, q_cap, q_next;
  int stopped;
  /* progress */
  double t0, last_print;
  int tty;
  int aux_done, aux_total; /* auxiliary units (profiles) */
  cl_status err;
} cl__sweep_srv;

/* A kind with its own work units (runtime kinds only): the driver calls these on rank 0. */
typedef struct cl__sweep_sched {
  /* After the output is open: queue the tasks (cl__sweep_queue_push), reload resume state. */
  cl_status (*prepare)(cl__sweep_srv *s);
  char *(*aux_text)(cl__sweep_srv *s, int ref);
  /* Any rank: evaluate an auxiliary unit. */
  cl_status (*aux_eval)(const char *text, void **cache, cl_sweep_poll_fn poll, void *poll_ctx, cl_sweep_buf *out);
  cl_status (*aux_write)(cl__sweep_srv *s, int ref, cl_sweep_rd *r);
  /* Rank-0 work between tasks; returns 1 if it did some (then *st is its status). */
  int (*idle)(cl__sweep_srv *s, cl_status *st);
  void (*fini)(cl__sweep_srv *s);
} cl__sweep_sched;

cl_status cl__sweep_queue_push(cl__sweep_srv *s, int type, int ref);
/* Serve every pending request (poll callback; errors go to s->err). */
void cl__sweep_serve(void *srv);
int64_t cl__sweep_next_attempt(cl__sweep_srv *s);
void cl__sweep_progress(cl__sweep_srv *s, int force);
/* Output file: open (create or resume), the point rows, close (sweep_out.c). */
cl_status cl__sweep_out_open(cl__sweep_srv *s);
cl_status cl__sweep_out_point(cl__sweep_srv *s, int i, int64_t att, int rank, const char *plan_label, double latency,
                              double energy, double seconds, int failed);
/* Unpack and record one task's reply (status, type, ref, seconds, payload). */
cl_status cl__sweep_out_result(cl__sweep_srv *s, const unsigned char *msg, size_t len, int from);


#endif
