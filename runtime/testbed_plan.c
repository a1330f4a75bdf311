/* Testbed plan: parse `plan:` (entries or cuts) and map graph nodes to testbed nodes. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"
#include "testbed_internal.h"

enum { MAX_ITEMS = 100000 };

static cl_status oom(void) {
  cl_log_error("out of memory while reading the plan");
  return CL_ERR_NOMEM;
}

void cl__tb_plan_free(cl_tb_plan *p) {
  for (int i = 0; i < p->n_entries; i++) free(p->entries[i].spec);
  free(p->entries);
  for (int i = 0; i < p->n_cuts; i++) free(p->cuts[i]);
  free(p->cuts);
  free(p->cut_line);
  free(p->chain);
  memset(p, 0, sizeof *p);
}

static int is_rest(const char *s) { return !strcmp(s, "rest") || !strcmp(s, "*"); }

static int all_digits(const char *s) {
  if (!*s) return 0;
  for (; *s; s++)
    if (!isdigit((unsigned char)*s)) return 0;
  return 1;
}

/* Trim in place; returns the start. */
static char *trim(char *s) {
  while (*s == ' ' || *s == '\t') s++;
  for (char *e = s + strlen(s); e > s && (e[-1] == ' ' || e[-1] == '\t');) *--e = '\0';
  return s;
}

/* Dynamic string. */
typedef struct sbuf {
  char *s;
  size_t len, cap;
} sbuf;

static int sb_add(sbuf *b, const char *t) {
  size_t l = strlen(t);
  if (b->len + l + 1 > b->cap) {
    size_t nc = b->cap ? b->cap * 2 : 64;
    while (nc < b->len + l + 1) nc *= 2;
    char *ns = realloc(b->s, nc);
    if (!ns) return -1;
    b->s = ns;
    b->cap = nc;
  }
  memcpy(b->s + b->len, t, l + 1);
  b->len += l;
  return 0;
}

/* Split @p text on ',' and append validated items to the canonical spec @p b. */
static cl_status add_items(const cl_config_node *n, const char *text, sbuf *b, int *n_items, int *n_rest) {
  char *copy = cl__tb_strdup(text);
  if (!copy) return oom();
  cl_status s = CL_OK;
  int any = 0;
  for (char *tok = copy, *next; tok; tok = next) {
    next = strchr(tok, ',');
    if (next) *next++ = '\0';
    char *item = trim(tok);
    any = 1;
    if (!*item) {
      s = cl_config_error(n, "empty layer item in '%s'", text);
      break;
    }
    const char *dots = strstr(item, "..");
    if (dots) {
      char left[256], right[256];
      size_t ll = (size_t)(dots - item);
      if (ll >= sizeof left || strlen(dots + 2) >= sizeof right) {
        s = cl_config_error(n, "layer range '%s' too long", item);
        break;
      }
      memcpy(left, item, ll);
      left[ll] = '\0';
      strcpy(right, dots + 2);
      if (!*trim(left) || !*trim(right) || strstr(dots + 2, "..")) {
        s = cl_config_error(n, "bad layer range '%s' (expected FIRST..LAST, both layer names or indices)", item);
        break;
      }
    }
    if (is_rest(item)) (*n_rest)++;
    if (++*n_items > MAX_ITEMS) {
      s = cl_config_error(n, "more than %d layer items", MAX_ITEMS);
      break;
    }
    if ((b->len && sb_add(b, ", ")) || sb_add(b, item)) {
      s = oom();
      break;
    }
  }
  if (s == CL_OK && !any) s = cl_config_error(n, "empty layer list");
  free(copy);
  return s;
}

static cl_status parse_entries(cl_testbed *tb, cl_config_node *seq) {
  cl_tb_plan *p = &tb->plan;
  int n = cl_config_len(seq);
  if (n == 0) return cl_config_error(seq, "empty plan (give [{node: NAME, layers: SPEC}, ...])");
  if (!(p->entries = calloc((size_t)n, sizeof *p->entries))) return oom();
  int rest_line = 0;
  for (int i = 0; i < n; i++) {
    cl_config_node *m = cl_config_at(seq, i);
    CL_TRY(cl_config_expect(m, CL_CONFIG_MAP));
    cl_tb_plan_entry *e = &p->entries[i];
    p->n_entries = i + 1;
    const char *name;
    CL_TRY(cl_config_get_str(m, "node", &name));
    e->node = cl_testbed_find_node(tb, name);
    if (e->node < 0) return cl_config_error(cl_config_find(m, "node"), "unknown node '%s'", name);
    cl_config_node *layers = cl_config_find(m, "layers");
    if (!layers || cl_config_is_null(layers))
      return cl_config_error(m, "missing required key 'layers' (names, FIRST..LAST, 3-17, or rest)");
    e->line = cl_config_line(layers);
    e->col = cl_config_column(layers);
    sbuf b = {0};
    int items = 0, rest = 0;
    cl_status s = CL_OK;
    if (cl_config_kind_of(layers) == CL_CONFIG_SCALAR) {
      s = add_items(layers, cl_config_scalar(layers), &b, &items, &rest);
    } else if (cl_config_kind_of(layers) == CL_CONFIG_SEQ) {
      if (cl_config_len(layers) == 0) s = cl_config_error(layers, "empty layer list");
      for (int k = 0; s == CL_OK && k < cl_config_len(layers); k++) {
        const char *t;
        s = cl_config_as_str(cl_config_at(layers, k), &t);
        if (s == CL_OK) s = add_items(cl_config_at(layers, k), t, &b, &items, &rest);
      }
    } else {
      s = cl_config_error(layers, "expected a layer list or a comma-separated string, got a map");
    }
    if (s == CL_OK && rest) {
      if (rest > 1 || rest_line)
        s = cl_config_error(layers, "'rest' may appear once in a plan%s", rest_line ? " (already given above)" : "");
      rest_line = e->line;
    }
    if (s != CL_OK) {
      free(b.s);
      return s;
    }
    e->spec = b.s;
  }
  p->kind = CL_TB_PLAN_ENTRIES;
  return CL_OK;
}

static cl_status parse_cuts(cl_testbed *tb, cl_config_node *map) {
  cl_tb_plan *p = &tb->plan;
  cl_config_node *cuts = cl_config_find(map, "cuts");
  if (!cuts) return cl_config_error(map, "missing required key 'cuts' (plan: {cuts: [layerA, layerB]})");
  int n = 0;
  if (cl_config_kind_of(cuts) == CL_CONFIG_SEQ) {
    n = cl_config_len(cuts);
  } else if (!cl_config_is_null(cuts)) {
    return cl_config_error(cuts, "expected a list of layer names to cut after, e.g. [layer2.1.relu_1]");
  }
  if (n) {
    p->cuts = calloc((size_t)n, sizeof *p->cuts);
    p->cut_line = calloc((size_t)n, sizeof *p->cut_line);
    if (!p->cuts || !p->cut_line) return oom();
  }
  for (int i = 0; i < n; i++) {
    const char *t;
    CL_TRY(cl_config_as_str(cl_config_at(cuts, i), &t));
    char *c = cl__tb_strdup(t);
    if (!c) return oom();
    p->cuts[i] = c;
    p->cut_line[i] = cl_config_line(cl_config_at(cuts, i));
    p->n_cuts = i + 1;
    char *tr = trim(c);
    memmove(c, tr, strlen(tr) + 1);
    if (!*c) return cl_config_error(cl_config_at(cuts, i), "empty cut layer name");
  }
  cl_config_node *chain = cl_config_find(map, "nodes");
  if (chain && !cl_config_is_null(chain)) {
    CL_TRY(cl__tb_parse_node_list(tb, chain, &p->chain, &p->n_chain));
  } else {
    if (!(p->chain = calloc((size_t)tb->n_nodes, sizeof *p->chain))) return oom();
    for (int i = 0; i < tb->n_nodes; i++) p->chain[i] = i;
    p->n_chain = tb->n_nodes;
  }
  if (p->n_cuts > p->n_chain - 1)
    return cl_config_error(cuts, "%d cut(s) need %d nodes, but the chain has %d", p->n_cuts, p->n_cuts + 1,
                           p->n_chain);
  p->kind = CL_TB_PLAN_CUTS;
  return CL_OK;
}

cl_status cl__tb_parse_node_list(const cl_testbed *tb, cl_config_node *seq, int **out, int *n_out) {
  CL_TRY(cl_config_expect(seq, CL_CONFIG_SEQ));
  int m = cl_config_len(seq);
  if (m == 0) return cl_config_error(seq, "empty node chain");
  if (!(*out = calloc((size_t)m, sizeof **out))) return oom();
  for (int i = 0; i < m; i++) {
    cl_config_node *e = cl_config_at(seq, i);
    const char *name;
    CL_TRY(cl_config_as_str(e, &name));
    int k = cl_testbed_find_node(tb, name);
    if (k < 0) return cl_config_error(e, "unknown node '%s'", name);
    for (int j = 0; j < i; j++)
      if ((*out)[j] == k) return cl_config_error(e, "node '%s' appears twice in the chain", name);
    (*out)[i] = k;
    *n_out = i + 1;
  }
  return CL_OK;
}

cl_status cl__tb_parse_plan(cl_testbed *tb, cl_config_node *root) {
  cl_config_node *plan = cl_config_find(root, "plan");
  memset(&tb->plan, 0, sizeof tb->plan);
  if (!plan || cl_config_is_null(plan)) return CL_OK;
  tb->plan.line = cl_config_line(plan);
  tb->plan.col = cl_config_column(plan);
  if (cl_config_kind_of(plan) == CL_CONFIG_SEQ) return parse_entries(tb, plan);
  if (cl_config_kind_of(plan) == CL_CONFIG_MAP) return parse_cuts(tb, plan);
  return cl_config_error(plan, "expected a list of {node, layers} or a map {cuts: [...]}, got a scalar");
}

/* ---- resolution against a graph --------------------------------------------------- */

static cl_status plan_error(const cl_testbed *tb, int line, int col, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static cl_status plan_error(const cl_testbed *tb, int line, int col, const char *field, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (col > 0)
    cl_log_error("%s:%d:%d: field '%s': %s", tb->source, line, col, field, msg);
  else
    cl_log_error("%s:%d: field '%s': %s", tb->source, line, field, msg);
  return CL_ERR_CONFIG;
}

/* Closest layer name for "did you mean" (edit distance <= 3), or NULL. */
static const char *suggest(const cl_graph *g, const char *name) {
  const char *best = NULL;
  int bd = 4;
  for (int i = 0; i < cl_graph_size(g); i++) {
    const char *cand = cl_graph_node(g, i)->name;
    if (!cand) continue;
    int d = cl__config_edit_distance(name, cand);
    if (d < bd) {
      bd = d;
      best = cand;
    }
  }
  return best;
}

/* A layer reference: exact name first, then a decimal index. -1 if neither. */
static int layer_ref(const cl_graph *g, const char *s) {
  int id = cl_graph_find(g, s);
  if (id >= 0) return id;
  if (all_digits(s) && strlen(s) < 10) {
    int v = atoi(s);
    if (v < cl_graph_size(g)) return v;
  }
  return -1;
}

static cl_status unknown_layer(const cl_testbed *tb, const cl_graph *g, int line, int col, const char *field,
                               const char *name) {
  const char *s = suggest(g, name);
  if (all_digits(name))
    return plan_error(tb, line, col, field, "layer index %s out of range (the graph has %d nodes, 0..%d)", name,
                      cl_graph_size(g), cl_graph_size(g) - 1);
  if (s)
    return plan_error(tb, line, col, field, "unknown layer '%s' in model '%s' (did you mean '%s'?)", name,
                      cl_graph_name(g), s);
  return plan_error(tb, line, col, field, "unknown layer '%s' in model '%s'", name, cl_graph_name(g));
}

/* Parse one item into [lo, hi]; 1 = rest. */
static cl_status item_range(const cl_testbed *tb, const cl_graph *g, const cl_tb_plan_entry *e, const char *field,
                            char *item, int *lo, int *hi, int *rest) {
  *rest = 0;
  if (is_rest(item)) {
    *rest = 1;
    return CL_OK;
  }
  int id = cl_graph_find(g, item);
  if (id >= 0) {
    *lo = *hi = id;
    return CL_OK;
  }
  char *dots = strstr(item, "..");
  if (dots) {
    *dots = '\0';
    char *a = trim(item), *b = trim(dots + 2);
    *lo = layer_ref(g, a);
    if (*lo < 0) return unknown_layer(tb, g, e->line, e->col, field, a);
    *hi = layer_ref(g, b);
    if (*hi < 0) return unknown_layer(tb, g, e->line, e->col, field, b);
    if (*hi < *lo)
      return plan_error(tb, e->line, e->col, field, "range '%s..%s' is backwards ('%s' is node %d, '%s' is node %d)",
                        a, b, a, *lo, b, *hi);
    return CL_OK;
  }
  char *dash = strchr(item, '-');
  if (dash && dash != item) {
    *dash = '\0';
    if (all_digits(item) && all_digits(dash + 1)) {
      long a = strtol(item, NULL, 10), b = strtol(dash + 1, NULL, 10);
      if (a >= cl_graph_size(g) || b >= cl_graph_size(g) || strlen(item) > 9 || strlen(dash + 1) > 9)
        return plan_error(tb, e->line, e->col, field, "index range %s-%s out of range (the graph has %d nodes, 0..%d)",
                          item, dash + 1, cl_graph_size(g), cl_graph_size(g) - 1);
      if (b < a) return plan_error(tb, e->line, e->col, field, "index range %s-%s is backwards", item, dash + 1);
      *lo = (int)a;
      *hi = (int)b;
      return CL_OK;
    }
    *dash = '-';
  }
  int v = layer_ref(g, item);
  if (v < 0) return unknown_layer(tb, g, e->line, e->col, field, item);
  *lo = *hi = v;
  return CL_OK;
}

static cl_status resolve_entries(const cl_testbed *tb, const cl_graph *g, int *nol, int *owner) {
  const cl_tb_plan *p = &tb->plan;
  int rest_node = -1;
  for (int ei = 0; ei < p->n_entries; ei++) {
    const cl_tb_plan_entry *e = &p->entries[ei];
    char field[64];
    snprintf(field, sizeof field, "plan[%d].layers", ei);
    char *copy = cl__tb_strdup(e->spec);
    if (!copy) return oom();
    char *save = NULL;
    cl_status s = CL_OK;
    for (char *tok = strtok_r(copy, ",", &save); tok && s == CL_OK; tok = strtok_r(NULL, ",", &save)) {
      char *item = trim(tok);
      int lo = 0, hi = -1, rest = 0;
      s = item_range(tb, g, e, field, item, &lo, &hi, &rest);
      if (s != CL_OK) break;
      if (rest) {
        rest_node = e->node;
        continue;
      }
      for (int id = lo; id <= hi; id++) {
        if (owner[id] >= 0) {
          const cl_tb_plan_entry *o = &p->entries[owner[id]];
          s = plan_error(tb, e->line, e->col, field,
                         "layer '%s' (node %d) assigned twice: to '%s' (line %d) and to '%s' (line %d)",
                         cl_graph_node(g, id)->name, id, tb->nodes[o->node].name, o->line, tb->nodes[e->node].name,
                         e->line);
          break;
        }
        owner[id] = ei;
        nol[id] = e->node;
      }
    }
    free(copy);
    if (s != CL_OK) return s;
  }
  int n = cl_graph_size(g);
  for (int id = 0; id < n; id++) {
    if (nol[id] >= 0) continue;
    if (cl_graph_node(g, id)->op == CL_OP_INPUT)
      nol[id] = 0; /* the data source: the first node listed, unless the plan names it */
    else if (rest_node >= 0)
      nol[id] = rest_node;
  }
  int missing = 0, first = -1;
  for (int id = 0; id < n; id++)
    if (nol[id] < 0) {
      if (first < 0) first = id;
      missing++;
    }
  if (missing)
    return plan_error(tb, p->line, p->col, "plan",
                      "%d layer(s) of model '%s' are not assigned to any node, first '%s' (node %d); add them or "
                      "use 'rest'",
                      missing, cl_graph_name(g), cl_graph_node(g, first)->name, first);
  return CL_OK;
}

static cl_status resolve_cuts(const cl_testbed *tb, const cl_graph *g, int *nol) {
  const cl_tb_plan *p = &tb->plan;
  int n = cl_graph_size(g);
  int *cut = calloc((size_t)(p->n_cuts + 1), sizeof *cut);
  if (!cut) return oom();
  cl_status s = CL_OK;
  for (int i = 0; i < p->n_cuts && s == CL_OK; i++) {
    char field[64];
    snprintf(field, sizeof field, "plan.cuts[%d]", i);
    cut[i] = layer_ref(g, p->cuts[i]);
    if (cut[i] < 0)
      s = unknown_layer(tb, g, p->cut_line[i], 0, field, p->cuts[i]);
    else if (cut[i] >= n - 1)
      s = plan_error(tb, p->cut_line[i], 0, field, "cannot cut after the last layer '%s'", p->cuts[i]);
    else if (i > 0 && cut[i] <= cut[i - 1])
      s = plan_error(tb, p->cut_line[i], 0, field, "cuts must follow the layer order ('%s' is node %d, not after %d)",
                     p->cuts[i], cut[i], cut[i - 1]);
  }
  if (s == CL_OK) {
    int k = 0;
    for (int id = 0; id < n; id++) {
      nol[id] = p->chain[k];
      if (k < p->n_cuts && id == cut[k]) k++;
    }
  }
  free(cut);
  return s;
}

cl_status cl_testbed_resolve_plan(const cl_testbed *tb, const cl_graph *g, int *node_of_layer) {
  int n = cl_graph_size(g);
  for (int i = 0; i < n; i++) node_of_layer[i] = -1;
  if (tb->plan.kind == CL_TB_PLAN_NONE) {
    cl_log_error("%s: the config has no 'plan' (which layers run on which node)", tb->source);
    return CL_ERR_CONFIG;
  }
  if (tb->plan.kind == CL_TB_PLAN_CUTS) return resolve_cuts(tb, g, node_of_layer);
  int *owner = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
  if (!owner) return oom();
  for (int i = 0; i < n; i++) owner[i] = -1;
  cl_status s = resolve_entries(tb, g, node_of_layer, owner);
  free(owner);
  return s;
}
