/* Graph IR: builder, shape inference dispatch, counts, cut points, seeded weights. */
#include "cleave/graph.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/ops.h"

struct cl_graph {
  char *name;
  cl_node *nodes;
  int n, cap;
  int *index;     /* node names: open addressing, node id or -1 (linear-time builds) */
  size_t icap;    /* power of two, > 2 * n */
};

static const struct {
  const char *name;
  int spatial;
} g_op_info[] = {
#define CL__OP_INFO(e, name, spatial) {name, spatial},
    CL_OP_MAP(CL__OP_INFO)
#undef CL__OP_INFO
};
_Static_assert(sizeof g_op_info / sizeof g_op_info[0] == CL_OP_COUNT, "op info table");

const char *cl_op_name(cl_op op) { return (op >= 0 && op < CL_OP_COUNT) ? g_op_info[op].name : "?"; }
int cl_op_is_spatial(cl_op op) { return (op >= 0 && op < CL_OP_COUNT) ? g_op_info[op].spatial : 0; }
cl_op cl_op_from_name(const char *name) {
  for (int i = 0; i < CL_OP_COUNT; i++)
    if (!strcmp(g_op_info[i].name, name)) return (cl_op)i;
  return CL_OP_COUNT;
}

static char *dupstr(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

static size_t name_hash(const char *s) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return (size_t)(h ^ (h >> 29)); /* masked to low bits: fold the better-mixed high ones in */
}

/* Slot of @p name in the index: its node, or the empty slot where it would go. */
static size_t index_slot(const cl_graph *g, const char *name) {
  size_t k = name_hash(name) & (g->icap - 1);
  while (g->index[k] >= 0 && strcmp(g->nodes[g->index[k]].name, name)) k = (k + 1) & (g->icap - 1);
  return k;
}

/* Makes room for node g->n in the index (rebuilt at twice the size when half full). */
static cl_status index_reserve(cl_graph *g) {
  if (g->index && 2 * (size_t)(g->n + 1) < g->icap) return CL_OK;
  size_t cap = 64;
  while (cap <= 2 * (size_t)(g->n + 1)) cap <<= 1;
  int *idx = malloc(sizeof(int) * cap);
  if (!idx) return CL_ERR_NOMEM;
  free(g->index);
  g->index = idx;
  g->icap = cap;
  for (size_t k = 0; k < cap; k++) idx[k] = -1;
  for (int i = 0; i < g->n; i++) idx[index_slot(g, g->nodes[i].name)] = i;
  return CL_OK;
}

cl_status cl_graph_create(const char *name, cl_graph **out) {
  *out = NULL;
  cl_graph *g = calloc(1, sizeof *g);
  if (!g) return CL_ERR_NOMEM;
  g->name = dupstr(name ? name : "graph");
  if (!g->name) {
    free(g);
    return CL_ERR_NOMEM;
  }
  *out = g;
  return CL_OK;
}

void cl_graph_destroy(cl_graph *g) {
  if (!g) return;
  for (int i = 0; i < g->n; i++) {
    free(g->nodes[i].name);
    free(g->nodes[i].inputs);
    free(g->nodes[i].weights);
  }
  free(g->nodes);
  free(g->index);
  free(g->name);
  free(g);
}

int cl_graph_add(cl_graph *g, cl_op op, const char *name, const int *inputs, int n_inputs,
                 const cl_op_params *params) {
  if (op < 0 || op >= CL_OP_COUNT) {
    cl_log_error("graph %s: node '%s': invalid op %d", g->name, name, (int)op);
    return CL_ERR_INVALID;
  }
  if (n_inputs < 0 || (op != CL_OP_INPUT && n_inputs < 1)) {
    cl_log_error("graph %s: node '%s' (%s): needs at least one input", g->name, name, cl_op_name(op));
    return CL_ERR_INVALID;
  }
  if (cl_graph_find(g, name) >= 0) {
    cl_log_error("graph %s: duplicate node name '%s'", g->name, name);
    return CL_ERR_INVALID;
  }
  cl_shape *in = n_inputs ? malloc(sizeof(cl_shape) * (size_t)n_inputs) : NULL;
  if (n_inputs && !in) return CL_ERR_NOMEM;
  for (int i = 0; i < n_inputs; i++) {
    if (inputs[i] < 0 || inputs[i] >= g->n) {
      cl_log_error("graph %s: node '%s': input %d refers to unknown node id %d", g->name, name, i,
                   inputs[i]);
      free(in);
      return CL_ERR_INVALID;
    }
    in[i] = g->nodes[inputs[i]].out;
  }
  if (g->n == g->cap) {
    int cap = g->cap ? 2 * g->cap : 64;
    cl_node *nn = realloc(g->nodes, sizeof(cl_node) * (size_t)cap);
    if (!nn) {
      free(in);
      return CL_ERR_NOMEM;
    }
    g->nodes = nn;
    g->cap = cap;
  }
  cl_node nd;
  memset(&nd, 0, sizeof nd);
  nd.op = op;
  if (params) nd.p = *params;
  nd.n_inputs = n_inputs;
  nd.name = dupstr(name);
  nd.inputs = n_inputs ? malloc(sizeof(int) * (size_t)n_inputs) : NULL;
  if (!nd.name || (n_inputs && !nd.inputs)) {
    free(nd.name);
    free(nd.inputs);
    free(in);
    return CL_ERR_NOMEM;
  }
  if (n_inputs) memcpy(nd.inputs, inputs, sizeof(int) * (size_t)n_inputs);
  const cl_op_impl *impl = cl_op_get(op);
  cl_status st = CL_OK;
  if (!impl->infer) {
    cl_log_error("graph %s: node '%s': op %s has no implementation", g->name, name, cl_op_name(op));
    st = CL_ERR_UNSUPPORTED;
  } else {
    st = impl->infer(&nd, in, n_inputs);
  }
  free(in);
  if (st == CL_OK && (nd.out.n <= 0 || nd.out.c <= 0 || nd.out.h <= 0 || nd.out.w <= 0)) {
    cl_log_error("graph %s: node '%s' (%s): empty output shape %dx%dx%dx%d", g->name, name,
                 cl_op_name(op), nd.out.n, nd.out.c, nd.out.h, nd.out.w);
    st = CL_ERR_INVALID;
  }
  if (st != CL_OK) {
    free(nd.name);
    free(nd.inputs);
    return st;
  }
  nd.layer = g->n;
  if (index_reserve(g) != CL_OK) {
    free(nd.name);
    free(nd.inputs);
    return CL_ERR_NOMEM;
  }
  g->index[index_slot(g, nd.name)] = g->n;
  g->nodes[g->n] = nd;
  return g->n++;
}

int cl_graph_add_input(cl_graph *g, const char *name, cl_shape shape) {
  cl_op_params p;
  memset(&p, 0, sizeof p);
  p.input.shape = shape;
  return cl_graph_add(g, CL_OP_INPUT, name, NULL, 0, &p);
}

const char *cl_graph_name(const cl_graph *g) { return g->name; }
int cl_graph_size(const cl_graph *g) { return g->n; }
const cl_node *cl_graph_node(const cl_graph *g, int id) {
  return (id >= 0 && id < g->n) ? &g->nodes[id] : NULL;
}
cl_node *cl_graph_node_mut(cl_graph *g, int id) { return (id >= 0 && id < g->n) ? &g->nodes[id] : NULL; }
int cl_graph_output(const cl_graph *g) { return g->n - 1; }

int cl_graph_find(const cl_graph *g, const char *name) {
  if (!g->index || !name) return -1;
  return g->index[index_slot(g, name)];
}

void cl_graph_consumer_counts(const cl_graph *g, int *counts) {
  memset(counts, 0, sizeof(int) * (size_t)g->n);
  for (int i = 0; i < g->n; i++)
    for (int j = 0; j < g->nodes[i].n_inputs; j++) counts[g->nodes[i].inputs[j]]++;
}

void cl_graph_stats_get(const cl_graph *g, cl_graph_stats *st) {
  memset(st, 0, sizeof *st);
  for (int i = 0; i < g->n; i++) {
    const cl_node *nd = &g->nodes[i];
    st->params += nd->n_params;
    st->macs += nd->macs;
    st->params_total += nd->n_params + (nd->op == CL_OP_BATCHNORM ? 2 * (int64_t)nd->out.c : 0);
    st->flops += nd->flops;
    st->act_bytes += cl_shape_numel(nd->out) * (int64_t)sizeof(float);
    if (nd->op != CL_OP_INPUT) st->n_layers++;
  }
}

int cl_graph_cut_points(const cl_graph *g, int *out, int cap) {
  /* last_use[i] = highest consumer id of node i. Cut after i is valid iff no node
   * j < i is consumed after i, i.e. max over j < i of last_use[j] <= i. */
  int count = 0;
  int reach = -1; /* max last_use over nodes 0..i-1 */
  int *last = malloc(sizeof(int) * (size_t)(g->n ? g->n : 1));
  if (!last) return 0;
  for (int i = 0; i < g->n; i++) last[i] = i;
  for (int i = 0; i < g->n; i++)
    for (int j = 0; j < g->nodes[i].n_inputs; j++)
      if (last[g->nodes[i].inputs[j]] < i) last[g->nodes[i].inputs[j]] = i;
  for (int i = 0; i + 1 < g->n; i++) {
    if (reach <= i) {
      if (count < cap) out[count] = i;
      count++;
    }
    if (last[i] > reach) reach = last[i];
  }
  free(last);
  return count;
}

uint64_t cl_rng_next(uint64_t *state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

float cl_rng_uniform(uint64_t *state, float lo, float hi) {
  double u = (double)(cl_rng_next(state) >> 11) * (1.0 / 9007199254740992.0);
  return (float)(lo + (hi - lo) * u);
}

static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

cl_status cl_graph_init_weights(cl_graph *g, uint64_t seed) {
  return cl_graph_init_weights_mask(g, seed, NULL);
}

cl_status cl_graph_init_weights_mask(cl_graph *g, uint64_t seed, const uint8_t *mask) {
  for (int i = 0; i < g->n; i++) {
    cl_node *nd = &g->nodes[i];
    if (mask && !mask[i]) continue;
    const cl_op_impl *impl = cl_op_get(nd->op);
    if (!nd->n_weights || !impl->init_weights) continue;
    if (!nd->weights) {
      nd->weights = malloc(sizeof(float) * nd->n_weights);
      if (!nd->weights) {
        cl_log_error("graph %s: out of memory for %zu weights of '%s'", g->name, nd->n_weights, nd->name);
        return CL_ERR_NOMEM;
      }
    }
    /* Seeded per node by name: weights do not depend on the order of allocation. */
    uint64_t rng = seed ^ hash_str(nd->name);
    cl_shape in[1] = {nd->n_inputs ? g->nodes[nd->inputs[0]].out : nd->out};
    impl->init_weights(nd, in, &rng);
  }
  return CL_OK;
}

void cl_graph_free_weights(cl_graph *g) {
  for (int i = 0; i < g->n; i++) {
    free(g->nodes[i].weights);
    g->nodes[i].weights = NULL;
  }
}

void cl_graph_input_rows(const cl_graph *g, int id, int input_index, int oy0, int oy1, int *iy0,
                         int *iy1) {
  const cl_node *nd = &g->nodes[id];
  int in_h = g->nodes[nd->inputs[input_index]].out.h;
  const cl_op_impl *impl = cl_op_get(nd->op);
  if (!cl_op_is_spatial(nd->op)) {
    *iy0 = 0;
    *iy1 = in_h;
  } else if (impl->in_rows) {
    impl->in_rows(nd, in_h, oy0, oy1, iy0, iy1);
  } else {
    /* element-wise; a broadcast [n,c,1,1] input (mul) needs its single row */
    *iy0 = in_h == 1 && nd->out.h > 1 ? 0 : oy0;
    *iy1 = in_h == 1 && nd->out.h > 1 ? 1 : oy1;
  }
  if (*iy0 < 0) *iy0 = 0;
  if (*iy1 > in_h) *iy1 = in_h;
  if (*iy1 < *iy0) *iy1 = *iy0;
}
