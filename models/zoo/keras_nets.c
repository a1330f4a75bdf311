/* Keras Applications (tf.keras 2.x, include_top, 1000 classes), layer by layer:
 * VGG16/19 (vgg16.py, vgg19.py), ResNet50/101/152 (resnet.py v1: the stride sits on the
 * first 1x1 conv of a block, every conv has a bias), ResNet50V2/101V2/152V2 (resnet_v2:
 * pre-activation, stride on the last block of a stack), DenseNet121/169/201, MobileNet
 * (1.0, 224) and MobileNetV2 (1.0, 224). Each node is one Keras layer with its Keras
 * name (node->layer counts the layers; Conv2D / Dense with an activation are a conv/fc
 * node plus an activation node in one layer); model.layers has as many layers as the
 * graph has layer groups (tests/test_zoo_keras.c checks the counts against Scission's
 * files and the parameter totals against Keras's tables). ZeroPadding2D layers are PAD
 * nodes (zero padding before max pooling, as Keras does), the final softmax is kept.
 * BN eps: 1.001e-5 in ResNet and DenseNet, Keras's default 1e-3 in the MobileNets. */
#include <stdio.h>

#include "keras_util.h"

/* ---- VGG ---------------------------------------------------------------------------- */
static cl_status build_vgg(const char *name, const int convs[5], cl_graph **out) {
  cl__zk k;
  int x = cl__zk_begin(&k, name, 224);
  for (int blk = 0; blk < 5; blk++) {
    int f = blk < 4 ? 64 << blk : 512;
    for (int i = 1; i <= convs[blk]; i++)
      x = cl__zk_conv(&k, x, cl__zk_name(&k, "block%d_conv%d", blk + 1, i), f, 3, 3, 1, ZK_SAME, 1, CL_ACT_RELU);
    x = cl__zk_pool(&k, x, cl__zk_name(&k, "block%d_pool", blk + 1), 1, 2, 2, ZK_VALID);
  }
  x = cl__zb_flatten(&k.b, x, "", "flatten");
  x = cl__zk_dense(&k, x, "fc1", 4096, 0);
  x = cl__zk_dense(&k, x, "fc2", 4096, 0);
  cl__zk_dense(&k, x, "predictions", 1000, 1);
  return cl__zb_finish(&k.b, out);
}

cl_status cl__zoo_k_vgg16(cl_graph **out) { return build_vgg("keras/vgg16", (const int[5]){2, 2, 3, 3, 3}, out); }
cl_status cl__zoo_k_vgg19(cl_graph **out) { return build_vgg("keras/vgg19", (const int[5]){2, 2, 4, 4, 4}, out); }

/* ---- ResNet v1 and v2 ----------------------------------------------------------------- */
#define RES_EPS 1.001e-5f

/* conv (+ BN + ReLU when bn): "<blk>_<i>_conv", "_bn", "_relu". */
static int res_cbr(cl__zk *k, int x, const char *blk, int i, int f, int ks, int s, int bias, int bn) {
  x = cl__zk_conv(k, x, cl__zk_name(k, "%s_%d_conv", blk, i), f, ks, ks, s, ZK_SAME, bias, CL_ACT_NONE);
  if (!bn) return x;
  x = cl__zk_bn(k, x, cl__zk_name(k, "%s_%d_bn", blk, i), RES_EPS, 1);
  return cl__zk_relu(k, x, cl__zk_name(k, "%s_%d_relu", blk, i), 0);
}

/* resnet.block1: shortcut = 0_conv + 0_bn (first block of a stack) or x; 1x1 (stride),
 * 3x3, 1x1 convs with bias; "<blk>_add" = Add([shortcut, x]); "<blk>_out" ReLU. */
static int block1(cl__zk *k, int x, const char *blk, int f, int s, int conv_shortcut) {
  int sc = x;
  if (conv_shortcut) {
    sc = cl__zk_conv(k, x, cl__zk_name(k, "%s_0_conv", blk), 4 * f, 1, 1, s, ZK_VALID, 1, CL_ACT_NONE);
    sc = cl__zk_bn(k, sc, cl__zk_name(k, "%s_0_bn", blk), RES_EPS, 1);
  }
  int y = res_cbr(k, x, blk, 1, f, 1, s, 1, 1);
  y = res_cbr(k, y, blk, 2, f, 3, 1, 1, 1);
  y = cl__zk_conv(k, y, cl__zk_name(k, "%s_3_conv", blk), 4 * f, 1, 1, 1, ZK_VALID, 1, CL_ACT_NONE);
  y = cl__zk_bn(k, y, cl__zk_name(k, "%s_3_bn", blk), RES_EPS, 1);
  int ins[2] = {sc, y};
  y = cl__zk_add(k, ins, 2, cl__zk_name(k, "%s_add", blk));
  return cl__zk_relu(k, y, cl__zk_name(k, "%s_out", blk), 0);
}

/* resnet_v2.block2: preact BN + ReLU; shortcut = 0_conv of the pre-activation (first
 * block), MaxPooling2D(1, stride) of x (stride-2 block) or x; 1x1, pad + 3x3 (stride),
 * 1x1 (bias); "<blk>_out" = Add([shortcut, x]). */
static int block2(cl__zk *k, int x, const char *blk, int f, int s, int conv_shortcut) {
  int pre = cl__zk_bn(k, x, cl__zk_name(k, "%s_preact_bn", blk), RES_EPS, 1);
  pre = cl__zk_relu(k, pre, cl__zk_name(k, "%s_preact_relu", blk), 0);
  int sc = x;
  if (conv_shortcut)
    sc = cl__zk_conv(k, pre, cl__zk_name(k, "%s_0_conv", blk), 4 * f, 1, 1, s, ZK_VALID, 1, CL_ACT_NONE);
  else if (s > 1)
    sc = cl__zk_pool(k, x, NULL, 1, 1, s, ZK_VALID);
  int y = res_cbr(k, pre, blk, 1, f, 1, 1, 0, 1);
  y = cl__zk_pad(k, y, cl__zk_name(k, "%s_2_pad", blk), 0, 1, 1, 1, 1);
  y = cl__zk_conv(k, y, cl__zk_name(k, "%s_2_conv", blk), f, 3, 3, s, ZK_VALID, 0, CL_ACT_NONE);
  y = cl__zk_bn(k, y, cl__zk_name(k, "%s_2_bn", blk), RES_EPS, 1);
  y = cl__zk_relu(k, y, cl__zk_name(k, "%s_2_relu", blk), 0);
  y = cl__zk_conv(k, y, cl__zk_name(k, "%s_3_conv", blk), 4 * f, 1, 1, 1, ZK_VALID, 1, CL_ACT_NONE);
  int ins[2] = {sc, y};
  return cl__zk_add(k, ins, 2, cl__zk_name(k, "%s_out", blk));
}

static cl_status build_resnet(const char *name, int v2, const int blocks[4], cl_graph **out) {
  cl__zk k;
  char blk[32];
  int x = cl__zk_begin(&k, name, 224);
  x = cl__zk_pad(&k, x, "conv1_pad", 0, 3, 3, 3, 3);
  x = cl__zk_conv(&k, x, "conv1_conv", 64, 7, 7, 2, ZK_VALID, 1, CL_ACT_NONE);
  if (!v2) {
    x = cl__zk_bn(&k, x, "conv1_bn", RES_EPS, 1);
    x = cl__zk_relu(&k, x, "conv1_relu", 0);
  }
  x = cl__zk_pad(&k, x, "pool1_pad", 0, 1, 1, 1, 1);
  x = cl__zk_pool(&k, x, "pool1_pool", 1, 3, 2, ZK_VALID);
  for (int st = 0; st < 4; st++) {
    int f = 64 << st;
    for (int i = 1; i <= blocks[st]; i++) {
      snprintf(blk, sizeof blk, "conv%d_block%d", st + 2, i);
      if (!v2) x = block1(&k, x, blk, f, (i == 1 && st > 0) ? 2 : 1, i == 1);
      else x = block2(&k, x, blk, f, (i == blocks[st] && st < 3) ? 2 : 1, i == 1);
    }
  }
  if (v2) {
    x = cl__zk_bn(&k, x, "post_bn", RES_EPS, 1);
    x = cl__zk_relu(&k, x, "post_relu", 0);
  }
  x = cl__zk_gap(&k, x, "avg_pool");
  cl__zk_dense(&k, x, "predictions", 1000, 1);
  return cl__zb_finish(&k.b, out);
}

#define RN50 ((const int[4]){3, 4, 6, 3})
#define RN101 ((const int[4]){3, 4, 23, 3})
#define RN152 ((const int[4]){3, 8, 36, 3})
cl_status cl__zoo_k_resnet50(cl_graph **out) { return build_resnet("keras/resnet50", 0, RN50, out); }
cl_status cl__zoo_k_resnet101(cl_graph **out) { return build_resnet("keras/resnet101", 0, RN101, out); }
cl_status cl__zoo_k_resnet152(cl_graph **out) { return build_resnet("keras/resnet152", 0, RN152, out); }
cl_status cl__zoo_k_resnet50v2(cl_graph **out) { return build_resnet("keras/resnet50v2", 1, RN50, out); }
cl_status cl__zoo_k_resnet101v2(cl_graph **out) { return build_resnet("keras/resnet101v2", 1, RN101, out); }
cl_status cl__zoo_k_resnet152v2(cl_graph **out) { return build_resnet("keras/resnet152v2", 1, RN152, out); }

/* ---- DenseNet ----------------------------------------------------------------------------- */
static int bn_relu(cl__zk *k, int x, const char *pfx, const char *bn, const char *relu, float eps) {
  x = cl__zk_bn(k, x, cl__zk_name(k, "%s%s", pfx, bn), eps, 1);
  return cl__zk_relu(k, x, cl__zk_name(k, "%s%s", pfx, relu), 0);
}

static cl_status build_densenet(const char *name, const int blocks[4], cl_graph **out) {
  cl__zk k;
  char pfx[48];
  int x = cl__zk_begin(&k, name, 224);
  x = cl__zk_pad(&k, x, NULL, 0, 3, 3, 3, 3);
  x = cl__zk_conv(&k, x, "conv1/conv", 64, 7, 7, 2, ZK_VALID, 0, CL_ACT_NONE);
  x = bn_relu(&k, x, "conv1/", "bn", "relu", RES_EPS);
  x = cl__zk_pad(&k, x, NULL, 0, 1, 1, 1, 1);
  x = cl__zk_pool(&k, x, "pool1", 1, 3, 2, ZK_VALID);
  for (int d = 0; d < 4; d++) {
    for (int i = 1; i <= blocks[d]; i++) { /* conv_block: BN-ReLU-1x1(128)-BN-ReLU-3x3(32), concat */
      snprintf(pfx, sizeof pfx, "conv%d_block%d_", d + 2, i);
      int y = bn_relu(&k, x, pfx, "0_bn", "0_relu", RES_EPS);
      y = cl__zk_conv(&k, y, cl__zk_name(&k, "%s1_conv", pfx), 128, 1, 1, 1, ZK_VALID, 0, CL_ACT_NONE);
      y = bn_relu(&k, y, pfx, "1_bn", "1_relu", RES_EPS);
      y = cl__zk_conv(&k, y, cl__zk_name(&k, "%s2_conv", pfx), 32, 3, 3, 1, ZK_SAME, 0, CL_ACT_NONE);
      int ins[2] = {x, y};
      x = cl__zk_concat(&k, ins, 2, cl__zk_name(&k, "%sconcat", pfx));
    }
    if (d == 3) break;
    snprintf(pfx, sizeof pfx, "pool%d_", d + 2); /* transition: BN-ReLU-1x1(c/2)-avgpool 2 */
    x = bn_relu(&k, x, pfx, "bn", "relu", RES_EPS);
    x = cl__zk_conv(&k, x, cl__zk_name(&k, "%sconv", pfx), cl__zb_shape(&k.b, x).c / 2, 1, 1, 1, ZK_VALID, 0,
                    CL_ACT_NONE);
    x = cl__zk_pool(&k, x, cl__zk_name(&k, "%spool", pfx), 0, 2, 2, ZK_VALID);
  }
  x = bn_relu(&k, x, "", "bn", "relu", RES_EPS);
  x = cl__zk_gap(&k, x, "avg_pool");
  cl__zk_dense(&k, x, "fc1000", 1000, 1);
  return cl__zb_finish(&k.b, out);
}

cl_status cl__zoo_k_densenet121(cl_graph **out) { return build_densenet("keras/densenet121", (const int[4]){6, 12, 24, 16}, out); }
cl_status cl__zoo_k_densenet169(cl_graph **out) { return build_densenet("keras/densenet169", (const int[4]){6, 12, 32, 32}, out); }
cl_status cl__zoo_k_densenet201(cl_graph **out) { return build_densenet("keras/densenet201", (const int[4]){6, 12, 48, 32}, out); }

/* ---- MobileNet v1 and v2 ------------------------------------------------------------------- */
#define MB_EPS 1e-3f

/* conv / depthwise conv "<name>", BN "<name><bn>", ReLU6 "<name><relu>"; a stride-2
 * layer gets ZeroPadding2D "<pad>" (correct_pad for v2, (0,1) for v1: the same here). */
static int mb_unit(cl__zk *k, int x, const char *name, const char *bn, const char *relu, int out_c, int ks,
                   int s, int dw) {
  char nm[96];
  snprintf(nm, sizeof nm, "%s", name);
  if (dw) x = cl__zk_dwconv(k, x, nm, ks, s, s == 1 ? ZK_SAME : ZK_VALID);
  else x = cl__zk_conv(k, x, nm, out_c, ks, ks, s, s == 1 ? ZK_SAME : ZK_VALID, 0, CL_ACT_NONE);
  x = cl__zk_bn(k, x, cl__zk_name(k, "%s%s", nm, bn), MB_EPS, 1);
  return relu ? cl__zk_relu(k, x, cl__zk_name(k, "%s%s", nm, relu), 1) : x;
}

cl_status cl__zoo_k_mobilenet(cl_graph **out) {
  static const int oc[13] = {64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024};
  static const int st[13] = {1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1};
  cl__zk k;
  char nm[32];
  int x = cl__zk_begin(&k, "keras/mobilenet", 224);
  x = cl__zk_correct_pad(&k, x, "conv1_pad", 3);
  x = mb_unit(&k, x, "conv1", "_bn", "_relu", 32, 3, 2, 0);
  for (int i = 0; i < 13; i++) {
    if (st[i] == 2) x = cl__zk_correct_pad(&k, x, cl__zk_name(&k, "conv_pad_%d", i + 1), 3);
    snprintf(nm, sizeof nm, "conv_dw_%d", i + 1);
    x = mb_unit(&k, x, nm, "_bn", "_relu", 0, 3, st[i], 1);
    snprintf(nm, sizeof nm, "conv_pw_%d", i + 1);
    x = mb_unit(&k, x, nm, "_bn", "_relu", oc[i], 1, 1, 0);
  }
  x = cl__zk_gap(&k, x, NULL);
  x = cl__zb_flatten(&k.b, x, "", "reshape_1"); /* Reshape((1, 1, 1024)) */
  x = cl__zb_dropout(&k.b, x, "", "dropout", 1e-3f);
  /* Keras's 1x1 Conv2D on the 1x1x1024 map, as the equivalent FC (same weights, params
   * and MACs; oneDNN keeps the tensor 2-D after the reshape) */
  x = cl__zb_fc(&k.b, x, "", "conv_preds", 1000, 1);
  x = cl__zb_flatten(&k.b, x, "", "reshape_2");
  cl__zb_softmax(&k.b, x, "", "predictions");
  return cl__zb_finish(&k.b, out);
}

cl_status cl__zoo_k_mobilenetv2(cl_graph **out) {
  /* expansion, filters, repeats, first stride (mobilenet_v2.py's 17 _inverted_res_block calls) */
  static const int cfg[7][4] = {{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2},
                                {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
  cl__zk k;
  char pfx[32];
  int x = cl__zk_begin(&k, "keras/mobilenetv2", 224);
  x = cl__zk_correct_pad(&k, x, "Conv1_pad", 3);
  x = cl__zk_conv(&k, x, "Conv1", 32, 3, 3, 2, ZK_VALID, 0, CL_ACT_NONE);
  x = cl__zk_bn(&k, x, "bn_Conv1", MB_EPS, 1);
  x = cl__zk_relu(&k, x, "Conv1_relu", 1);
  int id = 0;
  for (int r = 0; r < 7; r++)
    for (int i = 0; i < cfg[r][2]; i++, id++) {
      int t = cfg[r][0], f = cfg[r][1], s = i ? 1 : cfg[r][3], in_c = cl__zb_shape(&k.b, x).c, y = x;
      if (id) {
        snprintf(pfx, sizeof pfx, "block_%d_", id);
        y = mb_unit(&k, y, cl__zk_name(&k, "%sexpand", pfx), "_BN", "_relu", t * in_c, 1, 1, 0);
      } else {
        snprintf(pfx, sizeof pfx, "expanded_conv_");
      }
      if (s == 2) y = cl__zk_correct_pad(&k, y, cl__zk_name(&k, "%spad", pfx), 3);
      y = mb_unit(&k, y, cl__zk_name(&k, "%sdepthwise", pfx), "_BN", "_relu", 0, 3, s, 1);
      y = mb_unit(&k, y, cl__zk_name(&k, "%sproject", pfx), "_BN", NULL, f, 1, 1, 0);
      if (s == 1 && in_c == f) {
        int ins[2] = {x, y};
        y = cl__zk_add(&k, ins, 2, cl__zk_name(&k, "%sadd", pfx));
      }
      x = y;
    }
  x = mb_unit(&k, x, "Conv_1", "_bn", NULL, 1280, 1, 1, 0);
  x = cl__zk_relu(&k, x, "out_relu", 1);
  x = cl__zk_gap(&k, x, NULL);
  cl__zk_dense(&k, x, "Logits", 1000, 1);
  return cl__zb_finish(&k.b, out);
}
