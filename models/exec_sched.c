/* Inter-operator parallelism: run independent steps (Inception branches, a residual
 * block's downsample conv beside its main path, parallel heads) side by side.
 *
 * Dependencies come from memory, not from graph edges: each step lists the byte
 * ranges it reads and writes at run time (cl__exec_step_spans), and step j depends on
 * an earlier step i when a write of one overlaps a read or write of the other. That
 * covers what graph edges miss in the oneDNN backend: residual sums accumulated in
 * place into the other addend's memory, concatenation inputs written straight into
 * slices of the concat buffer, dropout aliases.
 *
 * The step list is cut into segments at every step that depends (transitively) on
 * every earlier step: a join (the concat after an Inception module, the first conv of
 * a residual block). Any cut is correct, since segments run one after another; these
 * cuts put each fork-join region in one segment. A segment whose dependency DAG is at
 * least two steps wide is a candidate: it runs either serially, every primitive on all
 * threads (intra-op), or as an OpenMP task DAG where each step runs on one thread
 * (oneDNN runs a primitive single-threaded inside an active parallel region, and the
 * portable kernels get threads = 1). Which is faster depends on the shapes and the
 * host, so it is measured once per executor signature (alternating rounds, minimum of
 * three) and cached, for the process and in the host's kernel-choice file
 * (models/kernel_choice.c: `choice: interop graph HASH seg G of N = 0|1`), so later
 * processes run the same schedule instead of timing it again with the host's noise.
 * Like the kernel choices, a choice timed while the co-scheduling probe finds the host
 * loaded is provisional and timed again on a quiet host; CLEAVE_KERNEL_CHOICE other than
 * auto keeps it in the process only. CLEAVE_INTEROP=off|on|auto overrides
 * cl_exec_opts.inter_op when that is CL_INTEROP_AUTO (unset: auto). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/ops.h"
#include "exec_internal.h"
#include "kernel_choice.h"

#ifdef _OPENMP
#include <omp.h>
#define wall_now() omp_get_wtime()
#else
#define wall_now() 0.0 /* no OpenMP: never calibrated */
#endif

struct cl__sched {
  int n_seg;
  int *seg;           /* segment i = steps [seg[i], seg[i+1]) */
  uint8_t *cand;      /* segment is at least two steps wide */
  uint8_t *par;       /* segment runs as a task DAG */
  int *npred;         /* in-segment direct dependencies per step */
  int *succ_off, *succ; /* in-segment successors (CSR) */
  atomic_int *pending;
  int lanes;
};

enum { CAL_ROUNDS = 3 };

/* ---- dependency analysis --------------------------------------------------------- */

static int spans_conflict(const cl__span *a, int na, const cl__span *b, int nb) {
  for (int i = 0; i < na; i++)
    for (int j = 0; j < nb; j++) {
      if (!a[i].write && !b[j].write) continue;
      if (a[i].p < b[j].p + b[j].n && b[j].p < a[i].p + a[i].n) return 1;
    }
  return 0;
}

/* All steps' spans in one array: steps k's are sp[off[k] .. off[k+1]). */
static cl_status collect_spans(const cl_exec *e, cl__span **sp_out, int **off_out) {
  int cap = 256, used = 0;
  cl__span *sp = malloc(sizeof *sp * (size_t)cap);
  int *off = malloc(sizeof(int) * (size_t)(e->n_steps + 1));
  if (!sp || !off) goto nomem;
  for (int k = 0; k < e->n_steps; k++) {
    off[k] = used;
    for (;;) {
      int n = cl__exec_step_spans(e, k, sp + used, cap - used);
      if (used + n <= cap) {
        used += n;
        break;
      }
      cap = 2 * (used + n);
      cl__span *p = realloc(sp, sizeof *sp * (size_t)cap);
      if (!p) goto nomem;
      sp = p;
    }
  }
  off[e->n_steps] = used;
  *sp_out = sp;
  *off_out = off;
  return CL_OK;
nomem:
  free(sp);
  free(off);
  return CL_ERR_NOMEM;
}

void cl__sched_destroy(cl__sched *s) {
  if (!s) return;
  free(s->seg);
  free(s->cand);
  free(s->par);
  free(s->npred);
  free(s->succ_off);
  free(s->succ);
  free(s->pending);
  free(s);
}

/* Segments, candidates and in-segment successor lists. */
static cl_status build_dag(cl_exec *e, cl__sched *s) {
  int S = e->n_steps, W = (S + 63) / 64;
  cl__span *sp = NULL;
  int *off = NULL;
  CL_TRY(collect_spans(e, &sp, &off));
  cl_status st = CL_ERR_NOMEM;
  uint64_t *anc = calloc((size_t)S * (size_t)W + 1, sizeof(uint64_t));
  uint8_t *dep = calloc((size_t)S * (size_t)S + 1, 1); /* dep[j*S+i]: j depends on i */
  int *level = calloc((size_t)S + 1, sizeof(int));
  int *cnt = calloc((size_t)S + 2, sizeof(int));
  s->seg = malloc(sizeof(int) * (size_t)(S + 1));
  s->npred = calloc((size_t)S + 1, sizeof(int));
  s->succ_off = calloc((size_t)S + 2, sizeof(int));
  s->pending = calloc((size_t)S + 1, sizeof(atomic_int));
  if (!anc || !dep || !level || !cnt || !s->seg || !s->npred || !s->succ_off || !s->pending) goto done;
  int nonempty = 0;
  for (int j = 0; j < S; j++) {
    uint64_t *aj = anc + (size_t)j * W;
    int nj = off[j + 1] - off[j];
    for (int i = 0; i < j && nj; i++) {
      if (off[i + 1] == off[i] || !spans_conflict(sp + off[i], off[i + 1] - off[i], sp + off[j], nj)) continue;
      dep[(size_t)j * S + i] = 1;
      const uint64_t *ai = anc + (size_t)i * W;
      for (int w = 0; w < W; w++) aj[w] |= ai[w];
      aj[i / 64] |= 1ull << (i % 64);
    }
    /* A join: every earlier step that does anything is an ancestor. */
    int na = 0;
    for (int w = 0; w < W; w++) na += __builtin_popcountll(aj[w]);
    if (j == 0 || (nj && na == nonempty)) s->seg[s->n_seg++] = j;
    if (nj) nonempty++;
  }
  s->seg[s->n_seg] = S;
  s->cand = calloc((size_t)s->n_seg + 1, 1);
  s->par = calloc((size_t)s->n_seg + 1, 1);
  if (!s->cand || !s->par) goto done;
  /* Width by levels (longest in-segment path), and successor lists. */
  int n_edges = 0;
  for (int g = 0; g < s->n_seg; g++) {
    int a = s->seg[g], b = s->seg[g + 1], width = 0;
    memset(cnt, 0, sizeof(int) * (size_t)(S + 2));
    for (int j = a; j < b; j++) {
      level[j] = 0;
      for (int i = a; i < j; i++)
        if (dep[(size_t)j * S + i]) {
          s->npred[j]++;
          s->succ_off[i + 1]++;
          n_edges++;
          if (level[i] + 1 > level[j]) level[j] = level[i] + 1;
        }
      if (off[j + 1] > off[j] && ++cnt[level[j]] > width) width = cnt[level[j]];
    }
    s->cand[g] = width >= 2;
    /* A step whose kernel needs the team it was created for keeps its segment serial. */
    for (int j = a; j < b && s->cand[g]; j++)
      if (e->dnnl && !cl__dnnl_step_lane_safe(e, j)) s->cand[g] = 0;
  }
  for (int k = 0; k < S; k++) s->succ_off[k + 1] += s->succ_off[k];
  s->succ = malloc(sizeof(int) * (size_t)(n_edges + 1));
  if (!s->succ) goto done;
  memset(cnt, 0, sizeof(int) * (size_t)(S + 2));
  for (int g = 0; g < s->n_seg; g++)
    for (int j = s->seg[g]; j < s->seg[g + 1]; j++)
      for (int i = s->seg[g]; i < j; i++)
        if (dep[(size_t)j * S + i]) s->succ[s->succ_off[i] + cnt[i]++] = j;
  st = CL_OK;
done:
  free(sp);
  free(off);
  free(anc);
  free(dep);
  free(level);
  free(cnt);
  return st;
}

/* ---- execution --------------------------------------------------------------------- */

static cl_status run_serial(cl_exec *e, int a, int b) {
  if (e->dnnl) return cl__dnnl_run_range(e, a, b); /* rows mode splits chains inside it */
  for (int k = a; k < b; k++) CL_TRY(cl__exec_run_lane(e, k, 0, e->opts.threads));
  return CL_OK;
}

#ifdef _OPENMP
/* Run step k, then every successor it made ready: the first inline, the rest as tasks. */
static void task_run(cl_exec *e, int k, atomic_int *err) {
  cl__sched *s = e->sched;
  for (;;) {
    if (!atomic_load(err)) {
      cl_status st = cl__exec_run_lane(e, k, omp_get_thread_num(), 1);
      if (st != CL_OK) atomic_store(err, (int)st);
    }
    int next = -1;
    for (int i = s->succ_off[k]; i < s->succ_off[k + 1]; i++) {
      int j = s->succ[i];
      if (atomic_fetch_sub(&s->pending[j], 1) != 1) continue;
      if (next < 0) {
        next = j;
        continue;
      }
#pragma omp task firstprivate(j)
      task_run(e, j, err);
    }
    if (next < 0) return;
    k = next;
  }
}

static cl_status run_parallel(cl_exec *e, int a, int b) {
  cl__sched *s = e->sched;
  for (int k = a; k < b; k++) atomic_store(&s->pending[k], s->npred[k]);
  atomic_int err = 0;
  /* Lanes run GEMMs single-threaded: the portable kernels, and the oneDNN executor's
   * portable-fallback steps (Keras pad, scaled residual add, ...), call
   * cl_blas_set_threads(1) per GEMM; set it once here so that two lanes never resize
   * OpenBLAS's thread pool concurrently (openblas_set_num_threads is not thread-safe). */
  cl_blas_set_threads(1);
#pragma omp parallel num_threads(s->lanes)
#pragma omp single
  for (int k = a; k < b; k++)
    if (s->npred[k] == 0) {
#pragma omp task firstprivate(k)
      task_run(e, k, &err);
    }
  return (cl_status)atomic_load(&err);
}
#else
static cl_status run_parallel(cl_exec *e, int a, int b) { return run_serial(e, a, b); }
#endif

static cl_status run_segments(cl_exec *e, const uint8_t *par, double *seg_time) {
  cl__sched *s = e->sched;
  for (int g = 0; g < s->n_seg; g++) {
    double t0 = seg_time ? wall_now() : 0;
    if (par[g]) CL_TRY(run_parallel(e, s->seg[g], s->seg[g + 1]));
    else CL_TRY(run_serial(e, s->seg[g], s->seg[g + 1]));
    if (seg_time) seg_time[g] = wall_now() - t0;
  }
  return CL_OK;
}

cl_status cl__sched_run(cl_exec *e) { return run_segments(e, e->sched->par, NULL); }

/* ---- calibration and its per-process cache ----------------------------------------- */

typedef struct cal_entry {
  uint64_t key;
  int n_seg;
  uint8_t *par;
} cal_entry;

static pthread_mutex_t cal_lock = PTHREAD_MUTEX_INITIALIZER;
static cal_entry cal_cache[64];
static int cal_n;

/* FNV-1a over what decides the choice: backend, threads, steps and segments. */
static uint64_t signature(const cl_exec *e) {
  uint64_t h = 1469598103934665603ull;
#define MIX(v) (h = (h ^ (uint64_t)(v)) * 1099511628211ull)
  MIX(e->backend);
  MIX(e->opts.threads);
  MIX(e->n_steps);
  for (int k = 0; k < e->n_steps; k++) {
    const cl_exec_step *p = &e->steps[k].pub;
    MIX(p->macs);
    MIX(p->out_bytes);
    for (const char *c = p->label; *c; c++) MIX((unsigned char)*c);
  }
  for (int g = 0; g <= e->sched->n_seg; g++) MIX(e->sched->seg[g]);
#undef MIX
  return h;
}

static int cache_get(uint64_t key, cl__sched *s) {
  int hit = 0;
  pthread_mutex_lock(&cal_lock);
  for (int i = 0; i < cal_n && !hit; i++)
    if (cal_cache[i].key == key && cal_cache[i].n_seg == s->n_seg) {
      memcpy(s->par, cal_cache[i].par, (size_t)s->n_seg);
      hit = 1;
    }
  pthread_mutex_unlock(&cal_lock);
  return hit;
}

static void cache_put(uint64_t key, const cl__sched *s) {
  uint8_t *copy = malloc((size_t)s->n_seg + 1);
  if (!copy) return;
  memcpy(copy, s->par, (size_t)s->n_seg);
  pthread_mutex_lock(&cal_lock);
  cal_entry *slot = &cal_cache[cal_n < 64 ? cal_n++ : (int)(key % 64)];
  if (slot->par) free(slot->par);
  *slot = (cal_entry){key, s->n_seg, copy};
  pthread_mutex_unlock(&cal_lock);
}

/* The host's cached choice of every candidate segment (kernel-choice file): 1 when all
 * are there and none is provisional while the host is quiet now (then time it again). */
static void file_sig(char *sig, size_t cap, uint64_t key, int g, int n) {
  snprintf(sig, cap, "interop graph %016llx seg %d of %d", (unsigned long long)key, g, n);
}

static int file_get(cl__kc *kc, uint64_t key, cl__sched *s) {
  int all_firm = 1;
  for (int g = 0; g < s->n_seg; g++) {
    if (!s->cand[g]) {
      s->par[g] = 0;
      continue;
    }
    char sig[96];
    file_sig(sig, sizeof sig, key, g, s->n_seg);
    int firm = 0, v = cl__kc_get_firm(kc, sig, &firm);
    if (v != 0 && v != 1) return 0;
    s->par[g] = (uint8_t)v;
    all_firm &= firm;
  }
  return all_firm || !cl__kc_host_quiet(NULL); /* provisional: used while the host stays loaded */
}

static void file_put(cl__kc *kc, uint64_t key, const cl__sched *s, int firm) {
  for (int g = 0; g < s->n_seg; g++) {
    if (!s->cand[g]) continue;
    char sig[96];
    file_sig(sig, sizeof sig, key, g, s->n_seg);
    if (cl__kc_put_firm(kc, sig, s->par[g], firm) != CL_OK) return;
  }
  if (cl__kc_save(kc) != CL_OK) cl_log_warn("executor: the branch-group choices are not cached");
}

/* Alternate all-serial and all-candidates-parallel runs; per segment keep the faster
 * (minimum of CAL_ROUNDS; parallel must win by 3% to be chosen). */
static cl_status calibrate(cl_exec *e) {
  cl__sched *s = e->sched;
  int G = s->n_seg;
  double *t = malloc(sizeof(double) * (size_t)G * 3), *best_s = t + G, *best_p = t + 2 * G;
  uint8_t *none = calloc((size_t)G, 1);
  if (!t || !none) {
    free(t);
    free(none);
    return CL_ERR_NOMEM;
  }
  cl_status st = run_segments(e, none, NULL); /* warm-up */
  for (int g = 0; g < G; g++) best_s[g] = best_p[g] = 1e30;
  for (int r = 0; r < 2 * CAL_ROUNDS && st == CL_OK; r++) {
    int par = r & 1;
    st = run_segments(e, par ? s->cand : none, t);
    for (int g = 0; g < G; g++) {
      double *b = par ? &best_p[g] : &best_s[g];
      if (t[g] < *b) *b = t[g];
    }
  }
  for (int g = 0; g < G; g++) s->par[g] = s->cand[g] && best_p[g] < 0.97 * best_s[g];
  free(t);
  free(none);
  return st;
}

static int interop_mode(const cl_exec *e) {
  if (e->opts.inter_op != CL_INTEROP_AUTO) return e->opts.inter_op;
  const char *env = getenv("CLEAVE_INTEROP");
  if (env && !strcmp(env, "off")) return CL_INTEROP_OFF;
  if (env && !strcmp(env, "on")) return CL_INTEROP_ON;
  /* Default: measure (AUTO). The "hang" that once made this opt-in was
   * test_exec_parallel running with libgomp's default spin-wait on a host with ~8
   * runnable tasks per core: a spinning OpenMP thread holds the core its partner
   * needs, and the Keras models ran 10-15x slower (inceptionresnet_v2: 10 s per run
   * instead of 0.7 s) until the ctest timeout; every stack sat in libgomp's barrier
   * inside oneDNN's parallel(). The test now chooses the wait policy like cleave does
   * (cl_blas_fix_env); no deadlock was found (docs/runtime.md). */
  return CL_INTEROP_AUTO;
}

cl_status cl__sched_create(cl_exec *e) {
  int mode = interop_mode(e);
#ifndef _OPENMP
  mode = CL_INTEROP_OFF;
#endif
  /* The dependency matrix is n_steps^2 bytes: imported graphs with thousands of
   * steps stay serial. */
  if (e->opts.threads < 2 || mode == CL_INTEROP_OFF || e->n_steps < 3 || e->n_steps > 4096) return CL_OK;
  cl__sched *s = calloc(1, sizeof *s);
  if (!s) return CL_ERR_NOMEM;
  e->sched = s;
  s->lanes = e->opts.threads;
  CL_TRY(build_dag(e, s));
  int any = 0;
  for (int g = 0; g < s->n_seg; g++) any |= s->cand[g];
  if (!any) {
    cl__sched_destroy(s);
    e->sched = NULL;
    return CL_OK;
  }
  /* Every lane but 0 needs its own kernel workspace. */
  if (e->workspace_bytes) {
    e->lane_ws = calloc((size_t)s->lanes, sizeof(float *));
    if (!e->lane_ws) return CL_ERR_NOMEM;
    e->n_lane_ws = s->lanes;
    e->lane_ws[0] = e->workspace;
    for (int l = 1; l < s->lanes; l++)
      if (!(e->lane_ws[l] = cl__exec_alloc(e->workspace_bytes, &e->mem_bytes))) return CL_ERR_NOMEM;
  }
  if (mode == CL_INTEROP_ON) {
    memcpy(s->par, s->cand, (size_t)s->n_seg);
    return CL_OK;
  }
  uint64_t key = signature(e);
  if (cache_get(key, s)) return CL_OK;
  cl__kc *kc = strcmp(cl__kc_mode(), "auto") ? NULL : cl__kc_shared(e->backend, e->opts.threads);
  int n_par = 0, n_cand = 0;
  if (kc && file_get(kc, key, s)) {
    cache_put(key, s);
    for (int g = 0; g < s->n_seg; g++) n_par += s->par[g], n_cand += s->cand[g];
    cl_log_info("executor: %d of %d branch groups of '%s' run their branches in parallel (%d threads; cached in %s)",
                n_par, n_cand, cl_graph_name(e->g), e->opts.threads, cl__kc_path(kc));
    return CL_OK;
  }
  int quiet = cl__kc_host_quiet(NULL); /* before and after the timing, as for the kernel choices */
  CL_TRY(calibrate(e));
  quiet = quiet && cl__kc_host_quiet(NULL);
  cache_put(key, s);
  if (kc) file_put(kc, key, s, quiet);
  for (int g = 0; g < s->n_seg; g++) n_par += s->par[g], n_cand += s->cand[g];
  cl_log_info("executor: %d of %d branch groups of '%s' run their branches in parallel (%d threads)%s", n_par, n_cand,
              cl_graph_name(e->g), e->opts.threads, quiet ? "" : " (provisional: the host was loaded)");
  return CL_OK;
}

void cl_exec_parallel_groups(const cl_exec *e, int *groups, int *parallel) {
  *groups = *parallel = 0;
  if (!e->sched) return;
  for (int g = 0; g < e->sched->n_seg; g++) {
    *groups += e->sched->cand[g];
    *parallel += e->sched->par[g];
  }
}
