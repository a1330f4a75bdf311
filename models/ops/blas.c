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

/* Debian's OpenBLAS 0.3.21 detects AVX-512 Zen parts as Haswell and runs sgemm at
 * half speed. OpenBLAS reads OPENBLAS_CORETYPE once, when the library loads, so the
 * only reliable fix is to set it and re-execute before any BLAS call. An explicit
 * choice is respected, except "Haswell", which some environments export for this
 * very CPU. */
void cl_blas_fix_coretype(char **argv) {
  const char *ct = getenv("OPENBLAS_CORETYPE");
  if ((ct && strcmp(ct, "Haswell") != 0) || getenv("CLEAVE_NO_COREFIX")) return;
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw")) return;
  setenv("OPENBLAS_CORETYPE", "SkylakeX", 1);
  execv("/proc/self/exe", argv);
  /* exec failed: keep going at Haswell speed rather than fail */
}
