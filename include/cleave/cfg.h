/** @file cfg.h
 *  @brief Experiment-file view of the config layer (include/cleave/config.h): the same
 *  document tree, reader, unit grammar, ranges and messages, with the `required` flag
 *  style of getters the experiment code uses. A cl_cfg IS a cl_config and a cl_cfg_node
 *  a cl_config_node, so both APIs apply to the same objects.
 *
 *  Every error is one line: `FILE:LINE:COL: field 'links[1].bandwidth': cannot
 *  parse '20 Mbits' as a bandwidth (e.g. 20Mbit/s)` and the status CL_ERR_CONFIG.
 *  Getters mark keys as used; cl_cfg_check_unused() then reports every key nobody
 *  read (`FILE:LINE: unknown key 'foo' in 'nodes[2]' (expected one of: ...)`).
 *  A key given without a value (`key:`, `~`) counts as absent for optional getters.
 *
 *  Units and their ranges: see config.h (one grammar; docs/config.md). cl_unit values
 *  equal the cl_config_unit ones.
 *
 *  Ownership: a cl_cfg owns its tree and the source text; node pointers and strings
 *  are valid until cl_cfg_free().
 */
#ifndef CLEAVE_CFG_H
#define CLEAVE_CFG_H

#include <stdint.h>

#include "cleave/config.h"
#include "cleave/status.h"

typedef struct cl_config cl_cfg;
typedef struct cl_config_node cl_cfg_node;

/** Same values as cl_config_kind. */
typedef enum cl_cfg_kind { CL_CFG_SCALAR, CL_CFG_SEQ, CL_CFG_MAP } cl_cfg_kind;

/** @brief Parse a YAML file whose top level is a map. Errors: one line with file:line:col. */
cl_status cl_cfg_parse_file(const char *path, cl_cfg **out);
/** @brief Parse YAML text; @p name is used in messages (e.g. "<embedded demo>"). */
cl_status cl_cfg_parse_string(const char *name, const char *text, cl_cfg **out);
void cl_cfg_free(cl_cfg *c);

const char *cl_cfg_name(const cl_cfg *c);
const char *cl_cfg_source(const cl_cfg *c);
const cl_cfg_node *cl_cfg_root(const cl_cfg *c);

cl_cfg_kind cl_cfg_kind_of(const cl_cfg_node *n);
int cl_cfg_line(const cl_cfg_node *n);
const char *cl_cfg_path(const cl_cfg_node *n); /* e.g. "nodes[2].power" */
/** Scalar text (NULL for maps/sequences). */
const char *cl_cfg_scalar(const cl_cfg_node *n);
/** Sequence length / element (NULL out of range). */
int cl_cfg_len(const cl_cfg_node *n);
const cl_cfg_node *cl_cfg_at(const cl_cfg_node *n, int i);
/** Map lookup; marks the key used. NULL if absent or @p map is not a map. */
const cl_cfg_node *cl_cfg_get(const cl_cfg_node *map, const char *key);
/** Map entry i (key text via *key); does not mark used. */
const cl_cfg_node *cl_cfg_entry(const cl_cfg_node *map, int i, const char **key);

/** @brief Log "FILE:LINE:COL: field 'PATH': <message>" and return CL_ERR_CONFIG. */
cl_status cl_cfg_error(const cl_cfg *c, const cl_cfg_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** Require @p n to be a map / sequence (error names the field). */
cl_status cl_cfg_expect(const cl_cfg *c, const cl_cfg_node *n, cl_cfg_kind kind);

/* Typed getters. @p required: absent key is an error; else *out keeps its default. */
cl_status cl_cfg_get_str(const cl_cfg *c, const cl_cfg_node *map, const char *key, int required, const char **out);
cl_status cl_cfg_get_int(const cl_cfg *c, const cl_cfg_node *map, const char *key, int required, long lo, long hi,
                         long *out);
cl_status cl_cfg_get_u64(const cl_cfg *c, const cl_cfg_node *map, const char *key, int required, uint64_t *out);
cl_status cl_cfg_get_double(const cl_cfg *c, const cl_cfg_node *map, const char *key, int required, double lo,
                            double hi, double *out);
cl_status cl_cfg_get_bool(const cl_cfg *c, const cl_cfg_node *map, const char *key, int required, int *out);
/** One of @p choices (NULL-terminated); *out = index. */
cl_status cl_cfg_get_enum(const cl_cfg *c, const cl_cfg_node *map, const char *key, int required,
                          const char *const *choices, int *out);

/** Quantities (same values as cl_config_unit, which has more: energy, frequency, factor). */
typedef enum cl_unit {
  CL_UNIT_SECONDS = CL_CONFIG_DURATION,
  CL_UNIT_BANDWIDTH = CL_CONFIG_BANDWIDTH, /* bytes/s */
  CL_UNIT_BYTES = CL_CONFIG_SIZE,
  CL_UNIT_FRACTION = CL_CONFIG_FRACTION,   /* 0..1 */
  CL_UNIT_WATTS = CL_CONFIG_POWER,
  CL_UNIT_J_PER_BYTE = CL_CONFIG_ENERGY_PER_BYTE,
  CL_UNIT_COUNT = CL_CONFIG_UNIT_COUNT
} cl_unit;

/** @brief Parse "20Mbit/s" etc. into SI base units within the quantity's range.
 *  Returns 0 on success (no logging). */
int cl_unit_parse(cl_unit u, const char *s, double *out);
const char *cl_unit_example(cl_unit u);
/** Unit-aware getter; the value must be within the quantity's range (cl_config_unit_range). */
cl_status cl_cfg_get_unit(const cl_cfg *c, const cl_cfg_node *map, const char *key, int required, cl_unit u,
                          double *out);
/** Parse a scalar node with a unit (for sequences of values). */
cl_status cl_cfg_node_unit(const cl_cfg *c, const cl_cfg_node *n, cl_unit u, double *out);

/** @brief Report every map key never read (one line each); CL_ERR_CONFIG if any. */
cl_status cl_cfg_check_unused(const cl_cfg *c);

#endif
