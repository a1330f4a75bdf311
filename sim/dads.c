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

cl_status cl_dads_eval(const cl_dads_input *in, const unsigned char *on_cloud,
                       cl_dads_result *r) {
  CL_TRY(check_input(in));
  memset(r, 0, sizeof *r);
  const int n = in->n;
  unsigned char *sent = calloc((size_t)n, 1);
  if (!sent) return CL_ERR_NOMEM;
  cl_status st = CL_OK;
  for (int v = 0; v < n && st == CL_OK; v++) {
    int c = on_cloud[v] != 0;
    if (c && in->in_off[v] == in->in_off[v + 1]) {
      cl_log_error("dads: input node %d placed on the cloud", v);
      st = CL_ERR_INFEASIBLE;
    }
    r->latency += c ? in->t_cloud[v] : in->t_device[v];
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
      r->latency += in->latency_s + in->out_bytes[u] / in->bandwidth_Bps;
      r->bytes += in->out_bytes[u];
      r->n_sent++;
    }
  free(sent);
  return st;
}

cl_status cl_dads_plan(const cl_dads_input *in, unsigned char *on_cloud, cl_dads_result *r) {
  CL_TRY(check_input(in));
  const int n = in->n, S = 0, T = 1;
  cl_maxflow *mf;
  CL_TRY(cl_maxflow_create(2 + 2 * n, &mf));
  int *n_cons = calloc((size_t)n, sizeof *n_cons);
  cl_status st = n_cons ? CL_OK : CL_ERR_NOMEM;
  for (int v = 0; v < n && st == CL_OK; v++)
    for (int k = in->in_off[v]; k < in->in_off[v + 1]; k++) n_cons[in->in_idx[k]]++;
  for (int v = 0; v < n && st == CL_OK; v++) {
    int is_input = in->in_off[v] == in->in_off[v + 1];
    st = cl_maxflow_add_edge(mf, S, 2 + v, is_input ? INFINITY : in->t_cloud[v]);
    if (st == CL_OK) st = cl_maxflow_add_edge(mf, 2 + v, T, in->t_device[v]);
    if (st == CL_OK && n_cons[v])
      st = cl_maxflow_add_edge(mf, 2 + v, 2 + n + v,
                               in->latency_s + in->out_bytes[v] / in->bandwidth_Bps);
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
    st = cl_dads_eval(in, on_cloud, r);
    /* The recovered cut must cost what the flow says (strong duality). */
    if (st == CL_OK && fabs(r->latency - flow) > 1e-9 * (1.0 + flow)) {
      cl_log_error("dads: cut cost %.12g differs from max-flow %.12g", r->latency, flow);
      st = CL_ERR_INTERNAL;
    }
  }
  free(n_cons);
  cl_maxflow_destroy(mf);
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
