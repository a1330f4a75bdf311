/** @file graph.h
 *  @brief Tensor shapes and the model IR: a DAG of typed nodes.
 *
 *  The IR is data. Each node has an op (enum), one typed params struct (a tagged
 *  union), its input node ids, and its inferred output shape and counts. Every
 *  node produces exactly one tensor. Nodes are stored in insertion order and a
 *  node may only consume earlier nodes, so index order is a topological order.
 *
 *  Ownership: a cl_graph owns its nodes, names, input arrays and weights; one
 *  cl_graph_destroy() releases everything. Pointers returned by cl_graph_node()
 *  stay valid until the next cl_graph_add*() or cl_graph_destroy().
 */
#ifndef CLEAVE_GRAPH_H
#define CLEAVE_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "cleave/status.h"

/** Float32 tensor shape, NCHW. Non-spatial tensors (FC outputs) have h = w = 1. */
typedef struct cl_shape {
  int n, c, h, w;
} cl_shape;

static inline int64_t cl_shape_numel(cl_shape s) {
  return (int64_t)s.n * s.c * s.h * s.w;
}

/* X-macro of ops: enum suffix, printable name, spatial (row-splittable: output
 * rows depend only on a window of input rows). */
#define CL_OP_MAP(X)                \
  X(INPUT, "input", 1)              \
  X(CONV, "conv", 1)                \
  X(FC, "fc", 0)                    \
  X(MAXPOOL, "maxpool", 1)          \
  X(AVGPOOL, "avgpool", 1)          \
  X(GAP, "global_avgpool", 0)       \
  X(BATCHNORM, "batchnorm", 1)      \
  X(RELU, "relu", 1)                \
  X(RELU6, "relu6", 1)              \
  X(SIGMOID, "sigmoid", 1)          \
  X(HSWISH, "hardswish", 1)         \
  X(ADD, "add", 1)                  \
  X(MUL, "mul", 1)                  \
  X(CONCAT, "concat", 1)            \
  X(LRN, "lrn", 1)                  \
  X(SOFTMAX, "softmax", 0)          \
  X(FLATTEN, "flatten", 0)          \
  X(DROPOUT, "dropout", 1)           \
  X(PAD, "pad", 1)

typedef enum cl_op {
#define CL__OP_ENUM(e, name, spatial) CL_OP_##e,
  CL_OP_MAP(CL__OP_ENUM)
#undef CL__OP_ENUM
  CL_OP_COUNT
} cl_op;

/** Activation fused as a post-op into conv / fc / add / batchnorm. */
typedef enum cl_act {
  CL_ACT_NONE = 0,
  CL_ACT_RELU,
  CL_ACT_RELU6,
  CL_ACT_SIGMOID,
  CL_ACT_HSWISH
} cl_act;

/** 2-D convolution. Weights: [out_c][in_c/groups][kh][kw], then bias[out_c] if has_bias. */
typedef struct cl_conv_params {
  int out_c;
  int kh, kw;
  int sh, sw;         /* stride */
  int pt, pl, pb, pr; /* padding top, left, bottom, right (zeros) */
  int dh, dw;         /* dilation (1 = dense) */
  int groups;         /* 1 = dense, in_c = out_c = groups: depthwise */
  int has_bias;
  cl_act act; /* fused activation after bias */
} cl_conv_params;

/** Fully connected on the flattened input (c*h*w features). Weights: [out][in], then bias[out]. */
typedef struct cl_fc_params {
  int out_features;
  int has_bias;
  cl_act act;
} cl_fc_params;

/** Max / average pooling (PyTorch semantics, including ceil_mode). */
typedef struct cl_pool_params {
  int kh, kw;
  int sh, sw;
  int pt, pl, pb, pr;
  int ceil_mode;
  int count_include_pad; /* avgpool: divide by the full window incl. padding */
} cl_pool_params;

/** Inference batch-norm: y = (x - mean) / sqrt(var + eps) * gamma + beta.
 *  Weights: gamma[c], beta[c], mean[c], var[c]. Parameters counted: gamma, beta. */
typedef struct cl_bn_params {
  float eps;
  cl_act act;
  /** Keras BatchNormalization(scale=False): gamma is fixed at 1 and not a parameter
   *  (n_params = c: beta only). Weights keep the 4-vector layout with gamma = 1. */
  int no_scale;
} cl_bn_params;

/** Element-wise add / mul of same-shaped inputs (mul also broadcasts a [n,c,1,1] second input). */
typedef struct cl_eltwise_params {
  cl_act act;
  /** ADD of exactly 2 inputs only: y = in0 + scale * in1 (Keras InceptionResNetV2's
   *  scaled residual Lambda). 0 means a plain sum (scale 1). */
  float scale;
} cl_eltwise_params;

/** Local response normalisation across channels (PyTorch nn.LocalResponseNorm). */
typedef struct cl_lrn_params {
  int size;
  float alpha, beta, k;
} cl_lrn_params;

/** Dropout: identity at inference; p kept for documentation. */
typedef struct cl_dropout_params {
  float p;
} cl_dropout_params;

/** Zero padding (Keras ZeroPadding2D) of each side by pt/pl/pb/pr pixels; a negative
 *  amount removes pixels instead (Keras Cropping2D). Output (h + pt + pb) x (w + pl + pr). */
typedef struct cl_pad_params {
  int pt, pl, pb, pr;
} cl_pad_params;

/** Graph input. */
typedef struct cl_input_params {
  cl_shape shape;
} cl_input_params;

typedef union cl_op_params {
  cl_input_params input;
  cl_conv_params conv;
  cl_fc_params fc;
  cl_pool_params pool;
  cl_bn_params bn;
  cl_eltwise_params eltwise;
  cl_lrn_params lrn;
  cl_dropout_params dropout;
  cl_pad_params pad;
} cl_op_params;

/** One node of the DAG. Filled by cl_graph_add(); read-only for users. */
typedef struct cl_node {
  cl_op op;
  char *name;       /* owned by the graph, e.g. torchvision module path "layer1.0.conv1" */
  int n_inputs;
  int *inputs;      /* node ids of inputs, all < this node's id; owned by the graph */
  cl_op_params p;
  cl_shape out;     /* inferred output shape */
  int64_t n_params; /* learnable parameters (torchvision counting: BN gamma+beta) */
  int64_t macs;     /* multiply-accumulates (conv and fc only; 0 for other ops) */
  int64_t flops;    /* floating point ops incl. element-wise work (2*macs for conv/fc) */
  size_t n_weights; /* floats in weights[] (BN: 4*c incl. running stats) */
  float *weights;   /* NULL until cl_graph_init_weights(); owned by the graph */
  /** Source-framework layer this node implements, in build order: cl_graph_add sets
   *  the node id; a builder gives the nodes of one composite layer (Keras
   *  SeparableConv2D = depthwise + pointwise conv, Dense with softmax) one value.
   *  Nodes of one layer are consecutive. */
  int layer;
} cl_node;

typedef struct cl_graph cl_graph;

/** @brief Create an empty graph named @p name. Caller owns *out (cl_graph_destroy). */
cl_status cl_graph_create(const char *name, cl_graph **out);
/** @brief Free the graph, its nodes and weights. NULL-safe. */
void cl_graph_destroy(cl_graph *g);

/** @brief Append a node; infers its shape and counts. Returns the new node id (>= 0),
 *  or a negative cl_status after logging why (bad shapes, bad input ids). The graph
 *  copies @p name, @p inputs and @p params. */
int cl_graph_add(cl_graph *g, cl_op op, const char *name, const int *inputs, int n_inputs,
                 const cl_op_params *params);
/** @brief Append the graph input node with the given shape. Returns node id or negative status. */
int cl_graph_add_input(cl_graph *g, const char *name, cl_shape shape);

const char *cl_graph_name(const cl_graph *g);
int cl_graph_size(const cl_graph *g);
/** @brief Node @p id (0 <= id < size), or NULL. Borrowed pointer. */
const cl_node *cl_graph_node(const cl_graph *g, int id);
/** @brief Mutable node access for importers and weight loaders. */
cl_node *cl_graph_node_mut(cl_graph *g, int id);
/** @brief The output node: the last node added. */
int cl_graph_output(const cl_graph *g);
/** @brief Find a node by name; -1 if absent. */
int cl_graph_find(const cl_graph *g, const char *name);

/** @brief Number of consumers of each node: counts[size]. Caller-provided array. */
void cl_graph_consumer_counts(const cl_graph *g, int *counts);

/** Totals over the whole graph. */
typedef struct cl_graph_stats {
  int64_t params;
  int64_t macs;
  int64_t flops;
  int n_layers;      /* nodes excluding the input */
  int64_t act_bytes; /* sum of all node output bytes */
  /** params plus the non-trainable BN moving mean and variance (2 per channel): the
   *  "Total params" of Keras's model.summary(). */
  int64_t params_total;
} cl_graph_stats;
void cl_graph_stats_get(const cl_graph *g, cl_graph_stats *st);

/** @brief Valid single-tensor cut points: node ids i such that cutting after i in
 *  index order leaves exactly one crossing tensor (node i's output). The output node
 *  is not a cut point; the input node is. Writes up to cap ids to out, returns the
 *  count (may exceed cap; call with cap 0 to size). */
int cl_graph_cut_points(const cl_graph *g, int *out, int cap);

/** @brief Allocate and fill all weights deterministically from @p seed (He-style
 *  init for conv/fc, plausible BN statistics). Independent of allocation order. */
cl_status cl_graph_init_weights(cl_graph *g, uint64_t seed);

/** @brief As cl_graph_init_weights, only for nodes with mask[id] != 0 (the same values
 *  a full init gives those nodes). */
cl_status cl_graph_init_weights_mask(cl_graph *g, uint64_t seed, const uint8_t *mask);

/** @brief Free all weights (shape/count queries keep working). */
void cl_graph_free_weights(cl_graph *g);

/** @brief Printable op name ("conv", ...). */
const char *cl_op_name(cl_op op);
/** @brief 1 if the op is row-splittable (see CL_OP_MAP). */
int cl_op_is_spatial(cl_op op);
/** @brief Parse an op name; returns CL_OP_COUNT if unknown. */
cl_op cl_op_from_name(const char *name);

/** @brief Input rows [*iy0, *iy1) of input @p input_index needed to compute output
 *  rows [oy0, oy1) of spatial node @p id; clipped to the input's height (padding
 *  rows are not stored). Non-spatial nodes need all rows. */
void cl_graph_input_rows(const cl_graph *g, int id, int input_index, int oy0, int oy1,
                         int *iy0, int *iy1);

/** @brief Deterministic 64-bit mixing (splitmix64), used for seeded weights and inputs. */
uint64_t cl_rng_next(uint64_t *state);
/** @brief Uniform float in [lo, hi) from the state. */
float cl_rng_uniform(uint64_t *state, float lo, float hi);

#endif
