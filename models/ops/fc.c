/* fc: fully connected layer on the flattened input (PyTorch nn.Linear after flatten).
 *
 * y[b][o] = sum_i W[o][i] * x[b][i] + bias[o], x[b] = the c*h*w features of image b
 * in NCHW order. One image: sgemv; a batch: one sgemm (X * W^T). Bias and the
 * fused activation follow. Non-spatial: the input must be the full tensor.
 *
 * Counts: params = in*out (+ out bias); macs = n*in*out; flops = 2*macs + one add
 * per output for the bias + the activation's per-element cost (cl__act_flops). */
#include <cblas.h>
#include <math.h>

#include "cleave/ops.h"
#include "misc_internal.h"

static cl_status fc_infer(cl_node *node, const cl_shape *in, int n_in) {
  const cl_fc_params *p = &node->p.fc;
  CL_TRY(cl__misc_check_single(node, in, n_in));
  const cl_shape s = in[0];
  if (p->out_features < 1) {
    cl_log_error("fc '%s': out_features must be >= 1, got %d", node->name, p->out_features);
    return CL_ERR_INVALID;
  }
  if (p->has_bias != 0 && p->has_bias != 1) {
    cl_log_error("fc '%s': has_bias must be 0 or 1, got %d", node->name, p->has_bias);
    return CL_ERR_INVALID;
  }
  if (!cl__act_valid(p->act)) {
    cl_log_error("fc '%s': unknown fused activation %d", node->name, (int)p->act);
    return CL_ERR_INVALID;
  }
  int64_t in_f = (int64_t)s.c * s.h * s.w;
  if (in_f > INT32_MAX) {
    cl_log_error("fc '%s': %lld input features exceed the BLAS int range", node->name, (long long)in_f);
    return CL_ERR_INVALID;
  }
  node->out = (cl_shape){s.n, p->out_features, 1, 1};
  int64_t out_numel = (int64_t)s.n * p->out_features;
  node->n_params = in_f * p->out_features + (p->has_bias ? p->out_features : 0);
  node->macs = (int64_t)s.n * in_f * p->out_features;
  node->flops = 2 * node->macs + (p->has_bias ? out_numel : 0) + out_numel * cl__act_flops(p->act);
  node->n_weights = (size_t)node->n_params;
  return CL_OK;
}

static void fc_init_weights(cl_node *node, const cl_shape *in, uint64_t *rng) {
  const cl_fc_params *p = &node->p.fc;
  size_t fan_in = (size_t)in[0].c * (size_t)in[0].h * (size_t)in[0].w;
  size_t nw = fan_in * (size_t)p->out_features;
  float wb = (float)sqrt(6.0 / (double)fan_in);
  float bb = (float)(1.0 / sqrt((double)fan_in));
  for (size_t i = 0; i < nw; i++) node->weights[i] = cl_rng_uniform(rng, -wb, wb);
  if (p->has_bias)
    for (int i = 0; i < p->out_features; i++) node->weights[nw + (size_t)i] = cl_rng_uniform(rng, -bb, bb);
}

static cl_status fc_run(const cl_node *node, const cl_tensor *const *ins, int n_in, cl_tensor *out,
                        int oy0, int oy1, cl_op_ctx *ctx) {
  const cl_fc_params *p = &node->p.fc;
  if (n_in != 1 || !ins || !ins[0] || !out) {
    cl_log_error("fc '%s': run needs exactly 1 input and an output tensor", node->name);
    return CL_ERR_INVALID;
  }
  const cl_tensor *in = ins[0];
  const cl_shape s = in->shape;
  const int O = p->out_features;
  const int64_t in_f = (int64_t)s.c * s.h * s.w;
  if (!node->weights) {
    cl_log_error("fc '%s': weights not initialised", node->name);
    return CL_ERR_INVALID;
  }
  if (s.n != node->out.n || (size_t)(in_f * O + (p->has_bias ? O : 0)) != node->n_weights) {
    cl_log_error("fc '%s': input shape %dx%dx%dx%d does not match the node", node->name, s.n, s.c, s.h,
                 s.w);
    return CL_ERR_INVALID;
  }
  if (in->y0 != 0 || in->rows != s.h) {
    cl_log_error("fc '%s': needs the full input (rows [0, %d)), got the view [%d, %d)", node->name, s.h,
                 in->y0, in->y0 + in->rows);
    return CL_ERR_INVALID;
  }
  if (out->shape.n != s.n || out->shape.c != O || out->shape.h != 1 || out->shape.w != 1 ||
      out->y0 != 0 || out->rows != 1) {
    cl_log_error("fc '%s': output tensor %dx%dx%dx%d (rows %d+%d), expected %dx%dx1x1 full", node->name,
                 out->shape.n, out->shape.c, out->shape.h, out->shape.w, out->y0, out->rows, s.n, O);
    return CL_ERR_INVALID;
  }
  if (oy0 == oy1) return CL_OK;
  if (oy0 != 0 || oy1 != 1) {
    cl_log_error("fc '%s': output rows [%d, %d), only [0, 1) exists", node->name, oy0, oy1);
    return CL_ERR_INVALID;
  }
  if (ctx && ctx->threads > 0) cl_blas_set_threads(ctx->threads);
  const int K = (int)in_f;
  const float *W = node->weights;
  if (s.n == 1) {
    cblas_sgemv(CblasRowMajor, CblasNoTrans, O, K, 1.0f, W, K, in->data, 1, 0.0f, out->data, 1);
  } else {
    /* Y[n][O] = X[n][K] * W[O][K]^T */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s.n, O, K, 1.0f, in->data, K, W, K, 0.0f,
                out->data, O);
  }
  if (p->has_bias) {
    const float *bias = W + (size_t)K * (size_t)O;
    for (int b = 0; b < s.n; b++) {
      float *y = out->data + (size_t)b * (size_t)O;
      for (int o = 0; o < O; o++) y[o] += bias[o];
    }
  }
  cl_act_apply(p->act, out->data, (size_t)s.n * (size_t)O);
  return CL_OK;
}

const cl_op_impl cl__op_impl_fc = {
    .op = CL_OP_FC,
    .infer = fc_infer,
    .in_rows = NULL,
    .workspace = NULL,
    .init_weights = fc_init_weights,
    .run = fc_run,
};
