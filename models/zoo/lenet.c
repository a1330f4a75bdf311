/* LeNet-5 (LeCun et al. 1998) in its common modern form, 1x32x32 input:
 *   conv1 6x5x5, relu1, pool1 (max 2x2/2), conv2 16x5x5, relu2, pool2 (max 2x2/2),
 *   flatten (16*5*5 = 400), fc1 120, relu3, fc2 84, relu4, fc3 10.
 * Differences from the 1998 paper, stated because papers differ here: ReLU instead of
 * scaled tanh, max pooling instead of trainable sub-sampling, a dense C3 (every S2 map
 * feeds every C3 map, not the paper's sparse connection table) and a plain linear
 * output instead of RBF units. 61,706 parameters (all layers with bias). */
#include "zoo_util.h"

cl_status cl__zoo_lenet(cl_graph **out) {
  cl__zb b;
  int x = cl__zb_begin(&b, "lenet", (cl_shape){1, 1, 32, 32});
  x = cl__zb_conv(&b, x, "", "conv1", 6, 5, 1, 0, 1, 1);
  x = cl__zb_relu(&b, x, "", "relu1");
  x = cl__zb_maxpool(&b, x, "", "pool1", 2, 2, 0, 0);
  x = cl__zb_conv(&b, x, "", "conv2", 16, 5, 1, 0, 1, 1);
  x = cl__zb_relu(&b, x, "", "relu2");
  x = cl__zb_maxpool(&b, x, "", "pool2", 2, 2, 0, 0);
  x = cl__zb_flatten(&b, x, "", "flatten");
  x = cl__zb_fc(&b, x, "", "fc1", 120, 1);
  x = cl__zb_relu(&b, x, "", "relu3");
  x = cl__zb_fc(&b, x, "", "fc2", 84, 1);
  x = cl__zb_relu(&b, x, "", "relu4");
  cl__zb_fc(&b, x, "", "fc3", 10, 1);
  return cl__zb_finish(&b, out);
}
