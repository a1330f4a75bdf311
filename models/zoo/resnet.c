/* ResNet (He et al. 2016) exactly as torchvision.models.resnet (v1.5: the stride of a
 * bottleneck sits in its 3x3 conv), 3x224x224 input.
 *
 * Node order follows torchvision's forward(): conv1, bn1, relu, conv2, bn2, [relu, conv3,
 * bn3,] [downsample.0 (1x1 conv, stride), downsample.1 (BN)], add, relu. Each block has
 * one nn.ReLU module that torchvision calls two (basic) or three (bottleneck) times, so
 * the calls are named "layerL.B.relu", "layerL.B.relu:1" and "layerL.B.relu:2". The
 * residual sum is "layerL.B.add" (no fused activation; the ReLU follows as its own node).
 * All convs are bias-free; BN eps 1e-5. */
#include <stdio.h>

#include "zoo_util.h"

#define BN_EPS 1e-5f

/* One BasicBlock (expansion 1) or Bottleneck (expansion 4). Returns the block output. */
static int block(cl__zb *b, int x, const char *pfx, int bottleneck, int planes, int stride,
                 int need_downsample) {
  int y;
  if (!bottleneck) {
    y = cl__zb_conv(b, x, pfx, "conv1", planes, 3, stride, 1, 1, 0);
    y = cl__zb_bn(b, y, pfx, "bn1", BN_EPS);
    y = cl__zb_relu(b, y, pfx, "relu");
    y = cl__zb_conv(b, y, pfx, "conv2", planes, 3, 1, 1, 1, 0);
    y = cl__zb_bn(b, y, pfx, "bn2", BN_EPS);
  } else {
    y = cl__zb_conv(b, x, pfx, "conv1", planes, 1, 1, 0, 1, 0);
    y = cl__zb_bn(b, y, pfx, "bn1", BN_EPS);
    y = cl__zb_relu(b, y, pfx, "relu");
    y = cl__zb_conv(b, y, pfx, "conv2", planes, 3, stride, 1, 1, 0);
    y = cl__zb_bn(b, y, pfx, "bn2", BN_EPS);
    y = cl__zb_relu(b, y, pfx, "relu:1");
    y = cl__zb_conv(b, y, pfx, "conv3", planes * 4, 1, 1, 0, 1, 0);
    y = cl__zb_bn(b, y, pfx, "bn3", BN_EPS);
  }
  int identity = x;
  if (need_downsample) {
    int out_c = bottleneck ? planes * 4 : planes;
    identity = cl__zb_conv(b, x, pfx, "downsample.0", out_c, 1, stride, 0, 1, 0);
    identity = cl__zb_bn(b, identity, pfx, "downsample.1", BN_EPS);
  }
  y = cl__zb_add(b, y, identity, pfx, "add");
  return cl__zb_relu(b, y, pfx, bottleneck ? "relu:2" : "relu:1");
}

static cl_status build_resnet(const char *name, int bottleneck, const int layers[4], cl_graph **out) {
  cl__zb b;
  char pfx[32];
  int x = cl__zb_begin(&b, name, (cl_shape){1, 3, 224, 224});
  x = cl__zb_conv(&b, x, "", "conv1", 64, 7, 2, 3, 1, 0);
  x = cl__zb_bn(&b, x, "", "bn1", BN_EPS);
  x = cl__zb_relu(&b, x, "", "relu");
  x = cl__zb_maxpool(&b, x, "", "maxpool", 3, 2, 1, 0);
  int in_c = 64;
  for (int l = 0; l < 4; l++) {
    int planes = 64 << l;
    for (int i = 0; i < layers[l]; i++) {
      int stride = (l > 0 && i == 0) ? 2 : 1;
      int out_c = bottleneck ? planes * 4 : planes;
      snprintf(pfx, sizeof pfx, "layer%d.%d", l + 1, i);
      x = block(&b, x, pfx, bottleneck, planes, stride, i == 0 && (stride != 1 || in_c != out_c));
      in_c = out_c;
    }
  }
  x = cl__zb_adaptive_avgpool(&b, x, "", "avgpool", 1, 1);
  x = cl__zb_flatten(&b, x, "", "flatten");
  cl__zb_fc(&b, x, "", "fc", 1000, 1);
  return cl__zb_finish(&b, out);
}

cl_status cl__zoo_resnet18(cl_graph **out) { return build_resnet("resnet18", 0, (const int[4]){2, 2, 2, 2}, out); }
cl_status cl__zoo_resnet34(cl_graph **out) { return build_resnet("resnet34", 0, (const int[4]){3, 4, 6, 3}, out); }
cl_status cl__zoo_resnet50(cl_graph **out) { return build_resnet("resnet50", 1, (const int[4]){3, 4, 6, 3}, out); }
cl_status cl__zoo_resnet101(cl_graph **out) { return build_resnet("resnet101", 1, (const int[4]){3, 4, 23, 3}, out); }
cl_status cl__zoo_resnet152(cl_graph **out) { return build_resnet("resnet152", 1, (const int[4]){3, 8, 36, 3}, out); }
