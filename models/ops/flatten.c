/* flatten: n x c x h x w -> n x (c*h*w) x 1 x 1 (PyTorch torch.flatten(x, 1)).
 * NCHW is already the flattened order, so run() is a copy of the full tensor (or
 * nothing when the output aliases the input). Not row-splittable. Counts: none. */
#include <string.h>

#include "cleave/ops.h"
#include "misc_internal.h"

static cl_status flatten_infer(cl_node *node, const cl_shape *in, int n_in) {
  CL_TRY(cl__misc_check_single(node, in, n_in));
  const cl_shape s = in[0];
  int64_t f = (int64_t)s.c * s.h * s.w;
  if (f > 0x7fffffff) {
    cl_log_error("flatten '%s': %lld features overflow the channel count", node->name, (long long)f);
    return CL_ERR_INVALID;
  }
  return cl__misc_set_out(node, (cl_shape){s.n, (int)f, 1, 1}, 0);
}

static cl_status flatten_run(const cl_node *node, const cl_tensor *const *in, int n_in,
                             cl_tensor *out, int oy0, int oy1, cl_op_ctx *ctx) {
  (void)ctx;
  CL_TRY(cl__misc_check_nin(node, n_in, 1));
  CL_TRY(cl__misc_check_out(node, out, oy0, oy1));
  const cl_tensor *x = in[0];
  const cl_shape s = x->shape;
  if (s.n != node->out.n || (int64_t)s.c * s.h * s.w != node->out.c) {
    cl_log_error("flatten '%s': input view shape %dx%dx%dx%d does not flatten to %dx%d", node->name,
                 s.n, s.c, s.h, s.w, node->out.n, node->out.c);
    return CL_ERR_INVALID;
  }
  if (oy0 == oy1) return CL_OK;
  CL_TRY(cl__misc_check_full(node, x, "input"));
  if (x->data != out->data)
    memmove(out->data, x->data, sizeof(float) * (size_t)cl_shape_numel(node->out));
  return CL_OK;
}

const cl_op_impl cl__op_impl_flatten = {
    .op = CL_OP_FLATTEN,
    .infer = flatten_infer,
    .run = flatten_run,
};
