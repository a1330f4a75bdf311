/* BLAS thread control (OpenBLAS). */
#include <cblas.h>
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

/* Two library settings that are read only once, when the libraries load, so the
 * only reliable fix is to set them and re-execute before any BLAS/OpenMP call:
 *  - Debian's OpenBLAS 0.3.21 detects AVX-512 Zen parts as Haswell and runs sgemm at
 *    half speed: OPENBLAS_CORETYPE=SkylakeX. An explicit choice is respected, except
 *    "Haswell", which some environments export for this very CPU.
 *  - oneDNN runs on libgomp, whose threads spin-wait at every barrier. When the host
 *    has fewer free cores than threads (a shared machine, or MPI ranks oversubscribing
 *    the cores), a spinning thread holds the core its partner needs: ResNet-18 on 2
 *    threads took 470 ms instead of 14 ms at load 4 here. OMP_WAIT_POLICY=passive
 *    (sleep at barriers) unless the user chose a policy or a spin count.
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
  if (!getenv("OMP_WAIT_POLICY") && !getenv("GOMP_SPINCOUNT")) {
    setenv("OMP_WAIT_POLICY", "passive", 1);
    change = 1;
  }
  if (!change) return;
  execv("/proc/self/exe", argv);
  /* exec failed: keep going with the libraries' defaults rather than fail */
}
