/* Experiment files (docs/experiments.md): the common keys, factor grids, sampling and
 * SHA-256 point ids. The kind named by `kind:` (a cl_sweep_kind_i row) parses the rest.
 * Everything is checked here, before any point runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleave/device.h"
#include "cleave/onnx.h"
#include "cleave/provenance.h"
#include "cleave/zoo.h"
#include "sweep_internal.h"

const cl_sweep_kind_i *const cl__sweep_runtime_kinds[] = {&cl_sweep_kind_testbed, &cl_sweep_kind_adaptive, NULL};

const cl_sweep_kind_i *cl_sweep_kind_find(const cl_sweep_kind_i *const *table, const char *name) {
  for (int k = 0; table && table[k]; k++)
    if (!strcmp(table[k]->name, name)) return table[k];
  return NULL;
}

/* ---- factor targets ---- */

_Static_assert(CL__F_SPEED == 0 && CL__F_CPU_LOAD == 1 && CL__F_MEM_PRESSURE == 2 && CL__F_THREADS == 3 &&
                   CL__F_BANDWIDTH == 4 && CL__F_LATENCY == 5 && CL__F_JITTER == 6 && CL__F_DEVICE == 9,
               "CL_SWEEP_FACTOR_* bits are 1 << cl__sweep_field");

static int tb_node_index(const cl_sweep_exp *e, const char *name) {
  for (int i = 0; i < e->tb_nodes; i++)
    if (!strcmp(e->tb_node_name[i], name)) return i;
  return -1;
}

static const char *map_str(const cl_cfg_node *m, const char *key) {
  for (int i = 0;; i++) {
    const char *k = NULL;
    const cl_cfg_node *v = cl_cfg_entry(m, i, &k);
    if (!v) return NULL;
    if (!strcmp(k, key)) return cl_cfg_scalar(v);
  }
}

static cl_status parse_target(cl_sweep_exp *e, const cl_cfg *c, const cl_cfg_node *at, const char *t,
                              cl__sweep_factor *f) {
  snprintf(f->target, sizeof f->target, "%s", t);
  const char *root = NULL;
  char name[128];
  const char *dot = strrchr(t, '.');
  if (!strncmp(t, "nodes.", 6))
    root = "nodes";
  else if (!strncmp(t, "links.", 6))
    root = "links";
  if (!root || !dot || dot <= t + 6 || (size_t)(dot - t - 6) >= sizeof name)
    return cl_cfg_error(c, at, "unknown factor target '%s' (expected nodes.NAME.FIELD or links.FROM->TO.FIELD)", t);
  memcpy(name, t + 6, (size_t)(dot - t - 6));
  name[dot - t - 6] = '\0';
  const char *field = dot + 1;
  snprintf(f->key, sizeof f->key, "%s", field);
  if (!strcmp(root, "nodes")) {
    static const char *const nf[] = {"speed", "cpu_load", "mem_pressure", "threads", "device", NULL};
    static const cl__sweep_field nv[] = {CL__F_SPEED, CL__F_CPU_LOAD, CL__F_MEM_PRESSURE, CL__F_THREADS, CL__F_DEVICE};
    int k = 0;
    while (nf[k] && strcmp(nf[k], field)) k++;
    if (!nf[k])
      return cl_cfg_error(c, at,
                          "unknown factor target '%s': node field '%s' (expected speed, cpu_load, mem_pressure, threads or device)",
                          t, field);
    f->field = nv[k];
    f->node = tb_node_index(e, name);
    if (f->node < 0) return cl_cfg_error(c, at, "unknown factor target '%s': the testbed has no node '%s'", t, name);
    snprintf(f->parent, sizeof f->parent, "nodes[%d]", f->node);
    f->unit = f->field == CL__F_CPU_LOAD || f->field == CL__F_MEM_PRESSURE ? "1" : f->field == CL__F_DEVICE ? "level" : "";
    if (f->field == CL__F_DEVICE) {
      /* `speed:` beside `device:` overrides the device model (docs/devices.md): a device
       * factor on such a node would change nothing but the node's power */
      const cl_cfg_node *nodes = cl_cfg_get(cl_cfg_root(e->tb), "nodes");
      if (map_str(cl_cfg_at(nodes, f->node), "speed"))
        return cl_cfg_error(c, at,
                            "factor '%s': base testbed %s node '%s' sets speed:, which overrides any device model; remove it to "
                            "sweep devices",
                            t, e->tb_path, name);
    }
    return CL_OK;
  }
  static const char *const lf[] = {"bandwidth", "latency", "jitter", NULL};
  static const cl__sweep_field lv[] = {CL__F_BANDWIDTH, CL__F_LATENCY, CL__F_JITTER};
  int k = 0;
  while (lf[k] && strcmp(lf[k], field)) k++;
  if (!lf[k])
    return cl_cfg_error(c, at, "unknown factor target '%s': link field '%s' (expected bandwidth, latency or jitter)", t, field);
  f->field = lv[k];
  f->unit = f->field == CL__F_BANDWIDTH ? "B/s" : "s";
  const char *arrow = strstr(name, "->");
  if (!arrow) return cl_cfg_error(c, at, "unknown factor target '%s': expected links.FROM->TO.%s", t, field);
  char a[64], b[64];
  snprintf(a, sizeof a, "%.*s", (int)(arrow - name), name);
  snprintf(b, sizeof b, "%s", arrow + 2);
  f->node = tb_node_index(e, a);
  f->node2 = tb_node_index(e, b);
  const cl_cfg_node *links = cl_cfg_get(cl_cfg_root(e->tb), "links");
  for (int i = 0; links && i < cl_cfg_len(links); i++) {
    const cl_cfg_node *l = cl_cfg_at(links, i);
    const char *fr = map_str(l, "from"), *to = map_str(l, "to"), *bw = map_str(l, "both_ways");
    int both = bw && (!strcmp(bw, "true") || !strcmp(bw, "yes"));
    if (fr && to && ((!strcmp(fr, a) && !strcmp(to, b)) || (both && !strcmp(fr, b) && !strcmp(to, a)))) {
      snprintf(f->parent, sizeof f->parent, "links[%d]", i);
      return CL_OK;
    }
  }
  return cl_cfg_error(c, at, "unknown factor target '%s': the testbed %s has no link %s->%s", t, e->tb_path, a, b);
}


static cl_status parse_levels(const cl_cfg *c, const cl_cfg_node *lv, cl__sweep_factor *f) {
  if (!lv) return cl_cfg_error(c, NULL, "factor '%s' has no 'levels'", f->target);
  CL_TRY(cl_cfg_expect(c, lv, CL_CFG_SEQ));
  int n = cl_cfg_len(lv);
  if (n == 0) return cl_cfg_error(c, lv, "factor '%s': empty level list (give at least one level)", f->target);
  if (n > CL__SWEEP_MAX_LEVELS)
    return cl_cfg_error(c, lv, "factor '%s': %d levels (at most %d)", f->target, n, CL__SWEEP_MAX_LEVELS);
  f->level_text = calloc((size_t)n, sizeof(char *));
  f->level_value = calloc((size_t)n, sizeof(double));
  if (!f->level_text || !f->level_value) return CL_ERR_NOMEM;
  f->n_levels = n;
  for (int i = 0; i < n; i++) {
    const cl_cfg_node *v = cl_cfg_at(lv, i);
    const char *s = cl_cfg_scalar(v);
    if (!s) return cl_cfg_error(c, v, "factor '%s': a level must be a scalar", f->target);
    double x = 0;
    switch (f->field) {
    case CL__F_SPEED:
    case CL__F_THREADS: {
      /* the unit grammar's range check: refuses inf, nan and negative levels */
      CL_TRY(cl_cfg_node_unit(c, v, (cl_unit)CL_CONFIG_FACTOR, &x));
      if (!(x > 0) || (f->field == CL__F_THREADS && (x != (int)x || x > 1024)))
        return cl_cfg_error(c, v, "factor '%s': cannot parse '%s' as a %s", f->target, s,
                            f->field == CL__F_SPEED ? "positive speed factor" : "thread count (1-1024)");
      break;
    }
    case CL__F_CPU_LOAD:
    case CL__F_MEM_PRESSURE:
      CL_TRY(cl_cfg_node_unit(c, v, CL_UNIT_FRACTION, &x));
      break;
    case CL__F_BANDWIDTH:
      CL_TRY(cl_cfg_node_unit(c, v, CL_UNIT_BANDWIDTH, &x));
      break;
    case CL__F_BANDWIDTH0: {
      /* a bare 0 (no unit) means "the file's own value"; any other level needs a unit */
      char *end = NULL;
      double z = strtod(s, &end);
      if (end != s && !*end && z == 0) x = 0;
      else CL_TRY(cl_cfg_node_unit(c, v, CL_UNIT_BANDWIDTH, &x));
      break;
    }
    case CL__F_LATENCY:
    case CL__F_JITTER:
    case CL__F_SECONDS:
      CL_TRY(cl_cfg_node_unit(c, v, CL_UNIT_SECONDS, &x));
      break;
    case CL__F_DEVICE: {
      /* resolved like a node's `device:` (a name in the catalogue or a file); the
       * record keeps the level index, the names are attribute factorK_levels */
      cl_device d;
      char dpath[4096];
      if (!*s || !cl_device_resolve(s, dpath, sizeof dpath))
        return cl_cfg_error(c, v, "factor '%s': unknown device '%s' (no such file, or no %s.yaml in $CLEAVE_DEVICE_DIR or %s)",
                            f->target, s, s, cl_device_catalogue_dir());
      CL_TRY(cl_device_load(dpath, &d)); /* a broken device file: its own FILE:LINE error */
      for (int q = 0; q < i; q++)
        if (!strcmp(f->level_text[q], s)) return cl_cfg_error(c, v, "factor '%s': device '%s' is listed twice", f->target, s);
      x = i;
      break;
    }
    }
    if (f->field == CL__F_BANDWIDTH && x <= 0) return cl_cfg_error(c, v, "factor '%s': bandwidth must be > 0", f->target);
    f->level_value[i] = x;
    if (!(f->level_text[i] = cl__sdup(s))) return CL_ERR_NOMEM;
  }
  return CL_OK;
}

cl_status cl_sweep_exp_add_factor(cl_sweep_exp *e, const cl_cfg *c, const cl_cfg_node *levels, const char *name,
                                  cl_sweep_level_unit unit) {
  static const cl__sweep_field fields[] = {CL__F_SECONDS, CL__F_BANDWIDTH, CL__F_BANDWIDTH0, CL__F_SPEED};
  static const char *const units[] = {"s", "B/s", "B/s", ""};
  if (e->n_factors >= CL_SWEEP_MAX_FACTORS)
    return cl_cfg_error(c, levels, "at most %d factors (with '%s')", CL_SWEEP_MAX_FACTORS, name);
  if (!levels) return cl_cfg_error(c, cl_cfg_root(c), "missing required key '%s'", name);
  cl__sweep_factor *f = &e->f[e->n_factors];
  snprintf(f->target, sizeof f->target, "%s", name);
  f->field = fields[unit];
  f->unit = units[unit];
  CL_TRY(parse_levels(c, levels, f));
  e->n_factors++;
  return CL_OK;
}

/* ---- point texts and accessors ---- */

char *cl__sweep_testbed_text(const cl_sweep_exp *e, const cl__sweep_pt *pt, const char *plan_yaml) {
  cl__sweep_override ov[CL_SWEEP_MAX_FACTORS + 2];
  int n = 0;
  ov[n++] = (cl__sweep_override){"", "model", e->models[pt->model]};
  if (plan_yaml) ov[n++] = (cl__sweep_override){"", "plan", plan_yaml};
  for (int k = 0; k < e->n_factors; k++)
    ov[n++] = (cl__sweep_override){e->f[k].parent, e->f[k].key, e->f[k].level_text[pt->lev[k]]};
  return cl__sweep_emit(e->tb, ov, n);
}

cl_status cl__sweep_check_testbed_point(const cl_sweep_exp *e, int i, char *text, cl_rt_setup *su) {
  if (!text) return CL_ERR_NOMEM;
  cl_status st = cl_rt_setup_load(e->tb_path, text, su);
  free(text);
  if (st != CL_OK)
    cl_log_error("%s: point %d (model %s) does not resolve to a valid testbed config (see the error above)", e->path, i,
                 e->models[e->pts[i].model]);
  return st == CL_OK ? CL_OK : CL_ERR_CONFIG;
}

char *cl_sweep_point_testbed_text(const cl_sweep_exp *e, int i, const char *plan_yaml) {
  return i >= 0 && i < e->n_points ? cl__sweep_testbed_text(e, &e->pts[i], plan_yaml) : NULL;
}

cl_status cl_sweep_point_check_testbed(const cl_sweep_exp *e, int i, const char *plan_yaml) {
  cl_rt_setup su;
  cl_status st = cl__sweep_check_testbed_point(e, i, cl_sweep_point_testbed_text(e, i, plan_yaml), &su);
  if (st == CL_OK) cl_rt_setup_free(&su);
  return st;
}

char *cl_sweep_point_text(const cl_sweep_exp *e, int i) {
  return i >= 0 && i < e->n_points ? e->kind->point_text(e, i) : NULL;
}

const char *cl_sweep_point_id(const cl_sweep_exp *e, int i) { return i >= 0 && i < e->n_points ? e->pts[i].id : NULL; }
int cl_sweep_n_points(const cl_sweep_exp *e) { return e->n_points; }
const char *cl_sweep_exp_kind_name(const cl_sweep_exp *e) { return e->kind->name; }
const char *cl_sweep_point_origin(const cl_sweep_exp *e) { return e->tb_path ? e->tb_path : e->path; }
void cl_sweep_exp_set_state(cl_sweep_exp *e, void *state) { e->state = state; }
void *cl_sweep_exp_state(const cl_sweep_exp *e) { return e->state; }
const char *cl_sweep_exp_node(const cl_sweep_exp *e, int k) { return k >= 0 && k < e->tb_nodes ? e->tb_node_name[k] : NULL; }
int cl_sweep_exp_n_models(const cl_sweep_exp *e) { return e->n_models; }
const char *cl_sweep_exp_model(const cl_sweep_exp *e, int m) { return e->models[m]; }
uint64_t cl_sweep_exp_seed(const cl_sweep_exp *e) { return e->seed; }
int cl_sweep_exp_n_factors(const cl_sweep_exp *e) { return e->n_factors; }
int cl_sweep_point_model(const cl_sweep_exp *e, int i) { return e->pts[i].model; }
int cl_sweep_point_plan(const cl_sweep_exp *e, int i) { return e->pts[i].plan; }
double cl_sweep_point_level(const cl_sweep_exp *e, int i, int k) { return e->f[k].level_value[e->pts[i].lev[k]]; }

/* ---- loading ---- */

char *cl_sweep_exp_resolve(const cl_sweep_exp *e, const char *p) {
  if (p[0] == '/' || !strcmp(e->dir, ".")) return cl__sdup(p);
  cl__sb b = {0};
  cl__sb_put(&b, "%s/%s", e->dir, p);
  return cl__sb_take(&b);
}

cl_status cl_sweep_cfg_strings(const cl_cfg *c, const cl_cfg_node *root, const char *key, char ***out, int *n) {
  const cl_cfg_node *l = cl_cfg_get(root, key);
  if (!l) return cl_cfg_error(c, root, "missing required key '%s'", key);
  CL_TRY(cl_cfg_expect(c, l, CL_CFG_SEQ));
  *n = cl_cfg_len(l);
  if (*n == 0) return cl_cfg_error(c, l, "'%s' is an empty list", key);
  *out = calloc((size_t)*n, sizeof(char *));
  if (!*out) return CL_ERR_NOMEM;
  for (int i = 0; i < *n; i++) {
    const char *s = cl_cfg_scalar(cl_cfg_at(l, i));
    if (!s) return cl_cfg_error(c, cl_cfg_at(l, i), "expected a name");
    if (!((*out)[i] = cl__sdup(s))) return CL_ERR_NOMEM;
  }
  return CL_OK;
}

static cl_status parse_factors(cl_sweep_exp *e, const cl_cfg *c, const cl_cfg_node *fac, unsigned allowed) {
  CL_TRY(cl_cfg_expect(c, fac, CL_CFG_SEQ));
  if (cl_cfg_len(fac) > CL_SWEEP_MAX_FACTORS) return cl_cfg_error(c, fac, "at most %d factors", CL_SWEEP_MAX_FACTORS);
  for (int k = 0; k < cl_cfg_len(fac); k++) {
    const cl_cfg_node *fm = cl_cfg_at(fac, k);
    CL_TRY(cl_cfg_expect(c, fm, CL_CFG_MAP));
    const char *t = NULL;
    CL_TRY(cl_cfg_get_str(c, fm, "set", 1, &t));
    CL_TRY(parse_target(e, c, cl_cfg_get(fm, "set"), t, &e->f[k]));
    if (!(allowed & (1u << e->f[k].field)))
      return cl_cfg_error(c, cl_cfg_get(fm, "set"), "factor '%s': kind %s does not take this target", t, e->kind->name);
    for (int q = 0; q < k; q++)
      if (!strcmp(e->f[q].parent, e->f[k].parent) && !strcmp(e->f[q].key, e->f[k].key))
        return cl_cfg_error(c, cl_cfg_get(fm, "set"), "factor '%s' is given twice", t);
    const cl_cfg_node *lv = cl_cfg_get(fm, "levels");
    if (!lv) return cl_cfg_error(c, fm, "factor '%s' has no 'levels' list", t);
    CL_TRY(parse_levels(c, lv, &e->f[k]));
    e->n_factors = k + 1;
  }
  return CL_OK;
}

cl_status cl_sweep_exp_parse_testbed(cl_sweep_exp *e, const cl_cfg *c, const cl_cfg_node *root, unsigned allowed) {
  const char *tb = NULL;
  CL_TRY(cl_cfg_get_str(c, root, "testbed", 1, &tb));
  if (!(e->tb_path = cl_sweep_exp_resolve(e, tb))) return CL_ERR_NOMEM;
  cl_status st = cl_cfg_parse_file(e->tb_path, &e->tb);
  if (st != CL_OK) return cl_cfg_error(c, cl_cfg_get(root, "testbed"), "cannot load base testbed '%s'", e->tb_path);
  const cl_cfg_node *nodes = NULL;
  for (int i = 0;; i++) {
    const char *k = NULL;
    const cl_cfg_node *v = cl_cfg_entry(cl_cfg_root(e->tb), i, &k);
    if (!v) break;
    if (!strcmp(k, "nodes")) nodes = v;
  }
  if (!nodes || cl_cfg_kind_of(nodes) != CL_CFG_SEQ || cl_cfg_len(nodes) < 1 || cl_cfg_len(nodes) > 8)
    return cl_cfg_error(c, cl_cfg_get(root, "testbed"), "base testbed '%s' needs a 'nodes' list of 1-8 nodes", e->tb_path);
  e->tb_nodes = cl_cfg_len(nodes);
  for (int i = 0; i < e->tb_nodes; i++) {
    const char *nm = map_str(cl_cfg_at(nodes, i), "name");
    snprintf(e->tb_node_name[i], sizeof e->tb_node_name[i], "%s", nm ? nm : "");
  }
  const cl_cfg_node *fac = cl_cfg_get(root, "factors");
  return fac ? parse_factors(e, c, fac, allowed) : CL_OK;
}

void cl_sweep_exp_destroy(cl_sweep_exp *e) {
  if (!e) return;
  if (e->state && e->kind && e->kind->state_destroy) e->kind->state_destroy(e->state);
  free(e->path);
  free(e->dir);
  for (int i = 0; i < e->n_models; i++) free(e->models ? e->models[i] : NULL);
  free(e->models);
  free(e->tb_path);
  cl_cfg_free(e->tb);
  for (int k = 0; k < CL_SWEEP_MAX_FACTORS; k++) {
    for (int i = 0; i < e->f[k].n_levels; i++) free(e->f[k].level_text[i]);
    free(e->f[k].level_text);
    free(e->f[k].level_value);
  }
  free(e->pts);
  free(e);
}

/* a * b, or -1 when the product exceeds CL__SWEEP_MAX_POINTS (no overflow: both operands
 * are at most CL__SWEEP_MAX_POINTS before the check). */
static long grid_mul(long a, long b) {
  if (a < 0 || b < 0) return -1;
  if (a != 0 && b > CL__SWEEP_MAX_POINTS / a) return -1;
  return a * b;
}

static cl_status expand(cl_sweep_exp *e) {
  /* full grid: model x plan x factor levels (factor 0 slowest); sizes overflow-checked */
  long total = 0, per_combo = 1;
  for (int k = 0; k < e->n_factors; k++) per_combo = grid_mul(per_combo, e->f[k].n_levels);
  for (int m = 0; m < e->n_models && total >= 0; m++) {
    long np = grid_mul(e->kind->n_plans(e, m), per_combo);
    total = np < 0 || total + np > CL__SWEEP_MAX_POINTS ? -1 : total + np;
  }
  if (per_combo < 0 || total < 0) {
    cl__sb b = {0};
    cl__sb_put(&b, "%d model(s)", e->n_models);
    for (int k = 0; k < e->n_factors; k++) cl__sb_put(&b, " x %d levels of %s", e->f[k].n_levels, e->f[k].target);
    cl_log_error("%s: the grid (%s, times the plans) has more than %ld points; use fewer levels", e->path,
                 b.s ? b.s : "?", CL__SWEEP_MAX_POINTS);
    free(b.s);
    return CL_ERR_CONFIG;
  }
  long want = e->sample > 0 && e->sample < total ? e->sample : total;
  uint8_t *pick = NULL;
  if (want < total) {
    /* Fisher-Yates prefix over grid indices with the seed; then keep grid order. */
    int32_t *idx = malloc(sizeof(int32_t) * (size_t)total);
    pick = calloc((size_t)total, 1);
    if (!idx || !pick) {
      free(idx);
      free(pick);
      return CL_ERR_NOMEM;
    }
    for (long i = 0; i < total; i++) idx[i] = (int32_t)i;
    uint64_t s = e->seed * 0x9E3779B97F4A7C15ULL + 12345;
    for (long i = 0; i < want; i++) {
      long j = i + (long)(cl_rng_next(&s) % (uint64_t)(total - i));
      int32_t t = idx[i];
      idx[i] = idx[j];
      idx[j] = t;
      pick[idx[i]] = 1;
    }
    free(idx);
  }
  e->pts = calloc((size_t)want + 1, sizeof(cl__sweep_pt));
  if (!e->pts) {
    free(pick);
    return CL_ERR_NOMEM;
  }
  long g = 0;
  for (int m = 0; m < e->n_models; m++) {
    int np = e->kind->n_plans(e, m);
    for (int p = 0; p < np; p++)
      for (long c = 0; c < per_combo; c++, g++) {
        if (pick && !pick[g]) continue;
        cl__sweep_pt *pt = &e->pts[e->n_points++];
        pt->model = m;
        pt->plan = p;
        pt->grid = g;
        long r = c;
        for (int k = e->n_factors - 1; k >= 0; k--) {
          pt->lev[k] = (int32_t)(r % e->f[k].n_levels);
          r /= e->f[k].n_levels;
        }
      }
  }
  free(pick);
  for (int i = 0; i < e->n_points; i++) {
    char *t = cl_sweep_point_text(e, i);
    if (!t) return CL_ERR_NOMEM;
    cl_sha256_hex(t, strlen(t), e->pts[i].id);
    free(t);
  }
  return CL_OK;
}

/* A `models` entry: a zoo name, or an ONNX file (kinds that take them) resolved against
 * the experiments file's directory to an absolute path, as the points' testbed configs
 * and the records name it. */
static cl_status check_model(const cl_cfg *c, const cl_cfg_node *n, const cl_sweep_exp *e, char **model) {
  if (!cl_onnx_is_path(*model)) {
    if (cl_zoo_find(*model)) return CL_OK;
    return cl_cfg_error(c, n, "unknown model '%s' (a zoo name, see `cleave models`, or an ONNX file ending in .onnx)",
                        *model);
  }
  if (!e->kind->onnx_models) {
    cl__sb b = {0}; /* the kinds that do take them */
    for (int k = 0; e->kinds[k]; k++)
      if (e->kinds[k]->onnx_models) cl__sb_put(&b, "%s%s", b.s ? ", " : "", e->kinds[k]->name);
    cl_status st = cl_cfg_error(c, n, "ONNX model '%s': kind %s takes zoo models only (ONNX files: kind %s)", *model,
                                e->kind->name, b.s ? b.s : "testbed");
    free(b.s);
    return st;
  }
  char *rel = cl_sweep_exp_resolve(e, *model), *abs = NULL;
  char cwd[4096];
  if (rel && rel[0] != '/' && getcwd(cwd, sizeof cwd)) {
    cl__sb b = {0};
    cl__sb_put(&b, "%s/%s", cwd, rel);
    abs = cl__sb_take(&b);
  } else if (rel) {
    abs = cl__sdup(rel);
  }
  free(rel);
  if (!abs) return CL_ERR_NOMEM;
  if (access(abs, R_OK) != 0) {
    cl_status st = cl_cfg_error(c, n, "cannot read ONNX model '%s' (resolved to '%s'; paths are relative to the "
                                "experiments file)", *model, abs);
    free(abs);
    return st;
  }
  free(*model);
  *model = abs;
  return CL_OK;
}

static cl_status find_kind(cl_sweep_exp *e, const cl_cfg *c, const cl_cfg_node *root) {
  const char *name = "testbed";
  CL_TRY(cl_cfg_get_str(c, root, "kind", 0, &name));
  e->kind = cl_sweep_kind_find(e->kinds, name);
  if (e->kind) return CL_OK;
  cl__sb b = {0};
  for (int k = 0; e->kinds[k]; k++) cl__sb_put(&b, "%s%s", k ? ", " : "", e->kinds[k]->name);
  cl_status st = cl_cfg_error(c, cl_cfg_get(root, "kind"), "unknown kind '%s' (expected one of: %s)", name,
                              b.s ? b.s : "");
  free(b.s);
  return st;
}

static cl_status load(cl_sweep_exp *e, const char *path, const cl_sweep_load_opts *opts, const cl_cfg *c) {
  const cl_cfg_node *root = cl_cfg_root(c);
  e->path = cl__sdup(path);
  const char *slash = strrchr(path, '/');
  e->dir = slash ? malloc((size_t)(slash - path) + 1) : cl__sdup(".");
  if (slash && e->dir) {
    memcpy(e->dir, path, (size_t)(slash - path));
    e->dir[slash - path] = '\0';
  }
  if (!e->path || !e->dir) return CL_ERR_NOMEM;
  CL_TRY(cl_cfg_expect(c, root, CL_CFG_MAP));
  e->kinds = opts && opts->kinds ? opts->kinds : cl__sweep_runtime_kinds;
  CL_TRY(find_kind(e, c, root));
  const char *name = "";
  CL_TRY(cl_cfg_get_str(c, root, "name", 0, &name));
  snprintf(e->name, sizeof e->name, "%s", name);
  e->seed = 1;
  CL_TRY(cl_cfg_get_u64(c, root, "seed", 0, &e->seed));
  CL_TRY(cl_cfg_get_int(c, root, "sample", 0, 0, CL__SWEEP_MAX_POINTS, &e->sample));
  if (opts && opts->sample > 0) e->sample = opts->sample;
  if (opts && opts->has_seed) e->seed = opts->seed;
  CL_TRY(cl_sweep_cfg_strings(c, root, "models", &e->models, &e->n_models));
  for (int m = 0; m < e->n_models; m++) CL_TRY(check_model(c, cl_cfg_at(cl_cfg_get(root, "models"), m), e, &e->models[m]));
  CL_TRY(e->kind->parse(e, c, root));
  CL_TRY(cl_cfg_check_unused(c));
  CL_TRY(expand(e));
  if (e->n_points == 0) {
    cl_log_error("%s: the experiment has no points", path);
    return CL_ERR_CONFIG;
  }
  return e->kind->validate ? e->kind->validate(e) : CL_OK;
}

cl_status cl_sweep_load(const char *path, const cl_sweep_load_opts *opts, cl_sweep_exp **out) {
  *out = NULL;
  cl_sweep_exp *e = calloc(1, sizeof *e);
  if (!e) return CL_ERR_NOMEM;
  cl_cfg *c = NULL;
  cl_status st = cl_cfg_parse_file(path, &c);
  if (st == CL_OK) st = load(e, path, opts, c);
  cl_cfg_free(c);
  if (st != CL_OK) {
    cl_sweep_exp_destroy(e);
    return st;
  }
  *out = e;
  return CL_OK;
}
