/* YAML config layer and testbed schema (units and writer: test_units.c): getters, unknown keys, error messages
 * (file, line, field), round trips, plan resolution, and a small fuzz. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl_test.h"
#include "cleave/config.h"
#include "cleave/graph.h"
#include "cleave/testbed.h"

/* ---- log capture ----------------------------------------------------------------- */

static char g_log[65536];
static size_t g_log_len;
static int g_log_lines;

static void sink(const char *line, void *ctx) {
  (void)ctx;
  size_t l = strlen(line);
  if (g_log_len + l + 2 < sizeof g_log) {
    memcpy(g_log + g_log_len, line, l);
    g_log_len += l;
    g_log[g_log_len++] = '\n';
    g_log[g_log_len] = '\0';
  }
  g_log_lines++;
}

static void capture(void) {
  g_log_len = 0;
  g_log[0] = '\0';
  g_log_lines = 0;
  cl_log_set_sink(sink, NULL);
}

static void release(void) { cl_log_set_sink(NULL, NULL); }

#define CHECK_LOG_HAS(s)                                                                      \
  do {                                                                                        \
    cl_test_checks++;                                                                         \
    if (!strstr(g_log, (s))) {                                                                \
      cl_test_failures++;                                                                     \
      fprintf(stderr, "%s:%d: log lacks \"%s\"; log was:\n%s", __FILE__, __LINE__, (s), g_log); \
    }                                                                                         \
  } while (0)

/* ---- generic layer ------------------------------------------------------------------ */

static void test_getters(void) {
  const char *text =
      "name: demo\n"
      "count: 12\n"
      "ratio: 0.25\n"
      "flag: yes\n"
      "mode: fast\n"
      "lat: 3ms\n"
      "quoted: \"5\"\n"
      "empty:\n"
      "list: [a, b, c]\n"
      "sub:\n"
      "  x: 1\n"
      "  zz: 2\n"
      "big: 18446744073709551615\n";
  cl_config *c;
  CL_CHECK_OK(cl_config_load_string("mem.yaml", text, &c));
  cl_config_node *r = cl_config_root(c);
  const char *s;
  int64_t i;
  double d;
  int b, e;
  uint64_t u;
  static const char *const modes[] = {"slow", "fast", NULL};
  CL_CHECK_OK(cl_config_get_str(r, "name", &s));
  CL_CHECK_STR_EQ(s, "demo");
  CL_CHECK_OK(cl_config_get_int(r, "count", 0, 100, &i));
  CL_CHECK_INT_EQ(i, 12);
  CL_CHECK_OK(cl_config_get_double(r, "ratio", 0, 1, &d));
  CL_CHECK_NEAR(d, 0.25, 0);
  CL_CHECK_OK(cl_config_get_bool(r, "flag", &b));
  CL_CHECK_INT_EQ(b, 1);
  CL_CHECK_OK(cl_config_get_enum(r, "mode", modes, &e));
  CL_CHECK_INT_EQ(e, 1);
  CL_CHECK_OK(cl_config_get_unit(r, "lat", CL_CONFIG_DURATION, &d));
  CL_CHECK(d == 0.003);
  CL_CHECK_OK(cl_config_get_str(r, "quoted", &s));
  CL_CHECK_STR_EQ(s, "5");
  CL_CHECK_OK(cl_config_opt_int(r, "empty", 0, 10, 7, &i)); /* null -> default */
  CL_CHECK_INT_EQ(i, 7);
  CL_CHECK_OK(cl_config_opt_unit(r, "absent", CL_CONFIG_POWER, 1.5, &d));
  CL_CHECK_NEAR(d, 1.5, 0);
  CL_CHECK_OK(cl_config_get_u64(r, "big", &u));
  CL_CHECK(u == UINT64_MAX);
  cl_config_node *list = cl_config_find(r, "list");
  CL_CHECK_INT_EQ(cl_config_len(list), 3);
  CL_CHECK_STR_EQ(cl_config_path(cl_config_at(list, 2)), "list[2]");
  CL_CHECK_INT_EQ(cl_config_line(cl_config_at(list, 2)), 9);
  CL_CHECK_INT_EQ(cl_config_column(cl_config_at(list, 2)), 14);
  cl_config_node *sub = cl_config_find(r, "sub");
  CL_CHECK_OK(cl_config_get_int(sub, "x", 0, 5, &i));

  /* errors name file, line, column and field */
  capture();
  CL_CHECK_INT_EQ(cl_config_get_int(r, "count", 0, 10, &i), CL_ERR_CONFIG);
  CHECK_LOG_HAS("mem.yaml:2:8: field 'count': 12 is out of range [0, 10]");
  CL_CHECK_INT_EQ(cl_config_get_bool(r, "mode", &b), CL_ERR_CONFIG);
  CHECK_LOG_HAS("mem.yaml:5:7: field 'mode': cannot parse 'fast' as a boolean");
  CL_CHECK_INT_EQ(cl_config_get_enum(r, "name", modes, &e), CL_ERR_CONFIG);
  CHECK_LOG_HAS("'demo' is not one of: slow, fast");
  CL_CHECK_INT_EQ(cl_config_get_str(r, "list", &s), CL_ERR_CONFIG);
  CHECK_LOG_HAS("field 'list': expected a single value, got a sequence");
  CL_CHECK_INT_EQ(cl_config_get_str(r, "missing", &s), CL_ERR_CONFIG);
  CHECK_LOG_HAS("mem.yaml:1:1: top level: missing required key 'missing'");
  CL_CHECK_INT_EQ(cl_config_get_int(r, "empty", 0, 1, &i), CL_ERR_CONFIG);
  CHECK_LOG_HAS("field 'empty': a value is required");
  CL_CHECK_INT_EQ(cl_config_get_unit(r, "name", CL_CONFIG_BANDWIDTH, &d), CL_ERR_CONFIG);
  CHECK_LOG_HAS("cannot parse 'demo' as a bandwidth (e.g. 20Mbit/s)");
  CL_CHECK_INT_EQ(cl_config_get_int(list, "x", 0, 1, &i), CL_ERR_CONFIG);
  CHECK_LOG_HAS("field 'list': expected a map");

  /* unknown keys: sub.zz never read */
  capture();
  CL_CHECK_INT_EQ(cl_config_check_unused(c), CL_ERR_CONFIG);
  CHECK_LOG_HAS("mem.yaml:12: unknown key 'zz' in 'sub' (expected one of: x)");
  CL_CHECK_INT_EQ(g_log_lines, 1);
  cl_config_find(sub, "zz");
  capture();
  CL_CHECK_OK(cl_config_check_unused(c));
  CL_CHECK_INT_EQ(g_log_lines, 0);
  release();

  /* dump is canonical and re-parses to the same dump */
  char *d1 = NULL, *d2 = NULL;
  CL_CHECK_OK(cl_config_dump(r, &d1));
  cl_config *c2;
  CL_CHECK_OK(cl_config_load_string("dump", d1 ? d1 : "", &c2));
  CL_CHECK_OK(cl_config_dump(cl_config_root(c2), &d2));
  CL_CHECK_STR_EQ(d1, d2);
  CL_CHECK(d1 && strstr(d1, "quoted: \"5\""));
  CL_CHECK(d1 && strstr(d1, "list:\n  - a\n"));
  free(d1);
  free(d2);
  cl_config_destroy(c2);
  cl_config_destroy(c);

  /* anchors / aliases are deep copies with their own paths */
  CL_CHECK_OK(cl_config_load_string("a.yaml", "p: &x {w: 1}\nq: *x\n", &c));
  cl_config_node *q = cl_config_find(cl_config_root(c), "q");
  CL_CHECK_STR_EQ(cl_config_path(cl_config_find(q, "w")), "q.w");
  cl_config_destroy(c);

  /* writer quoting: strings YAML would read as other types stay strings */
  cl_config_writer *w;
  CL_CHECK_OK(cl_config_writer_create(&w));
  cl_config_writer_map(w, 0);
  cl_config_writer_key(w, "a");
  cl_config_writer_str(w, "yes");
  cl_config_writer_key(w, "b");
  cl_config_writer_str(w, "12");
  cl_config_writer_key(w, "c");
  cl_config_writer_str(w, "x: y");
  cl_config_writer_key(w, "d");
  cl_config_writer_double(w, 0.1);
  cl_config_writer_key(w, "e");
  cl_config_writer_unit(w, CL_CONFIG_BANDWIDTH, 2.5e6);
  cl_config_writer_end(w);
  char *t = NULL;
  CL_CHECK_OK(cl_config_writer_finish(w, &t));
  CL_CHECK_STR_EQ(t, "a: \"yes\"\nb: \"12\"\nc: \"x: y\"\nd: 0.1\ne: 20Mbit/s\n");
  free(t);
  /* strings with YAML line breaks (NEL, LS, PS) and non-printable characters read back
   * unchanged: a device name holding "\N" saved raw and could not be loaded again
   * (found by fuzz_device) */
  static const char *const odd[] = {"a\xc2\x85" "b", "a\xe2\x80\xa8" "b\xe2\x80\xa9", "c\xc2\x80\x01\x7f",
                                    "\xef\xbb\xbf" "bom", "caf\xc3\xa9 \xf0\x9f\x98\x80", "tab\there", "cut \xe2\x82"};
  for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
    CL_CHECK_OK(cl_config_writer_create(&w));
    cl_config_writer_map(w, 0);
    cl_config_writer_key(w, "s");
    cl_config_writer_str(w, odd[i]);
    cl_config_writer_end(w);
    CL_CHECK_OK(cl_config_writer_finish(w, &t));
    CL_CHECK_OK(cl_config_load_string("odd.yaml", t, &c));
    const char *back = NULL;
    if (c) {
      CL_CHECK_OK(cl_config_get_str(cl_config_root(c), "s", &back));
      if (i < 6) CL_CHECK_STR_EQ(back, odd[i]); /* the last is not UTF-8: it must load, as U+00E2 U+0082 */
      cl_config_destroy(c);
    }
    free(t);
  }
  capture();
  CL_CHECK_OK(cl_config_writer_create(&w));
  cl_config_writer_map(w, 0);
  CL_CHECK_INT_EQ(cl_config_writer_finish(w, &t), CL_ERR_INVALID); /* left open */
  CL_CHECK(t == NULL);
  release();
}

static void test_syntax_errors(void) {
  static const struct {
    const char *text, *want;
  } cases[] = {
      {"a: 1\na: 2\n", "s.yaml:2:1: duplicate key 'a' (first given at line 1)"},
      {"a:\n\tb: 1\n", "s.yaml:2:1: YAML syntax error"},
      {"a: [1, 2\n", "s.yaml:2:1: YAML syntax error"},
      {"a: 1\n---\nb: 2\n", "s.yaml:2:1: only one YAML document"},
      {"a: *nope\n", "s.yaml:1:4: field 'a': unknown anchor '*nope'"},
      {"? [1, 2]\n: x\n", "map keys must be plain strings"},
      {"a: \"unterminated\n", "s.yaml:"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cl_config *c = NULL;
    capture();
    CL_CHECK_INT_EQ(cl_config_load_string("s.yaml", cases[i].text, &c), CL_ERR_CONFIG);
    CL_CHECK(c == NULL);
    CHECK_LOG_HAS(cases[i].want);
    CL_CHECK_INT_EQ(g_log_lines, 1);
  }
  /* deep nesting and alias bombs are bounded, not crashes */
  char *deep = malloc(20001);
  for (int i = 0; i < 10000; i++) deep[i] = '[';
  for (int i = 0; i < 10000; i++) deep[10000 + i] = ']';
  deep[20000] = '\0';
  cl_config *c = NULL;
  CL_CHECK_INT_EQ(cl_config_load_string("deep.yaml", deep, &c), CL_ERR_CONFIG);
  CHECK_LOG_HAS("nesting deeper than");
  free(deep);
  const char *bomb =
      "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
      "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
      "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
      "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
      "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
      "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
  CL_CHECK_INT_EQ(cl_config_load_string("bomb.yaml", bomb, &c), CL_ERR_CONFIG);
  CHECK_LOG_HAS("alias expansion");
  /* empty and comment-only documents have no root */
  CL_CHECK_OK(cl_config_load_string("e.yaml", "# nothing\n", &c));
  CL_CHECK(cl_config_root(c) == NULL);
  cl_config_destroy(c);
  capture();
  CL_CHECK_INT_EQ(cl_config_load("no/such/file.yaml", &c), CL_ERR_IO);
  CHECK_LOG_HAS("no/such/file.yaml: cannot open config");
  release();
}

/* ---- testbed: good configs ------------------------------------------------------------ */

static void check_roundtrip(const cl_testbed *tb) {
  char *y1 = NULL, *y2 = NULL;
  CL_CHECK_OK(cl_testbed_to_yaml(tb, &y1));
  if (!y1) return;
  cl_testbed t2;
  CL_CHECK_OK(cl_testbed_load_string("<resolved>", y1, &t2));
  CL_CHECK_OK(cl_testbed_to_yaml(&t2, &y2));
  CL_CHECK_STR_EQ(y1, y2);
  CL_CHECK_INT_EQ(t2.n_nodes, tb->n_nodes);
  CL_CHECK_INT_EQ(t2.n_links, tb->n_links);
  for (int i = 0; i < tb->n_links && i < t2.n_links; i++) {
    CL_CHECK(t2.links[i].bandwidth == tb->links[i].bandwidth);
    CL_CHECK(t2.links[i].latency == tb->links[i].latency);
    CL_CHECK(t2.links[i].jitter.sigma == tb->links[i].jitter.sigma);
    CL_CHECK_INT_EQ(t2.links[i].trace_n, tb->links[i].trace_n);
  }
  for (int i = 0; i < tb->n_nodes && i < t2.n_nodes; i++) {
    CL_CHECK(t2.nodes[i].power.tx_per_byte == tb->nodes[i].power.tx_per_byte);
    CL_CHECK(t2.nodes[i].memory == tb->nodes[i].memory);
    CL_CHECK(t2.nodes[i].cpu_load == tb->nodes[i].cpu_load);
  }
  CL_CHECK_INT_EQ(t2.n_conditions, tb->n_conditions);
  CL_CHECK(t2.arrival.seed == tb->arrival.seed);
  cl_testbed_free(&t2);
  free(y1);
  free(y2);
}

static void test_full(void) {
  cl_testbed tb;
  CL_CHECK_OK(cl_testbed_load("data/configs/full.yaml", &tb));
  if (!tb.n_nodes) return;
  CL_CHECK_STR_EQ(tb.model, "resnet18");
  CL_CHECK_INT_EQ(tb.model_is_onnx, 0);
  CL_CHECK(tb.seed == 7);
  CL_CHECK_INT_EQ(tb.wall_clock, 1);
  CL_CHECK_STR_EQ(tb.profile, "data/configs/profiles/host.h5");
  CL_CHECK_INT_EQ(tb.n_nodes, 3);
  const cl_tb_node *ph = &tb.nodes[0];
  CL_CHECK_STR_EQ(ph->name, "phone");
  CL_CHECK_INT_EQ(ph->tier, CL_TB_DEVICE);
  CL_CHECK_NEAR(ph->gflops, 12.5, 0);
  CL_CHECK_NEAR(ph->speed, 0, 0);
  CL_CHECK_INT_EQ(ph->threads, 2);
  CL_CHECK(ph->memory == 2147483648ull);
  CL_CHECK_NEAR(ph->power.idle, 2, 0);
  CL_CHECK_NEAR(ph->power.tx_per_byte, 1.2e-6, 1e-18);
  CL_CHECK_NEAR(ph->power.rx_per_byte, 800e-9, 1e-18);
  CL_CHECK_NEAR(ph->cpu_load, 0.25, 0);
  CL_CHECK_NEAR(ph->mem_pressure, 0.5, 0);
  CL_CHECK_INT_EQ(tb.nodes[1].has_power, 1); /* alias of phone's power */
  CL_CHECK_NEAR(tb.nodes[1].power.busy, 5, 0);
  CL_CHECK_NEAR(tb.nodes[1].speed, 1.5, 0);
  CL_CHECK_INT_EQ(tb.nodes[1].threads, 1);
  CL_CHECK_INT_EQ(tb.nodes[2].has_power, 0);
  CL_CHECK_INT_EQ(tb.n_links, 4);
  const cl_tb_link *l0 = &tb.links[0], *l1 = &tb.links[1], *l2 = &tb.links[2], *l3 = &tb.links[3];
  CL_CHECK_NEAR(l0->latency, 1.5e-3, 1e-15);
  CL_CHECK(l0->bandwidth == 200000.0);
  CL_CHECK_INT_EQ(l0->both_ways, 1);
  CL_CHECK_INT_EQ(l0->jitter.dist, CL_JITTER_NORMAL);
  CL_CHECK(l0->jitter.sigma == 0.001);
  CL_CHECK(l0->jitter.mean == 250e-6);
  CL_CHECK_INT_EQ(l0->medium, 0);
  CL_CHECK_INT_EQ(l3->medium, 0);
  CL_CHECK_INT_EQ(l1->medium, -1);
  CL_CHECK_INT_EQ(tb.n_media, 1);
  CL_CHECK_STR_EQ(tb.media[0], "wlan");
  CL_CHECK_INT_EQ(l1->both_ways, 0);
  CL_CHECK_INT_EQ(l1->reorder, 1);
  CL_CHECK_STR_EQ(l1->trace_path, "data/configs/trace.csv");
  CL_CHECK_INT_EQ(l1->trace_n, 4);
  if (l1->trace_n == 4) {
    CL_CHECK_NEAR(l1->trace_t[3], 4.25, 0);
    CL_CHECK(l1->trace_bw[0] == 50 * 125000.0);
    CL_CHECK(l1->trace_bw[2] == 0);
    CL_CHECK(l1->trace_bw[3] == 45.5 * 125000.0);
    CL_CHECK(l1->bandwidth == l1->trace_bw[0]);
  }
  CL_CHECK_INT_EQ(l1->jitter.dist, CL_JITTER_PARETO);
  CL_CHECK_NEAR(l1->jitter.shape, 2.5, 0);
  CL_CHECK(l2->bandwidth == 12.5e6);
  CL_CHECK_NEAR(l2->latency, 0.02, 0);
  CL_CHECK_INT_EQ(l2->jitter.dist, CL_JITTER_LOGNORMAL);
  CL_CHECK(l3->bandwidth == 62500.0);
  CL_CHECK_INT_EQ(l3->jitter.dist, CL_JITTER_UNIFORM);
  CL_CHECK_NEAR(l3->jitter.hi, 3e-3, 1e-18);
  CL_CHECK_INT_EQ(tb.plan.kind, CL_TB_PLAN_ENTRIES);
  CL_CHECK_INT_EQ(tb.plan.n_entries, 3);
  if (tb.plan.n_entries == 3) {
    CL_CHECK_STR_EQ(tb.plan.entries[0].spec, "input, conv1..relu");
    CL_CHECK_STR_EQ(tb.plan.entries[1].spec, "maxpool, 5-10");
    CL_CHECK_STR_EQ(tb.plan.entries[2].spec, "rest");
    CL_CHECK_INT_EQ(tb.plan.entries[1].line, 42);
  }
  CL_CHECK_INT_EQ(tb.inferences, 20);
  CL_CHECK_INT_EQ(tb.arrival.kind, CL_ARRIVAL_POISSON);
  CL_CHECK_NEAR(tb.arrival.rate, 4.5, 0);
  CL_CHECK(tb.arrival.seed == 99);
  CL_CHECK_INT_EQ(tb.n_conditions, 4);
  if (tb.n_conditions == 4) { /* sorted by time, stable */
    const cl_tb_condition *c = tb.conditions;
    CL_CHECK_INT_EQ(c[0].node, 1); /* at 0 */
    CL_CHECK_NEAR(c[0].cpu_load, 0.5, 0);
    CL_CHECK_NEAR(c[1].at, 0.5, 0);
    CL_CHECK_INT_EQ(c[1].link, 0);
    CL_CHECK_INT_EQ(c[1].reverse, 1);
    CL_CHECK_NEAR(c[1].bandwidth, -1, 0);
    CL_CHECK_NEAR(c[2].at, 1, 0);
    CL_CHECK_INT_EQ(c[2].link, 2);
    CL_CHECK(c[2].bandwidth == 0);
    CL_CHECK_NEAR(c[3].at, 2, 0);
    CL_CHECK(c[3].bandwidth == 625000.0);
    CL_CHECK(c[3].latency == 0.01);
  }
  check_roundtrip(&tb);
  cl_testbed_free(&tb);
  cl_testbed_free(&tb); /* idempotent */
}

static void test_defaults_and_demo(void) {
  cl_testbed tb;
  CL_CHECK_OK(cl_testbed_load("data/configs/minimal.yaml", &tb));
  CL_CHECK_INT_EQ(tb.n_nodes, 1);
  CL_CHECK_INT_EQ(tb.n_links, 0);
  CL_CHECK_NEAR(tb.nodes[0].speed, 1, 0);
  CL_CHECK_INT_EQ(tb.nodes[0].threads, 1);
  CL_CHECK(tb.seed == 1);
  CL_CHECK_INT_EQ(tb.wall_clock, 0);
  CL_CHECK_INT_EQ(tb.inferences, 1);
  CL_CHECK_INT_EQ(tb.arrival.kind, CL_ARRIVAL_BACK_TO_BACK);
  CL_CHECK(tb.arrival.seed == 1);
  CL_CHECK_INT_EQ(tb.plan.kind, CL_TB_PLAN_NONE);
  char *y = NULL;
  CL_CHECK_OK(cl_testbed_to_yaml(&tb, &y));
  CL_CHECK(y && strstr(y, "threads: 1"));
  CL_CHECK(y && strstr(y, "arrival: back_to_back"));
  CL_CHECK(y && strstr(y, "cpu_load: 0%"));
  free(y);
  check_roundtrip(&tb);
  cl_testbed_free(&tb);

  CL_CHECK_OK(cl_testbed_load("data/configs/cuts.yaml", &tb));
  CL_CHECK_INT_EQ(tb.model_is_onnx, 1);
  CL_CHECK_STR_EQ(tb.model, "data/configs/net.onnx");
  CL_CHECK_INT_EQ(tb.plan.kind, CL_TB_PLAN_CUTS);
  CL_CHECK_INT_EQ(tb.plan.n_chain, 2);
  CL_CHECK(tb.links[0].bandwidth == 12.5e6);
  CL_CHECK_INT_EQ(tb.arrival.kind, CL_ARRIVAL_FIXED_RATE);
  check_roundtrip(&tb);
  cl_testbed_free(&tb);

  const char *src = getenv("CL_SOURCE_DIR");
  char path[4096];
  snprintf(path, sizeof path, "%s/configs/demo-3tier.yaml", src ? src : "..");
  CL_CHECK_OK(cl_testbed_load(path, &tb));
  CL_CHECK_INT_EQ(tb.n_nodes, 3);
  if (tb.n_nodes == 3) {
    /* catalogue devices, not host-relative speed factors; power from the catalogue */
    CL_CHECK_STR_EQ(tb.nodes[0].device, "raspi4");
    CL_CHECK_STR_EQ(tb.nodes[1].device, "i5-2500");
    CL_CHECK_STR_EQ(tb.nodes[2].device, "i7-6700k");
    for (int i = 0; i < 3; i++) CL_CHECK_INT_EQ(tb.nodes[i].speed_given, 0);
    for (int i = 0; i < 3; i++) CL_CHECK_INT_EQ(tb.nodes[i].has_power, 0); /* the run takes the catalogue's */
    CL_CHECK(tb.links[0].bandwidth == 2.5e6);
    CL_CHECK(tb.links[0].latency == 0.005);
    CL_CHECK(tb.links[1].bandwidth == 6.25e6);
    CL_CHECK_INT_EQ(tb.links[0].medium, 0);
    CL_CHECK_INT_EQ(tb.inferences, 5);
  }
  check_roundtrip(&tb);
  cl_testbed_free(&tb);

  /* Routed network, max-min sharing and users survive the resolved-config round trip. */
  snprintf(path, sizeof path, "%s/configs/campus.yaml", src ? src : "..");
  CL_CHECK_OK(cl_testbed_load(path, &tb));
  CL_CHECK(tb.n_elements > 0 && tb.n_users == 32);
  check_roundtrip(&tb);
  char *cy = NULL;
  CL_CHECK_OK(cl_testbed_to_yaml(&tb, &cy));
  cl_testbed t3;
  if (cy && cl_testbed_load_string("<resolved>", cy, &t3) == CL_OK) {
    CL_CHECK_INT_EQ(t3.n_elements, tb.n_elements);
    CL_CHECK_INT_EQ(t3.n_users, tb.n_users);
    CL_CHECK_INT_EQ(t3.n_routes, tb.n_routes);
    CL_CHECK_INT_EQ((int)t3.sharing, (int)tb.sharing);
    for (int i = 0; i < tb.n_links && i < t3.n_links; i++) CL_CHECK_INT_EQ((int)t3.links[i].sharing, (int)tb.links[i].sharing);
    for (int i = 0; i < tb.n_users && i < t3.n_users; i++) {
      CL_CHECK_STR_EQ(t3.users[i].model, tb.users[i].model);
      CL_CHECK(t3.users[i].arrival.rate == tb.users[i].arrival.rate);
      CL_CHECK_INT_EQ(t3.users[i].plan.n_entries + t3.users[i].plan.n_cuts,
                      tb.users[i].plan.n_entries + tb.users[i].plan.n_cuts);
    }
    cl_testbed_free(&t3);
  } else {
    CL_CHECK(0);
  }
  free(cy);
  cl_testbed_free(&tb);
}

/* ---- testbed: bad configs -------------------------------------------------------------- */

typedef struct bad_case {
  const char *file;
  const char *want[3]; /* substrings the single error line must contain */
} bad_case;

static void test_bad_files(void) {
  static const bad_case cases[] = {
      {"bad_bandwidth", {"bad_bandwidth.yaml:11:16:", "field 'links[1].bandwidth'",
                         "cannot parse '20 Mbits' as a bandwidth (e.g. 20Mbit/s)"}},
      {"bad_unknown_key", {"bad_unknown_key.yaml:7:", "unknown key 'foo' in 'nodes[2]'",
                           "(expected one of: name, tier, device, speed, dvfs, threads, memory, power, cpu_load, mem_pressure)"}},
      {"bad_link_node", {"bad_link_node.yaml:7:9:", "field 'links[0].to'", "unknown node 'egde' (nodes: device, edge)"}},
      {"bad_negative_bw", {"bad_negative_bw.yaml:7:17:", "field 'links[0].bandwidth'", "must not be negative"}},
      {"bad_dup_node", {"bad_dup_node.yaml:5:11:", "field 'nodes[1].name'", "duplicate node name 'edge' (first defined at line 3)"}},
      {"bad_tier", {"bad_tier.yaml:4:11:", "field 'nodes[0].tier'", "'fog' is not one of: device, edge, cloud"}},
      {"bad_dup_key", {"bad_dup_key.yaml:10:5:", "field 'links[0]'", "duplicate key 'latency' (first given at line 8)"}},
      {"bad_tabs", {"bad_tabs.yaml:4:", "YAML syntax error", NULL}},
      {"bad_seq_for_map", {"bad_seq_for_map.yaml:5:3:", "field 'workload'", "expected a map, got a sequence"}},
      {"bad_truncated", {"bad_truncated.yaml:", "YAML syntax error", "(line 5)"}},
      {"bad_empty", {"bad_empty.yaml:1:1:", "empty config", NULL}},
      {"bad_trace", {"bad_trace.csv:4:", "time 1.5 s is not after the previous point", "field 'links[0].trace' at data/configs/bad_trace.yaml:6"}},
      {"bad_typo", {"bad_typo.yaml:6:5:", "field 'links[0]'", "missing required key 'bandwidth' (found unknown key 'bandwith' at line 9; a typo?)"}},
      {"bad_plan_node", {"bad_plan_node.yaml:6:12:", "field 'plan[1].node'", "unknown node 'cloud'"}},
      {"bad_condition", {"bad_condition.yaml:10:20:", "field 'conditions[1].link'", "no link device->cloud"}},
      {"bad_jitter", {"bad_jitter.yaml:10:13:", "field 'links[0].jitter'", "missing required key 'sigma'"}},
      {"bad_fraction", {"bad_fraction.yaml:5:15:", "field 'nodes[0].cpu_load'", "'150%' is out of range for a fraction: [0%, 100%]"}},
      {"bad_rate", {"bad_rate.yaml:7:9:", "field 'workload.rate'", "rate only applies to arrival: fixed_rate or poisson"}},
      {"bad_root_seq", {"bad_root_seq.yaml:1:1:", "a testbed config is a map", NULL}},
      {"bad_alias", {"bad_alias.yaml:5:12:", "unknown anchor '*nothere'", NULL}},
      {"bad_jitter_param", {"bad_jitter_param.yaml:10:", "unknown key 'sigma' in 'links[0].jitter'", "expected one of: dist, lo, hi"}},
      {"bad_wrong_type", {"bad_wrong_type.yaml:5:14:", "field 'nodes[0].threads'", "expected a single value, got a sequence"}},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char path[256];
    snprintf(path, sizeof path, "data/configs/%s.yaml", cases[i].file);
    cl_testbed tb;
    capture();
    cl_status s = cl_testbed_load(path, &tb);
    release();
    CL_CHECK_INT_EQ(s, CL_ERR_CONFIG);
    int before = cl_test_failures;
    for (int k = 0; k < 3 && cases[i].want[k]; k++) CHECK_LOG_HAS(cases[i].want[k]);
    CL_CHECK_INT_EQ(g_log_lines, 1);
    if (cl_test_failures != before) fprintf(stderr, "  (case %s)\n", cases[i].file);
    CL_CHECK(tb.n_nodes == 0 && tb.nodes == NULL); /* freed on error */
  }
}

/* Inline snippets for the remaining validation rules. */
static void test_bad_snippets(void) {
  static const struct {
    const char *body, *want;
  } cases[] = {
      {"nodes: [{name: a, tier: edge}]\n", "missing required key 'model'"},
      {"model: m\nnodes: []\n", "at least one node is needed"},
      {"model: m\nnodes: [{name: a b, tier: edge}]\n", "must not contain spaces"},
      {"model: m\nnodes: [{name: a, tier: edge, speed: 0}]\n", "must be at least 1e-6"},
      {"model: m\nnodes: [{name: a, tier: edge, speed: 1e-300}]\n", "speed (a slowdown factor) must be at least 1e-6 (a node a million times faster than this host); got 1e-300"},
      {"model: m\nnodes: [{name: a, tier: edge, speed: {tflops: 1}}]\n", "missing required key 'gflops'"},
      {"model: m\nnodes: [{name: a, tier: edge, threads: 0}]\n", "0 is out of range [1, 1024]"},
      {"model: m\nnodes: [{name: a, tier: edge, mem_pressure: 10%}]\n", "set memory"},
      {"model: m\nnodes: [{name: a, tier: edge, cpu_load: 101%}]\n", "cpu_load"},
      {"model: m\nnodes: [{name: a, tier: edge, power: {idle: 5W, busy: 1W}}]\n", "below idle power"},
      {"model: m\nnodes: [{name: a, tier: edge, power: {tx: 1W, tx_per_byte: 1nJ/B}}]\n", "not both"},
      {"model: m\nnodes: [{name: a, tier: edge, power: {idle: 5V}}]\n", "cannot parse '5V' as a power (e.g. 5W)"},
      {"model: m\nnodes: [{name: a, tier: edge}, {name: b, tier: edge}]\n"
       "links: [{from: a, to: a, latency: 1ms, bandwidth: 1Mbit/s}]\n",
       "two different nodes"},
      {"model: m\nnodes: [{name: a, tier: edge}, {name: b, tier: edge}]\n"
       "links: [{from: a, to: b, latency: 1ms, bandwidth: 1Mbit/s}, {from: b, to: a, latency: 1ms, bandwidth: 1Mbit/s}]\n",
       "duplicate link b->a (also defined at line 3)"},
      {"model: m\nnodes: [{name: a, tier: edge}, {name: b, tier: edge}]\n"
       "links: [{from: a, to: b, latency: 1ms, bandwidth: 0Mbit/s}]\n",
       "bandwidth must be > 0"},
      {"model: m\nnodes: [{name: a, tier: edge}, {name: b, tier: edge}]\n"
       "links: [{from: a, to: b, latency: 1ms, bandwidth: 1Mbit/s, trace: x.csv}]\n",
       "either bandwidth or trace"},
      {"model: m\nnodes: [{name: a, tier: edge}, {name: b, tier: edge}]\n"
       "links: [{from: a, to: b, latency: 1ms, trace: /nonexistent/x.csv}]\n",
       "cannot open bandwidth trace '/nonexistent/x.csv'"},
      {"model: m\nnodes: [{name: a, tier: edge}, {name: b, tier: edge}]\n"
       "links: [{from: a, to: b, latency: 1ms, bandwidth: 1Mbit/s, jitter: {dist: gauss}}]\n",
       "'gauss' is not one of: none, normal, uniform, exponential, lognormal, pareto"},
      {"model: m\nnodes: [{name: a, tier: edge}, {name: b, tier: edge}]\n"
       "links: [{from: a, to: b, latency: 1ms, bandwidth: 1Mbit/s, jitter: {dist: uniform, lo: 2ms, hi: 1ms}}]\n",
       "hi must be >= lo"},
      {"model: m\nnodes: [{name: a, tier: edge}]\nplan: 5\n", "expected a list of {node, layers}"},
      {"model: m\nnodes: [{name: a, tier: edge}]\nplan: [{node: a, layers: \"x..\"}]\n", "bad layer range 'x..'"},
      {"model: m\nnodes: [{name: a, tier: edge}]\nplan: [{node: a, layers: \"x,,y\"}]\n", "empty layer item"},
      {"model: m\nnodes: [{name: a, tier: edge}]\nplan: [{node: a, layers: rest}, {node: a, layers: \"*\"}]\n",
       "'rest' may appear once"},
      {"model: m\nnodes: [{name: a, tier: edge}]\nplan: [{node: a}]\n", "missing required key 'layers'"},
      {"model: m\nnodes: [{name: a, tier: edge}, {name: b, tier: edge}]\nplan: {cuts: [x, y]}\n",
       "2 cut(s) need 3 nodes, but the chain has 2"},
      {"model: m\nnodes: [{name: a, tier: edge}]\nplan: {cuts: [], nodes: [a, a]}\n", "appears twice in the chain"},
      {"model: m\nnodes: [{name: a, tier: edge}]\nworkload: {arrival: poisson}\n", "missing required key 'rate'"},
      {"model: m\nnodes: [{name: a, tier: edge}]\nworkload: {inferences: 0}\n", "0 is out of range"},
      {"model: m\nnodes: [{name: a, tier: edge}]\nclock: fast\n", "'fast' is not one of: virtual, wall"},
      {"model: m\nnodes: [{name: a, tier: edge}]\nseed: -3\n", "cannot parse '-3' as an unsigned integer"},
      {"model: m\nnodes: [{name: a, tier: edge}]\nconditions: [{at: 1s, node: a}]\n", "changes nothing"},
      {"model: m\nnodes: [{name: a, tier: edge}]\nconditions: [{at: 1s, node: a, link: \"a->b\", cpu_load: 5%}]\n",
       "either a link"},
      {"model: m\nnodes: [{name: a, tier: edge}]\nconditions: [{node: a, bandwidth: 1Mbit/s}]\n",
       "unknown key 'bandwidth' in 'conditions[0]'"},
      {"model: m\nnodes: [{name: a, tier: edge}]\nconditions: [{link: ab, latency: 1ms}]\n", "expected \"FROM->TO\""},
      {"model: m\nnodes: [{name: a, tier: edge}]\nconditions: [{at: -1s, node: a, cpu_load: 5%}]\n",
       "must not be negative"},
      {"model: m\nnodes: [{name: a, tier: edge}]\nnodez: 1\n", "unknown key 'nodez' in 'the top level' (did you mean 'nodes'?"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cl_testbed tb;
    capture();
    cl_status s = cl_testbed_load_string("snip.yaml", cases[i].body, &tb);
    release();
    CL_CHECK_INT_EQ(s, CL_ERR_CONFIG);
    int before = cl_test_failures;
    CHECK_LOG_HAS(cases[i].want);
    CHECK_LOG_HAS("snip.yaml:");
    if (cl_test_failures != before) fprintf(stderr, "  (snippet %zu)\n", i);
  }
}

/* ---- plan resolution ------------------------------------------------------------------ */

/* input -> r1 -> r2 -> ... -> r<n> (relu chain), plus a second branch when @p branch. */
static cl_graph *chain_graph(int n) {
  cl_graph *g;
  if (cl_graph_create("chain", &g) != CL_OK) return NULL;
  int prev = cl_graph_add_input(g, "input", (cl_shape){1, 2, 3, 3});
  for (int i = 1; i <= n; i++) {
    char name[16];
    snprintf(name, sizeof name, "r%d", i);
    prev = cl_graph_add(g, CL_OP_RELU, name, &prev, 1, NULL);
    CL_ASSERT(prev >= 0);
  }
  return g;
}

static cl_status plan_of(const char *yaml, const cl_graph *g, int *nol) {
  char text[2048];
  snprintf(text, sizeof text,
           "model: chain\nnodes: [{name: dev, tier: device}, {name: edge, tier: edge}, {name: cloud, tier: cloud}]\n%s",
           yaml);
  cl_testbed tb;
  cl_status s = cl_testbed_load_string("plan.yaml", text, &tb);
  if (s != CL_OK) return s;
  s = cl_testbed_resolve_plan(&tb, g, nol);
  cl_testbed_free(&tb);
  return s;
}

static void check_nol(const int *nol, const char *want) {
  char got[64];
  int n = (int)strlen(want);
  for (int i = 0; i < n; i++) got[i] = (char)('0' + nol[i]);
  got[n] = '\0';
  CL_CHECK_STR_EQ(got, want);
}

static void test_plan(void) {
  cl_graph *g = chain_graph(8); /* ids 0..8: input r1..r8 */
  CL_CHECK(g != NULL);
  if (!g) return;
  int nol[9];
  CL_CHECK_OK(plan_of("plan:\n  - {node: dev, layers: \"r1..r3\"}\n  - {node: edge, layers: [r4, \"5-6\"]}\n"
                      "  - {node: cloud, layers: rest}\n",
                      g, nol));
  check_nol(nol, "000011122");
  /* non-contiguous assignment, input named explicitly */
  CL_CHECK_OK(plan_of("plan:\n  - {node: cloud, layers: \"input, r2, r4, r6, r8\"}\n"
                      "  - {node: dev, layers: \"r1, r3, r5, r7\"}\n",
                      g, nol));
  check_nol(nol, "202020202");
  /* '*' and index ranges mixed with names */
  CL_CHECK_OK(plan_of("plan: [{node: edge, layers: \"*\"}, {node: cloud, layers: \"7-8\"}]\n", g, nol));
  check_nol(nol, "011111122");
  /* cuts form: split after r2 and r5 over dev, edge, cloud */
  CL_CHECK_OK(plan_of("plan: {cuts: [r2, r5]}\n", g, nol));
  check_nol(nol, "000111222");
  CL_CHECK_OK(plan_of("plan: {cuts: [\"3\"], nodes: [cloud, dev]}\n", g, nol));
  check_nol(nol, "222200000");
  CL_CHECK_OK(plan_of("plan: {cuts: []}\n", g, nol));
  check_nol(nol, "000000000");

  static const struct {
    const char *plan, *want;
  } bad[] = {
      {"plan: [{node: dev, layers: \"r1..r3\"},\n  {node: edge, layers: \"r3..r8\"}]\n",
       "plan.yaml:4:24: field 'plan[1].layers': layer 'r3' (node 3) assigned twice: to 'dev' (line 3) and to 'edge' (line 4)"},
      {"plan: [{node: dev, layers: \"r1..r3\"}]\n",
       "plan.yaml:3:7: field 'plan': 5 layer(s) of model 'chain' are not assigned to any node, first 'r4' (node 4)"},
      {"plan: [{node: dev, layers: \"r1..r9, rest\"}]\n", "unknown layer 'r9' in model 'chain' (did you mean 'r1'?)"},
      {"plan: [{node: dev, layers: \"r5..r2, rest\"}]\n", "range 'r5..r2' is backwards"},
      {"plan: [{node: dev, layers: \"3-99, rest\"}]\n", "index range 3-99 out of range (the graph has 9 nodes, 0..8)"},
      {"plan: [{node: dev, layers: \"42, rest\"}]\n", "layer index 42 out of range"},
      {"plan: {cuts: [r4, r2]}\n", "plan.yaml:3: field 'plan.cuts[1]': cuts must follow the layer order"},
      {"plan: {cuts: [r8]}\n", "cannot cut after the last layer 'r8'"},
      {"plan: {cuts: [conv1]}\n", "unknown layer 'conv1'"},
      {"", "has no 'plan'"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    capture();
    cl_status s = plan_of(bad[i].plan, g, nol);
    release();
    CL_CHECK_INT_EQ(s, CL_ERR_CONFIG);
    int before = cl_test_failures;
    CHECK_LOG_HAS(bad[i].want);
    if (cl_test_failures != before) fprintf(stderr, "  (plan case %zu)\n", i);
  }
  cl_graph_destroy(g);
}

/* ---- fuzz ------------------------------------------------------------------------------ */

static char *read_all(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = malloc((size_t)n + 1);
  if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
    free(b);
    b = NULL;
  }
  if (b) b[n] = '\0';
  fclose(f);
  return b;
}

static void test_fuzz(void) {
  char *text = read_all("data/configs/full.yaml");
  CL_CHECK(text != NULL);
  if (!text) return;
  size_t n = strlen(text);
  char *buf = malloc(n + 1);
  int bad_status = 0, ok = 0, errs = 0;
  capture();
  /* every truncation */
  for (size_t cut = 0; cut <= n; cut++) {
    memcpy(buf, text, cut);
    buf[cut] = '\0';
    cl_testbed tb;
    cl_status s = cl_testbed_load_string("data/configs/fuzz.yaml", buf, &tb);
    if (s == CL_OK) {
      ok++;
      cl_testbed_free(&tb);
    } else if (s == CL_ERR_CONFIG) {
      errs++;
    } else {
      bad_status++;
    }
    g_log_len = 0;
  }
  /* random byte mutations: structural characters, tabs, digits, garbage */
  static const char alphabet[] = ":-[]{},#&*!|>'\"\t\n 0123456789%.aZ\x01\xff";
  uint64_t st = 99;
  for (int it = 0; it < 3000; it++) {
    memcpy(buf, text, n + 1);
    int k = 1 + (int)(cl_rng_next(&st) % 4);
    for (int j = 0; j < k; j++) {
      size_t pos = (size_t)(cl_rng_next(&st) % n);
      buf[pos] = alphabet[cl_rng_next(&st) % (sizeof alphabet - 1)];
    }
    cl_testbed tb;
    cl_status s = cl_testbed_load_string("data/configs/fuzz.yaml", buf, &tb);
    if (s == CL_OK) {
      ok++;
      char *y = NULL;
      if (cl_testbed_to_yaml(&tb, &y) != CL_OK) bad_status++;
      free(y);
      cl_testbed_free(&tb);
    } else if (s == CL_ERR_CONFIG) {
      errs++;
    } else {
      bad_status++;
    }
    g_log_len = 0;
  }
  release();
  CL_CHECK_INT_EQ(bad_status, 0);
  CL_CHECK(ok > 0 && errs > 0);
  printf("fuzz: %d accepted, %d rejected with CL_ERR_CONFIG\n", ok, errs);
  free(buf);
  free(text);
}

int main(void) {
  test_getters();
  test_syntax_errors();
  test_full();
  test_defaults_and_demo();
  test_bad_files();
  test_bad_snippets();
  test_plan();
  test_fuzz();
  return cl_test_finish("test_config");
}
