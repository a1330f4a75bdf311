/* cl_sweep_run: the dynamic MPI work queue, the output file (rank 0 is the only writer,
 * flushing after every point), --resume, progress, and the adaptive study's
 * profile-then-compose orchestration. Format: docs/experiments.md. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cleave/adaptive.h"
#include "cleave/cfg.h"
#include "cleave/coedge_run.h"
#include "cleave/onnx.h"
#include "cleave/provenance.h"
#include "cleave/store.h"
#include "cleave/zoo.h"
#include "sweep_internal.h"

enum { TAG_MSG = 7101, TAG_TASK = 7102 };
enum { T_POINT = 0, T_PROFILE = 1, T_STOP = -1 };

static double mono(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- byte buffers for messages ---- */
typedef struct buf {
  unsigned char *p;
  size_t n, cap;
  int oom;
} buf;

static void put(buf *b, const void *x, size_t n) {
  if (b->oom) return;
  if (b->n + n > b->cap) {
    size_t nc = (b->cap ? 2 * b->cap : 4096) + n;
    unsigned char *np = realloc(b->p, nc);
    if (!np) {
      b->oom = 1;
      return;
    }
    b->p = np;
    b->cap = nc;
  }
  memcpy(b->p + b->n, x, n);
  b->n += n;
}
static void put_i(buf *b, int32_t v) { put(b, &v, sizeof v); }
static void put_d(buf *b, double v) { put(b, &v, sizeof v); }

typedef struct rd {
  const unsigned char *p;
  size_t n, off;
  int bad;
} rd;
static void get(rd *r, void *x, size_t n) {
  if (r->bad || r->off + n > r->n) {
    r->bad = 1;
    memset(x, 0, n);
    return;
  }
  memcpy(x, r->p + r->off, n);
  r->off += n;
}
static int32_t get_i(rd *r) {
  int32_t v;
  get(r, &v, sizeof v);
  return v;
}
static double get_d(rd *r) {
  double v;
  get(r, &v, sizeof v);
  return v;
}

/* ---- record layouts ---- */
typedef struct pt_rec {
  int64_t attempt;
  int32_t grid, kind, model, plan, rank, n_factors, failed;
  double f0, f1, f2, f3, f4, f5, f6, f7;
  double latency, energy, seconds;
  char id[65];
} pt_rec;
static const cl_field g_pt_f[] = {
    CL_FIELD(pt_rec, attempt, CL_F_INT64, "", "attempt key: joins this point's rows in other tables"),
    CL_FIELD(pt_rec, grid, CL_F_INT32, "", "index in the experiment's full grid"),
    CL_FIELD(pt_rec, kind, CL_F_INT32, "", "0 testbed, 1 adaptive, 2 coedge"),
    CL_FIELD_DICT(pt_rec, model, "models", "model"),
    CL_FIELD_DICT(pt_rec, plan, "plans", "plan (testbed), best cut (adaptive), planner (coedge)"),
    CL_FIELD(pt_rec, rank, CL_F_INT32, "", "MPI rank that evaluated the point"),
    CL_FIELD(pt_rec, n_factors, CL_F_INT32, "", "factors used (f0.. ; names in attributes factor<i>)"),
    CL_FIELD(pt_rec, failed, CL_F_INT32, "", "1 if the evaluation failed"),
    CL_FIELD(pt_rec, f0, CL_F_FLOAT64, "SI", "level of factor 0 (unit in attribute factor0_unit)"),
    CL_FIELD(pt_rec, f1, CL_F_FLOAT64, "SI", "level of factor 1"),
    CL_FIELD(pt_rec, f2, CL_F_FLOAT64, "SI", "level of factor 2"),
    CL_FIELD(pt_rec, f3, CL_F_FLOAT64, "SI", "level of factor 3"),
    CL_FIELD(pt_rec, f4, CL_F_FLOAT64, "SI", "level of factor 4"),
    CL_FIELD(pt_rec, f5, CL_F_FLOAT64, "SI", "level of factor 5"),
    CL_FIELD(pt_rec, f6, CL_F_FLOAT64, "SI", "level of factor 6"),
    CL_FIELD(pt_rec, f7, CL_F_FLOAT64, "SI", "level of factor 7"),
    CL_FIELD(pt_rec, latency, CL_F_FLOAT64, "s", "median latency (adaptive: of the best cut)"),
    CL_FIELD(pt_rec, energy, CL_F_FLOAT64, "J", "energy (testbed: whole run; coedge: per inference)"),
    CL_FIELD(pt_rec, seconds, CL_F_FLOAT64, "s", "wall time spent evaluating the point"),
    CL_FIELD(pt_rec, id, CL_F_STRING, "", "point id: SHA-256 of the resolved config text"),
};
static const cl_table_desc g_pt_d = {"/sweep/points", sizeof(pt_rec), g_pt_f, 20,
                                     "one row per completed point (written after its records)", 4096};

typedef struct cfg_rec {
  int64_t attempt;
  int32_t part;
  char text[244];
} cfg_rec;
static const cl_field g_cfg_f[] = {
    CL_FIELD(cfg_rec, attempt, CL_F_INT64, "", "attempt key of the point"),
    CL_FIELD(cfg_rec, part, CL_F_INT32, "", "chunk number (concatenate in order)"),
    CL_FIELD(cfg_rec, text, CL_F_STRING, "", "chunk of the resolved config text"),
};
static const cl_table_desc g_cfg_d = {"/sweep/configs", sizeof(cfg_rec), g_cfg_f, 3,
                                      "resolved config text of every point, in 243-byte chunks", 4096};

typedef struct inf_rec {
  int64_t attempt;
  int32_t model, plan, inference;
  double release, finish, latency, energy;
  int64_t bytes;
} inf_rec;
static const cl_field g_inf_f[] = {
    CL_FIELD(inf_rec, attempt, CL_F_INT64, "", "attempt key of the point"),
    CL_FIELD_DICT(inf_rec, model, "models", "model"),
    CL_FIELD_DICT(inf_rec, plan, "plans", "plan"),
    CL_FIELD(inf_rec, inference, CL_F_INT32, "", "inference index"),
    CL_FIELD(inf_rec, release, CL_F_FLOAT64, "s", "release (virtual)"),
    CL_FIELD(inf_rec, finish, CL_F_FLOAT64, "s", "finish (virtual)"),
    CL_FIELD(inf_rec, latency, CL_F_FLOAT64, "s", "finish - release"),
    CL_FIELD(inf_rec, energy, CL_F_FLOAT64, "J", "energy of the inference"),
    CL_FIELD(inf_rec, bytes, CL_F_INT64, "B", "bytes moved between nodes"),
};
static const cl_table_desc g_inf_d = {"/inferences", sizeof(inf_rec), g_inf_f, 9,
                                      "testbed sweeps: one row per inference of every point", 0};

typedef struct ce_rec {
  int64_t attempt;
  int32_t model, planner, feasible, devices_used;
  double deadline, bandwidth, latency, energy, planned_latency, planned_energy, plan_seconds;
  char plan[256];
} ce_rec;
static const cl_field g_ce_f[] = {
    CL_FIELD(ce_rec, attempt, CL_F_INT64, "", "attempt key of the point"),
    CL_FIELD_DICT(ce_rec, model, "models", "model"),
    CL_FIELD_DICT(ce_rec, planner, "planners", "planner"),
    CL_FIELD(ce_rec, feasible, CL_F_INT32, "", "1 if the deadline was met (or none)"),
    CL_FIELD(ce_rec, devices_used, CL_F_INT32, "", "devices with work"),
    CL_FIELD(ce_rec, deadline, CL_F_FLOAT64, "s", "latency deadline (0 = none)"),
    CL_FIELD(ce_rec, bandwidth, CL_F_FLOAT64, "B/s", "WLAN bandwidth (0 = devices file)"),
    CL_FIELD(ce_rec, latency, CL_F_FLOAT64, "s", "measured latency per inference (median)"),
    CL_FIELD(ce_rec, energy, CL_F_FLOAT64, "J", "energy per inference, all devices"),
    CL_FIELD(ce_rec, planned_latency, CL_F_FLOAT64, "s", "planner's prediction"),
    CL_FIELD(ce_rec, planned_energy, CL_F_FLOAT64, "J", "planner's prediction"),
    CL_FIELD(ce_rec, plan_seconds, CL_F_FLOAT64, "s", "planner run time"),
    CL_FIELD(ce_rec, plan, CL_F_STRING, "", "plan summary"),
};
static const cl_table_desc g_ce_d = {"/inferences", sizeof(ce_rec), g_ce_f, 13,
                                     "coedge sweeps: one row per point (model, planner, deadline, bandwidth)", 0};

typedef struct unit_rec {
  int64_t attempt;
  int32_t model, threads, reps, steps;
  double cpu_load, mem_pressure, seconds, burn_cpu;
  char id[65];
} unit_rec;
static const cl_field g_unit_f[] = {
    CL_FIELD(unit_rec, attempt, CL_F_INT64, "", "attempt key: joins /adaptive/profile rows"),
    CL_FIELD_DICT(unit_rec, model, "models", "model"),
    CL_FIELD(unit_rec, threads, CL_F_INT32, "", "executor threads (= burner threads)"),
    CL_FIELD(unit_rec, reps, CL_F_INT32, "", "timed repetitions"),
    CL_FIELD(unit_rec, steps, CL_F_INT32, "", "executor steps"),
    CL_FIELD(unit_rec, cpu_load, CL_F_FLOAT64, "1", "background CPU load during profiling"),
    CL_FIELD(unit_rec, mem_pressure, CL_F_FLOAT64, "1", "fraction of mem_cap rewritten in the background"),
    CL_FIELD(unit_rec, seconds, CL_F_FLOAT64, "s", "wall time of the profiling"),
    CL_FIELD(unit_rec, burn_cpu, CL_F_FLOAT64, "s", "CPU seconds the burner threads used"),
    CL_FIELD(unit_rec, id, CL_F_STRING, "", "SHA-256 of the unit's description"),
};
static const cl_table_desc g_unit_d = {"/adaptive/profile_units", sizeof(unit_rec), g_unit_f, 10,
                                       "one row per (model, CPU load, memory use) profiled for real", 1024};

typedef struct prof_rec {
  int64_t attempt;
  int32_t step, rep;
  double wall, cpu;
} prof_rec;
static const cl_field g_prof_f[] = {
    CL_FIELD(prof_rec, attempt, CL_F_INT64, "", "attempt key of the profile unit"),
    CL_FIELD(prof_rec, step, CL_F_INT32, "", "executor step"),
    CL_FIELD(prof_rec, rep, CL_F_INT32, "", "repetition"),
    CL_FIELD(prof_rec, wall, CL_F_FLOAT64, "s", "wall time of the step under the condition"),
    CL_FIELD(prof_rec, cpu, CL_F_FLOAT64, "s", "thread CPU time of the step"),
};
static const cl_table_desc g_prof_d = {"/adaptive/profile", sizeof(prof_rec), g_prof_f, 5,
                                       "per-step times measured under each CPU/memory condition", 0};

typedef struct layer_rec {
  int64_t attempt;
  int32_t cut, step, rep;
  float start, time;
  uint8_t where;
} layer_rec;
static const cl_field g_layer_f[] = {
    CL_FIELD(layer_rec, attempt, CL_F_INT64, "", "attempt key of the (model, condition) point"),
    CL_FIELD(layer_rec, cut, CL_F_INT32, "", "cut index (see /adaptive/cuts)"),
    CL_FIELD(layer_rec, step, CL_F_INT32, "", "layer (executor step)"),
    CL_FIELD(layer_rec, rep, CL_F_INT32, "", "repetition"),
    CL_FIELD(layer_rec, start, CL_F_FLOAT32, "s", "start within the inference (virtual)"),
    CL_FIELD(layer_rec, time, CL_F_FLOAT32, "s", "duration (virtual: profiled wall x node speed)"),
    CL_FIELD(layer_rec, where, CL_F_UINT8, "", "0 edge, 1 cloud"),
};
static const cl_table_desc g_layer_d = {"/adaptive/layers", sizeof(layer_rec), g_layer_f, 7,
                                        "per (model, condition, cut, rep, layer) composed times", 0};

typedef struct cut_rec {
  int64_t attempt;
  int32_t model, cut, cut_node, edge_steps, best, base_best;
  double edge_s, xfer_s, cloud_s, latency, latency_mean, latency_min, latency_max;
  int64_t bytes;
  char cut_name[64];
} cut_rec;
static const cl_field g_cut_f[] = {
    CL_FIELD(cut_rec, attempt, CL_F_INT64, "", "attempt key of the (model, condition) point"),
    CL_FIELD_DICT(cut_rec, model, "models", "model"),
    CL_FIELD(cut_rec, cut, CL_F_INT32, "", "cut index"),
    CL_FIELD(cut_rec, cut_node, CL_F_INT32, "", "graph node the model is cut after"),
    CL_FIELD(cut_rec, edge_steps, CL_F_INT32, "", "layers on the edge"),
    CL_FIELD(cut_rec, best, CL_F_INT32, "", "1 for the lowest median latency of this condition"),
    CL_FIELD(cut_rec, base_best, CL_F_INT32, "", "1 for the best cut of the unstressed condition (levels 0)"),
    CL_FIELD(cut_rec, edge_s, CL_F_FLOAT64, "s", "median edge compute"),
    CL_FIELD(cut_rec, xfer_s, CL_F_FLOAT64, "s", "transfer (latency + bytes/bandwidth)"),
    CL_FIELD(cut_rec, cloud_s, CL_F_FLOAT64, "s", "median cloud compute"),
    CL_FIELD(cut_rec, latency, CL_F_FLOAT64, "s", "median latency over repetitions"),
    CL_FIELD(cut_rec, latency_mean, CL_F_FLOAT64, "s", "mean latency"),
    CL_FIELD(cut_rec, latency_min, CL_F_FLOAT64, "s", "min latency"),
    CL_FIELD(cut_rec, latency_max, CL_F_FLOAT64, "s", "max latency"),
    CL_FIELD(cut_rec, bytes, CL_F_INT64, "B", "bytes sent edge -> cloud"),
    CL_FIELD(cut_rec, cut_name, CL_F_STRING, "", "layer the model is cut after"),
};
static const cl_table_desc g_cut_d = {"/adaptive/cuts", sizeof(cut_rec), g_cut_f, 16,
                                      "per (model, condition, cut) summary", 4096};

/* ---- rank 0 state ---- */
typedef struct unit {
  int model, threads;
  double cpu, mem;
  char id[65];
  int have, queued;
  cl_adaptive_profile prof;
} unit;

typedef struct apoint {
  int edge_unit, cloud_unit;
  cl_adaptive_link lk;
} apoint;

typedef struct srv {
  MPI_Comm comm;
  int rank, size;
  cl_sweep_exp *e;
  cl_sweep_opts *o;
  cl_store *st;
  cl_table *t_pt, *t_cfg, *t_inf, *t_ce, *t_unit, *t_prof, *t_layer, *t_cut;
  cl_dict *d_models, *d_plans, *d_planners;
  int64_t session, counter;
  uint8_t *done;     /* [n_points] */
  int n_todo, n_done, n_failed;
  /* queue */
  int *q_type, *q_ref, q_n, q_next;
  int stopped, workers;
  /* adaptive */
  unit *units;
  int n_units;
  apoint *ap;
  cl_adaptive_model **am; /* [n_models] */
  int *base_best;         /* [n_models] best cut of the unstressed condition, -1 unknown */
  int *base_unit_e, *base_unit_c;
  cl_adaptive_link base_lk;
  int units_done, units_total;
  int compose_next;       /* next point index to consider for composition */
  /* progress */
  double t0, last_print;
  int tty;
  uint64_t records;
  cl_status err;
} srv;

static int64_t next_attempt(srv *s) { return s->session * 16777216LL + ++s->counter; }

static void progress(srv *s, int force) {
  if (!s->tty) return;
  double now = mono();
  if (!force && now - s->last_print < 0.5) return;
  s->last_print = now;
  double el = now - s->t0, rate = el > 0 ? s->n_done / el : 0;
  int left = s->n_todo - s->n_done;
  double eta = rate > 0 ? left / rate : 0;
  fprintf(stderr, "\rsweep: %d/%d points", s->n_done, s->n_todo);
  if (s->units_total) fprintf(stderr, ", profiles %d/%d", s->units_done, s->units_total);
  fprintf(stderr, ", %.2f points/s, ETA %d:%02d:%02d   ", rate, (int)(eta / 3600), (int)fmod(eta / 60, 60),
          (int)fmod(eta, 60));
  if (force) fprintf(stderr, "\n");
  fflush(stderr);
}

static cl_status write_config(srv *s, int64_t att, const char *text) {
  size_t n = strlen(text), chunk = sizeof(((cfg_rec *)0)->text) - 1;
  for (size_t off = 0, part = 0; off < n; off += chunk, part++) {
    cfg_rec r;
    memset(&r, 0, sizeof r);
    r.attempt = att;
    r.part = (int32_t)part;
    memcpy(r.text, text + off, n - off < chunk ? n - off : chunk);
    CL_TRY(cl_table_append(s->t_cfg, &r, 1));
    s->records++;
  }
  return CL_OK;
}

/* The point's row goes last, then a flush: the point is complete on disk. */
static cl_status finish_point(srv *s, int i, int64_t att, int rank, const char *plan_label, double latency,
                              double energy, double seconds, int failed) {
  const cl_sweep_exp *e = s->e;
  const cl__sweep_pt *pt = &e->pts[i];
  pt_rec r;
  memset(&r, 0, sizeof r);
  r.attempt = att;
  r.grid = pt->grid;
  r.kind = e->kind;
  CL_TRY(cl_dict_id(s->d_models, e->models[pt->model], &r.model));
  CL_TRY(cl_dict_id(s->d_plans, plan_label, &r.plan));
  r.rank = rank;
  r.n_factors = e->n_factors;
  r.failed = failed;
  double *f = &r.f0;
  for (int k = 0; k < e->n_factors; k++) f[k] = e->f[k].level_value[pt->lev[k]];
  r.latency = latency;
  r.energy = energy;
  r.seconds = seconds;
  memcpy(r.id, pt->id, 65);
  char *text = cl_sweep_point_text(e, i);
  if (!text) return CL_ERR_NOMEM;
  cl_status st = write_config(s, att, text);
  free(text);
  if (st == CL_OK) st = cl_table_append(s->t_pt, &r, 1);
  if (st == CL_OK) st = cl_store_flush(s->st);
  s->records++;
  s->done[i] = 1;
  s->n_done++;
  if (failed) s->n_failed++;
  progress(s, 0);
  return st;
}

static const char *plan_label(const cl_sweep_exp *e, const cl__sweep_pt *pt) {
  if (e->kind == CL_SWEEP_COEDGE) return e->planners[pt->plan];
  if (e->every_cut) return e->plans[pt->model].label[pt->plan];
  static char lab[CL_DICT_MAXLEN + 1]; /* rank 0 is single-threaded */
  snprintf(lab, sizeof lab, "plan%d: %.100s", pt->plan, e->explicit_plan[pt->plan]);
  return lab;
}

/* ---- results ---- */

static cl_status handle_profile(srv *s, int u, rd *r) {
  unit *un = &s->units[u];
  cl_adaptive_profile *p = &un->prof;
  p->n_steps = get_i(r);
  p->reps = get_i(r);
  p->seconds = get_d(r);
  p->burn_cpu = get_d(r);
  size_t n = (size_t)p->n_steps * (size_t)p->reps;
  if (r->bad || p->n_steps <= 0 || p->reps <= 0 || r->n - r->off != 2 * n * sizeof(double)) {
    cl_log_error("sweep: malformed profile result for unit %d", u);
    return CL_ERR_MPI;
  }
  p->wall = malloc(sizeof(double) * n);
  p->cpu = malloc(sizeof(double) * n);
  if (!p->wall || !p->cpu) return CL_ERR_NOMEM;
  get(r, p->wall, sizeof(double) * n);
  get(r, p->cpu, sizeof(double) * n);
  int64_t att = next_attempt(s);
  prof_rec *rows = malloc(sizeof(prof_rec) * n);
  if (!rows) return CL_ERR_NOMEM;
  for (int q = 0; q < p->reps; q++)
    for (int k = 0; k < p->n_steps; k++) {
      size_t j = (size_t)q * p->n_steps + k;
      rows[j] = (prof_rec){att, k, q, p->wall[j], p->cpu[j]};
    }
  cl_status st = cl_table_append(s->t_prof, rows, n);
  free(rows);
  unit_rec ur;
  memset(&ur, 0, sizeof ur);
  ur.attempt = att;
  if (st == CL_OK) st = cl_dict_id(s->d_models, s->e->models[un->model], &ur.model);
  ur.threads = un->threads;
  ur.reps = p->reps;
  ur.steps = p->n_steps;
  ur.cpu_load = un->cpu;
  ur.mem_pressure = un->mem;
  ur.seconds = p->seconds;
  ur.burn_cpu = p->burn_cpu;
  memcpy(ur.id, un->id, 65);
  if (st == CL_OK) st = cl_table_append(s->t_unit, &ur, 1);
  if (st == CL_OK) st = cl_store_flush(s->st);
  s->records += n + 1;
  un->have = 1;
  s->units_done++;
  progress(s, 0);
  return st;
}

static cl_status handle_result(srv *s, const unsigned char *msg, size_t len, int from) {
  rd r = {msg, len, 0, 0};
  int32_t ok = get_i(&r), type = get_i(&r), ref = get_i(&r);
  double seconds = get_d(&r);
  if (r.bad) {
    cl_log_error("sweep: malformed result from rank %d", from);
    return CL_ERR_MPI;
  }
  if (type == T_PROFILE) {
    if (!ok) {
      cl_log_error("sweep: profiling unit %d failed on rank %d", ref, from);
      return CL_ERR_INTERNAL; /* the study cannot compose without it */
    }
    return handle_profile(s, ref, &r);
  }
  const cl_sweep_exp *e = s->e;
  const cl__sweep_pt *pt = &e->pts[ref];
  int64_t att = next_attempt(s);
  if (!ok) {
    cl_log_error("sweep: point %d (%s) failed on rank %d", ref, pt->id, from);
    return finish_point(s, ref, att, from, plan_label(e, pt), NAN, NAN, seconds, 1);
  }
  if (e->kind == CL_SWEEP_COEDGE) {
    cl_coedge_point_result cr;
    get(&r, &cr, sizeof cr);
    if (r.bad) return CL_ERR_MPI;
    ce_rec c;
    memset(&c, 0, sizeof c);
    c.attempt = att;
    CL_TRY(cl_dict_id(s->d_models, e->models[pt->model], &c.model));
    CL_TRY(cl_dict_id(s->d_planners, e->planners[pt->plan], &c.planner));
    c.feasible = cr.feasible;
    c.devices_used = cr.devices_used;
    c.deadline = e->f[0].level_value[pt->lev[0]];
    c.bandwidth = e->f[1].level_value[pt->lev[1]];
    c.latency = cr.latency;
    c.energy = cr.energy;
    c.planned_latency = cr.planned_latency;
    c.planned_energy = cr.planned_energy;
    c.plan_seconds = cr.plan_seconds;
    memcpy(c.plan, cr.plan, sizeof c.plan);
    c.plan[sizeof c.plan - 1] = '\0';
    CL_TRY(cl_table_append(s->t_ce, &c, 1));
    s->records++;
    return finish_point(s, ref, att, from, plan_label(e, pt), cr.latency, cr.energy, seconds, 0);
  }
  /* testbed */
  int32_t I = get_i(&r);
  double lmean = get_d(&r), lmed = get_d(&r), lmax = get_d(&r), mk = get_d(&r), en = get_d(&r);
  (void)lmean;
  (void)lmax;
  (void)mk;
  int32_t mid = 0, pid = 0;
  CL_TRY(cl_dict_id(s->d_models, e->models[pt->model], &mid));
  CL_TRY(cl_dict_id(s->d_plans, plan_label(e, pt), &pid));
  for (int i = 0; i < I && !r.bad; i++) {
    inf_rec ir = {att, mid, pid, i, 0, 0, 0, 0, 0};
    ir.latency = get_d(&r);
    ir.release = get_d(&r);
    ir.finish = get_d(&r);
    ir.energy = get_d(&r);
    ir.bytes = (int64_t)get_d(&r);
    CL_TRY(cl_table_append(s->t_inf, &ir, 1));
    s->records++;
  }
  if (r.bad) return CL_ERR_MPI;
  return finish_point(s, ref, att, from, plan_label(e, pt), lmed, en, seconds, 0);
}

/* ---- evaluation (any rank) ---- */

typedef struct wcache {
  char model[64];
  cl_graph *g;
  cl__sweep_gcache tb; /* testbed points */
} wcache;

static cl_status eval_profile(const char *text, wcache *wc, cl_sweep_poll_fn poll, void *pctx, buf *out) {
  cl_cfg *c = NULL;
  CL_TRY(cl_cfg_parse_string("<profile unit>", text, &c));
  const cl_cfg_node *root = cl_cfg_root(c);
  const char *model = NULL;
  long threads = 1, reps = 1, warm = 0;
  double cpu = 0, mem = 0, cap = 0;
  uint64_t seed = 1;
  cl_status st = cl_cfg_get_str(c, root, "model", 1, &model);
  if (st == CL_OK) st = cl_cfg_get_int(c, root, "threads", 1, 1, 1024, &threads);
  if (st == CL_OK) st = cl_cfg_get_double(c, root, "cpu_load", 1, 0, 1, &cpu);
  if (st == CL_OK) st = cl_cfg_get_double(c, root, "mem_pressure", 1, 0, 1, &mem);
  if (st == CL_OK) st = cl_cfg_get_double(c, root, "mem_cap", 1, 0, 1e13, &cap);
  if (st == CL_OK) st = cl_cfg_get_int(c, root, "reps", 1, 1, 100000, &reps);
  if (st == CL_OK) st = cl_cfg_get_int(c, root, "warmup", 1, 0, 1000, &warm);
  if (st == CL_OK) st = cl_cfg_get_u64(c, root, "seed", 1, &seed);
  if (st == CL_OK && strcmp(wc->model, model)) {
    cl_graph_destroy(wc->g);
    wc->g = NULL;
    wc->model[0] = '\0';
    int has_weights = 0; /* ONNX files bring their own */
    st = cl_model_load(model, &wc->g, &has_weights);
    if (st == CL_OK && !has_weights) st = cl_graph_init_weights(wc->g, seed);
    if (st == CL_OK) snprintf(wc->model, sizeof wc->model, "%s", model);
  }
  cl_adaptive_profile p;
  memset(&p, 0, sizeof p);
  if (st == CL_OK)
    st = cl_adaptive_profile_run(wc->g, (int)threads, cpu, mem, cap, (int)reps, (int)warm, seed, poll, pctx, &p);
  if (st == CL_OK) {
    size_t n = (size_t)p.n_steps * (size_t)p.reps;
    put_i(out, p.n_steps);
    put_i(out, p.reps);
    put_d(out, p.seconds);
    put_d(out, p.burn_cpu);
    put(out, p.wall, sizeof(double) * n);
    put(out, p.cpu, sizeof(double) * n);
  }
  cl_adaptive_profile_free(&p);
  cl_cfg_free(c);
  return st;
}

/* Evaluate one task; the reply (status, type, ref, seconds, payload) goes to *out. */
static void eval_task(int type, int ref, const char *origin, const char *text, const cl_sweep_opts *o, wcache *wc,
                      cl_sweep_poll_fn poll, void *pctx, buf *out) {
  double t0 = mono();
  buf pay = {0};
  cl_status st = CL_OK;
  if (type == T_PROFILE) {
    st = eval_profile(text, wc, poll, pctx, &pay);
  } else if (!strncmp(text, "kind: coedge", 12)) {
    void *blob = NULL;
    size_t n = 0;
    if (!o->coedge) {
      cl_log_error("sweep: this program cannot run coedge points (no coedge hook)");
      st = CL_ERR_UNSUPPORTED;
    } else {
      st = o->coedge(text, &blob, &n);
    }
    if (st == CL_OK && n != sizeof(cl_coedge_point_result)) {
      cl_log_error("sweep: coedge hook returned %zu bytes, expected %zu", n, sizeof(cl_coedge_point_result));
      st = CL_ERR_INTERNAL;
    }
    if (st == CL_OK) put(&pay, blob, n);
    free(blob);
  } else {
    cl_sweep_tb_result res;
    st = cl__sweep_eval_testbed_cached(origin, text, &wc->tb, poll, pctx, &res);
    if (st == CL_OK) {
      put_i(&pay, res.inferences);
      put_d(&pay, res.latency_mean);
      put_d(&pay, res.latency_median);
      put_d(&pay, res.latency_max);
      put_d(&pay, res.makespan);
      put_d(&pay, res.energy);
      for (int i = 0; i < res.inferences; i++) {
        put_d(&pay, res.latency[i]);
        put_d(&pay, res.release[i]);
        put_d(&pay, res.finish[i]);
        put_d(&pay, res.inf_energy[i]);
        put_d(&pay, (double)res.inf_bytes[i]);
      }
      cl_sweep_tb_result_free(&res);
    }
  }
  if (pay.oom) st = CL_ERR_NOMEM;
  put_i(out, st == CL_OK);
  put_i(out, type);
  put_i(out, ref);
  put_d(out, mono() - t0);
  if (st == CL_OK) put(out, pay.p, pay.n);
  free(pay.p);
}

/* ---- the queue (rank 0) ---- */

static char *unit_text(const srv *s, const unit *u) {
  char *t = malloc(512);
  if (!t) return NULL;
  snprintf(t, 512,
           "# adaptive profile unit\nmodel: %s\nthreads: %d\ncpu_load: %.17g\nmem_pressure: %.17g\nmem_cap: %.17g\n"
           "reps: %d\nwarmup: %d\nseed: %llu\n",
           s->e->models[u->model], u->threads, u->cpu, u->mem, s->e->mem_cap, s->e->reps, s->e->warmup,
           (unsigned long long)s->e->seed);
  return t;
}

static char *task_text(srv *s, int type, int ref) {
  return type == T_PROFILE ? unit_text(s, &s->units[ref]) : cl_sweep_point_text(s->e, ref);
}

static cl_status send_task(srv *s, int to, int type, int ref) {
  buf b = {0};
  put_i(&b, type);
  put_i(&b, ref);
  if (type != T_STOP) {
    char *t = task_text(s, type, ref);
    if (!t) return CL_ERR_NOMEM;
    const char *origin = cl_sweep_point_origin(s->e);
    put(&b, origin, strlen(origin) + 1);
    put(&b, t, strlen(t) + 1);
    free(t);
  }
  if (b.oom) return CL_ERR_NOMEM;
  int rc = MPI_Send(b.p, (int)b.n, MPI_BYTE, to, TAG_TASK, s->comm);
  free(b.p);
  return rc == MPI_SUCCESS ? CL_OK : CL_ERR_MPI;
}

static void serve(void *ctx);

static cl_status serve_one(srv *s, int blocking) {
  MPI_Status ms;
  int flag = 1;
  if (blocking)
    MPI_Probe(MPI_ANY_SOURCE, TAG_MSG, s->comm, &ms);
  else
    MPI_Iprobe(MPI_ANY_SOURCE, TAG_MSG, s->comm, &flag, &ms);
  if (!flag) return CL_ERR_NOTFOUND;
  int n = 0;
  MPI_Get_count(&ms, MPI_BYTE, &n);
  unsigned char *m = malloc((size_t)n + 1);
  if (!m) return CL_ERR_NOMEM;
  if (MPI_Recv(m, n, MPI_BYTE, ms.MPI_SOURCE, TAG_MSG, s->comm, MPI_STATUS_IGNORE) != MPI_SUCCESS) {
    free(m);
    return CL_ERR_MPI;
  }
  cl_status st = CL_OK;
  if (n > 4) st = handle_result(s, m, (size_t)n, ms.MPI_SOURCE); /* n == 4: first request */
  free(m);
  if (st != CL_OK && s->err == CL_OK) s->err = st;
  if (s->q_next < s->q_n && s->err == CL_OK) {
    int k = s->q_next++;
    return send_task(s, ms.MPI_SOURCE, s->q_type[k], s->q_ref[k]);
  }
  s->stopped++;
  return send_task(s, ms.MPI_SOURCE, T_STOP, 0);
}

static void serve(void *ctx) {
  srv *s = ctx;
  while (serve_one(s, 0) == CL_OK) {
  }
}

/* ---- adaptive: units and composition ---- */

static int find_unit(srv *s, int model, int threads, double cpu, double mem) {
  for (int u = 0; u < s->n_units; u++)
    if (s->units[u].model == model && s->units[u].threads == threads && s->units[u].cpu == cpu &&
        s->units[u].mem == mem)
      return u;
  return -1;
}

static int add_unit(srv *s, int model, int threads, double cpu, double mem) {
  int u = find_unit(s, model, threads, cpu, mem);
  if (u >= 0) return u;
  unit *x = &s->units[s->n_units];
  memset(x, 0, sizeof *x);
  x->model = model;
  x->threads = threads;
  x->cpu = cpu;
  x->mem = mem;
  char *t = unit_text(s, x);
  if (!t) return -1;
  cl_sha256_hex(t, strlen(t), x->id);
  free(t);
  return s->n_units++;
}

/* Condition of point pt: base testbed values with the point's factor levels applied. */
static void point_condition(const cl_sweep_exp *e, const cl_rt_setup *base, double base_lat, double base_bw,
                            const int16_t *lev, double *cpu, double *mem, int *thr, cl_adaptive_link *lk) {
  double speed[2];
  for (int n = 0; n < 2; n++) {
    cpu[n] = base->nodes[n].cpu_load;
    mem[n] = base->nodes[n].mem_pressure;
    thr[n] = base->nodes[n].threads > 0 ? base->nodes[n].threads : 1;
    speed[n] = base->nodes[n].speed;
  }
  lk->latency = base_lat;
  lk->bandwidth = base_bw;
  for (int k = 0; k < e->n_factors; k++) {
    const cl__sweep_factor *f = &e->f[k];
    double v = f->level_value[lev ? lev[k] : 0];
    switch (f->field) {
    case CL__F_SPEED: speed[f->node] = v; break;
    case CL__F_CPU_LOAD: cpu[f->node] = v; break;
    case CL__F_MEM_PRESSURE: mem[f->node] = v; break;
    case CL__F_THREADS: thr[f->node] = (int)v; break;
    case CL__F_BANDWIDTH: if (f->node == 0 && f->node2 == 1) lk->bandwidth = v; break;
    case CL__F_LATENCY: if (f->node == 0 && f->node2 == 1) lk->latency = v; break;
    default: break;
    }
  }
  lk->edge_speed = speed[0];
  lk->cloud_speed = speed[1];
}

static cl_status load_base(const cl_sweep_exp *e, cl_rt_setup *base, double *blat, double *bbw) {
  cl__sweep_override none[1] = {{"", "plan", "{cuts: [input]}"}};
  char *bt = cl__sweep_emit(e->tb, none, 1);
  if (!bt) return CL_ERR_NOMEM;
  cl_status st = cl_rt_setup_load(e->tb_path, bt, base);
  free(bt);
  if (st != CL_OK) return st;
  int l = 0;
  cl_netmodel_find_link(base->net, 0, 1, &l);
  *blat = cl_netmodel_latency_at(base->net, l, 0);
  *bbw = cl_netmodel_bandwidth_at(base->net, l, 0);
  return CL_OK;
}

cl_status cl_sweep_adaptive_condition(const cl_sweep_exp *e, int i, cl_sweep_condition *out) {
  memset(out, 0, sizeof *out);
  if (e->kind != CL_SWEEP_ADAPTIVE || i < 0 || i >= e->n_points) return CL_ERR_INVALID;
  cl_rt_setup base;
  double blat = 0, bbw = 0;
  CL_TRY(load_base(e, &base, &blat, &bbw));
  cl_adaptive_link lk;
  point_condition(e, &base, blat, bbw, e->pts[i].lev, out->cpu_load, out->mem_pressure, out->threads, &lk);
  cl_rt_setup_free(&base);
  out->model = e->models[e->pts[i].model];
  out->speed[0] = lk.edge_speed;
  out->speed[1] = lk.cloud_speed;
  out->latency = lk.latency;
  out->bandwidth = lk.bandwidth;
  out->reps = e->reps;
  out->warmup = e->warmup;
  out->mem_cap = e->mem_cap;
  out->seed = e->seed;
  return CL_OK;
}

static cl_status adaptive_prepare(srv *s) {
  cl_sweep_exp *e = s->e;
  /* the base values: the testbed as written; every factor is re-applied per point */
  cl_rt_setup base;
  double blat = 0, bbw = 0;
  cl_status st = load_base(e, &base, &blat, &bbw);
  if (st != CL_OK) return st;
  s->units = calloc((size_t)e->n_points * 2 + 2 * (size_t)e->n_models + 2, sizeof(unit));
  s->ap = calloc((size_t)e->n_points, sizeof(apoint));
  s->am = calloc((size_t)e->n_models, sizeof(cl_adaptive_model *));
  s->base_best = malloc(sizeof(int) * (size_t)e->n_models);
  s->base_unit_e = malloc(sizeof(int) * (size_t)e->n_models);
  s->base_unit_c = malloc(sizeof(int) * (size_t)e->n_models);
  if (!s->units || !s->ap || !s->am || !s->base_best || !s->base_unit_e || !s->base_unit_c) st = CL_ERR_NOMEM;
  uint8_t *need = calloc((size_t)e->n_models, 1);
  if (!need) st = CL_ERR_NOMEM;
  for (int i = 0; st == CL_OK && i < e->n_points; i++)
    if (!s->done[i]) need[e->pts[i].model] = 1;
  /* the unstressed condition (level 0 of every factor) of every model with work left */
  double cpu[2], mem[2];
  int thr[2];
  for (int m = 0; st == CL_OK && m < e->n_models; m++) {
    s->base_best[m] = -1;
    s->base_unit_e[m] = s->base_unit_c[m] = -1;
    if (!need[m]) continue;
    point_condition(e, &base, blat, bbw, NULL, cpu, mem, thr, &s->base_lk);
    s->base_unit_e[m] = add_unit(s, m, thr[0], cpu[0], mem[0]);
    s->base_unit_c[m] = add_unit(s, m, thr[1], cpu[1], mem[1]);
    if ((st = cl_adaptive_model_create(e->models[m], &s->am[m])) != CL_OK) break;
  }
  for (int i = 0; st == CL_OK && i < e->n_points; i++) {
    if (s->done[i]) continue;
    const cl__sweep_pt *pt = &e->pts[i];
    point_condition(e, &base, blat, bbw, pt->lev, cpu, mem, thr, &s->ap[i].lk);
    s->ap[i].edge_unit = add_unit(s, pt->model, thr[0], cpu[0], mem[0]);
    s->ap[i].cloud_unit = add_unit(s, pt->model, thr[1], cpu[1], mem[1]);
    if (s->ap[i].edge_unit < 0 || s->ap[i].cloud_unit < 0) st = CL_ERR_NOMEM;
  }
  free(need);
  cl_rt_setup_free(&base);
  return st;
}

/* Rebuild profiles already in the file (resume). */
static cl_status adaptive_load_units(srv *s) {
  uint64_t nu = cl_table_count(s->t_unit), np = cl_table_count(s->t_prof);
  if (!nu) return CL_OK;
  unit_rec *ur = malloc(sizeof(unit_rec) * nu);
  if (!ur) return CL_ERR_NOMEM;
  cl_status st = cl_table_read(s->t_unit, 0, (size_t)nu, ur);
  int *slot = malloc(sizeof(int) * nu);
  if (!slot) st = CL_ERR_NOMEM;
  for (uint64_t k = 0; st == CL_OK && k < nu; k++) {
    slot[k] = -1;
    for (int u = 0; u < s->n_units; u++)
      if (!s->units[u].have && !strncmp(s->units[u].id, ur[k].id, 64)) {
        cl_adaptive_profile *p = &s->units[u].prof;
        p->n_steps = ur[k].steps;
        p->reps = ur[k].reps;
        p->seconds = ur[k].seconds;
        p->burn_cpu = ur[k].burn_cpu;
        size_t n = (size_t)p->n_steps * (size_t)p->reps;
        p->wall = calloc(n + 1, sizeof(double));
        p->cpu = calloc(n + 1, sizeof(double));
        if (!p->wall || !p->cpu) st = CL_ERR_NOMEM;
        slot[k] = u;
        break;
      }
  }
  /* profile rows in chunks; rows of units without a unit row (killed run) are skipped */
  prof_rec *pr = malloc(sizeof(prof_rec) * 65536);
  if (!pr) st = CL_ERR_NOMEM;
  for (uint64_t off = 0; st == CL_OK && off < np; off += 65536) {
    size_t n = (size_t)(np - off < 65536 ? np - off : 65536);
    if ((st = cl_table_read(s->t_prof, off, n, pr)) != CL_OK) break;
    for (size_t j = 0; j < n; j++)
      for (uint64_t k = 0; k < nu; k++)
        if (slot[k] >= 0 && ur[k].attempt == pr[j].attempt) {
          cl_adaptive_profile *p = &s->units[slot[k]].prof;
          if (pr[j].step >= 0 && pr[j].step < p->n_steps && pr[j].rep >= 0 && pr[j].rep < p->reps) {
            p->wall[(size_t)pr[j].rep * p->n_steps + pr[j].step] = pr[j].wall;
            p->cpu[(size_t)pr[j].rep * p->n_steps + pr[j].step] = pr[j].cpu;
          }
          break;
        }
  }
  for (uint64_t k = 0; st == CL_OK && k < nu; k++)
    if (slot[k] >= 0) {
      s->units[slot[k]].have = 1;
      s->units_done++;
    }
  free(pr);
  free(slot);
  free(ur);
  return st;
}

static int median_cut(const double *lat, int reps, double *mean, double *mn, double *mx, double *tmp) {
  double sum = 0;
  *mn = INFINITY;
  *mx = -INFINITY;
  for (int r = 0; r < reps; r++) {
    tmp[r] = lat[r];
    sum += lat[r];
    if (lat[r] < *mn) *mn = lat[r];
    if (lat[r] > *mx) *mx = lat[r];
  }
  *mean = sum / reps;
  for (int a = 1; a < reps; a++)
    for (int b = a; b > 0 && tmp[b] < tmp[b - 1]; b--) {
      double t = tmp[b];
      tmp[b] = tmp[b - 1];
      tmp[b - 1] = t;
    }
  return 0;
}

static double median_of(const double *tmp, int reps) {
  return reps % 2 ? tmp[reps / 2] : 0.5 * (tmp[reps / 2 - 1] + tmp[reps / 2]);
}

/* Best cut (lowest median) of a model under a condition. */
static int best_cut(const cl_adaptive_model *m, const cl_adaptive_profile *pe, const cl_adaptive_profile *pc,
                    const cl_adaptive_link *lk, int reps, double *lat, double *tmp, double *best_lat) {
  int best = 0;
  *best_lat = INFINITY;
  for (int c = 0; c < m->n_cuts; c++) {
    for (int r = 0; r < reps; r++)
      lat[r] = cl_adaptive_compose(m, pe, pc, lk, c, r, NULL, NULL, NULL, NULL, NULL);
    double mean, mn, mx;
    median_cut(lat, reps, &mean, &mn, &mx, tmp);
    double med = median_of(tmp, reps);
    if (med < *best_lat) {
      *best_lat = med;
      best = c;
    }
  }
  return best;
}

static cl_status compose_point(srv *s, int i) {
  double t0 = mono();
  const cl_sweep_exp *e = s->e;
  const cl__sweep_pt *pt = &e->pts[i];
  const cl_adaptive_model *m = s->am[pt->model];
  const cl_adaptive_profile *pe = &s->units[s->ap[i].edge_unit].prof, *pc = &s->units[s->ap[i].cloud_unit].prof;
  const cl_adaptive_link *lk = &s->ap[i].lk;
  int R = pe->reps < pc->reps ? pe->reps : pc->reps, S = m->n_steps;
  if (pe->n_steps != S || pc->n_steps != S) {
    cl_log_error("sweep: profile of %s has %d/%d steps, the model %d", e->models[pt->model], pe->n_steps, pc->n_steps,
                 S);
    return CL_ERR_INTERNAL;
  }
  double *lat = malloc(sizeof(double) * (size_t)R * 2), *tmp = lat + R;
  double *start = malloc(sizeof(double) * (size_t)S * 2), *dur = start + S;
  layer_rec *rows = malloc(sizeof(layer_rec) * (size_t)S * (size_t)R);
  cut_rec *cuts = malloc(sizeof(cut_rec) * (size_t)m->n_cuts);
  cl_status st = lat && start && rows && cuts ? CL_OK : CL_ERR_NOMEM;
  if (st == CL_OK && s->base_best[pt->model] < 0) {
    double bl;
    int bu = s->base_unit_e[pt->model], cu = s->base_unit_c[pt->model];
    s->base_best[pt->model] = best_cut(m, &s->units[bu].prof, &s->units[cu].prof, &s->base_lk, R, lat, tmp, &bl);
  }
  int64_t att = next_attempt(s);
  int32_t mid = 0;
  if (st == CL_OK) st = cl_dict_id(s->d_models, e->models[pt->model], &mid);
  int best = 0;
  double best_lat = INFINITY;
  for (int c = 0; st == CL_OK && c < m->n_cuts; c++) {
    double es = 0, xs = 0, cs = 0;
    double *e_r = malloc(sizeof(double) * (size_t)R * 2), *c_r = e_r ? e_r + R : NULL;
    if (!e_r) {
      st = CL_ERR_NOMEM;
      break;
    }
    for (int r = 0; r < R; r++) {
      lat[r] = cl_adaptive_compose(m, pe, pc, lk, c, r, start, dur, &es, &xs, &cs);
      e_r[r] = es;
      c_r[r] = cs;
      for (int k = 0; k < S; k++) {
        layer_rec *L = &rows[(size_t)r * S + k];
        memset(L, 0, sizeof *L);
        L->attempt = att;
        L->cut = c;
        L->step = k;
        L->rep = r;
        L->start = (float)start[k];
        L->time = (float)dur[k];
        L->where = k >= m->cut_edge_steps[c];
      }
    }
    st = cl_table_append(s->t_layer, rows, (size_t)S * R);
    s->records += (uint64_t)S * R;
    cut_rec *C = &cuts[c];
    memset(C, 0, sizeof *C);
    C->attempt = att;
    C->model = mid;
    C->cut = c;
    C->cut_node = m->cut_node[c];
    C->edge_steps = m->cut_edge_steps[c];
    C->base_best = c == s->base_best[pt->model];
    C->xfer_s = xs;
    C->bytes = m->cut_bytes[c];
    snprintf(C->cut_name, sizeof C->cut_name, "%s", m->cut_name[c]);
    median_cut(e_r, R, &C->latency_mean, &C->latency_min, &C->latency_max, tmp);
    C->edge_s = median_of(tmp, R);
    median_cut(c_r, R, &C->latency_mean, &C->latency_min, &C->latency_max, tmp);
    C->cloud_s = median_of(tmp, R);
    median_cut(lat, R, &C->latency_mean, &C->latency_min, &C->latency_max, tmp);
    C->latency = median_of(tmp, R);
    if (C->latency < best_lat) {
      best_lat = C->latency;
      best = c;
    }
    free(e_r);
    serve(s);
  }
  if (st == CL_OK) {
    cuts[best].best = 1;
    st = cl_table_append(s->t_cut, cuts, (size_t)m->n_cuts);
    s->records += (uint64_t)m->n_cuts;
  }
  if (st == CL_OK) st = finish_point(s, i, att, 0, m->cut_name[best], best_lat, NAN, mono() - t0, 0);
  free(lat);
  free(start);
  free(rows);
  free(cuts);
  return st;
}

/* Next point whose profiles are all in, or -1. */
static int compose_ready(srv *s) {
  for (int i = 0; i < s->e->n_points; i++) {
    if (s->done[i]) continue;
    int m = s->e->pts[i].model;
    if (s->units[s->ap[i].edge_unit].have && s->units[s->ap[i].cloud_unit].have && s->units[s->base_unit_e[m]].have &&
        s->units[s->base_unit_c[m]].have)
      return i;
  }
  return -1;
}

/* ---- set-up ---- */

static int cmp_id(const void *a, const void *b) { return strncmp(a, b, 64); }

static cl_status open_store(srv *s) {
  cl_sweep_opts *o = s->o;
  cl_store_opts so;
  memset(&so, 0, sizeof so);
  so.force = o->force;
  so.flush_seconds = -1; /* we flush after every point */
  int exists = access(o->out_path, F_OK) == 0;
  cl_status st;
  if (o->resume && exists)
    st = cl_store_open_append(o->out_path, &so, &s->st);
  else
    st = cl_store_create(o->out_path, &so, &s->st);
  if (st == CL_ERR_EXISTS)
    cl_log_error("%s exists: use --resume to continue that sweep or --force to overwrite it", o->out_path);
  if (st != CL_OK) return st;
  const cl_sweep_exp *e = s->e;
  CL_TRY(cl_store_table(s->st, &g_pt_d, &s->t_pt));
  CL_TRY(cl_store_table(s->st, &g_cfg_d, &s->t_cfg));
  CL_TRY(cl_store_dict(s->st, "models", &s->d_models));
  CL_TRY(cl_store_dict(s->st, "plans", &s->d_plans));
  if (e->kind == CL_SWEEP_TESTBED) CL_TRY(cl_store_table(s->st, &g_inf_d, &s->t_inf));
  if (e->kind == CL_SWEEP_COEDGE) {
    CL_TRY(cl_store_table(s->st, &g_ce_d, &s->t_ce));
    CL_TRY(cl_store_dict(s->st, "planners", &s->d_planners));
  }
  if (e->kind == CL_SWEEP_ADAPTIVE) {
    CL_TRY(cl_store_table(s->st, &g_unit_d, &s->t_unit));
    CL_TRY(cl_store_table(s->st, &g_prof_d, &s->t_prof));
    CL_TRY(cl_store_table(s->st, &g_layer_d, &s->t_layer));
    CL_TRY(cl_store_table(s->st, &g_cut_d, &s->t_cut));
  }
  CL_TRY(cl_store_attr_str(s->st, "/sweep/points", "kind", cl_sweep_kind_name(e->kind)));
  CL_TRY(cl_store_attr_str(s->st, "/sweep/points", "experiment", e->name));
  CL_TRY(cl_store_attr_str(s->st, "/sweep/points", "experiment_path", e->path));
  for (int k = 0; k < e->n_factors; k++) {
    char nm[32];
    snprintf(nm, sizeof nm, "factor%d", k);
    CL_TRY(cl_store_attr_str(s->st, "/sweep/points", nm, e->f[k].target));
    snprintf(nm, sizeof nm, "factor%d_unit", k);
    CL_TRY(cl_store_attr_str(s->st, "/sweep/points", nm, e->f[k].unit));
  }
  /* provenance: the experiment file as written */
  FILE *f = fopen(e->path, "rb");
  char *text = NULL;
  if (f) {
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    text = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (text) text[fread(text, 1, (size_t)n, f)] = '\0';
    fclose(f);
  }
  cl_provenance pv = {o->argc, o->argv, 1, e->seed, text, e->path};
  st = cl_store_write_provenance(s->st, &pv);
  free(text);
  if (st != CL_OK) return st;
  /* resume: every id already complete */
  uint64_t np = cl_table_count(s->t_pt);
  if (np) {
    pt_rec *r = malloc(sizeof(pt_rec) * np);
    char(*ids)[65] = malloc(65 * np);
    if (!r || !ids) {
      free(r);
      free(ids);
      return CL_ERR_NOMEM;
    }
    st = cl_table_read(s->t_pt, 0, (size_t)np, r);
    size_t ni = 0;
    for (uint64_t k = 0; st == CL_OK && k < np; k++)
      if (!r[k].failed) memcpy(ids[ni++], r[k].id, 65);
    qsort(ids, ni, 65, cmp_id);
    for (int i = 0; st == CL_OK && i < e->n_points; i++)
      if (ni && bsearch(e->pts[i].id, ids, ni, 65, cmp_id)) {
        s->done[i] = 1;
        o->points_skipped++;
      }
    free(r);
    free(ids);
  }
  return st;
}

static uint64_t session_key(int rank) {
  uint64_t k = 0;
  FILE *f = fopen("/dev/urandom", "rb");
  if (f) {
    if (fread(&k, sizeof k, 1, f) != 1) k = 0;
    fclose(f);
  }
  k ^= (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ULL ^ (uint64_t)getpid() ^ (uint64_t)rank << 20;
  return (k >> 24) & 0x3FFFFFFFFFULL; /* 38 bits: attempt = session * 2^24 + counter fits int64 */
}

static cl_status run_rank0(srv *s) {
  cl_sweep_exp *e = s->e;
  cl_sweep_opts *o = s->o;
  s->done = calloc((size_t)e->n_points, 1);
  s->session = (int64_t)session_key(s->rank);
  if (!s->done) return CL_ERR_NOMEM;
  cl_status st = open_store(s);
  if (st == CL_OK && e->kind == CL_SWEEP_ADAPTIVE) {
    st = adaptive_prepare(s);
    if (st == CL_OK) st = adaptive_load_units(s);
  }
  int cap = e->n_points + s->n_units + 1;
  s->q_type = malloc(sizeof(int) * (size_t)cap);
  s->q_ref = malloc(sizeof(int) * (size_t)cap);
  if (st == CL_OK && (!s->q_type || !s->q_ref)) st = CL_ERR_NOMEM;
  if (st == CL_OK) {
    if (e->kind == CL_SWEEP_ADAPTIVE) {
      /* biggest models first (better balance); units of a model together (weights reuse) */
      for (int m = 0; m < e->n_models; m++)
        for (int u = 0; u < s->n_units; u++)
          if (s->units[u].model == m && !s->units[u].have) {
            s->q_type[s->q_n] = T_PROFILE;
            s->q_ref[s->q_n++] = u;
          }
      s->units_total = s->n_units;
    } else {
      for (int i = 0; i < e->n_points; i++)
        if (!s->done[i]) {
          s->q_type[s->q_n] = T_POINT;
          s->q_ref[s->q_n++] = i;
        }
    }
    for (int i = 0; i < e->n_points; i++) s->n_todo += !s->done[i];
  }
  s->err = st;
  s->t0 = mono();
  s->tty = !o->quiet && isatty(2);
  wcache wc;
  memset(&wc, 0, sizeof wc);
  /* the loop runs even after an error, to stop every worker */
  for (;;) {
    serve(s);
    if (s->err == CL_OK && e->kind == CL_SWEEP_ADAPTIVE) {
      int i = compose_ready(s);
      if (i >= 0) {
        cl_status cs = compose_point(s, i);
        if (cs != CL_OK) s->err = cs;
        continue;
      }
    }
    if (s->err == CL_OK && s->q_next < s->q_n) {
      int k = s->q_next++;
      char *t = task_text(s, s->q_type[k], s->q_ref[k]);
      buf out = {0};
      if (!t) {
        s->err = CL_ERR_NOMEM;
        continue;
      }
      eval_task(s->q_type[k], s->q_ref[k], cl_sweep_point_origin(e), t, o, &wc, serve, s, &out);
      free(t);
      cl_status hs = out.oom ? CL_ERR_NOMEM : handle_result(s, out.p, out.n, 0);
      free(out.p);
      if (hs != CL_OK) s->err = hs;
      continue;
    }
    if (s->stopped >= s->size - 1) break;
    serve_one(s, 1);
  }
  cl_graph_destroy(wc.g);
  cl_graph_destroy(wc.tb.g);
  progress(s, 1);
  return s->err;
}

static cl_status run_worker(srv *s) {
  wcache wc;
  memset(&wc, 0, sizeof wc);
  buf out = {0};
  int32_t hello = -1;
  put_i(&out, hello);
  cl_status st = CL_OK;
  for (;;) {
    if (MPI_Send(out.p, (int)out.n, MPI_BYTE, 0, TAG_MSG, s->comm) != MPI_SUCCESS) {
      st = CL_ERR_MPI;
      break;
    }
    out.n = 0;
    MPI_Status ms;
    MPI_Probe(0, TAG_TASK, s->comm, &ms);
    int n = 0;
    MPI_Get_count(&ms, MPI_BYTE, &n);
    char *m = malloc((size_t)n + 1);
    if (!m) {
      st = CL_ERR_NOMEM;
      break;
    }
    MPI_Recv(m, n, MPI_BYTE, 0, TAG_TASK, s->comm, MPI_STATUS_IGNORE);
    m[n] = '\0';
    rd r = {(unsigned char *)m, (size_t)n, 0, 0};
    int32_t type = get_i(&r), ref = get_i(&r);
    if (type == T_STOP || r.bad) {
      free(m);
      break;
    }
    const char *origin = m + 8;
    const char *text = origin + strlen(origin) + 1;
    eval_task(type, ref, origin, text, s->o, &wc, NULL, NULL, &out);
    free(m);
    if (out.oom) {
      st = CL_ERR_NOMEM;
      break;
    }
  }
  free(out.p);
  cl_graph_destroy(wc.g);
  cl_graph_destroy(wc.tb.g);
  return st;
}

cl_status cl_sweep_run(MPI_Comm comm, cl_sweep_exp *e, cl_sweep_opts *opts) {
  srv s;
  memset(&s, 0, sizeof s);
  s.comm = comm;
  s.e = e;
  s.o = opts;
  MPI_Comm_rank(comm, &s.rank);
  MPI_Comm_size(comm, &s.size);
  double t0 = mono();
  cl_status st;
  if (s.rank == 0) {
    if (!e || !opts->out_path) {
      cl_log_error("sweep: rank 0 needs the experiment and an output path");
      for (int r = 1; r < s.size; r++) serve_one(&s, 1); /* no work: every request gets STOP */
      return CL_ERR_INVALID;
    }
    st = run_rank0(&s);
    cl_status cs = s.st ? cl_store_close(s.st) : CL_OK;
    if (st == CL_OK) st = cs;
    opts->points_run = s.n_done;
    opts->points_failed = s.n_failed;
    opts->records = s.records;
    if (st == CL_OK && s.n_failed) st = CL_ERR_INTERNAL;
  } else {
    st = run_worker(&s);
  }
  opts->seconds = mono() - t0;
  free(s.done);
  free(s.q_type);
  free(s.q_ref);
  if (s.units)
    for (int u = 0; u < s.n_units; u++) cl_adaptive_profile_free(&s.units[u].prof);
  free(s.units);
  free(s.ap);
  if (s.am)
    for (int m = 0; m < e->n_models; m++) cl_adaptive_model_destroy(s.am[m]);
  free(s.am);
  free(s.base_best);
  free(s.base_unit_e);
  free(s.base_unit_c);
  return st;
}
