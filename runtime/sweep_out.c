/* The sweep's output file (rank 0 is its only writer): the common tables /sweep/points
 * and /sweep/configs, the kind's record tables (opened through its row), --resume, and
 * the unpacking of every task's reply. A point's records are written before its row in
 * /sweep/points, then the file is flushed: the point is complete on disk. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleave/provenance.h"
#include "cleave/records.h"
#include "cleave/store.h"
#include "sweep_internal.h"

static cl_status write_config(cl__sweep_srv *s, int64_t att, const char *text) {
  size_t n = strlen(text), chunk = sizeof(((cl_rec_sweep_config *)0)->text) - 1;
  for (size_t off = 0, part = 0; off < n; off += chunk, part++) {
    cl_rec_sweep_config r;
    memset(&r, 0, sizeof r);
    r.attempt = att;
    r.part = (int32_t)part;
    memcpy(r.text, text + off, n - off < chunk ? n - off : chunk);
    CL_TRY(cl_table_append(s->t_cfg, &r, 1));
    s->sink.records++;
  }
  return CL_OK;
}

cl_status cl__sweep_out_point(cl__sweep_srv *s, int i, int64_t att, int rank, const char *plan_label, double latency,
                              double energy, double seconds, int failed) {
  const cl_sweep_exp *e = s->e;
  const cl__sweep_pt *pt = &e->pts[i];
  cl_rec_sweep_point r;
  memset(&r, 0, sizeof r);
  r.attempt = att;
  r.grid = (int32_t)pt->grid; /* the grid is bounded by CL__SWEEP_MAX_POINTS */
  r.kind = e->kind->id;
  CL_TRY(cl_dict_id(s->sink.models, e->models[pt->model], &r.model));
  CL_TRY(cl_dict_id(s->sink.plans, plan_label, &r.plan));
  r.rank = rank;
  r.n_factors = e->n_factors;
  r.failed = failed;
  double *f[] = {&r.f0, &r.f1, &r.f2, &r.f3, &r.f4, &r.f5, &r.f6, &r.f7};
  _Static_assert(CL_SWEEP_MAX_FACTORS == sizeof f / sizeof f[0], "one f<k> column per factor");
  for (int k = 0; k < e->n_factors; k++) *f[k] = e->f[k].level_value[pt->lev[k]];
  r.latency = latency;
  r.energy = energy;
  r.seconds = seconds;
  memcpy(r.id, pt->id, 65);
  char *text = cl_sweep_point_text(e, i);
  if (!text) return CL_ERR_NOMEM;
  cl_status st = write_config(s, att, text);
  free(text);
  if (st == CL_OK) st = cl_table_append(s->t_pt, &r, 1);
  if (st == CL_OK) st = cl_store_flush(s->sink.store);
  s->sink.records++;
  s->done[i] = 1;
  s->n_done++;
  if (failed) s->n_failed++;
  cl__sweep_progress(s, 0);
  return st;
}

cl_status cl__sweep_out_result(cl__sweep_srv *s, const unsigned char *msg, size_t len, int from) {
  cl_sweep_rd r = {msg, len, 0, 0};
  int32_t ok = cl_sweep_rd_i32(&r), type = cl_sweep_rd_i32(&r), ref = cl_sweep_rd_i32(&r);
  double seconds = cl_sweep_rd_f64(&r);
  const cl_sweep_exp *e = s->e;
  int is_point = type == CL__T_POINT && ref >= 0 && ref < e->n_points;
  if (r.bad || (!is_point && !(type == CL__T_AUX && e->kind->sched))) {
    cl_log_error("sweep: malformed result from rank %d", from);
    return CL_ERR_MPI;
  }
  if (type == CL__T_AUX) {
    if (!ok) {
      cl_log_error("sweep: %s unit %d failed on rank %d", e->kind->name, ref, from);
      return CL_ERR_INTERNAL; /* the kind cannot go on without it */
    }
    return e->kind->sched->aux_write(s, ref, &r);
  }
  char label[CL_DICT_MAXLEN + 1];
  e->kind->plan_label(e, ref, label, sizeof label);
  int64_t att = cl__sweep_next_attempt(s);
  if (!ok) {
    cl_log_error("sweep: point %d (%s) failed on rank %d", ref, e->pts[ref].id, from);
    return cl__sweep_out_point(s, ref, att, from, label, NAN, NAN, seconds, 1);
  }
  double latency = NAN, energy = NAN;
  CL_TRY(e->kind->write(&s->sink, e, ref, att, &r, &latency, &energy));
  if (r.bad) {
    cl_log_error("sweep: malformed %s result from rank %d", e->kind->name, from);
    return CL_ERR_MPI;
  }
  return cl__sweep_out_point(s, ref, att, from, label, latency, energy, seconds, 0);
}

static int cmp_id(const void *a, const void *b) { return strncmp(a, b, 64); }

/* --resume: mark every point whose id has a complete, successful row. */
static cl_status mark_done(cl__sweep_srv *s) {
  uint64_t np = cl_table_count(s->t_pt);
  if (!np) return CL_OK;
  cl_rec_sweep_point *r = malloc(sizeof(cl_rec_sweep_point) * np);
  char(*ids)[65] = malloc(65 * np);
  if (!r || !ids) {
    free(r);
    free(ids);
    return CL_ERR_NOMEM;
  }
  cl_status st = cl_table_read(s->t_pt, 0, (size_t)np, r);
  size_t ni = 0;
  for (uint64_t k = 0; st == CL_OK && k < np; k++)
    if (!r[k].failed) memcpy(ids[ni++], r[k].id, 65);
  qsort(ids, ni, 65, cmp_id);
  for (int i = 0; st == CL_OK && ni && i < s->e->n_points; i++)
    if (bsearch(s->e->pts[i].id, ids, ni, 65, cmp_id)) {
      s->done[i] = 1;
      s->o->points_skipped++;
    }
  free(r);
  free(ids);
  return st;
}

static char *read_text(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *text = NULL;
  if (fseek(f, 0, SEEK_END) == 0) {
    long n = ftell(f);
    text = n >= 0 && fseek(f, 0, SEEK_SET) == 0 ? malloc((size_t)n + 1) : NULL;
    if (text) text[fread(text, 1, (size_t)n, f)] = '\0';
  }
  fclose(f);
  return text;
}

cl_status cl__sweep_out_open(cl__sweep_srv *s) {
  cl_sweep_opts *o = s->o;
  const cl_sweep_exp *e = s->e;
  cl_store_opts so;
  memset(&so, 0, sizeof so);
  so.force = o->force;
  so.flush_seconds = -1; /* we flush after every point */
  so.kind = "sweep";      /* --resume refuses a run's or a profile's output */
  int exists = access(o->out_path, F_OK) == 0;
  cl_status st = o->resume && exists ? cl_store_open_append(o->out_path, &so, &s->sink.store)
                                     : cl_store_create(o->out_path, &so, &s->sink.store);
  /* CL_ERR_EXISTS from the writer lock (--resume, --force) was explained by the store. */
  if (st == CL_ERR_EXISTS && exists && !o->resume && !o->force)
    cl_log_error("%s exists: use --resume to continue that sweep or --force to overwrite it", o->out_path);
  /* A --resume target that is damaged or not a resumable sweep output is bad input
   * (exit 2, like a bad config), already explained in one line by the store. */
  if (o->resume && exists && (st == CL_ERR_INVALID || st == CL_ERR_HDF5)) st = CL_ERR_CONFIG;
  if (st != CL_OK) return st;
  cl_store *out = s->sink.store;
  CL_TRY(cl_store_table(out, &CL_REC_SWEEP_POINTS, &s->t_pt));
  CL_TRY(cl_store_table(out, &CL_REC_SWEEP_CONFIGS, &s->t_cfg));
  CL_TRY(cl_store_dict(out, "models", &s->sink.models));
  CL_TRY(cl_store_dict(out, "plans", &s->sink.plans));
  for (int k = 0; e->kind->tables[k]; k++) CL_TRY(cl_store_table(out, e->kind->tables[k], &s->sink.t[k]));
  for (int k = 0; e->kind->dicts[k]; k++) CL_TRY(cl_store_dict(out, e->kind->dicts[k], &s->sink.d[k]));
  CL_TRY(cl_store_attr_str(out, "/sweep/points", "kind", e->kind->name));
  CL_TRY(cl_store_attr_str(out, "/sweep/points", "experiment", e->name));
  CL_TRY(cl_store_attr_str(out, "/sweep/points", "experiment_path", e->path));
  for (int k = 0; k < e->n_factors; k++) {
    char nm[32];
    snprintf(nm, sizeof nm, "factor%d", k);
    CL_TRY(cl_store_attr_str(out, "/sweep/points", nm, e->f[k].target));
    snprintf(nm, sizeof nm, "factor%d_unit", k);
    CL_TRY(cl_store_attr_str(out, "/sweep/points", nm, e->f[k].unit));
    if (e->f[k].field == CL__F_DEVICE) {
      /* the f<k> column holds the level index; the names in level order, comma-separated */
      cl__sb b = {0};
      for (int i = 0; i < e->f[k].n_levels; i++) cl__sb_put(&b, "%s%s", i ? "," : "", e->f[k].level_text[i]);
      char *names = cl__sb_take(&b);
      if (!names) return CL_ERR_NOMEM;
      snprintf(nm, sizeof nm, "factor%d_levels", k);
      cl_status sa = cl_store_attr_str(out, "/sweep/points", nm, names);
      free(names);
      CL_TRY(sa);
    }
  }
  /* provenance: the experiment file as written */
  char *text = read_text(e->path);
  cl_provenance pv = {o->argc, o->argv, 1, e->seed, text, e->path};
  st = cl_store_write_provenance(out, &pv);
  free(text);
  return st == CL_OK ? mark_done(s) : st;
}
