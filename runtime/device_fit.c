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
#include "cleave/profile.h"
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
    if (!(r.seconds >= 0) || !(r.seconds <= CL_PROFILE_MAX_SECONDS) || r.bytes < 0) {
      cl_log_error("%s:%d: seconds %g / output_bytes %lld out of range (seconds in [0, %g], bytes >= 0)", csv, ln,
                   r.seconds, r.bytes, CL_PROFILE_MAX_SECONDS);
      st = CL_ERR_INVALID;
      break;
    }
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
      double wb, ab;
      cl_device_node_bytes(g, id, &wb, &ab);
      x->weight_bytes += wb;
      x->act_bytes += ab;
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
  if (dev->weight_bw > 0) t += b->weight_bytes / dev->weight_bw;
  if (dev->act_bw > 0) t += b->act_bytes / dev->act_bw;
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

/* Columns: per op class the cost per unit work, per op class the per-layer overhead, then
 * the seconds per weight byte and per activation byte of conv / FC layers. */
enum { C = CL_DEV_CLASS_COUNT, P = 2 * CL_DEV_CLASS_COUNT + 2 };

static double feature(const cl_devfit_block *b, int j) {
  return j < C ? b->work[j] : j < 2 * C ? b->count[j - C] : j == 2 * C ? b->weight_bytes : b->act_bytes;
}

/* Least squares of A[:, cols] x = y (row-major A, nr x P); x over cols only. */
static int lsq(const double *A, const double *y, int nr, const int *cols, int nc, double *x) {
  gsl_matrix *X = gsl_matrix_alloc((size_t)nr, (size_t)nc), *cov = gsl_matrix_alloc((size_t)nc, (size_t)nc);
  gsl_vector *Y = gsl_vector_alloc((size_t)nr), *c = gsl_vector_alloc((size_t)nc);
  gsl_multifit_linear_workspace *ws = gsl_multifit_linear_alloc((size_t)nr, (size_t)nc);
  int ok = X && cov && Y && c && ws;
  double chi2;
  if (ok) {
    for (int r = 0; r < nr; r++) {
      for (int q = 0; q < nc; q++) gsl_matrix_set(X, (size_t)r, (size_t)q, A[(size_t)r * P + cols[q]]);
      gsl_vector_set(Y, (size_t)r, y[r]);
    }
    ok = gsl_multifit_linear(X, Y, c, cov, &chi2, ws) == 0;
    for (int q = 0; ok && q < nc; q++) x[q] = gsl_vector_get(c, (size_t)q);
  }
  gsl_multifit_linear_free(ws);
  gsl_vector_free(c);
  gsl_vector_free(Y);
  gsl_matrix_free(cov);
  gsl_matrix_free(X);
  return ok;
}

/* Non-negative least squares min |A x - y|, x >= 0 (Lawson and Hanson's active-set
 * algorithm; each passive-set subproblem by GSL). A: nr x P row-major, columns of unit
 * norm. Returns 0 if a subproblem failed. */
static int nnls(const double *A, const double *y, int nr, double *x) {
  int passive[P] = {0}, cols[P];
  double s[P], z[P], wgrad[P];
  for (int j = 0; j < P; j++) x[j] = 0;
  for (int outer = 0; outer < 3 * P; outer++) {
    int best = -1;
    for (int j = 0; j < P; j++) {
      wgrad[j] = 0;
      for (int r = 0; r < nr; r++) {
        double res = y[r];
        for (int k = 0; k < P; k++) res -= A[(size_t)r * P + k] * x[k];
        wgrad[j] += A[(size_t)r * P + j] * res;
      }
      if (!passive[j] && wgrad[j] > 1e-10 && (best < 0 || wgrad[j] > wgrad[best])) best = j;
    }
    if (best < 0) return 1;
    passive[best] = 1;
    for (int inner = 0; inner < 3 * P; inner++) {
      int nc = 0;
      for (int j = 0; j < P; j++)
        if (passive[j]) cols[nc++] = j;
      if (!lsq(A, y, nr, cols, nc, z)) return 0;
      for (int j = 0; j < P; j++) s[j] = 0;
      int feasible = 1;
      for (int q = 0; q < nc; q++) {
        s[cols[q]] = z[q];
        if (z[q] <= 0) feasible = 0;
      }
      if (feasible) {
        memcpy(x, s, sizeof s);
        break;
      }
      double alpha = 1;
      for (int j = 0; j < P; j++)
        if (passive[j] && s[j] <= 0 && x[j] - s[j] > 0) alpha = fmin(alpha, x[j] / (x[j] - s[j]));
      for (int j = 0; j < P; j++) {
        x[j] += alpha * (s[j] - x[j]);
        if (passive[j] && x[j] <= 1e-14) {
          passive[j] = 0;
          x[j] = 0;
        }
      }
    }
  }
  return 1;
}

/* The fit minimises the sum of absolute relative errors |pred / meas - 1| (the median
 * error the catalogue is judged by is an L1 statistic; squares let a few blocks with odd
 * timings pull every class), by iteratively reweighted NNLS: row weight 1 / sqrt|r|. */
enum { IRLS_ITERS = 30 };
#define MAX_BW 1.2e12 /* B/s */

cl_status cl_devfit_fit(const cl_devfit_data *d, const int *use, cl_device *dev) {
  int nr = 0;
  for (int i = 0; i < d->n; i++) nr += !use || use[i];
  double *A = malloc(sizeof(double) * (size_t)(nr + 1) * P), *A0 = malloc(sizeof(double) * (size_t)(nr + 1) * P);
  double *y = malloc(sizeof(double) * (size_t)(nr + 1)), *w = malloc(sizeof(double) * (size_t)(nr + 1));
  double norm[P] = {0}, coef[P] = {0};
  cl_status st = A && A0 && y && w ? CL_OK : CL_ERR_NOMEM;
  for (int i = 0, r = 0; st == CL_OK && i < d->n; i++)
    if (!use || use[i]) {
      for (int j = 0; j < P; j++) {
        A0[(size_t)r * P + j] = feature(&d->b[i], j) / d->b[i].seconds;
        norm[j] += A0[(size_t)r * P + j] * A0[(size_t)r * P + j];
      }
      w[r++] = 1;
    }
  for (int j = 0; j < P; j++) norm[j] = norm[j] > 0 ? sqrt(norm[j]) : 1;
  for (int it = 0; st == CL_OK && it < IRLS_ITERS; it++) {
    for (int r = 0; r < nr; r++) {
      for (int j = 0; j < P; j++) A[(size_t)r * P + j] = A0[(size_t)r * P + j] / norm[j] * w[r];
      y[r] = w[r];
    }
    if (!nnls(A, y, nr, coef)) st = CL_ERR_INVALID;
    for (int r = 0; st == CL_OK && r < nr; r++) {
      double pred = 0;
      for (int j = 0; j < P; j++) pred += A0[(size_t)r * P + j] / norm[j] * coef[j];
      w[r] = 1 / sqrt(fmax(fabs(pred - 1), 1e-3));
    }
  }
  free(A);
  free(A0);
  free(y);
  free(w);
  if (st == CL_OK && nr == 0) st = CL_ERR_INVALID;
  if (st != CL_OK) {
    cl_log_error("device fit: no non-negative solution (%d blocks)", nr);
    return st == CL_ERR_NOMEM ? st : CL_ERR_INVALID;
  }
  double best_coef[P];
  for (int j = 0; j < P; j++) best_coef[j] = coef[j] / norm[j];
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
  dev->weight_bw = best_coef[2 * C] > 0 ? 1.0 / best_coef[2 * C] : 0;
  dev->act_bw = best_coef[2 * C + 1] > 0 ? 1.0 / best_coef[2 * C + 1] : 0;
  /* Bandwidths beyond what the catalogue's unit grammar takes (10 Tbit/s) are costs
   * below the data's resolution: capped. */
  for (int c = 0; c < C; c++)
    if (!cl_dev_class_is_compute((cl_dev_class)c)) dev->throughput[c] = fmin(dev->throughput[c], MAX_BW);
  dev->weight_bw = fmin(dev->weight_bw, MAX_BW);
  dev->act_bw = fmin(dev->act_bw, MAX_BW);
  return CL_OK;
}
