/* Device models: op classes, per-layer time against a naive twin, YAML round trip,
 * DVFS scaling, the NNLS fit on synthetic data, the Scission block mapping, and the
 * shipped catalogue. */
#include <unistd.h>

#include "cl_test.h"
#include "cleave/device.h"
#include "cleave/device_fit.h"
#include "cleave/runtime.h"
#include "cleave/testbed.h"
#include "cleave/zoo.h"

static cl_device toy(void) {
  cl_device d;
  memset(&d, 0, sizeof d);
  snprintf(d.name, sizeof d.name, "toy");
  double tp[CL_DEV_CLASS_COUNT] = {20e9, 3e9, 15e9, 1e9, 2e9, 4e9, 1.5e9, 2.5e9, 9e9};
  for (int c = 0; c < CL_DEV_CLASS_COUNT; c++) {
    d.throughput[c] = tp[c];
    d.overhead[c] = 1e-4 * (c + 1);
    d.fitted[c] = 1;
  }
  d.weight_bw = 6e9;
  d.act_bw = 8e9;
  d.has_power = 1;
  d.power = (cl_node_power){.idle = 2, .busy = 6, .tx = 0.5, .rx = 0.3};
  d.n_dvfs = 2;
  d.dvfs[0] = (cl_dev_dvfs){0.6, 0.8};
  d.dvfs[1] = (cl_dev_dvfs){1.5, 1.0};
  d.n_sources = 1;
  snprintf(d.sources[0], sizeof d.sources[0], "test: \"quoted\", 'single'");
  return d;
}

static void test_classes(void) {
  cl_graph *g = NULL;
  CL_CHECK_OK(cl_zoo_build("mobilenet_v1", &g));
  cl_dev_class c;
  double w;
  CL_CHECK_INT_EQ(cl_device_node_work(g, 0, &c, &w), 0); /* input */
  int id = cl_graph_find(g, "conv1"); /* on the RGB image */
  CL_CHECK(cl_device_node_work(g, id, &c, &w) == 1 && c == CL_DEV_CONV_IN);
  CL_CHECK_NEAR(w, 2.0 * (double)cl_graph_node(g, id)->macs, 0);
  CL_CHECK(cl_device_node_work(g, cl_graph_find(g, "conv_dw_1"), &c, &w) == 1 && c == CL_DEV_DWCONV);
  CL_CHECK(cl_device_node_work(g, cl_graph_find(g, "conv_pw_1"), &c, &w) == 1 && c == CL_DEV_CONV1X1);
  CL_CHECK(cl_device_node_work(g, cl_graph_find(g, "conv_preds"), &c, &w) == 1 && c == CL_DEV_FC);
  id = cl_graph_find(g, "conv1_bn");
  CL_CHECK(cl_device_node_work(g, id, &c, &w) == 1 && c == CL_DEV_BN);
  CL_CHECK_NEAR(w, 2 * 4.0 * 32 * 112 * 112, 0); /* read + write */
  /* a ReLU after batch-norm is a layer; after a conv (VGG) it is part of the conv */
  CL_CHECK(cl_device_node_work(g, cl_graph_find(g, "conv1_relu"), &c, &w) == 1 && c == CL_DEV_ELTWISE);
  /* dropout: a work-free layer call */
  CL_CHECK(cl_device_node_work(g, cl_graph_find(g, "dropout"), &c, &w) == 1 && c == CL_DEV_COPY && w == 0);
  /* memory-bound terms: conv weights (params x 4) and activations (input + output) */
  double wb, ab;
  id = cl_graph_find(g, "conv_pw_1");
  cl_device_node_bytes(g, id, &wb, &ab);
  CL_CHECK_NEAR(wb, 4.0 * (double)cl_graph_node(g, id)->n_params, 0);
  CL_CHECK_NEAR(ab, 4.0 * (32 + 64) * 112 * 112, 0);
  cl_device_node_bytes(g, cl_graph_find(g, "conv1_bn"), &wb, &ab);
  CL_CHECK(wb == 0 && ab == 0);
  cl_graph_destroy(g);
  CL_CHECK_OK(cl_zoo_build("vgg16", &g));
  CL_CHECK_INT_EQ(cl_device_node_work(g, cl_graph_find(g, "features.1"), &c, &w), 0);
  CL_CHECK(c == CL_DEV_ELTWISE && w > 0);
  CL_CHECK(cl_device_node_work(g, cl_graph_find(g, "flatten"), &c, &w) == 1 && c == CL_DEV_COPY);
  CL_CHECK(cl_device_node_work(g, cl_graph_find(g, "features.4"), &c, &w) == 1 && c == CL_DEV_POOL);
  CL_CHECK(cl_device_node_work(g, cl_graph_find(g, "features.0"), &c, &w) == 1 && c == CL_DEV_CONV_IN);
  CL_CHECK(cl_device_node_work(g, cl_graph_find(g, "features.2"), &c, &w) == 1 && c == CL_DEV_CONV);
  /* naive twin of the per-layer time: FLOP / conv rate + overhead + weights + activations */
  cl_device d = toy();
  id = cl_graph_find(g, "features.2");
  const cl_node *n = cl_graph_node(g, id);
  double naive = 2.0 * (double)n->macs / 20e9 + 1e-4 + 4.0 * (double)n->n_params / 6e9 +
                 4.0 * 64 * 224 * 224 * 2 / 8e9;
  CL_CHECK_NEAR(cl_device_node_time(&d, g, id), naive, 1e-15);
  cl_graph_destroy(g);
}

/* @p d saved to a fresh file (its path in @p path, at least 32 bytes) and loaded into @p e. */
static void save_load(const cl_device *d, cl_device *e, char *path) {
  snprintf(path, 32, "/tmp/cl_test_device_XXXXXX");
  int fd = mkstemp(path);
  CL_CHECK(fd >= 0);
  close(fd);
  CL_CHECK_OK(cl_device_save(d, path));
  CL_CHECK_OK(cl_device_load(path, e));
}

static void test_yaml_dvfs(void) {
  cl_device d = toy(), e;
  char path[32];
  save_load(&d, &e, path);
  CL_CHECK_STR_EQ(e.name, "toy");
  CL_CHECK_STR_EQ(e.sources[0], d.sources[0]);
  for (int c = 0; c < CL_DEV_CLASS_COUNT; c++) {
    CL_CHECK_NEAR(e.throughput[c], d.throughput[c], 1e-4 * d.throughput[c]);
    CL_CHECK_NEAR(e.overhead[c], d.overhead[c], 1e-12);
  }
  CL_CHECK_NEAR(e.power.busy, 6, 1e-12);
  CL_CHECK_INT_EQ(e.n_dvfs, 2);
  cl_device lo;
  CL_CHECK_OK(cl_device_at_dvfs(&e, 0, &lo));
  CL_CHECK_NEAR(lo.throughput[CL_DEV_CONV], e.throughput[CL_DEV_CONV] * 0.4, 1e-3);
  CL_CHECK_NEAR(lo.overhead[0], e.overhead[0] / 0.4, 1e-12);
  CL_CHECK_NEAR(e.weight_bw, 6e9, 1);
  CL_CHECK_NEAR(lo.act_bw, e.act_bw * 0.4, 1e-3);
  CL_CHECK_NEAR(lo.power.busy, 2 + 4 * 0.4 * 0.64, 1e-12); /* idle + dyn x f V^2 ratio */
  CL_CHECK(cl_device_at_dvfs(&e, 2, &lo) != CL_OK);
  /* a bad key is an error naming the key */
  FILE *f = fopen(path, "a");
  fputs("bogus: 1\n", f);
  fclose(f);
  CL_CHECK(cl_device_load(path, &e) == CL_ERR_CONFIG);
  /* a file from before the bn / pool / conv_in classes: they take their fallback's values */
  f = fopen(path, "w");
  fputs("name: old\nthroughput: {conv: 10, dwconv: 1, conv1x1: 8, fc: 1, eltwise: 2GB/s, copy: 1GB/s}\n"
        "overhead: {conv: 1ms, dwconv: 1ms, conv1x1: 1ms, fc: 1ms, eltwise: 2ms, copy: 1ms}\n",
        f);
  fclose(f);
  CL_CHECK_OK(cl_device_load(path, &e));
  CL_CHECK_NEAR(e.throughput[CL_DEV_BN], 2e9, 1);
  CL_CHECK_NEAR(e.overhead[CL_DEV_POOL], 2e-3, 1e-12);
  CL_CHECK_NEAR(e.throughput[CL_DEV_CONV_IN], 10e9, 1);
  CL_CHECK(!e.fitted[CL_DEV_BN] && e.fitted[CL_DEV_ELTWISE] && e.weight_bw == 0);
  remove(path);
}

static void test_fit_synthetic(void) {
  cl_device truth = toy(), fit = toy();
  cl_devfit_data d = {0, NULL};
  d.n = 60;
  d.b = calloc((size_t)d.n, sizeof *d.b);
  uint32_t rng = 12345;
  for (int i = 0; i < d.n; i++) { /* random mixes so every coefficient is identifiable */
    for (int c = 0; c < CL_DEV_CLASS_COUNT; c++) {
      rng = rng * 1664525u + 1013904223u;
      d.b[i].work[c] = (double)(rng >> 24) * (cl_dev_class_is_compute((cl_dev_class)c) ? 1e6 : 1e4);
      rng = rng * 1664525u + 1013904223u;
      d.b[i].count[c] = (int)(rng >> 30);
    }
    rng = rng * 1664525u + 1013904223u;
    d.b[i].weight_bytes = (double)(rng >> 24) * 1e4;
    rng = rng * 1664525u + 1013904223u;
    d.b[i].act_bytes = (double)(rng >> 24) * 1e4;
    d.b[i].seconds = cl_devfit_predict(&d, i, &truth);
  }
  CL_CHECK_OK(cl_devfit_fit(&d, NULL, &fit));
  for (int c = 0; c < CL_DEV_CLASS_COUNT; c++) {
    CL_CHECK_NEAR(fit.throughput[c] / truth.throughput[c], 1, 1e-6);
    CL_CHECK_NEAR(fit.overhead[c], truth.overhead[c], 1e-9);
  }
  CL_CHECK_NEAR(fit.weight_bw / truth.weight_bw, 1, 1e-6);
  CL_CHECK_NEAR(fit.act_bw / truth.act_bw, 1, 1e-6);
  int n = 0;
  CL_CHECK_NEAR(cl_devfit_median_error(&d, NULL, &fit, &n), 0, 1e-6);
  CL_CHECK_INT_EQ(n, 60);
  /* the fit minimises absolute relative errors: 5 of 60 blocks measured 3x slower (a
   * disturbed run) barely move it (plain least squares on relative errors, IRLS_ITERS = 1, is
   * off by up to 27x on some classes here) */
  for (int i = 0; i < 5; i++) d.b[i * 12].seconds *= 3;
  CL_CHECK_OK(cl_devfit_fit(&d, NULL, &fit));
  for (int c = 0; c < CL_DEV_CLASS_COUNT; c++) CL_CHECK_NEAR(fit.throughput[c] / truth.throughput[c], 1, 0.05);
  CL_CHECK(cl_devfit_median_error(&d, NULL, &fit, &n) < 1.0);
  for (int i = 0; i < 5; i++) d.b[i * 12].seconds /= 3;
  /* a negative unconstrained solution is clamped: all-zero overhead data for one class */
  for (int i = 0; i < d.n; i++) d.b[i].count[CL_DEV_FC] = 0;
  CL_CHECK_OK(cl_devfit_fit(&d, NULL, &fit));
  for (int c = 0; c < CL_DEV_CLASS_COUNT; c++) CL_CHECK(fit.overhead[c] >= 0 && fit.throughput[c] > 0);
  cl_devfit_data_fini(&d);
}

static void test_scission_mapping(void) {
  cl_devfit_data d;
  int skipped = 0;
  CL_CHECK_OK(cl_devfit_read("data/scission/device-raspi4.csv", NULL, &d, &skipped));
  CL_CHECK_INT_EQ(d.n, 546); /* every block of the 18 models maps to the Keras family */
  CL_CHECK_INT_EQ(skipped, 0);
  CL_CHECK_STR_EQ(d.b[0].model, "vgg16");
  CL_CHECK_INT_EQ(d.b[0].first_node, 0);
  cl_devfit_data_fini(&d);
  /* vm2Core: zero-time blocks are skipped, not fitted */
  CL_CHECK_OK(cl_devfit_read("data/scission/edge-vm2Core.csv", "vgg16", &d, &skipped));
  CL_CHECK(d.n < 22 && skipped > 0);
  cl_devfit_data_fini(&d);
  /* a wrong output size is caught */
  char path[] = "/tmp/cl_test_scission_XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  FILE *f = fopen(path, "w");
  fputs("model,block,input_layer,output_layer,seconds,output_bytes\n", f);
  fputs("vgg16,0,0,1,0.07,12845184\nvgg16,1,2,2,0.2,999\n", f); /* 2 of 22 blocks */
  fclose(f);
  CL_CHECK(cl_devfit_read(path, "vgg16", &d, &skipped) == CL_ERR_INVALID);
  remove(path);
}

static void test_catalogue(void) {
  static const char *const names[] = {"raspi4", "i5-2500", "vm2core", "i7-6700k", "i7-6700k-gpu", "raspi3",
                                      "jetson-tx2", "desktop-pc", "jetson-tk1", "ns-server", NULL};
  for (int i = 0; names[i]; i++) {
    cl_device d;
    CL_CHECK_OK(cl_device_find(names[i], &d));
    CL_CHECK_STR_EQ(d.name, names[i]);
    CL_CHECK(d.n_sources >= 1);
  }
  cl_device d;
  CL_CHECK(cl_device_find("no-such-device", &d) == CL_ERR_CONFIG);
}

/* Wall clock: a step faster than this host is reported, counted, and refused with strict. */
static void test_wall_honesty(void) {
  cl_rt_node nodes[2];
  memset(nodes, 0, sizeof nodes);
  snprintf(nodes[0].name, sizeof nodes[0].name, "pi");
  snprintf(nodes[1].name, sizeof nodes[1].name, "gpu");
  snprintf(nodes[1].device, sizeof nodes[1].device, "i7-6700k-gpu");
  cl_rt_setup su;
  memset(&su, 0, sizeof su);
  su.n_nodes = 2;
  su.nodes = nodes;
  double s0[2] = {3.0, 1.5}, s1[3] = {0.2, 1.1, 0.05};
  double *sd[2] = {s0, s1};
  int ns[2] = {2, 3};
  cl_rt_tasks t;
  memset(&t, 0, sizeof t);
  t.n_nodes = 2;
  t.n_steps = ns;
  t.step_slowdown = sd;
  int fast = -1;
  CL_CHECK_OK(cl_rt_check_wall(&su, &t, 1, &fast)); /* virtual clock: nothing to realise */
  CL_CHECK_INT_EQ(fast, 0);
  su.wall = 1;
  CL_CHECK_OK(cl_rt_check_wall(&su, &t, 0, &fast));
  CL_CHECK_INT_EQ(fast, 2);
  CL_CHECK(cl_rt_check_wall(&su, &t, 1, &fast) == CL_ERR_CONFIG);
  s1[0] = s1[2] = 1.0;
  CL_CHECK_OK(cl_rt_check_wall(&su, &t, 1, &fast));
  CL_CHECK_INT_EQ(fast, 0);
}

/* The testbed key device: and speed: as an explicit override, both kept in the resolved config. */
static void test_testbed_key(void) {
  static const char *const texts[2] = {
      "model: vgg16\nnodes:\n  - {name: pi, tier: device, device: raspi4}\nplan: [{node: pi, layers: rest}]\n",
      "model: vgg16\nnodes:\n  - {name: pi, tier: device, device: raspi4, speed: 2}\nplan: [{node: pi, layers: rest}]\n"};
  for (int i = 0; i < 2; i++) {
    cl_testbed tb;
    CL_CHECK_OK(cl_testbed_load_string("<test>", texts[i], &tb));
    CL_CHECK_STR_EQ(tb.nodes[0].device, "raspi4");
    CL_CHECK_INT_EQ(tb.nodes[0].speed_given, i);
    char *y = NULL;
    CL_CHECK_OK(cl_testbed_to_yaml(&tb, &y));
    CL_CHECK(y && strstr(y, "device: raspi4"));
    CL_CHECK(y && (strstr(y, "speed: 2") != NULL) == i);
    cl_testbed tb2;
    CL_CHECK_OK(cl_testbed_load_string("<again>", y, &tb2));
    CL_CHECK_INT_EQ(tb2.nodes[0].speed_given, i);
    cl_testbed_free(&tb2);
    free(y);
    cl_testbed_free(&tb);
  }
}

/* A slow device saves and loads again: the saver rounded GFLOP/s to 4 decimals and B/s
 * to integers, so 0.00004 GFLOP/s and 0.3 B/s became 0, which the loader refuses
 * (found by fuzz_device). Values keep 7 / 9 significant digits now. */
static void test_save_tiny_rates(void) {
  cl_device d = toy(), e;
  d.throughput[CL_DEV_CONV] = 4.4e4;   /* 0.000044 GFLOP/s */
  d.throughput[CL_DEV_COPY] = 0.3;     /* B/s */
  d.throughput[CL_DEV_FC] = 123456789.123; /* 0.123456789 GFLOP/s */
  char path[32];
  save_load(&d, &e, path);
  CL_CHECK_NEAR(e.throughput[CL_DEV_CONV], 4.4e4, 1e-6 * 4.4e4);
  CL_CHECK_NEAR(e.throughput[CL_DEV_COPY], 0.3, 1e-9);
  CL_CHECK_NEAR(e.throughput[CL_DEV_FC], 123456789.123, 1e-6 * 123456789.123);
  remove(path);
}

/* `cleave devices fit` input: a Scission CSV row with an infinite, negative or absurd
 * time is an error naming the line (an infinite time was fitted into the device model).
 * The file is Scission's vgg16 rows with block 1's seconds replaced. */
static void test_fit_csv_bounds(void) {
  const char *bad[] = {"inf", "-1", "1e300", "nan"};
  for (int i = 0; i < 4; i++) {
    FILE *in = fopen("data/scission/device-raspi4.csv", "r");
    CL_CHECK(in != NULL);
    if (!in) return;
    char path[] = "/tmp/cl_test_devfit_XXXXXX";
    int fd = mkstemp(path);
    CL_CHECK(fd >= 0);
    FILE *f = fdopen(fd, "w");
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, in)) {
      if (n++ && strncmp(line, "vgg16,", 6)) continue; /* the header, then vgg16 only */
      if (!strncmp(line, "vgg16,1,", 8))
        fprintf(f, "vgg16,1,2,2,%s,12845184\n", bad[i]);
      else
        fputs(line, f);
    }
    fclose(in);
    fclose(f);
    cl_devfit_data d;
    int skipped = 0;
    CL_CHECK(cl_devfit_read(path, "vgg16", &d, &skipped) == CL_ERR_INVALID);
    cl_devfit_data_fini(&d);
    remove(path);
  }
}

int main(void) {
  test_testbed_key();
  test_fit_csv_bounds();
  test_save_tiny_rates();
  test_wall_honesty();
  test_classes();
  test_yaml_dvfs();
  test_fit_synthetic();
  test_scission_mapping();
  test_catalogue();
  return cl_test_finish("test_device");
}
