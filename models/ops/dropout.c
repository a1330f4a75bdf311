/* dropout: identity at inference (PyTorch nn.Dropout in eval mode); p is kept for
 * documentation and validated to lie in [0, 1]. The executor aliases the output
 * to the input; run() copies (or does nothing when the views coincide) so that
 * row-split execution works unchanged. Counts: no flops. */
#include <math.h>
#include <string.h>

#include "cleave/ops.h"
#include "misc_internal.h"

static cl_status dropout_infer(cl_node *node, const cl_shape *in, int n_in) {
  float p = node->p.dropout.p;
  if (!(p >= 0.0f && p <= 1.0f)) {
    cl_log_error("dropout '%s': p = %g outside [0, 1]", node->name, (double)p);
    return CL_ERR_INVALID;
  }
  return cl__misc_infer_unary(node, in, n_in, 0);
}

static cl_status dropout_run(const cl_node *node, const cl_tensor *const *in, int n_in,
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
      if (x != y) memmove(y, x, len * sizeof(float));
    }
  return CL_OK;
}

const cl_op_impl cl__op_impl_dropout = {
    .op = CL_OP_DROPOUT,
    .infer = dropout_infer,
    .run = dropout_run,
};
