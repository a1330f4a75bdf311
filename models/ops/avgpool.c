/* avgpool: 2-D average pooling (PyTorch nn.AvgPool2d semantics incl. ceil_mode and
 * count_include_pad).
 *
 * Divisor, as in PyTorch's avg_pool2d: the window [start, start + k) is first
 * clipped to [.., in + pad_end) (so ceil-mode windows hanging past the bottom/right
 * padding do not count the overhang); with count_include_pad that clipped size is
 * the divisor, otherwise the size after clipping to the real input [0, in). Rows
 * and columns clip independently, so divisor = rows(oy) * cols(ox).
 *
 * Loop order as in maxpool.c: per output row, one pass per (window row, tap column)
 * accumulating into the output row, then one scaling pass. Padding is never read.
 *
 * Counts: kh*kw flops per output element; no parameters. */
#include <stddef.h>

#include "cleave/ops.h"
#include "misc_internal.h"

static cl_status avgpool_infer(cl_node *node, const cl_shape *in, int n_in) {
  return cl__misc_pool_infer(node, in, n_in);
}

static void avgpool_in_rows(const cl_node *node, int in_h, int oy0, int oy1, int *iy0, int *iy1) {
  cl__misc_pool_in_rows(node, in_h, oy0, oy1, iy0, iy1);
}

/* Number of window elements along one axis counted by the divisor. */
static inline int window_count(int o, int s, int p0, int p1, int k, int in, int include_pad) {
  int a = o * s - p0, b = a + k;
  if (b > in + p1) b = in + p1;
  if (!include_pad) {
    if (a < 0) a = 0;
    if (b > in) b = in;
  }
  return b - a;
}

static inline void tap_sum(float *restrict y, const float *restrict x, int lo, int hi, int s,
                           ptrdiff_t off) {
  for (int ox = lo; ox < hi; ox++) y[ox] += x[(ptrdiff_t)ox * s + off];
}

static cl_status avgpool_run(const cl_node *node, const cl_tensor *const *in, int n_in,
                             cl_tensor *out, int oy0, int oy1, cl_op_ctx *ctx) {
  (void)ctx;
  const cl_pool_params *p = &node->p.pool;
  CL_TRY(cl__misc_pool_check(node, in, n_in, out, oy0, oy1));
  const cl_tensor *x = in[0];
  const cl_shape is = x->shape, os = node->out;
  const int w = is.w, ow = os.w, sw = p->sw, incl = p->count_include_pad;
  for (int n = 0; n < os.n; n++)
    for (int c = 0; c < os.c; c++)
      for (int oy = oy0; oy < oy1; oy++) {
        float *y = cl_tensor_at(out, n, c, oy, 0);
        for (int ox = 0; ox < ow; ox++) y[ox] = 0.0f;
        int r0 = oy * p->sh - p->pt, r1 = r0 + p->kh;
        if (r0 < 0) r0 = 0;
        if (r1 > is.h) r1 = is.h;
        for (int iy = r0; iy < r1; iy++) {
          const float *xr = cl_tensor_at(x, n, c, iy, 0);
          for (int kx = 0; kx < p->kw; kx++) {
            int lo, hi;
            cl__misc_tap_range(w, ow, sw, p->pl, kx, &lo, &hi);
            ptrdiff_t off = (ptrdiff_t)kx - p->pl;
            if (sw == 1) tap_sum(y, xr, lo, hi, 1, off);
            else if (sw == 2) tap_sum(y, xr, lo, hi, 2, off);
            else tap_sum(y, xr, lo, hi, sw, off);
          }
        }
        const int rc = window_count(oy, p->sh, p->pt, p->pb, p->kh, is.h, incl);
        for (int ox = 0; ox < ow; ox++) {
          int cc = window_count(ox, sw, p->pl, p->pr, p->kw, w, incl);
          y[ox] /= (float)(rc * cc);
        }
      }
  return CL_OK;
}

const cl_op_impl cl__op_impl_avgpool = {
    .op = CL_OP_AVGPOOL,
    .infer = avgpool_infer,
    .in_rows = avgpool_in_rows,
    .run = avgpool_run,
};
