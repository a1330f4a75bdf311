/* Typed getters over the config tree, used-key marking and unknown-key reports. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_internal.h"
#include "cleave/vec.h"

/* ---- node accessors -------------------------------------------------------------- */

cl_config_kind cl_config_kind_of(const cl_config_node *n) { return n ? n->kind : CL_CONFIG_SCALAR; }

const char *cl_config_kind_name(cl_config_kind k) {
  switch (k) {
    case CL_CONFIG_SCALAR:
      return "a scalar";
    case CL_CONFIG_SEQ:
      return "a sequence";
    case CL_CONFIG_MAP:
      return "a map";
  }
  return "?";
}

static const char *node_kind_name(const cl_config_node *n) {
  if (n->kind == CL_CONFIG_SCALAR && n->is_null) return "nothing (null)";
  return cl_config_kind_name(n->kind);
}

int cl_config_line(const cl_config_node *n) { return n ? n->line : 0; }
int cl_config_column(const cl_config_node *n) { return n ? n->col : 0; }
const char *cl_config_file(const cl_config_node *n) { return n ? n->doc->name : ""; }
const char *cl_config_path(const cl_config_node *n) { return n ? n->path : ""; }
const char *cl_config_scalar(const cl_config_node *n) {
  return n && n->kind == CL_CONFIG_SCALAR ? n->text : NULL;
}
int cl_config_is_null(const cl_config_node *n) { return n && n->kind == CL_CONFIG_SCALAR && n->is_null; }
int cl_config_len(const cl_config_node *n) { return n && n->kind != CL_CONFIG_SCALAR ? n->n : 0; }

cl_config_node *cl_config_at(const cl_config_node *seq, int i) {
  if (!seq || seq->kind != CL_CONFIG_SEQ || i < 0 || i >= seq->n) return NULL;
  return seq->items[i];
}

cl_config_node *cl_config_entry(const cl_config_node *map, int i, const char **key) {
  if (!map || map->kind != CL_CONFIG_MAP || i < 0 || i >= map->n) return NULL;
  if (key) *key = map->keys[i];
  return map->items[i];
}

void cl_config_allow(cl_config_node *map, const char *key) {
  if (!map || map->kind != CL_CONFIG_MAP) return;
  map->visited = 1;
  for (int i = 0; i < map->n_known; i++)
    if (!strcmp(map->known[i], key)) return;
  /* Out of memory only affects the "expected one of" hint. */
  if (CL_VEC_RESERVE(map->known, map->cap_known, map->n_known + 1, 8) != CL_OK) return;
  size_t l = strlen(key) + 1;
  char *d = malloc(l);
  if (!d) return;
  memcpy(d, key, l);
  map->known[map->n_known++] = d;
}

cl_config_node *cl_config_find(cl_config_node *map, const char *key) {
  if (!map || map->kind != CL_CONFIG_MAP) return NULL;
  cl_config_allow(map, key);
  for (int i = 0; i < map->n; i++)
    if (!strcmp(map->keys[i], key)) {
      map->used[i] = 1;
      return map->items[i];
    }
  return NULL;
}

void cl_config_mark_used(cl_config_node *n) {
  for (int i = 0; n && n->kind != CL_CONFIG_SCALAR && i < n->n; i++) {
    if (n->kind == CL_CONFIG_MAP) n->used[i] = 1;
    cl_config_mark_used(n->items[i]);
  }
}

/* ---- errors ------------------------------------------------------------------------- */

cl_status cl__config_verror(const cl_config_node *n, const char *doc_name, const char *fmt, va_list ap) {
  char msg[1400];
  vsnprintf(msg, sizeof msg, fmt, ap);
  if (!n)
    cl_log_error("%s: %s", doc_name ? doc_name : "config", msg);
  else if (n->path[0])
    cl_log_error("%s:%d:%d: field '%s': %s", n->doc->name, n->line, n->col, n->path, msg);
  else
    cl_log_error("%s:%d:%d: top level: %s", n->doc->name, n->line, n->col, msg);
  return CL_ERR_CONFIG;
}

cl_status cl_config_error(const cl_config_node *n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  cl__config_verror(n, NULL, fmt, ap);
  va_end(ap);
  return CL_ERR_CONFIG;
}

cl_status cl_config_expect(const cl_config_node *n, cl_config_kind kind) {
  if (!n) return cl_config_error(NULL, "expected %s, got nothing", cl_config_kind_name(kind));
  if (n->kind == kind) return CL_OK;
  return cl_config_error(n, "expected %s, got %s", cl_config_kind_name(kind), node_kind_name(n));
}

cl_status cl__config_expect_scalar(const cl_config_node *n) {
  if (!n) return cl_config_error(NULL, "expected a single value, got nothing");
  if (n->kind == CL_CONFIG_SCALAR) return CL_OK;
  return cl_config_error(n, "expected a single value, got %s", cl_config_kind_name(n->kind));
}

int cl__config_edit_distance(const char *a, const char *b) {
  int la = (int)strlen(a), lb = (int)strlen(b);
  if (la > 100 || lb > 100) return 100;
  int prev[101], cur[101];
  for (int j = 0; j <= lb; j++) prev[j] = j;
  for (int i = 1; i <= la; i++) {
    cur[0] = i;
    for (int j = 1; j <= lb; j++) {
      int sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
      int del = prev[j] + 1, ins = cur[j - 1] + 1;
      cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
    }
    memcpy(prev, cur, sizeof(int) * (size_t)(lb + 1));
  }
  return prev[lb];
}

static int close_enough(const char *a, const char *b) {
  int d = cl__config_edit_distance(a, b);
  int l = (int)strlen(b);
  return d <= (l <= 4 ? 1 : 2);
}

/* Missing required key: suggest an unread key that looks like a typo of it. */
static cl_status missing(cl_config_node *map, const char *key) {
  for (int i = 0; i < map->n; i++)
    if (!map->used[i] && close_enough(map->keys[i], key))
      return cl_config_error(map, "missing required key '%s' (found unknown key '%s' at line %d; a typo?)", key,
                             map->keys[i], map->key_line[i]);
  return cl_config_error(map, "missing required key '%s'", key);
}

/* Common prologue: validate map, find key. *out NULL when absent or null (optional). */
static cl_status lookup(cl_config_node *map, const char *key, int required, cl_config_node **out) {
  *out = NULL;
  if (!map) return cl_config_error(NULL, "missing map for key '%s'", key);
  if (map->kind != CL_CONFIG_MAP)
    return cl_config_error(map, "expected a map (with key '%s'), got %s", key, node_kind_name(map));
  cl_config_node *v = cl_config_find(map, key);
  if (!v || (v->kind == CL_CONFIG_SCALAR && v->is_null)) {
    if (required) {
      if (v) return cl_config_error(v, "a value is required");
      return missing(map, key);
    }
    return CL_OK;
  }
  CL_TRY(cl__config_expect_scalar(v));
  *out = v;
  return CL_OK;
}

/* ---- conversions -------------------------------------------------------------------- */

cl_status cl_config_as_str(const cl_config_node *n, const char **out) {
  CL_TRY(cl__config_expect_scalar(n));
  *out = n->text;
  return CL_OK;
}

static int parse_i64(const char *s, int64_t *out) {
  if (!*s) return -1;
  errno = 0;
  char *end;
  int base = 10;
  const char *p = s + (*s == '-' || *s == '+');
  if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) base = 16;
  long long v = strtoll(s, &end, base);
  if (errno || *end || end == s) return -1;
  *out = (int64_t)v;
  return 0;
}

cl_status cl_config_as_int(const cl_config_node *n, int64_t lo, int64_t hi, int64_t *out) {
  CL_TRY(cl__config_expect_scalar(n));
  int64_t v;
  if (parse_i64(n->text, &v)) return cl_config_error(n, "cannot parse '%s' as an integer", n->text);
  if (v < lo || v > hi)
    return cl_config_error(n, "%lld is out of range [%lld, %lld]", (long long)v, (long long)lo, (long long)hi);
  *out = v;
  return CL_OK;
}

cl_status cl_config_as_double(const cl_config_node *n, double lo, double hi, double *out) {
  CL_TRY(cl__config_expect_scalar(n));
  double v;
  const char *end;
  if (cl__config_number_prefix(n->text, &v, &end) || *end)
    return cl_config_error(n, "cannot parse '%s' as a number", n->text);
  if (v < lo || v > hi) return cl_config_error(n, "%g is out of range [%g, %g]", v, lo, hi);
  *out = v;
  return CL_OK;
}

cl_status cl_config_as_bool(const cl_config_node *n, int *out) {
  CL_TRY(cl__config_expect_scalar(n));
  static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no", "off"};
  for (int i = 0; i < 3; i++) {
    if (!strcasecmp(n->text, yes[i])) {
      *out = 1;
      return CL_OK;
    }
    if (!strcasecmp(n->text, no[i])) {
      *out = 0;
      return CL_OK;
    }
  }
  return cl_config_error(n, "cannot parse '%s' as a boolean (true or false)", n->text);
}

cl_status cl_config_as_enum(const cl_config_node *n, const char *const *choices, int *out) {
  CL_TRY(cl__config_expect_scalar(n));
  for (int i = 0; choices[i]; i++)
    if (!strcmp(n->text, choices[i])) {
      *out = i;
      return CL_OK;
    }
  char list[512];
  size_t o = 0;
  list[0] = '\0';
  for (int i = 0; choices[i] && o < sizeof list; i++)
    o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "", choices[i]);
  return cl_config_error(n, "'%s' is not one of: %s", n->text, list);
}

cl_status cl_config_as_unit_in(const cl_config_node *n, cl_config_unit u, double lo, double hi, double *out) {
  CL_TRY(cl__config_expect_scalar(n));
  char why[512];
  if (cl__config_unit_value(u, n->text, lo, hi, out, why, sizeof why) != CL_OK) return cl_config_error(n, "%s", why);
  return CL_OK;
}

cl_status cl_config_as_unit(const cl_config_node *n, cl_config_unit u, double *out) {
  return cl_config_as_unit_in(n, u, -INFINITY, INFINITY, out);
}

cl_status cl_config_parse_unit_in(cl_config_unit u, const char *text, double lo, double hi, const char *what,
                                  double *out) {
  char why[512];
  if (cl__config_unit_value(u, text ? text : "", lo, hi, out, why, sizeof why) == CL_OK) return CL_OK;
  cl_log_error("%s: %s", what, why);
  return CL_ERR_CONFIG;
}

static cl_status as_u64(const cl_config_node *n, uint64_t *out) {
  const char *s = n->text;
  if (!*s || *s == '-' || *s == '+') return cl_config_error(n, "cannot parse '%s' as an unsigned integer", s);
  errno = 0;
  char *end;
  int base = (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? 16 : 10;
  unsigned long long v = strtoull(s, &end, base);
  if (errno || *end) return cl_config_error(n, "cannot parse '%s' as an unsigned 64-bit integer", s);
  *out = (uint64_t)v;
  return CL_OK;
}

/* ---- getters: every cl_config_get_X / cl_config_opt_X pair is one line below ----------- */

#define CL__UNPAREN(...) __VA_ARGS__
/* NAME, value type T, extra parameters (in parentheses, each with a leading comma) and the
 * node conversion CONV applied to the found node v. */
#define CL__GETTERS(NAME, T, PARAMS, CONV)                                                        \
  cl_status cl_config_get_##NAME(cl_config_node *map, const char *key CL__UNPAREN PARAMS, T *out) { \
    cl_config_node *v;                                                                            \
    CL_TRY(lookup(map, key, 1, &v));                                                              \
    return CONV;                                                                                  \
  }                                                                                               \
  cl_status cl_config_opt_##NAME(cl_config_node *map, const char *key CL__UNPAREN PARAMS, T dflt, T *out) { \
    cl_config_node *v;                                                                            \
    CL_TRY(lookup(map, key, 0, &v));                                                              \
    if (v) return CONV;                                                                           \
    *out = dflt;                                                                                  \
    return CL_OK;                                                                                 \
  }

CL__GETTERS(str, const char *, (), cl_config_as_str(v, out))
CL__GETTERS(int, int64_t, (, int64_t lo, int64_t hi), cl_config_as_int(v, lo, hi, out))
CL__GETTERS(u64, uint64_t, (), as_u64(v, out))
CL__GETTERS(double, double, (, double lo, double hi), cl_config_as_double(v, lo, hi, out))
CL__GETTERS(bool, int, (), cl_config_as_bool(v, out))
CL__GETTERS(enum, int, (, const char *const *choices), cl_config_as_enum(v, choices, out))
CL__GETTERS(unit, double, (, cl_config_unit u), cl_config_as_unit(v, u, out))

cl_status cl_config_get_unit_in(cl_config_node *map, const char *key, cl_config_unit u, double lo, double hi,
                                double *out) {
  cl_config_node *v;
  CL_TRY(lookup(map, key, 1, &v));
  return cl_config_as_unit_in(v, u, lo, hi, out);
}

/* ---- unknown keys ------------------------------------------------------------------- */

static void report_unknown(const cl_config_node *map, int i) {
  const char *key = map->keys[i];
  char hint[160] = "";
  int best = 1000;
  for (int k = 0; k < map->n_known; k++) {
    int d = cl__config_edit_distance(key, map->known[k]);
    if (d < best && close_enough(key, map->known[k])) {
      best = d;
      snprintf(hint, sizeof hint, "did you mean '%s'? ", map->known[k]);
    }
  }
  char list[768];
  size_t o = 0;
  list[0] = '\0';
  for (int k = 0; k < map->n_known && o < sizeof list; k++)
    o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", k ? ", " : "", map->known[k]);
  const char *where = map->path[0] ? map->path : "the top level";
  if (map->n_known)
    cl_log_error("%s:%d: unknown key '%s' in '%s' (%sexpected one of: %s)", map->doc->name, map->key_line[i], key,
                 where, hint, list);
  else
    cl_log_error("%s:%d: unknown key '%s' in '%s'", map->doc->name, map->key_line[i], key, where);
}

static int check_node(const cl_config_node *n) {
  int bad = 0;
  if (n->kind == CL_CONFIG_MAP) {
    for (int i = 0; i < n->n; i++) {
      if (!n->used[i]) {
        report_unknown(n, i);
        bad++;
      } else {
        bad += check_node(n->items[i]);
      }
    }
  } else if (n->kind == CL_CONFIG_SEQ) {
    for (int i = 0; i < n->n; i++) bad += check_node(n->items[i]);
  }
  return bad;
}

cl_status cl_config_check_unused(const cl_config *c) {
  if (!c || !c->root) return CL_OK;
  return check_node(c->root) ? CL_ERR_CONFIG : CL_OK;
}
