/* Neurosurgeon (Kang et al., ASPLOS 2017): the best single split point of a chain
 * between a mobile device and the cloud, for latency or mobile energy; plus per-op
 * linear regression models that predict layer times from MACs and tensor sizes. */
#include <gsl/gsl_errno.h>
#include <gsl/gsl_multifit.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/plan.h"
#include "cleave/planner.h"

cl_status cl_neurosurgeon_eval(const cl_ns_input *in, int split, cl_ns_result *r) {
  return cl_neurosurgeon_eval_load(in, NULL, split, r);
}

/* Server load as in Neurosurgeon's evaluation of datacenter load: the server-side
 * prediction is scaled by the load factor K; a queueing wait is a fixed charge of any
 * split that uses the server. */
cl_status cl_neurosurgeon_eval_load(const cl_ns_input *in, const cl_ns_load *load, int split, cl_ns_result *r) {
  if (in->n < 1 || split < 0 || split > in->n || !in->t_mobile || !in->t_cloud ||
      !in->out_bytes || !(in->bandwidth_Bps > 0) || !(in->latency_s >= 0)) {
    cl_log_error("neurosurgeon: invalid input (n %d, split %d, bandwidth %g B/s)", in->n, split,
                 in->bandwidth_Bps);
    return CL_ERR_INVALID;
  }
  memset(r, 0, sizeof *r);
  r->split = split;
  for (int i = 0; i < split; i++) r->t_mobile += in->t_mobile[i];
  for (int i = split; i < in->n; i++) r->t_cloud += in->t_cloud[i];
  double wait = 0.0; /* s the mobile idles in queues */
  if (load) {
    if (load->mobile_load > 0) r->t_mobile *= load->mobile_load;
    if (load->server_load > 0) r->t_cloud *= load->server_load;
    if (split < in->n) r->t_cloud += load->server_wait_s; /* t_cloud includes the server's queue */
    if (split > 0) wait = load->mobile_wait_s;
  }
  double tx = 0.0; /* radio transmit time, seconds */
  if (split < in->n) {
    r->bytes = split == 0 ? in->input_bytes : in->out_bytes[split - 1];
    tx = r->bytes / in->bandwidth_Bps;
    r->t_comm = in->latency_s + tx;
    if (in->result_bytes > 0) r->t_comm += in->latency_s + in->result_bytes / in->bandwidth_Bps;
  }
  r->latency = wait + r->t_mobile + r->t_comm + r->t_cloud;
  /* Mobile energy: computing, transmitting, and idling while the cloud side works. */
  r->energy = in->p_compute_w * r->t_mobile + in->p_tx_w * tx +
              in->p_idle_w * (wait + r->t_comm - tx + r->t_cloud);
  return CL_OK;
}

cl_status cl_neurosurgeon_plan(const cl_ns_input *in, cl_ns_result *best, cl_ns_result *all) {
  return cl_neurosurgeon_plan_load(in, NULL, best, all);
}

cl_status cl_neurosurgeon_plan_load(const cl_ns_input *in, const cl_ns_load *load, cl_ns_result *best,
                                    cl_ns_result *all) {
  int found = 0;
  for (int s = 0; s <= in->n; s++) {
    cl_ns_result r;
    if (in->cut_ok && !in->cut_ok[s]) {
      if (all) {
        memset(&all[s], 0, sizeof all[s]);
        all[s].split = -1;
      }
      continue;
    }
    CL_TRY(cl_neurosurgeon_eval_load(in, load, s, &r));
    if (all) all[s] = r;
    double v = in->objective == CL_NS_ENERGY ? r.energy : r.latency;
    double b = in->objective == CL_NS_ENERGY ? best->energy : best->latency;
    if (!found || v < b) *best = r;
    found = 1;
  }
  if (!found) {
    cl_log_error("neurosurgeon: no allowed split point");
    return CL_ERR_INFEASIBLE;
  }
  return CL_OK;
}

/* ---- regression ---- */

#define NFEAT 4

typedef struct op_fit {
  int n;           /* samples; 0: use the fallback */
  double c[NFEAT]; /* coefficients in original units */
  double r2;
} op_fit;

struct cl_ns_model {
  op_fit ops[CL_OP_COUNT];
  op_fit all;
};

static double feat(const cl_ns_sample *s, int j) {
  return j == 0 ? 1.0 : j == 1 ? s->macs : j == 2 ? s->in_bytes : s->out_bytes;
}

/* Fit samples (those with op == want, or all when want < 0). */
static cl_status fit_one(const cl_ns_sample *s, int n, int want, op_fit *f) {
  memset(f, 0, sizeof *f);
  int m = 0;
  for (int i = 0; i < n; i++) m += want < 0 || s[i].op == want;
  if (!m) return CL_OK;
  /* Active features: intercept plus every feature that varies over these samples. */
  int act[NFEAT], p = 1;
  double scale[NFEAT] = {1, 1, 1, 1};
  act[0] = 0;
  for (int j = 1; j < NFEAT; j++) {
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < n; i++)
      if (want < 0 || s[i].op == want) {
        double x = feat(&s[i], j);
        lo = x < lo ? x : lo;
        hi = x > hi ? x : hi;
      }
    if (hi > lo) {
      act[p++] = j;
      scale[j] = fmax(fabs(lo), fabs(hi));
    }
  }
  if (p > m) p = m; /* fewer samples than features: keep the first ones */
  f->n = m;
  gsl_matrix *X = gsl_matrix_alloc((size_t)m, (size_t)p);
  gsl_vector *y = gsl_vector_alloc((size_t)m), *c = gsl_vector_alloc((size_t)p);
  gsl_matrix *cov = gsl_matrix_alloc((size_t)p, (size_t)p);
  gsl_multifit_linear_workspace *w = gsl_multifit_linear_alloc((size_t)m, (size_t)p);
  cl_status st = CL_OK;
  if (!X || !y || !c || !cov || !w) {
    st = CL_ERR_NOMEM;
    goto done;
  }
  int r = 0;
  double mean = 0.0;
  for (int i = 0; i < n; i++) {
    if (!(want < 0 || s[i].op == want)) continue;
    for (int k = 0; k < p; k++) gsl_matrix_set(X, (size_t)r, (size_t)k, feat(&s[i], act[k]) / scale[act[k]]);
    gsl_vector_set(y, (size_t)r, s[i].seconds);
    mean += s[i].seconds;
    r++;
  }
  mean /= m;
  double chisq;
  size_t rank;
  gsl_error_handler_t *old = gsl_set_error_handler_off();
  int gs = gsl_multifit_linear_tsvd(X, y, 1e-10, c, cov, &chisq, &rank, w);
  gsl_set_error_handler(old);
  if (gs) {
    cl_log_error("neurosurgeon: least-squares fit failed for op %d: %s", want, gsl_strerror(gs));
    st = CL_ERR_INTERNAL;
    goto done;
  }
  for (int k = 0; k < p; k++) f->c[act[k]] = gsl_vector_get(c, (size_t)k) / scale[act[k]];
  double sstot = 0.0;
  for (int i = 0; i < n; i++)
    if (want < 0 || s[i].op == want) sstot += (s[i].seconds - mean) * (s[i].seconds - mean);
  f->r2 = sstot > 0 ? 1.0 - chisq / sstot : 1.0;
done:
  gsl_matrix_free(X);
  gsl_vector_free(y);
  gsl_vector_free(c);
  gsl_matrix_free(cov);
  if (w) gsl_multifit_linear_free(w);
  return st;
}

cl_status cl_ns_model_fit(const cl_ns_sample *s, int n, cl_ns_model **out) {
  *out = NULL;
  if (n < 1) {
    cl_log_error("neurosurgeon: regression needs at least one sample");
    return CL_ERR_INVALID;
  }
  for (int i = 0; i < n; i++)
    if (s[i].op < 0 || s[i].op >= CL_OP_COUNT || !(s[i].seconds >= 0) || !(s[i].macs >= 0) ||
        !(s[i].in_bytes >= 0) || !(s[i].out_bytes >= 0) || !isfinite(s[i].seconds) ||
        !isfinite(s[i].macs) || !isfinite(s[i].in_bytes) || !isfinite(s[i].out_bytes)) {
      cl_log_error("neurosurgeon: sample %d invalid (op %d, macs %g, in %g, out %g, %g s)", i,
                   s[i].op, s[i].macs, s[i].in_bytes, s[i].out_bytes, s[i].seconds);
      return CL_ERR_INVALID;
    }
  cl_ns_model *m = calloc(1, sizeof *m);
  if (!m) return CL_ERR_NOMEM;
  cl_status st = fit_one(s, n, -1, &m->all);
  for (int op = 0; op < CL_OP_COUNT && st == CL_OK; op++) st = fit_one(s, n, op, &m->ops[op]);
  if (st != CL_OK) {
    free(m);
    return st;
  }
  *out = m;
  return CL_OK;
}

void cl_ns_model_destroy(cl_ns_model *m) { free(m); }

static const op_fit *pick(const cl_ns_model *m, int op) {
  if (op >= 0 && op < CL_OP_COUNT && m->ops[op].n) return &m->ops[op];
  return &m->all;
}

cl_status cl_ns_model_predict(const cl_ns_model *m, int op, double macs, double in_bytes,
                              double out_bytes, double *seconds) {
  const op_fit *f = pick(m, op);
  double v = f->c[0] + f->c[1] * macs + f->c[2] * in_bytes + f->c[3] * out_bytes;
  *seconds = v > 0 ? v : 0.0;
  return CL_OK;
}

cl_status cl_ns_model_coeffs(const cl_ns_model *m, int op, double c[4], int *n_samples,
                             double *r2) {
  const op_fit *f = pick(m, op);
  memcpy(c, f->c, sizeof f->c);
  if (n_samples) *n_samples = (op >= 0 && op < CL_OP_COUNT) ? m->ops[op].n : f->n;
  if (r2) *r2 = f->r2;
  return CL_OK;
}
