/* Tests for the CoEdge planner (sim/coedge*.c).
 *
 * - the evaluation function on a tiny chain, checked against numbers worked out by hand;
 * - the LP planner against exhaustive search over every integer row split (2-3 devices,
 *   layer and fused modes, random speeds / powers / deadlines): it must meet the deadline
 *   whenever any split does, stay within 3% of the optimal energy, and report
 *   infeasibility exactly when no split meets the deadline;
 * - minlat against the exhaustive minimum latency; baselines; device exclusion;
 * - GSL linear fit, devices file, unit parsing;
 * - the local planner and the 8-bit input scatter (input_bytes_per_elem), by hand.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cl_test.h"
#include "cl_test_graph.h"
#include "cleave/coedge.h"
#include "cleave/graph.h"
#include "cleave/zoo.h"
#include "../sim/coedge_internal.h"

/* The tiny chain on two devices with numbers worked out by hand: the spatial prefix,
 * input on d0, 1 MB/s, 1 ms per message, layer mode. */
typedef struct tiny_case {
  double host[7]; /* host seconds per node: x, c1, r1, c2, p1, flat, fc */
  cl_coedge_device dev[2];
  cl_coedge_problem pb;
} tiny_case;

static void tiny_case_init(tiny_case *tc, cl_graph *g, double deadline) {
  const tiny_case c = {{0, 0.016, 0.0016, 0.008, 0.0008, 0, 0.001},
                       {{"d0", 1.0, 4, 1, 2, 1.5, NULL, NULL}, {"d1", 2.0, 6, 1.5, 2.5, 2, NULL, NULL}},
                       {g, -1, -1, NULL, 2, NULL, 0, 1e6, 1e-3, deadline, CL_SPATIAL_LAYER, 0, 0}};
  *tc = c;
  tc->pb.host_time = tc->host;
  tc->pb.dev = tc->dev;
}

static void test_eval_by_hand(void) {
  cl_graph *g = cl_test_tiny_chain();
  tiny_case tcase;
  tiny_case_init(&tcase, g, 0);
  cl_coedge_problem pb = tcase.pb;
  CL_CHECK_INT_EQ(cl_coedge_ref_height(&pb), 16);
  int rows[2] = {8, 8};
  cl_coedge_result r;
  CL_CHECK_OK(cl_coedge_evaluate_rows(&pb, rows, &r));
  /* compute per stage = max over devices (d0 is the slower): c1 8 rows x 1 ms, r1 8 x 0.1 ms,
   * c2 4 x 1 ms, p1 2 x 0.2 ms */
  double tc = 0.008 + 0.0008 + 0.004 + 0.0004;
  /* scatter: input rows [7,16) to d1 = 9 x 2 ch x 8 x 4 B; halo r1 row 7 = 4 x 8 x 4 B;
   * gather p1 rows [2,4) = 4 ch x 2 x 2 x 4 B; each + 1 ms */
  double ts = 576 / 1e6 + 1e-3, th = 128 / 1e6 + 1e-3, tg = 64 / 1e6 + 1e-3, tt = 0.001;
  double L = ts + tc + th + tg + tt;
  CL_CHECK_NEAR(r.t_compute, tc, 1e-12);
  CL_CHECK_NEAR(r.t_scatter, ts, 1e-12);
  CL_CHECK_NEAR(r.t_comm, th, 1e-12);
  CL_CHECK_NEAR(r.t_gather, tg, 1e-12);
  CL_CHECK_NEAR(r.t_tail, tt, 1e-12);
  CL_CHECK_NEAR(r.latency, L, 1e-12);
  CL_CHECK_INT_EQ(r.plan->sink, 0);
  double busy0 = tc + tt, busy1 = tc / 2, tx0 = ts + th, rx0 = tg, tx1 = tg, rx1 = ts + th;
  CL_CHECK_NEAR(r.busy[0], busy0, 1e-12);
  CL_CHECK_NEAR(r.busy[1], busy1, 1e-12);
  double e0 = 4 * busy0 + 2 * tx0 + 1.5 * rx0 + 1 * (L - busy0 - tx0 - rx0);
  double e1 = 6 * busy1 + 2.5 * tx1 + 2 * rx1 + 1.5 * (L - busy1 - tx1 - rx1);
  CL_CHECK_NEAR(r.e_dev[0], e0, 1e-12);
  CL_CHECK_NEAR(r.e_dev[1], e1, 1e-12);
  CL_CHECK_NEAR(r.energy, 0.122872, 1e-9); /* worked out on paper */
  CL_CHECK_NEAR(r.latency, 0.017968, 1e-12);
  cl_coedge_result_fini(&r);

  /* all rows on d1: no halo; scatter 16 rows, d1 is the sink and runs the tail at speed 2 */
  int rows1[2] = {0, 16};
  CL_CHECK_OK(cl_coedge_evaluate_rows(&pb, rows1, &r));
  CL_CHECK_INT_EQ(r.plan->sink, 1);
  CL_CHECK_NEAR(r.t_compute, (0.016 + 0.0016 + 0.008 + 0.0008) / 2, 1e-12);
  CL_CHECK_NEAR(r.t_scatter, 1024 / 1e6 + 1e-3, 1e-12);
  CL_CHECK_NEAR(r.t_comm + r.t_gather, 0, 1e-15);
  CL_CHECK_NEAR(r.t_tail, 0.0005, 1e-12);
  CL_CHECK_INT_EQ(r.participates[0], 1); /* the source waits */
  cl_coedge_result_fini(&r);
  int bad[2] = {3, 3};
  CL_CHECK_INT_EQ(cl_coedge_evaluate_rows(&pb, bad, &r), CL_ERR_INVALID);
  cl_graph_destroy(g);
}

/* The residual block of the planner tests: 16 channels, a final fc. */
static const cl_test_branchy_spec g_branchy = {16, CL_ACT_NONE, 1, 32, 3, 10};

static uint64_t g_rng = 0xc0ed9eULL;
static double urand(double lo, double hi) { return cl_rng_uniform(&g_rng, (float)lo, (float)hi); }

typedef struct exh {
  double best_e;   /* min energy over feasible splits (inf if none) */
  double min_lat;  /* min latency over all splits */
  int n_feasible, n_splits;
  int best_rows[3], lat_rows[3];
} exh;

static void exhaust(const cl_coedge_problem *pb, int d, int left, int *rows, exh *x) {
  if (d == pb->n_dev - 1) {
    rows[d] = left;
    cl_coedge_result r;
    CL_CHECK_OK(cl_coedge_evaluate_rows(pb, rows, &r));
    x->n_splits++;
    if (r.latency < x->min_lat) {
      x->min_lat = r.latency;
      memcpy(x->lat_rows, rows, sizeof x->lat_rows);
    }
    if (r.meets_deadline) {
      x->n_feasible++;
      if (r.energy < x->best_e) {
        x->best_e = r.energy;
        memcpy(x->best_rows, rows, sizeof x->best_rows);
      }
    }
    cl_coedge_result_fini(&r);
    return;
  }
  for (int k = 0; k <= left; k++) {
    rows[d] = k;
    exhaust(pb, d + 1, left - k, rows, x);
  }
}

static void test_vs_exhaustive(void) {
  cl_graph *gs[2] = {cl_test_tiny_chain(), cl_test_branchy(14, 10, g_branchy)};
  double worst_gap = 0, worst_lat_gap = 0;
  int n_cases = 0, n_infeasible = 0, n_optimal = 0;
  cl_log_set_level(-1);
  for (int gi = 0; gi < 2; gi++) {
    cl_graph *g = gs[gi];
    double *host = cl_test_flop_seconds(g, 2e8);
    for (int trial = 0; trial < 60; trial++) {
      int nd = 2 + trial % 2;
      cl_coedge_device dev[3];
      for (int d = 0; d < nd; d++) {
        cl_coedge_device v = {"dev", urand(0.2, 3.0), urand(2, 10), urand(0.5, 3),
                              urand(1, 4), urand(0.8, 3), NULL, NULL};
        dev[d] = v;
      }
      cl_spatial_mode mode = (trial / 2) % 2 ? CL_SPATIAL_FUSED : CL_SPATIAL_LAYER;
      /* every third trial the source sends an 8-bit input: the LP must charge it too */
      cl_coedge_problem pb = {g, -1, -1, host, nd, dev, trial % nd, urand(2e5, 5e6), 2e-4, 0,
                              mode, trial % 3 == 1 ? 1 : 0, 0};
      int rows[3];
      exh x0 = {1e300, 1e300, 0, 0, {0, 0, 0}, {0, 0, 0}};
      exhaust(&pb, 0, cl_coedge_ref_height(&pb), rows, &x0);
      /* deadlines from hopeless to loose, relative to the best achievable latency */
      double f = (trial % 4 == 3) ? 0.9 : 1.0 + urand(0.0, 0.8);
      pb.deadline = x0.min_lat * f;
      exh x = {1e300, 1e300, 0, 0, {0, 0, 0}, {0, 0, 0}};
      exhaust(&pb, 0, cl_coedge_ref_height(&pb), rows, &x);
      cl_coedge_result r;
      cl_status st = cl_coedge_plan(&pb, CL_COEDGE_COEDGE, &r);
      n_cases++;
      if (x.n_feasible == 0) {
        n_infeasible++;
        CL_CHECK_INT_EQ(st, CL_ERR_INFEASIBLE);
        /* the reported minimum latency is achievable and near the true minimum */
        CL_CHECK(r.plan != NULL && r.latency >= x.min_lat * (1 - 1e-12));
        double lg = r.latency / x.min_lat - 1;
        if (lg > worst_lat_gap) worst_lat_gap = lg;
      } else {
        CL_CHECK_OK(st);
        CL_CHECK(r.meets_deadline);
        CL_CHECK(r.latency <= pb.deadline + 1e-9);
        CL_CHECK(r.energy >= x.best_e * (1 - 1e-12)); /* exhaustive is optimal */
        double gap = r.energy / x.best_e - 1;
        if (gap > worst_gap) worst_gap = gap;
        if (gap < 1e-9) n_optimal++;
        CL_CHECK(gap <= 0.03);
        if (gap > 0.03)
          fprintf(stderr, "  graph %d trial %d: energy %.6g (rows %d %d %d) vs optimum %.6g "
                  "(rows %d %d %d)\n", gi, trial, r.energy, r.rows[0], r.rows[1],
                  nd > 2 ? r.rows[2] : 0, x.best_e, x.best_rows[0], x.best_rows[1],
                  nd > 2 ? x.best_rows[2] : 0);
        CL_CHECK(r.lp_solves >= 1);
      }
      cl_coedge_result_fini(&r);
      /* minlat vs exhaustive minimum latency */
      CL_CHECK_OK(cl_coedge_plan(&pb, CL_COEDGE_MINLAT, &r));
      double lg = r.latency / x.min_lat - 1;
      CL_CHECK(lg >= -1e-12);
      if (lg > worst_lat_gap) worst_lat_gap = lg;
      CL_CHECK(lg <= 0.03);
      if (lg > 0.03)
        fprintf(stderr, "  graph %d trial %d: latency %.6g (rows %d %d %d) vs min %.6g "
                "(rows %d %d %d)\n", gi, trial, r.latency, r.rows[0], r.rows[1],
                nd > 2 ? r.rows[2] : 0, x.min_lat, x.lat_rows[0], x.lat_rows[1],
                nd > 2 ? x.lat_rows[2] : 0);
      cl_coedge_result_fini(&r);
    }
    free(host);
    cl_graph_destroy(g);
  }
  cl_log_set_level(0);
  printf("  vs exhaustive: %d cases (%d infeasible), %d optimal, worst energy gap %.3f%%, "
         "worst latency gap %.3f%%\n",
         n_cases, n_infeasible, n_optimal, 100 * worst_gap, 100 * worst_lat_gap);
  CL_CHECK(n_infeasible > 0 && n_infeasible < n_cases);
}

static void test_baselines_and_exclusion(void) {
  cl_graph *g = cl_test_branchy(32, 24, g_branchy);
  double *host = cl_test_flop_seconds(g, 1e9);
  cl_coedge_device dev[4] = {{"slow", 0.5, 3, 1, 2, 1.5, NULL, NULL},
                             {"fast", 2.0, 8, 2, 2, 1.5, NULL, NULL},
                             {"off", 0.0, 5, 1, 2, 1.5, NULL, NULL},
                             {"mid", 1.0, 4, 1, 2, 1.5, NULL, NULL}};
  cl_coedge_problem pb = {g, -1, -1, host, 4, dev, 0, 5e6, 1e-4, 0, CL_SPATIAL_LAYER, 0, 0};
  for (int m = 0; m < 2; m++) {
    pb.mode = m ? CL_SPATIAL_FUSED : CL_SPATIAL_LAYER;
    for (int k = 0; k < CL_COEDGE_PLANNER_COUNT; k++) {
      cl_coedge_result r;
      CL_CHECK_OK(cl_coedge_plan(&pb, (cl_coedge_planner)k, &r));
      CL_CHECK(r.plan != NULL && r.latency > 0 && r.energy > 0);
      CL_CHECK_INT_EQ(r.rows[2], 0); /* zero speed: excluded */
      CL_CHECK_INT_EQ(r.participates[2], 0);
      if (k == CL_COEDGE_FASTEST) CL_CHECK_INT_EQ(r.rows[1], r.ref_h);
      if (k == CL_COEDGE_EQUAL) CL_CHECK(abs(r.rows[0] - r.rows[3]) <= 1);
      if (k == CL_COEDGE_PROPORTIONAL) CL_CHECK(r.rows[1] > r.rows[3] && r.rows[3] > r.rows[0]);
      if (k == CL_COEDGE_TILES3X3) CL_CHECK_INT_EQ(r.rows[0] + r.rows[1] + r.rows[3], 9);
      cl_coedge_result_fini(&r);
    }
  }
  /* coedge with no deadline never spends more energy than any row baseline */
  pb.mode = CL_SPATIAL_LAYER;
  cl_coedge_result best;
  CL_CHECK_OK(cl_coedge_plan(&pb, CL_COEDGE_COEDGE, &best));
  for (int k = CL_COEDGE_FASTEST; k <= CL_COEDGE_PROPORTIONAL; k++) {
    cl_coedge_result r;
    CL_CHECK_OK(cl_coedge_plan(&pb, (cl_coedge_planner)k, &r));
    CL_CHECK(best.energy <= r.energy * (1 + 1e-9));
    cl_coedge_result_fini(&r);
  }
  cl_coedge_result_fini(&best);
  /* a single device: the trivial plan */
  cl_coedge_problem one = pb;
  one.n_dev = 1;
  one.dev = &dev[3];
  cl_coedge_result r;
  CL_CHECK_OK(cl_coedge_plan(&one, CL_COEDGE_COEDGE, &r));
  CL_CHECK_INT_EQ(r.rows[0], r.ref_h);
  CL_CHECK_INT_EQ(r.plan->n_xfer, 0);
  cl_coedge_result_fini(&r);
  /* all devices off: clear error */
  cl_coedge_problem none = pb;
  none.n_dev = 1;
  none.dev = &dev[2];
  cl_log_set_level(-1);
  CL_CHECK_INT_EQ(cl_coedge_plan(&none, CL_COEDGE_COEDGE, &r), CL_ERR_INVALID);
  /* an impossible deadline */
  pb.deadline = 1e-6;
  CL_CHECK_INT_EQ(cl_coedge_plan(&pb, CL_COEDGE_COEDGE, &r), CL_ERR_INFEASIBLE);
  CL_CHECK(r.plan != NULL && r.latency > 1e-6);
  cl_coedge_result_fini(&r);
  cl_log_set_level(0);
  free(host);
  cl_graph_destroy(g);
}

static void test_fit_and_parse(void) {
  double rows[5] = {1, 2, 4, 8, 16}, secs[5];
  for (int i = 0; i < 5; i++) secs[i] = 0.002 + 0.0005 * rows[i];
  double a, b;
  CL_CHECK_OK(cl_coedge_fit_linear(rows, secs, 5, &a, &b));
  CL_CHECK_NEAR(a, 0.002, 1e-12);
  CL_CHECK_NEAR(b, 0.0005, 1e-12);
  cl_log_set_level(-1);
  double same[2] = {4, 4};
  CL_CHECK_INT_EQ(cl_coedge_fit_linear(same, secs, 2, &a, &b), CL_ERR_INVALID);
  double v;
  CL_CHECK_OK(cl_coedge_parse_bandwidth("50Mbit/s", &v));
  CL_CHECK_NEAR(v, 6.25e6, 1e-6);
  CL_CHECK_OK(cl_coedge_parse_bandwidth("100Mbps", &v));
  CL_CHECK_NEAR(v, 12.5e6, 1e-6);
  CL_CHECK_OK(cl_coedge_parse_bandwidth("2MB/s", &v));
  CL_CHECK_NEAR(v, 2e6, 1e-6);
  CL_CHECK_INT_EQ(cl_coedge_parse_bandwidth("fast", &v), CL_ERR_INVALID);
  CL_CHECK_OK(cl_coedge_parse_seconds("200ms", &v));
  CL_CHECK_NEAR(v, 0.2, 1e-12);
  CL_CHECK_OK(cl_coedge_parse_seconds("1.5", &v));
  CL_CHECK_NEAR(v, 1.5, 1e-12);
  CL_CHECK_INT_EQ(cl_coedge_parse_seconds("3 hours", &v), CL_ERR_INVALID);

  char path[] = "/tmp/cl_coedge_devXXXXXX";
  int fd = mkstemp(path);
  CL_CHECK(fd >= 0);
  FILE *f = fdopen(fd, "w");
  fputs("# two devices\nbandwidth: 50Mbit/s\nmsg_latency: 2ms\ndevices:\n"
        "  - {name: pi4, speed: 0.25, compute_w: 6.4, idle_w: 2.7, tx_w: 1.8, rx_w: 1.2}\n"
        "  - name: nano\n    speed: 0.8\n    compute_w: 10\n    idle_w: 1.5\n    tx_w: 2\n"
        "    rx_w: 1.5\n    source: true\n",
        f);
  fclose(f);
  cl_coedge_devfile df;
  CL_CHECK_OK(cl_coedge_devfile_load(path, &df));
  CL_CHECK_INT_EQ(df.n_dev, 2);
  CL_CHECK_STR_EQ(df.dev[0].name, "pi4");
  CL_CHECK_NEAR(df.dev[0].speed, 0.25, 1e-12);
  CL_CHECK_NEAR(df.dev[1].p_comp, 10, 1e-12);
  CL_CHECK_INT_EQ(df.source, 1);
  CL_CHECK_NEAR(df.bandwidth, 6.25e6, 1e-6);
  CL_CHECK_NEAR(df.msg_latency, 0.002, 1e-12);
  CL_CHECK_INT_EQ(df.input_bytes_per_elem, 4); /* absent: float32, as before the key */
  CL_CHECK_INT_EQ(cl_coedge_devfile_reference(&df, 20), 0); /* speeds given: kept */
  CL_CHECK_NEAR(df.dev[0].speed, 0.25, 1e-12);
  cl_coedge_devfile_fini(&df);
  /* absolute rates: speed = gflops / the host rate the problem's times were taken at */
  f = fopen(path, "w");
  fputs("devices:\n  - {name: pi, gflops: 1.4, compute_w: 2.7, idle_w: 0, tx_w: 0.6, rx_w: 0.4}\n"
        "  - {name: pc, speed: 2.5, compute_w: 60, idle_w: 0, tx_w: 3, rx_w: 2}\n"
        "  - {name: off, gflops: 0, compute_w: 1, idle_w: 0, tx_w: 1, rx_w: 1}\n",
        f);
  fclose(f);
  CL_CHECK_OK(cl_coedge_devfile_load(path, &df));
  CL_CHECK_NEAR(df.gflops[0], 1.4, 1e-12);
  CL_CHECK(df.gflops[1] < 0);
  CL_CHECK_INT_EQ(cl_coedge_devfile_reference(&df, 20), 2);
  CL_CHECK_NEAR(df.dev[0].speed, 0.07, 1e-12);
  CL_CHECK_NEAR(df.dev[1].speed, 2.5, 1e-12); /* given as a speed: unchanged */
  CL_CHECK_NEAR(df.dev[2].speed, 0, 0);      /* 0 GFLOP/s: unavailable */
  CL_CHECK_INT_EQ(cl_coedge_devfile_reference(&df, 140), 2); /* a host 7x faster */
  CL_CHECK_NEAR(df.dev[0].speed, 0.01, 1e-12);
  cl_coedge_devfile_fini(&df);
  const char *ib[4] = {"1", "2", "4", "3"};
  for (int k = 0; k < 4; k++) {
    f = fopen(path, "w");
    fprintf(f, "input_bytes_per_elem: %s\ndevices:\n"
               "  - {name: a, speed: 1, compute_w: 1, idle_w: 1, tx_w: 1, rx_w: 1}\n",
            ib[k]);
    fclose(f);
    cl_status st = cl_coedge_devfile_load(path, &df);
    if (k < 3) {
      CL_CHECK_OK(st);
      CL_CHECK_INT_EQ(df.input_bytes_per_elem, atoi(ib[k]));
      cl_coedge_devfile_fini(&df);
    } else {
      CL_CHECK_INT_EQ(st, CL_ERR_CONFIG);
    }
  }
  f = fopen(path, "w");
  fputs("devices:\n  - {name: a, speed: 1, compute_w: 1, idle_w: 1, tx_w: 1, rx_w: 1}\n"
        "  - {name: b, speed: 1, compute_w: 1, idle_w: 1, tx_w: 1, rx_w: 1, colour: red}\n",
        f);
  fclose(f);
  CL_CHECK_INT_EQ(cl_coedge_devfile_load(path, &df), CL_ERR_CONFIG);
  f = fopen(path, "w");
  fputs("devices:\n  - {name: a, speed: 1, compute_w: 1, idle_w: 1, tx_w: 1}\n", f);
  fclose(f);
  CL_CHECK_INT_EQ(cl_coedge_devfile_load(path, &df), CL_ERR_CONFIG);
  f = fopen(path, "w");
  fputs("devices:\n  - {name: a, speed: -1, compute_w: 1, idle_w: 1, tx_w: 1, rx_w: 1}\n", f);
  fclose(f);
  CL_CHECK_INT_EQ(cl_coedge_devfile_load(path, &df), CL_ERR_CONFIG);
  unlink(path);
  CL_CHECK_INT_EQ(cl_coedge_devfile_load(path, &df), CL_ERR_IO);
  cl_log_set_level(0);
  CL_CHECK_INT_EQ(cl_coedge_planner_from_name("tiles2x2"), CL_COEDGE_TILES2X2);
  CL_CHECK_INT_EQ(cl_coedge_planner_from_name("nope"), CL_COEDGE_PLANNER_COUNT);
  CL_CHECK_INT_EQ(cl_coedge_planner_from_name("local"), CL_COEDGE_LOCAL);
  CL_CHECK_STR_EQ(cl_coedge_planner_name(CL_COEDGE_LOCAL), "local");
}

/* The local planner (everything on the requester) and the 8-bit input scatter, on the
 * tiny chain of test_eval_by_hand with numbers worked out by hand. */
static void test_local_and_input_bytes(void) {
  cl_graph *g = cl_test_tiny_chain();
  tiny_case tcase;
  tiny_case_init(&tcase, g, 0.01);
  cl_coedge_problem pb = tcase.pb;
  cl_coedge_device *dev = tcase.dev;
  double run = 0.016 + 0.0016 + 0.008 + 0.0008, tail = 0.001;
  for (int src = 0; src < 2; src++)
    for (int mode = 0; mode < 2; mode++) {
      pb.source = src;
      pb.mode = (cl_spatial_mode)mode;
      cl_coedge_result r;
      CL_CHECK_OK(cl_coedge_plan(&pb, CL_COEDGE_LOCAL, &r));
      if (!r.plan) continue;
      CL_CHECK_INT_EQ(r.planner, CL_COEDGE_LOCAL);
      CL_CHECK_INT_EQ(r.rows[src], r.ref_h);
      CL_CHECK_INT_EQ(r.rows[1 - src], 0);
      CL_CHECK_INT_EQ(r.plan->n_xfer, 0);
      CL_CHECK_INT_EQ(r.plan->sink, src);
      CL_CHECK_INT_EQ(r.participates[1 - src], 0);
      double L = (run + tail) / dev[src].speed;
      CL_CHECK_NEAR(r.latency, L, 1e-12);
      CL_CHECK_NEAR(r.energy, dev[src].p_comp * L, 1e-12);
      CL_CHECK_INT_EQ(r.meets_deadline, L <= 0.01);
      cl_coedge_result_fini(&r);
    }
  /* a source that cannot compute: local does not apply */
  cl_log_set_level(-1);
  dev[0].speed = 0;
  pb.source = 0;
  pb.mode = CL_SPATIAL_LAYER;
  cl_coedge_result r;
  CL_CHECK_INT_EQ(cl_coedge_plan(&pb, CL_COEDGE_LOCAL, &r), CL_ERR_UNSUPPORTED);
  CL_CHECK(r.plan == NULL);
  cl_coedge_result_fini(&r);
  dev[0].speed = 1.0;

  /* 8-bit input: the scatter is a quarter of test_eval_by_hand's (576 -> 144 B; all 16
   * rows: 1024 -> 256 B), halos and gathers stay float32 */
  pb.deadline = 0;
  int rows[2] = {8, 8};
  for (int ib = 1; ib <= 4; ib *= 2) {
    pb.input_bytes_per_elem = ib;
    CL_CHECK_OK(cl_coedge_evaluate_rows(&pb, rows, &r));
    CL_CHECK_NEAR(r.t_scatter, 576.0 * ib / 4 / 1e6 + 1e-3, 1e-12);
    CL_CHECK_NEAR(r.t_comm, 128 / 1e6 + 1e-3, 1e-12);
    CL_CHECK_NEAR(r.t_gather, 64 / 1e6 + 1e-3, 1e-12);
    CL_CHECK_NEAR(r.tx[0], r.t_scatter + r.t_comm, 1e-12);
    int n_scatter = 0;
    for (int k = 0; r.plan && k < r.plan->n_xfer; k++) {
      const cl_spatial_xfer *x = &r.plan->xfer[k];
      /* the plan keeps float32 sizes (what the executor copies) */
      CL_CHECK_INT_EQ(cl_coedge_xfer_bytes(&pb, x),
                      x->kind == CL_XFER_SCATTER ? x->bytes * ib / 4 : x->bytes);
      n_scatter += x->kind == CL_XFER_SCATTER;
      if (x->kind == CL_XFER_SCATTER) CL_CHECK_INT_EQ(x->bytes, 576);
    }
    CL_CHECK_INT_EQ(n_scatter, 1);
    cl_coedge_result_fini(&r);
    int all1[2] = {0, 16};
    CL_CHECK_OK(cl_coedge_evaluate_rows(&pb, all1, &r));
    CL_CHECK_NEAR(r.t_scatter, 1024.0 * ib / 4 / 1e6 + 1e-3, 1e-12);
    cl_coedge_result_fini(&r);
  }
  /* at a slow link the 8-bit input makes offloading to the faster d1 pay off: 1024 B at
   * 50 kB/s is 20.5 ms (float32) against 5.1 ms, the run takes 26.4 ms on d0, 13.2 ms on
   * d1 (+0.5 ms tail) */
  pb.bandwidth = 5e4;
  pb.msg_latency = 0;
  int fast_rows[2][2];
  for (int k = 0; k < 2; k++) {
    pb.input_bytes_per_elem = k ? 1 : 4;
    CL_CHECK_OK(cl_coedge_plan(&pb, CL_COEDGE_MINLAT, &r));
    fast_rows[k][0] = r.rows[0];
    fast_rows[k][1] = r.rows[1];
    cl_coedge_result_fini(&r);
  }
  CL_CHECK_INT_EQ(fast_rows[0][0], 16); /* float32: stay on the source */
  CL_CHECK(fast_rows[1][1] > 0);         /* 8-bit: d1 takes rows */
  pb.input_bytes_per_elem = 3;
  CL_CHECK_INT_EQ(cl_coedge_evaluate_rows(&pb, rows, &r), CL_ERR_INVALID);
  cl_log_set_level(0);
  cl_graph_destroy(g);
}

/* The CoEdge prototype's devices (configs/coedge.yaml at the time of writing): 4 Pi 3,
 * a Jetson TX2, a desktop PC; the input starts on pi0. */
static const cl_coedge_device k_proto[6] = {
    {"pi0", 0.07, 5.1, 1.9, 2.6, 2.4, NULL, NULL}, {"pi1", 0.07, 5.1, 1.9, 2.6, 2.4, NULL, NULL},
    {"pi2", 0.07, 5.1, 1.9, 2.6, 2.4, NULL, NULL}, {"pi3", 0.07, 5.1, 1.9, 2.6, 2.4, NULL, NULL},
    {"tx2", 1.0, 9.0, 1.9, 2.6, 2.4, NULL, NULL},  {"pc", 2.5, 95, 35, 38, 37, NULL, NULL}};

/* Best plan over every single device and every integer split between every pair of
 * devices (exhaustive); energy under the deadline. */
static double best_over_pairs(const cl_coedge_problem *pb, int *best_rows) {
  int nd = pb->n_dev, H = cl_coedge_ref_height(pb);
  int *rows = calloc((size_t)nd, sizeof *rows);
  double best = 1e300;
  for (int i = 0; i < nd; i++)
    for (int j = i; j < nd; j++)
      for (int k = (i == j ? H : 1); k <= H - (i == j ? 0 : 1); k++) {
        memset(rows, 0, (size_t)nd * sizeof *rows);
        rows[i] = k;
        rows[j] += H - k;
        cl_coedge_result r;
        CL_CHECK_OK(cl_coedge_evaluate_rows(pb, rows, &r));
        if (r.meets_deadline && r.energy < best) {
          best = r.energy;
          memcpy(best_rows, rows, (size_t)nd * sizeof *rows);
        }
        cl_coedge_result_fini(&r);
      }
  free(rows);
  return best;
}

/* Regression (issue #6): vgg16 on the prototype at 300 Mbit/s, 500 ms. The greedy
 * device-dropping search returned the PC alone (35.0 J) although TX2 + PC splits are
 * cheaper; the planner must be at least as good as the best plan over <= 2 devices. */
static void test_device_subsets(void) {
  const char *models[2] = {"vgg16", "alexnet"};
  for (int m = 0; m < 2; m++) {
    cl_graph *g = NULL;
    CL_CHECK_OK(cl_zoo_build(models[m], &g));
    if (!g) return;
    double *host = cl_test_flop_seconds(g, 35e9);
    double deadlines[2] = {m == 0 ? 0.5 : 0.06, m == 0 ? 0.8 : 0.1};
    for (int k = 0; k < 2; k++) {
      cl_coedge_problem pb = {g, -1, -1, host, 6, k_proto, 0, 300e6 / 8, 2e-3, deadlines[k],
                              CL_SPATIAL_LAYER, 0, 0};
      int rows[6] = {0};
      double best = best_over_pairs(&pb, rows);
      cl_coedge_result r;
      cl_status st = cl_coedge_plan(&pb, CL_COEDGE_COEDGE, &r);
      CL_CHECK_OK(st);
      CL_CHECK(r.meets_deadline);
      CL_CHECK(r.energy <= best * (1 + 1e-9));
      printf("  %s @ %.0f ms: coedge %.4f J (rows %d %d %d %d %d %d), best over pairs %.4f J "
             "(rows %d %d %d %d %d %d)\n",
             models[m], deadlines[k] * 1e3, r.energy, r.rows[0], r.rows[1], r.rows[2], r.rows[3],
             r.rows[4], r.rows[5], best, rows[0], rows[1], rows[2], rows[3], rows[4], rows[5]);
      cl_coedge_result_fini(&r);
    }
    free(host);
    cl_graph_destroy(g);
  }
}

/* The plan-free evaluation (cl__coedge_score_rows, used by the search) against its
 * naive twin (build the spatial plan, evaluate it): every field must be identical, on
 * zoo graphs with branches and concatenations, both modes, random splits with idle
 * devices, random sources, and a run that starts after the graph input (entry tensors
 * from before the run). */
static void check_score_twin(const cl_coedge_problem *pb, int trials, int *n_checked) {
  cl__coedge_ctx c;
  CL_CHECK_OK(cl__coedge_ctx_init(&c, pb));
  int nd = pb->n_dev;
  cl_coedge_result fast;
  CL_CHECK_OK(cl__coedge_result_alloc(&fast, nd));
  int rows[8];
  for (int k = 0; k < trials; k++) {
    /* random split; about a third of the devices idle */
    int left = c.ref_h;
    for (int d = 0; d < nd; d++) rows[d] = 0;
    while (left > 0) {
      int d = (int)urand(0, nd - 0.001);
      if (d % 3 == k % 3 && k % 4 != 0) continue;
      int take = 1 + (int)urand(0, left / 2.0);
      if (take > left) take = left;
      rows[d] += take, left -= take;
    }
    cl_coedge_result ref;
    CL_CHECK_OK(cl__coedge_eval_rows(&c, rows, &ref));
    CL_CHECK_OK(cl__coedge_score_rows(&c, rows, &fast));
    int same = ref.latency == fast.latency && ref.energy == fast.energy &&
               ref.t_scatter == fast.t_scatter && ref.t_compute == fast.t_compute &&
               ref.t_comm == fast.t_comm && ref.t_gather == fast.t_gather &&
               ref.t_tail == fast.t_tail && ref.t_overlap == fast.t_overlap &&
               ref.meets_deadline == fast.meets_deadline;
    for (int d = 0; d < nd; d++)
      same = same && ref.busy[d] == fast.busy[d] && ref.tx[d] == fast.tx[d] &&
             ref.rx[d] == fast.rx[d] && ref.e_dev[d] == fast.e_dev[d] &&
             ref.participates[d] == fast.participates[d] && ref.rows[d] == fast.rows[d];
    CL_CHECK(same);
    if (!same)
      fprintf(stderr, "  %s %s trial %d: latency %.17g vs %.17g, energy %.17g vs %.17g\n",
              cl_graph_name(pb->g), pb->mode ? "fused" : "layer", k, ref.latency, fast.latency,
              ref.energy, fast.energy);
    cl_coedge_result_fini(&ref);
    (*n_checked)++;
  }
  cl_coedge_result_fini(&fast);
  cl__coedge_ctx_fini(&c);
}

static void test_score_twin(void) {
  const char *models[4] = {"googlenet", "densenet121", "resnet18", "mobilenet_v2"};
  cl_coedge_device dev[5];
  for (int d = 0; d < 5; d++) {
    cl_coedge_device v = {"dev", 0.2 + 0.4 * d, 3 + d, 1, 2, 1.5, NULL, NULL};
    dev[d] = v;
  }
  int n_checked = 0;
  for (int m = 0; m < 4; m++) {
    cl_graph *g = NULL;
    CL_CHECK_OK(cl_zoo_build(models[m], &g));
    if (!g) continue;
    double *host = cl_test_flop_seconds(g, 2e10);
    for (int mode = 0; mode < 2; mode++) {
      cl_coedge_problem pb = {g, -1, -1, host, 5, dev, m % 5, 5e6, 1e-3, 0.3,
                              (cl_spatial_mode)mode, (m + mode) % 2 ? 1 : 0, m % 2}; /* overlap */
      check_score_twin(&pb, 12, &n_checked);
    }
    free(host);
    cl_graph_destroy(g);
  }
  /* a run after the input: nodes c1..c3 of branchy (x is an external entry) */
  cl_graph *g = cl_test_branchy(20, 12, g_branchy);
  double *host = cl_test_flop_seconds(g, 1e9);
  for (int mode = 0; mode < 2; mode++) {
    /* the external entry x is the graph input: sent at 1 byte per element in mode 1 */
    cl_coedge_problem pb = {g, 1, 6, host, 4, dev, 1, 2e6, 1e-4, 0, (cl_spatial_mode)mode, mode, 1};
    check_score_twin(&pb, 40, &n_checked);
  }
  free(host);
  cl_graph_destroy(g);
  printf("  fast evaluation == plan evaluation on %d random splits\n", n_checked);
}

/* Overlap (issue 14): the halo exchange after a segment of layers runs beside the
 * segment's compute. The tiny case by hand: the only halo (r1's row 7, 128 B + 1 ms)
 * follows the segment c1 + r1 (8 + 0.8 ms on the slower d0), so it is hidden entirely;
 * on a slow WLAN (10 kB/s) the halo (13.8 ms) hides the segment's compute instead. A
 * pairing of each halo with its own node only (r1: 0.8 ms) fails both checks. */
static void test_overlap_by_hand(void) {
  cl_graph *g = cl_test_tiny_chain();
  tiny_case tcase;
  tiny_case_init(&tcase, g, 0);
  tcase.pb.overlap = 1;
  int rows[2] = {8, 8};
  double tc = 0.008 + 0.0008 + 0.004 + 0.0004, seg = 0.008 + 0.0008;
  for (int slow = 0; slow < 2; slow++) {
    tcase.pb.bandwidth = slow ? 1e4 : 1e6;
    double bw = tcase.pb.bandwidth;
    double ts = 576 / bw + 1e-3, th = 128 / bw + 1e-3, tg = 64 / bw + 1e-3, tt = 0.001;
    cl_coedge_result r;
    CL_CHECK_OK(cl_coedge_evaluate_rows(&tcase.pb, rows, &r));
    double hidden = slow ? seg : th;
    CL_CHECK_NEAR(r.t_comm, th, 1e-12);
    CL_CHECK_NEAR(r.t_overlap, hidden, 1e-12);
    CL_CHECK_NEAR(r.latency, ts + tc + th - hidden + tg + tt, 1e-12);
    /* energy: the same busy / tx / rx; idle is what is left of the shorter latency */
    double busy0 = tc + tt, tx0 = ts + th, rx0 = tg;
    double idle0 = fmax(0, r.latency - busy0 - tx0 - rx0);
    CL_CHECK_NEAR(r.e_dev[0], 4 * busy0 + 2 * tx0 + 1.5 * rx0 + idle0, 1e-12);
    cl_coedge_result_fini(&r);
    tcase.pb.overlap = 0; /* the barrier model: nothing hidden */
    CL_CHECK_OK(cl_coedge_evaluate_rows(&tcase.pb, rows, &r));
    CL_CHECK_NEAR(r.t_overlap, 0, 0);
    CL_CHECK_NEAR(r.latency, ts + tc + th + tg + tt, 1e-12);
    cl_coedge_result_fini(&r);
    tcase.pb.overlap = 1;
  }
  cl_graph_destroy(g);
}

/* Regimes where splitting wins (configs/coedge.yaml's prototype: 1.4 / 5 / 50 GFLOP/s,
 * these speeds against a 20 GFLOP/s host; powers above idle, 40 Mbit/s, 2 ms, 8-bit
 * input; alexnet, overlap on):
 * (a) weaker devices only (4 Pis + TX2): at a deadline between the minimum cooperative
 *     latency and the fastest single device, no device alone meets it and CoEdge splits
 *     over >= 2 devices and meets it; the barrier model cannot;
 * (b) all six: at 302 ms (below the TX2 alone) CoEdge splits TX2 + PC and uses less
 *     energy than every single device that meets the deadline (the PC). */
static double single_device(const cl_coedge_problem *pb, int d, double *energy) {
  int rows[6] = {0};
  rows[d] = cl_coedge_ref_height(pb);
  cl_coedge_result r;
  CL_CHECK_OK(cl_coedge_evaluate_rows(pb, rows, &r));
  double lat = r.latency;
  *energy = r.energy;
  cl_coedge_result_fini(&r);
  return lat;
}

static void test_regimes(void) {
  static const cl_coedge_device proto[6] = {
      {"pi0", 0.07, 2.7, 0, 0.6, 0.4, NULL, NULL}, {"pi1", 0.07, 2.7, 0, 0.6, 0.4, NULL, NULL},
      {"pi2", 0.07, 2.7, 0, 0.6, 0.4, NULL, NULL}, {"pi3", 0.07, 2.7, 0, 0.6, 0.4, NULL, NULL},
      {"tx2", 0.25, 4.5, 0, 0.8, 0.6, NULL, NULL}, {"pc", 2.5, 60, 0, 3.0, 2.0, NULL, NULL}};
  cl_graph *g = NULL;
  CL_CHECK_OK(cl_zoo_build("alexnet", &g));
  if (!g) return;
  double *host = cl_test_flop_seconds(g, 20e9);
  for (int all = 0; all < 2; all++) {
    cl_coedge_problem pb = {g, -1, -1, host, all ? 6 : 5, proto, 0, 40e6 / 8, 2e-3, 0, CL_SPATIAL_LAYER, 1, 1};
    double e_single[6], l_single[6], best_l = 1e300;
    for (int d = 0; d < pb.n_dev; d++) {
      l_single[d] = single_device(&pb, d, &e_single[d]);
      best_l = fmin(best_l, l_single[d]);
    }
    cl_coedge_result ml, r;
    CL_CHECK_OK(cl_coedge_plan(&pb, CL_COEDGE_MINLAT, &ml));
    pb.deadline = all ? 0.302 : 0.5 * (ml.latency + best_l);
    cl_coedge_result_fini(&ml);
    CL_CHECK_OK(cl_coedge_plan(&pb, CL_COEDGE_COEDGE, &r));
    int used = 0;
    double best_feasible_e = 1e300;
    for (int d = 0; d < pb.n_dev; d++) {
      used += r.rows[d] > 0;
      if (l_single[d] <= pb.deadline) best_feasible_e = fmin(best_feasible_e, e_single[d]);
    }
    CL_CHECK(r.meets_deadline);
    CL_CHECK(used >= 2);
    if (all) CL_CHECK(r.energy < best_feasible_e); /* cheaper than the PC alone */
    else CL_CHECK(best_l > pb.deadline);             /* no single device meets it */
    printf("  regime %s: deadline %.1f ms, coedge %.1f ms %.3f J on %d devices; best single %.1f ms, "
           "cheapest single meeting it %.3f J\n",
           all ? "all six" : "weak only", pb.deadline * 1e3, r.latency * 1e3, r.energy, used, best_l * 1e3,
           best_feasible_e < 1e300 ? best_feasible_e : NAN);
    cl_coedge_result_fini(&r);
    if (!all) { /* the barrier runtime: no split meets it */
      pb.overlap = 0;
      CL_CHECK_INT_EQ(cl_coedge_plan(&pb, CL_COEDGE_COEDGE, &r), CL_ERR_INFEASIBLE);
      cl_coedge_result_fini(&r);
    }
  }
  free(host);
  cl_graph_destroy(g);
}

int main(void) {
  test_eval_by_hand();
  test_overlap_by_hand();
  test_regimes();
  test_local_and_input_bytes();
  test_score_twin();
  test_vs_exhaustive();
  test_baselines_and_exclusion();
  test_fit_and_parse();
  test_device_subsets();
  return cl_test_finish("test_coedge");
}
