/** @file onnx.h
 *  @brief ONNX import: build a cleave graph, with its weights, from an .onnx file.
 *
 *  The importer parses the protobuf (protobuf-c bindings of the ONNX schema), maps the
 *  operators CNN exporters emit (Conv, Gemm, MatMul, Relu, Clip, Sigmoid, HardSwish,
 *  MaxPool, AveragePool, GlobalAveragePool, BatchNormalization, Add, Mul, Concat,
 *  Flatten, Reshape, Softmax, LRN, Dropout, Pad, Identity, Constant) with their
 *  attributes and initializers into the IR, and fills node->weights in graph.h's
 *  layouts. Anything it cannot represent exactly (an unknown op, an attribute value
 *  cleave has no kernel for, a dynamic shape) is an error that names the node and op:
 *  the importer never silently approximates. See docs/onnx.md for the mapping.
 *
 *  Node names follow the exporter's module scopes: torch.onnx's "/layer1/layer1.0/conv1/Conv"
 *  becomes "layer1.0.conv1" (the torchvision module path, as in the zoo); names without
 *  a scope are kept as they are, and repeats get ":k" suffixes.
 *
 *  Ownership: on success the caller owns *out (cl_graph_destroy), weights included.
 */
#ifndef CLEAVE_ONNX_H
#define CLEAVE_ONNX_H

#include <stddef.h>

#include "cleave/graph.h"

/** Import options. */
typedef struct cl_onnx_opts {
  /** Input shape to use (NCHW; a 2-D [N, F] input is {N, F, 1, 1}). All zero: the model's
   *  own static input shape, with a symbolic first (batch) dimension taken as 1 (any other
   *  symbolic dimension is an error). Must agree with every static dimension the model
   *  declares; fills symbolic ones (e.g. "batch", "height"). */
  cl_shape input;
  /** 1: structure only: the same nodes, names, shapes, parameter and MAC counts, but no
   *  weights (every node->weights stays NULL) and the file's large float initializers are
   *  skipped on the wire instead of being parsed (a 528 MB VGG-16 imports in ~0.1 s, not
   *  seconds). For plans, profiles and listings; cl_graph_init_weights() still works. */
  int structure_only;
} cl_onnx_opts;

/** @brief Default options (input shape from the model). */
cl_onnx_opts cl_onnx_opts_default(void);

/** @brief Import the ONNX model in file @p path. @p opts may be NULL. On error *out is NULL
 *  and the log says what went wrong (file, node, op, attribute). */
cl_status cl_onnx_load(const char *path, const cl_onnx_opts *opts, cl_graph **out);

/** @brief Import from an in-memory serialized ModelProto of @p len bytes; @p name names the
 *  graph (and the model in messages). The buffer is only read during the call. */
cl_status cl_onnx_load_buffer(const void *buf, size_t len, const char *name,
                              const cl_onnx_opts *opts, cl_graph **out);

/** @brief 1 if @p model names an ONNX file (ends in ".onnx", any case), else 0. */
int cl_onnx_is_path(const char *model);

/** @brief Build a model given a zoo name or an ONNX path: "resnet18" -> cl_zoo_build
 *  (no weights, *has_weights = 0); "x.onnx" -> cl_onnx_load (*has_weights = 1). Use it
 *  wherever a model name is accepted. @p has_weights may be NULL. */
cl_status cl_model_load(const char *model, cl_graph **out, int *has_weights);

/** @brief As cl_model_load, without weights: a zoo graph, or an ONNX file imported with
 *  cl_onnx_opts.structure_only. Use it wherever only the graph's structure is needed
 *  (resolving plans, mapping profile steps, listing layers). Caller owns *out. */
cl_status cl_model_load_structure(const char *model, cl_graph **out);

#endif
