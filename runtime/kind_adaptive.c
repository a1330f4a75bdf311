/* Experiment kind `adaptive` (the adaptivity study, docs/experiments.md "Adaptivity
 * method"): a point is (model, condition of an edge and a cloud node). Its auxiliary
 * work units are real per-layer profiles under each distinct CPU/memory condition (any
 * rank); rank 0 composes every cut of every point from them in virtual time as soon as
 * a point's profiles are in. Each unit is profiled `repeats` times, interleaved (every
 * unit once per round: A B C A B C ...), so host noise that drifts over the run lands in
 * every condition alike and the spread between repeats measures it. Records:
 * /adaptive/profile_units, /adaptive/profile, /adaptive/layers, /adaptive/cuts,
 * /adaptive/repeats. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/adaptive.h"
#include "cleave/onnx.h"
#include "cleave/provenance.h"
#include "cleave/wallclock.h"
#include "cleave/records.h"
#include "sweep_internal.h"

/* The experiment's parameters (the kind's state). */
typedef struct ad_param {
  int reps, warmup, repeats;
  double mem_cap; /* bytes */
} ad_param;

/* ---- rank 0 state ---- */


/* The kind's tables in sink->t[] (the order of the row's tables[]). */
enum { T_UNIT, T_PROF, T_LAYER, T_CUT, T_REPEAT };

#define AD_MAX_REPEATS 16
/* A distinct (model, threads, CPU load, memory use) condition, profiled `repeats` times. */
typedef struct unit {
  int model, threads;
  double cpu, mem;
  char id[AD_MAX_REPEATS][65];          /* of each repeat's text */
  cl_adaptive_profile rp[AD_MAX_REPEATS]; /* each repeat, until all are in */
  uint8_t got[AD_MAX_REPEATS];
  int n_got, have;          /* have: every repeat in, concatenated into prof */
  cl_adaptive_profile prof; /* repeat q = repetitions [q reps, (q+1) reps) */
} unit;

typedef struct apoint {
  int edge_unit, cloud_unit;
  cl_adaptive_link lk;
} apoint;


/* Rank-0 state of a run. */
typedef struct adapt {
  unit *units;
  int n_units;
  apoint *ap;             /* [n_points] */
  cl_adaptive_model **am; /* [n_models] */
  int *base_best;         /* [n_models] best cut of the unstressed condition, -1 unknown */
  int *base_unit_e, *base_unit_c;
  cl_adaptive_link base_lk;
} adapt;

/* Repeat q of unit un is in: when it is the last, concatenate the repeats into prof. */
static cl_status got_repeat(cl__sweep_srv *s, unit *un, int q) {
  const ad_param *P = cl_sweep_exp_state(s->e);
  un->got[q] = 1;
  if (++un->n_got < P->repeats) return CL_OK;
  cl_adaptive_profile *p = &un->prof;
  p->n_steps = un->rp[0].n_steps;
  p->reps = 0;
  for (int k = 0; k < P->repeats; k++) {
    if (un->rp[k].n_steps != p->n_steps || un->rp[k].reps != un->rp[0].reps) {
      cl_log_error("sweep: the repeats of profile unit %s differ in steps or repetitions", un->id[0]);
      return CL_ERR_INTERNAL;
    }
    p->reps += un->rp[k].reps;
  }
  size_t each = (size_t)p->n_steps * (size_t)un->rp[0].reps;
  p->wall = malloc(sizeof(double) * each * (size_t)P->repeats + 1);
  p->cpu = malloc(sizeof(double) * each * (size_t)P->repeats + 1);
  if (!p->wall || !p->cpu) return CL_ERR_NOMEM;
  for (int k = 0; k < P->repeats; k++) {
    memcpy(p->wall + k * each, un->rp[k].wall, sizeof(double) * each);
    memcpy(p->cpu + k * each, un->rp[k].cpu, sizeof(double) * each);
    p->seconds += un->rp[k].seconds;
    p->burn_cpu += un->rp[k].burn_cpu;
    cl_adaptive_profile_free(&un->rp[k]);
  }
  un->have = 1;
  return CL_OK;
}

static cl_status handle_profile(cl__sweep_srv *s, int ref, cl_sweep_rd *r) {
  adapt *A = s->kstate;
  const int q = ref / A->n_units;
  unit *un = &A->units[ref % A->n_units];
  cl_adaptive_profile *p = &un->rp[q];
  p->n_steps = cl_sweep_rd_i32(r);
  p->reps = cl_sweep_rd_i32(r);
  p->seconds = cl_sweep_rd_f64(r);
  p->burn_cpu = cl_sweep_rd_f64(r);
  p->started = cl_sweep_rd_f64(r);
  size_t n = (size_t)p->n_steps * (size_t)p->reps;
  if (r->bad || p->n_steps <= 0 || p->reps <= 0 || r->n - r->off != 2 * n * sizeof(double)) {
    cl_log_error("sweep: malformed profile result for unit %d", ref);
    return CL_ERR_MPI;
  }
  p->wall = malloc(sizeof(double) * n);
  p->cpu = malloc(sizeof(double) * n);
  if (!p->wall || !p->cpu) return CL_ERR_NOMEM;
  cl_sweep_rd_get(r, p->wall, sizeof(double) * n);
  cl_sweep_rd_get(r, p->cpu, sizeof(double) * n);
  int64_t att = cl__sweep_next_attempt(s);
  cl_rec_adaptive_profile *rows = malloc(sizeof(cl_rec_adaptive_profile) * n);
  if (!rows) return CL_ERR_NOMEM;
  for (int q = 0; q < p->reps; q++)
    for (int k = 0; k < p->n_steps; k++) {
      size_t j = (size_t)q * p->n_steps + k;
      rows[j] = (cl_rec_adaptive_profile){att, k, q, p->wall[j], p->cpu[j]};
    }
  cl_status st = cl_table_append(s->sink.t[T_PROF], rows, n);
  free(rows);
  cl_rec_adaptive_unit ur;
  memset(&ur, 0, sizeof ur);
  ur.attempt = att;
  if (st == CL_OK) st = cl_dict_id(s->sink.models, s->e->models[un->model], &ur.model);
  ur.threads = un->threads;
  ur.reps = p->reps;
  ur.steps = p->n_steps;
  ur.cpu_load = un->cpu;
  ur.mem_pressure = un->mem;
  ur.seconds = p->seconds;
  ur.burn_cpu = p->burn_cpu;
  ur.repeat = q;
  ur.started = p->started;
  memcpy(ur.id, un->id[q], 65);
  if (st == CL_OK) st = cl_table_append(s->sink.t[T_UNIT], &ur, 1);
  if (st == CL_OK) st = cl_store_flush(s->sink.store);
  s->sink.records += n + 1;
  if (st == CL_OK) st = got_repeat(s, un, q);
  s->aux_done++;
  cl__sweep_progress(s, 0);
  return st;
}


/* A rank's cache between profile units: the model graph with its weights. */
typedef struct pcache {
  char model[256];
  cl_graph *g;
} pcache;

static void ad_cache_destroy(void *p) {
  pcache *wc = p;
  if (wc) cl_graph_destroy(wc->g);
  free(wc);
}

static cl_status eval_profile(const char *text, void **cache, cl_sweep_poll_fn poll, void *pctx, cl_sweep_buf *out) {
  if (!*cache && !(*cache = calloc(1, sizeof(pcache)))) return CL_ERR_NOMEM;
  pcache *wc = *cache;
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
    cl_sweep_buf_i32(out, p.n_steps);
    cl_sweep_buf_i32(out, p.reps);
    cl_sweep_buf_f64(out, p.seconds);
    cl_sweep_buf_f64(out, p.burn_cpu);
    cl_sweep_buf_f64(out, p.started);
    cl_sweep_buf_put(out, p.wall, sizeof(double) * n);
    cl_sweep_buf_put(out, p.cpu, sizeof(double) * n);
  }
  cl_adaptive_profile_free(&p);
  cl_cfg_free(c);
  return st;
}

/* The text of repeat q of a profile unit (its id is the SHA-256 of it); caller frees. */
static char *unit_text(const cl_sweep_exp *e, const unit *u, int q) {
  const ad_param *P = cl_sweep_exp_state(e);
  cl_config_writer *w = NULL;
  if (cl_config_writer_create(&w) != CL_OK) return NULL;
  cl_config_writer_comment(w, "adaptive profile unit");
  cl_config_writer_map(w, 0);
  cl_config_writer_key_str(w, "model", e->models[u->model]);
  cl_config_writer_key_int(w, "threads", u->threads);
  cl_config_writer_key_double(w, "cpu_load", u->cpu);
  cl_config_writer_key_double(w, "mem_pressure", u->mem);
  cl_config_writer_key_double(w, "mem_cap", P->mem_cap);
  cl_config_writer_key_int(w, "reps", P->reps);
  cl_config_writer_key_int(w, "warmup", P->warmup);
  cl_config_writer_key_u64(w, "seed", e->seed);
  cl_config_writer_key_int(w, "repeat", q);
  cl_config_writer_end(w);
  char *t = NULL;
  return cl_config_writer_finish(w, &t) == CL_OK ? t : (free(t), NULL);
}

static char *ad_aux_text(cl__sweep_srv *s, int ref) {
  adapt *A = s->kstate;
  return unit_text(s->e, &A->units[ref % A->n_units], ref / A->n_units);
}


static int find_unit(const adapt *A, int model, int threads, double cpu, double mem) {
  for (int u = 0; u < A->n_units; u++)
    if (A->units[u].model == model && A->units[u].threads == threads && A->units[u].cpu == cpu &&
        A->units[u].mem == mem)
      return u;
  return -1;
}

static int add_unit(cl__sweep_srv *s, int model, int threads, double cpu, double mem) {
  adapt *A = s->kstate;
  int u = find_unit(A, model, threads, cpu, mem);
  if (u >= 0) return u;
  unit *x = &A->units[A->n_units];
  memset(x, 0, sizeof *x);
  x->model = model;
  x->threads = threads;
  x->cpu = cpu;
  x->mem = mem;
  const ad_param *P = cl_sweep_exp_state(s->e);
  for (int q = 0; q < P->repeats; q++) {
    char *t = unit_text(s->e, x, q);
    if (!t) return -1;
    cl_sha256_hex(t, strlen(t), x->id[q]);
    free(t);
  }
  return A->n_units++;
}

/* Condition of point pt: base testbed values with the point's factor levels applied. */
static void point_condition(const cl_sweep_exp *e, const cl_rt_setup *base, double base_lat, double base_bw,
                            const int32_t *lev, double *cpu, double *mem, int *thr, cl_adaptive_link *lk) {
  double speed[2];
  for (int n = 0; n < 2; n++) {
    lk->power[n] = base->nodes[n].power;
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
  if (e->kind != &cl_sweep_kind_adaptive || i < 0 || i >= e->n_points) return CL_ERR_INVALID;
  const ad_param *P = cl_sweep_exp_state(e);
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
  out->reps = P->reps;
  out->warmup = P->warmup;
  out->mem_cap = P->mem_cap;
  out->seed = e->seed;
  return CL_OK;
}

static cl_status adaptive_prepare(cl__sweep_srv *s) {
  cl_sweep_exp *e = s->e;
  adapt *A = calloc(1, sizeof *A);
  if (!A) return CL_ERR_NOMEM;
  s->kstate = A;
  /* the base values: the testbed as written; every factor is re-applied per point */
  cl_rt_setup base;
  double blat = 0, bbw = 0;
  cl_status st = load_base(e, &base, &blat, &bbw);
  if (st != CL_OK) return st;
  A->units = calloc((size_t)e->n_points * 2 + 2 * (size_t)e->n_models + 2, sizeof(unit));
  A->ap = calloc((size_t)e->n_points, sizeof(apoint));
  A->am = calloc((size_t)e->n_models, sizeof(cl_adaptive_model *));
  A->base_best = malloc(sizeof(int) * (size_t)e->n_models);
  A->base_unit_e = malloc(sizeof(int) * (size_t)e->n_models);
  A->base_unit_c = malloc(sizeof(int) * (size_t)e->n_models);
  if (!A->units || !A->ap || !A->am || !A->base_best || !A->base_unit_e || !A->base_unit_c) st = CL_ERR_NOMEM;
  uint8_t *need = calloc((size_t)e->n_models, 1);
  if (!need) st = CL_ERR_NOMEM;
  for (int i = 0; st == CL_OK && i < e->n_points; i++)
    if (!s->done[i]) need[e->pts[i].model] = 1;
  /* the unstressed condition (level 0 of every factor) of every model with work left */
  double cpu[2], mem[2];
  int thr[2];
  for (int m = 0; st == CL_OK && m < e->n_models; m++) {
    A->base_best[m] = -1;
    A->base_unit_e[m] = A->base_unit_c[m] = -1;
    if (!need[m]) continue;
    point_condition(e, &base, blat, bbw, NULL, cpu, mem, thr, &A->base_lk);
    A->base_unit_e[m] = add_unit(s, m, thr[0], cpu[0], mem[0]);
    A->base_unit_c[m] = add_unit(s, m, thr[1], cpu[1], mem[1]);
    if ((st = cl_adaptive_model_create(e->models[m], &A->am[m])) != CL_OK) break;
  }
  for (int i = 0; st == CL_OK && i < e->n_points; i++) {
    if (s->done[i]) continue;
    const cl__sweep_pt *pt = &e->pts[i];
    point_condition(e, &base, blat, bbw, pt->lev, cpu, mem, thr, &A->ap[i].lk);
    A->ap[i].edge_unit = add_unit(s, pt->model, thr[0], cpu[0], mem[0]);
    A->ap[i].cloud_unit = add_unit(s, pt->model, thr[1], cpu[1], mem[1]);
    if (A->ap[i].edge_unit < 0 || A->ap[i].cloud_unit < 0) st = CL_ERR_NOMEM;
  }
  free(need);
  cl_rt_setup_free(&base);
  return st;
}

/* Rebuild profiles already in the file (resume). */
static cl_status adaptive_load_units(cl__sweep_srv *s) {
  adapt *A = s->kstate;
  uint64_t nu = cl_table_count(s->sink.t[T_UNIT]), np = cl_table_count(s->sink.t[T_PROF]);
  if (!nu) return CL_OK;
  cl_rec_adaptive_unit *ur = malloc(sizeof(cl_rec_adaptive_unit) * nu);
  if (!ur) return CL_ERR_NOMEM;
  cl_status st = cl_table_read(s->sink.t[T_UNIT], 0, (size_t)nu, ur);
  int *slot = malloc(sizeof(int) * nu);
  if (!slot) st = CL_ERR_NOMEM;
  const ad_param *P = cl_sweep_exp_state(s->e);
  for (uint64_t k = 0; st == CL_OK && k < nu; k++) {
    slot[k] = -1;
    const int q = ur[k].repeat;
    for (int u = 0; q >= 0 && q < P->repeats && u < A->n_units; u++)
      if (!A->units[u].got[q] && !A->units[u].rp[q].wall && !strncmp(A->units[u].id[q], ur[k].id, 64)) {
        cl_adaptive_profile *p = &A->units[u].rp[q];
        p->n_steps = ur[k].steps;
        p->reps = ur[k].reps;
        p->seconds = ur[k].seconds;
        p->burn_cpu = ur[k].burn_cpu;
        p->started = ur[k].started;
        size_t n = (size_t)p->n_steps * (size_t)p->reps;
        p->wall = calloc(n + 1, sizeof(double));
        p->cpu = calloc(n + 1, sizeof(double));
        if (!p->wall || !p->cpu) st = CL_ERR_NOMEM;
        slot[k] = u * AD_MAX_REPEATS + q;
        break;
      }
  }
  /* profile rows in chunks; rows of units without a unit row (killed run) are skipped */
  cl_rec_adaptive_profile *pr = malloc(sizeof(cl_rec_adaptive_profile) * 65536);
  if (!pr) st = CL_ERR_NOMEM;
  for (uint64_t off = 0; st == CL_OK && off < np; off += 65536) {
    size_t n = (size_t)(np - off < 65536 ? np - off : 65536);
    if ((st = cl_table_read(s->sink.t[T_PROF], off, n, pr)) != CL_OK) break;
    for (size_t j = 0; j < n; j++)
      for (uint64_t k = 0; k < nu; k++)
        if (slot[k] >= 0 && ur[k].attempt == pr[j].attempt) {
          cl_adaptive_profile *p = &A->units[slot[k] / AD_MAX_REPEATS].rp[slot[k] % AD_MAX_REPEATS];
          if (pr[j].step >= 0 && pr[j].step < p->n_steps && pr[j].rep >= 0 && pr[j].rep < p->reps) {
            p->wall[(size_t)pr[j].rep * p->n_steps + pr[j].step] = pr[j].wall;
            p->cpu[(size_t)pr[j].rep * p->n_steps + pr[j].step] = pr[j].cpu;
          }
          break;
        }
  }
  for (uint64_t k = 0; st == CL_OK && k < nu; k++)
    if (slot[k] >= 0) {
      st = got_repeat(s, &A->units[slot[k] / AD_MAX_REPEATS], slot[k] % AD_MAX_REPEATS);
      s->aux_done++;
    }
  free(pr);
  free(slot);
  free(ur);
  return st;
}

/* Summaries of every cut of a model under a condition (cs[n_cuts]); rep_lat/rep_en
 * [n_cuts * repeats] may be NULL. */
static cl_status summarise_cuts(const cl_adaptive_model *m, const cl_adaptive_profile *pe,
                                const cl_adaptive_profile *pc, const cl_adaptive_link *lk, int repeats,
                                cl_adaptive_cut_stat *cs, double *rep_lat, double *rep_en) {
  for (int c = 0; c < m->n_cuts; c++)
    CL_TRY(cl_adaptive_cut_summary(m, pe, pc, lk, c, repeats, &cs[c], rep_lat ? rep_lat + (size_t)c * repeats : NULL,
                                   rep_en ? rep_en + (size_t)c * repeats : NULL));
  return CL_OK;
}

/* /adaptive/layers rows of cut c: every repetition, every layer (start, time, energy). */
static cl_status write_layers(cl__sweep_srv *s, const cl_adaptive_model *m, const cl_adaptive_profile *pe,
                              const cl_adaptive_profile *pc, const cl_adaptive_link *lk, int R, int c, int64_t att,
                              double *start, double *dur, cl_rec_adaptive_layer *rows) {
  const int S = m->n_steps;
  for (int r = 0; r < R; r++) {
    cl_adaptive_compose(m, pe, pc, lk, c, r, start, dur, NULL, NULL, NULL);
    for (int k = 0; k < S; k++) {
      cl_rec_adaptive_layer *L = &rows[(size_t)r * S + k];
      memset(L, 0, sizeof *L);
      L->attempt = att;
      L->cut = c;
      L->step = k;
      L->rep = r;
      L->start = (float)start[k];
      L->time = (float)dur[k];
      L->where = k >= m->cut_edge_steps[c];
      L->energy = (float)(lk->power[L->where].busy * dur[k]);
    }
  }
  s->sink.records += (uint64_t)S * R;
  return cl_table_append(s->sink.t[T_LAYER], rows, (size_t)S * R);
}

static cl_status compose_point(cl__sweep_srv *s, int i) {
  adapt *A = s->kstate;
  const ad_param *P = cl_sweep_exp_state(s->e);
  const int Q = P->repeats;
  double t0 = cl_wall_now();
  const cl_sweep_exp *e = s->e;
  const cl__sweep_pt *pt = &e->pts[i];
  const cl_adaptive_model *m = A->am[pt->model];
  const cl_adaptive_profile *pe = &A->units[A->ap[i].edge_unit].prof, *pc = &A->units[A->ap[i].cloud_unit].prof;
  const cl_adaptive_link *lk = &A->ap[i].lk;
  int R = pe->reps < pc->reps ? pe->reps : pc->reps, S = m->n_steps, NC = m->n_cuts;
  if (pe->n_steps != S || pc->n_steps != S) {
    cl_log_error("sweep: profile of %s has %d/%d steps, the model %d", e->models[pt->model], pe->n_steps, pc->n_steps,
                 S);
    return CL_ERR_INTERNAL;
  }
  double *start = malloc(sizeof(double) * (size_t)S * 2), *dur = start ? start + S : NULL;
  double *rl = malloc(sizeof(double) * (size_t)NC * Q * 2), *re = rl ? rl + (size_t)NC * Q : NULL;
  cl_adaptive_cut_stat *cs = malloc(sizeof *cs * (size_t)NC);
  cl_rec_adaptive_layer *rows = malloc(sizeof(cl_rec_adaptive_layer) * (size_t)S * (size_t)R);
  cl_rec_adaptive_cut *cuts = malloc(sizeof(cl_rec_adaptive_cut) * (size_t)NC);
  cl_rec_adaptive_repeat *rr = malloc(sizeof(cl_rec_adaptive_repeat) * (size_t)NC * Q);
  cl_status st = start && rl && cs && rows && cuts && rr ? CL_OK : CL_ERR_NOMEM;
  if (st == CL_OK && A->base_best[pt->model] < 0) {
    int bu = A->base_unit_e[pt->model], cu = A->base_unit_c[pt->model];
    st = summarise_cuts(m, &A->units[bu].prof, &A->units[cu].prof, &A->base_lk, Q, cs, NULL, NULL);
    if (st == CL_OK) A->base_best[pt->model] = cl_adaptive_best_cut(cs, NC, 0);
  }
  if (st == CL_OK) st = summarise_cuts(m, pe, pc, lk, Q, cs, rl, re);
  int64_t att = cl__sweep_next_attempt(s);
  int32_t mid = 0;
  if (st == CL_OK) st = cl_dict_id(s->sink.models, e->models[pt->model], &mid);
  const int best = st == CL_OK ? cl_adaptive_best_cut(cs, NC, 0) : 0;
  const int ebest = st == CL_OK ? cl_adaptive_best_cut(cs, NC, 1) : 0;
  for (int c = 0; st == CL_OK && c < NC; c++) {
    st = write_layers(s, m, pe, pc, lk, R, c, att, start, dur, rows);
    const cl_adaptive_cut_stat *x = &cs[c];
    cl_rec_adaptive_cut *C = &cuts[c];
    *C = (cl_rec_adaptive_cut){.attempt = att, .model = mid, .cut = c, .cut_node = m->cut_node[c],
                               .edge_steps = m->cut_edge_steps[c], .best = c == best, .ebest = c == ebest,
                               .base_best = c == A->base_best[pt->model], .bytes = m->cut_bytes[c],
                               .edge_s = x->edge_s, .xfer_s = x->xfer_s, .cloud_s = x->cloud_s,
                               .latency = x->latency, .latency_mean = x->latency_mean,
                               .latency_min = x->latency_min, .latency_max = x->latency_max,
                               .latency_spread = x->latency_spread, .energy = x->energy,
                               .energy_edge = x->energy_edge, .energy_spread = x->energy_spread};
    snprintf(C->cut_name, sizeof C->cut_name, "%s", m->cut_name[c]);
    for (int q = 0; q < Q; q++)
      rr[(size_t)c * Q + q] = (cl_rec_adaptive_repeat){att, c, q, rl[(size_t)c * Q + q], re[(size_t)c * Q + q]};
    cl__sweep_serve(s);
  }
  if (st == CL_OK) st = cl_table_append(s->sink.t[T_CUT], cuts, (size_t)NC);
  if (st == CL_OK) st = cl_table_append(s->sink.t[T_REPEAT], rr, (size_t)NC * Q);
  s->sink.records += (uint64_t)NC * (1 + Q);
  /* the point's summary: the latency-optimal cut, its latency and its energy */
  if (st == CL_OK)
    st = cl__sweep_out_point(s, i, att, 0, m->cut_name[best], cs[best].latency, cs[best].energy, cl_wall_now() - t0, 0);
  free(start);
  free(rl);
  free(cs);
  free(rows);
  free(cuts);
  free(rr);
  return st;
}

/* Next point whose profiles are all in, or -1. */
static int compose_ready(cl__sweep_srv *s) {
  const adapt *A = s->kstate;
  for (int i = 0; i < s->e->n_points; i++) {
    if (s->done[i]) continue;
    int m = s->e->pts[i].model;
    if (A->units[A->ap[i].edge_unit].have && A->units[A->ap[i].cloud_unit].have && A->units[A->base_unit_e[m]].have &&
        A->units[A->base_unit_c[m]].have)
      return i;
  }
  return -1;
}

/* ---- the scheduler: profile units on any rank, composition on rank 0 ---- */

static cl_status ad_prepare(cl__sweep_srv *s) {
  CL_TRY(adaptive_prepare(s));
  CL_TRY(adaptive_load_units(s));
  adapt *A = s->kstate;
  const ad_param *P = cl_sweep_exp_state(s->e);
  /* Interleaved: round q profiles every unit once (A B C A B C ...), so a repeat of a
   * unit is separated in time by all the others; within a round, units of a model run
   * together (its weights are reused). Reference = q x n_units + unit. */
  for (int q = 0; q < P->repeats; q++)
    for (int m = 0; m < s->e->n_models; m++)
      for (int u = 0; u < A->n_units; u++)
        if (A->units[u].model == m && !A->units[u].got[q] && !A->units[u].have)
          CL_TRY(cl__sweep_queue_push(s, CL__T_AUX, q * A->n_units + u));
  s->aux_total = A->n_units * P->repeats;
  return CL_OK;
}

static cl_status ad_aux_write(cl__sweep_srv *s, int ref, cl_sweep_rd *r) {
  const adapt *A = s->kstate;
  const ad_param *P = cl_sweep_exp_state(s->e);
  if (ref < 0 || ref >= A->n_units * P->repeats || A->units[ref % A->n_units].got[ref / A->n_units]) {
    cl_log_error("sweep: result for unknown or finished profile unit %d", ref);
    return CL_ERR_MPI;
  }
  return handle_profile(s, ref, r);
}

static int ad_idle(cl__sweep_srv *s, cl_status *st) {
  int i = compose_ready(s);
  if (i < 0) return 0;
  *st = compose_point(s, i);
  return 1;
}

static void ad_fini(cl__sweep_srv *s) {
  adapt *A = s->kstate;
  if (!A) return;
  for (int u = 0; A->units && u < A->n_units; u++) {
    cl_adaptive_profile_free(&A->units[u].prof);
    for (int q = 0; q < AD_MAX_REPEATS; q++) cl_adaptive_profile_free(&A->units[u].rp[q]);
  }
  free(A->units);
  free(A->ap);
  for (int m = 0; A->am && m < s->e->n_models; m++) cl_adaptive_model_destroy(A->am[m]);
  free(A->am);
  free(A->base_best);
  free(A->base_unit_e);
  free(A->base_unit_c);
  free(A);
  s->kstate = NULL;
}

static const cl__sweep_sched g_sched = {ad_prepare, ad_aux_text, eval_profile, ad_aux_write, ad_idle, ad_fini};

/* ---- the kind row ---- */

static cl_status ad_parse(cl_sweep_exp *e, const cl_cfg *c, const cl_cfg_node *root) {
  /* the study's conditions are speed, load, memory and link values of two nodes */
  CL_TRY(cl_sweep_exp_parse_testbed(e, c, root, CL_SWEEP_FACTOR_ALL & ~CL_SWEEP_FACTOR_DEVICE));
  ad_param *P = calloc(1, sizeof *P);
  if (!P) return CL_ERR_NOMEM;
  cl_sweep_exp_set_state(e, P);
  const cl_cfg_node *plans = cl_cfg_get(root, "plans");
  if (plans) return cl_cfg_error(c, plans, "kind adaptive always evaluates every cut; remove 'plans'");
  long reps = 5, warm = 1, repeats = 3;
  CL_TRY(cl_cfg_get_int(c, root, "reps", 0, 1, 1000, &reps));
  CL_TRY(cl_cfg_get_int(c, root, "warmup", 0, 0, 100, &warm));
  CL_TRY(cl_cfg_get_int(c, root, "repeats", 0, 1, AD_MAX_REPEATS, &repeats));
  P->reps = (int)reps;
  P->warmup = (int)warm;
  P->repeats = (int)repeats;
  P->mem_cap = 256.0 * 1048576;
  return cl_cfg_get_unit(c, root, "mem_cap", 0, CL_UNIT_BYTES, &P->mem_cap);
}

static int ad_n_plans(const cl_sweep_exp *e, int m) {
  (void)e;
  (void)m;
  return 1; /* every cut is evaluated inside the point */
}

/* The condition's parameters, then the point's testbed keys (one map). */
static char *ad_point_text(const cl_sweep_exp *e, int i) {
  const ad_param *P = cl_sweep_exp_state(e);
  cl_config_writer *w = NULL;
  if (cl_config_writer_create(&w) != CL_OK) return NULL;
  cl_config_writer_comment(w, "adaptive point: every cut of the model under this condition");
  cl_config_writer_map(w, 0);
  cl_config_writer_key_int(w, "reps", P->reps);
  cl_config_writer_key_int(w, "warmup", P->warmup);
  cl_config_writer_key_int(w, "repeats", P->repeats);
  cl_config_writer_key_unit(w, "mem_cap", CL_CONFIG_SIZE, P->mem_cap);
  cl_config_writer_end(w);
  char *head = NULL, *t = NULL;
  cl_status st = cl_config_writer_finish(w, &head);
  char *tb = st == CL_OK ? cl__sweep_testbed_text(e, &e->pts[i], "{cuts: [input]}") : NULL;
  if (tb) t = cl_sweep_printf("%s%s", head, tb);
  free(head);
  free(tb);
  return t;
}

static void ad_plan_label(const cl_sweep_exp *e, int i, char *buf, size_t cap) {
  (void)e;
  (void)i;
  snprintf(buf, cap, "every cut"); /* completed points carry their best cut instead */
}

/* The first point of every model resolves, on 2 nodes linked first -> second. */
/* The study composes each node's compute as its profiled host time x ONE slowdown per
 * node (cl_adaptive_link). A `device:` node has per-layer factors (docs/devices.md); its
 * whole-plan factor, taken from the base plan (every layer in the cloud), came out 0 for
 * the edge (whose only layer is the work-free input): every edge step cost nothing. Until
 * the composition takes per-layer factors, such testbeds are refused. */
static cl_status ad_refuse_devices(const cl_sweep_exp *e, const cl_rt_setup *su) {
  for (int k = 0; k < e->n_factors; k++)
    if (e->f[k].field == CL__F_DEVICE) {
      cl_log_error("%s: factor '%s': the adaptive study charges each node one slowdown (speed:), not a device "
                   "model's per-layer times; sweep device models with kind testbed or users",
                   e->path, e->f[k].target);
      return CL_ERR_CONFIG;
    }
  for (int n = 0; n < su->n_nodes; n++)
    if (su->nodes[n].device[0] && !su->nodes[n].speed_override) {
      const cl_cfg_node *nodes = e->tb ? cl_cfg_get(cl_cfg_root(e->tb), "nodes") : NULL;
      const cl_cfg_node *dv = cl_cfg_get(cl_cfg_at(nodes, n), "device");
      if (dv)
        return cl_cfg_error(e->tb, dv,
                            "device '%s': the adaptive study charges each node one slowdown, not a device model's "
                            "per-layer times; give the node speed: (a slowdown vs this host) or use kind testbed",
                            su->nodes[n].device);
      cl_log_error("%s: node '%s' is device '%s': the adaptive study charges each node one slowdown, not a device "
                   "model's per-layer times; give it speed: (a slowdown vs this host) or use kind testbed",
                   e->tb_path, su->nodes[n].name, su->nodes[n].device);
      return CL_ERR_CONFIG;
    }
  return CL_OK;
}

static cl_status ad_validate(const cl_sweep_exp *e) {
  int last_model = -1;
  for (int i = 0; i < e->n_points; i++) {
    if (e->pts[i].model == last_model) continue;
    last_model = e->pts[i].model;
    cl_rt_setup su;
    CL_TRY(cl__sweep_check_testbed_point(e, i, cl_sweep_point_testbed_text(e, i, "{cuts: [input]}"), &su));
    int l = -1, ok = su.n_nodes == 2 && cl_netmodel_find_link(su.net, 0, 1, &l) == CL_OK;
    cl_status dv = ad_refuse_devices(e, &su);
    cl_rt_setup_free(&su);
    if (dv != CL_OK) return dv;
    if (!ok) {
      cl_log_error("%s: the adaptive study needs a testbed of exactly 2 nodes (edge, cloud) with a link from "
                   "the first to the second",
                   e->tb_path);
      return CL_ERR_CONFIG;
    }
  }
  return CL_OK;
}

/* Points are composed on rank 0 from profile units; they are never sent as tasks. */
static cl_status ad_eval(const char *origin, const char *text, void **cache, cl_sweep_poll_fn poll, void *pctx,
                         cl_sweep_buf *out) {
  (void)origin, (void)text, (void)cache, (void)poll, (void)pctx, (void)out;
  cl_log_error("sweep: adaptive points are composed on rank 0, not evaluated as tasks");
  return CL_ERR_INTERNAL;
}

static cl_status ad_write(cl_sweep_sink *s, const cl_sweep_exp *e, int i, int64_t att, cl_sweep_rd *r, double *latency,
                          double *energy) {
  (void)s, (void)e, (void)i, (void)att, (void)r, (void)latency, (void)energy;
  return CL_ERR_INTERNAL; /* see ad_eval */
}

/* The kind's row (include/cleave/sweep_kind.h; listed in sim/sweep_kinds.c). */
const cl_sweep_kind_i cl_sweep_kind_adaptive = {
    .name = "adaptive", .id = 1, .onnx_models = 1, .parse = ad_parse, .state_destroy = free, .n_plans = ad_n_plans,
    .point_text = ad_point_text, .plan_label = ad_plan_label, .validate = ad_validate, .eval = ad_eval,
    .cache_destroy = ad_cache_destroy, .tables = {&CL_REC_ADAPTIVE_UNITS, &CL_REC_ADAPTIVE_PROFILES, &CL_REC_ADAPTIVE_LAYERS, &CL_REC_ADAPTIVE_CUTS,
                &CL_REC_ADAPTIVE_REPEATS}, .write = ad_write,
    .sched = &g_sched,
};
