/* hardswish: y = x * relu6(x + 3) / 6 (PyTorch nn.Hardswish, MobileNetV3).
 * Element-wise, row-splittable, in-place safe. Counts: 5 flops (add, max, min,
 * mul, mul) per element. */
#include "cleave/ops.h"
#include "misc_internal.h"

static cl_status hswish_infer(cl_node *node, const cl_shape *in, int n_in) {
  return cl__misc_infer_unary(node, in, n_in, 5);
}

static cl_status hswish_run(const cl_node *node, const cl_tensor *const *in, int n_in,
                            cl_tensor *out, int oy0, int oy1, cl_op_ctx *ctx) {
  (void)ctx;
  CL_TRY(cl__misc_check_unary(node, in, n_in, out, oy0, oy1));
  if (oy0 == oy1) return CL_OK;
  const cl_shape s = node->out;
  const size_t len = (size_t)(oy1 - oy0) * (size_t)s.w;
  for (int n = 0; n < s.n; n++)
    for (int c = 0; c < s.c; c++) {
      const float *x = cl_tensor_at(in[0], n, c, oy0, 0);
      float *y = cl_tensor_at(out, n, c, oy0, 0);
      for (size_t i = 0; i < len; i++) {
        float t = x[i] + 3.0f;
        t = t > 0.0f ? t : 0.0f;
        t = t < 6.0f ? t : 6.0f;
        y[i] = x[i] * t * (1.0f / 6.0f);
      }
    }
  return CL_OK;
}

const cl_op_impl cl__op_impl_hswish = {
    .op = CL_OP_HSWISH,
    .infer = hswish_infer,
    .run = hswish_run,
};
