/* Work reuse across sweep points (runtime/exec_cache.c, runtime/sweep_eval.c):
 *  1. the executor cache: hits, misses, LRU eviction by bytes, pinned entries never
 *     evicted, capacity 0 = no reuse, dropping a graph's executors;
 *  2. a reused executor (after other executors ran in between) gives the outputs of a
 *     fresh one, bit for bit, on a model split over two executors (squeezenet1_1:
 *     concats, external inputs) on every available backend;
 *  3. profile mode: a testbed point with `profile: FILE` runs nothing and its latency
 *     equals the formula: sum of the edge steps' profiled times x edge slowdown +
 *     link latency + bytes / bandwidth + the cloud steps' times x cloud slowdown;
 *  4. a testbed point evaluated with a cache (twice: reused executors) and without has
 *     the same records apart from timing (inference count, bytes). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../runtime/sweep_internal.h"
#include "cl_test.h"
#include "cleave/exec.h"
#include "cleave/runtime.h"
#include "cleave/zoo.h"

/* Two halves of g's nodes: mask[r][i] = 1 when node i is in half r. */
static void halves(int n, uint8_t *m0, uint8_t *m1) {
  for (int i = 0; i < n; i++) m1[i] = !(m0[i] = i * 2 < n);
}

static cl_exec_opts opts_for(const uint8_t *mask, cl_backend b) {
  cl_exec_opts o = cl_exec_opts_default();
  o.run_mask = mask;
  o.backend = b;
  return o;
}

static void test_cache_policy(cl_graph *g) {
  int n = cl_graph_size(g);
  uint8_t *m0 = malloc((size_t)n), *m1 = malloc((size_t)n);
  halves(n, m0, m1);
  cl_exec_opts o0 = opts_for(m0, CL_BACKEND_PORTABLE), o1 = opts_for(m1, CL_BACKEND_PORTABLE);
  cl__exec_cache *c = NULL;
  CL_CHECK_OK(cl__exec_cache_create((size_t)1 << 40, &c));
  cl_exec *a = NULL, *a2 = NULL, *b = NULL;
  CL_CHECK_OK(cl__exec_cache_get(c, g, &o0, &a));
  cl__exec_cache_release(c, a);
  CL_CHECK_OK(cl__exec_cache_get(c, g, &o0, &a2));
  CL_CHECK(a == a2); /* same key: the same executor */
  cl__exec_cache_stats s = cl__exec_cache_stats_get(c);
  CL_CHECK_INT_EQ((int)s.hits, 1);
  CL_CHECK_INT_EQ((int)s.misses, 1);
  CL_CHECK_OK(cl__exec_cache_get(c, g, &o1, &b)); /* other mask: a miss */
  CL_CHECK(b != a);
  cl_exec_opts o0t = o0;
  o0t.threads = 2; /* other thread count: another executor */
  cl_exec *at = NULL;
  CL_CHECK_OK(cl__exec_cache_get(c, g, &o0t, &at));
  CL_CHECK(at != a);
  s = cl__exec_cache_stats_get(c);
  CL_CHECK_INT_EQ((int)s.misses, 3);
  CL_CHECK_INT_EQ(s.entries, 3);
  size_t one = cl_exec_memory_bytes(a), other = cl_exec_memory_bytes(b);
  CL_CHECK(s.bytes == one + other + cl_exec_memory_bytes(at));
  cl__exec_cache_release(c, a2);
  cl__exec_cache_release(c, b);
  cl__exec_cache_release(c, at);
  cl__exec_cache_destroy(c);

  /* Budget of one executor: the least recently used unpinned one goes. */
  size_t cap = (one > other ? one : other) + 1;
  CL_CHECK_OK(cl__exec_cache_create(cap, &c));
  CL_CHECK_OK(cl__exec_cache_get(c, g, &o0, &a));
  cl__exec_cache_release(c, a);
  CL_CHECK_OK(cl__exec_cache_get(c, g, &o1, &b)); /* evicts a */
  s = cl__exec_cache_stats_get(c);
  CL_CHECK_INT_EQ((int)s.evictions, 1);
  CL_CHECK_INT_EQ(s.entries, 1);
  CL_CHECK(s.bytes <= cap);
  /* b is pinned: getting a again goes over budget rather than evicting b */
  CL_CHECK_OK(cl__exec_cache_get(c, g, &o0, &a));
  s = cl__exec_cache_stats_get(c);
  CL_CHECK_INT_EQ(s.entries, 2);
  CL_CHECK_INT_EQ((int)s.evictions, 1);
  CL_CHECK_INT_EQ((int)s.misses, 3);
  cl__exec_cache_release(c, b); /* b is now the LRU unpinned entry: evicted */
  s = cl__exec_cache_stats_get(c);
  CL_CHECK_INT_EQ(s.entries, 1);
  CL_CHECK_INT_EQ((int)s.evictions, 2);
  cl__exec_cache_release(c, a);
  CL_CHECK_OK(cl__exec_cache_get(c, g, &o0, &a2)); /* a survived: a hit */
  CL_CHECK(a2 == a);
  CL_CHECK_INT_EQ((int)cl__exec_cache_stats_get(c).hits, 1);
  cl__exec_cache_release(c, a2);
  cl__exec_cache_drop_graph(c, g);
  CL_CHECK_INT_EQ(cl__exec_cache_stats_get(c).entries, 0);
  CL_CHECK(cl__exec_cache_stats_get(c).bytes == 0);
  cl__exec_cache_destroy(c);

  /* Capacity 0: no reuse at all. */
  CL_CHECK_OK(cl__exec_cache_create(0, &c));
  for (int r = 0; r < 2; r++) {
    CL_CHECK_OK(cl__exec_cache_get(c, g, &o0, &a));
    cl__exec_cache_release(c, a);
  }
  s = cl__exec_cache_stats_get(c);
  CL_CHECK_INT_EQ((int)s.hits, 0);
  CL_CHECK_INT_EQ((int)s.misses, 2);
  CL_CHECK_INT_EQ(s.entries, 0);
  cl__exec_cache_destroy(c);
  free(m0);
  free(m1);
}

/* Run the two halves (first fills the input, tensors the second reads are copied);
 * returns a malloc'd copy of the output. */
static float *run_halves(cl_graph *g, cl_exec *e0, cl_exec *e1, const uint8_t *m1) {
  int n = cl_graph_size(g), out = cl_graph_output(g);
  cl_exec_fill_input(e0, 3);
  CL_CHECK_OK(cl_exec_run(e0));
  for (int i = 0; i < n; i++) {
    float *to = m1[i] ? NULL : cl_exec_buffer(e1, i), *from = cl_exec_buffer(e0, i);
    if (to && from) memcpy(to, from, sizeof(float) * (size_t)cl_shape_numel(cl_graph_node(g, i)->out));
  }
  CL_CHECK_OK(cl_exec_run(e1));
  size_t bytes = sizeof(float) * (size_t)cl_shape_numel(cl_graph_node(g, out)->out);
  float *y = malloc(bytes);
  if (y) memcpy(y, cl_exec_buffer(e1, out), bytes);
  return y;
}

static void test_reuse_outputs(cl_graph *g) {
  int n = cl_graph_size(g);
  size_t bytes = sizeof(float) * (size_t)cl_shape_numel(cl_graph_node(g, cl_graph_output(g))->out);
  uint8_t *m0 = malloc((size_t)n), *m1 = malloc((size_t)n), *mall = malloc((size_t)n);
  halves(n, m0, m1);
  memset(mall, 1, (size_t)n);
  for (int bi = 0; bi < 2; bi++) {
    cl_backend b = bi ? CL_BACKEND_DNNL : CL_BACKEND_PORTABLE;
    if (!cl_backend_available(b)) continue;
    cl_exec_opts o0 = opts_for(m0, b), o1 = opts_for(m1, b), oa = opts_for(mall, b);
    cl_exec *f0 = NULL, *f1 = NULL;
    CL_CHECK_OK(cl_exec_create(g, &o0, &f0));
    CL_CHECK_OK(cl_exec_create(g, &o1, &f1));
    float *fresh = f0 && f1 ? run_halves(g, f0, f1, m1) : NULL;
    cl_exec_destroy(f0);
    cl_exec_destroy(f1);
    cl__exec_cache *c = NULL;
    CL_CHECK_OK(cl__exec_cache_create((size_t)1 << 40, &c));
    float *y[2] = {NULL, NULL};
    for (int r = 0; r < 2; r++) {
      cl_exec *e0 = NULL, *e1 = NULL, *whole = NULL;
      CL_CHECK_OK(cl__exec_cache_get(c, g, &o0, &e0));
      CL_CHECK_OK(cl__exec_cache_get(c, g, &o1, &e1));
      if (e0 && e1) y[r] = run_halves(g, e0, e1, m1);
      cl__exec_cache_release(c, e0);
      cl__exec_cache_release(c, e1);
      /* another executor of the graph runs in between (other buffers, same weights) */
      CL_CHECK_OK(cl__exec_cache_get(c, g, &oa, &whole));
      cl_exec_fill_input(whole, 11);
      CL_CHECK_OK(cl_exec_run(whole));
      cl__exec_cache_release(c, whole);
    }
    CL_CHECK_INT_EQ((int)cl__exec_cache_stats_get(c).hits, 3);
    CL_CHECK(fresh && y[0] && y[1]);
    if (fresh && y[0] && y[1]) {
      CL_CHECK(!memcmp(y[0], fresh, bytes));
      CL_CHECK(!memcmp(y[1], fresh, bytes)); /* the reused executors */
    }
    printf("reused executors (%s): output %s a fresh executor's\n", cl_backend_name(b),
           fresh && y[1] && !memcmp(y[1], fresh, bytes) ? "bit-identical to" : "DIFFERENT from");
    free(fresh);
    free(y[0]);
    free(y[1]);
    cl__exec_cache_destroy(c);
  }
  free(m0);
  free(m1);
  free(mall);
}

/* A 2-node LeNet testbed cut after node @p cut, optionally with `profile: FILE`. */
static char *lenet_text(const char *cut, const char *profile) {
  char *t = malloc(2048);
  if (!t) return NULL;
  snprintf(t, 2048,
           "model: lenet\nseed: 1\n"
           "nodes:\n  - {name: edge, tier: edge, speed: 2.0, cpu_load: 50%%, threads: 1}\n"
           "  - {name: cloud, tier: cloud, speed: 0.5, threads: 1}\n"
           "links:\n  - {from: edge, to: cloud, latency: 10ms, bandwidth: 8Mbit/s}\n"
           "plan: {cuts: [%s]}\nworkload: {inferences: 2}\n%s%s%s",
           cut, profile ? "profile: " : "", profile ? profile : "", profile ? "\n" : "");
  return t;
}

static void test_profile_formula(cl_graph *g, const char *cut) {
  const char *bdir = getenv("CL_BUILD_DIR");
  CL_CHECK(bdir != NULL); /* set by ctest: the test needs the cleave binary */
  if (!bdir) return;
  char prof[256], cmd[1024];
  snprintf(prof, sizeof prof, "/tmp/cl_test_exec_cache_%d.h5", (int)getpid());
  snprintf(cmd, sizeof cmd, "%s/cleave profile lenet -o %s --reps 3 --warmup 1 --force > /dev/null", bdir, prof);
  CL_CHECK_INT_EQ(system(cmd), 0);
  char *text = lenet_text(cut, prof);
  cl_rt_setup su;
  CL_CHECK_OK(cl_rt_setup_load("test_exec_cache", text, &su));
  int n = cl_graph_size(g);
  double *t = calloc((size_t)n, sizeof(double));
  CL_CHECK_OK(cl_rt_node_times_for_setup(prof, &su, g, t));
  double edge = 0, cloud = 0, s0 = cl_rt_effective_slowdown(2.0, 0.5, 0), s1 = cl_rt_effective_slowdown(0.5, 0, 0);
  int64_t xbytes = 0;
  int cut_node = -1;
  for (int i = 0; i < n; i++) {
    if (su.node_of_layer[i] == 0) edge += t[i] * s0;
    else cloud += t[i] * s1;
    if (!strcmp(cl_graph_node(g, i)->name, cut)) cut_node = i;
  }
  CL_CHECK(cut_node >= 0);
  if (cut_node >= 0) xbytes = cl_shape_numel(cl_graph_node(g, cut_node)->out) * (int64_t)sizeof(float);
  double expect = edge + 0.010 + (double)xbytes / 1e6; /* 8 Mbit/s = 1e6 B/s */
  expect += cloud;
  cl_sweep_tb_result r;
  CL_CHECK_OK(cl_sweep_eval_testbed("test_exec_cache", text, NULL, NULL, &r));
  CL_CHECK_INT_EQ(r.inferences, 2);
  if (r.inferences == 2) {
    printf("profile mode: latency %.9f s, formula %.9f s (edge %.6f + link %.6f + cloud %.6f)\n", r.latency[0], expect,
           edge, 0.010 + (double)xbytes / 1e6, cloud);
    CL_CHECK(fabs(r.latency[0] - expect) <= 1e-12 * expect);
    CL_CHECK(r.inf_bytes[0] == (uint64_t)xbytes);
    CL_CHECK(r.latency[1] == r.latency[0]); /* no measurement noise: every inference the same */
  }
  /* With a gcache (as sweeps run): the same numbers, the profile read once. */
  cl__sweep_gcache *gc = calloc(1, sizeof *gc);
  cl_sweep_tb_result r2;
  for (int k = 0; k < 2; k++) {
    CL_CHECK_OK(cl__sweep_eval_testbed_cached("test_exec_cache", text, gc, NULL, NULL, &r2));
    CL_CHECK(r2.inferences == r.inferences && r2.latency[0] == r.latency[0]);
    cl_sweep_tb_result_free(&r2);
  }
  CL_CHECK(gc->ex == NULL); /* profile mode built no executor */
  cl__sweep_gcache_free(gc);
  cl_sweep_tb_result_free(&r);
  cl_rt_setup_free(&su);
  free(t);
  free(text);
  remove(prof);
}

/* Execute mode with and without reuse: same records apart from timing. */
static void test_eval_reuse(const char *cut) {
  char *text = lenet_text(cut, NULL);
  cl_sweep_tb_result fresh, a, b;
  CL_CHECK_OK(cl_sweep_eval_testbed("test_exec_cache", text, NULL, NULL, &fresh));
  cl__sweep_gcache *gc = calloc(1, sizeof *gc);
  CL_CHECK_OK(cl__sweep_eval_testbed_cached("test_exec_cache", text, gc, NULL, NULL, &a));
  CL_CHECK_OK(cl__sweep_eval_testbed_cached("test_exec_cache", text, gc, NULL, NULL, &b));
  cl__exec_cache_stats s = gc->ex ? cl__exec_cache_stats_get(gc->ex) : (cl__exec_cache_stats){0};
  CL_CHECK_INT_EQ((int)s.misses, 2); /* one executor per node, made once */
  CL_CHECK_INT_EQ((int)s.hits, 2);
  CL_CHECK_INT_EQ(a.inferences, fresh.inferences);
  CL_CHECK_INT_EQ(b.inferences, fresh.inferences);
  for (int i = 0; i < fresh.inferences && i < a.inferences && i < b.inferences; i++) {
    CL_CHECK(a.inf_bytes[i] == fresh.inf_bytes[i] && b.inf_bytes[i] == fresh.inf_bytes[i]);
    CL_CHECK(a.latency[i] > 0 && b.latency[i] > 0);
  }
  cl_sweep_tb_result_free(&fresh);
  cl_sweep_tb_result_free(&a);
  cl_sweep_tb_result_free(&b);
  cl__sweep_gcache_free(gc);
  free(text);
}

int main(void) {
  cl_graph *g = NULL;
  CL_CHECK_OK(cl_zoo_build("squeezenet1_1", &g));
  if (g) {
    CL_CHECK_OK(cl_graph_init_weights(g, 7));
    test_cache_policy(g);
    test_reuse_outputs(g);
    cl_graph_destroy(g);
  }
  cl_graph *le = NULL;
  CL_CHECK_OK(cl_zoo_build("lenet", &le));
  if (le) {
    int cuts[64];
    int nc = cl_graph_cut_points(le, cuts, 64);
    CL_CHECK(nc > 2);
    const char *cut = cl_graph_node(le, cuts[nc / 2])->name;
    test_profile_formula(le, cut);
    test_eval_reuse(cut);
    cl_graph_destroy(le);
  }
  return cl_test_finish("test_exec_cache");
}
