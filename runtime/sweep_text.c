/* YAML text of experiment points: a growable string, scalar quoting, and the emitter of
 * cl_cfg trees with overrides (point configs are the base testbed with the point's model,
 * plan and factor levels substituted). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sweep_internal.h"

void cl__sb_put(cl__sb *b, const char *fmt, ...) {
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

char *cl__sb_take(cl__sb *b) {
  if (b->oom || !b->s) {
    free(b->s);
    b->s = NULL;
    return NULL;
  }
  char *s = b->s;
  b->s = NULL;
  return s;
}

char *cl__sdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

/* Plain scalars keep their text (numbers and units stay numbers); anything else is quoted. */
void cl__sweep_emit_scalar(cl__sb *b, const char *s) {
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
    cl__sb_put(b, "%s", s);
    return;
  }
  cl__sb_put(b, "\"");
  for (const char *p = s; *p; p++) {
    if (*p == '"' || *p == '\\')
      cl__sb_put(b, "\\%c", *p);
    else if (*p == '\n')
      cl__sb_put(b, "\\n");
    else
      cl__sb_put(b, "%c", *p);
  }
  cl__sb_put(b, "\"");
}

char *cl_sweep_yaml_scalar(const char *s) {
  cl__sb b = {0};
  cl__sweep_emit_scalar(&b, s);
  return cl__sb_take(&b);
}

char *cl_sweep_printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *t = n >= 0 ? malloc((size_t)n + 1) : NULL;
  if (!t) return NULL;
  va_start(ap, fmt);
  vsnprintf(t, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return t;
}

static const cl__sweep_override *find_ov(const cl__sweep_override *ov, int n, const char *parent, const char *key) {
  for (int i = 0; i < n; i++)
    if (!strcmp(ov[i].parent, parent) && !strcmp(ov[i].key, key)) return &ov[i];
  return NULL;
}

/* @p mark: read every key (cl_cfg_get), so a subtree copied as text counts as used. */
static void emit_flow(cl__sb *b, const cl_cfg_node *n, const char *path, const cl__sweep_override *ov, int n_ov,
                      int mark) {
  char sub[256];
  switch (cl_cfg_kind_of(n)) {
  case CL_CFG_SCALAR:
    cl__sweep_emit_scalar(b, cl_cfg_scalar(n));
    break;
  case CL_CFG_SEQ:
    cl__sb_put(b, "[");
    for (int i = 0; i < cl_cfg_len(n); i++) {
      snprintf(sub, sizeof sub, "%s[%d]", path, i);
      cl__sb_put(b, "%s", i ? ", " : "");
      emit_flow(b, cl_cfg_at(n, i), sub, ov, n_ov, mark);
    }
    cl__sb_put(b, "]");
    break;
  case CL_CFG_MAP: {
    cl__sb_put(b, "{");
    int first = 1;
    for (int i = 0;; i++) {
      const char *key = NULL;
      const cl_cfg_node *v = cl_cfg_entry(n, i, &key);
      if (!v) break;
      if (mark) cl_cfg_get(n, key);
      cl__sb_put(b, "%s%s: ", first ? "" : ", ", key);
      first = 0;
      const cl__sweep_override *o = find_ov(ov, n_ov, path, key);
      if (o) {
        cl__sb_put(b, "%s", o->value);
        continue;
      }
      snprintf(sub, sizeof sub, "%s%s%s", path, path[0] ? "." : "", key);
      emit_flow(b, v, sub, ov, n_ov, mark);
    }
    for (int k = 0; k < n_ov; k++) /* added keys */
      if (!strcmp(ov[k].parent, path) && !cl_cfg_get(n, ov[k].key)) {
        cl__sb_put(b, "%s%s: %s", first ? "" : ", ", ov[k].key, ov[k].value);
        first = 0;
      }
    cl__sb_put(b, "}");
    break;
  }
  }
}

void cl__sweep_emit_node(cl__sb *b, const cl_cfg_node *n) { emit_flow(b, n, "", NULL, 0, 1); }

char *cl__sweep_emit(const cl_cfg *c, const cl__sweep_override *ov, int n_ov) {
  cl__sb b = {0};
  const cl_cfg_node *root = cl_cfg_root(c);
  for (int i = 0;; i++) {
    const char *key = NULL;
    const cl_cfg_node *v = cl_cfg_entry(root, i, &key);
    if (!v) break;
    const cl__sweep_override *o = find_ov(ov, n_ov, "", key);
    if (o) {
      cl__sb_put(&b, "%s: %s\n", key, o->value);
    } else if (cl_cfg_kind_of(v) == CL_CFG_SEQ) {
      cl__sb_put(&b, "%s:\n", key);
      for (int k = 0; k < cl_cfg_len(v); k++) {
        char sub[128];
        snprintf(sub, sizeof sub, "%s[%d]", key, k);
        cl__sb_put(&b, "  - ");
        emit_flow(&b, cl_cfg_at(v, k), sub, ov, n_ov, 0);
        cl__sb_put(&b, "\n");
      }
    } else {
      cl__sb_put(&b, "%s: ", key);
      emit_flow(&b, v, key, ov, n_ov, 0);
      cl__sb_put(&b, "\n");
    }
  }
  for (int k = 0; k < n_ov; k++)
    if (!ov[k].parent[0] && !cl_cfg_get(root, ov[k].key)) cl__sb_put(&b, "%s: %s\n", ov[k].key, ov[k].value);
  return cl__sb_take(&b);
}
