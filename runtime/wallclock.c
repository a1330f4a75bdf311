/* Wall-clock helpers: absolute sleeps, CPU throttle, background load generators. */
#include "cleave/wallclock.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Injected skew (s) of this process's wall clock: tests of the cross-host clock make one
 * host's ranks look like another host's (runtime/rt_clock.c). Set before threads start. */
static double cl__skew;

void cl_wall_set_skew(double seconds) { cl__skew = isfinite(seconds) ? seconds : 0.0; }
double cl_wall_skew(void) { return cl__skew; }

double cl_wall_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec + cl__skew;
}

static struct timespec cl__ts(double t) {
  struct timespec ts;
  double s = floor(t);
  ts.tv_sec = (time_t)s;
  ts.tv_nsec = (long)((t - s) * 1e9);
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  if (ts.tv_nsec < 0) ts.tv_nsec = 0;
  return ts;
}

/* Kernel sleep to an absolute time (no spin), restarting after signals. */
static void cl__nanosleep_abs(double t) {
  struct timespec ts = cl__ts(t - cl__skew);
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
  }
}

/* Recent lateness of kernel wake-ups (ns, running average over sleeps of all threads).
 * On bare metal it is a few tens of us; on a loaded VM it reaches hundreds, so the spin
 * margin adapts: max(CL_WALL_SPIN_S, 2 x lateness), at most CL__SPIN_MAX_S. */
static atomic_llong cl__late_ns;
#define CL__SPIN_MAX_S 2e-3

cl_status cl_wall_sleep_until(double deadline) {
  if (!isfinite(deadline)) {
    cl_log_error("wallclock: sleep_until: deadline %g is not finite", deadline);
    return CL_ERR_INVALID;
  }
  double now = cl_wall_now();
  if (now >= deadline) return CL_OK;
  double margin = 2e-9 * (double)atomic_load_explicit(&cl__late_ns, memory_order_relaxed);
  if (margin < CL_WALL_SPIN_S) margin = CL_WALL_SPIN_S;
  if (margin > CL__SPIN_MAX_S) margin = CL__SPIN_MAX_S;
  if (deadline - now > margin) {
    double target = deadline - margin;
    cl__nanosleep_abs(target);
    long long obs = (long long)((cl_wall_now() - target) * 1e9);
    long long old = atomic_load_explicit(&cl__late_ns, memory_order_relaxed);
    atomic_store_explicit(&cl__late_ns, old + (obs - old) / 4, memory_order_relaxed);
  }
  /* The scheduler wakes us late; the last stretch is busy-waited. */
  while (cl_wall_now() < deadline) {
  }
  return CL_OK;
}

cl_status cl_wall_sleep_for(double seconds) {
  if (!(seconds >= 0) || !isfinite(seconds)) {
    cl_log_error("wallclock: sleep_for: %g s, expected finite >= 0", seconds);
    return CL_ERR_INVALID;
  }
  return cl_wall_sleep_until(cl_wall_now() + seconds);
}

cl_status cl_wall_throttle(double t_begin, double measured, double slowdown, double *stretched_out) {
  if (!isfinite(t_begin) || !(measured >= 0) || !isfinite(measured) || !(slowdown > 0) ||
      !isfinite(slowdown)) {
    cl_log_error("wallclock: throttle: t_begin %g, measured %g s, slowdown %g (expected finite, "
                 "measured >= 0, slowdown > 0)",
                 t_begin, measured, slowdown);
    return CL_ERR_INVALID;
  }
  cl_status s = CL_OK;
  if (slowdown > 1) s = cl_wall_sleep_until(t_begin + measured * slowdown);
  if (stretched_out) *stretched_out = cl_wall_now() - t_begin;
  return s;
}

/* ---- background load ---- */

struct cl_wall_load {
  cl_wall_load_params p;
  atomic_int stop;
  int running;
  pthread_t *burners;
  int n_started;
  double *cpu; /* per burner, written by the thread before it exits */
  pthread_t mem_thread;
  int mem_started;
  volatile unsigned char *buf;
  atomic_ullong passes;
  double t_start, t_stop;
};

typedef struct cl__burner_arg {
  cl_wall_load *ld;
  int idx;
} cl__burner_arg;

static double cl__thread_cpu(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void *cl__burner(void *argp) {
  cl__burner_arg *arg = argp;
  cl_wall_load *ld = arg->ld;
  const double period = ld->p.period, busy = ld->p.fraction * period;
  double t0 = cl_wall_now();
  volatile double sink = 1.0;
  while (!atomic_load_explicit(&ld->stop, memory_order_relaxed)) {
    double busy_end = t0 + busy;
    while (cl_wall_now() < busy_end) {
      for (int i = 0; i < 256; i++) sink = sink * 1.0000001 + 1e-9;
    }
    t0 += period;
    if (ld->p.fraction < 1) {
      double now = cl_wall_now();
      if (t0 < now - period) t0 = now; /* fell far behind (descheduled): do not catch up in a burst */
      cl__nanosleep_abs(t0);
    }
  }
  ld->cpu[arg->idx] = cl__thread_cpu();
  free(arg);
  return NULL;
}

static void *cl__memtoucher(void *argp) {
  cl_wall_load *ld = argp;
  const size_t n = ld->p.mem_bytes, chunk = (size_t)1 << 20;
  for (;;) {
    for (size_t off = 0; off < n; off += chunk) {
      if (atomic_load_explicit(&ld->stop, memory_order_relaxed)) return NULL;
      size_t end = off + chunk < n ? off + chunk : n;
      for (size_t i = off; i < end; i += 64) ld->buf[i] = (unsigned char)(ld->buf[i] + 1);
    }
    atomic_fetch_add(&ld->passes, 1);
  }
}

cl_status cl_wall_load_start(const cl_wall_load_params *p, cl_wall_load **out) {
  *out = NULL;
  if (p->threads < 0 || !(p->fraction >= 0 && p->fraction <= 1) || !(p->period >= 0) ||
      !isfinite(p->period)) {
    cl_log_error("wallclock: load: threads %d, fraction %g, period %g s (expected threads >= 0, "
                 "0 <= fraction <= 1, period >= 0)",
                 p->threads, p->fraction, p->period);
    return CL_ERR_INVALID;
  }
  cl_wall_load *ld = calloc(1, sizeof *ld);
  if (!ld) goto nomem;
  ld->p = *p;
  if (ld->p.period == 0) ld->p.period = 10e-3;
  atomic_init(&ld->stop, 0);
  atomic_init(&ld->passes, 0);
  int nb = ld->p.fraction > 0 ? ld->p.threads : 0;
  ld->p.threads = nb;
  ld->burners = calloc((size_t)(nb ? nb : 1), sizeof *ld->burners);
  ld->cpu = calloc((size_t)(nb ? nb : 1), sizeof *ld->cpu);
  if (!ld->burners || !ld->cpu) goto nomem;
  if (p->mem_bytes > 0) {
    unsigned char *b = malloc(p->mem_bytes);
    if (!b) {
      cl_log_error("wallclock: load: cannot allocate %zu bytes for memory pressure", p->mem_bytes);
      cl_wall_load_destroy(ld);
      return CL_ERR_NOMEM;
    }
    memset(b, 0, p->mem_bytes); /* fault every page in now */
    ld->buf = b;
  }
  ld->t_start = cl_wall_now();
  ld->running = 1;
  for (int i = 0; i < nb; i++) {
    cl__burner_arg *a = malloc(sizeof *a);
    if (!a) goto thread_fail;
    a->ld = ld;
    a->idx = i;
    if (pthread_create(&ld->burners[i], NULL, cl__burner, a) != 0) {
      free(a);
      goto thread_fail;
    }
    ld->n_started++;
  }
  if (ld->buf) {
    if (pthread_create(&ld->mem_thread, NULL, cl__memtoucher, ld) != 0) goto thread_fail;
    ld->mem_started = 1;
  }
  *out = ld;
  return CL_OK;
thread_fail:
  cl_log_error("wallclock: load: cannot start thread %d of %d", ld->n_started + 1,
               nb + (ld->buf ? 1 : 0));
  cl_wall_load_destroy(ld);
  return CL_ERR_INTERNAL;
nomem:
  cl_log_error("wallclock: load: out of memory");
  cl_wall_load_destroy(ld);
  return CL_ERR_NOMEM;
}

cl_status cl_wall_load_stop(cl_wall_load *ld) {
  if (!ld || !ld->running) return CL_OK;
  atomic_store(&ld->stop, 1);
  for (int i = 0; i < ld->n_started; i++) pthread_join(ld->burners[i], NULL);
  if (ld->mem_started) pthread_join(ld->mem_thread, NULL);
  ld->t_stop = cl_wall_now();
  ld->running = 0;
  return CL_OK;
}

cl_status cl_wall_load_stats_get(const cl_wall_load *ld, cl_wall_load_stats *out) {
  memset(out, 0, sizeof *out);
  out->wall = (ld->running ? cl_wall_now() : ld->t_stop) - ld->t_start;
  if (!ld->running)
    for (int i = 0; i < ld->n_started; i++) out->cpu += ld->cpu[i];
  out->mem_passes = (uint64_t)atomic_load(&ld->passes);
  out->mem_bytes_touched = out->mem_passes * (uint64_t)ld->p.mem_bytes;
  return CL_OK;
}

void cl_wall_load_destroy(cl_wall_load *ld) {
  if (!ld) return;
  cl_wall_load_stop(ld);
  free(ld->burners);
  free(ld->cpu);
  free((void *)ld->buf);
  free(ld);
}
