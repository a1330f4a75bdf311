/* Builder helpers for the zoo: naming, sticky errors, one helper per op. */
#include "zoo_util.h"

#include <stdio.h>
#include <string.h>

/* Longest node name the zoo produces is well below this (densenet201's
 * "features.denseblock3.denselayer48.norm2" is 40 characters). */
#define ZB_NAME_MAX 256

static int zb_add_node(cl__zb *b, cl_op op, const int *ins, int n_in, const char *pfx,
                       const char *sfx, const cl_op_params *p) {
  if (b->st != CL_OK) return -1;
  char name[ZB_NAME_MAX];
  int len;
  if (!pfx || !*pfx)
    len = snprintf(name, sizeof name, "%s", sfx);
  else if (!sfx || !*sfx)
    len = snprintf(name, sizeof name, "%s", pfx);
  else
    len = snprintf(name, sizeof name, "%s.%s", pfx, sfx);
  if (len < 0 || (size_t)len >= sizeof name) {
    cl_log_error("zoo %s: node name '%s.%s' longer than %d characters", cl_graph_name(b->g),
                 pfx ? pfx : "", sfx ? sfx : "", ZB_NAME_MAX - 1);
    b->st = CL_ERR_INTERNAL;
    return -1;
  }
  for (int i = 0; i < n_in; i++) {
    if (ins[i] < 0) { /* cannot happen while st == CL_OK; a builder bug */
      cl_log_error("zoo %s: node '%s': input %d is invalid (%d)", cl_graph_name(b->g), name, i, ins[i]);
      b->st = CL_ERR_INTERNAL;
      return -1;
    }
  }
  cl_op_params zero;
  memset(&zero, 0, sizeof zero);
  int id = cl_graph_add(b->g, op, name, ins, n_in, p ? p : &zero);
  if (id < 0) {
    b->st = (cl_status)id;
    return -1;
  }
  if (b->joining < 2) b->layer++; /* 1: the first node of a composite layer opens it */
  if (b->joining == 1) b->joining = 2;
  cl_graph_node_mut(b->g, id)->layer = b->layer;
  return id;
}

void cl__zb_layer_begin(cl__zb *b) { b->joining = 1; }
void cl__zb_layer_end(cl__zb *b) { b->joining = 0; }

int cl__zb_node(cl__zb *b, cl_op op, const int *ins, int n, const char *pfx, const char *sfx,
                const cl_op_params *p) {
  return zb_add_node(b, op, ins, n, pfx, sfx, p);
}

int cl__zb_softmax(cl__zb *b, int in, const char *pfx, const char *sfx) {
  return zb_add_node(b, CL_OP_SOFTMAX, &in, 1, pfx, sfx, NULL);
}

int cl__zb_pad(cl__zb *b, int in, const char *pfx, const char *sfx, int pt, int pl, int pb, int pr) {
  cl_op_params p;
  memset(&p, 0, sizeof p);
  p.pad = (cl_pad_params){pt, pl, pb, pr};
  return zb_add_node(b, CL_OP_PAD, &in, 1, pfx, sfx, &p);
}

int cl__zb_scaled_add(cl__zb *b, int a, int c, const char *pfx, const char *sfx, float scale) {
  int ins[2] = {a, c};
  cl_op_params p;
  memset(&p, 0, sizeof p);
  p.eltwise.scale = scale;
  return zb_add_node(b, CL_OP_ADD, ins, 2, pfx, sfx, &p);
}

int cl__zb_begin(cl__zb *b, const char *name, cl_shape shape) {
  b->g = NULL;
  b->layer = 0; /* the input node is layer 0 */
  b->joining = 0;
  b->st = cl_graph_create(name, &b->g);
  if (b->st != CL_OK) {
    cl_log_error("zoo %s: cannot create graph: %s", name, cl_status_str(b->st));
    return -1;
  }
  int id = cl_graph_add_input(b->g, "input", shape);
  if (id < 0) b->st = (cl_status)id;
  return id;
}

cl_status cl__zb_finish(cl__zb *b, cl_graph **out) {
  *out = NULL;
  if (b->st != CL_OK) {
    cl_log_error("zoo: building model '%s' failed: %s", b->g ? cl_graph_name(b->g) : "?",
                 cl_status_str(b->st));
    cl_graph_destroy(b->g);
    b->g = NULL;
    return b->st;
  }
  *out = b->g;
  b->g = NULL;
  return CL_OK;
}

cl_shape cl__zb_shape(const cl__zb *b, int id) {
  const cl_node *nd = (b->st == CL_OK && b->g) ? cl_graph_node(b->g, id) : NULL;
  cl_shape zero = {0, 0, 0, 0};
  return nd ? nd->out : zero;
}

int cl__zb_conv_p(cl__zb *b, int in, const char *pfx, const char *sfx, const cl_conv_params *cp) {
  cl_op_params p;
  memset(&p, 0, sizeof p);
  p.conv = *cp;
  p.conv.act = CL_ACT_NONE;
  if (p.conv.dh == 0) p.conv.dh = 1;
  if (p.conv.dw == 0) p.conv.dw = 1;
  if (p.conv.groups == 0) p.conv.groups = 1;
  return zb_add_node(b, CL_OP_CONV, &in, 1, pfx, sfx, &p);
}

cl_conv_params cl__zb_conv_params(int out_c, int kh, int kw, int s, int groups, int bias) {
  cl_conv_params c;
  memset(&c, 0, sizeof c); /* no padding, dilation 1, no fused activation */
  c.out_c = out_c;
  c.kh = kh;
  c.kw = kw;
  c.sh = c.sw = s;
  c.dh = c.dw = 1;
  c.groups = groups;
  c.has_bias = bias;
  return c;
}

int cl__zb_conv(cl__zb *b, int in, const char *pfx, const char *sfx, int out_c, int k, int s,
                int pad, int groups, int bias) {
  cl_conv_params c = cl__zb_conv_params(out_c, k, k, s, groups, bias);
  c.pt = c.pl = c.pb = c.pr = pad;
  return cl__zb_conv_p(b, in, pfx, sfx, &c);
}

int cl__zb_conv_rect(cl__zb *b, int in, const char *pfx, const char *sfx, int out_c, int kh,
                     int kw, int s, int ph, int pw, int bias) {
  cl_conv_params c = cl__zb_conv_params(out_c, kh, kw, s, 1, bias);
  c.pt = c.pb = ph;
  c.pl = c.pr = pw;
  return cl__zb_conv_p(b, in, pfx, sfx, &c);
}

int cl__zb_bn(cl__zb *b, int in, const char *pfx, const char *sfx, float eps) {
  cl_op_params p;
  memset(&p, 0, sizeof p);
  p.bn.eps = eps;
  p.bn.act = CL_ACT_NONE;
  return zb_add_node(b, CL_OP_BATCHNORM, &in, 1, pfx, sfx, &p);
}

int cl__zb_relu(cl__zb *b, int in, const char *pfx, const char *sfx) {
  return zb_add_node(b, CL_OP_RELU, &in, 1, pfx, sfx, NULL);
}

int cl__zb_relu6(cl__zb *b, int in, const char *pfx, const char *sfx) {
  return zb_add_node(b, CL_OP_RELU6, &in, 1, pfx, sfx, NULL);
}

static cl_op_params pool_params(int k, int s, int pad, int ceil_mode, int count_include_pad) {
  cl_op_params p;
  memset(&p, 0, sizeof p);
  p.pool.kh = p.pool.kw = k;
  p.pool.sh = p.pool.sw = s;
  p.pool.pt = p.pool.pl = p.pool.pb = p.pool.pr = pad;
  p.pool.ceil_mode = ceil_mode;
  p.pool.count_include_pad = count_include_pad;
  return p;
}

int cl__zb_maxpool(cl__zb *b, int in, const char *pfx, const char *sfx, int k, int s, int pad,
                   int ceil_mode) {
  cl_op_params p = pool_params(k, s, pad, ceil_mode, 0);
  return zb_add_node(b, CL_OP_MAXPOOL, &in, 1, pfx, sfx, &p);
}

int cl__zb_avgpool(cl__zb *b, int in, const char *pfx, const char *sfx, int k, int s, int pad,
                   int ceil_mode, int count_include_pad) {
  cl_op_params p = pool_params(k, s, pad, ceil_mode, count_include_pad);
  return zb_add_node(b, CL_OP_AVGPOOL, &in, 1, pfx, sfx, &p);
}

int cl__zb_gap(cl__zb *b, int in, const char *pfx, const char *sfx) {
  return zb_add_node(b, CL_OP_GAP, &in, 1, pfx, sfx, NULL);
}

int cl__zb_adaptive_avgpool(cl__zb *b, int in, const char *pfx, const char *sfx, int oh, int ow) {
  if (b->st != CL_OK) return -1;
  if (oh == 1 && ow == 1) return cl__zb_gap(b, in, pfx, sfx);
  cl_shape s = cl__zb_shape(b, in);
  if (s.h % oh != 0 || s.w % ow != 0 || s.h / oh != s.w / ow) {
    cl_log_error("zoo %s: %s%s%s: adaptive average pooling %dx%d -> %dx%d needs uneven windows, "
                 "which cleave's pooling ops cannot express; use the reference input size",
                 cl_graph_name(b->g), pfx, *pfx ? "." : "", sfx, s.h, s.w, oh, ow);
    b->st = CL_ERR_UNSUPPORTED;
    return -1;
  }
  int k = s.h / oh; /* PyTorch's windows are exactly k x k, stride k, when divisible */
  cl_op_params p = pool_params(k, k, 0, 0, 1);
  return zb_add_node(b, CL_OP_AVGPOOL, &in, 1, pfx, sfx, &p);
}

int cl__zb_add(cl__zb *b, int a, int c, const char *pfx, const char *sfx) {
  int ins[2] = {a, c};
  cl_op_params p;
  memset(&p, 0, sizeof p);
  p.eltwise.act = CL_ACT_NONE;
  return zb_add_node(b, CL_OP_ADD, ins, 2, pfx, sfx, &p);
}

int cl__zb_concat(cl__zb *b, const int *ins, int n, const char *pfx, const char *sfx) {
  return zb_add_node(b, CL_OP_CONCAT, ins, n, pfx, sfx, NULL);
}

int cl__zb_lrn(cl__zb *b, int in, const char *pfx, const char *sfx, int size, float alpha,
               float beta, float k) {
  cl_op_params p;
  memset(&p, 0, sizeof p);
  p.lrn.size = size;
  p.lrn.alpha = alpha;
  p.lrn.beta = beta;
  p.lrn.k = k;
  return zb_add_node(b, CL_OP_LRN, &in, 1, pfx, sfx, &p);
}

int cl__zb_dropout(cl__zb *b, int in, const char *pfx, const char *sfx, float prob) {
  cl_op_params p;
  memset(&p, 0, sizeof p);
  p.dropout.p = prob;
  return zb_add_node(b, CL_OP_DROPOUT, &in, 1, pfx, sfx, &p);
}

int cl__zb_flatten(cl__zb *b, int in, const char *pfx, const char *sfx) {
  return zb_add_node(b, CL_OP_FLATTEN, &in, 1, pfx, sfx, NULL);
}

int cl__zb_fc(cl__zb *b, int in, const char *pfx, const char *sfx, int out_features, int bias) {
  cl_op_params p;
  memset(&p, 0, sizeof p);
  p.fc.out_features = out_features;
  p.fc.has_bias = bias;
  p.fc.act = CL_ACT_NONE;
  return zb_add_node(b, CL_OP_FC, &in, 1, pfx, sfx, &p);
}
