/* The adaptivity study: real profiling under background CPU load and memory use, and
 * composition of the profiles with node speeds and the network (include/cleave/adaptive.h). */
#define _GNU_SOURCE 1 /* sched_setaffinity, sched_getcpu, gettid: Linux-specific stress set-up */
#include "cleave/adaptive.h"

#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleave/exec.h"
#include "cleave/profiler.h" /* cl_stat_median */
#include "cleave/wallclock.h"
#include "cleave/onnx.h"
#include "sweep_internal.h"


/* ---- stress ---- */

struct cl_adaptive_stress {
  cpu_set_t old_mask;
  int have_old;
  cl_wall_load *burn;
  pthread_t mem_thread;
  int mem_running;
  atomic_int stop;
  unsigned char *buf;
  size_t bytes;
};

static void *mem_main(void *arg) {
  cl_adaptive_stress *s = arg;
  /* idle priority for this thread only (Linux: per-thread nice via its tid) */
  setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
  unsigned char v = 1;
  while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
    for (size_t i = 0; i < s->bytes; i += 64) {
      s->buf[i] = (unsigned char)(s->buf[i] + v);
      if ((i & ((1u << 20) - 1)) == 0 && atomic_load_explicit(&s->stop, memory_order_relaxed)) break;
    }
    v++;
  }
  return NULL;
}

cl_status cl_adaptive_stress_start(int threads, double cpu_load, double mem_pressure, double mem_cap_bytes,
                                   cl_adaptive_stress **out) {
  *out = NULL;
  if (!(cpu_load >= 0 && cpu_load <= 1) || !(mem_pressure >= 0 && mem_pressure <= 1) || threads < 1) {
    cl_log_error("adaptive: stress: cpu_load %g, mem_pressure %g (expected 0..1), threads %d (>= 1)", cpu_load,
                 mem_pressure, threads);
    return CL_ERR_INVALID;
  }
  cl_adaptive_stress *s = calloc(1, sizeof *s);
  if (!s) return CL_ERR_NOMEM;
  atomic_init(&s->stop, 0);
  /* pin to the CPU we are on: the burners and the memory thread inherit it */
  if (sched_getaffinity(0, sizeof s->old_mask, &s->old_mask) == 0) {
    s->have_old = 1;
    int cpu = sched_getcpu();
    if (cpu >= 0) {
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(cpu, &one);
      if (sched_setaffinity(0, sizeof one, &one) != 0) cl_log_warn("adaptive: cannot pin to CPU %d", cpu);
    }
  }
  cl_status st = CL_OK;
  if (cpu_load > 0) {
    cl_wall_load_params p = {threads, cpu_load, 10e-3, 0};
    st = cl_wall_load_start(&p, &s->burn);
  }
  if (st == CL_OK && mem_pressure > 0) {
    s->bytes = (size_t)(mem_pressure * mem_cap_bytes);
    s->buf = s->bytes ? malloc(s->bytes) : NULL;
    if (s->bytes && !s->buf) {
      cl_log_error("adaptive: cannot allocate %zu bytes of memory pressure", s->bytes);
      st = CL_ERR_NOMEM;
    } else if (s->bytes) {
      memset(s->buf, 1, s->bytes); /* resident */
      if (pthread_create(&s->mem_thread, NULL, mem_main, s) != 0) {
        cl_log_error("adaptive: cannot start the memory-pressure thread");
        st = CL_ERR_INTERNAL;
      } else {
        s->mem_running = 1;
      }
    }
  }
  if (st != CL_OK) {
    cl_adaptive_stress_stop(s, NULL);
    return st;
  }
  *out = s;
  return CL_OK;
}

void cl_adaptive_stress_stop(cl_adaptive_stress *s, double *burn_cpu) {
  if (burn_cpu) *burn_cpu = 0;
  if (!s) return;
  atomic_store(&s->stop, 1);
  if (s->mem_running) pthread_join(s->mem_thread, NULL);
  if (s->burn) {
    cl_wall_load_stop(s->burn);
    cl_wall_load_stats ls;
    if (burn_cpu && cl_wall_load_stats_get(s->burn, &ls) == CL_OK) *burn_cpu = ls.cpu;
    cl_wall_load_destroy(s->burn);
  }
  if (s->have_old) sched_setaffinity(0, sizeof s->old_mask, &s->old_mask);
  free(s->buf);
  free(s);
}

/* ---- profiling ---- */

void cl_adaptive_profile_free(cl_adaptive_profile *p) {
  if (!p) return;
  free(p->wall);
  free(p->cpu);
  memset(p, 0, sizeof *p);
}

cl_status cl_adaptive_profile_run(const cl_graph *g, int threads, double cpu_load, double mem_pressure,
                                  double mem_cap_bytes, int reps, int warmup, uint64_t seed, cl_sweep_poll_fn poll,
                                  void *poll_ctx, cl_adaptive_profile *out) {
  memset(out, 0, sizeof *out);
  cl_exec *ex = NULL;
  cl_exec_opts o = cl_exec_opts_default();
  o.threads = threads;
  o.row_split = CL_ROWS_OFF; /* timed step by step: whole-layer primitives (rows mode splits only whole runs) */
  o.preact = CL_PREACT_OFF;   /* and a batch norm keeps its own step time (not fused into its 1x1) */
  CL_TRY(cl_exec_create(g, &o, &ex));
  int ns = cl_exec_step_count(ex);
  out->n_steps = ns;
  out->reps = reps;
  out->wall = malloc(sizeof(double) * (size_t)ns * (size_t)reps + 1);
  out->cpu = malloc(sizeof(double) * (size_t)ns * (size_t)reps + 1);
  if (!out->wall || !out->cpu) {
    cl_exec_destroy(ex);
    cl_adaptive_profile_free(out);
    return CL_ERR_NOMEM;
  }
  cl_exec_fill_input(ex, seed);
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  out->started = (double)now.tv_sec + 1e-9 * (double)now.tv_nsec;
  double t0 = cl_wall_now();
  cl_adaptive_stress *s = NULL;
  cl_status st = cl_adaptive_stress_start(threads, cpu_load, mem_pressure, mem_cap_bytes, &s);
  for (int r = -warmup; r < reps && st == CL_OK; r++)
    for (int k = 0; k < ns && st == CL_OK; k++) {
      double w0 = cl_wall_now(), c0 = cl_thread_cpu_now();
      st = cl_exec_run_step(ex, k);
      double c1 = cl_thread_cpu_now(), w1 = cl_wall_now();
      if (r >= 0) {
        out->wall[(size_t)r * ns + k] = w1 - w0;
        out->cpu[(size_t)r * ns + k] = c1 - c0;
      }
      if (poll) poll(poll_ctx);
    }
  cl_adaptive_stress_stop(s, &out->burn_cpu);
  out->seconds = cl_wall_now() - t0;
  cl_exec_destroy(ex);
  if (st != CL_OK) cl_adaptive_profile_free(out);
  return st;
}

/* ---- model structure ---- */

void cl_adaptive_model_destroy(cl_adaptive_model *m) {
  if (!m) return;
  for (int k = 0; k < m->n_steps && m->step_label; k++) free(m->step_label[k]);
  for (int k = 0; k < m->n_cuts && m->cut_name; k++) free(m->cut_name[k]);
  free(m->step_label);
  free(m->cut_name);
  free(m->step_node);
  free(m->cut_node);
  free(m->cut_edge_steps);
  free(m->cut_bytes);
  free(m);
}

cl_status cl_adaptive_model_create(const char *model, cl_adaptive_model **out) {
  *out = NULL;
  cl_adaptive_model *m = calloc(1, sizeof *m);
  if (!m) return CL_ERR_NOMEM;
  cl_graph *g = NULL;
  cl_exec *ex = NULL;
  int *cuts = NULL, nc = 0, outn = 0;
  char **names = NULL;
  cl_status st = cl__sweep_step_cuts(model, &cuts, &nc, &names, &outn);
  if (st == CL_OK) st = cl_model_load_structure(model, &g); /* zoo name or ONNX file */
  cl_exec_opts o = cl_exec_opts_default();
  o.plan_only = 1;
  if (st == CL_OK) st = cl_exec_create(g, &o, &ex);
  if (st != CL_OK) goto done;
  m->n_steps = cl_exec_step_count(ex);
  m->step_node = malloc(sizeof(int) * (size_t)m->n_steps);
  m->step_label = calloc((size_t)m->n_steps, sizeof(char *));
  m->n_cuts = nc + 1; /* the step boundaries plus "all on the edge" */
  m->cut_node = malloc(sizeof(int) * (size_t)m->n_cuts);
  m->cut_name = names;
  names = NULL;
  m->cut_edge_steps = malloc(sizeof(int) * (size_t)m->n_cuts);
  m->cut_bytes = malloc(sizeof(int64_t) * (size_t)m->n_cuts);
  if (!m->step_node || !m->step_label || !m->cut_node || !m->cut_edge_steps || !m->cut_bytes) {
    st = CL_ERR_NOMEM;
    goto done;
  }
  for (int k = 0; k < m->n_steps; k++) {
    const cl_exec_step *s = cl_exec_step_get(ex, k);
    m->step_node[k] = s->node;
    size_t len = strlen(s->label) + 1;
    if (!(m->step_label[k] = malloc(len))) {
      st = CL_ERR_NOMEM;
      goto done;
    }
    memcpy(m->step_label[k], s->label, len);
  }
  for (int c = 0; c < m->n_cuts; c++) {
    m->cut_node[c] = cuts[c];
    int e = 0;
    while (e < m->n_steps && m->step_node[e] <= cuts[c]) e++;
    m->cut_edge_steps[c] = e;
    m->cut_bytes[c] = cuts[c] == outn ? 0 : cl_shape_numel(cl_graph_node(g, cuts[c])->out) * (int64_t)sizeof(float);
  }
done:
  if (names)
    for (int k = 0; k <= nc; k++) free(names[k]);
  free(names);
  free(cuts);
  cl_exec_destroy(ex);
  cl_graph_destroy(g);
  if (st != CL_OK) {
    cl_adaptive_model_destroy(m);
    return st;
  }
  *out = m;
  return CL_OK;
}

double cl_adaptive_compose(const cl_adaptive_model *m, const cl_adaptive_profile *edge,
                           const cl_adaptive_profile *cloud, const cl_adaptive_link *lk, int cut, int rep,
                           double *start, double *dur, double *edge_s, double *xfer_s, double *cloud_s) {
  int ne = m->cut_edge_steps[cut], ns = m->n_steps;
  const double *we = edge->wall + (size_t)rep * ns, *wc = cloud->wall + (size_t)rep * ns;
  double t = 0;
  for (int k = 0; k < ne; k++) {
    double d = we[k] * lk->edge_speed;
    if (start) start[k] = t;
    if (dur) dur[k] = d;
    t += d;
  }
  double te = t;
  if (m->cut_bytes[cut] > 0) t += lk->latency + (double)m->cut_bytes[cut] / lk->bandwidth;
  double tx = t - te;
  for (int k = ne; k < ns; k++) {
    double d = wc[k] * lk->cloud_speed;
    if (start) start[k] = t;
    if (dur) dur[k] = d;
    t += d;
  }
  if (edge_s) *edge_s = te;
  if (xfer_s) *xfer_s = tx;
  if (cloud_s) *cloud_s = t - te - tx;
  return t;
}

double cl_adaptive_energy(const cl_adaptive_link *lk, double edge_s, double cloud_s, int64_t bytes, double *edge_j,
                          double *cloud_j) {
  const cl_node_power *pe = &lk->power[0], *pc = &lk->power[1];
  const double b = (double)bytes, tx = bytes > 0 ? b / lk->bandwidth : 0;
  const double lat = edge_s + cloud_s + (bytes > 0 ? lk->latency + tx : 0);
  const double ie = fmax(0, lat - edge_s - tx), ic = fmax(0, lat - cloud_s - tx);
  const double e = pe->busy * edge_s + pe->tx * tx + pe->tx_per_byte * b + pe->idle * ie;
  const double c = pc->busy * cloud_s + pc->rx * tx + pc->rx_per_byte * b + pc->idle * ic;
  if (edge_j) *edge_j = e;
  if (cloud_j) *cloud_j = c;
  return e + c;
}

/* max - min over repeats of the per-repeat medians of x[repeats * k]; medians to med[]. */
static double repeat_spread(const double *x, int repeats, int k, double *tmp, double *med) {
  double lo = INFINITY, hi = -INFINITY;
  for (int q = 0; q < repeats; q++) {
    memcpy(tmp, x + (size_t)q * k, sizeof(double) * (size_t)k);
    double v = cl_stat_median(tmp, k);
    if (med) med[q] = v;
    lo = fmin(lo, v);
    hi = fmax(hi, v);
  }
  return hi - lo;
}

cl_status cl_adaptive_cut_summary(const cl_adaptive_model *m, const cl_adaptive_profile *edge,
                                  const cl_adaptive_profile *cloud, const cl_adaptive_link *lk, int cut, int repeats,
                                  cl_adaptive_cut_stat *out, double *rep_lat, double *rep_energy) {
  memset(out, 0, sizeof *out);
  const int R = edge->reps < cloud->reps ? edge->reps : cloud->reps;
  if (repeats < 1 || R % repeats || cut < 0 || cut >= m->n_cuts) {
    cl_log_error("adaptive: %d repetitions are not %d repeats of equal size (cut %d of %d)", R, repeats, cut,
                 m->n_cuts);
    return CL_ERR_INVALID;
  }
  double *v = malloc(sizeof(double) * 6 * (size_t)R); /* lat, edge, xfer, cloud, energy, edge energy */
  double *tmp = malloc(sizeof(double) * (size_t)R);
  if (!v || !tmp) {
    free(v);
    free(tmp);
    return CL_ERR_NOMEM;
  }
  double *lat = v, *es = v + R, *xs = v + 2 * R, *cs = v + 3 * R, *en = v + 4 * R, *ee = v + 5 * R;
  double sum = 0;
  out->latency_min = INFINITY;
  out->latency_max = -INFINITY;
  for (int r = 0; r < R; r++) {
    lat[r] = cl_adaptive_compose(m, edge, cloud, lk, cut, r, NULL, NULL, &es[r], &xs[r], &cs[r]);
    en[r] = cl_adaptive_energy(lk, es[r], cs[r], m->cut_bytes[cut], &ee[r], NULL);
    sum += lat[r];
    out->latency_min = fmin(out->latency_min, lat[r]);
    out->latency_max = fmax(out->latency_max, lat[r]);
  }
  out->latency_mean = sum / R;
  const int k = R / repeats;
  out->latency_spread = repeat_spread(lat, repeats, k, tmp, rep_lat);
  out->energy_spread = repeat_spread(en, repeats, k, tmp, rep_energy);
  double *med[] = {&out->latency, &out->edge_s, &out->xfer_s, &out->cloud_s, &out->energy, &out->energy_edge};
  for (int j = 0; j < 6; j++) { /* medians over every repetition (sorts the columns in place) */
    *med[j] = cl_stat_median(v + (size_t)j * R, R);
  }
  free(v);
  free(tmp);
  return CL_OK;
}

int cl_adaptive_best_cut(const cl_adaptive_cut_stat *s, int n_cuts, int by_energy) {
  int best = 0;
  for (int c = 1; c < n_cuts; c++)
    if ((by_energy ? s[c].energy < s[best].energy : s[c].latency < s[best].latency)) best = c;
  return best;
}

/* ---- validation: the two parts run for real ---- */

static cl_status run_part(const cl_graph *g, const uint8_t *mask, int threads, double cpu, double mem, double cap,
                          int reps, uint64_t seed, double *median) {
  *median = 0;
  int any = 0;
  for (int i = 0; i < cl_graph_size(g); i++) any |= mask[i];
  if (!any) return CL_OK;
  cl_exec_opts o = cl_exec_opts_default();
  o.threads = threads;
  o.run_mask = mask;
  cl_exec *ex = NULL;
  CL_TRY(cl_exec_create(g, &o, &ex));
  if (mask[0]) cl_exec_fill_input(ex, seed);
  double *w = malloc(sizeof(double) * (size_t)reps);
  cl_adaptive_stress *s = NULL;
  cl_status st = w ? cl_adaptive_stress_start(threads, cpu, mem, cap, &s) : CL_ERR_NOMEM;
  if (st == CL_OK) st = cl_exec_run(ex); /* warm-up */
  for (int r = 0; r < reps && st == CL_OK; r++) {
    double t0 = cl_wall_now();
    st = cl_exec_run(ex);
    w[r] = cl_wall_now() - t0;
  }
  cl_adaptive_stress_stop(s, NULL);
  if (st == CL_OK) {
    *median = cl_stat_median(w, reps);
  }
  free(w);
  cl_exec_destroy(ex);
  return st;
}

cl_status cl_adaptive_measure_parts(const char *model, int cut_node, int threads, double edge_cpu, double edge_mem,
                                    double cloud_cpu, double cloud_mem, double mem_cap_bytes, int reps, uint64_t seed,
                                    double *edge_wall, double *cloud_wall) {
  cl_graph *g = NULL;
  int has_weights = 0; /* an ONNX file brings its own; zoo models are seeded */
  CL_TRY(cl_model_load(model, &g, &has_weights));
  int n = cl_graph_size(g);
  uint8_t *mask = malloc((size_t)n);
  cl_status st = !mask ? CL_ERR_NOMEM : has_weights ? CL_OK : cl_graph_init_weights(g, seed);
  if (st == CL_OK) {
    for (int i = 0; i < n; i++) mask[i] = i <= cut_node;
    st = run_part(g, mask, threads, edge_cpu, edge_mem, mem_cap_bytes, reps, seed, edge_wall);
  }
  if (st == CL_OK) {
    for (int i = 0; i < n; i++) mask[i] = i > cut_node;
    st = run_part(g, mask, threads, cloud_cpu, cloud_mem, mem_cap_bytes, reps, seed, cloud_wall);
  }
  free(mask);
  cl_graph_destroy(g);
  return st;
}
