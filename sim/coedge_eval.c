/* CoEdge system model: per-device linear latency, shared WLAN, barrier-synchronous
 * phases, energy = compute + radio + idle. One evaluation function for every planner. */
#include <gsl/gsl_fit.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/ops.h"
#include "coedge_internal.h"
#include "cleave/vec.h"

static const char *const k_planner_names[] = {
#define CL__CP_NAME(e, name, desc) name,
    CL_COEDGE_PLANNER_MAP(CL__CP_NAME)
#undef CL__CP_NAME
};
static const char *const k_planner_desc[] = {
#define CL__CP_DESC(e, name, desc) desc,
    CL_COEDGE_PLANNER_MAP(CL__CP_DESC)
#undef CL__CP_DESC
};
_Static_assert(sizeof k_planner_names / sizeof *k_planner_names == CL_COEDGE_PLANNER_COUNT,
               "planner name table");

const char *cl_coedge_planner_name(cl_coedge_planner p) {
  return (p >= 0 && p < CL_COEDGE_PLANNER_COUNT) ? k_planner_names[p] : "?";
}
const char *cl_coedge_planner_desc(cl_coedge_planner p) {
  return (p >= 0 && p < CL_COEDGE_PLANNER_COUNT) ? k_planner_desc[p] : "?";
}
cl_coedge_planner cl_coedge_planner_from_name(const char *name) {
  for (int i = 0; i < CL_COEDGE_PLANNER_COUNT; i++)
    if (!strcmp(name, k_planner_names[i])) return (cl_coedge_planner)i;
  return CL_COEDGE_PLANNER_COUNT;
}

cl_status cl_coedge_fit_linear(const double *rows, const double *secs, size_t n, double *a,
                               double *b) {
  if (!rows || !secs || n < 2) {
    cl_log_error("coedge: a linear latency fit needs at least 2 samples, got %zu", n);
    return CL_ERR_INVALID;
  }
  int distinct = 0;
  for (size_t i = 1; i < n; i++)
    if (rows[i] != rows[0]) distinct = 1;
  if (!distinct) {
    cl_log_error("coedge: a linear latency fit needs two distinct row counts (all %g)", rows[0]);
    return CL_ERR_INVALID;
  }
  double c0, c1, cov00, cov01, cov11, sumsq;
  if (gsl_fit_linear(rows, 1, secs, 1, n, &c0, &c1, &cov00, &cov01, &cov11, &sumsq) != 0) {
    cl_log_error("coedge: gsl_fit_linear failed on %zu samples", n);
    return CL_ERR_INTERNAL;
  }
  *a = c0;
  *b = c1;
  return CL_OK;
}

void cl_coedge_result_fini(cl_coedge_result *r) {
  if (!r) return;
  free(r->busy); /* the block that holds every [n_dev] array (cl__coedge_result_alloc) */
  cl_spatial_plan_destroy(r->plan);
  memset(r, 0, sizeof *r);
}

cl_status cl__coedge_result_alloc(cl_coedge_result *r, int n_dev) {
  memset(r, 0, sizeof *r);
  r->n_dev = n_dev;
  size_t n = n_dev > 0 ? (size_t)n_dev : 1;
  const cl_block_part parts[] = {CL_BLOCK_PART(r->busy, n), CL_BLOCK_PART(r->tx, n),
                                 CL_BLOCK_PART(r->rx, n),   CL_BLOCK_PART(r->e_dev, n),
                                 CL_BLOCK_PART(r->rows, n), CL_BLOCK_PART(r->participates, n)};
  return cl_block_alloc(parts, 6);
}

/* Bytes on the WLAN for @p bytes of node @p n's float32 output: the graph input travels
 * at input_bytes_per_elem bytes per element (an 8-bit camera frame is converted to
 * float32 by the receiver), everything else as float32. Exact: bytes = 4 * elements. */
int64_t cl__coedge_wire_bytes(const cl_coedge_problem *p, const cl_node *n, int64_t bytes) {
  if (n->op != CL_OP_INPUT || p->input_bytes_per_elem <= 0 || p->input_bytes_per_elem == 4)
    return bytes;
  return bytes / (int64_t)sizeof(float) * p->input_bytes_per_elem;
}

int64_t cl_coedge_xfer_bytes(const cl_coedge_problem *p, const cl_spatial_xfer *x) {
  if (x->kind != CL_XFER_SCATTER) return x->bytes;
  return cl__coedge_wire_bytes(p, cl_graph_node(p->g, x->node), x->bytes);
}

static cl_status check_problem(const cl_coedge_problem *p) {
  if (!p || !p->g || !p->dev || p->n_dev < 1) {
    cl_log_error("coedge: problem needs a graph and at least one device");
    return CL_ERR_INVALID;
  }
  if (p->source < 0 || p->source >= p->n_dev) {
    cl_log_error("coedge: source device %d out of range 0..%d", p->source, p->n_dev - 1);
    return CL_ERR_INVALID;
  }
  if (!(p->bandwidth > 0) || !(p->msg_latency >= 0) || !isfinite(p->bandwidth)) {
    cl_log_error("coedge: bandwidth must be > 0 (got %g B/s) and message latency >= 0 (got %g s)",
                 p->bandwidth, p->msg_latency);
    return CL_ERR_INVALID;
  }
  if (p->input_bytes_per_elem != 0 && p->input_bytes_per_elem != 1 &&
      p->input_bytes_per_elem != 2 && p->input_bytes_per_elem != 4) {
    cl_log_error("coedge: input_bytes_per_elem must be 1, 2 or 4 (0: 4), got %d",
                 p->input_bytes_per_elem);
    return CL_ERR_INVALID;
  }
  for (int d = 0; d < p->n_dev; d++) {
    const cl_coedge_device *v = &p->dev[d];
    const char *nm = v->name ? v->name : "?";
    if (!(v->p_comp >= 0 && v->p_idle >= 0 && v->p_tx >= 0 && v->p_rx >= 0)) {
      cl_log_error("coedge: device %d '%s': powers must be >= 0 W", d, nm);
      return CL_ERR_INVALID;
    }
    if ((v->a == NULL) != (v->b == NULL)) {
      cl_log_error("coedge: device %d '%s': give both a and b or neither", d, nm);
      return CL_ERR_INVALID;
    }
    if (!v->a && v->speed > 0 && !p->host_time) {
      cl_log_error("coedge: device %d '%s' has no latency model and the problem no host times", d,
                   nm);
      return CL_ERR_INVALID;
    }
  }
  return CL_OK;
}

void cl__coedge_ctx_fini(cl__coedge_ctx *c) {
  /* the blocks of cl__coedge_ctx_init and of score_alloc's two steps */
  free(c->A);
  free(c->w_box);
  free(c->w_eout);
  free(c->w_xfer);
  cl__coedge_wlan_fini(&c->w_wlan);
  memset(c, 0, sizeof *c);
}

int cl_coedge_ref_height(const cl_coedge_problem *p) {
  int first = p->first, last = p->last;
  if (first < 0 && cl_spatial_prefix(p->g, &first, &last) != CL_OK) return 0;
  if (p->mode == CL_SPATIAL_FUSED) return cl_graph_node(p->g, last)->out.h;
  int h = 1;
  for (int id = first; id <= last; id++)
    if (cl_graph_node(p->g, id)->out.h > h) h = cl_graph_node(p->g, id)->out.h;
  return h;
}

cl_status cl__coedge_ctx_init(cl__coedge_ctx *c, const cl_coedge_problem *p) {
  memset(c, 0, sizeof *c);
  CL_TRY(check_problem(p));
  c->p = p;
  c->first = p->first;
  c->last = p->last;
  if (c->first < 0) {
    CL_TRY(cl_spatial_prefix(p->g, &c->first, &c->last));
  } else {
    CL_TRY(cl_spatial_check_run(p->g, c->first, c->last));
  }
  c->n_graph = cl_graph_size(p->g);
  c->ref_h = cl_coedge_ref_height(p);
  size_t nn = (size_t)p->n_dev * (size_t)c->n_graph;
  size_t ndev = (size_t)p->n_dev;
  const cl_block_part parts[] = {CL_BLOCK_PART(c->A, nn), CL_BLOCK_PART(c->B, nn), CL_BLOCK_PART(c->tail, ndev),
                                 CL_BLOCK_PART(c->full, ndev), CL_BLOCK_PART(c->avail, ndev)};
  CL_TRY(cl_block_alloc(parts, 5));
  for (int d = 0; d < p->n_dev; d++) {
    const cl_coedge_device *v = &p->dev[d];
    c->avail[d] = v->a ? 1 : v->speed > 0;
    c->n_avail += c->avail[d];
    for (int id = 0; id < c->n_graph; id++) {
      const cl_node *nd = cl_graph_node(p->g, id);
      double a = 0, b = 0;
      if (v->a) {
        a = v->a[id];
        b = v->b[id];
      } else if (v->speed > 0) {
        double h = nd->out.h > 0 ? nd->out.h : 1;
        b = p->host_time[id] / (v->speed * h);
      }
      if (nd->op == CL_OP_INPUT) a = b = 0;
      if (!(a >= 0 && b >= 0 && isfinite(a) && isfinite(b))) {
        cl_log_error("coedge: device %d '%s', node '%s': latency model a=%g b=%g must be finite "
                     "and >= 0",
                     d, v->name ? v->name : "?", nd->name, a, b);
        cl__coedge_ctx_fini(c);
        return CL_ERR_INVALID;
      }
      c->A[(size_t)d * c->n_graph + id] = a;
      c->B[(size_t)d * c->n_graph + id] = b;
      double t = a + b * nd->out.h;
      if (id > c->last) c->tail[d] += t;
      if (id >= c->first && id <= c->last) c->full[d] += t;
    }
  }
  if (c->n_avail == 0) {
    cl_log_error("coedge: no device can compute (all speeds are 0)");
    cl__coedge_ctx_fini(c);
    return CL_ERR_INVALID;
  }
  return CL_OK;
}

/* Exact WLAN accounting: bytes and message counts per phase and per device. */
void cl__coedge_wlan_reset(cl__coedge_wlan *w, int n_dev) {
  if (!w->txb || w->n_dev != n_dev) {
    cl__coedge_wlan_fini(w);
    w->n_dev = n_dev;
    w->txb = malloc((size_t)n_dev * 2 * sizeof *w->txb);
    w->txn = malloc((size_t)n_dev * 2 * sizeof *w->txn);
    if (!w->txb || !w->txn) {
      cl__coedge_wlan_fini(w);
      return;
    }
  }
  memset(w->pb, 0, sizeof w->pb);
  memset(w->pn, 0, sizeof w->pn);
  memset(w->txb, 0, (size_t)n_dev * 2 * sizeof *w->txb);
  memset(w->txn, 0, (size_t)n_dev * 2 * sizeof *w->txn);
}

void cl__coedge_wlan_fini(cl__coedge_wlan *w) {
  free(w->txb);
  free(w->txn);
  memset(w, 0, sizeof *w);
}

void cl__coedge_wlan_times(const cl__coedge_wlan *w, const cl_coedge_problem *p,
                           cl_coedge_result *out) {
  double bw = p->bandwidth, lat = p->msg_latency;
  out->t_scatter = (double)w->pb[0] / bw + w->pn[0] * lat;
  out->t_comm = (double)w->pb[1] / bw + w->pn[1] * lat;
  out->t_gather = (double)w->pb[2] / bw + w->pn[2] * lat;
  for (int d = 0; d < w->n_dev; d++) {
    out->tx[d] = (double)w->txb[2 * d] / bw + w->txn[2 * d] * lat;
    out->rx[d] = (double)w->txb[2 * d + 1] / bw + w->txn[2 * d + 1] * lat;
  }
}

/* Compute time of node @p id: each task's box (box[t], t < T) runs on device task_dev[t]
 * (device t when task_dev is NULL) at A + B * rows, rows = area / width (exactly
 * y1 - y0 for full-width boxes). Fills stage[0..nd) with each device's time, adds it to
 * out->busy, marks the devices that take part; returns the slowest device's time. */
static double node_stage(const cl__coedge_ctx *c, const cl_node *n, int id, const cl_box *box, int T,
                         const int *task_dev, int nd, double *stage, cl_coedge_result *out) {
  for (int d = 0; d < nd; d++) stage[d] = 0;
  for (int t = 0; t < T; t++) {
    cl_box b = box[t];
    if (cl_box_empty(b)) continue;
    int d = task_dev ? task_dev[t] : t;
    double rows = b.x0 == 0 && b.x1 == n->out.w ? (double)(b.y1 - b.y0)
                  : (double)cl_box_area(b) / (n->out.w > 0 ? n->out.w : 1);
    stage[d] += c->A[(size_t)d * c->n_graph + id] + c->B[(size_t)d * c->n_graph + id] * rows;
    out->participates[d] = 1;
  }
  double mx = 0;
  for (int d = 0; d < nd; d++) {
    out->busy[d] += stage[d];
    if (stage[d] > mx) mx = stage[d];
  }
  return mx;
}

/* Totals once the phase times are in: the tail on the sink, the end-to-end latency,
 * each participating device's energy (idle while the others work), the deadline check. */
/* Overlap (p->overlap, layer mode). The nodes between two halo exchanges form a segment;
 * a runtime computes the segment's boundary rows first, sends them, and computes the
 * interior while they travel. So the exchange after node i (hb[i] bytes in hn[i]
 * messages: H = bytes / bandwidth + messages x latency) runs beside the segment's compute
 * S (sum of node_t, each node's slowest device) and min(S, H) is hidden:
 * sum_seg max(S, H) = sum T + sum H - sum min(S, H). Integer bytes are converted per
 * exchange in node order, so both evaluation paths agree bit for bit. */
static double overlap_hidden(const cl_coedge_problem *p, int nn, const double *node_t, const int64_t *hb,
                             const int *hn) {
  double hidden = 0, seg = 0;
  for (int i = 0; p->overlap && i < nn; i++) {
    seg += node_t[i];
    if (!hn[i]) continue;
    hidden += fmin(seg, (double)hb[i] / p->bandwidth + hn[i] * p->msg_latency);
    seg = 0;
  }
  return hidden;
}

static void totals(const cl__coedge_ctx *c, int source, int sink, cl_coedge_result *out) {
  const cl_coedge_problem *p = c->p;
  out->t_tail = c->tail[sink];
  out->busy[sink] += out->t_tail;
  out->participates[source] = 1;
  out->participates[sink] = 1;
  out->latency = out->t_scatter + out->t_compute + out->t_comm - out->t_overlap + out->t_gather + out->t_tail;
  out->energy = 0;
  for (int d = 0; d < p->n_dev; d++) {
    if (!out->participates[d]) continue;
    const cl_coedge_device *v = &p->dev[d];
    double idle = out->latency - out->busy[d] - out->tx[d] - out->rx[d];
    if (idle < 0) idle = 0; /* rounding, or overlap: a device sends while it computes */
    out->e_dev[d] = v->p_comp * out->busy[d] + v->p_tx * out->tx[d] + v->p_rx * out->rx[d] +
                    v->p_idle * idle;
    out->energy += out->e_dev[d];
  }
  out->meets_deadline = !(p->deadline > 0) || out->latency <= p->deadline + 1e-9;
}

cl_status cl__coedge_eval(cl__coedge_ctx *c, cl_spatial_plan *plan, cl_coedge_result *out) {
  const cl_coedge_problem *p = c->p;
  int nd = p->n_dev, T = plan->n_tasks;
  cl_status st = cl__coedge_result_alloc(out, nd);
  if (st != CL_OK) {
    cl_spatial_plan_destroy(plan);
    return st;
  }
  out->plan = plan;
  out->ref_h = c->ref_h;
  c->evals++;
  int nn = plan->n_nodes;
  double *stage = calloc((size_t)nd + (size_t)nn, sizeof *stage), *node_t = stage + nd;
  int64_t *hb = calloc((size_t)nn + 1, sizeof *hb);
  int *hn = calloc((size_t)nn + 1, sizeof *hn);
  if (!stage || !hb || !hn) {
    free(stage);
    free(hb);
    free(hn);
    return CL_ERR_NOMEM;
  }
  /* compute */
  for (int i = 0; i < plan->n_nodes; i++) {
    int id = plan->first + i;
    const cl_node *n = cl_graph_node(p->g, id);
    if (n->op == CL_OP_INPUT) continue;
    double mx = node_stage(c, n, id, plan->box + (size_t)i * T, T, plan->task_dev, nd, stage, out);
    if (plan->mode == CL_SPATIAL_LAYER) out->t_compute += mx;
    node_t[i] = mx;
  }
  if (plan->mode == CL_SPATIAL_FUSED)
    for (int d = 0; d < nd; d++)
      if (out->busy[d] > out->t_compute) out->t_compute = out->busy[d];
  /* transfers: serialised on the shared medium; bytes and messages are summed exactly
   * (integers) and converted once, so the result does not depend on transfer order */
  cl__coedge_wlan w = {0};
  cl__coedge_wlan_reset(&w, nd);
  for (int k = 0; w.txb && k < plan->n_xfer; k++) {
    const cl_spatial_xfer *x = &plan->xfer[k];
    int ph = x->kind == CL_XFER_SCATTER ? 0 : x->kind == CL_XFER_HALO ? 1 : 2;
    cl__coedge_wlan_add(&w, ph, x->src, x->dst, cl_coedge_xfer_bytes(p, x));
    if (ph == 1) {
      hb[x->node - plan->first] += cl_coedge_xfer_bytes(p, x);
      hn[x->node - plan->first]++;
    }
  }
  if (w.txb) cl__coedge_wlan_times(&w, p, out);
  out->t_overlap = w.txb && plan->mode == CL_SPATIAL_LAYER ? overlap_hidden(p, nn, node_t, hb, hn) : 0;
  free(stage);
  free(hb);
  free(hn);
  if (!w.txb) return CL_ERR_NOMEM;
  cl__coedge_wlan_fini(&w);
  totals(c, plan->source, plan->sink, out);
  /* tasks per device; row plans overwrite this with their rows (cl__coedge_eval_rows) */
  for (int t = 0; t < T; t++) {
    cl_box b = plan->box[(size_t)(plan->n_nodes - 1) * T + t];
    out->rows[plan->task_dev[t]] += !cl_box_empty(b);
  }
  return CL_OK;
}

cl_status cl__coedge_eval_rows(cl__coedge_ctx *c, const int *rows, cl_coedge_result *out) {
  const cl_coedge_problem *p = c->p;
  int nd = p->n_dev;
  int bounds_small[17], *bounds = bounds_small;
  if (nd + 1 > 17) {
    bounds = malloc((size_t)(nd + 1) * sizeof *bounds);
    if (!bounds) return CL_ERR_NOMEM;
  }
  bounds[0] = 0;
  for (int d = 0; d < nd; d++) bounds[d + 1] = bounds[d] + rows[d];
  cl_spatial_spec spec = {c->first, c->last, p->mode, nd, p->source, -1};
  cl_spatial_plan *plan = NULL;
  cl_status st = cl_spatial_plan_rows(p->g, &spec, bounds, c->ref_h, &plan);
  if (bounds != bounds_small) free(bounds);
  if (st != CL_OK) return st;
  CL_TRY(cl__coedge_eval(c, plan, out));
  memcpy(out->rows, rows, (size_t)nd * sizeof *rows);
  return CL_OK;
}

cl_status cl_coedge_evaluate(const cl_coedge_problem *p, cl_spatial_plan *plan,
                             cl_coedge_result *out) {
  cl__coedge_ctx c;
  cl_status st = cl__coedge_ctx_init(&c, p);
  if (st != CL_OK) {
    cl_spatial_plan_destroy(plan);
    return st;
  }
  if (plan->n_dev != p->n_dev || plan->first != c.first || plan->last != c.last) {
    cl_log_error("coedge: plan (nodes %d..%d, %d devices) does not match the problem "
                 "(nodes %d..%d, %d devices)",
                 plan->first, plan->last, plan->n_dev, c.first, c.last, p->n_dev);
    cl_spatial_plan_destroy(plan);
    cl__coedge_ctx_fini(&c);
    return CL_ERR_INVALID;
  }
  st = cl__coedge_eval(&c, plan, out);
  if (st == CL_OK) out->evals = c.evals;
  cl__coedge_ctx_fini(&c);
  return st;
}

cl_status cl_coedge_evaluate_rows(const cl_coedge_problem *p, const int *rows,
                                  cl_coedge_result *out) {
  cl__coedge_ctx c;
  CL_TRY(cl__coedge_ctx_init(&c, p));
  int sum = 0;
  for (int d = 0; d < p->n_dev; d++) sum += rows[d] < 0 ? -1000000000 : rows[d];
  cl_status st;
  if (sum != c.ref_h) {
    cl_log_error("coedge: rows must be >= 0 and sum to the reference height %d (got %d)", c.ref_h,
                 sum);
    st = CL_ERR_INVALID;
  } else {
    st = cl__coedge_eval_rows(&c, rows, out);
    if (st == CL_OK) out->evals = c.evals;
  }
  cl__coedge_ctx_fini(&c);
  return st;
}

/* ---------------------------------------------------------------- fast row evaluation */

static cl_box box_hull(cl_box a, cl_box b) {
  if (cl_box_empty(a)) return b;
  if (cl_box_empty(b)) return a;
  cl_box r = {a.y0 < b.y0 ? a.y0 : b.y0, a.y1 > b.y1 ? a.y1 : b.y1,
              a.x0 < b.x0 ? a.x0 : b.x0, a.x1 > b.x1 ? a.x1 : b.x1};
  return r;
}

static cl_box box_meet(cl_box a, cl_box b) {
  cl_box r = {a.y0 > b.y0 ? a.y0 : b.y0, a.y1 < b.y1 ? a.y1 : b.y1,
              a.x0 > b.x0 ? a.x0 : b.x0, a.x1 < b.x1 ? a.x1 : b.x1};
  if (cl_box_empty(r)) {
    cl_box e = {0, 0, 0, 0};
    return e;
  }
  return r;
}

static cl_status score_alloc(cl__coedge_ctx *c) {
  if (c->w_box) return CL_OK;
  const cl_graph *g = c->p->g;
  size_t nd = (size_t)c->p->n_dev, nn = (size_t)(c->last - c->first + 1), nb = nn * nd;
  size_t ne = c->first > 0 ? (size_t)c->first : 1;
  c->nn = (int)nn;
  const cl_block_part parts[] = {
      CL_BLOCK_PART(c->w_box, nb),           CL_BLOCK_PART(c->w_need, nb),
      CL_BLOCK_PART(c->w_ent_idx, ne),       CL_BLOCK_PART(c->w_ent_node, ne),
      CL_BLOCK_PART(c->w_ent_need, ne * nd), CL_BLOCK_PART(c->w_stage, nd),
      CL_BLOCK_PART(c->w_share, nd),         CL_BLOCK_PART(c->w_node, nn),
      CL_BLOCK_PART(c->w_hcls, nn),          CL_BLOCK_PART(c->w_heights, nn),
      CL_BLOCK_PART(c->w_yb, nn * (nd + 1)), CL_BLOCK_PART(c->w_edge, nn + 1),
      CL_BLOCK_PART(c->w_node_t, nn),        CL_BLOCK_PART(c->w_halo_b, nn),
      CL_BLOCK_PART(c->w_halo_n, nn)};
  CL_TRY(cl_block_alloc(parts, 15));
  for (size_t k = 0; k < ne; k++) c->w_ent_idx[k] = -1;
  c->n_heights = 0;
  c->w_edge[0] = 0;
  for (size_t i = 0; i < nn; i++) {
    const cl_node *n = cl_graph_node(g, c->first + (int)i);
    c->w_node[i] = n;
    int h = 0;
    while (h < c->n_heights && c->w_heights[h] != n->out.h) h++;
    if (h == c->n_heights) c->w_heights[c->n_heights++] = n->out.h;
    c->w_hcls[i] = h;
    c->w_edge[i + 1] = c->w_edge[i] + (n->op == CL_OP_INPUT ? 0 : n->n_inputs);
  }
  size_t n_edge = (size_t)c->w_edge[nn] * nd;
  const cl_block_part edges[] = {CL_BLOCK_PART(c->w_eout, n_edge), CL_BLOCK_PART(c->w_ein, n_edge),
                                 CL_BLOCK_PART(c->w_eid, (size_t)c->w_edge[nn])};
  CL_TRY(cl_block_alloc(edges, 3));
  /* Element-wise edges (no row rule of their own, same shape as a computed producer in
   * the run): in layer mode the consumer's slice is exactly the producer's own slice
   * (same height, same scaled bounds, full width), so the edge adds nothing to the
   * producer's need and is skipped. Concatenations make these most of DenseNet's edges. */
  for (size_t i = 0; i < nn; i++) {
    const cl_node *n = c->w_node[i];
    if (n->op == CL_OP_INPUT || n->op == CL_OP_CONV || n->op == CL_OP_MAXPOOL ||
        n->op == CL_OP_AVGPOOL || cl_op_get(n->op)->in_rows)
      continue;
    for (int j = 0; j < n->n_inputs; j++) {
      int src = n->inputs[j];
      if (src < c->first) continue;
      const cl_node *sn = c->w_node[src - c->first];
      cl_box full = {0, n->out.h, 0, n->out.w};
      if (sn->op == CL_OP_INPUT || sn->out.h != n->out.h || sn->out.w != n->out.w) continue;
      cl_box r = cl_spatial_input_box(g, c->first + (int)i, j, full);
      c->w_eid[c->w_edge[i] + j] = r.y0 == 0 && r.y1 == full.y1 && r.x0 == 0 && r.x1 == full.x1;
    }
  }
  /* an impossible query: the first lookup of every edge computes */
  const cl_box never = {-1, -1, -1, -1};
  for (size_t k = 0; k < n_edge; k++) c->w_eout[k] = never;
  return CL_OK;
}

/* Input region of input j of run node i for output region b, memoised per (edge, task):
 * consecutive evaluations of a local search change few slices. */
static cl_box input_box_cached(cl__coedge_ctx *c, int i, int j, int t, cl_box b) {
  size_t k = ((size_t)c->w_edge[i] + (size_t)j) * (size_t)c->p->n_dev + (size_t)t;
  cl_box q = c->w_eout[k];
  if (q.y0 == b.y0 && q.y1 == b.y1 && q.x0 == b.x0 && q.x1 == b.x1) return c->w_ein[k];
  cl_box r = cl_spatial_input_box(c->p->g, c->first + i, j, b);
  c->w_eout[k] = b;
  c->w_ein[k] = r;
  return r;
}

static int64_t box_bytes(const cl_node *n, cl_box b) {
  return (int64_t)n->out.n * n->out.c * cl_box_area(b) * (int64_t)sizeof(float);
}

static int scale_bound(int b, int h, int ref_h) {
  return (int)(((int64_t)b * h * 2 + ref_h) / (2 * (int64_t)ref_h)); /* as spatial_plan.c */
}

/* Account one transfer; list it when recording. */
static cl_status emit(cl__coedge_ctx *c, cl_xfer_kind kind, int node, int src, int dst, int task,
                      cl_box b, int64_t bytes) {
  cl__coedge_wlan_add(&c->w_wlan, (int)kind, src, dst, bytes);
  if (kind == CL_XFER_HALO) {
    c->w_halo_b[node - c->first] += bytes;
    c->w_halo_n[node - c->first]++;
  }
  if (!c->w_record) return CL_OK;
  CL_TRY(CL_VEC_RESERVE(c->w_xfer, c->w_cap_xfer, c->w_n_xfer + 1, 64));
  cl_spatial_xfer x = {kind, node, src, dst, task, b, bytes};
  c->w_xfer[c->w_n_xfer++] = x;
  return CL_OK;
}

cl_status cl__coedge_score_rows_detail(cl__coedge_ctx *c, const int *rows,
                                       cl_coedge_result *out) {
  c->w_record = 1;
  c->w_n_xfer = 0;
  cl_status st = cl__coedge_score_rows(c, rows, out);
  c->w_record = 0;
  return st;
}

cl_status cl__coedge_score_rows(cl__coedge_ctx *c, const int *rows, cl_coedge_result *out) {
  CL_TRY(score_alloc(c));
  memset(c->w_node_t, 0, sizeof *c->w_node_t * (size_t)c->nn);
  memset(c->w_halo_b, 0, sizeof *c->w_halo_b * (size_t)c->nn);
  memset(c->w_halo_n, 0, sizeof *c->w_halo_n * (size_t)c->nn);
  const cl_coedge_problem *p = c->p;
  const cl_graph *g = p->g;
  const cl_box empty = {0, 0, 0, 0};
  int T = p->n_dev, nn = c->nn, first = c->first, last = c->last, fused = p->mode == CL_SPATIAL_FUSED;
  cl_box *box = c->w_box, *need = c->w_need;
  c->evals++;
  for (int d = 0; d < T; d++)
    out->busy[d] = out->tx[d] = out->rx[d] = out->e_dev[d] = 0, out->participates[d] = 0;
  out->t_scatter = out->t_compute = out->t_comm = out->t_gather = out->t_tail = 0;
  out->ref_h = c->ref_h;
  /* slices: cl_spatial_plan_rows (each distinct height scaled once) */
  for (int h = 0; h < c->n_heights; h++) {
    int *yb = c->w_yb + (size_t)h * (T + 1), b0 = 0;
    int64_t H = c->w_heights[h];
    yb[0] = scale_bound(0, (int)H, c->ref_h);
    for (int t = 0; t < T; t++) {
      b0 += rows[t];
      yb[t + 1] = scale_bound(b0, (int)H, c->ref_h);
    }
  }
  for (size_t k = 0; k < (size_t)nn * T; k++) box[k] = empty;
  for (int i = 0; i < nn; i++) {
    if (fused && i != nn - 1) continue;
    const cl_node *nd = c->w_node[i];
    if (nd->op == CL_OP_INPUT && i != nn - 1) continue;
    const int *yb = c->w_yb + (size_t)c->w_hcls[i] * (T + 1);
    for (int t = 0; t < T; t++) {
      cl_box b = {yb[t], yb[t + 1], 0, nd->out.w};
      box[(size_t)i * T + t] = cl_box_empty(b) ? empty : b;
    }
  }
  /* needs, backwards: finish_plan */
  int n_ent = 0;
  if (fused) {
    for (size_t k = 0; k < (size_t)nn * T; k++) need[k] = empty;
    for (int t = 0; t < T; t++) need[(size_t)(nn - 1) * T + t] = box[(size_t)(nn - 1) * T + t];
  } else {
    memcpy(need, box, (size_t)nn * T * sizeof *need);
  }
  for (int id = last; id >= first; id--) {
    int i = id - first;
    const cl_node *nd = c->w_node[i];
    if (fused || nd->op == CL_OP_INPUT)
      for (int t = 0; t < T; t++) box[(size_t)i * T + t] = need[(size_t)i * T + t];
    if (nd->op == CL_OP_INPUT) continue;
    for (int j = 0; j < nd->n_inputs; j++) {
      int src = nd->inputs[j];
      if (!fused && c->w_eid[c->w_edge[i] + j]) continue;
      cl_box *dn;
      if (src >= first) {
        dn = need + (size_t)(src - first) * T;
      } else {
        if (c->w_ent_idx[src] < 0) {
          c->w_ent_idx[src] = n_ent;
          c->w_ent_node[n_ent] = src;
          for (int t = 0; t < T; t++) c->w_ent_need[(size_t)n_ent * T + t] = empty;
          n_ent++;
        }
        dn = c->w_ent_need + (size_t)c->w_ent_idx[src] * T;
      }
      for (int t = 0; t < T; t++)
        dn[t] = box_hull(dn[t], input_box_cached(c, i, j, t, box[(size_t)i * T + t]));
    }
  }
  /* compute: cl__coedge_eval */
  double *stage = c->w_stage;
  for (int i = 0; i < nn; i++) {
    int id = first + i;
    const cl_node *n = c->w_node[i];
    if (n->op == CL_OP_INPUT) continue;
    double mx = node_stage(c, n, id, box + (size_t)i * T, T, NULL, T, stage, out);
    if (!fused) out->t_compute += mx;
    c->w_node_t[i] = mx;
  }
  if (fused)
    for (int d = 0; d < T; d++)
      if (out->busy[d] > out->t_compute) out->t_compute = out->busy[d];
  /* transfers: scatter (run entries, then external), halo, gather */
  cl__coedge_wlan_reset(&c->w_wlan, T);
  if (!c->w_wlan.txb) return CL_ERR_NOMEM;
  for (int i = 0; i < nn; i++) {
    if (c->w_node[i]->op != CL_OP_INPUT) continue;
    for (int t = 0; t < T; t++) {
      cl_box b = box[(size_t)i * T + t];
      if (cl_box_empty(b) || t == p->source) continue;
      CL_TRY(emit(c, CL_XFER_SCATTER, first + i, p->source, t, t, b,
                  cl__coedge_wire_bytes(p, c->w_node[i], box_bytes(c->w_node[i], b))));
    }
  }
  for (int e = 0; e < n_ent; e++) {
    int id = c->w_ent_node[e];
    c->w_ent_idx[id] = -1; /* reset for the next call */
    for (int t = 0; t < T; t++) {
      cl_box b = c->w_ent_need[(size_t)e * T + t];
      if (cl_box_empty(b) || t == p->source) continue;
      CL_TRY(emit(c, CL_XFER_SCATTER, id, p->source, t, t, b,
                  cl__coedge_wire_bytes(p, cl_graph_node(g, id), cl_spatial_box_bytes(g, id, b))));
    }
  }
  if (!fused) {
    for (int i = 0; i < nn; i++) {
      const cl_node *n = c->w_node[i];
      if (n->op == CL_OP_INPUT) continue;
      for (int t = 0; t < T; t++) {
        cl_box nb = need[(size_t)i * T + t];
        if (cl_box_empty(nb)) continue;
        /* own slices are sorted by task and disjoint: stop past the need */
        for (int u = 0; u < T; u++) {
          cl_box ob = box[(size_t)i * T + u];
          if (cl_box_empty(ob) || ob.y1 <= nb.y0) continue;
          if (ob.y0 >= nb.y1) break;
          if (u == t) continue;
          cl_box h = box_meet(nb, ob);
          if (cl_box_empty(h)) continue;
          CL_TRY(emit(c, CL_XFER_HALO, first + i, u, t, t, h, box_bytes(n, h)));
        }
      }
    }
  }
  const cl_box *lb = box + (size_t)(nn - 1) * T;
  int sink = p->source;
  for (int d = 0; d < T; d++) c->w_share[d] = cl_box_area(lb[d]);
  for (int d = 0; d < T; d++)
    if (c->w_share[d] > c->w_share[sink]) sink = d;
  for (int t = 0; t < T; t++) {
    if (cl_box_empty(lb[t]) || t == sink) continue;
    CL_TRY(emit(c, CL_XFER_GATHER, last, t, sink, t, lb[t], box_bytes(c->w_node[nn - 1], lb[t])));
  }
  /* totals: cl__coedge_eval */
  c->w_sink = sink;
  cl__coedge_wlan_times(&c->w_wlan, p, out);
  out->t_overlap = fused ? 0 : overlap_hidden(p, nn, c->w_node_t, c->w_halo_b, c->w_halo_n);
  totals(c, p->source, sink, out);
  memcpy(out->rows, rows, (size_t)T * sizeof *rows);
  return CL_OK;
}
