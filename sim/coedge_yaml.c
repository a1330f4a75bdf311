/* CoEdge devices files and the bandwidth / duration options of `cleave plan coedge`,
 * read through the config layer (one reader, one unit grammar, FILE:LINE:COL errors). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/coedge.h"
#include "cleave/config.h"

/* Command-line values: the grammar of config files; CL_ERR_INVALID as before. */
cl_status cl_coedge_parse_bandwidth(const char *s, double *out) {
  double lo, hi;
  cl_config_unit_range(CL_CONFIG_BANDWIDTH, &lo, &hi);
  return cl_config_parse_unit_in(CL_CONFIG_BANDWIDTH, s, 0.125, hi, "bandwidth", out) == CL_OK ? CL_OK
                                                                                              : CL_ERR_INVALID;
}

cl_status cl_coedge_parse_seconds(const char *s, double *out) {
  return cl_config_parse_unit_in(CL_CONFIG_DURATION, s, 0, INFINITY, "duration", out) == CL_OK ? CL_OK
                                                                                               : CL_ERR_INVALID;
}

void cl_coedge_devfile_fini(cl_coedge_devfile *f) {
  if (!f) return;
  for (int d = 0; d < f->n_dev; d++) free((char *)f->dev[d].name);
  free(f->dev);
  free(f->gflops);
  memset(f, 0, sizeof *f);
}

/* Keys of a device, in the order of the struct's powers. */
static const char *const k_power_keys[] = {"compute_w", "idle_w", "tx_w", "rx_w"};

int cl_coedge_devfile_reference(cl_coedge_devfile *f, double host_gflops) {
  int n = 0;
  for (int d = 0; f->gflops && d < f->n_dev; d++)
    if (f->gflops[d] >= 0) {
      f->dev[d].speed = host_gflops > 0 ? f->gflops[d] / host_gflops : 0;
      n++;
    }
  return n;
}

static cl_status load_device(cl_config_node *m, cl_coedge_device *dv, double *gflops, int *is_source) {
  CL_TRY(cl_config_expect(m, CL_CONFIG_MAP));
  const char *name;
  CL_TRY(cl_config_get_str(m, "name", &name));
  if (!*name) return cl_config_error(cl_config_find(m, "name"), "a device name must not be empty");
  if (!(dv->name = strdup(name))) return CL_ERR_NOMEM;
  cl_config_node *gn = cl_config_find(m, "gflops");
  *gflops = -1;
  if (gn && cl_config_find(m, "speed"))
    return cl_config_error(gn, "give 'speed' (relative to the host) or 'gflops' (absolute), not both");
  if (gn) /* speed: set from the reference rate (cl_coedge_devfile_reference); 0: unavailable */
    CL_TRY(cl_config_get_double(m, "gflops", 0, 1e9, gflops));
  else
    CL_TRY(cl_config_get_unit(m, "speed", CL_CONFIG_FACTOR, &dv->speed)); /* 0: unavailable */
  double *power[] = {&dv->p_comp, &dv->p_idle, &dv->p_tx, &dv->p_rx};
  for (int k = 0; k < 4; k++) CL_TRY(cl_config_get_unit(m, k_power_keys[k], CL_CONFIG_POWER, power[k]));
  return cl_config_opt_bool(m, "source", 0, is_source);
}

static cl_status load_devices(cl_config *c, cl_coedge_devfile *out) {
  cl_config_node *root = cl_config_root(c);
  if (!root) {
    cl_log_error("%s:1:1: empty devices file (expected a map with a 'devices' list)", cl_config_name(c));
    return CL_ERR_CONFIG;
  }
  CL_TRY(cl_config_expect(root, CL_CONFIG_MAP));
  double lo, hi;
  cl_config_unit_range(CL_CONFIG_BANDWIDTH, &lo, &hi);
  if (cl_config_find(root, "bandwidth")) /* 0 = absent, so an explicit one is > 0 */
    CL_TRY(cl_config_get_unit_in(root, "bandwidth", CL_CONFIG_BANDWIDTH, 0.125, hi, &out->bandwidth));
  CL_TRY(cl_config_opt_unit(root, "msg_latency", CL_CONFIG_DURATION, -1, &out->msg_latency));
  /* how the requester sends the input: 1 = 8-bit camera frame, 2 = fp16, 4 = float32 */
  int64_t ib;
  CL_TRY(cl_config_opt_int(root, "input_bytes_per_elem", INT64_MIN, INT64_MAX, 4, &ib));
  if (ib != 1 && ib != 2 && ib != 4)
    return cl_config_error(cl_config_find(root, "input_bytes_per_elem"),
                           "expects 1 (8-bit image), 2 (fp16) or 4 (float32), got %lld", (long long)ib);
  out->input_bytes_per_elem = (int)ib;
  CL_TRY(cl_config_opt_bool(root, "overlap", 0, &out->overlap));
  cl_config_node *devs = cl_config_find(root, "devices");
  if (!devs || cl_config_kind_of(devs) != CL_CONFIG_SEQ || cl_config_len(devs) == 0)
    return cl_config_error(devs ? devs : root, "'devices' must be a non-empty list");
  int n = cl_config_len(devs), n_source = 0;
  if (!(out->dev = calloc((size_t)n, sizeof *out->dev)) || !(out->gflops = calloc((size_t)n, sizeof *out->gflops)))
    return CL_ERR_NOMEM;
  for (int i = 0; i < n; i++) {
    cl_config_node *m = cl_config_at(devs, i);
    int is_src = 0;
    out->n_dev = i + 1;
    CL_TRY(load_device(m, &out->dev[i], &out->gflops[i], &is_src));
    if (is_src && n_source++) return cl_config_error(m, "more than one device is marked source");
    if (is_src) out->source = i;
    for (int j = 0; j < i; j++)
      if (!strcmp(out->dev[j].name, out->dev[i].name))
        return cl_config_error(cl_config_find(m, "name"), "duplicate device name '%s'", out->dev[i].name);
  }
  return cl_config_check_unused(c);
}

cl_status cl_coedge_devfile_load(const char *path, cl_coedge_devfile *out) {
  memset(out, 0, sizeof *out);
  out->msg_latency = -1;
  out->input_bytes_per_elem = 4;
  cl_config *c = NULL;
  cl_status st = cl_config_load(path, &c);
  if (st == CL_OK) st = load_devices(c, out);
  cl_config_destroy(c);
  if (st != CL_OK) cl_coedge_devfile_fini(out);
  return st;
}
