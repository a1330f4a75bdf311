/* conv: 2-D convolution (PyTorch nn.Conv2d semantics) with fused bias and activation.
 *
 * Three execution paths, chosen per node:
 *  - 1x1, stride 1, unpadded: one sgemm per (image, group) straight on the input
 *    view, no copy (the input channel planes are the GEMM's B rows, ldb = rows*w);
 *  - depthwise (groups == in_c, one input channel per group, any channel multiplier):
 *    direct, via zero-padded polyphase planes of the input window in ctx->workspace
 *    (see dw_geometry) so that every kernel tap is one long unit-stride FMA sweep,
 *    for any stride and dilation; GEMM with K = kh*kw would be hopeless;
 *  - everything else: im2col of a chunk of output rows into ctx->workspace (with
 *    the zero padding materialised), then sgemm per group. Chunks keep the column
 *    buffer below CONV_COL_CAP bytes so it stays cache-resident and the workspace
 *    does not scale with the image (4 MiB measured best: 1 MiB starves
 *    sgemm of columns, 32 MiB spills the buffer out of cache).
 *
 * Row windows: output rows [oy0, oy1) are computed from an input view holding at
 * least the rows in_rows() reports; input rows outside [0, h) are implicit zeros.
 * Depthwise arithmetic per output element does not depend on the window, so any
 * split reproduces the full result bit for bit. GEMM paths agree to float rounding:
 * OpenBLAS picks micro-kernels (and so summation order) by the GEMM's N.
 *
 * Counts: params = out_c*(in_c/groups)*kh*kw (+ out_c bias); macs = n*out_c*oh*ow*
 * (in_c/groups)*kh*kw; flops = 2*macs + one add per output element for the bias +
 * the fused activation's per-element cost (see cl__act_flops). */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "cleave/ops.h"
#include "misc_internal.h"

/* Column-buffer cap per chunk (bytes). Larger chunks amortise packing the weight
 * matrix; smaller ones keep the buffer in L2/L3. 4-8 MiB measured best here. */
#define CONV_COL_CAP ((size_t)4 << 20)
/* Depthwise planes + accumulator cap per chunk (bytes): L2-resident. */
#define DW_CAP ((size_t)256 << 10)

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
  CL_TRY(cl__misc_check_single(node, in, n_in));
  const cl_shape s = in[0];
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

static size_t dw_workspace_floats(const cl_conv_params *p, int ow, int rows);
static int dw_chunk_rows(const cl_conv_params *p, int ow, int out_rows, size_t budget);

static size_t conv_workspace(const cl_node *node, const cl_shape *in, int n_in, int out_rows) {
  const cl_conv_params *p = &node->p.conv;
  if (n_in < 1 || out_rows < 1) return 0;
  if (is_depthwise(p, in[0].c)) {
    int r = dw_chunk_rows(p, node->out.w, out_rows, DW_CAP);
    return dw_workspace_floats(p, node->out.w, r) * sizeof(float);
  }
  if (is_pointwise(p)) return 0;
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
          } else if (p->sw == 2) {
            for (int ox = lo; ox < hi; ox++) d[ox] = src[2 * ox];
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

/* Depthwise geometry for output rows [oy0, oy0 + R). The needed input window,
 * zero padding included, is split into sh*sw phase planes (polyphase): plane
 * (ry, rx) holds padded pixel (oy0*sh + i*sh + ry, j*sw + rx) at [i][j]. Tap
 * (ky, kx) of output (oy, ox) then reads plane ((ky*dh)%sh, (kx*dw)%sw) at
 * [oy - oy0 + (ky*dh)/sh][ox + (kx*dw)/sw]: a unit-stride shift. Computing all pw
 * columns of the accumulator (ow valid ones plus a few junk ones) turns every tap
 * into one long contiguous multiply-add over R*pw floats, free of bounds checks. */
typedef struct dw_geom {
  int prn;          /* padded input rows the taps reach */
  int ph, pw;       /* phase plane rows (without the spare row) and columns */
  size_t plane;     /* floats per plane: (ph + 1) * pw, the spare row absorbs the
                       junk columns' overrun past the last row */
  size_t acc;       /* floats in the accumulator: R * pw */
} dw_geom;

static dw_geom dw_geometry(const cl_conv_params *p, int ow, int rows) {
  int prn = (rows - 1) * p->sh + (p->kh - 1) * p->dh + 1; /* padded rows needed */
  int pwn = (ow - 1) * p->sw + (p->kw - 1) * p->dw + 1;   /* padded columns needed */
  dw_geom g;
  g.prn = prn;
  g.ph = (prn + p->sh - 1) / p->sh;
  g.pw = (pwn + p->sw - 1) / p->sw;
  g.plane = (size_t)(g.ph + 1) * (size_t)g.pw;
  g.acc = (size_t)rows * (size_t)g.pw;
  return g;
}

static size_t dw_workspace_floats(const cl_conv_params *p, int ow, int rows) {
  dw_geom g = dw_geometry(p, ow, rows);
  return (size_t)p->sh * (size_t)p->sw * g.plane + g.acc;
}

/* Output rows per depthwise chunk: the most (<= out_rows, >= 1) whose planes and
 * accumulator fit in @p budget bytes. The size grows linearly with the rows. */
static int dw_chunk_rows(const cl_conv_params *p, int ow, int out_rows, size_t budget) {
  int lo = 1, hi = out_rows;
  while (lo < hi) {
    int mid = lo + (hi - lo + 1) / 2;
    if (dw_workspace_floats(p, ow, mid) * sizeof(float) <= budget)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

/* Fill the sh*sw phase planes of input channel ci of image b for output rows from oy0. */
static void dw_planes(const cl_conv_params *p, const cl_tensor *in, int b, int ci, int oy0,
                      const dw_geom *g, float *planes) {
  const int h = in->shape.h, w = in->shape.w;
  for (int ry = 0; ry < p->sh; ry++) {
    for (int rx = 0; rx < p->sw; rx++) {
      float *pl = planes + (size_t)(ry * p->sw + rx) * g->plane;
      int lo, hi;
      valid_cols(g->pw, w, p->sw, p->pl, rx, &lo, &hi);
      for (int i = 0; i <= g->ph; i++) {
        float *d = pl + (size_t)i * (size_t)g->pw;
        int iy = oy0 * p->sh + i * p->sh + ry - p->pt;
        /* Rows the taps do not reach (incl. the spare row) may lie outside the input
         * view; they only feed junk columns, so keep them zero. */
        int needed = i * p->sh + ry < g->prn;
        if (!needed || iy < 0 || iy >= h || hi <= lo) {
          memset(d, 0, sizeof(float) * (size_t)g->pw);
          continue;
        }
        const float *src = cl_tensor_at(in, b, ci, iy, 0) + rx - p->pl;
        if (lo > 0) memset(d, 0, sizeof(float) * (size_t)lo);
        if (p->sw == 1) {
          memcpy(d + lo, src + lo, sizeof(float) * (size_t)(hi - lo));
        } else if (p->sw == 2) { /* constant stride: vectorises to permutes */
          for (int j = lo; j < hi; j++) d[j] = src[2 * j];
        } else {
          const int sw = p->sw;
          for (int j = lo; j < hi; j++) d[j] = src[(ptrdiff_t)j * sw];
        }
        if (hi < g->pw) memset(d + hi, 0, sizeof(float) * (size_t)(g->pw - hi));
      }
    }
  }
}

/* Accumulator block (floats): taps sweep a block that stays in L1 with its inputs. */
#define DW_BLOCK 2048

/* Depthwise (groups == in_c, channel multiplier out_c / in_c). Per input channel:
 * build the phase planes once, then per output channel sweep the taps over the
 * accumulator (fmaf: one rounding per tap, vectorised to FMA), add bias, copy the
 * ow valid columns of each row out and apply the activation. */
static void run_depthwise(const cl_node *node, const cl_tensor *in, cl_tensor *out, int oy0, int oy1,
                          float *ws) {
  const cl_conv_params *p = &node->p.conv;
  const int ow = out->shape.w, R = oy1 - oy0;
  const int mult = p->out_c / in->shape.c, taps = p->kh * p->kw;
  const float *bias = p->has_bias ? node->weights + (size_t)p->out_c * (size_t)taps : NULL;
  const dw_geom g = dw_geometry(p, ow, R);
  float *planes = ws, *acc = ws + (size_t)p->sh * (size_t)p->sw * g.plane;
  for (int b = 0; b < in->shape.n; b++) {
    for (int ci = 0; ci < in->shape.c; ci++) {
      dw_planes(p, in, b, ci, oy0, &g, planes);
      for (int m = 0; m < mult; m++) {
        const int oc = ci * mult + m;
        const float *wt = node->weights + (size_t)oc * (size_t)taps;
        const float b0 = bias ? bias[oc] : 0.0f;
        for (size_t t0 = 0; t0 < g.acc; t0 += DW_BLOCK) {
          const size_t t1 = t0 + DW_BLOCK < g.acc ? t0 + DW_BLOCK : g.acc;
          float *restrict a = acc;
          for (size_t t = t0; t < t1; t++) a[t] = b0;
          for (int ky = 0; ky < p->kh; ky++) {
            const int ry = (ky * p->dh) % p->sh, qy = (ky * p->dh) / p->sh;
            for (int kx = 0; kx < p->kw; kx++) {
              const int rx = (kx * p->dw) % p->sw, qx = (kx * p->dw) / p->sw;
              const float *restrict src = planes + (size_t)(ry * p->sw + rx) * g.plane +
                                          (size_t)qy * (size_t)g.pw + (size_t)qx;
              const float wv = wt[ky * p->kw + kx];
              for (size_t t = t0; t < t1; t++) a[t] = fmaf(wv, src[t], a[t]);
            }
          }
        }
        for (int r = 0; r < R; r++) {
          float *d = cl_tensor_at(out, b, oc, oy0 + r, 0);
          memcpy(d, acc + (size_t)r * (size_t)g.pw, sizeof(float) * (size_t)ow);
        }
        cl_act_apply(p->act, cl_tensor_at(out, b, oc, oy0, 0), (size_t)R * (size_t)ow);
      }
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

  size_t have = ctx && ctx->workspace ? ctx->workspace_bytes : 0;
  if (is_depthwise(p, s.c)) {
    size_t need = dw_workspace_floats(p, node->out.w, 1) * sizeof(float);
    if (have < need) {
      cl_log_error("conv '%s': workspace of %zu bytes, need at least %zu (see workspace())",
                   node->name, have, need);
      return CL_ERR_INVALID;
    }
    /* Same chunking as conv_workspace() when given that size; never more than we have. */
    int chunk = dw_chunk_rows(p, node->out.w, oy1 - oy0, have < DW_CAP ? have : DW_CAP);
    for (int r0 = oy0; r0 < oy1; r0 += chunk)
      run_depthwise(node, in, out, r0, r0 + chunk < oy1 ? r0 + chunk : oy1, ctx->workspace);
    return CL_OK;
  }
  if (is_pointwise(p)) {
    run_pointwise(node, in, out, oy0, oy1);
    return CL_OK;
  }
  size_t k = (size_t)(s.c / p->groups) * (size_t)p->kh * (size_t)p->kw;
  size_t row_bytes = k * (size_t)node->out.w * sizeof(float);
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
