/* pad: Keras ZeroPadding2D and Cropping2D in one op. Each side grows by pt/pl/pb/pr
 * zero pixels, or shrinks when the amount is negative (a crop), so output pixel
 * (y, x) is input pixel (y - pt, x - pl), or 0 outside the input.
 * Row-splittable: output rows [oy0, oy1) read input rows [oy0 - pt, oy1 - pt).
 * Counts: no parameters, MACs or flops (a copy). */
#include <string.h>

#include "cleave/ops.h"
#include "misc_internal.h"

static cl_status pad_infer(cl_node *node, const cl_shape *in, int n_in) {
  const cl_pad_params *p = &node->p.pad;
  if (n_in != 1) {
    cl_log_error("pad '%s': expects 1 input, got %d", node->name, n_in);
    return CL_ERR_INVALID;
  }
  const cl_shape s = in[0];
  const int64_t oh = (int64_t)s.h + p->pt + p->pb, ow = (int64_t)s.w + p->pl + p->pr;
  if (!cl__misc_shape_ok(s) || oh < 1 || ow < 1 || oh > 0x7fffffff || ow > 0x7fffffff) {
    cl_log_error("pad '%s': padding %d,%d,%d,%d (top, left, bottom, right) of a %dx%d input leaves "
                 "no pixels", node->name, p->pt, p->pl, p->pb, p->pr, s.h, s.w);
    return CL_ERR_INVALID;
  }
  node->out = (cl_shape){s.n, s.c, (int)oh, (int)ow};
  node->n_params = 0;
  node->macs = 0;
  node->flops = 0;
  node->n_weights = 0;
  return CL_OK;
}

static void pad_in_rows(const cl_node *node, int in_h, int oy0, int oy1, int *iy0, int *iy1) {
  int a = oy0 - node->p.pad.pt, b = oy1 - node->p.pad.pt;
  if (a < 0) a = 0;
  if (b > in_h) b = in_h;
  if (b < a) b = a;
  *iy0 = a;
  *iy1 = b;
}

static cl_status pad_run(const cl_node *node, const cl_tensor *const *in, int n_in, cl_tensor *out,
                         int oy0, int oy1, cl_op_ctx *ctx) {
  (void)ctx;
  CL_TRY(cl__misc_check_nin(node, n_in, 1));
  CL_TRY(cl__misc_check_out(node, out, oy0, oy1));
  const cl_tensor *x = in[0];
  const cl_shape is = x->shape, os = node->out;
  if (is.n != os.n || is.c != os.c || is.h + node->p.pad.pt + node->p.pad.pb != os.h ||
      is.w + node->p.pad.pl + node->p.pad.pr != os.w) {
    cl_log_error("pad '%s': input view shape %dx%dx%dx%d does not pad to %dx%dx%dx%d", node->name, is.n,
                 is.c, is.h, is.w, os.n, os.c, os.h, os.w);
    return CL_ERR_INVALID;
  }
  int iy0, iy1;
  pad_in_rows(node, is.h, oy0, oy1, &iy0, &iy1);
  CL_TRY(cl__misc_check_view(node, x, iy0, iy1, "input"));
  const int pl = node->p.pad.pl;
  /* columns [x0, x1) of an output row come from input columns [x0 - pl, x1 - pl) */
  int x0 = pl > 0 ? pl : 0, x1 = is.w + pl < os.w ? is.w + pl : os.w;
  if (x1 < x0) x1 = x0;
  for (int n = 0; n < os.n; n++)
    for (int c = 0; c < os.c; c++)
      for (int y = oy0; y < oy1; y++) {
        float *o = cl_tensor_at(out, n, c, y, 0);
        const int iy = y - node->p.pad.pt;
        if (iy < 0 || iy >= is.h || x1 == x0) {
          memset(o, 0, sizeof(float) * (size_t)os.w);
          continue;
        }
        memset(o, 0, sizeof(float) * (size_t)x0);
        memcpy(o + x0, cl_tensor_at(x, n, c, iy, x0 - pl), sizeof(float) * (size_t)(x1 - x0));
        memset(o + x1, 0, sizeof(float) * (size_t)(os.w - x1));
      }
  return CL_OK;
}

const cl_op_impl cl__op_impl_pad = {
    .op = CL_OP_PAD,
    .infer = pad_infer,
    .in_rows = pad_in_rows,
    .run = pad_run,
};
