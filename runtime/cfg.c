/* YAML configuration documents: libyaml events -> tree with positions, typed getters. */
#include "cleave/cfg.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

struct cl_cfg_node {
  cl_cfg_kind kind;
  int line, col;
  char *path;
  char *text;           /* scalar */
  int n, cap;
  cl_cfg_node **items;  /* seq items or map values */
  char **keys;          /* map keys */
  int *key_line;
  unsigned char *used;  /* map: key read */
};

struct cl_cfg {
  char *name;
  char *source;
  cl_cfg_node *root;
};

static char *dupstr(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

static void node_free(cl_cfg_node *n) {
  if (!n) return;
  for (int i = 0; i < n->n; i++) {
    node_free(n->items[i]);
    if (n->keys) free(n->keys[i]);
  }
  free(n->items);
  free(n->keys);
  free(n->key_line);
  free(n->used);
  free(n->text);
  free(n->path);
  free(n);
}

void cl_cfg_free(cl_cfg *c) {
  if (!c) return;
  node_free(c->root);
  free(c->name);
  free(c->source);
  free(c);
}

static cl_cfg_node *node_new(cl_cfg_kind k, const yaml_mark_t *m, const char *path) {
  cl_cfg_node *n = calloc(1, sizeof *n);
  if (!n) return NULL;
  n->kind = k;
  n->line = (int)m->line + 1;
  n->col = (int)m->column + 1;
  n->path = dupstr(path);
  if (!n->path) {
    free(n);
    return NULL;
  }
  return n;
}

static int node_push(cl_cfg_node *n, cl_cfg_node *child, const char *key, int key_line) {
  if (n->n == n->cap) {
    int cap = n->cap ? 2 * n->cap : 8;
    cl_cfg_node **it = realloc(n->items, sizeof *it * (size_t)cap);
    if (!it) return -1;
    n->items = it;
    if (n->kind == CL_CFG_MAP) {
      char **k = realloc(n->keys, sizeof *k * (size_t)cap);
      if (!k) return -1;
      n->keys = k;
      int *kl = realloc(n->key_line, sizeof *kl * (size_t)cap);
      if (!kl) return -1;
      n->key_line = kl;
      unsigned char *u = realloc(n->used, (size_t)cap);
      if (!u) return -1;
      n->used = u;
    }
    n->cap = cap;
  }
  n->items[n->n] = child;
  if (n->kind == CL_CFG_MAP) {
    n->keys[n->n] = dupstr(key);
    if (!n->keys[n->n]) return -1;
    n->key_line[n->n] = key_line;
    n->used[n->n] = 0;
  }
  n->n++;
  return 0;
}

typedef struct parse_ctx {
  yaml_parser_t p;
  const char *name;
  int failed;
} parse_ctx;

static int next_event(parse_ctx *pc, yaml_event_t *ev) {
  if (!yaml_parser_parse(&pc->p, ev)) {
    cl_log_error("%s:%d:%d: YAML syntax error: %s%s%s", pc->name, (int)pc->p.problem_mark.line + 1,
                 (int)pc->p.problem_mark.column + 1, pc->p.problem ? pc->p.problem : "unknown",
                 pc->p.context ? " " : "", pc->p.context ? pc->p.context : "");
    pc->failed = 1;
    return -1;
  }
  return 0;
}

/* Parse the node starting with event @p ev (consumed). */
static cl_cfg_node *parse_node(parse_ctx *pc, yaml_event_t *ev, const char *path, int depth) {
  if (depth > 64) {
    cl_log_error("%s:%d: nesting deeper than 64 levels", pc->name, (int)ev->start_mark.line + 1);
    pc->failed = 1;
    yaml_event_delete(ev);
    return NULL;
  }
  if (ev->type == YAML_ALIAS_EVENT) {
    cl_log_error("%s:%d:%d: YAML aliases (*name) are not supported in cleave configs", pc->name,
                 (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1);
    pc->failed = 1;
    yaml_event_delete(ev);
    return NULL;
  }
  if (ev->type == YAML_SCALAR_EVENT) {
    cl_cfg_node *n = node_new(CL_CFG_SCALAR, &ev->start_mark, path);
    if (n) n->text = dupstr((const char *)ev->data.scalar.value);
    yaml_event_delete(ev);
    if (!n || !n->text) {
      node_free(n);
      pc->failed = 1;
      return NULL;
    }
    return n;
  }
  if (ev->type != YAML_SEQUENCE_START_EVENT && ev->type != YAML_MAPPING_START_EVENT) {
    cl_log_error("%s:%d: unexpected YAML structure", pc->name, (int)ev->start_mark.line + 1);
    pc->failed = 1;
    yaml_event_delete(ev);
    return NULL;
  }
  int is_map = ev->type == YAML_MAPPING_START_EVENT;
  cl_cfg_node *n = node_new(is_map ? CL_CFG_MAP : CL_CFG_SEQ, &ev->start_mark, path);
  yaml_event_delete(ev);
  if (!n) {
    pc->failed = 1;
    return NULL;
  }
  char child_path[512];
  for (;;) {
    yaml_event_t e;
    if (next_event(pc, &e)) break;
    if (e.type == YAML_SEQUENCE_END_EVENT || e.type == YAML_MAPPING_END_EVENT) {
      yaml_event_delete(&e);
      return n;
    }
    if (!is_map) {
      snprintf(child_path, sizeof child_path, "%s[%d]", path, n->n);
      cl_cfg_node *ch = parse_node(pc, &e, child_path, depth + 1);
      if (!ch || node_push(n, ch, NULL, 0)) {
        node_free(ch);
        break;
      }
      continue;
    }
    if (e.type != YAML_SCALAR_EVENT) {
      cl_log_error("%s:%d:%d: map keys must be plain strings", pc->name, (int)e.start_mark.line + 1,
                   (int)e.start_mark.column + 1);
      yaml_event_delete(&e);
      pc->failed = 1;
      break;
    }
    char *key = dupstr((const char *)e.data.scalar.value);
    int kline = (int)e.start_mark.line + 1, kcol = (int)e.start_mark.column + 1;
    yaml_event_delete(&e);
    if (!key) {
      pc->failed = 1;
      break;
    }
    for (int i = 0; i < n->n; i++)
      if (!strcmp(n->keys[i], key)) {
        cl_log_error("%s:%d:%d: duplicate key '%s' in '%s' (first at line %d)", pc->name, kline, kcol, key,
                     *path ? path : "top level", n->key_line[i]);
        pc->failed = 1;
      }
    if (pc->failed) {
      free(key);
      break;
    }
    snprintf(child_path, sizeof child_path, "%s%s%s", path, *path ? "." : "", key);
    yaml_event_t v;
    if (next_event(pc, &v)) {
      free(key);
      break;
    }
    cl_cfg_node *ch = parse_node(pc, &v, child_path, depth + 1);
    if (!ch || node_push(n, ch, key, kline)) {
      node_free(ch);
      free(key);
      break;
    }
    free(key);
  }
  node_free(n);
  pc->failed = 1;
  return NULL;
}

cl_status cl_cfg_parse_string(const char *name, const char *text, cl_cfg **out) {
  *out = NULL;
  cl_cfg *c = calloc(1, sizeof *c);
  if (!c) return CL_ERR_NOMEM;
  c->name = dupstr(name);
  c->source = dupstr(text);
  if (!c->name || !c->source) {
    cl_cfg_free(c);
    return CL_ERR_NOMEM;
  }
  parse_ctx pc;
  memset(&pc, 0, sizeof pc);
  pc.name = name;
  if (!yaml_parser_initialize(&pc.p)) {
    cl_cfg_free(c);
    return CL_ERR_NOMEM;
  }
  yaml_parser_set_input_string(&pc.p, (const unsigned char *)c->source, strlen(c->source));
  yaml_event_t e;
  int docs = 0;
  while (!pc.failed) {
    if (next_event(&pc, &e)) break;
    yaml_event_type_t t = e.type;
    if (t == YAML_STREAM_END_EVENT) {
      yaml_event_delete(&e);
      break;
    }
    if (t == YAML_DOCUMENT_START_EVENT && ++docs > 1) {
      cl_log_error("%s:%d: more than one YAML document", name, (int)e.start_mark.line + 1);
      pc.failed = 1;
      yaml_event_delete(&e);
      break;
    }
    if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT || t == YAML_SCALAR_EVENT ||
        t == YAML_ALIAS_EVENT) {
      c->root = parse_node(&pc, &e, "", 0);
      continue;
    }
    yaml_event_delete(&e);
  }
  yaml_parser_delete(&pc.p);
  if (pc.failed) {
    cl_cfg_free(c);
    return CL_ERR_CONFIG;
  }
  if (!c->root || c->root->kind != CL_CFG_MAP) {
    cl_log_error("%s:1: expected a YAML map of settings at the top level%s", name, c->root ? "" : " (file is empty)");
    cl_cfg_free(c);
    return CL_ERR_CONFIG;
  }
  *out = c;
  return CL_OK;
}

cl_status cl_cfg_parse_file(const char *path, cl_cfg **out) {
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) {
    cl_log_error("%s: cannot open: %s", path, strerror(errno));
    return CL_ERR_IO;
  }
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  while (buf) {
    size_t got = fread(buf + n, 1, cap - n - 1, f);
    n += got;
    if (n + 1 < cap) break;
    if (cap > (64u << 20)) {
      cl_log_error("%s: config larger than 64 MiB", path);
      free(buf);
      fclose(f);
      return CL_ERR_CONFIG;
    }
    char *nb = realloc(buf, cap * 2);
    if (!nb) {
      free(buf);
      buf = NULL;
      break;
    }
    buf = nb;
    cap *= 2;
  }
  fclose(f);
  if (!buf) return CL_ERR_NOMEM;
  buf[n] = '\0';
  if (memchr(buf, '\0', n)) {
    cl_log_error("%s: binary file (NUL byte), not a YAML config", path);
    free(buf);
    return CL_ERR_CONFIG;
  }
  cl_status st = cl_cfg_parse_string(path, buf, out);
  free(buf);
  return st;
}

const char *cl_cfg_name(const cl_cfg *c) { return c->name; }
const char *cl_cfg_source(const cl_cfg *c) { return c->source; }
const cl_cfg_node *cl_cfg_root(const cl_cfg *c) { return c->root; }
cl_cfg_kind cl_cfg_kind_of(const cl_cfg_node *n) { return n->kind; }
int cl_cfg_line(const cl_cfg_node *n) { return n->line; }
const char *cl_cfg_path(const cl_cfg_node *n) { return n->path; }
const char *cl_cfg_scalar(const cl_cfg_node *n) { return n && n->kind == CL_CFG_SCALAR ? n->text : NULL; }
int cl_cfg_len(const cl_cfg_node *n) { return n && n->kind != CL_CFG_SCALAR ? n->n : 0; }
const cl_cfg_node *cl_cfg_at(const cl_cfg_node *n, int i) {
  return n && n->kind == CL_CFG_SEQ && i >= 0 && i < n->n ? n->items[i] : NULL;
}

const cl_cfg_node *cl_cfg_get(const cl_cfg_node *map, const char *key) {
  if (!map || map->kind != CL_CFG_MAP) return NULL;
  for (int i = 0; i < map->n; i++)
    if (!strcmp(map->keys[i], key)) {
      map->used[i] = 1;
      return map->items[i];
    }
  return NULL;
}

const cl_cfg_node *cl_cfg_entry(const cl_cfg_node *map, int i, const char **key) {
  if (!map || map->kind != CL_CFG_MAP || i < 0 || i >= map->n) return NULL;
  if (key) *key = map->keys[i];
  return map->items[i];
}

cl_status cl_cfg_error(const cl_cfg *c, const cl_cfg_node *n, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (n)
    cl_log_error("%s:%d:%d: field '%s': %s", c->name, n->line, n->col, *n->path ? n->path : "(top level)", msg);
  else
    cl_log_error("%s: %s", c->name, msg);
  return CL_ERR_CONFIG;
}

static const char *kind_name(cl_cfg_kind k) {
  return k == CL_CFG_MAP ? "a map (key: value)" : k == CL_CFG_SEQ ? "a list (- item)" : "a single value";
}

cl_status cl_cfg_expect(const cl_cfg *c, const cl_cfg_node *n, cl_cfg_kind kind) {
  if (n->kind == kind) return CL_OK;
  return cl_cfg_error(c, n, "expected %s, got %s", kind_name(kind), kind_name(n->kind));
}

/* Look up a scalar; missing + required is an error naming the map. */
static cl_status get_scalar(const cl_cfg *c, const cl_cfg_node *map, const char *key, int required,
                            const cl_cfg_node **node) {
  *node = cl_cfg_get(map, key);
  if (!*node) {
    if (!required) return CL_OK;
    cl_log_error("%s:%d: missing required key '%s' in '%s'", c->name, map ? map->line : 1, key,
                 map && *map->path ? map->path : "top level");
    return CL_ERR_CONFIG;
  }
  return cl_cfg_expect(c, *node, CL_CFG_SCALAR);
}

cl_status cl_cfg_get_str(const cl_cfg *c, const cl_cfg_node *map, const char *key, int required, const char **out) {
  const cl_cfg_node *n;
  CL_TRY(get_scalar(c, map, key, required, &n));
  if (n) {
    if (!*n->text) return cl_cfg_error(c, n, "empty value");
    *out = n->text;
  }
  return CL_OK;
}

cl_status cl_cfg_get_int(const cl_cfg *c, const cl_cfg_node *map, const char *key, int required, long lo, long hi,
                         long *out) {
  const cl_cfg_node *n;
  CL_TRY(get_scalar(c, map, key, required, &n));
  if (!n) return CL_OK;
  char *end;
  errno = 0;
  long v = strtol(n->text, &end, 10);
  if (errno || end == n->text || *end || v < lo || v > hi)
    return cl_cfg_error(c, n, "expected an integer in [%ld, %ld], got '%s'", lo, hi, n->text);
  *out = v;
  return CL_OK;
}

cl_status cl_cfg_get_u64(const cl_cfg *c, const cl_cfg_node *map, const char *key, int required, uint64_t *out) {
  const cl_cfg_node *n;
  CL_TRY(get_scalar(c, map, key, required, &n));
  if (!n) return CL_OK;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(n->text, &end, 0);
  if (errno || end == n->text || *end || n->text[0] == '-')
    return cl_cfg_error(c, n, "expected a non-negative integer, got '%s'", n->text);
  *out = v;
  return CL_OK;
}

cl_status cl_cfg_get_double(const cl_cfg *c, const cl_cfg_node *map, const char *key, int required, double lo,
                            double hi, double *out) {
  const cl_cfg_node *n;
  CL_TRY(get_scalar(c, map, key, required, &n));
  if (!n) return CL_OK;
  char *end;
  errno = 0;
  double v = strtod(n->text, &end);
  if (errno || end == n->text || *end || !(v >= lo && v <= hi))
    return cl_cfg_error(c, n, "expected a number in [%g, %g], got '%s'", lo, hi, n->text);
  *out = v;
  return CL_OK;
}

cl_status cl_cfg_get_bool(const cl_cfg *c, const cl_cfg_node *map, const char *key, int required, int *out) {
  const cl_cfg_node *n;
  CL_TRY(get_scalar(c, map, key, required, &n));
  if (!n) return CL_OK;
  if (!strcmp(n->text, "true") || !strcmp(n->text, "yes") || !strcmp(n->text, "on")) *out = 1;
  else if (!strcmp(n->text, "false") || !strcmp(n->text, "no") || !strcmp(n->text, "off")) *out = 0;
  else return cl_cfg_error(c, n, "expected true or false, got '%s'", n->text);
  return CL_OK;
}

cl_status cl_cfg_get_enum(const cl_cfg *c, const cl_cfg_node *map, const char *key, int required,
                          const char *const *choices, int *out) {
  const cl_cfg_node *n;
  CL_TRY(get_scalar(c, map, key, required, &n));
  if (!n) return CL_OK;
  char list[512] = "";
  for (int i = 0; choices[i]; i++) {
    if (!strcmp(n->text, choices[i])) {
      *out = i;
      return CL_OK;
    }
    size_t len = strlen(list);
    snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", choices[i]);
  }
  return cl_cfg_error(c, n, "unknown value '%s' (expected one of: %s)", n->text, list);
}

/* ---- units ---- */

typedef struct unit_suffix {
  const char *suffix;
  double factor;
} unit_suffix;

static const unit_suffix g_seconds[] = {{"s", 1}, {"sec", 1}, {"ms", 1e-3}, {"us", 1e-6}, {"ns", 1e-9},
                                        {"min", 60}, {"", 1}, {NULL, 0}};
static const unit_suffix g_bandwidth[] = {
    {"bit/s", 0.125}, {"bps", 0.125},  {"kbit/s", 125},   {"kbps", 125},   {"Kbit/s", 125},   {"Mbit/s", 125000},
    {"Mbps", 125000}, {"Gbit/s", 1.25e8}, {"Gbps", 1.25e8}, {"B/s", 1},     {"kB/s", 1e3},     {"KB/s", 1e3},
    {"MB/s", 1e6},    {"GB/s", 1e9},   {"KiB/s", 1024},   {"MiB/s", 1048576}, {NULL, 0}};
static const unit_suffix g_bytes[] = {{"B", 1},       {"kB", 1e3},        {"KB", 1e3},          {"MB", 1e6},
                                      {"GB", 1e9},    {"KiB", 1024},      {"MiB", 1048576},     {"GiB", 1073741824.0},
                                      {"TB", 1e12},   {"", 1},            {NULL, 0}};
static const unit_suffix g_watts[] = {{"W", 1}, {"mW", 1e-3}, {"kW", 1e3}, {"", 1}, {NULL, 0}};
static const unit_suffix g_jpb[] = {{"J/B", 1}, {"mJ/B", 1e-3}, {"uJ/B", 1e-6}, {"nJ/B", 1e-9}, {"pJ/B", 1e-12},
                                    {NULL, 0}};

int cl_unit_parse(cl_unit u, const char *s, double *out) {
  while (isspace((unsigned char)*s)) s++;
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || !isfinite(v)) return -1;
  while (isspace((unsigned char)*end)) end++;
  if (u == CL_UNIT_FRACTION) {
    if (!strcmp(end, "%")) v /= 100.0;
    else if (*end) return -1;
    if (v < 0 || v > 1) return -1;
    *out = v;
    return 0;
  }
  const unit_suffix *tab = u == CL_UNIT_SECONDS ? g_seconds : u == CL_UNIT_BANDWIDTH ? g_bandwidth
                           : u == CL_UNIT_BYTES ? g_bytes : u == CL_UNIT_WATTS ? g_watts : g_jpb;
  for (int i = 0; tab[i].suffix; i++)
    if (!strcmp(end, tab[i].suffix)) {
      if (v < 0) return -1;
      *out = v * tab[i].factor;
      return 0;
    }
  return -1;
}

const char *cl_unit_example(cl_unit u) {
  switch (u) {
    case CL_UNIT_SECONDS: return "a duration (e.g. 20ms, 1.5s)";
    case CL_UNIT_BANDWIDTH: return "a bandwidth (e.g. 20Mbit/s, 12.5MB/s)";
    case CL_UNIT_BYTES: return "a size (e.g. 512MiB, 2GB)";
    case CL_UNIT_FRACTION: return "a fraction (e.g. 50% or 0.5)";
    case CL_UNIT_WATTS: return "a power (e.g. 2.5W, 800mW)";
    case CL_UNIT_J_PER_BYTE: return "an energy per byte (e.g. 5nJ/B)";
    default: return "a value";
  }
}

cl_status cl_cfg_node_unit(const cl_cfg *c, const cl_cfg_node *n, cl_unit u, double *out) {
  CL_TRY(cl_cfg_expect(c, n, CL_CFG_SCALAR));
  if (cl_unit_parse(u, n->text, out)) return cl_cfg_error(c, n, "cannot parse '%s' as %s", n->text, cl_unit_example(u));
  return CL_OK;
}

cl_status cl_cfg_get_unit(const cl_cfg *c, const cl_cfg_node *map, const char *key, int required, cl_unit u,
                          double *out) {
  const cl_cfg_node *n;
  CL_TRY(get_scalar(c, map, key, required, &n));
  if (!n) return CL_OK;
  return cl_cfg_node_unit(c, n, u, out);
}

static int check_unused(const cl_cfg *c, const cl_cfg_node *n) {
  int bad = 0;
  if (n->kind == CL_CFG_SCALAR) return 0;
  for (int i = 0; i < n->n; i++) {
    if (n->kind == CL_CFG_MAP && !n->used[i]) {
      char expected[512] = "";
      for (int j = 0; j < n->n; j++) {
        if (!n->used[j]) continue;
        size_t len = strlen(expected);
        snprintf(expected + len, sizeof expected - len, "%s%s", len ? ", " : "", n->keys[j]);
      }
      cl_log_error("%s:%d: unknown key '%s' in '%s'%s%s%s", c->name, n->key_line[i], n->keys[i],
                   *n->path ? n->path : "top level", *expected ? " (known keys used here: " : "", expected,
                   *expected ? ")" : "");
      bad++;
      continue; /* do not descend into an unknown subtree */
    }
    bad += check_unused(c, n->items[i]);
  }
  return bad;
}

cl_status cl_cfg_check_unused(const cl_cfg *c) { return check_unused(c, c->root) ? CL_ERR_CONFIG : CL_OK; }
