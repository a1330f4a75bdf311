/* cleave profile: per-layer and per-block timing of a model, written to HDF5. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleave/device.h"
#include "cleave/profiler.h"
#include "cleave/records.h"
#include "cleave/provenance.h"
#include "cleave/store.h"
#include "cleave/onnx.h"
#include "cleave/zoo.h"
#include "cli.h"
#include "commands.h"

static void help(void) {
  printf(
      "usage: cleave profile MODEL|FILE.onnx -o FILE.h5 [--reps N] [--warmup N] [--threads N]\n"
      "                      [--backend B] [--slowdown F] [--seed S] [--no-fuse] [--force]\n"
      "                      [--blocks cuts|scission] [--device NAME]\n"
      "  Times every layer (executor step: a conv with its folded BN and activation is\n"
      "  one step) and every valid cut block of MODEL on this host, records every\n"
      "  repetition in /profile/samples and GSL summaries (mean, median, std, p5/p95,\n"
      "  95%% CI of the median) in /profile/layers and /profile/blocks.\n"
      "  -o, --output FILE  HDF5 file to create (refuses to overwrite without --force)\n"
      "  --reps N           timed repetitions (default 10)\n"
      "  --warmup N         untimed inferences first (default 2)\n"
      "  --threads N        kernel threads (default 1)\n"
      "  --backend B        dnnl, portable or auto (default; see cleave infer --help);\n"
      "                     recorded in /profile as backend and backend_version\n"
      "  --slowdown F       multiply all times by F (emulate a slower node; default 1)\n"
      "  --seed S           weights/input seed (default 1)\n"
      "  --device NAME      emulate a device model (configs/devices/NAME.yaml or a YAML path;\n"
      "                     cleave devices list): every step's times are multiplied by\n"
      "                     device time / this host's calibrated time of its layers, and\n"
      "                     /profile/energy records each step's emulated time and energy\n"
      "                     (busy power x time) with the device and host models in its\n"
      "                     attributes (docs/devices.md); not with --slowdown\n"
      "  --no-fuse          profile BN and activations as separate layers\n"
      "  --blocks K         /profile/blocks rows: 'cuts' (default) one block per valid\n"
      "                     single-tensor cut; 'scission' Scission's blocks of a Keras model\n"
      "                     (keras/<name>): same order and count as Scission's benchmark files,\n"
      "                     row by row (implies --no-fuse: a block may end inside a fused step)\n"
      "  An ONNX file is recorded by its absolute path (/profile model, used by cleave plan\n"
      "  to rebuild the DAG and by --emit-config) with its size and SHA-256 in /provenance.\n");
}

/* Regroup the profiled steps into Scission's blocks (cl_zoo_scission_blocks). Steps are
 * unfused, so each step lies inside one block; returns 0, or 2 after a one-line error. */
static int scission_blocks(const char *model, const cl_graph *g, cl_profile_result *r) {
  cl_zoo_block *bl = NULL;
  int nb = 0;
  const cl_zoo_entry *z = cl_zoo_find(model);
  if (!z || !z->scission || cl_zoo_scission_blocks(g, &bl, &nb) != CL_OK) {
    fprintf(stderr, "cleave: error: profile: --blocks scission needs a Keras model (keras/<name>, see cleave "
            "models --scission)\n");
    return 2;
  }
  int b = 0, ok = nb <= r->n_steps;
  for (int i = 0; ok && i < nb; i++) r->block_first[i] = -1;
  for (int k = 0; k < r->n_steps && ok; k++) {
    const int node = r->steps[k].out_node;
    while (b < nb && node > bl[b].last_node) b++;
    ok = b < nb && node >= bl[b].first_node;
    if (!ok) break;
    if (k == 0 || r->step_block[k - 1] != b) r->block_first[b] = k;
    r->block_last[b] = k;
    r->step_block[k] = b;
  }
  for (int i = 0; ok && i < nb; i++) /* every block got steps, in order */
    ok = r->block_first[i] >= 0 && (i == 0 || r->block_first[i] == r->block_last[i - 1] + 1);
  free(bl);
  if (!ok) {
    fprintf(stderr, "cleave: error: profile: the executor's steps do not follow Scission's blocks\n");
    return 1;
  }
  r->n_blocks = nb;
  return 0;
}

/* --device: per-step factor device time / host time of the step's layers (the device
 * model, and this host's calibration of this model's layers for the backend and thread
 * count), applied to every measured repetition; then /profile/energy. The host times
 * are the per-layer calibration unless CLEAVE_CALIB_LAYERS=0 (class model alone), as in
 * a testbed run (runtime/rt_device.c). */
typedef struct dev_emul {
  cl_device dev, host;
  char calib[4096];
  int host_layers;
  double *factor, *host_median, *dev_s, *host_s; /* [n_steps] */
} dev_emul;

static void dev_emul_fini(dev_emul *d) {
  free(d->factor); /* one block */
  memset(d, 0, sizeof *d);
}

static cl_status dev_emulate(const char *name, const char *model, const cl_graph *g, const cl_profiler_opts *o,
                             cl_profile_result *r, dev_emul *d) {
  memset(d, 0, sizeof *d);
  if (cl_device_find(name, &d->dev) != CL_OK) return CL_ERR_CONFIG;
  CL_TRY(cl_calib_get(o->backend, o->threads, 0, &d->host, d->calib, sizeof d->calib));
  const int n = cl_graph_size(g), ns = r->n_steps;
  double *layer = malloc(sizeof(double) * (size_t)n), *col = malloc(sizeof(double) * (size_t)(r->reps + 1));
  d->factor = malloc(sizeof(double) * 4 * (size_t)(ns + 1));
  if (!layer || !col || !d->factor) {
    free(layer);
    free(col);
    return CL_ERR_NOMEM;
  }
  d->host_median = d->factor + ns + 1;
  d->dev_s = d->host_median + ns + 1;
  d->host_s = d->dev_s + ns + 1;
  d->host_layers = cl_calib_layers_enabled();
  cl_status st = d->host_layers ? cl_calib_layers(o->backend, o->threads, model, g, &d->host, 0, layer) : CL_OK;
  for (int id = 0; st == CL_OK && !d->host_layers && id < n; id++) layer[id] = cl_device_node_time(&d->host, g, id);
  double dev_all = 0, host_all = 0;
  for (int k = 0; st == CL_OK && k < ns; k++) {
    const cl_exec_step *s = &r->steps[k];
    d->dev_s[k] = d->host_s[k] = 0;
    for (int j = 0; j < s->n_nodes; j++) {
      d->dev_s[k] += cl_device_node_time(&d->dev, g, s->nodes[j]);
      d->host_s[k] += layer[s->nodes[j]];
    }
    dev_all += d->dev_s[k];
    host_all += d->host_s[k];
  }
  for (int k = 0; st == CL_OK && k < ns; k++) {
    /* a work-free step (identity) takes the whole model's factor */
    d->factor[k] = d->host_s[k] > 0 ? d->dev_s[k] / d->host_s[k] : (host_all > 0 ? dev_all / host_all : 1);
    for (int q = 0; q < r->reps; q++) col[q] = r->cpu[(size_t)q * ns + k];
    d->host_median[k] = cl_stat_median(col, r->reps);
    for (int q = 0; q < r->reps; q++) {
      r->wall[(size_t)q * ns + k] *= d->factor[k];
      r->cpu[(size_t)q * ns + k] *= d->factor[k];
    }
  }
  free(layer);
  free(col);
  return st;
}

/* /profile/energy: one row per step; returns the energy of one inference (sum of the
 * steps' median energies, J) in *total. */
static cl_status dev_write(cl_store *st, const char *model, const cl_profile_result *r, const dev_emul *d,
                           double *total) {
  cl_table *t = NULL;
  cl_dict *models = NULL;
  int32_t mid = 0;
  CL_TRY(cl_store_table(st, &CL_REC_PROFILE_ENERGY, &t));
  CL_TRY(cl_store_dict(st, "models", &models));
  CL_TRY(cl_dict_id(models, model, &mid));
  CL_TRY(cl_device_write_attr(st, "/profile/energy", "device", &d->dev));
  CL_TRY(cl_device_write_attr(st, "/profile/energy", "host", &d->host));
  CL_TRY(cl_store_attr_str(st, "/profile/energy", "host_calibration", d->calib));
  CL_TRY(cl_store_attr_str(st, "/profile/energy", "host_times",
                           d->host_layers ? "this model's layers measured through the executor (cl_calib_layers)"
                                          : "class model of the host calibration (CLEAVE_CALIB_LAYERS=0)"));
  CL_TRY(cl_store_attr_str(st, "/profile/energy", "energy_model",
                           "time = thread CPU time on this host x slowdown (as cleave run's virtual clock and the "
                           "calibration measure it); energy = busy power x time per step; the device computes "
                           "without gaps inside an inference, so no idle energy; energy_dynamic = (busy - idle) x time"));
  CL_TRY(cl_store_attr_str(st, "/profile", "times", "emulated on the --device model (see /profile/energy)"));
  const cl_node_power *p = &d->dev.power;
  const double busy = d->dev.has_power ? p->busy : NAN, idle = d->dev.has_power ? p->idle : NAN;
  double *x = malloc(sizeof(double) * (size_t)(r->reps + 1));
  if (!x) return CL_ERR_NOMEM;
  *total = 0;
  cl_status s = CL_OK;
  for (int k = 0; k < r->n_steps && s == CL_OK; k++) {
    cl_rec_profile_energy e;
    memset(&e, 0, sizeof e);
    e.model = mid;
    e.step = k;
    e.out_node = r->steps[k].out_node;
    snprintf(e.device, sizeof e.device, "%s", d->dev.name);
    e.device_s = d->dev_s[k];
    e.host_s = d->host_s[k];
    e.slowdown = d->factor[k];
    e.host_median = d->host_median[k];
    for (int q = 0; q < r->reps; q++) x[q] = r->cpu[(size_t)q * r->n_steps + k];
    cl_stat_summary sum;
    cl_stat_summarise(x, r->reps, &sum);
    e.time = sum.median;
    e.time_ci_lo = sum.ci_lo;
    e.time_ci_hi = sum.ci_hi;
    e.power = busy;
    e.energy = busy * e.time;
    e.energy_ci_lo = busy * e.time_ci_lo;
    e.energy_ci_hi = busy * e.time_ci_hi;
    e.energy_dynamic = (busy - idle) * e.time;
    *total += e.energy;
    s = cl_table_append(t, &e, 1);
  }
  free(x);
  return s;
}

int cl__cmd_profile(int argc, char **argv) {
  const char *model = NULL, *path = NULL, *device = NULL;
  long reps = 10, warmup = 2, threads = 1;
  double slowdown = 1.0;
  uint64_t seed = 1;
  int fuse = 1, force = 0, backend = CL_BACKEND_AUTO, scission = 0;
  for (int i = 1; i < argc; i++) {
    int missing = 0;
    const char *v;
    if (cl__help_asked(argv[i], help)) return 0;
    if ((v = cl__opt(argc, argv, &i, "--reps", &missing))) {
      if (cl__parse_int("profile", "--reps", v, 1, 1000000, &reps)) return 2;
    } else if ((v = cl__opt(argc, argv, &i, "--warmup", &missing))) {
      if (cl__parse_int("profile", "--warmup", v, 0, 1000000, &warmup)) return 2;
    } else if ((v = cl__opt(argc, argv, &i, "--threads", &missing))) {
      if (cl__parse_int("profile", "--threads", v, 1, 256, &threads)) return 2;
    } else if ((v = cl__opt(argc, argv, &i, "--backend", &missing))) {
      if (cl__parse_backend("profile", v, &backend)) return 2;
    } else if ((v = cl__opt(argc, argv, &i, "--slowdown", &missing))) {
      if (cl__parse_double("profile", "--slowdown", v, 1e-6, 1e6, &slowdown)) return 2;
    } else if ((v = cl__opt(argc, argv, &i, "--seed", &missing))) {
      if (cl__parse_u64("profile", "--seed", v, &seed)) return 2;
    } else if ((v = cl__opt(argc, argv, &i, "-o", &missing)) || (v = cl__opt(argc, argv, &i, "--output", &missing))) {
      path = v;
    } else if ((v = cl__opt(argc, argv, &i, "--device", &missing))) {
      device = v;
    } else if ((v = cl__opt(argc, argv, &i, "--blocks", &missing))) {
      if (strcmp(v, "cuts") && strcmp(v, "scission")) {
        fprintf(stderr, "cleave: error: profile: --blocks expects 'cuts' or 'scission', got '%s'\n", v);
        return 2;
      }
      scission = !strcmp(v, "scission");
    } else if (!strcmp(argv[i], "--no-fuse")) {
      fuse = 0;
    } else if (!strcmp(argv[i], "--force")) {
      force = 1;
    } else if (cl__arg_rest("profile", "model", argv[i], missing, &model)) {
      return 2;
    }
  }
  if (!model) {
    return cl__cmd_error(2, "profile", "no model given (see cleave models)");
  }
  if (!path) {
    return cl__cmd_error(2, "profile", "no output file given (-o FILE.h5)");
  }
  if (device && slowdown != 1.0) {
    return cl__cmd_error(2, "profile", "--device and --slowdown exclude each other (the device model sets the factors)");
  }
  /* An ONNX file is named by its absolute path everywhere the profile records it: plans
   * made from the profile in any directory then find the file (docs/onnx.md). */
  char abs_model[4096];
  if (cl_onnx_is_path(model)) {
    char cwd[4096];
    if (model[0] == '/') snprintf(abs_model, sizeof abs_model, "%s", model);
    else if (!getcwd(cwd, sizeof cwd) || snprintf(abs_model, sizeof abs_model, "%s/%s", cwd, model) >= (int)sizeof abs_model) {
      return cl__cmd_error(2, "profile", "cannot make '%s' an absolute path", model);
    }
    if (strlen(abs_model) > 127) { /* cl_profile_h5_info.model: the planners' limit */
      return cl__cmd_error(2, "profile", "the absolute path of '%s' (%s) is longer than 127 characters; "
              "move the file to a shorter path", model, abs_model);
    }
    model = abs_model;
  }
  cl_graph *g = NULL;
  int has_weights = 0;
  cl_status st = cl_model_load(model, &g, &has_weights); /* zoo name or .onnx path */
  if (st != CL_OK) return st == CL_ERR_NOMEM || st == CL_ERR_INTERNAL ? 1 : 2;
  cl_store_opts so;
  memset(&so, 0, sizeof so);
  so.force = force;
  so.atomic = 1; /* written as FILE.part, renamed on success */
  so.kind = "profile";
  cl_store *store = NULL;
  cl_profile_result *r = NULL;
  dev_emul de;
  memset(&de, 0, sizeof de);
  double energy = 0;
  int rc = 1;
  st = cl_store_create(path, &so, &store);
  if (st != CL_OK) {
    rc = (st == CL_ERR_EXISTS || st == CL_ERR_IO) ? 2 : 1;
    goto done;
  }
  cl_provenance prov;
  memset(&prov, 0, sizeof prov);
  prov.argc = cl__argc;
  prov.argv = cl__argv;
  prov.has_seed = 1;
  prov.seed = seed;
  if (cl_store_write_provenance(store, &prov) != CL_OK) goto done;
  if (has_weights && cl_store_write_model_provenance(store, model) != CL_OK) goto done;
  if (!has_weights && cl_graph_init_weights(g, seed) != CL_OK) goto done;
  cl_profiler_opts o = cl_profiler_opts_default();
  o.reps = (int)reps;
  o.warmup = (int)warmup;
  o.threads = (int)threads;
  o.backend = (cl_backend)backend;
  o.fuse = fuse && !scission;
  o.slowdown = slowdown;
  o.seed = seed;
  if (cl_profiler_measure(g, &o, &r) != CL_OK) goto done;
  if (scission && (rc = scission_blocks(model, g, r)) != 0) goto done;
  rc = 1;
  if (device && (st = dev_emulate(device, model, g, &o, r, &de)) != CL_OK) {
    if (st == CL_ERR_CONFIG) rc = cl__cmd_error(2, "profile", "cannot load device '%s' (cleave devices list)", device);
    goto done;
  }
  if (cl_profiler_write(store, model, g, &o, r) != CL_OK) goto done;
  if (device && dev_write(store, model, r, &de, &energy) != CL_OK) goto done;
  double total = 0;
  for (int k = 0; k < r->n_steps; k++) {
    double s[4096];
    int n = r->reps < 4096 ? r->reps : 4096;
    for (int i = 0; i < n; i++) s[i] = r->wall[(size_t)i * r->n_steps + k];
    total += cl__median(s, n);
  }
  printf("model: %s\nlayers: %d\nblocks: %d\nreps: %d\nthreads: %ld\n", model, r->n_steps, r->n_blocks, r->reps,
         threads);
  printf("records: %lld\n", (long long)r->n_steps * r->reps);
  if (device) printf("device: %s\nenergy_j_median_sum: %.6g\n", de.dev.name, energy);
  printf("total_ms_median_sum: %.3f\ngflops: %.1f\noutput: %s\n", total * 1e3, r->gflops, cl_store_path(store));
  rc = 0;
done:
  if (store && (rc == 0 ? cl_store_close(store) : cl_store_discard(store)) != CL_OK) rc = 1;
  cl_profile_result_free(r);
  dev_emul_fini(&de);
  cl_graph_destroy(g);
  return rc;
}
