/* The planner table and the common cost model (include/cleave/plan.h). Adding a planner
 * is one adapter file (sim/plan_<family>.c) and one row in k_planners below. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/multiuser.h"
#include "cleave/plan.h"
#include "plan_internal.h"

/* One row per planner: name, description, what it needs (CL_PLAN_NEEDS_*); the adapter
 * is cl__plan_<name> (plan_internal.h). */
#define CL__PLANNER_TABLE(X)                                                                   \
  X(scission, "best device->edge->cloud block ranges (Scission, UCC 2020)", CL_PLAN_NEEDS_UNITS) \
  X(neurosurgeon, "best single split between machine 0 and the cloud (ASPLOS 2017)",            \
    CL_PLAN_NEEDS_UNITS | CL_PLAN_NEEDS_TWO)                                                  \
  X(dads, "min-cut device/cloud partition of the DAG (INFOCOM 2019)",                         \
    CL_PLAN_NEEDS_UNITS | CL_PLAN_NEEDS_TWO)                                                  \
  X(coedge, "spatial rows: min energy under the deadline, LP + rounding (CoEdge, ToN 2021)",    \
    CL_PLAN_NEEDS_GRAPH)                                                                      \
  X(modnn, "spatial rows proportional to machine speed (MoDNN, DATE 2017)", CL_PLAN_NEEDS_GRAPH) \
  X(deepthings, "fused 2x2 grid tiles, LPT-assigned (DeepThings, TCAD 2018)", CL_PLAN_NEEDS_GRAPH) \
  X(local, "everything on machine 0 (the source), nothing sent", CL_PLAN_NEEDS_UNITS)          \
  X(cloud, "everything on the cloud machine (the raw input is sent)",                         \
    CL_PLAN_NEEDS_UNITS | CL_PLAN_NEEDS_TWO)

#define CL__PLANNER_ROW(n, d, needs) {#n, d, needs, cl__plan_##n},
static const cl_planner_i k_planners[] = {CL__PLANNER_TABLE(CL__PLANNER_ROW)};
#define CL__PLANNER_NAME(n, d, needs) #n,
static const char *const k_names[] = {CL__PLANNER_TABLE(CL__PLANNER_NAME) NULL};
#define N_PLANNERS ((int)(sizeof k_planners / sizeof k_planners[0]))

int cl_planner_count(void) { return N_PLANNERS; }

const cl_planner_i *cl_planner_get(int i) { return i >= 0 && i < N_PLANNERS ? &k_planners[i] : NULL; }

const cl_planner_i *cl_planner_find(const char *name) {
  for (int i = 0; name && i < N_PLANNERS; i++)
    if (!strcmp(k_planners[i].name, name)) return &k_planners[i];
  return NULL;
}

const char *const *cl_planner_list(int *n) {
  if (n) *n = N_PLANNERS;
  return k_names;
}

cl_status cl_planner_applies(const cl_planner_i *p, const cl_plan_input *in) {
  if ((p->needs & CL_PLAN_NEEDS_GRAPH) && !in->g) return CL_ERR_UNSUPPORTED;
  if ((p->needs & CL_PLAN_NEEDS_UNITS) && (in->n_units < 1 || !in->out_bytes)) return CL_ERR_UNSUPPORTED;
  if ((p->needs & CL_PLAN_NEEDS_TWO) && in->n_machines < 2) return CL_ERR_UNSUPPORTED;
  return CL_OK;
}

cl_status cl_plan_run(const char *name, const cl_plan_input *in, cl_plan_result *out) {
  cl_plan_result_init(out);
  const cl_planner_i *p = cl_planner_find(name);
  if (!p) {
    cl_log_error("plan: unknown planner '%s'", name ? name : "(null)");
    return CL_ERR_NOTFOUND;
  }
  out->planner = p->name;
  CL_TRY(cl_planner_applies(p, in));
  CL_TRY(cl_plan_input_check(in));
  cl_status st = p->plan(in, out);
  out->planner = p->name;
  return st;
}

void cl_plan_result_init(cl_plan_result *r) {
  memset(r, 0, sizeof *r);
  r->spatial_first = r->spatial_last = r->sink = -1;
  r->feasible = 1;
}

void cl_plan_result_fini(cl_plan_result *r) {
  if (!r) return;
  free(r->node_of_unit);
  free(r->share);
  free(r->detail);
  cl_plan_result_init(r);
}

/* ---- the cost model ---- */

/* Link between machines a and b: from->to first, else to->from, else the default. */
int cl__plan_link(const cl_plan_input *in, int a, int b, double *lat, double *bw) {
  for (int pass = 0; pass < 2; pass++)
    for (int k = 0; k < in->n_links; k++) {
      const cl_plan_link *l = &in->links[k];
      if ((pass == 0 && l->from == a && l->to == b) || (pass == 1 && l->from == b && l->to == a)) {
        *lat = l->latency_s;
        *bw = l->bandwidth_Bps;
        return 1;
      }
    }
  if (in->bandwidth_Bps > 0) {
    *lat = in->latency_s > 0 ? in->latency_s : 0;
    *bw = in->bandwidth_Bps;
    return 1;
  }
  return 0;
}

/* Inputs of unit i in CSR, or the chain default. */
static int unit_inputs(const cl_plan_input *in, int i, const int **idx, int *chain) {
  if (in->in_off) {
    *idx = in->in_idx + in->in_off[i];
    return in->in_off[i + 1] - in->in_off[i];
  }
  *chain = i - 1;
  *idx = chain;
  return i > 0;
}

/* Charge one transfer of @p bytes from machine a to b. */
static cl_status charge(const cl_plan_input *in, int a, int b, double bytes, double *t, double *tx,
                        double *rx, double *sent) {
  double lat, bw;
  if (!cl__plan_link(in, a, b, &lat, &bw) || !(bw > 0)) {
    cl_log_error("plan: no link %s -> %s", in->machines[a].name, in->machines[b].name);
    return CL_ERR_INFEASIBLE;
  }
  *t += lat + bytes / bw;
  tx[a] += bytes / bw;
  rx[b] += bytes / bw;
  *sent += bytes;
  return CL_OK;
}

cl_status cl_plan_eval(const cl_plan_input *in, const int *nou, double *latency, double *energy,
                       double *bytes) {
  int nm = in->n_machines, n = in->n_units;
  double *busy = calloc((size_t)nm * 3, sizeof *busy);
  unsigned char *got = malloc((size_t)nm);
  if (!busy || !got) {
    free(busy);
    free(got);
    return CL_ERR_NOMEM;
  }
  double *tx = busy + nm, *rx = tx + nm, t = 0, sent = 0;
  cl_status st = CL_OK;
  memset(got, 0, (size_t)nm);
  /* queueing: once per machine that runs a unit */
  for (int m = 0; in->wait_s && m < nm; m++)
    for (int i = 0; i < n; i++)
      if (nou[i] == m) {
        t += in->wait_s[m];
        break;
      }
  /* raw input: once to every machine that runs a root unit */
  for (int i = 0; i < n && st == CL_OK; i++) {
    const int *idx;
    int chain, k = unit_inputs(in, i, &idx, &chain);
    if (k == 0 && nou[i] != 0 && !got[nou[i]]) {
      got[nou[i]] = 1;
      st = charge(in, 0, nou[i], in->input_bytes, &t, tx, rx, &sent);
    }
  }
  /* each unit's output: once to every other machine that consumes it */
  for (int u = 0; u < n && st == CL_OK; u++) {
    memset(got, 0, (size_t)nm);
    busy[nou[u]] += in->machines[nou[u]].seconds[u] * cl__plan_load(in, nou[u]);
    for (int v = u + 1; v < n && st == CL_OK; v++) {
      const int *idx;
      int chain, k = unit_inputs(in, v, &idx, &chain);
      for (int j = 0; j < k && st == CL_OK; j++)
        if (idx[j] == u && nou[v] != nou[u] && !got[nou[v]]) {
          got[nou[v]] = 1;
          st = charge(in, nou[u], nou[v], in->out_bytes[u], &t, tx, rx, &sent);
        }
    }
  }
  double e = 0;
  for (int m = 0; m < nm; m++) t += busy[m];
  for (int m = 0; m < nm && st == CL_OK; m++) {
    if (m != 0 && busy[m] == 0 && tx[m] == 0 && rx[m] == 0) continue;
    const cl_plan_machine *pm = &in->machines[m];
    double idle = t - busy[m] - tx[m] - rx[m];
    e += pm->p_comp * busy[m] + pm->p_tx * tx[m] + pm->p_rx * rx[m] + pm->p_idle * (idle > 0 ? idle : 0);
  }
  if (st == CL_OK) {
    if (latency) *latency = t;
    if (energy) *energy = e;
    if (bytes) *bytes = sent;
  }
  free(busy);
  free(got);
  return st;
}

double cl__plan_load(const cl_plan_input *in, int m) {
  return in->load_factor && in->load_factor[m] > 0 ? in->load_factor[m] : 1.0;
}

cl_status cl_plan_max_stage(const cl_plan_input *in, const int *nou, double *max_stage) {
  int nm = in->n_machines, n = in->n_units;
  double *busy = calloc((size_t)nm * ((size_t)nm + 1), sizeof *busy), *pair = busy + nm; /* pair[a * nm + b] */
  unsigned char *got = malloc((size_t)nm);
  cl_status st = busy && got ? CL_OK : CL_ERR_NOMEM;
  for (int u = -1; u < n && st == CL_OK; u++) { /* u = -1: the raw input on machine 0 */
    int from = u < 0 ? 0 : nou[u];
    double b = u < 0 ? in->input_bytes : in->out_bytes[u];
    if (u >= 0) busy[from] += in->machines[from].seconds[u] * cl__plan_load(in, from);
    memset(got, 0, (size_t)nm);
    for (int v = u + 1; v < n && st == CL_OK; v++) {
      const int *idx;
      int chain, k = unit_inputs(in, v, &idx, &chain), uses = 0;
      for (int j = 0; j < k; j++) uses |= idx[j] == u;
      if (u < 0) uses = k == 0;
      if (!uses || nou[v] == from || got[nou[v]]) continue;
      got[nou[v]] = 1;
      double lat, bw;
      if (!cl__plan_link(in, from, nou[v], &lat, &bw) || !(bw > 0)) {
        cl_log_error("plan: no link %s -> %s", in->machines[from].name, in->machines[nou[v]].name);
        st = CL_ERR_INFEASIBLE;
      } else {
        pair[from * nm + nou[v]] += lat + b / bw;
      }
    }
  }
  double mx = 0;
  for (int i = 0; st == CL_OK && i < nm * (nm + 1); i++) mx = busy[i] > mx ? busy[i] : mx;
  if (st == CL_OK) *max_stage = mx;
  free(busy);
  free(got);
  return st;
}

/* Fill r's layer placement from @p nou and evaluate it under the common model. */
cl_status cl__plan_set_units(const cl_plan_input *in, const int *nou, cl_plan_result *r) {
  r->n_units = in->n_units;
  r->n_machines = in->n_machines;
  r->node_of_unit = malloc((size_t)in->n_units * sizeof *r->node_of_unit);
  if (!r->node_of_unit) return CL_ERR_NOMEM;
  memcpy(r->node_of_unit, nou, (size_t)in->n_units * sizeof *nou);
  cl_status st = cl_plan_eval(in, nou, &r->latency, &r->energy, &r->bytes);
  if (st == CL_OK) st = cl_plan_max_stage(in, nou, &r->max_stage);
  if (st == CL_OK && in->deadline_s > 0) r->feasible = r->latency <= in->deadline_s;
  return st;
}

/* ---- baselines ---- */

/* Index of the machine the cloud baseline and the two-node planners use as "cloud": the
 * first machine of tier "cloud", else the last machine. */
int cl__plan_cloud_machine(const cl_plan_input *in) {
  for (int m = 1; m < in->n_machines; m++)
    if (in->machines[m].tier && !strcmp(in->machines[m].tier, "cloud")) return m;
  return in->n_machines - 1;
}

static cl_status all_on(const cl_plan_input *in, int m, cl_plan_result *out) {
  int *nou = malloc((size_t)in->n_units * sizeof *nou);
  if (!nou) return CL_ERR_NOMEM;
  for (int i = 0; i < in->n_units; i++) nou[i] = m;
  cl_status st = cl__plan_set_units(in, nou, out);
  free(nou);
  return st;
}

cl_status cl__plan_local(const cl_plan_input *in, cl_plan_result *out) { return all_on(in, 0, out); }

cl_status cl__plan_cloud(const cl_plan_input *in, cl_plan_result *out) {
  return all_on(in, cl__plan_cloud_machine(in), out);
}

/* ---- text ---- */

int cl_plan_placement_text(const cl_plan_input *in, const cl_plan_result *r, char *buf, size_t cap) {
  size_t n = 0;
  int w = 0;
#define PUT(...)                                                              \
  do {                                                                        \
    w = snprintf(buf + (n < cap ? n : cap), n < cap ? cap - n : 0, __VA_ARGS__); \
    if (w > 0) n += (size_t)w;                                                \
  } while (0)
  if (cap) buf[0] = '\0';
  if (r->share) {
    PUT("rows");
    for (int m = 0; m < r->n_machines; m++) PUT(" %s=%.3f", in->machines[m].name, r->share[m]);
    if (r->sink >= 0) PUT(" | tail on %s", in->machines[r->sink].name);
    return (int)n;
  }
  for (int i = 0; r->node_of_unit && i < r->n_units;) {
    int j = i;
    while (j + 1 < r->n_units && r->node_of_unit[j + 1] == r->node_of_unit[i]) j++;
    PUT(i == j ? "%s%s:%d" : "%s%s:%d-%d", i ? " " : "", in->machines[r->node_of_unit[i]].name, i, j);
    i = j + 1;
  }
#undef PUT
  return (int)n;
}

/* ---- the planner hook of many-user simulations (runtime/multiuser.c) ---- */

cl_status cl_plan_users_hook(const cl_mu_plan_req *rq, int *machine_of_layer) {
  cl_plan_input in;
  CL_TRY(cl_plan_input_from_graph(rq->g, rq->host_time, 0, rq->n_machines, rq->machines, rq->n_links, rq->links, &in));
  in.load_factor = rq->load_factor;
  in.wait_s = rq->wait_s;
  in.arrival_rate = rq->arrival_rate;
  in.mode = rq->mode;
  cl_plan_result r;
  cl_status st = cl_plan_run(rq->planner, &in, &r);
  if (st == CL_OK && !r.node_of_unit) {
    cl_log_error("plan: planner '%s' gives no layer placement (a spatial planner cannot place a user)", rq->planner);
    st = CL_ERR_UNSUPPORTED;
  }
  if (st == CL_OK) memcpy(machine_of_layer, r.node_of_unit, sizeof(int) * (size_t)in.n_units);
  cl_plan_result_fini(&r);
  cl_plan_input_fini(&in);
  return st;
}
