/* Neurosurgeon, DADS and max-flow against brute force; regression model fits. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl_test.h"
#include "cleave/planner.h"

static double urand(uint64_t *s, double lo, double hi) {
  return lo + (hi - lo) * (double)(cl_rng_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

static void test_maxflow(void) {
  /* CLRS figure 26.1: max flow 23. */
  cl_maxflow *mf;
  CL_CHECK_OK(cl_maxflow_create(6, &mf));
  int e[][3] = {{0, 1, 16}, {0, 2, 13}, {1, 3, 12}, {2, 1, 4}, {2, 4, 14},
                {3, 2, 9},  {3, 5, 20}, {4, 3, 7},  {4, 5, 4}};
  for (int i = 0; i < 9; i++) CL_CHECK_OK(cl_maxflow_add_edge(mf, e[i][0], e[i][1], e[i][2]));
  double f = 0;
  CL_CHECK_OK(cl_maxflow_solve(mf, 0, 5, &f));
  CL_CHECK_NEAR(f, 23.0, 1e-12);
  CL_CHECK(cl_maxflow_source_side(mf, 0) && !cl_maxflow_source_side(mf, 5));
  cl_maxflow_destroy(mf);
  /* infinite edges stay uncut */
  CL_CHECK_OK(cl_maxflow_create(3, &mf));
  CL_CHECK_OK(cl_maxflow_add_edge(mf, 0, 1, INFINITY));
  CL_CHECK_OK(cl_maxflow_add_edge(mf, 1, 2, 2.5));
  CL_CHECK_OK(cl_maxflow_solve(mf, 0, 2, &f));
  CL_CHECK_NEAR(f, 2.5, 1e-12);
  CL_CHECK(cl_maxflow_source_side(mf, 1));
  cl_maxflow_destroy(mf);
}

/* ---- Neurosurgeon vs brute force on chains ---- */
static void test_neurosurgeon_chains(void) {
  uint64_t rng = 7;
  for (int trial = 0; trial < 300; trial++) {
    int n = 1 + (int)(cl_rng_next(&rng) % 30);
    double tm[32], tc[32], ob[32];
    for (int i = 0; i < n; i++) {
      tm[i] = urand(&rng, 0.001, 0.3);
      tc[i] = tm[i] * urand(&rng, 0.02, 0.6);
      ob[i] = floor(urand(&rng, 1e3, 5e6));
    }
    cl_ns_input in = {n, tm, tc, ob, NULL, urand(&rng, 1e4, 1e6), urand(&rng, 0, 0.1),
                      urand(&rng, 1e5, 1e8), trial % 3 ? 0 : 4000.0,
                      trial % 2 ? CL_NS_ENERGY : CL_NS_LATENCY, urand(&rng, 1, 5),
                      urand(&rng, 0.5, 3), urand(&rng, 0.05, 0.5)};
    cl_ns_result best, all[33];
    CL_CHECK_OK(cl_neurosurgeon_plan(&in, &best, all));
    double bl = INFINITY, be = INFINITY;
    for (int s = 0; s <= n; s++) {
      double local = 0, remote = 0, tx = 0, comm = 0;
      for (int i = 0; i < s; i++) local += tm[i];
      for (int i = s; i < n; i++) remote += tc[i];
      if (s < n) {
        tx = (s ? ob[s - 1] : in.input_bytes) / in.bandwidth_Bps;
        comm = in.latency_s + tx + (in.result_bytes > 0 ? in.latency_s + in.result_bytes / in.bandwidth_Bps : 0);
      }
      double lat = local + comm + remote;
      double en = in.p_compute_w * local + in.p_tx_w * tx + in.p_idle_w * (comm - tx + remote);
      CL_CHECK_NEAR(all[s].latency, lat, 1e-12);
      CL_CHECK_NEAR(all[s].energy, en, 1e-12);
      if (lat < bl) bl = lat;
      if (en < be) be = en;
    }
    if (in.objective == CL_NS_LATENCY)
      CL_CHECK_NEAR(best.latency, bl, 1e-12);
    else
      CL_CHECK_NEAR(best.energy, be, 1e-12);

    /* DADS on the same chain (plus an input node) finds the latency optimum too. */
    if (in.result_bytes == 0) {
      int off[34], idx[33];
      double td[33], tcl[33], out[33];
      td[0] = tcl[0] = 0;
      out[0] = in.input_bytes;
      off[0] = 0;
      off[1] = 0;
      for (int i = 1; i <= n; i++) {
        td[i] = tm[i - 1];
        tcl[i] = tc[i - 1];
        out[i] = ob[i - 1];
        idx[i - 1] = i - 1;
        off[i + 1] = i;
      }
      cl_dads_input d = {n + 1, off, idx, td, tcl, out, in.bandwidth_Bps, in.latency_s};
      unsigned char cloud[33];
      cl_dads_result r;
      CL_CHECK_OK(cl_dads_plan(&d, cloud, &r));
      CL_CHECK_NEAR(r.latency, bl, 1e-9 * (1 + bl));
    }
  }
  /* cut_ok restricts the splits */
  double tm[3] = {1, 1, 1}, tc[3] = {0.1, 0.1, 0.1}, ob[3] = {10, 10, 10};
  unsigned char ok[4] = {0, 0, 1, 1};
  cl_ns_input in = {3, tm, tc, ob, ok, 10, 0, 1e6, 0, CL_NS_LATENCY, 0, 0, 0};
  cl_ns_result best, all[4];
  CL_CHECK_OK(cl_neurosurgeon_plan(&in, &best, all));
  CL_CHECK_INT_EQ(best.split, 2);
  CL_CHECK_INT_EQ(all[0].split, -1);
}

/* ---- DADS vs brute force over all valid cloud sets ---- */

/* Independent cost: every cloud set that contains no input node and is closed under
 * consumers (once on the cloud, stays on the cloud). */
static double dads_brute(int n, const int *off, const int *idx, const double *td,
                         const double *tc, const double *ob, double bw, double lat,
                         unsigned *best_mask) {
  double best = INFINITY;
  for (unsigned mask = 0; mask < (1u << n); mask++) {
    int ok = 1;
    double cost = 0;
    for (int v = 0; v < n && ok; v++) {
      int c = (mask >> v) & 1;
      if (c && off[v] == off[v + 1]) ok = 0;
      for (int k = off[v]; k < off[v + 1]; k++)
        if (((mask >> idx[k]) & 1) && !c) ok = 0;
      cost += c ? tc[v] : td[v];
    }
    if (!ok) continue;
    for (int u = 0; u < n; u++) {
      if ((mask >> u) & 1) continue;
      int sent = 0;
      for (int v = u + 1; v < n && !sent; v++)
        if ((mask >> v) & 1)
          for (int k = off[v]; k < off[v + 1]; k++) sent |= idx[k] == u;
      if (sent) cost += lat + ob[u] / bw;
    }
    if (cost < best) {
      best = cost;
      *best_mask = mask;
    }
  }
  return best;
}

static void test_dads_random(void) {
  uint64_t rng = 2024;
  int trials = 0, nontrivial = 0;
  for (int trial = 0; trial < 400; trial++) {
    int n = 2 + (int)(cl_rng_next(&rng) % 13); /* 2..14 */
    int off[16], idx[64], k = 0;
    double td[16], tc[16], ob[16];
    off[0] = 0;
    for (int v = 0; v < n; v++) {
      /* node 0 is the input; occasionally a second source (e.g. a constant input) */
      int src = v == 0 || (v < 3 && cl_rng_next(&rng) % 8 == 0);
      if (!src) {
        int ni = 1 + (int)(cl_rng_next(&rng) % 3);
        for (int j = 0; j < ni; j++) {
          int u = v - 1 - (int)(cl_rng_next(&rng) % (v < 4 ? v : 4));
          int dup = 0;
          for (int q = off[v]; q < k; q++) dup |= idx[q] == u;
          if (!dup) idx[k++] = u;
        }
      }
      off[v + 1] = k;
      td[v] = src ? 0.0 : urand(&rng, 0.001, 0.2);
      tc[v] = src ? 0.0 : td[v] * urand(&rng, 0.02, 1.2);
      ob[v] = floor(urand(&rng, 1e3, 3e6));
    }
    double bw = urand(&rng, 1e5, 5e7), lat = urand(&rng, 0, 0.05);
    cl_dads_input in = {n, off, idx, td, tc, ob, bw, lat};
    unsigned char cloud[16];
    cl_dads_result r;
    CL_CHECK_OK(cl_dads_plan(&in, cloud, &r));
    unsigned bm = 0;
    double bf = dads_brute(n, off, idx, td, tc, ob, bw, lat, &bm);
    CL_CHECK_NEAR(r.latency, bf, 1e-9 * (1 + bf));
    cl_dads_result r2;
    CL_CHECK_OK(cl_dads_eval(&in, cloud, &r2));
    CL_CHECK_NEAR(r2.latency, r.latency, 1e-12);
    trials++;
    nontrivial += r.n_cloud > 0 && r.n_cloud < n - 1;
  }
  CL_CHECK_INT_EQ(trials, 400);
  CL_CHECK(nontrivial > 20); /* the random cases exercise real cuts */
  printf("dads: %d random DAGs, %d with a mixed partition\n", trials, nontrivial);

  /* A diamond where one tensor feeds two cloud consumers: sent once. */
  int off[5] = {0, 0, 1, 2, 4}, idx[4] = {0, 1, 1, 2};
  double td[4] = {0, 1, 10, 10}, tc[4] = {0, 1, 0.1, 0.1}, ob[4] = {100, 1000, 1, 1};
  cl_dads_input in = {4, off, idx, td, tc, ob, 1000.0, 0.0};
  unsigned char cloud[4];
  cl_dads_result r;
  CL_CHECK_OK(cl_dads_plan(&in, cloud, &r));
  CL_CHECK(!cloud[0] && cloud[2] && cloud[3]);
  CL_CHECK_INT_EQ(r.n_sent, 1);
  /* infeasible assignment: cloud -> device */
  unsigned char badc[4] = {0, 1, 0, 1};
  fprintf(stderr, "(expected error follows)\n");
  CL_CHECK_INT_EQ(cl_dads_eval(&in, badc, &r), CL_ERR_INFEASIBLE);
}

/* ---- regression ---- */
static void test_regression(void) {
  uint64_t rng = 99;
  cl_ns_sample s[200];
  int n = 0;
  for (int i = 0; i < 80; i++) { /* conv: exact linear law */
    double macs = urand(&rng, 1e6, 1e9), in = urand(&rng, 1e4, 1e7), out = urand(&rng, 1e4, 1e7);
    s[n++] = (cl_ns_sample){CL_OP_CONV, macs, in, out, 1e-3 + 2e-10 * macs + 1e-9 * in + 5e-10 * out};
  }
  for (int i = 0; i < 40; i++) { /* relu: no MACs, in == out (collinear features) */
    double b = urand(&rng, 1e4, 1e7);
    s[n++] = (cl_ns_sample){CL_OP_RELU, 0, b, b, 2e-4 + 3e-9 * b};
  }
  s[n++] = (cl_ns_sample){CL_OP_MAXPOOL, 0, 4e5, 1e5, 7e-4}; /* one sample */
  cl_ns_model *m;
  CL_CHECK_OK(cl_ns_model_fit(s, n, &m));
  double c[4], r2;
  int ns;
  CL_CHECK_OK(cl_ns_model_coeffs(m, CL_OP_CONV, c, &ns, &r2));
  CL_CHECK_INT_EQ(ns, 80);
  CL_CHECK_NEAR(c[0], 1e-3, 1e-9);
  CL_CHECK_NEAR(c[1], 2e-10, 1e-16);
  CL_CHECK_NEAR(c[2], 1e-9, 1e-15);
  CL_CHECK_NEAR(c[3], 5e-10, 1e-15);
  CL_CHECK(r2 > 0.999999);
  double t;
  CL_CHECK_OK(cl_ns_model_predict(m, CL_OP_CONV, 5e8, 2e6, 3e6, &t));
  CL_CHECK_NEAR(t, 1e-3 + 2e-10 * 5e8 + 1e-9 * 2e6 + 5e-10 * 3e6, 1e-9);
  CL_CHECK_OK(cl_ns_model_predict(m, CL_OP_RELU, 0, 5e6, 5e6, &t));
  CL_CHECK_NEAR(t, 2e-4 + 3e-9 * 5e6, 1e-9);
  CL_CHECK_OK(cl_ns_model_predict(m, CL_OP_MAXPOOL, 0, 8e5, 2e5, &t));
  CL_CHECK_NEAR(t, 7e-4, 1e-12);
  /* unseen op: fallback model fitted on everything, never negative */
  CL_CHECK_OK(cl_ns_model_coeffs(m, CL_OP_SOFTMAX, c, &ns, &r2));
  CL_CHECK_INT_EQ(ns, 0);
  CL_CHECK_OK(cl_ns_model_predict(m, CL_OP_SOFTMAX, 0, 4000, 4000, &t));
  CL_CHECK(t >= 0 && isfinite(t));
  cl_ns_model_destroy(m);
  fprintf(stderr, "(expected error follows)\n");
  CL_CHECK_INT_EQ(cl_ns_model_fit(s, 0, &m), CL_ERR_INVALID);
}

int main(void) {
  test_maxflow();
  test_neurosurgeon_chains();
  test_dads_random();
  test_regression();
  return cl_test_finish("test_planners");
}
