/* Experiment files: the cl_cfg API as a thin view of the config layer (runtime/config/).
 * A cl_cfg is a cl_config and a cl_cfg_node a cl_config_node; getters with `required`
 * map to cl_config_get_X (required) or cl_config_opt_X with *out as the default. */
#include "cleave/cfg.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"

static_assert(CL_CFG_SCALAR == (int)CL_CONFIG_SCALAR && CL_CFG_SEQ == (int)CL_CONFIG_SEQ &&
                  CL_CFG_MAP == (int)CL_CONFIG_MAP,
              "cl_cfg_kind mirrors cl_config_kind");

/* The tree marks keys used through const pointers of the cl_cfg API. */
static cl_config_node *M(const cl_cfg_node *n) { return (cl_config_node *)(uintptr_t)n; }

/* Experiment files are maps of settings. */
static cl_status top_map(const char *name, cl_status s, cl_cfg **out) {
  if (s != CL_OK) return s;
  if (!*out || !(*out)->root || (*out)->root->kind != CL_CONFIG_MAP) {
    cl_log_error("%s:1: expected a YAML map of settings at the top level%s", name,
                 *out && (*out)->root ? "" : " (file is empty)");
    cl_config_destroy(*out);
    *out = NULL;
    return CL_ERR_CONFIG;
  }
  return CL_OK;
}

cl_status cl_cfg_parse_file(const char *path, cl_cfg **out) { return top_map(path, cl_config_load(path, out), out); }

cl_status cl_cfg_parse_string(const char *name, const char *text, cl_cfg **out) {
  CL_TRY(top_map(name, cl_config_load_string(name, text, out), out));
  size_t n = strlen(text) + 1;
  if (!((*out)->source = malloc(n))) {
    cl_config_destroy(*out);
    *out = NULL;
    return CL_ERR_NOMEM;
  }
  memcpy((*out)->source, text, n);
  return CL_OK;
}

void cl_cfg_free(cl_cfg *c) { cl_config_destroy(c); }
const char *cl_cfg_name(const cl_cfg *c) { return cl_config_name(c); }
const char *cl_cfg_source(const cl_cfg *c) { return c->source ? c->source : ""; }
const cl_cfg_node *cl_cfg_root(const cl_cfg *c) { return cl_config_root(c); }
cl_cfg_kind cl_cfg_kind_of(const cl_cfg_node *n) { return (cl_cfg_kind)cl_config_kind_of(n); }
int cl_cfg_line(const cl_cfg_node *n) { return cl_config_line(n); }
const char *cl_cfg_path(const cl_cfg_node *n) { return cl_config_path(n); }
const char *cl_cfg_scalar(const cl_cfg_node *n) { return cl_config_scalar(n); }
int cl_cfg_len(const cl_cfg_node *n) { return cl_config_len(n); }
const cl_cfg_node *cl_cfg_at(const cl_cfg_node *n, int i) { return cl_config_at(n, i); }
const cl_cfg_node *cl_cfg_get(const cl_cfg_node *map, const char *key) { return cl_config_find(M(map), key); }
const cl_cfg_node *cl_cfg_entry(const cl_cfg_node *map, int i, const char **key) {
  return cl_config_entry(map, i, key);
}

cl_status cl_cfg_error(const cl_cfg *c, const cl_cfg_node *n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  cl__config_verror(n, cl_config_name(c), fmt, ap);
  va_end(ap);
  return CL_ERR_CONFIG;
}

cl_status cl_cfg_expect(const cl_cfg *c, const cl_cfg_node *n, cl_cfg_kind kind) {
  (void)c;
  return cl_config_expect(n, (cl_config_kind)kind);
}

cl_status cl_cfg_get_str(const cl_cfg *c, const cl_cfg_node *map, const char *key, int required, const char **out) {
  const char *s = NULL;
  CL_TRY(required ? cl_config_get_str(M(map), key, &s) : cl_config_opt_str(M(map), key, NULL, &s));
  if (s && !*s) return cl_cfg_error(c, cl_config_find(M(map), key), "empty value");
  if (s) *out = s;
  return CL_OK;
}

cl_status cl_cfg_get_int(const cl_cfg *c, const cl_cfg_node *map, const char *key, int required, long lo, long hi,
                         long *out) {
  (void)c;
  int64_t v = *out;
  CL_TRY(required ? cl_config_get_int(M(map), key, lo, hi, &v) : cl_config_opt_int(M(map), key, lo, hi, v, &v));
  *out = (long)v;
  return CL_OK;
}

cl_status cl_cfg_get_u64(const cl_cfg *c, const cl_cfg_node *map, const char *key, int required, uint64_t *out) {
  (void)c;
  return required ? cl_config_get_u64(M(map), key, out) : cl_config_opt_u64(M(map), key, *out, out);
}

cl_status cl_cfg_get_double(const cl_cfg *c, const cl_cfg_node *map, const char *key, int required, double lo,
                            double hi, double *out) {
  (void)c;
  return required ? cl_config_get_double(M(map), key, lo, hi, out)
                  : cl_config_opt_double(M(map), key, lo, hi, *out, out);
}

cl_status cl_cfg_get_bool(const cl_cfg *c, const cl_cfg_node *map, const char *key, int required, int *out) {
  (void)c;
  return required ? cl_config_get_bool(M(map), key, out) : cl_config_opt_bool(M(map), key, *out, out);
}

cl_status cl_cfg_get_enum(const cl_cfg *c, const cl_cfg_node *map, const char *key, int required,
                          const char *const *choices, int *out) {
  (void)c;
  return required ? cl_config_get_enum(M(map), key, choices, out)
                  : cl_config_opt_enum(M(map), key, choices, *out, out);
}

int cl_unit_parse(cl_unit u, const char *s, double *out) {
  char why[512];
  return cl__config_unit_value((cl_config_unit)u, s, -INFINITY, INFINITY, out, why, sizeof why) == CL_OK ? 0 : -1;
}

const char *cl_unit_example(cl_unit u) { return cl_config_unit_example((cl_config_unit)u); }

cl_status cl_cfg_get_unit(const cl_cfg *c, const cl_cfg_node *map, const char *key, int required, cl_unit u,
                          double *out) {
  (void)c;
  return required ? cl_config_get_unit(M(map), key, (cl_config_unit)u, out)
                  : cl_config_opt_unit(M(map), key, (cl_config_unit)u, *out, out);
}

cl_status cl_cfg_node_unit(const cl_cfg *c, const cl_cfg_node *n, cl_unit u, double *out) {
  (void)c;
  return cl_config_as_unit(n, (cl_config_unit)u, out);
}

cl_status cl_cfg_check_unused(const cl_cfg *c) { return cl_config_check_unused(c); }
