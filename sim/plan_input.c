/* Building and checking planner inputs (include/cleave/plan.h): from a graph with host
 * times and machine speeds, or from a profile set and network statistics. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/device.h"
#include "cleave/plan.h"
#include "cleave/plan_profiles.h"
#include "cleave/runtime.h"
#include "cleave/testbed.h"
#include "plan_internal.h"

/* What a builder allocated; freed by cl_plan_input_fini. */
typedef struct plan_store {
  double *secs;              /* [n_machines * n_units] */
  double *out;               /* [n_units] */
  int *in_off, *in_idx;      /* CSR */
  int *first_layer, *last_layer;
  cl_plan_machine *machines; /* [n_machines] */
  cl_plan_link *links;
} plan_store;

void cl_plan_input_init(cl_plan_input *in) {
  memset(in, 0, sizeof *in);
  in->objective = CL_PLAN_LATENCY;
}

void cl_plan_input_fini(cl_plan_input *in) {
  if (!in) return;
  plan_store *s = in->owned_;
  if (s) {
    free(s->secs);
    free(s->out);
    free(s->in_off);
    free(s->in_idx);
    free(s->first_layer);
    free(s->last_layer);
    free(s->machines);
    free(s->links);
    free(s);
  }
  cl_plan_input_init(in);
}

char *cl__plan_strdupf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) return NULL;
  char *s = malloc((size_t)n + 1);
  if (!s) return NULL;
  va_start(ap, fmt);
  vsnprintf(s, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return s;
}

cl_status cl_plan_input_check(const cl_plan_input *in) {
  if (in->n_machines < 1 || !in->machines) {
    cl_log_error("plan: the input has no machines");
    return CL_ERR_INVALID;
  }
  for (int m = 0; m < in->n_machines; m++) {
    const cl_plan_machine *pm = &in->machines[m];
    if (!pm->name || (in->n_units > 0 && !pm->seconds)) {
      cl_log_error("plan: machine %d has no %s", m, pm->name ? "seconds per unit" : "name");
      return CL_ERR_INVALID;
    }
    for (int k = 0; k < m; k++)
      if (!strcmp(in->machines[k].name, pm->name)) {
        cl_log_error("plan: two machines are named '%s'", pm->name);
        return CL_ERR_INVALID;
      }
  }
  if (in->n_units > 0 && !in->out_bytes) {
    cl_log_error("plan: the input has units but no output sizes");
    return CL_ERR_INVALID;
  }
  for (int i = 0; in->in_off && i < in->n_units; i++)
    for (int k = in->in_off[i]; k < in->in_off[i + 1]; k++)
      if (in->in_idx[k] < 0 || in->in_idx[k] >= i) {
        cl_log_error("plan: unit %d has input %d (units must be in topological order)", i, in->in_idx[k]);
        return CL_ERR_INVALID;
      }
  for (int k = 0; k < in->n_links; k++) {
    const cl_plan_link *l = &in->links[k];
    if (l->from < 0 || l->to < 0 || l->from >= in->n_machines || l->to >= in->n_machines || !(l->bandwidth_Bps > 0) ||
        !(l->latency_s >= 0)) {
      cl_log_error("plan: link %d (%d -> %d, %g B/s, %g s) is invalid", k, l->from, l->to, l->bandwidth_Bps,
                   l->latency_s);
      return CL_ERR_INVALID;
    }
  }
  return CL_OK;
}

/* Allocate the store and its per-unit arrays for n units on nm machines (nm machines,
 * n_in CSR entries, layer ranges if @p ranges). */
static cl_status store_new(cl_plan_input *out, int n, int nm, int n_in, int ranges, plan_store **sp) {
  plan_store *s = calloc(1, sizeof *s);
  if (!s) return CL_ERR_NOMEM;
  out->owned_ = s;
  s->secs = calloc((size_t)n * (size_t)nm, sizeof *s->secs);
  s->out = calloc((size_t)n, sizeof *s->out);
  s->in_off = calloc((size_t)n + 1, sizeof *s->in_off);
  s->in_idx = calloc((size_t)n_in + 1, sizeof *s->in_idx);
  s->machines = calloc((size_t)nm, sizeof *s->machines);
  if (ranges) {
    s->first_layer = calloc((size_t)n, sizeof *s->first_layer);
    s->last_layer = calloc((size_t)n, sizeof *s->last_layer);
  }
  if (!s->secs || !s->out || !s->in_off || !s->in_idx || !s->machines ||
      (ranges && (!s->first_layer || !s->last_layer)))
    return CL_ERR_NOMEM;
  out->n_units = n;
  out->n_machines = nm;
  out->out_bytes = s->out;
  out->in_off = s->in_off;
  out->in_idx = s->in_idx;
  out->first_layer = s->first_layer;
  out->last_layer = s->last_layer;
  out->machines = s->machines;
  for (int m = 0; m < nm; m++) s->machines[m].seconds = s->secs + (size_t)m * (size_t)n;
  *sp = s;
  return CL_OK;
}

cl_status cl_plan_input_from_graph(const cl_graph *g, const double *host_time, double host_gflops,
                                   int n_machines, const cl_plan_machine *machines, int n_links,
                                   const cl_plan_link *links, cl_plan_input *out) {
  cl_plan_input_init(out);
  int n = cl_graph_size(g), n_in = 0;
  if (n < 1 || n_machines < 1) {
    cl_log_error("plan: empty graph or no machines");
    return CL_ERR_INVALID;
  }
  for (int i = 0; i < n; i++) n_in += cl_graph_node(g, i)->n_inputs;
  plan_store *s = NULL;
  cl_status st = store_new(out, n, n_machines, n_in, 0, &s);
  if (st != CL_OK) {
    cl_plan_input_fini(out);
    return st;
  }
  double gf = host_gflops > 0 ? host_gflops : 20;
  int k = 0;
  for (int i = 0; i < n; i++) {
    const cl_node *nd = cl_graph_node(g, i);
    s->in_off[i] = k;
    for (int j = 0; j < nd->n_inputs; j++) s->in_idx[k++] = nd->inputs[j];
    s->out[i] = (double)cl_shape_numel(nd->out) * 4.0; /* float32 */
    if (nd->n_inputs == 0) out->input_bytes += s->out[i];
    double host = host_time ? host_time[i] : (double)nd->flops / (gf * 1e9);
    for (int m = 0; m < n_machines; m++)
      s->secs[(size_t)m * (size_t)n + (size_t)i] = host / (machines[m].speed > 0 ? machines[m].speed : 1.0);
  }
  s->in_off[n] = k;
  for (int m = 0; m < n_machines; m++) {
    const double *sec = s->machines[m].seconds;
    s->machines[m] = machines[m];
    s->machines[m].seconds = sec;
  }
  out->model = cl_graph_name(g);
  out->g = g;
  out->n_links = n_links;
  out->links = links;
  out->host_time = host_time;
  out->host_gflops = host_gflops;
  return CL_OK;
}

cl_status cl_plan_input_from_testbed(const cl_testbed *tb, const cl_graph *g, const double *host_time,
                                     double host_gflops, cl_plan_input *out) {
  int nm = tb->n_nodes, nl = 0;
  double gf = host_gflops > 0 ? host_gflops : 20;
  cl_plan_machine *m = calloc((size_t)nm + 1, sizeof *m);
  cl_plan_link *l = calloc(2 * (size_t)tb->n_links + 1, sizeof *l);
  if (!m || !l) {
    free(m);
    free(l);
    return CL_ERR_NOMEM;
  }
  /* A node with `device:` (and no `speed:` override) costs each layer its device model's
   * absolute time (docs/devices.md), as the runtime charges it; not host time / speed. */
  cl_device *dev = calloc((size_t)nm + 1, sizeof *dev);
  if (!dev) {
    free(m);
    free(l);
    return CL_ERR_NOMEM;
  }
  cl_status st = CL_OK;
  for (int i = 0; i < nm && st == CL_OK; i++) {
    const cl_tb_node *n = &tb->nodes[i];
    cl_node_power pw = n->power;
    if (n->device && !n->speed_given) {
      st = cl_tb_node_device(tb, i, &dev[i]);
      if (st == CL_OK && !n->has_power && dev[i].has_power) pw = dev[i].power;
    }
    m[i] = (cl_plan_machine){n->name, cl_tb_tier_name(n->tier), NULL, n->gflops > 0 ? n->gflops / gf : 1.0 / n->speed,
                             pw.busy, pw.idle, pw.tx, pw.rx};
  }
  if (st != CL_OK) {
    free(dev);
    free(m);
    free(l);
    return st;
  }
  for (int k = 0; k < tb->n_links; k++) {
    const cl_tb_link *t = &tb->links[k];
    l[nl++] = (cl_plan_link){t->from, t->to, t->latency, t->bandwidth};
    if (t->both_ways) l[nl++] = (cl_plan_link){t->to, t->from, t->latency, t->bandwidth};
  }
  st = cl_plan_input_from_graph(g, host_time, host_gflops, nm, m, nl, l, out);
  plan_store *s = out->owned_;
  if (st == CL_OK) {
    int n = cl_graph_size(g);
    for (int i = 0; i < nm; i++)
      if (dev[i].name[0]) {
        double hs = 0, ds = 0;
        for (int u = 0; u < n; u++) {
          double t = cl_device_node_time(&dev[i], g, u);
          s->secs[(size_t)i * (size_t)n + (size_t)u] = t;
          ds += t;
          hs += host_time ? host_time[u] : (double)cl_graph_node(g, u)->flops / (gf * 1e9);
        }
        /* speed for whatever reads only a factor: the model's host time / device time
         * (it was 1: a Raspberry Pi at this host's speed for the spatial planners) */
        if (ds > 0 && hs > 0) m[i].speed = hs / ds;
      }
  }
  free(dev);
  if (st == CL_OK) { /* the store keeps the machines' names and the links */
    for (int i = 0; i < nm; i++) m[i].seconds = s->machines[i].seconds;
    free(s->machines);
    s->machines = m;
    s->links = l;
    out->machines = m;
    out->links = l;
    return CL_OK;
  }
  free(m);
  free(l);
  return st;
}

int cl_plan_profile_steps(const cl_profile_model *md) { return cl__plan_steps_known(md); }

/* 1 if @p md's layers are cleave profile steps with a known DAG. */
int cl__plan_steps_known(const cl_profile_model *md) {
  if (!md || md->n_layers < 1 || md->n_blocks < 1 || md->blocks[md->n_blocks - 1].last_layer != md->n_layers - 1)
    return 0;
  for (int i = 0; i < md->n_layers; i++)
    if (md->layers[i].n_inputs < 0) return 0;
  return 1;
}

int cl__plan_is_h5(const cl_profile_machine *m) {
  size_t n = m->source ? strlen(m->source) : 0;
  return n >= 3 && !strcmp(m->source + n - 3, ".h5");
}

cl_status cl_plan_input_from_profiles(const cl_profile_set *set, const char *model, const cl_netstats *net,
                                      cl_plan_input *out) {
  cl_plan_input_init(out);
  int nset = cl_profile_set_n_machines(set), nm = 0, first = -1;
  int *ord = malloc(((size_t)nset + 1) * sizeof *ord);
  if (!ord) return CL_ERR_NOMEM;
  for (int i = 0; i < nset; i++) {
    const cl_profile_machine *m = cl_profile_set_machine(set, i);
    if (!cl_profile_machine_model(m, model)) continue;
    if (first < 0 && !strcmp(m->tier, "device")) first = i;
    ord[nm++] = i;
  }
  if (!nm) {
    free(ord);
    cl_log_error("plan: no profile has model '%s'", model);
    return CL_ERR_NOTFOUND;
  }
  for (int k = 0; first >= 0 && k < nm; k++) /* the first device machine becomes machine 0 */
    if (ord[k] == first) {
      memmove(ord + 1, ord, (size_t)k * sizeof *ord);
      ord[0] = first;
      break;
    }
  const cl_profile_model *m0 = cl_profile_machine_model(cl_profile_set_machine(set, ord[0]), model);
  int steps = 1;
  for (int k = 0; k < nm; k++) {
    const cl_profile_machine *m = cl_profile_set_machine(set, ord[k]);
    const cl_profile_model *md = cl_profile_machine_model(m, model);
    steps &= cl__plan_is_h5(m) && cl__plan_steps_known(md) && md->n_layers == m0->n_layers;
    if (md->n_blocks != m0->n_blocks) {
      cl_log_error("plan: model '%s' has %d blocks on '%s' and %d on '%s'", model, m0->n_blocks,
                   cl_profile_set_machine(set, ord[0])->name, md->n_blocks, m->name);
      free(ord);
      return CL_ERR_INVALID;
    }
  }
  int n = steps ? m0->n_layers : m0->n_blocks, n_in = 0;
  for (int i = 0; i < n; i++) n_in += steps ? m0->layers[i].n_inputs : (i > 0);
  plan_store *s = NULL;
  cl_status st = store_new(out, n, nm, n_in, 1, &s);
  if (st == CL_OK && net) {
    s->links = calloc((size_t)nm * (size_t)nm + 1, sizeof *s->links);
    if (!s->links) st = CL_ERR_NOMEM;
  }
  if (st != CL_OK) {
    free(ord);
    cl_plan_input_fini(out);
    return st;
  }
  out->input_bytes = 150000; /* Scission's default raw input: 0.15 MB */
  int k = 0;
  for (int i = 0; i < n; i++) {
    s->in_off[i] = k;
    if (steps) {
      const cl_profile_layer *l = &m0->layers[i];
      for (int j = 0; j < l->n_inputs; j++) s->in_idx[k++] = l->inputs[j];
      s->out[i] = (double)l->output_bytes;
      s->first_layer[i] = s->last_layer[i] = i;
      if (i == 0 && l->n_inputs == 0) out->input_bytes = s->out[0]; /* the input node */
    } else {
      if (i > 0) s->in_idx[k++] = i - 1;
      s->out[i] = (double)m0->blocks[i].output_bytes;
      s->first_layer[i] = m0->blocks[i].first_layer;
      s->last_layer[i] = m0->blocks[i].last_layer;
    }
  }
  s->in_off[n] = k;
  for (int a = 0; a < nm; a++) {
    const cl_profile_machine *m = cl_profile_set_machine(set, ord[a]);
    const cl_profile_model *md = cl_profile_machine_model(m, model);
    double *sec = s->secs + (size_t)a * (size_t)n;
    for (int i = 0; i < n; i++) sec[i] = steps ? md->layers[i].seconds : md->blocks[i].seconds;
    s->machines[a] = (cl_plan_machine){.name = m->name, .tier = m->tier, .seconds = sec, .speed = 1};
    for (int b = 0; net && b < nm; b++) {
      const cl_netstats_link *l = a == b ? NULL : cl_netstats_find(net, m->name, cl_profile_set_machine(set, ord[b])->name);
      if (l) s->links[out->n_links++] = (cl_plan_link){a, b, l->latency_s, l->bandwidth_Bps};
    }
  }
  /* spatial planners: speed relative to machine 0 (profile totals) */
  double t0 = 0;
  for (int i = 0; i < n; i++) t0 += s->secs[i];
  for (int a = 1; a < nm && t0 > 0; a++) {
    double t = 0;
    for (int i = 0; i < n; i++) t += s->secs[(size_t)a * (size_t)n + (size_t)i];
    if (t > 0) s->machines[a].speed = t0 / t;
  }
  out->links = s->links;
  out->model = m0->name;
  free(ord);
  return CL_OK;
}

cl_status cl_plan_input_attach_graph(cl_plan_input *in, const cl_graph *g) {
  double flops = 0, t = 0;
  for (int i = 0; i < cl_graph_size(g); i++) flops += (double)cl_graph_node(g, i)->flops;
  for (int i = 0; in->n_machines > 0 && i < in->n_units; i++) t += in->machines[0].seconds[i];
  if (!(flops > 0) || !(t > 0)) {
    cl_log_error("plan: cannot calibrate the host speed (graph flops %g, machine 0 total %g s)", flops, t);
    return CL_ERR_INVALID;
  }
  in->g = g;
  in->host_time = NULL;
  in->host_gflops = flops / t / 1e9;
  return CL_OK;
}
