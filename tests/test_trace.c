/* Bandwidth trace CSV files (runtime/testbed.c, load_trace): every value finite and in
 * the range of its column (docs/config.md, "Trace files"), errors FILE:LINE naming the
 * column, and the accepted forms (header, comments, spaces, 0 = link down). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cl_test.h"
#include "cleave/testbed.h"

static char g_log[4096];

static void sink(const char *line, void *ctx) {
  (void)ctx;
  snprintf(g_log + strlen(g_log), sizeof g_log - strlen(g_log), "%s\n", line);
}

static char g_dir[256];

/* Loads a two-node testbed whose link follows a trace with text @p csv. */
static cl_status load(const char *csv, cl_testbed *tb) {
  char path[512];
  snprintf(path, sizeof path, "%s/t.csv", g_dir);
  FILE *f = fopen(path, "w");
  if (!f) return CL_ERR_IO;
  fputs(csv, f);
  fclose(f);
  snprintf(path, sizeof path, "%s/tb.yaml", g_dir);
  static const char *yaml =
      "model: lenet\n"
      "nodes:\n"
      "  - {name: device, tier: device}\n"
      "  - {name: edge, tier: edge}\n"
      "links:\n"
      "  - {from: device, to: edge, latency: 5ms, trace: t.csv}\n";
  g_log[0] = '\0';
  cl_log_set_sink(sink, NULL);
  memset(tb, 0, sizeof *tb);
  cl_status st = cl_testbed_load_string(path, yaml, tb);
  cl_log_set_sink(NULL, NULL);
  return st;
}

typedef struct bad_trace {
  const char *csv;
  const char *want[2]; /* substrings of the single error line */
} bad_trace;

static void test_bad(void) {
  static const bad_trace cases[] = {
      {"0,10\n1,nan\n", {"t.csv:2:", "column Mbit/s: 'nan' is not a finite number"}},
      {"0,10\n1,inf\n", {"t.csv:2:", "column Mbit/s: 'inf' is not a finite number"}},
      {"0,10\n1,1e999\n", {"t.csv:2:", "column Mbit/s: '1e999' is not a finite number"}},
      {"time_s,Mbit/s\n1e999,5\n", {"t.csv:2:", "column time_s: '1e999' is not a finite number"}},
      {"0,10\n-1,5\n", {"t.csv:2:", "column time_s: -1 is out of range: [0, 1e+09]"}},
      {"0,10\n2e9,5\n", {"t.csv:2:", "column time_s: 2e+09 is out of range"}},
      {"0,-3\n", {"t.csv:1:", "column Mbit/s: -3 is out of range: 0 or [1e-06, 1e+07]"}},
      {"# c\n0,2e7\n", {"t.csv:2:", "column Mbit/s: 2e+07 is out of range"}},
      {"0,1e-9\n", {"t.csv:1:", "column Mbit/s: 1e-09 is out of range"}},
      {"0,10\n1,5Mbit\n", {"t.csv:2:", "column Mbit/s: '5Mbit' is not a number"}},
      {"0,10\n1,\n", {"t.csv:2:", "column Mbit/s: '' is not a number"}},
      {"0,10\n1,2,3\n", {"t.csv:2:", "expected 'time_s,Mbit/s' (two numbers)"}},
      {"0,10\n1 5\n", {"t.csv:2:", "expected 'time_s,Mbit/s' (two numbers)"}},
      {"0,10\nx,5\n", {"t.csv:2:", "column time_s: 'x' is not a number"}},
      {"0,10\n0,5\n", {"t.csv:2:", "time 0 s is not after the previous point"}},
      {"time_s,Mbit/s\n# only a header\n", {"t.csv:2:", "trace has no data points"}},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    cl_testbed tb;
    cl_status st = load(cases[i].csv, &tb);
    CL_CHECK_INT_EQ(st, CL_ERR_CONFIG);
    for (int k = 0; k < 2; k++)
      if (!strstr(g_log, cases[i].want[k])) {
        cl_test_failures++;
        fprintf(stderr, "case %zu (%s): log lacks \"%s\"; log was:\n%s", i, cases[i].csv, cases[i].want[k], g_log);
      }
    CL_CHECK(strstr(g_log, "field 'links[0].trace' at ") != NULL);
    CL_CHECK(strchr(g_log, '\n') == g_log + strlen(g_log) - 1); /* one line */
    cl_testbed_free(&tb);
  }
}

static void test_good(void) {
  cl_testbed tb;
  /* header, comment, blank line, spaces and CR, link down, the range ends */
  cl_status st = load("time_s , Mbit/s\n# comment\n\n0, 50\n 1.5 ,0\r\n3,1e-6\n4,1e7\n1e9,+7\n", &tb);
  CL_CHECK_INT_EQ(st, CL_OK);
  if (st == CL_OK) {
    CL_CHECK_INT_EQ(tb.links[0].trace_n, 5);
    CL_CHECK(tb.links[0].trace_bw[0] == 50 * 125000.0);
    CL_CHECK(tb.links[0].trace_bw[1] == 0);
    CL_CHECK_NEAR(tb.links[0].trace_bw[2], 0.125, 1e-12); /* 1 bit/s */
    CL_CHECK(tb.links[0].trace_bw[3] == 1.25e12);        /* 10 Tbit/s */
    CL_CHECK(tb.links[0].trace_t[4] == 1e9);
  } else {
    fprintf(stderr, "%s", g_log);
  }
  cl_testbed_free(&tb);
}

int main(void) {
  snprintf(g_dir, sizeof g_dir, "%s/cl_trace.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  if (!mkdtemp(g_dir)) return 1;
  test_bad();
  test_good();
  char p[300];
  snprintf(p, sizeof p, "%s/t.csv", g_dir);
  remove(p);
  rmdir(g_dir);
  return cl_test_finish("test_trace");
}
