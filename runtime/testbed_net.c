/* A testbed's link model: media, links (both directions), timed link conditions and
 * explicit routes, as one netmodel. Used by the runtime (rt_setup.c) and the
 * multi-user simulator (multiuser.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/testbed.h"

cl_status cl_testbed_netmodel(const cl_testbed *tb, cl_netmodel **out) {
  *out = NULL;
  const char *src = tb->source ? tb->source : "config";
  cl_netmodel *net = NULL;
  CL_TRY(cl_netmodel_create(tb->seed, &net));
  int *medium = malloc(sizeof(int) * (size_t)(tb->n_media + 1));
  int *fwd = malloc(sizeof(int) * (size_t)(tb->n_links + 1)), *rev = malloc(sizeof(int) * (size_t)(tb->n_links + 1));
  cl_status st = medium && fwd && rev ? CL_OK : CL_ERR_NOMEM;
  for (int m = 0; m < tb->n_media && st == CL_OK; m++) st = cl_netmodel_add_medium(net, tb->media[m], 0.0, &medium[m]);
  /* testbed link k -> netmodel ids fwd[k] and (both_ways) rev[k] */
  for (int k = 0; st == CL_OK && k < tb->n_links; k++) {
    const cl_tb_link *l = &tb->links[k];
    cl_link_desc d;
    memset(&d, 0, sizeof d);
    d.latency = l->latency;
    d.bandwidth = l->bandwidth;
    d.medium = l->medium >= 0 ? medium[l->medium] : -1;
    d.reorder = l->reorder;
    d.jitter = l->jitter;
    d.trace_t = l->trace_t;
    d.trace_bw = l->trace_bw;
    d.trace_n = l->trace_n;
    d.sharing = l->sharing;
    char name[160];
    for (int dir = 0; st == CL_OK && dir < (l->both_ways ? 2 : 1); dir++) {
      d.src = dir ? l->to : l->from;
      d.dst = dir ? l->from : l->to;
      snprintf(name, sizeof name, "%s->%s", tb->nodes[d.src].name, tb->nodes[d.dst].name); /* nodes or elements */
      d.name = name;
      st = cl_netmodel_add_link(net, &d, dir ? &rev[k] : &fwd[k]);
      if (st != CL_OK) cl_log_error("%s:%d: invalid link %s", src, l->line, name);
    }
    if (!l->both_ways) rev[k] = -1;
  }
  for (int c = 0; st == CL_OK && c < tb->n_conditions; c++) {
    const cl_tb_condition *cd = &tb->conditions[c];
    if (cd->node >= 0) continue; /* node conditions: the caller's */
    int id = cd->reverse ? rev[cd->link] : fwd[cd->link];
    cl_link_change ch = {id, cd->at, cd->bandwidth, cd->latency};
    st = cl_netmodel_add_changes(net, &ch, 1);
    if (st != CL_OK) cl_log_error("%s:%d: invalid link condition", src, cd->line);
  }
  if (st == CL_OK) st = cl_testbed_add_routes(tb, net); /* explicit routes; others: shortest paths */
  free(medium);
  free(fwd);
  free(rev);
  if (st != CL_OK) {
    if (st == CL_ERR_NOMEM) cl_log_error("%s: out of memory building the link model", src);
    cl_netmodel_destroy(net);
    return st;
  }
  *out = net;
  return CL_OK;
}

cl_status cl_testbed_plan_routes(const cl_graph *g, const int *node_of_layer, cl_netmodel *net) {
  for (int c = 0; c < cl_graph_size(g); c++) {
    const cl_node *cn = cl_graph_node(g, c);
    for (int q = 0; q < cn->n_inputs; q++) {
      int a = node_of_layer[cn->inputs[q]], b = node_of_layer[c], id;
      if (a == b || a < 0 || b < 0) continue;
      cl_status s = cl_netmodel_route(net, a, b, &id);
      if (s != CL_OK && s != CL_ERR_NOTFOUND) return s; /* no path: cl_rt_build names the tensor */
    }
  }
  return CL_OK;
}
