/* Discrete-event simulation of a task DAG over nodes and netmodel links.
 * Data layout: tasks in parallel arrays, deps in one CSR array; the run builds
 * successor / per-inference CSRs and per-node ready heaps that share one array,
 * so a run does a fixed number of allocations whatever the task count.
 * Semantics and energy formulas: docs/timing-model.md. */
#include "cleave/timeline.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "timeline_internal.h"

static const char *const cl__arrival_names[CL_ARRIVAL_COUNT] = {"explicit", "back_to_back",
                                                                 "fixed_rate", "poisson"};

const char *cl_arrival_kind_name(cl_arrival_kind k) {
  if ((int)k < 0 || k >= CL_ARRIVAL_COUNT) return "?";
  return cl__arrival_names[k];
}

cl_status cl_arrival_kind_parse(const char *name, cl_arrival_kind *out) {
  for (int i = 0; name && i < CL_ARRIVAL_COUNT; i++) {
    if (strcmp(name, cl__arrival_names[i]) == 0) {
      *out = (cl_arrival_kind)i;
      return CL_OK;
    }
  }
  cl_log_error("timeline: unknown arrival process '%s' (expected explicit, back_to_back, "
               "fixed_rate or poisson)",
               name ? name : "(null)");
  return CL_ERR_INVALID;
}

cl_status cl_timeline_create(cl_netmodel *net, int n_nodes, cl_timeline **out) {
  *out = NULL;
  if (n_nodes <= 0) {
    cl_log_error("timeline: n_nodes = %d, expected >= 1", n_nodes);
    return CL_ERR_INVALID;
  }
  cl_timeline *tl = calloc(1, sizeof *tl);
  if (!tl) goto nomem;
  tl->net = net;
  tl->n_nodes = n_nodes;
  tl->slots = malloc((size_t)n_nodes * sizeof *tl->slots);
  tl->power = calloc((size_t)n_nodes, sizeof *tl->power);
  tl->node_res = calloc((size_t)n_nodes, sizeof *tl->node_res);
  tl->pred_off = malloc(sizeof *tl->pred_off);
  if (!tl->slots || !tl->power || !tl->node_res || !tl->pred_off) goto nomem;
  for (int i = 0; i < n_nodes; i++) tl->slots[i] = 1;
  tl->pred_off[0] = 0;
  tl->arrival.kind = CL_ARRIVAL_EXPLICIT;
  *out = tl;
  return CL_OK;
nomem:
  cl_log_error("timeline: out of memory creating a timeline of %d nodes", n_nodes);
  cl_timeline_destroy(tl);
  return CL_ERR_NOMEM;
}

void cl_timeline_destroy(cl_timeline *tl) {
  if (!tl) return;
  free(tl->slots);
  free(tl->power);
  free(tl->release);
  free(tl->kind);
  free(tl->inf);
  free(tl->where);
  free(tl->dur);
  free(tl->bytes);
  free(tl->pred_off);
  free(tl->preds);
  free(tl->r_ready);
  free(tl->r_start);
  free(tl->r_end);
  free(tl->r_tx);
  free(tl->r_lat);
  free(tl->r_energy);
  free(tl->r_erx);
  free(tl->inf_res);
  free(tl->node_res);
  free(tl);
}

static int cl__node_ok(const cl_timeline *tl, int node, const char *what) {
  if (node >= 0 && node < tl->n_nodes) return 1;
  cl_log_error("timeline: %s: node %d out of range (have %d nodes)", what, node, tl->n_nodes);
  return 0;
}

cl_status cl_timeline_set_slots(cl_timeline *tl, int node, int slots) {
  if (!cl__node_ok(tl, node, "set_slots")) return CL_ERR_INVALID;
  if (slots < 1) {
    cl_log_error("timeline: node %d: field 'slots': %d, expected >= 1", node, slots);
    return CL_ERR_INVALID;
  }
  tl->slots[node] = slots;
  tl->ran = 0;
  return CL_OK;
}

cl_status cl_timeline_set_power(cl_timeline *tl, int node, const cl_node_power *p) {
  if (!cl__node_ok(tl, node, "set_power")) return CL_ERR_INVALID;
  const double v[6] = {p->idle, p->busy, p->tx, p->rx, p->tx_per_byte, p->rx_per_byte};
  static const char *const names[6] = {"idle", "busy", "tx", "rx", "tx_per_byte", "rx_per_byte"};
  for (int i = 0; i < 6; i++) {
    if (!(v[i] >= 0) || !isfinite(v[i])) {
      cl_log_error("timeline: node %d: field 'power.%s': %g, expected finite >= 0", node, names[i],
                   v[i]);
      return CL_ERR_INVALID;
    }
  }
  tl->power[node] = *p;
  tl->ran = 0;
  return CL_OK;
}

cl_status cl_timeline_set_arrival(cl_timeline *tl, const cl_arrival *a) {
  if ((int)a->kind < 0 || a->kind >= CL_ARRIVAL_COUNT) {
    cl_log_error("timeline: field 'arrival.kind': invalid value %d", (int)a->kind);
    return CL_ERR_INVALID;
  }
  if (!(a->t0 >= 0) || !isfinite(a->t0)) {
    cl_log_error("timeline: field 'arrival.t0': %g s, expected finite >= 0", a->t0);
    return CL_ERR_INVALID;
  }
  if ((a->kind == CL_ARRIVAL_FIXED_RATE || a->kind == CL_ARRIVAL_POISSON) &&
      (!(a->rate > 0) || !isfinite(a->rate))) {
    cl_log_error("timeline: arrival '%s': field 'rate': %g 1/s, expected finite > 0",
                 cl_arrival_kind_name(a->kind), a->rate);
    return CL_ERR_INVALID;
  }
  if (a->in_flight < 0) {
    cl_log_error("timeline: arrival '%s': field 'in_flight': %d, expected >= 1 (0 = 1)",
                 cl_arrival_kind_name(a->kind), a->in_flight);
    return CL_ERR_INVALID;
  }
  tl->arrival = *a;
  tl->ran = 0;
  return CL_OK;
}

static cl_status cl__ensure_inferences(cl_timeline *tl, int inference) {
  if (inference < tl->n_inf) return CL_OK;
  if (inference >= tl->cap_inf) {
    int nc = tl->cap_inf ? tl->cap_inf : 16;
    while (nc <= inference) nc *= 2;
    double *r = realloc(tl->release, (size_t)nc * sizeof *r);
    if (!r) {
      cl_log_error("timeline: out of memory for %d inferences", nc);
      return CL_ERR_NOMEM;
    }
    tl->release = r;
    tl->cap_inf = nc;
  }
  for (int i = tl->n_inf; i <= inference; i++) tl->release[i] = 0.0;
  tl->n_inf = inference + 1;
  return CL_OK;
}

cl_status cl_timeline_set_release(cl_timeline *tl, int inference, double t) {
  if (inference < 0) {
    cl_log_error("timeline: set_release: inference %d, expected >= 0", inference);
    return CL_ERR_INVALID;
  }
  if (!(t >= 0) || !isfinite(t)) {
    cl_log_error("timeline: inference %d: release %g s, expected finite >= 0", inference, t);
    return CL_ERR_INVALID;
  }
  CL_TRY(cl__ensure_inferences(tl, inference));
  tl->release[inference] = t;
  tl->ran = 0;
  return CL_OK;
}

#define CL__GROW(ptr, cap)                                             \
  do {                                                                 \
    void *cl__p = realloc((ptr), (size_t)(cap) * sizeof *(ptr));       \
    if (!cl__p) return CL_ERR_NOMEM;                                   \
    (ptr) = cl__p;                                                     \
  } while (0)

static cl_status cl__grow_tasks(cl_timeline *tl, int cap) {
  CL__GROW(tl->kind, cap);
  CL__GROW(tl->inf, cap);
  CL__GROW(tl->where, cap);
  CL__GROW(tl->dur, cap);
  CL__GROW(tl->bytes, cap);
  CL__GROW(tl->pred_off, (size_t)cap + 1);
  tl->cap = cap;
  return CL_OK;
}

static cl_status cl__grow_preds(cl_timeline *tl, int64_t cap) {
  CL__GROW(tl->preds, cap);
  tl->cap_preds = cap;
  return CL_OK;
}

cl_status cl_timeline_reserve(cl_timeline *tl, int tasks, int64_t deps) {
  if (tasks < 0 || deps < 0) return CL_ERR_INVALID;
  if (tasks > tl->cap && cl__grow_tasks(tl, tasks) != CL_OK) goto nomem;
  if (deps > tl->cap_preds && cl__grow_preds(tl, deps) != CL_OK) goto nomem;
  return CL_OK;
nomem:
  cl_log_error("timeline: out of memory reserving %d tasks / %lld deps", tasks, (long long)deps);
  return CL_ERR_NOMEM;
}

static cl_status cl__add_task(cl_timeline *tl, int kind, int inference, int where, double dur,
                              uint64_t bytes, const int *deps, int ndeps, int *id_out) {
  if (inference < 0) {
    cl_log_error("timeline: task %d: inference %d, expected >= 0", tl->n, inference);
    return CL_ERR_INVALID;
  }
  if (ndeps < 0 || (ndeps > 0 && !deps)) {
    cl_log_error("timeline: task %d: %d deps with a NULL array", tl->n, ndeps);
    return CL_ERR_INVALID;
  }
  for (int i = 0; i < ndeps; i++) {
    if (deps[i] < 0 || deps[i] >= tl->n) {
      cl_log_error("timeline: task %d: dep[%d] = %d is not an earlier task (0..%d)", tl->n, i,
                   deps[i], tl->n - 1);
      return CL_ERR_INVALID;
    }
  }
  if (tl->n == INT32_MAX) {
    cl_log_error("timeline: too many tasks");
    return CL_ERR_INVALID;
  }
  CL_TRY(cl__ensure_inferences(tl, inference));
  if (tl->n == tl->cap && cl__grow_tasks(tl, tl->cap ? 2 * tl->cap : 1024) != CL_OK) goto nomem;
  int64_t np = tl->pred_off[tl->n];
  if (np + ndeps > tl->cap_preds) {
    int64_t nc = tl->cap_preds ? 2 * tl->cap_preds : 1024;
    while (nc < np + ndeps) nc *= 2;
    if (cl__grow_preds(tl, nc) != CL_OK) goto nomem;
  }
  int id = tl->n;
  tl->kind[id] = (uint8_t)kind;
  tl->inf[id] = inference;
  tl->where[id] = where;
  tl->dur[id] = dur;
  tl->bytes[id] = bytes;
  for (int i = 0; i < ndeps; i++) tl->preds[np + i] = deps[i];
  tl->pred_off[id + 1] = np + ndeps;
  tl->n++;
  if (kind == CL_TASK_TRANSFER) tl->n_xfer++;
  tl->ran = 0;
  if (id_out) *id_out = id;
  return CL_OK;
nomem:
  cl_log_error("timeline: out of memory adding task %d", tl->n);
  return CL_ERR_NOMEM;
}

cl_status cl_timeline_add_compute(cl_timeline *tl, int inference, int node, double duration,
                                  const int *deps, int ndeps, int *id_out) {
  if (!cl__node_ok(tl, node, "add_compute")) return CL_ERR_INVALID;
  if (!(duration >= 0) || !isfinite(duration)) {
    cl_log_error("timeline: compute task %d (inference %d, node %d): duration %g s, expected "
                 "finite >= 0",
                 tl->n, inference, node, duration);
    return CL_ERR_INVALID;
  }
  return cl__add_task(tl, CL_TASK_COMPUTE, inference, node, duration, 0, deps, ndeps, id_out);
}

cl_status cl_timeline_add_transfer(cl_timeline *tl, int inference, int link, uint64_t bytes,
                                   const int *deps, int ndeps, int *id_out) {
  if (!tl->net) {
    cl_log_error("timeline: transfer task %d: the timeline was created without a netmodel", tl->n);
    return CL_ERR_INVALID;
  }
  int src, dst;
  if (cl_netmodel_link_ends(tl->net, link, &src, &dst) != CL_OK) return CL_ERR_INVALID;
  if (src >= tl->n_nodes || dst >= tl->n_nodes) {
    cl_log_error("timeline: transfer task %d: link %d (%s) joins nodes %d and %d, but the timeline "
                 "has %d nodes",
                 tl->n, link, cl_netmodel_link_name(tl->net, link), src, dst, tl->n_nodes);
    return CL_ERR_INVALID;
  }
  return cl__add_task(tl, CL_TASK_TRANSFER, inference, link, 0.0, bytes, deps, ndeps, id_out);
}

cl_status cl_timeline_set_duration(cl_timeline *tl, int task, double duration) {
  if (task < 0 || task >= tl->n || tl->kind[task] != CL_TASK_COMPUTE) {
    cl_log_error("timeline: set_duration: %d is not a compute task id (have %d tasks)", task, tl->n);
    return CL_ERR_INVALID;
  }
  if (!(duration >= 0) || !isfinite(duration)) {
    cl_log_error("timeline: task %d: duration %g s, expected finite >= 0", task, duration);
    return CL_ERR_INVALID;
  }
  tl->dur[task] = duration;
  tl->ran = 0;
  return CL_OK;
}

int cl_timeline_tasks(const cl_timeline *tl) { return tl->n; }
int cl_timeline_inferences(const cl_timeline *tl) { return tl->n_inf; }
int cl_timeline_nodes(const cl_timeline *tl) { return tl->n_nodes; }

/* ---- binary min-heap of (t, a, b), lexicographic ---- */

typedef struct cl__hent {
  double t;
  int32_t a, b;
} cl__hent;

static inline int cl__hless(const cl__hent *x, const cl__hent *y) {
  if (x->t != y->t) return x->t < y->t;
  if (x->a != y->a) return x->a < y->a;
  return x->b < y->b;
}

static inline void cl__hpush(cl__hent *h, int *n, cl__hent e) {
  int i = (*n)++;
  while (i > 0) {
    int p = (i - 1) >> 1;
    if (!cl__hless(&e, &h[p])) break;
    h[i] = h[p];
    i = p;
  }
  h[i] = e;
}

static inline cl__hent cl__hpop(cl__hent *h, int *n) {
  cl__hent top = h[0];
  cl__hent last = h[--(*n)];
  int m = *n, i = 0;
  for (;;) {
    int c = 2 * i + 1;
    if (c >= m) break;
    if (c + 1 < m && cl__hless(&h[c + 1], &h[c])) c++;
    if (!cl__hless(&h[c], &last)) break;
    h[i] = h[c];
    i = c;
  }
  if (m > 0) h[i] = last;
  return top;
}

/* ---- the simulation ---- */

enum { CL__EV_COMPLETE = 0, CL__EV_RELEASE = 1 };

typedef struct cl__run {
  int64_t *succ_off;
  int32_t *succ;
  int32_t *rem;      /* unfinished deps per task */
  int32_t *inf_off;  /* tasks of each inference (CSR) */
  int32_t *inf_list;
  int32_t *inf_rem;  /* unfinished tasks per inference */
  uint8_t *released;
  cl__hent *ev;      /* events */
  int n_ev;
  cl__hent *xq;      /* transfers ready at the current time */
  int n_xq;
  cl__hent *nq;      /* per-node ready heaps, node k at nq + nq_off[k] */
  int32_t *nq_off, *nq_n, *running;
  int32_t *dirty;    /* nodes whose queue or slots changed this round */
  uint8_t *is_dirty;
  int n_dirty;
  int next_release;  /* closed loop: next inference to release */
} cl__run;

static void cl__run_free(cl__run *r) {
  free(r->succ_off);
  free(r->succ);
  free(r->rem);
  free(r->inf_off);
  free(r->inf_list);
  free(r->inf_rem);
  free(r->released);
  free(r->ev);
  free(r->xq);
  free(r->nq);
  free(r->nq_off);
  free(r->nq_n);
  free(r->running);
  free(r->dirty);
  free(r->is_dirty);
}

static void cl__make_ready(cl_timeline *tl, cl__run *r, int j, double t) {
  tl->r_ready[j] = t;
  cl__hent e = {t, tl->inf[j], j};
  if (tl->kind[j] == CL_TASK_TRANSFER) {
    cl__hpush(r->xq, &r->n_xq, e);
  } else {
    int k = tl->where[j];
    cl__hpush(r->nq + r->nq_off[k], &r->nq_n[k], e);
    if (!r->is_dirty[k]) {
      r->is_dirty[k] = 1;
      r->dirty[r->n_dirty++] = k;
    }
  }
}

static void cl__finish_inference(cl_timeline *tl, cl__run *r, int i, double t) {
  tl->inf_res[i].finish = t;
  if (tl->arrival.kind == CL_ARRIVAL_BACK_TO_BACK && r->next_release < tl->n_inf) {
    cl__hent e = {t, CL__EV_RELEASE, r->next_release++};
    cl__hpush(r->ev, &r->n_ev, e);
  }
}

static void cl__release(cl_timeline *tl, cl__run *r, int i, double t) {
  r->released[i] = 1;
  tl->inf_res[i].release = t;
  for (int32_t p = r->inf_off[i]; p < r->inf_off[i + 1]; p++) {
    int j = r->inf_list[p];
    if (r->rem[j] == 0) cl__make_ready(tl, r, j, t);
  }
  if (r->inf_rem[i] == 0) cl__finish_inference(tl, r, i, t);
}

static void cl__complete(cl_timeline *tl, cl__run *r, int j, double t) {
  if (tl->kind[j] == CL_TASK_COMPUTE) {
    int k = tl->where[j];
    r->running[k]--;
    if (!r->is_dirty[k]) {
      r->is_dirty[k] = 1;
      r->dirty[r->n_dirty++] = k;
    }
  }
  for (int64_t p = r->succ_off[j]; p < r->succ_off[j + 1]; p++) {
    int s = r->succ[p];
    if (--r->rem[s] == 0 && r->released[tl->inf[s]]) cl__make_ready(tl, r, s, t);
  }
  int i = tl->inf[j];
  if (--r->inf_rem[i] == 0 && r->released[i]) cl__finish_inference(tl, r, i, t);
}

typedef struct cl__flowctx {
  cl_timeline *tl;
  cl__run *r;
  cl_status st;
} cl__flowctx;

/* A max-min flow drained: record it and schedule its arrival. */
static void cl__flow_done(void *ctx, int j, const cl_xfer *x) {
  cl__flowctx *c = ctx;
  c->tl->r_start[j] = x->start;
  c->tl->r_end[j] = x->arrival;
  c->tl->r_tx[j] = x->tx_time;
  c->tl->r_lat[j] = x->latency;
  cl__hpush(c->r->ev, &c->r->n_ev, (cl__hent){x->arrival, CL__EV_COMPLETE, j});
}

static cl_status cl__alloc_results(cl_timeline *tl) {
  size_t n = (size_t)(tl->n ? tl->n : 1), ni = (size_t)(tl->n_inf ? tl->n_inf : 1);
  CL__GROW(tl->r_ready, n);
  CL__GROW(tl->r_start, n);
  CL__GROW(tl->r_end, n);
  CL__GROW(tl->r_tx, n);
  CL__GROW(tl->r_lat, n);
  CL__GROW(tl->r_energy, n);
  CL__GROW(tl->r_erx, n);
  CL__GROW(tl->inf_res, ni);
  return CL_OK;
}

static cl_status cl__simulate(cl_timeline *tl, cl__run *r) {
  const int n = tl->n, ni = tl->n_inf, nn = tl->n_nodes;
  const int64_t ne = tl->pred_off[n];
  size_t nz = (size_t)(n ? n : 1);
  r->succ_off = calloc((size_t)n + 1, sizeof *r->succ_off);
  r->succ = malloc((size_t)(ne ? ne : 1) * sizeof *r->succ);
  r->rem = malloc(nz * sizeof *r->rem);
  r->inf_off = calloc((size_t)ni + 1, sizeof *r->inf_off);
  r->inf_list = malloc(nz * sizeof *r->inf_list);
  r->inf_rem = calloc((size_t)(ni ? ni : 1), sizeof *r->inf_rem);
  r->released = calloc((size_t)(ni ? ni : 1), 1);
  r->ev = malloc(((size_t)n + (size_t)ni + 1) * sizeof *r->ev);
  r->xq = malloc((size_t)(tl->n_xfer ? tl->n_xfer : 1) * sizeof *r->xq);
  r->nq = malloc(nz * sizeof *r->nq);
  r->nq_off = calloc((size_t)nn + 1, sizeof *r->nq_off);
  r->nq_n = calloc((size_t)nn, sizeof *r->nq_n);
  r->running = calloc((size_t)nn, sizeof *r->running);
  r->dirty = malloc((size_t)nn * sizeof *r->dirty);
  r->is_dirty = calloc((size_t)nn, 1);
  if (!r->succ_off || !r->succ || !r->rem || !r->inf_off || !r->inf_list || !r->inf_rem ||
      !r->released || !r->ev || !r->xq || !r->nq || !r->nq_off || !r->nq_n || !r->running ||
      !r->dirty || !r->is_dirty) {
    cl_log_error("timeline: out of memory simulating %d tasks", n);
    return CL_ERR_NOMEM;
  }
  /* Successor CSR, dep counters, per-inference CSR, per-node heap slices (counting sorts). */
  for (int j = 0; j < n; j++) {
    r->rem[j] = (int32_t)(tl->pred_off[j + 1] - tl->pred_off[j]);
    for (int64_t p = tl->pred_off[j]; p < tl->pred_off[j + 1]; p++) r->succ_off[tl->preds[p] + 1]++;
    r->inf_off[tl->inf[j] + 1]++;
    r->inf_rem[tl->inf[j]]++;
    if (tl->kind[j] == CL_TASK_COMPUTE) r->nq_off[tl->where[j] + 1]++;
  }
  for (int j = 0; j < n; j++) r->succ_off[j + 1] += r->succ_off[j];
  for (int i = 0; i < ni; i++) r->inf_off[i + 1] += r->inf_off[i];
  for (int k = 0; k < nn; k++) r->nq_off[k + 1] += r->nq_off[k];
  {
    int64_t *fill = r->succ_off; /* fill then shift back */
    for (int j = 0; j < n; j++)
      for (int64_t p = tl->pred_off[j]; p < tl->pred_off[j + 1]; p++) r->succ[fill[tl->preds[p]]++] = j;
    for (int j = n; j > 0; j--) fill[j] = fill[j - 1];
    fill[0] = 0;
    int32_t *ifill = r->inf_off;
    for (int j = 0; j < n; j++) r->inf_list[ifill[tl->inf[j]]++] = j;
    for (int i = ni; i > 0; i--) ifill[i] = ifill[i - 1];
    ifill[0] = 0;
  }

  /* Releases. */
  const cl_arrival *a = &tl->arrival;
  switch (a->kind) {
    case CL_ARRIVAL_EXPLICIT:
      for (int i = 0; i < ni; i++) cl__hpush(r->ev, &r->n_ev, (cl__hent){tl->release[i], CL__EV_RELEASE, i});
      break;
    case CL_ARRIVAL_FIXED_RATE:
      for (int i = 0; i < ni; i++)
        cl__hpush(r->ev, &r->n_ev, (cl__hent){a->t0 + (double)i / a->rate, CL__EV_RELEASE, i});
      break;
    case CL_ARRIVAL_POISSON: {
      gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
      if (!rng) {
        cl_log_error("timeline: out of memory for the Poisson arrival stream");
        return CL_ERR_NOMEM;
      }
      gsl_rng_set(rng, cl__seed32(a->seed));
      double t = a->t0;
      for (int i = 0; i < ni; i++) {
        if (i > 0) t += gsl_ran_exponential(rng, 1.0 / a->rate);
        cl__hpush(r->ev, &r->n_ev, (cl__hent){t, CL__EV_RELEASE, i});
      }
      gsl_rng_free(rng);
      break;
    }
    case CL_ARRIVAL_BACK_TO_BACK: {
      int k = a->in_flight > 0 ? a->in_flight : 1;
      for (r->next_release = 0; r->next_release < ni && r->next_release < k; r->next_release++)
        cl__hpush(r->ev, &r->n_ev, (cl__hent){a->t0, CL__EV_RELEASE, r->next_release});
      break;
    }
    default: CL_ASSERT(0);
  }

  int done = 0;
  cl__flowctx fc = {tl, r, CL_OK};
  while (r->n_ev > 0 || (tl->net && cl_netmodel_flows_active(tl->net) > 0)) {
    const double te = r->n_ev > 0 ? r->ev[0].t : INFINITY;
    /* Max-min flows drain at times that depend on the other flows: ask the netmodel. */
    const double tf = tl->net && cl_netmodel_flows_active(tl->net) > 0 ? cl_netmodel_flow_next(tl->net) : INFINITY;
    const double t = tf < te ? tf : te;
    if (!isfinite(t)) {
      cl_log_error("timeline: %d flows never finish (next flow event at %g s): virtual time overflows",
                   cl_netmodel_flows_active(tl->net), tf);
      return CL_ERR_INVALID;
    }
    if (tf <= t) {
      CL_TRY(cl_netmodel_flow_advance(tl->net, t, cl__flow_done, &fc));
      if (fc.st != CL_OK) return fc.st;
    }
    /* All events at time t first, so that dispatch order depends only on the keys. */
    while (r->n_ev > 0 && r->ev[0].t == t) {
      cl__hent e = cl__hpop(r->ev, &r->n_ev);
      if (e.a == CL__EV_COMPLETE) {
        cl__complete(tl, r, e.b, t);
        done++;
      } else {
        cl__release(tl, r, e.b, t);
      }
    }
    while (r->n_xq > 0) {
      cl__hent e = cl__hpop(r->xq, &r->n_xq);
      int j = e.b;
      cl_xfer x;
      if (cl_netmodel_is_fluid(tl->net, tl->where[j])) {
        tl->r_start[j] = e.t; /* completes through cl__flow_done */
        CL_TRY(cl_netmodel_flow_start(tl->net, tl->where[j], e.t, tl->bytes[j], j));
        continue;
      }
      cl_status s = cl_netmodel_send(tl->net, tl->where[j], e.t, tl->bytes[j], &x);
      if (s != CL_OK) { /* the link was valid at add time: a time overflow (logged) */
        cl_log_error("timeline: transfer task %d (inference %d) on link '%s' failed (see above)", j,
                     tl->inf[j], cl_netmodel_link_name(tl->net, tl->where[j]));
        return s;
      }
      tl->r_start[j] = x.start;
      tl->r_end[j] = x.arrival;
      tl->r_tx[j] = x.tx_time;
      tl->r_lat[j] = x.latency;
      cl__hpush(r->ev, &r->n_ev, (cl__hent){x.arrival, CL__EV_COMPLETE, j});
    }
    for (int d = 0; d < r->n_dirty; d++) {
      int k = r->dirty[d];
      r->is_dirty[k] = 0;
      cl__hent *q = r->nq + r->nq_off[k];
      while (r->running[k] < tl->slots[k] && r->nq_n[k] > 0) {
        cl__hent e = cl__hpop(q, &r->nq_n[k]);
        int j = e.b;
        tl->r_start[j] = t;
        tl->r_end[j] = t + tl->dur[j];
        if (!isfinite(tl->r_end[j])) {
          cl_log_error("timeline: compute task %d (inference %d) on node %d: start %g s + duration %g s "
                       "is not a finite virtual time",
                       j, tl->inf[j], k, t, tl->dur[j]);
          return CL_ERR_INVALID;
        }
        tl->r_tx[j] = 0.0;
        tl->r_lat[j] = 0.0;
        r->running[k]++;
        cl__hpush(r->ev, &r->n_ev, (cl__hent){tl->r_end[j], CL__EV_COMPLETE, j});
      }
    }
    r->n_dirty = 0;
  }
  if (done < n) {
    /* Deps always point to earlier tasks, so only a release that waits on the inference's
     * own dependants can stall: a closed loop whose earlier inference needs a later one. */
    int j = 0;
    while (j < n && (r->rem[j] > 0 || r->released[tl->inf[j]])) j++;
    cl_log_error("timeline: deadlock: %d of %d tasks never ran; e.g. task %d of inference %d was "
                 "never released (arrival '%s': an earlier inference depends on a later one?)",
                 n - done, n, j < n ? j : -1, j < n ? tl->inf[j] : -1,
                 cl_arrival_kind_name(tl->arrival.kind));
    return CL_ERR_INFEASIBLE;
  }
  double mk = 0.0;
  for (int j = 0; j < n; j++)
    if (tl->r_end[j] > mk) mk = tl->r_end[j];
  tl->makespan = mk;
  return CL_OK;
}

cl_status cl_timeline_run(cl_timeline *tl) {
  tl->ran = 0;
  if (tl->net) cl_netmodel_reset(tl->net);
  if (cl__alloc_results(tl) != CL_OK) {
    cl_log_error("timeline: out of memory for the results of %d tasks", tl->n);
    return CL_ERR_NOMEM;
  }
  for (int i = 0; i < tl->n_inf; i++) memset(&tl->inf_res[i], 0, sizeof tl->inf_res[i]);
  cl__run r;
  memset(&r, 0, sizeof r);
  cl_status s = cl__simulate(tl, &r);
  cl__run_free(&r);
  if (s != CL_OK) return s;
  s = cl__energy(tl);
  if (s != CL_OK) return s;
  tl->ran = 1;
  return CL_OK;
}

static int cl__ran(const cl_timeline *tl) {
  if (tl->ran) return 1;
  cl_log_error("timeline: results requested before a successful cl_timeline_run (or after a change)");
  return 0;
}

double cl_timeline_makespan(const cl_timeline *tl) { return tl->ran ? tl->makespan : 0.0; }
double cl_timeline_energy(const cl_timeline *tl) { return tl->ran ? tl->energy_total : 0.0; }

cl_status cl_timeline_task(const cl_timeline *tl, int j, cl_task_result *out) {
  if (!cl__ran(tl)) return CL_ERR_INVALID;
  if (j < 0 || j >= tl->n) {
    cl_log_error("timeline: task id %d out of range (have %d)", j, tl->n);
    return CL_ERR_INVALID;
  }
  out->kind = (cl_task_kind)tl->kind[j];
  out->inference = tl->inf[j];
  out->where = tl->where[j];
  out->ready = tl->r_ready[j];
  out->start = tl->r_start[j];
  out->end = tl->r_end[j];
  out->duration = tl->kind[j] == CL_TASK_COMPUTE ? tl->dur[j] : tl->r_tx[j];
  out->latency = tl->r_lat[j];
  out->bytes = tl->bytes[j];
  out->energy = tl->r_energy[j];
  out->energy_rx = tl->r_erx[j];
  return CL_OK;
}

cl_status cl_timeline_inference(const cl_timeline *tl, int i, cl_inference_result *out) {
  if (!cl__ran(tl)) return CL_ERR_INVALID;
  if (i < 0 || i >= tl->n_inf) {
    cl_log_error("timeline: inference id %d out of range (have %d)", i, tl->n_inf);
    return CL_ERR_INVALID;
  }
  *out = tl->inf_res[i];
  return CL_OK;
}

cl_status cl_timeline_node(const cl_timeline *tl, int k, cl_node_result *out) {
  if (!cl__ran(tl)) return CL_ERR_INVALID;
  if (!cl__node_ok(tl, k, "node result")) return CL_ERR_INVALID;
  *out = tl->node_res[k];
  return CL_OK;
}
