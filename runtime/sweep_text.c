/* Text helpers of sweeps: a growable string (paths, messages), and YAML through the config
 * layer's one writer (include/cleave/config.h): scalars, flow subtrees, and point configs
 * (the base testbed with the point's model, plan and factor levels substituted). */
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

/* The finished writer's text without its final newline (a scalar or a flow collection
 * that is pasted into a larger document as an override value). */
char *cl__sweep_writer_take(cl_config_writer *w) {
  char *t = NULL;
  if (cl_config_writer_finish(w, &t) != CL_OK) {
    free(t);
    return NULL;
  }
  size_t n = strlen(t);
  if (n && t[n - 1] == '\n') t[n - 1] = '\0';
  return t;
}

char *cl_sweep_yaml_scalar(const char *s) {
  cl_config_writer *w = NULL;
  if (cl_config_writer_create(&w) != CL_OK) return NULL;
  cl_config_writer_str(w, s);
  return cl__sweep_writer_take(w);
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

char *cl__sweep_emit_node(const cl_cfg_node *n) {
  char *t = NULL;
  if (cl_config_dump_edit(n, NULL, 0, 0, &t) != CL_OK) return NULL;
  cl_config_mark_used((cl_cfg_node *)n); /* copied as text: every key of it counts as read */
  size_t len = strlen(t);
  if (len && t[len - 1] == '\n') t[len - 1] = '\0';
  return t;
}

char *cl__sweep_emit(const cl_cfg *c, const cl__sweep_override *ov, int n_ov) {
  char *t = NULL;
  return cl_config_dump_edit(cl_cfg_root(c), ov, n_ov, 2, &t) == CL_OK ? t : NULL;
}
