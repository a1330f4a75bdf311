/* Inception v3 (Szegedy et al. 2016) exactly as torchvision.models.inception_v3, for its
 * 3x299x299 input, without the auxiliary classifier (AuxLogits, training only) and
 * without transform_input (an input re-normalisation used only with pretrained weights).
 *
 * Every conv is a BasicConv2d: conv (no bias) + BatchNorm (eps 0.001) + functional ReLU,
 * named "<module>.conv", "<module>.bn", "<module>.relu". torchvision's functional pools
 * inside the Mixed blocks are "<block>.pool" (avg_pool2d 3x3/1 pad 1, count_include_pad
 * true, in InceptionA/C/E; max_pool2d 3x3/2 in InceptionB/D), each block ends in
 * "<block>.cat". InceptionE concatenates its split 1x3/3x1 branches in two nested
 * torch.cat calls; here that is one concat of the six tensors in the same order
 * (identical result, one copy instead of three). Head: avgpool (adaptive 1x1), dropout
 * (0.5), flatten, fc. torchvision: 23,834,568 parameters, 5,713,216,096 MACs. */
#include <stdio.h>

#include "zoo_util.h"

#define BN_EPS 1e-3f

/* BasicConv2d "<blk>.<br>" with kernel kh x kw, stride s, padding ph x pw. */
static int bconv(cl__zb *b, int x, const char *blk, const char *br, int out_c, int kh, int kw,
                 int s, int ph, int pw) {
  char pfx[64];
  if (*blk)
    snprintf(pfx, sizeof pfx, "%s.%s", blk, br);
  else
    snprintf(pfx, sizeof pfx, "%s", br);
  x = cl__zb_conv_rect(b, x, pfx, "conv", out_c, kh, kw, s, ph, pw, 0);
  x = cl__zb_bn(b, x, pfx, "bn", BN_EPS);
  return cl__zb_relu(b, x, pfx, "relu");
}

static int inception_a(cl__zb *b, int x, const char *blk, int pool_features) {
  int br[4];
  br[0] = bconv(b, x, blk, "branch1x1", 64, 1, 1, 1, 0, 0);
  br[1] = bconv(b, x, blk, "branch5x5_1", 48, 1, 1, 1, 0, 0);
  br[1] = bconv(b, br[1], blk, "branch5x5_2", 64, 5, 5, 1, 2, 2);
  br[2] = bconv(b, x, blk, "branch3x3dbl_1", 64, 1, 1, 1, 0, 0);
  br[2] = bconv(b, br[2], blk, "branch3x3dbl_2", 96, 3, 3, 1, 1, 1);
  br[2] = bconv(b, br[2], blk, "branch3x3dbl_3", 96, 3, 3, 1, 1, 1);
  br[3] = cl__zb_avgpool(b, x, blk, "pool", 3, 1, 1, 0, 1);
  br[3] = bconv(b, br[3], blk, "branch_pool", pool_features, 1, 1, 1, 0, 0);
  return cl__zb_concat(b, br, 4, blk, "cat");
}

static int inception_b(cl__zb *b, int x, const char *blk) {
  int br[3];
  br[0] = bconv(b, x, blk, "branch3x3", 384, 3, 3, 2, 0, 0);
  br[1] = bconv(b, x, blk, "branch3x3dbl_1", 64, 1, 1, 1, 0, 0);
  br[1] = bconv(b, br[1], blk, "branch3x3dbl_2", 96, 3, 3, 1, 1, 1);
  br[1] = bconv(b, br[1], blk, "branch3x3dbl_3", 96, 3, 3, 2, 0, 0);
  br[2] = cl__zb_maxpool(b, x, blk, "pool", 3, 2, 0, 0);
  return cl__zb_concat(b, br, 3, blk, "cat");
}

static int inception_c(cl__zb *b, int x, const char *blk, int c7) {
  int br[4];
  br[0] = bconv(b, x, blk, "branch1x1", 192, 1, 1, 1, 0, 0);
  br[1] = bconv(b, x, blk, "branch7x7_1", c7, 1, 1, 1, 0, 0);
  br[1] = bconv(b, br[1], blk, "branch7x7_2", c7, 1, 7, 1, 0, 3);
  br[1] = bconv(b, br[1], blk, "branch7x7_3", 192, 7, 1, 1, 3, 0);
  br[2] = bconv(b, x, blk, "branch7x7dbl_1", c7, 1, 1, 1, 0, 0);
  br[2] = bconv(b, br[2], blk, "branch7x7dbl_2", c7, 7, 1, 1, 3, 0);
  br[2] = bconv(b, br[2], blk, "branch7x7dbl_3", c7, 1, 7, 1, 0, 3);
  br[2] = bconv(b, br[2], blk, "branch7x7dbl_4", c7, 7, 1, 1, 3, 0);
  br[2] = bconv(b, br[2], blk, "branch7x7dbl_5", 192, 1, 7, 1, 0, 3);
  br[3] = cl__zb_avgpool(b, x, blk, "pool", 3, 1, 1, 0, 1);
  br[3] = bconv(b, br[3], blk, "branch_pool", 192, 1, 1, 1, 0, 0);
  return cl__zb_concat(b, br, 4, blk, "cat");
}

static int inception_d(cl__zb *b, int x, const char *blk) {
  int br[3];
  br[0] = bconv(b, x, blk, "branch3x3_1", 192, 1, 1, 1, 0, 0);
  br[0] = bconv(b, br[0], blk, "branch3x3_2", 320, 3, 3, 2, 0, 0);
  br[1] = bconv(b, x, blk, "branch7x7x3_1", 192, 1, 1, 1, 0, 0);
  br[1] = bconv(b, br[1], blk, "branch7x7x3_2", 192, 1, 7, 1, 0, 3);
  br[1] = bconv(b, br[1], blk, "branch7x7x3_3", 192, 7, 1, 1, 3, 0);
  br[1] = bconv(b, br[1], blk, "branch7x7x3_4", 192, 3, 3, 2, 0, 0);
  br[2] = cl__zb_maxpool(b, x, blk, "pool", 3, 2, 0, 0);
  return cl__zb_concat(b, br, 3, blk, "cat");
}

static int inception_e(cl__zb *b, int x, const char *blk) {
  int br[6];
  br[0] = bconv(b, x, blk, "branch1x1", 320, 1, 1, 1, 0, 0);
  int t = bconv(b, x, blk, "branch3x3_1", 384, 1, 1, 1, 0, 0);
  br[1] = bconv(b, t, blk, "branch3x3_2a", 384, 1, 3, 1, 0, 1);
  br[2] = bconv(b, t, blk, "branch3x3_2b", 384, 3, 1, 1, 1, 0);
  t = bconv(b, x, blk, "branch3x3dbl_1", 448, 1, 1, 1, 0, 0);
  t = bconv(b, t, blk, "branch3x3dbl_2", 384, 3, 3, 1, 1, 1);
  br[3] = bconv(b, t, blk, "branch3x3dbl_3a", 384, 1, 3, 1, 0, 1);
  br[4] = bconv(b, t, blk, "branch3x3dbl_3b", 384, 3, 1, 1, 1, 0);
  br[5] = cl__zb_avgpool(b, x, blk, "pool", 3, 1, 1, 0, 1);
  br[5] = bconv(b, br[5], blk, "branch_pool", 192, 1, 1, 1, 0, 0);
  return cl__zb_concat(b, br, 6, blk, "cat");
}

cl_status cl__zoo_inception_v3(cl_graph **out) {
  cl__zb b;
  int x = cl__zb_begin(&b, "inception_v3", (cl_shape){1, 3, 299, 299});
  x = bconv(&b, x, "", "Conv2d_1a_3x3", 32, 3, 3, 2, 0, 0);
  x = bconv(&b, x, "", "Conv2d_2a_3x3", 32, 3, 3, 1, 0, 0);
  x = bconv(&b, x, "", "Conv2d_2b_3x3", 64, 3, 3, 1, 1, 1);
  x = cl__zb_maxpool(&b, x, "", "maxpool1", 3, 2, 0, 0);
  x = bconv(&b, x, "", "Conv2d_3b_1x1", 80, 1, 1, 1, 0, 0);
  x = bconv(&b, x, "", "Conv2d_4a_3x3", 192, 3, 3, 1, 0, 0);
  x = cl__zb_maxpool(&b, x, "", "maxpool2", 3, 2, 0, 0);
  x = inception_a(&b, x, "Mixed_5b", 32);
  x = inception_a(&b, x, "Mixed_5c", 64);
  x = inception_a(&b, x, "Mixed_5d", 64);
  x = inception_b(&b, x, "Mixed_6a");
  x = inception_c(&b, x, "Mixed_6b", 128);
  x = inception_c(&b, x, "Mixed_6c", 160);
  x = inception_c(&b, x, "Mixed_6d", 160);
  x = inception_c(&b, x, "Mixed_6e", 192);
  x = inception_d(&b, x, "Mixed_7a");
  x = inception_e(&b, x, "Mixed_7b");
  x = inception_e(&b, x, "Mixed_7c");
  x = cl__zb_adaptive_avgpool(&b, x, "", "avgpool", 1, 1);
  x = cl__zb_dropout(&b, x, "", "dropout", 0.5f);
  x = cl__zb_flatten(&b, x, "", "flatten");
  cl__zb_fc(&b, x, "", "fc", 1000, 1);
  return cl__zb_finish(&b, out);
}
