/* DenseNet-121/169/201 (Huang et al. 2017) exactly as torchvision.models.densenet
 * (growth 32, bn_size 4, 64 initial features, compression 0.5), 3x224x224 input.
 *
 * Stem: features.conv0 7x7/2 (no bias), norm0, relu0, pool0 (max 3x3/2 pad 1).
 * Dense layer "features.denseblockB.denselayerL": norm1, relu1, conv1 (1x1, 128), norm2,
 * relu2, conv2 (3x3 pad 1, 32). torchvision feeds layer L the concatenation of the block
 * input and the outputs of layers 1..L-1 (one torch.cat over the list per layer). Here
 * that concatenation is built incrementally: "<layer L>.cat" = concat(input of layer
 * L-1, output of layer L-1), which has the same channels in the same order as
 * torchvision's and keeps one live tensor between layers (so partitioners see the valid
 * single-tensor cuts a DenseNet really has). Layer 1 reads the block input directly;
 * the block output is "features.denseblockB.cat". Transition "features.transitionB":
 * norm, relu, conv (1x1, halves channels), pool (avg 2x2/2). Then features.norm5, the
 * functional ReLU "relu", adaptive average pool "avgpool" (GAP), flatten, classifier. */
#include <stdio.h>

#include "zoo_util.h"

#define BN_EPS 1e-5f
#define GROWTH 32
#define BN_SIZE 4

static cl_status build_densenet(const char *name, const int blocks[4], cl_graph **out) {
  cl__zb b;
  char pfx[64], blk[32], nxt[64];
  int x = cl__zb_begin(&b, name, (cl_shape){1, 3, 224, 224});
  x = cl__zb_conv(&b, x, "features", "conv0", 64, 7, 2, 3, 1, 0);
  x = cl__zb_bn(&b, x, "features", "norm0", BN_EPS);
  x = cl__zb_relu(&b, x, "features", "relu0");
  x = cl__zb_maxpool(&b, x, "features", "pool0", 3, 2, 1, 0);
  int c = 64;
  for (int bi = 0; bi < 4; bi++) {
    snprintf(blk, sizeof blk, "features.denseblock%d", bi + 1);
    int in = x; /* concatenated features so far */
    for (int l = 1; l <= blocks[bi]; l++) {
      snprintf(pfx, sizeof pfx, "%s.denselayer%d", blk, l);
      int y = cl__zb_bn(&b, in, pfx, "norm1", BN_EPS);
      y = cl__zb_relu(&b, y, pfx, "relu1");
      y = cl__zb_conv(&b, y, pfx, "conv1", BN_SIZE * GROWTH, 1, 1, 0, 1, 0);
      y = cl__zb_bn(&b, y, pfx, "norm2", BN_EPS);
      y = cl__zb_relu(&b, y, pfx, "relu2");
      y = cl__zb_conv(&b, y, pfx, "conv2", GROWTH, 3, 1, 1, 1, 0);
      int pair[2] = {in, y};
      if (l < blocks[bi]) {
        snprintf(nxt, sizeof nxt, "%s.denselayer%d", blk, l + 1);
        in = cl__zb_concat(&b, pair, 2, nxt, "cat");
      } else {
        in = cl__zb_concat(&b, pair, 2, blk, "cat");
      }
      c += GROWTH;
    }
    x = in;
    if (bi < 3) {
      snprintf(pfx, sizeof pfx, "features.transition%d", bi + 1);
      x = cl__zb_bn(&b, x, pfx, "norm", BN_EPS);
      x = cl__zb_relu(&b, x, pfx, "relu");
      c /= 2;
      x = cl__zb_conv(&b, x, pfx, "conv", c, 1, 1, 0, 1, 0);
      x = cl__zb_avgpool(&b, x, pfx, "pool", 2, 2, 0, 0, 1);
    }
  }
  x = cl__zb_bn(&b, x, "features", "norm5", BN_EPS);
  x = cl__zb_relu(&b, x, "", "relu");
  x = cl__zb_adaptive_avgpool(&b, x, "", "avgpool", 1, 1);
  x = cl__zb_flatten(&b, x, "", "flatten");
  cl__zb_fc(&b, x, "", "classifier", 1000, 1);
  return cl__zb_finish(&b, out);
}

cl_status cl__zoo_densenet121(cl_graph **out) {
  return build_densenet("densenet121", (const int[4]){6, 12, 24, 16}, out);
}
cl_status cl__zoo_densenet169(cl_graph **out) {
  return build_densenet("densenet169", (const int[4]){6, 12, 32, 32}, out);
}
cl_status cl__zoo_densenet201(cl_graph **out) {
  return build_densenet("densenet201", (const int[4]){6, 12, 48, 32}, out);
}
