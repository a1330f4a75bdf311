/* lrn: local response normalisation across channels (PyTorch nn.LocalResponseNorm,
 * AlexNet / GoogLeNet):
 *   b_c = a_c / (k + alpha/size * sum_{c' = c - size/2}^{c + (size-1)/2} a_c'^2)^beta
 * with the channel window clipped to [0, C) (PyTorch zero-pads, and always divides
 * by size). Row-splittable: output row y reads row y of the neighbouring channels.
 *
 * Per (image, channel) the rows [oy0, oy1) are one contiguous block; the window sum
 * is accumulated straight into the output block (size passes of a vectorised
 * multiply-add), then scaled. beta = 0.75 (AlexNet, GoogLeNet) uses
 * d^-0.75 = r * sqrt(r) with r = 1/sqrt(d), much cheaper than powf.
 * Not in-place safe (neighbouring channels are read after writing).
 * Counts: 2*size flops per element for the window sum, plus 4 (scale, add, pow, mul). */
#include <math.h>

#include "cleave/ops.h"
#include "misc_internal.h"

static cl_status lrn_infer(cl_node *node, const cl_shape *in, int n_in) {
  const cl_lrn_params *p = &node->p.lrn;
  if (p->size < 1 || !(p->alpha >= 0.0f) || isinf(p->alpha) || !(p->k > 0.0f) || isinf(p->k) ||
      !isfinite(p->beta)) {
    cl_log_error("lrn '%s': size = %d must be >= 1, alpha = %g >= 0, k = %g > 0, beta = %g finite",
                 node->name, p->size, (double)p->alpha, (double)p->k, (double)p->beta);
    return CL_ERR_INVALID;
  }
  return cl__misc_infer_unary(node, in, n_in, 2 * (int64_t)p->size + 4);
}

static cl_status lrn_run(const cl_node *node, const cl_tensor *const *in, int n_in, cl_tensor *out,
                         int oy0, int oy1, cl_op_ctx *ctx) {
  (void)ctx;
  CL_TRY(cl__misc_check_unary(node, in, n_in, out, oy0, oy1));
  if (oy0 == oy1) return CL_OK;
  if (out->data == in[0]->data) {
    cl_log_error("lrn '%s': cannot run in place", node->name);
    return CL_ERR_INVALID;
  }
  const cl_lrn_params *p = &node->p.lrn;
  const cl_shape s = node->out;
  const size_t len = (size_t)(oy1 - oy0) * (size_t)s.w;
  const float scale = p->alpha / (float)p->size, k = p->k, nbeta = -p->beta;
  const int fast = p->beta == 0.75f;
  for (int n = 0; n < s.n; n++)
    for (int c = 0; c < s.c; c++) {
      int c0 = c - p->size / 2, c1 = c + (p->size - 1) / 2 + 1;
      if (c0 < 0) c0 = 0;
      if (c1 > s.c) c1 = s.c;
      float *y = cl_tensor_at(out, n, c, oy0, 0);
      for (size_t i = 0; i < len; i++) y[i] = 0.0f;
      for (int cc = c0; cc < c1; cc++) {
        const float *z = cl_tensor_at(in[0], n, cc, oy0, 0);
        for (size_t i = 0; i < len; i++) y[i] += z[i] * z[i];
      }
      const float *x = cl_tensor_at(in[0], n, c, oy0, 0);
      if (fast) {
        for (size_t i = 0; i < len; i++) {
          float r = 1.0f / sqrtf(k + scale * y[i]);
          y[i] = x[i] * (r * sqrtf(r));
        }
      } else {
        for (size_t i = 0; i < len; i++) y[i] = x[i] * powf(k + scale * y[i], nbeta);
      }
    }
  return CL_OK;
}

const cl_op_impl cl__op_impl_lrn = {
    .op = CL_OP_LRN,
    .infer = lrn_infer,
    .run = lrn_run,
};
