/* maxpool: 2-D max pooling (PyTorch nn.MaxPool2d semantics incl. ceil_mode).
 *
 * Padding acts as -inf: each window is clipped to the real input, so padding rows
 * outside [0, h) are never read and need not be stored in a row-window view.
 * Validation (pad <= kernel/2, the ceil-mode start rule) guarantees every window
 * holds at least one real element.
 *
 * Loop order per output row: for each window row and each tap column kx, one pass
 * over the output columns whose tap lies inside the input (y[ox] = max(y[ox],
 * x[ox*sw + kx - pl])). The pass is contiguous for stride 1 and a constant-stride
 * gather for stride 2; both are specialised so the compiler vectorises them.
 * NaN inputs are not propagated (a NaN tap never wins the comparison).
 *
 * Counts: kh*kw flops (comparisons) per output element; no parameters. */
#include <math.h>
#include <stddef.h>

#include "cleave/ops.h"
#include "misc_internal.h"

static cl_status maxpool_infer(cl_node *node, const cl_shape *in, int n_in) {
  return cl__misc_pool_infer(node, in, n_in);
}

static void maxpool_in_rows(const cl_node *node, int in_h, int oy0, int oy1, int *iy0, int *iy1) {
  cl__misc_pool_in_rows(node, in_h, oy0, oy1, iy0, iy1);
}

/* y[ox] = max(y[ox], x[ox*s + off]) for ox in [lo, hi). Inlined with a literal s
 * so that the stride is a compile-time constant. */
static inline void tap_max(float *restrict y, const float *restrict x, int lo, int hi, int s,
                           ptrdiff_t off) {
  for (int ox = lo; ox < hi; ox++) {
    float v = x[(ptrdiff_t)ox * s + off];
    y[ox] = v > y[ox] ? v : y[ox];
  }
}

static cl_status maxpool_run(const cl_node *node, const cl_tensor *const *in, int n_in,
                             cl_tensor *out, int oy0, int oy1, cl_op_ctx *ctx) {
  (void)ctx;
  const cl_pool_params *p = &node->p.pool;
  CL_TRY(cl__misc_pool_check(node, in, n_in, out, oy0, oy1));
  const cl_tensor *x = in[0];
  const cl_shape is = x->shape, os = node->out;
  const int w = is.w, ow = os.w, sw = p->sw;
  for (int n = 0; n < os.n; n++)
    for (int c = 0; c < os.c; c++)
      for (int oy = oy0; oy < oy1; oy++) {
        float *y = cl_tensor_at(out, n, c, oy, 0);
        for (int ox = 0; ox < ow; ox++) y[ox] = -INFINITY;
        int r0 = oy * p->sh - p->pt, r1 = r0 + p->kh;
        if (r0 < 0) r0 = 0;
        if (r1 > is.h) r1 = is.h;
        for (int iy = r0; iy < r1; iy++) {
          const float *xr = cl_tensor_at(x, n, c, iy, 0);
          for (int kx = 0; kx < p->kw; kx++) {
            int lo, hi;
            cl__misc_tap_range(w, ow, sw, p->pl, kx, &lo, &hi);
            ptrdiff_t off = (ptrdiff_t)kx - p->pl;
            if (sw == 1) tap_max(y, xr, lo, hi, 1, off);
            else if (sw == 2) tap_max(y, xr, lo, hi, 2, off);
            else tap_max(y, xr, lo, hi, sw, off);
          }
        }
      }
  return CL_OK;
}

const cl_op_impl cl__op_impl_maxpool = {
    .op = CL_OP_MAXPOOL,
    .infer = maxpool_infer,
    .in_rows = maxpool_in_rows,
    .run = maxpool_run,
};
