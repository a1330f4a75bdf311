/* The one YAML emitter of cleave (resolved configs, emitted testbeds, experiment points)
 * and dumps of parsed trees. Hand-written rather than libyaml's emitter so that the layout
 * is ours (comments, "  - " items under a key, flow items) and the quoting rule is one
 * function: plain when YAML reads the text back as the same string, else double quotes. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_internal.h"

enum { MAX_OPEN = 256 };
enum { CTX_ROOT, CTX_KEY, CTX_DASH }; /* where a collection starts: document, after "key:", after "-" */

typedef struct frame {
  unsigned char is_map, flow, ctx, opened; /* opened: the block's first line break is written */
  int n;                                   /* items (maps: keys) written */
  int indent;                              /* column of its keys / dashes (block) */
} frame;

struct cl_config_writer {
  char *buf;
  size_t len, cap;
  cl_status err;
  int depth, want_value, done;
  frame st[MAX_OPEN];
};

static void put_n(cl_config_writer *w, const char *s, size_t n) {
  if (w->err != CL_OK) return;
  if (w->len + n + 1 > w->cap) {
    size_t nc = w->cap ? w->cap : 1024;
    while (nc < w->len + n + 1) nc *= 2;
    char *nb = realloc(w->buf, nc);
    if (!nb) {
      w->err = CL_ERR_NOMEM;
      cl_log_error("YAML writer: out of memory");
      return;
    }
    w->buf = nb;
    w->cap = nc;
  }
  memcpy(w->buf + w->len, s, n);
  w->len += n;
  w->buf[w->len] = '\0';
}

static void put(cl_config_writer *w, const char *s) { put_n(w, s, strlen(s)); }

static void indent(cl_config_writer *w, int n) {
  for (int i = 0; i < n; i++) put_n(w, " ", 1);
}

static void misuse(cl_config_writer *w, const char *what) {
  if (w->err == CL_OK) cl_log_error("YAML writer: %s", what);
  if (w->err == CL_OK) w->err = CL_ERR_INVALID;
}

static frame *top(cl_config_writer *w) { return w->depth ? &w->st[w->depth - 1] : NULL; }

/* The first line break of a block collection that starts after "key:" or "-". */
static void open_block(cl_config_writer *w, frame *f) {
  if (!f->opened && f->ctx != CTX_ROOT) put(w, "\n");
  f->opened = 1;
}

/* Text YAML would not read back as this plain string (structure, comments, escapes). */
static int plain_unsafe(const char *s) {
  size_t n = strlen(s);
  if (!n || s[0] == ' ' || s[n - 1] == ' ' || strchr("?:,[]{}#&*!|>'\"%@`", s[0])) return 1;
  if (s[0] == '-' && (s[1] == ' ' || s[1] == '\0')) return 1;
  if (!strncmp(s, "---", 3) || !strncmp(s, "...", 3)) return 1;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if (*p < 0x20 || *p >= 0x7f || strchr(",[]{}#:", *p)) return 1; /* non-ASCII: quoted, escaped as needed */
  return 0;
}

/* The code point of the UTF-8 sequence at @p p and its length in *@p len; an invalid or
 * truncated sequence gives its first byte as a code point of length 1. */
static unsigned utf8_at(const unsigned char *p, int *len) {
  int n = *p >= 0xf0 && *p < 0xf5 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc2 && *p < 0xe0 ? 2 : 0;
  if (n == 0 || *p >= 0xf5) {
    *len = 1;
    return *p;
  }
  unsigned cp = *p & (0x7f >> n);
  for (int i = 1; i < n; i++) {
    if ((p[i] & 0xc0) != 0x80) {
      *len = 1;
      return *p;
    }
    cp = cp << 6 | (p[i] & 0x3f);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff))) {
    *len = 1;
    return *p;
  }
  *len = n;
  return cp;
}

/* What a YAML reader takes raw inside double quotes (libyaml's printable set, minus the
 * line breaks NEL, LS and PS, which it would fold). */
static int printable_raw(unsigned cp) {
  return (cp >= 0x20 && cp < 0x7f) || (cp >= 0xa0 && cp <= 0xd7ff && cp != 0x2028 && cp != 0x2029) ||
         (cp >= 0xe000 && cp <= 0xfffd && cp != 0xfeff) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/* Plain text a YAML 1.1 reader (PyYAML too) would take for null, a boolean or a number. */
static int typed_lookalike(const char *s) {
  static const char *const words[] = {"~",    "null",  "true",  "false", "yes", "no", "on",
                                      "off", ".inf", "-.inf", "+.inf", ".nan", NULL};
  for (int i = 0; words[i]; i++)
    if (!strcasecmp(s, words[i])) return 1;
  const char *p = s + (*s == '+' || *s == '-');
  if (!(isdigit((unsigned char)*p) || (*p == '.' && isdigit((unsigned char)p[1])))) return 0;
  return strspn(p, "0123456789abcdefABCDEFxXoO_.:+-") == strlen(p);
}

static void put_text(cl_config_writer *w, const char *s, int quote) {
  if (!quote) {
    put(w, s);
    return;
  }
  put(w, "\"");
  for (const unsigned char *p = (const unsigned char *)s; *p;) {
    char esc[16];
    int len = 1;
    const unsigned cp = *p < 0x80 ? *p : utf8_at(p, &len);
    const int invalid = *p >= 0x80 && len == 1; /* not UTF-8 (a string cut inside a character) */
    if (cp == '"' || cp == '\\') snprintf(esc, sizeof esc, "\\%c", (char)cp);
    else if (cp == '\n') snprintf(esc, sizeof esc, "\\n");
    else if (cp == '\t') snprintf(esc, sizeof esc, "\\t");
    else if (cp == 0x85) snprintf(esc, sizeof esc, "\\N");
    else if (cp == 0x2028) snprintf(esc, sizeof esc, "\\L");
    else if (cp == 0x2029) snprintf(esc, sizeof esc, "\\P");
    else if (invalid || !printable_raw(cp)) snprintf(esc, sizeof esc, cp < 0x100 ? "\\x%02x" : cp < 0x10000 ? "\\u%04x" : "\\U%08x", cp);
    else {
      memcpy(esc, p, (size_t)len);
      esc[len] = '\0';
    }
    put(w, esc);
    p += len;
  }
  put(w, "\"");
}

/* Before a value: the separator its parent needs. A block collection defers its line break
 * (an empty one is written as {} or [] on the same line). */
static void begin_value(cl_config_writer *w, int block_coll) {
  frame *f = top(w);
  if (!f) {
    if (w->done) misuse(w, "a second document value");
    return;
  }
  if (f->is_map) {
    if (!w->want_value) misuse(w, "a map value without a key");
    w->want_value = 0;
    if (!block_coll) put(w, " ");
    return;
  }
  if (f->flow) {
    if (f->n) put(w, ", ");
  } else {
    open_block(w, f);
    indent(w, f->indent);
    put(w, block_coll ? "-" : "- ");
  }
  f->n++;
}

/* After a scalar or flow collection: the line ends unless a flow collection goes on. */
static void end_value(cl_config_writer *w) {
  frame *f = top(w);
  if (!f || !f->flow) put(w, "\n");
  if (!f) w->done = 1;
}

static void scalar(cl_config_writer *w, const char *s, int quote) {
  begin_value(w, 0);
  put_text(w, s, quote);
  end_value(w);
}

static void start(cl_config_writer *w, int is_map, int flow) {
  frame *p = top(w);
  if (p && p->flow) flow = 1;
  if (w->depth >= MAX_OPEN) {
    misuse(w, "collections nested too deep");
    return;
  }
  begin_value(w, !flow);
  frame *f = &w->st[w->depth++];
  f->is_map = (unsigned char)is_map;
  f->flow = (unsigned char)flow;
  f->ctx = !p ? CTX_ROOT : p->is_map ? CTX_KEY : CTX_DASH;
  f->opened = f->ctx == CTX_ROOT;
  f->n = 0;
  f->indent = p ? p->indent + 2 : 0;
  if (flow) put(w, is_map ? "{" : "[");
}

void cl_config_writer_map(cl_config_writer *w, int flow) { start(w, 1, flow); }
void cl_config_writer_seq(cl_config_writer *w, int flow) { start(w, 0, flow); }

void cl_config_writer_end(cl_config_writer *w) {
  frame *f = top(w);
  if (!f || w->want_value) {
    misuse(w, f ? "a key without a value" : "end without an open map or sequence");
    return;
  }
  w->depth--;
  if (f->flow) {
    put(w, f->is_map ? "}" : "]");
  } else if (f->n == 0) {
    put(w, f->ctx == CTX_ROOT ? "" : " ");
    put(w, f->is_map ? "{}" : "[]");
  } else {
    if (!top(w)) w->done = 1;
    return; /* its last item ended the line */
  }
  end_value(w);
}

void cl_config_writer_key(cl_config_writer *w, const char *key) {
  frame *f = top(w);
  if (!f || !f->is_map || w->want_value) {
    misuse(w, "a key outside a map");
    return;
  }
  if (f->flow) {
    if (f->n) put(w, ", ");
  } else if (!f->opened && f->ctx == CTX_DASH) {
    put(w, " "); /* "- key: v": the first key on the dash's line */
    f->opened = 1;
  } else {
    open_block(w, f);
    indent(w, f->indent);
  }
  put_text(w, key, plain_unsafe(key) || typed_lookalike(key));
  put(w, ":");
  w->want_value = 1;
  f->n++;
}

void cl_config_writer_comment(cl_config_writer *w, const char *text) {
  frame *f = top(w);
  if ((f && (f->flow || w->want_value)) || (!f && w->done)) {
    misuse(w, "a comment inside a flow collection or after a key");
    return;
  }
  if (f) open_block(w, f);
  for (const char *p = text; *p;) {
    size_t n = strcspn(p, "\n");
    indent(w, f ? f->indent : 0);
    put(w, "# ");
    put_n(w, p, n);
    put(w, "\n");
    p += n + (p[n] == '\n');
  }
}

void cl_config_writer_str(cl_config_writer *w, const char *s) {
  s = s ? s : "";
  scalar(w, s, plain_unsafe(s) || typed_lookalike(s));
}
void cl_config_writer_null(cl_config_writer *w) { scalar(w, "null", 0); }
void cl_config_writer_bool(cl_config_writer *w, int v) { scalar(w, v ? "true" : "false", 0); }

void cl_config_writer_int(cl_config_writer *w, int64_t v) {
  char b[32];
  snprintf(b, sizeof b, "%lld", (long long)v);
  scalar(w, b, 0);
}

void cl_config_writer_u64(cl_config_writer *w, uint64_t v) {
  char b[32];
  snprintf(b, sizeof b, "%llu", (unsigned long long)v);
  scalar(w, b, 0);
}

void cl_config_writer_double(cl_config_writer *w, double v) {
  char b[40];
  if (!isfinite(v)) {
    scalar(w, isnan(v) ? ".nan" : v > 0 ? ".inf" : "-.inf", 0);
    return;
  }
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(b, sizeof b, "%.*g", prec, v);
    if (strtod(b, NULL) == v) break;
  }
  scalar(w, b, 0);
}

void cl_config_writer_unit(cl_config_writer *w, cl_config_unit u, double v) {
  char b[64];
  cl_config_format_unit(u, v, b, sizeof b);
  scalar(w, b, plain_unsafe(b));
}

/* `key: value` in one call, one line per scalar type. */
#define CL__KEYED(NAME, T)                                                      \
  void cl_config_writer_key_##NAME(cl_config_writer *w, const char *key, T v) { \
    cl_config_writer_key(w, key);                                               \
    cl_config_writer_##NAME(w, v);                                              \
  }
CL__KEYED(str, const char *)
CL__KEYED(int, int64_t)
CL__KEYED(u64, uint64_t)
CL__KEYED(double, double)
CL__KEYED(bool, int)
void cl_config_writer_key_unit(cl_config_writer *w, const char *key, cl_config_unit u, double v) {
  cl_config_writer_key(w, key);
  cl_config_writer_unit(w, u, v);
}

cl_status cl_config_writer_create(cl_config_writer **out) {
  *out = calloc(1, sizeof **out);
  return *out ? CL_OK : CL_ERR_NOMEM;
}

void cl_config_writer_destroy(cl_config_writer *w) {
  if (!w) return;
  free(w->buf);
  free(w);
}

cl_status cl_config_writer_finish(cl_config_writer *w, char **text) {
  *text = NULL;
  if (!w) return CL_ERR_INVALID;
  if (w->depth != 0 && w->err == CL_OK) {
    cl_log_error("YAML writer: %d map(s)/sequence(s) left open", w->depth);
    w->err = CL_ERR_INVALID;
  }
  if (!w->done && w->err == CL_OK) cl_config_writer_null(w);
  cl_status s = w->err;
  if (s == CL_OK) {
    *text = w->buf;
    w->buf = NULL;
  }
  cl_config_writer_destroy(w);
  return s;
}

/* ---- dumps of parsed trees ---------------------------------------------------------- */

typedef struct dumper {
  cl_config_writer *w;
  const cl_config_override *ov;
  cl_config **ov_doc; /* parsed override values */
  int n_ov, flow_depth;
} dumper;

/* @p edit: n belongs to the dumped tree (override values are not edited themselves). */
static void dump_node(const dumper *d, const cl_config_node *n, int depth, int edit) {
  cl_config_writer *w = d->w;
  if (!n || n->kind == CL_CONFIG_SCALAR) {
    if (!n || n->is_null) cl_config_writer_null(w);
    else scalar(w, n->text, plain_unsafe(n->text) || (n->quoted && typed_lookalike(n->text)));
    return;
  }
  int is_map = n->kind == CL_CONFIG_MAP;
  start(w, is_map, depth >= d->flow_depth);
  for (int i = 0; i < n->n; i++) {
    if (!is_map) {
      dump_node(d, n->items[i], depth + 1, edit);
      continue;
    }
    cl_config_writer_key(w, n->keys[i]);
    const cl_config_node *v = n->items[i];
    int from_ov = 0;
    for (int k = 0; k < d->n_ov && edit; k++)
      if (!strcmp(d->ov[k].parent, n->path) && !strcmp(d->ov[k].key, n->keys[i])) {
        v = cl_config_root(d->ov_doc[k]);
        from_ov = 1;
      }
    dump_node(d, v, depth + 1, edit && !from_ov);
  }
  for (int k = 0; is_map && edit && k < d->n_ov; k++) { /* added keys */
    int present = 0;
    for (int i = 0; i < n->n && !present; i++) present = !strcmp(n->keys[i], d->ov[k].key);
    if (present || strcmp(d->ov[k].parent, n->path)) continue;
    cl_config_writer_key(w, d->ov[k].key);
    dump_node(d, cl_config_root(d->ov_doc[k]), depth + 1, 0);
  }
  cl_config_writer_end(w);
}

cl_status cl_config_dump_edit(const cl_config_node *n, const cl_config_override *ov, int n_ov, int flow_depth,
                              char **text) {
  *text = NULL;
  dumper d = {NULL, ov, n_ov > 0 ? calloc((size_t)n_ov, sizeof(cl_config *)) : NULL, n_ov, flow_depth};
  cl_status s = n_ov > 0 && !d.ov_doc ? CL_ERR_NOMEM : CL_OK;
  for (int k = 0; k < n_ov && s == CL_OK; k++) {
    char name[160];
    snprintf(name, sizeof name, "<value of %s%s%s>", ov[k].parent, ov[k].parent[0] ? "." : "", ov[k].key);
    s = cl_config_load_string(name, ov[k].value, &d.ov_doc[k]);
  }
  if (s == CL_OK) s = cl_config_writer_create(&d.w);
  if (s == CL_OK) {
    dump_node(&d, n, 0, 1);
    s = cl_config_writer_finish(d.w, text);
  }
  for (int k = 0; k < n_ov && d.ov_doc; k++) cl_config_destroy(d.ov_doc[k]);
  free(d.ov_doc);
  return s;
}

cl_status cl_config_dump(const cl_config_node *n, char **text) { return cl_config_dump_edit(n, NULL, 0, 1 << 30, text); }
