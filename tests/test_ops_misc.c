/* Kernels other than conv/fc, each against a naive double-precision reference on
 * random shapes (odd sizes, padding, strides, ceil mode, count_include_pad,
 * broadcast mul, concat of many inputs), plus row-window checks: every spatial op
 * recomputed in random row slices (incl. 1-row) from input views holding only the
 * rows cl_graph_input_rows() asks for must reproduce the full run bit for bit.
 * Also shape inference of known layers and the errors of bad graphs. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cl_test.h"
#include "cleave/graph.h"
#include "cleave/ops.h"

#define MAXIN 64

static uint64_t g_rng = 0x5eed0001u;
static int rnd(int lo, int hi) { return lo + (int)(cl_rng_next(&g_rng) % (uint64_t)(hi - lo + 1)); }
static float rndf(float lo, float hi) { return cl_rng_uniform(&g_rng, lo, hi); }

static cl_shape shp(int n, int c, int h, int w) { return (cl_shape){n, c, h, w}; }

/* ---------------------------------------------------------------- fixture */

typedef struct fixture {
  cl_graph *g;
  int id; /* node under test */
  int n_in;
  int status; /* cl_graph_add result for the node under test */
  cl_shape is[MAXIN];
  float *in[MAXIN]; /* full input tensors */
  float *out;       /* full output of one run over all rows */
} fixture;

static size_t numel(cl_shape s) { return (size_t)cl_shape_numel(s); }

/* Build input nodes of the given shapes and the node under test. */
static int fx_build(fixture *f, cl_op op, const cl_op_params *p, const cl_shape *shapes, int n_in) {
  memset(f, 0, sizeof *f);
  CL_ASSERT(n_in <= MAXIN);
  CL_ASSERT(cl_graph_create("t", &f->g) == CL_OK);
  int ids[MAXIN];
  for (int i = 0; i < n_in; i++) {
    char name[32];
    snprintf(name, sizeof name, "in%d", i);
    ids[i] = cl_graph_add_input(f->g, name, shapes[i]);
    CL_ASSERT(ids[i] >= 0);
    f->is[i] = shapes[i];
  }
  f->n_in = n_in;
  f->status = cl_graph_add(f->g, op, "node", ids, n_in, p);
  f->id = f->status;
  return f->status;
}

static const cl_node *fx_node(const fixture *f) { return cl_graph_node(f->g, f->id); }

static void fx_fill(fixture *f) {
  for (int i = 0; i < f->n_in; i++) {
    size_t m = numel(f->is[i]);
    f->in[i] = malloc(sizeof(float) * m);
    for (size_t k = 0; k < m; k++) f->in[i][k] = rndf(-2.0f, 2.0f);
  }
  CL_ASSERT(cl_graph_init_weights(f->g, 42) == CL_OK);
}

static void fx_free(fixture *f) {
  for (int i = 0; i < f->n_in; i++) free(f->in[i]);
  free(f->out);
  cl_graph_destroy(f->g);
  memset(f, 0, sizeof *f);
}

static cl_status run_node(const cl_node *nd, const cl_tensor *const *in, int n_in, cl_tensor *out,
                          int oy0, int oy1) {
  const cl_op_impl *impl = cl_op_get(nd->op);
  cl_op_ctx ctx = {NULL, 0, 1};
  cl_shape shapes[MAXIN];
  for (int i = 0; i < n_in; i++) shapes[i] = in[i]->shape;
  if (impl->workspace) {
    ctx.workspace_bytes = impl->workspace(nd, shapes, n_in, oy1 - oy0);
    ctx.workspace = ctx.workspace_bytes ? malloc(ctx.workspace_bytes) : NULL;
  }
  cl_status st = impl->run(nd, in, n_in, out, oy0, oy1, &ctx);
  free(ctx.workspace);
  return st;
}

/* Run the node over all output rows on full tensors; result in f->out. */
static cl_status fx_run_full(fixture *f) {
  const cl_node *nd = fx_node(f);
  cl_tensor tin[MAXIN];
  const cl_tensor *pin[MAXIN];
  for (int i = 0; i < f->n_in; i++) {
    tin[i] = (cl_tensor){f->in[i], f->is[i], 0, f->is[i].h};
    pin[i] = &tin[i];
  }
  size_t m = numel(nd->out);
  f->out = malloc(sizeof(float) * m);
  for (size_t k = 0; k < m; k++) f->out[k] = NAN;
  cl_tensor tout = {f->out, nd->out, 0, nd->out.h};
  return run_node(nd, pin, f->n_in, &tout, 0, nd->out.h);
}

/* Copy rows [y0, y0+rows) of a full tensor into a new view buffer. */
static float *copy_rows(const float *full, cl_shape s, int y0, int rows) {
  float *d = malloc(sizeof(float) * ((size_t)s.n * s.c * (size_t)(rows > 0 ? rows : 1) * s.w));
  for (int n = 0; n < s.n; n++)
    for (int c = 0; c < s.c; c++)
      for (int r = 0; r < rows; r++)
        memcpy(d + (((size_t)n * s.c + c) * rows + r) * s.w,
               full + (((size_t)n * s.c + c) * s.h + (y0 + r)) * s.w, sizeof(float) * s.w);
  return d;
}

/* Row-window check: random slices, input views holding only the rows asked for
 * (plus a random margin), output views possibly larger than the slice. Returns the
 * number of mismatching elements. */
static int fx_check_windows(fixture *f, int trials) {
  const cl_node *nd = fx_node(f);
  const cl_shape os = nd->out;
  int bad = 0;
  for (int t = 0; t < trials; t++) {
    int oy0 = rnd(0, os.h - 1);
    int oy1 = (t % 3 == 0) ? oy0 + 1 : rnd(oy0 + 1, os.h);
    cl_tensor tin[MAXIN];
    const cl_tensor *pin[MAXIN];
    for (int i = 0; i < f->n_in; i++) {
      int a, b;
      cl_graph_input_rows(f->g, f->id, i, oy0, oy1, &a, &b);
      if (t % 2) { /* views holding more rows than needed */
        a -= rnd(0, 2);
        b += rnd(0, 2);
        if (a < 0) a = 0;
        if (b > f->is[i].h) b = f->is[i].h;
      }
      tin[i] = (cl_tensor){copy_rows(f->in[i], f->is[i], a, b - a), f->is[i], a, b - a};
      pin[i] = &tin[i];
    }
    int y0 = oy0, y1 = oy1;
    if (t % 4 == 1) {
      y0 = oy0 - rnd(0, 2);
      y1 = oy1 + rnd(0, 2);
      if (y0 < 0) y0 = 0;
      if (y1 > os.h) y1 = os.h;
    }
    size_t m = (size_t)os.n * os.c * (size_t)(y1 - y0) * os.w;
    float *o = malloc(sizeof(float) * m);
    for (size_t k = 0; k < m; k++) o[k] = NAN;
    cl_tensor tout = {o, os, y0, y1 - y0};
    cl_status st = run_node(nd, pin, f->n_in, &tout, oy0, oy1);
    CL_CHECK_INT_EQ(st, CL_OK);
    int bad_here = 0;
    for (int n = 0; n < os.n; n++)
      for (int c = 0; c < os.c; c++)
        for (int y = y0; y < y1; y++)
          for (int x = 0; x < os.w; x++) {
            float v = *cl_tensor_at(&tout, n, c, y, x);
            float r = f->out[(((size_t)n * os.c + c) * os.h + y) * os.w + x];
            int inside = y >= oy0 && y < oy1;
            if (inside ? !(v == r) : !isnan(v)) bad_here++;
          }
    if (bad_here)
      fprintf(stderr, "  %s '%s' %dx%dx%dx%d: rows [%d,%d) in view [%d,%d): %d mismatches\n",
              cl_op_name(nd->op), nd->name, os.n, os.c, os.h, os.w, oy0, oy1, y0, y1, bad_here);
    bad += bad_here;
    for (int i = 0; i < f->n_in; i++) free(tin[i].data);
    free(o);
  }
  return bad;
}

/* Compare f->out to a double reference: max relative-abs error and NMSE. */
static void check_close(const char *what, const float *got, const double *ref, size_t m, double tol,
                        double nmse_tol) {
  double maxerr = 0, num = 0, den = 0;
  size_t worst = 0;
  for (size_t k = 0; k < m; k++) {
    double e = fabs((double)got[k] - ref[k]);
    if (isnan(got[k])) e = INFINITY;
    double rel = e / (1.0 + fabs(ref[k]));
    if (rel > maxerr || isnan(rel)) {
      maxerr = rel;
      worst = k;
    }
    num += e * e;
    den += ref[k] * ref[k];
  }
  double nmse = den > 0 ? num / den : num;
  cl_test_checks++;
  if (!(maxerr <= tol) || !(nmse <= nmse_tol)) {
    cl_test_failures++;
    fprintf(stderr, "%s: max err %.3g (tol %.3g) at %zu (got %.9g ref %.9g), nmse %.3g (tol %.3g)\n",
            what, maxerr, tol, worst, m ? (double)got[worst] : 0.0, m ? ref[worst] : 0.0, nmse,
            nmse_tol);
  }
}

/* ---------------------------------------------------------------- references */

static double ref_act(cl_act a, double x) {
  switch (a) {
    case CL_ACT_RELU: return x > 0 ? x : 0;
    case CL_ACT_RELU6: return x < 0 ? 0 : x > 6 ? 6 : x;
    case CL_ACT_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case CL_ACT_HSWISH: return x * (x + 3 < 0 ? 0 : x + 3 > 6 ? 6 : x + 3) / 6.0;
    default: return x;
  }
}

/* PyTorch pooling_output_shape written from the formula in the docs. */
static int ref_pool_extent(int in, int p0, int p1, int k, int s, int ceil_mode) {
  double v = (double)(in + p0 + p1 - k) / s;
  int o = (int)(ceil_mode ? ceil(v) : floor(v)) + 1;
  if (ceil_mode && (o - 1) * s >= in + p0) o--;
  return o;
}

/* PyTorch avg_pool2d / max_pool2d forward, one output element at a time. */
static void ref_pool(const cl_pool_params *p, int is_max, cl_shape is, const float *x, cl_shape os,
                     double *y) {
  for (int n = 0; n < os.n; n++)
    for (int c = 0; c < os.c; c++)
      for (int oy = 0; oy < os.h; oy++)
        for (int ox = 0; ox < os.w; ox++) {
          int hs = oy * p->sh - p->pt, ws = ox * p->sw - p->pl;
          int he = hs + p->kh < is.h + p->pb ? hs + p->kh : is.h + p->pb;
          int we = ws + p->kw < is.w + p->pr ? ws + p->kw : is.w + p->pr;
          int pool_size = (he - hs) * (we - ws);
          hs = hs < 0 ? 0 : hs;
          ws = ws < 0 ? 0 : ws;
          he = he > is.h ? is.h : he;
          we = we > is.w ? is.w : we;
          double acc = is_max ? -INFINITY : 0.0;
          for (int iy = hs; iy < he; iy++)
            for (int ix = ws; ix < we; ix++) {
              double v = x[(((size_t)n * is.c + c) * is.h + iy) * is.w + ix];
              if (is_max) acc = v > acc ? v : acc;
              else acc += v;
            }
          if (!is_max) acc /= p->count_include_pad ? pool_size : (he - hs) * (we - ws);
          y[(((size_t)n * os.c + c) * os.h + oy) * os.w + ox] = acc;
        }
}

/* ---------------------------------------------------------------- tests */

static void test_pool_random(int is_max, int cases) {
  int tested = 0, rejected = 0;
  for (int t = 0; t < cases; t++) {
    cl_op_params p;
    memset(&p, 0, sizeof p);
    cl_pool_params *q = &p.pool;
    q->kh = rnd(1, 5);
    q->kw = rnd(1, 5);
    q->sh = rnd(1, 3);
    q->sw = rnd(1, 3);
    q->pt = rnd(0, q->kh / 2);
    q->pb = rnd(0, q->kh / 2);
    q->pl = rnd(0, q->kw / 2);
    q->pr = rnd(0, q->kw / 2);
    if (t % 3 == 0) q->pb = q->pt, q->pr = q->pl; /* PyTorch-style symmetric */
    q->ceil_mode = rnd(0, 1);
    q->count_include_pad = rnd(0, 1);
    cl_shape is = shp(rnd(1, 2), rnd(1, 4), rnd(1, 19), rnd(1, 23));
    int oh = ref_pool_extent(is.h, q->pt, q->pb, q->kh, q->sh, q->ceil_mode);
    int ow = ref_pool_extent(is.w, q->pl, q->pr, q->kw, q->sw, q->ceil_mode);
    fixture f;
    int id = fx_build(&f, is_max ? CL_OP_MAXPOOL : CL_OP_AVGPOOL, &p, &is, 1);
    if (oh < 1 || ow < 1) {
      CL_CHECK_INT_EQ(id, CL_ERR_INVALID);
      rejected++;
      fx_free(&f);
      continue;
    }
    CL_CHECK(id >= 0);
    if (id < 0) {
      fprintf(stderr, "  pool k%dx%d s%dx%d p%d,%d,%d,%d ceil %d on %dx%d rejected\n", q->kh, q->kw,
              q->sh, q->sw, q->pt, q->pl, q->pb, q->pr, q->ceil_mode, is.h, is.w);
      fx_free(&f);
      continue;
    }
    const cl_node *nd = fx_node(&f);
    CL_CHECK_INT_EQ(nd->out.h, oh);
    CL_CHECK_INT_EQ(nd->out.w, ow);
    CL_CHECK_INT_EQ(nd->flops, (int64_t)q->kh * q->kw * cl_shape_numel(nd->out));
    fx_fill(&f);
    CL_CHECK_OK(fx_run_full(&f));
    double *ref = malloc(sizeof(double) * numel(nd->out));
    ref_pool(q, is_max, is, f.in[0], nd->out, ref);
    char what[160];
    snprintf(what, sizeof what, "%s k%dx%d s%dx%d p%d,%d,%d,%d ceil %d incl %d on %dx%dx%dx%d",
             is_max ? "maxpool" : "avgpool", q->kh, q->kw, q->sh, q->sw, q->pt, q->pl, q->pb, q->pr,
             q->ceil_mode, q->count_include_pad, is.n, is.c, is.h, is.w);
    check_close(what, f.out, ref, numel(nd->out), is_max ? 0.0 : 2e-6, 1e-12);
    CL_CHECK_INT_EQ(fx_check_windows(&f, 6), 0);
    free(ref);
    fx_free(&f);
    tested++;
  }
  CL_CHECK(tested > cases / 2);
  (void)rejected;
}

static void test_pool_shapes(void) {
  static const struct {
    int in, k, s, pad, ceil, out;
  } known[] = {
      {112, 3, 2, 0, 1, 56}, /* googlenet maxpool1 */
      {56, 3, 2, 0, 1, 28},  /* googlenet maxpool2 */
      {28, 3, 2, 0, 1, 14},  /* googlenet maxpool3 */
      {14, 2, 2, 0, 1, 7},   /* googlenet maxpool4 */
      {28, 3, 1, 1, 1, 28},  /* googlenet inception branch pool */
      {55, 3, 2, 0, 0, 27},  /* alexnet features.2 */
      {27, 3, 2, 0, 0, 13},  /* alexnet features.5 */
      {13, 3, 2, 0, 0, 6},   /* alexnet features.12 */
      {112, 3, 2, 1, 0, 56}, /* resnet maxpool */
      {109, 3, 2, 0, 1, 54}, /* squeezenet1_0 features.2 */
      {54, 3, 2, 0, 1, 27},  /* squeezenet1_0 features.6 */
      {27, 3, 2, 0, 1, 13},  /* squeezenet1_0/1_1 last pool */
      {111, 3, 2, 0, 1, 55}, /* squeezenet1_1 features.2 */
      {55, 3, 2, 0, 1, 27},  /* squeezenet1_1 features.5 */
      {224, 2, 2, 0, 0, 112}, /* vgg */
      {5, 2, 2, 1, 1, 3},    /* ceil rule: last window would start in the right padding */
      {2, 3, 2, 0, 1, 1},    /* ceil mode lets a clipped window cover a too-small input */
  };
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
    for (int op = 0; op < 2; op++) {
      cl_op_params p;
      memset(&p, 0, sizeof p);
      p.pool = (cl_pool_params){known[i].k, known[i].k, known[i].s, known[i].s, known[i].pad,
                                known[i].pad, known[i].pad, known[i].pad, known[i].ceil, 1};
      cl_shape is = shp(1, 3, known[i].in, known[i].in);
      fixture f;
      int id = fx_build(&f, op ? CL_OP_AVGPOOL : CL_OP_MAXPOOL, &p, &is, 1);
      CL_CHECK(id >= 0);
      if (id >= 0) {
        CL_CHECK_INT_EQ(fx_node(&f)->out.h, known[i].out);
        CL_CHECK_INT_EQ(fx_node(&f)->out.w, known[i].out);
        CL_CHECK_INT_EQ(fx_node(&f)->out.c, 3);
      }
      fx_free(&f);
    }
  }
  /* Errors: pad above half the kernel, kernel larger than the padded input, zero stride. */
  cl_pool_params bad[] = {
      {3, 3, 2, 2, 2, 0, 0, 0, 0, 0},
      {5, 5, 1, 1, 0, 0, 0, 0, 0, 0},
      {2, 2, 0, 1, 0, 0, 0, 0, 0, 0},
      {2, 2, 1, 1, 0, 0, 0, 0, 2, 0},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cl_op_params p;
    memset(&p, 0, sizeof p);
    p.pool = bad[i];
    cl_shape is = shp(1, 1, 4, 4);
    fixture f;
    CL_CHECK_INT_EQ(fx_build(&f, CL_OP_MAXPOOL, &p, &is, 1), CL_ERR_INVALID);
    fx_free(&f);
  }
}

/* Reference for the unary element-wise ops. */
static double ref_unary(cl_op op, double x) {
  switch (op) {
    case CL_OP_RELU: return ref_act(CL_ACT_RELU, x);
    case CL_OP_RELU6: return ref_act(CL_ACT_RELU6, x);
    case CL_OP_SIGMOID: return ref_act(CL_ACT_SIGMOID, x);
    case CL_OP_HSWISH: return ref_act(CL_ACT_HSWISH, x);
    default: return x; /* dropout */
  }
}

static void test_unary(void) {
  const cl_op ops[] = {CL_OP_RELU, CL_OP_RELU6, CL_OP_SIGMOID, CL_OP_HSWISH, CL_OP_DROPOUT};
  const int64_t flops[] = {1, 2, 4, 5, 0};
  for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++)
    for (int t = 0; t < 4; t++) {
      cl_op_params p;
      memset(&p, 0, sizeof p);
      p.dropout.p = 0.5f;
      cl_shape is = shp(rnd(1, 2), rnd(1, 5), rnd(1, 17), rnd(1, 19));
      fixture f;
      CL_CHECK(fx_build(&f, ops[k], &p, &is, 1) >= 0);
      const cl_node *nd = fx_node(&f);
      CL_CHECK_INT_EQ(nd->flops, flops[k] * cl_shape_numel(is));
      fx_fill(&f);
      /* spread the inputs over the interesting ranges (relu6 clip, hswish knees) */
      for (size_t i = 0; i < numel(is); i++) f.in[0][i] *= 5.0f;
      CL_CHECK_OK(fx_run_full(&f));
      double *ref = malloc(sizeof(double) * numel(is));
      for (size_t i = 0; i < numel(is); i++) ref[i] = ref_unary(ops[k], f.in[0][i]);
      check_close(cl_op_name(ops[k]), f.out, ref, numel(is), 1e-6, 1e-12);
      CL_CHECK_INT_EQ(fx_check_windows(&f, 5), 0);
      /* in place: output view aliases the input */
      cl_tensor tio = {f.in[0], is, 0, is.h};
      const cl_tensor *pin[1] = {&tio};
      CL_CHECK_OK(run_node(nd, pin, 1, &tio, 0, is.h));
      CL_CHECK(memcmp(f.in[0], f.out, sizeof(float) * numel(is)) == 0);
      free(ref);
      fx_free(&f);
    }
}

static void test_batchnorm(void) {
  for (int t = 0; t < 8; t++) {
    cl_op_params p;
    memset(&p, 0, sizeof p);
    p.bn.eps = t % 2 ? 1e-5f : 1e-3f;
    p.bn.act = (cl_act)(t % 5);
    cl_shape is = shp(rnd(1, 2), rnd(1, 9), rnd(1, 13), rnd(1, 15));
    fixture f;
    CL_CHECK(fx_build(&f, CL_OP_BATCHNORM, &p, &is, 1) >= 0);
    const cl_node *nd = fx_node(&f);
    CL_CHECK_INT_EQ(nd->n_weights, 4 * is.c);
    CL_CHECK_INT_EQ(nd->n_params, 2 * is.c);
    fx_fill(&f);
    const float *w = nd->weights;
    int ranges_ok = 1;
    for (int c = 0; c < is.c; c++) {
      ranges_ok &= w[c] >= 0.8f && w[c] < 1.2f;
      ranges_ok &= w[is.c + c] >= -0.1f && w[is.c + c] < 0.1f;
      ranges_ok &= w[2 * is.c + c] >= -0.1f && w[2 * is.c + c] < 0.1f;
      ranges_ok &= w[3 * is.c + c] >= 0.8f && w[3 * is.c + c] < 1.2f;
    }
    CL_CHECK(ranges_ok);
    CL_CHECK_OK(fx_run_full(&f));
    double *ref = malloc(sizeof(double) * numel(is));
    for (int n = 0; n < is.n; n++)
      for (int c = 0; c < is.c; c++)
        for (int i = 0; i < is.h * is.w; i++) {
          size_t k = ((size_t)n * is.c + c) * is.h * is.w + i;
          double v = (f.in[0][k] - w[2 * is.c + c]) / sqrt((double)w[3 * is.c + c] + p.bn.eps) * w[c] +
                     w[is.c + c];
          ref[k] = ref_act(p.bn.act, v);
        }
    check_close("batchnorm", f.out, ref, numel(is), 2e-6, 1e-12);
    CL_CHECK_INT_EQ(fx_check_windows(&f, 5), 0);
    free(ref);
    fx_free(&f);
  }
  /* Missing weights are an error, not a crash. */
  cl_op_params p;
  memset(&p, 0, sizeof p);
  p.bn.eps = 1e-5f;
  cl_shape is = shp(1, 2, 3, 3);
  fixture f;
  CL_CHECK(fx_build(&f, CL_OP_BATCHNORM, &p, &is, 1) >= 0);
  float buf[18] = {0}, obuf[18];
  cl_tensor ti = {buf, is, 0, 3}, to = {obuf, is, 0, 3};
  const cl_tensor *pin[1] = {&ti};
  CL_CHECK_INT_EQ(run_node(fx_node(&f), pin, 1, &to, 0, 3), CL_ERR_INVALID);
  fx_free(&f);
  p.bn.eps = -1.0f;
  CL_CHECK_INT_EQ(fx_build(&f, CL_OP_BATCHNORM, &p, &is, 1), CL_ERR_INVALID);
  fx_free(&f);
}

static void test_add_mul(void) {
  for (int t = 0; t < 12; t++) {
    int is_mul = t % 2;
    int bcast = is_mul && t % 4 == 1;
    int n_in = is_mul ? 2 : rnd(2, 5);
    cl_op_params p;
    memset(&p, 0, sizeof p);
    p.eltwise.act = (cl_act)rnd(0, 4);
    cl_shape s = shp(rnd(1, 2), rnd(1, 6), rnd(1, 13), rnd(1, 11));
    if (bcast && s.h == 1) s.h = 2;
    cl_shape shapes[MAXIN];
    for (int i = 0; i < n_in; i++) shapes[i] = s;
    if (bcast) shapes[1] = shp(s.n, s.c, 1, 1);
    fixture f;
    CL_CHECK(fx_build(&f, is_mul ? CL_OP_MUL : CL_OP_ADD, &p, shapes, n_in) >= 0);
    const cl_node *nd = fx_node(&f);
    CL_CHECK_INT_EQ(nd->out.h, s.h);
    fx_fill(&f);
    CL_CHECK_OK(fx_run_full(&f));
    double *ref = malloc(sizeof(double) * numel(s));
    for (size_t k = 0; k < numel(s); k++) {
      double v;
      if (is_mul) {
        size_t k1 = bcast ? k / ((size_t)s.h * s.w) : k;
        v = (double)f.in[0][k] * f.in[1][k1];
      } else {
        v = 0;
        for (int i = 0; i < n_in; i++) v += f.in[i][k];
      }
      ref[k] = ref_act(p.eltwise.act, v);
    }
    check_close(is_mul ? (bcast ? "mul broadcast" : "mul") : "add", f.out, ref, numel(s), 2e-6, 1e-12);
    CL_CHECK_INT_EQ(fx_check_windows(&f, 6), 0);
    free(ref);
    fx_free(&f);
  }
  /* Shape errors. */
  cl_op_params p;
  memset(&p, 0, sizeof p);
  fixture f;
  cl_shape mism[2] = {shp(1, 4, 8, 8), shp(1, 4, 8, 7)};
  CL_CHECK_INT_EQ(fx_build(&f, CL_OP_ADD, &p, mism, 2), CL_ERR_INVALID);
  fx_free(&f);
  CL_CHECK_INT_EQ(fx_build(&f, CL_OP_ADD, &p, mism, 1), CL_ERR_INVALID); /* one input */
  fx_free(&f);
  CL_CHECK_INT_EQ(fx_build(&f, CL_OP_MUL, &p, mism, 2), CL_ERR_INVALID);
  fx_free(&f);
  cl_shape badb[2] = {shp(1, 4, 8, 8), shp(1, 3, 1, 1)};
  CL_CHECK_INT_EQ(fx_build(&f, CL_OP_MUL, &p, badb, 2), CL_ERR_INVALID);
  fx_free(&f);
  cl_shape revb[2] = {shp(1, 4, 1, 1), shp(1, 4, 8, 8)}; /* only the second input broadcasts */
  CL_CHECK_INT_EQ(fx_build(&f, CL_OP_MUL, &p, revb, 2), CL_ERR_INVALID);
  fx_free(&f);
  p.eltwise.act = (cl_act)17;
  cl_shape same[2] = {shp(1, 4, 8, 8), shp(1, 4, 8, 8)};
  CL_CHECK_INT_EQ(fx_build(&f, CL_OP_ADD, &p, same, 2), CL_ERR_INVALID);
  fx_free(&f);
}

static void test_concat(void) {
  for (int t = 0; t < 6; t++) {
    int n_in = t == 0 ? 50 : rnd(1, 8);
    cl_shape shapes[MAXIN];
    int n = rnd(1, 2), h = rnd(1, 11), w = rnd(1, 9), ctot = 0;
    for (int i = 0; i < n_in; i++) {
      shapes[i] = shp(n, rnd(1, 4), h, w);
      ctot += shapes[i].c;
    }
    fixture f;
    CL_CHECK(fx_build(&f, CL_OP_CONCAT, NULL, shapes, n_in) >= 0);
    const cl_node *nd = fx_node(&f);
    CL_CHECK_INT_EQ(nd->out.c, ctot);
    CL_CHECK_INT_EQ(nd->flops, 0);
    fx_fill(&f);
    CL_CHECK_OK(fx_run_full(&f));
    double *ref = malloc(sizeof(double) * numel(nd->out));
    for (int b = 0; b < n; b++) {
      int oc = 0;
      for (int i = 0; i < n_in; i++)
        for (int c = 0; c < shapes[i].c; c++, oc++)
          for (int k = 0; k < h * w; k++)
            ref[(((size_t)b * ctot + oc) * h * w) + k] =
                f.in[i][(((size_t)b * shapes[i].c + c) * h * w) + k];
    }
    check_close("concat", f.out, ref, numel(nd->out), 0.0, 0.0);
    CL_CHECK_INT_EQ(fx_check_windows(&f, 5), 0);
    free(ref);
    fx_free(&f);
  }
  fixture f;
  cl_shape bad_h[3] = {shp(1, 4, 8, 8), shp(1, 2, 8, 8), shp(1, 4, 7, 8)};
  CL_CHECK_INT_EQ(fx_build(&f, CL_OP_CONCAT, NULL, bad_h, 3), CL_ERR_INVALID);
  fx_free(&f);
  cl_shape bad_n[2] = {shp(1, 4, 8, 8), shp(2, 4, 8, 8)};
  CL_CHECK_INT_EQ(fx_build(&f, CL_OP_CONCAT, NULL, bad_n, 2), CL_ERR_INVALID);
  fx_free(&f);
}

static void test_lrn(void) {
  const cl_lrn_params cases[] = {
      {5, 1e-4f, 0.75f, 2.0f}, /* alexnet */
      {5, 1e-4f, 0.75f, 1.0f}, /* googlenet-style */
      {4, 0.3f, 0.6f, 1.5f},   /* even size, generic beta (powf path) */
      {1, 0.5f, 0.75f, 1.0f},
      {7, 2.0f, 1.0f, 0.5f},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    cl_op_params p;
    memset(&p, 0, sizeof p);
    p.lrn = cases[k];
    /* more channels than the window, so clipping and interior windows both occur */
    cl_shape is = shp(rnd(1, 2), rnd(cases[k].size + 1, 14), rnd(1, 9), rnd(1, 13));
    fixture f;
    CL_CHECK(fx_build(&f, CL_OP_LRN, &p, &is, 1) >= 0);
    fx_fill(&f);
    CL_CHECK_OK(fx_run_full(&f));
    double *ref = malloc(sizeof(double) * numel(is));
    const size_t hw = (size_t)is.h * is.w;
    for (int n = 0; n < is.n; n++)
      for (int c = 0; c < is.c; c++)
        for (size_t i = 0; i < hw; i++) {
          double sum = 0;
          for (int cc = c - p.lrn.size / 2; cc <= c + (p.lrn.size - 1) / 2; cc++) {
            if (cc < 0 || cc >= is.c) continue; /* zero padding */
            double a = f.in[0][((size_t)n * is.c + cc) * hw + i];
            sum += a * a;
          }
          double a = f.in[0][((size_t)n * is.c + c) * hw + i];
          ref[((size_t)n * is.c + c) * hw + i] =
              a / pow(p.lrn.k + p.lrn.alpha / p.lrn.size * sum, p.lrn.beta);
        }
    check_close("lrn", f.out, ref, numel(is), 4e-6, 1e-12);
    CL_CHECK_INT_EQ(fx_check_windows(&f, 5), 0);
    free(ref);
    fx_free(&f);
  }
  cl_op_params p;
  memset(&p, 0, sizeof p);
  p.lrn = (cl_lrn_params){0, 1e-4f, 0.75f, 1.0f};
  cl_shape is = shp(1, 4, 4, 4);
  fixture f;
  CL_CHECK_INT_EQ(fx_build(&f, CL_OP_LRN, &p, &is, 1), CL_ERR_INVALID);
  fx_free(&f);
}

static void test_nonspatial(void) {
  for (int t = 0; t < 4; t++) {
    cl_shape is = shp(rnd(1, 3), rnd(1, 7), rnd(1, 9), rnd(1, 9));
    if (t == 0) is = shp(2, 1000, 1, 1); /* classifier output */
    const size_t m = numel(is), per = m / (size_t)is.n, hw = (size_t)is.h * is.w;
    fixture f;

    /* global_avgpool */
    CL_CHECK(fx_build(&f, CL_OP_GAP, NULL, &is, 1) >= 0);
    CL_CHECK_INT_EQ(fx_node(&f)->out.c, is.c);
    CL_CHECK_INT_EQ(fx_node(&f)->out.h, 1);
    CL_CHECK_INT_EQ(fx_node(&f)->out.w, 1);
    fx_fill(&f);
    CL_CHECK_OK(fx_run_full(&f));
    double *ref = malloc(sizeof(double) * m);
    for (size_t nc = 0; nc < (size_t)is.n * is.c; nc++) {
      double s = 0;
      for (size_t i = 0; i < hw; i++) s += f.in[0][nc * hw + i];
      ref[nc] = s / (double)hw;
    }
    check_close("global_avgpool", f.out, ref, (size_t)is.n * is.c, 1e-6, 1e-12);
    fx_free(&f);

    /* flatten */
    CL_CHECK(fx_build(&f, CL_OP_FLATTEN, NULL, &is, 1) >= 0);
    CL_CHECK_INT_EQ(fx_node(&f)->out.c, (int)per);
    CL_CHECK_INT_EQ(fx_node(&f)->out.h, 1);
    fx_fill(&f);
    CL_CHECK_OK(fx_run_full(&f));
    CL_CHECK(memcmp(f.out, f.in[0], sizeof(float) * m) == 0);
    fx_free(&f);

    /* softmax over c*h*w per sample */
    CL_CHECK(fx_build(&f, CL_OP_SOFTMAX, NULL, &is, 1) >= 0);
    fx_fill(&f);
    for (size_t i = 0; i < m; i++) f.in[0][i] *= 20.0f; /* large logits: needs the max shift */
    CL_CHECK_OK(fx_run_full(&f));
    for (int n = 0; n < is.n; n++) {
      const float *x = f.in[0] + (size_t)n * per;
      double mx = x[0], s = 0;
      for (size_t i = 0; i < per; i++) mx = x[i] > mx ? x[i] : mx;
      for (size_t i = 0; i < per; i++) s += exp(x[i] - mx);
      for (size_t i = 0; i < per; i++) ref[(size_t)n * per + i] = exp(x[i] - mx) / s;
    }
    check_close("softmax", f.out, ref, m, 1e-6, 1e-10);
    /* softmax is not row-splittable: a partial row range is refused */
    if (is.h > 1) {
      cl_tensor ti = {f.in[0], is, 0, is.h}, to = {f.out, is, 0, is.h};
      const cl_tensor *pin[1] = {&ti};
      CL_CHECK_INT_EQ(run_node(fx_node(&f), pin, 1, &to, 0, 1), CL_ERR_INVALID);
    }
    free(ref);
    fx_free(&f);
  }
}

static void test_infer_misc(void) {
  fixture f;
  cl_shape zero = shp(1, 0, 4, 4);
  cl_graph *g;
  CL_CHECK_OK(cl_graph_create("t", &g));
  CL_CHECK_INT_EQ(cl_graph_add_input(g, "x", zero), CL_ERR_INVALID);
  int id = cl_graph_add_input(g, "x", shp(1, 3, 224, 224));
  CL_CHECK_INT_EQ(id, 0);
  CL_CHECK_INT_EQ(cl_graph_node(g, id)->out.w, 224);
  int two[2] = {id, id};
  CL_CHECK_INT_EQ(cl_graph_add(g, CL_OP_RELU, "r", two, 2, NULL), CL_ERR_INVALID);
  CL_CHECK_INT_EQ(cl_graph_add(g, CL_OP_GAP, "gp", two, 2, NULL), CL_ERR_INVALID);
  /* add of a tensor with itself is legal (two references to one node) */
  cl_op_params p;
  memset(&p, 0, sizeof p);
  int a = cl_graph_add(g, CL_OP_ADD, "a", two, 2, &p);
  CL_CHECK(a >= 0);
  CL_CHECK_INT_EQ(cl_graph_node(g, a)->flops, 3 * 224 * 224);
  cl_graph_destroy(g);
  /* dropout p outside [0, 1] */
  memset(&p, 0, sizeof p);
  p.dropout.p = 1.5f;
  cl_shape is = shp(1, 2, 2, 2);
  CL_CHECK_INT_EQ(fx_build(&f, CL_OP_DROPOUT, &p, &is, 1), CL_ERR_INVALID);
  fx_free(&f);
}

/* A row-window view missing a needed row is reported, not read out of bounds. */
static void test_view_errors(void) {
  cl_op_params p;
  memset(&p, 0, sizeof p);
  p.pool = (cl_pool_params){3, 3, 2, 2, 1, 1, 1, 1, 0, 0};
  cl_shape is = shp(1, 1, 9, 9);
  fixture f;
  CL_CHECK(fx_build(&f, CL_OP_MAXPOOL, &p, &is, 1) >= 0);
  const cl_node *nd = fx_node(&f);
  int a, b;
  cl_graph_input_rows(f.g, f.id, 0, 2, 3, &a, &b);
  CL_CHECK_INT_EQ(a, 3);
  CL_CHECK_INT_EQ(b, 6);
  float in[81] = {0}, out[25];
  cl_tensor ti = {in, is, a + 1, b - a - 1}, to = {out, nd->out, 0, nd->out.h};
  const cl_tensor *pin[1] = {&ti};
  CL_CHECK_INT_EQ(run_node(nd, pin, 1, &to, 2, 3), CL_ERR_INVALID);
  ti.y0 = a;
  ti.rows = b - a;
  CL_CHECK_OK(run_node(nd, pin, 1, &to, 2, 3));
  cl_tensor small = {out, nd->out, 0, 2};
  CL_CHECK_INT_EQ(run_node(nd, pin, 1, &small, 2, 3), CL_ERR_INVALID);
  fx_free(&f);
}

int main(void) {
  cl_log_set_level(0);
  test_pool_shapes();
  test_pool_random(1, 120);
  test_pool_random(0, 120);
  test_unary();
  test_batchnorm();
  test_add_mul();
  test_concat();
  test_lrn();
  test_nonspatial();
  test_infer_misc();
  test_view_errors();
  return cl_test_finish("test_ops_misc");
}
