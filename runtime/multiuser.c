/* Many request sources sharing a testbed, simulated on one timeline (multiuser.h).
 * Each distinct model is loaded and timed once; each user's plan is reduced to a chain
 * of stages (compute on a node, then the tensors that cross to the next node). */
#include "cleave/multiuser.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/onnx.h"
#include "cleave/profiler.h"
#include "cleave/runtime.h"
#include "timeline_internal.h"

typedef struct mu_model {
  const char *name; /* borrowed from the testbed */
  cl_graph *g;
  double *t;        /* [graph size] host s per graph node */
} mu_model;

typedef struct mu_user {
  int n_st;
  int *node;        /* [n_st] compute node of each stage */
  double *dur;      /* [n_st] s, slowdown applied */
  uint64_t *bytes;  /* [n_st - 1] crossing to the next stage */
  int *route;       /* [n_st - 1] netmodel link/route id */
  int inf0;         /* first global inference id */
} mu_user;

struct cl_mu {
  cl_netmodel *net;
  cl_timeline *tl;
  int n_users;
  mu_user *u;
  int n_models;
  mu_model *m;
  int *task0;       /* [inferences + 1] first task of each inference */
  double *wait;     /* [inferences] */
  int n_inf;
};

void cl_mu_destroy(cl_mu *mu) {
  if (!mu) return;
  cl_timeline_destroy(mu->tl);
  cl_netmodel_destroy(mu->net);
  for (int i = 0; i < mu->n_users; i++) {
    free(mu->u[i].node);
    free(mu->u[i].dur);
    free(mu->u[i].bytes);
    free(mu->u[i].route);
  }
  for (int i = 0; i < mu->n_models; i++) {
    cl_graph_destroy(mu->m[i].g);
    free(mu->m[i].t);
  }
  free(mu->u);
  free(mu->m);
  free(mu->task0);
  free(mu->wait);
  free(mu);
}

/* The model of a user, loaded and timed on first use. */
static cl_status mu_model_get(cl_mu *mu, const cl_testbed *tb, const cl_mu_opts *o, const char *name, mu_model **out) {
  for (int i = 0; i < mu->n_models; i++)
    if (!strcmp(mu->m[i].name, name)) {
      *out = &mu->m[i];
      return CL_OK;
    }
  mu_model *m = &mu->m[mu->n_models];
  memset(m, 0, sizeof *m);
  m->name = name;
  if (cl_model_load_structure(name, &m->g) != CL_OK) {
    cl_log_error("%s: cannot load model '%s' (see above)", tb->source, name);
    return CL_ERR_CONFIG;
  }
  mu->n_models++;
  if (!(m->t = calloc((size_t)cl_graph_size(m->g), sizeof *m->t))) return CL_ERR_NOMEM;
  const char *prof = o->profile ? o->profile : tb->profile;
  if (o->layer_time > 0)
    for (int y = 0; y < cl_graph_size(m->g); y++) m->t[y] = o->layer_time;
  else if (prof && !strcmp(name, tb->model))
    CL_TRY(cl_rt_node_times_from_profile(prof, m->g, m->t));
  else
    CL_TRY(cl_rt_node_times_measure(m->g, tb->seed, o->reps > 0 ? o->reps : 1, m->t));
  *out = m;
  return CL_OK;
}

/* A user's plan as a chain of stages: nodes in order of first use along the graph order;
 * a node used again after another one breaks the chain (an error). Graph inputs go with
 * the first stage. */
static cl_status mu_chain(cl_mu *mu, const cl_testbed *tb, const cl_tb_user *tu, const mu_model *m, const double *slow,
                          mu_user *u) {
  int n = cl_graph_size(m->g);
  int *nol = malloc(sizeof(int) * (size_t)n), *st = malloc(sizeof(int) * (size_t)n);
  int *maxc = malloc(sizeof(int) * (size_t)n);
  u->node = malloc(sizeof(int) * (size_t)(n + 1));
  u->dur = calloc((size_t)n + 1, sizeof(double));
  u->bytes = calloc((size_t)n + 1, sizeof(uint64_t));
  u->route = malloc(sizeof(int) * (size_t)(n + 1));
  cl_status s = CL_ERR_NOMEM;
  if (!nol || !st || !maxc || !u->node || !u->dur || !u->bytes || !u->route) goto done;
  cl_testbed view = *tb; /* shallow: resolve the user's plan with the testbed's resolver */
  view.plan = tu->plan;
  if ((s = cl_testbed_resolve_plan(&view, m->g, nol)) != CL_OK) goto done;
  u->n_st = 0;
  for (int y = 0; y < n; y++) {
    st[y] = -1;
    maxc[y] = -1;
    if (cl_graph_node(m->g, y)->n_inputs == 0) continue; /* an input: first stage */
    if (u->n_st == 0 || u->node[u->n_st - 1] != nol[y]) {
      for (int k = 0; k < u->n_st; k++)
        if (u->node[k] == nol[y]) {
          cl_log_error("%s:%d: user '%s': node '%s' runs layers before and after node '%s': a user's plan must be "
                       "a chain of nodes (each node's layers contiguous in graph order)",
                       tb->source, tu->line, tu->name, tb->nodes[nol[y]].name, tb->nodes[u->node[u->n_st - 1]].name);
          s = CL_ERR_CONFIG;
          goto done;
        }
      u->node[u->n_st++] = nol[y];
    }
    st[y] = u->n_st - 1;
  }
  for (int y = 0; y < n; y++) {
    if (st[y] < 0) st[y] = 0;
    u->dur[st[y]] += m->t[y] * slow[u->node[st[y]]];
    const cl_node *c = cl_graph_node(m->g, y);
    for (int q = 0; q < c->n_inputs; q++)
      if (st[y] > maxc[c->inputs[q]]) maxc[c->inputs[q]] = st[y]; /* inputs precede consumers */
  }
  for (int x = 0; x < n; x++) { /* a tensor crosses every boundary between producer and last consumer */
    uint64_t b = (uint64_t)cl_shape_numel(cl_graph_node(m->g, x)->out) * sizeof(float);
    for (int k = st[x]; k < maxc[x]; k++) u->bytes[k] += b;
  }
  for (int k = 0; k + 1 < u->n_st; k++) {
    s = cl_netmodel_route(mu->net, u->node[k], u->node[k + 1], &u->route[k]);
    if (s != CL_OK) {
      cl_log_error("%s:%d: user '%s': no link or route from '%s' to '%s'", tb->source, tu->line, tu->name,
                   tb->nodes[u->node[k]].name, tb->nodes[u->node[k + 1]].name);
      s = CL_ERR_CONFIG;
      goto done;
    }
  }
  s = CL_OK;
done:
  free(nol);
  free(st);
  free(maxc);
  return s;
}

/* Release times of a user's inferences: periodic t0 + k / rate, or Poisson (t0, then
 * Exp(1/rate) gaps from the user's seed, as the timeline's own Poisson process). */
static cl_status mu_releases(cl_timeline *tl, const cl_tb_user *tu, int inf0) {
  const cl_arrival *a = &tu->arrival;
  gsl_rng *rng = NULL;
  if (a->kind == CL_ARRIVAL_POISSON) {
    if (!(rng = gsl_rng_alloc(gsl_rng_mt19937))) return CL_ERR_NOMEM;
    gsl_rng_set(rng, cl__seed32(a->seed));
  }
  double t = a->t0;
  cl_status s = CL_OK;
  for (int k = 0; k < tu->inferences && s == CL_OK; k++) {
    if (rng && k > 0) t += gsl_ran_exponential(rng, 1.0 / a->rate);
    s = cl_timeline_set_release(tl, inf0 + k, rng ? t : a->t0 + (double)k / a->rate);
  }
  if (rng) gsl_rng_free(rng);
  return s;
}

static cl_status mu_build(cl_mu *mu, const cl_testbed *tb, const cl_mu_opts *o) {
  mu->n_users = tb->n_users;
  mu->u = calloc((size_t)tb->n_users, sizeof *mu->u);
  mu->m = calloc((size_t)tb->n_users, sizeof *mu->m);
  double *slow = malloc(sizeof(double) * (size_t)tb->n_nodes);
  if (!mu->u || !mu->m || !slow) {
    free(slow);
    return CL_ERR_NOMEM;
  }
  double host = 0;
  for (int i = 0; i < tb->n_nodes; i++) {
    const cl_tb_node *nd = &tb->nodes[i];
    double speed = nd->speed;
    if (nd->gflops > 0) {
      if (host <= 0) host = cl_rt_host_gflops();
      speed = host / nd->gflops;
    }
    slow[i] = cl_rt_effective_slowdown(speed, nd->cpu_load, nd->mem_pressure);
  }
  cl_status s = cl_testbed_netmodel(tb, &mu->net);
  if (s == CL_OK) s = cl_timeline_create(mu->net, tb->n_nodes, &mu->tl);
  for (int i = 0; s == CL_OK && i < tb->n_nodes; i++)
    if (tb->nodes[i].has_power) s = cl_timeline_set_power(mu->tl, i, &tb->nodes[i].power);
  int n_inf = 0;
  for (int k = 0; s == CL_OK && k < tb->n_users; k++) {
    mu_model *m = NULL;
    mu->u[k].inf0 = n_inf;
    s = mu_model_get(mu, tb, o, tb->users[k].model, &m);
    if (s == CL_OK) s = mu_chain(mu, tb, &tb->users[k], m, slow, &mu->u[k]);
    n_inf += tb->users[k].inferences;
  }
  free(slow);
  if (s != CL_OK) return s;
  mu->n_inf = n_inf;
  mu->task0 = malloc(sizeof(int) * ((size_t)n_inf + 1));
  mu->wait = calloc((size_t)n_inf + 1, sizeof(double));
  if (!mu->task0 || !mu->wait) return CL_ERR_NOMEM;
  for (int k = 0; s == CL_OK && k < tb->n_users; k++) {
    const mu_user *u = &mu->u[k];
    s = mu_releases(mu->tl, &tb->users[k], u->inf0);
    for (int i = 0; s == CL_OK && i < tb->users[k].inferences; i++) {
      int g = u->inf0 + i, prev = -1;
      mu->task0[g] = cl_timeline_tasks(mu->tl);
      for (int q = 0; s == CL_OK && q < u->n_st; q++) {
        s = cl_timeline_add_compute(mu->tl, g, u->node[q], u->dur[q], &prev, prev >= 0, &prev);
        if (s == CL_OK && q + 1 < u->n_st)
          s = cl_timeline_add_transfer(mu->tl, g, u->route[q], u->bytes[q], &prev, 1, &prev);
      }
    }
  }
  if (s != CL_OK) return s;
  mu->task0[n_inf] = cl_timeline_tasks(mu->tl);
  CL_TRY(cl_timeline_run(mu->tl));
  for (int g = 0; g < n_inf; g++)
    for (int j = mu->task0[g]; j < mu->task0[g + 1]; j++) {
      cl_task_result r;
      CL_TRY(cl_timeline_task(mu->tl, j, &r));
      mu->wait[g] += r.start - r.ready;
    }
  return CL_OK;
}

cl_status cl_mu_create(const cl_testbed *tb, const cl_mu_opts *o, cl_mu **out) {
  *out = NULL;
  if (tb->n_users < 1) {
    cl_log_error("%s: no users (the `users:` key lists the request sources)", tb->source);
    return CL_ERR_CONFIG;
  }
  cl_mu *mu = calloc(1, sizeof *mu);
  if (!mu) return CL_ERR_NOMEM;
  cl_status s = mu_build(mu, tb, o);
  if (s != CL_OK) {
    if (s == CL_ERR_NOMEM) cl_log_error("%s: out of memory simulating %d users", tb->source, tb->n_users);
    cl_mu_destroy(mu);
    return s;
  }
  *out = mu;
  return CL_OK;
}

const cl_timeline *cl_mu_timeline(const cl_mu *mu) { return mu->tl; }

cl_status cl_mu_inference(const cl_mu *mu, int user, int k, double *release, double *latency, double *wait) {
  if (user < 0 || user >= mu->n_users) return CL_ERR_INVALID;
  int g = mu->u[user].inf0 + k, end = user + 1 < mu->n_users ? mu->u[user + 1].inf0 : mu->n_inf;
  if (k < 0 || g >= end) return CL_ERR_INVALID;
  cl_inference_result ir;
  CL_TRY(cl_timeline_inference(mu->tl, g, &ir));
  if (release) *release = ir.release;
  if (latency) *latency = ir.latency;
  if (wait) *wait = mu->wait[g];
  return CL_OK;
}

cl_status cl_mu_user_stats_get(const cl_mu *mu, int user, cl_mu_user_stats *out) {
  if (user < 0 || user >= mu->n_users) return CL_ERR_INVALID;
  int n = (user + 1 < mu->n_users ? mu->u[user + 1].inf0 : mu->n_inf) - mu->u[user].inf0;
  double *lat = malloc(sizeof(double) * (size_t)(n + 1));
  if (!lat) return CL_ERR_NOMEM;
  double wsum = 0;
  for (int k = 0; k < n; k++) {
    double w;
    cl_status s = cl_mu_inference(mu, user, k, NULL, &lat[k], &w);
    if (s != CL_OK) {
      free(lat);
      return s;
    }
    wsum += w;
  }
  cl_stat_summary sum;
  cl_stat_summarise(lat, n, &sum);
  free(lat);
  *out = (cl_mu_user_stats){n, mu->u[user].n_st, sum.mean, sum.median, sum.p95, sum.max, wsum / n};
  return CL_OK;
}
