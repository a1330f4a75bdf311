/* Unit-aware values: parsing "20Mbit/s" / "1.5 s" / "50%" into SI base units and
 * formatting them back in canonical, round-tripping form. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

/* value = number * mul / div (division keeps "5ms" == 0.005 exactly as strtod would). */
typedef struct unit_def {
  const char *suffix;
  double mul, div;
} unit_def;

static const unit_def k_duration[] = {{"s", 1, 1},      {"sec", 1, 1},     {"ms", 1, 1e3},   {"us", 1, 1e6},
                                      {"\xc2\xb5s", 1, 1e6}, {"ns", 1, 1e9}, {"min", 60, 1}, {"h", 3600, 1},
                                      {NULL, 0, 0}};
static const unit_def k_bandwidth[] = {
    {"bit/s", 1, 8},        {"bps", 1, 8},          {"b/s", 1, 8},          {"kbit/s", 125, 1},
    {"Kbit/s", 125, 1},     {"kbps", 125, 1},       {"Kbps", 125, 1},       {"kb/s", 125, 1},
    {"Kb/s", 125, 1},       {"Mbit/s", 125e3, 1},   {"Mbps", 125e3, 1},     {"Mb/s", 125e3, 1},
    {"Gbit/s", 125e6, 1},   {"Gbps", 125e6, 1},     {"Gb/s", 125e6, 1},     {"Tbit/s", 125e9, 1},
    {"Tbps", 125e9, 1},     {"Tb/s", 125e9, 1},     {"B/s", 1, 1},          {"kB/s", 1e3, 1},
    {"KB/s", 1e3, 1},       {"MB/s", 1e6, 1},       {"GB/s", 1e9, 1},       {"KiB/s", 1024, 1},
    {"MiB/s", 1048576, 1},  {"GiB/s", 1073741824, 1}, {NULL, 0, 0}};
static const unit_def k_size[] = {{"B", 1, 1},
                                  {"kB", 1e3, 1},
                                  {"KB", 1e3, 1},
                                  {"MB", 1e6, 1},
                                  {"GB", 1e9, 1},
                                  {"TB", 1e12, 1},
                                  {"KiB", 1024, 1},
                                  {"MiB", 1048576, 1},
                                  {"GiB", 1073741824, 1},
                                  {"TiB", 1099511627776.0, 1},
                                  {NULL, 0, 0}};
static const unit_def k_fraction[] = {{"%", 1, 100}, {NULL, 0, 0}};
static const unit_def k_power[] = {{"W", 1, 1},          {"mW", 1, 1e3}, {"uW", 1, 1e6},
                                   {"\xc2\xb5W", 1, 1e6}, {"kW", 1e3, 1}, {NULL, 0, 0}};
static const unit_def k_energy[] = {{"J/B", 1, 1},   {"mJ/B", 1, 1e3},         {"uJ/B", 1, 1e6},
                                    {"\xc2\xb5J/B", 1, 1e6}, {"nJ/B", 1, 1e9}, {"pJ/B", 1, 1e12},
                                    {NULL, 0, 0}};

typedef struct family {
  const char *name, *example;
  const unit_def *units;
  int bare_ok; /* a bare number is in base units */
  const char *canon[6]; /* canonical suffixes, largest first */
} family;

static const family k_families[CL_CONFIG_UNIT_COUNT] = {
    [CL_CONFIG_DURATION] = {"a duration", "10ms", k_duration, 1, {"s", "ms", "us", "ns", NULL}},
    [CL_CONFIG_BANDWIDTH] = {"a bandwidth", "20Mbit/s", k_bandwidth, 0,
                             {"Gbit/s", "Mbit/s", "kbit/s", "bit/s", NULL}},
    [CL_CONFIG_SIZE] = {"a size", "512MiB", k_size, 1, {"B", NULL}},
    [CL_CONFIG_FRACTION] = {"a fraction", "50%", k_fraction, 1, {"%", NULL}},
    [CL_CONFIG_POWER] = {"a power", "5W", k_power, 1, {"W", "mW", "uW", NULL}},
    [CL_CONFIG_ENERGY_PER_BYTE] = {"an energy per byte", "1.2uJ/B", k_energy, 1,
                                   {"J/B", "mJ/B", "uJ/B", "nJ/B", "pJ/B", NULL}},
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

static const unit_def *find_unit(const family *f, const char *suffix) {
  for (const unit_def *d = f->units; d->suffix; d++)
    if (!strcmp(d->suffix, suffix)) return d;
  return NULL;
}

cl_status cl_config_parse_unit(cl_config_unit u, const char *text, double *out) {
  if ((unsigned)u >= CL_CONFIG_UNIT_COUNT || !text) return CL_ERR_CONFIG;
  const family *f = &k_families[u];
  double x;
  const char *end;
  if (cl__config_number_prefix(text, &x, &end)) return CL_ERR_CONFIG;
  while (*end == ' ') end++;
  double v;
  if (!*end) {
    if (!f->bare_ok) return CL_ERR_CONFIG;
    v = x;
  } else {
    const unit_def *d = find_unit(f, end);
    if (!d) return CL_ERR_CONFIG;
    v = x * d->mul / d->div;
  }
  if (!isfinite(v)) return CL_ERR_CONFIG;
  *out = v;
  return CL_OK;
}

/* Shortest "%.Ng<suffix>" that parses back to exactly v; 0 if none. */
static int try_format(cl_config_unit u, double v, const unit_def *d, char *buf, int cap) {
  double x = v / d->mul * d->div;
  /* start at the number of integer digits so 20 prints as "20", not "2e+01" */
  int first = 1;
  if (fabs(x) >= 1) first = (int)floor(log10(fabs(x))) + 1;
  if (first > 17) first = 17;
  for (int prec = first; prec <= 17; prec++) {
    snprintf(buf, (size_t)cap, "%.*g%s", prec, x, d->suffix);
    double back;
    if (cl_config_parse_unit(u, buf, &back) == CL_OK && back == v) return 1;
  }
  return 0;
}

char *cl_config_format_unit(cl_config_unit u, double v, char *buf, int cap) {
  if (!buf || cap <= 0) return buf;
  if ((unsigned)u >= CL_CONFIG_UNIT_COUNT || !isfinite(v)) {
    snprintf(buf, (size_t)cap, "%.17g", v);
    return buf;
  }
  const family *f = &k_families[u];
  const double a = fabs(v);
  if (u == CL_CONFIG_SIZE && a == floor(a) && a < 9.0e15) {
    /* Exact binary multiples read best as KiB/MiB/GiB; decimal ones as kB/MB/GB. */
    static const char *const bin[] = {"TiB", "GiB", "MiB", "KiB"}, *const dec[] = {"TB", "GB", "MB", "kB"};
    for (int i = 0; i < 4 && a > 0; i++) {
      const unit_def *d = find_unit(f, bin[i]);
      if (a >= d->mul && fmod(a, d->mul) == 0) {
        snprintf(buf, (size_t)cap, "%.0f%s", v / d->mul, d->suffix);
        return buf;
      }
    }
    for (int i = 0; i < 4 && a > 0; i++) {
      const unit_def *d = find_unit(f, dec[i]);
      if (a >= d->mul && fmod(a, d->mul) == 0) {
        snprintf(buf, (size_t)cap, "%.0f%s", v / d->mul, d->suffix);
        return buf;
      }
    }
    snprintf(buf, (size_t)cap, "%.0fB", v);
    return buf;
  }
  int n_canon = 0;
  while (f->canon[n_canon]) n_canon++;
  int pick = n_canon - 1; /* smallest unit unless a larger one gives a value >= 1 */
  if (a == 0) pick = u == CL_CONFIG_BANDWIDTH ? 1 : 0;
  for (int i = 0; i < n_canon && a > 0; i++) {
    const unit_def *d = find_unit(f, f->canon[i]);
    if (a / d->mul * d->div >= 1) {
      pick = i;
      break;
    }
  }
  if (try_format(u, v, find_unit(f, f->canon[pick]), buf, cap)) return buf;
  /* Fall back to the base unit, which always round-trips at 17 digits. */
  const unit_def *base = u == CL_CONFIG_BANDWIDTH ? find_unit(f, "B/s") : find_unit(f, f->canon[0]);
  if (u == CL_CONFIG_FRACTION || !try_format(u, v, base, buf, cap)) snprintf(buf, (size_t)cap, "%.17g", v);
  return buf;
}
