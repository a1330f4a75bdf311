/* Keras Applications with 299x299 input, layer by layer (see keras_nets.c for the
 * conventions): Xception (xception.py: separable convs, residual 1x1 convs and BNs with
 * Keras's automatic names), InceptionV3 (inception_v3.py: every conv2d_bn is
 * Conv2D(no bias) + BatchNormalization(scale=False) + Activation, auto-named) and
 * InceptionResNetV2 (inception_resnet_v2.py: scaled residual Lambda "blockN_i" =
 * x + scale * up, up = 1x1 conv with bias and no BN). BN eps: Keras's default 1e-3.
 * Inputs of every Add / Concatenate are in Keras's order (model.layers depends on it). */
#include <stdio.h>

#include "keras_util.h"

#define K_EPS 1e-3f

/* ---- Xception ------------------------------------------------------------------------------ */
/* [relu "<b>_sepconvI_act"] + SeparableConv2D "<b>_sepconvI" + BN "<b>_sepconvI_bn". */
static int x_sep(cl__zk *k, int x, int blk, int i, int f, int act) {
  if (act) x = cl__zk_relu(k, x, cl__zk_name(k, "block%d_sepconv%d_act", blk, i), 0);
  x = cl__zk_sepconv(k, x, cl__zk_name(k, "block%d_sepconv%d", blk, i), f, 3, 1, ZK_SAME);
  return cl__zk_bn(k, x, cl__zk_name(k, "block%d_sepconv%d_bn", blk, i), K_EPS, 1);
}

/* Blocks 2, 3, 4, 13: residual = 1x1/2 conv + BN of x; two separable convs; max pool;
 * add([x, residual]). Block 2 has no leading ReLU and names its 2nd ReLU sepconv2_act. */
static int x_down(cl__zk *k, int x, int blk, int f1, int f2) {
  int res = cl__zk_conv(k, x, NULL, f2, 1, 1, 2, ZK_SAME, 0, CL_ACT_NONE);
  res = cl__zk_bn(k, res, NULL, K_EPS, 1);
  x = x_sep(k, x, blk, 1, f1, blk != 2);
  x = x_sep(k, x, blk, 2, f2, 1);
  x = cl__zk_pool(k, x, cl__zk_name(k, "block%d_pool", blk), 1, 3, 2, ZK_SAME);
  int ins[2] = {x, res};
  return cl__zk_add(k, ins, 2, NULL);
}

cl_status cl__zoo_k_xception(cl_graph **out) {
  cl__zk k;
  int x = cl__zk_begin(&k, "keras/xception", 299);
  x = cl__zk_conv(&k, x, "block1_conv1", 32, 3, 3, 2, ZK_VALID, 0, CL_ACT_NONE);
  x = cl__zk_bn(&k, x, "block1_conv1_bn", K_EPS, 1);
  x = cl__zk_relu(&k, x, "block1_conv1_act", 0);
  x = cl__zk_conv(&k, x, "block1_conv2", 64, 3, 3, 1, ZK_VALID, 0, CL_ACT_NONE);
  x = cl__zk_bn(&k, x, "block1_conv2_bn", K_EPS, 1);
  x = cl__zk_relu(&k, x, "block1_conv2_act", 0);
  x = x_down(&k, x, 2, 128, 128);
  x = x_down(&k, x, 3, 256, 256);
  x = x_down(&k, x, 4, 728, 728);
  for (int b = 5; b <= 12; b++) {
    int y = x;
    for (int i = 1; i <= 3; i++) y = x_sep(&k, y, b, i, 728, 1);
    int ins[2] = {y, x};
    x = cl__zk_add(&k, ins, 2, NULL);
  }
  x = x_down(&k, x, 13, 728, 1024);
  for (int i = 1; i <= 2; i++) {
    x = cl__zk_sepconv(&k, x, cl__zk_name(&k, "block14_sepconv%d", i), i == 1 ? 1536 : 2048, 3, 1, ZK_SAME);
    x = cl__zk_bn(&k, x, cl__zk_name(&k, "block14_sepconv%d_bn", i), K_EPS, 1);
    x = cl__zk_relu(&k, x, cl__zk_name(&k, "block14_sepconv%d_act", i), 0);
  }
  x = cl__zk_gap(&k, x, "avg_pool");
  cl__zk_dense(&k, x, "predictions", 1000, 1);
  return cl__zb_finish(&k.b, out);
}

/* ---- InceptionV3 / InceptionResNetV2 -------------------------------------------------------- */
/* conv2d_bn: Conv2D (kh x kw, stride s, no bias) + BN(scale=False) + ReLU. InceptionV3
 * leaves all three unnamed; InceptionResNetV2 names them "<name>", "<name>_bn",
 * "<name>_ac" when given a name. */
static int cbr(cl__zk *k, int x, const char *name, int f, int kh, int kw, int s, int same) {
  char nm[96];
  if (name) snprintf(nm, sizeof nm, "%s", name);
  x = cl__zk_conv(k, x, name ? nm : NULL, f, kh, kw, s, same, 0, CL_ACT_NONE);
  x = cl__zk_bn(k, x, name ? cl__zk_name(k, "%s_bn", nm) : NULL, K_EPS, 0);
  return cl__zk_relu(k, x, name ? cl__zk_name(k, "%s_ac", nm) : NULL, 0);
}

/* A chain of conv2d_bn: n convs {filters, kh, kw, stride (0 = 1), valid} from x. */
typedef struct conv_spec {
  int f, kh, kw, s, valid;
} conv_spec;

static int chain(cl__zk *k, int x, const conv_spec *c, int n) {
  for (int i = 0; i < n; i++) x = cbr(k, x, NULL, c[i].f, c[i].kh, c[i].kw, c[i].s ? c[i].s : 1, !c[i].valid);
  return x;
}

/* The stem both nets share: 3x3/2 v, 3x3 v, 3x3, maxpool 3/2, 1x1 v, 3x3 v, maxpool 3/2. */
static int inception_stem(cl__zk *k, int x) {
  static const conv_spec a[3] = {{32, 3, 3, 2, 1}, {32, 3, 3, 1, 1}, {64, 3, 3, 1, 0}};
  static const conv_spec b[2] = {{80, 1, 1, 1, 1}, {192, 3, 3, 1, 1}};
  x = chain(k, x, a, 3);
  x = cl__zk_pool(k, x, NULL, 1, 3, 2, ZK_VALID);
  x = chain(k, x, b, 2);
  return cl__zk_pool(k, x, NULL, 1, 3, 2, ZK_VALID);
}

#define C1(f) {f, 1, 1, 1, 0}
#define C3(f) {f, 3, 3, 1, 0}
#define C3V2(f) {f, 3, 3, 2, 1}

/* One Inception module: up to 4 conv chains from x, then a pool branch (pool = 0 none,
 * 1 avg 3x3/1 same + 1x1 conv of pool_f, 2 max 3x3/2 valid); concat in that order. */
static int module(cl__zk *k, int x, const conv_spec *const *br, const int *n, int nbr, int pool, int pool_f,
                  const char *name) {
  int outs[5], m = 0;
  for (int i = 0; i < nbr; i++) outs[m++] = chain(k, x, br[i], n[i]);
  if (pool == 1) {
    int p = cl__zk_pool(k, x, NULL, 0, 3, 1, ZK_SAME);
    outs[m++] = cbr(k, p, NULL, pool_f, 1, 1, 1, 1);
  } else if (pool == 2) {
    outs[m++] = cl__zk_pool(k, x, NULL, 1, 3, 2, ZK_VALID);
  }
  return cl__zk_concat(k, outs, m, name);
}

/* InceptionV3 mixed 9/10 branch: 1x3 and 3x1 convs of y, concatenated. */
static int split13(cl__zk *k, int y, const char *name) {
  int a = cbr(k, y, NULL, 384, 1, 3, 1, 1);
  int b = cbr(k, y, NULL, 384, 3, 1, 1, 1);
  int ins[2] = {a, b};
  return cl__zk_concat(k, ins, 2, name);
}

cl_status cl__zoo_k_inception_v3(cl_graph **out) {
  cl__zk k;
  int x = cl__zk_begin(&k, "keras/inception_v3", 299);
  x = inception_stem(&k, x);
  for (int i = 0; i < 3; i++) { /* mixed 0-2: 35 x 35 */
    static const conv_spec b1[1] = {C1(64)}, b5[2] = {C1(48), {64, 5, 5, 1, 0}}, bd[3] = {C1(64), C3(96), C3(96)};
    const conv_spec *br[3] = {b1, b5, bd};
    x = module(&k, x, br, (const int[3]){1, 2, 3}, 3, 1, i ? 64 : 32, cl__zk_name(&k, "mixed%d", i));
  }
  { /* mixed 3: 17 x 17 */
    static const conv_spec b3[1] = {C3V2(384)}, bd[3] = {C1(64), C3(96), C3V2(96)};
    const conv_spec *br[2] = {b3, bd};
    x = module(&k, x, br, (const int[2]){1, 3}, 2, 2, 0, "mixed3");
  }
  for (int i = 4; i <= 7; i++) { /* mixed 4-7: 7x7 factorised, width 128, 160, 160, 192 */
    int c = i == 4 ? 128 : i < 7 ? 160 : 192;
    const conv_spec b1[1] = {C1(192)}, b7[3] = {C1(c), {c, 1, 7, 1, 0}, {192, 7, 1, 1, 0}},
                    bd[5] = {C1(c), {c, 7, 1, 1, 0}, {c, 1, 7, 1, 0}, {c, 7, 1, 1, 0}, {192, 1, 7, 1, 0}};
    const conv_spec *br[3] = {b1, b7, bd};
    x = module(&k, x, br, (const int[3]){1, 3, 5}, 3, 1, 192, cl__zk_name(&k, "mixed%d", i));
  }
  { /* mixed 8: 8 x 8 */
    static const conv_spec b3[2] = {C1(192), C3V2(320)},
                           b7[4] = {C1(192), {192, 1, 7, 1, 0}, {192, 7, 1, 1, 0}, C3V2(192)};
    const conv_spec *br[2] = {b3, b7};
    x = module(&k, x, br, (const int[2]){2, 4}, 2, 2, 0, "mixed8");
  }
  for (int i = 0; i < 2; i++) { /* mixed 9, 10 */
    static const conv_spec b1[1] = {C1(320)}, b3[1] = {C1(384)}, bd[2] = {C1(448), C3(384)};
    int o[4];
    o[0] = chain(&k, x, b1, 1);
    o[1] = split13(&k, chain(&k, x, b3, 1), cl__zk_name(&k, "mixed9_%d", i));
    o[2] = split13(&k, chain(&k, x, bd, 2), NULL);
    o[3] = cbr(&k, cl__zk_pool(&k, x, NULL, 0, 3, 1, ZK_SAME), NULL, 192, 1, 1, 1, 1);
    x = cl__zk_concat(&k, o, 4, cl__zk_name(&k, "mixed%d", 9 + i));
  }
  x = cl__zk_gap(&k, x, "avg_pool");
  cl__zk_dense(&k, x, "predictions", 1000, 1);
  return cl__zb_finish(&k.b, out);
}

/* inception_resnet_block: branches (type 0 block35, 1 block17, 2 block8), concat
 * "<blk>_mixed", "<blk>_conv" 1x1 with bias, Lambda "<blk>" = x + scale * up, ReLU
 * "<blk>_ac" unless last. */
static int ir_block(cl__zk *k, int x, int type, int idx, float scale, int act) {
  static const conv_spec a0[1] = {C1(32)}, a1[2] = {C1(32), C3(32)}, a2[3] = {C1(32), C3(48), C3(64)};
  static const conv_spec b0[1] = {C1(192)}, b1[3] = {C1(128), {160, 1, 7, 1, 0}, {192, 7, 1, 1, 0}};
  static const conv_spec c0[1] = {C1(192)}, c1[3] = {C1(192), {224, 1, 3, 1, 0}, {256, 3, 1, 1, 0}};
  static const char *const names[3] = {"block35", "block17", "block8"};
  const conv_spec *br[3][3] = {{a0, a1, a2}, {b0, b1, NULL}, {c0, c1, NULL}};
  static const int nb[3] = {3, 2, 2}, len[3][3] = {{1, 2, 3}, {1, 3, 0}, {1, 3, 0}};
  char blk[32];
  snprintf(blk, sizeof blk, "%s_%d", names[type], idx);
  int o[3];
  for (int i = 0; i < nb[type]; i++) o[i] = chain(k, x, br[type][i], len[type][i]);
  int m = cl__zk_concat(k, o, nb[type], cl__zk_name(k, "%s_mixed", blk));
  int up = cl__zk_conv(k, m, cl__zk_name(k, "%s_conv", blk), cl__zb_shape(&k->b, x).c, 1, 1, 1, ZK_SAME, 1,
                       CL_ACT_NONE);
  x = cl__zb_scaled_add(&k->b, x, up, "", blk, scale);
  return act ? cl__zk_relu(k, x, cl__zk_name(k, "%s_ac", blk), 0) : x;
}

cl_status cl__zoo_k_inceptionresnet_v2(cl_graph **out) {
  cl__zk k;
  int x = cl__zk_begin(&k, "keras/inceptionresnet_v2", 299);
  x = inception_stem(&k, x);
  {
    static const conv_spec b0[1] = {C1(96)}, b1[2] = {C1(48), {64, 5, 5, 1, 0}}, b2[3] = {C1(64), C3(96), C3(96)};
    const conv_spec *br[3] = {b0, b1, b2};
    x = module(&k, x, br, (const int[3]){1, 2, 3}, 3, 1, 64, "mixed_5b");
  }
  for (int i = 1; i <= 10; i++) x = ir_block(&k, x, 0, i, 0.17f, 1);
  {
    static const conv_spec b0[1] = {C3V2(384)}, b1[3] = {C1(256), C3(256), C3V2(384)};
    const conv_spec *br[2] = {b0, b1};
    x = module(&k, x, br, (const int[2]){1, 3}, 2, 2, 0, "mixed_6a");
  }
  for (int i = 1; i <= 20; i++) x = ir_block(&k, x, 1, i, 0.1f, 1);
  {
    static const conv_spec b0[2] = {C1(256), C3V2(384)}, b1[2] = {C1(256), C3V2(288)},
                           b2[3] = {C1(256), C3(288), C3V2(320)};
    const conv_spec *br[3] = {b0, b1, b2};
    x = module(&k, x, br, (const int[3]){2, 2, 3}, 3, 2, 0, "mixed_7a");
  }
  for (int i = 1; i <= 9; i++) x = ir_block(&k, x, 2, i, 0.2f, 1);
  x = ir_block(&k, x, 2, 10, 1.0f, 0);
  x = cbr(&k, x, "conv_7b", 1536, 1, 1, 1, 1);
  x = cl__zk_gap(&k, x, "avg_pool");
  cl__zk_dense(&k, x, "predictions", 1000, 1);
  return cl__zb_finish(&k.b, out);
}
