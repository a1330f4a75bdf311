/* BLAS thread control (OpenBLAS) and the process-start environment fixes. */
#define _DEFAULT_SOURCE /* setenv, usleep */
#include <cblas.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cleave/ops.h"

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

static double coschedule_slow_fraction(int *n_out) {
  probe_ctx c;
  atomic_init(&c.flag, 0);
  atomic_init(&c.started, 0);
  pthread_t th;
  *n_out = 0;
  if (pthread_create(&th, NULL, probe_helper, &c) != 0) return 1;
  double t_start = mono_s(), end = t_start + 0.010;
  while (!atomic_load(&c.started) && mono_s() < t_start + 0.005) {
  }
  int n = 0;
  double stalled = 0; /* seconds in round trips slower than 50 us */
  if (atomic_load(&c.started)) {
    while (mono_s() < end && n < 20000) {
      double t0 = mono_s();
      atomic_store_explicit(&c.flag, 1, memory_order_release);
      while (atomic_load_explicit(&c.flag, memory_order_acquire) != 2 && mono_s() < t0 + 0.002) {
      }
      int answered = atomic_load(&c.flag) == 2;
      double rt = mono_s() - t0;
      if (!answered || rt > 50e-6) stalled += rt;
      n++;
      if (!answered) /* the helper may answer late: wait for it so the next round is clean */
        while (atomic_load_explicit(&c.flag, memory_order_acquire) != 2 && mono_s() < end) {
        }
      atomic_store(&c.flag, 0);
    }
  }
  atomic_store(&c.flag, 3);
  pthread_join(th, NULL);
  *n_out = n;
  double span = mono_s() - t_start;
  return n && span > 0 ? stalled / span : 1;
}

/* OpenMP wait policy, chosen once at start (CLEAVE_WAIT_POLICY=auto, the default):
 * "spin" (libgomp's default: spin ~300k iterations at a barrier, then sleep) when the
 * co-scheduling probe finds two threads of ours running together (at most 3% of each
 * window stalled), else "passive" (sleep at once). Spinning is 10-25% faster on a quiet
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
  /* Three windows 5 ms apart (one lucky window on a loaded host is common): the worst. */
  int n = 0, n_all = 0;
  double worst = 0;
  for (int w = 0; w < 3 && worst <= 0.03; w++) {
    if (w) usleep(5000);
    double slow = coschedule_slow_fraction(&n);
    n_all += n;
    if (slow > worst) worst = slow;
  }
  char probe[96];
  snprintf(probe, sizeof probe, "%d round trips, worst window %.1f%% stalled", n_all, 100 * worst);
  setenv("CLEAVE_WAIT_PROBE", probe, 1);
  return worst <= 0.03 ? "spin" : "passive";
}

/* Two library settings that are read only once, when the libraries load, so the
 * only reliable fix is to set them and re-execute before any BLAS/OpenMP call:
 *  - Debian's OpenBLAS 0.3.21 detects AVX-512 Zen parts as Haswell and runs sgemm at
 *    half speed: OPENBLAS_CORETYPE=SkylakeX. An explicit choice is respected, except
 *    "Haswell", which some environments export for this very CPU.
 *  - oneDNN runs on libgomp: its wait policy (wait_policy() above).
 * CLEAVE_NO_COREFIX=1 disables both. */
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
    const char *w = wait_policy();
    setenv("CLEAVE_WAIT_CHOSEN", w, 1);
    if (!strcmp(w, "passive")) {
      setenv("OMP_WAIT_POLICY", "passive", 1);
      change = 1;
    }
  }
  if (!change) return;
  execv("/proc/self/exe", argv);
  /* exec failed: keep going with the libraries' defaults rather than fail */
}
