/* Helpers shared by the bench_*.c executables: wall and thread-CPU clocks, the median of
 * a sample. Header-only (each bench is one executable). */
#ifndef CLEAVE_BENCH_UTIL_H
#define CLEAVE_BENCH_UTIL_H

#include <stdlib.h>
#include <time.h>

#include "cleave/wallclock.h"

/* Seconds of CPU time of this thread: robust to other processes on a shared host. */
static inline double bench_cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* qsort comparator of doubles, ascending. */
static inline int bench_cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median of n >= 1 doubles (sorts v in place). */
static inline double bench_median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

#endif
