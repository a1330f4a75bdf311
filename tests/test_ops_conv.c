/* Tests for the conv / fc kernels and fused activations (models/ops/conv.c, fc.c, act.c).
 *
 * Every fast path (im2col+sgemm, pointwise sgemm, depthwise direct loop, fc sgemv /
 * sgemm) is checked against a naive double-precision reference on random shapes,
 * and row-window execution (spatial splits with halo rows) is checked against the
 * full-tensor run. Counts are checked against torchvision's numbers. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "cl_test.h"
#include "cleave/graph.h"
#include "cleave/ops.h"

static uint64_t g_rng = 0x1234abcdULL;

static int rnd(int lo, int hi) { /* inclusive */
  return lo + (int)(cl_rng_next(&g_rng) % (uint64_t)(hi - lo + 1));
}

static double act_ref(cl_act a, double x) {
  switch (a) {
    case CL_ACT_RELU: return x > 0 ? x : 0;
    case CL_ACT_RELU6: return x < 0 ? 0 : (x > 6 ? 6 : x);
    case CL_ACT_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case CL_ACT_HSWISH: {
      double t = x + 3;
      t = t < 0 ? 0 : (t > 6 ? 6 : t);
      return x * t / 6;
    }
    default: return x;
  }
}

/* Naive direct convolution in double: 7 nested loops over (b, oc, oy, ox, ci, ky, kx). */
static void conv_ref(const cl_conv_params *p, cl_shape is, cl_shape os, const float *x, const float *w,
                     double *y) {
  int cpg = is.c / p->groups, ocpg = p->out_c / p->groups;
  const float *bias = p->has_bias ? w + (size_t)p->out_c * cpg * p->kh * p->kw : NULL;
  for (int b = 0; b < os.n; b++)
    for (int oc = 0; oc < os.c; oc++)
      for (int oy = 0; oy < os.h; oy++)
        for (int ox = 0; ox < os.w; ox++) {
          int g = oc / ocpg;
          double acc = bias ? bias[oc] : 0.0;
          for (int ci = 0; ci < cpg; ci++)
            for (int ky = 0; ky < p->kh; ky++)
              for (int kx = 0; kx < p->kw; kx++) {
                int iy = oy * p->sh - p->pt + ky * p->dh, ix = ox * p->sw - p->pl + kx * p->dw;
                if (iy < 0 || iy >= is.h || ix < 0 || ix >= is.w) continue;
                double xv = x[(((size_t)b * is.c + g * cpg + ci) * is.h + iy) * is.w + ix];
                double wv = w[(((size_t)oc * cpg + ci) * p->kh + ky) * p->kw + kx];
                acc += xv * wv;
              }
          y[(((size_t)b * os.c + oc) * os.h + oy) * os.w + ox] = act_ref(p->act, acc);
        }
}

/* NMSE and max error relative to max |ref|. */
static void compare(const float *y, const double *ref, size_t n, double *nmse, double *relmax) {
  double se = 0, sr = 0, maxe = 0, maxr = 0;
  for (size_t i = 0; i < n; i++) {
    double d = (double)y[i] - ref[i];
    se += d * d;
    sr += ref[i] * ref[i];
    if (fabs(d) > maxe || d != d) maxe = d != d ? INFINITY : fabs(d);
    if (fabs(ref[i]) > maxr) maxr = fabs(ref[i]);
  }
  *nmse = sr > 0 ? se / sr : se;
  *relmax = maxe / (maxr > 1e-30 ? maxr : 1.0);
}

typedef struct conv_case {
  cl_graph *g;
  const cl_node *node;
  const cl_op_impl *impl;
  cl_shape is;
  float *x; /* full input */
} conv_case;

/* Builds a graph input -> conv; returns the node id or a negative status. */
static int build_conv(cl_graph **g, cl_shape is, const cl_conv_params *cp) {
  CL_CHECK_OK(cl_graph_create("t", g));
  int in = cl_graph_add_input(*g, "x", is);
  CL_CHECK(in == 0);
  cl_op_params p;
  memset(&p, 0, sizeof p);
  p.conv = *cp;
  return cl_graph_add(*g, CL_OP_CONV, "conv", &in, 1, &p);
}

/* Compute output rows [oy0, oy1) into out with a fresh workspace of ws bytes
 * (ws == (size_t)-1: what workspace() asks for). */
static cl_status run_rows(const cl_node *nd, const cl_tensor *in, cl_tensor *out, int oy0, int oy1,
                          size_t ws) {
  const cl_op_impl *impl = cl_op_get(CL_OP_CONV);
  if (ws == (size_t)-1) ws = impl->workspace(nd, &in->shape, 1, oy1 - oy0);
  float *buf = ws ? malloc(ws) : NULL;
  cl_op_ctx ctx = {buf, ws, 1};
  const cl_tensor *ins[1] = {in};
  cl_status st = impl->run(nd, ins, 1, out, oy0, oy1, &ctx);
  free(buf);
  return st;
}

/* Silence stderr around calls whose error log is the expected outcome. */
static int g_saved_fd = -1;
static void quiet_begin(void) {
  fflush(stderr);
  g_saved_fd = dup(2);
  int null = open("/dev/null", O_WRONLY);
  if (g_saved_fd >= 0 && null >= 0) dup2(null, 2);
  if (null >= 0) close(null);
}
static void quiet_end(void) {
  fflush(stderr);
  if (g_saved_fd >= 0) {
    dup2(g_saved_fd, 2);
    close(g_saved_fd);
    g_saved_fd = -1;
  }
}

static cl_status quiet_run_rows(const cl_node *nd, const cl_tensor *in, cl_tensor *out, int oy0, int oy1,
                                size_t ws) {
  quiet_begin();
  cl_status st = run_rows(nd, in, out, oy0, oy1, ws);
  quiet_end();
  return st;
}

static int g_cases_checked = 0;
static int g_slices_checked = 0;
static int g_slices_bitexact = 0;
static double g_slice_maxrel = 0; /* max |slice - full| / max(1, max|full|) */

/* One random-or-given conv: full run vs reference, small-workspace run, row slices. */
static void check_conv(cl_shape is, cl_conv_params cp, const char *label) {
  cl_graph *g = NULL;
  int id = build_conv(&g, is, &cp);
  CL_CHECK(id == 1);
  if (id != 1) {
    fprintf(stderr, "  case %s: build failed\n", label);
    cl_graph_destroy(g);
    return;
  }
  CL_CHECK_OK(cl_graph_init_weights(g, 42));
  const cl_node *nd = cl_graph_node(g, id);
  cl_shape os = nd->out;
  size_t nin = (size_t)cl_shape_numel(is), nout = (size_t)cl_shape_numel(os);
  float *x = malloc(sizeof(float) * nin);
  for (size_t i = 0; i < nin; i++) x[i] = cl_rng_uniform(&g_rng, -1.0f, 1.0f);
  float *y = malloc(sizeof(float) * nout);
  double *ref = malloc(sizeof(double) * nout);
  conv_ref(&cp, is, os, x, nd->weights, ref);

  cl_tensor tin = {x, is, 0, is.h}, tout = {y, os, 0, os.h};
  for (size_t i = 0; i < nout; i++) y[i] = NAN;
  CL_CHECK_OK(run_rows(nd, &tin, &tout, 0, os.h, (size_t)-1));
  double nmse, relmax;
  compare(y, ref, nout, &nmse, &relmax);
  CL_CHECK(nmse < 1e-10);
  CL_CHECK(relmax < 1e-4);
  if (!(nmse < 1e-10) || !(relmax < 1e-4))
    fprintf(stderr,
            "  case %s: in %dx%dx%dx%d out_c %d k %dx%d s %dx%d p t%d l%d b%d r%d d %dx%d g %d bias %d act "
            "%d: nmse %.3g relmax %.3g\n",
            label, is.n, is.c, is.h, is.w, cp.out_c, cp.kh, cp.kw, cp.sh, cp.sw, cp.pt, cp.pl, cp.pb,
            cp.pr, cp.dh, cp.dw, cp.groups, cp.has_bias, (int)cp.act, nmse, relmax);

  double maxabs = 0;
  for (size_t i = 0; i < nout; i++) maxabs = fmax(maxabs, fabs((double)y[i]));
  /* Row windows change the GEMM's N, and OpenBLAS (SkylakeX kernels) then picks other
   * micro-kernels whose summation order differs: results agree to float rounding of a
   * K-term sum, not always bit for bit. Depthwise and fc are bit-exact by design. */
  const double tol = 1e-5 * fmax(1.0, maxabs);

  /* Minimal workspace (one output row per im2col chunk) must give the same answer. */
  size_t ws_full = cl_op_get(CL_OP_CONV)->workspace(nd, &is, 1, os.h);
  if (ws_full) {
    size_t one_row = cl_op_get(CL_OP_CONV)->workspace(nd, &is, 1, 1);
    float *y2 = malloc(sizeof(float) * nout);
    cl_tensor t2 = {y2, os, 0, os.h};
    CL_CHECK_OK(run_rows(nd, &tin, &t2, 0, os.h, one_row));
    double md = 0;
    for (size_t i = 0; i < nout; i++) md = fmax(md, fabs((double)y2[i] - y[i]));
    CL_CHECK(md <= tol);
    if (!(md <= tol)) fprintf(stderr, "  case %s: one-row workspace: max diff %.3g\n", label, md);
    /* Too small a workspace is an error, not a crash. */
    CL_CHECK(quiet_run_rows(nd, &tin, &t2, 0, os.h, one_row - 4) == CL_ERR_INVALID);
    free(y2);
  }

  /* Row windows: split [0, oh) into random slices (many of one row); each slice runs
   * from a copy of just the input rows in_rows() asks for (sometimes with extra rows),
   * into an output view that also holds more rows than computed. */
  for (int a = 0; a < os.h;) {
    int b = a + (rnd(0, 2) == 0 ? rnd(1, os.h) : 1);
    if (b > os.h) b = os.h;
    int iy0, iy1, gy0, gy1;
    nd = cl_graph_node(g, id);
    cl_op_get(CL_OP_CONV)->in_rows(nd, is.h, a, b, &iy0, &iy1);
    cl_graph_input_rows(g, id, 0, a, b, &gy0, &gy1);
    CL_CHECK(gy0 == iy0 && gy1 == iy1);
    CL_CHECK(0 <= iy0 && iy0 <= iy1 && iy1 <= is.h);
    int extra = rnd(0, 3) == 0;
    int v0 = extra ? (iy0 - 1 > 0 ? iy0 - 1 : 0) : iy0;
    int v1 = extra ? (iy1 + 2 < is.h ? iy1 + 2 : is.h) : iy1;
    int vr = v1 - v0;
    float *xs = malloc(sizeof(float) * ((size_t)is.n * is.c * (vr ? vr : 1) * is.w));
    cl_tensor ts = {xs, is, v0, vr};
    for (int n = 0; n < is.n; n++)
      for (int c = 0; c < is.c; c++)
        for (int yy = v0; yy < v1; yy++)
          memcpy(cl_tensor_at(&ts, n, c, yy, 0), x + (((size_t)n * is.c + c) * is.h + yy) * is.w,
                 sizeof(float) * (size_t)is.w);
    int o0 = a - rnd(0, 1), o1 = b + rnd(0, 1);
    if (o0 < 0) o0 = 0;
    if (o1 > os.h) o1 = os.h;
    float *ys = malloc(sizeof(float) * ((size_t)os.n * os.c * (o1 - o0) * os.w));
    cl_tensor to = {ys, os, o0, o1 - o0};
    CL_CHECK_OK(run_rows(nd, &ts, &to, a, b, (size_t)-1));
    int exact = 1;
    double md = 0;
    for (int n = 0; n < os.n; n++)
      for (int c = 0; c < os.c; c++)
        for (int yy = a; yy < b; yy++)
          for (int xx = 0; xx < os.w; xx++) {
            float u = *cl_tensor_at(&to, n, c, yy, xx), v = *cl_tensor_at(&tout, n, c, yy, xx);
            if (u != v) exact = 0;
            md = fmax(md, fabs((double)u - v));
          }
    CL_CHECK(md <= tol);
    if (cp.groups == is.c && cp.groups > 1) CL_CHECK(exact); /* depthwise: bit-exact by design */
    if (md / fmax(1.0, maxabs) > g_slice_maxrel) g_slice_maxrel = md / fmax(1.0, maxabs);
    if (!(md <= tol))
      fprintf(stderr, "  case %s: slice [%d,%d) from rows [%d,%d): max diff %.3g\n", label, a, b, v0, v1,
              md);
    /* One row short of what in_rows() asked for must be rejected. */
    if (iy1 > iy0 && v0 == iy0 && vr > 0) {
      cl_tensor short_view = {xs, is, v0, vr - 1};
      if (v1 == iy1) CL_CHECK(quiet_run_rows(nd, &short_view, &to, a, b, (size_t)-1) == CL_ERR_INVALID);
    }
    g_slices_checked++;
    g_slices_bitexact += exact;
    free(xs);
    free(ys);
    a = b;
  }
  g_cases_checked++;
  free(x);
  free(y);
  free(ref);
  cl_graph_destroy(g);
}

static cl_conv_params conv_p(int out_c, int k, int s, int pad, int groups, int bias, cl_act act) {
  cl_conv_params p = {out_c, k, k, s, s, pad, pad, pad, pad, 1, 1, groups, bias, act};
  return p;
}

static void test_random_convs(void) {
  int kinds[4] = {0};
  for (int t = 0; t < 260; t++) {
    cl_shape is;
    cl_conv_params p;
    memset(&p, 0, sizeof p);
    int kind = t % 4; /* 0 dense, 1 groups=2..3, 2 depthwise, 3 pointwise 1x1 s1 */
    int G = kind == 1 ? rnd(2, 3) : 1;
    is.n = rnd(1, 2);
    if (kind == 2) {
      G = rnd(2, 8);
      is.c = G;
      p.out_c = G * rnd(1, 2);
    } else {
      is.c = G * rnd(1, 6);
      p.out_c = G * rnd(1, 7);
    }
    p.groups = G;
    if (kind == 3) {
      p.kh = p.kw = p.sh = p.sw = p.dh = p.dw = 1;
    } else {
      p.kh = rnd(1, 5);
      p.kw = rnd(1, 5);
      p.sh = rnd(1, 3);
      p.sw = rnd(1, 3);
      p.dh = rnd(1, 2);
      p.dw = rnd(1, 2);
      p.pt = rnd(0, 3);
      p.pb = rnd(0, 3);
      p.pl = rnd(0, 3);
      p.pr = rnd(0, 3);
    }
    p.has_bias = rnd(0, 1);
    p.act = (cl_act)rnd(0, 4);
    is.h = rnd(1, 19);
    is.w = rnd(1, 19);
    /* Make the kernel fit. */
    while (is.h + p.pt + p.pb - p.dh * (p.kh - 1) - 1 < 0) is.h++;
    while (is.w + p.pl + p.pr - p.dw * (p.kw - 1) - 1 < 0) is.w++;
    char label[32];
    snprintf(label, sizeof label, "random#%d", t);
    check_conv(is, p, label);
    kinds[kind]++;
  }
  CL_CHECK(kinds[0] > 50 && kinds[2] > 50);
}

static void test_fixed_convs(void) {
  /* Larger channel counts so sgemm runs its blocked kernels. */
  check_conv((cl_shape){1, 64, 14, 14}, conv_p(96, 3, 1, 1, 1, 1, CL_ACT_RELU), "3x3-64-96");
  check_conv((cl_shape){2, 48, 9, 11}, conv_p(64, 1, 1, 0, 1, 0, CL_ACT_NONE), "1x1-48-64");
  check_conv((cl_shape){1, 40, 13, 13}, conv_p(80, 1, 2, 0, 1, 1, CL_ACT_NONE), "1x1-s2");
  check_conv((cl_shape){1, 3, 37, 41}, conv_p(16, 7, 2, 3, 1, 0, CL_ACT_RELU), "7x7-s2-stem");
  check_conv((cl_shape){1, 32, 17, 17}, conv_p(32, 3, 2, 1, 32, 1, CL_ACT_RELU6), "dw-s2");
  check_conv((cl_shape){1, 24, 15, 15}, conv_p(24, 5, 1, 2, 24, 0, CL_ACT_HSWISH), "dw-5x5");
  check_conv((cl_shape){1, 64, 12, 12}, conv_p(64, 3, 1, 1, 4, 1, CL_ACT_SIGMOID), "grouped-4");
  /* Dilated depthwise and dense (DeepLab-style). */
  cl_conv_params d = conv_p(16, 3, 1, 2, 16, 1, CL_ACT_NONE);
  d.dh = d.dw = 2;
  check_conv((cl_shape){1, 16, 11, 10}, d, "dw-dil2");
  d.groups = 1;
  d.out_c = 20;
  check_conv((cl_shape){1, 16, 11, 10}, d, "dense-dil2");
  /* Input a single row; padding larger than the kernel reach (all-padding rows). */
  cl_conv_params q = conv_p(5, 1, 1, 0, 1, 1, CL_ACT_RELU);
  q.pt = 3;
  q.pb = 2;
  check_conv((cl_shape){1, 3, 1, 6}, q, "1row-bigpad");
}

static void test_counts(void) {
  cl_graph *g = NULL;
  /* resnet18 conv1: 3->64, 7x7, s2, p3, no bias on 224x224. */
  cl_conv_params p = conv_p(64, 7, 2, 3, 1, 0, CL_ACT_NONE);
  int id = build_conv(&g, (cl_shape){1, 3, 224, 224}, &p);
  CL_CHECK_INT_EQ(id, 1);
  const cl_node *nd = cl_graph_node(g, id);
  CL_CHECK_INT_EQ(nd->n_params, 9408);
  CL_CHECK_INT_EQ(nd->macs, 118013952);
  CL_CHECK_INT_EQ(nd->flops, 2 * 118013952LL);
  CL_CHECK_INT_EQ(nd->n_weights, 9408);
  CL_CHECK_INT_EQ(nd->out.c, 64);
  CL_CHECK_INT_EQ(nd->out.h, 112);
  CL_CHECK_INT_EQ(nd->out.w, 112);
  int iy0, iy1;
  cl_op_get(CL_OP_CONV)->in_rows(nd, 224, 0, 1, &iy0, &iy1);
  CL_CHECK_INT_EQ(iy0, 0);
  CL_CHECK_INT_EQ(iy1, 4); /* rows -3..3 -> [0, 4) */
  cl_op_get(CL_OP_CONV)->in_rows(nd, 224, 10, 20, &iy0, &iy1);
  CL_CHECK_INT_EQ(iy0, 17);
  CL_CHECK_INT_EQ(iy1, 42);
  cl_op_get(CL_OP_CONV)->in_rows(nd, 224, 111, 112, &iy0, &iy1);
  CL_CHECK_INT_EQ(iy0, 219);
  CL_CHECK_INT_EQ(iy1, 224);
  cl_graph_destroy(g);

  /* vgg16 features.0: 3->64 3x3 p1 with bias, relu: 1792 params, 86,704,128 MACs;
   * flops = 2*macs + bias add + relu per output. */
  p = conv_p(64, 3, 1, 1, 1, 1, CL_ACT_RELU);
  id = build_conv(&g, (cl_shape){1, 3, 224, 224}, &p);
  nd = cl_graph_node(g, id);
  CL_CHECK_INT_EQ(nd->n_params, 1792);
  CL_CHECK_INT_EQ(nd->macs, 86704128);
  CL_CHECK_INT_EQ(nd->flops, 2 * 86704128LL + 2 * 64 * 224 * 224);
  cl_graph_destroy(g);

  /* mobilenet_v2 features.1.conv.0.0: depthwise 32ch 3x3 on 112x112, batch 2. */
  p = conv_p(32, 3, 1, 1, 32, 0, CL_ACT_RELU6);
  id = build_conv(&g, (cl_shape){2, 32, 112, 112}, &p);
  nd = cl_graph_node(g, id);
  CL_CHECK_INT_EQ(nd->n_params, 288);
  CL_CHECK_INT_EQ(nd->macs, 2LL * 32 * 112 * 112 * 9);
  CL_CHECK_INT_EQ(nd->out.n, 2);
  cl_graph_destroy(g);

  /* PyTorch floor rule with stride 2, even input, dilation 2: (10+2-4-1)/2+1 = 4. */
  p = conv_p(8, 3, 2, 1, 1, 0, CL_ACT_NONE);
  p.dh = p.dw = 2;
  id = build_conv(&g, (cl_shape){1, 4, 10, 10}, &p);
  CL_CHECK_INT_EQ(cl_graph_node(g, id)->out.h, 4);
  cl_graph_destroy(g);

  /* vgg16 classifier.0: 512x7x7 -> 4096 with bias: 102,764,544 params. */
  CL_CHECK_OK(cl_graph_create("fc", &g));
  int in = cl_graph_add_input(g, "x", (cl_shape){1, 512, 7, 7});
  cl_op_params fp;
  memset(&fp, 0, sizeof fp);
  fp.fc = (cl_fc_params){4096, 1, CL_ACT_RELU};
  id = cl_graph_add(g, CL_OP_FC, "fc", &in, 1, &fp);
  nd = cl_graph_node(g, id);
  CL_CHECK_INT_EQ(nd->n_params, 102764544);
  CL_CHECK_INT_EQ(nd->macs, 25088LL * 4096);
  CL_CHECK_INT_EQ(nd->flops, 2 * 25088LL * 4096 + 2 * 4096);
  CL_CHECK_INT_EQ(nd->out.c, 4096);
  CL_CHECK_INT_EQ(nd->out.h, 1);
  CL_CHECK_INT_EQ(nd->out.w, 1);
  cl_graph_destroy(g);
}

static void test_errors(void) {
  cl_graph *g = NULL;
  fprintf(stderr, "(the following errors are expected)\n");
  cl_conv_params p = conv_p(6, 3, 1, 1, 4, 0, CL_ACT_NONE); /* 4 does not divide in_c 6 */
  CL_CHECK(build_conv(&g, (cl_shape){1, 6, 8, 8}, &p) == CL_ERR_INVALID);
  cl_graph_destroy(g);
  p = conv_p(6, 3, 1, 1, 3, 0, CL_ACT_NONE);
  p.out_c = 4; /* 3 does not divide out_c 4 */
  CL_CHECK(build_conv(&g, (cl_shape){1, 6, 8, 8}, &p) == CL_ERR_INVALID);
  cl_graph_destroy(g);
  p = conv_p(6, 3, 0, 1, 1, 0, CL_ACT_NONE); /* stride 0 */
  CL_CHECK(build_conv(&g, (cl_shape){1, 6, 8, 8}, &p) == CL_ERR_INVALID);
  cl_graph_destroy(g);
  p = conv_p(6, 0, 1, 1, 1, 0, CL_ACT_NONE); /* kernel 0 */
  CL_CHECK(build_conv(&g, (cl_shape){1, 6, 8, 8}, &p) == CL_ERR_INVALID);
  cl_graph_destroy(g);
  p = conv_p(6, 3, 1, 0, 1, 0, CL_ACT_NONE);
  p.dh = 0; /* dilation 0 */
  CL_CHECK(build_conv(&g, (cl_shape){1, 6, 8, 8}, &p) == CL_ERR_INVALID);
  cl_graph_destroy(g);
  p = conv_p(6, 5, 1, 0, 1, 0, CL_ACT_NONE); /* 5x5 kernel on 4x4 unpadded input */
  CL_CHECK(build_conv(&g, (cl_shape){1, 6, 4, 4}, &p) == CL_ERR_INVALID);
  cl_graph_destroy(g);
  p = conv_p(6, 3, 1, 1, 1, 0, CL_ACT_NONE);
  p.pl = -1;
  CL_CHECK(build_conv(&g, (cl_shape){1, 6, 8, 8}, &p) == CL_ERR_INVALID);
  cl_graph_destroy(g);
  p = conv_p(0, 3, 1, 1, 1, 0, CL_ACT_NONE); /* out_c 0 */
  CL_CHECK(build_conv(&g, (cl_shape){1, 6, 8, 8}, &p) == CL_ERR_INVALID);
  cl_graph_destroy(g);
  p = conv_p(6, 3, 1, 1, 1, 0, (cl_act)17);
  CL_CHECK(build_conv(&g, (cl_shape){1, 6, 8, 8}, &p) == CL_ERR_INVALID);
  cl_graph_destroy(g);

  /* Run-time errors: no weights, wrong output view, input view missing rows. */
  p = conv_p(4, 3, 1, 1, 1, 0, CL_ACT_NONE);
  int id = build_conv(&g, (cl_shape){1, 2, 6, 6}, &p);
  const cl_node *nd = cl_graph_node(g, id);
  float x[72] = {0}, y[144];
  cl_tensor tin = {x, {1, 2, 6, 6}, 0, 6}, tout = {y, nd->out, 0, 6};
  CL_CHECK(run_rows(nd, &tin, &tout, 0, 6, (size_t)-1) == CL_ERR_INVALID); /* no weights */
  CL_CHECK_OK(cl_graph_init_weights(g, 1));
  nd = cl_graph_node(g, id);
  CL_CHECK_OK(run_rows(nd, &tin, &tout, 0, 6, (size_t)-1));
  cl_tensor part = {y, nd->out, 2, 3};
  CL_CHECK(run_rows(nd, &tin, &part, 0, 6, (size_t)-1) == CL_ERR_INVALID);
  CL_CHECK_OK(run_rows(nd, &tin, &part, 2, 5, (size_t)-1));
  cl_tensor in_part = {x, {1, 2, 6, 6}, 2, 3}; /* rows 2..4, rows 1..6 needed for out 2..5 */
  CL_CHECK(run_rows(nd, &in_part, &part, 2, 5, (size_t)-1) == CL_ERR_INVALID);
  CL_CHECK(run_rows(nd, &tin, &tout, 3, 7, (size_t)-1) == CL_ERR_INVALID);
  cl_tensor wrong = {x, {1, 3, 6, 6}, 0, 6};
  CL_CHECK(run_rows(nd, &wrong, &tout, 0, 6, (size_t)-1) == CL_ERR_INVALID);
  cl_graph_destroy(g);
  fprintf(stderr, "(end of expected errors)\n");
}

static void test_init_weights(void) {
  cl_graph *g = NULL, *g2 = NULL;
  cl_conv_params p = conv_p(64, 3, 1, 1, 1, 1, CL_ACT_NONE);
  int id = build_conv(&g, (cl_shape){1, 32, 8, 8}, &p);
  build_conv(&g2, (cl_shape){1, 32, 8, 8}, &p);
  CL_CHECK_OK(cl_graph_init_weights(g, 7));
  CL_CHECK_OK(cl_graph_init_weights(g2, 7));
  const cl_node *a = cl_graph_node(g, id), *b = cl_graph_node(g2, id);
  CL_CHECK(memcmp(a->weights, b->weights, sizeof(float) * a->n_weights) == 0);
  size_t nw = 64 * 32 * 9;
  double wb = sqrt(6.0 / 288), bb = 1.0 / sqrt(288.0), s2 = 0, s1 = 0;
  int inrange = 1;
  for (size_t i = 0; i < nw; i++) {
    double v = a->weights[i];
    if (fabs(v) > wb) inrange = 0;
    s1 += v;
    s2 += v * v;
  }
  for (size_t i = nw; i < a->n_weights; i++)
    if (fabs(a->weights[i]) > bb) inrange = 0;
  CL_CHECK(inrange);
  /* U(-b, b) has variance b^2/3 = 2/fan_in (He). */
  CL_CHECK_NEAR(s2 / nw, 2.0 / 288, 0.05 * 2.0 / 288);
  CL_CHECK_NEAR(s1 / nw, 0.0, 0.01);
  CL_CHECK_OK(cl_graph_init_weights(g2, 8));
  b = cl_graph_node(g2, id);
  CL_CHECK(memcmp(a->weights, b->weights, sizeof(float) * a->n_weights) != 0);
  cl_graph_destroy(g);
  cl_graph_destroy(g2);
}

static void check_fc(cl_shape is, int out_f, int bias, cl_act act) {
  cl_graph *g = NULL;
  CL_CHECK_OK(cl_graph_create("fc", &g));
  int in = cl_graph_add_input(g, "x", is);
  cl_op_params fp;
  memset(&fp, 0, sizeof fp);
  fp.fc = (cl_fc_params){out_f, bias, act};
  int id = cl_graph_add(g, CL_OP_FC, "fc", &in, 1, &fp);
  CL_CHECK_INT_EQ(id, 1);
  CL_CHECK_OK(cl_graph_init_weights(g, 3));
  const cl_node *nd = cl_graph_node(g, id);
  size_t K = (size_t)is.c * is.h * is.w, nin = (size_t)cl_shape_numel(is), nout = (size_t)is.n * out_f;
  float *x = malloc(sizeof(float) * nin), *y = malloc(sizeof(float) * nout);
  double *ref = malloc(sizeof(double) * nout);
  for (size_t i = 0; i < nin; i++) x[i] = cl_rng_uniform(&g_rng, -1, 1);
  for (int b = 0; b < is.n; b++)
    for (int o = 0; o < out_f; o++) {
      double acc = bias ? nd->weights[K * out_f + o] : 0;
      for (size_t i = 0; i < K; i++) acc += (double)nd->weights[o * K + i] * x[b * K + i];
      ref[(size_t)b * out_f + o] = act_ref(act, acc);
    }
  cl_tensor tin = {x, is, 0, is.h}, tout = {y, nd->out, 0, 1};
  const cl_tensor *ins[1] = {&tin};
  cl_op_ctx ctx = {NULL, 0, 1};
  const cl_op_impl *impl = cl_op_get(CL_OP_FC);
  CL_CHECK(impl->workspace == NULL || impl->workspace(nd, &is, 1, 1) == 0);
  CL_CHECK_OK(impl->run(nd, ins, 1, &tout, 0, 1, &ctx));
  double nmse, relmax;
  compare(y, ref, nout, &nmse, &relmax);
  CL_CHECK(nmse < 1e-10);
  CL_CHECK(relmax < 1e-4);
  if (is.h > 1) { /* a partial view of a non-spatial op's input is rejected */
    cl_tensor part = {x, is, 0, is.h - 1};
    const cl_tensor *pins[1] = {&part};
    quiet_begin();
    cl_status st = impl->run(nd, pins, 1, &tout, 0, 1, &ctx);
    quiet_end();
    CL_CHECK(st == CL_ERR_INVALID);
  }
  free(x);
  free(y);
  free(ref);
  cl_graph_destroy(g);
}

static void test_fc(void) {
  check_fc((cl_shape){1, 512, 2, 2}, 100, 1, CL_ACT_RELU);
  check_fc((cl_shape){3, 37, 1, 1}, 19, 0, CL_ACT_NONE);
  check_fc((cl_shape){2, 5, 3, 3}, 64, 1, CL_ACT_SIGMOID);
  check_fc((cl_shape){4, 1280, 1, 1}, 1000, 1, CL_ACT_HSWISH);
  check_fc((cl_shape){1, 7, 1, 1}, 1, 1, CL_ACT_RELU6);
  for (int t = 0; t < 20; t++)
    check_fc((cl_shape){rnd(1, 3), rnd(1, 30), rnd(1, 4), rnd(1, 4)}, rnd(1, 50), rnd(0, 1),
             (cl_act)rnd(0, 4));
  cl_graph *g = NULL;
  CL_CHECK_OK(cl_graph_create("fc", &g));
  int in = cl_graph_add_input(g, "x", (cl_shape){1, 8, 1, 1});
  cl_op_params fp;
  memset(&fp, 0, sizeof fp);
  fp.fc = (cl_fc_params){0, 1, CL_ACT_NONE};
  CL_CHECK(cl_graph_add(g, CL_OP_FC, "bad", &in, 1, &fp) == CL_ERR_INVALID);
  cl_graph_destroy(g);
}

static void test_act(void) {
  float v[] = {-10.0f, -3.5f, -3.0f, -1.0f, -0.0f, 0.0f, 0.25f, 2.9f, 3.0f, 5.5f, 6.0f, 7.0f, 100.0f};
  size_t n = sizeof v / sizeof v[0];
  for (int a = 0; a <= 4; a++) {
    float y[sizeof v / sizeof v[0]];
    memcpy(y, v, sizeof v);
    cl_act_apply((cl_act)a, y, n);
    for (size_t i = 0; i < n; i++) CL_CHECK_NEAR(y[i], act_ref((cl_act)a, v[i]), 1e-6 * (1 + fabs(v[i])));
  }
  /* Odd lengths exercise the vector tails. */
  float big[1003];
  for (int i = 0; i < 1003; i++) big[i] = (float)(i - 500) * 0.02f;
  cl_act_apply(CL_ACT_HSWISH, big, 1003);
  CL_CHECK_NEAR(big[1002], 10.04, 1e-4);
  CL_CHECK_NEAR(big[500], 0.0, 0.0);
  CL_CHECK_NEAR(big[450], -1.0 * 2.0 / 6.0, 1e-6);
}

/* Same OpenBLAS kernels as the cleave binary (see apps/cleave.c). */
int main(int argc, char **argv) {
  (void)argc;
  cl_blas_fix_env(argv);
  cl_blas_set_threads(1);
  test_counts();
  test_errors();
  test_init_weights();
  test_act();
  test_fc();
  test_fixed_convs();
  test_random_convs();
  printf("conv cases %d, row slices %d (%d bit-exact, max rel diff %.2g)\n", g_cases_checked,
         g_slices_checked, g_slices_bitexact, g_slice_maxrel);
  return cl_test_finish("test_ops_conv");
}
