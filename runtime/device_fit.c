/* Device models fitted to Scission's per-block times (include/cleave/device_fit.h).
 *
 * Block mapping. Scission's models are tf.keras.applications models; a block is a range
 * of Keras layer indices. The zoo's Keras family (keras/<name>) builds the same graphs
 * layer for layer and maps every Scission block to its node range
 * (cl_zoo_scission_blocks). Each mapped block must reproduce Scission's layer range and
 * output size (output_bytes = 4 x elements + 128), else the model is rejected: blocks
 * are never fitted against the wrong layers. */
#include <gsl/gsl_multifit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/device_fit.h"
#include "cleave/profiler.h" /* cl_stat_summarise */
#include "cleave/zoo.h"

/* Scission's models; quick = cheap enough to run on this host in `devices check --emulate`. */
static const struct {
  const char *scission;
  int quick;
} g_models[] = {
    {"vgg16", 1},         {"vgg19", 1},         {"mobilenet", 1},          {"mobilenetv2", 0},
    {"resnet50", 0},      {"resnet101", 0},     {"resnet152", 0},          {"resnet50v2", 0},
    {"resnet101v2", 0},   {"resnet152v2", 0},   {"xception", 0},           {"inception_v3", 0},
    {"inceptionresnet_v2", 0}, {"densenet121", 0}, {"densenet169", 0},      {"densenet201", 0},
    {"nasnetmobile", 0},  {"nasnetlarge", 0},
};
enum { N_MODELS = sizeof g_models / sizeof g_models[0] };

const char *const *cl_devfit_models(int quick) {
  static const char *names[2][N_MODELS + 1];
  int k = 0;
  for (int i = 0; i < N_MODELS; i++)
    if (!quick || g_models[i].quick) names[quick != 0][k++] = g_models[i].scission;
  names[quick != 0][k] = NULL;
  return names[quick != 0];
}

static int model_index(const char *m) {
  for (int i = 0; i < N_MODELS; i++)
    if (!strcmp(m, g_models[i].scission)) return i;
  return -1;
}

const char *cl_devfit_zoo_name(const char *m) {
  static char name[64];
  if (model_index(m) < 0) return NULL;
  snprintf(name, sizeof name, "keras/%s", m);
  return name;
}

void cl_devfit_data_fini(cl_devfit_data *d) {
  free(d->b);
  memset(d, 0, sizeof *d);
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
  int nr = 0, nb = 0;
  CL_TRY(read_rows(csv, g_models[mi].scission, &rows, &nr));
  cl_graph *g = NULL;
  cl_zoo_block *blk = NULL;
  cl_status st = nr ? cl_zoo_build(cl_devfit_zoo_name(g_models[mi].scission), &g) : CL_OK;
  if (st == CL_OK && nr) st = cl_zoo_scission_blocks(g, &blk, &nb);
  if (st != CL_OK || !nr) goto done;
  cl_devfit_block *b = realloc(out->b, sizeof *b * (size_t)(out->n + nr));
  if (!b) {
    st = CL_ERR_NOMEM;
    goto done;
  }
  out->b = b;
  if (nb != nr) {
    cl_log_error("%s: %s has %d blocks in the zoo's Keras graph, Scission has %d", csv, g_models[mi].scission, nb, nr);
    st = CL_ERR_INVALID;
    goto done;
  }
  for (int r = 0; r < nr; r++) {
    const cl_zoo_block *k = &blk[r];
    long long bytes = 4 * cl_shape_numel(cl_graph_node(g, k->last_node)->out) + 128;
    if (k->first_layer != rows[r].in || k->last_layer != rows[r].out || bytes != rows[r].bytes) {
      cl_log_error("%s: %s block %d: Scission has Keras layers %d-%d and %lld output bytes, the zoo's graph %d-%d "
                   "ending at '%s' with %lld",
                   csv, g_models[mi].scission, rows[r].block, rows[r].in, rows[r].out, rows[r].bytes, k->first_layer,
                   k->last_layer, cl_graph_node(g, k->last_node)->name, bytes);
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
    x->first_node = k->first_node;
    x->last_node = k->last_node;
    x->seconds = rows[r].seconds;
    for (int id = k->first_node; id <= k->last_node; id++) {
      cl_dev_class c;
      double w;
      int layer = cl_device_node_work(g, id, &c, &w);
      x->count[c] += layer;
      x->work[c] += w;
    }
  }
done:
  free(blk);
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
    cl_log_error("no block mapping for Scission model '%s' (see cleave models: keras/...)", model);
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
