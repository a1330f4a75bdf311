/* Internal helpers shared by the kernels in models/ops/ (activation counts,
 * view checks, output bookkeeping, the shared element-wise and pooling kernels).
 * Not public API.
 *
 * Kernels get row-window views (cl_tensor y0/rows); these helpers check that a
 * view really holds the rows a kernel is about to read or write, so a wrong split
 * plan is reported (node, view, rows) instead of reading out of bounds. */
#ifndef CLEAVE_OPS_MISC_INTERNAL_H
#define CLEAVE_OPS_MISC_INTERNAL_H

#include <stdint.h>

#include "cleave/ops.h"

/** Floating point ops per element charged for a fused activation in the flop
 *  counts: relu 1 (max), relu6 2 (max, min), sigmoid 4 (neg, exp, add, div),
 *  hardswish 5 (add, max, min, mul, mul). */
static inline int64_t cl__act_flops(cl_act act) {
  switch (act) {
    case CL_ACT_RELU: return 1;
    case CL_ACT_RELU6: return 2;
    case CL_ACT_SIGMOID: return 4;
    case CL_ACT_HSWISH: return 5;
    default: return 0;
  }
}

/** 1 if @p act is a valid cl_act value. */
static inline int cl__act_valid(cl_act act) { return act >= CL_ACT_NONE && act <= CL_ACT_HSWISH; }

/** 1 if the shape has all extents >= 1. */
static inline int cl__misc_shape_ok(cl_shape s) { return s.n >= 1 && s.c >= 1 && s.h >= 1 && s.w >= 1; }

/** Check the input count of a run() call against what the node was built with. */
static inline cl_status cl__misc_check_nin(const cl_node *node, int n_in, int expected) {
  if (n_in != expected) {
    cl_log_error("%s '%s': run with %d inputs, node has %d (expected %d)", cl_op_name(node->op),
                 node->name, n_in, node->n_inputs, expected);
    return CL_ERR_INVALID;
  }
  return CL_OK;
}

/** Check that view @p t holds logical rows [r0, r1) (clipped to [0, shape.h)). */
static inline cl_status cl__misc_check_view(const cl_node *node, const cl_tensor *t, int r0, int r1,
                                            const char *what) {
  if (r0 < 0) r0 = 0;
  if (r1 > t->shape.h) r1 = t->shape.h;
  if (r1 <= r0) return CL_OK;
  if (!t->data || t->y0 > r0 || t->y0 + t->rows < r1 || t->rows < 0) {
    cl_log_error("%s '%s': %s view holds rows [%d, %d) of %d but rows [%d, %d) are needed%s",
                 cl_op_name(node->op), node->name, what, t->y0, t->y0 + t->rows, t->shape.h, r0,
                 r1, t->data ? "" : " (NULL data)");
    return CL_ERR_INVALID;
  }
  return CL_OK;
}

/** Check the output view and row range [oy0, oy1) of a run() call. */
static inline cl_status cl__misc_check_out(const cl_node *node, const cl_tensor *out, int oy0,
                                           int oy1) {
  const cl_shape s = out->shape, e = node->out;
  if (s.n != e.n || s.c != e.c || s.h != e.h || s.w != e.w) {
    cl_log_error("%s '%s': output view shape %dx%dx%dx%d, node output is %dx%dx%dx%d",
                 cl_op_name(node->op), node->name, s.n, s.c, s.h, s.w, e.n, e.c, e.h, e.w);
    return CL_ERR_INVALID;
  }
  if (oy0 < 0 || oy1 > e.h || oy0 > oy1) {
    cl_log_error("%s '%s': output rows [%d, %d) outside [0, %d)", cl_op_name(node->op), node->name,
                 oy0, oy1, e.h);
    return CL_ERR_INVALID;
  }
  return cl__misc_check_view(node, out, oy0, oy1, "output");
}

/** Check that input @p i of a run() call has the shape the node was inferred with. */
static inline cl_status cl__misc_check_in_shape(const cl_node *node, const cl_tensor *t, int i,
                                                cl_shape expect) {
  const cl_shape s = t->shape;
  if (s.n != expect.n || s.c != expect.c || s.h != expect.h || s.w != expect.w) {
    cl_log_error("%s '%s': input %d view shape %dx%dx%dx%d, expected %dx%dx%dx%d",
                 cl_op_name(node->op), node->name, i, s.n, s.c, s.h, s.w, expect.n, expect.c,
                 expect.h, expect.w);
    return CL_ERR_INVALID;
  }
  return CL_OK;
}

/** Non-spatial ops: check that a view holds the whole tensor. */
static inline cl_status cl__misc_check_full(const cl_node *node, const cl_tensor *t, const char *what) {
  if (!t->data || t->y0 != 0 || t->rows != t->shape.h) {
    cl_log_error("%s '%s': %s must be a full tensor (view rows [%d, %d) of %d)", cl_op_name(node->op),
                 node->name, what, t->y0, t->y0 + t->rows, t->shape.h);
    return CL_ERR_INVALID;
  }
  return CL_OK;
}

/** infer() check of a one-input op: exactly one input, with all extents >= 1. */
static inline cl_status cl__misc_check_single(const cl_node *node, const cl_shape *in, int n_in) {
  if (n_in != 1) {
    cl_log_error("%s '%s': expects 1 input, got %d", cl_op_name(node->op), node->name, n_in);
    return CL_ERR_INVALID;
  }
  if (!cl__misc_shape_ok(in[0])) {
    cl_log_error("%s '%s': empty input shape %dx%dx%dx%d", cl_op_name(node->op), node->name,
                 in[0].n, in[0].c, in[0].h, in[0].w);
    return CL_ERR_INVALID;
  }
  return CL_OK;
}

/** infer() bookkeeping of an op without weights: output shape and flop count. */
static inline cl_status cl__misc_set_out(cl_node *node, cl_shape out, int64_t flops) {
  node->out = out;
  node->n_params = 0;
  node->macs = 0;
  node->n_weights = 0;
  node->flops = flops;
  return CL_OK;
}

/** infer() of a one-input, same-shape op costing @p flops_per_elem per element. */
static inline cl_status cl__misc_infer_unary(cl_node *node, const cl_shape *in, int n_in,
                                             int64_t flops_per_elem) {
  CL_TRY(cl__misc_check_single(node, in, n_in));
  return cl__misc_set_out(node, in[0], flops_per_elem * cl_shape_numel(in[0]));
}

/** Common checks of run() for a one-input op whose output row y reads input row y. */
static inline cl_status cl__misc_check_unary(const cl_node *node, const cl_tensor *const *in,
                                             int n_in, const cl_tensor *out, int oy0, int oy1) {
  CL_TRY(cl__misc_check_nin(node, n_in, 1));
  CL_TRY(cl__misc_check_out(node, out, oy0, oy1));
  CL_TRY(cl__misc_check_in_shape(node, in[0], 0, node->out));
  return cl__misc_check_view(node, in[0], oy0, oy1, "input");
}

/* ---- kernels shared by several ops (one implementation table per op file) ---- */

/** infer() and run() of the one-input element-wise ops relu, relu6, sigmoid,
 *  hardswish and dropout (identity): the activation comes from node->op (act.c). */
cl_status cl__act_op_infer(cl_node *node, const cl_shape *in, int n_in);
cl_status cl__act_op_run(const cl_node *node, const cl_tensor *const *in, int n_in, cl_tensor *out,
                         int oy0, int oy1, cl_op_ctx *ctx);

/** infer(), in_rows() and run() of maxpool and avgpool; node->op picks max or
 *  average (pool.c). */
cl_status cl__pool_infer(cl_node *node, const cl_shape *in, int n_in);
void cl__pool_in_rows(const cl_node *node, int in_h, int oy0, int oy1, int *iy0, int *iy1);
cl_status cl__pool_run(const cl_node *node, const cl_tensor *const *in, int n_in, cl_tensor *out,
                       int oy0, int oy1, cl_op_ctx *ctx);

#endif
