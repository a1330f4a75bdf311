/* 2-D pooling shared by maxpool.c and avgpool.c (PyTorch nn.MaxPool2d /
 * nn.AvgPool2d semantics incl. ceil_mode and count_include_pad): validation,
 * output shape, input rows and one kernel whose window walk is the same for both.
 *
 * Padding is never read: each window is clipped to the real input, so padding
 * rows outside [0, h) need not be stored in a row-window view. Validation (pad <=
 * kernel/2, the ceil-mode start rule) guarantees every window holds at least one
 * real element.
 *
 * Loop order per output row: for each window row and each tap column kx, one pass
 * over the output columns whose tap lies inside the input (y[ox] = max(y[ox],
 * x[ox*sw + kx - pl]) or y[ox] += x[...]). The pass is contiguous for stride 1 and a
 * constant-stride gather for stride 2; both are specialised so the compiler
 * vectorises them. Max: NaN inputs are not propagated (a NaN tap never wins the
 * comparison). Average: one scaling pass per output row with the divisor below.
 *
 * Counts: kh*kw flops per output element; no parameters. */
#include <math.h>
#include <stddef.h>

#include "cleave/ops.h"
#include "misc_internal.h"

/** Output extent along one axis, PyTorch pooling_output_shape(): floor or ceil of
 *  (in + p0 + p1 - k) / s, plus one; in ceil mode the last window must start inside
 *  the input or the leading padding. Returns <= 0 if no window fits. */
static int pool_extent(int in, int p0, int p1, int k, int s, int ceil_mode) {
  int64_t num = (int64_t)in + p0 + p1 - k + (ceil_mode ? s - 1 : 0);
  if (num < 0) return 0;
  int64_t o = num / s + 1;
  if (ceil_mode && (o - 1) * s >= (int64_t)in + p0) o--;
  return (int)o;
}

/** infer() shared by maxpool and avgpool: validation, output shape, counts
 *  (kh*kw flops per output element, no parameters). */
cl_status cl__pool_infer(cl_node *node, const cl_shape *in, int n_in) {
  const cl_pool_params *p = &node->p.pool;
  const char *op = cl_op_name(node->op);
  CL_TRY(cl__misc_check_single(node, in, n_in));
  const cl_shape s = in[0];
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
  int oh = pool_extent(s.h, p->pt, p->pb, p->kh, p->sh, p->ceil_mode);
  int ow = pool_extent(s.w, p->pl, p->pr, p->kw, p->sw, p->ceil_mode);
  if (oh < 1 || ow < 1) {
    cl_log_error("%s '%s': kernel %dx%d (padding t=%d l=%d b=%d r=%d) does not fit the %dx%d input",
                 op, node->name, p->kh, p->kw, p->pt, p->pl, p->pb, p->pr, s.h, s.w);
    return CL_ERR_INVALID;
  }
  const cl_shape out = {s.n, s.c, oh, ow};
  return cl__misc_set_out(node, out, (int64_t)p->kh * p->kw * cl_shape_numel(out));
}

/** in_rows() of pooling: rows [oy0*sh - pt, (oy1-1)*sh - pt + kh) clipped to [0, in_h). */
void cl__pool_in_rows(const cl_node *node, int in_h, int oy0, int oy1, int *iy0, int *iy1) {
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
static cl_status pool_check(const cl_node *node, const cl_tensor *const *in, int n_in,
                            const cl_tensor *out, int oy0, int oy1) {
  const cl_pool_params *p = &node->p.pool;
  CL_TRY(cl__misc_check_nin(node, n_in, 1));
  CL_TRY(cl__misc_check_out(node, out, oy0, oy1));
  const cl_shape is = in[0]->shape, os = node->out;
  if (is.n != os.n || is.c != os.c ||
      pool_extent(is.h, p->pt, p->pb, p->kh, p->sh, p->ceil_mode) != os.h ||
      pool_extent(is.w, p->pl, p->pr, p->kw, p->sw, p->ceil_mode) != os.w) {
    cl_log_error("%s '%s': input view shape %dx%dx%dx%d does not give the node output %dx%dx%dx%d",
                 cl_op_name(node->op), node->name, is.n, is.c, is.h, is.w, os.n, os.c, os.h, os.w);
    return CL_ERR_INVALID;
  }
  int iy0, iy1;
  cl__pool_in_rows(node, is.h, oy0, oy1, &iy0, &iy1);
  return cl__misc_check_view(node, in[0], iy0, iy1, "input");
}

/** Output columns [*lo, *hi) whose window tap kx (input column ox*s - p0 + kx) lies
 *  inside [0, w). */
static void tap_range(int w, int ow, int s, int p0, int kx, int *lo, int *hi) {
  int d = p0 - kx; /* ox*s >= d  and  ox*s <= w - 1 + d */
  int l = d <= 0 ? 0 : (d + s - 1) / s;
  int h = w - 1 + d < 0 ? 0 : (w - 1 + d) / s + 1;
  if (h > ow) h = ow;
  if (l > h) l = h;
  *lo = l;
  *hi = h;
}

/* Number of window elements along one axis counted by the average's divisor, as in
 * PyTorch's avg_pool2d: the window [start, start + k) is first clipped to
 * [.., in + pad_end) (ceil-mode windows hanging past the bottom/right padding do
 * not count the overhang); with count_include_pad that clipped size is the
 * divisor, otherwise the size after clipping to the real input [0, in). Rows and
 * columns clip independently, so divisor = rows(oy) * cols(ox). */
static inline int window_count(int o, int s, int p0, int p1, int k, int in, int include_pad) {
  int a = o * s - p0, b = a + k;
  if (b > in + p1) b = in + p1;
  if (!include_pad) {
    if (a < 0) a = 0;
    if (b > in) b = in;
  }
  return b - a;
}

/* y[ox] = max(y[ox], x[ox*s + off]) or y[ox] += x[ox*s + off] for ox in [lo, hi).
 * Inlined with a literal s so that the stride is a compile-time constant. */
static inline void tap_max(float *restrict y, const float *restrict x, int lo, int hi, int s,
                           ptrdiff_t off) {
  for (int ox = lo; ox < hi; ox++) {
    float v = x[(ptrdiff_t)ox * s + off];
    y[ox] = v > y[ox] ? v : y[ox];
  }
}

static inline void tap_sum(float *restrict y, const float *restrict x, int lo, int hi, int s,
                           ptrdiff_t off) {
  for (int ox = lo; ox < hi; ox++) y[ox] += x[(ptrdiff_t)ox * s + off];
}

static inline void tap(int is_max, float *restrict y, const float *restrict x, int lo, int hi, int s,
                       ptrdiff_t off) {
  if (is_max) {
    if (s == 1) tap_max(y, x, lo, hi, 1, off);
    else if (s == 2) tap_max(y, x, lo, hi, 2, off);
    else tap_max(y, x, lo, hi, s, off);
  } else {
    if (s == 1) tap_sum(y, x, lo, hi, 1, off);
    else if (s == 2) tap_sum(y, x, lo, hi, 2, off);
    else tap_sum(y, x, lo, hi, s, off);
  }
}

cl_status cl__pool_run(const cl_node *node, const cl_tensor *const *in, int n_in, cl_tensor *out,
                       int oy0, int oy1, cl_op_ctx *ctx) {
  (void)ctx;
  const cl_pool_params *p = &node->p.pool;
  CL_TRY(pool_check(node, in, n_in, out, oy0, oy1));
  const int is_max = node->op == CL_OP_MAXPOOL;
  CL_ASSERT(is_max || node->op == CL_OP_AVGPOOL);
  const cl_tensor *x = in[0];
  const cl_shape is = x->shape, os = node->out;
  const int w = is.w, ow = os.w, sw = p->sw, incl = p->count_include_pad;
  for (int n = 0; n < os.n; n++)
    for (int c = 0; c < os.c; c++)
      for (int oy = oy0; oy < oy1; oy++) {
        float *y = cl_tensor_at(out, n, c, oy, 0);
        for (int ox = 0; ox < ow; ox++) y[ox] = is_max ? -INFINITY : 0.0f;
        int r0 = oy * p->sh - p->pt, r1 = r0 + p->kh;
        if (r0 < 0) r0 = 0;
        if (r1 > is.h) r1 = is.h;
        for (int iy = r0; iy < r1; iy++) {
          const float *xr = cl_tensor_at(x, n, c, iy, 0);
          for (int kx = 0; kx < p->kw; kx++) {
            int lo, hi;
            tap_range(w, ow, sw, p->pl, kx, &lo, &hi);
            tap(is_max, y, xr, lo, hi, sw, (ptrdiff_t)kx - p->pl);
          }
        }
        if (is_max) continue;
        const int rc = window_count(oy, p->sh, p->pt, p->pb, p->kh, is.h, incl);
        for (int ox = 0; ox < ow; ox++) {
          int cc = window_count(ox, sw, p->pl, p->pr, p->kw, w, incl);
          y[ox] /= (float)(rc * cc);
        }
      }
  return CL_OK;
}
