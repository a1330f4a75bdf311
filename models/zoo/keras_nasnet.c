/* NASNetMobile and NASNetLarge as in Keras (nasnet.py, Zoph et al. 2018), layer by layer
 * (conventions in keras_nets.c): stem conv 3x3/2 valid + BN, two reduction cells
 * ("stem_1", "stem_2"), then num_blocks normal cells, a reduction cell, num_blocks normal
 * cells, a reduction cell, num_blocks normal cells, ReLU, global average pooling and the
 * softmax classifier. A cell's second input p is adjusted to the cell's shape
 * (_adjust_block): reduced with two strided 1x1 average-pool paths, the second shifted
 * one pixel by ZeroPadding2D((0,1),(0,1)) + Cropping2D((1,0),(1,0)), or projected with a
 * 1x1 conv. Unnamed Keras layers (the cells' ReLUs, the shift's pad and crop) take
 * Keras's automatic names. BN eps 1e-3. */
#include <stdio.h>

#include "keras_util.h"

#define N_EPS 1e-3f

typedef struct nas_cfg {
  const char *name;
  int hw, penultimate, blocks, stem, skip_reduction;
} nas_cfg;

/* _separable_conv_block: ReLU, [correct_pad], sepconv (stride s), BN, ReLU, sepconv, BN. */
static int sep_block(cl__zk *k, int x, const char *id, int f, int ks, int s) {
  char bid[64];
  snprintf(bid, sizeof bid, "%s", id);
  x = cl__zk_relu(k, x, NULL, 0);
  if (s == 2) x = cl__zk_correct_pad(k, x, cl__zk_name(k, "separable_conv_1_pad_%s", bid), ks);
  x = cl__zk_sepconv(k, x, cl__zk_name(k, "separable_conv_1_%s", bid), f, ks, s, s == 2 ? ZK_VALID : ZK_SAME);
  x = cl__zk_bn(k, x, cl__zk_name(k, "separable_conv_1_bn_%s", bid), N_EPS, 1);
  x = cl__zk_relu(k, x, NULL, 0);
  x = cl__zk_sepconv(k, x, cl__zk_name(k, "separable_conv_2_%s", bid), f, ks, 1, ZK_SAME);
  return cl__zk_bn(k, x, cl__zk_name(k, "separable_conv_2_bn_%s", bid), N_EPS, 1);
}

static int conv1x1(cl__zk *k, int x, const char *name, int f) {
  return cl__zk_conv(k, x, name, f, 1, 1, 1, ZK_SAME, 0, CL_ACT_NONE);
}

/* _adjust_block: p matched to ip's height (reduction) or to f channels (projection). */
static int adjust(cl__zk *k, int p, int ip, int f, const char *id) {
  if (p < 0) return ip;
  cl_shape ps = cl__zb_shape(&k->b, p), is = cl__zb_shape(&k->b, ip);
  if (ps.h != is.h) {
    p = cl__zk_relu(k, p, cl__zk_name(k, "adjust_relu_1_%s", id), 0);
    int p1 = cl__zk_pool(k, p, cl__zk_name(k, "adjust_avg_pool_1_%s", id), 0, 1, 2, ZK_VALID);
    p1 = conv1x1(k, p1, cl__zk_name(k, "adjust_conv_1_%s", id), f / 2);
    int p2 = cl__zk_pad(k, p, NULL, 0, 0, 0, 1, 1);
    p2 = cl__zk_pad(k, p2, NULL, 1, 1, 1, 0, 0);
    p2 = cl__zk_pool(k, p2, cl__zk_name(k, "adjust_avg_pool_2_%s", id), 0, 1, 2, ZK_VALID);
    p2 = conv1x1(k, p2, cl__zk_name(k, "adjust_conv_2_%s", id), f / 2);
    int ins[2] = {p1, p2};
    p = cl__zk_concat(k, ins, 2, NULL);
    return cl__zk_bn(k, p, cl__zk_name(k, "adjust_bn_%s", id), N_EPS, 1);
  }
  if (ps.c != f) {
    p = cl__zk_relu(k, p, NULL, 0);
    p = conv1x1(k, p, cl__zk_name(k, "adjust_conv_projection_%s", id), f);
    return cl__zk_bn(k, p, cl__zk_name(k, "adjust_bn_%s", id), N_EPS, 1);
  }
  return p;
}

/* ReLU + 1x1 conv + BN of the cell input ("<kind>_conv_1_<id>", "<kind>_bn_1_<id>"). */
static int cell_h(cl__zk *k, int ip, const char *kind, const char *id, int f) {
  int h = cl__zk_relu(k, ip, NULL, 0);
  h = conv1x1(k, h, cl__zk_name(k, "%s_conv_1_%s", kind, id), f);
  return cl__zk_bn(k, h, cl__zk_name(k, "%s_bn_1_%s", kind, id), N_EPS, 1);
}

static int add2(cl__zk *k, int a, int b, const char *name) {
  int ins[2] = {a, b};
  return cl__zk_add(k, ins, 2, name);
}

/* "<fmt % id>" in the cell's name buffer t: at most one ID() per call's arguments. */
#define ID(fmt) (snprintf(t, sizeof t, fmt, id), t)

static int normal_cell(cl__zk *k, int ip, int p, int f, const char *id) {
  char t[64];
  p = adjust(k, p, ip, f, id);
  int h = cell_h(k, ip, "normal", id, f);
  int x1 = sep_block(k, h, ID("normal_left1_%s"), f, 5, 1);
  int r1 = sep_block(k, p, ID("normal_right1_%s"), f, 3, 1);
  x1 = add2(k, x1, r1, ID("normal_add_1_%s"));
  int x2 = sep_block(k, p, ID("normal_left2_%s"), f, 5, 1);
  int r2 = sep_block(k, p, ID("normal_right2_%s"), f, 3, 1);
  x2 = add2(k, x2, r2, ID("normal_add_2_%s"));
  int x3 = cl__zk_pool(k, h, ID("normal_left3_%s"), 0, 3, 1, ZK_SAME);
  x3 = add2(k, x3, p, ID("normal_add_3_%s"));
  int x4 = cl__zk_pool(k, p, ID("normal_left4_%s"), 0, 3, 1, ZK_SAME);
  int r4 = cl__zk_pool(k, p, ID("normal_right4_%s"), 0, 3, 1, ZK_SAME);
  x4 = add2(k, x4, r4, ID("normal_add_4_%s"));
  int x5 = sep_block(k, h, ID("normal_left5_%s"), f, 3, 1);
  x5 = add2(k, x5, h, ID("normal_add_5_%s"));
  int ins[6] = {p, x1, x2, x3, x4, x5};
  return cl__zk_concat(k, ins, 6, ID("normal_concat_%s"));
}

static int reduction_cell(cl__zk *k, int ip, int p, int f, const char *id) {
  char t[64];
  p = adjust(k, p, ip, f, id);
  int h = cell_h(k, ip, "reduction", id, f);
  int h3 = cl__zk_correct_pad(k, h, ID("reduction_pad_1_%s"), 3);
  int x1 = sep_block(k, h, ID("reduction_left1_%s"), f, 5, 2);
  int r1 = sep_block(k, p, ID("reduction_right1_%s"), f, 7, 2);
  x1 = add2(k, x1, r1, ID("reduction_add_1_%s"));
  int x2 = cl__zk_pool(k, h3, ID("reduction_left2_%s"), 1, 3, 2, ZK_VALID);
  int r2 = sep_block(k, p, ID("reduction_right2_%s"), f, 7, 2);
  x2 = add2(k, x2, r2, ID("reduction_add_2_%s"));
  int x3 = cl__zk_pool(k, h3, ID("reduction_left3_%s"), 0, 3, 2, ZK_VALID);
  int r3 = sep_block(k, p, ID("reduction_right3_%s"), f, 5, 2);
  x3 = add2(k, x3, r3, ID("reduction_add3_%s"));
  int x4 = cl__zk_pool(k, x1, ID("reduction_left4_%s"), 0, 3, 1, ZK_SAME);
  x4 = add2(k, x2, x4, NULL);
  int x5 = sep_block(k, x1, ID("reduction_left4_%s"), f, 3, 1);
  int r5 = cl__zk_pool(k, h3, ID("reduction_right5_%s"), 1, 3, 2, ZK_VALID);
  x5 = add2(k, x5, r5, ID("reduction_add4_%s"));
#undef ID
  int ins[4] = {x2, x3, x4, x5};
  snprintf(t, sizeof t, "reduction_concat_%s", id);
  return cl__zk_concat(k, ins, 4, t);
}

static cl_status build_nasnet(const nas_cfg *c, cl_graph **out) {
  cl__zk k;
  char id[32];
  const int f = c->penultimate / 24;
  int x = cl__zk_begin(&k, c->name, c->hw);
  x = cl__zk_conv(&k, x, "stem_conv1", c->stem, 3, 3, 2, ZK_VALID, 0, CL_ACT_NONE);
  x = cl__zk_bn(&k, x, "stem_bn1", N_EPS, 1);
  int p = -1, nx;
  nx = reduction_cell(&k, x, p, f / 4, "stem_1");
  p = x, x = nx;
  nx = reduction_cell(&k, x, p, f / 2, "stem_2");
  p = x, x = nx;
  for (int stage = 0; stage < 3; stage++) {
    /* cells are numbered 0..B-1, reduce_B, B+1..2B, reduce_2B, 2B+1..3B */
    int fs = f << stage, base = stage ? stage * c->blocks + 1 : 0;
    if (stage > 0) {
      snprintf(id, sizeof id, "reduce_%d", stage * c->blocks);
      nx = reduction_cell(&k, x, p, fs, id);
      if (!c->skip_reduction) p = x; /* skip_reduction keeps the normal cells' p */
      x = nx;
    }
    for (int i = 0; i < c->blocks; i++) {
      snprintf(id, sizeof id, "%d", base + i);
      nx = normal_cell(&k, x, p, fs, id);
      p = x, x = nx;
    }
  }
  x = cl__zk_relu(&k, x, NULL, 0);
  x = cl__zk_gap(&k, x, NULL);
  cl__zk_dense(&k, x, "predictions", 1000, 1);
  return cl__zb_finish(&k.b, out);
}

cl_status cl__zoo_k_nasnetmobile(cl_graph **out) {
  static const nas_cfg c = {"keras/nasnetmobile", 224, 1056, 4, 32, 0};
  return build_nasnet(&c, out);
}

cl_status cl__zoo_k_nasnetlarge(cl_graph **out) {
  static const nas_cfg c = {"keras/nasnetlarge", 331, 4032, 6, 96, 1};
  return build_nasnet(&c, out);
}
