/* Pre-activation 1x1 convolution on nChw16c maps (kern_preact1x1.h).
 *
 * DenseNet spends ~10% of a 1-thread inference in its 62 batch-norm + ReLU steps
 * (docs/onnx.md): each reads the whole concatenated map (up to 1024 channels) from L3
 * or memory at ~24 GB/s and writes it again, only for the next 1x1 convolution to read
 * it back. Folding the batch norm into the convolution's weights is impossible (the
 * ReLU sits between them), and oneDNN has no input-side pre-op. This kernel does both
 * in one pass: per tile of positions it applies the batch norm and ReLU to the input
 * into a small buffer that stays in L2, prefetches the next tile's input while it
 * multiplies, and runs a register-blocked GEMM on the buffer (14 positions x 32 output
 * channels = 28 AVX-512 accumulators, the shape of oneDNN's jit_1x1 kernel).
 *
 * Exact up to summation order (fp32 FMAs over the input channels in order); checked
 * against a naive loop by tests/test_preact1x1.c. */
#include "kern_preact1x1.h"

#include <string.h>

#if defined(__AVX512F__)
#include <immintrin.h>

int cl_preact1x1_available(void) {
  return 1;
}

/* Positions per tile: the transformed tile (cin x PT floats) within ~128 KB. */
static int tile_pos(const cl_preact1x1 *p) {
  int pt = 32768 / p->cin / CL_PA_NP * CL_PA_NP;
  if (pt < CL_PA_NP) pt = CL_PA_NP;
  if (pt > 16 * CL_PA_NP) pt = 16 * CL_PA_NP;
  return pt;
}

size_t cl_preact1x1_scratch(const cl_preact1x1 *p) {
  return (size_t)p->cin * (size_t)tile_pos(p);
}

int cl_preact1x1_tile(const cl_preact1x1 *p) {
  return tile_pos(p);
}

size_t cl_preact1x1_scratch_stride(const cl_preact1x1 *p) {
  return cl_apart_bytes(cl_preact1x1_scratch(p) * sizeof(float)) / sizeof(float);
}

void cl_preact1x1_pack(const cl_preact1x1 *p, const float *w, float *wp) {
  for (int op = 0; op < p->cout / 32; op++)
    for (int ic = 0; ic < p->cin; ic++)
      for (int j = 0; j < 32; j++)
        wp[((size_t)op * (size_t)p->cin + (size_t)ic) * 32 + (size_t)j] =
            w[(size_t)(op * 32 + j) * (size_t)p->cin + (size_t)ic];
}

/* n positions (1..CL_PA_NP, a constant after inlining) x 32 output channels over all
 * input channels. z: transformed input, zs floats between channel blocks, 16 floats per
 * position; w: [cin][32]; y0 / y1: the two output channel blocks at the first position
 * (read first under a residual sum). */
static inline __attribute__((always_inline)) void block(const int n, const float *z, size_t zs, int cin,
                                                        const float *w, const float *b, float *y0, float *y1,
                                                        int sum, int relu) {
  __m512 a0[CL_PA_NP], a1[CL_PA_NP];
  __m512 b0 = b ? _mm512_loadu_ps(b) : _mm512_setzero_ps(),
         b1 = b ? _mm512_loadu_ps(b + 16) : _mm512_setzero_ps();
  for (int q = 0; q < n; q++) a0[q] = b0, a1[q] = b1;
  if (sum) /* residual: the output's current values join the sum */
    for (int q = 0; q < n; q++)
      a0[q] = _mm512_add_ps(a0[q], _mm512_loadu_ps(y0 + 16 * q)),
      a1[q] = _mm512_add_ps(a1[q], _mm512_loadu_ps(y1 + 16 * q));
  for (int cb = 0; cb < cin / 16; cb++) {
    const float *zb = z + (size_t)cb * zs, *wb = w + (size_t)cb * 512;
    for (int i = 0; i < 16; i++) {
      __m512 w0 = _mm512_loadu_ps(wb + 32 * i), w1 = _mm512_loadu_ps(wb + 32 * i + 16);
      for (int q = 0; q < n; q++) {
        __m512 v = _mm512_set1_ps(zb[16 * q + i]);
        a0[q] = _mm512_fmadd_ps(w0, v, a0[q]);
        a1[q] = _mm512_fmadd_ps(w1, v, a1[q]);
      }
    }
  }
  __m512 zero = _mm512_setzero_ps();
  for (int q = 0; q < n; q++) {
    if (relu) a0[q] = _mm512_max_ps(a0[q], zero), a1[q] = _mm512_max_ps(a1[q], zero);
    _mm512_storeu_ps(y0 + 16 * q, a0[q]);
    _mm512_storeu_ps(y1 + 16 * q, a1[q]);
  }
}

#define BLOCK_CASE(N)                              \
  case N:                                          \
    block(N, z, zs, cin, w, b, y0, y1, sum, relu); \
    break;

/* clang-format off */
static void block_n(int n, const float *z, size_t zs, int cin, const float *w, const float *b, float *y0,
                    float *y1, int sum, int relu) {
  switch (n) {
    BLOCK_CASE(1) BLOCK_CASE(2) BLOCK_CASE(3) BLOCK_CASE(4) BLOCK_CASE(5) BLOCK_CASE(6) BLOCK_CASE(7)
    BLOCK_CASE(8) BLOCK_CASE(9) BLOCK_CASE(10) BLOCK_CASE(11) BLOCK_CASE(12) BLOCK_CASE(13)
    default: block(CL_PA_NP, z, zs, cin, w, b, y0, y1, sum, relu); break;
  }
}
/* clang-format on */

/* z[cb][q][16] = relu?(x[cb][q0 + q][16] * s + t) for q < n. */
static void transform(const cl_preact1x1 *p, const float *x, size_t xcs, int q0, int n, float *z, size_t zs) {
  __m512 zero = _mm512_setzero_ps();
  for (int cb = 0; cb < p->cin / 16; cb++) {
    __m512 s = _mm512_loadu_ps(p->s + 16 * cb), t = _mm512_loadu_ps(p->t + 16 * cb);
    const float *xb = x + (size_t)cb * xcs + (size_t)q0 * 16;
    float *zb = z + (size_t)cb * zs;
    for (int q = 0; q < n; q++) {
      __m512 v = _mm512_fmadd_ps(_mm512_loadu_ps(xb + 16 * q), s, t);
      if (p->pre_relu) v = _mm512_max_ps(v, zero);
      _mm512_storeu_ps(zb + 16 * q, v);
    }
  }
}

/* Bring the input of positions [q0, q0 + n) towards L2 (the next tile, while this one
 * is multiplied): one line per position and channel block. */
static void prefetch_tile(const cl_preact1x1 *p, const float *x, size_t xcs, int q0, int n) {
  for (int cb = 0; cb < p->cin / 16; cb++) {
    const char *xb = (const char *)(x + (size_t)cb * xcs + (size_t)q0 * 16);
    for (int q = 0; q < n; q++) _mm_prefetch(xb + 64 * q, _MM_HINT_T1);
  }
}

void cl_preact1x1_run(const cl_preact1x1 *p, const float *x, size_t xcs, float *y, size_t ycs, int p0, int p1,
                      int op0, int op1, float *scratch) {
  int pt = tile_pos(p), cin = p->cin, relu = p->post_relu;
  size_t zs = (size_t)pt * 16;
  if (op1 <= op0) return;
  for (int q0 = p0; q0 < p1; q0 += pt) {
    int nt = p1 - q0 < pt ? p1 - q0 : pt;
    const float *zt = scratch; /* the tile: transformed, or the input itself (no batch norm) */
    if (p->s)
      transform(p, x, xcs, q0, nt, scratch, zs);
    else
      zt = x + (size_t)q0 * 16;
    size_t zst = p->s ? zs : xcs;
    int next = q0 + pt, nn = p1 - next < pt ? p1 - next : pt;
    int chunks = (nt + CL_PA_NP - 1) / CL_PA_NP, pf_done = 0;
    /* Loop order: with up to 384 KB of weights all of them stay in L2 while the block of
     * 14 positions (in L1) meets every output pair; with more (DenseNet's transitions:
     * 2 MB), each output pair's weights stay in L2 while they meet the whole tile. */
    int pairs = op1 - op0, w_outer = (size_t)cin * (size_t)p->cout * 4 > 384 * 1024;
    for (int i = 0; i < chunks * pairs; i++) {
      int ci = w_outer ? i % chunks : i / pairs, op = op0 + (w_outer ? i / chunks : i % pairs);
      int c = ci * CL_PA_NP, n = nt - c < CL_PA_NP ? nt - c : CL_PA_NP;
      /* spread the next tile's prefetches over this tile's blocks */
      if (nn > 0) {
        int upto = (int)((long long)nn * (i + 1) / (chunks * pairs));
        if (upto > pf_done) prefetch_tile(p, x, xcs, next + pf_done, upto - pf_done);
        pf_done = upto;
      }
      const float *z = zt + (size_t)c * 16;
      const float *w = p->wp + (size_t)op * (size_t)cin * 32;
      const float *b = p->bias ? p->bias + 32 * op : NULL;
      float *y0 = y + (size_t)(2 * op) * ycs + (size_t)(q0 + c) * 16, *y1 = y0 + ycs;
      block_n(n, z, zst, cin, w, b, y0, y1, p->sum, relu);
    }
  }
}

#else /* no AVX-512: not built (the executor keeps batch norm and convolution apart) */

int cl_preact1x1_available(void) {
  return 0;
}
size_t cl_preact1x1_scratch(const cl_preact1x1 *p) {
  return (size_t)p->cin;
}
int cl_preact1x1_tile(const cl_preact1x1 *p) {
  return p->npos > 0 ? p->npos : 1;
}
size_t cl_preact1x1_scratch_stride(const cl_preact1x1 *p) {
  return cl_apart_bytes(cl_preact1x1_scratch(p) * sizeof(float)) / sizeof(float);
}
void cl_preact1x1_pack(const cl_preact1x1 *p, const float *w, float *wp) {
  (void)p, (void)w, (void)wp;
}
void cl_preact1x1_run(const cl_preact1x1 *p, const float *x, size_t xcs, float *y, size_t ycs, int p0, int p1,
                      int op0, int op1, float *scratch) {
  (void)p, (void)x, (void)xcs, (void)y, (void)ycs, (void)p0, (void)p1, (void)op0, (void)op1, (void)scratch;
}
#endif
