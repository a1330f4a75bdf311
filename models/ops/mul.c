/* mul: element-wise product of 2 inputs, either the same shape or the second one
 * [n, c, 1, 1] broadcast over h x w (squeeze-and-excitation: features * channel
 * gate). Optional fused activation (p.eltwise.act). Row-splittable: output row y
 * reads row y of the first input and the single row of a broadcast second input
 * (cl_graph_input_rows asks for row 0 of a 1-row input). In-place safe.
 * Counts: 1 flop per output element plus the fused activation's cost. */
#include "cleave/ops.h"
#include "misc_internal.h"

static int is_broadcast(cl_shape a, cl_shape b) {
  return b.n == a.n && b.c == a.c && b.h == 1 && b.w == 1 && (a.h > 1 || a.w > 1);
}

static cl_status mul_infer(cl_node *node, const cl_shape *in, int n_in) {
  const cl_act act = node->p.eltwise.act;
  if (n_in != 2) {
    cl_log_error("mul '%s': expects 2 inputs, got %d", node->name, n_in);
    return CL_ERR_INVALID;
  }
  if (!cl__act_valid(act)) {
    cl_log_error("mul '%s': invalid fused activation %d", node->name, (int)act);
    return CL_ERR_INVALID;
  }
  const cl_shape a = in[0], b = in[1];
  if (!cl__misc_shape_ok(a) || !cl__misc_shape_ok(b)) {
    cl_log_error("mul '%s': empty input shape (%dx%dx%dx%d, %dx%dx%dx%d)", node->name, a.n, a.c, a.h,
                 a.w, b.n, b.c, b.h, b.w);
    return CL_ERR_INVALID;
  }
  int same = a.n == b.n && a.c == b.c && a.h == b.h && a.w == b.w;
  if (!same && is_broadcast(b, a)) {
    cl_log_error("mul '%s': input 0 (%dx%dx%dx%d) is the per-channel gate; only input 1 may "
                 "broadcast, swap the inputs",
                 node->name, a.n, a.c, a.h, a.w);
    return CL_ERR_INVALID;
  }
  if (!same && !is_broadcast(a, b)) {
    cl_log_error("mul '%s': input 1 has shape %dx%dx%dx%d; expected %dx%dx%dx%d (same as input 0) "
                 "or %dx%dx1x1 (per-channel broadcast)",
                 node->name, b.n, b.c, b.h, b.w, a.n, a.c, a.h, a.w, a.n, a.c);
    return CL_ERR_INVALID;
  }
  return cl__misc_set_out(node, a, (1 + cl__act_flops(act)) * cl_shape_numel(a));
}

static cl_status mul_run(const cl_node *node, const cl_tensor *const *in, int n_in, cl_tensor *out,
                         int oy0, int oy1, cl_op_ctx *ctx) {
  (void)ctx;
  CL_TRY(cl__misc_check_nin(node, n_in, 2));
  CL_TRY(cl__misc_check_out(node, out, oy0, oy1));
  const cl_shape s = node->out;
  CL_TRY(cl__misc_check_in_shape(node, in[0], 0, s));
  CL_TRY(cl__misc_check_view(node, in[0], oy0, oy1, "input 0"));
  const int bcast = is_broadcast(s, in[1]->shape);
  if (bcast) {
    if (oy0 < oy1) CL_TRY(cl__misc_check_view(node, in[1], 0, 1, "input 1 (broadcast)"));
  } else {
    CL_TRY(cl__misc_check_in_shape(node, in[1], 1, s));
    CL_TRY(cl__misc_check_view(node, in[1], oy0, oy1, "input 1"));
  }
  if (oy0 == oy1) return CL_OK;
  const size_t len = (size_t)(oy1 - oy0) * (size_t)s.w;
  for (int n = 0; n < s.n; n++)
    for (int c = 0; c < s.c; c++) {
      const float *a = cl_tensor_at(in[0], n, c, oy0, 0);
      float *y = cl_tensor_at(out, n, c, oy0, 0);
      if (bcast) {
        const float g = *cl_tensor_at(in[1], n, c, 0, 0);
        for (size_t i = 0; i < len; i++) y[i] = a[i] * g;
      } else {
        const float *b = cl_tensor_at(in[1], n, c, oy0, 0);
        for (size_t i = 0; i < len; i++) y[i] = a[i] * b[i];
      }
      cl_act_apply(node->p.eltwise.act, y, len);
    }
  return CL_OK;
}

const cl_op_impl cl__op_impl_mul = {
    .op = CL_OP_MUL,
    .infer = mul_infer,
    .run = mul_run,
};
