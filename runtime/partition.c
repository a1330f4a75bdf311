/* Partitioned execution over MPI: local executor + tensor messages between ranks. */
#include "cleave/partition.h"
#include "cleave/wallclock.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct xfer {
  int node;  /* producer graph node */
  int peer;  /* destination (send) or source (recv) rank */
  size_t bytes;      /* payload bytes (float32 data) */
  unsigned char *buf; /* header + payload */
  MPI_Request req;
} xfer;

struct cl_part {
  const cl_graph *g;
  MPI_Comm comm;
  int rank;
  int *rank_of_node;
  cl_exec *exec;
  int n_steps;
  /* per step: [recv_off[k], recv_off[k+1]) into recvs; [send_off[k], send_off[k+1]) into sends */
  int *recv_off, *send_off;
  xfer *recvs, *sends;
  int n_recvs, n_sends;
  cl_part_sample *samples;
  int n_samples, cap_samples;
  const float *input; /* cl_part_set_input, or NULL: seeded */
};

/* Wall times: CLOCK_MONOTONIC (cl_wall_now) is one clock for all processes of a host;
 * MPI_Wtime need not be. */

cl_status cl_mpi_check(int rc, const char *what) {
  if (rc == MPI_SUCCESS) return CL_OK;
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  cl_log_error("MPI %s failed: %s", what, msg);
  return CL_ERR_MPI;
}

void cl_part_destroy(cl_part *p) {
  if (!p) return;
  for (int i = 0; i < p->n_sends; i++) free(p->sends[i].buf);
  for (int i = 0; i < p->n_recvs; i++) free(p->recvs[i].buf);
  free(p->sends);
  free(p->recvs);
  free(p->send_off);
  free(p->recv_off);
  free(p->rank_of_node);
  free(p->samples);
  cl_exec_destroy(p->exec);
  free(p);
}

cl_exec *cl_part_exec(cl_part *p) { return p->exec; }

cl_status cl_part_create(const cl_graph *g, const int *rank_of_node, MPI_Comm comm, int threads,
                         cl_part **out) {
  return cl_part_create_backend(g, rank_of_node, comm, threads, CL_BACKEND_AUTO, out);
}

cl_status cl_part_create_backend(const cl_graph *g, const int *rank_of_node, MPI_Comm comm, int threads,
                                 cl_backend backend, cl_part **out) {
  *out = NULL;
  cl_part *p = calloc(1, sizeof *p);
  if (!p) return CL_ERR_NOMEM;
  cl_status st = CL_ERR_NOMEM;
  int n = cl_graph_size(g);
  p->g = g;
  p->comm = comm;
  uint8_t *mask = calloc((size_t)n, 1);
  uint8_t *seen = calloc((size_t)n, 1);
  int *dst_seen = NULL, size = 1;
  if ((st = cl_mpi_check(MPI_Comm_rank(comm, &p->rank), "MPI_Comm_rank")) != CL_OK ||
      (st = cl_mpi_check(MPI_Comm_size(comm, &size), "MPI_Comm_size")) != CL_OK)
    goto error;
  st = CL_ERR_NOMEM;
  p->rank_of_node = malloc(sizeof(int) * (size_t)n);
  if (!mask || !seen || !p->rank_of_node) goto error;
  memcpy(p->rank_of_node, rank_of_node, sizeof(int) * (size_t)n);
  for (int i = 0; i < n; i++) mask[i] = rank_of_node[i] == p->rank;
  cl_exec_opts o = cl_exec_opts_default();
  o.threads = threads;
  o.backend = backend;
  o.run_mask = mask;
  o.row_split = CL_ROWS_OFF; /* timed step by step: whole-layer primitives (rows mode splits only whole runs) */
  o.preact = CL_PREACT_OFF;   /* and a batch norm keeps its own step time (not fused into its 1x1) */
  st = cl_exec_create(g, &o, &p->exec);
  if (st != CL_OK) goto error;
  st = CL_ERR_NOMEM;
  p->n_steps = cl_exec_step_count(p->exec);
  p->recv_off = calloc((size_t)p->n_steps + 1, sizeof(int));
  p->send_off = calloc((size_t)p->n_steps + 1, sizeof(int));
  p->recvs = calloc((size_t)n + 1, sizeof(xfer)); /* each remote producer received at most once */
  p->sends = calloc((size_t)n * (size_t)(size < 8 ? size : 8) + 1, sizeof(xfer));
  int cap_sends = n * (size < 8 ? size : 8) + 1;
  dst_seen = calloc((size_t)size, sizeof(int));
  if (!p->recv_off || !p->send_off || !p->recvs || !p->sends || !dst_seen) goto error;
  for (int k = 0; k < p->n_steps; k++) {
    const cl_exec_step *s = cl_exec_step_get(p->exec, k);
    p->recv_off[k] = p->n_recvs;
    for (int j = 0; j < s->n_nodes; j++) {
      const cl_node *nd = cl_graph_node(g, s->nodes[j]);
      for (int q = 0; q < nd->n_inputs; q++) {
        int x = nd->inputs[q];
        if (mask[x] || seen[x]) continue;
        seen[x] = 1;
        xfer *r = &p->recvs[p->n_recvs++];
        r->node = x;
        r->peer = rank_of_node[x];
        r->bytes = sizeof(float) * (size_t)cl_shape_numel(cl_graph_node(g, x)->out);
        r->req = MPI_REQUEST_NULL;
        if (r->bytes > (size_t)INT_MAX - 64) {
          cl_log_error("tensor '%s' too large for one MPI message (%zu bytes)", cl_graph_node(g, x)->name, r->bytes);
          st = CL_ERR_UNSUPPORTED;
          goto error;
        }
        r->buf = malloc(sizeof(double) * CL_MSG_HDR + r->bytes);
        if (!r->buf) goto error;
      }
    }
    /* Sends: distinct remote ranks consuming this step's output. */
    p->send_off[k] = p->n_sends;
    int x = s->out_node;
    for (int r = 0; r < size; r++) dst_seen[r] = 0;
    for (int c = x + 1; c < n; c++) {
      const cl_node *cn = cl_graph_node(g, c);
      int dst = rank_of_node[c];
      if (dst == p->rank || dst_seen[dst]) continue;
      for (int q = 0; q < cn->n_inputs; q++) {
        if (cn->inputs[q] != x) continue;
        dst_seen[dst] = 1;
        if (p->n_sends == cap_sends) {
          cl_log_error("too many crossing tensors");
          st = CL_ERR_UNSUPPORTED;
          goto error;
        }
        xfer *sx = &p->sends[p->n_sends++];
        sx->node = x;
        sx->peer = dst;
        sx->bytes = sizeof(float) * (size_t)cl_shape_numel(cl_graph_node(g, x)->out);
        sx->req = MPI_REQUEST_NULL;
        sx->buf = malloc(sizeof(double) * CL_MSG_HDR + sx->bytes);
        if (!sx->buf) goto error;
        break;
      }
    }
  }
  p->recv_off[p->n_steps] = p->n_recvs;
  p->send_off[p->n_steps] = p->n_sends;
  free(mask);
  free(seen);
  free(dst_seen);
  *out = p;
  return CL_OK;
error:
  if (st == CL_ERR_NOMEM) cl_log_error("partition: out of memory");
  free(mask);
  free(seen);
  free(dst_seen);
  cl_part_destroy(p);
  return st;
}

static cl_status add_sample(cl_part *p, cl_part_sample s) {
  if (p->n_samples == p->cap_samples) {
    int cap = p->cap_samples ? 2 * p->cap_samples : 1024;
    cl_part_sample *ns = realloc(p->samples, sizeof *ns * (size_t)cap);
    if (!ns) return CL_ERR_NOMEM;
    p->samples = ns;
    p->cap_samples = cap;
  }
  p->samples[p->n_samples++] = s;
  return CL_OK;
}

/* Complete @p req: block in MPI, or (hooks->wait_poll > 0) test and sleep. */
static cl_status part_wait(MPI_Request *req, const cl_part_hooks *hooks, const char *what) {
  if (!hooks || !(hooks->wait_poll > 0)) return cl_mpi_check(MPI_Wait(req, MPI_STATUS_IGNORE), what);
  struct timespec ts = {0, (long)(hooks->wait_poll * 1e9)};
  for (;;) {
    int done = 0;
    CL_TRY(cl_mpi_check(MPI_Test(req, &done, MPI_STATUS_IGNORE), what));
    if (done) return CL_OK;
    nanosleep(&ts, NULL);
  }
}

cl_status cl_part_run(cl_part *p, int inference, uint64_t input_seed, const cl_part_hooks *hooks) {
  /* Buffers are about to be rewritten: complete last inference's sends first. */
  for (int i = 0; i < p->n_sends; i++)
    CL_TRY(cl_mpi_check(MPI_Wait(&p->sends[i].req, MPI_STATUS_IGNORE), "MPI_Wait(send)"));
  if (p->rank_of_node[0] == p->rank) {
    if (p->input)
      memcpy(cl_exec_buffer(p->exec, 0), p->input, sizeof(float) * (size_t)cl_shape_numel(cl_graph_node(p->g, 0)->out));
    else
      cl_exec_fill_input(p->exec, input_seed);
  }
  for (int k = 0; k < p->n_steps; k++) {
    for (int i = p->recv_off[k]; i < p->recv_off[k + 1]; i++) {
      xfer *r = &p->recvs[i];
      int cnt = (int)(sizeof(double) * CL_MSG_HDR + r->bytes);
      CL_TRY(cl_mpi_check(MPI_Irecv(r->buf, cnt, MPI_BYTE, r->peer, CL_TAG_TENSOR_BASE + r->node, p->comm, &r->req),
                       "MPI_Irecv(tensor)"));
      CL_TRY(part_wait(&r->req, hooks, "MPI_Wait(tensor)"));
      double hdr[CL_MSG_HDR];
      memcpy(hdr, r->buf, sizeof hdr);
      if ((int)hdr[0] != inference) {
        cl_log_error("rank %d: tensor '%s' from rank %d belongs to inference %d, expected %d", p->rank,
                     cl_graph_node(p->g, r->node)->name, r->peer, (int)hdr[0], inference);
        return CL_ERR_INTERNAL;
      }
      memcpy(cl_exec_buffer(p->exec, r->node), r->buf + sizeof hdr, r->bytes);
      if (hooks && hooks->after_recv) hooks->after_recv(hooks->ctx, inference, r->node, r->peer, (double)r->bytes, hdr[1]);
    }
    cl_part_sample smp;
    smp.inference = inference;
    smp.step = k;
    smp.wall_start = cl_wall_now();
    double c0 = cl_thread_cpu_now();
    CL_TRY(cl_exec_run_step(p->exec, k));
    smp.cpu = cl_thread_cpu_now() - c0;
    if (hooks && hooks->after_step) hooks->after_step(hooks->ctx, inference, k, smp.cpu);
    smp.wall_end = cl_wall_now();
    CL_TRY(add_sample(p, smp));
    for (int i = p->send_off[k]; i < p->send_off[k + 1]; i++) {
      xfer *sx = &p->sends[i];
      double hdr[CL_MSG_HDR] = {(double)inference, cl_wall_now(), (double)sx->bytes, 0.0};
      if (hooks && hooks->before_send)
        hdr[1] = hooks->before_send(hooks->ctx, inference, sx->node, sx->peer, (double)sx->bytes);
      memcpy(sx->buf, hdr, sizeof hdr);
      memcpy(sx->buf + sizeof hdr, cl_exec_buffer(p->exec, sx->node), sx->bytes);
      int cnt = (int)(sizeof(double) * CL_MSG_HDR + sx->bytes);
      CL_TRY(cl_mpi_check(MPI_Isend(sx->buf, cnt, MPI_BYTE, sx->peer, CL_TAG_TENSOR_BASE + sx->node, p->comm, &sx->req),
                       "MPI_Isend(tensor)"));
      if (hooks && hooks->complete_sends) CL_TRY(part_wait(&sx->req, hooks, "MPI_Wait(send)"));
    }
  }
  return CL_OK;
}

cl_status cl_part_finish(cl_part *p) {
  for (int i = 0; i < p->n_sends; i++)
    CL_TRY(cl_mpi_check(MPI_Wait(&p->sends[i].req, MPI_STATUS_IGNORE), "MPI_Wait(send)"));
  return CL_OK;
}

void cl_part_reset_samples(cl_part *p) { p->n_samples = 0; }

const cl_part_sample *cl_part_samples(const cl_part *p, int *n) {
  *n = p->n_samples;
  return p->samples;
}

void cl_part_set_input(cl_part *p, const float *input) { p->input = input; }

const float *cl_part_output(cl_part *p) {
  int o = cl_graph_output(p->g);
  return p->rank_of_node[o] == p->rank ? cl_exec_buffer(p->exec, o) : NULL;
}
