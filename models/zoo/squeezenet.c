/* SqueezeNet 1.0 and 1.1 (Iandola et al. 2016) exactly as torchvision.models.squeezenet,
 * 3x224x224 input. Fire module "features.i": squeeze (1x1) + squeeze_activation,
 * expand1x1 + expand1x1_activation, expand3x3 (pad 1) + expand3x3_activation, then
 * "features.i.cat" = [expand1x1, expand3x3]. Max pools 3x3/2 with ceil_mode=True.
 * Classifier: classifier.0 Dropout(0.5), classifier.1 conv 1x1 -> 1000 (bias),
 * classifier.2 ReLU, classifier.3 AdaptiveAvgPool2d(1) (GAP), flatten. All convs have
 * biases. torchvision: 1.0 1,248,424 / 1.1 1,235,496 parameters. */
#include <stdio.h>

#include "zoo_util.h"

static int fire(cl__zb *b, int x, int idx, int squeeze, int e1, int e3) {
  char pfx[24];
  snprintf(pfx, sizeof pfx, "features.%d", idx);
  int s = cl__zb_conv(b, x, pfx, "squeeze", squeeze, 1, 1, 0, 1, 1);
  s = cl__zb_relu(b, s, pfx, "squeeze_activation");
  int br[2];
  br[0] = cl__zb_conv(b, s, pfx, "expand1x1", e1, 1, 1, 0, 1, 1);
  br[0] = cl__zb_relu(b, br[0], pfx, "expand1x1_activation");
  br[1] = cl__zb_conv(b, s, pfx, "expand3x3", e3, 3, 1, 1, 1, 1);
  br[1] = cl__zb_relu(b, br[1], pfx, "expand3x3_activation");
  return cl__zb_concat(b, br, 2, pfx, "cat");
}

static int pool(cl__zb *b, int x, int idx) {
  char nm[8];
  snprintf(nm, sizeof nm, "%d", idx);
  return cl__zb_maxpool(b, x, "features", nm, 3, 2, 0, 1);
}

static cl_status head(cl__zb *b, int x, cl_graph **out) {
  x = cl__zb_dropout(b, x, "classifier", "0", 0.5f);
  x = cl__zb_conv(b, x, "classifier", "1", 1000, 1, 1, 0, 1, 1);
  x = cl__zb_relu(b, x, "classifier", "2");
  x = cl__zb_adaptive_avgpool(b, x, "classifier", "3", 1, 1);
  cl__zb_flatten(b, x, "", "flatten");
  return cl__zb_finish(b, out);
}

cl_status cl__zoo_squeezenet1_0(cl_graph **out) {
  cl__zb b;
  int x = cl__zb_begin(&b, "squeezenet1_0", (cl_shape){1, 3, 224, 224});
  x = cl__zb_conv(&b, x, "features", "0", 96, 7, 2, 0, 1, 1);
  x = cl__zb_relu(&b, x, "features", "1");
  x = pool(&b, x, 2);
  x = fire(&b, x, 3, 16, 64, 64);
  x = fire(&b, x, 4, 16, 64, 64);
  x = fire(&b, x, 5, 32, 128, 128);
  x = pool(&b, x, 6);
  x = fire(&b, x, 7, 32, 128, 128);
  x = fire(&b, x, 8, 48, 192, 192);
  x = fire(&b, x, 9, 48, 192, 192);
  x = fire(&b, x, 10, 64, 256, 256);
  x = pool(&b, x, 11);
  x = fire(&b, x, 12, 64, 256, 256);
  return head(&b, x, out);
}

cl_status cl__zoo_squeezenet1_1(cl_graph **out) {
  cl__zb b;
  int x = cl__zb_begin(&b, "squeezenet1_1", (cl_shape){1, 3, 224, 224});
  x = cl__zb_conv(&b, x, "features", "0", 64, 3, 2, 0, 1, 1);
  x = cl__zb_relu(&b, x, "features", "1");
  x = pool(&b, x, 2);
  x = fire(&b, x, 3, 16, 64, 64);
  x = fire(&b, x, 4, 16, 64, 64);
  x = pool(&b, x, 5);
  x = fire(&b, x, 6, 32, 128, 128);
  x = fire(&b, x, 7, 32, 128, 128);
  x = pool(&b, x, 8);
  x = fire(&b, x, 9, 48, 192, 192);
  x = fire(&b, x, 10, 48, 192, 192);
  x = fire(&b, x, 11, 64, 256, 256);
  x = fire(&b, x, 12, 64, 256, 256);
  return head(&b, x, out);
}
