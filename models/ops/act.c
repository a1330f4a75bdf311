/* Activations: the fused form applied in place after conv / fc / batchnorm / add /
 * mul (cl_act_apply), and the standalone element-wise ops relu, relu6, sigmoid,
 * hardswish and dropout (identity), whose files hold only their op tables.
 *
 * Each loop is a plain element-wise pass the compiler vectorises (-O2/-O3 with
 * -march=native); sigmoid uses expf and is the only one that is not branch-free.
 * The kernels read x[i] before writing y[i], so x == y (in place) is safe. */
#include <assert.h>
#include <math.h>
#include <string.h>

#include "cleave/ops.h"
#include "misc_internal.h"

static void act_relu(const float *x, float *y, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

static void act_relu6(const float *x, float *y, size_t n) {
  for (size_t i = 0; i < n; i++) {
    float v = x[i] > 0.0f ? x[i] : 0.0f;
    y[i] = v < 6.0f ? v : 6.0f;
  }
}

/* expf of a large positive argument overflows to +inf and gives exactly 0, the
 * correct limit, so no clamping is needed. */
static void act_sigmoid(const float *x, float *y, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] = 1.0f / (1.0f + expf(-x[i]));
}

/* hardswish(x) = x * relu6(x + 3) / 6 (PyTorch nn.Hardswish). */
static void act_hswish(const float *x, float *y, size_t n) {
  for (size_t i = 0; i < n; i++) {
    float t = x[i] + 3.0f;
    t = t > 0.0f ? t : 0.0f;
    t = t < 6.0f ? t : 6.0f;
    y[i] = x[i] * t * (1.0f / 6.0f);
  }
}

typedef void (*act_fn)(const float *x, float *y, size_t n);
static const act_fn g_act[] = {
    [CL_ACT_RELU] = act_relu,
    [CL_ACT_RELU6] = act_relu6,
    [CL_ACT_SIGMOID] = act_sigmoid,
    [CL_ACT_HSWISH] = act_hswish,
};
static_assert(sizeof g_act / sizeof g_act[0] == CL_ACT_HSWISH + 1, "one kernel per cl_act");

/* y = act(x) for n floats; CL_ACT_NONE copies (nothing to do when x == y). */
static void act_map(cl_act act, const float *x, float *y, size_t n) {
  CL_ASSERT(cl__act_valid(act));
  if (act != CL_ACT_NONE) g_act[act](x, y, n);
  else if (x != y) memmove(y, x, n * sizeof(float));
}

void cl_act_apply(cl_act act, float *x, size_t n) { act_map(act, x, x, n); }

/* The activation a standalone element-wise op computes. */
static cl_act op_act(cl_op op) {
  switch (op) {
    case CL_OP_RELU: return CL_ACT_RELU;
    case CL_OP_RELU6: return CL_ACT_RELU6;
    case CL_OP_SIGMOID: return CL_ACT_SIGMOID;
    case CL_OP_HSWISH: return CL_ACT_HSWISH;
    case CL_OP_DROPOUT: return CL_ACT_NONE;
    default: break;
  }
  CL_ASSERT(!"not an element-wise activation op");
  return CL_ACT_NONE;
}

cl_status cl__act_op_infer(cl_node *node, const cl_shape *in, int n_in) {
  return cl__misc_infer_unary(node, in, n_in, cl__act_flops(op_act(node->op)));
}

cl_status cl__act_op_run(const cl_node *node, const cl_tensor *const *in, int n_in, cl_tensor *out,
                         int oy0, int oy1, cl_op_ctx *ctx) {
  (void)ctx;
  CL_TRY(cl__misc_check_unary(node, in, n_in, out, oy0, oy1));
  if (oy0 == oy1) return CL_OK;
  const cl_act act = op_act(node->op);
  const cl_shape s = node->out;
  const size_t len = (size_t)(oy1 - oy0) * (size_t)s.w; /* rows of one plane are contiguous */
  for (int n = 0; n < s.n; n++)
    for (int c = 0; c < s.c; c++)
      act_map(act, cl_tensor_at(in[0], n, c, oy0, 0), cl_tensor_at(out, n, c, oy0, 0), len);
  return CL_OK;
}
