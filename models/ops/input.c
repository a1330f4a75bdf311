/* input: the graph input. Its shape comes from the params; the data is supplied by
 * the caller (cl_exec_fill_input, a received tensor, a loaded image), so run() has
 * nothing to compute and only validates its arguments. */
#include "cleave/ops.h"
#include "misc_internal.h"

static cl_status input_infer(cl_node *node, const cl_shape *in, int n_in) {
  (void)in;
  const cl_shape s = node->p.input.shape;
  if (n_in != 0) {
    cl_log_error("input '%s': takes no inputs, got %d", node->name, n_in);
    return CL_ERR_INVALID;
  }
  if (!cl__misc_shape_ok(s)) {
    cl_log_error("input '%s': shape %dx%dx%dx%d must be positive in every dimension", node->name,
                 s.n, s.c, s.h, s.w);
    return CL_ERR_INVALID;
  }
  return cl__misc_set_out(node, s, 0);
}

static cl_status input_run(const cl_node *node, const cl_tensor *const *in, int n_in, cl_tensor *out,
                           int oy0, int oy1, cl_op_ctx *ctx) {
  (void)in;
  (void)ctx;
  CL_TRY(cl__misc_check_nin(node, n_in, 0));
  return cl__misc_check_out(node, out, oy0, oy1);
}

const cl_op_impl cl__op_impl_input = {
    .op = CL_OP_INPUT,
    .infer = input_infer,
    .run = input_run,
};
