/* Profiler, executor fusion and the HDF5 profile round trip (profile -> planners' model,
 * profile -> per-node times for the simulator). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cl_test.h"
#include "cleave/exec.h"
#include "cleave/profile_h5.h"
#include "cleave/profiler.h"
#include "cleave/runtime.h"
#include "cleave/store.h"
#include "cleave/zoo.h"

static void test_stats(void) {
  double x[] = {5, 1, 4, 2, 3, 9, 7, 8, 6, 10};
  cl_stat_summary s;
  cl_stat_summarise(x, 10, &s);
  CL_CHECK_NEAR(s.mean, 5.5, 1e-12);
  CL_CHECK_NEAR(s.median, 5.5, 1e-12);
  CL_CHECK_NEAR(s.min, 1, 0);
  CL_CHECK_NEAR(s.max, 10, 0);
  CL_CHECK_NEAR(s.std, 3.0276503540974917, 1e-12);
  CL_CHECK(s.ci_lo <= s.median && s.median <= s.ci_hi);
  CL_CHECK_NEAR(s.ci_lo, 2, 0); /* order statistics 5 -+ 1.96*sqrt(10)/2 -> ranks 1..9 (0-based) */
  CL_CHECK_NEAR(s.ci_hi, 10, 0);
  CL_CHECK(s.p5 >= 1 && s.p5 < 2 && s.p95 > 9 && s.p95 <= 10);
}

/* Fused and unfused executors agree; a run_mask executor only holds its subset. */
static void test_fusion(const char *model) {
  cl_graph *g = NULL;
  CL_CHECK_OK(cl_zoo_build(model, &g));
  CL_CHECK_OK(cl_graph_init_weights(g, 5));
  cl_exec_opts o = cl_exec_opts_default();
  cl_exec *a = NULL, *b = NULL;
  CL_CHECK_OK(cl_exec_create(g, &o, &a));
  o.fuse = 0;
  CL_CHECK_OK(cl_exec_create(g, &o, &b));
  CL_CHECK(cl_exec_step_count(a) < cl_exec_step_count(b));
  CL_CHECK_INT_EQ(cl_exec_step_count(b), cl_graph_size(g));
  cl_exec_fill_input(a, 2);
  cl_exec_fill_input(b, 2);
  CL_CHECK_OK(cl_exec_run(a));
  CL_CHECK_OK(cl_exec_run(b));
  int out = cl_graph_output(g);
  int64_t n = cl_shape_numel(cl_graph_node(g, out)->out);
  const float *ya = cl_exec_buffer(a, out), *yb = cl_exec_buffer(b, out);
  double num = 0, den = 0;
  for (int64_t i = 0; i < n; i++) {
    num = fmax(num, fabs((double)ya[i] - yb[i]));
    den = fmax(den, fabs((double)yb[i]));
  }
  CL_CHECK(num <= 1e-5 * den);
  /* every graph node is covered by exactly one fused step */
  int *cover = calloc((size_t)cl_graph_size(g), sizeof(int));
  for (int k = 0; k < cl_exec_step_count(a); k++) {
    const cl_exec_step *s = cl_exec_step_get(a, k);
    for (int j = 0; j < s->n_nodes; j++) cover[s->nodes[j]]++;
    CL_CHECK_INT_EQ(cl_exec_step_of(a, s->out_node), k);
  }
  for (int i = 0; i < cl_graph_size(g); i++) CL_CHECK_INT_EQ(cover[i], 1);
  free(cover);
  cl_exec_destroy(a);
  cl_exec_destroy(b);
  cl_graph_destroy(g);
}

static void test_profile_roundtrip(void) {
  cl_graph *g = NULL;
  CL_CHECK_OK(cl_zoo_build("squeezenet1_1", &g));
  CL_CHECK_OK(cl_graph_init_weights(g, 1));
  cl_profiler_opts o = cl_profiler_opts_default();
  o.reps = 4;
  o.warmup = 1;
  o.slowdown = 3.0;
  cl_profile_result *r = NULL;
  CL_CHECK_OK(cl_profiler_measure(g, &o, &r));
  if (!r) return;
  CL_CHECK(r->n_blocks >= 2);
  CL_CHECK_INT_EQ(r->block_first[0], 0);
  CL_CHECK_INT_EQ(r->block_last[r->n_blocks - 1], r->n_steps - 1);
  for (int b = 1; b < r->n_blocks; b++) CL_CHECK_INT_EQ(r->block_first[b], r->block_last[b - 1] + 1);
  for (size_t i = 0; i < (size_t)r->n_steps * r->reps; i++) CL_CHECK(r->wall[i] >= 0 && r->cpu[i] >= 0);
  char path[] = "/tmp/cl_test_profile_XXXXXX";
  int fd = mkstemp(path);
  CL_CHECK(fd >= 0);
  close(fd);
  cl_store_opts so;
  memset(&so, 0, sizeof so);
  so.force = 1;
  cl_store *st = NULL;
  CL_CHECK_OK(cl_store_create(path, &so, &st));
  CL_CHECK_OK(cl_profiler_write(st, "squeezenet1_1", g, &o, r));
  CL_CHECK_OK(cl_store_close(st));
  cl_reader *rd = NULL;
  CL_CHECK_OK(cl_reader_open(path, &rd));
  if (rd) {
    const cl_table_info *ts = cl_reader_find(rd, "/profile/samples");
    const cl_table_info *tl = cl_reader_find(rd, "/profile/layers");
    CL_CHECK(ts && ts->n_records == (uint64_t)r->n_steps * r->reps);
    CL_CHECK(tl && tl->n_records == (uint64_t)r->n_steps);
    cl_reader_close(rd);
  }
  /* into the planners' model: one layer per step, blocks cover the steps */
  cl_profile_set *set = NULL;
  CL_CHECK_OK(cl_profile_set_create(&set));
  CL_CHECK_OK(cl_profile_load_cleave_h5(set, path, "edge", "host"));
  const cl_profile_model *pm = cl_profile_machine_model(cl_profile_set_machine(set, 0), "squeezenet1_1");
  CL_CHECK(pm != NULL);
  if (pm) {
    CL_CHECK_INT_EQ(pm->n_layers, r->n_steps);
    CL_CHECK_INT_EQ(pm->n_blocks, r->n_blocks);
    double tb = 0, tl2 = 0;
    for (int b = 0; b < pm->n_blocks; b++) tb += pm->blocks[b].seconds;
    for (int k = 0; k < pm->n_layers; k++) tl2 += pm->layers[k].seconds;
    CL_CHECK(tb > 0 && tl2 > 0);
    /* fire modules' expand branches are a real DAG: some step has two inputs */
    int multi = 0;
    for (int k = 0; k < pm->n_layers; k++) multi |= pm->layers[k].n_inputs >= 2;
    CL_CHECK(multi);
  }
  cl_profile_set_destroy(set);
  /* into the simulator: per-node host times add up to the sum of step medians */
  double *t = calloc((size_t)cl_graph_size(g), sizeof(double));
  CL_CHECK_OK(cl_rt_node_times_from_profile(path, g, t));
  double sum = 0;
  for (int i = 0; i < cl_graph_size(g); i++) sum += t[i];
  CL_CHECK(sum > 0);
  free(t);
  unlink(path);
  cl_profile_result_free(r);
  cl_graph_destroy(g);
}

int main(void) {
  test_stats();
  test_fusion("resnet18");
  test_fusion("mobilenet_v2");
  test_fusion("densenet121");
  test_profile_roundtrip();
  return cl_test_finish("test_profiler");
}
