/* Routes and max-min flows: a 3-hop route's time equals the formula (FIFO and max-min),
 * shortest paths and their tie-break, max-min shares on a dumbbell and a parking lot equal
 * the analytic allocation, a brute-force check of the max-min property on random
 * topologies, piecewise-constant bandwidth, and the timeline driving flows. */
#include <math.h>
#include <stdint.h>

#include "cl_net_test.h"

static int add(cl_netmodel *net, int src, int dst, double lat, double bw, cl_sharing sh) {
  cl_link_desc d = cl_test_link(src, dst, lat, bw, -1);
  d.sharing = sh;
  int id = -1;
  CL_CHECK_OK(cl_netmodel_add_link(net, &d, &id));
  return id;
}

/* 0 -> 1 -> 2 -> 3 with latencies 1, 2, 3 ms and bandwidths 10, 4, 8 MB/s. */
static void chain3(cl_netmodel *net, cl_sharing sh) {
  add(net, 0, 1, 0.001, 10e6, sh);
  add(net, 1, 2, 0.002, 4e6, sh);
  add(net, 2, 3, 0.003, 8e6, sh);
}

static void test_route_formula(void) {
  const double B = 1e6, want = 0.001 + 0.002 + 0.003 + B / 4e6; /* sum lat + B / min bw */
  for (int sh = 0; sh < 2; sh++) {
    cl_netmodel *net;
    CL_CHECK_OK(cl_netmodel_create(1, &net));
    chain3(net, (cl_sharing)sh);
    int r;
    CL_CHECK_OK(cl_netmodel_route(net, 0, 3, &r));
    int hops[4];
    CL_CHECK_INT_EQ(cl_netmodel_route_hops(net, r, hops, 4), 3);
    CL_CHECK_INT_EQ(hops[0], 0);
    CL_CHECK_INT_EQ(hops[2], 2);
    CL_CHECK_STR_EQ(cl_netmodel_link_name(net, r), "0->1->2->3");
    CL_CHECK_NEAR(cl_netmodel_latency_at(net, r, 0), 0.006, 1e-15);
    CL_CHECK(cl_netmodel_bandwidth_at(net, r, 0) == 4e6);
    int again;
    CL_CHECK_OK(cl_netmodel_route(net, 0, 3, &again));
    CL_CHECK_INT_EQ(again, r);
    CL_CHECK_INT_EQ(cl_netmodel_is_fluid(net, r), sh);
    cl_xfer x;
    if (sh == CL_SHARING_FIFO) {
      CL_CHECK_OK(cl_netmodel_send(net, r, 0.5, (uint64_t)B, &x));
      CL_CHECK_NEAR(x.arrival, 0.5 + want, 1e-12);
      /* the next send waits for every hop */
      CL_CHECK_OK(cl_netmodel_send(net, r, 0.5, (uint64_t)B, &x));
      CL_CHECK_NEAR(x.start, 0.5 + B / 4e6, 1e-12);
    }
    /* through the timeline: 3-hop transfer between two compute tasks */
    cl_timeline *tl;
    CL_CHECK_OK(cl_timeline_create(net, 4, &tl));
    int c0, x0;
    CL_CHECK_OK(cl_timeline_add_compute(tl, 0, 0, 0.25, NULL, 0, &c0));
    CL_CHECK_OK(cl_timeline_add_transfer(tl, 0, r, (uint64_t)B, &c0, 1, &x0));
    CL_CHECK_OK(cl_timeline_add_compute(tl, 0, 3, 0.5, &x0, 1, NULL));
    CL_CHECK_OK(cl_timeline_run(tl));
    cl_task_result tr;
    CL_CHECK_OK(cl_timeline_task(tl, x0, &tr));
    CL_CHECK_NEAR(tr.end, 0.25 + want, 1e-12);
    CL_CHECK_NEAR(tr.duration, B / 4e6, 1e-12);
    CL_CHECK_NEAR(cl_timeline_makespan(tl), 0.75 + want, 1e-12);
    cl_timeline_destroy(tl);
    cl_netmodel_destroy(net);
  }
}

static void test_shortest_path(void) {
  cl_netmodel *net;
  CL_CHECK_OK(cl_netmodel_create(1, &net));
  /* 0->1->3 costs 2+2 ms, 0->2->3 costs 1+1 ms, 0->4->5->3 costs 1+0.5+0.5 ms (tie, 3 hops) */
  add(net, 0, 1, 0.002, 1e6, CL_SHARING_FIFO);
  add(net, 1, 3, 0.002, 1e6, CL_SHARING_FIFO);
  int a = add(net, 0, 2, 0.001, 1e6, CL_SHARING_FIFO);
  int b = add(net, 2, 3, 0.001, 1e6, CL_SHARING_FIFO);
  add(net, 0, 4, 0.001, 1e6, CL_SHARING_FIFO);
  add(net, 4, 5, 0.0005, 1e6, CL_SHARING_FIFO);
  add(net, 5, 3, 0.0005, 1e6, CL_SHARING_FIFO);
  int r, hops[4];
  CL_CHECK_OK(cl_netmodel_route(net, 0, 3, &r));
  CL_CHECK_INT_EQ(cl_netmodel_route_hops(net, r, hops, 4), 2);
  CL_CHECK_INT_EQ(hops[0], a);
  CL_CHECK_INT_EQ(hops[1], b);
  CL_CHECK(cl_netmodel_route(net, 3, 0, &r) == CL_ERR_NOTFOUND); /* directed */
  int direct;
  CL_CHECK_OK(cl_netmodel_route(net, 0, 1, &direct));
  CL_CHECK_INT_EQ(direct, 0);
  /* mixed sharing on one route is refused */
  int m = add(net, 3, 6, 0.001, 1e6, CL_SHARING_MAXMIN), two[2] = {b, m};
  CL_CHECK(cl_netmodel_add_route(net, two, 2, &r) == CL_ERR_INVALID);
  cl_netmodel_destroy(net);
}

/* Dumbbell: sources 0..3 -> router 10 (access links a_i) -> router 11 (bottleneck C) -> sink 12. */
static void test_dumbbell(void) {
  const double a[4] = {1e6, 2e6, 10e6, 10e6}, C = 9e6;
  cl_netmodel *net;
  CL_CHECK_OK(cl_netmodel_create(1, &net));
  for (int i = 0; i < 4; i++) add(net, i, 10, 0.001, a[i], CL_SHARING_MAXMIN);
  add(net, 10, 11, 0.01, C, CL_SHARING_MAXMIN);
  add(net, 11, 12, 0.001, 100e6, CL_SHARING_MAXMIN);
  for (int i = 0; i < 4; i++) {
    int r;
    CL_CHECK_OK(cl_netmodel_route(net, i, 12, &r));
    CL_CHECK_OK(cl_netmodel_flow_start(net, r, 0.0, 1000000000, i));
  }
  /* Analytic water-filling: fair share C/4 = 2.25 > a0 = 1 -> flow 0 gets 1; then
   * (9-1)/3 = 2.67 > a1 = 2 -> flow 1 gets 2; flows 2 and 3 split the rest: (9-3)/2 = 3. */
  const double want[4] = {1e6, 2e6, 3e6, 3e6};
  for (int i = 0; i < 4; i++) {
    double rate;
    CL_CHECK_OK(cl_netmodel_flow_rate(net, i, &rate));
    CL_CHECK_NEAR(rate, want[i], 1e-6);
  }
  cl_netmodel_destroy(net);
}

/* Parking lot: links 0->1->2->3 with capacities 1, 2, 3 MB/s; a long flow over all three
 * and one short flow per link. Analytic: link 0 splits 1 MB/s in two (0.5 each), so the
 * short flow on link 1 gets 2 - 0.5 and the one on link 2 gets 3 - 0.5. */
static void test_parking_lot(void) {
  cl_netmodel *net;
  CL_CHECK_OK(cl_netmodel_create(1, &net));
  const double c[3] = {1e6, 2e6, 3e6};
  int l[3];
  for (int i = 0; i < 3; i++) l[i] = add(net, i, i + 1, 0.001, c[i], CL_SHARING_MAXMIN);
  int r;
  CL_CHECK_OK(cl_netmodel_route(net, 0, 3, &r));
  CL_CHECK_OK(cl_netmodel_flow_start(net, r, 0.0, 10000000, 100));
  for (int i = 0; i < 3; i++) CL_CHECK_OK(cl_netmodel_flow_start(net, l[i], 0.0, 10000000, i));
  double rate;
  CL_CHECK_OK(cl_netmodel_flow_rate(net, 100, &rate));
  CL_CHECK_NEAR(rate, 0.5e6, 1e-6);
  const double want[3] = {0.5e6, 1.5e6, 2.5e6};
  for (int i = 0; i < 3; i++) {
    CL_CHECK_OK(cl_netmodel_flow_rate(net, i, &rate));
    CL_CHECK_NEAR(rate, want[i], 1e-6);
  }
  /* Drain in order and check the first completion time: short flow 2 (10 MB at 2.5 MB/s). */
  double t = cl_netmodel_flow_next(net);
  CL_CHECK_NEAR(t, 10e6 / 2.5e6, 1e-9);
  cl_netmodel_destroy(net);
}

static uint64_t rs = 88172645463325252ULL;
static uint32_t rnd(uint32_t n) {
  rs ^= rs << 13;
  rs ^= rs >> 7;
  rs ^= rs << 17;
  return (uint32_t)(rs % n);
}

/* Random routes on a random line of links: the allocation must be feasible and every flow
 * must cross a saturated link on which no flow gets more (the definition of max-min). */
static void test_maxmin_property(void) {
  for (int trial = 0; trial < 200; trial++) {
    cl_netmodel *net;
    CL_CHECK_OK(cl_netmodel_create(1, &net));
    int nl = 2 + (int)rnd(6), nf = 1 + (int)rnd(8);
    double cap[8];
    for (int i = 0; i < nl; i++) {
      cap[i] = 1e6 * (1 + rnd(20));
      add(net, i, i + 1, 0.0, cap[i], CL_SHARING_MAXMIN);
    }
    int lo[8], hi[8];
    for (int f = 0; f < nf; f++) {
      lo[f] = (int)rnd((uint32_t)nl);
      hi[f] = lo[f] + 1 + (int)rnd((uint32_t)(nl - lo[f]));
      int r;
      CL_CHECK_OK(cl_netmodel_route(net, lo[f], hi[f], &r));
      CL_CHECK_OK(cl_netmodel_flow_start(net, r, 0.0, 1000000, f));
    }
    double rate[8];
    for (int f = 0; f < nf; f++) CL_CHECK_OK(cl_netmodel_flow_rate(net, f, &rate[f]));
    for (int i = 0; i < nl; i++) {
      double sum = 0;
      for (int f = 0; f < nf; f++)
        if (lo[f] <= i && i < hi[f]) sum += rate[f];
      CL_CHECK(sum <= cap[i] * (1 + 1e-9));
    }
    for (int f = 0; f < nf; f++) {
      int bottleneck = 0;
      for (int i = lo[f]; i < hi[f] && !bottleneck; i++) {
        double sum = 0, mx = 0;
        for (int g = 0; g < nf; g++)
          if (lo[g] <= i && i < hi[g]) {
            sum += rate[g];
            if (rate[g] > mx) mx = rate[g];
          }
        bottleneck = sum >= cap[i] * (1 - 1e-9) && rate[f] >= mx * (1 - 1e-9);
      }
      CL_CHECK(bottleneck);
    }
    cl_netmodel_destroy(net);
  }
}

/* Two flows on one max-min link through the timeline: A (B bytes) at 0, B (B bytes) at t1.
 * A alone until t1, then both at C/2; A drains at t1 + 2 (B - C t1) / C, then B alone. */
static void test_timeline_sharing(void) {
  const double C = 1e6, lat = 0.01, t1 = 0.25;
  const uint64_t B = 1000000;
  cl_netmodel *net;
  CL_CHECK_OK(cl_netmodel_create(1, &net));
  int l = add(net, 0, 1, lat, C, CL_SHARING_MAXMIN);
  cl_link_change ch = {l, 1.9, 2e6, -1}; /* bandwidth doubles at t = 1.9 s */
  CL_CHECK_OK(cl_netmodel_add_changes(net, &ch, 1));
  cl_timeline *tl;
  CL_CHECK_OK(cl_timeline_create(net, 2, &tl));
  int xa, xb;
  CL_CHECK_OK(cl_timeline_add_transfer(tl, 0, l, B, NULL, 0, &xa));
  CL_CHECK_OK(cl_timeline_add_transfer(tl, 1, l, B, NULL, 0, &xb));
  CL_CHECK_OK(cl_timeline_set_release(tl, 1, t1));
  CL_CHECK_OK(cl_timeline_run(tl));
  cl_task_result ra, rb;
  CL_CHECK_OK(cl_timeline_task(tl, xa, &ra));
  CL_CHECK_OK(cl_timeline_task(tl, xb, &rb));
  double da = t1 + 2 * ((double)B - C * t1) / C; /* 1.75 s */
  CL_CHECK_NEAR(ra.end, da + lat, 1e-9);
  /* B: (da - t1) * C/2 bytes shared, then alone at C until t = 1.9, then at 2C */
  double left = (double)B - (da - t1) * C / 2 - (1.9 - da) * C; /* 0.1 MB */
  CL_CHECK(left > 0);
  CL_CHECK_NEAR(rb.end, 1.9 + left / 2e6 + lat, 1e-9);
  CL_CHECK_NEAR(rb.start, t1, 0);
  /* reruns are bit-identical */
  CL_CHECK_OK(cl_timeline_run(tl));
  cl_task_result rb2;
  CL_CHECK_OK(cl_timeline_task(tl, xb, &rb2));
  CL_CHECK(rb2.end == rb.end);
  /* FIFO sends on a max-min link are refused */
  cl_xfer x;
  CL_CHECK(cl_netmodel_send(net, l, 0, 1, &x) == CL_ERR_INVALID);
  cl_timeline_destroy(tl);
  cl_netmodel_destroy(net);
}

int main(void) {
  test_route_formula();
  test_shortest_path();
  test_dumbbell();
  test_parking_lot();
  test_maxmin_property();
  test_timeline_sharing();
  return cl_test_finish("test_netflow");
}
