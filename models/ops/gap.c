/* global_avgpool: mean over h*w per (image, channel) (PyTorch AdaptiveAvgPool2d(1)).
 * Output n x c x 1 x 1. Not row-splittable: run() needs the full input tensor.
 * Sums are accumulated in double so large planes (e.g. 56x56) lose no precision.
 * Counts: one add per input element plus one divide per output element. */
#include "cleave/ops.h"
#include "misc_internal.h"

static cl_status gap_infer(cl_node *node, const cl_shape *in, int n_in) {
  CL_TRY(cl__misc_check_single(node, in, n_in));
  const cl_shape s = in[0];
  return cl__misc_set_out(node, (cl_shape){s.n, s.c, 1, 1}, cl_shape_numel(s) + (int64_t)s.n * s.c);
}

static cl_status gap_run(const cl_node *node, const cl_tensor *const *in, int n_in, cl_tensor *out,
                         int oy0, int oy1, cl_op_ctx *ctx) {
  (void)ctx;
  CL_TRY(cl__misc_check_nin(node, n_in, 1));
  CL_TRY(cl__misc_check_out(node, out, oy0, oy1));
  const cl_tensor *x = in[0];
  const cl_shape s = x->shape;
  if (s.n != node->out.n || s.c != node->out.c) {
    cl_log_error("global_avgpool '%s': input view shape %dx%dx%dx%d does not match output %dx%dx1x1",
                 node->name, s.n, s.c, s.h, s.w, node->out.n, node->out.c);
    return CL_ERR_INVALID;
  }
  if (oy0 == oy1) return CL_OK;
  CL_TRY(cl__misc_check_full(node, x, "input"));
  const size_t hw = (size_t)s.h * (size_t)s.w;
  for (int n = 0; n < s.n; n++)
    for (int c = 0; c < s.c; c++) {
      const float *xp = cl_tensor_at(x, n, c, 0, 0);
      double acc = 0.0;
      for (size_t i = 0; i < hw; i++) acc += xp[i];
      *cl_tensor_at(out, n, c, 0, 0) = (float)(acc / (double)hw);
    }
  return CL_OK;
}

const cl_op_impl cl__op_impl_gap = {
    .op = CL_OP_GAP,
    .infer = gap_infer,
    .run = gap_run,
};
