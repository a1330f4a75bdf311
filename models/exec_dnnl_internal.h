/* oneDNN backend internals shared by exec_dnnl.c (helpers, conv / inner product,
 * create, run) and exec_dnnl_ops.c (the other op builders, zero-copy concat
 * planning). Only included when cleave is built with oneDNN. The helpers keep their
 * short names inside these two files; the macros give the linker cl__ names. */
#ifndef CLEAVE_EXEC_DNNL_INTERNAL_H
#define CLEAVE_EXEC_DNNL_INTERNAL_H

#include <oneapi/dnnl/dnnl.h>

#include "exec_internal.h"

/* One primitive execution with its arguments. */
typedef struct dn_call {
  dnnl_primitive_t prim;
  int nargs;
  dnnl_exec_arg_t *args;
} dn_call;

typedef struct dn_step {
  int first_call, n_pre; /* calls [first_call, first_call + n_pre) run before the fallback kernel */
  int n_calls;           /* all calls of this step */
  int fallback;          /* run the portable kernel on NCHW copies */
  float **fb_in;         /* fallback: NCHW input pointers */
  float *fb_out;         /* fallback: NCHW output */
  int preact;            /* fused pre-activation 1x1 kernel (exec_dnnl_preact.c): d->pa index + 1, 0 none */
} dn_step;

typedef struct cl__dn_preact cl__dn_preact;

typedef struct cl__dn_rows cl__dn_rows;

struct cl__dnnl {
  dnnl_engine_t eng;
  dnnl_stream_t strm;
  dnnl_stream_t *lane_strm; /* one stream per lane (inter-op parallelism); [0] = strm */
  dnnl_memory_t *lane_scratch; /* one scratchpad per lane (see user_scratch) */
  int n_lanes;
  size_t scratch_bytes;
  dnnl_exec_arg_t *argv;   /* per lane, max_args + 1 slots: a call's args + scratchpad */
  int max_args;
  int n_nodes;
  dnnl_memory_t *mem;      /* node -> memory holding its output (borrowed from owned[]) */
  dnnl_memory_desc_t *md;  /* node -> that memory's descriptor */
  uint8_t *is2d;           /* node output is a [n, features] matrix */
  int *last_use;           /* node -> last step index reading it (-1: none) */
  dn_step *steps;
  dn_call *calls;
  int n_calls, cap_calls;
  dnnl_memory_t *owned;
  int n_owned, cap_owned;
  dnnl_primitive_t *prims;
  int n_prims, cap_prims;
  void **bufs;
  int n_bufs, cap_bufs;
  int n_fallback;
  int n_ref; /* primitives on oneDNN's reference (slow) implementations */
  int blocked; /* force nChw16c activations where channels allow */
  int rows;    /* rows mode (exec_dnnl_rows.c): NHWC, convolutions and pools split by rows */
  cl__dn_rows *rows_plan;
  cl__dn_preact *pa; /* fused batch norm + 1x1 convolution steps (exec_dnnl_preact.c) */
  int n_pa, cap_pa;
  int n_dw; /* depthwise convolutions fused into their 1x1 convolution (exec_dnnl_dw.c) */
  float **pa_scr; /* their scratch, per thread / lane (cl__dn_preact_scratch) */
  int n_pa_scr;
  size_t pa_stride;
  /* Zero-copy concat (batch 1): node -> root concat whose buffer holds it (-1: none),
   * its channel offset there, and per root the buffer's layout and memory. */
  int *place_root, *place_off;
  uint8_t *root_blocked;
  float **root_ptr;
  dnnl_memory_t *region;   /* node -> memory over its region (placed nodes) */
  dnnl_memory_desc_t *region_md;
  uint8_t *pending;        /* placed node computed elsewhere: copy into its region */
  /* Kernel choice (exec_dnnl_choice.c) and layout conversions between layers. */
  int kc_layers, kc_measured, kc_changed, n_layout_reorders;
  int n_concat_copies; /* concat inputs copied at run time (not computed in their slot) */
  double kc_seconds;
  /* Host state for 2+-thread timings (exec_dnnl_choice.c): 0 not probed yet, 1 quiet,
   * 2 loaded; the probe's stalled fraction; the choice generation of this executor. */
  int kc_host, kc_provisional;
  double kc_stalled;
  unsigned kc_gen;
};

/* A convolution to create: everything but the source / destination layouts and the
 * algorithm, which cl__dn_conv_choose picks. */
typedef struct cl__conv_req {
  const cl_conv_params *cp;
  cl_shape is, os;
  dnnl_memory_desc_t have_src; /* the producer's layout of the input */
  dnnl_memory_desc_t src_md, wei_md, dst_md;
  const dnnl_memory_desc_t *bias_md; /* NULL: no bias */
  int dst_fixed;               /* dst_md is imposed (concat slot, residual accumulator) */
  int sum;                     /* residual sum post-op */
  cl_act act;
  dnnl_dims_t strides, dil, pl, pr;
  dnnl_primitive_attr_t attr;
} cl__conv_req;

/* The chosen convolution primitive descriptor (caller owns it), or NULL. */
dnnl_primitive_desc_t cl__dn_conv_choose(cl_exec *e, const cl__conv_req *rq);
/* Is the host quiet enough for 2+-thread wall-clock timings (co-scheduling probe, or
 * CLEAVE_HOST_LOAD=quiet|loaded)? Probed once per executor; @p again: probe anew. */
int cl__dn_host_quiet(cl__dnnl *d, int again);
/* After all primitives exist: save newly measured choices, log what was measured. */
void cl__dn_choices_done(cl_exec *e);

/* Batch norm fused into the 1x1 convolution that alone reads it (exec_dnnl_preact.c):
 * the convolution step that absorbs batch-norm step k (timed or cached choice), or -1;
 * build that step; run it; its byte ranges; free the plans. */
int cl__dn_preact_target(cl_exec *e, int k, const int *consumers);
cl_status cl__dn_build_preact(cl_exec *e, int k2, int kb, dn_step *st);
cl_status cl__dn_preact_scratch(cl_exec *e);
void cl__dn_run_preact(cl__dnnl *d, int i, int lane, int threads);
int cl__dn_preact_spans(const cl__dnnl *d, int i, cl__span *out, int cap);
void cl__dn_preact_destroy(cl__dnnl *d);
/* Whole-graph fusions (exec_dnnl_fuse.c): which one, the variant an executor is being
 * built with (-1: the mode's), the mode (0 off, 1 on, 2 auto: raced), whether a pair
 * on a map of @p positions is fused in the variant being built (the batch-norm fusion's
 * partial variant: maps up to 14x14). */
enum { CL__FUSE_PREACT, CL__FUSE_DW, CL__FUSE_N };
enum { CL__FV_NONE = 0, CL__FV_ALL = 1, CL__FV_PART = 2 };
extern _Thread_local int cl__dn_fv[CL__FUSE_N];
int cl__dn_fuse_mode(const cl_exec *e, int f);
int cl__dn_fuse_here(int f, int positions);
/* Fused batch norms on maps up to 14x14 (the preact fusion's partial variant). */
int cl__dn_preact_part(const cl__dnnl *d);
/* A 3x3 depthwise convolution fused into the 1x1 convolution that alone feeds it
 * (exec_dnnl_dw.c): the depthwise step that 1x1 step k absorbs, or -1; build the pair
 * (CL_ERR_UNSUPPORTED: nothing added, build them apart). */
int cl__dn_dw_target(cl_exec *e, int k, const int *consumers);
cl_status cl__dn_build_dw(cl_exec *e, int k, int k2, dn_step *st);
/* Run a reorder now (weights packing), then free it. */
cl_status cl__dn_reorder_now(cl__dnnl *d, dnnl_memory_t src, dnnl_memory_t dst);
/* A hash of what a whole-graph choice depends on (steps, their ops, sizes, exports). */
uint64_t cl__dn_graph_signature(const cl_exec *e);
/* Steady-state times of @p n executors (exec_dnnl_rows.c: @p rounds rounds of a block of
 * three runs each, the first of a block dropped; medians into t[0..n)). */
cl_status cl__dn_race(cl_exec **ex, int n, int rounds, double *t);

/* Rows mode (exec_dnnl_rows.c): after every step is built, give the row-splittable
 * ones their two single-threaded calls and decide the barriers; run steps [a, b). */
int cl__dn_rows_wanted(const cl_exec *e);
cl_status cl__dn_rows_create(cl_exec *e);
void cl__dn_rows_destroy(cl__dn_rows *r);
cl_status cl__dn_rows_run(cl_exec *e, int a, int b);
int cl__dn_rows_split_steps(const cl__dnnl *d);
/* Fewest output rows per thread for a split step (CLEAVE_DNNL_ROWS_MIN, default 4). */
int cl__dn_rows_min(void);

#define DN_TRY(call, what)                                                                   \
  do {                                                                                       \
    dnnl_status_t s_ = (call);                                                               \
    if (s_ != dnnl_success) {                                                                \
      cl_log_error("executor (oneDNN): %s failed (status %d)", (what), (int)s_);           \
      return CL_ERR_INTERNAL;                                                                \
    }                                                                                        \
  } while (0)

#define dn_alloc cl__dn_dn_alloc
#define dn_mem cl__dn_dn_mem
#define dn_call_add cl__dn_dn_call_add
#define plain_md cl__dn_plain_md
#define any_md cl__dn_any_md
#define blocked_md cl__dn_blocked_md
#define md_is_plain cl__dn_md_is_plain
#define user_scratch cl__dn_user_scratch
#define dn_reorder_call cl__dn_dn_reorder_call
#define dn_as cl__dn_dn_as
#define dn_set_out cl__dn_dn_set_out
#define dn_export cl__dn_dn_export
#define act_alg cl__dn_act_alg
#define make_attr cl__dn_make_attr
#define make_attr_dw cl__dn_make_attr_dw
#define pd_create cl__dn_pd_create
#define prim_from cl__dn_prim_from
#define dn_act_inplace cl__dn_dn_act_inplace
#define build_pool cl__dn_build_pool
#define build_bn cl__dn_build_bn
#define build_eltwise_act cl__dn_build_eltwise_act
#define build_binary cl__dn_build_binary
#define build_concat cl__dn_build_concat
#define build_lrn cl__dn_build_lrn
#define build_softmax cl__dn_build_softmax
#define build_flatten cl__dn_build_flatten
#define build_fallback cl__dn_build_fallback
#define plan_concat cl__dn_plan_concat
#define weighted_args cl__dn_weighted_args
#define dn_exec_calls cl__dn_dn_exec_calls
#define grow cl__dn_grow
#define dn_reorder_now cl__dn_reorder_now

/* Make room for one more element of *arr (n used, *cap allocated); 0: out of memory. */
int grow(void **arr, int *cap, int n, size_t elem);
void *dn_alloc(cl_exec *e, size_t bytes);
dnnl_memory_t dn_mem(cl_exec *e, const dnnl_memory_desc_t *md, void *ptr);
cl_status dn_call_add(cl__dnnl *d, dn_step *st, dnnl_primitive_t p, int nargs, const dnnl_exec_arg_t *args);
/* Execute calls [from, to) on lane @p lane (its stream, scratchpad and argument slots). */
cl_status dn_exec_calls(cl__dnnl *d, int lane, int from, int to);
void plain_md(dnnl_memory_desc_t *md, cl_shape s, int is2d);
void any_md(dnnl_memory_desc_t *md, cl_shape s);
void blocked_md(dnnl_memory_desc_t *md, cl_shape s);
/* Channel block of the blocked activation layout: 16 (nChw16c) where oneDNN dispatches
 * AVX-512 kernels, else 8 (nChw8c: AVX2 / SSE4.1 hosts, or ONEDNN_MAX_CPU_ISA below
 * AVX-512), whose jit kernels want that layout; nChw16c there means reference kernels
 * (10-100x slower). Fixed for the process (oneDNN's ISA is). */
int cl__dn_blk(void);
dnnl_format_tag_t cl__dn_blk_tag(void);
/* The ISA oneDNN dispatches to ("avx512_core", "avx2", ...). */
const char *cl__dn_isa_name(void);
int md_is_plain(const dnnl_memory_desc_t *md);
dnnl_primitive_attr_t user_scratch(dnnl_primitive_attr_t attr);
cl_status dn_reorder_call(cl_exec *e, dn_step *st, dnnl_memory_t from, dnnl_memory_t to);
cl_status dn_as(cl_exec *e, dn_step *st, int src, const dnnl_memory_desc_t *want, dnnl_memory_t *out);
cl_status dn_set_out(cl_exec *e, int node, const dnnl_memory_desc_t *md);
cl_status dn_export(cl_exec *e, dn_step *st, int node);
int act_alg(cl_act a, dnnl_alg_kind_t *alg, float *alpha, float *beta);
dnnl_primitive_attr_t make_attr(int sum, cl_act act);
/* make_attr plus a 3x3 depthwise convolution post-op of stride @p dw_stride (0: none) and
 * its activation @p dw_act (exec_dnnl_dw.c). */
dnnl_primitive_attr_t make_attr_dw(int sum, cl_act act, int dw_stride, cl_act dw_act);
dnnl_primitive_desc_t pd_create(cl__dnnl *d, const void *desc, dnnl_primitive_attr_t attr);
cl_status prim_from(cl__dnnl *d, dnnl_primitive_desc_t pd, dnnl_primitive_t *out);
cl_status dn_act_inplace(cl_exec *e, dn_step *st, int node, cl_act act);
cl_status build_pool(cl_exec *e, int k, dn_step *st);
cl_status build_bn(cl_exec *e, int k, dn_step *st);
cl_status build_eltwise_act(cl_exec *e, int k, dn_step *st);
cl_status build_binary(cl_exec *e, int k, dn_step *st);
cl_status build_concat(cl_exec *e, int k, dn_step *st);
cl_status build_lrn(cl_exec *e, int k, dn_step *st);
cl_status build_softmax(cl_exec *e, int k, dn_step *st);
cl_status build_flatten(cl_exec *e, int k, dn_step *st);
cl_status build_fallback(cl_exec *e, int k, dn_step *st);
cl_status plan_concat(cl_exec *e);
int weighted_args(dnnl_exec_arg_t *args, dnnl_memory_t src, dnnl_memory_t w, dnnl_memory_t b, dnnl_memory_t dst);

#endif
