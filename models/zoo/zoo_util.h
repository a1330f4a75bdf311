/* Builder helpers shared by the zoo's model files (internal to models/zoo).
 *
 * A cl__zb wraps the graph under construction with a sticky status: every helper
 * returns the new node id, or -1 once any add has failed (the failure is logged by
 * cl_graph_add with the node name), and then does nothing. A builder therefore
 * chains helpers without checking each call and asks cl__zb_finish() at the end.
 *
 * Node names are "<prefix>.<suffix>", or just the suffix when prefix is "" (or
 * just the prefix when suffix is ""): builders keep the module path of the block
 * in a buffer and name its children by attribute. */
#ifndef CLEAVE_ZOO_UTIL_H
#define CLEAVE_ZOO_UTIL_H

#include "cleave/graph.h"

typedef struct cl__zb {
  cl_graph *g;
  cl_status st; /* first failure, CL_OK while all adds succeed */
  int layer;    /* node->layer of the last node added (the input is layer 0) */
  int joining;  /* 1 between cl__zb_layer_begin/end: new nodes join the current layer */
} cl__zb;

/** Create the graph @p name with input node "input" of @p shape. Returns the input id or -1. */
int cl__zb_begin(cl__zb *b, const char *name, cl_shape shape);
/** On success hand the graph to *out; on failure destroy it. Returns the sticky status. */
cl_status cl__zb_finish(cl__zb *b, cl_graph **out);

/** Start a composite layer: the next node opens a new layer and the nodes after it
 *  join that layer (same node->layer) until cl__zb_layer_end(). Without these calls
 *  every node is a layer of its own. */
void cl__zb_layer_begin(cl__zb *b);
void cl__zb_layer_end(cl__zb *b);

/** Conv params: kh x kw, stride s, no padding, dilation 1, no fused activation. */
cl_conv_params cl__zb_conv_params(int out_c, int kh, int kw, int s, int groups, int bias);
/** Square kernel, symmetric padding, dilation 1, no fused activation. */
int cl__zb_conv(cl__zb *b, int in, const char *pfx, const char *sfx, int out_c, int k, int s,
                int pad, int groups, int bias);
/** Rectangular kernel (kh x kw), stride s, padding ph (rows) / pw (columns). */
int cl__zb_conv_rect(cl__zb *b, int in, const char *pfx, const char *sfx, int out_c, int kh,
                     int kw, int s, int ph, int pw, int bias);
/** Fully general conv (pads, strides, groups given in @p p; act forced to NONE). */
int cl__zb_conv_p(cl__zb *b, int in, const char *pfx, const char *sfx, const cl_conv_params *p);
int cl__zb_bn(cl__zb *b, int in, const char *pfx, const char *sfx, float eps);
int cl__zb_relu(cl__zb *b, int in, const char *pfx, const char *sfx);
int cl__zb_relu6(cl__zb *b, int in, const char *pfx, const char *sfx);
int cl__zb_maxpool(cl__zb *b, int in, const char *pfx, const char *sfx, int k, int s, int pad,
                   int ceil_mode);
int cl__zb_avgpool(cl__zb *b, int in, const char *pfx, const char *sfx, int k, int s, int pad,
                   int ceil_mode, int count_include_pad);
/** nn.AdaptiveAvgPool2d((oh, ow)): GAP for 1x1, identity-sized AVGPOOL (k = in / out) when
 *  the input extent is a multiple of the output; anything else is refused (CL_ERR_UNSUPPORTED). */
int cl__zb_adaptive_avgpool(cl__zb *b, int in, const char *pfx, const char *sfx, int oh, int ow);
int cl__zb_gap(cl__zb *b, int in, const char *pfx, const char *sfx);
/** Element-wise sum a + c with no fused activation (a separate RELU follows where needed). */
int cl__zb_add(cl__zb *b, int a, int c, const char *pfx, const char *sfx);
/** Channel concatenation of @p n inputs in the given order. */
int cl__zb_concat(cl__zb *b, const int *ins, int n, const char *pfx, const char *sfx);
int cl__zb_lrn(cl__zb *b, int in, const char *pfx, const char *sfx, int size, float alpha,
               float beta, float k);
int cl__zb_dropout(cl__zb *b, int in, const char *pfx, const char *sfx, float p);
int cl__zb_flatten(cl__zb *b, int in, const char *pfx, const char *sfx);
int cl__zb_fc(cl__zb *b, int in, const char *pfx, const char *sfx, int out_features, int bias);
int cl__zb_softmax(cl__zb *b, int in, const char *pfx, const char *sfx);
/** Zero padding (negative amounts crop), see cl_pad_params. */
int cl__zb_pad(cl__zb *b, int in, const char *pfx, const char *sfx, int pt, int pl, int pb, int pr);
/** a + scale * c (scale != 0; Keras InceptionResNetV2's residual Lambda). */
int cl__zb_scaled_add(cl__zb *b, int a, int c, const char *pfx, const char *sfx, float scale);
/** Any node with fully given params (pooling with asymmetric padding, etc.). */
int cl__zb_node(cl__zb *b, cl_op op, const int *ins, int n, const char *pfx, const char *sfx,
                const cl_op_params *p);

/** Output shape of node @p id (zeros after a failure). */
cl_shape cl__zb_shape(const cl__zb *b, int id);

/* The builders, one per zoo entry (models/zoo/<family>.c); registered in zoo.c. */
cl_status cl__zoo_alexnet(cl_graph **out);
cl_status cl__zoo_vgg_f(cl_graph **out);
cl_status cl__zoo_vgg16(cl_graph **out);
cl_status cl__zoo_vgg19(cl_graph **out);
cl_status cl__zoo_resnet18(cl_graph **out);
cl_status cl__zoo_resnet34(cl_graph **out);
cl_status cl__zoo_resnet50(cl_graph **out);
cl_status cl__zoo_resnet101(cl_graph **out);
cl_status cl__zoo_resnet152(cl_graph **out);
cl_status cl__zoo_resnet50_v2(cl_graph **out);
cl_status cl__zoo_mobilenet_v1(cl_graph **out);
cl_status cl__zoo_mobilenet_v2(cl_graph **out);
cl_status cl__zoo_googlenet(cl_graph **out);
cl_status cl__zoo_inception_v3(cl_graph **out);
cl_status cl__zoo_squeezenet1_0(cl_graph **out);
cl_status cl__zoo_squeezenet1_1(cl_graph **out);
cl_status cl__zoo_densenet121(cl_graph **out);
cl_status cl__zoo_densenet169(cl_graph **out);
cl_status cl__zoo_densenet201(cl_graph **out);
cl_status cl__zoo_lenet(cl_graph **out);

/* Keras Applications (models/zoo/keras_*.c), Keras-exact layer by layer. */
cl_status cl__zoo_k_vgg16(cl_graph **out);
cl_status cl__zoo_k_vgg19(cl_graph **out);
cl_status cl__zoo_k_resnet50(cl_graph **out);
cl_status cl__zoo_k_resnet101(cl_graph **out);
cl_status cl__zoo_k_resnet152(cl_graph **out);
cl_status cl__zoo_k_resnet50v2(cl_graph **out);
cl_status cl__zoo_k_resnet101v2(cl_graph **out);
cl_status cl__zoo_k_resnet152v2(cl_graph **out);
cl_status cl__zoo_k_densenet121(cl_graph **out);
cl_status cl__zoo_k_densenet169(cl_graph **out);
cl_status cl__zoo_k_densenet201(cl_graph **out);
cl_status cl__zoo_k_mobilenet(cl_graph **out);
cl_status cl__zoo_k_mobilenetv2(cl_graph **out);
cl_status cl__zoo_k_xception(cl_graph **out);
cl_status cl__zoo_k_inception_v3(cl_graph **out);
cl_status cl__zoo_k_inceptionresnet_v2(cl_graph **out);
cl_status cl__zoo_k_nasnetmobile(cl_graph **out);
cl_status cl__zoo_k_nasnetlarge(cl_graph **out);

#endif
