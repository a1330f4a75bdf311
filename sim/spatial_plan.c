/* Spatial partition arithmetic: per-device row slices / fused tiles of a run of
 * spatial layers, their receptive fields, halo transfers and MAC counts. */
#include "cleave/spatial.h"
#include "cleave/vec.h"

#include <stdlib.h>
#include <string.h>

#define IMIN(a, b) ((a) < (b) ? (a) : (b))
#define IMAX(a, b) ((a) > (b) ? (a) : (b))

static const cl_box k_empty = {0, 0, 0, 0};

static cl_box box_hull(cl_box a, cl_box b) {
  if (cl_box_empty(a)) return b;
  if (cl_box_empty(b)) return a;
  cl_box r = {IMIN(a.y0, b.y0), IMAX(a.y1, b.y1), IMIN(a.x0, b.x0), IMAX(a.x1, b.x1)};
  return r;
}

static cl_box box_meet(cl_box a, cl_box b) {
  cl_box r = {IMAX(a.y0, b.y0), IMIN(a.y1, b.y1), IMAX(a.x0, b.x0), IMIN(a.x1, b.x1)};
  if (cl_box_empty(r)) return k_empty;
  return r;
}

int64_t cl_spatial_box_bytes(const cl_graph *g, int id, cl_box b) {
  const cl_node *nd = cl_graph_node(g, id);
  return (int64_t)nd->out.n * nd->out.c * cl_box_area(b) * (int64_t)sizeof(float);
}

/* Column window of the inputs of a spatial node: the row rule transposed. */
static void input_cols(const cl_node *nd, int in_w, int ox0, int ox1, int *ix0, int *ix1) {
  int k = 1, s = 1, pad = 0, dil = 1, window = 0;
  if (nd->op == CL_OP_CONV) {
    k = nd->p.conv.kw, s = nd->p.conv.sw, pad = nd->p.conv.pl, dil = nd->p.conv.dw, window = 1;
  } else if (nd->op == CL_OP_MAXPOOL || nd->op == CL_OP_AVGPOOL) {
    k = nd->p.pool.kw, s = nd->p.pool.sw, pad = nd->p.pool.pl, window = 1;
  }
  if (window) {
    *ix0 = ox0 * s - pad;
    *ix1 = (ox1 - 1) * s - pad + (k - 1) * dil + 1;
  } else if (in_w == 1 && nd->out.w > 1) { /* broadcast input (mul) */
    *ix0 = 0, *ix1 = 1;
  } else if (in_w == nd->out.w) {
    *ix0 = ox0, *ix1 = ox1;
  } else { /* unknown width change: all columns (safe) */
    *ix0 = 0, *ix1 = in_w;
  }
  if (*ix0 < 0) *ix0 = 0;
  if (*ix1 > in_w) *ix1 = in_w;
  if (*ix1 < *ix0) *ix1 = *ix0;
}

cl_box cl_spatial_input_box(const cl_graph *g, int id, int input_index, cl_box out) {
  if (cl_box_empty(out)) return k_empty;
  const cl_node *nd = cl_graph_node(g, id);
  const cl_node *in = cl_graph_node(g, nd->inputs[input_index]);
  cl_box r;
  cl_graph_input_rows(g, id, input_index, out.y0, out.y1, &r.y0, &r.y1);
  input_cols(nd, in->out.w, out.x0, out.x1, &r.x0, &r.x1);
  if (cl_box_empty(r)) return k_empty;
  return r;
}

cl_status cl_spatial_check_run(const cl_graph *g, int first, int last) {
  int n = cl_graph_size(g);
  if (first < 0 || last < first || last >= n) {
    cl_log_error("spatial: run [%d, %d] is not inside graph '%s' (%d nodes)", first, last,
                 cl_graph_name(g), n);
    return CL_ERR_INVALID;
  }
  for (int id = first; id <= last; id++) {
    const cl_node *nd = cl_graph_node(g, id);
    if (!cl_op_is_spatial(nd->op)) {
      cl_log_error("spatial: node %d '%s' (%s) in run [%d, %d] is not spatial", id, nd->name,
                   cl_op_name(nd->op), first, last);
      return CL_ERR_INVALID;
    }
  }
  for (int id = last + 1; id < n; id++) {
    const cl_node *nd = cl_graph_node(g, id);
    for (int j = 0; j < nd->n_inputs; j++) {
      int p = nd->inputs[j];
      if (p >= first && p < last) {
        cl_log_error("spatial: node %d '%s' of run [%d, %d] is consumed after the run by '%s'; "
                     "only the run's last node may leave it",
                     p, cl_graph_node(g, p)->name, first, last, nd->name);
        return CL_ERR_UNSUPPORTED;
      }
    }
  }
  return CL_OK;
}

cl_status cl_spatial_prefix(const cl_graph *g, int *first, int *last) {
  int n = cl_graph_size(g), id = 0;
  while (id < n && cl_op_is_spatial(cl_graph_node(g, id)->op)) id++;
  if (id <= 1) {
    cl_log_error("spatial: graph '%s' has no spatial layer after its input", cl_graph_name(g));
    return CL_ERR_INVALID;
  }
  *first = 0;
  *last = id - 1;
  return cl_spatial_check_run(g, *first, *last);
}

void cl_spatial_plan_destroy(cl_spatial_plan *p) {
  if (!p) return;
  free(p->macs); /* the block of every fixed-size array (plan_alloc) */
  free(p->xfer);
  free(p);
}

static cl_status plan_alloc(const cl_spatial_spec *s, int n_tasks, cl_spatial_plan **out) {
  cl_spatial_plan *p = calloc(1, sizeof *p);
  if (!p) return CL_ERR_NOMEM;
  p->mode = s->mode;
  p->first = s->first;
  p->last = s->last;
  p->n_nodes = s->last - s->first + 1;
  p->n_dev = s->n_dev;
  p->n_tasks = n_tasks;
  p->source = s->source;
  size_t nb = (size_t)p->n_nodes * (size_t)n_tasks, nd = (size_t)s->n_dev, nt = (size_t)n_tasks;
  const cl_block_part parts[] = {CL_BLOCK_PART(p->macs, nd),      CL_BLOCK_PART(p->flops, nd),
                                 CL_BLOCK_PART(p->bytes_out, nd), CL_BLOCK_PART(p->bytes_in, nd),
                                 CL_BLOCK_PART(p->box, nb),       CL_BLOCK_PART(p->need, nb),
                                 CL_BLOCK_PART(p->task_dev, nt)};
  if (cl_block_alloc(parts, 7) != CL_OK) {
    free(p);
    return CL_ERR_NOMEM;
  }
  *out = p;
  return CL_OK;
}

typedef struct xfer_list {
  cl_spatial_xfer *v;
  int n, cap;
} xfer_list;

static cl_status xfer_push(xfer_list *l, cl_spatial_xfer x) {
  CL_TRY(CL_VEC_RESERVE(l->v, l->cap, l->n + 1, 32));
  l->v[l->n++] = x;
  return CL_OK;
}

/* External entry tensors (producers before the run) and their per-task needs. */
typedef struct entry_list {
  int *node;
  cl_box *need; /* [n * n_tasks] */
  int n, cap, n_tasks;
} entry_list;

static cl_box *entry_need(entry_list *e, int node) {
  for (int i = 0; i < e->n; i++)
    if (e->node[i] == node) return e->need + (size_t)i * e->n_tasks;
  if (e->n == e->cap) {
    int cap = e->cap ? 2 * e->cap : 4;
    int *nn = realloc(e->node, (size_t)cap * sizeof *nn);
    if (!nn) return NULL;
    e->node = nn;
    cl_box *nb = realloc(e->need, (size_t)cap * e->n_tasks * sizeof *nb);
    if (!nb) return NULL;
    e->need = nb;
    e->cap = cap;
  }
  e->node[e->n] = node;
  cl_box *r = e->need + (size_t)e->n * e->n_tasks;
  for (int t = 0; t < e->n_tasks; t++) r[t] = k_empty;
  e->n++;
  return r;
}

/* Propagate the requirements of node id's computed boxes to its producers. */
static cl_status propagate_needs(const cl_graph *g, cl_spatial_plan *p, int id, entry_list *ent) {
  const cl_node *nd = cl_graph_node(g, id);
  int i = id - p->first;
  for (int j = 0; j < nd->n_inputs; j++) {
    int src = nd->inputs[j];
    cl_box *dst_need;
    if (src >= p->first) {
      dst_need = p->need + (size_t)(src - p->first) * p->n_tasks;
    } else {
      dst_need = entry_need(ent, src);
      if (!dst_need) return CL_ERR_NOMEM;
    }
    for (int t = 0; t < p->n_tasks; t++) {
      cl_box r = cl_spatial_input_box(g, id, j, p->box[(size_t)i * p->n_tasks + t]);
      dst_need[t] = box_hull(dst_need[t], r);
    }
  }
  return CL_OK;
}

static void account(const cl_graph *g, cl_spatial_plan *p, const xfer_list *xl) {
  p->run_macs = 0;
  p->run_flops = 0;
  int64_t sum = 0;
  for (int i = 0; i < p->n_nodes; i++) {
    const cl_node *nd = cl_graph_node(g, p->first + i);
    int64_t full = (int64_t)nd->out.h * nd->out.w;
    p->run_macs += nd->macs;
    p->run_flops += nd->flops;
    if (nd->op == CL_OP_INPUT || full == 0) continue;
    for (int t = 0; t < p->n_tasks; t++) {
      int64_t a = cl_box_area(p->box[(size_t)i * p->n_tasks + t]);
      int d = p->task_dev[t];
      /* MACs per output position are uniform for every spatial op */
      p->macs[d] += nd->macs * a / full;
      p->flops[d] += nd->flops * a / full;
    }
  }
  for (int d = 0; d < p->n_dev; d++) sum += p->macs[d];
  p->redundancy = p->run_macs > 0 ? (double)sum / (double)p->run_macs - 1.0 : 0.0;
  for (int k = 0; k < xl->n; k++) {
    p->bytes_out[xl->v[k].src] += xl->v[k].bytes;
    p->bytes_in[xl->v[k].dst] += xl->v[k].bytes;
  }
}

static int is_entry_op(const cl_node *nd) { return nd->op == CL_OP_INPUT; }

/* Shared back half of every plan: p->box for computed nodes is set (layer mode: all
 * nodes; fused mode: only the last, the rest is derived here). */
static cl_status finish_plan(const cl_graph *g, const cl_spatial_spec *s, cl_spatial_plan *p) {
  cl_status st = CL_OK;
  entry_list ent = {NULL, NULL, 0, 0, p->n_tasks};
  xfer_list xl = {NULL, 0, 0};
  int T = p->n_tasks;
  size_t last_i = (size_t)(p->n_nodes - 1);

  for (int t = 0; t < T; t++) p->need[last_i * T + t] = p->box[last_i * T + t];
  if (p->mode == CL_SPATIAL_FUSED) {
    for (int id = p->last; id >= p->first && st == CL_OK; id--) {
      size_t i = (size_t)(id - p->first);
      const cl_node *nd = cl_graph_node(g, id);
      if (is_entry_op(nd)) {
        for (int t = 0; t < T; t++) p->box[i * T + t] = p->need[i * T + t];
        continue;
      }
      /* fused: compute exactly what consumers (or the final slice) need */
      for (int t = 0; t < T; t++) p->box[i * T + t] = p->need[i * T + t];
      st = propagate_needs(g, p, id, &ent);
    }
  } else {
    for (size_t k = 0; k < (size_t)p->n_nodes * T; k++) p->need[k] = p->box[k];
    for (int id = p->last; id >= p->first && st == CL_OK; id--) {
      const cl_node *nd = cl_graph_node(g, id);
      size_t i = (size_t)(id - p->first);
      if (is_entry_op(nd)) {
        for (int t = 0; t < T; t++) p->box[i * T + t] = p->need[i * T + t];
        continue;
      }
      st = propagate_needs(g, p, id, &ent);
    }
  }
  if (st != CL_OK) goto done;

  /* Scatter: entry tensors (graph inputs in the run, producers before it). */
  for (int i = 0; i < p->n_nodes && st == CL_OK; i++) {
    int id = p->first + i;
    if (!is_entry_op(cl_graph_node(g, id))) continue;
    for (int t = 0; t < T && st == CL_OK; t++) {
      cl_box b = p->box[(size_t)i * T + t];
      if (cl_box_empty(b) || p->task_dev[t] == p->source) continue;
      cl_spatial_xfer x = {CL_XFER_SCATTER, id, p->source, p->task_dev[t], t, b,
                   cl_spatial_box_bytes(g, id, b)};
      st = xfer_push(&xl, x);
    }
  }
  for (int e = 0; e < ent.n && st == CL_OK; e++) {
    for (int t = 0; t < T && st == CL_OK; t++) {
      cl_box b = ent.need[(size_t)e * T + t];
      if (cl_box_empty(b) || p->task_dev[t] == p->source) continue;
      cl_spatial_xfer x = {CL_XFER_SCATTER, ent.node[e], p->source, p->task_dev[t], t, b,
                   cl_spatial_box_bytes(g, ent.node[e], b)};
      st = xfer_push(&xl, x);
    }
  }

  /* Halo (layer mode): need \ own, taken from the owners of those rows. */
  if (p->mode == CL_SPATIAL_LAYER) {
    for (int i = 0; i < p->n_nodes && st == CL_OK; i++) {
      int id = p->first + i;
      if (is_entry_op(cl_graph_node(g, id))) continue;
      for (int t = 0; t < T && st == CL_OK; t++) {
        cl_box nb = p->need[(size_t)i * T + t];
        if (cl_box_empty(nb)) continue;
        for (int u = 0; u < T && st == CL_OK; u++) {
          if (u == t) continue;
          /* own slices are disjoint in layer mode, so this never overlaps t's own rows */
          cl_box h = box_meet(nb, p->box[(size_t)i * T + u]);
          if (cl_box_empty(h)) continue;
          cl_spatial_xfer x = {CL_XFER_HALO, id, p->task_dev[u], p->task_dev[t], t, h,
                       cl_spatial_box_bytes(g, id, h)};
          st = xfer_push(&xl, x);
        }
      }
    }
  }

  /* Sink: the device with the largest share of the run's output. */
  if (st == CL_OK) {
    if (s->sink >= 0) {
      p->sink = s->sink;
    } else {
      int64_t *share = calloc((size_t)p->n_dev, sizeof *share);
      if (!share) {
        st = CL_ERR_NOMEM;
        goto done;
      }
      for (int t = 0; t < T; t++) share[p->task_dev[t]] += cl_box_area(p->box[last_i * T + t]);
      int best = p->source;
      for (int d = 0; d < p->n_dev; d++)
        if (share[d] > share[best]) best = d;
      p->sink = best;
      free(share);
    }
    for (int t = 0; t < T && st == CL_OK; t++) {
      cl_box b = p->box[last_i * T + t];
      if (cl_box_empty(b) || p->task_dev[t] == p->sink) continue;
      cl_spatial_xfer x = {CL_XFER_GATHER, p->last, p->task_dev[t], p->sink, t, b,
                   cl_spatial_box_bytes(g, p->last, b)};
      st = xfer_push(&xl, x);
    }
  }
  if (st != CL_OK) goto done;
  account(g, p, &xl);
  p->xfer = xl.v;
  p->n_xfer = xl.n;
  xl.v = NULL;
done:
  free(xl.v);
  free(ent.node);
  free(ent.need);
  return st;
}

/* Finish @p p and hand it to the caller, or free it on error. */
static cl_status publish(const cl_graph *g, const cl_spatial_spec *spec, cl_spatial_plan *p, cl_spatial_plan **out) {
  cl_status st = finish_plan(g, spec, p);
  if (st != CL_OK) {
    cl_spatial_plan_destroy(p);
    return st;
  }
  *out = p;
  return CL_OK;
}

static cl_status check_spec(const cl_graph *g, const cl_spatial_spec *s) {
  if (!g || !s) return CL_ERR_INVALID;
  if (s->n_dev < 1 || s->source < 0 || s->source >= s->n_dev || s->sink >= s->n_dev) {
    cl_log_error("spatial: bad spec: n_dev %d, source %d, sink %d", s->n_dev, s->source, s->sink);
    return CL_ERR_INVALID;
  }
  if (s->mode != CL_SPATIAL_LAYER && s->mode != CL_SPATIAL_FUSED) {
    cl_log_error("spatial: unknown mode %d", (int)s->mode);
    return CL_ERR_INVALID;
  }
  return cl_spatial_check_run(g, s->first, s->last);
}

static cl_status check_bounds(const int *b, int n, int h, const char *what) {
  if (b[0] != 0 || b[n] != h) {
    cl_log_error("spatial: %s bounds must run from 0 to %d, got %d .. %d", what, h, b[0], b[n]);
    return CL_ERR_INVALID;
  }
  for (int d = 0; d < n; d++)
    if (b[d + 1] < b[d]) {
      cl_log_error("spatial: %s bounds decrease at device %d (%d > %d)", what, d, b[d], b[d + 1]);
      return CL_ERR_INVALID;
    }
  return CL_OK;
}

static int scale_bound(int b, int h, int ref_h) {
  return (int)(((int64_t)b * h * 2 + ref_h) / (2 * (int64_t)ref_h)); /* round half up */
}

cl_status cl_spatial_plan_rows(const cl_graph *g, const cl_spatial_spec *spec, const int *bounds,
                               int ref_h, cl_spatial_plan **out) {
  *out = NULL;
  CL_TRY(check_spec(g, spec));
  if (ref_h < 1) {
    cl_log_error("spatial: reference height must be >= 1, got %d", ref_h);
    return CL_ERR_INVALID;
  }
  CL_TRY(check_bounds(bounds, spec->n_dev, ref_h, "reference"));
  cl_spatial_plan *p;
  CL_TRY(plan_alloc(spec, spec->n_dev, &p));
  int T = p->n_tasks;
  for (int t = 0; t < T; t++) p->task_dev[t] = t;
  for (int i = 0; i < p->n_nodes; i++) {
    if (spec->mode == CL_SPATIAL_FUSED && i != p->n_nodes - 1) continue;
    const cl_node *nd = cl_graph_node(g, p->first + i);
    if (is_entry_op(nd) && i != p->n_nodes - 1) continue; /* received, derived from needs */
    for (int t = 0; t < T; t++) {
      cl_box b = {scale_bound(bounds[t], nd->out.h, ref_h),
                  scale_bound(bounds[t + 1], nd->out.h, ref_h), 0, nd->out.w};
      p->box[(size_t)i * T + t] = cl_box_empty(b) ? k_empty : b;
    }
  }
  return publish(g, spec, p, out);
}

cl_status cl_spatial_plan_layers(const cl_graph *g, const cl_spatial_spec *spec,
                                 const int *node_bounds, cl_spatial_plan **out) {
  *out = NULL;
  CL_TRY(check_spec(g, spec));
  if (spec->mode != CL_SPATIAL_LAYER) {
    cl_log_error("spatial: explicit per-node slices need layer mode");
    return CL_ERR_INVALID;
  }
  int n_nodes = spec->last - spec->first + 1, nd1 = spec->n_dev + 1;
  for (int i = 0; i < n_nodes; i++) {
    const cl_node *nd = cl_graph_node(g, spec->first + i);
    if (is_entry_op(nd)) continue;
    CL_TRY(check_bounds(node_bounds + (size_t)i * nd1, spec->n_dev, nd->out.h, nd->name));
  }
  cl_spatial_plan *p;
  CL_TRY(plan_alloc(spec, spec->n_dev, &p));
  int T = p->n_tasks;
  for (int t = 0; t < T; t++) p->task_dev[t] = t;
  for (int i = 0; i < n_nodes; i++) {
    const cl_node *nd = cl_graph_node(g, spec->first + i);
    if (is_entry_op(nd)) continue;
    const int *b = node_bounds + (size_t)i * nd1;
    for (int t = 0; t < T; t++) {
      cl_box r = {b[t], b[t + 1], 0, nd->out.w};
      p->box[(size_t)i * T + t] = cl_box_empty(r) ? k_empty : r;
    }
  }
  return publish(g, spec, p, out);
}

cl_status cl_spatial_plan_tiles(const cl_graph *g, const cl_spatial_spec *spec, int grid_r,
                                int grid_c, const int *tile_dev, cl_spatial_plan **out) {
  *out = NULL;
  CL_TRY(check_spec(g, spec));
  const cl_node *ln = cl_graph_node(g, spec->last);
  if (grid_r < 1 || grid_c < 1 || grid_r > ln->out.h || grid_c > ln->out.w) {
    cl_log_error("spatial: %dx%d tiles do not fit the %dx%d output of '%s'", grid_r, grid_c,
                 ln->out.h, ln->out.w, ln->name);
    return CL_ERR_INVALID;
  }
  int T = grid_r * grid_c;
  for (int k = 0; k < T; k++)
    if (tile_dev[k] < 0 || tile_dev[k] >= spec->n_dev) {
      cl_log_error("spatial: tile %d assigned to device %d, expected 0..%d", k, tile_dev[k],
                   spec->n_dev - 1);
      return CL_ERR_INVALID;
    }
  cl_spatial_spec s = *spec;
  s.mode = CL_SPATIAL_FUSED;
  cl_spatial_plan *p;
  CL_TRY(plan_alloc(&s, T, &p));
  size_t li = (size_t)(p->n_nodes - 1);
  for (int r = 0; r < grid_r; r++)
    for (int c = 0; c < grid_c; c++) {
      int k = r * grid_c + c;
      p->task_dev[k] = tile_dev[k];
      cl_box b = {ln->out.h * r / grid_r, ln->out.h * (r + 1) / grid_r, ln->out.w * c / grid_c,
                  ln->out.w * (c + 1) / grid_c};
      p->box[li * T + k] = b;
    }
  return publish(g, &s, p, out);
}

static const char *xfer_kind_name(cl_xfer_kind k) {
  return k == CL_XFER_SCATTER ? "scatter" : k == CL_XFER_HALO ? "halo" : "gather";
}

void cl_spatial_plan_print(FILE *f, const cl_graph *g, const cl_spatial_plan *p) {
  fprintf(f, "spatial plan: %s mode, nodes %d..%d, %d devices, %d tasks, source %d, sink %d\n",
          p->mode == CL_SPATIAL_LAYER ? "layer" : "fused", p->first, p->last, p->n_dev,
          p->n_tasks, p->source, p->sink);
  for (int i = 0; i < p->n_nodes; i++) {
    const cl_node *nd = cl_graph_node(g, p->first + i);
    fprintf(f, "  %-24s %-9s h=%-4d", nd->name, cl_op_name(nd->op), nd->out.h);
    for (int t = 0; t < p->n_tasks; t++) {
      cl_box b = p->box[(size_t)i * p->n_tasks + t], n = p->need[(size_t)i * p->n_tasks + t];
      if (p->n_tasks == p->n_dev && b.x0 == 0 && b.x1 == nd->out.w)
        fprintf(f, " | d%d [%d,%d) need [%d,%d)", p->task_dev[t], b.y0, b.y1, n.y0, n.y1);
      else
        fprintf(f, " | t%d@d%d [%d,%d)x[%d,%d)", t, p->task_dev[t], b.y0, b.y1, b.x0, b.x1);
    }
    fputc('\n', f);
  }
  for (int k = 0; k < p->n_xfer; k++) {
    const cl_spatial_xfer *x = &p->xfer[k];
    fprintf(f, "  %-7s %-24s d%d -> d%d rows [%d,%d) cols [%d,%d) %lld B\n",
            xfer_kind_name(x->kind), cl_graph_node(g, x->node)->name, x->src, x->dst, x->box.y0,
            x->box.y1, x->box.x0, x->box.x1, (long long)x->bytes);
  }
  for (int d = 0; d < p->n_dev; d++)
    fprintf(f, "  device %d: %lld MACs, sends %lld B, receives %lld B\n", d,
            (long long)p->macs[d], (long long)p->bytes_out[d], (long long)p->bytes_in[d]);
  fprintf(f, "  run MACs %lld, redundancy %.2f%%\n", (long long)p->run_macs,
          100.0 * p->redundancy);
}
