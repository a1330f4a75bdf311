/* BLAS thread control (OpenBLAS) and the process-start environment fixes. */
#define _GNU_SOURCE /* setenv, usleep; sched_setaffinity, CPU_SET (Linux) */
#include <cblas.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cleave/ops.h"

const char *cl_blas_id(void) {
  static char id[80];
  if (id[0]) return id;
  char ver[32] = "?";
  const char *cfg = openblas_get_config(), *core = openblas_get_corename();
  if (cfg) sscanf(cfg, "OpenBLAS %31s", ver);
  snprintf(id, sizeof id, "OpenBLAS %s %s", ver, core ? core : "?");
  return id;
}

/* openblas_set_num_threads() takes a lock and resizes the thread pool, so skip it
 * when nothing changes: kernels call this before every GEMM with ctx->threads. */
void cl_blas_set_threads(int threads) {
  if (threads < 1) threads = 1;
  if (openblas_get_num_threads() == threads) return;
  openblas_set_num_threads(threads);
}

/* Co-scheduling probe: can two threads of this process run at the same time right now?
 * That is exactly what spinning needs (a thread spinning at a barrier only helps if
 * its partner is running on another core; otherwise it burns the core the partner
 * waits for). The main thread and a helper bounce a flag through shared memory for
 * 10 ms; a round trip normally takes well under a microsecond, but when one of
 * the two is not scheduled it takes a scheduler time slice (milliseconds). Returns the
 * fraction of the window spent in round trips slower than 50 us (a partner off its
 * core; 1 when the helper cannot start), and the round trips done in @p *n_out. Time,
 * not a count: one 2 ms stall among 20000 fast round trips is a core shared 20%. */
typedef struct probe_ctx {
  atomic_int flag; /* 1: main asks, 2: helper answered, 3: stop */
  atomic_int started;
} probe_ctx;

static void *probe_helper(void *arg) {
  probe_ctx *c = arg;
  atomic_store(&c->started, 1);
  for (;;) {
    int f = atomic_load_explicit(&c->flag, memory_order_acquire);
    if (f == 3) break;
    /* Compare-and-swap, never a plain store: a helper preempted between reading 1 and
     * answering must not overwrite the main thread's later 0 or 3 (a stale 2 over the
     * stop flag spun this thread forever and hung pthread_join on loaded hosts). */
    if (f == 1) {
      int one = 1;
      atomic_compare_exchange_strong_explicit(&c->flag, &one, 2, memory_order_acq_rel,
                                              memory_order_acquire);
    }
  }
  return NULL;
}

static double mono_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* One measuring window of @p len seconds on a running helper: the fraction of it spent
 * in round trips slower than 50 us (or unanswered within 2 ms). */
static double probe_window(probe_ctx *c, double len, int *n_out) {
  double t_start = mono_s(), end = t_start + len;
  int n = 0;
  double stalled = 0; /* seconds in round trips slower than 50 us */
  while (mono_s() < end && n < 20000) {
    double t0 = mono_s();
    atomic_store_explicit(&c->flag, 1, memory_order_release);
    while (atomic_load_explicit(&c->flag, memory_order_acquire) != 2 && mono_s() < t0 + 0.002) {
    }
    int answered = atomic_load(&c->flag) == 2;
    double rt = mono_s() - t0;
    if (!answered || rt > 50e-6) stalled += rt;
    n++;
    if (!answered) /* the helper may answer late: wait for it so the next round is clean */
      while (atomic_load_explicit(&c->flag, memory_order_acquire) != 2 && mono_s() < end) {
      }
    atomic_store(&c->flag, 0);
  }
  *n_out = n;
  double span = mono_s() - t_start;
  return n && span > 0 ? stalled / span : 1;
}

/* The probe: a helper thread, a warm-up until it first answers, then 10 ms windows 5 ms
 * apart; returns the median window's stalled fraction of three (two when the first two
 * agree about the 3% line; 1 if the helper cannot start or never answers within 30 ms),
 * and the round trips of all windows in @p *n_out. The median, not the worst: the VM's
 * own hiccups stall one window in ~8 on an idle host.
 * The warm-up matters on a quiet host: Linux starts a new thread on its parent's CPU
 * and moves it to the idle one only at the next load balance (~4-10 ms here), so the
 * first window used to find the partner "stalled" and chose passive 4 times in 5 on an
 * idle 2-core VM (densenet121 2 threads: 35 ms passive vs 22 ms spinning). A loaded
 * host keeps stalling after the partner's first answer, or never answers at all. */
static double coschedule_slow_fraction(int *n_out) {
  probe_ctx c;
  atomic_init(&c.flag, 0);
  atomic_init(&c.started, 0);
  pthread_t th;
  *n_out = 0;
  if (pthread_create(&th, NULL, probe_helper, &c) != 0) return 1;
  double t0 = mono_s(), frac = 1;
  int warm = 0;
  while (!warm && mono_s() < t0 + 0.030) {
    atomic_store_explicit(&c.flag, 1, memory_order_release);
    double t1 = mono_s();
    while (atomic_load_explicit(&c.flag, memory_order_acquire) != 2 && mono_s() < t1 + 0.002) {
    }
    warm = atomic_load(&c.flag) == 2 && mono_s() - t1 < 50e-6;
    int two = 2;
    atomic_compare_exchange_strong(&c.flag, &two, 0);
  }
  if (warm) { /* the median of three windows: the first two when they agree */
    double f[3] = {0, 0, 0};
    int k = 0;
    for (; k < 3; k++) {
      if (k) usleep(5000);
      int n = 0;
      f[k] = probe_window(&c, 0.010, &n);
      *n_out += n;
      if (k == 1 && (f[0] <= 0.03) == (f[1] <= 0.03)) {
        k = 2;
        break;
      }
    }
    if (k == 3) { /* the middle of three */
      double a = f[0] < f[1] ? f[0] : f[1], b = f[0] < f[1] ? f[1] : f[0];
      frac = f[2] < a ? a : f[2] > b ? b : f[2];
    } else { /* two on the same side of the line */
      frac = f[0] > f[1] ? f[0] : f[1];
    }
  }
  atomic_store(&c.flag, 3);
  pthread_join(th, NULL);
  return frac;
}

double cl_blas_coschedule_probe(int *round_trips) {
  int n = 0;
  double f = coschedule_slow_fraction(&n);
  if (round_trips) *round_trips = n;
  return f;
}

/* OpenMP wait policy, chosen once at start (CLEAVE_WAIT_POLICY=auto, the default):
 * "spin" (libgomp's default: spin ~300k iterations at a barrier, then sleep) when the
 * co-scheduling probe finds two threads of ours running together (at most 3% of the
 * median window stalled), else "passive" (sleep at once). Spinning is 10-25% faster on a quiet
 * host (barriers between and inside primitives cost a futex wake each when passive); on
 * a loaded host a spinning thread holds the core its partner needs (ResNet-18 on 2
 * threads at load ~12 on 2 cores: 1490 ms spinning forever, 426 ms with GOMP_SPINCOUNT
 * 30000, 140 ms with 3000, 22 ms passive: no bounded spin is safe, so the probe
 * decides between the two ends). The probe measures what spinning needs instead of
 * reading the run queue of /proc/loadavg, which counts any transient task and sent
 * quiet hosts to passive. "spin" and "passive" force the choice; an explicit
 * OMP_WAIT_POLICY or GOMP_SPINCOUNT wins. The choice is exported as CLEAVE_WAIT_CHOSEN
 * (inherited by re-exec and children) and the probe's result as CLEAVE_WAIT_PROBE. */
static const char *wait_policy(void) {
  const char *want = getenv("CLEAVE_WAIT_POLICY");
  if (want && (!strcmp(want, "spin") || !strcmp(want, "passive"))) return want;
  if (sysconf(_SC_NPROCESSORS_ONLN) < 2) return "passive";
  int n_all = 0;
  double stalled = coschedule_slow_fraction(&n_all);
  char probe[96];
  snprintf(probe, sizeof probe, "%d round trips, median window %.1f%% stalled", n_all, 100 * stalled);
  setenv("CLEAVE_WAIT_PROBE", probe, 1);
  return stalled <= 0.03 ? "spin" : "passive";
}

/* Two library settings that are read only once, when the libraries load, so the
 * only reliable fix is to set them and re-execute before any BLAS/OpenMP call:
 *  - Debian's OpenBLAS 0.3.21 detects AVX-512 Zen parts as Haswell and runs sgemm at
 *    half speed: OPENBLAS_CORETYPE=SkylakeX. An explicit choice is respected, except
 *    "Haswell", which some environments export for this very CPU.
 *  - oneDNN runs on libgomp: its wait policy (wait_policy() above).
 * CLEAVE_NO_COREFIX=1 disables both. */
/* With OMP_PROC_BIND set, libgomp binds the initial thread to its first place as it
 * loads, and a re-executed process would inherit that one-CPU mask: its libgomp then
 * finds a single usable CPU ("Number of places reduced from 2 to 1") and runs every
 * thread there. So before each re-exec the mask becomes the union of libgomp's places,
 * which it computed from the mask the process started with (a taskset restriction is
 * kept: its places were already reduced to it). */
static void reexec(char **argv) {
#ifdef _OPENMP
  const char *bind = getenv("OMP_PROC_BIND");
  int np = bind && strcmp(bind, "false") && strcmp(bind, "FALSE") ? omp_get_num_places() : 0;
  if (np > 0) {
    cpu_set_t all;
    CPU_ZERO(&all);
    for (int p = 0; p < np; p++) {
      int n = omp_get_place_num_procs(p), ids[CPU_SETSIZE];
      if (n <= 0 || n > CPU_SETSIZE) continue;
      omp_get_place_proc_ids(p, ids);
      for (int i = 0; i < n; i++)
        if (ids[i] >= 0 && ids[i] < CPU_SETSIZE) CPU_SET(ids[i], &all);
    }
    if (CPU_COUNT(&all) > 0) (void)sched_setaffinity(0, sizeof all, &all); /* best effort: exec anyway */
  }
#endif
  execv("/proc/self/exe", argv);
}

void cl_blas_fix_env(char **argv) {
  if (getenv("CLEAVE_NO_COREFIX")) return;
  int change = 0;
  const char *ct = getenv("OPENBLAS_CORETYPE");
  if (!ct || !strcmp(ct, "Haswell")) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")) {
      setenv("OPENBLAS_CORETYPE", "SkylakeX", 1);
      change = 1;
    }
  }
  if (!getenv("OMP_WAIT_POLICY") && !getenv("GOMP_SPINCOUNT") && !getenv("CLEAVE_WAIT_CHOSEN")) {
    /* OpenBLAS starts its worker threads when it loads, and they spin (a sched_yield
     * loop of ~2^28 cycles) before they sleep: a probe in this process measures them
     * (an idle 2-core host looked loaded and chose passive 3 times in 6). So the probe
     * runs in a re-executed process whose OpenBLAS starts no worker
     * (OPENBLAS_NUM_THREADS=1 at load; cl_blas_set_threads grows the pool when a run
     * asks for threads); a user's OPENBLAS_NUM_THREADS is left alone. */
    const char *pending = getenv("CLEAVE_WAIT_PENDING");
    if (!pending && !getenv("OPENBLAS_NUM_THREADS")) {
      setenv("OPENBLAS_NUM_THREADS", "1", 1);
      setenv("CLEAVE_WAIT_PENDING", "1", 1);
      reexec(argv);
      unsetenv("OPENBLAS_NUM_THREADS"); /* exec failed: probe here */
      unsetenv("CLEAVE_WAIT_PENDING");
      pending = NULL;
    }
    const char *w = wait_policy();
    setenv("CLEAVE_WAIT_CHOSEN", w, 1);
    if (pending) { /* only this process's load needed it; children get OpenBLAS's default */
      unsetenv("OPENBLAS_NUM_THREADS");
      unsetenv("CLEAVE_WAIT_PENDING");
    }
    if (!strcmp(w, "passive")) {
      setenv("OMP_WAIT_POLICY", "passive", 1);
      change = 1;
    }
  }
  if (!change) return;
  reexec(argv);
  /* exec failed: keep going with the libraries' defaults rather than fail */
}
