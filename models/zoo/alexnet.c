/* AlexNet, torchvision's variant (the "one weird trick" single-tower net of
 * Krizhevsky 2014: 64-192-384-256-256 filters, no LRN), 3x224x224 input.
 * torchvision: 61,100,840 parameters, 714,188,480 conv+linear MACs.
 * avgpool is nn.AdaptiveAvgPool2d((6, 6)); at 224 the features are already 6x6, so it
 * is an identity-sized average pool node, kept so the layer list matches torchvision. */
#include "zoo_util.h"

cl_status cl__zoo_alexnet(cl_graph **out) {
  cl__zb b;
  int x = cl__zb_begin(&b, "alexnet", (cl_shape){1, 3, 224, 224});
  x = cl__zb_conv(&b, x, "features", "0", 64, 11, 4, 2, 1, 1);
  x = cl__zb_relu(&b, x, "features", "1");
  x = cl__zb_maxpool(&b, x, "features", "2", 3, 2, 0, 0);
  x = cl__zb_conv(&b, x, "features", "3", 192, 5, 1, 2, 1, 1);
  x = cl__zb_relu(&b, x, "features", "4");
  x = cl__zb_maxpool(&b, x, "features", "5", 3, 2, 0, 0);
  x = cl__zb_conv(&b, x, "features", "6", 384, 3, 1, 1, 1, 1);
  x = cl__zb_relu(&b, x, "features", "7");
  x = cl__zb_conv(&b, x, "features", "8", 256, 3, 1, 1, 1, 1);
  x = cl__zb_relu(&b, x, "features", "9");
  x = cl__zb_conv(&b, x, "features", "10", 256, 3, 1, 1, 1, 1);
  x = cl__zb_relu(&b, x, "features", "11");
  x = cl__zb_maxpool(&b, x, "features", "12", 3, 2, 0, 0);
  x = cl__zb_adaptive_avgpool(&b, x, "", "avgpool", 6, 6);
  x = cl__zb_flatten(&b, x, "", "flatten");
  x = cl__zb_dropout(&b, x, "classifier", "0", 0.5f);
  x = cl__zb_fc(&b, x, "classifier", "1", 4096, 1);
  x = cl__zb_relu(&b, x, "classifier", "2");
  x = cl__zb_dropout(&b, x, "classifier", "3", 0.5f);
  x = cl__zb_fc(&b, x, "classifier", "4", 4096, 1);
  x = cl__zb_relu(&b, x, "classifier", "5");
  cl__zb_fc(&b, x, "classifier", "6", 1000, 1);
  return cl__zb_finish(&b, out);
}
