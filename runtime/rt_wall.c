/* Wall-clock mode of `cleave run`: the link model realised with real waiting.
 *
 * A tensor leaves its sender when the producing step ends (its emulated start); the
 * receiver gets the bytes over MPI and then sleeps until the model's arrival. Where that
 * arrival comes from:
 *
 *  - direct mode (every transfer on its own FIFO links, no medium, no hop shared by two
 *    routes): the sender queues behind its own earlier sends on the link and the receiver
 *    computes arrival = start + latency(start) + tx_time(start), both with the schedules
 *    (traces, conditions) in force at the emulated start;
 *  - arbiter mode (max-min links, shared media, or hops shared by routes: the outcome of a
 *    transfer depends on other ranks' transfers): a thread on rank 0 runs the one link model
 *    in real time. Senders post START(link, bytes, start); the arbiter starts a flow (or a
 *    FIFO send) at that engine time, advances the flows as the wall clock passes their
 *    events (drains, bandwidth changes), and sends DONE(arrival) to the receiver once a
 *    flow's drain is final. A drain is final when no START stamped before it can still
 *    come: the arbiter waits a guard of min(1 ms or twice the recent START delay, half
 *    the flow's latency) past it, so a
 *    START that took up to that long to arrive is still applied at its stamp, while DONE
 *    still reaches the receiver before the arrival (drain + latency).
 *
 * Every time crossing ranks is global (rank 0's clock, offsets from runtime/rt_clock.c). */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleave/provenance.h"
#include "cleave/wallclock.h"
#include "rt_wall.h"

enum { CL__ARB_START = 1, CL__ARB_STOP = 2 };
enum { CL__TAG_ARB = 1, CL__TAG_DONE = 16 }; /* on the arbiter's communicator; DONE + producer node */
#define CL__GUARD_MAX 1e-3 /* s: longest wait past a drain for late STARTs */
#define CL__POLL 1e-4      /* s: arbiter's poll period for STARTs while nothing is due */

typedef struct cl__arb_flow {
  int inference, x, dst, link; /* -1 inference: free slot */
  double lat;                  /* s: base latency of the route at start (the guard) */
} cl__arb_flow;

struct cl__wall {
  MPI_Comm comm, acomm; /* acomm: arbiter messages (MPI_COMM_NULL in direct mode) */
  const cl_rt_setup *su;
  const cl_rt_tasks *tasks; /* NULL on idle ranks */
  int rank, size, arbiter;
  cl__clock_sync clock;
  double offset, t0, step_end; /* global s */
  double due_floor;            /* global s: latest model arrival among this step's inputs so far */
  double *link_free;           /* direct mode: per link, emulated free time (global s) */
  double *arrivals;            /* rows of 6 (rt_wall.h) */
  int n_arr, cap_arr;
  int failed;                  /* a hook's MPI call failed on this rank */
  /* arbiter thread (rank 0) */
  pthread_t thread;
  int running;
  cl__arb_flow *flows;
  int n_flows;
  atomic_int arb_failed;
  double late_max;   /* s: largest delay of a START past the engine time it was applied at */
  double lag;        /* s: recent delay of STARTs (receipt - stamp), running average */
  int64_t n_starts;
};

double cl__wall_now(const cl__wall *w) { return cl_wall_now() + w->offset; }
void cl__wall_sleep_until(const cl__wall *w, double global) { (void)cl_wall_sleep_until(global - w->offset); }
double cl__wall_offset(const cl__wall *w) { return w->offset; }

const double *cl__wall_arrivals(const cl__wall *w, int *n_rows) {
  *n_rows = w->n_arr;
  return w->arrivals;
}

/* Complete @p req sleeping between tests instead of spinning inside MPI: ranks that wait
 * (for an arbiter's answer, at a release barrier) leave the cores to the ranks and the
 * arbiter thread that must be on time, which matters on an oversubscribed host. */
static cl_status cl__wait_sleepy(MPI_Request *req, const char *what) {
  for (;;) {
    int done = 0;
    CL_TRY(cl_mpi_check(MPI_Test(req, &done, MPI_STATUS_IGNORE), what));
    if (done) return CL_OK;
    struct timespec ts = {0, 50000};
    nanosleep(&ts, NULL);
  }
}

cl_status cl__wall_barrier(cl__wall *w) {
  MPI_Request req;
  CL_TRY(cl_mpi_check(MPI_Ibarrier(w->comm, &req), "MPI_Ibarrier"));
  return cl__wait_sleepy(&req, "MPI_Test(barrier)");
}

/* Link (or route) id of the tensor of producer @p x sent to @p dst; -1 if none. */
static int cl__xfer_link(const cl__wall *w, int x, int dst) {
  const cl_rt_tasks *t = w->tasks;
  for (int j = 0; t && j < t->n_xfer; j++)
    if (t->xfer_node[j] == x && t->xfer_dst[j] == dst) return t->xfer_link[j];
  return -1;
}

/* Arbiter needed: a max-min link, a medium, or a plain link crossed by two routes. */
static int cl__needs_arbiter(const cl_netmodel *net, const cl_rt_tasks *t) {
  int nl = cl_netmodel_links(net);
  int *user = malloc(sizeof(int) * (size_t)(nl + 1));
  if (!user) return 1;
  for (int i = 0; i < nl; i++) user[i] = -1;
  int need = 0, hops[256];
  for (int j = 0; j < t->n_xfer && !need; j++) {
    int id = t->xfer_link[j];
    if (cl_netmodel_is_fluid(net, id)) need = 1;
    int nh = cl_netmodel_route_hops(net, id, hops, 256);
    if (nh > 256) need = 1;
    for (int k = 0; k < nh && k < 256 && !need; k++) {
      if (user[hops[k]] >= 0 && user[hops[k]] != id) need = 1;
      user[hops[k]] = id;
    }
  }
  free(user);
  return need || cl_netmodel_media(net) > 0;
}

cl_status cl__wall_create(MPI_Comm comm, const cl_rt_setup *su, const cl_rt_tasks *tasks, cl__wall **out) {
  *out = NULL;
  cl__wall *w = calloc(1, sizeof *w);
  cl_status st = w ? CL_OK : CL_ERR_NOMEM;
  int bad = st != CL_OK, any = 0;
  CL_TRY(cl_mpi_check(MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, comm), "MPI_Allreduce(wall)"));
  if (any) {
    free(w);
    return CL_ERR_NOMEM;
  }
  w->comm = comm;
  w->acomm = MPI_COMM_NULL;
  w->su = su;
  w->tasks = tasks;
  st = cl_mpi_check(MPI_Comm_rank(comm, &w->rank), "MPI_Comm_rank");
  if (st == CL_OK) st = cl_mpi_check(MPI_Comm_size(comm, &w->size), "MPI_Comm_size");
  if (st == CL_OK) st = cl__clock_sync_run(comm, 32, &w->clock);
  if (st != CL_OK) {
    free(w);
    return st;
  }
  w->offset = w->clock.applied;
  if (w->rank == 0) w->arbiter = cl__needs_arbiter(su->net, tasks);
  st = cl_mpi_check(MPI_Bcast(&w->arbiter, 1, MPI_INT, 0, comm), "MPI_Bcast(arbiter)");
  if (st == CL_OK && w->arbiter) {
    int level = MPI_THREAD_SINGLE;
    st = cl_mpi_check(MPI_Query_thread(&level), "MPI_Query_thread");
    bad = level < MPI_THREAD_MULTIPLE;
    if (st == CL_OK) st = cl_mpi_check(MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, comm), "MPI_Allreduce(thread level)");
    if (st == CL_OK && any) {
      if (w->rank == 0)
        cl_log_error("wall mode with shared links (max-min, media or shared hops) needs MPI_THREAD_MULTIPLE "
                     "(MPI_Init_thread); this MPI gave less");
      st = CL_ERR_UNSUPPORTED;
    }
    if (st == CL_OK) st = cl_mpi_check(MPI_Comm_dup(comm, &w->acomm), "MPI_Comm_dup(arbiter)");
    if (st == CL_OK) st = cl_mpi_check(MPI_Comm_set_errhandler(w->acomm, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  }
  if (st == CL_OK && !w->arbiter) {
    w->link_free = calloc((size_t)cl_netmodel_links(su->net) + 1, sizeof(double));
    if (!w->link_free) st = CL_ERR_NOMEM;
  }
  if (st != CL_OK) {
    cl__wall_destroy(w);
    return st;
  }
  *out = w;
  return CL_OK;
}

/* ---- the hooks ---- */

static void cl__wall_after_step(void *ctx, int inference, int k, double cpu) {
  (void)inference;
  cl__wall *w = ctx;
  /* Background load runs for real (threads started by cl_rt_run), so only the node's
   * speed factor is emulated by stretching: cpu x speed. */
  const cl_rt_node *rn = &w->su->nodes[w->rank];
  const double *sd = w->tasks && w->tasks->step_slowdown ? w->tasks->step_slowdown[w->rank] : NULL;
  double speed = sd ? sd[k] * rn->speed / rn->slowdown : rn->speed;
  double extra = cpu * (speed - 1.0);
  if (extra > 0) (void)cl_wall_sleep_until(cl_wall_now() + extra);
  w->step_end = cl__wall_now(w); /* the tensors of this step leave now */
  w->due_floor = -INFINITY;      /* the next step's inputs */
}

static double cl__wall_before_send(void *ctx, int inference, int x, int dst, double bytes) {
  cl__wall *w = ctx;
  int link = cl__xfer_link(w, x, dst);
  double start = w->step_end;
  if (link < 0) return start;
  if (w->arbiter) {
    double m[8] = {CL__ARB_START, inference, x, w->rank, dst, bytes, start, link};
    if (cl_mpi_check(MPI_Send(m, 8, MPI_DOUBLE, 0, CL__TAG_ARB, w->acomm), "MPI_Send(arbiter start)") != CL_OK)
      w->failed = 1;
    return start;
  }
  if (w->link_free[link] > start) start = w->link_free[link];
  double tx = 0;
  cl_netmodel_tx_time(w->su->net, link, start - w->t0, (uint64_t)bytes, &tx);
  w->link_free[link] = start + tx;
  return start;
}

static void cl__wall_after_recv(void *ctx, int inference, int x, int src, double bytes, double send_start) {
  cl__wall *w = ctx;
  int link = cl__xfer_link(w, x, w->rank);
  (void)src;
  if (link < 0) return;
  double arrival = NAN;
  if (w->arbiter) {
    double m[4];
    MPI_Request req;
    if (cl_mpi_check(MPI_Irecv(m, 4, MPI_DOUBLE, 0, CL__TAG_DONE + x, w->acomm, &req), "MPI_Irecv(arbiter done)") != CL_OK ||
        cl__wait_sleepy(&req, "MPI_Test(arbiter done)") != CL_OK || (int)m[0] != inference) {
      if (!w->failed) cl_log_error("rank %d: arbiter's answer for tensor %d of inference %d is missing", w->rank, x, inference);
      w->failed = 1;
      return;
    }
    arrival = w->t0 + m[1];
  } else {
    double e = send_start - w->t0, tx = 0; /* engine time of the start */
    cl_netmodel_tx_time(w->su->net, link, e, (uint64_t)bytes, &tx);
    arrival = send_start + cl_netmodel_latency_at(w->su->net, link, e) + tx;
  }
  /* A step's remote inputs are taken in its input order: one that arrives (in the model)
   * while the rank still waits for an earlier-listed, later-arriving input is due when
   * that one is, as it is for the step that consumes both. */
  if (arrival < w->due_floor) arrival = w->due_floor;
  w->due_floor = arrival;
  cl__wall_sleep_until(w, arrival);
  double actual = cl__wall_now(w);
  if (w->n_arr == w->cap_arr) {
    int cap = w->cap_arr ? 2 * w->cap_arr : 256;
    double *p = realloc(w->arrivals, sizeof(double) * 6 * (size_t)cap);
    if (!p) return;
    w->arrivals = p;
    w->cap_arr = cap;
  }
  double *r = w->arrivals + 6 * (size_t)w->n_arr++;
  r[0] = inference;
  r[1] = x;
  r[2] = w->rank;
  r[3] = send_start;
  r[4] = arrival;
  r[5] = actual;
}

/* 1 if tensors flow between ranks without a cycle (Kahn's algorithm on the rank graph:
 * O(nodes + edges), no ranks x ranks table). */
static int cl__rank_flows_acyclic(const cl_graph *g, const int *node_of_layer, int N) {
  int n = cl_graph_size(g), ne = 0;
  for (int c = 0; c < n; c++) ne += cl_graph_node(g, c)->n_inputs;
  int *deg = calloc((size_t)N + 1, sizeof(int)), *off = calloc((size_t)N + 2, sizeof(int));
  int *to = malloc(sizeof(int) * (size_t)(ne + 1)), *queue = malloc(sizeof(int) * (size_t)(N + 1));
  int acyclic = 0;
  if (deg && off && to && queue) {
    for (int pass = 0; pass < 2; pass++) /* count, then fill the CSR of rank edges a -> b */
      for (int c = 0; c < n; c++) {
        const cl_node *cn = cl_graph_node(g, c);
        for (int q = 0; q < cn->n_inputs; q++) {
          int a = node_of_layer[cn->inputs[q]], b = node_of_layer[c];
          if (a == b || a < 0 || b < 0) continue;
          if (pass == 0) {
            off[a + 2]++;
            deg[b]++;
          } else {
            to[off[a + 1]++] = b;
          }
        }
        if (pass == 0 && c == n - 1)
          for (int r = 0; r < N; r++) off[r + 2] += off[r + 1];
      }
    int head = 0, tail = 0, seen = 0;
    for (int r = 0; r < N; r++)
      if (!deg[r]) queue[tail++] = r;
    while (head < tail) {
      int a = queue[head++];
      seen++;
      for (int k = off[a]; k < off[a + 1]; k++)
        if (--deg[to[k]] == 0) queue[tail++] = to[k];
    }
    acyclic = seen == N;
  }
  free(deg);
  free(off);
  free(to);
  free(queue);
  return acyclic;
}

cl_part_hooks cl__wall_hooks(cl__wall *w, const cl_graph *g) {
  /* Complete sends eagerly when tensors flow between ranks without a cycle (a rank-level
   * DAG cannot deadlock on blocking sends; a large message moves only while its sender
   * is inside MPI). */
  int eager = cl__rank_flows_acyclic(g, w->su->node_of_layer, w->su->n_nodes);
  cl_part_hooks h = {w, cl__wall_after_step, cl__wall_before_send, cl__wall_after_recv, eager, 50e-6};
  return h;
}

/* One byte there and back between ranks a < b on @p c (collective over the pair only). */
static cl_status cl__ping(const cl__wall *w, int a, int b, MPI_Comm c) {
  char ping = 0;
  cl_status st = CL_OK;
  if (w->rank == a) {
    st = cl_mpi_check(MPI_Send(&ping, 1, MPI_CHAR, b, CL_TAG_CTRL, c), "MPI_Send(warm-up)");
    if (st == CL_OK) st = cl_mpi_check(MPI_Recv(&ping, 1, MPI_CHAR, b, CL_TAG_CTRL, c, MPI_STATUS_IGNORE), "MPI_Recv(warm-up)");
  } else if (w->rank == b) {
    st = cl_mpi_check(MPI_Recv(&ping, 1, MPI_CHAR, a, CL_TAG_CTRL, c, MPI_STATUS_IGNORE), "MPI_Recv(warm-up)");
    if (st == CL_OK) st = cl_mpi_check(MPI_Send(&ping, 1, MPI_CHAR, a, CL_TAG_CTRL, c), "MPI_Send(warm-up)");
  }
  return st;
}

cl_status cl__wall_warm_up(cl__wall *w) {
  /* The first message between two ranks pays the transport's connection set-up
   * (milliseconds, not part of the emulated link). Every pair joined by a link or route,
   * ordered by rank; with the arbiter every node rank also talks to rank 0 on its channel. */
  const cl_rt_setup *su = w->su;
  int N = su->n_nodes;
  cl_status st = CL_OK;
  for (int a = 0; a < N && st == CL_OK; a++)
    for (int b = a + 1; b < N && st == CL_OK; b++) {
      int l = -1;
      if (cl_netmodel_find_link(su->net, a, b, &l) == CL_OK || cl_netmodel_find_link(su->net, b, a, &l) == CL_OK)
        st = cl__ping(w, a, b, w->comm);
    }
  for (int r = 1; w->arbiter && r < N && st == CL_OK; r++) st = cl__ping(w, 0, r, w->acomm);
  return st;
}

/* ---- the arbiter (rank 0, own thread) ---- */

static void cl__arb_done(void *ctx, int tag, const cl_xfer *x) {
  cl__wall *w = ctx;
  cl__arb_flow *f = &w->flows[tag];
  double m[4] = {f->inference, x->arrival, x->start, x->tx_time};
  if (cl_mpi_check(MPI_Send(m, 4, MPI_DOUBLE, f->dst, CL__TAG_DONE + f->x, w->acomm), "MPI_Send(arbiter done)") != CL_OK)
    atomic_store(&w->arb_failed, 1);
  f->inference = -1;
}

/* A START: advance through the events before its stamp, then start its flow (or FIFO send). */
static void cl__arb_start(cl__wall *w, const double *m, double *now_engine) {
  cl_netmodel *net = w->su->net;
  int inference = (int)m[1], x = (int)m[2], dst = (int)m[4], link = (int)m[7];
  double t = m[6] - w->t0;
  uint64_t bytes = (uint64_t)m[5];
  double lag = cl__wall_now(w) - m[6];
  if (lag > 0) w->lag += (lag - w->lag) / 4;
  while (cl_netmodel_flows_active(net) > 0) {
    double next = cl_netmodel_flow_next(net);
    if (!(next <= t)) break;
    if (cl_netmodel_flow_advance(net, next, cl__arb_done, w) != CL_OK) break;
    *now_engine = next;
  }
  if (t < *now_engine) { /* came later than an event already applied: start it there */
    if (*now_engine - t > w->late_max) w->late_max = *now_engine - t;
    t = *now_engine;
  }
  *now_engine = t;
  w->n_starts++;
  if (!cl_netmodel_is_fluid(net, link)) {
    cl_xfer xf;
    if (cl_netmodel_send(net, link, t, bytes, &xf) != CL_OK) {
      atomic_store(&w->arb_failed, 1);
      xf.arrival = t;
    }
    double d[4] = {inference, xf.arrival, xf.start, xf.tx_time};
    if (cl_mpi_check(MPI_Send(d, 4, MPI_DOUBLE, dst, CL__TAG_DONE + x, w->acomm), "MPI_Send(arbiter done)") != CL_OK)
      atomic_store(&w->arb_failed, 1);
    return;
  }
  int slot = 0;
  while (slot < w->n_flows && w->flows[slot].inference >= 0) slot++;
  if (slot == w->n_flows) {
    cl__arb_flow *z = realloc(w->flows, sizeof *z * (size_t)(w->n_flows ? 2 * w->n_flows : 64));
    if (!z) {
      atomic_store(&w->arb_failed, 1);
      return;
    }
    w->flows = z;
    for (int i = w->n_flows; i < (w->n_flows ? 2 * w->n_flows : 64); i++) w->flows[i].inference = -1;
    w->n_flows = w->n_flows ? 2 * w->n_flows : 64;
  }
  w->flows[slot] = (cl__arb_flow){inference, x, dst, link, cl_netmodel_latency_at(net, link, t)};
  if (cl_netmodel_flow_start(net, link, t, bytes, slot) != CL_OK) atomic_store(&w->arb_failed, 1);
}

/* How long past the next event to wait for late STARTs: min(max(1 ms, twice their recent
 * delay, at most 10 ms), half the smallest latency of the active flows) — DONE must reach
 * the receiver before drain + latency. */
static double cl__arb_guard(const cl__wall *w) {
  double g = 2 * w->lag; /* a loaded host delivers STARTs late: wait longer, up to 10 ms */
  if (g < CL__GUARD_MAX) g = CL__GUARD_MAX;
  if (g > 10 * CL__GUARD_MAX) g = 10 * CL__GUARD_MAX;
  for (int i = 0; i < w->n_flows; i++)
    if (w->flows[i].inference >= 0 && 0.5 * w->flows[i].lat < g) g = 0.5 * w->flows[i].lat;
  return g;
}

static void *cl__arb_main(void *arg) {
  cl__wall *w = arg;
  cl_netmodel *net = w->su->net;
  double m[8], now_engine = 0.0;
  MPI_Request req = MPI_REQUEST_NULL;
  int stop = 0;
  if (cl_mpi_check(MPI_Irecv(m, 8, MPI_DOUBLE, MPI_ANY_SOURCE, CL__TAG_ARB, w->acomm, &req), "MPI_Irecv(arbiter)") != CL_OK) {
    atomic_store(&w->arb_failed, 1);
    return NULL;
  }
  while (!stop || cl_netmodel_flows_active(net) > 0) {
    int got = 0;
    if (!stop && cl_mpi_check(MPI_Test(&req, &got, MPI_STATUS_IGNORE), "MPI_Test(arbiter)") != CL_OK) {
      atomic_store(&w->arb_failed, 1);
      break;
    }
    if (got) {
      if ((int)m[0] == CL__ARB_STOP) {
        stop = 1;
        continue;
      }
      cl__arb_start(w, m, &now_engine);
      if (cl_mpi_check(MPI_Irecv(m, 8, MPI_DOUBLE, MPI_ANY_SOURCE, CL__TAG_ARB, w->acomm, &req), "MPI_Irecv(arbiter)") != CL_OK) {
        atomic_store(&w->arb_failed, 1);
        break;
      }
      continue;
    }
    double next = cl_netmodel_flow_next(net); /* engine s; inf without flows */
    double due = next + cl__arb_guard(w);
    double now = cl__wall_now(w) - w->t0;
    if (now >= due) {
      if (cl_netmodel_flow_advance(net, next, cl__arb_done, w) != CL_OK) {
        atomic_store(&w->arb_failed, 1);
        break;
      }
      now_engine = next;
      continue;
    }
    if (due - now <= CL__POLL) {
      cl__wall_sleep_until(w, w->t0 + due); /* precise: sleep, then spin */
    } else {
      struct timespec ts = {0, (long)(CL__POLL * 1e9)};
      nanosleep(&ts, NULL);
    }
  }
  return NULL;
}

cl_status cl__wall_start(cl__wall *w, double *t0) {
  CL_TRY(cl_mpi_check(MPI_Barrier(w->comm), "MPI_Barrier(start)"));
  w->t0 = cl__wall_now(w);
  CL_TRY(cl_mpi_check(MPI_Bcast(&w->t0, 1, MPI_DOUBLE, 0, w->comm), "MPI_Bcast(start time)"));
  *t0 = w->t0;
  w->step_end = w->t0;
  w->due_floor = -INFINITY;
  int bad = 0, any = 0;
  if (w->arbiter && w->rank == 0) {
    cl_netmodel_reset(w->su->net);
    bad = pthread_create(&w->thread, NULL, cl__arb_main, w) != 0;
    w->running = !bad;
    if (bad) cl_log_error("wall mode: cannot start the network arbiter thread");
  }
  CL_TRY(cl_mpi_check(MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, w->comm), "MPI_Allreduce(arbiter)"));
  return any ? CL_ERR_INTERNAL : CL_OK;
}

static void cl__arb_join(cl__wall *w) {
  if (!w->running) return;
  double m[8] = {CL__ARB_STOP, 0, 0, 0, 0, 0, 0, 0};
  if (cl_mpi_check(MPI_Send(m, 8, MPI_DOUBLE, 0, CL__TAG_ARB, w->acomm), "MPI_Send(arbiter stop)") == CL_OK)
    pthread_join(w->thread, NULL);
  else
    pthread_detach(w->thread);
  w->running = 0;
}

cl_status cl__wall_stop(cl__wall *w) {
  cl_status st = cl__wall_barrier(w);
  if (w->rank == 0) {
    cl__arb_join(w);
    if (atomic_load(&w->arb_failed)) w->failed = 1;
  }
  int any = 0;
  if (st == CL_OK) st = cl_mpi_check(MPI_Allreduce(&w->failed, &any, 1, MPI_INT, MPI_MAX, w->comm), "MPI_Allreduce(wall)");
  if (st == CL_OK && any) {
    if (w->rank == 0) cl_log_error("wall mode: a transfer could not be emulated (see the messages above)");
    st = CL_ERR_MPI;
  }
  if (w->arbiter && w->rank == 0) cl_netmodel_reset(w->su->net);
  return st;
}

void cl__wall_destroy(cl__wall *w) {
  if (!w) return;
  if (w->rank == 0) cl__arb_join(w);
  if (w->acomm != MPI_COMM_NULL) MPI_Comm_free(&w->acomm);
  if (w->clock.skew != 0.0) cl_wall_set_skew(0.0);
  cl__clock_sync_fini(&w->clock);
  free(w->link_free);
  free(w->arrivals);
  free(w->flows);
  free(w);
}

cl_status cl__wall_write_provenance(const cl__wall *w, cl_store *st) {
  const cl__clock_sync *c = &w->clock;
  CL_TRY(cl_store_write_clock_provenance(st, c->n_ranks, c->offset, c->rtt, c->applied_all, c->rounds));
  const char *g = cl_store_provenance_group(st);
  CL_TRY(cl_store_attr_str(st, g, "wall_network", w->arbiter ? "arbiter" : "direct"));
  if (w->arbiter) {
    CL_TRY(cl_store_attr_i64(st, g, "wall_arbiter_starts", w->n_starts));
    CL_TRY(cl_store_attr_f64(st, g, "wall_arbiter_late_max_s", w->late_max));
  }
  return CL_OK;
}
