/** @file exec.h
 *  @brief Executor: plan once, run many. Turns a graph (or the subset of its nodes
 *  placed on one testbed node) into a list of steps with fused post-ops, packs
 *  folded weights, allocates and touches all activation memory once.
 *
 *  Fusion (opts.fuse): conv/fc followed by its sole consumer batch-norm is folded
 *  into the conv weights; a following sole-consumer activation becomes the conv's
 *  post-op; batchnorm->act and add->act fuse likewise; dropout is an identity step.
 *  A step is named after its first node and produces the output of its last node.
 *
 *  Ownership: the executor borrows the graph (which must outlive it and keep its
 *  weights); it owns step descriptors, folded weights, activation buffers and the
 *  workspace. Buffers returned by cl_exec_buffer() live until cl_exec_destroy().
 */
#ifndef CLEAVE_EXEC_H
#define CLEAVE_EXEC_H

#include <stdint.h>

#include "cleave/graph.h"

/** Kernel backend. PORTABLE: cleave's own kernels (NCHW, im2col + OpenBLAS sgemm),
 *  row-window capable; the only backend for spatial (row-slice) execution. DNNL:
 *  oneDNN primitives with blocked layouts kept across layers, weights packed once and
 *  fused post-ops (bias, folded batch-norm, activation, residual add). AUTO: the
 *  CLEAVE_BACKEND environment variable ("portable" or "dnnl") if set, else DNNL when
 *  cleave was built with oneDNN, else PORTABLE. */
typedef enum cl_backend { CL_BACKEND_AUTO = 0, CL_BACKEND_PORTABLE, CL_BACKEND_DNNL } cl_backend;

/** @brief "auto", "portable", "dnnl". */
const char *cl_backend_name(cl_backend b);
/** @brief Parse a backend name; returns -1 if unknown. */
int cl_backend_parse(const char *name);
/** @brief 1 if @p b can be used in this build (AUTO and PORTABLE always). */
int cl_backend_available(cl_backend b);
/** @brief The backend AUTO resolves to (environment, then build). */
cl_backend cl_backend_resolve(cl_backend b);
/** @brief Library version of a backend and what it dispatches to on this CPU, e.g.
 *  "oneDNN 2.6.3 avx512_core" (the ISA oneDNN uses: ONEDNN_MAX_CPU_ISA or another CPU
 *  changes it) or "portable (im2col + OpenBLAS 0.3.21 SkylakeX)". Recorded in profiles
 *  and provenance, and part of the key of every per-host cache (cl_calib_cache_path). */
const char *cl_backend_version(cl_backend b);

typedef struct cl_exec_opts {
  int threads;            /* BLAS/kernel threads (default 1) */
  cl_backend backend;     /* default AUTO */
  int fuse;               /* fuse BN/activations into producers (default 1) */
  const uint8_t *run_mask; /* graph nodes to execute (1 = here); NULL = all nodes */
  int plan_only;          /* build the step list only: no weights needed, no buffers (simulation) */
  int inter_op;           /* cl_inter_op: run independent branches side by side (AUTO: the
                             CLEAVE_INTEROP environment variable, default auto = measured) */
  int row_split;          /* cl_row_split: oneDNN on 2 threads, chains of layers split by rows
                             (AUTO: CLEAVE_DNNL_ROWS, default auto = measured per model) */
  int preact;             /* cl_preact: oneDNN, batch norms computed inside the 1x1 convolution
                             that alone reads them (AUTO: CLEAVE_DNNL_PREACT, default auto =
                             measured per model and thread count) */
} cl_exec_opts;

/** Batch norm (+ ReLU) fused into the 1x1 convolution that is its only reader, run by
 *  cleave's pre-activation kernel (oneDNN backend, AVX-512, nChw16c; docs/runtime.md).
 *  AUTO defers to CLEAVE_DNNL_PREACT: "off", "on", or unset / "auto": the executor is
 *  timed with every such fusion, with those on maps up to 14x14 only, and with none,
 *  once per host, graph and thread count, and the choice cached with the kernel
 *  choices (on with CLEAVE_KERNEL_CHOICE=off, off with a forced candidate). Outputs equal
 *  the unfused ones to rounding. Executors timed step by step ask for OFF, so that a
 *  batch norm keeps its own time in per-layer records. */
typedef enum cl_preact { CL_PREACT_AUTO = 0, CL_PREACT_OFF, CL_PREACT_ON } cl_preact;

/** Rows mode (oneDNN backend, exactly 2 threads, batch 1; docs/runtime.md): activations
 *  NHWC and each convolution / pooling split into two single-threaded primitives over
 *  the top and bottom halves of its output rows, a chain of them run in one parallel
 *  region with barriers only where a halo crosses, so each core keeps its rows in its
 *  own cache from layer to layer. Wins on depthwise networks (mobilenet_v2), loses
 *  where Winograd or zero-copy concatenation matter. AUTO defers to CLEAVE_DNNL_ROWS:
 *  "off", "on", or unset / "auto": for a graph with a grouped convolution and no concat,
 *  both executors are timed once per host and the choice cached with the kernel
 *  choices (provisional when timed on a loaded host); otherwise off (also with
 *  CLEAVE_KERNEL_CHOICE other than auto, where nothing is timed). Outputs equal the
 *  unsplit NHWC executor's to rounding. */
typedef enum cl_row_split { CL_ROWS_AUTO = 0, CL_ROWS_OFF, CL_ROWS_ON } cl_row_split;

/** Inter-operator parallelism (threads >= 2): independent steps (Inception branches, a
 *  residual downsample beside the main path) run concurrently, one thread each,
 *  instead of one after another on all threads. AUTO defers to the CLEAVE_INTEROP
 *  environment variable: "off" serial, "on" every group parallel, unset or "auto"
 *  measures both per branch group once (cached per process) and keeps the faster.
 *  Outputs equal the serial order's. */
typedef enum cl_inter_op { CL_INTEROP_AUTO = 0, CL_INTEROP_OFF, CL_INTEROP_ON } cl_inter_op;

/** @brief Default options: 1 thread, fusion on, all nodes. */
cl_exec_opts cl_exec_opts_default(void);

/** One executable step: graph nodes first..last fused (ids listed in nodes[]). */
typedef struct cl_exec_step {
  int node;        /* first (primary) graph node of the step */
  int out_node;    /* graph node whose output this step produces */
  int n_nodes;     /* graph nodes covered (>= 1) */
  const int *nodes;
  int64_t macs, flops, params;
  int64_t out_bytes;
  char label[128]; /* e.g. "layer1.0.conv1+bn1+relu" */
} cl_exec_step;

typedef struct cl_exec cl_exec;

/** @brief Build an executor for @p g (weights must be initialised). */
cl_status cl_exec_create(const cl_graph *g, const cl_exec_opts *opts, cl_exec **out);
/** @brief Free everything the executor owns. NULL-safe. */
void cl_exec_destroy(cl_exec *e);

int cl_exec_step_count(const cl_exec *e);
const cl_exec_step *cl_exec_step_get(const cl_exec *e, int i);
/** @brief Step index that produces graph node @p node's output, or -1 (fused away / not here). */
int cl_exec_step_of(const cl_exec *e, int node);

/** @brief Output buffer (full tensor, NCHW) of graph node @p node: any step output and
 *  any external input of the executed subset (written by the caller, e.g. received
 *  over MPI). NULL for nodes fused away or unrelated to this executor. With the DNNL
 *  backend only the graph input(s), external inputs and *exported* outputs (the graph
 *  output, outputs with no consumer, outputs consumed outside the run mask) have NCHW
 *  buffers; internal tensors live in oneDNN's blocked layouts and give NULL. */
float *cl_exec_buffer(cl_exec *e, int node);

/** @brief Fill the graph input with deterministic values in [-1, 1) from @p seed. */
void cl_exec_fill_input(cl_exec *e, uint64_t seed);

/** @brief Run all steps in order. */
cl_status cl_exec_run(cl_exec *e);
/** @brief Run one step. */
cl_status cl_exec_run_step(cl_exec *e, int step);

/** @brief The backend this executor runs (never AUTO). */
cl_backend cl_exec_backend(const cl_exec *e);

/** @brief DNNL backend diagnostics: steps that run the portable kernel instead, and
 *  primitives on oneDNN's (slow) reference implementations. Both 0 otherwise. */
void cl_exec_dnnl_stats(const cl_exec *e, int *fallback_steps, int *ref_primitives);

/** @brief Branch groups (segments at least two steps wide) and how many of them run
 *  their branches in parallel; both 0 when the executor runs serially. */
void cl_exec_parallel_groups(const cl_exec *e, int *groups, int *parallel);

/** @brief Steps the oneDNN backend runs split by rows over two threads (rows mode,
 *  docs/runtime.md); 0 when not in rows mode. */
int cl_exec_row_split_steps(const cl_exec *e);

/** @brief Batch-norm steps the oneDNN backend computes inside the 1x1 convolution that
 *  alone reads them (cleave's pre-activation kernel, docs/runtime.md: DenseNet,
 *  pre-activation ResNets); their own steps then take no time. 0 without. Chosen per
 *  graph and thread count by timing (CLEAVE_DNNL_PREACT=off|on|auto). */
int cl_exec_preact_steps(const cl_exec *e);
/** Depthwise 3x3 convolutions computed inside the 1x1 convolution feeding them (oneDNN). */
int cl_exec_dw_steps(const cl_exec *e);

/** @brief Activation + workspace bytes allocated. */
size_t cl_exec_memory_bytes(const cl_exec *e);

/** @brief Sum of the output tensor (double accumulation), a cheap fingerprint. */
double cl_exec_checksum(const float *x, int64_t n);

#endif
