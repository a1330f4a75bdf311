/* dropout: identity at inference (PyTorch nn.Dropout in eval mode); p is kept for
 * documentation and validated to lie in [0, 1]. The executor aliases the output
 * to the input; run() copies (or does nothing when the views coincide) so that
 * row-split execution works unchanged (act.c, activation "none"). Counts: no flops. */
#include "cleave/ops.h"
#include "misc_internal.h"

static cl_status dropout_infer(cl_node *node, const cl_shape *in, int n_in) {
  float p = node->p.dropout.p;
  if (!(p >= 0.0f && p <= 1.0f)) {
    cl_log_error("dropout '%s': p = %g outside [0, 1]", node->name, (double)p);
    return CL_ERR_INVALID;
  }
  return cl__act_op_infer(node, in, n_in);
}

const cl_op_impl cl__op_impl_dropout = {
    .op = CL_OP_DROPOUT,
    .infer = dropout_infer,
    .run = cl__act_op_run,
};
