/* ResNet50V2 as in Keras (keras.applications.ResNet50V2; He et al. 2016, "Identity
 * Mappings in Deep Residual Networks"), 3x224x224 input, layer names from Keras.
 *
 *   conv1_conv 7x7/2 64 with bias (Keras pads 3 with ZeroPadding2D "conv1_pad"; here the
 *   conv's own padding), pool1_pool 3x3/2 (after "pool1_pad", 1 pixel);
 *   stacks conv2..conv5 with 3, 4, 6, 3 blocks of filters 64, 128, 256, 512; the stride of
 *   a stack (2, 2, 2, 1) sits in the LAST block, on its 3x3 conv (Keras' placement);
 *   block: preact_bn, preact_relu; shortcut = 0_conv (1x1, 4*filters, bias) of the
 *   pre-activation in each stack's first block, else the block input itself, max-pooled
 *   1x1 with the block's stride when that is 2 ("<block>_shortcut_pool": Keras leaves
 *   that layer unnamed); 1_conv 1x1 (no bias), 1_bn, 1_relu, 2_conv 3x3 (no bias, pad 1
 *   via "<block>_2_pad"), 2_bn, 2_relu, 3_conv 1x1 4*filters (bias), "<block>_out" = sum;
 *   post_bn, post_relu, avg_pool (GAP), predictions (Dense 1000).
 * BN eps 1.001e-5 as in Keras.
 *
 * Differences from Keras, none of which changes a shape or a MAC:
 *  - parameters: Keras reports 25,613,800, which includes the BN moving mean and
 *    variance (45,440 non-trainable values); cleave counts BN as gamma + beta like
 *    torchvision, so this graph has the 25,568,360 trainable parameters;
 *  - pool1: Keras zero-pads before max pooling, cleave's max pool pads with -inf
 *    (PyTorch semantics); outputs differ only where a whole window is negative at the
 *    border (the pool follows a conv without activation here);
 *  - the final softmax of "predictions" is omitted (logits, like the torchvision models). */
#include <stdio.h>

#include "zoo_util.h"

#define BN_EPS 1.001e-5f

/* Keras joins names with '_' ("conv2_block1_1_conv"): kname() builds the full name,
 * which is passed as the suffix with an empty prefix. */
static const char *kname(char *buf, size_t cap, const char *blk, const char *layer) {
  snprintf(buf, cap, "%s_%s", blk, layer);
  return buf;
}

static int block2(cl__zb *b, int x, int stack, int blk, int filters, int stride, int conv_shortcut) {
  char pfx[32], nm[64];
  snprintf(pfx, sizeof pfx, "conv%d_block%d", stack, blk);
#define N(layer) kname(nm, sizeof nm, pfx, layer)
  int pre = cl__zb_bn(b, x, "", N("preact_bn"), BN_EPS);
  pre = cl__zb_relu(b, pre, "", N("preact_relu"));
  int shortcut = x;
  if (conv_shortcut)
    shortcut = cl__zb_conv(b, pre, "", N("0_conv"), 4 * filters, 1, stride, 0, 1, 1);
  else if (stride > 1)
    shortcut = cl__zb_maxpool(b, x, "", N("shortcut_pool"), 1, stride, 0, 0);
  int y = cl__zb_conv(b, pre, "", N("1_conv"), filters, 1, 1, 0, 1, 0);
  y = cl__zb_bn(b, y, "", N("1_bn"), BN_EPS);
  y = cl__zb_relu(b, y, "", N("1_relu"));
  y = cl__zb_conv(b, y, "", N("2_conv"), filters, 3, stride, 1, 1, 0);
  y = cl__zb_bn(b, y, "", N("2_bn"), BN_EPS);
  y = cl__zb_relu(b, y, "", N("2_relu"));
  y = cl__zb_conv(b, y, "", N("3_conv"), 4 * filters, 1, 1, 0, 1, 1);
  return cl__zb_add(b, shortcut, y, "", N("out"));
#undef N
}

cl_status cl__zoo_resnet50_v2(cl_graph **out) {
  static const int blocks[4] = {3, 4, 6, 3}, strides[4] = {2, 2, 2, 1};
  cl__zb b;
  int x = cl__zb_begin(&b, "resnet50_v2", (cl_shape){1, 3, 224, 224});
  x = cl__zb_conv(&b, x, "", "conv1_conv", 64, 7, 2, 3, 1, 1);
  x = cl__zb_maxpool(&b, x, "", "pool1_pool", 3, 2, 1, 0);
  for (int s = 0; s < 4; s++) {
    int filters = 64 << s;
    for (int i = 1; i <= blocks[s]; i++)
      x = block2(&b, x, s + 2, i, filters, i == blocks[s] ? strides[s] : 1, i == 1);
  }
  x = cl__zb_bn(&b, x, "", "post_bn", BN_EPS);
  x = cl__zb_relu(&b, x, "", "post_relu");
  x = cl__zb_gap(&b, x, "", "avg_pool");
  cl__zb_fc(&b, x, "", "predictions", 1000, 1);
  return cl__zb_finish(&b, out);
}
