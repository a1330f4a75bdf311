/* Internal helpers shared by the non-conv kernels (pooling, normalisation,
 * element-wise, shape ops) in models/ops/. Not public API.
 *
 * Kernels get row-window views (cl_tensor y0/rows); these helpers check that a
 * view really holds the rows a kernel is about to read or write, so a wrong split
 * plan is reported (node, view, rows) instead of reading out of bounds. */
#ifndef CLEAVE_OPS_MISC_INTERNAL_H
#define CLEAVE_OPS_MISC_INTERNAL_H

#include <stdint.h>

#include "cleave/ops.h"

/** Floating point ops per element of a fused activation: relu 1 (max), relu6 2
 *  (max, min), sigmoid 4 (neg, exp, add, div), hardswish 5 (add, max, min, mul, mul). */
static inline int64_t cl__misc_act_flops(cl_act act) {
  switch (act) {
    case CL_ACT_RELU: return 1;
    case CL_ACT_RELU6: return 2;
    case CL_ACT_SIGMOID: return 4;
    case CL_ACT_HSWISH: return 5;
    default: return 0;
  }
}

/** 1 if @p act is a valid cl_act value. */
static inline int cl__misc_act_valid(cl_act act) {
  return act >= CL_ACT_NONE && act <= CL_ACT_HSWISH;
}

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

/** infer() of a one-input, same-shape op costing @p flops_per_elem per element. */
static inline cl_status cl__misc_infer_unary(cl_node *node, const cl_shape *in, int n_in,
                                             int64_t flops_per_elem) {
  if (n_in != 1) {
    cl_log_error("%s '%s': expects 1 input, got %d", cl_op_name(node->op), node->name, n_in);
    return CL_ERR_INVALID;
  }
  if (!cl__misc_shape_ok(in[0])) {
    cl_log_error("%s '%s': empty input shape %dx%dx%dx%d", cl_op_name(node->op), node->name,
                 in[0].n, in[0].c, in[0].h, in[0].w);
    return CL_ERR_INVALID;
  }
  node->out = in[0];
  node->n_params = 0;
  node->macs = 0;
  node->n_weights = 0;
  node->flops = flops_per_elem * cl_shape_numel(in[0]);
  return CL_OK;
}

/** Common checks of run() for a one-input op whose output row y reads input row y. */
static inline cl_status cl__misc_check_unary(const cl_node *node, const cl_tensor *const *in,
                                             int n_in, const cl_tensor *out, int oy0, int oy1) {
  CL_TRY(cl__misc_check_nin(node, n_in, 1));
  CL_TRY(cl__misc_check_out(node, out, oy0, oy1));
  CL_TRY(cl__misc_check_in_shape(node, in[0], 0, node->out));
  return cl__misc_check_view(node, in[0], oy0, oy1, "input");
}

/* ---- pooling geometry (maxpool.c, avgpool.c) ---- */

/** Output extent along one axis, PyTorch pooling_output_shape(): floor or ceil of
 *  (in + p0 + p1 - k) / s, plus one; in ceil mode the last window must start inside
 *  the input or the leading padding. Returns <= 0 if no window fits. */
static inline int cl__misc_pool_extent(int in, int p0, int p1, int k, int s, int ceil_mode) {
  int64_t num = (int64_t)in + p0 + p1 - k + (ceil_mode ? s - 1 : 0);
  if (num < 0) return 0;
  int64_t o = num / s + 1;
  if (ceil_mode && (o - 1) * s >= (int64_t)in + p0) o--;
  return (int)o;
}

/** infer() shared by maxpool and avgpool: validation, output shape, counts
 *  (kh*kw flops per output element, no parameters). */
static inline cl_status cl__misc_pool_infer(cl_node *node, const cl_shape *in, int n_in) {
  const cl_pool_params *p = &node->p.pool;
  const char *op = cl_op_name(node->op);
  if (n_in != 1) {
    cl_log_error("%s '%s': expects 1 input, got %d", op, node->name, n_in);
    return CL_ERR_INVALID;
  }
  const cl_shape s = in[0];
  if (!cl__misc_shape_ok(s)) {
    cl_log_error("%s '%s': empty input shape %dx%dx%dx%d", op, node->name, s.n, s.c, s.h, s.w);
    return CL_ERR_INVALID;
  }
  if (p->kh < 1 || p->kw < 1 || p->sh < 1 || p->sw < 1) {
    cl_log_error("%s '%s': kernel %dx%d and stride %dx%d must be >= 1", op, node->name, p->kh, p->kw,
                 p->sh, p->sw);
    return CL_ERR_INVALID;
  }
  /* PyTorch: "pad should be at most half of effective kernel size". This also
   * guarantees every window holds at least one real input element. */
  if (p->pt < 0 || p->pb < 0 || p->pl < 0 || p->pr < 0 || 2 * p->pt > p->kh || 2 * p->pb > p->kh ||
      2 * p->pl > p->kw || 2 * p->pr > p->kw) {
    cl_log_error("%s '%s': padding (t=%d l=%d b=%d r=%d) must be >= 0 and at most half the "
                 "kernel %dx%d",
                 op, node->name, p->pt, p->pl, p->pb, p->pr, p->kh, p->kw);
    return CL_ERR_INVALID;
  }
  if ((p->ceil_mode != 0 && p->ceil_mode != 1) ||
      (p->count_include_pad != 0 && p->count_include_pad != 1)) {
    cl_log_error("%s '%s': ceil_mode (%d) and count_include_pad (%d) must be 0 or 1", op, node->name,
                 p->ceil_mode, p->count_include_pad);
    return CL_ERR_INVALID;
  }
  int oh = cl__misc_pool_extent(s.h, p->pt, p->pb, p->kh, p->sh, p->ceil_mode);
  int ow = cl__misc_pool_extent(s.w, p->pl, p->pr, p->kw, p->sw, p->ceil_mode);
  if (oh < 1 || ow < 1) {
    cl_log_error("%s '%s': kernel %dx%d (padding t=%d l=%d b=%d r=%d) does not fit the %dx%d input",
                 op, node->name, p->kh, p->kw, p->pt, p->pl, p->pb, p->pr, s.h, s.w);
    return CL_ERR_INVALID;
  }
  node->out = (cl_shape){s.n, s.c, oh, ow};
  node->n_params = 0;
  node->macs = 0;
  node->n_weights = 0;
  node->flops = (int64_t)p->kh * p->kw * cl_shape_numel(node->out);
  return CL_OK;
}

/** in_rows() of pooling: rows [oy0*sh - pt, (oy1-1)*sh - pt + kh) clipped to [0, in_h). */
static inline void cl__misc_pool_in_rows(const cl_node *node, int in_h, int oy0, int oy1, int *iy0,
                                         int *iy1) {
  const cl_pool_params *p = &node->p.pool;
  int a = oy0 * p->sh - p->pt;
  int b = oy1 > oy0 ? (oy1 - 1) * p->sh - p->pt + p->kh : a;
  if (a < 0) a = 0;
  if (a > in_h) a = in_h;
  if (b > in_h) b = in_h;
  if (b < a) b = a;
  *iy0 = a;
  *iy1 = b;
}

/** The common checks of a pooling run(): one input, a valid output view, an input
 *  view whose shape gives the node's output, holding the rows the output rows need. */
static inline cl_status cl__misc_pool_check(const cl_node *node, const cl_tensor *const *in, int n_in,
                                            const cl_tensor *out, int oy0, int oy1) {
  const cl_pool_params *p = &node->p.pool;
  CL_TRY(cl__misc_check_nin(node, n_in, 1));
  CL_TRY(cl__misc_check_out(node, out, oy0, oy1));
  const cl_shape is = in[0]->shape, os = node->out;
  if (is.n != os.n || is.c != os.c ||
      cl__misc_pool_extent(is.h, p->pt, p->pb, p->kh, p->sh, p->ceil_mode) != os.h ||
      cl__misc_pool_extent(is.w, p->pl, p->pr, p->kw, p->sw, p->ceil_mode) != os.w) {
    cl_log_error("%s '%s': input view shape %dx%dx%dx%d does not give the node output %dx%dx%dx%d",
                 cl_op_name(node->op), node->name, is.n, is.c, is.h, is.w, os.n, os.c, os.h, os.w);
    return CL_ERR_INVALID;
  }
  int iy0, iy1;
  cl__misc_pool_in_rows(node, is.h, oy0, oy1, &iy0, &iy1);
  return cl__misc_check_view(node, in[0], iy0, iy1, "input");
}

/** Output columns [*lo, *hi) whose window tap kx (input column ox*s - p0 + kx) lies
 *  inside [0, w). */
static inline void cl__misc_tap_range(int w, int ow, int s, int p0, int kx, int *lo, int *hi) {
  int d = p0 - kx; /* ox*s >= d  and  ox*s <= w - 1 + d */
  int l = d <= 0 ? 0 : (d + s - 1) / s;
  int h = w - 1 + d < 0 ? 0 : (w - 1 + d) / s + 1;
  if (h > ow) h = ow;
  if (l > h) l = h;
  *lo = l;
  *hi = h;
}

#endif
