/* Executes fused grid-tile plans (DeepThings fused tile partitioning) for real.
 *
 * Kernels compute full-width row windows only, so a tile cannot be a row window of
 * the real tensors. Instead every task keeps, for every node of the fused block, a
 * dense crop of the node's output: rows stay in the real frame (row windows, so the
 * kernels' own row logic, incl. top/bottom padding and ceil-mode rows, is untouched)
 * while columns are cropped to [x0, x1). Each node runs as a *copy* whose logical
 * width is the crop's and whose left/right padding is rewritten:
 *
 *   a = ox0*s - pl                   first input column of the crop's first window
 *   e = (ox1-1)*s - pl + (k-1)*d + 1 one past the last column of its last window
 *   input crop [c0, c1) = [max(0, a), min(in_w, e))
 *   pl' = c0 - a                     zeros only where the crop touches the left border
 *   pr' = pr       if the tile ends at the real output's right edge and c1 == in_w,
 *         e - c1   otherwise (0 unless the windows reach into the right padding)
 *
 * With these, each window of the copy sees exactly the real columns (and padding) of
 * the real window, shifted by c0; the copy's output width (op's own infer()) is
 * ox1 - ox0; avgpool divisors (count_include_pad, ceil-mode overhang clipped at
 * in_w + pr) match because the crop's "in + pr'" is the real one shifted whenever a
 * window can reach it. Every copy is re-inferred with the op's infer() and refused,
 * naming the node, if its output is not exactly the tile.
 *
 * Regions: the plan gives the last node's tiles; everything else is derived here
 * (rows from the kernels' in_rows, columns from the rule above) by a backward pass,
 * each producer holding the hull of what its consumers read. A consumer reading a
 * narrower column range than its producer holds (branches of different widths) gets
 * a copy of just its columns. The derived regions and executed MACs are exposed so
 * that the analytic plan (sim/spatial_plan.c) can be checked against execution. */
#include <stdlib.h>
#include <string.h>

#include "cleave/ops.h"
#include "cleave/wallclock.h"
#include "cleave/partition.h" /* tag enum */
#include "spatial_tiles_internal.h"

#define IMIN(a, b) ((a) < (b) ? (a) : (b))
#define IMAX(a, b) ((a) > (b) ? (a) : (b))

struct cl__tiles {
  const cl_graph *g;
  const cl_spatial_plan *p;
  int rank;   /* device of this rank, -1 in-process */
  int entry;  /* graph id of the run's input node */
  int T;      /* tasks */
  cl_box *R;      /* [n_nodes * T] held (= computed) region per node and task */
  cl_node *cp;    /* [n_nodes * T] cropped node copies (valid where computed) */
  float **buf;    /* [n_nodes * T] dense crops, layout [n][c][rows][cols] */
  int *in_off;    /* [n_nodes + 1] offsets into the per-input arrays */
  cl_box *Q;      /* [in_off[n_nodes] * T] region of each input a node reads */
  float **scr;    /* [in_off[n_nodes] * T] column copies (NULL: read the producer's crop) */
  float *ws;
  size_t ws_bytes;
  int64_t *macs;  /* [n_dev] */
  float **xbuf;   /* [2 * T] MPI pack buffers: scatter, gather */
  MPI_Request *reqs;
};


static int mine(const cl__tiles *tl, int dev) { return tl->rank < 0 || tl->rank == dev; }

static cl_box hull(cl_box a, cl_box b) {
  if (cl_box_empty(a)) return b;
  if (cl_box_empty(b)) return a;
  cl_box r = {IMIN(a.y0, b.y0), IMAX(a.y1, b.y1), IMIN(a.x0, b.x0), IMAX(a.x1, b.x1)};
  return r;
}

int cl__tiles_plan_is_tiled(const cl_graph *g, const cl_spatial_plan *p) {
  for (int i = 0; i < p->n_nodes; i++) {
    const cl_node *nd = cl_graph_node(g, p->first + i);
    if (nd->op == CL_OP_INPUT) continue;
    for (int t = 0; t < p->n_tasks; t++) {
      cl_box b = p->box[(size_t)i * p->n_tasks + t];
      if (!cl_box_empty(b) && (b.x0 != 0 || b.x1 != nd->out.w)) return 1;
    }
  }
  return 0;
}

/* Column geometry of input j of node nd for output columns [ox0, ox1): the input crop
 * [*c0, *c1) and the copy's left/right padding. 0 if the op changes the width in a way
 * this file does not know. */
static int crop_cols(const cl_node *nd, int in_w, int ox0, int ox1, int *c0, int *c1, int *pl,
                     int *pr) {
  int k, s, d, p0, p1;
  if (nd->op == CL_OP_CONV) {
    const cl_conv_params *c = &nd->p.conv;
    k = c->kw, s = c->sw, d = c->dw, p0 = c->pl, p1 = c->pr;
  } else if (nd->op == CL_OP_MAXPOOL || nd->op == CL_OP_AVGPOOL) {
    const cl_pool_params *c = &nd->p.pool;
    k = c->kw, s = c->sw, d = 1, p0 = c->pl, p1 = c->pr;
  } else if (in_w == nd->out.w) { /* element-wise / channel-wise ops */
    *c0 = ox0, *c1 = ox1, *pl = 0, *pr = 0;
    return 1;
  } else if (in_w == 1) { /* broadcast [n,c,1,1] input (mul) */
    *c0 = 0, *c1 = 1, *pl = 0, *pr = 0;
    return 1;
  } else {
    return 0;
  }
  int a = ox0 * s - p0, e = (ox1 - 1) * s - p0 + (k - 1) * d + 1;
  *c0 = IMAX(0, a);
  *c1 = IMIN(in_w, e);
  *pl = *c0 - a;
  *pr = (ox1 == nd->out.w && *c1 == in_w) ? p1 : e - *c1;
  return 1;
}

/* The cropped tensor of node id on task t (or input copy), as a kernel view. */
static cl_tensor crop_view(const cl_node *nd, float *data, cl_box b) {
  cl_tensor v = {data, {nd->out.n, nd->out.c, nd->out.h, b.x1 - b.x0}, b.y0, b.y1 - b.y0};
  return v;
}

static size_t crop_floats(const cl_node *nd, cl_box b) {
  return (size_t)nd->out.n * (size_t)nd->out.c * (size_t)cl_box_area(b);
}

/* Copy region r (in the real frame) from a crop holding region src into a crop holding
 * region dst; src and dst crops describe the same node. */
static void copy_box(const cl_node *nd, float *dst, cl_box db, const float *src, cl_box sb, cl_box r) {
  if (cl_box_empty(r)) return;
  int dw = db.x1 - db.x0, sw = sb.x1 - sb.x0, drows = db.y1 - db.y0, srows = sb.y1 - sb.y0;
  size_t width = (size_t)(r.x1 - r.x0);
  for (int nc = 0; nc < nd->out.n * nd->out.c; nc++)
    for (int y = r.y0; y < r.y1; y++)
      memcpy(dst + ((size_t)nc * drows + (size_t)(y - db.y0)) * dw + (r.x0 - db.x0),
             src + ((size_t)nc * srows + (size_t)(y - sb.y0)) * sw + (r.x0 - sb.x0),
             sizeof(float) * width);
}

void cl__tiles_destroy(cl__tiles *tl) {
  if (!tl) return;
  const cl_spatial_plan *p = tl->p;
  size_t nb = (size_t)p->n_nodes * (size_t)tl->T;
  if (tl->buf)
    for (size_t k = 0; k < nb; k++) free(tl->buf[k]);
  if (tl->scr && tl->in_off)
    for (size_t k = 0; k < (size_t)tl->in_off[p->n_nodes] * (size_t)tl->T; k++) free(tl->scr[k]);
  if (tl->xbuf)
    for (int k = 0; k < 2 * tl->T; k++) free(tl->xbuf[k]);
  free(tl->xbuf);
  free(tl->reqs);
  free(tl->scr);
  free(tl->Q);
  free(tl->in_off);
  free(tl->buf);
  free(tl->cp);
  free(tl->R);
  free(tl->ws);
  free(tl->macs);
  free(tl);
}

/* The last node's tiles must lie inside its output, be pairwise disjoint and cover it. */
static cl_status check_tiles(const cl_graph *g, const cl_spatial_plan *p) {
  const cl_node *ln = cl_graph_node(g, p->last);
  int H = ln->out.h, W = ln->out.w;
  unsigned char *cov = calloc((size_t)H * (size_t)W, 1);
  if (!cov) return CL_ERR_NOMEM;
  cl_status st = CL_OK;
  size_t li = (size_t)(p->n_nodes - 1);
  for (int t = 0; t < p->n_tasks && st == CL_OK; t++) {
    cl_box b = p->box[li * p->n_tasks + t];
    if (cl_box_empty(b)) continue;
    if (b.y0 < 0 || b.x0 < 0 || b.y1 > H || b.x1 > W) {
      cl_log_error("spatial tiles: tile %d [%d,%d)x[%d,%d) of '%s' lies outside its %dx%d output",
                   t, b.y0, b.y1, b.x0, b.x1, ln->name, H, W);
      st = CL_ERR_INVALID;
      break;
    }
    for (int y = b.y0; y < b.y1 && st == CL_OK; y++)
      for (int x = b.x0; x < b.x1; x++)
        if (cov[(size_t)y * W + x]++) {
          cl_log_error("spatial tiles: tile %d of '%s' overlaps another tile at (%d, %d)", t,
                       ln->name, y, x);
          st = CL_ERR_INVALID;
          break;
        }
  }
  for (size_t k = 0; k < (size_t)H * W && st == CL_OK; k++)
    if (!cov[k]) {
      cl_log_error("spatial tiles: no tile covers (%d, %d) of '%s'", (int)(k / (size_t)W),
                   (int)(k % (size_t)W), ln->name);
      st = CL_ERR_INVALID;
    }
  free(cov);
  return st;
}

/* Backward pass: regions of every node and task, and what each input read needs. */
static cl_status derive_regions(cl__tiles *tl) {
  const cl_graph *g = tl->g;
  const cl_spatial_plan *p = tl->p;
  int T = tl->T;
  size_t li = (size_t)(p->n_nodes - 1);
  for (int t = 0; t < T; t++) tl->R[li * T + t] = p->box[li * T + t];
  for (int id = p->last; id >= p->first; id--) {
    size_t i = (size_t)(id - p->first);
    const cl_node *nd = cl_graph_node(g, id);
    if (nd->op == CL_OP_INPUT) continue;
    for (int j = 0; j < nd->n_inputs; j++) {
      int src = nd->inputs[j];
      if (src < p->first) {
        cl_log_error("spatial tiles: node '%s' reads '%s' from before the run %d..%d; only runs "
                     "that contain their input node are executable",
                     nd->name, cl_graph_node(g, src)->name, p->first, p->last);
        return CL_ERR_UNSUPPORTED;
      }
      const cl_node *in = cl_graph_node(g, src);
      for (int t = 0; t < T; t++) {
        cl_box r = tl->R[i * T + t], q = {0, 0, 0, 0};
        if (!cl_box_empty(r)) {
          int pl, pr;
          cl_graph_input_rows(g, id, j, r.y0, r.y1, &q.y0, &q.y1);
          if (!crop_cols(nd, in->out.w, r.x0, r.x1, &q.x0, &q.x1, &pl, &pr)) {
            cl_log_error("spatial tiles: node '%s' (%s) maps input width %d to %d; it cannot be "
                         "cropped to columns",
                         nd->name, cl_op_name(nd->op), in->out.w, nd->out.w);
            return CL_ERR_UNSUPPORTED;
          }
          if (cl_box_empty(q)) {
            cl_log_error("spatial tiles: node '%s' computes [%d,%d)x[%d,%d) from padding only "
                         "(input '%s' region empty); it cannot be cropped exactly",
                         nd->name, r.y0, r.y1, r.x0, r.x1, in->name);
            return CL_ERR_UNSUPPORTED;
          }
        }
        tl->Q[(size_t)(tl->in_off[i] + j) * T + t] = q;
        size_t si = (size_t)(src - p->first) * T + t;
        tl->R[si] = hull(tl->R[si], q);
      }
    }
  }
  return CL_OK;
}

/* Cropped copy of node id for task t, re-inferred on the cropped input shapes. */
static cl_status build_copy(cl__tiles *tl, int id, int t) {
  const cl_spatial_plan *p = tl->p;
  const cl_node *nd = cl_graph_node(tl->g, id);
  size_t i = (size_t)(id - p->first);
  int T = tl->T;
  cl_box r = tl->R[i * T + t];
  cl_node *cp = &tl->cp[i * T + t];
  *cp = *nd;
  cl_shape in[64];
  if (nd->n_inputs > 64) {
    cl_log_error("spatial tiles: node '%s' has %d inputs (at most 64 supported)", nd->name,
                 nd->n_inputs);
    return CL_ERR_UNSUPPORTED;
  }
  for (int j = 0; j < nd->n_inputs; j++) {
    const cl_node *src = cl_graph_node(tl->g, nd->inputs[j]);
    cl_box q = tl->Q[(size_t)(tl->in_off[i] + j) * T + t];
    in[j] = src->out;
    in[j].w = q.x1 - q.x0;
    int c0, c1, pl, pr;
    crop_cols(nd, src->out.w, r.x0, r.x1, &c0, &c1, &pl, &pr);
    if (nd->op == CL_OP_CONV) {
      cp->p.conv.pl = pl;
      cp->p.conv.pr = pr;
    } else if (nd->op == CL_OP_MAXPOOL || nd->op == CL_OP_AVGPOOL) {
      cp->p.pool.pl = pl;
      cp->p.pool.pr = pr;
    }
  }
  cl_status st = cl_op_get(nd->op)->infer(cp, in, nd->n_inputs);
  if (st != CL_OK || cp->out.n != nd->out.n || cp->out.c != nd->out.c || cp->out.h != nd->out.h ||
      cp->out.w != r.x1 - r.x0) {
    cl_log_error("spatial tiles: node '%s' (%s) cannot be cropped exactly to columns [%d,%d) of "
                 "%d (cropped copy gives width %d)",
                 nd->name, cl_op_name(nd->op), r.x0, r.x1, nd->out.w, st == CL_OK ? cp->out.w : -1);
    return CL_ERR_UNSUPPORTED;
  }
  cp->weights = nd->weights; /* infer() leaves them; shared with the graph, never freed here */
  const cl_op_impl *impl = cl_op_get(nd->op);
  if (impl->workspace) {
    size_t ws = impl->workspace(cp, in, nd->n_inputs, r.y1 - r.y0);
    if (ws > tl->ws_bytes) tl->ws_bytes = ws;
  }
  /* MACs per output position are uniform over a spatial op's output */
  tl->macs[p->task_dev[t]] += cp->macs / cp->out.h * (r.y1 - r.y0);
  return CL_OK;
}

cl_status cl__tiles_create(const cl_graph *g, const cl_spatial_plan *p, int rank, cl__tiles **out) {
  *out = NULL;
  if (p->mode != CL_SPATIAL_FUSED) {
    cl_log_error("spatial tiles: grid tiles need a fused plan (layer mode exchanges full-width "
                 "halo rows)");
    return CL_ERR_UNSUPPORTED;
  }
  CL_TRY(check_tiles(g, p));
  cl__tiles *tl = calloc(1, sizeof *tl);
  if (!tl) return CL_ERR_NOMEM;
  tl->g = g;
  tl->p = p;
  tl->rank = rank;
  tl->T = p->n_tasks;
  tl->entry = -1;
  int T = tl->T;
  cl_status st = CL_ERR_NOMEM;
  size_t nb = (size_t)p->n_nodes * (size_t)T;
  tl->R = calloc(nb, sizeof *tl->R);
  tl->cp = calloc(nb, sizeof *tl->cp);
  tl->buf = calloc(nb, sizeof *tl->buf);
  tl->in_off = calloc((size_t)p->n_nodes + 1, sizeof *tl->in_off);
  tl->macs = calloc((size_t)p->n_dev, sizeof *tl->macs);
  tl->xbuf = calloc(2 * (size_t)T, sizeof *tl->xbuf);
  tl->reqs = malloc(2 * (size_t)T * sizeof *tl->reqs);
  if (!tl->R || !tl->cp || !tl->buf || !tl->in_off || !tl->macs || !tl->xbuf || !tl->reqs)
    goto error;
  for (int i = 0; i < p->n_nodes; i++) {
    const cl_node *nd = cl_graph_node(g, p->first + i);
    tl->in_off[i + 1] = tl->in_off[i] + (nd->op == CL_OP_INPUT ? 0 : nd->n_inputs);
    if (nd->op == CL_OP_INPUT) {
      if (tl->entry >= 0) {
        cl_log_error("spatial tiles: runs with several input nodes are not executable");
        st = CL_ERR_UNSUPPORTED;
        goto error;
      }
      tl->entry = p->first + i;
    }
  }
  if (tl->entry < 0) {
    cl_log_error("spatial tiles: the run %d..%d must contain its input node", p->first, p->last);
    st = CL_ERR_UNSUPPORTED;
    goto error;
  }
  size_t nq = (size_t)tl->in_off[p->n_nodes] * (size_t)T;
  tl->Q = calloc(nq ? nq : 1, sizeof *tl->Q);
  tl->scr = calloc(nq ? nq : 1, sizeof *tl->scr);
  if (!tl->Q || !tl->scr) goto error;
  if ((st = derive_regions(tl)) != CL_OK) goto error;
  st = CL_ERR_NOMEM;
  for (int i = 0; i < p->n_nodes; i++) {
    int id = p->first + i;
    const cl_node *nd = cl_graph_node(g, id);
    for (int t = 0; t < T; t++) {
      cl_box r = tl->R[(size_t)i * T + t];
      if (cl_box_empty(r)) continue;
      if (id != tl->entry) {
        st = build_copy(tl, id, t);
        if (st != CL_OK) goto error;
        st = CL_ERR_NOMEM;
      }
      if (!mine(tl, p->task_dev[t])) continue;
      if (!(tl->buf[(size_t)i * T + t] = calloc(crop_floats(nd, r), sizeof(float)))) goto error;
      if (id == tl->entry) continue;
      for (int j = 0; j < nd->n_inputs; j++) {
        int src = nd->inputs[j];
        cl_box q = tl->Q[(size_t)(tl->in_off[i] + j) * T + t];
        cl_box h = tl->R[(size_t)(src - p->first) * T + t];
        if (q.x0 == h.x0 && q.x1 == h.x1) continue; /* the producer's crop, rows as a window */
        const cl_node *sn = cl_graph_node(g, src);
        if (!(tl->scr[(size_t)(tl->in_off[i] + j) * T + t] = malloc(sizeof(float) * crop_floats(sn, q))))
          goto error;
      }
    }
  }
  if (tl->ws_bytes && !(tl->ws = malloc(tl->ws_bytes))) goto error;
  *out = tl;
  return CL_OK;
error:
  if (st == CL_ERR_NOMEM) cl_log_error("spatial tiles: out of memory");
  cl__tiles_destroy(tl);
  return st;
}

static cl_status mpi_ok(int rc) { return cl_mpi_check(rc, "spatial tiles transfer"); }

static int tag_of(int t, int gather) { return CL_TAG_TENSOR_BASE + (2 * t + gather) % 30000; }

/* Entry regions: source -> every task (copies in-process or on the source). */
static cl_status scatter(cl__tiles *tl, MPI_Comm comm, const float *input, int *nreq) {
  const cl_spatial_plan *p = tl->p;
  const cl_node *en = cl_graph_node(tl->g, tl->entry);
  cl_box full = {0, en->out.h, 0, en->out.w};
  size_t ei = (size_t)(tl->entry - p->first);
  for (int t = 0; t < tl->T; t++) {
    cl_box r = tl->R[ei * tl->T + t];
    int dev = p->task_dev[t];
    if (cl_box_empty(r)) continue;
    size_t n = crop_floats(en, r);
    if (tl->rank < 0 || (dev == p->source && tl->rank == dev)) {
      copy_box(en, tl->buf[ei * tl->T + t], r, input, full, r);
    } else if (tl->rank == p->source) {
      if (!tl->xbuf[2 * t] && !(tl->xbuf[2 * t] = malloc(sizeof(float) * n))) return CL_ERR_NOMEM;
      copy_box(en, tl->xbuf[2 * t], r, input, full, r);
      CL_TRY(mpi_ok(MPI_Isend(tl->xbuf[2 * t], (int)n, MPI_FLOAT, dev, tag_of(t, 0), comm,
                              &tl->reqs[(*nreq)++])));
    } else if (tl->rank == dev) {
      CL_TRY(mpi_ok(MPI_Recv(tl->buf[ei * tl->T + t], (int)n, MPI_FLOAT, p->source, tag_of(t, 0),
                             comm, MPI_STATUS_IGNORE)));
    }
  }
  return CL_OK;
}

/* Tiles of the last node: every task -> the sink's full output. */
static cl_status gather(cl__tiles *tl, MPI_Comm comm, float *gathered, int *nreq) {
  const cl_spatial_plan *p = tl->p;
  const cl_node *ln = cl_graph_node(tl->g, p->last);
  cl_box full = {0, ln->out.h, 0, ln->out.w};
  size_t li = (size_t)(p->n_nodes - 1);
  for (int t = 0; t < tl->T; t++) {
    cl_box r = tl->R[li * tl->T + t];
    int dev = p->task_dev[t];
    if (cl_box_empty(r)) continue;
    size_t n = crop_floats(ln, r);
    if (tl->rank < 0 || (dev == p->sink && tl->rank == dev)) {
      copy_box(ln, gathered, full, tl->buf[li * tl->T + t], r, r);
    } else if (tl->rank == dev) {
      CL_TRY(mpi_ok(MPI_Isend(tl->buf[li * tl->T + t], (int)n, MPI_FLOAT, p->sink, tag_of(t, 1),
                              comm, &tl->reqs[(*nreq)++])));
    } else if (tl->rank == p->sink) {
      if (!tl->xbuf[2 * t + 1] && !(tl->xbuf[2 * t + 1] = malloc(sizeof(float) * n)))
        return CL_ERR_NOMEM;
      CL_TRY(mpi_ok(MPI_Recv(tl->xbuf[2 * t + 1], (int)n, MPI_FLOAT, dev, tag_of(t, 1), comm,
                             MPI_STATUS_IGNORE)));
      copy_box(ln, gathered, full, tl->xbuf[2 * t + 1], r, r);
    }
  }
  return CL_OK;
}

/* Compute node id's crop on task t. */
static cl_status compute(cl__tiles *tl, int id, int t) {
  const cl_spatial_plan *p = tl->p;
  const cl_node *nd = cl_graph_node(tl->g, id);
  size_t i = (size_t)(id - p->first);
  int T = tl->T;
  cl_tensor tin[64];
  const cl_tensor *pin[64];
  for (int j = 0; j < nd->n_inputs; j++) {
    int src = nd->inputs[j];
    const cl_node *sn = cl_graph_node(tl->g, src);
    size_t k = (size_t)(tl->in_off[i] + j) * T + t, si = (size_t)(src - p->first) * T + t;
    cl_box q = tl->Q[k], h = tl->R[si];
    if (tl->scr[k]) {
      copy_box(sn, tl->scr[k], q, tl->buf[si], h, q);
      tin[j] = crop_view(sn, tl->scr[k], q);
    } else {
      tin[j] = crop_view(sn, tl->buf[si], h);
    }
    pin[j] = &tin[j];
  }
  cl_box r = tl->R[i * T + t];
  cl_tensor o = crop_view(nd, tl->buf[i * T + t], r);
  cl_op_ctx ctx = {tl->ws, tl->ws_bytes, 1};
  return cl_op_get(nd->op)->run(&tl->cp[i * T + t], pin, nd->n_inputs, &o, r.y0, r.y1, &ctx);
}

cl_status cl__tiles_run(cl__tiles *tl, MPI_Comm comm, const float *input, float *gathered,
                        double *compute_s, double *node_s) {
  const cl_spatial_plan *p = tl->p;
  int nreq = 0;
  cl_status st = scatter(tl, comm, input, &nreq);
  for (int i = 0; i < p->n_nodes && st == CL_OK; i++) {
    int id = p->first + i;
    if (id == tl->entry) continue;
    for (int t = 0; t < tl->T && st == CL_OK; t++) {
      int dev = p->task_dev[t];
      if (!mine(tl, dev) || cl_box_empty(tl->R[(size_t)i * tl->T + t])) continue;
      double c0 = cl_thread_cpu_now();
      st = compute(tl, id, t);
      double dt = cl_thread_cpu_now() - c0;
      compute_s[dev] += dt;
      node_s[(size_t)i * p->n_dev + dev] += dt;
    }
  }
  if (st == CL_OK) st = gather(tl, comm, gathered, &nreq);
  /* complete every send even after an error, so no buffer is freed under MPI */
  if (nreq) {
    cl_status w = mpi_ok(MPI_Waitall(nreq, tl->reqs, MPI_STATUSES_IGNORE));
    if (st == CL_OK) st = w;
  }
  return st;
}

cl_box cl__tiles_region(const cl__tiles *tl, int i, int t) {
  cl_box e = {0, 0, 0, 0};
  if (i < 0 || i >= tl->p->n_nodes || t < 0 || t >= tl->T) return e;
  return tl->R[(size_t)i * tl->T + t];
}

int64_t cl__tiles_macs(const cl__tiles *tl, int d) {
  return (d >= 0 && d < tl->p->n_dev) ? tl->macs[d] : 0;
}
