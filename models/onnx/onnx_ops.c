/* ONNX op mappers: one function per ONNX operator, each checking every attribute it
 * reads and rejecting values cleave's kernels do not implement (never approximating).
 * Dispatch table at the bottom. Semantics follow the ONNX operator docs; where the IR
 * follows PyTorch (pool ceil_mode, LRN window), the differences are checked here. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"

#define ERR CL__ONNX_ERR

static cl_op_params zero_params(void) {
  cl_op_params p;
  memset(&p, 0, sizeof p);
  return p;
}

/* Rejects extra outputs that something consumes (mask, indices, running stats). */
static cl_status single_output(cl__onnx_nctx *cx) {
  for (size_t k = 1; k < cx->n->n_output; k++)
    if (cl__onnx_output_used(cx, k)) {
      ERR(cx, "output %zu ('%s') is used, but cleave computes only the first output", k,
          cx->n->output[k]);
      return CL_ERR_UNSUPPORTED;
    }
  return CL_OK;
}

/* Attributes that must be absent or have exactly one allowed integer value. */
static cl_status attr_int_is(cl__onnx_nctx *cx, const char *name, int64_t def, int64_t allowed) {
  int64_t v;
  CL_TRY(cl__onnx_attr_int(cx->n, name, def, &v));
  if (v != allowed) {
    ERR(cx, "attribute %s = %lld is not supported (only %lld)", name, (long long)v, (long long)allowed);
    return CL_ERR_UNSUPPORTED;
  }
  return CL_OK;
}

/* Spatial window attributes shared by Conv and the pools. Fills kernel (if present),
 * strides, pads (t, l, b, r), dilations; resolves auto_pad against input size in_h/in_w. */
typedef struct win {
  int kh, kw, sh, sw, pt, pl, pb, pr, dh, dw;
} win;

static cl_status read_window(cl__onnx_nctx *cx, int in_h, int in_w, int need_kernel, win *w) {
  int64_t v[8];
  int n;
  CL_TRY(cl__onnx_attr_ints(cx->n, "kernel_shape", v, 8, &n));
  if (n) {
    if (n != 2) {
      ERR(cx, "kernel_shape has %d dimensions; cleave supports 2-D windows only", n);
      return CL_ERR_UNSUPPORTED;
    }
    w->kh = (int)v[0];
    w->kw = (int)v[1];
  } else if (need_kernel) {
    ERR(cx, "attribute kernel_shape is required");
    return CL_ERR_INVALID;
  }
  w->sh = w->sw = 1;
  CL_TRY(cl__onnx_attr_ints(cx->n, "strides", v, 8, &n));
  if (n) {
    if (n != 2 || v[0] < 1 || v[1] < 1 || v[0] > 1 << 16 || v[1] > 1 << 16) {
      ERR(cx, "strides must be 2 positive values (got %d values)", n);
      return CL_ERR_INVALID;
    }
    w->sh = (int)v[0];
    w->sw = (int)v[1];
  }
  w->dh = w->dw = 1;
  CL_TRY(cl__onnx_attr_ints(cx->n, "dilations", v, 8, &n));
  if (n) {
    if (n != 2 || v[0] < 1 || v[1] < 1 || v[0] > 1 << 16 || v[1] > 1 << 16) {
      ERR(cx, "dilations must be 2 positive values (got %d values)", n);
      return CL_ERR_INVALID;
    }
    w->dh = (int)v[0];
    w->dw = (int)v[1];
  }
  w->pt = w->pl = w->pb = w->pr = 0;
  CL_TRY(cl__onnx_attr_ints(cx->n, "pads", v, 8, &n));
  if (n) {
    if (n != 4) {
      ERR(cx, "pads has %d values; 2-D windows take 4 (top, left, bottom, right)", n);
      return CL_ERR_INVALID;
    }
    for (int k = 0; k < 4; k++)
      if (v[k] < 0 || v[k] > 1 << 16) {
        ERR(cx, "pads[%d] = %lld is not supported (negative or huge)", k, (long long)v[k]);
        return CL_ERR_UNSUPPORTED;
      }
    w->pt = (int)v[0];
    w->pl = (int)v[1];
    w->pb = (int)v[2];
    w->pr = (int)v[3];
  }
  char ap[32];
  CL_TRY(cl__onnx_attr_str(cx->n, "auto_pad", "NOTSET", ap, sizeof ap));
  if (!strcmp(ap, "NOTSET")) return CL_OK;
  if (n) {
    ERR(cx, "both pads and auto_pad = %s are set", ap);
    return CL_ERR_INVALID;
  }
  if (!strcmp(ap, "VALID")) return CL_OK;
  if (strcmp(ap, "SAME_UPPER") && strcmp(ap, "SAME_LOWER")) {
    ERR(cx, "auto_pad = '%s' is not a valid value", ap);
    return CL_ERR_INVALID;
  }
  const int upper = !strcmp(ap, "SAME_UPPER");
  const int dims[2] = {in_h, in_w}, ks[2] = {w->kh, w->kw}, ss[2] = {w->sh, w->sw}, ds[2] = {w->dh, w->dw};
  int beg[2], end[2];
  for (int a = 0; a < 2; a++) {
    const int out = (dims[a] + ss[a] - 1) / ss[a];
    int total = (out - 1) * ss[a] + (ks[a] - 1) * ds[a] + 1 - dims[a];
    if (total < 0) total = 0;
    beg[a] = upper ? total / 2 : total - total / 2;
    end[a] = total - beg[a];
  }
  w->pt = beg[0];
  w->pl = beg[1];
  w->pb = end[0];
  w->pr = end[1];
  return CL_OK;
}

/* Input 0 of a Conv / AveragePool, absorbing a pending zero Pad into @p w. */
static cl_status padded_input(cl__onnx_nctx *cx, int *id, int *rank, int pads[4]) {
  cl__onnx_val *v = cl__onnx_input_val(cx, 0);
  if (!v) return CL_ERR_INVALID;
  pads[0] = pads[1] = pads[2] = pads[3] = 0;
  if (v->kind == CL__ONNX_PAD) {
    *id = v->node;
    *rank = v->rank;
    memcpy(pads, v->pads, sizeof v->pads);
    return CL_OK;
  }
  return cl__onnx_node_input(cx, 0, id, rank);
}

static cl_status need_rank4(cl__onnx_nctx *cx, int rank) {
  if (rank != 4) {
    ERR(cx, "input has rank %d; cleave supports this op on NCHW (rank 4) tensors only", rank);
    return CL_ERR_UNSUPPORTED;
  }
  return CL_OK;
}

/* ---- Conv ------------------------------------------------------------------------- */

static cl_status op_conv(cl__onnx_nctx *cx) {
  int x, rank, extra[4];
  CL_TRY(padded_input(cx, &x, &rank, extra));
  CL_TRY(need_rank4(cx, rank));
  const cl_shape is = cl__onnx_shape_of(cx->im, x);
  cl__onnx_const *W, *B = NULL;
  CL_TRY(cl__onnx_const_input(cx, 1, "weight", &W));
  if (cl__onnx_has_input(cx, 2)) CL_TRY(cl__onnx_const_input(cx, 2, "bias", &B));
  if (W->rank != 4 || W->is_int) {
    ERR(cx, "weight '%s' has rank %d; cleave supports 2-D convolutions (rank-4 float weights)",
        cx->n->input[1], W->rank);
    return CL_ERR_UNSUPPORTED;
  }
  int64_t group;
  CL_TRY(cl__onnx_attr_int(cx->n, "group", 1, &group));
  win w = {.kh = (int)W->dims[2], .kw = (int)W->dims[3]};
  CL_TRY(read_window(cx, is.h + extra[0] + extra[2], is.w + extra[1] + extra[3], 0, &w));
  if (w.kh != W->dims[2] || w.kw != W->dims[3]) {
    ERR(cx, "kernel_shape %dx%d disagrees with weight '%s' (%lldx%lld)", w.kh, w.kw, cx->n->input[1],
        (long long)W->dims[2], (long long)W->dims[3]);
    return CL_ERR_INVALID;
  }
  if (group < 1 || group > is.c || W->dims[1] * group != is.c || W->dims[0] % group) {
    ERR(cx, "weight '%s' is %lldx%lldx%lldx%lld with group = %lld, but the input has %d channels",
        cx->n->input[1], (long long)W->dims[0], (long long)W->dims[1], (long long)W->dims[2],
        (long long)W->dims[3], (long long)group, is.c);
    return CL_ERR_INVALID;
  }
  if (B && (B->is_int || B->numel != W->dims[0])) {
    ERR(cx, "bias '%s' has %lld values, expected %lld", cx->n->input[2], (long long)B->numel,
        (long long)W->dims[0]);
    return CL_ERR_INVALID;
  }
  cl_op_params p = zero_params();
  p.conv = (cl_conv_params){.out_c = (int)W->dims[0], .kh = w.kh, .kw = w.kw, .sh = w.sh, .sw = w.sw,
                            .pt = w.pt + extra[0], .pl = w.pl + extra[1], .pb = w.pb + extra[2],
                            .pr = w.pr + extra[3], .dh = w.dh, .dw = w.dw, .groups = (int)group,
                            .has_bias = B != NULL, .act = CL_ACT_NONE};
  int id = cl__onnx_add_node(cx, CL_OP_CONV, &x, 1, &p);
  if (id < 0) return (cl_status)id;
  const float *parts[2] = {W->f, B ? B->f : NULL};
  const size_t lens[2] = {(size_t)W->numel, B ? (size_t)B->numel : 0};
  CL_TRY(cl__onnx_set_weights(cx, id, parts, lens, 2));
  return cl__onnx_set_node_out(cx, id, 4);
}

/* ---- Gemm / MatMul / Add ------------------------------------------------------------ */

static cl_status op_gemm(cl__onnx_nctx *cx) {
  int a, rank;
  CL_TRY(cl__onnx_node_input(cx, 0, &a, &rank));
  if (rank != 2) {
    ERR(cx, "input A has rank %d; Gemm takes a rank-2 [N, K] input", rank);
    return CL_ERR_INVALID;
  }
  CL_TRY(attr_int_is(cx, "transA", 0, 0));
  int64_t trans_b;
  float alpha, beta;
  CL_TRY(cl__onnx_attr_int(cx->n, "transB", 0, &trans_b));
  CL_TRY(cl__onnx_attr_float(cx->n, "alpha", 1.0f, &alpha));
  CL_TRY(cl__onnx_attr_float(cx->n, "beta", 1.0f, &beta));
  cl__onnx_const *B, *C = NULL;
  CL_TRY(cl__onnx_const_input(cx, 1, "weight (B)", &B));
  if (cl__onnx_has_input(cx, 2)) CL_TRY(cl__onnx_const_input(cx, 2, "bias (C)", &C));
  const cl_shape as = cl__onnx_shape_of(cx->im, a);
  const int64_t K = (int64_t)as.c * as.h * as.w;
  if (B->rank != 2 || B->is_int || B->dims[trans_b ? 1 : 0] != K) {
    ERR(cx, "weight '%s' (rank %d, %lldx%lld, transB = %lld) does not match the %lld input features",
        cx->n->input[1], B->rank, (long long)B->dims[0], (long long)(B->rank > 1 ? B->dims[1] : 0),
        (long long)trans_b, (long long)K);
    return CL_ERR_INVALID;
  }
  const int64_t N = B->dims[trans_b ? 0 : 1];
  if (C && (C->is_int || (C->numel != N && C->numel != 1) || (C->rank == 2 && C->dims[0] != 1))) {
    ERR(cx, "bias '%s' has %lld values; cleave supports a bias of N = %lld values (or a scalar)",
        cx->n->input[2], (long long)C->numel, (long long)N);
    return CL_ERR_UNSUPPORTED;
  }
  const int use_bias = C && beta != 0.0f;
  cl_op_params p = zero_params();
  p.fc = (cl_fc_params){.out_features = (int)N, .has_bias = use_bias, .act = CL_ACT_NONE};
  int id = cl__onnx_add_node(cx, CL_OP_FC, &a, 1, &p);
  if (id < 0) return (cl_status)id;
  cl_node *nd = cl_graph_node_mut(cx->im->graph, id);
  if (nd->n_weights != (size_t)(N * K + (use_bias ? N : 0))) {
    ERR(cx, "internal: fc node needs %zu weights", nd->n_weights);
    return CL_ERR_INTERNAL;
  }
  if (cx->im->structure_only) return cl__onnx_set_node_out(cx, id, 2);
  nd->weights = malloc(sizeof(float) * nd->n_weights);
  if (!nd->weights) return CL_ERR_NOMEM;
  for (int64_t o = 0; o < N; o++)
    for (int64_t k = 0; k < K; k++)
      nd->weights[o * K + k] = alpha * (trans_b ? B->f[o * K + k] : B->f[k * N + o]);
  if (use_bias)
    for (int64_t o = 0; o < N; o++) nd->weights[N * K + o] = beta * C->f[C->numel == 1 ? 0 : o];
  return cl__onnx_set_node_out(cx, id, 2);
}

static cl_status op_matmul(cl__onnx_nctx *cx) {
  int a, rank;
  CL_TRY(cl__onnx_node_input(cx, 0, &a, &rank));
  if (rank != 2) {
    ERR(cx, "input A has rank %d; cleave supports MatMul of a rank-2 [N, K] tensor by a constant "
        "[K, M] matrix only", rank);
    return CL_ERR_UNSUPPORTED;
  }
  cl__onnx_const *B;
  CL_TRY(cl__onnx_const_input(cx, 1, "matrix B", &B));
  const cl_shape as = cl__onnx_shape_of(cx->im, a);
  const int64_t K = (int64_t)as.c;
  if (B->rank != 2 || B->is_int || B->dims[0] != K || B->dims[1] < 1 || B->dims[1] > 1 << 30) {
    ERR(cx, "matrix B '%s' must be a float [%lld, M] constant (rank %d)", cx->n->input[1], (long long)K,
        B->rank);
    return CL_ERR_UNSUPPORTED;
  }
  const int64_t N = B->dims[1];
  cl__onnx_val *o;
  CL_TRY(cl__onnx_out_val(cx, 0, &o));
  if (!cx->im->structure_only) {
    o->mm_w = malloc(sizeof(float) * (size_t)(N * K));
    if (!o->mm_w) return CL_ERR_NOMEM;
    for (int64_t r = 0; r < N; r++)
      for (int64_t k = 0; k < K; k++) o->mm_w[r * K + k] = B->f[k * N + r];
  }
  o->kind = CL__ONNX_MATMUL;
  o->node = a;
  o->mm_n = (int)N;
  return CL_OK;
}

static cl_status op_add(cl__onnx_nctx *cx) {
  cl__onnx_val *va = cl__onnx_input_val(cx, 0), *vb = cl__onnx_input_val(cx, 1);
  if (!va || !vb) return CL_ERR_INVALID;
  /* MatMul + constant bias -> one FC node with bias. */
  if ((va->kind == CL__ONNX_MATMUL && vb->kind == CL__ONNX_CONST) ||
      (vb->kind == CL__ONNX_MATMUL && va->kind == CL__ONNX_CONST)) {
    cl__onnx_val *mm = va->kind == CL__ONNX_MATMUL ? va : vb, *bv = mm == va ? vb : va;
    CL_TRY(cl__onnx_const_of(cx, bv, "bias"));
    if (bv->c.is_int || bv->c.numel != mm->mm_n || (bv->c.rank == 2 && bv->c.dims[0] != 1) ||
        bv->c.rank > 2) {
      ERR(cx, "bias '%s' has %lld values; expected the MatMul's %d output features", bv->name,
          (long long)bv->c.numel, mm->mm_n);
      return CL_ERR_UNSUPPORTED;
    }
    int id = cl__onnx_emit_matmul(cx->im, mm, bv->c.f, 1);
    if (id < 0) return (cl_status)id;
    return cl__onnx_set_node_out(cx, id, 2);
  }
  int ids[2], ranks[2];
  CL_TRY(cl__onnx_node_input(cx, 0, &ids[0], &ranks[0]));
  CL_TRY(cl__onnx_node_input(cx, 1, &ids[1], &ranks[1]));
  cl_op_params p = zero_params();
  int id = cl__onnx_add_node(cx, CL_OP_ADD, ids, 2, &p);
  if (id < 0) return (cl_status)id;
  return cl__onnx_set_node_out(cx, id, ranks[0]);
}

static cl_status op_mul(cl__onnx_nctx *cx) {
  int ids[2], ranks[2];
  CL_TRY(cl__onnx_node_input(cx, 0, &ids[0], &ranks[0]));
  CL_TRY(cl__onnx_node_input(cx, 1, &ids[1], &ranks[1]));
  /* The IR broadcasts only its second input ([n, c, 1, 1] gate); Mul commutes. */
  const cl_shape a = cl__onnx_shape_of(cx->im, ids[0]), b = cl__onnx_shape_of(cx->im, ids[1]);
  if (a.h == 1 && a.w == 1 && (b.h > 1 || b.w > 1)) {
    int t = ids[0];
    ids[0] = ids[1];
    ids[1] = t;
    t = ranks[0];
    ranks[0] = ranks[1];
    ranks[1] = t;
  }
  cl_op_params p = zero_params();
  int id = cl__onnx_add_node(cx, CL_OP_MUL, ids, 2, &p);
  if (id < 0) return (cl_status)id;
  return cl__onnx_set_node_out(cx, id, ranks[0]);
}

/* ---- activations -------------------------------------------------------------------- */

static cl_status unary(cl__onnx_nctx *cx, cl_op op) {
  int x, rank;
  CL_TRY(cl__onnx_node_input(cx, 0, &x, &rank));
  cl_op_params p = zero_params();
  int id = cl__onnx_add_node(cx, op, &x, 1, &p);
  if (id < 0) return (cl_status)id;
  return cl__onnx_set_node_out(cx, id, rank);
}

static cl_status op_relu(cl__onnx_nctx *cx) { return unary(cx, CL_OP_RELU); }
static cl_status op_sigmoid(cl__onnx_nctx *cx) { return unary(cx, CL_OP_SIGMOID); }
static cl_status op_hswish(cl__onnx_nctx *cx) { return unary(cx, CL_OP_HSWISH); }
static cl_status op_gap(cl__onnx_nctx *cx) {
  int x, rank;
  CL_TRY(cl__onnx_node_input(cx, 0, &x, &rank));
  CL_TRY(need_rank4(cx, rank));
  return unary(cx, CL_OP_GAP);
}

/* Clip(0, 6) is ReLU6, Clip(0, +inf) is ReLU; other bounds have no kernel. */
static cl_status op_clip(cl__onnx_nctx *cx) {
  float lo = -INFINITY, hi = INFINITY;
  if (cx->im->opset < 11) {
    CL_TRY(cl__onnx_attr_float(cx->n, "min", -INFINITY, &lo));
    CL_TRY(cl__onnx_attr_float(cx->n, "max", INFINITY, &hi));
  } else {
    cl__onnx_const *c;
    if (cl__onnx_has_input(cx, 1)) {
      CL_TRY(cl__onnx_const_input(cx, 1, "min", &c));
      if (c->numel != 1) {
        ERR(cx, "min must be a scalar");
        return CL_ERR_INVALID;
      }
      lo = (float)cl__onnx_const_get(c, 0);
    }
    if (cl__onnx_has_input(cx, 2)) {
      CL_TRY(cl__onnx_const_input(cx, 2, "max", &c));
      if (c->numel != 1) {
        ERR(cx, "max must be a scalar");
        return CL_ERR_INVALID;
      }
      hi = (float)cl__onnx_const_get(c, 0);
    }
  }
  if (lo == 0.0f && hi == 6.0f) return unary(cx, CL_OP_RELU6);
  if (lo == 0.0f && isinf(hi) && hi > 0) return unary(cx, CL_OP_RELU);
  ERR(cx, "Clip(min = %g, max = %g) is not supported; cleave has ReLU (0, inf) and ReLU6 (0, 6)",
      (double)lo, (double)hi);
  return CL_ERR_UNSUPPORTED;
}

/* ---- pooling ------------------------------------------------------------------------ */

static cl_status pool(cl__onnx_nctx *cx, cl_op op) {
  int x, rank, extra[4] = {0, 0, 0, 0};
  if (op == CL_OP_AVGPOOL)
    CL_TRY(padded_input(cx, &x, &rank, extra));
  else
    CL_TRY(cl__onnx_node_input(cx, 0, &x, &rank));
  CL_TRY(need_rank4(cx, rank));
  CL_TRY(single_output(cx));
  const cl_shape is = cl__onnx_shape_of(cx->im, x);
  const int padded = extra[0] || extra[1] || extra[2] || extra[3];
  win w = {0};
  CL_TRY(read_window(cx, is.h + extra[0] + extra[2], is.w + extra[1] + extra[3], 1, &w));
  if (w.dh != 1 || w.dw != 1) {
    ERR(cx, "dilations = %dx%d are not supported for pooling (only 1x1)", w.dh, w.dw);
    return CL_ERR_UNSUPPORTED;
  }
  int64_t ceil_mode, incl = 0;
  CL_TRY(cl__onnx_attr_int(cx->n, "ceil_mode", 0, &ceil_mode));
  if (op == CL_OP_MAXPOOL) CL_TRY(attr_int_is(cx, "storage_order", 0, 0));
  if (op == CL_OP_AVGPOOL) CL_TRY(cl__onnx_attr_int(cx->n, "count_include_pad", 0, &incl));
  if (padded) {
    /* Pad(zeros) + AveragePool(pads 0) averages over the zeros: the IR's padding with
     * count_include_pad (its windows are clipped to the padded extent, as ONNX's are). */
    if (w.pt || w.pl || w.pb || w.pr) {
      ERR(cx, "an explicit Pad before an AveragePool that pads again is not supported");
      return CL_ERR_UNSUPPORTED;
    }
    incl = 1;
  }
  cl_op_params p = zero_params();
  p.pool = (cl_pool_params){.kh = w.kh, .kw = w.kw, .sh = w.sh, .sw = w.sw, .pt = w.pt + extra[0],
                            .pl = w.pl + extra[1], .pb = w.pb + extra[2], .pr = w.pr + extra[3],
                            .ceil_mode = ceil_mode != 0, .count_include_pad = incl != 0};
  int id = cl__onnx_add_node(cx, op, &x, 1, &p);
  if (id < 0) return (cl_status)id;
  return cl__onnx_set_node_out(cx, id, 4);
}

static cl_status op_maxpool(cl__onnx_nctx *cx) { return pool(cx, CL_OP_MAXPOOL); }
static cl_status op_avgpool(cl__onnx_nctx *cx) { return pool(cx, CL_OP_AVGPOOL); }

/* ---- normalisation ------------------------------------------------------------------ */

static cl_status op_bn(cl__onnx_nctx *cx) {
  int x, rank;
  CL_TRY(cl__onnx_node_input(cx, 0, &x, &rank));
  CL_TRY(single_output(cx));
  CL_TRY(attr_int_is(cx, "training_mode", 0, 0));
  if (cx->im->opset < 9) CL_TRY(attr_int_is(cx, "spatial", 1, 1));
  float eps;
  CL_TRY(cl__onnx_attr_float(cx->n, "epsilon", 1e-5f, &eps));
  const cl_shape is = cl__onnx_shape_of(cx->im, x);
  static const char *what[4] = {"scale", "B", "mean", "var"};
  cl__onnx_const *c[4];
  for (int k = 0; k < 4; k++) {
    CL_TRY(cl__onnx_const_input(cx, (size_t)k + 1, what[k], &c[k]));
    if (c[k]->is_int || c[k]->numel != is.c) {
      ERR(cx, "%s '%s' has %lld values, the input has %d channels", what[k], cx->n->input[k + 1],
          (long long)c[k]->numel, is.c);
      return CL_ERR_INVALID;
    }
  }
  cl_op_params p = zero_params();
  p.bn = (cl_bn_params){.eps = eps, .act = CL_ACT_NONE};
  int id = cl__onnx_add_node(cx, CL_OP_BATCHNORM, &x, 1, &p);
  if (id < 0) return (cl_status)id;
  const float *parts[4] = {c[0]->f, c[1]->f, c[2]->f, c[3]->f};
  const size_t lens[4] = {(size_t)is.c, (size_t)is.c, (size_t)is.c, (size_t)is.c};
  CL_TRY(cl__onnx_set_weights(cx, id, parts, lens, 4));
  return cl__onnx_set_node_out(cx, id, rank);
}

/* ONNX LRN sums channels [c - floor((size-1)/2), c + ceil((size-1)/2)]; PyTorch (the
 * IR) sums [c - size/2, c + (size-1)/2]: the same windows for odd sizes only. */
static cl_status op_lrn(cl__onnx_nctx *cx) {
  int x, rank;
  CL_TRY(cl__onnx_node_input(cx, 0, &x, &rank));
  CL_TRY(need_rank4(cx, rank));
  int64_t size;
  float alpha, beta, bias;
  CL_TRY(cl__onnx_attr_int(cx->n, "size", 0, &size));
  CL_TRY(cl__onnx_attr_float(cx->n, "alpha", 1e-4f, &alpha));
  CL_TRY(cl__onnx_attr_float(cx->n, "beta", 0.75f, &beta));
  CL_TRY(cl__onnx_attr_float(cx->n, "bias", 1.0f, &bias));
  if (size < 1 || size % 2 == 0 || size > 1 << 16) {
    ERR(cx, "size = %lld is not supported (odd sizes only: ONNX and PyTorch centre even windows "
        "differently)", (long long)size);
    return CL_ERR_UNSUPPORTED;
  }
  cl_op_params p = zero_params();
  p.lrn = (cl_lrn_params){.size = (int)size, .alpha = alpha, .beta = beta, .k = bias};
  int id = cl__onnx_add_node(cx, CL_OP_LRN, &x, 1, &p);
  if (id < 0) return (cl_status)id;
  return cl__onnx_set_node_out(cx, id, 4);
}

static cl_status op_softmax(cl__onnx_nctx *cx) {
  int x, rank;
  CL_TRY(cl__onnx_node_input(cx, 0, &x, &rank));
  const cl_shape s = cl__onnx_shape_of(cx->im, x);
  int64_t axis;
  CL_TRY(cl__onnx_attr_int(cx->n, "axis", cx->im->opset < 13 ? 1 : -1, &axis));
  if (axis < 0) axis += rank;
  /* The IR normalises over all c*h*w values of a sample. Before opset 13 Softmax
   * flattens from axis on (so axis 1 matches); from 13 it works along one axis. */
  int ok = axis == 1 && (rank == 2 || cx->im->opset < 13 || (s.h == 1 && s.w == 1));
  if (!ok) {
    ERR(cx, "Softmax over axis %lld of a rank-%d %dx%dx%dx%d tensor (opset %lld) is not supported; "
        "cleave normalises over all features of each sample", (long long)axis, rank, s.n, s.c, s.h,
        s.w, (long long)cx->im->opset);
    return CL_ERR_UNSUPPORTED;
  }
  return unary(cx, CL_OP_SOFTMAX);
}

/* ---- shape ops ---------------------------------------------------------------------- */

static cl_status alias_input(cl__onnx_nctx *cx) {
  cl__onnx_val *in = cl__onnx_input_val(cx, 0), *o;
  if (!in) return CL_ERR_INVALID;
  CL_TRY(cl__onnx_out_val(cx, 0, &o));
  o->kind = CL__ONNX_ALIAS;
  o->alias = (int)(in - cx->im->v);
  return CL_OK;
}

static cl_status flatten_to_2d(cl__onnx_nctx *cx, int x, int rank) {
  if (rank == 2) {
    cl__onnx_val *o;
    CL_TRY(cl__onnx_out_val(cx, 0, &o));
    o->kind = CL__ONNX_NODE;
    o->node = x;
    o->rank = 2;
    return CL_OK;
  }
  cl_op_params p = zero_params();
  int id = cl__onnx_add_node(cx, CL_OP_FLATTEN, &x, 1, &p);
  if (id < 0) return (cl_status)id;
  return cl__onnx_set_node_out(cx, id, 2);
}

static cl_status op_flatten(cl__onnx_nctx *cx) {
  int x, rank;
  CL_TRY(cl__onnx_node_input(cx, 0, &x, &rank));
  int64_t axis;
  CL_TRY(cl__onnx_attr_int(cx->n, "axis", 1, &axis));
  if (axis < 0) axis += rank;
  const cl_shape s = cl__onnx_shape_of(cx->im, x);
  if (axis == 1 || (axis == 0 && s.n == 1)) return flatten_to_2d(cx, x, rank);
  ERR(cx, "Flatten with axis = %lld is not supported (only 1: [N, C*H*W])", (long long)axis);
  return CL_ERR_UNSUPPORTED;
}

static cl_status op_reshape(cl__onnx_nctx *cx) {
  int x, rank;
  CL_TRY(cl__onnx_node_input(cx, 0, &x, &rank));
  cl__onnx_const *sh;
  CL_TRY(cl__onnx_const_input(cx, 1, "shape", &sh));
  int64_t allowzero;
  CL_TRY(cl__onnx_attr_int(cx->n, "allowzero", 0, &allowzero));
  const cl_shape s = cl__onnx_shape_of(cx->im, x);
  const int64_t in_dims[4] = {s.n, s.c, s.h, s.w};
  const int64_t total = cl_shape_numel(s);
  if (!sh->is_int || sh->rank != 1 || sh->numel < 1 || sh->numel > 4) {
    ERR(cx, "shape '%s' must be an int64 vector of 1 to 4 values", cx->n->input[1]);
    return CL_ERR_UNSUPPORTED;
  }
  int64_t d[4];
  int infer = -1;
  int64_t known = 1;
  for (int k = 0; k < sh->numel; k++) {
    d[k] = sh->i[k];
    if (d[k] == 0 && !allowzero) d[k] = k < rank ? in_dims[k] : 0;
    if (d[k] == -1) {
      if (infer >= 0) {
        ERR(cx, "shape has two -1 entries");
        return CL_ERR_INVALID;
      }
      infer = k;
    } else if (d[k] < 0) {
      ERR(cx, "shape[%d] = %lld is invalid", k, (long long)d[k]);
      return CL_ERR_INVALID;
    } else if (d[k] && known > total / d[k]) {
      known = -1; /* more values than the input has (and no int64 overflow: fuzzing) */
    } else if (known >= 0) {
      known *= d[k];
    }
  }
  if (infer >= 0) d[infer] = known > 0 ? total / known : 0;
  int64_t prod = known < 0 ? -1 : 1;
  for (int k = 0; k < sh->numel && prod >= 0; k++) prod = d[k] && prod > total / d[k] ? -1 : prod * d[k];
  if (prod != total) {
    ERR(cx, "cannot reshape %dx%dx%dx%d (%lld values) to the requested shape", s.n, s.c, s.h, s.w,
        (long long)total);
    return CL_ERR_INVALID;
  }
  if (sh->numel == 2 && d[0] == s.n) return flatten_to_2d(cx, x, rank);
  if (sh->numel == 4 && rank == 4 && d[0] == s.n && d[1] == s.c && d[2] == s.h && d[3] == s.w)
    return alias_input(cx);
  if (sh->numel == 4 && rank == 2 && d[0] == s.n && d[1] == s.c && d[2] == 1 && d[3] == 1) {
    /* [n, f] -> [n, f, 1, 1]: same memory, now rank 4 (e.g. before a 1x1 Conv). */
    cl__onnx_val *o;
    CL_TRY(cl__onnx_out_val(cx, 0, &o));
    o->kind = CL__ONNX_NODE;
    o->node = x;
    o->rank = 4;
    return CL_OK;
  }
  ERR(cx, "Reshape of %dx%dx%dx%d (rank %d) to a %lld-D shape is not supported; cleave supports "
      "flattening to [N, C*H*W] and no-op reshapes", s.n, s.c, s.h, s.w, rank, (long long)sh->numel);
  return CL_ERR_UNSUPPORTED;
}

static cl_status op_concat(cl__onnx_nctx *cx) {
  const int n_in = (int)cx->n->n_input;
  if (n_in < 1 || n_in > 4096) {
    ERR(cx, "needs 1 to 4096 inputs, has %d", n_in);
    return CL_ERR_INVALID;
  }
  int *ids = malloc(sizeof(int) * (size_t)n_in);
  if (!ids) return CL_ERR_NOMEM;
  int rank = 0;
  cl_status st = CL_OK;
  for (int k = 0; k < n_in && st == CL_OK; k++) {
    int r;
    st = cl__onnx_node_input(cx, (size_t)k, &ids[k], &r);
    if (st == CL_OK && k && r != rank) {
      ERR(cx, "inputs have different ranks (%d and %d)", rank, r);
      st = CL_ERR_INVALID;
    }
    rank = r;
  }
  int64_t axis = 0;
  if (st == CL_OK) st = cl__onnx_attr_int(cx->n, "axis", 0, &axis);
  if (st == CL_OK && axis < 0) axis += rank;
  if (st == CL_OK && axis != 1) {
    ERR(cx, "Concat along axis %lld is not supported (only channels / features, axis 1)", (long long)axis);
    st = CL_ERR_UNSUPPORTED;
  }
  /* A one-input Concat is an identity (torchvision's DenseNet concatenates a one-tensor
   * list in the first layer of every block): no IR node, so the graph plans the same
   * steps as the zoo model. */
  if (st == CL_OK && n_in == 1) {
    free(ids);
    return alias_input(cx);
  }
  int id = -1;
  if (st == CL_OK) {
    cl_op_params p = zero_params();
    id = cl__onnx_add_node(cx, CL_OP_CONCAT, ids, n_in, &p);
    if (id < 0) st = (cl_status)id;
  }
  free(ids);
  if (st != CL_OK) return st;
  return cl__onnx_set_node_out(cx, id, rank);
}

static cl_status op_dropout(cl__onnx_nctx *cx) {
  int x, rank;
  CL_TRY(cl__onnx_node_input(cx, 0, &x, &rank));
  CL_TRY(single_output(cx));
  float ratio = 0.5f;
  if (cx->im->opset < 12) {
    CL_TRY(cl__onnx_attr_float(cx->n, "ratio", 0.5f, &ratio));
  } else {
    cl__onnx_const *c;
    if (cl__onnx_has_input(cx, 1)) {
      CL_TRY(cl__onnx_const_input(cx, 1, "ratio", &c));
      if (c->numel == 1) ratio = (float)cl__onnx_const_get(c, 0);
    }
    if (cl__onnx_has_input(cx, 2)) {
      CL_TRY(cl__onnx_const_input(cx, 2, "training_mode", &c));
      if (c->numel != 1 || cl__onnx_const_get(c, 0) != 0.0) {
        ERR(cx, "training_mode = true is not supported (inference only)");
        return CL_ERR_UNSUPPORTED;
      }
    }
  }
  cl_op_params p = zero_params();
  p.dropout.p = ratio;
  int id = cl__onnx_add_node(cx, CL_OP_DROPOUT, &x, 1, &p);
  if (id < 0) return (cl_status)id;
  return cl__onnx_set_node_out(cx, id, rank);
}

static cl_status op_identity(cl__onnx_nctx *cx) { return alias_input(cx); }

static cl_status op_constant(cl__onnx_nctx *cx) {
  cl__onnx_val *o;
  CL_TRY(cl__onnx_out_val(cx, 0, &o));
  const Onnx__AttributeProto *a;
  cl__onnx_const *c = &o->c;
  memset(c, 0, sizeof *c);
  if ((a = cl__onnx_attr(cx->n, "value")) && a->t) {
    CL_TRY(cl__onnx_const_decode(a->t, cx->label, c));
  } else if ((a = cl__onnx_attr(cx->n, "value_float")) || (a = cl__onnx_attr(cx->n, "value_floats"))) {
    const int scalar = !strcmp(a->name, "value_float");
    c->numel = scalar ? 1 : (int64_t)a->n_floats;
    c->rank = scalar ? 0 : 1;
    c->dims[0] = c->numel;
    c->f = malloc(sizeof(float) * (size_t)(c->numel ? c->numel : 1));
    if (!c->f) return CL_ERR_NOMEM;
    if (scalar) c->f[0] = a->f;
    else if (a->n_floats) memcpy(c->f, a->floats, sizeof(float) * a->n_floats);
  } else if ((a = cl__onnx_attr(cx->n, "value_int")) || (a = cl__onnx_attr(cx->n, "value_ints"))) {
    const int scalar = !strcmp(a->name, "value_int");
    c->is_int = 1;
    c->numel = scalar ? 1 : (int64_t)a->n_ints;
    c->rank = scalar ? 0 : 1;
    c->dims[0] = c->numel;
    c->i = malloc(sizeof(int64_t) * (size_t)(c->numel ? c->numel : 1));
    if (!c->i) return CL_ERR_NOMEM;
    if (scalar) c->i[0] = a->i;
    else for (size_t k = 0; k < a->n_ints; k++) c->i[k] = a->ints[k];
  } else {
    ERR(cx, "only value, value_float(s) and value_int(s) constants are supported");
    return CL_ERR_UNSUPPORTED;
  }
  o->kind = CL__ONNX_CONST;
  o->decoded = 1;
  return CL_OK;
}

/* Pad with zeros on H / W only; the consumer (Conv, AveragePool) absorbs it. */
static cl_status op_pad(cl__onnx_nctx *cx) {
  cl__onnx_val *in = cl__onnx_input_val(cx, 0);
  if (!in) return CL_ERR_INVALID;
  char mode[32];
  CL_TRY(cl__onnx_attr_str(cx->n, "mode", "constant", mode, sizeof mode));
  if (strcmp(mode, "constant")) {
    ERR(cx, "mode = '%s' is not supported (only constant zero padding)", mode);
    return CL_ERR_UNSUPPORTED;
  }
  int64_t pads[8];
  int np = 0;
  float value = 0.0f;
  if (cx->im->opset < 11) {
    CL_TRY(cl__onnx_attr_ints(cx->n, "pads", pads, 8, &np));
    CL_TRY(cl__onnx_attr_float(cx->n, "value", 0.0f, &value));
  } else {
    cl__onnx_const *c;
    CL_TRY(cl__onnx_const_input(cx, 1, "pads", &c));
    if (!c->is_int || c->numel > 8) {
      ERR(cx, "pads must be an int64 vector of at most 8 values");
      return CL_ERR_INVALID;
    }
    np = (int)c->numel;
    for (int k = 0; k < np; k++) pads[k] = c->i[k];
    if (cl__onnx_has_input(cx, 2)) {
      CL_TRY(cl__onnx_const_input(cx, 2, "constant_value", &c));
      if (c->numel >= 1) value = (float)cl__onnx_const_get(c, 0);
    }
    if (cl__onnx_has_input(cx, 3)) {
      ERR(cx, "the axes input is not supported");
      return CL_ERR_UNSUPPORTED;
    }
  }
  if (value != 0.0f) {
    ERR(cx, "constant value %g is not supported (only zero padding)", (double)value);
    return CL_ERR_UNSUPPORTED;
  }
  int x, rank, prev[4] = {0, 0, 0, 0};
  if (in->kind == CL__ONNX_PAD) {
    x = in->node;
    rank = in->rank;
    memcpy(prev, in->pads, sizeof prev);
  } else {
    CL_TRY(cl__onnx_node_input(cx, 0, &x, &rank));
  }
  if (rank != 4 || np != 8 || pads[0] || pads[1] || pads[4] || pads[5]) {
    ERR(cx, "only H/W padding of a rank-4 tensor is supported (%d pads given)", np);
    return CL_ERR_UNSUPPORTED;
  }
  for (int k = 0; k < 8; k++)
    if (pads[k] < 0 || pads[k] > 1 << 16) {
      ERR(cx, "pads[%d] = %lld is not supported (negative pads crop)", k, (long long)pads[k]);
      return CL_ERR_UNSUPPORTED;
    }
  cl__onnx_val *o;
  CL_TRY(cl__onnx_out_val(cx, 0, &o));
  o->kind = CL__ONNX_PAD;
  o->node = x;
  o->rank = 4;
  o->pads[0] = prev[0] + (int)pads[2]; /* top */
  o->pads[1] = prev[1] + (int)pads[3]; /* left */
  o->pads[2] = prev[2] + (int)pads[6]; /* bottom */
  o->pads[3] = prev[3] + (int)pads[7]; /* right */
  return CL_OK;
}

/* ---- dispatch ----------------------------------------------------------------------- */

static const struct {
  const char *op;
  cl_status (*fn)(cl__onnx_nctx *cx);
} g_ops[] = {
    {"Conv", op_conv},
    {"Gemm", op_gemm},
    {"MatMul", op_matmul},
    {"Relu", op_relu},
    {"Clip", op_clip},
    {"Sigmoid", op_sigmoid},
    {"HardSwish", op_hswish},
    {"MaxPool", op_maxpool},
    {"AveragePool", op_avgpool},
    {"GlobalAveragePool", op_gap},
    {"BatchNormalization", op_bn},
    {"Add", op_add},
    {"Mul", op_mul},
    {"Concat", op_concat},
    {"Flatten", op_flatten},
    {"Reshape", op_reshape},
    {"Softmax", op_softmax},
    {"LRN", op_lrn},
    {"Dropout", op_dropout},
    {"Pad", op_pad},
    {"Identity", op_identity},
    {"Constant", op_constant},
};

cl_status cl__onnx_import_node(cl__onnx_nctx *cx) {
  const char *dom = cx->n->domain;
  if (dom && dom[0] && strcmp(dom, "ai.onnx")) {
    ERR(cx, "op %s of domain '%s' is not supported (only the standard ai.onnx domain)",
        cx->n->op_type, dom);
    return CL_ERR_UNSUPPORTED;
  }
  for (size_t k = 0; k < sizeof g_ops / sizeof g_ops[0]; k++)
    if (!strcmp(g_ops[k].op, cx->n->op_type)) return g_ops[k].fn(cx);
  char list[400] = "";
  for (size_t k = 0; k < sizeof g_ops / sizeof g_ops[0]; k++) {
    size_t l = strlen(list);
    snprintf(list + l, sizeof list - l, "%s%s", k ? ", " : "", g_ops[k].op);
  }
  ERR(cx, "op %s is not supported by cleave's importer (supported: %s)", cx->n->op_type, list);
  return CL_ERR_UNSUPPORTED;
}
