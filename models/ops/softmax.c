/* softmax: over the c*h*w values of each sample (PyTorch nn.Softmax(dim=1) on the
 * flattened classifier output). Numerically stable: subtracts the per-sample max
 * before exp; the normaliser is accumulated in double. Not row-splittable.
 * Counts: 5 flops per element (max, sub, exp, sum, div). In-place safe. */
#include <math.h>

#include "cleave/ops.h"
#include "misc_internal.h"

static cl_status softmax_infer(cl_node *node, const cl_shape *in, int n_in) {
  return cl__misc_infer_unary(node, in, n_in, 5);
}

static cl_status softmax_run(const cl_node *node, const cl_tensor *const *in, int n_in,
                             cl_tensor *out, int oy0, int oy1, cl_op_ctx *ctx) {
  (void)ctx;
  CL_TRY(cl__misc_check_nin(node, n_in, 1));
  CL_TRY(cl__misc_check_out(node, out, oy0, oy1));
  CL_TRY(cl__misc_check_in_shape(node, in[0], 0, node->out));
  if (oy0 == oy1) return CL_OK;
  if (oy0 != 0 || oy1 != node->out.h) {
    cl_log_error("softmax '%s': not row-splittable, asked for rows [%d, %d) of %d", node->name, oy0,
                 oy1, node->out.h);
    return CL_ERR_INVALID;
  }
  CL_TRY(cl__misc_check_full(node, in[0], "input"));
  CL_TRY(cl__misc_check_full(node, out, "output"));
  const cl_shape s = node->out;
  const size_t m = (size_t)s.c * (size_t)s.h * (size_t)s.w;
  for (int n = 0; n < s.n; n++) {
    const float *x = in[0]->data + (size_t)n * m;
    float *y = out->data + (size_t)n * m;
    float mx = x[0];
    for (size_t i = 1; i < m; i++) mx = x[i] > mx ? x[i] : mx;
    double sum = 0.0;
    for (size_t i = 0; i < m; i++) {
      y[i] = expf(x[i] - mx);
      sum += y[i];
    }
    const float inv = (float)(1.0 / sum);
    for (size_t i = 0; i < m; i++) y[i] *= inv;
  }
  return CL_OK;
}

const cl_op_impl cl__op_impl_softmax = {
    .op = CL_OP_SOFTMAX,
    .infer = softmax_infer,
    .run = softmax_run,
};
