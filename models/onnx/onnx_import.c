/* ONNX importer: ModelProto -> cl_graph with weights.
 *
 * Values (tensors named in the ONNX graph) live in one hash table. A value is either
 * an IR node's output (rank 4 NCHW, or rank 2 [n, f] stored as n x f x 1 x 1), a
 * constant (initializer or Constant node, decoded lazily), or one of two pending forms
 * that have no IR node of their own:
 *   - a zero Pad, absorbed into the padding of the Conv / AveragePool that consumes it;
 *   - a MatMul by a constant, which becomes a fully-connected node once we know whether
 *     an Add of a constant bias follows (torch exports Linear-without-Gemm that way).
 * Only nodes the graph output depends on are imported, in file (topological) order, so
 * the output node is the last IR node, as cl_graph_output() requires.
 *
 * Every case the IR cannot represent exactly is an error naming the node and op. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <unistd.h>

#include "cleave/onnx.h"
#include "cleave/zoo.h"
#include "onnx_internal.h"

/* ---- value table ----------------------------------------------------------------- */

static uint64_t fnv1a_n(const char *s, size_t len) {
  uint64_t h = 1469598103934665603ull;
  for (size_t k = 0; k < len; k++) h = (h ^ (unsigned char)s[k]) * 1099511628211ull;
  return h ^ (h >> 29); /* the table masks low bits: fold the better-mixed high ones in */
}

static uint64_t fnv1a(const char *s) { return fnv1a_n(s, strlen(s)); }

static int val_find(const cl__onnx_imp *im, const char *name) {
  if (!name || !name[0]) return -1;
  for (size_t k = fnv1a(name) & (im->hcap - 1);; k = (k + 1) & (im->hcap - 1)) {
    int i = im->hash[k];
    if (i < 0) return -1;
    if (!strcmp(im->v[i].name, name)) return i;
  }
}

/* Adds a value named @p name (must be new); returns its index or -1 (logged). */
static int val_add(cl__onnx_imp *im, const char *name, int producer) {
  if (!name || !name[0]) return -2; /* unnamed optional output: nothing to record */
  if (val_find(im, name) >= 0) {
    cl_log_error("onnx: %s: value '%s' is defined twice (not a valid ONNX graph)", im->model, name);
    return -1;
  }
  if (im->nv == im->capv) {
    cl_log_error("onnx: %s: internal value table overflow", im->model);
    return -1;
  }
  int i = im->nv++;
  memset(&im->v[i], 0, sizeof im->v[i]);
  im->v[i].name = name;
  im->v[i].producer = producer;
  size_t k = fnv1a(name) & (im->hcap - 1);
  while (im->hash[k] >= 0) k = (k + 1) & (im->hcap - 1);
  im->hash[k] = i;
  return i;
}

/* String-keyed counters (keys: length-delimited views into strings that outlive the
 * map), so that naming nodes stays linear in the node count. */
typedef struct cl__onnx_smap {
  struct smap_ent {
    const char *s; /* NULL: empty slot */
    size_t len;
    int count, deeper;
  } *e;
  size_t cap, n;
} smap;

/* Slot of key s[0, len) in m (m->cap > 0): its entry or the empty slot for it. */
static struct smap_ent *smap_slot(const smap *m, const char *s, size_t len) {
  size_t k = fnv1a_n(s, len) & (m->cap - 1);
  for (; m->e[k].s; k = (k + 1) & (m->cap - 1))
    if (m->e[k].len == len && !memcmp(m->e[k].s, s, len)) break;
  return &m->e[k];
}

/* Entry of key s[0, len), or NULL (lookup only: @p s may be a temporary). */
static const struct smap_ent *smap_find(const smap *m, const char *s, size_t len) {
  if (!m || !m->cap) return NULL;
  const struct smap_ent *e = smap_slot(m, s, len);
  return e->s ? e : NULL;
}

/* Entry of key s[0, len): found, or inserted zeroed; NULL when out of memory. */
static struct smap_ent *smap_get(smap *m, const char *s, size_t len) {
  if (2 * (m->n + 1) > m->cap) {
    smap old = *m;
    m->cap = old.cap ? 2 * old.cap : 64;
    m->e = calloc(m->cap, sizeof *m->e);
    m->n = 0;
    if (!m->e) {
      *m = old;
      return NULL;
    }
    for (size_t k = 0; k < old.cap; k++)
      if (old.e[k].s) *smap_get(m, old.e[k].s, old.e[k].len) = old.e[k];
    free(old.e);
  }
  struct smap_ent *e = smap_slot(m, s, len);
  if (!e->s) {
    m->n++;
    *e = (struct smap_ent){s, len, 0, 0};
  }
  return e;
}

static void smap_free(smap *m) {
  if (m) free(m->e);
  free(m);
}

static cl__onnx_val *resolve(cl__onnx_imp *im, int i) {
  while (im->v[i].kind == CL__ONNX_ALIAS) i = im->v[i].alias;
  return &im->v[i];
}

/* ---- node context for handlers --------------------------------------------------- */

int cl__onnx_has_input(const cl__onnx_nctx *cx, size_t k) {
  return k < cx->n->n_input && cx->n->input[k] && cx->n->input[k][0];
}

cl__onnx_val *cl__onnx_input_val(cl__onnx_nctx *cx, size_t k) {
  if (!cl__onnx_has_input(cx, k)) {
    CL__ONNX_ERR(cx, "input %zu is missing", k);
    return NULL;
  }
  int i = val_find(cx->im, cx->n->input[k]);
  if (i < 0 || cx->im->v[i].kind == CL__ONNX_UNSET) {
    CL__ONNX_ERR(cx, "input %zu '%s' is not produced by any earlier node, initializer or graph input", k,
         cx->n->input[k]);
    return NULL;
  }
  return resolve(cx->im, i);
}

cl_status cl__onnx_out_val(cl__onnx_nctx *cx, size_t k, cl__onnx_val **out) {
  *out = NULL;
  if (k >= cx->n->n_output || !cx->n->output[k] || !cx->n->output[k][0]) {
    CL__ONNX_ERR(cx, "output %zu is missing", k);
    return CL_ERR_INVALID;
  }
  int i = val_find(cx->im, cx->n->output[k]);
  CL_ASSERT(i >= 0); /* all outputs were registered before import */
  *out = &cx->im->v[i];
  return CL_OK;
}

/* Is output k (k >= 1) of this node consumed anywhere? Extra outputs (MaxPool indices,
 * Dropout mask, BN running stats) have no IR counterpart. */
int cl__onnx_output_used(const cl__onnx_nctx *cx, size_t k) {
  if (k >= cx->n->n_output || !cx->n->output[k] || !cx->n->output[k][0]) return 0;
  const int i = val_find(cx->im, cx->n->output[k]);
  return i >= 0 && cx->im->v[i].used;
}

cl_status cl__onnx_const_of(cl__onnx_nctx *cx, cl__onnx_val *v, const char *what) {
  if (v->kind != CL__ONNX_CONST) {
    CL__ONNX_ERR(cx, "%s '%s' must be a constant (initializer or Constant node); cleave does not "
         "evaluate computed %s", what, v->name, what);
    return CL_ERR_UNSUPPORTED;
  }
  if (!v->decoded) {
    char w[768];
    if (snprintf(w, sizeof w, "initializer '%s' (%s of %s)", v->name, what, cx->label) >= (int)sizeof w)
      w[sizeof w - 1] = '\0'; /* names longer than the buffer are cut in the message */
    /* The decoded tensor is what the importer reads from now on: float32 raw data is
     * taken over from the protobuf, other data copied and the protobuf's bytes released
     * (the unpacked message is freed with protobuf-c's default allocator, malloc/free). */
    CL_TRY(cl__onnx_const_take(v->t, w, cx->im->structure_only, &v->c));
    v->decoded = 1;
  }
  return CL_OK;
}

cl_status cl__onnx_const_input(cl__onnx_nctx *cx, size_t k, const char *what, cl__onnx_const **c) {
  cl__onnx_val *v = cl__onnx_input_val(cx, k);
  if (!v) return CL_ERR_INVALID;
  CL_TRY(cl__onnx_const_of(cx, v, what));
  *c = &v->c;
  return CL_OK;
}

/* Module path of a torch.onnx scoped name: "/layer1/layer1.0/conv1/Conv" has scopes
 * "layer1", "layer1.0" (a child's full path) and "conv1" (an attribute name), giving
 * "layer1.0.conv1"; *op_part points at the last component ("Conv"). Empty path for
 * unscoped names. */
static void scope_path(const char *nm, char *path, size_t cap, const char **op_part) {
  path[0] = '\0';
  *op_part = nm;
  if (!nm || nm[0] != '/' || !strchr(nm + 1, '/')) return;
  const char *last = strrchr(nm, '/');
  *op_part = last + 1;
  for (const char *p = nm + 1; p < last;) {
    const char *e = strchr(p, '/');
    char comp[256];
    size_t len = (size_t)(e - p) < sizeof comp - 1 ? (size_t)(e - p) : sizeof comp - 1;
    memcpy(comp, p, len);
    comp[len] = '\0';
    size_t pl = strlen(path);
    if (pl && !strncmp(comp, path, pl) && comp[pl] == '.')
      snprintf(path, cap, "%s", comp);
    else if (pl && pl + 1 < cap && snprintf(path + pl, cap - pl, ".%s", comp) >= (int)(cap - pl))
      path[cap - 1] = '\0'; /* over-long paths are cut */
    else if (!pl)
      snprintf(path, cap, "%s", comp);
    p = e + 1;
  }
}

/* IR node name: the module path for an op that is its module's only computation
 * ("layer1.0.conv1"), "<path>.<Op>" for functional ops inside a module scope
 * ("layer1.0.Add"), the plain ONNX name otherwise; repeats get ":1", ":2", ... */
static void ir_name(const cl__onnx_nctx *cx, char *buf, size_t cap) {
  const cl__onnx_imp *im = cx->im;
  const char *nm = cx->n->name;
  if (!nm || !nm[0]) {
    snprintf(buf, cap, "%s_%d", cx->n->op_type, cx->idx);
  } else {
    char path[256];
    const char *op_part;
    scope_path(nm, path, sizeof path, &op_part);
    if (!path[0]) {
      snprintf(buf, cap, "%s", nm[0] == '/' ? nm + 1 : nm);
    } else {
      /* Leaf scope: exactly one imported node has this path and no path extends it. */
      const struct smap_ent *e = smap_find(im->scopes, path, strlen(path));
      if (e && e->count == 1 && !e->deeper)
        snprintf(buf, cap, "%s", path);
      else
        snprintf(buf, cap, "%s.%s", path, op_part);
    }
  }
  const int first = cl_graph_find(im->graph, buf);
  if (first >= 0) {
    /* Key: the first node's own (graph-owned) name; the count remembers the last suffix
     * used, so n repeats of one name cost O(n), not O(n^2). */
    const char *base = cl_graph_node(im->graph, first)->name;
    const size_t len = strlen(base);
    struct smap_ent *e = smap_get(im->repeats, base, len);
    int k = e ? e->count : 0;
    do
      snprintf(buf + len, cap - len, ":%d", ++k);
    while (cl_graph_find(im->graph, buf) >= 0);
    if (e) e->count = k;
  }
}

/* Adds an IR node named after this ONNX node; returns id >= 0 or a negative status. */
int cl__onnx_add_node(cl__onnx_nctx *cx, cl_op op, const int *inputs, int n_in, const cl_op_params *p) {
  char name[300];
  ir_name(cx, name, sizeof name);
  int id = cl_graph_add(cx->im->graph, op, name, inputs, n_in, p);
  if (id < 0) CL__ONNX_ERR(cx, "cannot be represented as a cleave %s node (see the error above)", cl_op_name(op));
  return id;
}

cl_status cl__onnx_set_node_out(cl__onnx_nctx *cx, int id, int rank) {
  cl__onnx_val *o;
  CL_TRY(cl__onnx_out_val(cx, 0, &o));
  o->kind = CL__ONNX_NODE;
  o->node = id;
  o->rank = rank;
  return CL_OK;
}

/* An FC node from a pending MatMul (+ optional bias of N values). */
int cl__onnx_emit_matmul(cl__onnx_imp *im, cl__onnx_val *v, const float *bias, int has_bias) {
  const Onnx__NodeProto *mn = im->g->node[v->producer];
  cl__onnx_nctx cx = {.im = im, .n = mn, .idx = v->producer};
  cl__onnx_node_label(mn, v->producer, cx.label, sizeof cx.label);
  cl_op_params p;
  memset(&p, 0, sizeof p);
  p.fc.out_features = v->mm_n;
  p.fc.has_bias = has_bias != 0;
  int id = cl__onnx_add_node(&cx, CL_OP_FC, &v->node, 1, &p);
  if (id < 0 || im->structure_only) return id;
  cl_node *nd = cl_graph_node_mut(im->graph, id);
  const size_t kn = nd->n_weights - (has_bias ? (size_t)v->mm_n : 0);
  nd->weights = malloc(sizeof(float) * nd->n_weights);
  if (!nd->weights) return CL_ERR_NOMEM;
  memcpy(nd->weights, v->mm_w, sizeof(float) * kn);
  if (has_bias) memcpy(nd->weights + kn, bias, sizeof(float) * (size_t)v->mm_n);
  return id;
}

/* Input k as an IR tensor: materialises a pending MatMul; a pending Pad or a constant
 * cannot be consumed here. */
cl_status cl__onnx_node_input(cl__onnx_nctx *cx, size_t k, int *id, int *rank) {
  cl__onnx_val *v = cl__onnx_input_val(cx, k);
  if (!v) return CL_ERR_INVALID;
  if (v->kind == CL__ONNX_MATMUL) {
    int fc = cl__onnx_emit_matmul(cx->im, v, NULL, 0);
    if (fc < 0) return (cl_status)fc;
    free(v->mm_w);
    v->mm_w = NULL;
    v->kind = CL__ONNX_NODE;
    v->node = fc;
    v->rank = 2;
  }
  if (v->kind == CL__ONNX_PAD) {
    CL__ONNX_ERR(cx, "consumes the output of a Pad; cleave only folds zero padding into a directly "
         "following Conv or AveragePool");
    return CL_ERR_UNSUPPORTED;
  }
  if (v->kind == CL__ONNX_CONST) {
    CL__ONNX_ERR(cx, "input %zu '%s' is a constant; cleave supports %s only on computed tensors", k, v->name,
         cx->n->op_type);
    return CL_ERR_UNSUPPORTED;
  }
  *id = v->node;
  *rank = v->rank;
  return CL_OK;
}

cl_shape cl__onnx_shape_of(const cl__onnx_imp *im, int id) { return cl_graph_node(im->graph, id)->out; }

/* Copies @p n floats into a fresh weights array of node @p id, checking the count. */
cl_status cl__onnx_set_weights(cl__onnx_nctx *cx, int id, const float *const *parts, const size_t *lens, int n_parts) {
  cl_node *nd = cl_graph_node_mut(cx->im->graph, id);
  size_t total = 0;
  for (int k = 0; k < n_parts; k++) total += lens[k];
  if (total != nd->n_weights) {
    CL__ONNX_ERR(cx, "weights hold %zu values, the %s node needs %zu", total, cl_op_name(nd->op), nd->n_weights);
    return CL_ERR_INVALID;
  }
  if (cx->im->structure_only) return CL_OK; /* shapes and counts only */
  nd->weights = malloc(sizeof(float) * (total ? total : 1));
  if (!nd->weights) return CL_ERR_NOMEM;
  size_t off = 0;
  for (int k = 0; k < n_parts; k++) {
    if (lens[k]) memcpy(nd->weights + off, parts[k], sizeof(float) * lens[k]);
    off += lens[k];
  }
  return CL_OK;
}


/* ---- driver ---------------------------------------------------------------------- */

static int64_t default_opset(const Onnx__ModelProto *m) {
  for (size_t k = 0; k < m->n_opset_import; k++) {
    const char *d = m->opset_import[k]->domain;
    if (!d || !d[0] || !strcmp(d, "ai.onnx")) return m->opset_import[k]->version;
  }
  return -1;
}

/* The single graph input (not an initializer) as an IR input node. */
static cl_status import_input(cl__onnx_imp *im, const cl_onnx_opts *opts) {
  const Onnx__GraphProto *g = im->g;
  const Onnx__ValueInfoProto *in = NULL;
  int n_real = 0;
  for (size_t k = 0; k < g->n_input; k++) {
    int i = val_find(im, g->input[k]->name);
    if (i >= 0 && im->v[i].kind == CL__ONNX_CONST) continue; /* IR < 4 lists initializers as inputs */
    n_real++;
    in = g->input[k];
  }
  if (n_real != 1) {
    cl_log_error("onnx: %s: the graph has %d inputs (besides initializers); cleave graphs take "
                 "exactly one", im->model, n_real);
    return CL_ERR_UNSUPPORTED;
  }
  const char *nm = in->name ? in->name : "";
  const Onnx__TypeProto *ty = in->type;
  if (!ty || ty->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !ty->tensor_type) {
    cl_log_error("onnx: %s: input '%s' is not a tensor", im->model, nm);
    return CL_ERR_UNSUPPORTED;
  }
  if (ty->tensor_type->elem_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) {
    cl_log_error("onnx: %s: input '%s' has element type %d; cleave runs float32 (1) models", im->model,
                 nm, (int)ty->tensor_type->elem_type);
    return CL_ERR_UNSUPPORTED;
  }
  const Onnx__TensorShapeProto *sh = ty->tensor_type->shape;
  const int rank = sh ? (int)sh->n_dim : -1;
  if (rank != 4 && rank != 2) {
    cl_log_error("onnx: %s: input '%s' has rank %d; cleave takes NCHW (rank 4) or [N, features] "
                 "(rank 2) inputs", im->model, nm, rank);
    return CL_ERR_UNSUPPORTED;
  }
  const cl_shape want = opts ? opts->input : (cl_shape){0, 0, 0, 0};
  const int use_want = want.n || want.c || want.h || want.w;
  const int wv[4] = {want.n, want.c, rank == 4 ? want.h : 1, rank == 4 ? want.w : 1};
  int dims[4] = {1, 1, 1, 1};
  char model_dims[128] = "";
  for (int k = 0; k < rank; k++) {
    const Onnx__TensorShapeProto__Dimension *d = sh->dim[k];
    size_t l = strlen(model_dims);
    if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
      snprintf(model_dims + l, sizeof model_dims - l, "%s%lld", k ? "x" : "", (long long)d->dim_value);
      if (d->dim_value < 1 || d->dim_value > (1 << 24)) {
        cl_log_error("onnx: %s: input '%s' dimension %d is %lld", im->model, nm, k, (long long)d->dim_value);
        return CL_ERR_INVALID;
      }
      dims[k] = (int)d->dim_value;
    } else {
      snprintf(model_dims + l, sizeof model_dims - l, "%s%s", k ? "x" : "",
               d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM ? d->dim_param : "?");
      dims[k] = -1;
    }
  }
  for (int k = 0; k < rank; k++) {
    if (use_want && dims[k] > 0 && wv[k] != dims[k]) {
      cl_log_error("onnx: %s: input '%s' has shape %s in the model, but %dx%dx%dx%d was requested "
                   "(dimension %d differs)", im->model, nm, model_dims, want.n, want.c, want.h, want.w, k);
      return CL_ERR_INVALID;
    }
    if (dims[k] < 0) {
      if (use_want && wv[k] >= 1) {
        dims[k] = wv[k];
      } else if (k == 0 && !use_want) {
        /* A symbolic batch ("batch", "N": torch.onnx.export's dynamic_axes) is 1: cleave
         * runs single inferences, and every load of the file (with or without weights)
         * must give the same graph. */
        dims[k] = 1;
      } else {
        cl_log_error("onnx: %s: input '%s' has symbolic shape %s; give the input shape with "
                     "`cleave infer --shape %s` (cl_onnx_opts.input) or re-export with static shapes",
                     im->model, nm, model_dims, rank == 4 ? "NxCxHxW" : "NxF");
        return CL_ERR_INVALID;
      }
    }
  }
  cl_shape s = {dims[0], dims[1], rank == 4 ? dims[2] : 1, rank == 4 ? dims[3] : 1};
  int id = cl_graph_add_input(im->graph, "input", s);
  if (id < 0) return (cl_status)id;
  int i = val_find(im, nm);
  if (i < 0) i = val_add(im, nm, -1);
  if (i < 0) return CL_ERR_INVALID;
  im->v[i].kind = CL__ONNX_NODE;
  im->v[i].node = id;
  im->v[i].rank = rank;
  return CL_OK;
}

static cl_status import_graph(cl__onnx_imp *im, const cl_onnx_opts *opts) {
  Onnx__GraphProto *g = im->g;
  size_t n_names = g->n_initializer + g->n_input + 1;
  for (size_t k = 0; k < g->n_node; k++) n_names += g->node[k]->n_output;
  im->capv = (int)n_names;
  im->hcap = 16;
  while (im->hcap < 2 * n_names) im->hcap <<= 1;
  im->v = calloc(n_names, sizeof *im->v);
  im->hash = malloc(sizeof(int) * im->hcap);
  uint8_t *needed = calloc(g->n_node + 1, 1);
  int *stack = malloc(sizeof(int) * (g->n_node + 1));
  cl_status st = CL_OK;
  if (!im->v || !im->hash || !needed || !stack) {
    st = CL_ERR_NOMEM;
    goto done;
  }
  for (size_t k = 0; k < im->hcap; k++) im->hash[k] = -1;
  for (size_t k = 0; k < g->n_initializer; k++) {
    int i = val_add(im, g->initializer[k]->name, -1);
    if (i < 0) {
      if (i == -2) cl_log_error("onnx: %s: initializer #%zu has no name", im->model, k);
      st = CL_ERR_INVALID;
      goto done;
    }
    im->v[i].kind = CL__ONNX_CONST;
    im->v[i].t = g->initializer[k];
  }
  if (g->n_sparse_initializer) {
    cl_log_error("onnx: %s: sparse initializers are not supported", im->model);
    st = CL_ERR_UNSUPPORTED;
    goto done;
  }
  if ((st = import_input(im, opts)) != CL_OK) goto done;
  for (size_t k = 0; k < g->n_node; k++) {
    const Onnx__NodeProto *n = g->node[k];
    if (!n->op_type) {
      cl_log_error("onnx: %s: node #%zu has no op_type", im->model, k);
      st = CL_ERR_INVALID;
      goto done;
    }
    for (size_t q = 0; q < n->n_output; q++)
      if (val_add(im, n->output[q], (int)k) == -1) {
        st = CL_ERR_INVALID;
        goto done;
      }
  }
  for (size_t k = 0; k < g->n_node; k++)
    for (size_t q = 0; q < g->node[k]->n_input; q++) {
      const int i = val_find(im, g->node[k]->input[q]);
      if (i >= 0) im->v[i].used = 1;
    }
  for (size_t k = 0; k < g->n_output; k++) {
    const int i = val_find(im, g->output[k]->name);
    if (i >= 0) im->v[i].used = 1;
  }
  if (g->n_output != 1) {
    cl_log_error("onnx: %s: the graph has %zu outputs; cleave graphs have exactly one", im->model,
                 g->n_output);
    st = CL_ERR_UNSUPPORTED;
    goto done;
  }
  const int out_i = val_find(im, g->output[0]->name);
  if (out_i < 0) {
    cl_log_error("onnx: %s: graph output '%s' is not produced by any node", im->model,
                 g->output[0]->name ? g->output[0]->name : "");
    st = CL_ERR_INVALID;
    goto done;
  }
  /* Mark the nodes the output depends on (unused branches are not imported). */
  int sp = 0;
  if (im->v[out_i].producer >= 0) {
    needed[im->v[out_i].producer] = 1;
    stack[sp++] = im->v[out_i].producer;
  }
  while (sp > 0) {
    const Onnx__NodeProto *n = g->node[stack[--sp]];
    for (size_t q = 0; q < n->n_input; q++) {
      int i = val_find(im, n->input[q]);
      if (i >= 0 && im->v[i].producer >= 0 && !needed[im->v[i].producer]) {
        needed[im->v[i].producer] = 1;
        stack[sp++] = im->v[i].producer;
      }
    }
  }
  im->paths = calloc(g->n_node + 1, sizeof *im->paths);
  if (!im->paths) {
    st = CL_ERR_NOMEM;
    goto done;
  }
  for (size_t k = 0; k < g->n_node; k++) {
    char path[256];
    const char *op_part;
    scope_path(g->node[k]->name, path, sizeof path, &op_part);
    /* Ops that make no IR node of their own do not count as a module's computation. */
    const char *ot = g->node[k]->op_type;
    const int no_node = !strcmp(ot, "Constant") || !strcmp(ot, "Identity") || !strcmp(ot, "Pad") ||
                        (!strcmp(ot, "Concat") && g->node[k]->n_input == 1);
    if (needed[k] && path[0] && !no_node &&
        !(im->paths[k] = strdup(path))) {
      st = CL_ERR_NOMEM;
      goto done;
    }
  }
  /* Per module path: how many imported nodes have it, and whether a longer path
   * extends it ("layer1" by "layer1.0.conv1"): the leaf-scope test of ir_name(). */
  im->scopes = calloc(1, sizeof *im->scopes);
  im->repeats = calloc(1, sizeof *im->repeats);
  if (!im->scopes || !im->repeats) {
    st = CL_ERR_NOMEM;
    goto done;
  }
  for (size_t k = 0; k < g->n_node; k++) {
    const char *p = im->paths[k];
    struct smap_ent *e = p ? smap_get(im->scopes, p, strlen(p)) : NULL;
    if (p && !e) {
      st = CL_ERR_NOMEM;
      goto done;
    }
    if (e) e->count++;
    for (const char *d = p ? strchr(p, '.') : NULL; d; d = strchr(d + 1, '.')) {
      if (!(e = smap_get(im->scopes, p, (size_t)(d - p)))) {
        st = CL_ERR_NOMEM;
        goto done;
      }
      e->deeper = 1;
    }
  }
  for (size_t k = 0; k < g->n_node; k++) {
    if (!needed[k]) continue;
    cl__onnx_nctx cx = {.im = im, .n = g->node[k], .idx = (int)k};
    cl__onnx_node_label(cx.n, (int)k, cx.label, sizeof cx.label);
    if ((st = cl__onnx_import_node(&cx)) != CL_OK) goto done;
  }
  cl__onnx_val *ov = resolve(im, out_i);
  if (ov->kind == CL__ONNX_MATMUL) {
    int fc = cl__onnx_emit_matmul(im, ov, NULL, 0);
    if (fc < 0) {
      st = (cl_status)fc;
      goto done;
    }
    free(ov->mm_w);
    ov->mm_w = NULL;
    ov->kind = CL__ONNX_NODE;
    ov->node = fc;
  }
  if (ov->kind != CL__ONNX_NODE || ov->node != cl_graph_size(im->graph) - 1 || ov->node == 0) {
    cl_log_error("onnx: %s: graph output '%s' is %s; cleave needs it to be the last computed "
                 "tensor", im->model, ov->name,
                 ov->kind == CL__ONNX_CONST ? "a constant" : ov->kind == CL__ONNX_PAD ? "a bare Pad" :
                 ov->node == 0 ? "the graph input itself" : "not the last computed tensor");
    st = CL_ERR_UNSUPPORTED;
  }
done:
  if (im->v)
    for (int i = 0; i < im->nv; i++) {
      cl__onnx_const_fini(&im->v[i].c);
      free(im->v[i].mm_w);
    }
  if (im->paths)
    for (size_t k = 0; k < g->n_node; k++) free(im->paths[k]);
  free(im->paths);
  im->paths = NULL;
  smap_free(im->scopes);
  smap_free(im->repeats);
  im->scopes = im->repeats = NULL;
  free(im->v);
  free(im->hash);
  free(needed);
  free(stack);
  im->v = NULL;
  im->hash = NULL;
  return st;
}

cl_onnx_opts cl_onnx_opts_default(void) {
  cl_onnx_opts o;
  memset(&o, 0, sizeof o);
  return o;
}

static Onnx__ModelProto *unpack(const void *buf, size_t len, const char *model) {
  if (cl__onnx_check_depth(buf, len, model) != CL_OK) return NULL;
  Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, buf);
  if (!m) /* (the depth check logged malformed wire data already; this is the rest) */
    cl_log_error("onnx: %s: not a valid ONNX model: the protobuf does not parse (%zu bytes; "
                 "truncated or corrupt file?)", model, len);
  return m;
}

/* Imports and frees the unpacked model @p m (@p len: serialized size, for messages). */
static cl_status import_model(Onnx__ModelProto *m, size_t len, const char *model, const cl_onnx_opts *opts,
                              cl_graph **out) {
  cl_status st = CL_OK;
  cl__onnx_imp im;
  memset(&im, 0, sizeof im);
  im.model = model;
  im.g = m->graph;
  im.opset = default_opset(m);
  im.structure_only = opts && opts->structure_only;
  if (!m->graph || (!m->graph->n_node && !m->graph->n_input)) {
    cl_log_error("onnx: %s: the file has no graph (is it an ONNX model? %zu bytes)", model, len);
    st = CL_ERR_INVALID;
  } else if (im.opset < 1) {
    cl_log_error("onnx: %s: the model imports no ai.onnx opset", model);
    st = CL_ERR_INVALID;
  } else if (im.opset > 21) {
    cl_log_error("onnx: %s: opset %lld is newer than the importer knows (<= 21); re-export with an "
                 "older opset", model, (long long)im.opset);
    st = CL_ERR_UNSUPPORTED;
  }
  if (st == CL_OK) {
    const char *base = strrchr(model, '/');
    base = base ? base + 1 : model;
    char gname[256];
    snprintf(gname, sizeof gname, "%s", base);
    size_t gl = strlen(gname);
    if (gl > 5 && cl_onnx_is_path(gname)) gname[gl - 5] = '\0';
    st = cl_graph_create(gname, &im.graph);
  }
  if (st == CL_OK) st = import_graph(&im, opts);
  onnx__model_proto__free_unpacked(m, NULL);
  if (st != CL_OK) {
    cl_graph_destroy(im.graph);
    return st;
  }
  *out = im.graph;
  return CL_OK;
}

cl_status cl_onnx_load_buffer(const void *buf, size_t len, const char *name, const cl_onnx_opts *opts,
                              cl_graph **out) {
  *out = NULL;
  const char *model = name ? name : "model";
  Onnx__ModelProto *m = NULL;
  if (opts && opts->structure_only) {
    uint8_t *sk = NULL;
    size_t sl = 0;
    CL_TRY(cl__onnx_skim(buf, len, model, &sk, &sl));
    m = unpack(sk, sl, model);
    free(sk);
  } else {
    m = unpack(buf, len, model);
  }
  return m ? import_model(m, len, model, opts, out) : CL_ERR_INVALID;
}

/* Import of a file through a read-only mapping (the page cache, not a private copy,
 * holds the bytes while protobuf-c unpacks them, or while a structure-only import skims
 * them). */
static cl_status load_mapped(const char *path, size_t len, const cl_onnx_opts *opts, cl_graph **out) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    cl_log_error("onnx: cannot open '%s'", path);
    return CL_ERR_IO;
  }
  void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (map == MAP_FAILED) {
    cl_log_error("onnx: cannot map '%s' (%zu bytes)", path, len);
    return CL_ERR_IO;
  }
  cl_status st = cl_onnx_load_buffer(map, len, path, opts, out);
  munmap(map, len);
  return st;
}

cl_status cl_onnx_load(const char *path, const cl_onnx_opts *opts, cl_graph **out) {
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) {
    cl_log_error("onnx: cannot open '%s'", path);
    return CL_ERR_IO;
  }
  long len = -1;
  if (fseek(f, 0, SEEK_END) == 0) len = ftell(f);
  if (len < 0 || fseek(f, 0, SEEK_SET) != 0) {
    cl_log_error("onnx: cannot determine the size of '%s'", path);
    fclose(f);
    return CL_ERR_IO;
  }
  if (len == 0) {
    cl_log_error("onnx: '%s' is empty", path);
    fclose(f);
    return CL_ERR_INVALID;
  }
  fclose(f);
  /* protobuf-c copies every bytes field, so the file is only read during the unpack:
   * map it rather than copying it into a buffer first. */
  return load_mapped(path, (size_t)len, opts, out);
}

int cl_onnx_is_path(const char *model) {
  size_t n = model ? strlen(model) : 0;
  if (n < 5) return 0;
  const char *e = model + n - 5;
  return e[0] == '.' && tolower((unsigned char)e[1]) == 'o' && tolower((unsigned char)e[2]) == 'n' &&
         tolower((unsigned char)e[3]) == 'n' && tolower((unsigned char)e[4]) == 'x';
}

cl_status cl_model_load(const char *model, cl_graph **out, int *has_weights) {
  if (has_weights) *has_weights = 0;
  if (cl_onnx_is_path(model)) {
    CL_TRY(cl_onnx_load(model, NULL, out));
    if (has_weights) *has_weights = 1;
    return CL_OK;
  }
  return cl_zoo_build(model, out);
}

cl_status cl_model_load_structure(const char *model, cl_graph **out) {
  if (cl_onnx_is_path(model)) {
    cl_onnx_opts o = cl_onnx_opts_default();
    o.structure_only = 1;
    return cl_onnx_load(model, &o, out);
  }
  return cl_zoo_build(model, out);
}
