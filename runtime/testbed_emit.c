/* cl_testbed -> canonical, fully resolved YAML (provenance, --emit-config).
 * Every default is written out; the text loads back to the same testbed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/exec.h"
#include "testbed_internal.h"

static void emit_node(cl_config_writer *w, const cl_tb_node *n) {
  cl_config_writer_map(w, 0);
  cl_config_writer_key_str(w, "name", n->name);
  cl_config_writer_key_str(w, "tier", cl_tb_tier_name(n->tier));
  if (n->device) cl_config_writer_key_str(w, "device", n->device);
  if (n->device && n->dvfs_set) {
    cl_config_writer_key(w, "dvfs");
    cl_config_writer_int(w, n->dvfs);
  }
  if (!n->device || n->speed_given) { /* with a device, speed: is an explicit override */
    cl_config_writer_key(w, "speed");
    if (n->gflops > 0) {
      cl_config_writer_map(w, 1);
      cl_config_writer_key_double(w, "gflops", n->gflops);
      cl_config_writer_end(w);
    } else {
      cl_config_writer_double(w, n->speed);
    }
  }
  cl_config_writer_key_int(w, "threads", n->threads);
  cl_config_writer_key_unit(w, "memory", CL_CONFIG_SIZE, (double)n->memory);
  if (n->has_power) {
    const cl_node_power *p = &n->power;
    cl_config_writer_key(w, "power");
    cl_config_writer_map(w, 1);
    cl_config_writer_key_unit(w, "idle", CL_CONFIG_POWER, p->idle);
    cl_config_writer_key_unit(w, "busy", CL_CONFIG_POWER, p->busy);
    if (p->tx != 0 || p->tx_per_byte == 0) cl_config_writer_key_unit(w, "tx", CL_CONFIG_POWER, p->tx);
    if (p->rx != 0 || p->rx_per_byte == 0) cl_config_writer_key_unit(w, "rx", CL_CONFIG_POWER, p->rx);
    if (p->tx_per_byte != 0) cl_config_writer_key_unit(w, "tx_per_byte", CL_CONFIG_ENERGY_PER_BYTE, p->tx_per_byte);
    if (p->rx_per_byte != 0) cl_config_writer_key_unit(w, "rx_per_byte", CL_CONFIG_ENERGY_PER_BYTE, p->rx_per_byte);
    cl_config_writer_end(w);
  }
  cl_config_writer_key_unit(w, "cpu_load", CL_CONFIG_FRACTION, n->cpu_load);
  cl_config_writer_key_unit(w, "mem_pressure", CL_CONFIG_FRACTION, n->mem_pressure);
  cl_config_writer_end(w);
}

static void emit_jitter(cl_config_writer *w, const cl_jitter *j) {
  cl_config_writer_map(w, 1);
  cl_config_writer_key_str(w, "dist", cl_jitter_dist_name(j->dist));
  switch (j->dist) {
    case CL_JITTER_NORMAL:
      cl_config_writer_key_unit(w, "sigma", CL_CONFIG_DURATION, j->sigma);
      cl_config_writer_key_unit(w, "mean", CL_CONFIG_DURATION, j->mean);
      break;
    case CL_JITTER_UNIFORM:
      cl_config_writer_key_unit(w, "lo", CL_CONFIG_DURATION, j->lo);
      cl_config_writer_key_unit(w, "hi", CL_CONFIG_DURATION, j->hi);
      break;
    case CL_JITTER_EXPONENTIAL:
      cl_config_writer_key_unit(w, "mean", CL_CONFIG_DURATION, j->mean);
      break;
    case CL_JITTER_LOGNORMAL:
      cl_config_writer_key_unit(w, "scale", CL_CONFIG_DURATION, j->scale);
      cl_config_writer_key_double(w, "sigma", j->sigma);
      break;
    case CL_JITTER_PARETO:
      cl_config_writer_key_unit(w, "scale", CL_CONFIG_DURATION, j->scale);
      cl_config_writer_key_double(w, "shape", j->shape);
      break;
    default:
      break;
  }
  cl_config_writer_end(w);
}

static void emit_link(cl_config_writer *w, const cl_testbed *tb, const cl_tb_link *l) {
  cl_config_writer_map(w, 0);
  cl_config_writer_key_str(w, "from", tb->nodes[l->from].name);
  cl_config_writer_key_str(w, "to", tb->nodes[l->to].name);
  cl_config_writer_key_unit(w, "latency", CL_CONFIG_DURATION, l->latency);
  if (l->trace_path)
    cl_config_writer_key_str(w, "trace", l->trace_path);
  else
    cl_config_writer_key_unit(w, "bandwidth", CL_CONFIG_BANDWIDTH, l->bandwidth);
  cl_config_writer_key_bool(w, "both_ways", l->both_ways);
  cl_config_writer_key(w, "jitter");
  emit_jitter(w, &l->jitter);
  cl_config_writer_key_bool(w, "reorder", l->reorder);
  if (l->medium >= 0) cl_config_writer_key_str(w, "shared", tb->media[l->medium]);
  if (l->sharing != tb->sharing) cl_config_writer_key_str(w, "sharing", cl_sharing_name(l->sharing));
  cl_config_writer_end(w);
}

/* `plan:` of the testbed (depth 0) or of a user (depth 1). */
static void emit_plan(cl_config_writer *w, const cl_testbed *tb, const cl_tb_plan *p, int depth) {
  if (p->kind == CL_TB_PLAN_NONE) return;
  cl_config_writer_key(w, "plan");
  if (p->kind == CL_TB_PLAN_ENTRIES) {
    cl_config_writer_seq(w, depth);
    for (int i = 0; i < p->n_entries; i++) {
      cl_config_writer_map(w, 1);
      cl_config_writer_key_str(w, "node", tb->nodes[p->entries[i].node].name);
      cl_config_writer_key_str(w, "layers", p->entries[i].spec);
      cl_config_writer_end(w);
    }
    cl_config_writer_end(w);
    return;
  }
  cl_config_writer_map(w, depth);
  cl_config_writer_key(w, "cuts");
  cl_config_writer_seq(w, 1);
  for (int i = 0; i < p->n_cuts; i++) cl_config_writer_str(w, p->cuts[i]);
  cl_config_writer_end(w);
  cl_config_writer_key(w, "nodes");
  cl_config_writer_seq(w, 1);
  for (int i = 0; i < p->n_chain; i++) cl_config_writer_str(w, tb->nodes[p->chain[i]].name);
  cl_config_writer_end(w);
  cl_config_writer_end(w);
}

/* `network:` elements, `routes:` and `users:` (docs/network.md); nothing when absent. */
static void emit_network(cl_config_writer *w, const cl_testbed *tb) {
  if (tb->sharing != CL_SHARING_FIFO) cl_config_writer_key_str(w, "sharing", cl_sharing_name(tb->sharing));
  if (tb->n_elements) {
    cl_config_writer_key(w, "network");
    cl_config_writer_seq(w, 0);
    for (int i = tb->n_nodes; i < tb->n_nodes + tb->n_elements; i++) {
      cl_config_writer_map(w, 1);
      cl_config_writer_key_str(w, "name", tb->nodes[i].name);
      cl_config_writer_key_str(w, "kind", cl_tb_element_kind_name(tb->nodes[i].kind));
      cl_config_writer_end(w);
    }
    cl_config_writer_end(w);
  }
  if (tb->n_routes) {
    cl_config_writer_key(w, "routes");
    cl_config_writer_seq(w, 0);
    for (int i = 0; i < tb->n_routes; i++) {
      const cl_tb_route *r = &tb->routes[i];
      cl_config_writer_map(w, 0);
      cl_config_writer_key_str(w, "from", tb->nodes[r->from].name);
      cl_config_writer_key_str(w, "to", tb->nodes[r->to].name);
      cl_config_writer_key(w, "via");
      cl_config_writer_seq(w, 1);
      for (int k = 0; k < r->n_via; k++) cl_config_writer_str(w, tb->nodes[r->via[k]].name);
      cl_config_writer_end(w);
      cl_config_writer_end(w);
    }
    cl_config_writer_end(w);
  }
}

static void emit_users(cl_config_writer *w, const cl_testbed *tb) {
  if (!tb->n_users) return;
  cl_config_writer_key(w, "users");
  cl_config_writer_seq(w, 0);
  for (int i = 0; i < tb->n_users; i++) {
    const cl_tb_user *u = &tb->users[i];
    cl_config_writer_map(w, 0);
    cl_config_writer_key_str(w, "name", u->name);
    cl_config_writer_key_str(w, "model", u->model);
    if (u->planner.name) {
      static const char *const loads[] = {"wait", "utilisation", "none"}, *const modes[] = {"auto", "latency", "throughput"};
      cl_config_writer_key(w, "planner");
      cl_config_writer_map(w, 1);
      cl_config_writer_key_str(w, "name", u->planner.name);
      cl_config_writer_key(w, "nodes");
      cl_config_writer_seq(w, 1);
      for (int k = 0; k < u->planner.n_nodes; k++) cl_config_writer_str(w, tb->nodes[u->planner.nodes[k]].name);
      cl_config_writer_end(w);
      cl_config_writer_key_str(w, "load", loads[u->planner.load]);
      cl_config_writer_key_str(w, "mode", modes[u->planner.mode]);
      cl_config_writer_end(w);
    } else {
      emit_plan(w, tb, &u->plan, 1);
    }
    cl_config_writer_key_int(w, "inferences", u->inferences);
    cl_config_writer_key_str(w, "arrival", u->arrival.kind == CL_ARRIVAL_POISSON ? "poisson" : "periodic");
    cl_config_writer_key_double(w, "rate", u->arrival.rate);
    cl_config_writer_key_unit(w, "start", CL_CONFIG_DURATION, u->arrival.t0);
    cl_config_writer_key_u64(w, "seed", u->arrival.seed);
    cl_config_writer_end(w);
  }
  cl_config_writer_end(w);
}

static void emit_workload(cl_config_writer *w, const cl_testbed *tb) {
  cl_config_writer_key(w, "workload");
  cl_config_writer_map(w, 0);
  cl_config_writer_key_int(w, "inferences", tb->inferences);
  const cl_arrival *a = &tb->arrival;
  cl_config_writer_key_str(w, "arrival", a->kind == CL_ARRIVAL_FIXED_RATE ? "fixed_rate"
                                         : a->kind == CL_ARRIVAL_POISSON  ? "poisson"
                                                                          : "back_to_back");
  if (a->kind == CL_ARRIVAL_FIXED_RATE || a->kind == CL_ARRIVAL_POISSON)
    cl_config_writer_key_double(w, "rate", a->rate);
  else
    cl_config_writer_key_int(w, "in_flight", a->in_flight > 0 ? a->in_flight : 1);
  cl_config_writer_key_u64(w, "seed", a->seed);
  cl_config_writer_end(w);
}

static void emit_condition(cl_config_writer *w, const cl_testbed *tb, const cl_tb_condition *c) {
  cl_config_writer_map(w, 1);
  cl_config_writer_key_unit(w, "at", CL_CONFIG_DURATION, c->at);
  if (c->link >= 0) {
    const cl_tb_link *l = &tb->links[c->link];
    const char *a = tb->nodes[c->reverse ? l->to : l->from].name, *b = tb->nodes[c->reverse ? l->from : l->to].name;
    size_t n = strlen(a) + strlen(b) + 3;
    char *spec = malloc(n);
    if (spec) snprintf(spec, n, "%s->%s", a, b);
    cl_config_writer_key_str(w, "link", spec ? spec : "?");
    free(spec);
    if (c->bandwidth >= 0) cl_config_writer_key_unit(w, "bandwidth", CL_CONFIG_BANDWIDTH, c->bandwidth);
    if (c->latency >= 0) cl_config_writer_key_unit(w, "latency", CL_CONFIG_DURATION, c->latency);
  } else {
    cl_config_writer_key_str(w, "node", tb->nodes[c->node].name);
    if (c->cpu_load >= 0) cl_config_writer_key_unit(w, "cpu_load", CL_CONFIG_FRACTION, c->cpu_load);
    if (c->mem_pressure >= 0) cl_config_writer_key_unit(w, "mem_pressure", CL_CONFIG_FRACTION, c->mem_pressure);
  }
  cl_config_writer_end(w);
}

cl_status cl_testbed_to_yaml(const cl_testbed *tb, char **text) {
  *text = NULL;
  cl_config_writer *w;
  CL_TRY(cl_config_writer_create(&w));
  cl_config_writer_map(w, 0);
  cl_config_writer_key_str(w, "model", tb->model ? tb->model : "");
  cl_config_writer_key_u64(w, "seed", tb->seed);
  cl_config_writer_key_str(w, "clock", tb->wall_clock ? "wall" : tb->model_clock ? "model" : "virtual");
  if (tb->backend != CL_BACKEND_AUTO) /* the run's "/" attribute `backend` says what ran */
    cl_config_writer_key_str(w, "backend", cl_backend_name((cl_backend)tb->backend));
  if (tb->profile) cl_config_writer_key_str(w, "profile", tb->profile);
  cl_config_writer_key(w, "nodes");
  cl_config_writer_seq(w, 0);
  for (int i = 0; i < tb->n_nodes; i++) emit_node(w, &tb->nodes[i]);
  cl_config_writer_end(w);
  if (tb->n_links) {
    cl_config_writer_key(w, "links");
    cl_config_writer_seq(w, 0);
    for (int i = 0; i < tb->n_links; i++) emit_link(w, tb, &tb->links[i]);
    cl_config_writer_end(w);
  }
  emit_network(w, tb);
  emit_plan(w, tb, &tb->plan, 0);
  emit_workload(w, tb);
  emit_users(w, tb);
  if (tb->n_conditions) {
    cl_config_writer_key(w, "conditions");
    cl_config_writer_seq(w, 0);
    for (int i = 0; i < tb->n_conditions; i++) emit_condition(w, tb, &tb->conditions[i]);
    cl_config_writer_end(w);
  }
  cl_config_writer_end(w);
  return cl_config_writer_finish(w, text);
}
