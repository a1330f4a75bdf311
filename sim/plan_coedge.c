/* Adapters of the spatial planners (CoEdge LP, MoDNN proportional rows, DeepThings fused
 * grid tiles; all implemented in sim/coedge.c) to the planner interface. Latency and
 * energy are CoEdge's model: one shared WLAN, barrier-synchronous phases, the tail on the
 * sink (include/cleave/coedge.h). */
#include <stdlib.h>
#include <string.h>

#include "cleave/coedge.h"
#include "cleave/plan.h"
#include "plan_internal.h"

/* The shared WLAN: the input's default link, else the slowest link touching machine 0. */
static int wlan(const cl_plan_input *in, double *bw, double *lat) {
  if (in->bandwidth_Bps > 0) {
    *bw = in->bandwidth_Bps;
    *lat = in->latency_s > 0 ? in->latency_s : 0;
    return 1;
  }
  int found = 0;
  for (int k = 0; k < in->n_links; k++) {
    const cl_plan_link *l = &in->links[k];
    if (l->from != 0 && l->to != 0) continue;
    if (!found || l->bandwidth_Bps < *bw) *bw = l->bandwidth_Bps;
    if (!found || l->latency_s > *lat) *lat = l->latency_s;
    found = 1;
  }
  return found || in->n_machines == 1;
}

static cl_status spatial(const cl_plan_input *in, cl_coedge_planner which, cl_spatial_mode mode,
                         cl_plan_result *out) {
  const cl_graph *g = in->g;
  int n = cl_graph_size(g), nm = in->n_machines;
  double bw = 1e9, lat = 0, gf = in->host_gflops > 0 ? in->host_gflops : 20;
  if (!wlan(in, &bw, &lat)) {
    cl_log_error("%s: no link from %s (set a bandwidth)", cl_coedge_planner_name(which), in->machines[0].name);
    return CL_ERR_INFEASIBLE;
  }
  double *host = malloc((size_t)n * sizeof *host);
  cl_coedge_device *dev = calloc((size_t)nm, sizeof *dev);
  out->share = calloc((size_t)nm, sizeof *out->share);
  if (!host || !dev || !out->share) {
    free(host);
    free(dev);
    return CL_ERR_NOMEM;
  }
  for (int i = 0; i < n; i++)
    host[i] = in->host_time ? in->host_time[i] : (double)cl_graph_node(g, i)->flops / (gf * 1e9);
  /* Units that are the graph's nodes (testbed inputs): each machine's own seconds per
   * node, as the layer planners see them (a `device:` node's are its device model's,
   * not host / speed), as CoEdge's linear model t = b x rows with b = seconds / height. */
  int per_node = in->n_units == n && !in->first_layer;
  double *b = per_node ? calloc(((size_t)nm + 1) * (size_t)n + 1, sizeof *b) : NULL; /* + n zeros: a */
  if (per_node && !b) {
    free(host);
    free(dev);
    return CL_ERR_NOMEM;
  }
  for (int m = 0; m < nm; m++) {
    const cl_plan_machine *pm = &in->machines[m];
    const double *bm = NULL;
    if (b && pm->seconds) {
      for (int i = 0; i < n; i++) {
        int h = cl_graph_node(g, i)->out.h;
        b[(size_t)m * (size_t)n + (size_t)i] = pm->seconds[i] / (h > 0 ? h : 1);
      }
      bm = b + (size_t)m * (size_t)n;
    }
    dev[m] = (cl_coedge_device){pm->name, pm->speed > 0 ? pm->speed : 1, pm->p_comp, pm->p_idle, pm->p_tx,
                                pm->p_rx, bm ? b + (size_t)nm * (size_t)n : NULL, bm};
  }
  cl_coedge_problem pb = {g, -1, -1, host, nm, dev, 0, bw, lat, in->deadline_s, mode, 0, 0};
  cl_coedge_result r;
  cl_status st = cl_coedge_plan(&pb, which, &r);
  if (st == CL_ERR_INFEASIBLE && r.plan) st = CL_OK; /* deadline missed: the fastest plan, feasible = 0 */
  if (st == CL_OK) {
    const cl_spatial_plan *sp = r.plan;
    double total = 0;
    for (int m = 0; m < nm; m++) total += r.rows[m];
    for (int m = 0; m < nm; m++) out->share[m] = total > 0 ? r.rows[m] / total : 0;
    out->n_machines = nm;
    out->spatial_first = sp->first;
    out->spatial_last = sp->last;
    out->sink = sp->sink;
    out->latency = r.latency;
    out->energy = r.energy;
    out->feasible = r.meets_deadline;
    for (int x = 0; x < sp->n_xfer; x++)
      if (sp->xfer[x].src != sp->xfer[x].dst) out->bytes += (double)cl_coedge_xfer_bytes(&pb, &sp->xfer[x]);
    out->detail = cl__plan_strdupf("%s: %s over graph nodes %d-%d (%s of ref height %d), %d transfers, "
                                   "redundant compute %.2f%%",
                                   cl_coedge_planner_name(which), cl_coedge_planner_desc(which), sp->first, sp->last,
                                   sp->n_tasks != sp->n_dev ? "tiles" : "rows", r.ref_h, sp->n_xfer,
                                   100 * sp->redundancy);
  }
  cl_coedge_result_fini(&r);
  free(host);
  free(dev);
  free(b);
  return st;
}

cl_status cl__plan_coedge(const cl_plan_input *in, cl_plan_result *out) {
  return spatial(in, in->objective == CL_PLAN_ENERGY || in->deadline_s > 0 ? CL_COEDGE_COEDGE : CL_COEDGE_MINLAT,
                 CL_SPATIAL_LAYER, out);
}

cl_status cl__plan_modnn(const cl_plan_input *in, cl_plan_result *out) {
  return spatial(in, CL_COEDGE_PROPORTIONAL, CL_SPATIAL_LAYER, out);
}

cl_status cl__plan_deepthings(const cl_plan_input *in, cl_plan_result *out) {
  return spatial(in, CL_COEDGE_TILES2X2, CL_SPATIAL_FUSED, out);
}
