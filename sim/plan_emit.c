/* Plans over profile steps -> runnable testbed YAML (cleave plan ... --emit-config).
 *
 * A cleave profile's units are executor steps (fused layers). The runtime builds each
 * testbed node's executor from the graph nodes the plan gives it, so a plan that keeps
 * every step whole reproduces the profiled steps exactly; this file maps steps to their
 * graph nodes, writes them as ranges of layer names, and proves the text by loading it
 * back through the testbed schema. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/config.h"
#include "cleave/exec.h"
#include "cleave/onnx.h"
#include "cleave/outfile.h"
#include "cleave/planner.h"
#include "cleave/testbed.h"
#include "cleave/zoo.h"

/* A layer name usable inside a plan item (the testbed's layer-list grammar). */
static int name_ok(const char *s) {
  if (!*s || s[0] == ' ' || s[strlen(s) - 1] == ' ' || strstr(s, "..") || !strcmp(s, "rest") || !strcmp(s, "*"))
    return 0;
  int digits = 1;
  for (const char *p = s; *p; p++) {
    if (*p == ',' || *p == '"' || *p == '\\' || *p == '#' || (unsigned char)*p < 0x20) return 0;
    if (*p < '0' || *p > '9') digits = 0;
  }
  return !digits;
}

static int node_name_ok(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 63) return 0;
  for (const char *p = s; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
          *p == '.' || *p == '-'))
      return 0;
  return 1;
}

/* One layer reference of node @p i: its name, or its index when the name is unusable. */
static size_t put_ref(char *b, const cl_graph *g, int i) {
  const char *nm = cl_graph_node(g, i)->name;
  if (nm && name_ok(nm) && cl_graph_find(g, nm) == i) return (size_t)sprintf(b, "%s", nm);
  return (size_t)sprintf(b, "%d", i);
}

/* The layers of testbed node @p t as "a..b, c" (ranges of consecutive graph nodes); NULL
 * when the node has none. Caller frees. */
static char *layer_spec(const cl_graph *g, const int *nol, int n, int t) {
  size_t cap = 1;
  for (int i = 0; i < n; i++) cap += (cl_graph_node(g, i)->name ? strlen(cl_graph_node(g, i)->name) : 0) + 16;
  char *spec = malloc(cap), *o = spec;
  if (!spec) return NULL;
  *o = '\0';
  for (int i = 0; i < n;) {
    if (nol[i] != t) {
      i++;
      continue;
    }
    int j = i;
    while (j + 1 < n && nol[j + 1] == t) j++;
    if (o != spec) o += sprintf(o, ", ");
    o += put_ref(o, g, i);
    if (j > i) {
      o += sprintf(o, "..");
      o += put_ref(o, g, j);
    }
    i = j + 1;
  }
  return spec;
}

static cl_status check_input(const cl_plan_config *pc) {
  if (!pc->model || pc->n_nodes < 1 || !pc->nodes || pc->n_steps < 1 || !pc->node_of_step || pc->inferences < 1 ||
      (pc->n_links > 0 && !pc->links)) {
    cl_log_error("plan config: model, nodes, steps and inferences >= 1 are required");
    return CL_ERR_INVALID;
  }
  for (int i = 0; i < pc->n_nodes; i++) {
    const cl_plan_node *n = &pc->nodes[i];
    if (!n->name || !node_name_ok(n->name)) {
      cl_log_error("plan config: node %d: name '%s' is not a valid testbed node name ([A-Za-z0-9_.-], <= 63 chars)", i,
                   n->name ? n->name : "(null)");
      return CL_ERR_INVALID;
    }
    for (int j = 0; j < i; j++)
      if (!strcmp(pc->nodes[j].name, n->name)) {
        cl_log_error("plan config: node name '%s' used twice", n->name);
        return CL_ERR_INVALID;
      }
    if (!n->tier || (strcmp(n->tier, "device") && strcmp(n->tier, "edge") && strcmp(n->tier, "cloud"))) {
      cl_log_error("plan config: node '%s': tier '%s' is not device, edge or cloud", n->name,
                   n->tier ? n->tier : "(null)");
      return CL_ERR_INVALID;
    }
    if (!(n->speed > 0) || n->speed > 1e9) {
      cl_log_error("plan config: node '%s': speed %g must be > 0", n->name, n->speed);
      return CL_ERR_INVALID;
    }
  }
  for (int k = 0; k < pc->n_steps; k++)
    if (pc->node_of_step[k] < 0 || pc->node_of_step[k] >= pc->n_nodes) {
      cl_log_error("plan config: step %d is placed on node %d (0..%d expected)", k, pc->node_of_step[k],
                   pc->n_nodes - 1);
      return CL_ERR_INVALID;
    }
  for (int l = 0; l < pc->n_links; l++) {
    const cl_plan_link *k = &pc->links[l];
    if (k->from < 0 || k->from >= pc->n_nodes || k->to < 0 || k->to >= pc->n_nodes || k->from == k->to ||
        !(k->bandwidth_Bps > 0) || !(k->latency_s >= 0)) {
      cl_log_error("plan config: link %d (%d -> %d, %g s, %g B/s) is invalid", l, k->from, k->to, k->latency_s,
                   k->bandwidth_Bps);
      return CL_ERR_INVALID;
    }
  }
  return CL_OK;
}

cl_status cl_plan_config_yaml(const cl_plan_config *pc, char **text) {
  *text = NULL;
  CL_TRY(check_input(pc));
  cl_graph *g = NULL;
  cl_exec *e = NULL;
  int *nol = NULL, *back = NULL;
  char *yaml = NULL;
  cl_testbed tb;
  memset(&tb, 0, sizeof tb);
  /* A zoo name or an ONNX file (its structure: the plan needs names and steps, not
   * weights). The importer / the zoo has logged why a model does not load. */
  cl_status st = cl_model_load_structure(pc->model, &g);
  if (st != CL_OK) {
    cl_log_error("plan config: cannot load model '%s' to map the profile's steps to layers", pc->model);
    return st;
  }
  cl_exec_opts o = cl_exec_opts_default();
  o.plan_only = 1;
  o.fuse = pc->fuse;
  if ((st = cl_exec_create(g, &o, &e)) != CL_OK) goto done;
  int n = cl_graph_size(g);
  if (cl_exec_step_count(e) != pc->n_steps) {
    cl_log_error("plan config: the profile of '%s' has %d steps, the executor (fuse=%d) %d: profile of another "
                 "model version?",
                 pc->model, pc->n_steps, pc->fuse, cl_exec_step_count(e));
    st = CL_ERR_INVALID;
    goto done;
  }
  nol = malloc(sizeof(int) * (size_t)n);
  back = malloc(sizeof(int) * (size_t)n);
  if (!nol || !back) {
    st = CL_ERR_NOMEM;
    goto done;
  }
  for (int i = 0; i < n; i++) nol[i] = -1;
  for (int k = 0; k < pc->n_steps; k++) {
    const cl_exec_step *s = cl_exec_step_get(e, k);
    for (int j = 0; j < s->n_nodes; j++) nol[s->nodes[j]] = pc->node_of_step[k];
  }
  for (int i = 0; i < n; i++)
    if (nol[i] < 0) {
      cl_log_error("plan config: graph node %d ('%s') belongs to no executor step", i, cl_graph_node(g, i)->name);
      st = CL_ERR_INTERNAL;
      goto done;
    }
  cl_config_writer *w;
  if ((st = cl_config_writer_create(&w)) != CL_OK) goto done;
  if (pc->comment) cl_config_writer_comment(w, pc->comment);
  cl_config_writer_map(w, 0);
  cl_config_writer_key_str(w, "model", pc->model);
  cl_config_writer_key_u64(w, "seed", pc->seed);
  cl_config_writer_key_str(w, "clock", "virtual");
  cl_config_writer_key(w, "nodes");
  cl_config_writer_seq(w, 0);
  for (int i = 0; i < pc->n_nodes; i++) {
    const cl_plan_node *nd = &pc->nodes[i];
    if (nd->note) cl_config_writer_comment(w, nd->note);
    cl_config_writer_map(w, 1);
    cl_config_writer_key_str(w, "name", nd->name);
    cl_config_writer_key_str(w, "tier", nd->tier);
    cl_config_writer_key_double(w, "speed", nd->speed);
    cl_config_writer_end(w);
  }
  cl_config_writer_end(w);
  if (pc->n_links) {
    cl_config_writer_key(w, "links");
    cl_config_writer_seq(w, 0);
  }
  for (int l = 0; l < pc->n_links; l++) {
    const cl_plan_link *k = &pc->links[l];
    cl_config_writer_map(w, 1);
    cl_config_writer_key_str(w, "from", pc->nodes[k->from].name);
    cl_config_writer_key_str(w, "to", pc->nodes[k->to].name);
    cl_config_writer_key_unit(w, "latency", CL_CONFIG_DURATION, k->latency_s);
    cl_config_writer_key_unit(w, "bandwidth", CL_CONFIG_BANDWIDTH, k->bandwidth_Bps);
    cl_config_writer_end(w);
  }
  if (pc->n_links) cl_config_writer_end(w);
  cl_config_writer_key(w, "plan");
  cl_config_writer_seq(w, 0);
  for (int t = 0; t < pc->n_nodes; t++) {
    char *spec = layer_spec(g, nol, n, t);
    if (spec && *spec) {
      cl_config_writer_map(w, 1);
      cl_config_writer_key_str(w, "node", pc->nodes[t].name);
      cl_config_writer_key_str(w, "layers", spec);
      cl_config_writer_end(w);
    }
    if (!spec) st = CL_ERR_NOMEM;
    free(spec);
  }
  cl_config_writer_end(w);
  cl_config_writer_key(w, "workload");
  cl_config_writer_map(w, 1);
  cl_config_writer_key_int(w, "inferences", pc->inferences);
  cl_config_writer_key_str(w, "arrival", "back_to_back");
  cl_config_writer_end(w);
  cl_config_writer_end(w);
  cl_status wst = cl_config_writer_finish(w, &yaml);
  if (st == CL_OK) st = wst;
  if (st != CL_OK) goto done;
  /* Prove it: the schema loads it and the plan resolves to the intended placement. */
  if ((st = cl_testbed_load_string("<emitted config>", yaml, &tb)) != CL_OK) {
    cl_log_error("plan config: the emitted YAML does not load (a bug):\n%s", yaml);
    st = CL_ERR_INTERNAL;
    goto done;
  }
  if ((st = cl_testbed_resolve_plan(&tb, g, back)) != CL_OK) {
    cl_log_error("plan config: the emitted plan does not resolve (a bug)");
    st = CL_ERR_INTERNAL;
    goto done;
  }
  for (int i = 0; i < n; i++)
    if (back[i] != nol[i]) {
      cl_log_error("plan config: graph node %d ('%s') resolves to node %d, intended %d (a bug)", i,
                   cl_graph_node(g, i)->name, back[i], nol[i]);
      st = CL_ERR_INTERNAL;
      goto done;
    }
  *text = yaml;
  yaml = NULL;
  st = CL_OK;
done:
  cl_testbed_free(&tb);
  free(yaml);
  free(nol);
  free(back);
  cl_exec_destroy(e);
  cl_graph_destroy(g);
  return st;
}

cl_status cl_plan_config_write(const cl_plan_config *pc, const char *path) {
  char *text = NULL;
  CL_TRY(cl_plan_config_yaml(pc, &text));
  cl_status st = cl_outfile_write(path, text, strlen(text), pc->replace);
  free(text);
  return st;
}
