/* Keras's layer order and Scission's block boundaries, derived from a graph whose nodes
 * carry their Keras layer (node->layer, see graph.h).
 *
 * model.layers order (tf.keras functional models, _map_graph_network): layers sorted by
 * depth, the longest path from the layer to the model output, deepest (the input) first;
 * ties broken by the order in which a depth-first walk from the output, visiting each
 * layer's inputs in call order, first reaches the layer.
 * Scission (scission_benchmark.py, create_valid_splits) walks model.layers[1:] with a
 * counter of open branches: + (outbound nodes - 1) for a layer consumed more than once,
 * - (inbound layers - 1) for a layer with several inputs; a block ends after every layer
 * at which the counter is 0. */
#include <stdlib.h>
#include <string.h>

#include "cleave/zoo.h"

typedef struct korder {
  int n;           /* layers */
  int *first, *last; /* node range of each layer (build order) */
  int *n_in;       /* input layers of each layer */
  int **in;
  int *n_out;      /* consumer layers */
  int *pre, *depth, *rank; /* DFS pre-order index, depth, model.layers index */
} korder;

static void korder_free(korder *o) {
  if (o->in)
    for (int l = 0; l < o->n; l++) free(o->in[l]);
  free(o->in);
  free(o->first);
  free(o->last);
  free(o->n_in);
  free(o->n_out);
  free(o->pre);
  free(o->depth);
  free(o->rank);
}

static void dfs(korder *o, int l, int *next) {
  if (o->pre[l] >= 0) return;
  o->pre[l] = (*next)++;
  for (int i = 0; i < o->n_in[l]; i++) dfs(o, o->in[l][i], next);
}

static const korder *g_sort; /* qsort has no context argument in C11 */
static int by_keras(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  if (g_sort->depth[x] != g_sort->depth[y]) return g_sort->depth[y] - g_sort->depth[x];
  return g_sort->pre[x] - g_sort->pre[y];
}

static cl_status korder_build(const cl_graph *g, korder *o) {
  memset(o, 0, sizeof *o);
  const int nn = cl_graph_size(g);
  const char *gname = cl_graph_name(g);
  for (int i = 0; i < nn; i++) {
    const cl_node *nd = cl_graph_node(g, i);
    int prev = i ? cl_graph_node(g, i - 1)->layer : -1;
    if (nd->layer != prev && nd->layer != prev + 1) {
      cl_log_error("graph %s: node %d '%s' has layer %d after layer %d: layers must be numbered in node "
                   "order without gaps", gname, i, nd->name, nd->layer, prev);
      return CL_ERR_INVALID;
    }
  }
  o->n = nn ? cl_graph_node(g, nn - 1)->layer + 1 : 0;
  const size_t n = (size_t)(o->n ? o->n : 1);
  o->first = malloc(sizeof(int) * n), o->last = malloc(sizeof(int) * n);
  o->n_in = calloc(n, sizeof(int)), o->n_out = calloc(n, sizeof(int));
  o->in = calloc(n, sizeof(int *));
  o->pre = malloc(sizeof(int) * n), o->depth = calloc(n, sizeof(int)), o->rank = malloc(sizeof(int) * n);
  if (!o->first || !o->last || !o->n_in || !o->n_out || !o->in || !o->pre || !o->depth || !o->rank)
    return CL_ERR_NOMEM;
  for (int i = nn - 1; i >= 0; i--) o->first[cl_graph_node(g, i)->layer] = i;
  for (int i = 0; i < nn; i++) o->last[cl_graph_node(g, i)->layer] = i;
  for (int l = 0; l < o->n; l++) {
    o->pre[l] = -1;
    int cap = 0;
    for (int i = o->first[l]; i <= o->last[l]; i++) cap += cl_graph_node(g, i)->n_inputs;
    o->in[l] = malloc(sizeof(int) * (size_t)(cap ? cap : 1));
    if (!o->in[l]) return CL_ERR_NOMEM;
    for (int i = o->first[l]; i <= o->last[l]; i++) {
      const cl_node *nd = cl_graph_node(g, i);
      for (int j = 0; j < nd->n_inputs; j++) {
        const cl_node *src = cl_graph_node(g, nd->inputs[j]);
        if (src->layer == l) continue;
        if (nd->inputs[j] != o->last[src->layer]) {
          cl_log_error("graph %s: node '%s' reads node '%s' inside layer %d, not that layer's output", gname,
                       nd->name, src->name, src->layer);
          return CL_ERR_INVALID;
        }
        o->in[l][o->n_in[l]++] = src->layer;
        o->n_out[src->layer]++;
      }
    }
  }
  /* depth: node order is topological, so one backward pass gives the longest paths */
  for (int l = o->n - 1; l >= 0; l--)
    for (int i = 0; i < o->n_in[l]; i++)
      if (o->depth[o->in[l][i]] < o->depth[l] + 1) o->depth[o->in[l][i]] = o->depth[l] + 1;
  int next = 0;
  if (o->n) dfs(o, o->n - 1, &next);
  if (next != o->n) {
    cl_log_error("graph %s: %d of %d layers do not lead to the output", gname, o->n - next, o->n);
    return CL_ERR_INVALID;
  }
  int *perm = malloc(sizeof(int) * n);
  if (!perm) return CL_ERR_NOMEM;
  for (int l = 0; l < o->n; l++) perm[l] = l;
  g_sort = o;
  qsort(perm, (size_t)o->n, sizeof(int), by_keras);
  g_sort = NULL;
  for (int r = 0; r < o->n; r++) o->rank[perm[r]] = r;
  free(perm);
  return CL_OK;
}

cl_status cl_zoo_keras_layers(const cl_graph *g, int *index) {
  korder o;
  cl_status st = korder_build(g, &o);
  if (st == CL_OK)
    for (int i = 0; i < cl_graph_size(g); i++) index[i] = o.rank[cl_graph_node(g, i)->layer];
  korder_free(&o);
  return st;
}

cl_status cl_zoo_scission_blocks(const cl_graph *g, cl_zoo_block **out, int *n_out) {
  *out = NULL;
  *n_out = 0;
  korder o;
  cl_status st = korder_build(g, &o);
  int *at = NULL; /* at[r] = layer with model.layers index r */
  cl_zoo_block *bl = NULL;
  if (st != CL_OK) goto done;
  st = CL_ERR_NOMEM;
  at = malloc(sizeof(int) * (size_t)(o.n ? o.n : 1));
  bl = calloc((size_t)(o.n ? o.n : 1), sizeof *bl);
  if (!at || !bl) goto done;
  for (int l = 0; l < o.n; l++) at[o.rank[l]] = l;
  int nb = 0, open = 0, start = 0;
  for (int r = 1; r < o.n; r++) {
    int l = at[r];
    if (o.n_out[l] > 1) open += o.n_out[l] - 1;
    if (o.n_in[l] > 1) open -= o.n_in[l] - 1;
    if (open != 0) continue;
    cl_zoo_block *b = &bl[nb++];
    b->first_layer = start;
    b->last_layer = r;
    b->first_node = cl_graph_size(g);
    b->last_node = -1;
    int count = 0;
    for (int q = start; q <= r; q++) {
      int a = o.first[at[q]], z = o.last[at[q]];
      if (a < b->first_node) b->first_node = a;
      if (z > b->last_node) b->last_node = z;
      count += z - a + 1;
    }
    if (count != b->last_node - b->first_node + 1 || b->last_node != o.last[l]) {
      cl_log_error("graph %s: Scission block %d (Keras layers %d-%d) is not the contiguous node range "
                   "ending at its output (nodes %d-%d, %d nodes)", cl_graph_name(g), nb - 1, start, r,
                   b->first_node, b->last_node, count);
      st = CL_ERR_UNSUPPORTED;
      goto done;
    }
    start = r + 1;
  }
  if (start != o.n) {
    cl_log_error("graph %s: Scission's walk ends with %d open branches", cl_graph_name(g), open);
    st = CL_ERR_INVALID;
    goto done;
  }
  *out = bl;
  *n_out = nb;
  bl = NULL;
  st = CL_OK;
done:
  free(bl);
  free(at);
  korder_free(&o);
  return st;
}
