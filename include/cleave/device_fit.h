/** @file device_fit.h
 *  @brief Fitting device models to measured per-block times (Scission's benchmark
 *  data, /work/shared/reference/scission): every Scission block of a model is mapped to
 *  the cleave graph nodes of the same architecture; a block's time is modelled as
 *  sum over its nodes of work / throughput(class) + overhead + weight and activation
 *  bytes / bandwidth; 1/throughput per class, the overheads and 1/bandwidth are fitted
 *  by non-negative least absolute relative errors (iteratively reweighted NNLS, GSL).
 *
 *  Ownership: cl_devfit_data is caller-owned; cl_devfit_data_fini frees its arrays.
 */
#ifndef CLEAVE_DEVICE_FIT_H
#define CLEAVE_DEVICE_FIT_H

#include "cleave/device.h"

/** One Scission block mapped to cleave nodes: its features and measured time. */
typedef struct cl_devfit_block {
  char model[32];
  int block;                     /**< Scission block index */
  int first_node, last_node;     /**< cleave graph nodes [first, last] of the block */
  double work[CL_DEV_CLASS_COUNT]; /**< FLOP or bytes per class */
  int count[CL_DEV_CLASS_COUNT]; /**< cleave nodes per class (each pays its class's overhead) */
  double weight_bytes, act_bytes;  /**< memory-bound terms (cl_device_node_bytes), bytes */
  double seconds;                /**< measured on the machine */
} cl_devfit_block;

typedef struct cl_devfit_data {
  int n;
  cl_devfit_block *b;
} cl_devfit_data;

void cl_devfit_data_fini(cl_devfit_data *d);

/** @brief Scission's models (all map to the zoo's Keras family), NULL-terminated (e.g.
 *  "vgg16"); @p quick: only those cheap to run here (vgg16, vgg19, mobilenet). The zoo
 *  name of each: cl_devfit_zoo_name ("keras/vgg16"; static buffer). */
const char *const *cl_devfit_models(int quick);
const char *cl_devfit_zoo_name(const char *scission_model);

/** @brief Read @p csv (one Scission machine) and map the blocks of every mappable model
 *  (or only @p model if not NULL). Blocks with no cleave node (Keras-only padding or
 *  reshape layers) and blocks measured as 0 s are skipped and counted in *skipped.
 *  A model whose blocks do not reproduce Scission's layer ranges and output sizes is
 *  an error (CL_ERR_INVALID) naming the first mismatching block. */
cl_status cl_devfit_read(const char *csv, const char *model, cl_devfit_data *out, int *skipped);

/** @brief Fit @p dev (throughput, overhead, fitted[]) to rows with use[i] != 0 (NULL =
 *  all). Classes without data, or whose fitted cost is 0, take a derived throughput
 *  (docs/devices.md) and fitted[c] = 0. */
cl_status cl_devfit_fit(const cl_devfit_data *d, const int *use, cl_device *dev);

/** @brief Predicted seconds of block @p i on @p dev. */
double cl_devfit_predict(const cl_devfit_data *d, int i, const cl_device *dev);

/** @brief Median |pred - meas| / meas in % over rows with use[i] != 0 (NULL = all). */
double cl_devfit_median_error(const cl_devfit_data *d, const int *use, const cl_device *dev, int *count);

#endif
