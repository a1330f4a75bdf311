/* Internal layout of the YAML config tree (runtime/config/). */
#ifndef CLEAVE_CONFIG_INTERNAL_H
#define CLEAVE_CONFIG_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>

#include "cleave/config.h"

struct cl_config_node {
  cl_config_kind kind;
  int line, col;        /* 1-based position of the value */
  int is_null;          /* plain `~`, `null`, `Null`, `NULL` or empty */
  int quoted;           /* scalar written quoted / block (never a number or bool) */
  char *text;           /* scalar text ("" for null scalars), NULL otherwise */
  char *path;           /* "nodes[2].power" */
  cl_config *doc;       /* owning document (file name for messages) */
  /* sequence elements or map values */
  int n, cap;
  cl_config_node **items;
  /* map only */
  char **keys;
  int *key_line, *key_col;
  unsigned char *used;
  char **known; /* keys asked for by getters (present or not), for messages */
  int n_known, cap_known;
  int visited;  /* any lookup happened on this map */
};

struct cl_config {
  char *name;
  char *source; /* the text, kept by cl_config_load (cl_cfg_source) */
  cl_config_node *root;
};

void cl__config_node_free(cl_config_node *n);
/** Scalar must not be a map/sequence: error naming the field otherwise. */
cl_status cl__config_expect_scalar(const cl_config_node *n);
/** Strict decimal number prefix (no hex, inf, nan); 0 on success, *endp after it. */
int cl__config_number_prefix(const char *s, double *out, const char **endp);
/** Parse @p text as @p u within [lo, hi] and the quantity's range; else the reason in @p why. */
cl_status cl__config_unit_value(cl_config_unit u, const char *text, double lo, double hi, double *out, char *why,
                                size_t cap);
/** cl_config_error with a va_list; @p n NULL: "@p doc_name: message". */
cl_status cl__config_verror(const cl_config_node *n, const char *doc_name, const char *fmt, va_list ap);
/** Levenshtein distance (capped at 100 chars). */
int cl__config_edit_distance(const char *a, const char *b);

#endif
