/* Device models fitted to Scission's per-block times (include/cleave/device_fit.h).
 *
 * Block mapping. Scission's models are tf.keras.applications models; a block is a range
 * of Keras layer indices. A zoo graph of the same architecture is walked in node order
 * and every node gets the Keras layer index it belongs to, with per-model rules for what
 * Keras represents differently:
 *  - MERGE_ACT: Keras folds the activation into Conv2D/Dense (VGG: activation='relu') and
 *    has no dropout; torchvision's identity-sized AdaptiveAvgPool is not a Keras layer.
 *  - KERAS_PADS: a stride-2 convolution with bottom/right-only padding is preceded by a
 *    ZeroPadding2D layer in Keras (MobileNet conv1_pad, conv_pad_N).
 *  - KERAS_HEAD: Keras MobileNet's head is GAP, Reshape, Dropout, Conv2D (= our FC),
 *    Reshape, Softmax.
 * The mapping must reproduce Scission's layer count and every block's output size
 * (output_bytes = 4 x elements + 128), else the model is rejected: blocks are never
 * fitted against the wrong layers. */
#include <gsl/gsl_multifit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/device_fit.h"
#include "cleave/profiler.h" /* cl_stat_summarise */
#include "cleave/zoo.h"

enum { R_MERGE_ACT = 1, R_KERAS_PADS = 2, R_KERAS_HEAD = 4 };

static const struct {
  const char *scission, *zoo;
  int rules;
} g_models[] = {
    {"vgg16", "vgg16", R_MERGE_ACT},
    {"vgg19", "vgg19", R_MERGE_ACT},
    {"mobilenet", "mobilenet_v1", R_KERAS_PADS | R_KERAS_HEAD},
};
enum { N_MODELS = sizeof g_models / sizeof g_models[0] };

const char *const *cl_devfit_models(void) {
  static const char *names[N_MODELS + 1];
  for (int i = 0; i < N_MODELS; i++) names[i] = g_models[i].scission;
  return names;
}

static int model_index(const char *m) {
  for (int i = 0; i < N_MODELS; i++)
    if (!strcmp(m, g_models[i].scission)) return i;
  return -1;
}

const char *cl_devfit_zoo_name(const char *m) {
  int i = model_index(m);
  return i < 0 ? NULL : g_models[i].zoo;
}

void cl_devfit_data_fini(cl_devfit_data *d) {
  free(d->b);
  memset(d, 0, sizeof *d);
}

/* Keras layer index of every graph node; returns the Keras layer count. */
static int keras_layers(const cl_graph *g, int rules, int *klayer) {
  int n = cl_graph_size(g), k = 0;
  klayer[0] = 0;
  for (int id = 1; id < n; id++) {
    const cl_node *nd = cl_graph_node(g, id);
    const cl_node *in = nd->n_inputs ? cl_graph_node(g, nd->inputs[0]) : nd;
    int identity_pool = nd->op == CL_OP_AVGPOOL && in->out.h == nd->out.h && in->out.w == nd->out.w;
    if ((rules & R_MERGE_ACT) && (nd->op == CL_OP_RELU || nd->op == CL_OP_RELU6 || nd->op == CL_OP_DROPOUT || identity_pool)) {
      klayer[id] = k;
      continue;
    }
    if ((rules & R_KERAS_PADS) && nd->op == CL_OP_CONV && nd->p.conv.sh > 1 &&
        (nd->p.conv.pb > nd->p.conv.pt || nd->p.conv.pr > nd->p.conv.pl))
      k++; /* ZeroPadding2D */
    klayer[id] = ++k;
    if ((rules & R_KERAS_HEAD) && nd->op == CL_OP_GAP) k++;  /* Reshape */
    if ((rules & R_KERAS_HEAD) && id == n - 1) k += 2;        /* Reshape, Softmax */
  }
  return k + 1;
}

typedef struct csv_row {
  int block, in, out;
  double seconds;
  long long bytes;
} csv_row;

/* Rows of @p model from a Scission CSV (header model,block,input_layer,output_layer,seconds,output_bytes). */
static cl_status read_rows(const char *csv, const char *model, csv_row **rows, int *n) {
  FILE *f = fopen(csv, "r");
  if (!f) {
    cl_log_error("cannot open Scission CSV '%s'", csv);
    return CL_ERR_IO;
  }
  char line[512], m[64];
  int cap = 0;
  *rows = NULL;
  *n = 0;
  cl_status st = CL_OK;
  for (int ln = 1; fgets(line, sizeof line, f); ln++) {
    if (ln == 1) continue;
    csv_row r;
    if (sscanf(line, "%63[^,],%d,%d,%d,%lf,%lld", m, &r.block, &r.in, &r.out, &r.seconds, &r.bytes) != 6) {
      cl_log_error("%s:%d: expected model,block,input_layer,output_layer,seconds,output_bytes", csv, ln);
      st = CL_ERR_INVALID;
      break;
    }
    if (strcmp(m, model)) continue;
    if (*n == cap) {
      cap = cap ? 2 * cap : 64;
      csv_row *p = realloc(*rows, sizeof *p * (size_t)cap);
      if (!p) {
        st = CL_ERR_NOMEM;
        break;
      }
      *rows = p;
    }
    (*rows)[(*n)++] = r;
  }
  fclose(f);
  if (st != CL_OK) {
    free(*rows);
    *rows = NULL;
  }
  return st;
}

static cl_status map_model(const char *csv, int mi, cl_devfit_data *out, int *skipped) {
  csv_row *rows = NULL;
  int nr = 0;
  CL_TRY(read_rows(csv, g_models[mi].scission, &rows, &nr));
  cl_graph *g = NULL;
  cl_status st = nr ? cl_zoo_build(g_models[mi].zoo, &g) : CL_OK;
  if (st != CL_OK || !nr) {
    free(rows);
    return st;
  }
  int n = cl_graph_size(g);
  int *kl = malloc(sizeof(int) * (size_t)n);
  cl_devfit_block *b = realloc(out->b, sizeof *b * (size_t)(out->n + nr));
  if (!kl || !b) {
    st = CL_ERR_NOMEM;
    goto done;
  }
  out->b = b;
  int nk = keras_layers(g, g_models[mi].rules, kl);
  if (nk != rows[nr - 1].out + 1) {
    cl_log_error("%s: %s maps to %d Keras layers, Scission has %d: block mapping not derivable", csv,
                 g_models[mi].scission, nk, rows[nr - 1].out + 1);
    st = CL_ERR_INVALID;
    goto done;
  }
  for (int r = 0; r < nr; r++) {
    int first = -1, last = -1;
    for (int id = 0; id < n; id++)
      if (kl[id] >= rows[r].in && kl[id] <= rows[r].out) {
        if (first < 0) first = id;
        last = id;
      }
    if (first < 0 || kl[last] != rows[r].out) { /* Keras-only layers (padding, reshape) */
      (*skipped)++;
      continue;
    }
    long long bytes = 4 * cl_shape_numel(cl_graph_node(g, last)->out) + 128;
    if (bytes != rows[r].bytes) {
      cl_log_error("%s: %s block %d (Keras layers %d-%d) ends at '%s' with %lld bytes, Scission says %lld", csv,
                   g_models[mi].scission, rows[r].block, rows[r].in, rows[r].out, cl_graph_node(g, last)->name, bytes,
                   rows[r].bytes);
      st = CL_ERR_INVALID;
      goto done;
    }
    if (!(rows[r].seconds > 0)) { /* vm2Core's clock ticks: 0 s blocks carry no information */
      (*skipped)++;
      continue;
    }
    cl_devfit_block *x = &out->b[out->n++];
    memset(x, 0, sizeof *x);
    snprintf(x->model, sizeof x->model, "%s", g_models[mi].scission);
    x->block = rows[r].block;
    x->first_node = first;
    x->last_node = last;
    x->seconds = rows[r].seconds;
    for (int id = first; id <= last; id++) {
      cl_dev_class c;
      double w;
      int layer = cl_device_node_work(g, id, &c, &w);
      x->count[c] += layer;
      x->work[c] += w;
    }
  }
done:
  free(kl);
  free(rows);
  cl_graph_destroy(g);
  return st;
}

cl_status cl_devfit_read(const char *csv, const char *model, cl_devfit_data *out, int *skipped) {
  memset(out, 0, sizeof *out);
  *skipped = 0;
  cl_status st = CL_OK;
  for (int mi = 0; mi < N_MODELS && st == CL_OK; mi++)
    if (!model || !strcmp(model, g_models[mi].scission)) st = map_model(csv, mi, out, skipped);
  if (st == CL_OK && model && model_index(model) < 0) {
    cl_log_error("no block mapping for Scission model '%s' (mappable: vgg16, vgg19, mobilenet)", model);
    st = CL_ERR_INVALID;
  }
  if (st != CL_OK) cl_devfit_data_fini(out);
  return st;
}

double cl_devfit_predict(const cl_devfit_data *d, int i, const cl_device *dev) {
  const cl_devfit_block *b = &d->b[i];
  double t = 0;
  for (int c = 0; c < CL_DEV_CLASS_COUNT; c++)
    t += b->work[c] / dev->throughput[c] + b->count[c] * dev->overhead[c];
  return t;
}

double cl_devfit_median_error(const cl_devfit_data *d, const int *use, const cl_device *dev, int *count) {
  double *e = malloc(sizeof(double) * (size_t)(d->n + 1));
  int m = 0;
  for (int i = 0; e && i < d->n; i++)
    if (!use || use[i]) e[m++] = 100.0 * fabs(cl_devfit_predict(d, i, dev) - d->b[i].seconds) / d->b[i].seconds;
  cl_stat_summary s = {0};
  if (m) cl_stat_summarise(e, m, &s);
  free(e);
  if (count) *count = m;
  return m ? s.median : NAN;
}

/* Columns: per op class the cost per unit work, then per op class the per-layer overhead. */
enum { C = CL_DEV_CLASS_COUNT, P = 2 * CL_DEV_CLASS_COUNT };

static double feature(const cl_devfit_block *b, int j) { return j < C ? b->work[j] : b->count[j - C]; }

/* Weighted least squares on the columns in @p mask (relative errors: each row divided by
 * its measured time; columns scaled to unit norm). Returns chi^2, or INFINITY if a
 * coefficient is negative (infeasible for NNLS). */
static double subset_fit(const cl_devfit_data *d, const int *rows, int nr, unsigned mask, const double *norm,
                         double *coef) {
  int cols[P], nc = 0;
  for (int j = 0; j < P; j++)
    if (mask & (1u << j)) cols[nc++] = j;
  if (nr < nc) return INFINITY;
  gsl_matrix *X = gsl_matrix_alloc((size_t)nr, (size_t)nc), *cov = gsl_matrix_alloc((size_t)nc, (size_t)nc);
  gsl_vector *y = gsl_vector_alloc((size_t)nr), *c = gsl_vector_alloc((size_t)nc);
  gsl_multifit_linear_workspace *ws = gsl_multifit_linear_alloc((size_t)nr, (size_t)nc);
  double chi2 = INFINITY;
  if (X && cov && y && c && ws) {
    for (int r = 0; r < nr; r++) {
      const cl_devfit_block *b = &d->b[rows[r]];
      for (int q = 0; q < nc; q++) gsl_matrix_set(X, (size_t)r, (size_t)q, feature(b, cols[q]) / norm[cols[q]] / b->seconds);
      gsl_vector_set(y, (size_t)r, 1.0);
    }
    if (gsl_multifit_linear(X, y, c, cov, &chi2, ws) != 0) chi2 = INFINITY;
    for (int j = 0; j < P; j++) coef[j] = 0;
    for (int q = 0; q < nc; q++) {
      coef[cols[q]] = gsl_vector_get(c, (size_t)q) / norm[cols[q]];
      if (coef[cols[q]] < 0) chi2 = INFINITY;
    }
  }
  gsl_multifit_linear_free(ws);
  gsl_vector_free(c);
  gsl_vector_free(y);
  gsl_matrix_free(cov);
  gsl_matrix_free(X);
  return chi2;
}

cl_status cl_devfit_fit(const cl_devfit_data *d, const int *use, cl_device *dev) {
  int *rows = malloc(sizeof(int) * (size_t)(d->n + 1)), nr = 0;
  if (!rows) return CL_ERR_NOMEM;
  double norm[P] = {0};
  for (int i = 0; i < d->n; i++)
    if (!use || use[i]) {
      rows[nr++] = i;
      for (int j = 0; j < P; j++) norm[j] += pow(feature(&d->b[i], j) / d->b[i].seconds, 2);
    }
  unsigned present = 0;
  for (int j = 0; j < P; j++)
    if (norm[j] > 0) {
      norm[j] = sqrt(norm[j]);
      present |= 1u << j;
    }
  /* Exact NNLS for a handful of unknowns: the NNLS optimum is the unconstrained least
   * squares solution on its positive set, so the best feasible subset solution is it. */
  double best = INFINITY, coef[P], best_coef[P] = {0};
  for (unsigned mask = 1; mask < (1u << P); mask++) {
    if ((mask & ~present) != 0) continue;
    double chi2 = subset_fit(d, rows, nr, mask, norm, coef);
    if (chi2 < best) {
      best = chi2;
      memcpy(best_coef, coef, sizeof coef);
    }
  }
  free(rows);
  if (!isfinite(best)) {
    cl_log_error("device fit: no non-negative solution (%d blocks)", nr);
    return CL_ERR_INVALID;
  }
  for (int c = 0; c < CL_DEV_CLASS_COUNT; c++) {
    dev->fitted[c] = best_coef[c] > 0;
    dev->throughput[c] = dev->fitted[c] ? 1.0 / best_coef[c] : 0;
  }
  /* A class without data, or whose cost fitted to 0 (below the data's resolution), is
   * taken as fast as the fastest fitted class of its kind (compute or memory). */
  for (int c = 0; c < C; c++) {
    if (dev->fitted[c]) continue;
    double best_tp = 0;
    for (int r = 0; r < C; r++)
      if (dev->fitted[r] && cl_dev_class_is_compute((cl_dev_class)r) == cl_dev_class_is_compute((cl_dev_class)c) &&
          dev->throughput[r] > best_tp)
        best_tp = dev->throughput[r];
    dev->throughput[c] = best_tp > 0 ? best_tp : 1e15;
  }
  for (int c = 0; c < C; c++) dev->overhead[c] = best_coef[C + c];
  return CL_OK;
}
