/* Experiment files (docs/experiments.md): parse, validate, expand into points with
 * SHA-256 ids. Everything is checked here, before any point runs. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleave/exec.h"
#include "cleave/onnx.h"
#include "cleave/provenance.h"
#include "cleave/zoo.h"
#include "sweep_internal.h"

static const char *const g_kinds[] = {"testbed", "adaptive", "coedge", NULL};

const char *cl_sweep_kind_name(cl_sweep_kind k) {
  return k >= 0 && k <= CL_SWEEP_COEDGE ? g_kinds[k] : "?";
}

/* ---- small growable string ---- */
typedef struct sb {
  char *s;
  size_t n, cap;
  int oom;
} sb;

static void sb_put(sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_put(sb *b, const char *fmt, ...) {
  if (b->oom) return;
  va_list ap;
  va_start(ap, fmt);
  int need = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (need < 0) {
    b->oom = 1;
    return;
  }
  if (b->n + (size_t)need + 1 > b->cap) {
    size_t nc = (b->cap ? b->cap * 2 : 1024) + (size_t)need;
    char *ns = realloc(b->s, nc);
    if (!ns) {
      b->oom = 1;
      return;
    }
    b->s = ns;
    b->cap = nc;
  }
  va_start(ap, fmt);
  vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
  va_end(ap);
  b->n += (size_t)need;
}

static char *sdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

/* ---- YAML emitter over cl_cfg trees ---- */

/* Plain scalars keep their text (numbers and units stay numbers); anything else is quoted. */
static void emit_scalar(sb *b, const char *s) {
  int plain = s[0] != '\0' && s[0] != ' ' && s[0] != '-' && s[strlen(s) - 1] != ' ';
  for (const char *p = s; plain && *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("_./%+ -", *p)))
      plain = 0;
  /* a leading '-' is fine for numbers */
  if (!plain && s[0] == '-' && s[1] >= '0' && s[1] <= '9') {
    plain = 1;
    for (const char *p = s + 1; *p; p++)
      if (!((*p >= '0' && *p <= '9') || strchr(".eE+-", *p))) plain = 0;
  }
  if (plain) {
    sb_put(b, "%s", s);
    return;
  }
  sb_put(b, "\"");
  for (const char *p = s; *p; p++) {
    if (*p == '"' || *p == '\\')
      sb_put(b, "\\%c", *p);
    else if (*p == '\n')
      sb_put(b, "\\n");
    else
      sb_put(b, "%c", *p);
  }
  sb_put(b, "\"");
}

static const cl__sweep_override *find_ov(const cl__sweep_override *ov, int n, const char *parent, const char *key) {
  for (int i = 0; i < n; i++)
    if (!strcmp(ov[i].parent, parent) && !strcmp(ov[i].key, key)) return &ov[i];
  return NULL;
}

static void emit_flow(sb *b, const cl_cfg_node *n, const char *path, const cl__sweep_override *ov, int n_ov) {
  char sub[256];
  switch (cl_cfg_kind_of(n)) {
  case CL_CFG_SCALAR:
    emit_scalar(b, cl_cfg_scalar(n));
    break;
  case CL_CFG_SEQ:
    sb_put(b, "[");
    for (int i = 0; i < cl_cfg_len(n); i++) {
      snprintf(sub, sizeof sub, "%s[%d]", path, i);
      sb_put(b, "%s", i ? ", " : "");
      emit_flow(b, cl_cfg_at(n, i), sub, ov, n_ov);
    }
    sb_put(b, "]");
    break;
  case CL_CFG_MAP: {
    sb_put(b, "{");
    int first = 1;
    for (int i = 0;; i++) {
      const char *key = NULL;
      const cl_cfg_node *v = cl_cfg_entry(n, i, &key);
      if (!v) break;
      sb_put(b, "%s%s: ", first ? "" : ", ", key);
      first = 0;
      const cl__sweep_override *o = find_ov(ov, n_ov, path, key);
      if (o) {
        sb_put(b, "%s", o->value);
        continue;
      }
      snprintf(sub, sizeof sub, "%s%s%s", path, path[0] ? "." : "", key);
      emit_flow(b, v, sub, ov, n_ov);
    }
    for (int k = 0; k < n_ov; k++) /* added keys */
      if (!strcmp(ov[k].parent, path) && !cl_cfg_get(n, ov[k].key)) {
        sb_put(b, "%s%s: %s", first ? "" : ", ", ov[k].key, ov[k].value);
        first = 0;
      }
    sb_put(b, "}");
    break;
  }
  }
}

char *cl__sweep_emit(const cl_cfg *c, const cl__sweep_override *ov, int n_ov) {
  sb b = {0};
  const cl_cfg_node *root = cl_cfg_root(c);
  for (int i = 0;; i++) {
    const char *key = NULL;
    const cl_cfg_node *v = cl_cfg_entry(root, i, &key);
    if (!v) break;
    const cl__sweep_override *o = find_ov(ov, n_ov, "", key);
    if (o) {
      sb_put(&b, "%s: %s\n", key, o->value);
    } else if (cl_cfg_kind_of(v) == CL_CFG_SEQ) {
      sb_put(&b, "%s:\n", key);
      for (int k = 0; k < cl_cfg_len(v); k++) {
        char sub[128];
        snprintf(sub, sizeof sub, "%s[%d]", key, k);
        sb_put(&b, "  - ");
        emit_flow(&b, cl_cfg_at(v, k), sub, ov, n_ov);
        sb_put(&b, "\n");
      }
    } else {
      sb_put(&b, "%s: ", key);
      emit_flow(&b, v, key, ov, n_ov);
      sb_put(&b, "\n");
    }
  }
  for (int k = 0; k < n_ov; k++)
    if (!ov[k].parent[0] && !cl_cfg_get(root, ov[k].key)) sb_put(&b, "%s: %s\n", ov[k].key, ov[k].value);
  if (b.oom) {
    free(b.s);
    return NULL;
  }
  return b.s;
}

/* ---- cut points at executor step boundaries ---- */

cl_status cl__sweep_step_cuts(const char *model, int **cuts, int *n, char ***names, int *out_node) {
  cl_graph *g = NULL;
  CL_TRY(cl_model_load_structure(model, &g)); /* zoo name or ONNX file, no weights read */
  cl_exec_opts o = cl_exec_opts_default();
  o.plan_only = 1;
  cl_exec *ex = NULL;
  cl_status st = cl_exec_create(g, &o, &ex);
  int N = cl_graph_size(g);
  int m = cl_graph_cut_points(g, NULL, 0);
  int *cp = malloc(sizeof(int) * (size_t)(m + 1));
  uint8_t *is_out = calloc((size_t)N, 1);
  *cuts = malloc(sizeof(int) * (size_t)(m + 2));
  *names = calloc((size_t)(m + 2), sizeof(char *));
  *n = 0;
  if (st == CL_OK && (!cp || !is_out || !*cuts || !*names)) st = CL_ERR_NOMEM;
  if (st == CL_OK) {
    cl_graph_cut_points(g, cp, m);
    for (int s = 0; s < cl_exec_step_count(ex); s++) is_out[cl_exec_step_get(ex, s)->out_node] = 1;
    is_out[0] = 1;
    for (int k = 0; k < m; k++)
      if (is_out[cp[k]]) (*cuts)[(*n)++] = cp[k];
    *out_node = cl_graph_output(g);
    for (int k = 0; k < *n && st == CL_OK; k++)
      if (!((*names)[k] = sdup(cl_graph_node(g, (*cuts)[k])->name))) st = CL_ERR_NOMEM;
    /* the output node itself: "everything on the first node" */
    (*cuts)[*n] = *out_node;
    if (st == CL_OK && !((*names)[*n] = sdup(cl_graph_node(g, *out_node)->name))) st = CL_ERR_NOMEM;
  }
  free(cp);
  free(is_out);
  cl_exec_destroy(ex);
  cl_graph_destroy(g);
  return st;
}

/* ---- factor targets ---- */

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
    static const char *const nf[] = {"speed", "cpu_load", "mem_pressure", "threads", NULL};
    static const cl__sweep_field nv[] = {CL__F_SPEED, CL__F_CPU_LOAD, CL__F_MEM_PRESSURE, CL__F_THREADS};
    int k = 0;
    while (nf[k] && strcmp(nf[k], field)) k++;
    if (!nf[k])
      return cl_cfg_error(c, at, "unknown factor target '%s': node field '%s' (expected speed, cpu_load, mem_pressure or threads)", t,
                          field);
    f->field = nv[k];
    f->node = tb_node_index(e, name);
    if (f->node < 0) return cl_cfg_error(c, at, "unknown factor target '%s': the testbed has no node '%s'", t, name);
    snprintf(f->parent, sizeof f->parent, "nodes[%d]", f->node);
    f->unit = f->field == CL__F_CPU_LOAD || f->field == CL__F_MEM_PRESSURE ? "1" : "";
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
      char *end = NULL;
      x = strtod(s, &end);
      if (end == s || *end || x <= 0 || (f->field == CL__F_THREADS && (x != (int)x || x > 1024)))
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
    case CL__F_WLAN: {
      /* coedge `bandwidths`: a bare 0 (no unit) means "the devices file's WLAN value"
       * (cl_coedge_point.bandwidth_Bps <= 0); any other level needs a unit */
      char *end = NULL;
      double z = strtod(s, &end);
      if (end != s && !*end && z == 0) x = 0;
      else CL_TRY(cl_cfg_node_unit(c, v, CL_UNIT_BANDWIDTH, &x));
      break;
    }
    case CL__F_LATENCY:
    case CL__F_JITTER:
    case CL__F_DEADLINE:
      CL_TRY(cl_cfg_node_unit(c, v, CL_UNIT_SECONDS, &x));
      break;
    }
    if (f->field == CL__F_BANDWIDTH && x <= 0) return cl_cfg_error(c, v, "factor '%s': bandwidth must be > 0", f->target);
    f->level_value[i] = x;
    if (!(f->level_text[i] = sdup(s))) return CL_ERR_NOMEM;
  }
  return CL_OK;
}

/* ---- point texts ---- */

char *cl__sweep_testbed_text(const cl_sweep_exp *e, const cl__sweep_pt *pt, const char *plan_yaml) {
  cl__sweep_override ov[CL_SWEEP_MAX_FACTORS + 2];
  int n = 0;
  ov[n++] = (cl__sweep_override){"", "model", e->models[pt->model]};
  if (plan_yaml) ov[n++] = (cl__sweep_override){"", "plan", plan_yaml};
  for (int k = 0; k < e->n_factors; k++)
    ov[n++] = (cl__sweep_override){e->f[k].parent, e->f[k].key, e->f[k].level_text[pt->lev[k]]};
  return cl__sweep_emit(e->tb, ov, n);
}

static char *plan_yaml(const cl_sweep_exp *e, const cl__sweep_pt *pt) {
  if (!e->every_cut) return sdup(e->explicit_plan[pt->plan]);
  return sdup(e->plans[pt->model].yaml[pt->plan]);
}

char *cl_sweep_point_text(const cl_sweep_exp *e, int i) {
  if (i < 0 || i >= e->n_points) return NULL;
  const cl__sweep_pt *pt = &e->pts[i];
  sb b = {0};
  if (e->kind == CL_SWEEP_COEDGE) {
    sb_put(&b, "kind: coedge\nmodel: %s\nplanner: %s\ndevices: ", e->models[pt->model], e->planners[pt->plan]);
    emit_scalar(&b, e->devices);
    sb_put(&b, "\ndeadline: %.17gs\nbandwidth: %.17gB/s\nmode: %s\ninferences: %ld\nseed: %llu\n",
           e->f[0].level_value[pt->lev[0]], e->f[1].level_value[pt->lev[1]], e->mode ? "fused" : "layer", e->inferences,
           (unsigned long long)e->seed);
    return b.oom ? (free(b.s), NULL) : b.s;
  }
  if (e->kind == CL_SWEEP_ADAPTIVE) {
    sb_put(&b, "# adaptive point: every cut of the model under this condition\nreps: %d\nwarmup: %d\nmem_cap: %.17gB\n",
           e->reps, e->warmup, e->mem_cap);
    char *t = cl__sweep_testbed_text(e, pt, "{cuts: [input]}");
    if (!t) {
      free(b.s);
      return NULL;
    }
    sb_put(&b, "%s", t);
    free(t);
    return b.oom ? (free(b.s), NULL) : b.s;
  }
  char *p = plan_yaml(e, pt);
  char *t = p ? cl__sweep_testbed_text(e, pt, p) : NULL;
  free(p);
  free(b.s);
  return t;
}

const char *cl_sweep_point_id(const cl_sweep_exp *e, int i) { return i >= 0 && i < e->n_points ? e->pts[i].id : NULL; }
int cl_sweep_n_points(const cl_sweep_exp *e) { return e->n_points; }
cl_sweep_kind cl_sweep_exp_kind(const cl_sweep_exp *e) { return e->kind; }
const char *cl_sweep_point_origin(const cl_sweep_exp *e) { return e->tb_path ? e->tb_path : e->path; }

/* ---- loading ---- */

static char *resolve_rel(const char *dir, const char *p) {
  if (p[0] == '/' || !strcmp(dir, ".")) return sdup(p);
  sb b = {0};
  sb_put(&b, "%s/%s", dir, p);
  return b.oom ? (free(b.s), NULL) : b.s;
}

static cl_status load_str_list(const cl_cfg *c, const cl_cfg_node *root, const char *key, char ***out, int *n) {
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
    if (!((*out)[i] = sdup(s))) return CL_ERR_NOMEM;
  }
  return CL_OK;
}

static cl_status load_testbed_base(cl_sweep_exp *e, const cl_cfg *c, const cl_cfg_node *root) {
  const char *tb = NULL;
  CL_TRY(cl_cfg_get_str(c, root, "testbed", 1, &tb));
  if (!(e->tb_path = resolve_rel(e->dir, tb))) return CL_ERR_NOMEM;
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
  return CL_OK;
}

static cl_status build_plans(cl_sweep_exp *e, const cl_cfg *c, const cl_cfg_node *at) {
  e->plans = calloc((size_t)e->n_models, sizeof(cl__sweep_plans));
  if (!e->plans) return CL_ERR_NOMEM;
  for (int m = 0; m < e->n_models; m++) {
    cl__sweep_plans *P = &e->plans[m];
    if (!e->every_cut) {
      P->n = e->n_explicit;
      continue;
    }
    int *cuts = NULL, nc = 0, outn = 0;
    char **names = NULL;
    cl_status st = cl__sweep_step_cuts(e->models[m], &cuts, &nc, &names, &outn);
    if (st != CL_OK) {
      free(cuts);
      return st;
    }
    int nn = e->tb_nodes;
    if (nn != 2 && nn != 3 && e->kind == CL_SWEEP_TESTBED) {
      for (int k = 0; k <= nc; k++) free(names[k]);
      free(names);
      free(cuts);
      return cl_cfg_error(c, at, "plans: every_cut needs a testbed of 2 or 3 nodes (it has %d)", nn);
    }
    int cap = nn == 3 ? (nc + 1) * (nc + 1) : nc + 1;
    P->c1 = malloc(sizeof(int) * (size_t)cap);
    P->c2 = malloc(sizeof(int) * (size_t)cap);
    P->label = calloc((size_t)cap, sizeof(char *));
    if (!P->c1 || !P->c2 || !P->label) st = CL_ERR_NOMEM;
    P->yaml = calloc((size_t)cap, sizeof(char *));
    if (!P->yaml) st = CL_ERR_NOMEM;
    /* cut list: nc step boundaries plus the output node (all on the first node(s)) */
    for (int a = 0; st == CL_OK && a <= nc; a++) {
      int qlo = nn == 2 || e->kind == CL_SWEEP_ADAPTIVE ? -1 : a + 1, qhi = qlo < 0 ? -1 : nc;
      for (int q = qlo; st == CL_OK && q <= qhi; q++) {
        sb y = {0}, l = {0};
        if (q < 0 && a == nc) { /* everything on the first node */
          sb_put(&y, "[{node: ");
          emit_scalar(&y, e->tb_node_name[0]);
          sb_put(&y, ", layers: rest}]");
          sb_put(&l, "all@%s", e->tb_node_name[0]);
        } else if (q < 0) {
          sb_put(&y, "{cuts: [");
          emit_scalar(&y, names[a]);
          sb_put(&y, "]}");
          sb_put(&l, "cut@%.100s", names[a]);
        } else if (q == nc) { /* the third node gets nothing */
          sb_put(&y, "[{node: ");
          emit_scalar(&y, e->tb_node_name[0]);
          sb_put(&y, ", layers: \"0-%d\"}, {node: ", cuts[a]);
          emit_scalar(&y, e->tb_node_name[1]);
          sb_put(&y, ", layers: rest}]");
          sb_put(&l, "cut@%.100s,-", names[a]);
        } else {
          sb_put(&y, "{cuts: [");
          emit_scalar(&y, names[a]);
          sb_put(&y, ", ");
          emit_scalar(&y, names[q]);
          sb_put(&y, "]}");
          sb_put(&l, "cut@%.55s,%.55s", names[a], names[q]);
        }
        P->c1[P->n] = cuts[a];
        P->c2[P->n] = q < 0 ? -1 : cuts[q];
        P->yaml[P->n] = y.s;
        P->label[P->n++] = l.s;
        if (y.oom || l.oom) st = CL_ERR_NOMEM;
      }
    }
    for (int k = 0; k <= nc; k++) free(names[k]);
    free(names);
    free(cuts);
    if (st != CL_OK) return st;
  }
  return CL_OK;
}

void cl_sweep_exp_destroy(cl_sweep_exp *e) {
  if (!e) return;
  free(e->path);
  free(e->dir);
  for (int i = 0; i < e->n_models; i++) free(e->models ? e->models[i] : NULL);
  free(e->models);
  free(e->tb_path);
  cl_cfg_free(e->tb);
  for (int i = 0; i < e->n_explicit; i++) free(e->explicit_plan[i]);
  free(e->explicit_plan);
  if (e->plans)
    for (int m = 0; m < e->n_models; m++) {
      for (int k = 0; k < e->plans[m].n && e->plans[m].label; k++) free(e->plans[m].label[k]);
      for (int k = 0; k < e->plans[m].n && e->plans[m].yaml; k++) free(e->plans[m].yaml[k]);
      free(e->plans[m].label);
      free(e->plans[m].yaml);
      free(e->plans[m].c1);
      free(e->plans[m].c2);
    }
  free(e->plans);
  free(e->devices);
  for (int i = 0; i < e->n_planners; i++) free(e->planners[i]);
  free(e->planners);
  for (int k = 0; k < CL_SWEEP_MAX_FACTORS; k++) {
    for (int i = 0; i < e->f[k].n_levels; i++) free(e->f[k].level_text[i]);
    free(e->f[k].level_text);
    free(e->f[k].level_value);
  }
  free(e->pts);
  free(e);
}

/* Validate one point per (model, explicit plan) and the first of every_cut by loading it. */
static cl_status validate_points(cl_sweep_exp *e) {
  if (e->kind == CL_SWEEP_COEDGE) return CL_OK;
  int last_model = -1, last_plan = -1;
  for (int i = 0; i < e->n_points; i++) {
    const cl__sweep_pt *pt = &e->pts[i];
    int need = pt->model != last_model || (!e->every_cut && pt->plan != last_plan);
    if (!need) continue;
    last_model = pt->model;
    last_plan = pt->plan;
    char *t = e->kind == CL_SWEEP_ADAPTIVE ? NULL : cl_sweep_point_text(e, i);
    if (e->kind == CL_SWEEP_ADAPTIVE) t = cl__sweep_testbed_text(e, pt, "{cuts: [input]}");
    if (!t) return CL_ERR_NOMEM;
    cl_rt_setup su;
    cl_status st = cl_rt_setup_load(e->tb_path, t, &su);
    if (st == CL_OK) {
      if (e->kind == CL_SWEEP_ADAPTIVE) {
        int l = -1;
        if (su.n_nodes != 2 || cl_netmodel_find_link(su.net, 0, 1, &l) != CL_OK) {
          cl_log_error("%s: the adaptive study needs a testbed of exactly 2 nodes (edge, cloud) with a link from "
                       "the first to the second",
                       e->tb_path);
          st = CL_ERR_CONFIG;
        }
      }
      cl_rt_setup_free(&su);
    } else {
      cl_log_error("%s: point %d (model %s) does not resolve to a valid testbed config (see the error above)", e->path, i,
                   e->models[pt->model]);
    }
    free(t);
    if (st != CL_OK) return CL_ERR_CONFIG;
  }
  return CL_OK;
}

static cl_status expand(cl_sweep_exp *e) {
  /* full grid: model x plan x factor levels (factor 0 slowest) */
  long total = 0;
  long per_combo = 1;
  for (int k = 0; k < e->n_factors; k++) per_combo *= e->f[k].n_levels;
  for (int m = 0; m < e->n_models; m++) {
    int np = e->kind == CL_SWEEP_TESTBED ? e->plans[m].n : e->kind == CL_SWEEP_COEDGE ? e->n_planners : 1;
    total += np * per_combo;
  }
  if (total > 50000000L) {
    cl_log_error("%s: the grid has %ld points (over 50 M); use sample: N", e->path, total);
    return CL_ERR_CONFIG;
  }
  long want = e->sample > 0 && e->sample < total ? e->sample : total;
  uint8_t *pick = NULL;
  if (want < total) {
    /* Fisher-Yates prefix over grid indices with the seed; then keep grid order. */
    int *idx = malloc(sizeof(int) * (size_t)total);
    pick = calloc((size_t)total, 1);
    if (!idx || !pick) {
      free(idx);
      free(pick);
      return CL_ERR_NOMEM;
    }
    for (long i = 0; i < total; i++) idx[i] = (int)i;
    uint64_t s = e->seed * 0x9E3779B97F4A7C15ULL + 12345;
    for (long i = 0; i < want; i++) {
      long j = i + (long)(cl_rng_next(&s) % (uint64_t)(total - i));
      int t = idx[i];
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
    int np = e->kind == CL_SWEEP_TESTBED ? e->plans[m].n : e->kind == CL_SWEEP_COEDGE ? e->n_planners : 1;
    for (int p = 0; p < np; p++)
      for (long c = 0; c < per_combo; c++, g++) {
        if (pick && !pick[g]) continue;
        cl__sweep_pt *pt = &e->pts[e->n_points++];
        pt->model = m;
        pt->plan = p;
        pt->grid = (int)g;
        long r = c;
        for (int k = e->n_factors - 1; k >= 0; k--) {
          pt->lev[k] = (int16_t)(r % e->f[k].n_levels);
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

/* A `models` entry: a zoo name, or an ONNX file (kind testbed only) resolved against the
 * experiments file's directory to an absolute path, as the points' testbed configs and
 * the records name it. */
static cl_status check_model(const cl_cfg *c, const cl_cfg_node *n, const cl_sweep_exp *e, char **model) {
  if (!cl_onnx_is_path(*model)) {
    if (cl_zoo_find(*model)) return CL_OK;
    return cl_cfg_error(c, n, "unknown model '%s' (a zoo name, see `cleave models`, or an ONNX file ending in .onnx)",
                        *model);
  }
  if (e->kind != CL_SWEEP_TESTBED)
    return cl_cfg_error(c, n, "ONNX model '%s': kind %s takes zoo models only (use kind testbed for ONNX files)",
                        *model, g_kinds[e->kind]);
  char *rel = resolve_rel(e->dir, *model), *abs = NULL;
  char cwd[4096];
  if (rel && rel[0] != '/' && getcwd(cwd, sizeof cwd)) {
    sb b = {0};
    sb_put(&b, "%s/%s", cwd, rel);
    abs = b.oom ? (free(b.s), NULL) : b.s;
  } else if (rel) {
    abs = sdup(rel);
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

cl_status cl_sweep_load(const char *path, const cl_sweep_load_opts *opts, cl_sweep_exp **out) {
  *out = NULL;
  cl_sweep_exp *e = calloc(1, sizeof *e);
  if (!e) return CL_ERR_NOMEM;
  cl_cfg *c = NULL;
  cl_status st = cl_cfg_parse_file(path, &c);
  if (st != CL_OK) {
    free(e);
    return st;
  }
  const cl_cfg_node *root = cl_cfg_root(c);
  e->path = sdup(path);
  const char *slash = strrchr(path, '/');
  e->dir = slash ? malloc((size_t)(slash - path) + 1) : sdup(".");
  if (slash && e->dir) {
    memcpy(e->dir, path, (size_t)(slash - path));
    e->dir[slash - path] = '\0';
  }
  if (!e->path || !e->dir) {
    st = CL_ERR_NOMEM;
    goto done;
  }
  if ((st = cl_cfg_expect(c, root, CL_CFG_MAP)) != CL_OK) goto done;
  int kind = 0;
  if ((st = cl_cfg_get_enum(c, root, "kind", 0, g_kinds, &kind)) != CL_OK) goto done;
  e->kind = (cl_sweep_kind)kind;
  const char *name = "";
  if ((st = cl_cfg_get_str(c, root, "name", 0, &name)) != CL_OK) goto done;
  snprintf(e->name, sizeof e->name, "%s", name);
  e->seed = 1;
  if ((st = cl_cfg_get_u64(c, root, "seed", 0, &e->seed)) != CL_OK) goto done;
  if ((st = cl_cfg_get_int(c, root, "sample", 0, 0, 50000000L, &e->sample)) != CL_OK) goto done;
  if (opts && opts->sample > 0) e->sample = opts->sample;
  if (opts && opts->has_seed) e->seed = opts->seed;
  if ((st = load_str_list(c, root, "models", &e->models, &e->n_models)) != CL_OK) goto done;
  for (int m = 0; m < e->n_models && st == CL_OK; m++)
    st = check_model(c, cl_cfg_at(cl_cfg_get(root, "models"), m), e, &e->models[m]);
  if (st != CL_OK) goto done;
  const cl_cfg_node *fac = cl_cfg_get(root, "factors");
  if (e->kind == CL_SWEEP_COEDGE) {
    const char *dev = NULL;
    if ((st = cl_cfg_get_str(c, root, "devices", 1, &dev)) != CL_OK) goto done;
    if (!(e->devices = resolve_rel(e->dir, dev))) {
      st = CL_ERR_NOMEM;
      goto done;
    }
    if ((st = load_str_list(c, root, "planners", &e->planners, &e->n_planners)) != CL_OK) goto done;
    static const char *const modes[] = {"layer", "fused", NULL};
    if ((st = cl_cfg_get_enum(c, root, "mode", 0, modes, &e->mode)) != CL_OK) goto done;
    e->inferences = 1;
    if ((st = cl_cfg_get_int(c, root, "inferences", 0, 1, 100000, &e->inferences)) != CL_OK) goto done;
    static const char *const ck[] = {"deadlines", "bandwidths"};
    static const cl__sweep_field cf[] = {CL__F_DEADLINE, CL__F_WLAN};
    for (int k = 0; k < 2; k++) {
      cl__sweep_factor *f = &e->f[k];
      snprintf(f->target, sizeof f->target, "%s", ck[k]);
      f->field = cf[k];
      f->unit = k ? "B/s" : "s";
      const cl_cfg_node *l = cl_cfg_get(root, ck[k]);
      if (!l) {
        st = cl_cfg_error(c, root, "missing required key '%s'", ck[k]);
        goto done;
      }
      if ((st = parse_levels(c, l, f)) != CL_OK) goto done;
    }
    e->n_factors = 2;
    if (fac) {
      st = cl_cfg_error(c, fac, "kind coedge takes deadlines and bandwidths lists, not factors");
      goto done;
    }
  } else {
    if ((st = load_testbed_base(e, c, root)) != CL_OK) goto done;
    const cl_cfg_node *plans = cl_cfg_get(root, "plans");
    if (e->kind == CL_SWEEP_ADAPTIVE) {
      e->every_cut = 1;
      long reps = 5, warm = 1;
      if (plans) {
        st = cl_cfg_error(c, plans, "kind adaptive always evaluates every cut; remove 'plans'");
        goto done;
      }
      if ((st = cl_cfg_get_int(c, root, "reps", 0, 1, 1000, &reps)) != CL_OK) goto done;
      if ((st = cl_cfg_get_int(c, root, "warmup", 0, 0, 100, &warm)) != CL_OK) goto done;
      e->reps = (int)reps;
      e->warmup = (int)warm;
      e->mem_cap = 256.0 * 1048576;
      if ((st = cl_cfg_get_unit(c, root, "mem_cap", 0, CL_UNIT_BYTES, &e->mem_cap)) != CL_OK) goto done;
    } else if (!plans) {
      st = cl_cfg_error(c, root, "missing required key 'plans' (every_cut, or a list of plans)");
      goto done;
    } else if (cl_cfg_kind_of(plans) == CL_CFG_SCALAR) {
      if (strcmp(cl_cfg_scalar(plans), "every_cut")) {
        st = cl_cfg_error(c, plans, "expected 'every_cut' or a list of plans, got '%s'", cl_cfg_scalar(plans));
        goto done;
      }
      e->every_cut = 1;
    } else {
      if ((st = cl_cfg_expect(c, plans, CL_CFG_SEQ)) != CL_OK) goto done;
      e->n_explicit = cl_cfg_len(plans);
      if (e->n_explicit == 0) {
        st = cl_cfg_error(c, plans, "empty plan list");
        goto done;
      }
      e->explicit_plan = calloc((size_t)e->n_explicit, sizeof(char *));
      if (!e->explicit_plan) {
        st = CL_ERR_NOMEM;
        goto done;
      }
      for (int p = 0; p < e->n_explicit; p++) {
        sb b = {0};
        emit_flow(&b, cl_cfg_at(plans, p), "plan", NULL, 0);
        if (b.oom) {
          st = CL_ERR_NOMEM;
          goto done;
        }
        e->explicit_plan[p] = b.s;
      }
    }
    if (fac) {
      if ((st = cl_cfg_expect(c, fac, CL_CFG_SEQ)) != CL_OK) goto done;
      if (cl_cfg_len(fac) > CL_SWEEP_MAX_FACTORS) {
        st = cl_cfg_error(c, fac, "at most %d factors", CL_SWEEP_MAX_FACTORS);
        goto done;
      }
      for (int k = 0; k < cl_cfg_len(fac); k++) {
        const cl_cfg_node *fm = cl_cfg_at(fac, k);
        if ((st = cl_cfg_expect(c, fm, CL_CFG_MAP)) != CL_OK) goto done;
        const char *t = NULL;
        if ((st = cl_cfg_get_str(c, fm, "set", 1, &t)) != CL_OK) goto done;
        if ((st = parse_target(e, c, cl_cfg_get(fm, "set"), t, &e->f[k])) != CL_OK) goto done;
        for (int q = 0; q < k; q++)
          if (!strcmp(e->f[q].parent, e->f[k].parent) && !strcmp(e->f[q].key, e->f[k].key)) {
            st = cl_cfg_error(c, cl_cfg_get(fm, "set"), "factor '%s' is given twice", t);
            goto done;
          }
        const cl_cfg_node *lv = cl_cfg_get(fm, "levels");
        if (!lv) {
          st = cl_cfg_error(c, fm, "factor '%s' has no 'levels' list", t);
          goto done;
        }
        if ((st = parse_levels(c, lv, &e->f[k])) != CL_OK) goto done;
        e->n_factors = k + 1;
      }
    }
    if ((st = build_plans(e, c, plans ? plans : root)) != CL_OK) goto done;
  }
  if ((st = cl_cfg_check_unused(c)) != CL_OK) goto done;
  if ((st = expand(e)) != CL_OK) goto done;
  if (e->n_points == 0) {
    cl_log_error("%s: the experiment has no points", path);
    st = CL_ERR_CONFIG;
    goto done;
  }
  st = validate_points(e);
done:
  cl_cfg_free(c);
  if (st != CL_OK) {
    cl_sweep_exp_destroy(e);
    return st;
  }
  *out = e;
  return CL_OK;
}
