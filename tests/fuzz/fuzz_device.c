/* Fuzz harness: the files cleave reads from disk besides configs, models and outputs:
 *  byte 0 % 4 == 0: a device model (cl_device_load: configs/devices/NAME.yaml, files named
 *    in a testbed, $CLEAVE_DEVICE_DIR, the host calibration cache calib-*.yaml);
 *  1: a per-layer calibration cache (cl_calib_layers_read, calib-*-MODEL.yaml), read
 *    for lenet;
 *  2: a kernel-choice cache (models/kernel_choice.c, kernels-*.yaml), for the key of the
 *    seeds;
 *  3: a link's bandwidth trace (CSV "time_s,Mbit/s", runtime/testbed.c), through a fixed
 *    testbed that names it;
 *  byte 0 % 8 == 4: a CoEdge devices file (cl_coedge_devfile_load: configs/coedge.yaml,
 *    `cleave plan coedge --devices`): what loads has devices with unique non-empty names,
 *    finite non-negative speeds or rates and powers, a source among them, and speeds
 *    that stay finite and non-negative when set from a reference rate.
 * (5-7 select as 1-3.)
 * The rest of the input is the file. What loads must be usable as it is: a device's
 * rates finite and positive, its overheads, memory and power finite and non-negative,
 * DVFS states ascending, every layer time of lenet on it finite and non-negative, and
 * it must save and load again with the same numbers; layer times in [0, 1e6] s; a choice
 * set must save and load again with the same count; a loaded trace has points at
 * finite, strictly increasing times from 0 with finite bandwidths >= 0. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../models/kernel_choice.h"
#include "cleave/coedge.h"
#include "cleave/device.h"
#include "cleave/onnx.h"
#include "cleave/testbed.h"
#include "fuzz_util.h"

static const cl_graph *lenet(void) {
  static cl_graph *g;
  static int tried;
  if (!tried) {
    tried = 1;
    if (cl_model_load_structure("lenet", &g) != CL_OK) abort();
  }
  return g;
}

/* Equal within @p rel relative plus @p abs (the saver rounds: cl_device_save). */
static int close_to(double a, double b, double rel, double abs_) {
  return a == b || fabs(a - b) <= rel * fmax(fabs(a), fabs(b)) + abs_;
}

static void check_device(const char *path) {
  cl_device d;
  if (cl_device_load(path, &d) != CL_OK) return;
  for (int c = 0; c < CL_DEV_CLASS_COUNT; c++)
    if (!(d.throughput[c] > 0) || !isfinite(d.throughput[c]) || !(d.overhead[c] >= 0) || !isfinite(d.overhead[c]))
      abort();
  if (!(d.memory >= 0) || !isfinite(d.memory) || !(d.weight_bw >= 0) || !isfinite(d.weight_bw) ||
      !(d.act_bw >= 0) || !isfinite(d.act_bw))
    abort();
  if (d.has_power) {
    const double p[] = {d.power.idle, d.power.busy, d.power.tx, d.power.rx};
    for (int i = 0; i < 4; i++)
      if (!(p[i] >= 0) || !isfinite(p[i])) abort();
  }
  if (d.n_dvfs < 0 || d.n_dvfs > CL_DEV_MAX_DVFS) abort();
  for (int i = 1; i < d.n_dvfs; i++)
    if (!(d.dvfs[i].freq > d.dvfs[i - 1].freq)) abort();
  const cl_graph *g = lenet();
  for (int i = 0; i < cl_graph_size(g); i++) {
    const double t = cl_device_node_time(&d, g, i);
    if (!(t >= 0) || !isfinite(t)) abort();
  }
  /* what `cleave devices` and the calibration write must load again, unchanged */
  char out[1100];
  snprintf(out, sizeof out, "%s/saved.yaml", cl_fuzz_dir());
  if (cl_device_save(&d, out) != CL_OK) abort();
  cl_device e;
  if (cl_device_load(out, &e) != CL_OK) abort();
  /* the saver keeps 7 significant digits of GFLOP/s, 9 of B/s, overheads to the ns */
  for (int c = 0; c < CL_DEV_CLASS_COUNT; c++)
    if (!close_to(d.throughput[c], e.throughput[c], 1e-6, 0) || !close_to(d.overhead[c], e.overhead[c], 1e-12, 5.1e-10))
      abort();
  if (!close_to(d.memory, e.memory, 1e-12, 0) || e.n_dvfs != d.n_dvfs || e.has_power != d.has_power) abort();
}

static void check_layers(const char *path) {
  const cl_graph *g = lenet();
  const int n = cl_graph_size(g);
  double t[256];
  if (n > 256) abort();
  if (cl_calib_layers_read(path, "lenet", n, t) != CL_OK) return;
  for (int i = 0; i < n; i++)
    if (!(t[i] >= 0) || !(t[i] <= 1e6)) abort();
}

static void check_choices(const char *path) {
  cl__kc_key key;
  memset(&key, 0, sizeof key);
  snprintf(key.cpu, sizeof key.cpu, "AMD EPYC");
  snprintf(key.backend, sizeof key.backend, "dnnl oneDNN 2.6.3");
  key.threads = 1;
  snprintf(key.version, sizeof key.version, "0.1.0");
  cl__kc *kc = NULL;
  int refused = 0;
  cl_status st = cl__kc_open(&key, path, &kc, &refused);
  if (st == CL_ERR_NOMEM) return;
  if (st != CL_OK || !kc) abort();
  const int n = cl__kc_count(kc);
  if (refused && n) abort(); /* a refused file gives an empty set */
  const int had = cl__kc_get(kc, "fuzz probe signature") >= 0;
  if (cl__kc_put(kc, "fuzz probe signature", 7) != CL_OK || cl__kc_save(kc) != CL_OK) abort();
  cl__kc_destroy(kc);
  kc = NULL;
  refused = 0;
  if (cl__kc_open(&key, path, &kc, &refused) != CL_OK || refused) abort();
  if (cl__kc_count(kc) != n + !had || cl__kc_get(kc, "fuzz probe signature") != 7) abort();
  cl__kc_destroy(kc);
}

static void check_trace(const uint8_t *data, size_t size) {
  char tb_path[1100];
  snprintf(tb_path, sizeof tb_path, "%s/configs/fuzz_tb.yaml", cl_fuzz_dir());
  (void)cl_fuzz_write("configs/fuzz_trace.csv", data, size);
  static const char *const text =
      "model: lenet\nnodes:\n  - {name: a, tier: device}\n  - {name: b, tier: edge}\n"
      "links:\n  - {from: a, to: b, latency: 5ms, trace: fuzz_trace.csv}\nplan: {cuts: [input]}\n";
  cl_testbed tb = {0};
  if (cl_testbed_load_string(tb_path, text, &tb) == CL_OK) {
    if (tb.n_links != 1) abort();
    const cl_tb_link *l = &tb.links[0];
    if (l->trace_n < 1 || !l->trace_t || !l->trace_bw || !(l->trace_t[0] >= 0)) abort();
    for (int i = 0; i < l->trace_n; i++)
      if (!isfinite(l->trace_t[i]) || !isfinite(l->trace_bw[i]) || !(l->trace_bw[i] >= 0) ||
          (i && !(l->trace_t[i] > l->trace_t[i - 1])))
        abort();
  }
  cl_testbed_free(&tb);
}

static void check_coedge(const char *path) {
  cl_coedge_devfile f;
  if (cl_coedge_devfile_load(path, &f) != CL_OK) return;
  if (f.n_dev < 1 || !f.dev || !f.gflops || f.source < 0 || f.source >= f.n_dev) abort();
  if (f.input_bytes_per_elem != 1 && f.input_bytes_per_elem != 2 && f.input_bytes_per_elem != 4) abort();
  if (!(f.bandwidth >= 0) || !isfinite(f.bandwidth)) abort();
  for (int d = 0; d < f.n_dev; d++) {
    const cl_coedge_device *v = &f.dev[d];
    if (!v->name || !*v->name) abort();
    for (int e = 0; e < d; e++)
      if (!strcmp(f.dev[e].name, v->name)) abort();
    const double p[] = {v->p_comp, v->p_idle, v->p_tx, v->p_rx};
    for (int i = 0; i < 4; i++)
      if (!(p[i] >= 0) || !isfinite(p[i])) abort();
    if (f.gflops[d] >= 0 ? !isfinite(f.gflops[d]) : !(v->speed >= 0 && isfinite(v->speed))) abort();
  }
  const double refs[] = {20, 1e-3, 1e9};
  for (int r = 0; r < 3; r++) {
    cl_coedge_devfile_reference(&f, refs[r]);
    for (int d = 0; d < f.n_dev; d++)
      if (!(f.dev[d].speed >= 0) || !isfinite(f.dev[d].speed)) abort();
  }
  cl_coedge_devfile_fini(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cl_fuzz_setup();
  if (size < 1) return 0;
  const char *path = cl_fuzz_write("input.yaml", data + 1, size - 1);
  if (data[0] % 8 == 4) {
    check_coedge(path);
    return 0;
  }
  if (data[0] % 4 == 3) {
    check_trace(data + 1, size - 1);
    return 0;
  }
  switch (data[0] % 4) {
    case 0:
      check_device(path);
      break;
    case 1:
      check_layers(path);
      break;
    default:
      check_choices(path);
      break;
  }
  return 0;
}
