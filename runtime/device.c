/* Device models: op classes of graph nodes, per-layer time on a device, the YAML
 * catalogue (configs/devices/NAME.yaml, docs/devices.md) and DVFS scaling. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleave/build_info.h"
#include "cleave/config.h"
#include "cleave/device.h"

static const struct {
  const char *key;
  int compute, fallback;
} g_class[] = {
#define CL__DEV_ROW(e, key, compute, fallback, desc) {key, compute, fallback},
    CL_DEV_CLASS_MAP(CL__DEV_ROW)
#undef CL__DEV_ROW
};
_Static_assert(sizeof g_class / sizeof g_class[0] == CL_DEV_CLASS_COUNT, "one row per op class");

const char *cl_dev_class_name(cl_dev_class c) { return c < CL_DEV_CLASS_COUNT ? g_class[c].key : "?"; }
int cl_dev_class_is_compute(cl_dev_class c) { return c < CL_DEV_CLASS_COUNT && g_class[c].compute; }

static double tensor_bytes(cl_shape s) { return 4.0 * (double)cl_shape_numel(s); }

int cl_device_node_work(const cl_graph *g, int id, cl_dev_class *cls, double *work) {
  const cl_node *n = cl_graph_node(g, id);
  *cls = CL_DEV_COPY;
  *work = 0;
  if (!n || n->op == CL_OP_INPUT) return 0;
  /* An activation right after a conv / FC is part of that layer in the frameworks the
   * catalogue is fitted to (Keras Conv2D(activation=...)) and in cleave's fused steps:
   * it adds its work but no layer overhead. Dropout is the identity at inference. */
  const cl_op prev = n->n_inputs ? cl_graph_node(g, n->inputs[0])->op : CL_OP_INPUT;
  int is_act = n->op == CL_OP_RELU || n->op == CL_OP_RELU6 || n->op == CL_OP_SIGMOID || n->op == CL_OP_HSWISH;
  if (n->op == CL_OP_DROPOUT) return 1; /* identity at inference, still a layer call (Keras) */
  double io = tensor_bytes(n->out);
  for (int q = 0; q < n->n_inputs; q++) io += tensor_bytes(cl_graph_node(g, n->inputs[q])->out);
  switch (n->op) {
  case CL_OP_CONV: {
    const cl_conv_params *c = &n->p.conv;
    int in_c = n->n_inputs ? cl_graph_node(g, n->inputs[0])->out.c : 0;
    *cls = c->groups > 1                  ? CL_DEV_DWCONV
           : in_c <= 4                    ? CL_DEV_CONV_IN /* an image: few channels, poor vectorisation */
           : (c->kh == 1 && c->kw == 1)   ? CL_DEV_CONV1X1
                                          : CL_DEV_CONV;
    *work = 2.0 * (double)n->macs;
    break;
  }
  case CL_OP_FC:
    *cls = CL_DEV_FC;
    *work = 2.0 * (double)n->macs;
    break;
  case CL_OP_CONCAT:
  case CL_OP_FLATTEN:
  case CL_OP_PAD:
    *cls = CL_DEV_COPY;
    *work = io;
    break;
  case CL_OP_BATCHNORM:
    *cls = CL_DEV_BN;
    *work = io;
    break;
  case CL_OP_MAXPOOL:
  case CL_OP_AVGPOOL:
  case CL_OP_GAP:
    *cls = CL_DEV_POOL;
    *work = io;
    break;
  default: /* activations, add, mul, LRN, softmax */
    *cls = CL_DEV_ELTWISE;
    *work = io;
    break;
  }
  return !(is_act && (prev == CL_OP_CONV || prev == CL_OP_FC));
}

void cl_device_node_bytes(const cl_graph *g, int id, double *weights, double *acts) {
  const cl_node *n = cl_graph_node(g, id);
  *weights = *acts = 0;
  if (!n || (n->op != CL_OP_CONV && n->op != CL_OP_FC)) return;
  *weights = 4.0 * (double)n->n_params;
  if (n->op == CL_OP_CONV) *acts = tensor_bytes(n->out) + (n->n_inputs ? tensor_bytes(cl_graph_node(g, n->inputs[0])->out) : 0);
}

double cl_device_node_time(const cl_device *d, const cl_graph *g, int id) {
  cl_dev_class c;
  double w;
  int layer = cl_device_node_work(g, id, &c, &w);
  double wb, ab;
  cl_device_node_bytes(g, id, &wb, &ab);
  return (w > 0 ? w / d->throughput[c] : 0) + (layer ? d->overhead[c] : 0) + (d->weight_bw > 0 ? wb / d->weight_bw : 0) +
         (d->act_bw > 0 ? ab / d->act_bw : 0);
}

/* ---- YAML ---- */

/* @p x to @p n significant digits (readable files that load back within 5e-(n) relative:
 * a fixed number of decimals turned a slow device's 0.00004 GFLOP/s or 0.3 B/s into 0,
 * which the loader then refused). */
static double round_sig(double x, int n) {
  if (!(x != 0) || !isfinite(x)) return x;
  const double p = pow(10.0, n - 1 - floor(log10(fabs(x))));
  const double r = round(x * p) / p;
  return isfinite(r) && r != 0 ? r : x;
}

static cl_status load_tree(cl_config *cf, cl_device *d) {
  cl_config_node *r = cl_config_root(cf);
  if (!r) {
    cl_log_error("%s: empty device file", cl_config_name(cf));
    return CL_ERR_CONFIG;
  }
  CL_TRY(cl_config_expect(r, CL_CONFIG_MAP));
  const char *s;
  CL_TRY(cl_config_get_str(r, "name", &s));
  snprintf(d->name, sizeof d->name, "%s", s);
  CL_TRY(cl_config_opt_str(r, "description", "", &s));
  snprintf(d->description, sizeof d->description, "%s", s);
  cl_config_node *src = cl_config_find(r, "sources");
  if (src) {
    CL_TRY(cl_config_expect(src, CL_CONFIG_SEQ));
    if (cl_config_len(src) > CL_DEV_MAX_SOURCES)
      return cl_config_error(src, "at most %d sources (join related ones)", CL_DEV_MAX_SOURCES);
    for (int i = 0; i < cl_config_len(src); i++) {
      CL_TRY(cl_config_as_str(cl_config_at(src, i), &s));
      snprintf(d->sources[d->n_sources++], sizeof d->sources[0], "%s", s);
    }
  }
  cl_config_node *tp = cl_config_find(r, "throughput");
  if (!tp) return cl_config_error(r, "missing required key 'throughput' (per op class)");
  CL_TRY(cl_config_expect(tp, CL_CONFIG_MAP));
  for (int c = 0; c < CL_DEV_CLASS_COUNT; c++) {
    if (g_class[c].fallback >= 0 && !cl_config_find(tp, g_class[c].key)) continue; /* below */
    if (g_class[c].compute) {
      CL_TRY(cl_config_get_double(tp, g_class[c].key, 1e-6, 1e9, &d->throughput[c]));
      d->throughput[c] *= 1e9; /* GFLOP/s */
    } else {
      CL_TRY(cl_config_get_unit(tp, g_class[c].key, CL_CONFIG_BANDWIDTH, &d->throughput[c]));
      if (!(d->throughput[c] > 0)) return cl_config_error(cl_config_find(tp, g_class[c].key), "must be > 0");
    }
    d->fitted[c] = 1;
  }
  for (int c = 0; c < CL_DEV_CLASS_COUNT; c++) /* a file older than the class: as its fallback */
    if (g_class[c].fallback >= 0 && !cl_config_find(tp, g_class[c].key)) {
      d->throughput[c] = d->throughput[g_class[c].fallback];
      d->fitted[c] = 0;
    }
  CL_TRY(cl_config_opt_unit(tp, "weights", CL_CONFIG_BANDWIDTH, 0, &d->weight_bw));
  CL_TRY(cl_config_opt_unit(tp, "activations", CL_CONFIG_BANDWIDTH, 0, &d->act_bw));
  cl_config_node *der = cl_config_find(r, "derived");
  if (der && !cl_config_is_null(der)) CL_TRY(cl_config_expect(der, CL_CONFIG_SEQ));
  for (int i = 0; der && !cl_config_is_null(der) && i < cl_config_len(der); i++) {
    int c;
    static const char *const keys[] = {
#define CL__DEV_KEY(e, key, compute, fallback, desc) key,
        CL_DEV_CLASS_MAP(CL__DEV_KEY)
#undef CL__DEV_KEY
        NULL};
    CL_TRY(cl_config_as_enum(cl_config_at(der, i), keys, &c));
    d->fitted[c] = 0;
  }
  cl_config_node *oh = cl_config_find(r, "overhead");
  if (!oh) return cl_config_error(r, "missing required key 'overhead' (a duration, or one per op class)");
  if (cl_config_kind_of(oh) == CL_CONFIG_MAP) {
    for (int c = 0; c < CL_DEV_CLASS_COUNT; c++)
      if (g_class[c].fallback >= 0 && !cl_config_find(oh, g_class[c].key))
        d->overhead[c] = d->overhead[g_class[c].fallback]; /* fallbacks precede their classes */
      else
        CL_TRY(cl_config_get_unit(oh, g_class[c].key, CL_CONFIG_DURATION, &d->overhead[c]));
  } else {
    CL_TRY(cl_config_as_unit(oh, CL_CONFIG_DURATION, &d->overhead[0]));
    for (int c = 1; c < CL_DEV_CLASS_COUNT; c++) d->overhead[c] = d->overhead[0];
  }
  CL_TRY(cl_config_opt_unit(r, "memory", CL_CONFIG_SIZE, 0, &d->memory));
  cl_config_node *pw = cl_config_find(r, "power");
  if (pw && !cl_config_is_null(pw)) {
    d->has_power = 1;
    CL_TRY(cl_config_get_unit(pw, "idle", CL_CONFIG_POWER, &d->power.idle));
    CL_TRY(cl_config_get_unit(pw, "busy", CL_CONFIG_POWER, &d->power.busy));
    CL_TRY(cl_config_opt_unit(pw, "tx", CL_CONFIG_POWER, 0, &d->power.tx));
    CL_TRY(cl_config_opt_unit(pw, "rx", CL_CONFIG_POWER, 0, &d->power.rx));
  }
  cl_config_node *dv = cl_config_find(r, "dvfs");
  if (dv && !cl_config_is_null(dv)) {
    CL_TRY(cl_config_expect(dv, CL_CONFIG_SEQ));
    if (cl_config_len(dv) > CL_DEV_MAX_DVFS) return cl_config_error(dv, "at most %d DVFS states", CL_DEV_MAX_DVFS);
    for (int i = 0; i < cl_config_len(dv); i++) {
      cl_config_node *e = cl_config_at(dv, i);
      cl_dev_dvfs *st = &d->dvfs[d->n_dvfs++];
      CL_TRY(cl_config_get_double(e, "freq", 1e-3, 100, &st->freq));
      CL_TRY(cl_config_get_double(e, "volt", 1e-3, 10, &st->volt));
      if (i > 0 && !(st->freq > d->dvfs[i - 1].freq))
        return cl_config_error(e, "DVFS states must be in ascending frequency (GHz)");
    }
  }
  cl_config_node *fit = cl_config_find(r, "fit");
  if (fit && !cl_config_is_null(fit)) {
    int64_t nb;
    CL_TRY(cl_config_get_int(fit, "blocks", 0, 1 << 30, &nb));
    d->fit_blocks = (int)nb;
    CL_TRY(cl_config_get_double(fit, "median_abs_error_pct", 0, 1e9, &d->fit_error_pct));
    CL_TRY(cl_config_opt_str(fit, "models", "", &s));
    snprintf(d->fit_models, sizeof d->fit_models, "%s", s);
  }
  return cl_config_check_unused(cf);
}

cl_status cl_device_load(const char *path, cl_device *d) {
  memset(d, 0, sizeof *d);
  cl_config *cf = NULL;
  CL_TRY(cl_config_load(path, &cf));
  cl_status st = load_tree(cf, d);
  cl_config_destroy(cf);
  return st;
}

const char *cl_device_catalogue_dir(void) { return CL_SOURCE_DIR "/configs/devices"; }

static int is_path(const char *name) {
  size_t len = strlen(name);
  return strchr(name, '/') || (len > 5 && !strcmp(name + len - 5, ".yaml"));
}

int cl_device_resolve(const char *name, char *path, size_t n) {
  if (is_path(name)) {
    snprintf(path, n, "%s", name);
    return access(path, R_OK) == 0;
  }
  const char *dirs[2] = {getenv("CLEAVE_DEVICE_DIR"), cl_device_catalogue_dir()};
  for (int i = 0; i < 2; i++) {
    if (!dirs[i] || !dirs[i][0]) continue;
    if ((size_t)snprintf(path, n, "%s/%s.yaml", dirs[i], name) >= n) continue;
    if (access(path, R_OK) == 0) return 1;
  }
  return 0;
}

cl_status cl_device_find(const char *name, cl_device *d) {
  char path[4096];
  if (is_path(name)) return cl_device_load(name, d); /* its errors name the file */
  if (cl_device_resolve(name, path, sizeof path)) return cl_device_load(path, d);
  const char *dirs[2] = {getenv("CLEAVE_DEVICE_DIR"), cl_device_catalogue_dir()};
  cl_log_error("unknown device '%s': no %s.yaml in $CLEAVE_DEVICE_DIR (%s) or %s (see `cleave devices list`)", name,
               name, dirs[0] ? dirs[0] : "unset", dirs[1]);
  return CL_ERR_CONFIG;
}

cl_status cl_device_to_yaml(const cl_device *d, char **text) {
  cl_config_writer *w = NULL;
  CL_TRY(cl_config_writer_create(&w));
  cl_config_writer_map(w, 0);
  cl_config_writer_key(w, "name");
  cl_config_writer_str(w, d->name);
  cl_config_writer_key(w, "description");
  cl_config_writer_str(w, d->description);
  cl_config_writer_key(w, "sources");
  cl_config_writer_seq(w, 0);
  for (int i = 0; i < d->n_sources; i++) cl_config_writer_str(w, d->sources[i]);
  cl_config_writer_end(w);
  cl_config_writer_key(w, "throughput");
  cl_config_writer_map(w, 0);
  for (int c = 0; c < CL_DEV_CLASS_COUNT; c++) {
    cl_config_writer_key(w, g_class[c].key);
    if (g_class[c].compute)
      cl_config_writer_double(w, round_sig(d->throughput[c] / 1e9, 7));
    else
      cl_config_writer_unit(w, CL_CONFIG_BANDWIDTH, round_sig(d->throughput[c], 9));
  }
  const struct {
    const char *key;
    double bw;
  } terms[] = {{"weights", d->weight_bw}, {"activations", d->act_bw}};
  for (int i = 0; i < 2; i++)
    if (terms[i].bw > 0) {
      cl_config_writer_key(w, terms[i].key);
      cl_config_writer_unit(w, CL_CONFIG_BANDWIDTH, round_sig(terms[i].bw, 9));
    }
  cl_config_writer_end(w);
  cl_config_writer_key(w, "derived");
  cl_config_writer_seq(w, 1);
  for (int c = 0; c < CL_DEV_CLASS_COUNT; c++)
    if (!d->fitted[c]) cl_config_writer_str(w, g_class[c].key);
  cl_config_writer_end(w);
  cl_config_writer_key(w, "overhead");
  cl_config_writer_map(w, 1);
  for (int c = 0; c < CL_DEV_CLASS_COUNT; c++) {
    cl_config_writer_key(w, g_class[c].key);
    cl_config_writer_unit(w, CL_CONFIG_DURATION, round(d->overhead[c] * 1e9) / 1e9);
  }
  cl_config_writer_end(w);
  cl_config_writer_key(w, "memory");
  cl_config_writer_unit(w, CL_CONFIG_SIZE, d->memory);
  if (d->has_power) {
    cl_config_writer_key(w, "power");
    cl_config_writer_map(w, 1);
    cl_config_writer_key(w, "idle");
    cl_config_writer_unit(w, CL_CONFIG_POWER, d->power.idle);
    cl_config_writer_key(w, "busy");
    cl_config_writer_unit(w, CL_CONFIG_POWER, d->power.busy);
    cl_config_writer_key(w, "tx");
    cl_config_writer_unit(w, CL_CONFIG_POWER, d->power.tx);
    cl_config_writer_key(w, "rx");
    cl_config_writer_unit(w, CL_CONFIG_POWER, d->power.rx);
    cl_config_writer_end(w);
  }
  if (d->n_dvfs) {
    cl_config_writer_key(w, "dvfs");
    cl_config_writer_seq(w, 0);
    for (int i = 0; i < d->n_dvfs; i++) {
      cl_config_writer_map(w, 1);
      cl_config_writer_key(w, "freq");
      cl_config_writer_double(w, d->dvfs[i].freq);
      cl_config_writer_key(w, "volt");
      cl_config_writer_double(w, d->dvfs[i].volt);
      cl_config_writer_end(w);
    }
    cl_config_writer_end(w);
  }
  if (d->fit_blocks > 0) {
    cl_config_writer_key(w, "fit");
    cl_config_writer_map(w, 1);
    cl_config_writer_key(w, "blocks");
    cl_config_writer_int(w, d->fit_blocks);
    cl_config_writer_key(w, "median_abs_error_pct");
    cl_config_writer_double(w, round(d->fit_error_pct * 100) / 100);
    cl_config_writer_key(w, "models");
    cl_config_writer_str(w, d->fit_models);
    cl_config_writer_end(w);
  }
  cl_config_writer_end(w);
  return cl_config_writer_finish(w, text);
}

cl_status cl_device_save(const cl_device *d, const char *path) {
  char *text = NULL;
  CL_TRY(cl_device_to_yaml(d, &text));
  size_t len = strlen(path);
  char *tmp = malloc(len + 32);
  if (!tmp) {
    free(text);
    return CL_ERR_NOMEM;
  }
  snprintf(tmp, len + 32, "%s.tmp%ld", path, (long)getpid());
  FILE *f = fopen(tmp, "w");
  cl_status st = CL_OK;
  if (!f || fputs(text, f) < 0) st = CL_ERR_IO;
  if (f && fclose(f) != 0) st = CL_ERR_IO;
  if (st == CL_OK && rename(tmp, path) != 0) st = CL_ERR_IO;
  if (st != CL_OK) {
    cl_log_error("cannot write device file '%s': %s", path, strerror(errno));
    remove(tmp);
  }
  free(tmp);
  free(text);
  return st;
}

cl_status cl_device_at_dvfs(const cl_device *d, int state, cl_device *out) {
  if (state < 0 || state >= d->n_dvfs) {
    cl_log_error("device '%s': no DVFS state %d (it has %d)", d->name, state, d->n_dvfs);
    return CL_ERR_INVALID;
  }
  *out = *d;
  const cl_dev_dvfs *s = &d->dvfs[state], *nom = &d->dvfs[d->n_dvfs - 1];
  double f = s->freq / nom->freq, dyn = f * (s->volt * s->volt) / (nom->volt * nom->volt);
  for (int c = 0; c < CL_DEV_CLASS_COUNT; c++) {
    out->throughput[c] = d->throughput[c] * f;
    out->overhead[c] = d->overhead[c] / f;
  }
  out->weight_bw = d->weight_bw * f;
  out->act_bw = d->act_bw * f;
  out->power.busy = d->power.idle + (d->power.busy - d->power.idle) * dyn;
  return CL_OK;
}
