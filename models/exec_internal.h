/* Executor internals shared by the portable path (exec.c) and the oneDNN backend
 * (exec_dnnl.c). Not installed; not part of the public API. */
#ifndef CLEAVE_EXEC_INTERNAL_H
#define CLEAVE_EXEC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "cleave/exec.h"
#include "cleave/ops.h"

typedef struct cl__exec_step {
  cl_exec_step pub;
  cl_node node;        /* node descriptor actually run (copy, may carry folded weights) */
  float *own_weights;  /* folded weights owned by the executor, or NULL */
  int skip;            /* identity step (dropout): output aliases the input */
} cl__exec_step;

typedef struct cl__dnnl cl__dnnl;
typedef struct cl__sched cl__sched;

struct cl_exec {
  const cl_graph *g;
  cl_exec_opts opts;
  cl_backend backend; /* resolved: PORTABLE or DNNL */
  int n_nodes;
  cl__exec_step *steps;
  int n_steps;
  int *step_nodes;   /* storage for all steps' node lists */
  int *step_of;      /* graph node -> step producing it, or -1 */
  float **buf;       /* graph node -> NCHW buffer (NULL if none) */
  uint8_t *buf_owned;
  uint8_t *exported; /* node's output leaves this executor (other rank, graph output) */
  float *workspace;
  size_t workspace_bytes;
  size_t mem_bytes;
  cl__dnnl *dnnl;    /* backend state when backend == CL_BACKEND_DNNL */
  cl__sched *sched;  /* branch-parallel schedule (exec_sched.c), or NULL: serial */
  float **lane_ws;   /* per-lane kernel workspaces ([0] = workspace), or NULL */
  int n_lane_ws;
};

/* A byte range a step reads or writes when it runs (dependency analysis). */
typedef struct cl__span {
  const char *p;
  size_t n;   /* bytes */
  int write;
} cl__span;

/* Run step k on lane @p lane (0 = the calling thread; others are OpenMP team threads)
 * with @p threads kernel threads. */
cl_status cl__exec_run_lane(cl_exec *e, int k, int lane, int threads);
/* Ranges step k touches at run time, at most @p cap into @p out; returns how many
 * there are (call again with more room if that exceeds cap). */
int cl__exec_step_spans(const cl_exec *e, int k, cl__span *out, int cap);

/* Branch-parallel schedule (exec_sched.c): built, and measured when the choice is
 * automatic, after the backend's create; leaves e->sched NULL when all is serial. */
cl_status cl__sched_create(cl_exec *e);
void cl__sched_destroy(cl__sched *s);
cl_status cl__sched_run(cl_exec *e);

/* Memory from the OS, huge-page advised and touched now (no first-touch faults in runs).
 * Adds the rounded size to *total. */
float *cl__exec_alloc(size_t bytes, size_t *total);

/* oneDNN backend (exec_dnnl.c). create() builds primitives for e's steps; returns
 * CL_ERR_UNSUPPORTED when built without oneDNN. */
cl_status cl__dnnl_create(cl_exec *e);
void cl__dnnl_destroy(cl__dnnl *d);
void cl__dnnl_stats(const cl__dnnl *d, int *fallback, int *ref);
cl_status cl__dnnl_run_step(cl_exec *e, int step, int lane, int threads);
int cl__dnnl_step_spans(const cl_exec *e, int step, cl__span *out, int cap);
/* Run steps [a, b) one after another (rows mode: split chains side by side on two
 * threads, exec_dnnl_rows.c); how many steps rows mode splits (0: not in rows mode). */
cl_status cl__dnnl_run_range(cl_exec *e, int a, int b);
/* Can step k run on one thread of an OpenMP team (inter-op task mode)? Not if one of
 * its primitives splits its work by the thread count it was created with, whatever
 * it is run with: oneDNN 2.6's NHWC batch norm on AVX2 ("bnorm_tbb_jit") then computes
 * only its own share (resnet50_v2 with NHWC layers on an AVX2 host: 33% relative error). */
int cl__dnnl_step_lane_safe(const cl_exec *e, int k);
int cl__dnnl_rows_steps(const cl__dnnl *d);
int cl__dnnl_preact_steps(const cl__dnnl *d);
int cl__dnnl_dw_steps(const cl__dnnl *d);
/* CL_ROWS_AUTO on 2 threads: time this executor against its rows-mode twin (once per
 * host and graph, cached with the kernel choices) and keep the faster in *pe. */
cl_status cl__dnnl_rows_decide(cl_exec **pe);
/* Keep or drop each whole-graph fusion (exec_dnnl_fuse.c: batch norm into 1x1, depthwise
 * into 1x1; timed once per host, graph and thread count). */
cl_status cl__dnnl_fusions_decide(cl_exec **pe);
int cl__dnnl_available(void);
const char *cl__dnnl_version(void);

#endif
