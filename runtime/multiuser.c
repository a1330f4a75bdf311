/* Many request sources sharing a testbed, simulated on one timeline (multiuser.h).
 * Each distinct model is loaded and timed once; each user's plan is reduced to a chain
 * of stages (compute on a node, then the tensors that cross to the next node). */
#include "cleave/multiuser.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort_double.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/device.h"
#include "cleave/onnx.h"
#include "cleave/profiler.h"
#include "cleave/runtime.h"
#include "cleave/vec.h"
#include "timeline_internal.h"

typedef struct mu_model {
  const char *name; /* borrowed from the testbed */
  cl_graph *g;
  double *t;        /* [graph size] host s per graph node */
  /* Device nodes (docs/devices.md): per graph node, the device model's s and this host's
   * calibrated s ([n_nodes], NULL for other nodes). A stage on such a node costs its
   * host time x (device s / host s) of its layers, as cl_rt_step_slowdown charges it. */
  double **dev, **host;
} mu_model;

typedef struct mu_user {
  int *nol;         /* [graph size] testbed node of every graph node (the placement) */
  int n_layers;
  char *text;       /* the chain as text */
  int n_st;
  int *node;        /* [n_st] compute node of each stage */
  double *dur;      /* [n_st] s, slowdown applied */
  double *sf;       /* [n_st] the stage's slowdown (a device node's: of the stage's layers) */
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
  double *slow;     /* [n_nodes] effective slowdown (a device node's: set per model and stage) */
  int n_nodes;
  cl_device *devm;  /* [n_nodes] device model of a `device:` node that has no `speed:` override */
  cl_device *hostm; /* [n_nodes] this host's calibration for such a node's thread count */
  int *has_dev;     /* [n_nodes] 1: devm/hostm are loaded (the node's power comes from devm) */
  int *dev_speed;   /* [n_nodes] 1: the node is charged by its device model */
  cl_mu_node_load *load; /* [n_nodes] of the last round */
  int rounds, converged;
};

static void mu_user_clear(mu_user *u) {
  free(u->node);
  free(u->dur);
  free(u->sf);
  free(u->bytes);
  free(u->route);
  free(u->text);
  u->node = NULL;
  u->dur = NULL;
  u->sf = NULL;
  u->bytes = NULL;
  u->route = NULL;
  u->text = NULL;
}

void cl_mu_destroy(cl_mu *mu) {
  if (!mu) return;
  cl_timeline_destroy(mu->tl);
  cl_netmodel_destroy(mu->net);
  for (int i = 0; mu->u && i < mu->n_users; i++) {
    mu_user_clear(&mu->u[i]);
    free(mu->u[i].nol);
  }
  free(mu->slow);
  free(mu->load);
  free(mu->devm);
  free(mu->hostm);
  free(mu->has_dev);
  free(mu->dev_speed);
  for (int i = 0; i < mu->n_models; i++) {
    cl_graph_destroy(mu->m[i].g);
    free(mu->m[i].t);
    for (int k = 0; k < mu->n_nodes; k++) {
      if (mu->m[i].dev) free(mu->m[i].dev[k]);
      if (mu->m[i].host) free(mu->m[i].host[k]);
    }
    free(mu->m[i].dev);
    free(mu->m[i].host);
  }
  free(mu->u);
  free(mu->m);
  free(mu->task0);
  free(mu->wait);
  free(mu);
}

/* Per-layer device and host times of model @p m on every device node: the catalogue
 * model's time, and this host's time of each layer measured through the executor
 * (cl_calib_layers, cached per host, backend, threads and model; CLEAVE_CALIB_LAYERS=0:
 * the host calibration's class model), as the single-plan runtime (rt_device.c). */
static cl_status mu_model_devices(cl_mu *mu, const cl_testbed *tb, mu_model *m) {
  int any = 0, n = cl_graph_size(m->g);
  for (int k = 0; k < mu->n_nodes; k++) any |= mu->dev_speed[k];
  if (!any) return CL_OK;
  if (!(m->dev = calloc((size_t)mu->n_nodes, sizeof *m->dev)) || !(m->host = calloc((size_t)mu->n_nodes, sizeof *m->host)))
    return CL_ERR_NOMEM;
  int layers = cl_calib_layers_enabled();
  for (int k = 0; k < mu->n_nodes; k++) {
    if (!mu->dev_speed[k]) continue;
    if (!(m->dev[k] = malloc(sizeof(double) * (size_t)n)) || !(m->host[k] = malloc(sizeof(double) * (size_t)n)))
      return CL_ERR_NOMEM;
    for (int y = 0; y < n; y++) m->dev[k][y] = cl_device_node_time(&mu->devm[k], m->g, y);
    int same = -1; /* an earlier device node with the same thread count: same host times */
    for (int j = 0; j < k && same < 0; j++)
      if (m->host[j] && tb->nodes[j].threads == tb->nodes[k].threads) same = j;
    if (same >= 0)
      memcpy(m->host[k], m->host[same], sizeof(double) * (size_t)n);
    else if (layers)
      CL_TRY(cl_calib_layers(tb->backend, tb->nodes[k].threads, m->name, m->g, &mu->hostm[k], 0, m->host[k]));
    else
      for (int y = 0; y < n; y++) m->host[k][y] = cl_device_node_time(&mu->hostm[k], m->g, y);
  }
  return CL_OK;
}

/* Slowdown of node @p k for the graph nodes y of @p m with in[y] == @p which (all when
 * @p in is NULL): a device node's device s / host s of those layers with its conditions applied,
 * else (or when they have no work) the node's effective slowdown. */
static double mu_factor(const cl_mu *mu, const cl_testbed *tb, const mu_model *m, int k, const int *in, int which) {
  if (!m->dev || !m->dev[k]) return mu->slow[k];
  double dev = 0, host = 0;
  for (int y = 0; y < cl_graph_size(m->g); y++)
    if (!in || in[y] == which) {
      dev += m->dev[k][y];
      host += m->host[k][y];
    }
  if (!(host > 0)) return mu->slow[k];
  return cl_rt_effective_slowdown(dev / host, tb->nodes[k].cpu_load, tb->nodes[k].mem_pressure);
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
  else if (o->host_gflops > 0)
    for (int y = 0; y < cl_graph_size(m->g); y++) m->t[y] = (double)cl_graph_node(m->g, y)->flops / (o->host_gflops * 1e9);
  else if (o->stage_host)
    ; /* stage times come from the caller (cleave run's measurements) */
  else if (prof && !strcmp(name, tb->model))
    CL_TRY(cl_rt_node_times_from_profile(prof, m->g, m->t));
  else
    CL_TRY(cl_rt_node_times_measure(m->g, tb->seed, o->reps > 0 ? o->reps : 1, m->t));
  CL_TRY(mu_model_devices(mu, tb, m));
  *out = m;
  return CL_OK;
}

/* A placement as a chain of stages: nodes in order of first use along the graph order
 * (a planner user's source node first: it holds the raw input); every tensor must flow
 * from a stage to the same or a later one (else the placement is not a chain: an error).
 * Graph inputs go with the first stage. */
static cl_status mu_chain(cl_mu *mu, const cl_testbed *tb, const cl_tb_user *tu, const mu_model *m, mu_user *u) {
  int n = cl_graph_size(m->g), *nol = u->nol;
  int *st = malloc(sizeof(int) * (size_t)n), *maxc = malloc(sizeof(int) * (size_t)n);
  u->node = malloc(sizeof(int) * (size_t)(n + 1));
  u->dur = calloc((size_t)n + 1, sizeof(double));
  u->sf = calloc((size_t)n + 1, sizeof(double));
  u->bytes = calloc((size_t)n + 1, sizeof(uint64_t));
  u->route = malloc(sizeof(int) * (size_t)(n + 1));
  cl_status s = CL_ERR_NOMEM;
  if (!st || !maxc || !u->node || !u->dur || !u->sf || !u->bytes || !u->route) goto done;
  u->n_st = 0;
  if (tu->planner.name) u->node[u->n_st++] = tu->planner.nodes[0];
  for (int y = 0; y < n; y++) {
    st[y] = 0;
    maxc[y] = -1;
    if (cl_graph_node(m->g, y)->n_inputs == 0) continue; /* an input: first stage */
    int k = 0;
    while (k < u->n_st && u->node[k] != nol[y]) k++;
    if (k == u->n_st) u->node[u->n_st++] = nol[y];
    st[y] = k;
  }
  for (int y = 0; y < n; y++) {
    const cl_node *c = cl_graph_node(m->g, y);
    u->dur[st[y]] += m->t[y]; /* host s; x the stage's slowdown below */
    for (int q = 0; q < c->n_inputs; q++) {
      int x = c->inputs[q];
      if (st[x] > st[y]) {
        cl_log_error("%s:%d: user '%s': node '%s' sends tensor '%s' back to node '%s': a user's plan must be a "
                     "chain of nodes (tensors flow from each node to later ones only)",
                     tb->source, tu->line, tu->name, tb->nodes[u->node[st[x]]].name, cl_graph_node(m->g, x)->name,
                     tb->nodes[u->node[st[y]]].name);
        s = CL_ERR_CONFIG;
        goto done;
      }
      if (st[y] > maxc[x]) maxc[x] = st[y];
    }
  }
  for (int k = 0; k < u->n_st; k++) {
    u->sf[k] = mu_factor(mu, tb, m, u->node[k], st, k);
    u->dur[k] *= u->sf[k];
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
  /* text: "dev05 (13 layers) -> edge1 (48 layers)" */
  size_t cap = (size_t)u->n_st * 96 + 1, o = 0;
  if (!(u->text = malloc(cap))) {
    s = CL_ERR_NOMEM;
    goto done;
  }
  u->text[0] = '\0';
  for (int k = 0; k < u->n_st; k++) {
    int cnt = 0;
    for (int y = 0; y < n; y++) cnt += st[y] == k && cl_graph_node(m->g, y)->n_inputs > 0;
    o += (size_t)snprintf(u->text + o, cap - o, "%s%.60s (%d layers)", k ? " -> " : "", tb->nodes[u->node[k]].name, cnt);
  }
  s = CL_OK;
done:
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

/* The user's placement from its `plan:` (resolved against its model). */
static cl_status mu_resolve(const cl_testbed *tb, const cl_tb_user *tu, const mu_model *m, int *nol) {
  cl_testbed view = *tb; /* shallow: resolve the user's plan with the testbed's resolver */
  view.plan = tu->plan;
  return cl_testbed_resolve_plan(&view, m->g, nol);
}

/* A planner user's placement: its nodes as machines, routes as links, and (round > 0)
 * the load measured at its nodes in the previous round. */
static cl_status mu_replan(cl_mu *mu, const cl_testbed *tb, const cl_mu_opts *o, const cl_tb_user *tu,
                           const mu_model *m, int use_load, int *nol) {
  const cl_tb_user_planner *pl = &tu->planner;
  int nm = pl->n_nodes, nl = 0;
  cl_plan_machine *mach = NULL;
  cl_plan_link *links = NULL;
  double *lf = NULL, *w = NULL;
  int *mol = NULL;
  const cl_block_part parts[] = {CL_BLOCK_PART(mach, nm), CL_BLOCK_PART(links, (size_t)nm * (size_t)nm),
                                 CL_BLOCK_PART(lf, nm), CL_BLOCK_PART(w, nm),
                                 CL_BLOCK_PART(mol, cl_graph_size(m->g))};
  cl_status s = cl_block_alloc(parts, 5); /* one block: free(mach) releases it */
  for (int a = 0; s == CL_OK && a < nm; a++) {
    int k = pl->nodes[a];
    mach[a] = (cl_plan_machine){tb->nodes[k].name, cl_tb_tier_name(tb->nodes[k].tier), NULL,
                                1.0 / mu_factor(mu, tb, m, k, NULL, 0), 0, 0, 0, 0};
    lf[a] = 1.0 / (1.0 - fmin(mu->load[k].util, 0.95)); /* M/M/1 response-time inflation */
    w[a] = mu->load[k].wait_mean;
    for (int b = 0; b < nm; b++) {
      int id = -1;
      if (a == b || cl_netmodel_route(mu->net, k, pl->nodes[b], &id) != CL_OK) continue; /* unreachable: no link */
      links[nl++] = (cl_plan_link){a, b, cl_netmodel_latency_at(mu->net, id, 0.0), cl_netmodel_bandwidth_at(mu->net, id, 0.0)};
    }
  }
  cl_mu_plan_req rq = {pl->name, m->g, m->t, nm, mach, nl, links,
                       use_load && pl->load == CL_TB_LOAD_UTILISATION ? lf : NULL,
                       use_load && pl->load == CL_TB_LOAD_WAIT ? w : NULL, tu->arrival.rate, pl->mode};
  if (s == CL_OK && (s = o->plan(&rq, mol)) != CL_OK)
    cl_log_error("%s:%d: user '%s': planner '%s' failed (%s)", tb->source, tu->line, tu->name, pl->name, cl_status_str(s));
  for (int y = 0; s == CL_OK && y < cl_graph_size(m->g); y++) {
    CL_ASSERT(mol[y] >= 0 && mol[y] < nm);
    nol[y] = pl->nodes[mol[y]];
  }
  free(mach);
  return s;
}

/* One simulation of every user's current placement: a fresh timeline,
 * per-inference waits, per-node load. */
static cl_status mu_simulate(cl_mu *mu, const cl_testbed *tb, const cl_mu_opts *o) {
  cl_timeline_destroy(mu->tl); /* a later round: a fresh timeline on the same network */
  mu->tl = NULL;
  cl_netmodel_reset(mu->net);  /* queues and jitter streams as new; routes are kept */
  cl_status s = cl_timeline_create(mu->net, tb->n_nodes, &mu->tl);
  for (int i = 0; s == CL_OK && i < tb->n_nodes; i++)
    if (tb->nodes[i].has_power)
      s = cl_timeline_set_power(mu->tl, i, &tb->nodes[i].power);
    else if (mu->has_dev[i] && mu->devm[i].has_power)
      s = cl_timeline_set_power(mu->tl, i, &mu->devm[i].power); /* as a single plan's run (rt_device.c) */
  for (int k = 0; s == CL_OK && k < tb->n_users; k++) {
    mu_model *m = NULL;
    mu_user_clear(&mu->u[k]);
    s = mu_model_get(mu, tb, o, tb->users[k].model, &m);
    if (s == CL_OK) s = mu_chain(mu, tb, &tb->users[k], m, &mu->u[k]);
  }
  for (int k = 0; s == CL_OK && k < tb->n_users; k++) {
    const mu_user *u = &mu->u[k];
    s = mu_releases(mu->tl, &tb->users[k], u->inf0);
    for (int i = 0; s == CL_OK && i < tb->users[k].inferences; i++) {
      int g = u->inf0 + i, prev = -1;
      mu->task0[g] = cl_timeline_tasks(mu->tl);
      for (int q = 0; s == CL_OK && q < u->n_st; q++) {
        double d = o->stage_host ? o->stage_host(o->stage_ctx, k, i, u->node[q]) * u->sf[q] : u->dur[q];
        s = cl_timeline_add_compute(mu->tl, g, u->node[q], d, &prev, prev >= 0, &prev);
        if (s == CL_OK && q + 1 < u->n_st)
          s = cl_timeline_add_transfer(mu->tl, g, u->route[q], u->bytes[q], &prev, 1, &prev);
      }
    }
  }
  if (s != CL_OK) return s;
  mu->task0[mu->n_inf] = cl_timeline_tasks(mu->tl);
  CL_TRY(cl_timeline_run(mu->tl));
  memset(mu->load, 0, sizeof *mu->load * (size_t)tb->n_nodes);
  for (int g = 0; g < mu->n_inf; g++) {
    mu->wait[g] = 0;
    for (int j = mu->task0[g]; j < mu->task0[g + 1]; j++) {
      cl_task_result r;
      CL_TRY(cl_timeline_task(mu->tl, j, &r));
      mu->wait[g] += r.start - r.ready;
      if (r.kind != CL_TASK_COMPUTE) continue;
      mu->load[r.where].tasks++;
      mu->load[r.where].wait_mean += r.start - r.ready; /* a sum until divided below */
    }
  }
  double span = cl_timeline_makespan(mu->tl);
  for (int nd = 0; nd < tb->n_nodes; nd++) {
    cl_node_result nr;
    CL_TRY(cl_timeline_node(mu->tl, nd, &nr));
    cl_mu_node_load *l = &mu->load[nd];
    if (l->tasks) l->wait_mean /= l->tasks;
    l->util = span > 0 ? nr.busy_time / span : 0;
  }
  return CL_OK;
}

static cl_status mu_build(cl_mu *mu, const cl_testbed *tb, const cl_mu_opts *o) {
  mu->n_users = tb->n_users;
  mu->u = calloc((size_t)tb->n_users, sizeof *mu->u);
  mu->m = calloc((size_t)tb->n_users, sizeof *mu->m);
  mu->slow = malloc(sizeof(double) * (size_t)tb->n_nodes);
  mu->load = calloc((size_t)tb->n_nodes, sizeof *mu->load);
  mu->n_nodes = tb->n_nodes;
  mu->devm = calloc((size_t)tb->n_nodes, sizeof *mu->devm);
  mu->hostm = calloc((size_t)tb->n_nodes, sizeof *mu->hostm);
  mu->has_dev = calloc((size_t)tb->n_nodes, sizeof *mu->has_dev);
  mu->dev_speed = calloc((size_t)tb->n_nodes, sizeof *mu->dev_speed);
  if (!mu->u || !mu->m || !mu->slow || !mu->load || !mu->devm || !mu->hostm || !mu->has_dev || !mu->dev_speed)
    return CL_ERR_NOMEM;
  double host = 0;
  for (int i = 0; i < tb->n_nodes; i++) {
    const cl_tb_node *nd = &tb->nodes[i];
    double speed = nd->speed;
    if (nd->gflops > 0) {
      if (host <= 0) host = cl_rt_host_gflops();
      speed = host / nd->gflops;
    }
    mu->slow[i] = cl_rt_effective_slowdown(speed, nd->cpu_load, nd->mem_pressure);
    if (!nd->device) continue;
    /* `device:` (docs/devices.md): the catalogue model and this host's calibration; a
     * `speed:` beside it overrides the model's speed (its power still applies) */
    CL_TRY(cl_tb_node_device(tb, i, &mu->devm[i]));
    mu->has_dev[i] = 1;
    if (nd->speed_given) continue;
    CL_TRY(cl_calib_get(tb->backend, nd->threads, 0, &mu->hostm[i], NULL, 0));
    mu->dev_speed[i] = 1;
  }
  /* placements: `plan:` users resolved once, `planner:` users planned unloaded first */
  cl_status s = cl_testbed_netmodel(tb, &mu->net); /* once: routes found are kept across rounds */
  int n_inf = 0, n_planned = 0;
  for (int k = 0; s == CL_OK && k < tb->n_users; k++) {
    const cl_tb_user *tu = &tb->users[k];
    mu_model *m = NULL;
    mu_user *u = &mu->u[k];
    u->inf0 = n_inf;
    n_inf += tu->inferences;
    s = mu_model_get(mu, tb, o, tu->model, &m);
    if (s != CL_OK) break;
    u->n_layers = cl_graph_size(m->g);
    if (!(u->nol = malloc(sizeof(int) * (size_t)u->n_layers))) return CL_ERR_NOMEM;
    if (o->fixed && o->fixed[k]) { /* a placement chosen before (cleave run) */
      memcpy(u->nol, o->fixed[k], sizeof(int) * (size_t)u->n_layers);
      continue;
    }
    if (tu->planner.name && !o->plan) {
      cl_log_error("%s:%d: user '%s' names planner '%s', but no planner is available here (cleave sim runs planners)",
                   tb->source, tu->line, tu->name, tu->planner.name);
      return CL_ERR_CONFIG;
    }
    n_planned += tu->planner.name != NULL;
    s = tu->planner.name ? mu_replan(mu, tb, o, tu, m, 0, u->nol) : mu_resolve(tb, tu, m, u->nol);
  }
  if (s != CL_OK) return s;
  mu->n_inf = n_inf;
  mu->task0 = malloc(sizeof(int) * ((size_t)n_inf + 1));
  mu->wait = calloc((size_t)n_inf + 1, sizeof(double));
  if (!mu->task0 || !mu->wait) return CL_ERR_NOMEM;
  /* Planner users re-plan with the load of the previous round until their placements
   * stop changing (or `rounds` re-plannings). */
  int rounds = o->rounds > 0 ? o->rounds : 4;
  mu->converged = 1;
  for (mu->rounds = 1;; mu->rounds++) {
    CL_TRY(mu_simulate(mu, tb, o));
    if (!n_planned) break;
    int changed = 0;
    for (int k = 0; k < tb->n_users; k++) {
      const cl_tb_user *tu = &tb->users[k];
      if (!tu->planner.name || tu->planner.load == CL_TB_LOAD_NONE || (o->fixed && o->fixed[k])) continue;
      mu_model *m = NULL;
      CL_TRY(mu_model_get(mu, tb, o, tu->model, &m));
      int *nol = malloc(sizeof(int) * (size_t)mu->u[k].n_layers);
      if (!nol) return CL_ERR_NOMEM;
      s = mu_replan(mu, tb, o, tu, m, 1, nol);
      if (s == CL_OK && memcmp(nol, mu->u[k].nol, sizeof(int) * (size_t)mu->u[k].n_layers)) {
        changed = 1;
        if (mu->rounds > rounds) { /* round limit: keep the simulated placements */
          free(nol);
          continue;
        }
        free(mu->u[k].nol);
        mu->u[k].nol = nol;
      } else {
        free(nol);
      }
      CL_TRY(s);
    }
    if (!changed) break;
    if (mu->rounds > rounds) {
      mu->converged = 0; /* placements still change (e.g. users herd on and off a server) */
      break;
    }
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
  gsl_sort(lat, 1, (size_t)n);
  double p99 = gsl_stats_quantile_from_sorted_data(lat, 1, (size_t)n, 0.99);
  free(lat);
  *out = (cl_mu_user_stats){n, mu->u[user].n_st, sum.mean, sum.median, sum.p95, sum.max, wsum / n, p99};
  return CL_OK;
}

const int *cl_mu_user_layers(const cl_mu *mu, int user, int *n) {
  if (user < 0 || user >= mu->n_users) return NULL;
  if (n) *n = mu->u[user].n_layers;
  return mu->u[user].nol;
}

const char *cl_mu_user_chain_text(const cl_mu *mu, int user) {
  return user >= 0 && user < mu->n_users && mu->u[user].text ? mu->u[user].text : "";
}

int cl_mu_rounds(const cl_mu *mu, int *converged) {
  if (converged) *converged = mu->converged;
  return mu->rounds;
}

const cl_device *cl_mu_node_device(const cl_mu *mu, int node, const cl_device **host) {
  if (host) *host = NULL;
  if (node < 0 || node >= mu->n_nodes || !mu->has_dev[node]) return NULL;
  if (host && mu->dev_speed[node]) *host = &mu->hostm[node];
  return &mu->devm[node];
}

cl_status cl_mu_node_load_get(const cl_mu *mu, int node, cl_mu_node_load *out) {
  if (node < 0 || !mu->tl || node >= cl_timeline_nodes(mu->tl)) return CL_ERR_INVALID;
  *out = mu->load[node];
  return CL_OK;
}
