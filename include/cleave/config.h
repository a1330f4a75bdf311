/** @file config.h
 *  @brief Generic YAML configuration layer (libyaml): a tree of maps, sequences and
 *  scalars where every node remembers its file, line and column; typed getters
 *  (required and optional-with-default) including unit-aware values; unknown-key
 *  reports; and a YAML writer for the fully resolved config stored in outputs.
 *
 *  Errors are logged as ONE line where they are found and returned as CL_ERR_CONFIG:
 *    `FILE:LINE:COL: field 'links[1].bandwidth': cannot parse '20 Mbits' as a bandwidth (e.g. 20Mbit/s)`
 *  Every map lookup through this API marks the key as used (and records it as a known
 *  key of that map); cl_config_check_unused() then reports every other key:
 *    `FILE:LINE: unknown key 'foo' in 'nodes[2]' (expected one of: name, tier, ...)`
 *
 *  Units: ONE grammar for every file cleave reads (runtime/config/units.c; docs/config.md
 *  has the table, the ranges and where to add a unit). Values are stored in SI base units:
 *  - duration: s, sec, ms, us (also µs), ns, min, h; a bare number is seconds.
 *  - bandwidth: bit/s, kbit/s, Mbit/s, Gbit/s, Tbit/s (also bps, kbps, Mbps, Mb/s, Kbit/s,
 *    ..., case-insensitive for the "bit"/"bps" forms), Kibit/s, Mibit/s, Gibit/s, and B/s,
 *    kB/s, MB/s, GB/s, TB/s, KiB/s, MiB/s, GiB/s, TiB/s; stored as BYTES/s, so
 *    1 Mbit/s = 125000 B/s. A unit is required: only a bare 0 is allowed (bits or bytes?).
 *  - size: B, kB = KB = 1000 B, MB, GB, TB and KiB, MiB, GiB, TiB; a bare number is bytes.
 *  - fraction: "50%" or a bare number in [0, 1] (0.5); stored as 0.5.
 *  - power: W, mW, uW, kW; energy: J, kJ, mJ, uJ, Wh, mWh, kWh; energy per byte: J/B,
 *    mJ/B, uJ/B, nJ/B, pJ/B; frequency: Hz, kHz, MHz, GHz; a bare number is W, J, J/B, Hz.
 *  - speed factor: a bare number.
 *  Every quantity has a physical range (cl_config_unit_range: e.g. durations [0, 1h],
 *  bandwidths 0 or [1bit/s, 10Tbit/s]) that the unit getters enforce; nan, inf and
 *  numbers that overflow (1e999) never parse.
 *
 *  Ownership: a cl_config owns its whole tree and all strings; node pointers and
 *  strings returned by getters stay valid until cl_config_destroy().
 */
#ifndef CLEAVE_CONFIG_H
#define CLEAVE_CONFIG_H

#include <stdint.h>

#include "cleave/status.h"

typedef struct cl_config cl_config;
typedef struct cl_config_node cl_config_node;

typedef enum cl_config_kind {
  CL_CONFIG_SCALAR = 0,
  CL_CONFIG_SEQ,
  CL_CONFIG_MAP
} cl_config_kind;

typedef enum cl_config_unit {
  CL_CONFIG_DURATION = 0,   /**< seconds */
  CL_CONFIG_BANDWIDTH,      /**< bytes per second */
  CL_CONFIG_SIZE,           /**< bytes */
  CL_CONFIG_FRACTION,       /**< 0..1 */
  CL_CONFIG_POWER,          /**< watts */
  CL_CONFIG_ENERGY_PER_BYTE, /**< joules per byte */
  CL_CONFIG_ENERGY,         /**< joules */
  CL_CONFIG_FREQUENCY,      /**< hertz */
  CL_CONFIG_FACTOR,         /**< dimensionless (speed factors) */
  CL_CONFIG_UNIT_COUNT
} cl_config_unit;

/* ---- documents ---------------------------------------------------------------- */

/** @brief Parse the YAML file @p path. Syntax errors, duplicate keys, several documents:
 *  one error line with file:line:col, CL_ERR_CONFIG. Unreadable file: CL_ERR_IO.
 *  An empty file gives a config whose root is NULL. Caller owns *out. */
cl_status cl_config_load(const char *path, cl_config **out);
/** @brief Parse YAML @p text; @p name is the "file" in messages (e.g. "<embedded demo>"). */
cl_status cl_config_load_string(const char *name, const char *text, cl_config **out);
/** @brief Free the tree. NULL-safe. */
void cl_config_destroy(cl_config *c);

/** Display name (the path or the name given to cl_config_load_string). */
const char *cl_config_name(const cl_config *c);
/** Root node, or NULL for an empty document. */
cl_config_node *cl_config_root(const cl_config *c);

/* ---- nodes ----------------------------------------------------------------------- */

cl_config_kind cl_config_kind_of(const cl_config_node *n);
/** Printable kind: "a scalar", "a sequence", "a map". */
const char *cl_config_kind_name(cl_config_kind k);
int cl_config_line(const cl_config_node *n);   /**< 1-based */
int cl_config_column(const cl_config_node *n); /**< 1-based */
/** Display name of the file the node comes from. */
const char *cl_config_file(const cl_config_node *n);
/** Field path of the node, e.g. "links[1].bandwidth" ("" for the root). */
const char *cl_config_path(const cl_config_node *n);
/** Scalar text (NULL for maps and sequences). Null scalars (`~`, `null`, empty) give "". */
const char *cl_config_scalar(const cl_config_node *n);
/** 1 for a null scalar (`key:` with no value, `~`, `null`). */
int cl_config_is_null(const cl_config_node *n);
/** Number of elements of a sequence or entries of a map (0 for scalars / NULL). */
int cl_config_len(const cl_config_node *n);
/** Element @p i of a sequence (NULL if out of range or not a sequence). */
cl_config_node *cl_config_at(const cl_config_node *seq, int i);
/** Entry @p i of a map: value node, key text via *key (does not mark the key used). */
cl_config_node *cl_config_entry(const cl_config_node *map, int i, const char **key);
/** @brief Look up @p key in @p map, mark it used and record it as known. NULL if absent
 *  (or if @p map is not a map; the caller validates kinds with cl_config_expect). */
cl_config_node *cl_config_find(cl_config_node *map, const char *key);
/** @brief Mark every key of the subtree @p n used, for a subtree that another reader
 *  validates (e.g. an experiment's testbed plan, checked when the point's testbed loads). */
void cl_config_mark_used(cl_config_node *n);
/** @brief Record @p key as a known (allowed) key of @p map without reading it, so it is
 *  listed in "expected one of" messages. */
void cl_config_allow(cl_config_node *map, const char *key);

/** @brief Log "FILE:LINE:COL: field 'PATH': <message>" and return CL_ERR_CONFIG. */
cl_status cl_config_error(const cl_config_node *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** @brief CL_OK if @p n has kind @p kind, else an error naming the field and both kinds. */
cl_status cl_config_expect(const cl_config_node *n, cl_config_kind kind);

/* ---- typed getters ------------------------------------------------------------------
 * cl_config_get_X(map, key, ..., out): the key is required (missing key -> error that
 * names the map and, if a similar unknown key exists, suggests it).
 * cl_config_opt_X(map, key, ..., dflt, out): absent or null -> *out = dflt.
 * All mark the key used. @p map must be a map (else an error). */

cl_status cl_config_get_str(cl_config_node *map, const char *key, const char **out);
cl_status cl_config_opt_str(cl_config_node *map, const char *key, const char *dflt, const char **out);
/** Integer in [lo, hi] (decimal; also 0x hex). */
cl_status cl_config_get_int(cl_config_node *map, const char *key, int64_t lo, int64_t hi, int64_t *out);
cl_status cl_config_opt_int(cl_config_node *map, const char *key, int64_t lo, int64_t hi, int64_t dflt,
                            int64_t *out);
/** Unsigned 64-bit integer (seeds). */
cl_status cl_config_get_u64(cl_config_node *map, const char *key, uint64_t *out);
cl_status cl_config_opt_u64(cl_config_node *map, const char *key, uint64_t dflt, uint64_t *out);
/** Finite number in [lo, hi]. */
cl_status cl_config_get_double(cl_config_node *map, const char *key, double lo, double hi, double *out);
cl_status cl_config_opt_double(cl_config_node *map, const char *key, double lo, double hi, double dflt,
                               double *out);
/** true/false, yes/no, on/off (any case; unquoted or quoted). */
cl_status cl_config_get_bool(cl_config_node *map, const char *key, int *out);
cl_status cl_config_opt_bool(cl_config_node *map, const char *key, int dflt, int *out);
/** One of @p choices (NULL-terminated, exact match); *out = its index. */
cl_status cl_config_get_enum(cl_config_node *map, const char *key, const char *const *choices, int *out);
cl_status cl_config_opt_enum(cl_config_node *map, const char *key, const char *const *choices, int dflt,
                             int *out);
/** Unit-aware value in SI base units (see the file comment), within the quantity's range. */
cl_status cl_config_get_unit(cl_config_node *map, const char *key, cl_config_unit u, double *out);
cl_status cl_config_opt_unit(cl_config_node *map, const char *key, cl_config_unit u, double dflt, double *out);
/** As cl_config_get_unit, within [lo, hi] intersected with the quantity's range. */
cl_status cl_config_get_unit_in(cl_config_node *map, const char *key, cl_config_unit u, double lo, double hi,
                                double *out);

/* Node-level conversions (for sequence elements); errors name the node's field. */
cl_status cl_config_as_str(const cl_config_node *n, const char **out);
cl_status cl_config_as_int(const cl_config_node *n, int64_t lo, int64_t hi, int64_t *out);
cl_status cl_config_as_double(const cl_config_node *n, double lo, double hi, double *out);
cl_status cl_config_as_bool(const cl_config_node *n, int *out);
cl_status cl_config_as_enum(const cl_config_node *n, const char *const *choices, int *out);
cl_status cl_config_as_unit(const cl_config_node *n, cl_config_unit u, double *out);
cl_status cl_config_as_unit_in(const cl_config_node *n, cl_config_unit u, double lo, double hi, double *out);

/** @brief Report every map key that no getter read, one line each (see file comment),
 *  in document order. CL_ERR_CONFIG if there is any, else CL_OK. */
cl_status cl_config_check_unused(const cl_config *c);

/* ---- units --------------------------------------------------------------------------- */

/** @brief Parse @p text as a value of unit @p u into SI base units. No logging:
 *  CL_ERR_CONFIG on any syntax error (the caller reports it with context). Accepts an
 *  optional space between number and unit. Negative numbers parse (callers reject). */
cl_status cl_config_parse_unit(cl_config_unit u, const char *text, double *out);
/** @brief Parse @p text as a value of unit @p u within [lo, hi] (intersected with the
 *  quantity's range) for callers without a config node (command-line options). On error
 *  logs "@p what: <reason>" and returns CL_ERR_CONFIG. */
cl_status cl_config_parse_unit_in(cl_config_unit u, const char *text, double lo, double hi, const char *what,
                                  double *out);
/** Physical range [*lo, *hi] of quantity @p u in SI base units (docs/config.md, "Ranges"). */
void cl_config_unit_range(cl_config_unit u, double *lo, double *hi);
/** Unit family name for messages: "a duration", "a bandwidth", ... */
const char *cl_config_unit_name(cl_config_unit u);
/** Example value for messages: "10ms", "20Mbit/s", ... */
const char *cl_config_unit_example(cl_config_unit u);
/** @brief Canonical text of @p v (SI base units) with the most readable unit, e.g.
 *  2500000 B/s -> "20Mbit/s", 0.005 s -> "5ms", 0.5 -> "50%". The text parses back to
 *  @p v (17 significant digits at most). Returns @p buf. */
char *cl_config_format_unit(cl_config_unit u, double v, char *buf, int cap);

/* ---- YAML writer: the one YAML emitter of cleave ------------------------------------
 * Resolved configs (provenance, --emit-config), emitted testbeds and experiment points.
 * Block style by default: `key: value` lines, a collection under a key indented by two
 * (`nodes:` then `  - item`); flow collections ({a: 1}, [x, y]) on one line. Strings are
 * double-quoted exactly when YAML would read them otherwise (numbers, booleans, null,
 * indicators, `:`, `#`, `,`, brackets, control characters), so every text loads back
 * through cl_config_load_string() to the same values. Misuse (a value without a key, an
 * unbalanced end) is reported by cl_config_writer_finish() as CL_ERR_INVALID. */

typedef struct cl_config_writer cl_config_writer;

/** @brief Start a YAML document. Caller owns *out (finish or destroy it). */
cl_status cl_config_writer_create(cl_config_writer **out);
/** @brief Free without finishing. NULL-safe. */
void cl_config_writer_destroy(cl_config_writer *w);
/** @brief Begin a map / sequence; @p flow = 1 writes it on one line ({a: 1, b: 2}).
 *  Inside a flow collection everything is flow. */
void cl_config_writer_map(cl_config_writer *w, int flow);
void cl_config_writer_seq(cl_config_writer *w, int flow);
/** @brief End the innermost open map / sequence. */
void cl_config_writer_end(cl_config_writer *w);
/** @brief Write a map key (then exactly one value or collection). */
void cl_config_writer_key(cl_config_writer *w, const char *key);
/** @brief Comment lines `# ...` (one per line of @p text) before the next item of a block
 *  collection or before the document's value. */
void cl_config_writer_comment(cl_config_writer *w, const char *text);
/** @brief Scalars: strings are quoted when YAML would read them otherwise. */
void cl_config_writer_str(cl_config_writer *w, const char *s);
void cl_config_writer_int(cl_config_writer *w, int64_t v);
void cl_config_writer_u64(cl_config_writer *w, uint64_t v);
/** Shortest text that reads back as exactly @p v (.inf/.nan for non-finite values). */
void cl_config_writer_double(cl_config_writer *w, double v);
void cl_config_writer_bool(cl_config_writer *w, int v);
/** Canonical unit text (cl_config_format_unit), e.g. 20Mbit/s. */
void cl_config_writer_unit(cl_config_writer *w, cl_config_unit u, double v);
void cl_config_writer_null(cl_config_writer *w);
/** @brief `key: value` in one call (a key followed by the scalar). */
void cl_config_writer_key_str(cl_config_writer *w, const char *key, const char *s);
void cl_config_writer_key_int(cl_config_writer *w, const char *key, int64_t v);
void cl_config_writer_key_u64(cl_config_writer *w, const char *key, uint64_t v);
void cl_config_writer_key_double(cl_config_writer *w, const char *key, double v);
void cl_config_writer_key_bool(cl_config_writer *w, const char *key, int v);
void cl_config_writer_key_unit(cl_config_writer *w, const char *key, cl_config_unit u, double v);
/** @brief Close the document; *text (caller frees) is the YAML. Frees the writer in all
 *  cases. Returns the first error seen while writing (CL_ERR_INVALID on misuse). */
cl_status cl_config_writer_finish(cl_config_writer *w, char **text);

/** @brief Canonical YAML of a parsed (sub)tree in document order, scalars as written
 *  (quoted when needed). Caller frees *text. A NULL node gives `null`. */
cl_status cl_config_dump(const cl_config_node *n, char **text);

/** One edit applied while dumping: the value of @c key in the map whose field path is
 *  @c parent ("" = the document root, "links[1]", "workload") becomes the YAML text
 *  @c value (parsed, then written canonically); a key the map lacks is added at its end. */
typedef struct cl_config_override {
  const char *parent;
  const char *key;
  const char *value;
} cl_config_override;

/** @brief cl_config_dump with @p n_ov overrides, and collections nested @p flow_depth
 *  levels or deeper below @p n written on one line: 0 = all of @p n on one line (the flow
 *  text of a subtree), 2 = a block map of keys whose lists hold flow items. The text
 *  ends with a newline. A value that is not valid YAML: CL_ERR_CONFIG (logged). */
cl_status cl_config_dump_edit(const cl_config_node *n, const cl_config_override *ov, int n_ov, int flow_depth,
                              char **text);

#endif
