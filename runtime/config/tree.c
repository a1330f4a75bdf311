/* YAML text -> cl_config tree (libyaml event parser), with file:line:col on every node.
 * Rejects duplicate keys, non-scalar keys, several documents and alias bombs; never
 * crashes on malformed input (recursion depth and node count are bounded). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config_internal.h"
#include "cleave/vec.h"

enum {
  MAX_DEPTH = 200,        /* nesting levels */
  MAX_NODES = 2000000,    /* after alias expansion */
  MAX_FILE = 256 << 20    /* bytes */
};

typedef struct anchor {
  char *name;
  cl_config_node *node;
} anchor;

typedef struct parser {
  yaml_parser_t yp;
  cl_config *doc;
  anchor *anchors;
  int n_anchors, cap_anchors;
  long n_nodes;
} parser;

static char *dupstr(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

static char *child_path(const char *parent, const char *key, int index) {
  char buf[64];
  size_t lp = strlen(parent);
  const char *suffix = key;
  if (!key) {
    snprintf(buf, sizeof buf, "[%d]", index);
    suffix = buf;
  }
  size_t ls = strlen(suffix);
  char *p = malloc(lp + ls + 2);
  if (!p) return NULL;
  memcpy(p, parent, lp);
  size_t o = lp;
  if (key && lp > 0) p[o++] = '.';
  memcpy(p + o, suffix, ls + 1);
  return p;
}

void cl__config_node_free(cl_config_node *n) {
  if (!n) return;
  for (int i = 0; i < n->n; i++) {
    cl__config_node_free(n->items[i]);
    if (n->keys) free(n->keys[i]);
  }
  for (int i = 0; i < n->n_known; i++) free(n->known[i]);
  free(n->known);
  free(n->items);
  free(n->keys);
  free(n->key_line);
  free(n->key_col);
  free(n->used);
  free(n->text);
  free(n->path);
  free(n);
}

static cl_status perr(parser *P, int line, int col, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static cl_status perr(parser *P, int line, int col, const char *path, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (path && path[0])
    cl_log_error("%s:%d:%d: field '%s': %s", P->doc->name, line, col, path, msg);
  else
    cl_log_error("%s:%d:%d: %s", P->doc->name, line, col, msg);
  return CL_ERR_CONFIG;
}

static cl_status next_event(parser *P, yaml_event_t *ev) {
  if (yaml_parser_parse(&P->yp, ev)) return CL_OK;
  const yaml_parser_t *y = &P->yp;
  if (y->error == YAML_MEMORY_ERROR) {
    cl_log_error("%s: out of memory while parsing YAML", P->doc->name);
    return CL_ERR_NOMEM;
  }
  int line = (int)y->problem_mark.line + 1, col = (int)y->problem_mark.column + 1;
  const char *problem = y->problem ? y->problem : "malformed YAML";
  if (y->context)
    return perr(P, line, col, NULL, "YAML syntax error: %s %s (line %d)", problem, y->context,
                (int)y->context_mark.line + 1);
  return perr(P, line, col, NULL, "YAML syntax error: %s", problem);
}

static cl_config_node *new_node(parser *P, cl_config_kind kind, const yaml_mark_t *m, const char *path) {
  if (++P->n_nodes > MAX_NODES) return NULL;
  cl_config_node *n = calloc(1, sizeof *n);
  if (!n) return NULL;
  n->kind = kind;
  n->line = (int)m->line + 1;
  n->col = (int)m->column + 1;
  n->doc = P->doc;
  n->path = dupstr(path);
  if (!n->path) {
    free(n);
    return NULL;
  }
  return n;
}

static cl_status nomem(parser *P) {
  if (P->n_nodes > MAX_NODES) {
    cl_log_error("%s: more than %d YAML nodes (alias expansion?)", P->doc->name, MAX_NODES);
    return CL_ERR_CONFIG;
  }
  cl_log_error("%s: out of memory while building the config tree", P->doc->name);
  return CL_ERR_NOMEM;
}

/* Append child (and key for maps). Capacity of parallel map arrays follows items. */
static int append(cl_config_node *parent, cl_config_node *child, char *key, int kline, int kcol) {
  int cap = parent->cap;
  if (cl_vec_reserve((void **)&parent->items, &cap, parent->n + 1, sizeof *parent->items, 4) != CL_OK) return -1;
  if (parent->kind == CL_CONFIG_MAP && cap != parent->cap) {
    char **k = realloc(parent->keys, (size_t)cap * sizeof *k);
    if (k) parent->keys = k;
    int *kl = realloc(parent->key_line, (size_t)cap * sizeof *kl);
    if (kl) parent->key_line = kl;
    int *kc = realloc(parent->key_col, (size_t)cap * sizeof *kc);
    if (kc) parent->key_col = kc;
    unsigned char *u = realloc(parent->used, (size_t)cap);
    if (u) parent->used = u;
    if (!k || !kl || !kc || !u) {
      parent->cap = cap; /* items grew; keep arrays consistent for free() */
      return -1;
    }
  }
  parent->cap = cap;
  parent->items[parent->n] = child;
  if (parent->kind == CL_CONFIG_MAP) {
    parent->keys[parent->n] = key;
    parent->key_line[parent->n] = kline;
    parent->key_col[parent->n] = kcol;
    parent->used[parent->n] = 0;
  }
  parent->n++;
  return 0;
}

/* Deep copy of an anchored node for an alias, re-pathed under @p path. */
static cl_config_node *copy_node(parser *P, const cl_config_node *src, const char *path) {
  /* the copy keeps the anchored node's position */
  const yaml_mark_t at = {0, (size_t)(src->line - 1), (size_t)(src->col - 1)};
  cl_config_node *n = new_node(P, src->kind, &at, path);
  if (!n) return NULL;
  n->is_null = src->is_null;
  n->quoted = src->quoted;
  if (src->text && !(n->text = dupstr(src->text))) goto fail;
  for (int i = 0; i < src->n; i++) {
    const char *key = src->kind == CL_CONFIG_MAP ? src->keys[i] : NULL;
    char *cp = child_path(path, key, i);
    if (!cp) goto fail;
    cl_config_node *c = copy_node(P, src->items[i], cp);
    free(cp);
    if (!c) goto fail;
    char *k = key ? dupstr(key) : NULL;
    if ((key && !k) || append(n, c, k, key ? src->key_line[i] : 0, key ? src->key_col[i] : 0)) {
      free(k);
      cl__config_node_free(c);
      goto fail;
    }
  }
  return n;
fail:
  cl__config_node_free(n);
  return NULL;
}

static cl_status add_anchor(parser *P, const yaml_char_t *name, cl_config_node *n) {
  if (!name) return CL_OK;
  if (CL_VEC_RESERVE(P->anchors, P->cap_anchors, P->n_anchors + 1, 4) != CL_OK) return nomem(P);
  char *s = dupstr((const char *)name);
  if (!s) return nomem(P);
  P->anchors[P->n_anchors].name = s;
  P->anchors[P->n_anchors].node = n;
  P->n_anchors++;
  return CL_OK;
}

static int is_null_text(const char *s) {
  return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

static cl_status parse_value(parser *P, yaml_event_t *ev, const char *path, int depth, cl_config_node **out);

static cl_status parse_collection(parser *P, cl_config_node *n, int depth) {
  int is_map = n->kind == CL_CONFIG_MAP;
  for (;;) {
    yaml_event_t ev;
    CL_TRY(next_event(P, &ev));
    if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT) {
      yaml_event_delete(&ev);
      return CL_OK;
    }
    char *key = NULL, *cp;
    int kline = 0, kcol = 0;
    if (is_map) {
      kline = (int)ev.start_mark.line + 1;
      kcol = (int)ev.start_mark.column + 1;
      if (ev.type != YAML_SCALAR_EVENT) {
        yaml_event_delete(&ev);
        return perr(P, kline, kcol, n->path, "map keys must be plain strings");
      }
      key = dupstr((const char *)ev.data.scalar.value);
      yaml_event_delete(&ev);
      if (!key) return nomem(P);
      for (int i = 0; i < n->n; i++)
        if (!strcmp(n->keys[i], key)) {
          cl_status s = perr(P, kline, kcol, n->path, "duplicate key '%s' (first given at line %d)", key,
                             n->key_line[i]);
          free(key);
          return s;
        }
      cp = child_path(n->path, key, 0);
      if (!cp) {
        free(key);
        return nomem(P);
      }
      cl_status s = next_event(P, &ev);
      if (s != CL_OK) {
        free(key);
        free(cp);
        return s;
      }
    } else {
      cp = child_path(n->path, NULL, n->n);
      if (!cp) {
        yaml_event_delete(&ev);
        return nomem(P);
      }
    }
    cl_config_node *child = NULL;
    cl_status s = parse_value(P, &ev, cp, depth + 1, &child);
    free(cp);
    if (s != CL_OK) {
      free(key);
      return s;
    }
    if (append(n, child, key, kline, kcol)) {
      free(key);
      cl__config_node_free(child);
      return nomem(P);
    }
  }
}

/* Consumes @p ev (deletes it). */
static cl_status parse_value(parser *P, yaml_event_t *ev, const char *path, int depth, cl_config_node **out) {
  *out = NULL;
  int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
  if (depth > MAX_DEPTH) {
    yaml_event_delete(ev);
    return perr(P, line, col, path, "nesting deeper than %d levels", MAX_DEPTH);
  }
  cl_config_node *n = NULL;
  cl_status s = CL_OK;
  switch (ev->type) {
    case YAML_SCALAR_EVENT: {
      n = new_node(P, CL_CONFIG_SCALAR, &ev->start_mark, path);
      if (!n || !(n->text = dupstr((const char *)ev->data.scalar.value))) {
        s = nomem(P);
        break;
      }
      n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
      if (strlen(n->text) != ev->data.scalar.length) {
        s = perr(P, line, col, path, "NUL character inside a scalar");
        break;
      }
      n->is_null = !n->quoted && is_null_text(n->text);
      if (n->is_null) n->text[0] = '\0';
      s = add_anchor(P, ev->data.scalar.anchor, n);
      break;
    }
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
      int is_map = ev->type == YAML_MAPPING_START_EVENT;
      yaml_char_t *anchor_name = is_map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
      char *aname = anchor_name ? dupstr((const char *)anchor_name) : NULL;
      n = new_node(P, is_map ? CL_CONFIG_MAP : CL_CONFIG_SEQ, &ev->start_mark, path);
      yaml_event_delete(ev);
      if (!n || (anchor_name && !aname)) {
        free(aname);
        s = nomem(P);
        break;
      }
      s = parse_collection(P, n, depth);
      if (s == CL_OK) s = add_anchor(P, (const yaml_char_t *)aname, n);
      free(aname);
      if (s != CL_OK) break;
      *out = n;
      return CL_OK;
    }
    case YAML_ALIAS_EVENT: {
      const char *name = (const char *)ev->data.alias.anchor;
      const cl_config_node *src = NULL;
      for (int i = P->n_anchors - 1; i >= 0 && !src; i--)
        if (!strcmp(P->anchors[i].name, name)) src = P->anchors[i].node;
      if (!src) {
        s = perr(P, line, col, path, "unknown anchor '*%s'", name);
        break;
      }
      n = copy_node(P, src, path);
      if (!n) s = nomem(P);
      break;
    }
    default:
      s = perr(P, line, col, path, "unexpected YAML event");
      break;
  }
  yaml_event_delete(ev);
  if (s != CL_OK) {
    cl__config_node_free(n);
    return s;
  }
  *out = n;
  return CL_OK;
}

static cl_status parse_stream(parser *P) {
  yaml_event_t ev;
  CL_TRY(next_event(P, &ev)); /* STREAM_START */
  yaml_event_delete(&ev);
  int docs = 0;
  for (;;) {
    CL_TRY(next_event(P, &ev));
    if (ev.type == YAML_STREAM_END_EVENT) {
      yaml_event_delete(&ev);
      return CL_OK;
    }
    if (ev.type != YAML_DOCUMENT_START_EVENT) {
      yaml_event_delete(&ev);
      return perr(P, 1, 1, NULL, "malformed YAML stream");
    }
    int line = (int)ev.start_mark.line + 1, col = (int)ev.start_mark.column + 1;
    yaml_event_delete(&ev);
    if (++docs > 1) return perr(P, line, col, NULL, "only one YAML document per config file ('---' found)");
    CL_TRY(next_event(P, &ev));
    CL_TRY(parse_value(P, &ev, "", 0, &P->doc->root));
    CL_TRY(next_event(P, &ev)); /* DOCUMENT_END */
    yaml_event_delete(&ev);
  }
}

cl_status cl_config_load_string(const char *name, const char *text, cl_config **out) {
  if (!out || !text) return CL_ERR_INVALID;
  *out = NULL;
  cl_config *c = calloc(1, sizeof *c);
  if (!c || !(c->name = dupstr(name ? name : "<string>"))) {
    free(c);
    cl_log_error("out of memory loading config");
    return CL_ERR_NOMEM;
  }
  parser P;
  memset(&P, 0, sizeof P);
  P.doc = c;
  if (!yaml_parser_initialize(&P.yp)) {
    cl_config_destroy(c);
    cl_log_error("cannot initialise the YAML parser");
    return CL_ERR_NOMEM;
  }
  yaml_parser_set_input_string(&P.yp, (const unsigned char *)text, strlen(text));
  cl_status s = parse_stream(&P);
  yaml_parser_delete(&P.yp);
  for (int i = 0; i < P.n_anchors; i++) free(P.anchors[i].name);
  free(P.anchors);
  if (s != CL_OK) {
    cl_config_destroy(c);
    return s;
  }
  /* A document that is only a null scalar (e.g. only comments, or "~") is empty. */
  if (c->root && c->root->kind == CL_CONFIG_SCALAR && c->root->is_null) {
    cl__config_node_free(c->root);
    c->root = NULL;
  }
  *out = c;
  return CL_OK;
}

cl_status cl_config_load(const char *path, cl_config **out) {
  if (!out || !path) return CL_ERR_INVALID;
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) {
    cl_log_error("%s: cannot open config: %s", path, strerror(errno));
    return CL_ERR_IO;
  }
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  cl_status s = CL_OK;
  while (buf) {
    if (len + 1 >= cap) {
      if (cap >= (size_t)MAX_FILE) {
        cl_log_error("%s: config larger than %d MiB", path, MAX_FILE >> 20);
        s = CL_ERR_CONFIG;
        break;
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
    size_t got = fread(buf + len, 1, cap - 1 - len, f);
    len += got;
    if (got == 0) {
      if (ferror(f)) {
        cl_log_error("%s: read error: %s", path, strerror(errno));
        s = CL_ERR_IO;
      }
      break;
    }
  }
  fclose(f);
  if (!buf) {
    cl_log_error("%s: out of memory reading config", path);
    return CL_ERR_NOMEM;
  }
  if (s == CL_OK) {
    buf[len] = '\0';
    if (strlen(buf) != len) {
      int line = 1;
      for (size_t i = 0; buf[i]; i++) line += buf[i] == '\n';
      cl_log_error("%s:%d: NUL byte in config file (binary file?)", path, line);
      s = CL_ERR_CONFIG;
    } else if ((s = cl_config_load_string(path, buf, out)) == CL_OK) {
      (*out)->source = buf; /* kept for cl_cfg_source */
      buf = NULL;
    }
  }
  free(buf);
  return s;
}

void cl_config_destroy(cl_config *c) {
  if (!c) return;
  cl__config_node_free(c->root);
  free(c->source);
  free(c->name);
  free(c);
}

const char *cl_config_name(const cl_config *c) { return c ? c->name : ""; }
cl_config_node *cl_config_root(const cl_config *c) { return c ? c->root : NULL; }
