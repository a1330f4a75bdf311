/* The zoo registry: one entry per model, aliases, lookup and build by name. */
#include "cleave/zoo.h"

#include <string.h>

#include "zoo_util.h"

#define IMG224 {1, 3, 224, 224}

static const cl_zoo_entry g_zoo[] = {
    {"lenet", "LeNet-5, ReLU + max pooling, 1x32x32, 10 classes (61,706 params)", {1, 1, 32, 32},
     cl__zoo_lenet, NULL},
    {"alexnet", "AlexNet, torchvision single-tower variant", IMG224, cl__zoo_alexnet, NULL},
    {"vgg_f", "CNN-F of Chatfield et al. 2014 (MatConvNet imagenet-vgg-f)", IMG224, cl__zoo_vgg_f, NULL},
    {"vgg16", "VGG-16 (config D), torchvision", IMG224, cl__zoo_vgg16, NULL},
    {"vgg19", "VGG-19 (config E), torchvision", IMG224, cl__zoo_vgg19, NULL},
    {"resnet18", "ResNet-18, torchvision", IMG224, cl__zoo_resnet18, NULL},
    {"resnet34", "ResNet-34, torchvision", IMG224, cl__zoo_resnet34, NULL},
    {"resnet50", "ResNet-50 (v1.5), torchvision", IMG224, cl__zoo_resnet50, NULL},
    {"resnet101", "ResNet-101 (v1.5), torchvision", IMG224, cl__zoo_resnet101, NULL},
    {"resnet152", "ResNet-152 (v1.5), torchvision", IMG224, cl__zoo_resnet152, NULL},
    {"resnet50_v2", "ResNet50V2 (pre-activation), Keras; BN counted as gamma+beta", IMG224,
     cl__zoo_resnet50_v2, NULL},
    {"mobilenet_v1", "MobileNet v1 1.0/224, Keras (alias: mobilenet)", IMG224, cl__zoo_mobilenet_v1, NULL},
    {"mobilenet_v2", "MobileNet v2 1.0, torchvision", IMG224, cl__zoo_mobilenet_v2, NULL},
    {"googlenet", "GoogLeNet (Inception v1), torchvision, no aux heads", IMG224, cl__zoo_googlenet, NULL},
    {"inception_v3", "Inception v3, torchvision, no aux head, 299x299", {1, 3, 299, 299},
     cl__zoo_inception_v3, NULL},
    {"squeezenet1_0", "SqueezeNet 1.0, torchvision", IMG224, cl__zoo_squeezenet1_0, NULL},
    {"squeezenet1_1", "SqueezeNet 1.1, torchvision", IMG224, cl__zoo_squeezenet1_1, NULL},
    {"densenet121", "DenseNet-121, torchvision", IMG224, cl__zoo_densenet121, NULL},
    {"densenet169", "DenseNet-169, torchvision", IMG224, cl__zoo_densenet169, NULL},
    {"densenet201", "DenseNet-201, torchvision", IMG224, cl__zoo_densenet201, NULL},
#define KERAS(n, what, hw) {"keras/" #n, what ", Keras Applications", {1, 3, hw, hw}, cl__zoo_k_##n, #n}
    KERAS(xception, "Xception", 299),
    KERAS(vgg16, "VGG16", 224),
    KERAS(vgg19, "VGG19", 224),
    KERAS(resnet50, "ResNet50 (v1)", 224),
    KERAS(resnet101, "ResNet101 (v1)", 224),
    KERAS(resnet152, "ResNet152 (v1)", 224),
    KERAS(resnet50v2, "ResNet50V2", 224),
    KERAS(resnet101v2, "ResNet101V2", 224),
    KERAS(resnet152v2, "ResNet152V2", 224),
    KERAS(inception_v3, "InceptionV3", 299),
    KERAS(inceptionresnet_v2, "InceptionResNetV2", 299),
    KERAS(mobilenet, "MobileNet 1.0/224", 224),
    KERAS(mobilenetv2, "MobileNetV2 1.0/224", 224),
    KERAS(densenet121, "DenseNet121", 224),
    KERAS(densenet169, "DenseNet169", 224),
    KERAS(densenet201, "DenseNet201", 224),
    KERAS(nasnetmobile, "NASNetMobile", 224),
    KERAS(nasnetlarge, "NASNetLarge", 331),
#undef KERAS
};

static const struct {
  const char *alias, *name;
} g_aliases[] = {
    {"mobilenet", "mobilenet_v1"},
};

#define N_ZOO ((int)(sizeof g_zoo / sizeof g_zoo[0]))
#define N_ALIAS ((int)(sizeof g_aliases / sizeof g_aliases[0]))

int cl_zoo_count(void) { return N_ZOO; }

const cl_zoo_entry *cl_zoo_get(int i) { return (i >= 0 && i < N_ZOO) ? &g_zoo[i] : NULL; }

const cl_zoo_entry *cl_zoo_find(const char *name) {
  if (!name) return NULL;
  for (int i = 0; i < N_ALIAS; i++)
    if (!strcmp(g_aliases[i].alias, name)) name = g_aliases[i].name;
  for (int i = 0; i < N_ZOO; i++)
    if (!strcmp(g_zoo[i].name, name)) return &g_zoo[i];
  for (int i = 0; i < N_ZOO; i++) /* a Scission name no other model or alias takes */
    if (g_zoo[i].scission && !strcmp(g_zoo[i].scission, name)) return &g_zoo[i];
  return NULL;
}

cl_status cl_zoo_build(const char *name, cl_graph **out) {
  *out = NULL;
  const cl_zoo_entry *e = cl_zoo_find(name);
  if (!e) {
    char known[2048];
    size_t len = 0;
    known[0] = '\0';
    for (int i = 0; i < N_ZOO + N_ALIAS; i++) {
      const char *n = i < N_ZOO ? g_zoo[i].name : g_aliases[i - N_ZOO].alias;
      size_t nl = strlen(n);
      if (len + nl + 3 >= sizeof known) break; /* cannot happen with this table */
      if (len) {
        memcpy(known + len, ", ", 2);
        len += 2;
      }
      memcpy(known + len, n, nl + 1);
      len += nl;
    }
    cl_log_error("unknown model '%s' (known: %s)", name ? name : "(null)", known);
    return CL_ERR_NOTFOUND;
  }
  return e->build(out);
}
