/* Device models in the runtime (docs/devices.md): a node that says `device: NAME` is
 * charged, per step, (device time / host time) of the step's layers, both from models
 * (the catalogue device, and this host's calibration for the run's backend and the
 * node's thread count). The ratio absorbs the backend and the host: the emulated time of
 * a step is its measured host time x device model / host model. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/runtime.h"
#include "cleave/store.h"
#include "cleave/testbed.h"

static cl_status setup_devices(const cl_testbed *tb, const cl_graph *g, cl_rt_setup *su, double *host_s);

cl_status cl_tb_node_device(const cl_testbed *tb, int nd, cl_device *d) {
  const cl_tb_node *t = &tb->nodes[nd];
  const char *src = tb->source ? tb->source : "config";
  if (!t->device) return CL_ERR_INVALID;
  if (cl_device_find(t->device, d) != CL_OK) {
    cl_log_error("%s:%d: node '%s': cannot load device '%s' (see above)", src, t->line, t->name, t->device);
    return CL_ERR_CONFIG;
  }
  if (!t->dvfs_set) return CL_OK;
  /* the node runs at one DVFS state: speed x f, dynamic power x f V^2 */
  cl_device nominal = *d;
  if (t->dvfs < 0 || t->dvfs >= nominal.n_dvfs) {
    cl_log_error("%s:%d: node '%s': dvfs: %d, but device '%s' has %d DVFS state%s (0..%d)", src, t->line, t->name,
                 t->dvfs, nominal.name, nominal.n_dvfs, nominal.n_dvfs == 1 ? "" : "s", nominal.n_dvfs - 1);
    return CL_ERR_CONFIG;
  }
  return cl_device_at_dvfs(&nominal, t->dvfs, d);
}

cl_status cl_rt_setup_devices(const cl_testbed *tb, const cl_graph *g, cl_rt_setup *su) {
  int any = 0, n = cl_graph_size(g);
  for (int i = 0; i < tb->n_nodes; i++) any |= tb->nodes[i].device != NULL;
  if (!any) return CL_OK;
  /* again after a new placement (su->node_of_layer): the tables are per assigned layer */
  free(su->device_models);
  free(su->host_models);
  free(su->layer_device_s);
  free(su->layer_host_s);
  su->device_models = calloc((size_t)tb->n_nodes, sizeof(cl_device));
  su->host_models = calloc((size_t)tb->n_nodes, sizeof(cl_device));
  su->layer_device_s = calloc((size_t)n, sizeof(double));
  su->layer_host_s = calloc((size_t)n, sizeof(double));
  double *host_s = malloc(sizeof(double) * (size_t)n);
  cl_status st = setup_devices(tb, g, su, host_s);
  free(host_s);
  return st;
}

static cl_status setup_devices(const cl_testbed *tb, const cl_graph *g, cl_rt_setup *su, double *host_s) {
  int n = cl_graph_size(g);
  if (!host_s || !su->device_models || !su->host_models || !su->layer_device_s || !su->layer_host_s)
    return CL_ERR_NOMEM;
  for (int nd = 0; nd < tb->n_nodes; nd++) {
    const cl_tb_node *t = &tb->nodes[nd];
    cl_rt_node *rn = &su->nodes[nd];
    if (!t->device) continue;
    CL_TRY(cl_tb_node_device(tb, nd, &su->device_models[nd]));
    rn->dvfs = t->dvfs_set ? t->dvfs : -1;
    CL_TRY(cl_calib_get((cl_backend)su->backend, t->threads, 0, &su->host_models[nd], NULL, 0));
    snprintf(rn->device, sizeof rn->device, "%s", su->device_models[nd].name);
    /* Host time of each layer: this model's own layers measured through the executor
     * (cached), so a layer's factor does not inherit the class model's error for it. */
    su->host_layers = cl_calib_layers_enabled();
    if (su->host_layers)
      CL_TRY(cl_calib_layers((cl_backend)su->backend, t->threads, su->model, g, &su->host_models[nd], 0, host_s));
    double dev = 0, host = 0;
    for (int id = 0; id < n; id++) {
      if (su->node_of_layer[id] != nd) continue;
      su->layer_device_s[id] = cl_device_node_time(&su->device_models[nd], g, id);
      su->layer_host_s[id] = su->host_layers ? host_s[id] : cl_device_node_time(&su->host_models[nd], g, id);
      dev += su->layer_device_s[id];
      host += su->layer_host_s[id];
    }
    rn->speed_override = t->speed_given;
    if (!t->speed_given && host > 0) rn->speed = dev / host; /* whole-plan factor, for records */
    rn->slowdown = cl_rt_effective_slowdown(rn->speed, rn->cpu_load, rn->mem_pressure);
    if (!t->has_power && su->device_models[nd].has_power) rn->power = su->device_models[nd].power;
  }
  return CL_OK;
}

double cl_rt_step_slowdown(const cl_rt_setup *su, int nd, const int *nodes, int n) {
  const cl_rt_node *rn = &su->nodes[nd];
  if (!rn->device[0] || rn->speed_override) return rn->slowdown;
  double dev = 0, host = 0;
  for (int j = 0; j < n; j++) {
    dev += su->layer_device_s[nodes[j]];
    host += su->layer_host_s[nodes[j]];
  }
  if (!(host > 0)) return rn->slowdown; /* a work-free step (identity): the node's factor */
  return cl_rt_effective_slowdown(dev / host, rn->cpu_load, rn->mem_pressure);
}

cl_status cl_rt_check_wall(const cl_rt_setup *su, const cl_rt_tasks *t, int strict, int *n_fast) {
  *n_fast = 0;
  if (!su->wall) return CL_OK;
  for (int nd = 0; nd < t->n_nodes; nd++) {
    int fast = 0;
    double lo = INFINITY;
    for (int k = 0; k < t->n_steps[nd]; k++)
      if (t->step_slowdown[nd][k] < 1) {
        fast++;
        lo = fmin(lo, t->step_slowdown[nd][k]);
      }
    if (!fast) continue;
    *n_fast += fast;
    const char *what = "wall clock: node '%s'%s%s%s: %d of %d steps are faster than this host can run them "
                       "(slowdown down to %.3g < 1); sleeping cannot speed them up, so their wall times are "
                       "this host's (the virtual clock is exact)";
    const cl_rt_node *rn = &su->nodes[nd];
    if (strict) {
      cl_log_error(what, rn->name, rn->device[0] ? " (device " : "", rn->device, rn->device[0] ? ")" : "", fast,
                   t->n_steps[nd], lo);
    } else {
      cl_log_warn(what, rn->name, rn->device[0] ? " (device " : "", rn->device, rn->device[0] ? ")" : "", fast,
                  t->n_steps[nd], lo);
    }
  }
  if (strict && *n_fast) {
    cl_log_error("wall clock: refusing the run (--strict); use the virtual clock or slower nodes");
    return CL_ERR_CONFIG;
  }
  return CL_OK;
}

/* ---- provenance ---- */

typedef struct dev_step_rec {
  int32_t node, step, out_node;
  char device[64];
  double device_s, host_model_s, slowdown;
} dev_step_rec;
static const cl_field g_dev_step_f[] = {
    CL_FIELD_DICT(dev_step_rec, node, "nodes", "testbed node"),
    CL_FIELD(dev_step_rec, step, CL_F_INT32, "", "step index on its node (as in /layers)"),
    CL_FIELD(dev_step_rec, out_node, CL_F_INT32, "", "graph node id of the step's output"),
    CL_FIELD(dev_step_rec, device, CL_F_STRING, "", "device model of the node (\"\" = speed factor only)"),
    CL_FIELD(dev_step_rec, device_s, CL_F_FLOAT64, "s", "modelled time of the step's layers on the device"),
    CL_FIELD(dev_step_rec, host_model_s, CL_F_FLOAT64, "s", "modelled time on this host (calibration)"),
    CL_FIELD(dev_step_rec, slowdown, CL_F_FLOAT64, "1", "factor charged: measured host time x slowdown"),
};
static const cl_table_desc g_dev_step_d = {"/devices/steps", sizeof(dev_step_rec), g_dev_step_f,
                                           (int)(sizeof g_dev_step_f / sizeof g_dev_step_f[0]),
                                           "per-step slowdown factors of every node (docs/devices.md)", 0};

cl_status cl_device_write_attr(cl_store *st, const char *path, const char *attr, const cl_device *d) {
  char *text = NULL;
  CL_TRY(cl_device_to_yaml(d, &text));
  cl_status s = cl_store_attr_str(st, path, attr, text);
  free(text);
  return s;
}

cl_status cl_rt_write_devices(cl_store *st, const cl_rt_setup *su, const cl_rt_tasks *t, int n_fast) {
  cl_table *tab = NULL;
  cl_dict *dn = NULL;
  CL_TRY(cl_store_table(st, &g_dev_step_d, &tab));
  CL_TRY(cl_store_dict(st, "nodes", &dn));
  CL_TRY(cl_store_attr_i64(st, "/devices", "wall_unrealisable_steps", n_fast));
  for (int nd = 0; nd < t->n_nodes; nd++) {
    const cl_rt_node *rn = &su->nodes[nd];
    dev_step_rec r;
    memset(&r, 0, sizeof r);
    CL_TRY(cl_dict_id(dn, rn->name, &r.node));
    snprintf(r.device, sizeof r.device, "%s", rn->device);
    for (int k = 0; k < t->n_steps[nd]; k++) {
      r.step = k;
      r.out_node = t->step_out[nd][k];
      r.device_s = r.host_model_s = 0;
      for (int id = t->step_node[nd][k]; su->layer_device_s && id <= r.out_node; id++)
        if (t->node_step[id] == t->step_off[nd] + k) {
          r.device_s += su->layer_device_s[id];
          r.host_model_s += su->layer_host_s[id];
        }
      r.slowdown = t->step_slowdown[nd][k];
      CL_TRY(cl_table_append(tab, &r, 1));
    }
    if (!rn->device[0]) continue;
    char key[96];
    snprintf(key, sizeof key, "device_%s", rn->name);
    CL_TRY(cl_device_write_attr(st, "/devices", key, &su->device_models[nd]));
    snprintf(key, sizeof key, "host_%s", rn->name);
    CL_TRY(cl_device_write_attr(st, "/devices", key, &su->host_models[nd]));
    snprintf(key, sizeof key, "host_times_%s", rn->name);
    CL_TRY(cl_store_attr_str(st, "/devices", key,
                             su->host_layers ? "this model's layers measured through the executor (cl_calib_layers)"
                                             : "class model of the host calibration (CLEAVE_CALIB_LAYERS=0)"));
    char v[320];
    if (rn->dvfs >= 0) {
      const cl_device *dm = &su->device_models[nd];
      snprintf(key, sizeof key, "dvfs_%s", rn->name);
      snprintf(v, sizeof v, "state %d: %.9g GHz, %.9g V (nominal %.9g GHz, %.9g V); device_%s is scaled to it",
               rn->dvfs, dm->dvfs[rn->dvfs].freq, dm->dvfs[rn->dvfs].volt, dm->dvfs[dm->n_dvfs - 1].freq,
               dm->dvfs[dm->n_dvfs - 1].volt, rn->name);
      CL_TRY(cl_store_attr_str(st, "/devices", key, v));
    }
    snprintf(key, sizeof key, "speed_%s", rn->name);
    snprintf(v, sizeof v, rn->speed_override ? "override %.9g (config speed:, the device model only sets power)"
                                             : "per-layer factors (whole-plan factor %.9g)",
             rn->speed);
    CL_TRY(cl_store_attr_str(st, "/devices", key, v));
  }
  return CL_OK;
}
