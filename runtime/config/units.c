/* The one unit grammar of cleave (testbeds, experiments, CoEdge devices files, command
 * lines): "20Mbit/s" / "1.5 s" / "50%" -> SI base units, the physical range of every
 * quantity, and canonical round-tripping text. docs/config.md lists the table; adding a
 * unit is one row below, adding a quantity one k_families entry (and its enum value). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_internal.h"

/* value = number * mul / div (division keeps "5ms" == 0.005 exactly as strtod would).
 * icase: also matched ignoring case (only the "bit" spellings: "MBps" or "mb/s" stay errors). */
typedef struct unit_def {
  const char *suffix;
  double mul, div;
  int icase;
} unit_def;

#define MU "\xc2\xb5" /* µ */
static const unit_def k_duration[] = {{"s", 1, 1, 0},   {"sec", 1, 1, 0},    {"ms", 1, 1e3, 0}, {"us", 1, 1e6, 0},
                                      {MU "s", 1, 1e6, 0}, {"ns", 1, 1e9, 0}, {"min", 60, 1, 0}, {"h", 3600, 1, 0},
                                      {NULL, 0, 0, 0}};
static const unit_def k_bandwidth[] = {
    {"bit/s", 1, 8, 1},       {"bps", 1, 8, 0},          {"b/s", 1, 8, 0},          {"kbit/s", 125, 1, 1},
    {"kbps", 125, 1, 0},      {"kb/s", 125, 1, 0},       {"Kb/s", 125, 1, 0},       {"Mbit/s", 125e3, 1, 1},
    {"Mbps", 125e3, 1, 0},    {"Mb/s", 125e3, 1, 0},     {"Gbit/s", 125e6, 1, 1},   {"Gbps", 125e6, 1, 0},
    {"Gb/s", 125e6, 1, 0},    {"Tbit/s", 125e9, 1, 1},   {"Tbps", 125e9, 1, 0},     {"Tb/s", 125e9, 1, 0},
    {"Kbps", 125, 1, 0},      {"mbps", 125e3, 1, 0},     {"gbps", 125e6, 1, 0},     {"Kibit/s", 128, 1, 0},   {"Mibit/s", 131072, 1, 0}, {"Gibit/s", 134217728, 1, 0}, {"B/s", 1, 1, 0},
    {"kB/s", 1e3, 1, 0},      {"KB/s", 1e3, 1, 0},       {"MB/s", 1e6, 1, 0},       {"GB/s", 1e9, 1, 0},
    {"TB/s", 1e12, 1, 0},     {"KiB/s", 1024, 1, 0},     {"MiB/s", 1048576, 1, 0},  {"GiB/s", 1073741824, 1, 0},
    {"TiB/s", 1099511627776.0, 1, 0}, {NULL, 0, 0, 0}};
static const unit_def k_size[] = {{"B", 1, 1, 0},         {"kB", 1e3, 1, 0},        {"KB", 1e3, 1, 0},
                                  {"MB", 1e6, 1, 0},      {"GB", 1e9, 1, 0},        {"TB", 1e12, 1, 0},
                                  {"KiB", 1024, 1, 0},    {"MiB", 1048576, 1, 0},   {"GiB", 1073741824, 1, 0},
                                  {"TiB", 1099511627776.0, 1, 0}, {NULL, 0, 0, 0}};
static const unit_def k_fraction[] = {{"%", 1, 100, 0}, {NULL, 0, 0, 0}};
static const unit_def k_power[] = {{"W", 1, 1, 0},       {"mW", 1, 1e3, 0}, {"uW", 1, 1e6, 0},
                                   {MU "W", 1, 1e6, 0}, {"kW", 1e3, 1, 0}, {NULL, 0, 0, 0}};
static const unit_def k_energy_per_byte[] = {{"J/B", 1, 1, 0},      {"mJ/B", 1, 1e3, 0},  {"uJ/B", 1, 1e6, 0},
                                             {MU "J/B", 1, 1e6, 0}, {"nJ/B", 1, 1e9, 0},  {"pJ/B", 1, 1e12, 0},
                                             {NULL, 0, 0, 0}};
static const unit_def k_energy[] = {{"J", 1, 1, 0},     {"kJ", 1e3, 1, 0},   {"mJ", 1, 1e3, 0},     {"uJ", 1, 1e6, 0},
                                    {MU "J", 1, 1e6, 0}, {"Wh", 3600, 1, 0}, {"mWh", 3.6, 1, 0},    {"kWh", 3.6e6, 1, 0},
                                    {NULL, 0, 0, 0}};
static const unit_def k_frequency[] = {
    {"Hz", 1, 1, 0}, {"kHz", 1e3, 1, 0}, {"MHz", 1e6, 1, 0}, {"GHz", 1e9, 1, 0}, {NULL, 0, 0, 0}};
static const unit_def k_factor[] = {{NULL, 0, 0, 0}};

typedef struct family {
  const char *name, *example;
  const unit_def *units;
  int bare_ok;          /* a bare number is in base units (else only a bare 0) */
  double lo, hi;        /* physical range, SI base units, inclusive */
  double tiny;          /* smallest magnitude other than 0 (0: no such limit) */
  const char *canon[6]; /* canonical suffixes, largest first ({NULL}: a bare number) */
} family;

/* Ranges: what a testbed or device can physically be (docs/config.md, "Ranges"). They keep
 * virtual time finite: the slowest transfer (1 bit/s) of the largest tensor is ~1e10 s. */
static const family k_families[CL_CONFIG_UNIT_COUNT] = {
    [CL_CONFIG_DURATION] = {"a duration", "10ms", k_duration, 1, 0, 3600, 0, {"s", "ms", "us", "ns", NULL}},
    [CL_CONFIG_BANDWIDTH] = {"a bandwidth", "20Mbit/s", k_bandwidth, 0, 0, 1.25e12, 0.125,
                             {"Tbit/s", "Gbit/s", "Mbit/s", "kbit/s", "bit/s", NULL}},
    [CL_CONFIG_SIZE] = {"a size", "512MiB", k_size, 1, 0, 1125899906842624.0, 0, {"B", NULL}},
    [CL_CONFIG_FRACTION] = {"a fraction", "50%", k_fraction, 1, 0, 1, 0, {"%", NULL}},
    [CL_CONFIG_POWER] = {"a power", "5W", k_power, 1, 0, 1e5, 0, {"kW", "W", "mW", "uW", NULL}},
    [CL_CONFIG_ENERGY_PER_BYTE] = {"an energy per byte", "1.2uJ/B", k_energy_per_byte, 1, 0, 1e-3, 0,
                                   {"J/B", "mJ/B", "uJ/B", "nJ/B", "pJ/B", NULL}},
    [CL_CONFIG_ENERGY] = {"an energy", "2.5J", k_energy, 1, 0, 1e9, 0, {"kJ", "J", "mJ", "uJ", NULL}},
    [CL_CONFIG_FREQUENCY] = {"a frequency", "1.5GHz", k_frequency, 1, 0, 1e12, 0, {"GHz", "MHz", "kHz", "Hz", NULL}},
    [CL_CONFIG_FACTOR] = {"a speed factor", "2.5", k_factor, 1, 0, 1e9, 0, {NULL}},
};

int cl__config_number_prefix(const char *s, double *out, const char **endp) {
  const char *p = s;
  if (*p == '+' || *p == '-') p++;
  if (!((*p >= '0' && *p <= '9') || (*p == '.' && p[1] >= '0' && p[1] <= '9'))) return -1;
  if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) return -1;
  errno = 0;
  char *end;
  double v = strtod(s, &end);
  if (end == s || errno == ERANGE || !isfinite(v)) return -1;
  *out = v;
  *endp = end;
  return 0;
}

const char *cl_config_unit_name(cl_config_unit u) {
  return (unsigned)u < CL_CONFIG_UNIT_COUNT ? k_families[u].name : "a value";
}

const char *cl_config_unit_example(cl_config_unit u) {
  return (unsigned)u < CL_CONFIG_UNIT_COUNT ? k_families[u].example : "";
}

void cl_config_unit_range(cl_config_unit u, double *lo, double *hi) {
  const family *f = &k_families[(unsigned)u < CL_CONFIG_UNIT_COUNT ? u : 0];
  *lo = f->lo;
  *hi = f->hi;
}

static const unit_def *find_unit(const family *f, const char *suffix) {
  for (const unit_def *d = f->units; d->suffix; d++)
    if (!strcmp(d->suffix, suffix)) return d;
  for (const unit_def *d = f->units; d->suffix; d++)
    if (d->icase && !strcasecmp(d->suffix, suffix)) return d;
  return NULL;
}

cl_status cl_config_parse_unit(cl_config_unit u, const char *text, double *out) {
  if ((unsigned)u >= CL_CONFIG_UNIT_COUNT || !text) return CL_ERR_CONFIG;
  const family *f = &k_families[u];
  while (*text == ' ') text++;
  double x;
  const char *end;
  if (cl__config_number_prefix(text, &x, &end)) return CL_ERR_CONFIG;
  while (*end == ' ') end++;
  size_t n = strlen(end);
  while (n && end[n - 1] == ' ') n--;
  char suffix[16];
  if (n >= sizeof suffix) return CL_ERR_CONFIG;
  memcpy(suffix, end, n);
  suffix[n] = '\0';
  double v;
  if (!n) {
    if (!f->bare_ok && x != 0) return CL_ERR_CONFIG; /* 0 needs no unit */
    v = x;
  } else {
    const unit_def *d = find_unit(f, suffix);
    if (!d) return CL_ERR_CONFIG;
    v = x * d->mul / d->div;
  }
  if (!isfinite(v)) return CL_ERR_CONFIG;
  *out = v;
  return CL_OK;
}

cl_status cl__config_unit_value(cl_config_unit u, const char *text, double lo, double hi, double *out, char *why,
                                size_t cap) {
  double v;
  if (cl_config_parse_unit(u, text, &v) != CL_OK) {
    const char *end = "";
    int bare = !cl__config_number_prefix(text, &v, &end) && !*end;
    snprintf(why, cap, "cannot parse '%s' as %s (e.g. %s)%s", text, cl_config_unit_name(u), cl_config_unit_example(u),
             bare ? ": a bare number is ambiguous (bits or bytes?), give a unit" : "");
    return CL_ERR_CONFIG;
  }
  const family *f = &k_families[u];
  if (lo < f->lo) lo = f->lo;
  if (hi > f->hi) hi = f->hi;
  int tiny = v != 0 && fabs(v) < f->tiny;
  if (v < lo || v > hi || tiny) {
    char a[40], b[40], t[40];
    cl_config_format_unit(u, lo, a, sizeof a);
    cl_config_format_unit(u, hi, b, sizeof b);
    if (v < 0 && lo >= 0)
      snprintf(why, cap, "'%s': %s must not be negative (range [%s, %s])", text, cl_config_unit_name(u), a, b);
    else if (f->tiny > 0 && lo <= 0)
      snprintf(why, cap, "'%s' is out of range for %s: 0 or [%s, %s]", text, cl_config_unit_name(u),
               cl_config_format_unit(u, f->tiny, t, sizeof t), b);
    else
      snprintf(why, cap, "'%s' is out of range for %s: [%s, %s]", text, cl_config_unit_name(u), a, b);
    return CL_ERR_CONFIG;
  }
  *out = v;
  return CL_OK;
}

/* Shortest "%.Ng<suffix>" that parses back to exactly v; 0 if none. */
static int try_format(cl_config_unit u, double v, const char *suffix, double mul, double div, char *buf, int cap) {
  double x = v / mul * div;
  /* start at the number of integer digits so 20 prints as "20", not "2e+01" */
  int first = 1;
  if (fabs(x) >= 1) first = (int)floor(log10(fabs(x))) + 1;
  if (first > 17) first = 17;
  for (int prec = first; prec <= 17; prec++) {
    snprintf(buf, (size_t)cap, "%.*g%s", prec, x, suffix);
    double back;
    if (cl_config_parse_unit(u, buf, &back) == CL_OK && back == v) return 1;
  }
  return 0;
}

static char *format_size(const family *f, double v, char *buf, int cap) {
  /* Exact binary multiples read best as KiB/MiB/GiB; decimal ones as kB/MB/GB. */
  static const char *const order[] = {"TiB", "GiB", "MiB", "KiB", "TB", "GB", "MB", "kB"};
  for (int i = 0; i < 8 && v > 0; i++) {
    const unit_def *d = find_unit(f, order[i]);
    if (v >= d->mul && fmod(v, d->mul) == 0) {
      snprintf(buf, (size_t)cap, "%.0f%s", v / d->mul, d->suffix);
      return buf;
    }
  }
  snprintf(buf, (size_t)cap, "%.0fB", v);
  return buf;
}

char *cl_config_format_unit(cl_config_unit u, double v, char *buf, int cap) {
  if (!buf || cap <= 0) return buf;
  if ((unsigned)u >= CL_CONFIG_UNIT_COUNT || !isfinite(v)) {
    snprintf(buf, (size_t)cap, "%.17g", v);
    return buf;
  }
  const family *f = &k_families[u];
  const double a = fabs(v);
  if (u == CL_CONFIG_SIZE && a == floor(a) && a < 9.0e15 && v >= 0) return format_size(f, v, buf, cap);
  int n_canon = 0;
  while (f->canon[n_canon]) n_canon++;
  if (n_canon == 0) { /* bare numbers only */
    if (!try_format(u, v, "", 1, 1, buf, cap)) snprintf(buf, (size_t)cap, "%.17g", v);
    return buf;
  }
  int pick = a == 0 ? 0 : n_canon - 1; /* smallest unit unless a larger one gives a value >= 1 */
  for (int i = 0; i < n_canon && a == 0; i++) { /* zero: in the base unit (bandwidth: Mbit/s) */
    const unit_def *d = find_unit(f, f->canon[i]);
    if (u == CL_CONFIG_BANDWIDTH ? d->mul == 125e3 : d->mul == d->div) pick = i;
  }
  for (int i = 0; i < n_canon && a > 0; i++) {
    const unit_def *d = find_unit(f, f->canon[i]);
    if (a / d->mul * d->div >= 1) {
      pick = i;
      break;
    }
  }
  const unit_def *d = find_unit(f, f->canon[pick]);
  if (try_format(u, v, d->suffix, d->mul, d->div, buf, cap)) return buf;
  /* Fall back to the base unit (a bare fraction), which round-trips at 17 digits. */
  for (d = f->units; d->suffix && !(d->mul == 1 && d->div == 1);) d++;
  if (!try_format(u, v, d->suffix ? d->suffix : "", 1, 1, buf, cap)) snprintf(buf, (size_t)cap, "%.17g", v);
  return buf;
}
