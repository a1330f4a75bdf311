/* Keras-layer builder helpers (see keras_util.h). */
#include "keras_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const g_auto[ZK_COUNT] = {
    "conv2d", "batch_normalization", "activation", "max_pooling2d", "average_pooling2d",
    "concatenate", "add", "zero_padding2d", "cropping2d", "global_average_pooling2d"};

/* The layer's name: the given one, or Keras's next automatic name of the class. */
static const char *lname(cl__zk *k, const char *name, int kind, char *buf, size_t cap) {
  if (name) {
    snprintf(buf, cap, "%s", name);
  } else {
    int n = k->auto_n[kind]++;
    if (n) snprintf(buf, cap, "%s_%d", g_auto[kind], n);
    else snprintf(buf, cap, "%s", g_auto[kind]);
  }
  return buf;
}

int cl__zk_begin(cl__zk *k, const char *name, int hw) {
  memset(k, 0, sizeof *k);
  return cl__zb_begin(&k->b, name, (cl_shape){1, 3, hw, hw});
}

const char *cl__zk_name(cl__zk *k, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(k->nm, sizeof k->nm, fmt, ap);
  va_end(ap);
  return k->nm;
}

void cl__zk_same(int in, int kk, int s, int *before, int *after) {
  int out = (in + s - 1) / s;
  int total = (out - 1) * s + kk - in;
  if (total < 0) total = 0;
  *before = total / 2;
  *after = total - total / 2;
}

static cl_conv_params conv_params(const cl__zk *k, int x, int out_c, int kh, int kw, int s, int same) {
  cl_conv_params c = cl__zb_conv_params(out_c, kh, kw, s, 1, 0);
  if (same) {
    cl_shape in = cl__zb_shape(&k->b, x);
    cl__zk_same(in.h, kh, s, &c.pt, &c.pb);
    cl__zk_same(in.w, kw, s, &c.pl, &c.pr);
  }
  return c;
}

int cl__zk_conv(cl__zk *k, int x, const char *name, int out_c, int kh, int kw, int s, int same, int bias,
                cl_act act) {
  char nm[160];
  lname(k, name, ZK_CONV, nm, sizeof nm);
  cl_conv_params c = conv_params(k, x, out_c, kh, kw, s, same);
  c.has_bias = bias;
  if (act == CL_ACT_NONE) return cl__zb_conv_p(&k->b, x, "", nm, &c);
  cl__zb_layer_begin(&k->b);
  x = cl__zb_conv_p(&k->b, x, "", nm, &c);
  x = cl__zb_relu(&k->b, x, nm, "relu"); /* "<name>.relu" */
  cl__zb_layer_end(&k->b);
  return x;
}

int cl__zk_dwconv(cl__zk *k, int x, const char *name, int kk, int s, int same) {
  cl_conv_params c = conv_params(k, x, cl__zb_shape(&k->b, x).c, kk, kk, s, same);
  c.groups = c.out_c;
  return cl__zb_conv_p(&k->b, x, "", name, &c);
}

int cl__zk_sepconv(cl__zk *k, int x, const char *name, int out_c, int kk, int s, int same) {
  char nm[160];
  snprintf(nm, sizeof nm, "%s", name);
  cl_conv_params c = conv_params(k, x, cl__zb_shape(&k->b, x).c, kk, kk, s, same);
  c.groups = c.out_c;
  cl__zb_layer_begin(&k->b);
  x = cl__zb_conv_p(&k->b, x, nm, "depthwise", &c);
  x = cl__zb_conv(&k->b, x, "", nm, out_c, 1, 1, 0, 1, 0);
  cl__zb_layer_end(&k->b);
  return x;
}

int cl__zk_bn(cl__zk *k, int x, const char *name, float eps, int scale) {
  char nm[160];
  lname(k, name, ZK_BN, nm, sizeof nm);
  cl_op_params p;
  memset(&p, 0, sizeof p);
  p.bn.eps = eps;
  p.bn.no_scale = !scale;
  return cl__zb_node(&k->b, CL_OP_BATCHNORM, &x, 1, "", nm, &p);
}

int cl__zk_relu(cl__zk *k, int x, const char *name, int relu6) {
  char nm[160];
  lname(k, name, ZK_ACT, nm, sizeof nm);
  return relu6 ? cl__zb_relu6(&k->b, x, "", nm) : cl__zb_relu(&k->b, x, "", nm);
}

int cl__zk_pad(cl__zk *k, int x, const char *name, int crop, int t, int l, int bt, int r) {
  char nm[160];
  lname(k, name, crop ? ZK_CROP : ZK_ZEROPAD, nm, sizeof nm);
  int sg = crop ? -1 : 1;
  return cl__zb_pad(&k->b, x, "", nm, sg * t, sg * l, sg * bt, sg * r);
}

int cl__zk_correct_pad(cl__zk *k, int x, const char *name, int kk) {
  cl_shape s = cl__zb_shape(&k->b, x);
  int c = kk / 2;
  return cl__zk_pad(k, x, name, 0, c - 1 + s.h % 2, c - 1 + s.w % 2, c, c);
}

int cl__zk_pool(cl__zk *k, int x, const char *name, int max, int kk, int s, int same) {
  char nm[160];
  lname(k, name, max ? ZK_MAXPOOL : ZK_AVGPOOL, nm, sizeof nm);
  cl_op_params p;
  memset(&p, 0, sizeof p);
  p.pool.kh = p.pool.kw = kk;
  p.pool.sh = p.pool.sw = s;
  if (same) { /* TF pooling ignores the padded pixels: -inf for max, excluded from the mean */
    cl_shape in = cl__zb_shape(&k->b, x);
    cl__zk_same(in.h, kk, s, &p.pool.pt, &p.pool.pb);
    cl__zk_same(in.w, kk, s, &p.pool.pl, &p.pool.pr);
  }
  return cl__zb_node(&k->b, max ? CL_OP_MAXPOOL : CL_OP_AVGPOOL, &x, 1, "", nm, &p);
}

int cl__zk_add(cl__zk *k, const int *ins, int n, const char *name) {
  char nm[160];
  lname(k, name, ZK_ADD, nm, sizeof nm);
  return cl__zb_node(&k->b, CL_OP_ADD, ins, n, "", nm, NULL);
}

int cl__zk_concat(cl__zk *k, const int *ins, int n, const char *name) {
  char nm[160];
  lname(k, name, ZK_CONCAT, nm, sizeof nm);
  return cl__zb_concat(&k->b, ins, n, "", nm);
}

int cl__zk_gap(cl__zk *k, int x, const char *name) {
  char nm[160];
  lname(k, name, ZK_GAP, nm, sizeof nm);
  return cl__zb_gap(&k->b, x, "", nm);
}

int cl__zk_dense(cl__zk *k, int x, const char *name, int units, int softmax) {
  char nm[160];
  snprintf(nm, sizeof nm, "%s", name);
  cl__zb_layer_begin(&k->b);
  x = cl__zb_fc(&k->b, x, "", nm, units, 1);
  x = softmax ? cl__zb_softmax(&k->b, x, nm, "softmax") : cl__zb_relu(&k->b, x, nm, "relu");
  cl__zb_layer_end(&k->b);
  return x;
}
