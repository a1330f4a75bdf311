/* batchnorm: inference batch normalisation (PyTorch nn.BatchNorm2d in eval mode),
 * y = (x - mean) / sqrt(var + eps) * gamma + beta, with an optional fused
 * activation (p.bn.act). Per channel this is one scale and shift, computed in
 * double from the stored statistics, then a vectorised x*s + t pass.
 *
 * Weights: gamma[c], beta[c], running_mean[c], running_var[c] (n_weights = 4c);
 * parameters counted as torchvision does: gamma and beta (2c).
 * Counts: 2 flops per element (mul, add) plus the fused activation's cost. */
#include <math.h>

#include "cleave/ops.h"
#include "misc_internal.h"

static cl_status batchnorm_infer(cl_node *node, const cl_shape *in, int n_in) {
  const cl_bn_params *p = &node->p.bn;
  if (!(p->eps >= 0.0f) || isinf(p->eps)) {
    cl_log_error("batchnorm '%s': eps = %g must be finite and >= 0", node->name, (double)p->eps);
    return CL_ERR_INVALID;
  }
  if (!cl__act_valid(p->act)) {
    cl_log_error("batchnorm '%s': invalid fused activation %d", node->name, (int)p->act);
    return CL_ERR_INVALID;
  }
  CL_TRY(cl__misc_infer_unary(node, in, n_in, 2 + cl__act_flops(p->act)));
  node->n_weights = 4 * (size_t)in[0].c;
  node->n_params = (p->no_scale ? 1 : 2) * (int64_t)in[0].c; /* no_scale: beta only */
  return CL_OK;
}

/* Plausible trained statistics: gamma U(0.8,1.2), beta U(-0.1,0.1),
 * mean U(-0.1,0.1), var U(0.8,1.2). */
static void batchnorm_init_weights(cl_node *node, const cl_shape *in, uint64_t *rng) {
  (void)in;
  const int c = node->out.c;
  float *gamma = node->weights, *beta = gamma + c, *mean = beta + c, *var = mean + c;
  for (int i = 0; i < c; i++) gamma[i] = cl_rng_uniform(rng, 0.8f, 1.2f);
  if (node->p.bn.no_scale) /* Keras scale=False: gamma is the constant 1 */
    for (int i = 0; i < c; i++) gamma[i] = 1.0f;
  for (int i = 0; i < c; i++) beta[i] = cl_rng_uniform(rng, -0.1f, 0.1f);
  for (int i = 0; i < c; i++) mean[i] = cl_rng_uniform(rng, -0.1f, 0.1f);
  for (int i = 0; i < c; i++) var[i] = cl_rng_uniform(rng, 0.8f, 1.2f);
}

static cl_status batchnorm_run(const cl_node *node, const cl_tensor *const *in, int n_in,
                               cl_tensor *out, int oy0, int oy1, cl_op_ctx *ctx) {
  (void)ctx;
  CL_TRY(cl__misc_check_unary(node, in, n_in, out, oy0, oy1));
  const cl_shape s = node->out;
  if (!node->weights || node->n_weights != 4 * (size_t)s.c) {
    cl_log_error("batchnorm '%s': weights missing (%zu of %zu floats; call cl_graph_init_weights)",
                 node->name, node->weights ? node->n_weights : (size_t)0, 4 * (size_t)s.c);
    return CL_ERR_INVALID;
  }
  if (oy0 == oy1) return CL_OK;
  const float *gamma = node->weights, *beta = gamma + s.c, *mean = beta + s.c, *var = mean + s.c;
  const size_t len = (size_t)(oy1 - oy0) * (size_t)s.w;
  for (int c = 0; c < s.c; c++) {
    double v = (double)var[c] + node->p.bn.eps;
    if (!(v > 0.0)) {
      cl_log_error("batchnorm '%s': channel %d has var + eps = %g <= 0", node->name, c, v);
      return CL_ERR_INVALID;
    }
    double shift;
    const double sd = cl_bn_scale_shift(node->weights, s.c, c, node->p.bn.eps, &shift);
    const float sc = (float)sd, sh = (float)shift;
    for (int n = 0; n < s.n; n++) {
      const float *x = cl_tensor_at(in[0], n, c, oy0, 0);
      float *y = cl_tensor_at(out, n, c, oy0, 0);
      for (size_t i = 0; i < len; i++) y[i] = x[i] * sc + sh;
      cl_act_apply(node->p.bn.act, y, len);
    }
  }
  return CL_OK;
}

double cl_bn_scale_shift(const float *w, int C, int c, double eps, double *shift) {
  const float *gamma = w, *beta = w + C, *mean = beta + C, *var = mean + C;
  double sd = gamma[c] / sqrt((double)var[c] + eps);
  *shift = beta[c] - mean[c] * sd;
  return sd;
}

const cl_op_impl cl__op_impl_batchnorm = {
    .op = CL_OP_BATCHNORM,
    .infer = batchnorm_infer,
    .init_weights = batchnorm_init_weights,
    .run = batchnorm_run,
};
