/* CoEdge planner: LP relaxation (GLPK) of the energy-minimal row partition under a
 * deadline, largest-remainder rounding, exact repair/improvement by local search, greedy
 * device dropping; and the baselines (fastest, equal, proportional, fused tiles, minlat,
 * local). */
#include <glpk.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "coedge_internal.h"
#include "cleave/vec.h"

typedef enum objective { OBJ_ENERGY = 0, OBJ_LATENCY = 1 } objective;

/* ---------------------------------------------------------------- comparison */

/* 1 if evaluation a is strictly better than b under the objective (energy: feasibility
 * first, then energy; infeasible: latency). */
static int better_vals(const cl_coedge_result *a, const cl_coedge_result *b, objective obj) {
  const double eps = 1e-12;
  if (obj == OBJ_LATENCY) return a->latency < b->latency * (1 - eps) - eps;
  if (a->meets_deadline != b->meets_deadline) return a->meets_deadline;
  if (!a->meets_deadline) return a->latency < b->latency * (1 - eps) - eps;
  return a->energy < b->energy * (1 - eps) - eps;
}

/* As better_vals for results that may be empty (no rows allocated: no result). Search
 * results carry the evaluation but no plan; lp_planner builds the winner's plan. */
static int better(const cl_coedge_result *a, const cl_coedge_result *b, objective obj) {
  if (!b->rows) return a->rows != NULL;
  if (!a->rows) return 0;
  return better_vals(a, b, obj);
}

static void take(cl_coedge_result *dst, cl_coedge_result *src) {
  cl_coedge_result_fini(dst);
  *dst = *src;
  memset(src, 0, sizeof *src);
}

/* ---------------------------------------------------------------- LP model */

/* Linear expression over the LP columns (x_k for devices in S, then stage times T_s). */
typedef struct lin {
  double c0;
  double *v; /* [nv] */
} lin;

typedef struct lp_model {
  int nS, nT, nv;
  int *S;          /* [nS] device ids */
  int *col_of;     /* [n_dev] column of x_d or -1 */
  /* Stage s (a compute node in layer mode; the whole run in fused mode) costs
   * T_s >= slope[s*nS+k] * x_k + icpt[s*nS+k] for every k in S. */
  double *slope;   /* [nT * nS] seconds per reference row (b * H_i / ref_h) */
  double *icpt;    /* [nT * nS] seconds at the reference rows' offset (a + b e) */
  double *xref;    /* [nS] the reference partition (rows) */
  lin L;           /* end-to-end latency */
  lin E;           /* total energy */
  int sink;
} lp_model;

static void lin_add(lin *dst, const lin *src, double k, int nv) {
  dst->c0 += k * src->c0;
  for (int j = 0; j < nv; j++) dst->v[j] += k * src->v[j];
}

/* Builds the LP data for device set S from a reference plan (rows proportional to speed):
 * halo bytes, input halo rows and fused redundancy are taken from it as constants, the
 * rows themselves enter linearly. */
static cl_status lp_build(cl__coedge_ctx *c, const int *S, int nS, lp_model *m) {
  const cl_coedge_problem *p = c->p;
  int nd = p->n_dev, nn = c->last - c->first + 1;
  cl_status st = CL_OK;
  memset(m, 0, sizeof *m);
  m->nS = nS;
  m->nT = 0;
  for (int i = 0; i < nn; i++)
    if (cl_graph_node(p->g, c->first + i)->op != CL_OP_INPUT) m->nT++;
  if (p->mode == CL_SPATIAL_FUSED) m->nT = 1;
  m->nv = nS + m->nT;
  int nv = m->nv;
  size_t ns = (size_t)nS, nst = (size_t)m->nT * ns, nl = (size_t)nd * (size_t)(nv + 1);
  /* The model's arrays (one block, freed by lp_free) and this function's scratch (one
   * block, owned by busy). busy, tx, rx: per device lin, c0 then v. */
  const cl_block_part model[] = {CL_BLOCK_PART(m->slope, nst), CL_BLOCK_PART(m->icpt, nst),
                                 CL_BLOCK_PART(m->xref, ns),   CL_BLOCK_PART(m->L.v, (size_t)nv),
                                 CL_BLOCK_PART(m->E.v, (size_t)nv), CL_BLOCK_PART(m->S, ns),
                                 CL_BLOCK_PART(m->col_of, (size_t)nd)};
  double *busy = NULL, *tx, *rx, *xr, *vec, *rep;
  int *rows;
  const cl_block_part scratch[] = {CL_BLOCK_PART(busy, nl),        CL_BLOCK_PART(tx, nl),
                                   CL_BLOCK_PART(rx, nl),          CL_BLOCK_PART(xr, (size_t)nd),
                                   CL_BLOCK_PART(vec, 2 * ns),     CL_BLOCK_PART(rep, 2 * nst),
                                   CL_BLOCK_PART(rows, (size_t)nd)};
  cl_coedge_result ref = {0};
  if ((st = cl_block_alloc(model, 7)) != CL_OK || (st = cl_block_alloc(scratch, 7)) != CL_OK) goto done;
  memcpy(m->S, S, (size_t)nS * sizeof *S);
  for (int d = 0; d < nd; d++) m->col_of[d] = -1;
  for (int k = 0; k < nS; k++) m->col_of[S[k]] = k;

  /* reference partition: proportional to whole-run speed, largest remainder */
  {
    double wsum = 0;
    for (int k = 0; k < nS; k++) wsum += 1.0 / (c->full[S[k]] > 0 ? c->full[S[k]] : 1e-12);
    int given = 0;
    for (int k = 0; k < nS; k++) {
      xr[S[k]] = c->ref_h * (1.0 / (c->full[S[k]] > 0 ? c->full[S[k]] : 1e-12)) / wsum;
      rows[S[k]] = (int)floor(xr[S[k]]);
      given += rows[S[k]];
    }
    while (given < c->ref_h) {
      int best = -1;
      double fr = -1;
      for (int k = 0; k < nS; k++) {
        double f = xr[S[k]] - rows[S[k]];
        if (f > fr) fr = f, best = S[k];
      }
      rows[best]++;
      xr[best] = rows[best]; /* consumed */
      given++;
    }
  }
  st = cl__coedge_result_alloc(&ref, nd);
  if (st == CL_OK) st = cl__coedge_score_rows_detail(c, rows, &ref);
  if (st != CL_OK) goto done;
  const cl_box *rbox = c->w_box; /* the reference plan's boxes and transfers */
  m->sink = c->w_sink;
  int T = nd;

  /* compute: rows_{i,d}(x) = x_d * H_i / ref_h + e_{i,d}, e from the reference plan.
   * Layer mode: one stage per compute node, T_i >= (B H_i / ref_h) x_d + (A + B e_i,d),
   * except that stages whose coefficient vectors (slopes, intercepts over S) are
   * proportional are merged into one: if stage j = lambda * stage i, then max_d of j is
   * lambda * max_d of i, so T_i + T_j >= (1 + lambda) * (row of i) is the same
   * constraint set. This is exact, and common: with speed-scaled host times (a = 0,
   * b = t / (speed H)) every node of the same height has proportional rows (same
   * reference slices, same e), so GoogLeNet's 193 stages become ~8. */
  for (int k = 0; k < nS; k++) m->xref[k] = rows[S[k]];
  int n_grp = 0;
  for (int i = 0; i < nn; i++) {
    int id = c->first + i;
    const cl_node *n = cl_graph_node(p->g, id);
    if (n->op == CL_OP_INPUT) continue;
    double hr = (double)n->out.h / c->ref_h, norm = 0;
    for (int k = 0; k < nS; k++) {
      int d = S[k];
      cl_box b = rbox[(size_t)i * T + d];
      double r_ref = cl_box_empty(b) ? 0 : b.y1 - b.y0;
      double e = r_ref - rows[d] * hr;
      double A = c->A[(size_t)d * c->n_graph + id], B = c->B[(size_t)d * c->n_graph + id];
      vec[k] = B * hr;
      vec[nS + k] = A + B * e;
      norm += fabs(vec[k]) + fabs(vec[nS + k]);
      double *bd = busy + (size_t)d * (nv + 1);
      bd[0] += A + B * e;
      bd[1 + k] += B * hr;
    }
    if (norm == 0) continue; /* a free node: T >= 0 */
    int g = 0;
    if (p->mode == CL_SPATIAL_LAYER) {
      for (g = 0; g < n_grp; g++) {
        const double *r = rep + (size_t)g * 2 * nS;
        int same = 1;
        for (int k = 0; k < 2 * nS && same; k++)
          same = fabs(vec[k] / norm - r[k]) <= 1e-12;
        if (same) break;
      }
      if (g == n_grp) {
        for (int k = 0; k < 2 * nS; k++) rep[(size_t)g * 2 * nS + k] = vec[k] / norm;
        m->L.v[nS + g] = 1.0;
        n_grp++;
      }
    } else if (n_grp == 0) { /* fused: one compute phase, per-device sums */
      m->L.v[nS] = 1.0;
      n_grp = 1;
    }
    for (int k = 0; k < nS; k++) {
      m->slope[(size_t)g * nS + k] += vec[k];
      m->icpt[(size_t)g * nS + k] += vec[nS + k];
    }
  }
  m->nT = n_grp;
  m->nv = nS + n_grp;

  /* transfers */
  for (int k = 0; k < c->w_n_xfer; k++) {
    const cl_spatial_xfer *x = &c->w_xfer[k];
    const cl_node *n = cl_graph_node(p->g, x->node);
    /* wire bytes per row (the graph input may travel as 8-bit elements) */
    double rb = (double)cl__coedge_wire_bytes(
        p, n, (int64_t)n->out.n * n->out.c * n->out.w * (int64_t)sizeof(float));
    double hr = (double)n->out.h / c->ref_h;
    double c0, cx = 0;
    int col = -1;
    if (x->kind == CL_XFER_HALO) {
      c0 = (double)x->bytes / p->bandwidth + p->msg_latency; /* constant */
    } else {
      int d = x->kind == CL_XFER_SCATTER ? x->dst : x->src;
      col = m->col_of[d];
      double r_ref = x->box.y1 - x->box.y0;
      double e = x->kind == CL_XFER_SCATTER ? r_ref - rows[d] * hr : 0; /* halo/growth rows */
      c0 = rb * e / p->bandwidth + p->msg_latency;
      cx = rb * hr / p->bandwidth;
      if (col < 0) cx = 0;
    }
    if (!(p->overlap && x->kind == CL_XFER_HALO)) m->L.c0 += c0; /* overlap: hidden (relaxation) */
    if (col >= 0) m->L.v[col] += cx;
    double *ts = tx + (size_t)x->src * (nv + 1), *rd = rx + (size_t)x->dst * (nv + 1);
    ts[0] += c0;
    rd[0] += c0;
    if (col >= 0) ts[1 + col] += cx, rd[1 + col] += cx;
  }
  m->L.c0 += c->tail[m->sink];
  busy[(size_t)m->sink * (nv + 1)] += c->tail[m->sink];

  /* energy over participants: S plus source and sink */
  double pidle = 0;
  for (int d = 0; d < nd; d++) {
    if (m->col_of[d] < 0 && d != p->source && d != m->sink) continue;
    const cl_coedge_device *v = &p->dev[d];
    pidle += v->p_idle;
    lin lb = {busy[(size_t)d * (nv + 1)], busy + (size_t)d * (nv + 1) + 1};
    lin lt = {tx[(size_t)d * (nv + 1)], tx + (size_t)d * (nv + 1) + 1};
    lin lr = {rx[(size_t)d * (nv + 1)], rx + (size_t)d * (nv + 1) + 1};
    lin_add(&m->E, &lb, v->p_comp - v->p_idle, nv);
    lin_add(&m->E, &lt, v->p_tx - v->p_idle, nv);
    lin_add(&m->E, &lr, v->p_rx - v->p_idle, nv);
  }
  lin_add(&m->E, &m->L, pidle, nv);
done:
  cl_coedge_result_fini(&ref);
  free(busy); /* the scratch block */
  return st;
}

static void lp_free(lp_model *m) {
  free(m->slope); /* the model's block */
  memset(m, 0, sizeof *m);
}

/* Stage s's epigraph row for device column k: T_s - slope x_k >= icpt. */
static void add_epi_row(glp_prob *lp, const lp_model *m, int s, int k) {
  int r = glp_add_rows(lp, 1);
  int ind[3] = {0, 1 + m->nS + s, 1 + k};
  double val[3] = {0, 1.0, -m->slope[(size_t)s * m->nS + k]};
  glp_set_row_bnds(lp, r, GLP_LO, m->icpt[(size_t)s * m->nS + k], 0.0);
  glp_set_mat_row(lp, r, 2, ind, val);
}

/* Solve the LP; x[n_dev] receives the relaxed rows (0 outside S). Returns CL_OK,
 * CL_ERR_INFEASIBLE (deadline row unreachable) or CL_ERR_INTERNAL.
 *
 * Row generation: the full LP has one epigraph row per (stage, device) -- 1,600+ rows
 * for GoogLeNet on 8 devices, most of them slack at the optimum. We start with each
 * stage's binding row at the reference split, solve, add every row the solution
 * violates, and re-solve from the previous basis (dual simplex: added rows keep it dual
 * feasible) until none is violated. The final solution is feasible for the full LP and
 * optimal for a relaxation of it, hence optimal for the full LP: the result is the same
 * LP optimum, not an approximation. Infeasibility of a relaxation proves infeasibility. */
static cl_status lp_solve(cl__coedge_ctx *c, const lp_model *m, objective obj, double deadline,
                          double *x, double *objval) {
  const cl_coedge_problem *p = c->p;
  int nS = m->nS, nv = m->nv, nT = m->nT;
  int use_dl = obj == OBJ_ENERGY && deadline > 0;
  unsigned char *have = calloc((size_t)nT * nS, 1);
  int *ind = malloc((size_t)(nv + 1) * sizeof *ind);
  double *val = malloc((size_t)(nv + 1) * sizeof *val);
  if (!have || !ind || !val) {
    free(have), free(ind), free(val);
    return CL_ERR_NOMEM;
  }
  glp_prob *lp = glp_create_prob();
  glp_set_obj_dir(lp, GLP_MIN);
  glp_add_cols(lp, nv);
  for (int k = 0; k < nS; k++) glp_set_col_bnds(lp, 1 + k, GLP_DB, 0.0, (double)c->ref_h);
  for (int s = 0; s < nT; s++) glp_set_col_bnds(lp, 1 + nS + s, GLP_LO, 0.0, 0.0);
  const lin *objf = obj == OBJ_ENERGY ? &m->E : &m->L;
  for (int j = 0; j < nv; j++) glp_set_obj_coef(lp, 1 + j, objf->v[j]);
  glp_set_obj_coef(lp, 0, objf->c0);
  /* sum x = ref_h */
  glp_add_rows(lp, 1);
  glp_set_row_bnds(lp, 1, GLP_FX, (double)c->ref_h, (double)c->ref_h);
  for (int k = 0; k < nS; k++) ind[1 + k] = 1 + k, val[1 + k] = 1.0;
  glp_set_mat_row(lp, 1, nS, ind, val);
  if (use_dl) {
    int len = 0;
    for (int j = 0; j < nv; j++)
      if (m->L.v[j] != 0) ++len, ind[len] = 1 + j, val[len] = m->L.v[j];
    glp_add_rows(lp, 1);
    glp_set_row_bnds(lp, 2, GLP_UP, 0.0, deadline - m->L.c0);
    glp_set_mat_row(lp, 2, len, ind, val);
  }
  /* initial rows: each stage's slowest device at the reference split */
  for (int s = 0; s < nT; s++) {
    int kb = 0;
    double vb = -1e300;
    for (int k = 0; k < nS; k++) {
      double v = m->slope[(size_t)s * nS + k] * m->xref[k] + m->icpt[(size_t)s * nS + k];
      if (v > vb) vb = v, kb = k;
    }
    add_epi_row(lp, m, s, kb);
    have[(size_t)s * nS + kb] = 1;
  }
  glp_smcp parm;
  glp_init_smcp(&parm);
  parm.msg_lev = GLP_MSG_OFF;
  parm.presolve = GLP_OFF;
  cl_status st = CL_OK;
  for (int round = 0;; round++) {
    /* Coefficients span ~1e-9 (s per row) to 1 (row sums): unscaled, the primal simplex
     * can declare this always-feasible LP infeasible (alexnet, 4 devices). Rescale
     * after every batch of rows (the basis is kept). */
    int term = glp_term_out(GLP_OFF);
    glp_scale_prob(lp, GLP_SF_AUTO);
    glp_term_out(term);
    parm.meth = round == 0 ? GLP_PRIMAL : GLP_DUALP;
    int ret = glp_simplex(lp, &parm);
    int gs = glp_get_status(lp);
    if (ret != 0 && ret != GLP_ENOPFS && ret != GLP_ENODFS) {
      cl_log_error("coedge: glp_simplex failed (code %d) on a %d x %d LP", ret,
                   glp_get_num_rows(lp), nv);
      st = CL_ERR_INTERNAL;
      break;
    }
    if (gs == GLP_NOFEAS || ret == GLP_ENOPFS) {
      st = CL_ERR_INFEASIBLE;
      break;
    }
    if (gs != GLP_OPT) {
      cl_log_error("coedge: LP ended with GLPK status %d", gs);
      st = CL_ERR_INTERNAL;
      break;
    }
    int added = 0;
    for (int s = 0; s < nT; s++) {
      double ts = glp_get_col_prim(lp, 1 + nS + s);
      double tol = 1e-9 * (ts > 0 ? ts : -ts) + 1e-15;
      for (int k = 0; k < nS; k++) {
        if (have[(size_t)s * nS + k]) continue;
        double v = m->slope[(size_t)s * nS + k] * glp_get_col_prim(lp, 1 + k) +
                   m->icpt[(size_t)s * nS + k];
        if (v > ts + tol) {
          add_epi_row(lp, m, s, k);
          have[(size_t)s * nS + k] = 1;
          added++;
        }
      }
    }
    if (!added) {
      for (int d = 0; d < p->n_dev; d++) x[d] = 0;
      for (int k = 0; k < nS; k++) x[m->S[k]] = glp_get_col_prim(lp, 1 + k);
      *objval = glp_get_obj_val(lp);
      break;
    }
  }
  glp_delete_prob(lp);
  free(have), free(ind), free(val);
  return st;
}

/* ---------------------------------------------------------------- rounding + search */

/* Largest-remainder rounding of x (summing to ref_h) to integers. */
static void round_rows(const double *x, int nd, int ref_h, int *rows) {
  int given = 0;
  for (int d = 0; d < nd; d++) {
    double v = x[d] < 0 ? 0 : x[d];
    rows[d] = (int)floor(v + 1e-9);
    given += rows[d];
  }
  while (given > ref_h) { /* only through the epsilon above */
    int d = 0;
    for (int k = 1; k < nd; k++)
      if (rows[k] > rows[d]) d = k;
    rows[d]--, given--;
  }
  while (given < ref_h) {
    int best = -1;
    double fr = -2;
    for (int d = 0; d < nd; d++) {
      double f = x[d] - rows[d];
      if (x[d] > 0 && f > fr) fr = f, best = d;
    }
    if (best < 0) best = 0;
    rows[best]++, given++;
  }
}

/* Exact local search from rows: move `step` rows between devices of the support mask
 * while it improves the objective; steps shrink to 1. Candidates are judged with the
 * plan-free evaluation (cl__coedge_score_rows); *best gets the winner's evaluation
 * without a plan. */
static cl_status local_search(cl__coedge_ctx *c, const int *start, const int *allowed,
                              objective obj, cl_coedge_result *best) {
  int nd = c->p->n_dev;
  int *cur = malloc((size_t)nd * sizeof *cur);
  cl_coedge_result sb, sc;
  if (!cur) return CL_ERR_NOMEM;
  cl_status st = cl__coedge_result_alloc(&sb, nd);
  if (st == CL_OK) st = cl__coedge_result_alloc(&sc, nd);
  if (st != CL_OK) {
    free(cur);
    cl_coedge_result_fini(&sb);
    return st;
  }
  memcpy(cur, start, (size_t)nd * sizeof *cur);
  st = cl__coedge_score_rows(c, cur, &sb);
  int step = c->ref_h / 32 > 1 ? c->ref_h / 32 : 1;
  int guard = 0;
  while (st == CL_OK && step >= 1 && guard++ < 400) {
    int improved = 0;
    for (int i = 0; i < nd && !improved && st == CL_OK; i++) {
      if (cur[i] < step) continue;
      for (int j = 0; j < nd && !improved && st == CL_OK; j++) {
        if (j == i || !allowed[j]) continue;
        /* shift `step` rows, or hand all of i's rows to j (per-device fixed costs --
         * messages, halos, intercepts -- make partial moves look worse than a merge) */
        for (int kind = 0; kind < 2 && !improved && st == CL_OK; kind++) {
          int mv = kind == 0 ? step : cur[i];
          if (kind == 1 && mv == step) continue;
          cur[i] -= mv, cur[j] += mv;
          st = cl__coedge_score_rows(c, cur, &sc);
          if (st == CL_OK && better_vals(&sc, &sb, obj)) {
            cl_coedge_result t = sb;
            sb = sc, sc = t;
            improved = 1;
          } else {
            cur[i] += mv, cur[j] -= mv;
          }
        }
      }
    }
    if (!improved) step /= 2;
  }
  if (st == CL_OK) take(best, &sb);
  cl_coedge_result_fini(&sb);
  cl_coedge_result_fini(&sc);
  free(cur);
  return st;
}

/* LP over device set in_set: x[n_dev] gets the relaxed rows, *val the LP optimum. With
 * an unreachable deadline (energy objective) the min-latency LP is solved instead and
 * *feasible is 0. */
static cl_status set_lp(cl__coedge_ctx *c, const int *in_set, objective obj, double *x,
                        double *val, int *feasible, int *lp_solves) {
  const cl_coedge_problem *p = c->p;
  int nd = p->n_dev, nS = 0;
  int *S = malloc((size_t)nd * sizeof *S);
  lp_model m = {0};
  if (!S) return CL_ERR_NOMEM;
  for (int d = 0; d < nd; d++)
    if (in_set[d]) S[nS++] = d;
  cl_status st = lp_build(c, S, nS, &m);
  *feasible = 1;
  if (st == CL_OK) {
    st = lp_solve(c, &m, obj, p->deadline, x, val);
    (*lp_solves)++;
  }
  if (st == CL_ERR_INFEASIBLE) { /* start from the fastest relaxed split instead */
    *feasible = 0;
    st = lp_solve(c, &m, OBJ_LATENCY, 0, x, val);
    (*lp_solves)++;
  }
  lp_free(&m);
  free(S);
  return st;
}

/* Round the relaxed rows x and search exactly from there within in_set. */
static cl_status search_from(cl__coedge_ctx *c, const double *x, const int *in_set, objective obj,
                             cl_coedge_result *out) {
  int *rows = malloc((size_t)c->p->n_dev * sizeof *rows);
  if (!rows) return CL_ERR_NOMEM;
  round_rows(x, c->p->n_dev, c->ref_h, rows);
  cl_status st = local_search(c, rows, in_set, obj, out);
  free(rows);
  return st;
}

/* LP (energy or latency) over device set S, rounding, local search. *lp_obj gets the LP
 * optimum when the LP is feasible. */
static cl_status solve_set(cl__coedge_ctx *c, const int *in_set, objective obj,
                           cl_coedge_result *out, int *lp_solves, double *lp_obj) {
  double *x = malloc((size_t)c->p->n_dev * sizeof *x), val = 0;
  int feasible = 0;
  if (!x) return CL_ERR_NOMEM;
  cl_status st = set_lp(c, in_set, obj, x, &val, &feasible, lp_solves);
  if (st == CL_OK && feasible && lp_obj) *lp_obj = val;
  if (st == CL_OK) st = search_from(c, x, in_set, obj, out);
  free(x);
  return st;
}

/* Candidates the growing phase searches exactly per round (best LP optima first). */
#define GROW_TRIES 2

/* Growing phase: from the best plan's device set, try adding each unused device. The
 * dropping phase only visits subsets of the sets it starts from, and its start (every
 * device) can be far from the optimum: e.g. the LP over all devices misses the deadline
 * and the search settles on one device, although a pair that the dropping never tries
 * is cheaper (issue #6: vgg16 on the PC alone vs TX2 + PC). Each candidate set is
 * screened by its LP optimum; the exact search runs on the GROW_TRIES most promising. */
static cl_status grow(cl__coedge_ctx *c, objective obj, cl_coedge_result *out, int *lp_solves) {
  int nd = c->p->n_dev;
  int *set = malloc((size_t)nd * sizeof *set), *order = malloc((size_t)nd * sizeof *order);
  double *x = malloc((size_t)nd * nd * sizeof *x), *val = malloc((size_t)nd * sizeof *val);
  cl_status st = CL_OK;
  if (!set || !order || !x || !val) {
    st = CL_ERR_NOMEM;
    goto done;
  }
  for (int round = 0; round < nd && st == CL_OK; round++) {
    int n_cand = 0;
    for (int d = 0; d < nd; d++) set[d] = out->rows[d] > 0;
    for (int d = 0; d < nd && st == CL_OK; d++) {
      if (!c->avail[d] || set[d]) continue;
      int feasible;
      set[d] = 1;
      st = set_lp(c, set, obj, x + (size_t)d * nd, &val[d], &feasible, lp_solves);
      set[d] = 0;
      if (st != CL_OK) break;
      /* the LP value is the relaxed objective: a screen, not a bound */
      int promising = obj == OBJ_LATENCY ? val[d] < out->latency
                                         : feasible && (!out->meets_deadline || val[d] < out->energy);
      if (!promising) continue;
      int k = n_cand++;
      while (k > 0 && val[order[k - 1]] > val[d]) order[k] = order[k - 1], k--;
      order[k] = d;
    }
    cl_coedge_result best = {0};
    for (int k = 0; k < n_cand && k < GROW_TRIES && st == CL_OK; k++) {
      int d = order[k];
      cl_coedge_result cand = {0};
      set[d] = 1;
      st = search_from(c, x + (size_t)d * nd, set, obj, &cand);
      set[d] = 0;
      if (st == CL_OK && better(&cand, &best, obj)) take(&best, &cand);
      cl_coedge_result_fini(&cand);
    }
    int improved = st == CL_OK && better(&best, out, obj);
    if (improved) take(out, &best);
    cl_coedge_result_fini(&best);
    if (!improved) break;
  }
done:
  free(set), free(order), free(x), free(val);
  return st;
}

/* Greedy device dropping around solve_set: start with every available device, drop the
 * device whose removal helps most, repeat while it helps; then single devices; then
 * grow the best set device by device. */
static cl_status lp_planner(cl__coedge_ctx *c, objective obj, cl_coedge_result *out) {
  int nd = c->p->n_dev, lp_solves = 0;
  double lp_obj = 0;
  int *set = malloc((size_t)nd * sizeof *set), *trial = malloc((size_t)nd * sizeof *trial);
  if (!set || !trial) {
    free(set), free(trial);
    return CL_ERR_NOMEM;
  }
  memcpy(set, c->avail, (size_t)nd * sizeof *set);
  cl_status st = solve_set(c, set, obj, out, &lp_solves, &lp_obj);
  double first_lp = lp_obj;
  while (st == CL_OK) {
    /* devices the search left without rows leave the set */
    int n_in = 0;
    for (int d = 0; d < nd; d++) {
      set[d] = set[d] && out->rows[d] > 0;
      n_in += set[d];
    }
    if (n_in <= 1) break;
    cl_coedge_result best = {0};
    int best_d = -1;
    for (int d = 0; d < nd && st == CL_OK; d++) {
      if (!set[d]) continue;
      memcpy(trial, set, (size_t)nd * sizeof *trial);
      trial[d] = 0;
      cl_coedge_result cand = {0};
      st = solve_set(c, trial, obj, &cand, &lp_solves, NULL);
      if (st == CL_OK && better(&cand, &best, obj)) take(&best, &cand), best_d = d;
      cl_coedge_result_fini(&cand);
    }
    if (st == CL_OK && best_d >= 0 && better(&best, out, obj)) {
      take(out, &best);
      set[best_d] = 0;
    } else {
      cl_coedge_result_fini(&best);
      break;
    }
  }
  /* single-device plans are the corners the relaxation rounds away from */
  cl_coedge_result sc = {0};
  if (st == CL_OK) st = cl__coedge_result_alloc(&sc, nd);
  for (int d = 0; d < nd && st == CL_OK; d++) {
    if (!c->avail[d]) continue;
    memset(trial, 0, (size_t)nd * sizeof *trial);
    trial[d] = c->ref_h;
    st = cl__coedge_score_rows(c, trial, &sc);
    if (st == CL_OK && better_vals(&sc, out, obj)) {
      take(out, &sc);
      st = cl__coedge_result_alloc(&sc, nd);
    }
  }
  cl_coedge_result_fini(&sc);
  if (st == CL_OK && c->n_avail > 1) st = grow(c, obj, out, &lp_solves);
  if (st == CL_OK) { /* the winner's plan */
    cl_coedge_result full = {0};
    st = cl__coedge_eval_rows(c, out->rows, &full);
    if (st == CL_OK) take(out, &full);
    cl_coedge_result_fini(&full);
  }
  out->lp_solves = lp_solves;
  out->lp_objective = first_lp;
  free(set), free(trial);
  return st;
}

/* ---------------------------------------------------------------- baselines */

static int fastest_device(const cl__coedge_ctx *c) {
  int best = -1;
  for (int d = 0; d < c->p->n_dev; d++)
    if (c->avail[d] && (best < 0 || c->full[d] < c->full[best])) best = d;
  return best;
}

static cl_status weighted_rows(cl__coedge_ctx *c, int by_speed, cl_coedge_result *out) {
  int nd = c->p->n_dev;
  double *x = calloc((size_t)nd, sizeof *x), wsum = 0;
  int *rows = calloc((size_t)nd, sizeof *rows);
  if (!x || !rows) {
    free(x), free(rows);
    return CL_ERR_NOMEM;
  }
  for (int d = 0; d < nd; d++)
    if (c->avail[d]) {
      x[d] = by_speed ? 1.0 / (c->full[d] > 0 ? c->full[d] : 1e-12) : 1.0;
      wsum += x[d];
    }
  for (int d = 0; d < nd; d++) x[d] = x[d] * c->ref_h / wsum;
  round_rows(x, nd, c->ref_h, rows);
  cl_status st = cl__coedge_eval_rows(c, rows, out);
  free(x), free(rows);
  return st;
}

static cl_status tiles(cl__coedge_ctx *c, int grid, cl_coedge_result *out) {
  const cl_coedge_problem *p = c->p;
  int nd = p->n_dev, T = grid * grid;
  const cl_node *ln = cl_graph_node(p->g, c->last);
  if (ln->out.h < grid || ln->out.w < grid) {
    cl_log_error("coedge: %dx%d tiles do not fit the %dx%d output of '%s'", grid, grid,
                 ln->out.h, ln->out.w, ln->name);
    return CL_ERR_INVALID;
  }
  int *dev = malloc((size_t)T * sizeof *dev);
  double *load = calloc((size_t)nd, sizeof *load);
  if (!dev || !load) {
    free(dev), free(load);
    return CL_ERR_NOMEM;
  }
  /* equal-work tiles, each to the device that would finish it first (LPT) */
  for (int k = 0; k < T; k++) {
    int best = -1;
    double bt = 0;
    for (int d = 0; d < nd; d++) {
      if (!c->avail[d]) continue;
      double t = load[d] + c->full[d] / T;
      if (best < 0 || t < bt - 1e-15) best = d, bt = t;
    }
    dev[k] = best;
    load[best] = bt;
  }
  cl_spatial_spec spec = {c->first, c->last, CL_SPATIAL_FUSED, nd, p->source, -1};
  cl_spatial_plan *plan = NULL;
  cl_status st = cl_spatial_plan_tiles(p->g, &spec, grid, grid, dev, &plan);
  if (st == CL_OK) st = cl__coedge_eval(c, plan, out);
  free(dev), free(load);
  return st;
}

cl_status cl_coedge_plan(const cl_coedge_problem *p, cl_coedge_planner which,
                         cl_coedge_result *out) {
  memset(out, 0, sizeof *out);
  cl__coedge_ctx c;
  CL_TRY(cl__coedge_ctx_init(&c, p));
  cl_status st = CL_OK;
  int nd = p->n_dev;
  switch (which) {
  case CL_COEDGE_FASTEST: {
    int *rows = calloc((size_t)nd, sizeof *rows);
    if (!rows) {
      st = CL_ERR_NOMEM;
      break;
    }
    rows[fastest_device(&c)] = c.ref_h;
    st = cl__coedge_eval_rows(&c, rows, out);
    free(rows);
    break;
  }
  case CL_COEDGE_LOCAL: { /* on-device inference on the requester: nothing is sent */
    if (!c.avail[p->source]) {
      cl_log_error("coedge: planner local: source device %d '%s' cannot compute (speed 0)",
                   p->source, p->dev[p->source].name ? p->dev[p->source].name : "?");
      st = CL_ERR_UNSUPPORTED;
      break;
    }
    int *rows = calloc((size_t)nd, sizeof *rows);
    if (!rows) {
      st = CL_ERR_NOMEM;
      break;
    }
    rows[p->source] = c.ref_h;
    st = cl__coedge_eval_rows(&c, rows, out);
    free(rows);
    break;
  }
  case CL_COEDGE_EQUAL: st = weighted_rows(&c, 0, out); break;
  case CL_COEDGE_PROPORTIONAL: st = weighted_rows(&c, 1, out); break;
  case CL_COEDGE_TILES2X2: st = tiles(&c, 2, out); break;
  case CL_COEDGE_TILES3X3: st = tiles(&c, 3, out); break;
  case CL_COEDGE_MINLAT: st = lp_planner(&c, OBJ_LATENCY, out); break;
  case CL_COEDGE_COEDGE:
    st = lp_planner(&c, OBJ_ENERGY, out);
    if (st == CL_OK && !out->meets_deadline) {
      /* the deadline cannot be met: report the fastest plan we can find */
      cl_coedge_result ml = {0};
      int solves = out->lp_solves;
      st = lp_planner(&c, OBJ_LATENCY, &ml);
      if (st == CL_OK && ml.meets_deadline) {
        /* the energy search missed a split the latency search finds (its LP's halo terms
         * are constants of a reference split): that plan meets the deadline */
        take(out, &ml);
        out->lp_solves += solves;
      } else if (st == CL_OK) {
        if (ml.latency < out->latency) take(out, &ml);
        out->lp_solves += solves;
        cl_log_error("coedge: deadline %.3f ms is infeasible for '%s' on %d device(s); the "
                     "minimum achievable latency is %.3f ms",
                     p->deadline * 1e3, cl_graph_name(p->g), c.n_avail, out->latency * 1e3);
        st = CL_ERR_INFEASIBLE;
      }
      cl_coedge_result_fini(&ml);
    }
    break;
  default:
    cl_log_error("coedge: unknown planner %d", (int)which);
    st = CL_ERR_INVALID;
  }
  out->planner = which;
  out->evals = c.evals;
  cl__coedge_ctx_fini(&c);
  return st;
}
