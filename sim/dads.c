/* DADS (Hu et al., INFOCOM 2019): optimal device/cloud partition of a DNN DAG for
 * latency, as a minimum s-t cut.
 *
 * Network: s = device side, t = cloud side, one vertex per layer and one auxiliary
 * vertex per layer that has consumers.
 *   s -> v   capacity t_cloud[v]   (cut when v runs on the cloud; inf for input nodes)
 *   v -> t   capacity t_device[v]  (cut when v runs on the device)
 *   u -> u'  capacity latency + out_bytes[u] / bandwidth  (u's output sent once)
 *   u' -> v  inf for every consumer v of u (so u' joins the cloud side if any consumer does)
 *   v -> u   inf for every input u of v   (no cloud -> device transfers)
 * A finite cut is exactly a device set S closed under "inputs of a device layer are on
 * the device", and its value is the latency below. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/plan.h"
#include "cleave/planner.h"

static cl_status check_input(const cl_dads_input *in) {
  if (in->n < 1 || !in->in_off || !in->t_device || !in->t_cloud || !in->out_bytes ||
      !(in->bandwidth_Bps > 0) || !(in->latency_s >= 0) || in->in_off[0] != 0) {
    cl_log_error("dads: invalid input (n %d, bandwidth %g B/s, latency %g s)", in->n,
                 in->bandwidth_Bps, in->latency_s);
    return CL_ERR_INVALID;
  }
  for (int v = 0; v < in->n; v++) {
    if (in->in_off[v + 1] < in->in_off[v]) {
      cl_log_error("dads: in_off not monotone at node %d", v);
      return CL_ERR_INVALID;
    }
    for (int k = in->in_off[v]; k < in->in_off[v + 1]; k++)
      if (in->in_idx[k] < 0 || in->in_idx[k] >= v) {
        cl_log_error("dads: node %d input %d is not an earlier node", v, in->in_idx[k]);
        return CL_ERR_INVALID;
      }
    if (!(in->t_device[v] >= 0) || !(in->t_cloud[v] >= 0) || !(in->out_bytes[v] >= 0) ||
        !isfinite(in->t_device[v]) || !isfinite(in->t_cloud[v]) || !isfinite(in->out_bytes[v])) {
      cl_log_error("dads: node %d has invalid time or size (%g, %g, %g)", v, in->t_device[v],
                   in->t_cloud[v], in->out_bytes[v]);
      return CL_ERR_INVALID;
    }
  }
  return CL_OK;
}

static double load_mul(double f) { return f > 0 ? f : 1.0; }

cl_status cl_dads_eval(const cl_dads_input *in, const unsigned char *on_cloud,
                       cl_dads_result *r) {
  return cl_dads_eval_load(in, NULL, on_cloud, r, NULL);
}

cl_status cl_dads_eval_load(const cl_dads_input *in, const cl_dads_load *load, const unsigned char *on_cloud,
                            cl_dads_result *r, cl_dads_stages *stages) {
  CL_TRY(check_input(in));
  memset(r, 0, sizeof *r);
  const int n = in->n;
  double ld = load ? load_mul(load->device_load) : 1.0, lc = load ? load_mul(load->cloud_load) : 1.0;
  cl_dads_stages sg = {0, 0, 0, 0, 0};
  int dev_work = 0; /* a non-input node on the device */
  unsigned char *sent = calloc((size_t)n, 1);
  if (!sent) return CL_ERR_NOMEM;
  cl_status st = CL_OK;
  for (int v = 0; v < n && st == CL_OK; v++) {
    int c = on_cloud[v] != 0, is_input = in->in_off[v] == in->in_off[v + 1];
    if (c && is_input) {
      cl_log_error("dads: input node %d placed on the cloud", v);
      st = CL_ERR_INFEASIBLE;
    }
    if (c)
      sg.t_cloud += lc * in->t_cloud[v];
    else
      sg.t_device += ld * in->t_device[v];
    dev_work |= !c && !is_input;
    r->n_cloud += c;
    for (int k = in->in_off[v]; k < in->in_off[v + 1] && st == CL_OK; k++) {
      int u = in->in_idx[k];
      if (on_cloud[u] && !c) {
        cl_log_error("dads: node %d on the device consumes node %d on the cloud", v, u);
        st = CL_ERR_INFEASIBLE;
      } else if (!on_cloud[u] && c) {
        sent[u] = 1;
      }
    }
  }
  for (int u = 0; u < n; u++)
    if (sent[u]) {
      sg.t_comm += in->latency_s + in->out_bytes[u] / in->bandwidth_Bps;
      r->bytes += in->out_bytes[u];
      r->n_sent++;
    }
  free(sent);
  r->latency = sg.t_device + sg.t_comm + sg.t_cloud;
  if (load) r->latency += (dev_work ? load->device_wait_s : 0) + (r->n_cloud ? load->cloud_wait_s : 0);
  sg.max_stage = fmax(sg.t_device, fmax(sg.t_comm, sg.t_cloud));
  if (stages) *stages = sg;
  return st;
}

/* Min cut of the weighted sum wd * t_device + wt * t_comm + wc * t_cloud (load-scaled)
 * over assignments whose cloud set is closed under consumers; on_cloud[n] receives it. */
static cl_status min_cut(const cl_dads_input *in, double ld, double lc, double wd, double wt, double wc,
                         unsigned char *on_cloud) {
  const int n = in->n, S = 0, T = 1;
  cl_maxflow *mf;
  CL_TRY(cl_maxflow_create(2 + 2 * n, &mf));
  int *n_cons = calloc((size_t)n, sizeof *n_cons);
  cl_status st = n_cons ? CL_OK : CL_ERR_NOMEM;
  for (int v = 0; v < n && st == CL_OK; v++)
    for (int k = in->in_off[v]; k < in->in_off[v + 1]; k++) n_cons[in->in_idx[k]]++;
  for (int v = 0; v < n && st == CL_OK; v++) {
    int is_input = in->in_off[v] == in->in_off[v + 1];
    st = cl_maxflow_add_edge(mf, S, 2 + v, is_input ? INFINITY : wc * lc * in->t_cloud[v]);
    if (st == CL_OK) st = cl_maxflow_add_edge(mf, 2 + v, T, wd * ld * in->t_device[v]);
    if (st == CL_OK && n_cons[v])
      st = cl_maxflow_add_edge(mf, 2 + v, 2 + n + v,
                               wt * (in->latency_s + in->out_bytes[v] / in->bandwidth_Bps));
    for (int k = in->in_off[v]; k < in->in_off[v + 1] && st == CL_OK; k++) {
      int u = in->in_idx[k];
      st = cl_maxflow_add_edge(mf, 2 + n + u, 2 + v, INFINITY);
      if (st == CL_OK) st = cl_maxflow_add_edge(mf, 2 + v, 2 + u, INFINITY);
    }
  }
  double flow = 0.0;
  if (st == CL_OK) st = cl_maxflow_solve(mf, S, T, &flow);
  if (st == CL_OK) {
    for (int v = 0; v < n; v++) on_cloud[v] = (unsigned char)!cl_maxflow_source_side(mf, 2 + v);
    cl_dads_load l = {ld, lc, 0, 0, 0, 0};
    cl_dads_result r;
    cl_dads_stages sg;
    st = cl_dads_eval_load(in, &l, on_cloud, &r, &sg);
    double cut = wd * sg.t_device + wt * sg.t_comm + wc * sg.t_cloud;
    /* The recovered cut must cost what the flow says (strong duality). */
    if (st == CL_OK && fabs(cut - flow) > 1e-9 * (1.0 + flow)) {
      cl_log_error("dads: cut cost %.12g differs from max-flow %.12g", cut, flow);
      st = CL_ERR_INTERNAL;
    }
  }
  free(n_cons);
  cl_maxflow_destroy(mf);
  return st;
}

cl_status cl_dads_plan(const cl_dads_input *in, unsigned char *on_cloud, cl_dads_result *r) {
  return cl_dads_plan_load(in, NULL, on_cloud, r, NULL);
}

/* 1 if @p on_cloud keeps inputs on the device and sends nothing cloud -> device (silent). */
static int valid(const cl_dads_input *in, const unsigned char *on_cloud) {
  for (int v = 0; v < in->n; v++) {
    if (on_cloud[v] && in->in_off[v] == in->in_off[v + 1]) return 0;
    for (int k = in->in_off[v]; k < in->in_off[v + 1]; k++)
      if (on_cloud[in->in_idx[k]] && !on_cloud[v]) return 0;
  }
  return 1;
}

/* Candidate @p cand replaces @p best (with its evaluation) if it is valid and better:
 * heavy mode by (max stage, latency), light mode by latency. Returns 1 if it did. */
static int take(const cl_dads_input *in, const cl_dads_load *load, int heavy, const unsigned char *cand,
                unsigned char *best, cl_dads_result *br, cl_dads_stages *bs, int have) {
  cl_dads_result r;
  cl_dads_stages sg;
  if (!valid(in, cand) || cl_dads_eval_load(in, load, cand, &r, &sg) != CL_OK) return 0; /* a move may be invalid */
  const double eps = 1e-12;
  int better = !have;
  if (have && heavy)
    better = sg.max_stage < bs->max_stage - eps * (1 + bs->max_stage) ||
             (sg.max_stage <= bs->max_stage + eps * (1 + bs->max_stage) && r.latency < br->latency - eps * (1 + br->latency));
  else if (have)
    better = r.latency < br->latency - eps * (1 + br->latency);
  if (!better) return 0;
  memcpy(best, cand, (size_t)in->n);
  *br = r;
  *bs = sg;
  return 1;
}

/* Light mode: the min cut ignores the waits (fixed charges of a non-empty side), so the
 * optimum is the best of the min cut, all-device and all-cloud (each evaluated exactly). */
static cl_status plan_light(const cl_dads_input *in, const cl_dads_load *load, unsigned char *cand, unsigned char *best,
                            cl_dads_result *r, cl_dads_stages *sg) {
  double ld = load ? load_mul(load->device_load) : 1.0, lc = load ? load_mul(load->cloud_load) : 1.0;
  CL_TRY(min_cut(in, ld, lc, 1, 1, 1, cand));
  int have = take(in, load, 0, cand, best, r, sg, 0);
  if (!have) return CL_ERR_INTERNAL;
  if (load && (load->device_wait_s > 0 || load->cloud_wait_s > 0))
    for (int side = 0; side < 2; side++) {
      for (int v = 0; v < in->n; v++) cand[v] = (unsigned char)(side && in->in_off[v] != in->in_off[v + 1]);
      take(in, load, 0, cand, best, r, sg, 1);
    }
  return CL_OK;
}

/* Heavy mode: min cuts of weighted sums over a simplex grid, then single-node moves. */
static cl_status plan_heavy(const cl_dads_input *in, const cl_dads_load *load, unsigned char *cand, unsigned char *best,
                            cl_dads_result *r, cl_dads_stages *sg) {
  enum { GRID = 12 };
  double ld = load_mul(load->device_load), lc = load_mul(load->cloud_load);
  CL_TRY(plan_light(in, load, cand, best, r, sg)); /* the latency plan is a candidate */
  for (int a = 0; a <= GRID; a++)
    for (int b = 0; a + b <= GRID; b++) {
      int c = GRID - a - b;
      CL_TRY(min_cut(in, ld, lc, (double)a / GRID, (double)b / GRID, (double)c / GRID, cand));
      take(in, load, 1, cand, best, r, sg, 1);
    }
  for (int pass = 0, moved = 1; moved && pass < 4 * in->n; pass++) {
    moved = 0;
    for (int v = 0; v < in->n; v++) {
      if (in->in_off[v] == in->in_off[v + 1]) continue; /* inputs stay on the device */
      memcpy(cand, best, (size_t)in->n);
      cand[v] = (unsigned char)!cand[v];
      moved |= take(in, load, 1, cand, best, r, sg, 1);
    }
  }
  sg->heavy = 1;
  return CL_OK;
}

cl_status cl_dads_plan_load(const cl_dads_input *in, const cl_dads_load *load, unsigned char *on_cloud,
                            cl_dads_result *r, cl_dads_stages *stages) {
  CL_TRY(check_input(in));
  unsigned char *cand = malloc((size_t)in->n);
  if (!cand) return CL_ERR_NOMEM;
  cl_dads_stages sg;
  int mode = load ? load->mode : CL_PLAN_MODE_LATENCY;
  cl_status st = mode == CL_PLAN_MODE_THROUGHPUT ? plan_heavy(in, load, cand, on_cloud, r, &sg)
                                                  : plan_light(in, load, cand, on_cloud, r, &sg);
  /* AUTO: heavy when requests arrive faster than the light plan's slowest stage serves them */
  if (st == CL_OK && mode == CL_PLAN_MODE_AUTO && load->arrival_rate > 0 && load->arrival_rate * sg.max_stage >= 1.0)
    st = plan_heavy(in, load, cand, on_cloud, r, &sg);
  free(cand);
  if (st == CL_OK && stages) *stages = sg;
  return st;
}

cl_status cl_dads_csr_from_graph(const cl_graph *g, int **in_off, int **in_idx) {
  int n = cl_graph_size(g), total = 0;
  for (int v = 0; v < n; v++) total += cl_graph_node(g, v)->n_inputs;
  *in_off = malloc((size_t)(n + 1) * sizeof **in_off);
  *in_idx = malloc((size_t)(total ? total : 1) * sizeof **in_idx);
  if (!*in_off || !*in_idx) {
    free(*in_off);
    free(*in_idx);
    *in_off = *in_idx = NULL;
    return CL_ERR_NOMEM;
  }
  int k = 0;
  for (int v = 0; v < n; v++) {
    const cl_node *nd = cl_graph_node(g, v);
    (*in_off)[v] = k;
    for (int j = 0; j < nd->n_inputs; j++) (*in_idx)[k++] = nd->inputs[j];
  }
  (*in_off)[n] = k;
  return CL_OK;
}
