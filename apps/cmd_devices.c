/* cleave devices: the device catalogue (configs/devices, docs/devices.md).
 *   list              names, descriptions and fit quality of the catalogue
 *   fit               refit the five Scission machines from Scission's per-block times
 *   check             per-block error of the catalogue against Scission's CSVs, in-sample
 *                     and held out, optionally through this host's measured layers */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleave/device_fit.h"
#include "cleave/outfile.h"
#include "cleave/profiler.h"
#include "cleave/zoo.h"
#include "cli.h"
#include "commands.h"

/* Scission machine file (tier-machine) -> catalogue name. */
static const struct {
  const char *csv, *device;
} g_machines[] = {
    {"device-raspi4", "raspi4"},
    {"edge-2500", "i5-2500"},
    {"edge-vm2Core", "vm2core"},
    {"cloud-6700k(NoGPU)", "i7-6700k"},
    {"cloud-6700k(GPU)", "i7-6700k-gpu"},
};
enum { N_MACHINES = sizeof g_machines / sizeof g_machines[0] };

static void help(void) {
  printf("usage: cleave devices list\n"
         "       cleave devices fit --scission DIR [--out DIR]\n"
         "       cleave devices check --scission DIR [--emulate [--clock virtual|model] [--backend B] [--verbose]]\n"
         "       cleave devices emulate --scission DIR --out DIR [--force]\n"
         "  list: the catalogue (configs/devices or $CLEAVE_DEVICE_DIR).\n"
         "  fit: fits throughput per op class and the per-layer overhead of raspi4, i5-2500,\n"
         "    vm2core, i7-6700k, i7-6700k-gpu to Scission's per-block times (DIR holds\n"
         "    device-raspi4.csv, ...) on all 18 models (the zoo's keras/ family maps every\n"
         "    block), by non-negative least squares on relative errors; rewrites\n"
         "    throughput, derived, overhead and fit of DIR_OUT/NAME.yaml (default: the\n"
         "    catalogue), keeping name, description, sources, memory, power and DVFS.\n"
         "  check: one line per machine: device NAME blocks N median_abs_error_pct X\n"
         "    heldout_blocks M heldout_median_abs_error_pct Y loo_model_median_abs_error_pct Z\n"
         "    X: the catalogue model vs every mapped block. Y: 2-fold, fitted on even blocks and\n"
         "    tested on odd ones and vice versa. Z: fitted without the tested model.\n"
         "    --emulate: X uses emulated times of vgg16, vgg19 and mobilenet (the models cheap\n"
         "    enough to run twice here) as `cleave run` charges them: this host's\n"
         "    measured per-layer CPU time x (device time / calibrated host time of the layer,\n"
         "    cl_calib_layers: cached, else measured first; the run is a second measurement);\n"
         "    --clock model: as `clock: model` charges them (a device step costs its device\n"
         "    model's time; no host measurement enters);\n"
         "    --verbose\n"
         "    prints every block: Scission's time, the device model's, the emulated one, and\n"
         "    this host's measured and modelled times.\n"
         "  emulate: writes DIR_OUT/<tier>-<machine>.csv, Scission's files with every block's\n"
         "    seconds replaced by the catalogue model's (and copies the network files), for\n"
         "    `cleave plan scission --profiles DIR_OUT` (scripts/replay_scission.py).\n");
}

static int list(void) {
  const char *dir = getenv("CLEAVE_DEVICE_DIR");
  if (!dir || !*dir) dir = cl_device_catalogue_dir();
  DIR *d = opendir(dir);
  if (!d) {
    fprintf(stderr, "cleave: error: devices: cannot open %s\n", dir);
    return 1;
  }
  struct dirent *e;
  printf("%-14s %6s %8s  %s\n", "name", "blocks", "fit_err%", "description");
  while ((e = readdir(d))) {
    size_t l = strlen(e->d_name);
    if (l < 6 || strcmp(e->d_name + l - 5, ".yaml")) continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    cl_device dev;
    if (cl_device_load(path, &dev) != CL_OK) continue;
    printf("%-14s %6d %8.2f  %s\n", dev.name, dev.fit_blocks, dev.fit_error_pct, dev.description);
  }
  closedir(d);
  return 0;
}

static cl_status read_machine(const char *dir, int m, cl_devfit_data *data) {
  char path[4096];
  int skipped = 0;
  snprintf(path, sizeof path, "%s/%s.csv", dir, g_machines[m].csv);
  return cl_devfit_read(path, NULL, data, &skipped);
}

static void models_text(const cl_devfit_data *d, char *buf, size_t cap) {
  buf[0] = '\0';
  for (int i = 0; i < d->n; i++)
    if (i == 0 || strcmp(d->b[i].model, d->b[i - 1].model)) {
      size_t l = strlen(buf);
      snprintf(buf + l, cap - l, "%s%s", l ? " " : "", d->b[i].model);
    }
}

static int fit(const char *dir, const char *out) {
  for (int m = 0; m < N_MACHINES; m++) {
    cl_devfit_data data;
    if (read_machine(dir, m, &data) != CL_OK) return 2; /* a bad or missing input CSV */
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.yaml", out, g_machines[m].device);
    cl_device dev;
    if (cl_device_load(path, &dev) != CL_OK) {
      fprintf(stderr, "cleave devices fit: %s must exist (name, description, sources, power)\n", path);
      cl_devfit_data_fini(&data);
      return 1;
    }
    cl_status st = cl_devfit_fit(&data, NULL, &dev);
    if (st == CL_OK) {
      dev.fit_error_pct = cl_devfit_median_error(&data, NULL, &dev, &dev.fit_blocks);
      models_text(&data, dev.fit_models, sizeof dev.fit_models);
      st = cl_device_save(&dev, path);
    }
    if (st == CL_OK)
      printf("%-14s blocks %3d median_abs_error_pct %6.2f  -> %s\n", dev.name, dev.fit_blocks, dev.fit_error_pct, path);
    cl_devfit_data_fini(&data);
    if (st != CL_OK) return 1;
  }
  return 0;
}

/* Held-out errors: 2-fold by block parity, and leave-one-model-out. */
static void heldout(const cl_devfit_data *d, const cl_device *base, double *parity, int *np, double *loo) {
  int *use = malloc(sizeof(int) * (size_t)(d->n + 1)), *test = malloc(sizeof(int) * (size_t)(d->n + 1));
  double *err = malloc(sizeof(double) * (size_t)(d->n + 1));
  *parity = *loo = NAN;
  *np = 0;
  if (!use || !test || !err) goto out;
  for (int pass = 0; pass < 2; pass++) { /* 0: parity folds, 1: models */
    int ne = 0;
    const char *const *models = cl_devfit_models(0);
    int folds = pass == 0 ? 2 : 0;
    if (pass == 1)
      while (models[folds]) folds++;
    for (int f = 0; f < folds; f++) {
      for (int i = 0; i < d->n; i++) {
        test[i] = pass == 0 ? (d->b[i].block % 2 == f) : !strcmp(d->b[i].model, models[f]);
        use[i] = !test[i];
      }
      cl_device dev = *base;
      if (cl_devfit_fit(d, use, &dev) != CL_OK) continue;
      for (int i = 0; i < d->n; i++)
        if (test[i]) err[ne++] = 100.0 * fabs(cl_devfit_predict(d, i, &dev) - d->b[i].seconds) / d->b[i].seconds;
    }
    cl_stat_summary s;
    if (ne) {
      cl_stat_summarise(err, ne, &s);
      if (pass == 0) {
        *parity = s.median;
        *np = ne;
      } else {
        *loo = s.median;
      }
    }
  }
out:
  free(use);
  free(test);
  free(err);
}

/* Per mappable model: this host's calibration of every layer (cl_calib_layers, cached
 * or measured), and a second, independent measurement standing in for a run. */
typedef struct host_times {
  cl_graph *g[8];
  double *cal[8], *t[8];
} host_times;

static cl_status measure_models(int backend, const cl_device *host, host_times *h) {
  const char *const *models = cl_devfit_models(1);
  cl_status st = CL_OK;
  for (int m = 0; models[m] && m < 8 && st == CL_OK; m++) {
    const char *zoo = cl_devfit_zoo_name(models[m]);
    st = cl_zoo_build(zoo, &h->g[m]);
    int n = st == CL_OK ? cl_graph_size(h->g[m]) : 0;
    h->cal[m] = calloc((size_t)n + 1, sizeof(double));
    h->t[m] = calloc((size_t)n + 1, sizeof(double));
    if (st == CL_OK && (!h->cal[m] || !h->t[m])) st = CL_ERR_NOMEM;
    if (st == CL_OK) st = cl_calib_layers((cl_backend)backend, 1, zoo, h->g[m], host, 0, h->cal[m]);
    /* the run: measured, not cached (it must not become the next run's calibration) */
    if (st == CL_OK) st = cl_calib_layers((cl_backend)backend, 1, zoo, h->g[m], host, 2, h->t[m]);
  }
  return st;
}

/* Emulated block times as the runtime charges them: this host's measured per-node time
 * x the per-layer factor device time / calibrated host time; with clock: model
 * (@p model_clock) the calibrated host time x that factor, i.e. the device model's time. */
static void emulate(const cl_devfit_data *d, const cl_device *dev, const host_times *h,
                    int verbose, int model_clock, double *pred) {
  const char *const *models = cl_devfit_models(1);
  for (int b = 0; b < d->n; b++) {
    int m = 0;
    while (models[m] && strcmp(models[m], d->b[b].model)) m++;
    pred[b] = NAN;
    if (!models[m]) continue; /* not run here (too slow): not emulated */
    double host_meas = 0, host_pred = 0, dev_pred = 0;
    pred[b] = 0;
    for (int id = d->b[b].first_node; id <= d->b[b].last_node; id++) {
      double hp = h->cal[m][id], dp = cl_device_node_time(dev, h->g[m], id);
      if (hp > 0) pred[b] += (model_clock ? hp : h->t[m][id]) * dp / hp;
      host_meas += h->t[m][id];
      host_pred += hp;
      dev_pred += dp;
    }
    if (verbose)
      printf("  %-10s %3d  measured %10.6f  model %10.6f  emulated %10.6f  host %10.6f  host_model %10.6f\n",
             d->b[b].model, d->b[b].block, d->b[b].seconds, dev_pred, pred[b], host_meas, host_pred);
  }
}

static int check(const char *dir, int emul, int backend, int verbose, int model_clock) {
  cl_device host;
  host_times h;
  memset(&h, 0, sizeof h);
  int rc = 0;
  if (emul && (cl_calib_get((cl_backend)backend, 1, 0, &host, NULL, 0) != CL_OK ||
               measure_models(backend, &host, &h) != CL_OK))
    rc = 1;
  for (int m = 0; m < N_MACHINES && rc == 0; m++) {
    cl_devfit_data data;
    cl_device dev;
    if (read_machine(dir, m, &data) != CL_OK) {
      rc = 2;
      break;
    }
    if (cl_device_find(g_machines[m].device, &dev) != CL_OK) {
      cl_devfit_data_fini(&data);
      rc = 1;
      break;
    }
    int n = 0;
    double x = cl_devfit_median_error(&data, NULL, &dev, &n);
    if (emul) {
      double *pred = malloc(sizeof(double) * (size_t)(data.n + 1)), *err = malloc(sizeof(double) * (size_t)(data.n + 1));
      if (pred && err && data.n) {
        emulate(&data, &dev, &h, verbose, model_clock, pred);
        n = 0;
        for (int i = 0; i < data.n; i++)
          if (!isnan(pred[i])) err[n++] = 100.0 * fabs(pred[i] - data.b[i].seconds) / data.b[i].seconds;
        cl_stat_summary s;
        cl_stat_summarise(err, n, &s);
        x = s.median;
      } else {
        rc = 1;
      }
      free(pred);
      free(err);
    }
    double par, loo;
    int np;
    heldout(&data, &dev, &par, &np, &loo);
    printf("device %s blocks %d median_abs_error_pct %.2f heldout_blocks %d heldout_median_abs_error_pct %.2f "
           "loo_model_median_abs_error_pct %.2f\n",
           dev.name, n, x, np, par, loo);
    fflush(stdout);
    cl_devfit_data_fini(&data);
  }
  for (int m = 0; m < 8; m++) {
    cl_graph_destroy(h.g[m]);
    free(h.t[m]);
    free(h.cal[m]);
  }
  return rc;
}

/* Scission-format CSVs of the catalogue's emulated machines: every row of each machine's
 * file with `seconds` replaced by the device model's time of the block (the blocks' node
 * ranges come from device-raspi4.csv, which has no 0 s rows); the network files are
 * copied. `cleave plan scission --profiles OUT` then plans on the emulated testbed. */
static const char *emu_base(int m) {
  return m < N_MACHINES ? g_machines[m].csv : m == N_MACHINES ? "network_stats" : "network_stats_wired";
}

static int emulate_csv(const char *dir, const char *out, int force) {
  struct stat sb;
  if (stat(out, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
    fprintf(stderr, "cleave: error: devices: --out '%s' is not a directory\n", out);
    return 2;
  }
  for (int m = 0; m < N_MACHINES + 2; m++) { /* every output checked before any is written */
    char p[4096];
    snprintf(p, sizeof p, "%s/%s.csv", out, emu_base(m));
    if (cl_output_check("devices", p, force) != CL_OK) return 2;
  }
  cl_devfit_data data;
  if (read_machine(dir, 0, &data) != CL_OK) return 2;
  int rc = 0;
  for (int m = 0; m < N_MACHINES + 2 && rc == 0; m++) {
    const char *base = emu_base(m);
    cl_device dev;
    if (m < N_MACHINES && cl_device_find(g_machines[m].device, &dev) != CL_OK) {
      rc = 1;
      break;
    }
    char in_path[4096], out_path[4096], line[512], model[64];
    snprintf(in_path, sizeof in_path, "%s/%s.csv", dir, base);
    snprintf(out_path, sizeof out_path, "%s/%s.csv", out, base);
    FILE *fi = fopen(in_path, "r"), *fo = fi ? fopen(out_path, "w") : NULL;
    if (!fi || !fo) {
      fprintf(stderr, "cleave: error: devices: cannot %s '%s'\n", fi ? "write" : "read", fi ? out_path : in_path);
      rc = fi ? 1 : 2;
    }
    for (int ln = 1; rc == 0 && fgets(line, sizeof line, fi); ln++) {
      int block, in, outl, i = 0;
      double sec;
      long long bytes;
      if (ln == 1 || m >= N_MACHINES) {
        fputs(line, fo);
        continue;
      }
      if (sscanf(line, "%63[^,],%d,%d,%d,%lf,%lld", model, &block, &in, &outl, &sec, &bytes) != 6) {
        fprintf(stderr, "cleave: error: devices: %s:%d: not a Scission row\n", in_path, ln);
        rc = 2;
        break;
      }
      while (i < data.n && (strcmp(data.b[i].model, model) || data.b[i].block != block)) i++;
      if (i == data.n) {
        fprintf(stderr, "cleave: error: devices: %s:%d: %s block %d is not mapped\n", in_path, ln, model, block);
        rc = 2;
        break;
      }
      fprintf(fo, "%s,%d,%d,%d,%.9g,%lld\n", model, block, in, outl, cl_devfit_predict(&data, i, &dev), bytes);
    }
    if (fi) fclose(fi);
    if (fo && fclose(fo) != 0) rc = 1;
  }
  cl_devfit_data_fini(&data);
  return rc;
}

int cl__cmd_devices(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    help();
    return argc < 2 ? 2 : 0;
  }
  const char *sub = argv[1], *dir = NULL, *out = NULL;
  int emul = 0, verbose = 0, backend = CL_BACKEND_AUTO, model_clock = 0, force = 0;
  for (int i = 2; i < argc; i++) {
    int missing = 0;
    const char *v;
    if ((v = cl__opt(argc, argv, &i, "--scission", &missing))) dir = v;
    else if ((v = cl__opt(argc, argv, &i, "--out", &missing))) out = v;
    else if ((v = cl__opt(argc, argv, &i, "--backend", &missing))) {
      if (cl__parse_backend("devices", v, &backend)) return 2;
    } else if ((v = cl__opt(argc, argv, &i, "--clock", &missing))) {
      if (strcmp(v, "virtual") && strcmp(v, "model")) {
        fprintf(stderr, "cleave: error: devices: --clock '%s': expected virtual or model\n", v);
        return 2;
      }
      model_clock = !strcmp(v, "model");
    } else if (!strcmp(argv[i], "--emulate")) emul = 1;
    else if (!strcmp(argv[i], "--force")) force = 1;
    else if (!strcmp(argv[i], "--verbose")) verbose = 1;
    else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { /* cleave devices SUB --help */
      help();
      return 0;
    } else {
      fprintf(stderr, "cleave: error: devices: %s '%s' (see --help)\n", missing ? "missing value for" : "unknown argument",
              argv[i]);
      return 2;
    }
  }
  if (!strcmp(sub, "list")) return list();
  if (!dir) {
    fprintf(stderr, "cleave: error: devices %s: --scission DIR is required\n", sub);
    return 2;
  }
  if (!strcmp(sub, "fit")) return fit(dir, out ? out : cl_device_catalogue_dir());
  if (!strcmp(sub, "check")) return check(dir, emul, backend, verbose, model_clock);
  if (!strcmp(sub, "emulate")) {
    if (!out) {
      fprintf(stderr, "cleave: error: devices: emulate needs --out DIR\n");
      return 2;
    }
    return emulate_csv(dir, out, force);
  }
  fprintf(stderr, "cleave: error: devices: unknown subcommand '%s' (list, fit, check, emulate)\n", sub);
  return 2;
}
