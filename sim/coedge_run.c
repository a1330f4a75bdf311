/* CoEdge executed for real: plan, run the spatial part with the real kernels on
 * per-device row windows or grid-tile column crops (in-process transport), scale each
 * device's measured thread CPU time by its speed factor, and compose latency/energy with
 * the planner's own WLAN/energy model (cl_coedge_evaluate_rows / cl_coedge_evaluate with
 * per-device measured node times).
 * Also the adaptive mode: the environment changes between inferences and the planner
 * re-plans from what it observes. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleave/records.h"
#include "cleave/coedge.h"
#include "cleave/coedge_run.h"
#include "cleave/exec.h"
#include "cleave/onnx.h"
#include "cleave/spatial_exec.h"
#include "cleave/store.h"
#include "cleave/wallclock.h"



static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Everything one model on one devices file needs: graph with weights, the monolithic
 * reference (input, output, measured per-node host seconds), the devices. */
typedef struct session {
  cl_graph *g;
  cl_exec *ref;
  const float *input, *ref_out;
  int64_t out_n;
  float *y;
  int n_graph, first, last;
  double *host; /* [n_graph] host thread CPU seconds per node (full tensor) */
  cl_coedge_devfile df;
  double bandwidth, msg_latency, deadline;
  cl_spatial_mode mode;
  double *a, *b; /* [n_dev * n_graph] measured per-device node models (scratch) */
  double *drows;  /* [n_dev] rows per device of one node (scratch) */
  cl_coedge_device *mdev; /* [n_dev] devices carrying a/b */
  int probe_step;     /* step of the reference executor used to probe idle devices */
  double probe_host;  /* its calibrated host seconds */
  double host_gflops; /* this host's measured rate on the model (flops / calibrated seconds) */
} session;

static void session_fini(session *s) {
  free(s->host);
  free(s->y);
  free(s->a);
  free(s->b);
  free(s->drows);
  free(s->mdev);
  cl_exec_destroy(s->ref);
  cl_graph_destroy(s->g);
  cl_coedge_devfile_fini(&s->df);
  memset(s, 0, sizeof *s);
}

/* Per-node host seconds: each node of the unfused monolithic run timed with the
 * thread CPU clock; the minimum of @p reps runs (noise on a shared host only adds). */
static cl_status calibrate(session *s, int reps) {
  int ns = cl_exec_step_count(s->ref);
  for (int id = 0; id < s->n_graph; id++) s->host[id] = INFINITY;
  for (int r = 0; r < reps; r++) {
    for (int k = 0; k < ns; k++) {
      const cl_exec_step *st = cl_exec_step_get(s->ref, k);
      double c0 = cl_thread_cpu_now();
      CL_TRY(cl_exec_run_step(s->ref, k));
      double dt = (cl_thread_cpu_now() - c0) / st->n_nodes;
      for (int j = 0; j < st->n_nodes; j++)
        if (dt < s->host[st->nodes[j]]) s->host[st->nodes[j]] = dt;
    }
  }
  for (int id = 0; id < s->n_graph; id++)
    if (!isfinite(s->host[id])) s->host[id] = 0; /* input node: no step */
  /* Probe workload for idle devices: the heaviest node of the run that takes at most
   * 20 ms on the host (long enough to time reliably, cheap enough to run often); if
   * every node is heavier, the lightest one. */
  s->probe_step = -1;
  s->probe_host = 0;
  double best_over = INFINITY;
  int over = -1;
  for (int k = 0; k < ns; k++) {
    const cl_exec_step *st = cl_exec_step_get(s->ref, k);
    int id = st->nodes[0];
    if (st->n_nodes != 1 || id < s->first || id > s->last || !(s->host[id] > 0)) continue;
    if (s->host[id] <= 0.02 && s->host[id] > s->probe_host) {
      s->probe_step = k;
      s->probe_host = s->host[id];
    } else if (s->host[id] > 0.02 && s->host[id] < best_over) {
      over = k;
      best_over = s->host[id];
    }
  }
  if (s->probe_step < 0 && over >= 0) {
    s->probe_step = over;
    s->probe_host = best_over;
  }
  return CL_OK;
}

/* One probe of a device at true speed @p speed: the probe node runs on the host (the
 * reference executor recomputes the same output from the same input, so nothing
 * changes) and its thread CPU time, divided by the device's true speed, is what the
 * device would report. Best of two runs (noise on a shared host only adds). Returns the
 * speed estimate host_calibrated / observed_device_time; *dev_seconds gets the device's
 * probe time. */
static cl_status probe(session *s, double speed, double *est, double *dev_seconds) {
  double best = INFINITY;
  for (int r = 0; r < 2; r++) {
    double c0 = cl_thread_cpu_now();
    CL_TRY(cl_exec_run_step(s->ref, s->probe_step));
    double dt = cl_thread_cpu_now() - c0;
    if (dt < best) best = dt;
  }
  if (!(best > 0)) best = 1e-9;
  *dev_seconds = best / speed;
  *est = s->probe_host / *dev_seconds;
  return CL_OK;
}

/* The requester sends the input as an 8-bit frame (or fp16) and the receivers convert it
 * to float32 (devices file input_bytes_per_elem): the tensor the kernels compute from is
 * the float image of that frame. Applied to the source's input before the reference run,
 * so every device and the reference see exactly the values that crossed the WLAN. 8-bit:
 * 256 levels over the tensor's [min, max] (a camera frame after the usual affine
 * normalisation); fp16: 11 significant bits. */
static void quantize_input(float *x, int64_t n, int bytes) {
  if (bytes == 1) {
    float lo = INFINITY, hi = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
      if (x[i] < lo) lo = x[i];
      if (x[i] > hi) hi = x[i];
    }
    double q = (double)hi - lo;
    if (!(q > 0)) return;
    q /= 255;
    for (int64_t i = 0; i < n; i++) x[i] = (float)(lo + q * nearbyint((x[i] - lo) / q));
  } else if (bytes == 2) {
    for (int64_t i = 0; i < n; i++) {
      int e;
      double m = frexp(x[i], &e);
      x[i] = (float)ldexp(nearbyint(ldexp(m, 11)), e - 11);
    }
  }
}

static cl_status session_open(const cl_coedge_point *pt, session *s) {
  memset(s, 0, sizeof *s);
  if (!pt || !pt->model || !pt->devices_path || pt->inferences < 1 || (pt->mode != 0 && pt->mode != 1)) {
    cl_log_error("coedge run: a point needs model, devices_path, inferences >= 1 and mode 0|1");
    return CL_ERR_INVALID;
  }
  CL_TRY(cl_coedge_devfile_load(pt->devices_path, &s->df));
  int has_weights = 0; /* an ONNX file brings its own; zoo models are seeded */
  cl_status st = cl_model_load(pt->model, &s->g, &has_weights);
  if (st != CL_OK) goto error;
  if ((st = cl_spatial_prefix(s->g, &s->first, &s->last)) != CL_OK) goto error;
  if (!has_weights && (st = cl_graph_init_weights(s->g, pt->seed)) != CL_OK) goto error;
  cl_exec_opts o = cl_exec_opts_default();
  o.fuse = 0; /* one step per node, the same kernels the spatial executor runs */
  o.backend = CL_BACKEND_PORTABLE; /* the only row-window backend: calibrate on it too */
  if ((st = cl_exec_create(s->g, &o, &s->ref)) != CL_OK) goto error;
  cl_exec_fill_input(s->ref, pt->seed + 1);
  quantize_input(cl_exec_buffer(s->ref, 0), cl_shape_numel(cl_graph_node(s->g, 0)->out),
                 s->df.input_bytes_per_elem);
  s->n_graph = cl_graph_size(s->g);
  int out = cl_graph_output(s->g);
  s->out_n = cl_shape_numel(cl_graph_node(s->g, out)->out);
  int nd = s->df.n_dev;
  st = CL_ERR_NOMEM;
  s->host = calloc((size_t)s->n_graph, sizeof *s->host);
  s->y = malloc(sizeof(float) * (size_t)s->out_n);
  s->a = calloc((size_t)nd * (size_t)s->n_graph, sizeof *s->a);
  s->b = calloc((size_t)nd * (size_t)s->n_graph, sizeof *s->b);
  s->mdev = calloc((size_t)nd, sizeof *s->mdev);
  s->drows = calloc((size_t)nd, sizeof *s->drows);
  if (!s->host || !s->y || !s->a || !s->b || !s->mdev || !s->drows) goto error;
  if ((st = calibrate(s, 2)) != CL_OK) goto error;
  /* Devices given in absolute terms (gflops:) run at their rate whatever this host's:
   * their speed is relative to what the host was measured at on this model. */
  double fl = 0, sec = 0;
  for (int id = 0; id < s->n_graph; id++)
    if (s->host[id] > 0) {
      fl += (double)cl_graph_node(s->g, id)->flops;
      sec += s->host[id];
    }
  s->host_gflops = sec > 0 ? fl / sec * 1e-9 : 0;
  if (cl_coedge_devfile_reference(&s->df, s->host_gflops) > 0)
    cl_log_info("coedge run: this host computes %s at %.1f GFLOP/s (portable kernels, 1 thread); devices "
                "given in gflops are scaled from it",
                cl_graph_name(s->g), s->host_gflops);
  s->input = cl_exec_buffer(s->ref, 0);
  s->ref_out = cl_exec_buffer(s->ref, out);
  s->bandwidth = pt->bandwidth_Bps > 0 ? pt->bandwidth_Bps
                 : s->df.bandwidth > 0 ? s->df.bandwidth : 50e6 / 8;
  s->msg_latency = s->df.msg_latency >= 0 ? s->df.msg_latency : 1e-3;
  s->deadline = pt->deadline_s > 0 ? pt->deadline_s : 0;
  s->mode = pt->mode ? CL_SPATIAL_FUSED : CL_SPATIAL_LAYER;
  return CL_OK;
error:
  if (st == CL_ERR_NOMEM) cl_log_error("coedge run: out of memory (model %s)", pt->model);
  session_fini(s);
  return st;
}

/* The planner's problem with the believed device speeds and bandwidth. */
static cl_coedge_problem problem(const session *s, const cl_coedge_device *dev, double bw) {
  cl_coedge_problem p = {s->g,     s->first, s->last,        s->host,
                         s->df.n_dev, dev,   s->df.source,   bw,
                         s->msg_latency, s->deadline, s->mode, s->df.input_bytes_per_elem,
                         s->df.overlap};
  return p;
}

#define PLANNER_UNKNOWN CL_COEDGE_PLANNER_COUNT

static cl_coedge_planner planner_from_name(const char *name) {
  return name ? cl_coedge_planner_from_name(name) : PLANNER_UNKNOWN;
}

/* Plan with @p which; INFEASIBLE keeps the minimum-latency plan (*infeasible = 1). */
static cl_status plan(const session *s, const cl_coedge_device *dev, double bw,
                      cl_coedge_planner which, cl_coedge_result *r, int *infeasible,
                      double *seconds) {
  cl_coedge_problem p = problem(s, dev, bw);
  double t0 = cl_wall_now();
  cl_status st = cl_coedge_plan(&p, which, r);
  *seconds = cl_wall_now() - t0;
  *infeasible = st == CL_ERR_INFEASIBLE;
  if (st == CL_ERR_INFEASIBLE && r->plan) return CL_OK;
  if (st != CL_OK) {
    cl_coedge_result_fini(r);
    return st;
  }
  return CL_OK;
}

static int is_tiles(const cl_spatial_plan *sp) { return sp->n_tasks != sp->n_dev; }

/* Grid of a tile plan from its last-node tiles (row-major, cl_spatial_plan_tiles): the
 * tiles of the first grid row start at y = 0. */
static void tile_grid(const cl_spatial_plan *sp, int *gr, int *gc) {
  const cl_box *lb = sp->box + (size_t)(sp->n_nodes - 1) * sp->n_tasks;
  int c = 0;
  while (c < sp->n_tasks && lb[c].y0 == 0) c++;
  *gc = c > 0 ? c : 1;
  *gr = sp->n_tasks / *gc;
}

/* Same executed split: rows per device, and for tiles the device of every tile. */
static int same_split(const cl_coedge_result *a, const cl_coedge_result *b) {
  if (memcmp(a->rows, b->rows, sizeof(int) * (size_t)a->n_dev)) return 0;
  if (a->plan->n_tasks != b->plan->n_tasks) return 0;
  return !memcmp(a->plan->task_dev, b->plan->task_dev, sizeof(int) * (size_t)a->plan->n_tasks);
}

static void describe(const session *s, const cl_coedge_result *r, char *buf, size_t n) {
  const cl_spatial_plan *sp = r->plan;
  if (is_tiles(sp)) { /* "tiles 2x2 0,1:tx2 2,3:pc": tile indices (row-major) per device */
    int gr, gc;
    tile_grid(sp, &gr, &gc);
    size_t len = (size_t)snprintf(buf, n, "tiles %dx%d", gr, gc);
    for (int d = 0; d < s->df.n_dev && len < n; d++) {
      int k = 0;
      for (int t = 0; t < sp->n_tasks && len < n; t++) {
        if (sp->task_dev[t] != d) continue;
        len += (size_t)snprintf(buf + len, n - len, "%s%d", k++ ? "," : " ", t);
      }
      if (k && len < n) len += (size_t)snprintf(buf + len, n - len, ":%s", s->df.dev[d].name);
    }
    return;
  }
  size_t len = (size_t)snprintf(buf, n, "rows");
  int y = 0;
  for (int d = 0; d < s->df.n_dev && len < n; d++) {
    if (r->rows[d] <= 0) continue;
    len += (size_t)snprintf(buf + len, n - len, " %d-%d:%s", y, y + r->rows[d] - 1,
                            s->df.dev[d].name);
    y += r->rows[d];
  }
}

/* Execute plan @p r once with the real kernels; compose the measured latency/energy
 * with the true speeds @p speed and bandwidth @p bw into *m (caller finis it). */
/* Executor for plan @p r, warmed up once (first-touch page faults of the workspace and
 * cold caches would otherwise be timed; the calibration run is warm too). */
static cl_status prepare(session *s, const cl_coedge_result *r, cl_spatial_exec **se) {
  CL_TRY(cl_spatial_exec_create(s->g, r->plan, MPI_COMM_NULL, se));
  cl_status st = cl_spatial_exec_run(*se, s->input, s->y);
  if (st != CL_OK) {
    cl_spatial_exec_destroy(*se);
    *se = NULL;
  }
  return st;
}

static cl_status execute(session *s, const cl_coedge_result *r, cl_spatial_exec *se,
                         const double *speed, double bw, int check, cl_coedge_result *m) {
  const cl_spatial_plan *sp = r->plan;
  int nd = s->df.n_dev, T = sp->n_tasks;
  memset(m, 0, sizeof *m);
  cl_status st = cl_spatial_exec_run(se, s->input, s->y);
  if (st != CL_OK) goto done;
  if (check) {
    double num = 0, den = 0;
    for (int64_t i = 0; i < s->out_n; i++) {
      num = fmax(num, fabs((double)s->y[i] - s->ref_out[i]));
      den = fmax(den, fabs((double)s->ref_out[i]));
    }
    if (!(num <= 1e-4 * (den > 0 ? den : 1))) {
      cl_log_error("coedge run: %s: spatial output differs from the monolithic run (max abs "
                   "error %g, max |ref| %g)",
                   cl_graph_name(s->g), num, den);
      st = CL_ERR_INTERNAL;
      goto done;
    }
  }
  /* device model: node id on device d took node_seconds / speed_d for its rows */
  memset(s->a, 0, sizeof(double) * (size_t)nd * (size_t)s->n_graph);
  memset(s->b, 0, sizeof(double) * (size_t)nd * (size_t)s->n_graph);
  /* b = seconds per full-width-row equivalent: rows a device computed of a node, summed
   * over its tasks (tiles: area / width, as the evaluation counts them), so the
   * evaluation's a + b * rows summed over the device's tasks is the measured time. */
  for (int i = 0; i < sp->n_nodes; i++) {
    int id = sp->first + i;
    const cl_node *n = cl_graph_node(s->g, id);
    for (int d = 0; d < nd; d++) s->drows[d] = 0;
    for (int t = 0; t < T; t++)
      s->drows[sp->task_dev[t]] +=
          (double)cl_box_area(sp->box[(size_t)i * T + t]) / (n->out.w > 0 ? n->out.w : 1);
    for (int d = 0; d < nd; d++) {
      if (!(s->drows[d] > 0)) continue;
      if (!(speed[d] > 0)) {
        cl_log_error("coedge run: device %d '%s' has rows but speed %g", d, s->df.dev[d].name,
                     speed[d]);
        st = CL_ERR_INVALID;
        goto done;
      }
      s->b[(size_t)d * s->n_graph + id] =
          cl_spatial_exec_node_seconds(se, i, d) / speed[d] / s->drows[d];
    }
  }
  int out = cl_graph_output(s->g);
  if (sp->last < out && speed[sp->sink] > 0)
    s->a[(size_t)sp->sink * s->n_graph + out] = cl_spatial_exec_tail_seconds(se) / speed[sp->sink];
  for (int d = 0; d < nd; d++) {
    s->mdev[d] = s->df.dev[d];
    s->mdev[d].speed = speed[d];
    s->mdev[d].a = s->a + (size_t)d * s->n_graph;
    s->mdev[d].b = s->b + (size_t)d * s->n_graph;
  }
  cl_coedge_problem p = problem(s, s->mdev, bw);
  if (is_tiles(sp)) {
    /* the same tiles on the same devices (the tile planner's LPT assignment would change
     * with the measured models, so the plan is rebuilt from its own grid and task_dev) */
    int gr, gc;
    tile_grid(sp, &gr, &gc);
    cl_spatial_spec spec = {sp->first, sp->last, CL_SPATIAL_FUSED, nd, sp->source, sp->sink};
    cl_spatial_plan *tp = NULL;
    if ((st = cl_spatial_plan_tiles(s->g, &spec, gr, gc, sp->task_dev, &tp)) != CL_OK) goto done;
    const cl_box *la = tp->box + (size_t)(tp->n_nodes - 1) * T,
                 *lb = sp->box + (size_t)(sp->n_nodes - 1) * T;
    if (tp->n_tasks != T || memcmp(la, lb, sizeof *la * (size_t)T)) {
      cl_log_error("coedge run: tile plan %dx%d re-built with other tiles than the planner's",
                   gr, gc);
      cl_spatial_plan_destroy(tp);
      st = CL_ERR_INTERNAL;
      goto done;
    }
    st = cl_coedge_evaluate(&p, tp, m);
  } else {
    st = cl_coedge_evaluate_rows(&p, r->rows, m);
  }
  if (st == CL_OK && (m->plan->sink != sp->sink || m->plan->n_xfer != sp->n_xfer)) {
    cl_log_error("coedge run: re-built plan differs from the planner's (sink %d vs %d, %d vs %d "
                 "transfers)",
                 m->plan->sink, sp->sink, m->plan->n_xfer, sp->n_xfer);
    st = CL_ERR_INTERNAL;
  }
done:
  return st;
}

cl_status cl_coedge_run_point(const cl_coedge_point *pt, cl_coedge_point_result *res) {
  memset(res, 0, sizeof *res);
  cl_coedge_planner which = planner_from_name(pt ? pt->planner : NULL);
  if (which == PLANNER_UNKNOWN) {
    cl_log_error("coedge run: unknown planner '%s'", pt && pt->planner ? pt->planner : "(null)");
    return CL_ERR_INVALID;
  }
  session s;
  CL_TRY(session_open(pt, &s));
  int nd = s.df.n_dev, n = pt->inferences, infeasible = 0;
  cl_coedge_result r;
  memset(&r, 0, sizeof r);
  cl_spatial_exec *se = NULL;
  double *lat = calloc((size_t)n, sizeof *lat), *en = calloc((size_t)n, sizeof *en);
  double *speed = calloc((size_t)nd, sizeof *speed);
  cl_status st = CL_ERR_NOMEM;
  if (!lat || !en || !speed) goto done;
  for (int d = 0; d < nd; d++) speed[d] = s.df.dev[d].speed;
  st = plan(&s, s.df.dev, s.bandwidth, which, &r, &infeasible, &res->plan_seconds);
  if (st != CL_OK) goto done;
  if ((st = prepare(&s, &r, &se)) != CL_OK) goto done;
  for (int i = 0; i < n && st == CL_OK; i++) {
    cl_coedge_result m;
    st = execute(&s, &r, se, speed, s.bandwidth, i == 0, &m);
    if (st == CL_OK) {
      lat[i] = m.latency;
      en[i] = m.energy;
    }
    cl_coedge_result_fini(&m);
  }
  if (st != CL_OK) goto done;
  res->latency = median(lat, n);
  res->energy = median(en, n);
  res->planned_latency = r.latency;
  res->planned_energy = r.energy;
  res->feasible = !infeasible && (!(s.deadline > 0) || res->latency <= s.deadline);
  for (int d = 0; d < nd; d++) res->devices_used += r.rows[d] > 0;
  describe(&s, &r, res->plan, sizeof res->plan);
done:
  cl_spatial_exec_destroy(se);
  cl_coedge_result_fini(&r);
  free(lat);
  free(en);
  free(speed);
  session_fini(&s);
  return st;
}

/* ---- adaptivity ---- */

cl_status cl_coedge_parse_schedule(const char *s, const char *const *names, int n_dev,
                                   cl_coedge_event **events, int *n_events) {
  *events = NULL;
  *n_events = 0;
  if (!s || !*s) return CL_OK;
  char *copy = strdup(s);
  int cap = 1;
  for (const char *c = s; *c; c++) cap += *c == ',';
  cl_coedge_event *ev = calloc((size_t)cap, sizeof *ev);
  if (!copy || !ev) {
    free(copy);
    free(ev);
    return CL_ERR_NOMEM;
  }
  cl_status st = CL_OK;
  int n = 0;
  char *save = NULL;
  for (char *tok = strtok_r(copy, ",", &save); tok && st == CL_OK; tok = strtok_r(NULL, ",", &save)) {
    while (*tok == ' ') tok++;
    char *colon = strchr(tok, ':'), *eq = colon ? strchr(colon, '=') : NULL;
    char *end;
    errno = 0;
    long at = colon ? strtol(tok, &end, 10) : -1;
    if (!colon || !eq || errno || end != colon || at < 0 || at > 1000000000L) {
      cl_log_error("schedule item '%s': expected AT:DEVICE=SPEED or AT:bandwidth=BW with AT an "
                   "inference index >= 0",
                   tok);
      st = CL_ERR_INVALID;
      break;
    }
    *eq = 0;
    const char *key = colon + 1, *val = eq + 1;
    cl_coedge_event e = {(int)at, -1, 0};
    if (!strcmp(key, "bandwidth") || !strcmp(key, "bw")) {
      if (cl_coedge_parse_bandwidth(val, &e.value) != CL_OK) {
        cl_log_error("schedule item at %ld: bad bandwidth '%s'", at, val);
        st = CL_ERR_INVALID;
        break;
      }
    } else {
      e.device = -2;
      for (int d = 0; d < n_dev; d++)
        if (!strcmp(names[d], key)) e.device = d;
      errno = 0;
      e.value = strtod(val, &end);
      if (e.device < 0 || errno || end == val || *end || !(e.value > 0) || !isfinite(e.value)) {
        cl_log_error("schedule item at %ld: '%s=%s': expected a device name from the devices "
                     "file and a speed factor > 0",
                     at, key, val);
        st = CL_ERR_INVALID;
        break;
      }
    }
    ev[n++] = e;
  }
  free(copy);
  if (st != CL_OK) {
    free(ev);
    return st;
  }
  /* stable insertion sort: events at the same inference apply in the order given */
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && ev[j - 1].at > ev[j].at; j--) {
      cl_coedge_event t = ev[j];
      ev[j] = ev[j - 1];
      ev[j - 1] = t;
    }
  *events = ev;
  *n_events = n;
  return CL_OK;
}

cl_status cl_coedge_run_adaptive(const cl_coedge_point *pt, const cl_coedge_adapt_opts *o,
                                 cl_coedge_inference **recs_out) {
  return cl_coedge_run_adaptive_ex(pt, o, 0, recs_out);
}

cl_status cl_coedge_run_adaptive_ex(const cl_coedge_point *pt, const cl_coedge_adapt_opts *o,
                                    int probe_period, cl_coedge_inference **recs_out) {
  *recs_out = NULL;
  cl_coedge_planner which = planner_from_name(pt ? pt->planner : NULL);
  if (which == PLANNER_UNKNOWN) {
    cl_log_error("coedge run: unknown planner '%s'", pt && pt->planner ? pt->planner : "(null)");
    return CL_ERR_INVALID;
  }
  session s;
  CL_TRY(session_open(pt, &s));
  int nd = s.df.n_dev, n = pt->inferences;
  double thr = o->threshold > 0 ? o->threshold : 0.15;
  int probe_every = probe_period == 0 ? CL_COEDGE_PROBE_EVERY : probe_period;
  cl_store *store = NULL;
  cl_table *tab = NULL;
  cl_coedge_result r;
  memset(&r, 0, sizeof r);
  cl_spatial_exec *se = NULL;
  cl_coedge_inference *recs = calloc((size_t)n, sizeof *recs);
  double *speed = calloc((size_t)nd, sizeof *speed); /* true */
  cl_coedge_device *belief = calloc((size_t)nd, sizeof *belief);
  cl_status st = CL_ERR_NOMEM;
  if (!recs || !speed || !belief) goto done;
  for (int d = 0; d < nd; d++) {
    speed[d] = s.df.dev[d].speed;
    belief[d] = s.df.dev[d];
  }
  if (o->out) {
    cl_store_opts so;
    memset(&so, 0, sizeof so);
    so.force = o->force;
    so.atomic = 1;
    so.kind = "coedge-run";
    if ((st = cl_store_create(o->out, &so, &store)) != CL_OK) goto done;
    if ((st = cl_store_table(store, &CL_REC_INFERENCES_COEDGE, &tab)) != CL_OK) goto done;
    if (o->config_text && (st = cl_store_write_text(store, "/provenance/config", o->config_text)) != CL_OK)
      goto done;
  }
  double bw = s.bandwidth, bw_belief = s.bandwidth, plan_s;
  int infeasible, plan_id = 0, replanned = 0, next_ev = 0;
  if ((st = plan(&s, belief, bw_belief, which, &r, &infeasible, &plan_s)) != CL_OK) goto done;
  if ((st = prepare(&s, &r, &se)) != CL_OK) goto done;
  for (int i = 0; i < n; i++) {
    for (; next_ev < o->n_events && o->events[next_ev].at <= i; next_ev++) {
      const cl_coedge_event *e = &o->events[next_ev];
      if (e->device < 0) bw = e->value;
      else if (e->device < nd) /* a device given in gflops: the new rate in GFLOP/s */
        speed[e->device] = s.df.gflops[e->device] >= 0 ? e->value / s.host_gflops : e->value;
    }
    cl_coedge_result m;
    st = execute(&s, &r, se, speed, bw, i == 0 || replanned, &m);
    if (st != CL_OK) {
      cl_coedge_result_fini(&m);
      goto done;
    }
    cl_coedge_inference *rec = &recs[i];
    rec->inference = i;
    snprintf(rec->planner, sizeof rec->planner, "%s", cl_coedge_planner_name(which));
    rec->plan_id = plan_id;
    describe(&s, &r, rec->plan, sizeof rec->plan);
    rec->latency = m.latency;
    rec->energy = m.energy;
    rec->planned_latency = r.latency;
    rec->planned_energy = r.energy;
    rec->deadline = s.deadline;
    rec->met_deadline = !(s.deadline > 0) || m.latency <= s.deadline;
    rec->replanned = replanned;
    rec->bandwidth = bw;
    rec->min_speed_ratio = INFINITY;
    for (int d = 0; d < nd; d++)
      if (s.df.dev[d].speed > 0 && speed[d] / s.df.dev[d].speed < rec->min_speed_ratio)
        rec->min_speed_ratio = speed[d] / s.df.dev[d].speed;
    if (!isfinite(rec->min_speed_ratio)) rec->min_speed_ratio = 0;
    replanned = 0;
    /* Observe: a device that computed reports its busy time; the planner predicted
     * busy_plan = work_host / belief_speed, so speed ~ work_host / busy_observed. The
     * WLAN's bandwidth follows from the bytes moved and the transfer time observed. */
    int drift = 0;
    int probe_now = o->adapt && probe_every > 0 && (i + 1) % probe_every == 0 && i + 1 < n &&
                    s.probe_step >= 0;
    for (int d = 0; d < nd && o->adapt; d++) {
      /* devices with a sliver of the work (under 5% of the planned latency) are not
       * judged: per-call overheads dominate tiny slices and would make plans flap */
      if (r.rows[d] <= 0 || !(m.busy[d] > 0) || !(belief[d].speed > 0) ||
          r.busy[d] < 0.05 * r.latency) {
        /* not observed by this plan: its belief goes stale (a device that recovered
         * would never be used again), so probe it now and then */
        if (!probe_now || !(speed[d] > 0) || !(s.df.dev[d].speed > 0)) continue;
        double est, secs;
        if ((st = probe(&s, speed[d], &est, &secs)) != CL_OK) {
          cl_coedge_result_fini(&m);
          goto done;
        }
        rec->probed++;
        rec->probe_energy += s.df.dev[d].p_comp * secs;
        if (!(belief[d].speed > 0) || fabs(est / belief[d].speed - 1) > thr) {
          belief[d].speed = est;
          drift = 1;
        }
        continue;
      }
      double est = r.busy[d] * belief[d].speed / m.busy[d];
      if (fabs(est / belief[d].speed - 1) > thr) {
        belief[d].speed = est;
        drift = 1;
      }
    }
    if (o->adapt) {
      cl_coedge_problem pm = problem(&s, belief, bw);
      int64_t bytes = 0; /* as charged on the WLAN (an 8-bit input is 1 byte/element) */
      for (int k = 0; k < m.plan->n_xfer; k++) bytes += cl_coedge_xfer_bytes(&pm, &m.plan->xfer[k]);
      double t = m.t_scatter + m.t_comm + m.t_gather - m.plan->n_xfer * s.msg_latency;
      if (bytes > 0 && t > 0) {
        double est = (double)bytes / t;
        if (fabs(est / bw_belief - 1) > thr) {
          bw_belief = est;
          drift = 1;
        }
      }
    }
    cl_coedge_result_fini(&m);
    if (tab && (st = cl_table_append(tab, rec, 1)) != CL_OK) goto done;
    if (drift && i + 1 < n) {
      cl_coedge_result nr;
      memset(&nr, 0, sizeof nr);
      if ((st = plan(&s, belief, bw_belief, which, &nr, &infeasible, &plan_s)) != CL_OK) goto done;
      int changed = !same_split(&nr, &r);
      cl_spatial_exec_destroy(se);
      se = NULL;
      cl_coedge_result_fini(&r);
      r = nr;
      if ((st = prepare(&s, &r, &se)) != CL_OK) goto done;
      plan_id += changed;
      replanned = 1;
    }
  }
  *recs_out = recs;
  recs = NULL;
  st = CL_OK;
done:
  if (store) {
    /* a failed run leaves no output (the store writes to a temporary name) */
    cl_status cs = st == CL_OK ? cl_store_close(store) : cl_store_discard(store);
    if (st == CL_OK) st = cs;
  }
  cl_spatial_exec_destroy(se);
  cl_coedge_result_fini(&r);
  free(recs);
  free(speed);
  free(belief);
  session_fini(&s);
  return st;
}
