/* CoEdge system model: per-device linear latency, shared WLAN, barrier-synchronous
 * phases, energy = compute + radio + idle. One evaluation function for every planner. */
#include <gsl/gsl_fit.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "coedge_internal.h"

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
  free(r->rows);
  free(r->busy);
  free(r->tx);
  free(r->rx);
  free(r->e_dev);
  free(r->participates);
  cl_spatial_plan_destroy(r->plan);
  memset(r, 0, sizeof *r);
}

cl_status cl__coedge_result_alloc(cl_coedge_result *r, int n_dev) {
  memset(r, 0, sizeof *r);
  r->n_dev = n_dev;
  r->rows = calloc((size_t)n_dev, sizeof *r->rows);
  r->busy = calloc((size_t)n_dev, sizeof *r->busy);
  r->tx = calloc((size_t)n_dev, sizeof *r->tx);
  r->rx = calloc((size_t)n_dev, sizeof *r->rx);
  r->e_dev = calloc((size_t)n_dev, sizeof *r->e_dev);
  r->participates = calloc((size_t)n_dev, sizeof *r->participates);
  if (!r->rows || !r->busy || !r->tx || !r->rx || !r->e_dev || !r->participates) {
    cl_coedge_result_fini(r);
    return CL_ERR_NOMEM;
  }
  return CL_OK;
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
  free(c->A);
  free(c->B);
  free(c->tail);
  free(c->full);
  free(c->avail);
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
  c->A = calloc(nn, sizeof *c->A);
  c->B = calloc(nn, sizeof *c->B);
  c->tail = calloc((size_t)p->n_dev, sizeof *c->tail);
  c->full = calloc((size_t)p->n_dev, sizeof *c->full);
  c->avail = calloc((size_t)p->n_dev, sizeof *c->avail);
  if (!c->A || !c->B || !c->tail || !c->full || !c->avail) {
    cl__coedge_ctx_fini(c);
    return CL_ERR_NOMEM;
  }
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
  double *stage = calloc((size_t)nd, sizeof *stage);
  if (!stage) return CL_ERR_NOMEM;
  /* compute */
  for (int i = 0; i < plan->n_nodes; i++) {
    int id = plan->first + i;
    const cl_node *n = cl_graph_node(p->g, id);
    if (n->op == CL_OP_INPUT) continue;
    for (int d = 0; d < nd; d++) stage[d] = 0;
    for (int t = 0; t < T; t++) {
      cl_box b = plan->box[(size_t)i * T + t];
      if (cl_box_empty(b)) continue;
      int d = plan->task_dev[t];
      double rows = (double)cl_box_area(b) / (n->out.w > 0 ? n->out.w : 1);
      stage[d] += c->A[(size_t)d * c->n_graph + id] + c->B[(size_t)d * c->n_graph + id] * rows;
      out->participates[d] = 1;
    }
    double mx = 0;
    for (int d = 0; d < nd; d++) {
      out->busy[d] += stage[d];
      if (stage[d] > mx) mx = stage[d];
    }
    if (plan->mode == CL_SPATIAL_LAYER) out->t_compute += mx;
  }
  if (plan->mode == CL_SPATIAL_FUSED)
    for (int d = 0; d < nd; d++)
      if (out->busy[d] > out->t_compute) out->t_compute = out->busy[d];
  free(stage);
  /* transfers: serialised on the shared medium */
  for (int k = 0; k < plan->n_xfer; k++) {
    const cl_spatial_xfer *x = &plan->xfer[k];
    double dur = (double)x->bytes / p->bandwidth + p->msg_latency;
    if (x->kind == CL_XFER_SCATTER) out->t_scatter += dur;
    else if (x->kind == CL_XFER_HALO) out->t_comm += dur;
    else out->t_gather += dur;
    out->tx[x->src] += dur;
    out->rx[x->dst] += dur;
  }
  out->t_tail = c->tail[plan->sink];
  out->busy[plan->sink] += out->t_tail;
  out->participates[plan->source] = 1;
  out->participates[plan->sink] = 1;
  out->latency = out->t_scatter + out->t_compute + out->t_comm + out->t_gather + out->t_tail;
  out->energy = 0;
  for (int d = 0; d < nd; d++) {
    if (!out->participates[d]) continue;
    const cl_coedge_device *v = &p->dev[d];
    double idle = out->latency - out->busy[d] - out->tx[d] - out->rx[d];
    if (idle < 0) idle = 0; /* rounding only: phases never overlap on one device */
    out->e_dev[d] = v->p_comp * out->busy[d] + v->p_tx * out->tx[d] + v->p_rx * out->rx[d] +
                    v->p_idle * idle;
    out->energy += out->e_dev[d];
  }
  out->meets_deadline = !(p->deadline > 0) || out->latency <= p->deadline + 1e-9;
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
