/* Executes row-strip spatial plans: per-device row windows, halo exchange, gather, tail. */
#include "cleave/spatial_exec.h"

#include <stdlib.h>
#include <string.h>

#include "cleave/exec.h"
#include "cleave/ops.h"
#include "cleave/wallclock.h"
#include "cleave/partition.h" /* tag enum */
#include "spatial_tiles_internal.h"

struct cl_spatial_exec {
  const cl_graph *g;
  const cl_spatial_plan *p;
  MPI_Comm comm;
  int rank; /* device of this rank, or -1 in-process (all devices) */
  float **buf;       /* [n_nodes * n_tasks] need-window buffers (NULL if not mine / empty) */
  float *workspace;
  size_t ws_bytes;
  int entry;         /* graph id of the entry node */
  cl_exec *tail;     /* non-spatial tail on the sink (NULL if the run ends at the output) */
  float *gathered;   /* full output of node `last` on the sink */
  int gathered_owned;
  unsigned char **xbuf; /* MPI pack buffers per transfer */
  MPI_Request *reqs;
  double *compute_s; /* [n_dev] */
  double *node_s;    /* [n_nodes * n_dev] thread CPU seconds per run node and device */
  double tail_s;     /* thread CPU seconds of the tail on the sink (this process) */
  cl__tiles *tiles;  /* grid-tile plans (runtime/spatial_tiles.c); NULL for row plans */
  int64_t *macs;     /* [n_dev] MACs per run (row plans; tiles keep their own) */
};


static int mine(const cl_spatial_exec *se, int dev) { return se->rank < 0 || se->rank == dev; }

void cl_spatial_exec_destroy(cl_spatial_exec *se) {
  if (!se) return;
  const cl_spatial_plan *p = se->p;
  if (se->buf)
    for (int k = 0; k < p->n_nodes * p->n_tasks; k++) free(se->buf[k]);
  if (se->xbuf)
    for (int k = 0; k < p->n_xfer; k++) free(se->xbuf[k]);
  free(se->xbuf);
  free(se->reqs);
  free(se->buf);
  free(se->workspace);
  if (se->gathered_owned) free(se->gathered);
  cl_exec_destroy(se->tail);
  free(se->compute_s);
  free(se->node_s);
  free(se->macs);
  cl__tiles_destroy(se->tiles);
  free(se);
}

static size_t window_floats(const cl_graph *g, int id, cl_box need) {
  cl_shape s = cl_graph_node(g, id)->out;
  return (size_t)s.n * (size_t)s.c * (size_t)(need.y1 - need.y0) * (size_t)s.w;
}

cl_status cl_spatial_exec_create(const cl_graph *g, const cl_spatial_plan *p, MPI_Comm comm,
                                 cl_spatial_exec **out) {
  *out = NULL;
  cl_spatial_exec *se = calloc(1, sizeof *se);
  if (!se) return CL_ERR_NOMEM;
  se->g = g;
  se->p = p;
  se->comm = comm;
  se->rank = -1;
  if (comm != MPI_COMM_NULL && cl_mpi_check(MPI_Comm_rank(comm, &se->rank), "MPI_Comm_rank") != CL_OK) {
    free(se);
    return CL_ERR_MPI;
  }
  cl_status st = CL_ERR_NOMEM;
  size_t nb = (size_t)p->n_nodes * (size_t)p->n_tasks;
  se->buf = calloc(nb ? nb : 1, sizeof(float *));
  se->compute_s = calloc((size_t)p->n_dev, sizeof(double));
  se->node_s = calloc((size_t)p->n_dev * (size_t)(p->n_nodes > 0 ? p->n_nodes : 1), sizeof(double));
  se->xbuf = calloc((size_t)p->n_xfer + 1, sizeof *se->xbuf);
  se->reqs = malloc(sizeof(MPI_Request) * ((size_t)p->n_xfer + 1));
  se->macs = calloc((size_t)p->n_dev, sizeof *se->macs);
  if (!se->buf || !se->compute_s || !se->node_s || !se->xbuf || !se->reqs || !se->macs) goto error;
  if (cl__tiles_plan_is_tiled(g, p)) {
    /* grid tiles: cropped columns, regions derived by the tile executor */
    if ((st = cl__tiles_create(g, p, se->rank, &se->tiles)) != CL_OK) goto error;
    st = CL_ERR_NOMEM;
    goto tail;
  }
  /* Entry node: the target of every scatter. */
  se->entry = -1;
  for (int k = 0; k < p->n_xfer; k++) {
    if (p->xfer[k].kind != CL_XFER_SCATTER) continue;
    if (se->entry >= 0 && se->entry != p->xfer[k].node) {
      cl_log_error("spatial exec: runs with several entry tensors are not executable (nodes %d and %d)",
                   se->entry, p->xfer[k].node);
      st = CL_ERR_UNSUPPORTED;
      goto error;
    }
    se->entry = p->xfer[k].node;
  }
  /* Without scatters (every task on the source) the entry is the run's input node. */
  for (int i = 0; i < p->n_nodes && se->entry < 0; i++)
    if (cl_graph_node(g, p->first + i)->op == CL_OP_INPUT) se->entry = p->first + i;
  if (se->entry < p->first || se->entry > p->last) {
    cl_log_error("spatial exec: the run %d..%d must contain its input node (entry %d)", p->first,
                 p->last, se->entry);
    st = CL_ERR_UNSUPPORTED;
    goto error;
  }
  for (int i = 0; i < p->n_nodes; i++) {
    int id = p->first + i;
    cl_shape s = cl_graph_node(g, id)->out;
    for (int t = 0; t < p->n_tasks; t++) {
      cl_box need = p->need[(size_t)i * p->n_tasks + t];
      if (cl_box_empty(need) || !mine(se, p->task_dev[t])) continue;
      /* Row plans compute full-width rows; a window may *need* fewer columns (e.g. an
       * unpadded stride-4 conv never reads the input's last column) and is then simply
       * held at full width. Only a computed region narrower than the tensor is a tile. */
      (void)s; /* computed regions narrower than the tensor took the grid-tile path */
      float *b = malloc(sizeof(float) * window_floats(g, id, need));
      if (!b) goto error;
      memset(b, 0, sizeof(float) * window_floats(g, id, need));
      se->buf[(size_t)i * p->n_tasks + t] = b;
    }
    /* MACs per output row are uniform (row plans compute full-width rows) */
    const cl_node *nd = cl_graph_node(g, id);
    for (int t = 0; t < p->n_tasks && nd->op != CL_OP_INPUT && nd->out.h > 0; t++) {
      cl_box b = p->box[(size_t)i * p->n_tasks + t];
      if (!cl_box_empty(b)) se->macs[p->task_dev[t]] += nd->macs / nd->out.h * (b.y1 - b.y0);
    }
    /* workspace for the largest slice this node computes */
    const cl_op_impl *impl = cl_op_get(nd->op);
    if (impl->workspace && nd->op != CL_OP_INPUT) {
      cl_shape in[256];
      int nin = nd->n_inputs < 256 ? nd->n_inputs : 256;
      for (int j = 0; j < nin; j++) in[j] = cl_graph_node(g, nd->inputs[j])->out;
      for (int t = 0; t < p->n_tasks; t++) {
        cl_box b = p->box[(size_t)i * p->n_tasks + t];
        if (cl_box_empty(b)) continue;
        size_t ws = impl->workspace(nd, in, nin, b.y1 - b.y0);
        if (ws > se->ws_bytes) se->ws_bytes = ws;
      }
    }
  }
  if (se->ws_bytes && !(se->workspace = malloc(se->ws_bytes))) goto error;
tail:
  if (mine(se, p->sink)) {
    int n = cl_graph_size(g);
    if (p->last < cl_graph_output(g)) {
      uint8_t *mask = calloc((size_t)n, 1);
      if (!mask) goto error;
      for (int i = p->last + 1; i < n; i++) mask[i] = 1;
      cl_exec_opts o = cl_exec_opts_default();
      o.run_mask = mask;
      /* the portable kernels, as on the slices: the gathered input is written NCHW and
       * per-device times stay comparable with the calibration (cl_coedge_run_point) */
      o.backend = CL_BACKEND_PORTABLE;
      st = cl_exec_create(g, &o, &se->tail);
      free(mask);
      if (st != CL_OK) goto error;
      se->gathered = cl_exec_buffer(se->tail, p->last);
      if (!se->gathered) {
        cl_log_error("spatial exec: the tail does not consume node %d", p->last);
        st = CL_ERR_INVALID;
        goto error;
      }
    } else {
      se->gathered = malloc(sizeof(float) * (size_t)cl_shape_numel(cl_graph_node(g, p->last)->out));
      if (!se->gathered) goto error;
      se->gathered_owned = 1;
    }
  }
  *out = se;
  return CL_OK;
error:
  if (st == CL_ERR_NOMEM) cl_log_error("spatial exec: out of memory");
  cl_spatial_exec_destroy(se);
  return st;
}

/* Copy rows [y0, y1) of a node's output between two row-window views. */
static void copy_rows(const cl_tensor *dst, const cl_tensor *src, int y0, int y1) {
  if (y1 <= y0) return;
  size_t row = (size_t)src->shape.w;
  for (int n = 0; n < src->shape.n; n++)
    for (int c = 0; c < src->shape.c; c++)
      memcpy(cl_tensor_at(dst, n, c, y0, 0), cl_tensor_at(src, n, c, y0, 0), sizeof(float) * row * (size_t)(y1 - y0));
}

static cl_tensor view(const cl_spatial_exec *se, int id, int t) {
  const cl_spatial_plan *p = se->p;
  int i = id - p->first;
  cl_box need = p->need[(size_t)i * p->n_tasks + t];
  cl_tensor v = {se->buf[(size_t)i * p->n_tasks + t], cl_graph_node(se->g, id)->out, need.y0, need.y1 - need.y0};
  return v;
}

/* The task on device d that holds node id's rows (row modes: one task per device). */
static int task_of_dev(const cl_spatial_plan *p, int d) {
  for (int t = 0; t < p->n_tasks; t++)
    if (p->task_dev[t] == d) return t;
  return -1;
}

static cl_status mpi_ok(int rc) { return cl_mpi_check(rc, "spatial exec transfer"); }

/* Execute transfer k: source view -> destination view (rows of box). */
static cl_status do_xfer(cl_spatial_exec *se, int k, const float *input, int *nreq) {
  const cl_spatial_plan *p = se->p;
  int kind = p->xfer[k].kind, id = p->xfer[k].node, src = p->xfer[k].src, dst = p->xfer[k].dst;
  int task = p->xfer[k].task;
  cl_box box = p->xfer[k].box;
  cl_shape s = cl_graph_node(se->g, id)->out;
  cl_tensor sv, dv;
  if (kind == CL_XFER_SCATTER) {
    cl_tensor full = {(float *)input, s, 0, s.h};
    sv = full;
  } else {
    sv = view(se, id, kind == CL_XFER_GATHER ? task : task_of_dev(p, src));
  }
  if (kind == CL_XFER_GATHER) {
    cl_tensor full = {se->gathered, s, 0, s.h};
    dv = full;
  } else {
    dv = view(se, id, task);
  }
  if (se->rank < 0) {
    copy_rows(&dv, &sv, box.y0, box.y1);
    return CL_OK;
  }
  if (src == dst) {
    if (se->rank == src) copy_rows(&dv, &sv, box.y0, box.y1);
    return CL_OK;
  }
  size_t floats = (size_t)s.n * s.c * (size_t)(box.y1 - box.y0) * (size_t)s.w;
  if (floats == 0) return CL_OK;
  int tag = CL_TAG_TENSOR_BASE + (k % 30000);
  cl_tensor packed = {NULL, s, box.y0, box.y1 - box.y0};
  if (se->rank == src) {
    if (!se->xbuf[k] && !(se->xbuf[k] = malloc(sizeof(float) * floats))) return CL_ERR_NOMEM;
    packed.data = (float *)se->xbuf[k];
    copy_rows(&packed, &sv, box.y0, box.y1);
    CL_TRY(mpi_ok(MPI_Isend(packed.data, (int)floats, MPI_FLOAT, dst, tag, se->comm, &se->reqs[(*nreq)++])));
  } else if (se->rank == dst) {
    if (!se->xbuf[k] && !(se->xbuf[k] = malloc(sizeof(float) * floats))) return CL_ERR_NOMEM;
    packed.data = (float *)se->xbuf[k];
    CL_TRY(mpi_ok(MPI_Recv(packed.data, (int)floats, MPI_FLOAT, src, tag, se->comm, MPI_STATUS_IGNORE)));
    copy_rows(&dv, &packed, box.y0, box.y1);
  }
  return CL_OK;
}

cl_status cl_spatial_exec_run(cl_spatial_exec *se, const float *input, float *output) {
  const cl_spatial_plan *p = se->p;
  int nreq = 0;
  for (int d = 0; d < p->n_dev; d++) se->compute_s[d] = 0;
  memset(se->node_s, 0, sizeof(double) * (size_t)p->n_dev * (size_t)p->n_nodes);
  se->tail_s = 0;
  if (se->tiles) {
    CL_TRY(cl__tiles_run(se->tiles, se->comm, input, se->gathered, se->compute_s, se->node_s));
    goto tail;
  }
  int k = 0;
  /* scatter; the plan lists only transfers between devices, so the source's own tasks
   * copy their input rows locally */
  for (; k < p->n_xfer && p->xfer[k].kind == CL_XFER_SCATTER; k++) CL_TRY(do_xfer(se, k, input, &nreq));
  if (mine(se, p->source)) {
    cl_shape s = cl_graph_node(se->g, se->entry)->out;
    cl_tensor full = {(float *)input, s, 0, s.h};
    for (int t = 0; t < p->n_tasks; t++) {
      cl_box need = p->need[(size_t)(se->entry - p->first) * p->n_tasks + t];
      if (p->task_dev[t] != p->source || cl_box_empty(need)) continue;
      cl_tensor v = view(se, se->entry, t);
      copy_rows(&v, &full, need.y0, need.y1);
    }
  }
  for (int i = 0; i < p->n_nodes; i++) {
    int id = p->first + i;
    const cl_node *nd = cl_graph_node(se->g, id);
    if (id != se->entry && nd->op != CL_OP_INPUT) {
      const cl_op_impl *impl = cl_op_get(nd->op);
      for (int t = 0; t < p->n_tasks; t++) {
        int dev = p->task_dev[t];
        cl_box b = p->box[(size_t)i * p->n_tasks + t];
        if (!mine(se, dev) || cl_box_empty(b)) continue;
        cl_tensor tin[256];
        const cl_tensor *pin[256];
        if (nd->n_inputs > 256) return CL_ERR_UNSUPPORTED;
        for (int j = 0; j < nd->n_inputs; j++) {
          tin[j] = view(se, nd->inputs[j], t);
          pin[j] = &tin[j];
        }
        cl_tensor o = view(se, id, t);
        cl_op_ctx ctx = {se->workspace, se->ws_bytes, 1};
        double c0 = cl_thread_cpu_now();
        CL_TRY(impl->run(nd, pin, nd->n_inputs, &o, b.y0, b.y1, &ctx));
        double dt = cl_thread_cpu_now() - c0;
        se->compute_s[dev] += dt;
        se->node_s[(size_t)i * p->n_dev + dev] += dt;
      }
    }
    /* halos of this node (list is in node order) */
    for (; k < p->n_xfer && p->xfer[k].kind == CL_XFER_HALO && p->xfer[k].node == id; k++)
      CL_TRY(do_xfer(se, k, input, &nreq));
  }
  for (; k < p->n_xfer; k++) CL_TRY(do_xfer(se, k, input, &nreq));
  /* the sink's own slices of the run's output (not in the transfer list) */
  if (mine(se, p->sink)) {
    cl_shape s = cl_graph_node(se->g, p->last)->out;
    cl_tensor full = {se->gathered, s, 0, s.h};
    for (int t = 0; t < p->n_tasks; t++) {
      cl_box b = p->box[(size_t)(p->n_nodes - 1) * p->n_tasks + t];
      if (p->task_dev[t] != p->sink || cl_box_empty(b)) continue;
      cl_tensor v = view(se, p->last, t);
      copy_rows(&full, &v, b.y0, b.y1);
    }
  }
  if (nreq) CL_TRY(mpi_ok(MPI_Waitall(nreq, se->reqs, MPI_STATUSES_IGNORE)));
tail:
  if (mine(se, p->sink)) {
    int outn = cl_graph_output(se->g);
    const float *y = se->gathered;
    if (se->tail) {
      double c0 = cl_thread_cpu_now();
      CL_TRY(cl_exec_run(se->tail));
      se->tail_s = cl_thread_cpu_now() - c0;
      y = cl_exec_buffer(se->tail, outn);
    }
    if (output) memcpy(output, y, sizeof(float) * (size_t)cl_shape_numel(cl_graph_node(se->g, outn)->out));
  }
  return CL_OK;
}

double cl_spatial_exec_compute_seconds(const cl_spatial_exec *se, int d) {
  return (d >= 0 && d < se->p->n_dev) ? se->compute_s[d] : 0.0;
}

double cl_spatial_exec_node_seconds(const cl_spatial_exec *se, int i, int d) {
  const cl_spatial_plan *p = se->p;
  if (i < 0 || i >= p->n_nodes || d < 0 || d >= p->n_dev) return 0.0;
  return se->node_s[(size_t)i * p->n_dev + d];
}

double cl_spatial_exec_tail_seconds(const cl_spatial_exec *se) { return se->tail_s; }

cl_box cl_spatial_exec_region(const cl_spatial_exec *se, int i, int t) {
  const cl_spatial_plan *p = se->p;
  cl_box e = {0, 0, 0, 0};
  if (se->tiles) return cl__tiles_region(se->tiles, i, t);
  if (i < 0 || i >= p->n_nodes || t < 0 || t >= p->n_tasks) return e;
  return p->need[(size_t)i * p->n_tasks + t];
}

int64_t cl_spatial_exec_macs(const cl_spatial_exec *se, int d) {
  if (se->tiles) return cl__tiles_macs(se->tiles, d);
  return (d >= 0 && d < se->p->n_dev) ? se->macs[d] : 0;
}

const float *cl_spatial_exec_run_output(const cl_spatial_exec *se) { return se->gathered; }
