/** @file ops.h
 *  @brief Kernel interface: one implementation table per op (models/ops/<op>.c).
 *
 *  Kernels compute a range of output rows [oy0, oy1) of one node from row-window
 *  views of its inputs. This one mechanism serves monolithic inference (the whole
 *  range), Scission/DADS cuts (whole tensors cross ranks) and CoEdge/DeepThings
 *  spatial splits (each node computes a slice from its input slice plus halo rows).
 *
 *  Ownership: tensors are caller-owned views; kernels never allocate. Scratch
 *  memory comes from ctx->workspace, sized by the op's workspace() at plan time.
 */
#ifndef CLEAVE_OPS_H
#define CLEAVE_OPS_H

#include "cleave/graph.h"

/** A row-window view of a tensor: rows [y0, y0 + rows) of the logical shape are
 *  stored, layout [n][c][rows][w] contiguous. Full tensor: y0 = 0, rows = shape.h.
 *  Rows outside [0, shape.h) are padding (zeros) and are never stored. */
typedef struct cl_tensor {
  float *data;
  cl_shape shape; /* logical (full) shape */
  int y0;
  int rows;
} cl_tensor;

/** Execution context handed to kernels. */
typedef struct cl_op_ctx {
  float *workspace;       /* scratch, at least the op's workspace() bytes */
  size_t workspace_bytes;
  int threads;            /* threads the kernel may use (BLAS or own loops) */
} cl_op_ctx;

/** Implementation table of one op. */
typedef struct cl_op_impl {
  cl_op op;
  /** Validate params/inputs and fill node->out, n_params, macs, flops, n_weights.
   *  Log a clear error naming node->name and return CL_ERR_INVALID on bad input. */
  cl_status (*infer)(cl_node *node, const cl_shape *in, int n_in);
  /** Input rows needed for output rows [oy0, oy1), clipped to [0, in_h). NULL means
   *  the same rows (element-wise ops) for spatial ops, all rows for non-spatial ops. */
  void (*in_rows)(const cl_node *node, int in_h, int oy0, int oy1, int *iy0, int *iy1);
  /** Scratch bytes for computing @p out_rows output rows. NULL means none. */
  size_t (*workspace)(const cl_node *node, const cl_shape *in, int n_in, int out_rows);
  /** Fill node->weights (n_weights floats, already allocated) from the rng. NULL: no weights. */
  void (*init_weights)(cl_node *node, const cl_shape *in, uint64_t *rng);
  /** Compute output rows [oy0, oy1) into out (out->y0 <= oy0, oy1 <= out->y0 + out->rows).
   *  Inputs must cover the rows in_rows() asks for. Non-spatial ops require full tensors. */
  cl_status (*run)(const cl_node *node, const cl_tensor *const *in, int n_in, cl_tensor *out,
                   int oy0, int oy1, cl_op_ctx *ctx);
} cl_op_impl;

/** @brief The implementation table of @p op (never NULL for op < CL_OP_COUNT). */
const cl_op_impl *cl_op_get(cl_op op);

/** @brief Apply a fused activation in place to n floats. */
void cl_act_apply(cl_act act, float *x, size_t n);

/** Batch norm as a scale and a shift, computed in double (the one rule of every kernel
 *  that applies or folds a batch norm: the portable kernel, the fold into a convolution,
 *  oneDNN's fused pre-activation kernel): channel @p c of weights [gamma | beta | mean |
 *  var] over @p C channels; returns gamma / sqrt(var + eps) and sets *shift = beta - mean
 *  * scale. var + eps <= 0 gives a non-finite scale (the caller checks). */
double cl_bn_scale_shift(const float *w, int C, int c, double eps, double *shift);

/** @brief Pointer to element (n, c, y, x) of a row-window view (y is a logical row). */
static inline float *cl_tensor_at(const cl_tensor *t, int n, int c, int y, int x) {
  return t->data + (((size_t)n * t->shape.c + c) * t->rows + (size_t)(y - t->y0)) * t->shape.w + x;
}

/** @brief Configure the BLAS library's thread count (OpenBLAS). */
void cl_blas_set_threads(int threads);
/** @brief The BLAS library, its version and the kernel set it dispatches to on this
 *  CPU, e.g. "OpenBLAS 0.3.21 SkylakeX" (OPENBLAS_CORETYPE changes the last part and
 *  sgemm's speed by up to 2x): part of the portable backend's version, so calibrations
 *  and kernel-choice caches keyed by it cannot go stale when it changes. */
const char *cl_blas_id(void);

/** @brief Call first thing in main(): on AVX-512 CPUs that OpenBLAS 0.3.21 misdetects
 *  as Haswell, set OPENBLAS_CORETYPE=SkylakeX (2x sgemm); unless OMP_WAIT_POLICY or
 *  GOMP_SPINCOUNT is set, set OMP_WAIT_POLICY=passive (oneDNN's OpenMP threads sleep
 *  at barriers instead of spinning, which collapses on a loaded host); re-exec if
 *  anything changed. No-op with CLEAVE_NO_COREFIX. Returns only if no re-exec. */
void cl_blas_fix_env(char **argv);
/** Co-scheduling probe (the one behind the wait policy): a helper thread answers
 *  round trips for ~25-40 ms; returns the fraction of the median 10 ms window spent in
 *  round trips slower than 50 us (1 if the helper never ran), and the number of round
 *  trips in @p round_trips (may be NULL). Above ~3%, two threads of this process do not
 *  run together: wall-clock timings on 2+ threads measure the host's load. */
double cl_blas_coschedule_probe(int *round_trips);

#endif
