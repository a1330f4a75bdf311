/* concat: concatenation along channels of inputs with equal n, h, w (GoogLeNet
 * inception outputs, DenseNet blocks with up to ~50 inputs). Row-splittable:
 * output rows [oy0, oy1) copy the same rows of every input, one contiguous block
 * per (image, input channel). Counts: no flops (pure data movement). */
#include <string.h>

#include "cleave/ops.h"
#include "misc_internal.h"

static cl_status concat_infer(cl_node *node, const cl_shape *in, int n_in) {
  if (n_in < 1) {
    cl_log_error("concat '%s': needs at least 1 input", node->name);
    return CL_ERR_INVALID;
  }
  const cl_shape s = in[0];
  int64_t c = 0;
  for (int i = 0; i < n_in; i++) {
    const cl_shape t = in[i];
    if (!cl__misc_shape_ok(t)) {
      cl_log_error("concat '%s': input %d has empty shape %dx%dx%dx%d", node->name, i, t.n, t.c, t.h,
                   t.w);
      return CL_ERR_INVALID;
    }
    if (t.n != s.n || t.h != s.h || t.w != s.w) {
      cl_log_error("concat '%s': input %d is %dx%dx%dx%d but input 0 is %dx%dx%dx%d (n, h, w must "
                   "match)",
                   node->name, i, t.n, t.c, t.h, t.w, s.n, s.c, s.h, s.w);
      return CL_ERR_INVALID;
    }
    c += t.c;
  }
  if (c > 0x7fffffff) {
    cl_log_error("concat '%s': %lld channels overflow", node->name, (long long)c);
    return CL_ERR_INVALID;
  }
  return cl__misc_set_out(node, (cl_shape){s.n, (int)c, s.h, s.w}, 0);
}

static cl_status concat_run(const cl_node *node, const cl_tensor *const *in, int n_in,
                            cl_tensor *out, int oy0, int oy1, cl_op_ctx *ctx) {
  (void)ctx;
  if (n_in < 1 || n_in != node->n_inputs) {
    cl_log_error("concat '%s': run with %d inputs, node has %d", node->name, n_in, node->n_inputs);
    return CL_ERR_INVALID;
  }
  CL_TRY(cl__misc_check_out(node, out, oy0, oy1));
  const cl_shape s = node->out;
  int64_t c = 0;
  for (int i = 0; i < n_in; i++) {
    const cl_shape t = in[i]->shape;
    if (t.n != s.n || t.h != s.h || t.w != s.w) {
      cl_log_error("concat '%s': input %d view shape %dx%dx%dx%d does not match output %dx%dx%dx%d",
                   node->name, i, t.n, t.c, t.h, t.w, s.n, s.c, s.h, s.w);
      return CL_ERR_INVALID;
    }
    c += t.c;
    CL_TRY(cl__misc_check_view(node, in[i], oy0, oy1, "input"));
  }
  if (c != s.c) {
    cl_log_error("concat '%s': inputs have %lld channels in total, output has %d", node->name,
                 (long long)c, s.c);
    return CL_ERR_INVALID;
  }
  if (oy0 == oy1) return CL_OK;
  const size_t bytes = sizeof(float) * (size_t)(oy1 - oy0) * (size_t)s.w;
  for (int n = 0; n < s.n; n++) {
    int oc = 0;
    for (int i = 0; i < n_in; i++)
      for (int ic = 0; ic < in[i]->shape.c; ic++, oc++)
        memcpy(cl_tensor_at(out, n, oc, oy0, 0), cl_tensor_at(in[i], n, ic, oy0, 0), bytes);
  }
  return CL_OK;
}

const cl_op_impl cl__op_impl_concat = {
    .op = CL_OP_CONCAT,
    .infer = concat_infer,
    .run = concat_run,
};
