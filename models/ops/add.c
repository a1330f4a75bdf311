/* add: element-wise sum of >= 2 same-shaped inputs (ResNet shortcuts, DenseNet-free
 * merges), with an optional fused activation (p.eltwise.act, e.g. ResNet's
 * add-then-ReLU). Row-splittable: output row y reads row y of every input.
 * In-place safe when the output aliases input 0 or 1 with the same view layout.
 * With p.eltwise.scale != 0 (2 inputs): y = in0 + scale * in1 (Keras InceptionResNetV2).
 * Counts: (n_inputs - 1) flops per element (+1 for the scale) plus the fused activation's cost. */
#include "cleave/ops.h"
#include "misc_internal.h"

static cl_status add_infer(cl_node *node, const cl_shape *in, int n_in) {
  const cl_act act = node->p.eltwise.act;
  if (n_in < 2) {
    cl_log_error("add '%s': needs at least 2 inputs, got %d", node->name, n_in);
    return CL_ERR_INVALID;
  }
  if (!cl__act_valid(act)) {
    cl_log_error("add '%s': invalid fused activation %d", node->name, (int)act);
    return CL_ERR_INVALID;
  }
  const cl_shape s = in[0];
  if (!cl__misc_shape_ok(s)) {
    cl_log_error("add '%s': empty input shape %dx%dx%dx%d", node->name, s.n, s.c, s.h, s.w);
    return CL_ERR_INVALID;
  }
  if (node->p.eltwise.scale != 0.0f && n_in != 2) {
    cl_log_error("add '%s': a scaled sum (scale %g) takes exactly 2 inputs, got %d", node->name,
                 (double)node->p.eltwise.scale, n_in);
    return CL_ERR_INVALID;
  }
  for (int i = 1; i < n_in; i++) {
    const cl_shape t = in[i];
    if (t.n != s.n || t.c != s.c || t.h != s.h || t.w != s.w) {
      cl_log_error("add '%s': input %d has shape %dx%dx%dx%d, input 0 has %dx%dx%dx%d", node->name, i,
                   t.n, t.c, t.h, t.w, s.n, s.c, s.h, s.w);
      return CL_ERR_INVALID;
    }
  }
  return cl__misc_set_out(node, s, (n_in - 1 + (node->p.eltwise.scale != 0.0f) + cl__act_flops(act)) * cl_shape_numel(s));
}

static cl_status add_run(const cl_node *node, const cl_tensor *const *in, int n_in, cl_tensor *out,
                         int oy0, int oy1, cl_op_ctx *ctx) {
  (void)ctx;
  if (n_in < 2 || n_in != node->n_inputs) {
    cl_log_error("add '%s': run with %d inputs, node has %d", node->name, n_in, node->n_inputs);
    return CL_ERR_INVALID;
  }
  CL_TRY(cl__misc_check_out(node, out, oy0, oy1));
  for (int i = 0; i < n_in; i++) {
    CL_TRY(cl__misc_check_in_shape(node, in[i], i, node->out));
    CL_TRY(cl__misc_check_view(node, in[i], oy0, oy1, "input"));
  }
  if (oy0 == oy1) return CL_OK;
  const cl_shape s = node->out;
  const size_t len = (size_t)(oy1 - oy0) * (size_t)s.w;
  for (int n = 0; n < s.n; n++)
    for (int c = 0; c < s.c; c++) {
      float *y = cl_tensor_at(out, n, c, oy0, 0);
      const float *a = cl_tensor_at(in[0], n, c, oy0, 0);
      const float *b = cl_tensor_at(in[1], n, c, oy0, 0);
      const float sc = node->p.eltwise.scale;
      if (sc != 0.0f)
        for (size_t i = 0; i < len; i++) y[i] = a[i] + sc * b[i];
      else
        for (size_t i = 0; i < len; i++) y[i] = a[i] + b[i];
      for (int k = 2; k < n_in; k++) {
        const float *z = cl_tensor_at(in[k], n, c, oy0, 0);
        for (size_t i = 0; i < len; i++) y[i] += z[i];
      }
      cl_act_apply(node->p.eltwise.act, y, len);
    }
  return CL_OK;
}

const cl_op_impl cl__op_impl_add = {
    .op = CL_OP_ADD,
    .infer = add_infer,
    .run = add_run,
};
