/* conv: 2-D convolution (PyTorch nn.Conv2d semantics) with fused bias and activation.
 *
 * Three execution paths, chosen per node:
 *  - 1x1, stride 1, unpadded: one sgemm per (image, group) straight on the input
 *    view, no copy (the input channel planes are the GEMM's B rows, ldb = rows*w);
 *  - depthwise (groups == in_c, one input channel per group, any channel multiplier):
 *    a direct loop over kernel taps whose inner loop is a contiguous (stride 1) or
 *    strided axpy over one output row; GEMM with K = kh*kw would be hopeless;
 *  - everything else: im2col of a chunk of output rows into ctx->workspace (with
 *    the zero padding materialised), then sgemm per group. Chunks keep the column
 *    buffer below CONV_COL_CAP bytes so it stays cache-resident and the workspace
 *    does not scale with the image (4 MiB measured best: 1 MiB starves
 *    sgemm of columns, 32 MiB spills the buffer out of cache).
 *
 * Row windows: output rows [oy0, oy1) are computed from an input view holding at
 * least the rows in_rows() reports; input rows outside [0, h) are implicit zeros.
 * The arithmetic per output element does not depend on the row window, so any
 * split reproduces the full result (up to sgemm's blocking, which is per element
 * identical in practice; tests check 1e-6).
 *
 * Counts: params = out_c*(in_c/groups)*kh*kw (+ out_c bias); macs = n*out_c*oh*ow*
 * (in_c/groups)*kh*kw; flops = 2*macs + one add per output element for the bias +
 * the fused activation's per-element cost (see cl__act_flops). */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "cleave/ops.h"
#include "conv_internal.h"

/* Column-buffer cap per chunk (bytes). Larger chunks amortise packing the weight
 * matrix; smaller ones keep the buffer in L2/L3. 4-8 MiB measured best here. */
#define CONV_COL_CAP ((size_t)4 << 20)

static int is_depthwise(const cl_conv_params *p, int in_c) { return p->groups == in_c && p->groups > 1; }

static int is_pointwise(const cl_conv_params *p) {
  return p->kh == 1 && p->kw == 1 && p->sh == 1 && p->sw == 1 && p->pt == 0 && p->pb == 0 &&
         p->pl == 0 && p->pr == 0;
}

/* Output extent along one axis (PyTorch floor rule); <= 0 if the kernel does not fit. */
static int out_extent(int in, int pad0, int pad1, int k, int s, int d) {
  int64_t num = (int64_t)in + pad0 + pad1 - (int64_t)d * (k - 1) - 1;
  if (num < 0) return 0;
  return (int)(num / s + 1);
}

static cl_status conv_infer(cl_node *node, const cl_shape *in, int n_in) {
  const cl_conv_params *p = &node->p.conv;
  if (n_in != 1) {
    cl_log_error("conv '%s': expects 1 input, got %d", node->name, n_in);
    return CL_ERR_INVALID;
  }
  const cl_shape s = in[0];
  if (s.n < 1 || s.c < 1 || s.h < 1 || s.w < 1) {
    cl_log_error("conv '%s': empty input shape %dx%dx%dx%d", node->name, s.n, s.c, s.h, s.w);
    return CL_ERR_INVALID;
  }
  if (p->out_c < 1 || p->groups < 1) {
    cl_log_error("conv '%s': out_c (%d) and groups (%d) must be >= 1", node->name, p->out_c, p->groups);
    return CL_ERR_INVALID;
  }
  if (s.c % p->groups != 0 || p->out_c % p->groups != 0) {
    cl_log_error("conv '%s': groups=%d must divide in_c=%d and out_c=%d", node->name, p->groups, s.c,
                 p->out_c);
    return CL_ERR_INVALID;
  }
  if (p->kh < 1 || p->kw < 1 || p->sh < 1 || p->sw < 1 || p->dh < 1 || p->dw < 1) {
    cl_log_error("conv '%s': kernel %dx%d, stride %dx%d, dilation %dx%d must all be >= 1", node->name,
                 p->kh, p->kw, p->sh, p->sw, p->dh, p->dw);
    return CL_ERR_INVALID;
  }
  if (p->pt < 0 || p->pb < 0 || p->pl < 0 || p->pr < 0) {
    cl_log_error("conv '%s': negative padding (t=%d l=%d b=%d r=%d)", node->name, p->pt, p->pl, p->pb,
                 p->pr);
    return CL_ERR_INVALID;
  }
  if (p->has_bias != 0 && p->has_bias != 1) {
    cl_log_error("conv '%s': has_bias must be 0 or 1, got %d", node->name, p->has_bias);
    return CL_ERR_INVALID;
  }
  if (!cl__act_valid(p->act)) {
    cl_log_error("conv '%s': unknown fused activation %d", node->name, (int)p->act);
    return CL_ERR_INVALID;
  }
  int oh = out_extent(s.h, p->pt, p->pb, p->kh, p->sh, p->dh);
  int ow = out_extent(s.w, p->pl, p->pr, p->kw, p->sw, p->dw);
  if (oh < 1 || ow < 1) {
    cl_log_error("conv '%s': kernel %dx%d (dilation %dx%d) does not fit input %dx%d with padding "
                 "t=%d b=%d l=%d r=%d",
                 node->name, p->kh, p->kw, p->dh, p->dw, s.h, s.w, p->pt, p->pb, p->pl, p->pr);
    return CL_ERR_INVALID;
  }
  node->out = (cl_shape){s.n, p->out_c, oh, ow};
  int64_t k = (int64_t)(s.c / p->groups) * p->kh * p->kw;
  int64_t out_numel = cl_shape_numel(node->out);
  node->n_params = (int64_t)p->out_c * k + (p->has_bias ? p->out_c : 0);
  node->macs = out_numel * k;
  node->flops = 2 * node->macs + (p->has_bias ? out_numel : 0) + out_numel * cl__act_flops(p->act);
  node->n_weights = (size_t)node->n_params;
  return CL_OK;
}

static void conv_in_rows(const cl_node *node, int in_h, int oy0, int oy1, int *iy0, int *iy1) {
  const cl_conv_params *p = &node->p.conv;
  if (oy1 <= oy0) {
    *iy0 = *iy1 = 0;
    return;
  }
  int a = oy0 * p->sh - p->pt;
  int b = (oy1 - 1) * p->sh - p->pt + (p->kh - 1) * p->dh + 1;
  if (a < 0) a = 0;
  if (b > in_h) b = in_h;
  if (a > in_h) a = in_h;
  if (b < a) b = a;
  *iy0 = a;
  *iy1 = b;
}

/* Rows per im2col chunk for a given column-buffer budget (bytes), >= 1. */
static int chunk_rows_for(size_t k, int ow, int out_rows, size_t budget) {
  size_t row_bytes = k * (size_t)ow * sizeof(float);
  size_t r = budget / row_bytes;
  if (r < 1) r = 1;
  if (r > (size_t)out_rows) r = (size_t)out_rows;
  return (int)r;
}

static size_t conv_workspace(const cl_node *node, const cl_shape *in, int n_in, int out_rows) {
  const cl_conv_params *p = &node->p.conv;
  if (n_in < 1 || out_rows < 1) return 0;
  if (is_pointwise(p) || is_depthwise(p, in[0].c)) return 0;
  size_t k = (size_t)(in[0].c / p->groups) * (size_t)p->kh * (size_t)p->kw;
  int r = chunk_rows_for(k, node->out.w, out_rows, CONV_COL_CAP);
  return k * (size_t)r * (size_t)node->out.w * sizeof(float);
}

static void conv_init_weights(cl_node *node, const cl_shape *in, uint64_t *rng) {
  const cl_conv_params *p = &node->p.conv;
  size_t fan_in = (size_t)(in[0].c / p->groups) * (size_t)p->kh * (size_t)p->kw;
  size_t nw = (size_t)p->out_c * fan_in;
  float wb = (float)sqrt(6.0 / (double)fan_in);
  float bb = (float)(1.0 / sqrt((double)fan_in));
  for (size_t i = 0; i < nw; i++) node->weights[i] = cl_rng_uniform(rng, -wb, wb);
  if (p->has_bias)
    for (int i = 0; i < p->out_c; i++) node->weights[nw + (size_t)i] = cl_rng_uniform(rng, -bb, bb);
}

/* Output columns [*lo, *hi) whose input column ox*s - pad + off lies in [0, w). */
static void valid_cols(int ow, int w, int s, int pad, int off, int *lo, int *hi) {
  int first = pad - off; /* need ox*s >= first */
  int l = first <= 0 ? 0 : (first + s - 1) / s;
  int last = w - 1 + pad - off; /* need ox*s <= last */
  int h = last < 0 ? 0 : last / s + 1;
  if (l > ow) l = ow;
  if (h > ow) h = ow;
  if (h < l) h = l;
  *lo = l;
  *hi = h;
}

/* Bias and fused activation over n contiguous outputs of one channel. */
static void bias_act(float *y, size_t n, const float *bias, cl_act act) {
  if (bias) {
    float b = *bias;
    for (size_t i = 0; i < n; i++) y[i] += b;
  }
  cl_act_apply(act, y, n);
}

/* im2col of output rows [r0, r1) of image b, group g into col[K][N], N = (r1-r0)*ow,
 * K ordered (ci, ky, kx) to match the weight layout. */
static void im2col(const cl_conv_params *p, const cl_tensor *in, int b, int g, int cpg, int r0, int r1,
                   int ow, float *col) {
  const int h = in->shape.h, w = in->shape.w;
  const size_t n = (size_t)(r1 - r0) * (size_t)ow;
  float *dst = col;
  for (int ci = 0; ci < cpg; ci++) {
    for (int ky = 0; ky < p->kh; ky++) {
      for (int kx = 0; kx < p->kw; kx++, dst += n) {
        int off = kx * p->dw, lo, hi;
        valid_cols(ow, w, p->sw, p->pl, off, &lo, &hi);
        for (int oy = r0; oy < r1; oy++) {
          float *d = dst + (size_t)(oy - r0) * (size_t)ow;
          int iy = oy * p->sh - p->pt + ky * p->dh;
          if (iy < 0 || iy >= h) {
            memset(d, 0, sizeof(float) * (size_t)ow);
            continue;
          }
          const float *src = cl_tensor_at(in, b, g * cpg + ci, iy, 0) + off - p->pl;
          if (lo > 0) memset(d, 0, sizeof(float) * (size_t)lo);
          if (p->sw == 1) {
            memcpy(d + lo, src + lo, sizeof(float) * (size_t)(hi - lo));
          } else {
            const int sw = p->sw;
            for (int ox = lo; ox < hi; ox++) d[ox] = src[(ptrdiff_t)ox * sw];
          }
          if (hi < ow) memset(d + hi, 0, sizeof(float) * (size_t)(ow - hi));
        }
      }
    }
  }
}

static void run_gemm_im2col(const cl_node *node, const cl_tensor *in, cl_tensor *out, int oy0, int oy1,
                            float *col, int chunk) {
  const cl_conv_params *p = &node->p.conv;
  const int G = p->groups, cpg = in->shape.c / G, ocpg = p->out_c / G, ow = out->shape.w;
  const int K = cpg * p->kh * p->kw;
  const float *bias = p->has_bias ? node->weights + (size_t)p->out_c * (size_t)K : NULL;
  const int ldc = out->rows * ow;
  for (int b = 0; b < in->shape.n; b++) {
    for (int r0 = oy0; r0 < oy1; r0 += chunk) {
      int r1 = r0 + chunk < oy1 ? r0 + chunk : oy1;
      int N = (r1 - r0) * ow;
      for (int g = 0; g < G; g++) {
        im2col(p, in, b, g, cpg, r0, r1, ow, col);
        const float *A = node->weights + (size_t)g * (size_t)ocpg * (size_t)K;
        float *C = cl_tensor_at(out, b, g * ocpg, r0, 0);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, ocpg, N, K, 1.0f, A, K, col, N, 0.0f, C,
                    ldc);
        for (int oc = 0; oc < ocpg; oc++)
          bias_act(C + (size_t)oc * (size_t)ldc, (size_t)N, bias ? bias + g * ocpg + oc : NULL, p->act);
      }
    }
  }
}

static void run_pointwise(const cl_node *node, const cl_tensor *in, cl_tensor *out, int oy0, int oy1) {
  const cl_conv_params *p = &node->p.conv;
  const int G = p->groups, cpg = in->shape.c / G, ocpg = p->out_c / G, w = in->shape.w;
  const float *bias = p->has_bias ? node->weights + (size_t)p->out_c * (size_t)cpg : NULL;
  const int N = (oy1 - oy0) * w, ldb = in->rows * w, ldc = out->rows * w;
  for (int b = 0; b < in->shape.n; b++) {
    for (int g = 0; g < G; g++) {
      const float *A = node->weights + (size_t)g * (size_t)ocpg * (size_t)cpg;
      const float *B = cl_tensor_at(in, b, g * cpg, oy0, 0);
      float *C = cl_tensor_at(out, b, g * ocpg, oy0, 0);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, ocpg, N, cpg, 1.0f, A, cpg, B, ldb, 0.0f, C,
                  ldc);
      for (int oc = 0; oc < ocpg; oc++)
        bias_act(C + (size_t)oc * (size_t)ldc, (size_t)N, bias ? bias + g * ocpg + oc : NULL, p->act);
    }
  }
}

/* Depthwise kernels wider than this use the plain per-tap path (no fused interior). */
#define DW_MAX_KW 16

/* One output row of one depthwise channel, one kernel row: d[ox] += sum_kx w[kx] *
 * s[ox*sw + kx*dw] over the valid columns. s points at input column -pl. Columns
 * where every tap is valid (the interior, [ilo, ihi)) take a fused loop that loads
 * and stores d once for all taps; the few border columns go tap by tap. */
static void dw_row(float *restrict d, const float *restrict s, const float *restrict wk, int kw, int sw,
                   int dw, const int *lo, const int *hi, int ilo, int ihi) {
  for (int kx = 0; kx < kw; kx++) {
    const float wv = wk[kx];
    const float *t = s + kx * dw;
    int e0 = ilo < hi[kx] ? ilo : hi[kx], e1 = ihi > lo[kx] ? ihi : lo[kx];
    for (int ox = lo[kx]; ox < e0; ox++) d[ox] += wv * t[(ptrdiff_t)ox * sw];
    for (int ox = e1; ox < hi[kx]; ox++) d[ox] += wv * t[(ptrdiff_t)ox * sw];
  }
  if (ihi <= ilo) return;
  if (kw == 3 && sw == 1) {
    const float w0 = wk[0], w1 = wk[1], w2 = wk[2];
    const float *s1 = s + dw, *s2 = s + 2 * dw;
    for (int ox = ilo; ox < ihi; ox++) d[ox] += w0 * s[ox] + w1 * s1[ox] + w2 * s2[ox];
  } else if (kw == 3 && sw == 2) {
    const float w0 = wk[0], w1 = wk[1], w2 = wk[2];
    const float *s1 = s + dw, *s2 = s + 2 * dw;
    for (int ox = ilo; ox < ihi; ox++) d[ox] += w0 * s[2 * ox] + w1 * s1[2 * ox] + w2 * s2[2 * ox];
  } else if (sw == 1) {
    for (int kx = 0; kx < kw; kx++) {
      const float wv = wk[kx];
      const float *t = s + kx * dw;
      for (int ox = ilo; ox < ihi; ox++) d[ox] += wv * t[ox];
    }
  } else {
    for (int kx = 0; kx < kw; kx++) {
      const float wv = wk[kx];
      const float *t = s + kx * dw;
      for (int ox = ilo; ox < ihi; ox++) d[ox] += wv * t[(ptrdiff_t)ox * sw];
    }
  }
}

/* Depthwise: out channel oc reads input channel oc / mult. The output rows of one
 * channel (a few KiB, L1-resident) are initialised with the bias, then each kernel
 * row adds its taps to every output row (dw_row). Column bounds are computed once
 * per node, not per row, which keeps the short (7..112 wide) rows efficient. */
static void run_depthwise(const cl_node *node, const cl_tensor *in, cl_tensor *out, int oy0, int oy1) {
  const cl_conv_params *p = &node->p.conv;
  const int h = in->shape.h, w = in->shape.w, ow = out->shape.w;
  const int mult = p->out_c / in->shape.c, taps = p->kh * p->kw, sw = p->sw;
  const float *bias = p->has_bias ? node->weights + (size_t)p->out_c * (size_t)taps : NULL;
  const size_t slab = (size_t)(oy1 - oy0) * (size_t)ow;
  int lo[DW_MAX_KW], hi[DW_MAX_KW], ilo = 0, ihi = ow;
  const int fused = p->kw <= DW_MAX_KW;
  if (fused) {
    for (int kx = 0; kx < p->kw; kx++) {
      valid_cols(ow, w, sw, p->pl, kx * p->dw, &lo[kx], &hi[kx]);
      if (lo[kx] > ilo) ilo = lo[kx];
      if (hi[kx] < ihi) ihi = hi[kx];
    }
    if (ihi < ilo) ihi = ilo; /* no interior: dw_row's border loops cover each tap once */
  }
  for (int b = 0; b < in->shape.n; b++) {
    for (int oc = 0; oc < p->out_c; oc++) {
      const float *wt = node->weights + (size_t)oc * (size_t)taps;
      const int ci = oc / mult;
      const float b0 = bias ? bias[oc] : 0.0f;
      float *const y = cl_tensor_at(out, b, oc, oy0, 0); /* rows oy0..oy1 are contiguous */
      for (size_t i = 0; i < slab; i++) y[i] = b0;
      for (int ky = 0; ky < p->kh; ky++) {
        for (int oy = oy0; oy < oy1; oy++) {
          const int iy = oy * p->sh - p->pt + ky * p->dh;
          if (iy < 0 || iy >= h) continue;
          float *d = y + (size_t)(oy - oy0) * (size_t)ow;
          const float *s = cl_tensor_at(in, b, ci, iy, 0) - p->pl;
          if (fused) {
            dw_row(d, s, wt + ky * p->kw, p->kw, sw, p->dw, lo, hi, ilo, ihi);
            continue;
          }
          for (int kx = 0; kx < p->kw; kx++) { /* very wide kernels: tap by tap */
            int l, r;
            valid_cols(ow, w, sw, p->pl, kx * p->dw, &l, &r);
            const float wv = wt[ky * p->kw + kx], *t = s + kx * p->dw;
            for (int ox = l; ox < r; ox++) d[ox] += wv * t[(ptrdiff_t)ox * sw];
          }
        }
      }
      cl_act_apply(p->act, y, slab);
    }
  }
}

static cl_status conv_run(const cl_node *node, const cl_tensor *const *ins, int n_in, cl_tensor *out,
                          int oy0, int oy1, cl_op_ctx *ctx) {
  const cl_conv_params *p = &node->p.conv;
  if (n_in != 1 || !ins || !ins[0] || !out) {
    cl_log_error("conv '%s': run needs exactly 1 input and an output tensor", node->name);
    return CL_ERR_INVALID;
  }
  const cl_tensor *in = ins[0];
  const cl_shape s = in->shape;
  if (!node->weights) {
    cl_log_error("conv '%s': weights not initialised", node->name);
    return CL_ERR_INVALID;
  }
  if (s.c % p->groups || s.n != node->out.n ||
      out_extent(s.h, p->pt, p->pb, p->kh, p->sh, p->dh) != node->out.h ||
      out_extent(s.w, p->pl, p->pr, p->kw, p->sw, p->dw) != node->out.w ||
      (size_t)p->out_c * (size_t)(s.c / p->groups) * (size_t)p->kh * (size_t)p->kw +
              (p->has_bias ? (size_t)p->out_c : 0) != node->n_weights) {
    cl_log_error("conv '%s': input shape %dx%dx%dx%d does not match the node", node->name, s.n, s.c, s.h,
                 s.w);
    return CL_ERR_INVALID;
  }
  if (out->shape.n != node->out.n || out->shape.c != node->out.c || out->shape.h != node->out.h ||
      out->shape.w != node->out.w) {
    cl_log_error("conv '%s': output tensor %dx%dx%dx%d, expected %dx%dx%dx%d", node->name, out->shape.n,
                 out->shape.c, out->shape.h, out->shape.w, node->out.n, node->out.c, node->out.h,
                 node->out.w);
    return CL_ERR_INVALID;
  }
  if (oy0 < 0 || oy1 > node->out.h || oy0 > oy1 || oy0 < out->y0 || oy1 > out->y0 + out->rows) {
    cl_log_error("conv '%s': output rows [%d, %d) outside the output (h=%d) or its view [%d, %d)",
                 node->name, oy0, oy1, node->out.h, out->y0, out->y0 + out->rows);
    return CL_ERR_INVALID;
  }
  if (oy0 == oy1) return CL_OK;
  int iy0, iy1;
  conv_in_rows(node, s.h, oy0, oy1, &iy0, &iy1);
  if (iy1 > iy0 && (iy0 < in->y0 || iy1 > in->y0 + in->rows)) {
    cl_log_error("conv '%s': output rows [%d, %d) need input rows [%d, %d), view holds [%d, %d)",
                 node->name, oy0, oy1, iy0, iy1, in->y0, in->y0 + in->rows);
    return CL_ERR_INVALID;
  }
  if (ctx && ctx->threads > 0) cl_blas_set_threads(ctx->threads);

  if (is_depthwise(p, s.c)) {
    run_depthwise(node, in, out, oy0, oy1);
    return CL_OK;
  }
  if (is_pointwise(p)) {
    run_pointwise(node, in, out, oy0, oy1);
    return CL_OK;
  }
  size_t k = (size_t)(s.c / p->groups) * (size_t)p->kh * (size_t)p->kw;
  size_t row_bytes = k * (size_t)node->out.w * sizeof(float);
  size_t have = ctx && ctx->workspace ? ctx->workspace_bytes : 0;
  if (have < row_bytes) {
    cl_log_error("conv '%s': workspace of %zu bytes, need at least %zu (see workspace())", node->name,
                 have, row_bytes);
    return CL_ERR_INVALID;
  }
  /* Same chunking as conv_workspace() when given that size; never more than we have. */
  size_t budget = have < CONV_COL_CAP ? have : CONV_COL_CAP;
  int chunk = chunk_rows_for(k, node->out.w, oy1 - oy0, budget);
  run_gemm_im2col(node, in, out, oy0, oy1, ctx->workspace, chunk);
  return CL_OK;
}

const cl_op_impl cl__op_impl_conv = {
    .op = CL_OP_CONV,
    .infer = conv_infer,
    .in_rows = conv_in_rows,
    .workspace = conv_workspace,
    .init_weights = conv_init_weights,
    .run = conv_run,
};
