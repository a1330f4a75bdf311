/* Adapters of the layer-placement planners (Scission, Neurosurgeon, DADS) to the planner
 * interface (include/cleave/plan.h): each translates the common input into its planner's
 * own input, runs it, and maps the answer back to a unit -> machine placement, which is
 * then evaluated with the common cost model (cl_plan_eval). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/plan.h"
#include "cleave/planner.h"
#include "plan_internal.h"

/* Legal single-tensor cut points: ok[s] = 1 if every edge into units >= s comes from
 * units >= s - 1 (so cutting before unit s sends only unit s-1's output). [n+1]. */
static unsigned char *cut_points(const cl_plan_input *in) {
  int n = in->n_units;
  unsigned char *ok = malloc((size_t)n + 1);
  if (!ok) return NULL;
  memset(ok, 1, (size_t)n + 1);
  for (int v = 0; in->in_off && v < n; v++)
    for (int k = in->in_off[v]; k < in->in_off[v + 1]; k++)
      for (int s = in->in_idx[k] + 2; s <= v; s++) ok[s] = 0; /* edge u->v spans cut s */
  for (int v = 1; in->in_off && v < n; v++) /* a second root after the cut needs the input */
    if (in->in_off[v + 1] == in->in_off[v])
      for (int s = 1; s <= v; s++) ok[s] = 0;
  return ok;
}

/* ---- Neurosurgeon: one split between machine 0 (mobile) and the cloud machine ---- */

cl_status cl__plan_neurosurgeon(const cl_plan_input *in, cl_plan_result *out) {
  int n = in->n_units, c = cl__plan_cloud_machine(in);
  const cl_plan_machine *mob = &in->machines[0];
  double lat, bw;
  if (!cl__plan_link(in, 0, c, &lat, &bw)) {
    cl_log_error("neurosurgeon: no link %s -> %s", mob->name, in->machines[c].name);
    return CL_ERR_INFEASIBLE;
  }
  unsigned char *ok = cut_points(in);
  int *nou = malloc((size_t)n * sizeof *nou);
  cl_status st = ok && nou ? CL_OK : CL_ERR_NOMEM;
  cl_ns_input ns = {n,   mob->seconds, in->machines[c].seconds, in->out_bytes, ok, in->input_bytes, lat, bw, 0,
                    in->objective == CL_PLAN_ENERGY ? CL_NS_ENERGY : CL_NS_LATENCY, mob->p_comp, mob->p_tx,
                    mob->p_idle};
  cl_ns_result best;
  cl_ns_load load = {cl__plan_load(in, 0), cl__plan_load(in, c), in->wait_s ? in->wait_s[c] : 0,
                     in->wait_s ? in->wait_s[0] : 0};
  if (st == CL_OK) st = cl_neurosurgeon_plan_load(&ns, &load, &best, NULL);
  if (st == CL_OK) {
    for (int i = 0; i < n; i++) nou[i] = i < best.split ? 0 : c;
    st = cl__plan_set_units(in, nou, out);
    out->detail = cl__plan_strdupf("split %d of %d: %s runs units 0-%d, %s the rest; mobile energy %.6g J",
                                   best.split, n, mob->name, best.split - 1, in->machines[c].name, best.energy);
  }
  free(ok);
  free(nou);
  return st;
}

/* ---- DADS: min-cut device/cloud partition; a virtual node 0 holds the raw input ---- */

cl_status cl__plan_dads(const cl_plan_input *in, cl_plan_result *out) {
  int n = in->n_units, c = cl__plan_cloud_machine(in), N = n + 1, n_in = 0;
  double lat, bw;
  if (!cl__plan_link(in, 0, c, &lat, &bw)) {
    cl_log_error("dads: no link %s -> %s", in->machines[0].name, in->machines[c].name);
    return CL_ERR_INFEASIBLE;
  }
  for (int i = 0; i < n; i++) n_in += in->in_off ? in->in_off[i + 1] - in->in_off[i] : (i > 0);
  double *ta = calloc((size_t)N, sizeof *ta), *tb = calloc((size_t)N, sizeof *tb), *ob = calloc((size_t)N, sizeof *ob);
  int *off = calloc((size_t)N + 1, sizeof *off), *idx = calloc((size_t)(n_in + n) + 1, sizeof *idx);
  int *nou = calloc((size_t)n, sizeof *nou);
  unsigned char *cloud = calloc((size_t)N, 1);
  cl_status st = ta && tb && ob && off && idx && nou && cloud ? CL_OK : CL_ERR_NOMEM;
  int k = 0;
  ob[0] = in->input_bytes;
  for (int i = 0; st == CL_OK && i < n; i++) {
    ta[i + 1] = in->machines[0].seconds[i];
    tb[i + 1] = in->machines[c].seconds[i];
    ob[i + 1] = in->out_bytes[i];
    off[i + 1] = k;
    if (!in->in_off) {
      idx[k++] = i; /* chain: unit i-1 is node i; unit 0 reads the raw input (node 0) */
    } else if (in->in_off[i] == in->in_off[i + 1]) {
      idx[k++] = 0; /* a root reads the raw input */
    } else {
      for (int j = in->in_off[i]; j < in->in_off[i + 1]; j++) idx[k++] = in->in_idx[j] + 1;
    }
  }
  off[N] = k;
  cl_dads_input d = {N, off, idx, ta, tb, ob, bw, lat};
  cl_dads_result r;
  cl_dads_stages sg;
  cl_dads_load load = {cl__plan_load(in, 0), cl__plan_load(in, c), in->wait_s ? in->wait_s[0] : 0,
                       in->wait_s ? in->wait_s[c] : 0, in->arrival_rate, in->mode};
  if (st == CL_OK) st = cl_dads_plan_load(&d, &load, cloud, &r, &sg);
  if (st == CL_OK) {
    for (int i = 0; i < n; i++) nou[i] = cloud[i + 1] ? c : 0;
    st = cl__plan_set_units(in, nou, out);
    out->heavy = sg.heavy;
    out->detail = cl__plan_strdupf("%d of %d units on %s, %d tensors sent; %s-load mode, max stage %.6g s",
                                   r.n_cloud, n, in->machines[c].name, r.n_sent, sg.heavy ? "heavy" : "light",
                                   sg.max_stage);
  }
  free(ta);
  free(tb);
  free(ob);
  free(off);
  free(idx);
  free(nou);
  free(cloud);
  return st;
}

/* ---- Scission: contiguous block ranges over the tiers in pipeline order ---- */

static int tier_rank(const char *t) {
  return !t ? 1 : !strcmp(t, "device") ? 0 : !strcmp(t, "edge") ? 1 : !strcmp(t, "cloud") ? 2 : 1;
}

static const char *mtier(const cl_plan_input *in, int m) {
  return in->machines[m].tier ? in->machines[m].tier : m == 0 ? "device" : "cloud";
}

/* The input as a profile set (units grouped into blocks at legal cut points) and network
 * statistics (every machine pair with a link). blk[u] receives unit u's block. */
static cl_status scission_set(const cl_plan_input *in, const char *tier0, const unsigned char *ok, int *blk,
                              cl_profile_set *set, cl_netstats *net) {
  int n = in->n_units;
  for (int m = 0; m < in->n_machines; m++) {
    int idx;
    CL_TRY(cl_profile_set_add_machine(set, m ? mtier(in, m) : tier0, in->machines[m].name, &idx));
    for (int u = 0, b = 0; u < n; b++) {
      int v = u;
      while (v + 1 < n && !ok[v + 1]) v++;
      cl_profile_block pb = {u, v, 0, (int64_t)in->out_bytes[v]};
      for (int w = u; w <= v; w++) {
        pb.seconds += in->machines[m].seconds[w];
        blk[w] = b;
      }
      CL_TRY(cl_profile_set_add_block(set, idx, "m", &pb));
      u = v + 1;
    }
    for (int o = 0; o < in->n_machines; o++) {
      double lat, bw;
      if (o != m && cl__plan_link(in, m, o, &lat, &bw))
        CL_TRY(cl_netstats_add(net, in->machines[m].name, in->machines[o].name, lat, bw));
    }
  }
  return CL_OK;
}

cl_status cl__plan_scission(const cl_plan_input *in, cl_plan_result *out) {
  cl_scission_query q;
  cl_scission_query_init(&q);
  q.model = "m";
  q.n_tiers = 0;
  q.result_count = 1;
  q.input_bytes = in->input_bytes;
  q.objective = in->objective == CL_PLAN_ENERGY ? CL_PLAN_ENERGY : CL_PLAN_LATENCY;
  /* tiers: machine 0's first (it holds the input, pinned by name), then by pipeline rank */
  int shared = 0;
  for (int m = 1; m < in->n_machines; m++) shared |= !strcmp(mtier(in, m), mtier(in, 0));
  q.tiers[q.n_tiers++] = shared ? "source" : mtier(in, 0); /* only machine 0 is tier 0 */
  for (int r = 0; r < 3; r++)
    for (int m = 1; m < in->n_machines; m++) {
      const char *t = mtier(in, m);
      int seen = 0;
      for (int k = 0; k < q.n_tiers; k++) seen |= !strcmp(q.tiers[k], t);
      if (seen || tier_rank(t) != r || tier_rank(t) < tier_rank(mtier(in, 0))) continue;
      if (q.n_tiers == CL_SCISSION_MAX_TIERS) {
        cl_log_error("scission: more than %d tiers", CL_SCISSION_MAX_TIERS);
        return CL_ERR_INVALID;
      }
      q.tiers[q.n_tiers] = t;
      q.power_w[q.n_tiers] = in->machines[m].p_comp;
      q.tx_power_w[q.n_tiers++] = in->machines[m].p_tx;
    }
  q.power_w[0] = in->machines[0].p_comp;
  q.tx_power_w[0] = in->machines[0].p_tx;
  int n = in->n_units, got = 0;
  unsigned char *ok = cut_points(in);
  int *blk = malloc((size_t)n * sizeof *blk), *nou = malloc((size_t)n * sizeof *nou);
  cl_profile_set *set = NULL;
  cl_netstats *net = NULL;
  cl_status st = ok && blk && nou ? CL_OK : CL_ERR_NOMEM;
  if (st == CL_OK) st = cl_profile_set_create(&set);
  if (st == CL_OK) st = cl_netstats_create(&net);
  if (st == CL_OK) st = scission_set(in, q.tiers[0], ok, blk, set, net);
  cl_scission_config cfg;
  if (st == CL_OK) st = cl_scission_search(set, net, &q, &cfg, &got, NULL);
  if (st == CL_OK && !got) {
    cl_log_error("scission: no feasible configuration (missing links?)");
    st = CL_ERR_INFEASIBLE;
  }
  if (st == CL_OK) {
    for (int u = 0; u < n; u++) {
      nou[u] = 0;
      for (int t = 0; t < q.n_tiers; t++)
        if (cfg.first_block[t] >= 0 && blk[u] >= cfg.first_block[t] && blk[u] <= cfg.last_block[t])
          nou[u] = cfg.machine[t];
    }
    st = cl__plan_set_units(in, nou, out);
    char line[1024];
    cl_scission_format_line(set, &q, &cfg, 1, CL_SCISSION_FMT_SCISSION, line, sizeof line);
    out->detail = cl__plan_strdupf("%s", line);
  }
  cl_netstats_destroy(net);
  cl_profile_set_destroy(set);
  free(ok);
  free(blk);
  free(nou);
  return st;
}
