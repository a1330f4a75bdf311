/* BLAS thread control (OpenBLAS). */
#define _DEFAULT_SOURCE /* usleep */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleave/ops.h"

/* openblas_set_num_threads() takes a lock and resizes the thread pool, so skip it
 * when nothing changes: kernels call this before every GEMM with ctx->threads. */
void cl_blas_set_threads(int threads) {
  if (threads < 1) threads = 1;
  if (openblas_get_num_threads() == threads) return;
  openblas_set_num_threads(threads);
}

/* Cores free right now: the online cores minus the other runnable tasks, from the
 * instantaneous run-queue count in /proc/loadavg (4th field "running/total", which
 * counts this process too): the median of 5 samples 2 ms apart. -1 if unreadable. */
static double free_cores_now(void) {
  int v[5], n = 0;
  for (int i = 0; i < 5; i++) {
    FILE *f = fopen("/proc/loadavg", "r");
    int run = 0, tot = 0;
    double l1, l5, l15;
    if (f && fscanf(f, "%lf %lf %lf %d/%d", &l1, &l5, &l15, &run, &tot) == 5) v[n++] = run;
    if (f) fclose(f);
    if (i < 4) usleep(2000);
  }
  if (!n) return -1;
  for (int i = 1; i < n; i++) /* insertion sort, n <= 5 */
    for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
      int t = v[j];
      v[j] = v[j - 1];
      v[j - 1] = t;
    }
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  return (double)cores - (double)(v[n / 2] - 1);
}

/* OpenMP wait policy, chosen once at start (CLEAVE_WAIT_POLICY=auto, the default):
 * "spin" (libgomp's default: spin ~300k iterations at a barrier, then sleep) when at
 * least two cores are free now, else "passive" (sleep at once). Spinning is 10-25%
 * faster on a quiet host (barriers between and inside primitives cost a futex wake
 * each when passive); on a loaded host a spinning thread holds the core its partner
 * needs (ResNet-18 on 2 threads: 470 ms instead of 14 ms at load 4). "spin" and
 * "passive" force the choice. An explicit OMP_WAIT_POLICY or GOMP_SPINCOUNT wins.
 * The choice is exported as CLEAVE_WAIT_CHOSEN (inherited by re-exec and children). */
static const char *wait_policy(void) {
  const char *want = getenv("CLEAVE_WAIT_POLICY");
  if (want && (!strcmp(want, "spin") || !strcmp(want, "passive"))) return want;
  double free_cores = free_cores_now();
  return free_cores >= 2 ? "spin" : "passive";
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
