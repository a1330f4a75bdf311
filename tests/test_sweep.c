/* Experiments: expansion, ids, sampling, errors; the adaptive composition and energy
 * against the timeline (cl_rt_simulate) for the same per-step times, and the latency-
 * and energy-optimal cuts against brute force. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cl_test.h"
#include "cleave/adaptive.h"
#include "cleave/provenance.h"
#include "cleave/runtime.h"
#include "cleave/sweep.h"
#include "cleave/zoo.h"

static char g_log[4096];
static void sink(const char *line, void *ctx) {
  (void)ctx;
  snprintf(g_log, sizeof g_log, "%s", line);
}

static const char *src(void) {
  const char *s = getenv("CL_SOURCE_DIR");
  return s ? s : "..";
}

static void test_expand(void) {
  char path[1024];
  snprintf(path, sizeof path, "%s/tests/data/experiments/sweep_small.yaml", src());
  cl_sweep_exp *a = NULL, *b = NULL, *s1 = NULL, *s2 = NULL, *s3 = NULL;
  CL_CHECK_OK(cl_sweep_load(path, NULL, &a));
  CL_CHECK_OK(cl_sweep_load(path, NULL, &b));
  if (!a || !b) return;
  int n = cl_sweep_n_points(a);
  CL_CHECK(n > 20);
  CL_CHECK_INT_EQ(n, cl_sweep_n_points(b));
  int dup = 0;
  for (int i = 0; i < n; i++) {
    CL_CHECK_STR_EQ(cl_sweep_point_id(a, i), cl_sweep_point_id(b, i));
    for (int j = 0; j < i; j++) dup += !strcmp(cl_sweep_point_id(a, i), cl_sweep_point_id(a, j));
  }
  CL_CHECK_INT_EQ(dup, 0);
  /* every point text is a loadable testbed config with the right id */
  for (int i = 0; i < n; i += 7) {
    char *t = cl_sweep_point_text(a, i);
    cl_rt_setup su;
    CL_CHECK_OK(cl_rt_setup_load(cl_sweep_point_origin(a), t, &su));
    cl_rt_setup_free(&su);
    char hex[65];
    cl_sha256_hex(t, strlen(t), hex);
    CL_CHECK_STR_EQ(hex, cl_sweep_point_id(a, i));
    free(t);
  }
  /* sampling: a seeded subset, reproducible, different for another seed */
  cl_sweep_load_opts o1 = {10, 1, 7, NULL}, o2 = {10, 1, 7, NULL}, o3 = {10, 1, 8, NULL};
  CL_CHECK_OK(cl_sweep_load(path, &o1, &s1));
  CL_CHECK_OK(cl_sweep_load(path, &o2, &s2));
  CL_CHECK_OK(cl_sweep_load(path, &o3, &s3));
  if (s1 && s2 && s3) {
    CL_CHECK_INT_EQ(cl_sweep_n_points(s1), 10);
    int same = 0, in_full = 0;
    for (int i = 0; i < 10; i++) {
      CL_CHECK_STR_EQ(cl_sweep_point_id(s1, i), cl_sweep_point_id(s2, i));
      same += !strcmp(cl_sweep_point_id(s1, i), cl_sweep_point_id(s3, i));
      for (int j = 0; j < n; j++) in_full += !strcmp(cl_sweep_point_id(s1, i), cl_sweep_point_id(a, j));
    }
    CL_CHECK(same < 10);
    CL_CHECK_INT_EQ(in_full, 10);
  }
  cl_sweep_exp_destroy(a);
  cl_sweep_exp_destroy(b);
  cl_sweep_exp_destroy(s1);
  cl_sweep_exp_destroy(s2);
  cl_sweep_exp_destroy(s3);
}

static void test_errors(void) {
  static const struct {
    const char *file, *line, *msg;
  } cases[] = {
      {"bad_factor.yaml", "bad_factor.yaml:7:", "unknown factor target"},
      {"bad_empty.yaml", "bad_empty.yaml:6:", "empty level list"},
      {"bad_unit.yaml", "bad_unit.yaml:7:", "as a duration"},
      {"bad_key.yaml", "bad_key.yaml:5", "unknown key 'repetitions'"},
  };
  cl_log_set_sink(sink, NULL);
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/experiments/%s", src(), cases[k].file);
    cl_sweep_exp *e = NULL;
    g_log[0] = '\0';
    CL_CHECK_INT_EQ(cl_sweep_load(path, NULL, &e), CL_ERR_CONFIG);
    CL_CHECK(e == NULL);
    CL_CHECK(strstr(g_log, cases[k].line) != NULL);
    CL_CHECK(strstr(g_log, cases[k].msg) != NULL);
    if (!strstr(g_log, cases[k].msg)) fprintf(stderr, "  log: %s\n", g_log);
  }
  cl_log_set_sink(NULL, NULL);
}

/* Write an experiment on the test testbed with the given factors into a temporary file. */
static void write_exp(const char *path, const char *factors) {
  FILE *f = fopen(path, "w");
  if (!f) return;
  fprintf(f, "kind: testbed\ntestbed: %s/tests/data/experiments/tb2.yaml\nmodels: [lenet]\nplans: [{cuts: [pool1]}]\n"
             "factors:\n%s", src(), factors);
  fclose(f);
}

/* Issue 13: a factor with more than 32,767 levels (the level index was 16 bits) and a
 * grid whose size overflows `long` (a clear error, no crash). */
static void test_huge_grids(void) {
  char path[] = "/tmp/cl_test_sweep_XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) {
    CL_CHECK(0);
    return;
  }
  close(fd);
  /* 40,000 speed levels: every point's text carries its own level */
  size_t cap = 64 + 40000 * 8;
  char *lv = malloc(cap);
  size_t n = (size_t)snprintf(lv, cap, "  - {set: nodes.cloud.speed, levels: [");
  for (int i = 1; i <= 40000; i++) n += (size_t)snprintf(lv + n, cap - n, "%s%d", i > 1 ? "," : "", i);
  snprintf(lv + n, cap - n, "]}\n");
  write_exp(path, lv);
  free(lv);
  cl_sweep_exp *e = NULL;
  CL_CHECK_OK(cl_sweep_load(path, NULL, &e));
  if (e) {
    CL_CHECK_INT_EQ(cl_sweep_n_points(e), 40000);
    int idx[] = {0, 32766, 32767, 32768, 39999};
    for (size_t k = 0; k < sizeof idx / sizeof idx[0]; k++) {
      char *t = cl_sweep_point_text(e, idx[k]);
      char want[64];
      snprintf(want, sizeof want, "cloud, speed: %d,", idx[k] + 1);
      CL_CHECK(t && strstr(t, want) != NULL);
      free(t);
    }
    cl_sweep_exp_destroy(e);
  }
  /* 8 factors x 1,000 levels = 10^24 points: refused with a message, not a crash */
  static const char *const targets[] = {"nodes.device.speed", "nodes.cloud.speed", "nodes.device.threads",
                                        "nodes.cloud.threads", "links.device->cloud.latency",
                                        "links.device->cloud.jitter", "links.device->cloud.bandwidth",
                                        "nodes.device.cpu_load"};
  cap = 8 * (80 + 1000 * 12);
  char *fs = malloc(cap);
  n = 0;
  for (int k = 0; k < 8; k++) {
    n += (size_t)snprintf(fs + n, cap - n, "  - {set: %s, levels: [", targets[k]);
    for (int i = 1; i <= 1000; i++) {
      const char *unit = k == 4 || k == 5 ? "ms" : k == 6 ? "Mbit/s" : "";
      if (k == 7) n += (size_t)snprintf(fs + n, cap - n, "%s%g", i > 1 ? "," : "", i / 1000.0);
      else n += (size_t)snprintf(fs + n, cap - n, "%s%d%s", i > 1 ? "," : "", i, unit);
    }
    n += (size_t)snprintf(fs + n, cap - n, "]}\n");
  }
  write_exp(path, fs);
  free(fs);
  cl_log_set_sink(sink, NULL);
  g_log[0] = '\0';
  e = NULL;
  CL_CHECK_INT_EQ(cl_sweep_load(path, NULL, &e), CL_ERR_CONFIG);
  CL_CHECK(e == NULL);
  CL_CHECK(strstr(g_log, "the grid") != NULL && strstr(g_log, "more than 50000000 points") != NULL);
  if (!strstr(g_log, "the grid")) fprintf(stderr, "  log: %s\n", g_log);
  cl_log_set_sink(NULL, NULL);
  unlink(path);
}

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (!f) return;
  fputs(text, f);
  fclose(f);
}

/* Issue 14: nodes.NAME.device selects catalogue devices per level: every point's config
 * names the device (no host-relative speed), the record keeps the level index, and bad
 * levels (unknown device, a name twice, a base node whose speed: would mask the device)
 * are errors naming the experiment's line. */
static void test_device_factor(void) {
  char tb[] = "/tmp/cl_test_sweep_tb_XXXXXX", ex[] = "/tmp/cl_test_sweep_ex_XXXXXX";
  int f1 = mkstemp(tb), f2 = mkstemp(ex);
  if (f1 < 0 || f2 < 0) {
    CL_CHECK(0);
    return;
  }
  close(f1);
  close(f2);
  write_text(tb, "model: lenet\nseed: 3\nnodes:\n  - {name: device, tier: device, device: raspi4}\n"
                 "  - {name: cloud, tier: cloud, device: i7-6700k}\n"
                 "links:\n  - {from: device, to: cloud, latency: 20ms, bandwidth: 20Mbit/s}\n"
                 "plan: {cuts: [input]}\nworkload: {inferences: 1}\n");
  static const char *const devs[] = {"i7-6700k-gpu", "vm2core", "raspi3"};
  char text[2048];
  snprintf(text, sizeof text,
           "kind: testbed\ntestbed: %s\nmodels: [lenet]\nplans: [{cuts: [pool1]}]\nfactors:\n"
           "  - {set: nodes.cloud.device, levels: [%s, %s, %s]}\n"
           "  - {set: links.device->cloud.bandwidth, levels: [1Mbit/s, 10Mbit/s]}\n",
           tb, devs[0], devs[1], devs[2]);
  write_text(ex, text);
  cl_sweep_exp *e = NULL;
  CL_CHECK_OK(cl_sweep_load(ex, NULL, &e));
  if (e) {
    CL_CHECK_INT_EQ(cl_sweep_n_points(e), 6);
    int seen[3] = {0, 0, 0};
    for (int i = 0; i < cl_sweep_n_points(e); i++) {
      char *t = cl_sweep_point_text(e, i);
      cl_rt_setup su;
      CL_CHECK(t != NULL);
      if (!t) continue;
      CL_CHECK(strstr(t, "speed") == NULL); /* devices, not host-relative factors */
      CL_CHECK_OK(cl_rt_setup_load(cl_sweep_point_origin(e), t, &su));
      CL_CHECK(su.device_models != NULL);
      for (int d = 0; d < 3 && su.device_models; d++)
        if (!strcmp(su.device_models[1].name, devs[d])) seen[d]++;
      if (su.device_models) CL_CHECK_STR_EQ(su.device_models[0].name, "raspi4");
      cl_rt_setup_free(&su);
      free(t);
    }
    for (int d = 0; d < 3; d++) CL_CHECK_INT_EQ(seen[d], 2);
    cl_sweep_exp_destroy(e);
  }
  static const struct {
    const char *levels, *msg;
  } bad[] = {
      {"[raspi4, nosuch-device]", "unknown device 'nosuch-device'"},
      {"[raspi4, vm2core, raspi4]", "device 'raspi4' is listed twice"},
  };
  cl_log_set_sink(sink, NULL);
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    snprintf(text, sizeof text,
             "kind: testbed\ntestbed: %s\nmodels: [lenet]\nplans: [{cuts: [pool1]}]\nfactors:\n"
             "  - {set: nodes.cloud.device, levels: %s}\n",
             tb, bad[k].levels);
    write_text(ex, text);
    g_log[0] = '\0';
    e = NULL;
    CL_CHECK_INT_EQ(cl_sweep_load(ex, NULL, &e), CL_ERR_CONFIG);
    CL_CHECK(e == NULL);
    char where[256];
    snprintf(where, sizeof where, "%s:6:", ex);
    CL_CHECK(strstr(g_log, where) != NULL && strstr(g_log, bad[k].msg) != NULL);
    if (!strstr(g_log, bad[k].msg)) fprintf(stderr, "  log: %s\n", g_log);
  }
  /* tb2's nodes say speed:, which overrides any device model */
  write_exp(ex, "  - {set: nodes.cloud.device, levels: [raspi4]}\n");
  g_log[0] = '\0';
  e = NULL;
  CL_CHECK_INT_EQ(cl_sweep_load(ex, NULL, &e), CL_ERR_CONFIG);
  CL_CHECK(strstr(g_log, "sets speed:") != NULL);
  if (!strstr(g_log, "sets speed:")) fprintf(stderr, "  log: %s\n", g_log);
  cl_log_set_sink(NULL, NULL);
  unlink(tb);
  unlink(ex);
}

/* Power models of the chain tests: edge radio in W, cloud radio in J/B. */
static const cl_node_power k_pw[2] = {{1.7, 6.1, 0.9, 0.0, 0.0, 0.0}, {28.0, 93.0, 0.0, 0.0, 0.0, 2e-8}};

/* The timeline (cl_rt_simulate) of one inference of cut c, repetition rep, on an edge of
 * speed 3 and a cloud of speed 0.5 linked by 12 ms / 2.5 MB/s, with the k_pw powers:
 * each step's host time on its first graph node, from the profile of its side. */
static cl_status chain_timeline(const cl_adaptive_model *m, const cl_graph *g, const char *model,
                                const cl_adaptive_profile *pe, const cl_adaptive_profile *pc, int c, int rep,
                                cl_inference_result *ir) {
  char text[2048], pl[256];
  const char *plan = c == m->n_cuts - 1 ? "[{node: edge, layers: rest}]" : pl;
  snprintf(pl, sizeof pl, "{cuts: [\"%s\"]}", m->cut_name[c]);
  snprintf(text, sizeof text,
           "model: %s\nnodes:\n"
           "  - {name: edge, tier: edge, speed: 3, power: {idle: %gW, busy: %gW, tx: %gW}}\n"
           "  - {name: cloud, tier: cloud, speed: 0.5, power: {idle: %gW, busy: %gW, rx_per_byte: %gJ/B}}\n"
           "links:\n  - {from: edge, to: cloud, latency: 12ms, bandwidth: 2.5MB/s}\nplan: %s\n",
           model, k_pw[0].idle, k_pw[0].busy, k_pw[0].tx, k_pw[1].idle, k_pw[1].busy, k_pw[1].rx_per_byte,
           plan);
  cl_rt_setup su;
  CL_TRY(cl_rt_setup_load("<compose test>", text, &su));
  const int S = m->n_steps;
  double *nt = calloc((size_t)cl_graph_size(g), sizeof(double));
  if (!nt) {
    cl_rt_setup_free(&su);
    return CL_ERR_NOMEM;
  }
  for (int k = 0; k < S; k++)
    nt[m->step_node[k]] = k < m->cut_edge_steps[c] ? pe->wall[(size_t)rep * S + k] : pc->wall[(size_t)rep * S + k];
  cl_rt_tasks tasks;
  cl_timeline *tl = NULL;
  su.inferences = 1;
  cl_status st = cl_rt_simulate(g, &su, nt, &tasks, &tl);
  if (st == CL_OK) st = cl_timeline_inference(tl, 0, ir);
  cl_timeline_destroy(tl);
  if (tl) cl_rt_tasks_free(&tasks);
  cl_rt_setup_free(&su);
  free(nt);
  return st;
}

/* Synthetic profiles of R repetitions: 0.1 .. 100 ms per step. */
static void fill_profiles(int S, int R, uint64_t seed, cl_adaptive_profile *pe, cl_adaptive_profile *pc) {
  *pe = (cl_adaptive_profile){.n_steps = S, .reps = R, .wall = malloc(sizeof(double) * S * R)};
  *pc = (cl_adaptive_profile){.n_steps = S, .reps = R, .wall = malloc(sizeof(double) * S * R)};
  for (int i = 0; i < S * R; i++) {
    pe->wall[i] = 1e-4 * (double)(1 + cl_rng_next(&seed) % 1000);
    pc->wall[i] = 1e-4 * (double)(1 + cl_rng_next(&seed) % 1000);
  }
}

/* The closed-form chain of cl_adaptive_compose and cl_adaptive_energy equals the
 * timeline of cl_rt_simulate (latency and the energy accounting of runtime/energy.c)
 * for the same per-step times. */
static void test_compose_vs_timeline(void) {
  const char *model = "alexnet";
  cl_adaptive_model *m = NULL;
  CL_CHECK_OK(cl_adaptive_model_create(model, &m));
  cl_graph *g = NULL;
  CL_CHECK_OK(cl_zoo_build(model, &g));
  if (!m || !g) return;
  cl_adaptive_profile pe, pc;
  fill_profiles(m->n_steps, 2, 99, &pe, &pc);
  cl_adaptive_link lk = {.edge_speed = 3.0, .cloud_speed = 0.5, .latency = 0.012, .bandwidth = 2.5e6,
                         .power = {k_pw[0], k_pw[1]}};
  for (int c = 0; c < m->n_cuts; c++) {
    cl_inference_result ir;
    CL_CHECK_OK(chain_timeline(m, g, model, &pe, &pc, c, 1, &ir));
    double es = 0, cs = 0, ej = 0, cj = 0;
    double mine = cl_adaptive_compose(m, &pe, &pc, &lk, c, 1, NULL, NULL, &es, NULL, &cs);
    CL_CHECK_NEAR(mine, ir.latency, 1e-9 * ir.latency);
    double e = cl_adaptive_energy(&lk, es, cs, m->cut_bytes[c], &ej, &cj);
    CL_CHECK_NEAR(e, ir.energy, 1e-9 * ir.energy);
    CL_CHECK_NEAR(e, ej + cj, 1e-12 * e);
    CL_CHECK_NEAR(ej + cj - k_pw[0].busy * es - k_pw[1].busy * cs, ir.energy_tx + ir.energy_rx + ir.energy_idle,
                  1e-9 * ir.energy);
  }
  free(pe.wall);
  free(pc.wall);
  cl_adaptive_model_destroy(m);
  cl_graph_destroy(g);
}

static int cmp_dbl(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double naive_median(double *x, int n) {
  qsort(x, (size_t)n, sizeof *x, cmp_dbl);
  return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

/* Energy- and latency-optimal cuts against brute force over cuts: every cut and
 * repetition simulated by the timeline, medians by sorting, argmin (first on ties);
 * the per-repeat medians and spreads of cl_adaptive_cut_summary likewise. */
static void test_optimal_cuts_brute_force(void) {
  const char *model = "lenet";
  cl_adaptive_model *m = NULL;
  cl_graph *g = NULL;
  CL_CHECK_OK(cl_adaptive_model_create(model, &m));
  CL_CHECK_OK(cl_zoo_build(model, &g));
  if (!m || !g) return;
  const int Q = 3, K = 3, R = Q * K, NC = m->n_cuts;
  cl_adaptive_link lk = {.edge_speed = 3.0, .cloud_speed = 0.5, .latency = 0.012, .bandwidth = 2.5e6,
                         .power = {k_pw[0], k_pw[1]}};
  cl_adaptive_cut_stat *cs = calloc((size_t)NC, sizeof *cs);
  double *lat = malloc(sizeof(double) * R * NC), *en = malloc(sizeof(double) * R * NC), v[64];
  int differ = 0;
  for (uint64_t seed = 1; seed <= 6 && cs && lat && en; seed++) {
    cl_adaptive_profile pe, pc;
    fill_profiles(m->n_steps, R, seed, &pe, &pc);
    double rl[16], re[16];
    for (int c = 0; c < NC; c++) {
      CL_CHECK_OK(cl_adaptive_cut_summary(m, &pe, &pc, &lk, c, Q, &cs[c], rl, re));
      for (int r = 0; r < R; r++) {
        cl_inference_result ir;
        CL_CHECK_OK(chain_timeline(m, g, model, &pe, &pc, c, r, &ir));
        lat[c * R + r] = ir.latency;
        en[c * R + r] = ir.energy;
      }
      double lo = 1e300, hi = -1e300;
      for (int q = 0; q < Q; q++) { /* per-repeat medians and their spread */
        memcpy(v, lat + c * R + q * K, sizeof(double) * K);
        double mq = naive_median(v, K);
        CL_CHECK_NEAR(rl[q], mq, 1e-9 * mq);
        lo = mq < lo ? mq : lo;
        hi = mq > hi ? mq : hi;
        memcpy(v, en + c * R + q * K, sizeof(double) * K);
        double eq = naive_median(v, K);
        CL_CHECK_NEAR(re[q], eq, 1e-9 * eq);
      }
      CL_CHECK_NEAR(cs[c].latency_spread, hi - lo, 1e-9 * hi);
    }
    int bl = 0, be = 0;
    double ml = 1e300, me = 1e300;
    for (int c = 0; c < NC; c++) {
      memcpy(v, lat + c * R, sizeof(double) * R);
      double a = naive_median(v, R);
      memcpy(v, en + c * R, sizeof(double) * R);
      double b = naive_median(v, R);
      CL_CHECK_NEAR(cs[c].latency, a, 1e-9 * a);
      CL_CHECK_NEAR(cs[c].energy, b, 1e-9 * b);
      if (a < ml) ml = a, bl = c;
      if (b < me) me = b, be = c;
    }
    CL_CHECK_INT_EQ(cl_adaptive_best_cut(cs, NC, 0), bl);
    CL_CHECK_INT_EQ(cl_adaptive_best_cut(cs, NC, 1), be);
    differ += bl != be;
    free(pe.wall);
    free(pc.wall);
  }
  /* with these powers (the cloud burns 15x the edge's busy power) the two optima differ
   * for some of the random profiles: the test exercises the energy ranking */
  CL_CHECK(differ > 0);
  free(cs);
  free(lat);
  free(en);
  cl_adaptive_model_destroy(m);
  cl_graph_destroy(g);
}

int main(void) {
  test_expand();
  test_errors();
  test_huge_grids();
  test_device_factor();
  test_compose_vs_timeline();
  test_optimal_cuts_brute_force();
  return cl_test_finish("test_sweep");
}
