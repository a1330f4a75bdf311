/** @file zoo.h
 *  @brief The model zoo: graph builders for the CNNs that partitioned-inference
 *  papers evaluate on, each an exact replica of its reference implementation.
 *
 *  torchvision models (alexnet, vgg16, vgg19, resnet18/34/50/101/152, mobilenet_v2,
 *  googlenet, inception_v3, squeezenet1_0/1_1, densenet121/169/201) have the same
 *  parameter count, conv+linear MAC count and layer structure as torchvision 0.14
 *  (checked by tests/test_zoo.c against scripts/torchvision_counts.py). Others:
 *  vgg_f (Chatfield et al. 2014 CNN-F, MatConvNet imagenet-vgg-f), mobilenet_v1
 *  (alias "mobilenet"; Keras MobileNet 1.0/224), resnet50_v2 (Keras ResNet50V2) and
 *  lenet (LeNet-5 with ReLU and max pooling). See each builder's file for the exact
 *  choices and any deviation from the reference.
 *
 *  The Keras family ("keras/<name>", <name> being Scission's model name: keras/resnet50,
 *  keras/inception_v3, keras/nasnetlarge, ... 18 models) replicates tf.keras 2.x
 *  Applications layer by layer: Keras input sizes, padding, layer names, node->layer
 *  grouping and parameter totals (cl_graph_stats.params_total = Keras's "Total params").
 *  Bare Scission names resolve to the Keras model unless the name is a torchvision
 *  model ("resnet50", "vgg16", "inception_v3", "densenet121" stay torchvision) or an
 *  existing alias ("mobilenet"); docs/models.md lists both families.
 *
 *  Node names are the reference's module paths ("layer1.0.conv1", "features.3.squeeze",
 *  "Mixed_5b.branch1x1.conv"; Keras layer names for the Keras models), so layers can be
 *  matched with PyTorch / Keras. Conventions for computations that have no module:
 *   - a module called more than once (torchvision's ResNet blocks reuse one ReLU) gets
 *     its path for the first call and "<path>:<k>" for call k (k = 1, 2): for
 *     example "layer1.0.relu", "layer1.0.relu:1";
 *   - functional ops get the name of the attribute or step they implement:
 *     residual sums "<block>.add", concatenations "<block>.cat", functional ReLUs of
 *     BasicConv2d "<module>.relu", functional pools "<block>.pool", torch.flatten
 *     "flatten";
 *   - the graph input is node 0, named "input".
 *  Batch norm and activations are separate nodes, as in the reference (the executor
 *  fuses them); dropout is a DROPOUT node; flatten is a FLATTEN node. Batch size 1.
 *
 *  Ownership: builders allocate a new graph without weights; the caller owns it
 *  (cl_graph_destroy) and calls cl_graph_init_weights() if it needs weights.
 */
#ifndef CLEAVE_ZOO_H
#define CLEAVE_ZOO_H

#include "cleave/graph.h"

/** One zoo model. Entries are static; never free them. */
typedef struct cl_zoo_entry {
  const char *name;        /* e.g. "resnet18" */
  const char *description; /* one line: origin and what is exact */
  cl_shape input;          /* input shape, batch 1 (e.g. 1x3x224x224) */
  /** Build the graph (no weights). Caller owns *out. */
  cl_status (*build)(cl_graph **out);
  /** Keras Applications models only: the name Scission's benchmark files use
   *  ("resnet50"); NULL for every other model. */
  const char *scission;
} cl_zoo_entry;

/** @brief Number of models in the zoo (aliases not counted). */
int cl_zoo_count(void);
/** @brief Entry @p i (0 <= i < cl_zoo_count()), or NULL. */
const cl_zoo_entry *cl_zoo_get(int i);
/** @brief Entry by name or alias ("mobilenet" = "mobilenet_v1"; a Scission name that no
 *  other model has, such as "xception", = "keras/xception"); NULL if unknown. */
const cl_zoo_entry *cl_zoo_find(const char *name);
/** One of Scission's blocks: Keras layers [first_layer, last_layer] (model.layers
 *  indices, both inclusive, as in Scission's benchmark files) computed by graph nodes
 *  [first_node, last_node]; last_node is the block's output (a valid cut). */
typedef struct cl_zoo_block {
  int first_layer, last_layer;
  int first_node, last_node;
} cl_zoo_block;

/** @brief Keras's model.layers index of each node's layer (node->layer groups):
 *  index[size]. Fails (logged) when layers are not numbered in node order. */
cl_status cl_zoo_keras_layers(const cl_graph *g, int *index);

/** @brief Scission's blocks of @p g (create_valid_splits over Keras's layer order). On
 *  success *out is a malloc'ed array of *n blocks (caller frees). CL_ERR_UNSUPPORTED if
 *  a block is not a contiguous node range (not a Keras-built graph). */
cl_status cl_zoo_scission_blocks(const cl_graph *g, cl_zoo_block **out, int *n);

/** @brief Build model @p name into *out (caller owns it). An unknown name logs
 *  "unknown model 'x' (known: ...)" and returns CL_ERR_NOTFOUND. */
cl_status cl_zoo_build(const char *name, cl_graph **out);

#endif
