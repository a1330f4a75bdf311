/* The calling thread's CPU clock, shared by every module that times a compute step. */
#include <time.h>

#include "cleave/wallclock.h"

double cl_wall_cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
