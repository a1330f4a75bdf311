/* Task graph of a testbed run: steps per node, crossing tensors, timeline tasks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/exec.h"
#include "cleave/provenance.h"
#include "cleave/runtime.h"
#include "cleave/testbed.h"
#include "rt_internal.h"

double cl_rt_effective_slowdown(double speed, double cpu_load, double mem_pressure) {
  return speed * (1.0 + cpu_load) * (1.0 + CL_RT_MEM_COEF * mem_pressure);
}

void cl_rt_setup_free(cl_rt_setup *su) {
  if (!su) return;
  free(su->nodes);
  cl_netmodel_destroy(su->net);
  free(su->node_of_layer);
  free(su->config_text);
  free(su->config_path);
  free(su->profile);
  free(su->device_models);
  free(su->host_models);
  free(su->layer_device_s);
  free(su->layer_host_s);
  if (su->users_tb) cl_testbed_free(su->users_tb);
  free(su->users_tb);
  memset(su, 0, sizeof *su);
}

cl_status cl__rt_store_open(const cl_rt_opts *opts, cl_store **out) {
  cl_store_opts so;
  memset(&so, 0, sizeof so);
  so.force = opts->force;
  so.atomic = 1; /* a killed or failed run leaves no file at the output path */
  so.kind = "run";
  return cl_store_create(opts->out_path, &so, out);
}

cl_status cl__rt_write_provenance(cl_store *store, const cl_rt_setup *su, const cl_rt_opts *opts, int size) {
  cl_provenance prov;
  memset(&prov, 0, sizeof prov);
  prov.argc = opts->argc;
  prov.argv = opts->argv;
  prov.has_seed = 1;
  prov.seed = su->seed;
  prov.config_text = su->config_text;
  prov.config_path = su->config_path;
  CL_TRY(cl_store_write_provenance(store, &prov));
  /* rank 0 writes the one file, but the job had `size` ranks */
  return cl_store_attr_i64(store, cl_store_provenance_group(store), "n_ranks", size);
}

void cl_rt_tasks_free(cl_rt_tasks *t) {
  if (!t) return;
  for (int n = 0; n < t->n_nodes; n++) {
    if (t->step_label && t->step_label[n])
      for (int k = 0; k < t->n_steps[n]; k++) free(t->step_label[n][k]);
    if (t->step_label) free(t->step_label[n]);
    if (t->step_node) free(t->step_node[n]);
    if (t->step_out) free(t->step_out[n]);
    if (t->step_macs) free(t->step_macs[n]);
    if (t->step_slowdown) free(t->step_slowdown[n]);
    if (t->step_model_host) free(t->step_model_host[n]);
  }
  free(t->n_steps);
  free(t->step_node);
  free(t->step_out);
  free(t->step_label);
  free(t->step_macs);
  free(t->step_slowdown);
  free(t->step_model_host);
  free(t->step_off);
  free(t->node_step);
  free(t->xfer_node);
  free(t->xfer_src);
  free(t->xfer_dst);
  free(t->xfer_link);
  free(t->xfer_bytes);
  free(t->comp_task);
  free(t->xfer_task);
  memset(t, 0, sizeof *t);
}

cl_status cl_rt_build(const cl_graph *g, const cl_rt_setup *su, cl_rt_tasks *t, cl_timeline **tl_out) {
  memset(t, 0, sizeof *t);
  *tl_out = NULL;
  int n = cl_graph_size(g), N = su->n_nodes;
  cl_status st = CL_ERR_NOMEM;
  cl_timeline *tl = NULL;
  uint8_t *mask = malloc((size_t)n);
  int *prod_step = malloc(sizeof(int) * (size_t)n); /* graph node -> flat step producing it */
  int *deps = malloc(sizeof(int) * (size_t)(n + 8));
  int *xfer_of = malloc(sizeof(int) * (size_t)n * (size_t)N); /* (node x, dst) -> xfer index */
  int *step_of_flat_node = NULL;
  t->n_nodes = N;
  t->n_steps = calloc((size_t)N, sizeof(int));
  t->step_node = calloc((size_t)N, sizeof(int *));
  t->step_out = calloc((size_t)N, sizeof(int *));
  t->step_label = calloc((size_t)N, sizeof(char **));
  t->step_macs = calloc((size_t)N, sizeof(int64_t *));
  t->step_off = calloc((size_t)N + 1, sizeof(int));
  t->step_slowdown = calloc((size_t)N, sizeof(double *));
  t->step_model_host = calloc((size_t)N, sizeof(double *));
  if (!mask || !prod_step || !deps || !xfer_of || !t->n_steps || !t->step_node || !t->step_out || !t->step_label ||
      !t->step_macs || !t->step_off || !t->step_slowdown || !t->step_model_host)
    goto error;
  for (int i = 0; i < n; i++) prod_step[i] = -1;
  for (int i = 0; i < n * N; i++) xfer_of[i] = -1;
  for (int nd = 0; nd < N; nd++) {
    for (int i = 0; i < n; i++) mask[i] = su->node_of_layer[i] == nd;
    cl_exec_opts o = cl_exec_opts_default();
    o.plan_only = 1;
    o.run_mask = mask;
    cl_exec *e = NULL;
    if ((st = cl_exec_create(g, &o, &e)) != CL_OK) goto error;
    st = CL_ERR_NOMEM;
    int ns = cl_exec_step_count(e);
    t->n_steps[nd] = ns;
    t->step_off[nd] = t->steps_total;
    t->steps_total += ns;
    t->step_node[nd] = malloc(sizeof(int) * (size_t)(ns + 1));
    t->step_out[nd] = malloc(sizeof(int) * (size_t)(ns + 1));
    t->step_label[nd] = calloc((size_t)(ns + 1), sizeof(char *));
    t->step_macs[nd] = malloc(sizeof(int64_t) * (size_t)(ns + 1));
    t->step_slowdown[nd] = malloc(sizeof(double) * (size_t)(ns + 1));
    t->step_model_host[nd] = calloc((size_t)(ns + 1), sizeof(double));
    if (!t->step_node[nd] || !t->step_out[nd] || !t->step_label[nd] || !t->step_macs[nd] || !t->step_slowdown[nd] ||
        !t->step_model_host[nd]) {
      cl_exec_destroy(e);
      goto error;
    }
    for (int k = 0; k < ns; k++) {
      const cl_exec_step *s = cl_exec_step_get(e, k);
      t->step_node[nd][k] = s->node;
      t->step_out[nd][k] = s->out_node;
      t->step_macs[nd][k] = s->macs;
      t->step_slowdown[nd][k] = cl_rt_step_slowdown(su, nd, s->nodes, s->n_nodes);
      if (su->model_clock && su->nodes[nd].device[0] && !su->nodes[nd].speed_override && su->layer_host_s)
        for (int j = 0; j < s->n_nodes; j++) t->step_model_host[nd][k] += su->layer_host_s[s->nodes[j]];
      size_t len = strlen(s->label) + 1;
      t->step_label[nd][k] = malloc(len);
      if (!t->step_label[nd][k]) {
        cl_exec_destroy(e);
        goto error;
      }
      memcpy(t->step_label[nd][k], s->label, len);
      for (int j = 0; j < s->n_nodes; j++) prod_step[s->nodes[j]] = t->step_off[nd] + k;
    }
    cl_exec_destroy(e);
  }
  t->step_off[N] = t->steps_total;
  step_of_flat_node = malloc(sizeof(int) * (size_t)(t->steps_total + 1));
  if (!step_of_flat_node) goto error;
  for (int nd = 0; nd < N; nd++)
    for (int k = 0; k < t->n_steps[nd]; k++) step_of_flat_node[t->step_off[nd] + k] = nd;
  /* Crossing tensors: producer x on node a consumed on node b != a. */
  int cap = 16;
  t->xfer_node = malloc(sizeof(int) * (size_t)cap);
  t->xfer_src = malloc(sizeof(int) * (size_t)cap);
  t->xfer_dst = malloc(sizeof(int) * (size_t)cap);
  t->xfer_link = malloc(sizeof(int) * (size_t)cap);
  t->xfer_bytes = malloc(sizeof(int64_t) * (size_t)cap);
  if (!t->xfer_node || !t->xfer_src || !t->xfer_dst || !t->xfer_link || !t->xfer_bytes) goto error;
  for (int c = 0; c < n; c++) {
    const cl_node *cn = cl_graph_node(g, c);
    int b = su->node_of_layer[c];
    for (int q = 0; q < cn->n_inputs; q++) {
      int x = cn->inputs[q], a = su->node_of_layer[x];
      if (a == b || xfer_of[(size_t)x * N + b] >= 0) continue;
      int link = -1;
      if (cl_netmodel_route(su->net, a, b, &link) != CL_OK) { /* a direct link, or a route of links */
        cl_log_error("plan sends tensor '%s' from node '%s' to node '%s' (consumed by '%s'), but no link connects them",
                     cl_graph_node(g, x)->name, su->nodes[a].name, su->nodes[b].name, cn->name);
        st = CL_ERR_CONFIG;
        goto error;
      }
      if (t->n_xfer == cap) {
        cap *= 2;
        int *p1 = realloc(t->xfer_node, sizeof(int) * (size_t)cap);
        if (p1) t->xfer_node = p1;
        int *p2 = realloc(t->xfer_src, sizeof(int) * (size_t)cap);
        if (p2) t->xfer_src = p2;
        int *p3 = realloc(t->xfer_dst, sizeof(int) * (size_t)cap);
        if (p3) t->xfer_dst = p3;
        int *p4 = realloc(t->xfer_link, sizeof(int) * (size_t)cap);
        if (p4) t->xfer_link = p4;
        int64_t *p5 = realloc(t->xfer_bytes, sizeof(int64_t) * (size_t)cap);
        if (p5) t->xfer_bytes = p5;
        if (!p1 || !p2 || !p3 || !p4 || !p5) goto error;
      }
      xfer_of[(size_t)x * N + b] = t->n_xfer;
      t->xfer_node[t->n_xfer] = x;
      t->xfer_src[t->n_xfer] = a;
      t->xfer_dst[t->n_xfer] = b;
      t->xfer_link[t->n_xfer] = link;
      t->xfer_bytes[t->n_xfer] = cl_shape_numel(cl_graph_node(g, x)->out) * (int64_t)sizeof(float);
      t->n_xfer++;
    }
  }
  /* Timeline: per inference, tasks in graph order (out_node ascending is topological). */
  int I = su->inferences > 0 ? su->inferences : 1;
  t->inferences = I;
  t->comp_task = malloc(sizeof(int) * (size_t)I * (size_t)(t->steps_total + 1));
  t->xfer_task = malloc(sizeof(int) * (size_t)I * (size_t)(t->n_xfer + 1));
  if (!t->comp_task || !t->xfer_task) goto error;
  if ((st = cl_timeline_create(su->net, N, &tl)) != CL_OK) goto error;
  st = CL_ERR_NOMEM;
  for (int nd = 0; nd < N; nd++)
    if ((st = cl_timeline_set_power(tl, nd, &su->nodes[nd].power)) != CL_OK) goto error;
  if ((st = cl_timeline_set_arrival(tl, &su->arrival)) != CL_OK) goto error;
  cl_timeline_reserve(tl, I * (t->steps_total + t->n_xfer), (int64_t)I * (t->steps_total + t->n_xfer) * 2);
  for (int i = 0; i < I; i++) {
    int *ct = t->comp_task + (size_t)i * t->steps_total;
    int *xt = t->xfer_task + (size_t)i * t->n_xfer;
    for (int x = 0; x < n; x++) {
      int fs = prod_step[x];
      if (fs < 0) continue;
      int nd = step_of_flat_node[fs];
      int k = fs - t->step_off[nd];
      if (t->step_out[nd][k] != x) continue; /* x fused inside its step */
      /* deps of the step: inputs of its nodes that come from outside the step */
      int nd_deps = 0;
      for (int y = t->step_node[nd][k]; y <= x; y++) {
        if (prod_step[y] != fs) continue;
        const cl_node *yn = cl_graph_node(g, y);
        for (int q = 0; q < yn->n_inputs; q++) {
          int u = yn->inputs[q];
          if (prod_step[u] == fs) continue;
          int d = su->node_of_layer[u] == nd ? ct[prod_step[u]] : xt[xfer_of[(size_t)u * N + nd]];
          int dup = 0;
          for (int z = 0; z < nd_deps; z++) dup |= deps[z] == d;
          if (!dup && nd_deps < n + 8) deps[nd_deps++] = d;
        }
      }
      if ((st = cl_timeline_add_compute(tl, i, nd, 0.0, deps, nd_deps, &ct[fs])) != CL_OK) goto error;
      for (int b = 0; b < N; b++) {
        int j = xfer_of[(size_t)x * N + b];
        if (j < 0) continue;
        if ((st = cl_timeline_add_transfer(tl, i, t->xfer_link[j], (uint64_t)t->xfer_bytes[j], &ct[fs], 1, &xt[j])) !=
            CL_OK)
          goto error;
      }
    }
  }
  free(mask);
  t->node_step = prod_step;
  free(deps);
  free(xfer_of);
  free(step_of_flat_node);
  *tl_out = tl;
  return CL_OK;
error:
  if (st == CL_ERR_NOMEM) cl_log_error("runtime: out of memory building the task graph");
  cl_timeline_destroy(tl);
  free(mask);
  free(prod_step);
  free(deps);
  free(xfer_of);
  free(step_of_flat_node);
  cl_rt_tasks_free(t);
  return st;
}
