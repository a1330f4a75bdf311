/** @file wallclock.h
 *  @brief Wall-clock mode helpers: accurate absolute sleeps on CLOCK_MONOTONIC, a CPU
 *         throttle that stretches compute steps, background CPU-load and memory-pressure
 *         generators.
 *
 *  Times are seconds on CLOCK_MONOTONIC (as returned by cl_wall_now()).
 *  Ownership: a cl_wall_load owns its threads and buffer; cl_wall_load_destroy()
 *  stops and releases them.
 */
#ifndef CLEAVE_WALLCLOCK_H
#define CLEAVE_WALLCLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "cleave/status.h"

/** Final stretch before a deadline that is busy-waited instead of slept (s). */
#define CL_WALL_SPIN_S 50e-6

/** @brief CLOCK_MONOTONIC now, in seconds (plus the injected skew, normally 0). */
double cl_wall_now(void);
/** @brief Test hook: shift this process's cl_wall_now() (and every absolute sleep) by
 *  @p seconds, as if its host's clock were offset; 0 restores. Call before any thread of
 *  this module runs. The cross-host clock measurement must then find it. */
void cl_wall_set_skew(double seconds);
/** @brief The injected skew (s), 0 normally. */
double cl_wall_skew(void);
/** @brief CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID), in seconds: what an
 *  executor step costs on this host, whatever else runs (runtime/clock.c). */
double cl_thread_cpu_now(void);
/** @brief Sleep until the absolute CLOCK_MONOTONIC @p deadline (s): clock_nanosleep
 *  TIMER_ABSTIME to a margin before it, then spin. The margin is CL_WALL_SPIN_S, or twice
 *  the recently observed wake-up lateness if larger (at most 2 ms: loaded VMs wake late).
 *  Returns at once if past.
 *  Restarts after signals. CL_ERR_INVALID for a non-finite deadline. */
cl_status cl_wall_sleep_until(double deadline);
/** @brief Sleep for @p seconds (>= 0) with the same accuracy. */
cl_status cl_wall_sleep_for(double seconds);
/** @brief CPU throttle: a step that began at @p t_begin (cl_wall_now()) and took
 *  @p measured s is stretched to measured * @p slowdown by sleeping until
 *  t_begin + measured * slowdown. slowdown <= 1 cannot speed anything up: returns at once.
 *  @p stretched_out (may be NULL) receives the achieved duration, now - t_begin. */
cl_status cl_wall_throttle(double t_begin, double measured, double slowdown, double *stretched_out);

/** Background load: `threads` threads each busy `fraction` of every `period`
 *  (duty cycle), plus one thread touching `mem_bytes` bytes repeatedly. */
typedef struct cl_wall_load_params {
  int threads;      /**< CPU burner threads (>= 0) */
  double fraction;  /**< duty cycle of each burner, 0..1 (1 = spin continuously) */
  double period;    /**< s, duty-cycle period; 0 = 10 ms */
  size_t mem_bytes; /**< bytes touched repeatedly by the memory thread; 0 = no memory thread */
} cl_wall_load_params;

typedef struct cl_wall_load_stats {
  double wall;        /**< s from start to stop (or to now while running) */
  double cpu;         /**< s of CPU consumed by the burner threads (valid after stop) */
  uint64_t mem_passes;/**< complete passes over the memory buffer */
  uint64_t mem_bytes_touched;
} cl_wall_load_stats;

typedef struct cl_wall_load cl_wall_load;

/** @brief Allocate and start the generators. Caller owns *out (cl_wall_load_destroy). */
cl_status cl_wall_load_start(const cl_wall_load_params *p, cl_wall_load **out);
/** @brief Stop and join all threads (idempotent). Returns within about one period. */
cl_status cl_wall_load_stop(cl_wall_load *ld);
/** @brief Counters; cpu is filled once stopped. */
cl_status cl_wall_load_stats_get(const cl_wall_load *ld, cl_wall_load_stats *out);
/** @brief Stop if running and free. NULL-safe. */
void cl_wall_load_destroy(cl_wall_load *ld);

#endif
