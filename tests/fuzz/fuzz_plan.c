/* Fuzz harness: the profile and network files `cleave plan` reads and every planner that
 * ranks them. The input is up to five text files separated by lines "%%":
 *   1-3  Scission profile CSVs, written as device-d.csv, edge-e.csv, cloud-c.csv (an
 *        empty part writes no file), loaded as a profile folder (cl_plan_sources_load,
 *        what `cleave plan --profiles DIR` does);
 *   4    the network CSV (network_stats.csv format, cl_netstats_load_csv);
 *   5    query options, one per line: three Scission criteria strings (device, edge,
 *        cloud, Scission syntax "!-1,10,!6700k(GPU)"), then an objective (latency,
 *        energy, bytes, weighted) and per-tier upload and time limits as numbers.
 * What loads then goes through the Scission search (every objective given) with its
 * three output formats, and through every registered planner on the common input built
 * from the profiles (cl_plan_input_from_profiles, `cleave plan compare`). Contracts
 * Inputs whose first part has a per-layer header (layer,seconds,out_bytes,...) are
 * the layer mode instead (run_layers: `cleave plan neurosurgeon|dads --mobile-layers
 * A --cloud-layers B`, --predict-* fit files). Contracts
 * checked: a refused file leaves no half-built result; ranked configurations and planner
 * results have finite, non-negative latency, energy and bytes, placements name machines
 * of the input, and formatting never overflows its buffer. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleave/plan.h"
#include "cleave/plan_profiles.h"
#include "cleave/planner.h"
#include "cleave/profile.h"
#include "fuzz_util.h"

enum { N_PARTS = 5 };

/* Splits @p text in place at lines "%%"; returns the number of parts (<= N_PARTS). */
static int split_parts(char *text, char *part[N_PARTS]) {
  int n = 0;
  part[n++] = text;
  char *p = text;
  while (n < N_PARTS && (p = strstr(p, "%%"))) {
    int at_line_start = p == text || p[-1] == '\n';
    char *after = p + 2;
    if (at_line_start && (*after == '\n' || *after == '\0')) {
      if (p > text) p[-1] = '\0';
      else *p = '\0';
      part[n++] = *after ? after + 1 : after;
      p = part[n - 1];
    } else {
      p = after;
    }
  }
  for (int i = n; i < N_PARTS; i++) part[i] = NULL;
  return n;
}

static void write_part(const char *name, const char *text) {
  char rel[64];
  snprintf(rel, sizeof rel, "prof/%s", name);
  if (text && *text) {
    cl_fuzz_write(rel, (const uint8_t *)text, strlen(text));
  } else {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", cl_fuzz_dir(), rel);
    (void)remove(path);
  }
}

static int finite_nonneg(double v) { return isfinite(v) && v >= 0; }

static void check_config(const cl_profile_set *set, const cl_scission_query *q, const cl_scission_config *c,
                         int rank) {
  if (!finite_nonneg(c->latency) || !finite_nonneg(c->compute) || !finite_nonneg(c->comm) ||
      !finite_nonneg(c->bytes) || !finite_nonneg(c->energy) || isnan(c->objective))
    abort();
  int nm = cl_profile_set_n_machines(set);
  if (c->machine[0] < 0 || c->machine[0] >= nm) abort();
  for (int t = 0; t < q->n_tiers; t++) {
    if (c->machine[t] >= nm || c->machine[t] < -1) abort();
    /* tier 0 holds the input even when it computes nothing (its blocks are then -1) */
    if (c->machine[t] >= 0 && c->first_block[t] >= 0 && c->last_block[t] < c->first_block[t]) abort();
    if (t > 0 && c->machine[t] >= 0 && c->first_block[t] < 0) abort();
  }
  char buf[512];
  for (int f = 0; f < 3; f++) {
    int len = cl_scission_format_line(set, q, c, rank, (cl_scission_format)f, buf, sizeof buf);
    if (len < 0 || strlen(buf) >= sizeof buf) abort();
  }
}

static void run_scission(const cl_profile_set *set, const cl_netstats *net, const char *model, char *opts) {
  cl_scission_query q;
  cl_scission_query_init(&q);
  q.model = model;
  char *save = NULL;
  char *line = opts ? strtok_r(opts, "\n", &save) : NULL;
  for (int t = 0; t < 3 && line; t++, line = strtok_r(NULL, "\n", &save)) {
    if (!*line || !strcmp(line, "-")) continue;
    if (cl_scission_criteria_check(q.tiers[t], line) != CL_OK) return; /* `cleave plan` stops here too */
    q.criteria[t] = line;
  }
  if (line) {
    static const char *const objs[] = {"latency", "energy", "bytes", "weighted"};
    for (int k = 0; k < 4; k++)
      if (!strcmp(line, objs[k])) q.objective = (cl_plan_objective)k;
    if (q.objective == CL_PLAN_WEIGHTED) {
      q.weights[0] = 1;
      q.weights[1] = 0.5;
      q.weights[2] = 0.01;
    }
    for (int t = 0; t < 3; t++) {
      q.power_w[t] = 2.0 + 3 * t;
      q.tx_power_w[t] = 1.0;
    }
    for (int t = 0; t < 3 && (line = strtok_r(NULL, "\n", &save)); t++) {
      char *end;
      double v = strtod(line, &end);
      if (end == line || !isfinite(v)) continue;
      if (t < 2) q.upload_limit[t] = v;
      else q.time_limit[0] = v;
    }
  }
  cl_scission_config res[5];
  int n = -1;
  cl_scission_stats st = {0, 0};
  cl_status s = cl_scission_search(set, net, &q, res, &n, &st);
  if (getenv("CL_FUZZ_PLAN_TRACE")) fprintf(stderr, "scission %s: %s, %d ranked\n", model, cl_status_str(s), n);
  if (s != CL_OK) return;
  if (n < 0 || n > q.result_count || st.feasible < n || st.enumerated < st.feasible) abort();
  char buf[512];
  (void)cl_scission_format_line(set, &q, NULL, 0, CL_SCISSION_FMT_CSV, buf, sizeof buf);
  for (int r = 0; r < n; r++) {
    check_config(set, &q, &res[r], r + 1);
    if (r && q.objective == CL_PLAN_LATENCY && res[r].latency < res[r - 1].latency) abort(); /* ranked */
  }
}

static void run_planners(const cl_profile_set *set, const cl_netstats *net, const char *model) {
  cl_plan_input in;
  cl_plan_input_init(&in);
  if (cl_plan_input_from_profiles(set, model, net, &in) == CL_OK) {
    if (!net) {
      in.bandwidth_Bps = 1e6;
      in.latency_s = 0.01;
    }
    for (int i = 0; i < cl_planner_count(); i++) {
      const cl_planner_i *p = cl_planner_get(i);
      if (cl_planner_applies(p, &in) != CL_OK) continue;
      cl_plan_result r;
      cl_status st = cl_plan_run(p->name, &in, &r);
      if (getenv("CL_FUZZ_PLAN_TRACE")) fprintf(stderr, "planner %s: %s\n", p->name, cl_status_str(st));
      if (st == CL_OK) {
        if (!finite_nonneg(r.latency) || !finite_nonneg(r.energy) || !finite_nonneg(r.bytes)) abort();
        if (r.node_of_unit) {
          if (r.n_units != in.n_units) abort();
          for (int u = 0; u < r.n_units; u++)
            if (r.node_of_unit[u] < 0 || r.node_of_unit[u] >= in.n_machines) abort();
        }
        char place[4096];
        int len = cl_plan_placement_text(&in, &r, place, sizeof place);
        if (len < 0 || strlen(place) >= sizeof place) abort();
      }
      cl_plan_result_fini(&r);
    }
  }
  cl_plan_input_fini(&in);
}

/* `cleave plan neurosurgeon` and `cleave plan dads` on a two-node problem. */
static void run_twonode(const cl_plan_twonode_opts *o) {
  cl_plan_twonode p;
  cl_status ls = cl_plan_twonode_load(o, &p);
  if (getenv("CL_FUZZ_PLAN_TRACE")) fprintf(stderr, "twonode: %s, %d units\n", cl_status_str(ls), ls ? 0 : p.n);
  if (ls != CL_OK) return;
  if (p.n < 1 || !finite_nonneg(p.bw) || !(p.bw > 0) || !finite_nonneg(p.lat) || !finite_nonneg(p.input_bytes))
    abort();
  for (int v = 0; v < p.n; v++) {
    if (!finite_nonneg(p.ta[v]) || !finite_nonneg(p.tb[v]) || !finite_nonneg(p.out[v])) abort();
    for (int k = p.in_off[v]; k < p.in_off[v + 1]; k++)
      if (p.in_idx[k] < 0 || p.in_idx[k] >= v) abort(); /* inputs are earlier units */
  }
  cl_ns_input in = {p.n, p.ta, p.tb, p.out, NULL, p.input_bytes, p.lat, p.bw, 1000, CL_NS_LATENCY, 2, 1, 0.5};
  unsigned char *cut_ok = calloc((size_t)p.n + 1, 1);
  cl_ns_result *res = malloc((size_t)(p.n + 1) * sizeof *res);
  if (!cut_ok || !res) abort();
  for (int s = 0; s <= p.n; s++) cut_ok[s] = 1;
  for (int v = 0; v < p.n; v++)
    for (int k = p.in_off[v]; k < p.in_off[v + 1]; k++)
      for (int s = p.in_idx[k] + 2; s <= v; s++) cut_ok[s] = 0;
  in.cut_ok = cut_ok;
  for (int obj = 0; obj < 2; obj++) {
    in.objective = (cl_ns_objective)obj;
    cl_ns_result best;
    cl_status ns = cl_neurosurgeon_plan(&in, &best, res);
    if (getenv("CL_FUZZ_PLAN_TRACE")) fprintf(stderr, "neurosurgeon: %s, split %d\n", cl_status_str(ns), best.split);
    if (ns == CL_OK) {
      if (best.split < 0 || best.split > p.n || !cut_ok[best.split] || !finite_nonneg(best.latency) ||
          !finite_nonneg(best.energy) || !finite_nonneg(best.bytes))
        abort();
      for (int s = 0; s <= p.n; s++)
        if (res[s].split >= 0 && (!finite_nonneg(res[s].latency) ||
                                  (obj == 0 && res[s].latency < best.latency)))
          abort();
    }
  }
  free(cut_ok);
  free(res);
  cl_dads_input din = {p.n, p.in_off, p.in_idx, p.ta, p.tb, p.out, p.bw, p.lat};
  unsigned char *cloud = calloc((size_t)p.n, 1), *dev = calloc((size_t)p.n, 1);
  if (!cloud || !dev) abort();
  cl_dads_result r, r_dev;
  if (cl_dads_plan(&din, cloud, &r) == CL_OK && cl_dads_eval(&din, dev, &r_dev) == CL_OK) {
    if (!finite_nonneg(r.latency) || !finite_nonneg(r.bytes) || r.n_cloud < 0 || r.n_cloud > p.n) abort();
    /* the min cut is optimal: never worse than everything on the device (relative slack
     * for the max-flow's floating point) */
    if (r.latency > r_dev.latency * (1 + 1e-9) + 1e-12) abort();
  }
  free(cloud);
  free(dev);
  cl_plan_twonode_fini(&p);
}

/* Layer mode (the first part has a per-layer header): parts 1-2 are the per-layer CSVs
 * of the two sides (--mobile-layers / --cloud-layers), an empty one replaced by part 3
 * as the regression training file of that side (--predict-*). */
static void run_layers(char *part[N_PARTS], int n) {
  static const char *const names[3] = {"a-layers.csv", "b-layers.csv", "fit.csv"};
  const char *path[3] = {NULL, NULL, NULL};
  for (int i = 0; i < 3 && i < n; i++)
    if (part[i] && *part[i]) {
      char rel[64];
      snprintf(rel, sizeof rel, "%s", names[i]);
      path[i] = strdup(cl_fuzz_write(rel, (const uint8_t *)part[i], strlen(part[i])));
    }
  cl_plan_twonode_opts o;
  cl_plan_twonode_opts_init(&o);
  o.a_layers = path[0];
  o.b_layers = path[1];
  if (!path[0]) o.a_fit = path[2];
  if (!path[1]) o.b_fit = path[2];
  o.bandwidth_mbps = 8;
  o.latency_ms = 10;
  if (o.a_layers || o.b_layers) run_twonode(&o);
  for (int i = 0; i < 3; i++) free((char *)path[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cl_fuzz_setup();
  char dir[1024];
  snprintf(dir, sizeof dir, "%s/prof", cl_fuzz_dir());
  static int made;
  if (!made && mkdir(dir, 0700) != 0 && errno != EEXIST) abort();
  made = 1;
  char *text = cl_fuzz_strdup(data, size);
  char *part[N_PARTS];
  int n = split_parts(text, part);
  if (!strncmp(part[0], "layer", 5) || strstr(part[0], ",layer,") || (n > 1 && !strncmp(part[1], "layer", 5))) {
    run_layers(part, n);
    free(text);
    return 0;
  }
  static const char *const names[3] = {"device-d.csv", "edge-e.csv", "cloud-c.csv"};
  for (int i = 0; i < 3; i++) write_part(names[i], i < n ? part[i] : NULL);

  cl_plan_sources src;
  memset(&src, 0, sizeof src);
  src.dir = dir;
  cl_profile_set *set = NULL;
  cl_status st = cl_plan_sources_load(&src, &set);
  cl_netstats *net = NULL;
  if (n > 3 && part[3] && *part[3]) {
    const char *np = cl_fuzz_write("net.csv", (const uint8_t *)part[3], strlen(part[3]));
    if (cl_netstats_load_csv(np, &net) != CL_OK && net) abort();
    for (int i = 0; net && i < cl_netstats_size(net); i++) {
      const cl_netstats_link *l = cl_netstats_get(net, i);
      if (!l || !l->src || !l->dst || !finite_nonneg(l->latency_s) || !(l->bandwidth_Bps > 0) ||
          !isfinite(l->bandwidth_Bps))
        abort();
    }
  }
  if (st == CL_OK && set && cl_profile_set_n_machines(set) > 0) {
    const cl_profile_machine *m0 = cl_profile_set_machine(set, 0);
    for (int i = 0; i < cl_profile_set_n_machines(set); i++) {
      const cl_profile_machine *m = cl_profile_set_machine(set, i);
      for (int k = 0; k < m->n_models; k++) {
        const cl_profile_model *md = &m->models[k];
        int next = 0;
        double total = 0;
        for (int b = 0; b < md->n_blocks; b++) {
          const cl_profile_block *pb = &md->blocks[b];
          if (pb->first_layer != next || pb->last_layer < pb->first_layer || !finite_nonneg(pb->seconds) ||
              pb->output_bytes < 0)
            abort();
          next = pb->last_layer + 1;
          total += pb->seconds;
        }
        if (!isfinite(total)) abort();
      }
    }
    if (m0 && m0->n_models > 0) {
      char model[256];
      snprintf(model, sizeof model, "%s", m0->models[0].name);
      run_scission(set, net, model, n > 4 ? part[4] : NULL);
      run_planners(set, net, model);
    }
    /* `cleave plan neurosurgeon|dads --profiles DIR [--network FILE]` */
    cl_plan_twonode_opts o;
    cl_plan_twonode_opts_init(&o);
    o.src = src;
    if (net) o.net = cl_fuzz_write("net.csv", (const uint8_t *)part[3], strlen(part[3]));
    else o.bandwidth_mbps = 8;
    run_twonode(&o);
  }
  cl_netstats_destroy(net);
  cl_profile_set_destroy(set);
  free(text);
  return 0;
}
