/* The thread-CPU clock (include/cleave/wallclock.h), beside cl_wall_now (runtime/wallclock.c):
 * every executor step is timed with it, so it is one function rather than a private copy
 * in each file. */
#include <time.h>

#include "cleave/wallclock.h"

double cl_thread_cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
