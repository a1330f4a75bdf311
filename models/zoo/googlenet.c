/* GoogLeNet (Szegedy et al. 2015) exactly as torchvision.models.googlenet, 3x224x224 input,
 * without the auxiliary classifiers (inference) and without transform_input (an input
 * re-normalisation applied only with pretrained weights).
 *
 * torchvision's particulars, all reproduced: every conv is a BasicConv2d = conv (no bias)
 * + BatchNorm (eps 0.001) + functional ReLU, named "<module>.conv", "<module>.bn",
 * "<module>.relu"; inception branch 3 uses a 3x3 conv where the paper has 5x5 (a known
 * torchvision quirk kept for weight compatibility); max pools use ceil_mode=True; branch 4
 * is maxpool 3x3/1 pad 1 then a 1x1 conv. Each inception module ends in "<name>.cat"
 * (branches 1..4 in order). Then avgpool (adaptive 1x1), flatten, dropout (0.2), fc.
 * torchvision: 6,624,904 parameters, 1,498,376,192 conv+linear MACs. */
#include <stdio.h>

#include "zoo_util.h"

#define BN_EPS 1e-3f

static int basic_conv(cl__zb *b, int x, const char *pfx, int out_c, int k, int s, int pad) {
  x = cl__zb_conv(b, x, pfx, "conv", out_c, k, s, pad, 1, 0);
  x = cl__zb_bn(b, x, pfx, "bn", BN_EPS);
  return cl__zb_relu(b, x, pfx, "relu");
}

static int inception(cl__zb *b, int x, const char *name, int ch1x1, int ch3x3red, int ch3x3,
                     int ch5x5red, int ch5x5, int pool_proj) {
  char pfx[64];
  int br[4];
  snprintf(pfx, sizeof pfx, "%s.branch1", name);
  br[0] = basic_conv(b, x, pfx, ch1x1, 1, 1, 0);
  snprintf(pfx, sizeof pfx, "%s.branch2.0", name);
  br[1] = basic_conv(b, x, pfx, ch3x3red, 1, 1, 0);
  snprintf(pfx, sizeof pfx, "%s.branch2.1", name);
  br[1] = basic_conv(b, br[1], pfx, ch3x3, 3, 1, 1);
  snprintf(pfx, sizeof pfx, "%s.branch3.0", name);
  br[2] = basic_conv(b, x, pfx, ch5x5red, 1, 1, 0);
  snprintf(pfx, sizeof pfx, "%s.branch3.1", name);
  br[2] = basic_conv(b, br[2], pfx, ch5x5, 3, 1, 1); /* 3x3, as torchvision */
  snprintf(pfx, sizeof pfx, "%s.branch4", name);
  br[3] = cl__zb_maxpool(b, x, pfx, "0", 3, 1, 1, 1);
  snprintf(pfx, sizeof pfx, "%s.branch4.1", name);
  br[3] = basic_conv(b, br[3], pfx, pool_proj, 1, 1, 0);
  return cl__zb_concat(b, br, 4, name, "cat");
}

cl_status cl__zoo_googlenet(cl_graph **out) {
  cl__zb b;
  int x = cl__zb_begin(&b, "googlenet", (cl_shape){1, 3, 224, 224});
  x = basic_conv(&b, x, "conv1", 64, 7, 2, 3);
  x = cl__zb_maxpool(&b, x, "", "maxpool1", 3, 2, 0, 1);
  x = basic_conv(&b, x, "conv2", 64, 1, 1, 0);
  x = basic_conv(&b, x, "conv3", 192, 3, 1, 1);
  x = cl__zb_maxpool(&b, x, "", "maxpool2", 3, 2, 0, 1);
  x = inception(&b, x, "inception3a", 64, 96, 128, 16, 32, 32);
  x = inception(&b, x, "inception3b", 128, 128, 192, 32, 96, 64);
  x = cl__zb_maxpool(&b, x, "", "maxpool3", 3, 2, 0, 1);
  x = inception(&b, x, "inception4a", 192, 96, 208, 16, 48, 64);
  x = inception(&b, x, "inception4b", 160, 112, 224, 24, 64, 64);
  x = inception(&b, x, "inception4c", 128, 128, 256, 24, 64, 64);
  x = inception(&b, x, "inception4d", 112, 144, 288, 32, 64, 64);
  x = inception(&b, x, "inception4e", 256, 160, 320, 32, 128, 128);
  x = cl__zb_maxpool(&b, x, "", "maxpool4", 2, 2, 0, 1);
  x = inception(&b, x, "inception5a", 256, 160, 320, 32, 128, 128);
  x = inception(&b, x, "inception5b", 384, 192, 384, 48, 128, 128);
  x = cl__zb_adaptive_avgpool(&b, x, "", "avgpool", 1, 1);
  x = cl__zb_flatten(&b, x, "", "flatten");
  x = cl__zb_dropout(&b, x, "", "dropout", 0.2f);
  cl__zb_fc(&b, x, "", "fc", 1000, 1);
  return cl__zb_finish(&b, out);
}
