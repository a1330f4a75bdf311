/* YAML writer over the libyaml emitter (correct quoting and escaping), and a dump of
 * parsed trees. Used for the fully resolved config stored in every output file. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "config_internal.h"

enum { MAX_OPEN = 256 };

struct cl_config_writer {
  yaml_emitter_t em;
  char *buf;
  size_t len, cap;
  cl_status err;
  int depth;
  int nomem;
  unsigned char open_map[MAX_OPEN]; /* kind of each open collection: 1 map, 0 sequence */
};

static int write_handler(void *data, unsigned char *buffer, size_t size) {
  cl_config_writer *w = data;
  if (w->len + size + 1 > w->cap) {
    size_t nc = w->cap ? w->cap : 1024;
    while (nc < w->len + size + 1) nc *= 2;
    char *nb = realloc(w->buf, nc);
    if (!nb) {
      w->nomem = 1;
      return 0;
    }
    w->buf = nb;
    w->cap = nc;
  }
  memcpy(w->buf + w->len, buffer, size);
  w->len += size;
  w->buf[w->len] = '\0';
  return 1;
}

static void emit(cl_config_writer *w, yaml_event_t *ev, int ok) {
  if (w->err != CL_OK) {
    if (ok) yaml_event_delete(ev);
    return;
  }
  if (!ok) {
    w->err = CL_ERR_NOMEM;
    cl_log_error("YAML writer: out of memory");
    return;
  }
  if (!yaml_emitter_emit(&w->em, ev)) {
    w->err = w->nomem || w->em.error == YAML_MEMORY_ERROR ? CL_ERR_NOMEM : CL_ERR_INVALID;
    cl_log_error("YAML writer: %s", w->em.problem ? w->em.problem : "emitter error");
  }
}

cl_status cl_config_writer_create(cl_config_writer **out) {
  *out = NULL;
  cl_config_writer *w = calloc(1, sizeof *w);
  if (!w) return CL_ERR_NOMEM;
  if (!yaml_emitter_initialize(&w->em)) {
    free(w);
    return CL_ERR_NOMEM;
  }
  yaml_emitter_set_output(&w->em, write_handler, w);
  yaml_emitter_set_unicode(&w->em, 1);
  yaml_emitter_set_indent(&w->em, 2);
  yaml_emitter_set_width(&w->em, 1000);
  yaml_event_t ev;
  emit(w, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
  emit(w, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1));
  *out = w;
  return w->err;
}

void cl_config_writer_destroy(cl_config_writer *w) {
  if (!w) return;
  yaml_emitter_delete(&w->em);
  free(w->buf);
  free(w);
}

void cl_config_writer_map(cl_config_writer *w, int flow) {
  yaml_event_t ev;
  if (w->depth < MAX_OPEN) w->open_map[w->depth] = 1;
  w->depth++;
  emit(w, &ev,
       yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, flow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE));
}

void cl_config_writer_seq(cl_config_writer *w, int flow) {
  yaml_event_t ev;
  if (w->depth < MAX_OPEN) w->open_map[w->depth] = 0;
  w->depth++;
  emit(w, &ev,
       yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
                                            flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE));
}

void cl_config_writer_end(cl_config_writer *w) {
  yaml_event_t ev;
  if (w->depth <= 0) {
    if (w->err == CL_OK) cl_log_error("YAML writer: end without an open map or sequence");
    w->err = w->err == CL_OK ? CL_ERR_INVALID : w->err;
    return;
  }
  w->depth--;
  int is_map = w->depth < MAX_OPEN ? w->open_map[w->depth] : 0;
  if (is_map)
    emit(w, &ev, yaml_mapping_end_event_initialize(&ev));
  else
    emit(w, &ev, yaml_sequence_end_event_initialize(&ev));
}

/* Would a plain scalar be read back as something other than this string
 * (null, bool, number) by YAML 1.1 readers such as PyYAML? */
static int needs_quotes(const char *s) {
  if (!*s) return 1;
  static const char *const special[] = {"~", "null", "true", "false", "yes", "no", "on", "off", "y", "n", NULL};
  for (int i = 0; special[i]; i++)
    if (!strcasecmp(s, special[i])) return 1;
  const char *end;
  double d;
  if (!cl__config_number_prefix(s, &d, &end) && !*end) return 1;
  if (s[0] == '.' || s[0] == '0' || s[0] == '+' || s[0] == '-') {
    /* .inf, .nan, 0x1f, 0o17, octal, -.inf: let them stay strings */
    if (strpbrk(s, "xXoO") || !strcasecmp(s, ".inf") || !strcasecmp(s, ".nan") || !strcasecmp(s, "-.inf"))
      return 1;
  }
  return 0;
}

static void scalar(cl_config_writer *w, const char *s, int plain_ok) {
  yaml_event_t ev;
  yaml_scalar_style_t style = plain_ok ? YAML_ANY_SCALAR_STYLE : YAML_DOUBLE_QUOTED_SCALAR_STYLE;
  emit(w, &ev,
       yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)(uintptr_t)s, (int)strlen(s), plain_ok,
                                    1, style));
}

void cl_config_writer_key(cl_config_writer *w, const char *key) { scalar(w, key, !needs_quotes(key)); }
void cl_config_writer_str(cl_config_writer *w, const char *s) { scalar(w, s ? s : "", s && !needs_quotes(s)); }
void cl_config_writer_null(cl_config_writer *w) { scalar(w, "null", 1); }
void cl_config_writer_bool(cl_config_writer *w, int v) { scalar(w, v ? "true" : "false", 1); }

void cl_config_writer_int(cl_config_writer *w, int64_t v) {
  char b[32];
  snprintf(b, sizeof b, "%lld", (long long)v);
  scalar(w, b, 1);
}

void cl_config_writer_u64(cl_config_writer *w, uint64_t v) {
  char b[32];
  snprintf(b, sizeof b, "%llu", (unsigned long long)v);
  scalar(w, b, 1);
}

void cl_config_writer_double(cl_config_writer *w, double v) {
  char b[40];
  if (!isfinite(v)) {
    scalar(w, isnan(v) ? ".nan" : v > 0 ? ".inf" : "-.inf", 1);
    return;
  }
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(b, sizeof b, "%.*g", prec, v);
    if (strtod(b, NULL) == v) break;
  }
  scalar(w, b, 1);
}

void cl_config_writer_unit(cl_config_writer *w, cl_config_unit u, double v) {
  char b[64];
  cl_config_format_unit(u, v, b, sizeof b);
  scalar(w, b, 1);
}

cl_status cl_config_writer_finish(cl_config_writer *w, char **text) {
  *text = NULL;
  if (!w) return CL_ERR_INVALID;
  yaml_event_t ev;
  if (w->depth != 0 && w->err == CL_OK) {
    cl_log_error("YAML writer: %d map(s)/sequence(s) left open", w->depth);
    w->err = CL_ERR_INVALID;
  }
  emit(w, &ev, yaml_document_end_event_initialize(&ev, 1));
  emit(w, &ev, yaml_stream_end_event_initialize(&ev));
  if (w->err == CL_OK && !yaml_emitter_flush(&w->em)) w->err = CL_ERR_NOMEM;
  cl_status s = w->err;
  if (s == CL_OK) {
    if (!w->buf) write_handler(w, (unsigned char *)"", 0);
    *text = w->buf;
    w->buf = NULL;
    if (!*text) s = CL_ERR_NOMEM;
  }
  cl_config_writer_destroy(w);
  return s;
}

static void dump_node(cl_config_writer *w, const cl_config_node *n) {
  switch (n->kind) {
    case CL_CONFIG_SCALAR:
      if (n->is_null)
        cl_config_writer_null(w);
      else
        scalar(w, n->text, !n->quoted || !needs_quotes(n->text));
      break;
    case CL_CONFIG_SEQ:
      cl_config_writer_seq(w, 0);
      for (int i = 0; i < n->n; i++) dump_node(w, n->items[i]);
      cl_config_writer_end(w);
      break;
    case CL_CONFIG_MAP:
      cl_config_writer_map(w, 0);
      for (int i = 0; i < n->n; i++) {
        cl_config_writer_key(w, n->keys[i]);
        dump_node(w, n->items[i]);
      }
      cl_config_writer_end(w);
      break;
  }
}

cl_status cl_config_dump(const cl_config_node *n, char **text) {
  cl_config_writer *w;
  CL_TRY(cl_config_writer_create(&w));
  if (n)
    dump_node(w, n);
  else
    cl_config_writer_null(w);
  return cl_config_writer_finish(w, text);
}
