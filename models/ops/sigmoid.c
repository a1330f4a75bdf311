/* sigmoid: y = 1 / (1 + exp(-x)) (PyTorch nn.Sigmoid). Element-wise, row-splittable,
 * in-place safe. Counts: 4 flops (neg, exp, add, div) per element.
 *
 * expf of a large positive argument overflows to +inf and gives exactly 0, the
 * correct limit, so no clamping is needed. */
#include <math.h>

#include "cleave/ops.h"
#include "misc_internal.h"

static cl_status sigmoid_infer(cl_node *node, const cl_shape *in, int n_in) {
  return cl__misc_infer_unary(node, in, n_in, 4);
}

static cl_status sigmoid_run(const cl_node *node, const cl_tensor *const *in, int n_in,
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
      for (size_t i = 0; i < len; i++) y[i] = 1.0f / (1.0f + expf(-x[i]));
    }
  return CL_OK;
}

const cl_op_impl cl__op_impl_sigmoid = {
    .op = CL_OP_SIGMOID,
    .infer = sigmoid_infer,
    .run = sigmoid_run,
};
