/* MobileNets: v1 as in Keras (Howard et al. 2017) and v2 as in torchvision
 * (Sandler et al. 2018), both width 1.0 with 3x224x224 input. */
#include <stdio.h>
#include <string.h>

#include "zoo_util.h"

/* ---- MobileNet v1 (keras.applications.MobileNet, alpha 1.0, depth_multiplier 1) -------
 * conv1 3x3/2 32 (no bias), conv1_bn, conv1_relu (ReLU6); 13 depthwise-separable blocks
 * conv_dw_i (3x3 depthwise, no bias), conv_dw_i_bn, conv_dw_i_relu, conv_pw_i (1x1, no
 * bias), conv_pw_i_bn, conv_pw_i_relu; global_average_pooling2d, dropout (1e-3),
 * conv_preds (1024 -> 1000 with bias). Layer names are Keras'.
 * Choices: stride-2 layers pad 0 at top/left and 1 at bottom/right, as Keras does (TF
 * "same" for conv1, ZeroPadding2D((0,1),(0,1)) "conv_pad_i" before stride-2 depthwise
 * convs): same shapes and MACs as symmetric padding, and the same numbers as Keras.
 * Keras' classifier is a 1x1 Conv2D on the pooled 1x1x1024 map followed by reshape and
 * softmax; here it is the equivalent FC named conv_preds (same weights, parameters and
 * MACs) and the softmax is omitted (logits). BN eps 1e-3 (Keras default).
 * 4,231,976 parameters = Keras' trainable count (Keras' total, 4,253,864, also counts
 * the 21,888 BN moving statistics). */
#define V1_BN_EPS 1e-3f

static const struct {
  int out_c, stride;
} g_v1_blocks[13] = {{64, 1},  {128, 2}, {128, 1}, {256, 2}, {256, 1}, {512, 2},  {512, 1},
                     {512, 1}, {512, 1}, {512, 1}, {512, 1}, {1024, 2}, {1024, 1}};

/* 3x3 conv with Keras' stride-2 padding (bottom/right only) or "same" padding 1 for stride 1. */
static int keras_conv3(cl__zb *b, int x, const char *name, int out_c, int stride, int groups) {
  cl_conv_params c;
  memset(&c, 0, sizeof c);
  c.out_c = out_c;
  c.kh = c.kw = 3;
  c.sh = c.sw = stride;
  c.dh = c.dw = 1;
  c.groups = groups;
  if (stride == 1) {
    c.pt = c.pl = c.pb = c.pr = 1;
  } else {
    c.pb = c.pr = 1;
  }
  return cl__zb_conv_p(b, x, "", name, &c);
}

cl_status cl__zoo_mobilenet_v1(cl_graph **out) {
  cl__zb b;
  char nm[32];
  int x = cl__zb_begin(&b, "mobilenet_v1", (cl_shape){1, 3, 224, 224});
  x = keras_conv3(&b, x, "conv1", 32, 2, 1);
  x = cl__zb_bn(&b, x, "", "conv1_bn", V1_BN_EPS);
  x = cl__zb_relu6(&b, x, "", "conv1_relu");
  int c = 32;
  for (int i = 0; i < 13; i++) {
    int id = i + 1;
    snprintf(nm, sizeof nm, "conv_dw_%d", id);
    x = keras_conv3(&b, x, nm, c, g_v1_blocks[i].stride, c);
    snprintf(nm, sizeof nm, "conv_dw_%d_bn", id);
    x = cl__zb_bn(&b, x, "", nm, V1_BN_EPS);
    snprintf(nm, sizeof nm, "conv_dw_%d_relu", id);
    x = cl__zb_relu6(&b, x, "", nm);
    c = g_v1_blocks[i].out_c;
    snprintf(nm, sizeof nm, "conv_pw_%d", id);
    x = cl__zb_conv(&b, x, "", nm, c, 1, 1, 0, 1, 0);
    snprintf(nm, sizeof nm, "conv_pw_%d_bn", id);
    x = cl__zb_bn(&b, x, "", nm, V1_BN_EPS);
    snprintf(nm, sizeof nm, "conv_pw_%d_relu", id);
    x = cl__zb_relu6(&b, x, "", nm);
  }
  x = cl__zb_gap(&b, x, "", "global_average_pooling2d");
  x = cl__zb_dropout(&b, x, "", "dropout", 1e-3f);
  cl__zb_fc(&b, x, "", "conv_preds", 1000, 1);
  return cl__zb_finish(&b, out);
}

/* ---- MobileNet v2 (torchvision.models.mobilenet_v2, width 1.0) --------------------------
 * features.0 = Conv2dNormActivation(3, 32, stride 2): .0 conv, .1 BN, .2 ReLU6;
 * features.1..17 = InvertedResidual: conv.0 expand 1x1 (ConvBNReLU6, absent when t = 1),
 * then the 3x3 depthwise ConvBNReLU6, then the linear 1x1 projection conv + BN; the
 * sub-module indices shift by one when there is no expansion (as in torchvision);
 * residual "features.i.add" when stride 1 and in == out channels (no activation after);
 * features.18 = Conv2dNormActivation(320, 1280, 1x1); adaptive_avg_pool2d (functional,
 * "avgpool"), flatten, classifier.0 Dropout(0.2), classifier.1 Linear(1280, 1000).
 * All convs bias-free, BN eps 1e-5. */
#define V2_BN_EPS 1e-5f

static int conv_bn_relu6(cl__zb *b, int x, const char *pfx, int out_c, int k, int s, int groups) {
  x = cl__zb_conv(b, x, pfx, "0", out_c, k, s, (k - 1) / 2, groups, 0);
  x = cl__zb_bn(b, x, pfx, "1", V2_BN_EPS);
  return cl__zb_relu6(b, x, pfx, "2");
}

cl_status cl__zoo_mobilenet_v2(cl_graph **out) {
  /* t (expansion), c (channels), n (repeats), s (first stride) */
  static const int cfg[7][4] = {{1, 16, 1, 1},  {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                                {6, 96, 3, 1},  {6, 160, 3, 2}, {6, 320, 1, 1}};
  cl__zb b;
  char pfx[48], blk[24];
  int x = cl__zb_begin(&b, "mobilenet_v2", (cl_shape){1, 3, 224, 224});
  x = conv_bn_relu6(&b, x, "features.0", 32, 3, 2, 1);
  int in_c = 32, f = 1;
  for (int r = 0; r < 7; r++) {
    for (int i = 0; i < cfg[r][2]; i++, f++) {
      int t = cfg[r][0], oc = cfg[r][1], s = i == 0 ? cfg[r][3] : 1;
      int hidden = in_c * t, j = 0;
      snprintf(blk, sizeof blk, "features.%d", f);
      int y = x;
      if (t != 1) {
        snprintf(pfx, sizeof pfx, "%s.conv.%d", blk, j++);
        y = conv_bn_relu6(&b, y, pfx, hidden, 1, 1, 1);
      }
      snprintf(pfx, sizeof pfx, "%s.conv.%d", blk, j++);
      y = conv_bn_relu6(&b, y, pfx, hidden, 3, s, hidden);
      snprintf(pfx, sizeof pfx, "%s.conv.%d", blk, j++);
      y = cl__zb_conv(&b, y, pfx, "", oc, 1, 1, 0, 1, 0);
      snprintf(pfx, sizeof pfx, "%s.conv.%d", blk, j++);
      y = cl__zb_bn(&b, y, pfx, "", V2_BN_EPS);
      if (s == 1 && in_c == oc) y = cl__zb_add(&b, x, y, blk, "add");
      x = y;
      in_c = oc;
    }
  }
  x = conv_bn_relu6(&b, x, "features.18", 1280, 1, 1, 1);
  x = cl__zb_gap(&b, x, "", "avgpool");
  x = cl__zb_flatten(&b, x, "", "flatten");
  x = cl__zb_dropout(&b, x, "classifier", "0", 0.2f);
  cl__zb_fc(&b, x, "classifier", "1", 1000, 1);
  return cl__zb_finish(&b, out);
}
