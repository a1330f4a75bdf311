/* relu6: y = min(max(x, 0), 6) (PyTorch nn.ReLU6, MobileNetV2). Element-wise,
 * row-splittable, in-place safe. Counts: 2 flops (max, min) per element. */
#include "cleave/ops.h"
#include "misc_internal.h"

static cl_status relu6_infer(cl_node *node, const cl_shape *in, int n_in) {
  return cl__misc_infer_unary(node, in, n_in, 2);
}

static cl_status relu6_run(const cl_node *node, const cl_tensor *const *in, int n_in, cl_tensor *out,
                           int oy0, int oy1, cl_op_ctx *ctx) {
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
        float v = x[i] > 0.0f ? x[i] : 0.0f;
        y[i] = v < 6.0f ? v : 6.0f;
      }
    }
  return CL_OK;
}

const cl_op_impl cl__op_impl_relu6 = {
    .op = CL_OP_RELU6,
    .infer = relu6_infer,
    .run = relu6_run,
};
