/* VGG family: torchvision's vgg16 / vgg19 (configurations D and E of Simonyan &
 * Zisserman 2015, no batch norm) and CNN-F ("vgg_f", Chatfield et al. 2014, "Return of
 * the Devil in the Details"), all with 3x224x224 input. */
#include <stdio.h>

#include "zoo_util.h"

/* torchvision cfg "D" / "E": channel counts, 0 = max pool 2x2 s2. */
static const int g_cfg_d[] = {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0};
static const int g_cfg_e[] = {64,  64,  0,   128, 128, 0,   256, 256, 256, 256, 0,
                              512, 512, 512, 512, 0,   512, 512, 512, 512, 0};

/* torchvision.models.vgg: features.<i> numbered as in nn.Sequential (conv, relu, ... pool),
 * avgpool = AdaptiveAvgPool2d((7, 7)) (identity-sized at 224), flatten, then
 * classifier.0 Linear 25088->4096, .1 ReLU, .2 Dropout, .3 Linear, .4 ReLU, .5 Dropout, .6 Linear. */
static cl_status build_vgg(const char *name, const int *cfg, int n_cfg, cl_graph **out) {
  cl__zb b;
  char idx[16];
  int x = cl__zb_begin(&b, name, (cl_shape){1, 3, 224, 224});
  int i = 0;
  for (int k = 0; k < n_cfg; k++) {
    snprintf(idx, sizeof idx, "%d", i++);
    if (cfg[k] == 0) {
      x = cl__zb_maxpool(&b, x, "features", idx, 2, 2, 0, 0);
      continue;
    }
    x = cl__zb_conv(&b, x, "features", idx, cfg[k], 3, 1, 1, 1, 1);
    snprintf(idx, sizeof idx, "%d", i++);
    x = cl__zb_relu(&b, x, "features", idx);
  }
  x = cl__zb_adaptive_avgpool(&b, x, "", "avgpool", 7, 7);
  x = cl__zb_flatten(&b, x, "", "flatten");
  x = cl__zb_fc(&b, x, "classifier", "0", 4096, 1);
  x = cl__zb_relu(&b, x, "classifier", "1");
  x = cl__zb_dropout(&b, x, "classifier", "2", 0.5f);
  x = cl__zb_fc(&b, x, "classifier", "3", 4096, 1);
  x = cl__zb_relu(&b, x, "classifier", "4");
  x = cl__zb_dropout(&b, x, "classifier", "5", 0.5f);
  cl__zb_fc(&b, x, "classifier", "6", 1000, 1);
  return cl__zb_finish(&b, out);
}

cl_status cl__zoo_vgg16(cl_graph **out) {
  return build_vgg("vgg16", g_cfg_d, (int)(sizeof g_cfg_d / sizeof g_cfg_d[0]), out);
}

cl_status cl__zoo_vgg19(cl_graph **out) {
  return build_vgg("vgg19", g_cfg_e, (int)(sizeof g_cfg_e / sizeof g_cfg_e[0]), out);
}

/* CNN-F as distributed in MatConvNet's imagenet-vgg-f (layer names from there):
 *   conv1 64x11x11 stride 4 pad 0 (224 -> 54), relu1, norm1, pool1 3x3 s2 (-> 27)
 *   conv2 256x5x5 stride 1 pad 2, relu2, norm2, pool2 3x3 s2 (-> 13)
 *   conv3/conv4/conv5 256x3x3 pad 1 with relu, pool5 3x3 s2 (-> 6)
 *   fc6 9216->4096 relu6 drop6, fc7 4096->4096 relu7 drop7, fc8 4096->1000.
 * Choices: MatConvNet pads the pools by one row/column at the bottom/right, which for max
 * pooling is exactly PyTorch's ceil_mode=True (54 -> 27 -> 13 -> 6 as in the paper's
 * 6x6x256 conv5 output). LRN: MatConvNet normalisation [N kappa alpha beta] =
 * [5 1 2e-5 0.75]; PyTorch's LocalResponseNorm divides alpha by N, so size 5, alpha 1e-4,
 * beta 0.75, k 1 (Caffe's AlexNet values). All convs and fcs have biases; the final
 * softmax is omitted (logits, like the torchvision models). 60,834,536 parameters. */
cl_status cl__zoo_vgg_f(cl_graph **out) {
  cl__zb b;
  int x = cl__zb_begin(&b, "vgg_f", (cl_shape){1, 3, 224, 224});
  x = cl__zb_conv(&b, x, "", "conv1", 64, 11, 4, 0, 1, 1);
  x = cl__zb_relu(&b, x, "", "relu1");
  x = cl__zb_lrn(&b, x, "", "norm1", 5, 1e-4f, 0.75f, 1.0f);
  x = cl__zb_maxpool(&b, x, "", "pool1", 3, 2, 0, 1);
  x = cl__zb_conv(&b, x, "", "conv2", 256, 5, 1, 2, 1, 1);
  x = cl__zb_relu(&b, x, "", "relu2");
  x = cl__zb_lrn(&b, x, "", "norm2", 5, 1e-4f, 0.75f, 1.0f);
  x = cl__zb_maxpool(&b, x, "", "pool2", 3, 2, 0, 1);
  x = cl__zb_conv(&b, x, "", "conv3", 256, 3, 1, 1, 1, 1);
  x = cl__zb_relu(&b, x, "", "relu3");
  x = cl__zb_conv(&b, x, "", "conv4", 256, 3, 1, 1, 1, 1);
  x = cl__zb_relu(&b, x, "", "relu4");
  x = cl__zb_conv(&b, x, "", "conv5", 256, 3, 1, 1, 1, 1);
  x = cl__zb_relu(&b, x, "", "relu5");
  x = cl__zb_maxpool(&b, x, "", "pool5", 3, 2, 0, 1);
  x = cl__zb_flatten(&b, x, "", "flatten");
  x = cl__zb_fc(&b, x, "", "fc6", 4096, 1);
  x = cl__zb_relu(&b, x, "", "relu6");
  x = cl__zb_dropout(&b, x, "", "drop6", 0.5f);
  x = cl__zb_fc(&b, x, "", "fc7", 4096, 1);
  x = cl__zb_relu(&b, x, "", "relu7");
  x = cl__zb_dropout(&b, x, "", "drop7", 0.5f);
  cl__zb_fc(&b, x, "", "fc8", 1000, 1);
  return cl__zb_finish(&b, out);
}
