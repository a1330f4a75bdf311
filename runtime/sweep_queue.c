/* cl_sweep_run: the dynamic MPI work queue. Rank 0 hands out tasks on request (a point,
 * or a kind's auxiliary unit), evaluates tasks itself between requests and records every
 * reply (sweep_out.c); workers evaluate what they are sent. The queue knows no kind: it
 * calls the experiment's cl_sweep_kind_i row. Every MPI call is checked; a failure ends
 * the loop with CL_ERR_MPI (the caller, in apps/, ends the job). Messages are built field
 * by field (counts first, then payload). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cleave/wallclock.h"
#include "sweep_internal.h"

/* ---- message packing ---- */

void cl_sweep_buf_put(cl_sweep_buf *b, const void *x, size_t n) {
  if (b->oom) return;
  if (b->n + n > b->cap) {
    size_t nc = (b->cap ? 2 * b->cap : 4096) + n;
    unsigned char *np = realloc(b->p, nc);
    if (!np) {
      b->oom = 1;
      return;
    }
    b->p = np;
    b->cap = nc;
  }
  if (n) memcpy(b->p + b->n, x, n);
  b->n += n;
}
void cl_sweep_buf_i32(cl_sweep_buf *b, int32_t v) { cl_sweep_buf_put(b, &v, sizeof v); }
void cl_sweep_buf_f64(cl_sweep_buf *b, double v) { cl_sweep_buf_put(b, &v, sizeof v); }
void cl_sweep_buf_str(cl_sweep_buf *b, const char *s) {
  size_t n = strlen(s);
  if (n > INT32_MAX) {
    b->oom = 1;
    return;
  }
  cl_sweep_buf_i32(b, (int32_t)n);
  cl_sweep_buf_put(b, s, n);
}

void cl_sweep_rd_get(cl_sweep_rd *r, void *x, size_t n) {
  if (r->bad || r->off + n > r->n) {
    r->bad = 1;
    memset(x, 0, n);
    return;
  }
  memcpy(x, r->p + r->off, n);
  r->off += n;
}
int32_t cl_sweep_rd_i32(cl_sweep_rd *r) {
  int32_t v;
  cl_sweep_rd_get(r, &v, sizeof v);
  return v;
}
double cl_sweep_rd_f64(cl_sweep_rd *r) {
  double v;
  cl_sweep_rd_get(r, &v, sizeof v);
  return v;
}
/* A string in place: its bytes stay in the message (*len of them). */
static const char *rd_span(cl_sweep_rd *r, size_t *len) {
  int32_t n = cl_sweep_rd_i32(r);
  if (r->bad || n < 0 || r->off + (size_t)n > r->n) {
    r->bad = 1;
    *len = 0;
    return "";
  }
  const char *s = (const char *)r->p + r->off;
  r->off += (size_t)n;
  *len = (size_t)n;
  return s;
}
void cl_sweep_rd_str(cl_sweep_rd *r, char *dst, size_t cap) {
  size_t n = 0;
  const char *s = rd_span(r, &n);
  size_t k = n < cap - 1 ? n : cap - 1;
  memcpy(dst, s, k);
  dst[k] = '\0';
}

/* ---- rank 0 bookkeeping ---- */

int64_t cl__sweep_next_attempt(cl__sweep_srv *s) { return s->session * 16777216LL + ++s->counter; }

void cl__sweep_progress(cl__sweep_srv *s, int force) {
  if (!s->tty) return;
  double now = cl_wall_now();
  if (!force && now - s->last_print < 0.5) return;
  s->last_print = now;
  double el = now - s->t0, rate = el > 0 ? s->n_done / el : 0;
  int left = s->n_todo - s->n_done;
  double eta = rate > 0 ? left / rate : 0;
  fprintf(stderr, "\rsweep: %d/%d points", s->n_done, s->n_todo);
  if (s->aux_total) fprintf(stderr, ", profiles %d/%d", s->aux_done, s->aux_total);
  fprintf(stderr, ", %.2f points/s, ETA %d:%02d:%02d   ", rate, (int)(eta / 3600), (int)fmod(eta / 60, 60),
          (int)fmod(eta, 60));
  if (force) fprintf(stderr, "\n");
  fflush(stderr);
}

cl_status cl__sweep_queue_push(cl__sweep_srv *s, int type, int ref) {
  if (s->q_n == s->q_cap) {
    int nc = s->q_cap ? 2 * s->q_cap : 256;
    int *t = realloc(s->q_type, sizeof(int) * (size_t)nc);
    if (!t) return CL_ERR_NOMEM;
    s->q_type = t;
    int *r = realloc(s->q_ref, sizeof(int) * (size_t)nc);
    if (!r) return CL_ERR_NOMEM;
    s->q_ref = r;
    s->q_cap = nc;
  }
  s->q_type[s->q_n] = type;
  s->q_ref[s->q_n++] = ref;
  return CL_OK;
}

static char *task_text(cl__sweep_srv *s, int type, int ref) {
  return type == CL__T_AUX ? s->e->kind->sched->aux_text(s, ref) : cl_sweep_point_text(s->e, ref);
}

/* ---- evaluation (any rank) ---- */

typedef struct wcache {
  const cl_sweep_kind_i *kind;
  void *point, *aux; /* the kind's caches */
} wcache;

static void wcache_fini(wcache *wc) {
  if (wc->kind && wc->kind->cache_destroy) wc->kind->cache_destroy(wc->point);
  if (wc->kind && wc->kind->sched && wc->kind->cache_destroy) wc->kind->cache_destroy(wc->aux);
}

/* Evaluate one task; the reply (ok, type, ref, seconds, payload) goes to *out. */
static void eval_task(const cl_sweep_kind_i *kind, int type, int ref, const char *origin, const char *text,
                      wcache *wc, cl_sweep_poll_fn poll, void *pctx, cl_sweep_buf *out) {
  double t0 = cl_wall_now();
  cl_sweep_buf pay = {0};
  wc->kind = kind;
  cl_status st = type == CL__T_AUX ? kind->sched->aux_eval(text, &wc->aux, poll, pctx, &pay)
                                   : kind->eval(origin, text, &wc->point, poll, pctx, &pay);
  if (pay.oom) st = CL_ERR_NOMEM;
  cl_sweep_buf_i32(out, st == CL_OK);
  cl_sweep_buf_i32(out, type);
  cl_sweep_buf_i32(out, ref);
  cl_sweep_buf_f64(out, cl_wall_now() - t0);
  if (st == CL_OK) cl_sweep_buf_put(out, pay.p, pay.n);
  free(pay.p);
}

/* ---- the queue (rank 0) ---- */

static cl_status send_task(cl__sweep_srv *s, int to, int type, int ref) {
  cl_sweep_buf b = {0};
  cl_sweep_buf_i32(&b, type);
  cl_sweep_buf_i32(&b, ref);
  if (type != CL__T_STOP) {
    char *t = task_text(s, type, ref);
    if (!t) return CL_ERR_NOMEM;
    cl_sweep_buf_str(&b, s->e->kind->name);
    cl_sweep_buf_str(&b, cl_sweep_point_origin(s->e));
    cl_sweep_buf_str(&b, t);
    free(t);
  }
  cl_status st = b.oom || b.n > INT32_MAX ? CL_ERR_NOMEM : CL_OK;
  if (st == CL_OK && MPI_Send(b.p, (int)b.n, MPI_BYTE, to, CL__TAG_TASK, s->comm) != MPI_SUCCESS) {
    cl_log_error("sweep: MPI_Send of a task to rank %d failed", to);
    st = CL_ERR_MPI;
  }
  free(b.p);
  return st;
}

/* Receive one message of @p tag from @p src (MPI_ANY_SOURCE allowed) into a malloc'd
 * buffer (*n bytes, NUL-terminated); blocking, or CL_ERR_NOTFOUND when nothing waits. */
static cl_status recv_msg(MPI_Comm comm, int src, int tag, int blocking, unsigned char **m, int *n, int *from) {
  MPI_Status ms;
  int flag = 1, rc;
  *m = NULL;
  rc = blocking ? MPI_Probe(src, tag, comm, &ms) : MPI_Iprobe(src, tag, comm, &flag, &ms);
  if (rc != MPI_SUCCESS) {
    cl_log_error("sweep: MPI_%s failed", blocking ? "Probe" : "Iprobe");
    return CL_ERR_MPI;
  }
  if (!flag) return CL_ERR_NOTFOUND;
  if (MPI_Get_count(&ms, MPI_BYTE, n) != MPI_SUCCESS || *n < 0) {
    cl_log_error("sweep: MPI_Get_count failed");
    return CL_ERR_MPI;
  }
  *from = ms.MPI_SOURCE;
  if (!(*m = malloc((size_t)*n + 1))) return CL_ERR_NOMEM;
  if (MPI_Recv(*m, *n, MPI_BYTE, ms.MPI_SOURCE, tag, comm, MPI_STATUS_IGNORE) != MPI_SUCCESS) {
    cl_log_error("sweep: MPI_Recv from rank %d failed", ms.MPI_SOURCE);
    free(*m);
    *m = NULL;
    return CL_ERR_MPI;
  }
  (*m)[*n] = '\0';
  return CL_OK;
}

/* One request: record the reply it carries, answer with the next task or STOP. */
static cl_status serve_one(cl__sweep_srv *s, int blocking) {
  unsigned char *m = NULL;
  int n = 0, from = 0;
  cl_status st = recv_msg(s->comm, MPI_ANY_SOURCE, CL__TAG_MSG, blocking, &m, &n, &from);
  if (st != CL_OK) return st;
  if (n > 4) st = cl__sweep_out_result(s, m, (size_t)n, from); /* n == 4: first request */
  free(m);
  if (st != CL_OK && s->err == CL_OK) s->err = st;
  if (s->q_next < s->q_n && s->err == CL_OK) {
    int k = s->q_next++;
    return send_task(s, from, s->q_type[k], s->q_ref[k]);
  }
  s->stopped++;
  return send_task(s, from, CL__T_STOP, 0);
}

void cl__sweep_serve(void *ctx) {
  cl__sweep_srv *s = ctx;
  cl_status st;
  while ((st = serve_one(s, 0)) == CL_OK) {
  }
  if (st != CL_ERR_NOTFOUND && s->err == CL_OK) s->err = st;
}

static uint64_t session_key(int rank) {
  uint64_t k = 0;
  FILE *f = fopen("/dev/urandom", "rb");
  if (f) {
    if (fread(&k, sizeof k, 1, f) != 1) k = 0;
    fclose(f);
  }
  k ^= (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ULL ^ (uint64_t)getpid() ^ (uint64_t)rank << 20;
  return (k >> 24) & 0x3FFFFFFFFFULL; /* 38 bits: attempt = session * 2^24 + counter fits int64 */
}

static cl_status run_rank0(cl__sweep_srv *s) {
  cl_sweep_exp *e = s->e;
  const cl__sweep_sched *sc = e->kind->sched;
  s->done = calloc((size_t)e->n_points, 1);
  s->session = (int64_t)session_key(s->rank);
  cl_status st = s->done ? cl__sweep_out_open(s) : CL_ERR_NOMEM;
  if (st == CL_OK && sc) st = sc->prepare(s);
  for (int i = 0; st == CL_OK && i < e->n_points; i++)
    if (!s->done[i]) {
      s->n_todo++;
      if (!sc) st = cl__sweep_queue_push(s, CL__T_POINT, i);
    }
  s->err = st;
  s->t0 = cl_wall_now();
  s->tty = !s->o->quiet && isatty(2);
  wcache wc = {0};
  /* the loop runs even after an error, to stop every worker (unless MPI itself failed) */
  while (s->err != CL_ERR_MPI) {
    cl__sweep_serve(s);
    cl_status is = CL_OK;
    if (s->err == CL_OK && sc && sc->idle && sc->idle(s, &is)) {
      if (is != CL_OK && s->err == CL_OK) s->err = is;
      continue;
    }
    if (s->err == CL_OK && s->q_next < s->q_n) {
      int k = s->q_next++;
      char *t = task_text(s, s->q_type[k], s->q_ref[k]);
      cl_sweep_buf out = {0};
      if (!t) {
        s->err = CL_ERR_NOMEM;
        continue;
      }
      eval_task(e->kind, s->q_type[k], s->q_ref[k], cl_sweep_point_origin(e), t, &wc, cl__sweep_serve, s, &out);
      free(t);
      cl_status hs = out.oom ? CL_ERR_NOMEM : cl__sweep_out_result(s, out.p, out.n, 0);
      free(out.p);
      if (hs != CL_OK && s->err == CL_OK) s->err = hs;
      continue;
    }
    if (s->stopped >= s->size - 1) break;
    cl_status ws = serve_one(s, 1);
    if (ws != CL_OK && s->err == CL_OK) s->err = ws;
  }
  wcache_fini(&wc);
  cl__sweep_progress(s, 1);
  return s->err;
}

static cl_status run_worker(cl__sweep_srv *s) {
  const cl_sweep_kind_i *const *kinds = s->o->kinds ? s->o->kinds : cl__sweep_runtime_kinds;
  wcache wc = {0};
  cl_sweep_buf out = {0};
  cl_sweep_buf_i32(&out, -1); /* first request */
  cl_status st = CL_OK;
  for (;;) {
    if (out.oom) {
      st = CL_ERR_NOMEM;
      break;
    }
    if (MPI_Send(out.p, (int)out.n, MPI_BYTE, 0, CL__TAG_MSG, s->comm) != MPI_SUCCESS) {
      cl_log_error("sweep: rank %d: MPI_Send to rank 0 failed", s->rank);
      st = CL_ERR_MPI;
      break;
    }
    out.n = 0;
    unsigned char *m = NULL;
    int n = 0, from = 0;
    if ((st = recv_msg(s->comm, 0, CL__TAG_TASK, 1, &m, &n, &from)) != CL_OK) break;
    cl_sweep_rd r = {m, (size_t)n, 0, 0};
    int32_t type = cl_sweep_rd_i32(&r), ref = cl_sweep_rd_i32(&r);
    if (type == CL__T_STOP && !r.bad) {
      free(m);
      break;
    }
    /* kind name, origin and text, each NUL-terminated in place (the length prefix of the
     * next string is read before its byte is overwritten) */
    size_t kn = 0, on = 0, tn = 0;
    char *kname = (char *)rd_span(&r, &kn), *origin = (char *)rd_span(&r, &on);
    char *text = (char *)rd_span(&r, &tn);
    const cl_sweep_kind_i *kind = NULL;
    if (!r.bad) {
      kname[kn] = origin[on] = text[tn] = '\0';
      kind = cl_sweep_kind_find(kinds, kname);
    }
    if (!kind) {
      cl_log_error("sweep: rank %d: malformed task or unknown kind (is the worker's kind table rank 0's?)", s->rank);
      free(m);
      st = CL_ERR_MPI;
      break;
    }
    eval_task(kind, type, ref, origin, text, &wc, NULL, NULL, &out);
    free(m);
  }
  free(out.p);
  wcache_fini(&wc);
  return st;
}

cl_status cl_sweep_run(MPI_Comm comm, cl_sweep_exp *e, cl_sweep_opts *opts) {
  cl__sweep_srv s;
  memset(&s, 0, sizeof s);
  s.comm = comm;
  s.e = e;
  s.o = opts;
  if (MPI_Comm_rank(comm, &s.rank) != MPI_SUCCESS || MPI_Comm_size(comm, &s.size) != MPI_SUCCESS) {
    cl_log_error("sweep: MPI_Comm_rank/size failed");
    return CL_ERR_MPI;
  }
  double t0 = cl_wall_now();
  cl_status st;
  if (s.rank == 0) {
    if (!e || !opts->out_path) {
      cl_log_error("sweep: rank 0 needs the experiment and an output path");
      for (int r = 1; r < s.size; r++) /* no work: every request gets STOP */
        if (serve_one(&s, 1) == CL_ERR_MPI) return CL_ERR_MPI;
      return CL_ERR_INVALID;
    }
    st = run_rank0(&s);
    if (e->kind->sched && e->kind->sched->fini) e->kind->sched->fini(&s);
    cl_status cs = s.sink.store ? cl_store_close(s.sink.store) : CL_OK;
    if (st == CL_OK) st = cs;
    opts->points_run = s.n_done;
    opts->points_failed = s.n_failed;
    opts->records = s.sink.records;
    if (st == CL_OK && s.n_failed) st = CL_ERR_INTERNAL;
  } else {
    st = run_worker(&s);
  }
  opts->seconds = cl_wall_now() - t0;
  free(s.done);
  free(s.q_type);
  free(s.q_ref);
  return st;
}
