/* The one unit grammar and the config layer's other shared parts: every accepted and
 * rejected spelling with its SI value, the physical ranges (FILE:LINE:COL errors naming
 * field and range), canonical formatting, the YAML writer's quoting and layout, dumps with
 * overrides, the cl_cfg view used by experiment files, and CoEdge devices files. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cl_test.h"
#include "cleave/cfg.h"
#include "cleave/coedge.h"
#include "cleave/config.h"
#include "cleave/graph.h"

static char g_last[2048]; /* the last error line */
static void keep_last(const char *line, void *ctx) {
  (void)ctx;
  snprintf(g_last, sizeof g_last, "%s", line);
}

static void check_last(const char *want, int line) {
  cl_test_checks++;
  if (strstr(g_last, want)) return;
  cl_test_failures++;
  fprintf(stderr, "%s:%d: last error lacks \"%s\": \"%s\"\n", __FILE__, line, want, g_last);
}
#define CHECK_LAST_HAS(s) check_last((s), __LINE__)

typedef struct spelling {
  cl_config_unit u;
  const char *text;
  double want; /* SI base units */
} spelling;

#define D CL_CONFIG_DURATION
#define BW CL_CONFIG_BANDWIDTH
#define SZ CL_CONFIG_SIZE
#define FR CL_CONFIG_FRACTION
#define PW CL_CONFIG_POWER
#define EB CL_CONFIG_ENERGY_PER_BYTE
#define EN CL_CONFIG_ENERGY
#define HZ CL_CONFIG_FREQUENCY
#define FA CL_CONFIG_FACTOR

static const spelling k_good[] = {
    /* durations: bare = seconds */
    {D, "2s", 2}, {D, "2sec", 2}, {D, "2ms", 2e-3}, {D, "2us", 2e-6}, {D, "2\xc2\xb5s", 2e-6}, {D, "2ns", 2e-9},
    {D, "2min", 120}, {D, "1h", 3600}, {D, "2", 2}, {D, "1.5 s", 1.5}, {D, "0", 0}, {D, ".5s", 0.5}, {D, "+2s", 2},
    {D, "1.5e-3s", 1.5e-3}, {D, "250us", 250e-6}, {D, "10ms", 0.010},
    /* bandwidths: bits (SI, IEC), bytes (SI, IEC); stored as bytes/s; bare only 0 */
    {BW, "8bit/s", 1}, {BW, "8bps", 1}, {BW, "8b/s", 1}, {BW, "8BIT/S", 1}, {BW, "1kbit/s", 125},
    {BW, "1Kbit/s", 125}, {BW, "1kbps", 125}, {BW, "1Kbps", 125}, {BW, "1kb/s", 125}, {BW, "1Kb/s", 125},
    {BW, "1Mbit/s", 125e3}, {BW, "1mbit/s", 125e3}, {BW, "1Mbps", 125e3}, {BW, "1mbps", 125e3}, {BW, "1Mb/s", 125e3},
    {BW, "1Gbit/s", 125e6}, {BW, "1Gbps", 125e6}, {BW, "1gbps", 125e6}, {BW, "1Gb/s", 125e6}, {BW, "1Tbit/s", 125e9},
    {BW, "1Tbps", 125e9}, {BW, "1Tb/s", 125e9}, {BW, "1Kibit/s", 128}, {BW, "1Mibit/s", 131072},
    {BW, "1Gibit/s", 134217728}, {BW, "1B/s", 1}, {BW, "1kB/s", 1e3}, {BW, "1KB/s", 1e3}, {BW, "1MB/s", 1e6},
    {BW, "1GB/s", 1e9}, {BW, "1TB/s", 1e12}, {BW, "1KiB/s", 1024}, {BW, "1MiB/s", 1048576},
    {BW, "1GiB/s", 1073741824}, {BW, "1TiB/s", 1099511627776.0}, {BW, "0", 0}, {BW, "20 Mbps", 2.5e6},
    {BW, "1.6Mbit/s", 200000}, {BW, "12.5MB/s", 12.5e6},
    /* sizes: bare = bytes */
    {SZ, "1B", 1}, {SZ, "1kB", 1e3}, {SZ, "1KB", 1e3}, {SZ, "1MB", 1e6}, {SZ, "1GB", 1e9}, {SZ, "1TB", 1e12},
    {SZ, "1KiB", 1024}, {SZ, "1MiB", 1048576}, {SZ, "2GiB", 2147483648.0}, {SZ, "1TiB", 1099511627776.0},
    {SZ, "4096", 4096},
    /* fractions: % or a bare number */
    {FR, "50%", 0.5}, {FR, "0.5", 0.5}, {FR, "12.5 %", 0.125}, {FR, "100%", 1}, {FR, "0", 0},
    /* power: bare = W */
    {PW, "5W", 5}, {PW, "500mW", 0.5}, {PW, "5uW", 5e-6}, {PW, "5\xc2\xb5W", 5e-6}, {PW, "2kW", 2000}, {PW, "2.7", 2.7},
    /* energy per byte: bare = J/B */
    {EB, "1J/B", 1}, {EB, "1mJ/B", 1e-3}, {EB, "1.2uJ/B", 1.2e-6}, {EB, "1\xc2\xb5J/B", 1e-6}, {EB, "80nJ/B", 80e-9},
    {EB, "1pJ/B", 1e-12}, {EB, "1e-9", 1e-9},
    /* energy: bare = J */
    {EN, "1J", 1}, {EN, "1kJ", 1e3}, {EN, "1mJ", 1e-3}, {EN, "1uJ", 1e-6}, {EN, "1\xc2\xb5J", 1e-6}, {EN, "1Wh", 3600},
    {EN, "1mWh", 3.6}, {EN, "1kWh", 3.6e6}, {EN, "5", 5},
    /* frequency: bare = Hz */
    {HZ, "1Hz", 1}, {HZ, "1kHz", 1e3}, {HZ, "1MHz", 1e6}, {HZ, "1.5GHz", 1.5e9}, {HZ, "50", 50},
    /* speed factors: bare numbers */
    {FA, "2.5", 2.5}, {FA, "1e6", 1e6}, {FA, "0", 0},
};

static const spelling k_bad[] = {
    {BW, "20", 0},        {BW, "20 Mbits", 0},  {BW, "Mbit/s", 0},   {BW, "20 MBps", 0}, {BW, "1mb/s", 0},
    {BW, "1mB/s", 0},     {BW, "2Mbit/s/s", 0}, {D, "10 m", 0},      {D, "inf", 0},      {D, ".inf", 0},
    {D, "-inf s", 0},     {D, "nan s", 0},      {D, "0x10", 0},      {D, "", 0},         {D, "1.5.2s", 0},
    {D, "1e-999s", 0},    {D, "2 hours", 0},    {D, "1 S", 0},       {SZ, "2GB/s", 0},   {SZ, "1e999", 0},
    {SZ, "1PiB", 0},      {FR, "50 pct", 0},    {PW, "5 J", 0},      {PW, "5V", 0},      {EB, "1uJ", 0},
    {EN, "1J/B", 0},      {HZ, "1THz", 0},      {HZ, "1hz", 0},      {FA, "2x", 0},      {FA, "fast", 0},
};

static void test_spellings(void) {
  for (size_t i = 0; i < sizeof k_good / sizeof k_good[0]; i++) {
    double v = -1;
    cl_status s = cl_config_parse_unit(k_good[i].u, k_good[i].text, &v);
    CL_CHECK_OK(s);
    CL_CHECK_NEAR(v, k_good[i].want, fabs(k_good[i].want) * 1e-12);
    if (s != CL_OK || fabs(v - k_good[i].want) > fabs(k_good[i].want) * 1e-12)
      fprintf(stderr, "  spelling '%s' (%s)\n", k_good[i].text, cl_config_unit_name(k_good[i].u));
  }
  for (size_t i = 0; i < sizeof k_bad / sizeof k_bad[0]; i++) {
    double v;
    cl_status s = cl_config_parse_unit(k_bad[i].u, k_bad[i].text, &v);
    CL_CHECK_INT_EQ(s, CL_ERR_CONFIG);
    if (s != CL_ERR_CONFIG) fprintf(stderr, "  accepted '%s' as %s\n", k_bad[i].text, cl_config_unit_name(k_bad[i].u));
  }
  /* exact values: division keeps "5ms" identical to strtod("0.005") */
  double v;
  CL_CHECK_OK(cl_config_parse_unit(BW, "1Mbit/s", &v));
  CL_CHECK(v == 125000.0);
  CL_CHECK_OK(cl_config_parse_unit(D, "5ms", &v));
  CL_CHECK(v == 0.005);
}

static void test_format(void) {
  static const spelling cases[] = {
      {BW, "20Mbit/s", 2.5e6},  {BW, "500kbit/s", 62500}, {BW, "100Mbit/s", 12.5e6}, {BW, "10Tbit/s", 1.25e12},
      {BW, "0Mbit/s", 0},       {D, "5ms", 0.005},        {D, "1.5s", 1.5},          {D, "0s", 0},
      {SZ, "2GiB", 2147483648.0}, {SZ, "100MB", 1e8},     {SZ, "1234B", 1234},       {FR, "30%", 0.3},
      {PW, "500mW", 0.5},       {PW, "100kW", 1e5},       {PW, "0W", 0},             {EB, "1.2uJ/B", 1.2e-6},
      {EN, "3.6kJ", 3600},      {HZ, "1.5GHz", 1.5e9},    {FA, "2.5", 2.5},
  };
  char buf[64];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    CL_CHECK_STR_EQ(cl_config_format_unit(cases[i].u, cases[i].want, buf, sizeof buf), cases[i].text);
  /* every formatted value parses back exactly (random magnitudes, every quantity) */
  uint64_t st = 12345;
  int exact = 1;
  for (int i = 0; i < 4000; i++) {
    cl_config_unit u = (cl_config_unit)(i % CL_CONFIG_UNIT_COUNT);
    double x = (double)cl_rng_uniform(&st, 0, 1) * pow(10, (double)(int)cl_rng_uniform(&st, -9, 12));
    if (u == FR) x = cl_rng_uniform(&st, 0, 1);
    if (u == SZ) x = floor(x);
    double back = -1;
    cl_config_format_unit(u, x, buf, sizeof buf);
    if (cl_config_parse_unit(u, buf, &back) != CL_OK || back != x) {
      if (exact) fprintf(stderr, "format round trip failed: %.17g -> '%s' -> %.17g\n", x, buf, back);
      exact = 0;
    }
  }
  CL_CHECK(exact);
}

/* Ranges: each reject names file, line, column, field and the range; each bound itself is
 * accepted. */
static void test_ranges(void) {
  static const struct {
    cl_config_unit u;
    const char *value, *want;
  } bad[] = {
      {D, "2h", "r.yaml:1:4: field 'v': '2h' is out of range for a duration: [0s, 3600s]"},
      {D, "-1ms", "field 'v': '-1ms': a duration must not be negative"},
      {BW, "20Tbit/s", "'20Tbit/s' is out of range for a bandwidth: 0 or [1bit/s, 10Tbit/s]"},
      {BW, "0.5bit/s", "'0.5bit/s' is out of range for a bandwidth: 0 or [1bit/s, 10Tbit/s]"},
      {BW, "-1Mbit/s", "a bandwidth must not be negative"},
      {SZ, "2000TiB", "'2000TiB' is out of range for a size: [0B, 1024TiB]"},
      {FR, "150%", "'150%' is out of range for a fraction: [0%, 100%]"},
      {FR, "1.5", "'1.5' is out of range for a fraction"},
      {PW, "200kW", "'200kW' is out of range for a power: [0W, 100kW]"},
      {EB, "2mJ/B", "'2mJ/B' is out of range for an energy per byte: [0J/B, 1mJ/B]"},
      {EN, "2e9J", "'2e9J' is out of range for an energy: [0J, 1000000kJ]"},
      {HZ, "2e12Hz", "is out of range for a frequency: [0Hz, 1000GHz]"},
      {FA, "1e10", "'1e10' is out of range for a speed factor: [0, 1000000000]"},
      {D, "1e999", "cannot parse '1e999' as a duration (e.g. 10ms)"},
      {BW, "20", "cannot parse '20' as a bandwidth (e.g. 20Mbit/s): a bare number is ambiguous"},
  };
  cl_log_set_sink(keep_last, NULL);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char text[96];
    snprintf(text, sizeof text, "v: %s\n", bad[i].value);
    cl_config *c;
    CL_CHECK_OK(cl_config_load_string("r.yaml", text, &c));
    double v;
    g_last[0] = '\0';
    CL_CHECK_INT_EQ(cl_config_get_unit(cl_config_root(c), "v", bad[i].u, &v), CL_ERR_CONFIG);
    CHECK_LAST_HAS(bad[i].want);
    cl_config_destroy(c);
  }
  /* the bounds themselves are in range; a narrower range is the intersection */
  for (int u = 0; u < CL_CONFIG_UNIT_COUNT; u++) {
    double lo, hi, v;
    char b[64], text[96];
    cl_config_unit_range((cl_config_unit)u, &lo, &hi);
    CL_CHECK(lo >= 0 && hi > lo && isfinite(hi));
    for (int k = 0; k < 2; k++) {
      snprintf(text, sizeof text, "v: %s\n", cl_config_format_unit((cl_config_unit)u, k ? hi : lo, b, sizeof b));
      cl_config *c;
      CL_CHECK_OK(cl_config_load_string("b.yaml", text, &c));
      CL_CHECK_OK(cl_config_get_unit(cl_config_root(c), "v", (cl_config_unit)u, &v));
      CL_CHECK(v == (k ? hi : lo));
      cl_config_destroy(c);
    }
  }
  cl_config *c;
  CL_CHECK_OK(cl_config_load_string("n.yaml", "v: 0\nw: 5ms\nd: 1e999\nn: .nan\n", &c));
  double v;
  CL_CHECK_INT_EQ(cl_config_get_unit_in(cl_config_root(c), "v", BW, 0.125, INFINITY, &v), CL_ERR_CONFIG);
  CHECK_LAST_HAS("n.yaml:1:4: field 'v': '0' is out of range for a bandwidth: [1bit/s, 10Tbit/s]");
  CL_CHECK_INT_EQ(cl_config_get_unit_in(cl_config_root(c), "w", D, 0.01, 1, &v), CL_ERR_CONFIG);
  CHECK_LAST_HAS("'5ms' is out of range for a duration: [10ms, 1s]");
  CL_CHECK_INT_EQ(cl_config_get_double(cl_config_root(c), "d", 0, 1e300, &v), CL_ERR_CONFIG);
  CHECK_LAST_HAS("cannot parse '1e999' as a number");
  CL_CHECK_INT_EQ(cl_config_get_double(cl_config_root(c), "n", -1e300, 1e300, &v), CL_ERR_CONFIG);
  CHECK_LAST_HAS("cannot parse '.nan' as a number");
  cl_config_destroy(c);
  CL_CHECK_INT_EQ(cl_config_parse_unit_in(BW, "1Kbit/s", 0, INFINITY, "--bandwidth", &v), CL_OK);
  CL_CHECK(v == 125);
  CL_CHECK_INT_EQ(cl_config_parse_unit_in(BW, "1e6", 0, INFINITY, "--bandwidth", &v), CL_ERR_CONFIG);
  CHECK_LAST_HAS("--bandwidth: cannot parse '1e6' as a bandwidth");
  cl_log_set_sink(NULL, NULL);
}

/* ---- writer ---------------------------------------------------------------------------- */

static void test_writer(void) {
  cl_config_writer *w;
  CL_CHECK_OK(cl_config_writer_create(&w));
  cl_config_writer_comment(w, "made by\ntest_units");
  cl_config_writer_map(w, 0);
  cl_config_writer_key_str(w, "a", "yes");
  cl_config_writer_key_str(w, "b", "12");
  cl_config_writer_key_str(w, "c", "x: y");
  cl_config_writer_key_double(w, "d", 0.1);
  cl_config_writer_key_unit(w, "e", BW, 2.5e6);
  cl_config_writer_key(w, "nodes");
  cl_config_writer_seq(w, 0);
  cl_config_writer_comment(w, "the first");
  cl_config_writer_map(w, 1);
  cl_config_writer_key_str(w, "name", "dev");
  cl_config_writer_key_int(w, "n", -3);
  cl_config_writer_end(w);
  cl_config_writer_map(w, 0);
  cl_config_writer_key_bool(w, "on", 1);
  cl_config_writer_key(w, "l");
  cl_config_writer_seq(w, 0);
  cl_config_writer_end(w);
  cl_config_writer_end(w);
  cl_config_writer_end(w);
  cl_config_writer_key(w, "empty");
  cl_config_writer_map(w, 0);
  cl_config_writer_end(w);
  cl_config_writer_end(w);
  char *t = NULL;
  CL_CHECK_OK(cl_config_writer_finish(w, &t));
  CL_CHECK_STR_EQ(t, "# made by\n# test_units\na: \"yes\"\nb: \"12\"\nc: \"x: y\"\nd: 0.1\ne: 20Mbit/s\nnodes:\n"
                     "  # the first\n  - {name: dev, n: -3}\n  - \"on\": true\n    l: []\nempty: {}\n");
  cl_config *c;
  CL_CHECK_OK(cl_config_load_string("w.yaml", t ? t : "", &c));
  const char *s;
  CL_CHECK_OK(cl_config_get_str(cl_config_root(c), "b", &s));
  CL_CHECK_STR_EQ(s, "12");
  cl_config_destroy(c);
  free(t);
  /* misuse is an error, not a broken document */
  cl_log_set_sink(keep_last, NULL);
  CL_CHECK_OK(cl_config_writer_create(&w));
  cl_config_writer_map(w, 0);
  cl_config_writer_str(w, "no key");
  cl_config_writer_end(w);
  CL_CHECK_INT_EQ(cl_config_writer_finish(w, &t), CL_ERR_INVALID);
  CL_CHECK(t == NULL);
  cl_log_set_sink(NULL, NULL);

  /* quoting: random strings of YAML-special characters read back as the same strings,
   * as values and keys, in block and flow context */
  static const char alphabet[] = ":-[]{},#&*!|>'\"%@` \t\n\\.0123456789eExyz~?\x01"; /* + "é" */
  uint64_t st = 7;
  int same = 1;
  for (int it = 0; it < 3000 && same; it++) {
    char str[24];
    int n = 0;
    for (int k = (int)(cl_rng_next(&st) % 10); k > 0; k--) {
      size_t r = cl_rng_next(&st) % sizeof alphabet; /* the last index: a UTF-8 letter */
      if (r == sizeof alphabet - 1) n += sprintf(str + n, "\xc3\xa9");
      else str[n++] = alphabet[r];
    }
    str[n] = '\0';
    CL_CHECK_OK(cl_config_writer_create(&w));
    cl_config_writer_map(w, 0);
    cl_config_writer_key_str(w, str[0] ? str : "k", str);
    cl_config_writer_key(w, "f");
    cl_config_writer_seq(w, 1);
    cl_config_writer_str(w, str);
    cl_config_writer_end(w);
    cl_config_writer_end(w);
    t = NULL;
    cl_status ws = cl_config_writer_finish(w, &t);
    cl_config *rc = NULL;
    const char *a = NULL, *b = NULL;
    cl_log_set_sink(keep_last, NULL);
    if (ws != CL_OK || cl_config_load_string("q.yaml", t, &rc) != CL_OK ||
        cl_config_get_str(cl_config_root(rc), str[0] ? str : "k", &a) != CL_OK ||
        cl_config_as_str(cl_config_at(cl_config_find(cl_config_root(rc), "f"), 0), &b) != CL_OK || strcmp(a, str) ||
        strcmp(b, str)) {
      fprintf(stderr, "quoting round trip failed for \"%s\":\n%s", str, t ? t : "(no text)");
      same = 0;
    }
    cl_log_set_sink(NULL, NULL);
    cl_config_destroy(rc);
    free(t);
  }
  CL_CHECK(same);
}

static void test_dump_edit(void) {
  cl_config *c;
  CL_CHECK_OK(cl_config_load_string("e.yaml", "a: 1\nb: {c: 2, d: [x, \"y z\"]}\nl:\n  - {n: 1, m: \"5\"}\n", &c));
  static const cl_config_override ov[] = {{"b", "c", "5ms"}, {"", "z", "[1, 2]"}, {"l[0]", "n", "{k: v}"}};
  char *t = NULL;
  CL_CHECK_OK(cl_config_dump_edit(cl_config_root(c), ov, 3, 2, &t));
  CL_CHECK_STR_EQ(t, "a: 1\nb:\n  c: 5ms\n  d: [x, y z]\nl:\n  - {n: {k: v}, m: \"5\"}\nz:\n  - 1\n  - 2\n");
  free(t);
  CL_CHECK_OK(cl_config_dump_edit(cl_config_find(cl_config_root(c), "b"), NULL, 0, 0, &t));
  CL_CHECK_STR_EQ(t, "{c: 2, d: [x, y z]}\n");
  free(t);
  CL_CHECK_OK(cl_config_dump(cl_config_root(c), &t));
  CL_CHECK_STR_EQ(t, "a: 1\nb:\n  c: 2\n  d:\n    - x\n    - y z\nl:\n  - n: 1\n    m: \"5\"\n");
  free(t);
  cl_config_mark_used(cl_config_find(cl_config_root(c), "b")); /* a, l stay unread */
  cl_log_set_sink(keep_last, NULL);
  CL_CHECK_INT_EQ(cl_config_check_unused(c), CL_ERR_CONFIG);
  CHECK_LAST_HAS("e.yaml:3: unknown key 'l'");
  cl_config_find(cl_config_root(c), "a");
  cl_config_mark_used(cl_config_find(cl_config_root(c), "l"));
  CL_CHECK_OK(cl_config_check_unused(c));
  static const cl_config_override broken[] = {{"", "a", "[unclosed"}};
  CL_CHECK_INT_EQ(cl_config_dump_edit(cl_config_root(c), broken, 1, 2, &t), CL_ERR_CONFIG);
  CHECK_LAST_HAS("<value of a>");
  cl_log_set_sink(NULL, NULL);
  cl_config_destroy(c);
}

/* ---- the cl_cfg view (experiment files) ---------------------------------------------- */

static void test_cfg(void) {
  const char *text = "kind: coedge\nbandwidths: [0, 1Kbit/s, 2Mb/s]\nseed: 0x10\nempty: \"\"\nnull_key:\n"
                     "ratio: 0.5\nflag: Yes\nextra: 1\n";
  cl_cfg *c;
  CL_CHECK_OK(cl_cfg_parse_string("x.yaml", text, &c));
  CL_CHECK_STR_EQ(cl_cfg_source(c), text);
  const cl_cfg_node *r = cl_cfg_root(c);
  const char *s = "dflt";
  static const char *const kinds[] = {"testbed", "adaptive", "coedge", NULL};
  int k = 0, flag = 0;
  CL_CHECK_OK(cl_cfg_get_enum(c, r, "kind", 1, kinds, &k));
  CL_CHECK_INT_EQ(k, 2);
  const cl_cfg_node *bws = cl_cfg_get(r, "bandwidths");
  double want[3] = {0, 125, 250000}, v;
  for (int i = 0; i < cl_cfg_len(bws); i++) {
    CL_CHECK_OK(cl_cfg_node_unit(c, cl_cfg_at(bws, i), CL_UNIT_BANDWIDTH, &v));
    CL_CHECK(v == want[i]);
  }
  uint64_t seed = 1;
  CL_CHECK_OK(cl_cfg_get_u64(c, r, "seed", 1, &seed));
  CL_CHECK(seed == 16);
  CL_CHECK_OK(cl_cfg_get_str(c, r, "null_key", 0, &s)); /* no value: the default stays */
  CL_CHECK_STR_EQ(s, "dflt");
  long n = 42;
  CL_CHECK_OK(cl_cfg_get_int(c, r, "absent", 0, 0, 100, &n));
  CL_CHECK_INT_EQ(n, 42);
  double ratio = 0;
  CL_CHECK_OK(cl_cfg_get_double(c, r, "ratio", 1, 0, 1, &ratio));
  CL_CHECK_NEAR(ratio, 0.5, 0);
  CL_CHECK_OK(cl_cfg_get_bool(c, r, "flag", 1, &flag));
  CL_CHECK_INT_EQ(flag, 1);
  CL_CHECK_INT_EQ(cl_unit_parse(CL_UNIT_SECONDS, "2h", &v), -1); /* out of range */
  CL_CHECK_INT_EQ(cl_unit_parse(CL_UNIT_SECONDS, "2min", &v), 0);
  cl_log_set_sink(keep_last, NULL);
  CL_CHECK_INT_EQ(cl_cfg_get_str(c, r, "empty", 1, &s), CL_ERR_CONFIG);
  CHECK_LAST_HAS("x.yaml:4:8: field 'empty': empty value");
  CL_CHECK_INT_EQ(cl_cfg_get_int(c, r, "missing", 1, 0, 1, &n), CL_ERR_CONFIG);
  CHECK_LAST_HAS("x.yaml:1:1: top level: missing required key 'missing'");
  CL_CHECK_INT_EQ(cl_cfg_check_unused(c), CL_ERR_CONFIG);
  CHECK_LAST_HAS("x.yaml:8: unknown key 'extra' in 'the top level'");
  CL_CHECK_INT_EQ(cl_cfg_error(c, NULL, "whole file"), CL_ERR_CONFIG);
  CHECK_LAST_HAS("x.yaml: whole file");
  cl_cfg_free(c);
  CL_CHECK_INT_EQ(cl_cfg_parse_string("s.yaml", "- a\n", &c), CL_ERR_CONFIG);
  CHECK_LAST_HAS("s.yaml:1: expected a YAML map of settings at the top level");
  CL_CHECK_INT_EQ(cl_cfg_parse_string("e.yaml", "# nothing\n", &c), CL_ERR_CONFIG);
  CHECK_LAST_HAS("(file is empty)");
  cl_log_set_sink(NULL, NULL);
}

/* ---- CoEdge devices files through the same layer ------------------------------------- */

static void test_coedge_devfile(void) {
  char path[] = "/tmp/cl_units_devXXXXXX";
  int fd = mkstemp(path);
  CL_CHECK(fd >= 0);
  if (fd < 0) return;
  close(fd);
  static const struct {
    const char *head, *dev, *want; /* want NULL: loads */
  } cases[] = {
      {"bandwidth: 1Kbit/s\nmsg_latency: 1500us\n", "speed: 2e6, compute_w: 800mW", NULL},
      {"bandwidth: 1e6\n", "speed: 1, compute_w: 5", ":1:12: field 'bandwidth': cannot parse '1e6' as a bandwidth"},
      {"bandwidth: 0Mbit/s\n", "speed: 1, compute_w: 5", "field 'bandwidth': '0Mbit/s' is out of range"},
      {"", "speed: 2e10, compute_w: 5", "field 'devices[0].speed': '2e10' is out of range for a speed factor"},
      {"", "speed: 1, compute_w: -5", "field 'devices[0].compute_w': '-5': a power must not be negative"},
      {"msg_latency: 2h\n", "speed: 1, compute_w: 5", "field 'msg_latency': '2h' is out of range"},
      {"", "speed: 1, compute_w: 5, colour: red", "unknown key 'colour' in 'devices[0]'"},
      {"", "gflops: 2, speed: 1, compute_w: 5", "give 'speed' (relative to the host) or 'gflops' (absolute), not both"},
      {"", "gflops: -2, compute_w: 5", "field 'devices[0].gflops': -2 is out of range [0, 1e+09]"},
  };
  cl_log_set_sink(keep_last, NULL);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    FILE *f = fopen(path, "w");
    if (!f) break;
    fprintf(f, "%sdevices:\n  - {name: a, %s, idle_w: 1, tx_w: 1, rx_w: 1, source: on}\n", cases[i].head,
            cases[i].dev);
    fclose(f);
    cl_coedge_devfile df;
    g_last[0] = '\0';
    cl_status s = cl_coedge_devfile_load(path, &df);
    if (!cases[i].want) {
      CL_CHECK_OK(s);
      CL_CHECK(df.bandwidth == 125 && df.msg_latency == 1.5e-3 && df.dev[0].speed == 2e6);
      CL_CHECK_NEAR(df.dev[0].p_comp, 0.8, 1e-15);
      CL_CHECK_INT_EQ(df.source, 0);
      cl_coedge_devfile_fini(&df);
    } else {
      CL_CHECK_INT_EQ(s, CL_ERR_CONFIG);
      CHECK_LAST_HAS(cases[i].want);
    }
  }
  double v;
  CL_CHECK_OK(cl_coedge_parse_bandwidth("1Kbit/s", &v));
  CL_CHECK(v == 125);
  CL_CHECK_INT_EQ(cl_coedge_parse_bandwidth("1e6", &v), CL_ERR_INVALID);
  CL_CHECK_OK(cl_coedge_parse_seconds("1min", &v));
  CL_CHECK(v == 60);
  cl_log_set_sink(NULL, NULL);
  unlink(path);
}

int main(void) {
  test_spellings();
  test_format();
  test_ranges();
  test_writer();
  test_dump_edit();
  test_cfg();
  test_coedge_devfile();
  return cl_test_finish("test_units");
}
