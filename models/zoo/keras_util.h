/* Keras-layer builder helpers for the Keras Applications models (internal to models/zoo).
 *
 * One helper = one Keras layer. Layers that are more than one cleave node form one
 * layer group (node->layer): SeparableConv2D = depthwise conv + pointwise conv,
 * Conv2D / Dense with an activation = conv or fc + activation node. Names are Keras's:
 * a NULL name takes Keras's automatic name for the layer class ("conv2d", then
 * "conv2d_1", ...; "activation", "batch_normalization", ...), so every node carries the
 * name model.summary() shows (the extra nodes of a group get "<name>/<part>").
 * Padding follows Keras: 'valid' pads nothing; 'same' pads TensorFlow's way, with the
 * odd pixel on the bottom / right (asymmetric for stride 2), as conv / pool padding. */
#ifndef CLEAVE_ZOO_KERAS_UTIL_H
#define CLEAVE_ZOO_KERAS_UTIL_H

#include "zoo_util.h"

enum { ZK_CONV, ZK_BN, ZK_ACT, ZK_MAXPOOL, ZK_AVGPOOL, ZK_CONCAT, ZK_ADD, ZK_ZEROPAD, ZK_CROP, ZK_GAP, ZK_COUNT };

typedef struct cl__zk {
  cl__zb b;
  int auto_n[ZK_COUNT]; /* Keras's per-class counters for unnamed layers */
  char nm[160];         /* scratch for cl__zk_name */
} cl__zk;

enum { ZK_VALID = 0, ZK_SAME = 1 };

/** Start graph @p name with a 1x3x@p hw x @p hw input. Returns the input id. */
int cl__zk_begin(cl__zk *k, const char *name, int hw);
/** printf into k->nm (valid until the next call). */
const char *cl__zk_name(cl__zk *k, const char *fmt, ...);
/** TensorFlow 'same' padding of one axis: total max((ceil(in/s)-1)*s + k - in, 0), the
 *  smaller half before. */
void cl__zk_same(int in, int k, int s, int *before, int *after);

/** Conv2D (kh x kw, stride s) with optional fused activation (CL_ACT_NONE / RELU). */
int cl__zk_conv(cl__zk *k, int x, const char *name, int out_c, int kh, int kw, int s, int same, int bias,
                cl_act act);
/** DepthwiseConv2D 3x3 (depth multiplier 1, no bias). */
int cl__zk_dwconv(cl__zk *k, int x, const char *name, int kk, int s, int same);
/** SeparableConv2D without bias: depthwise kk x kk (stride s) then pointwise 1x1. */
int cl__zk_sepconv(cl__zk *k, int x, const char *name, int out_c, int kk, int s, int same);
/** BatchNormalization (scale = 0: Keras scale=False). */
int cl__zk_bn(cl__zk *k, int x, const char *name, float eps, int scale);
/** Activation('relu') / ReLU() (relu6 = 0) or ReLU(6.) (relu6 = 1). */
int cl__zk_relu(cl__zk *k, int x, const char *name, int relu6);
/** ZeroPadding2D (crop = 0) or Cropping2D (crop = 1) with amounts >= 0. */
int cl__zk_pad(cl__zk *k, int x, const char *name, int crop, int t, int l, int bt, int r);
/** ZeroPadding2D with imagenet_utils.correct_pad(x, kk): (kk/2 - 1 + h%2, kk/2) per axis. */
int cl__zk_correct_pad(cl__zk *k, int x, const char *name, int kk);
/** MaxPooling2D (max = 1) / AveragePooling2D (max = 0), kk x kk, stride s. */
int cl__zk_pool(cl__zk *k, int x, const char *name, int max, int kk, int s, int same);
int cl__zk_add(cl__zk *k, const int *ins, int n, const char *name);
int cl__zk_concat(cl__zk *k, const int *ins, int n, const char *name);
int cl__zk_gap(cl__zk *k, int x, const char *name);
/** Dense with activation 'softmax' (softmax = 1) or 'relu' (softmax = 0). */
int cl__zk_dense(cl__zk *k, int x, const char *name, int units, int softmax);

#endif
