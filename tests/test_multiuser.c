/* Many users: two devices whose inferences meet on a shared link and a shared edge node;
 * waiting times and latencies equal the hand-derived FIFO and max-min values; periodic
 * and Poisson releases; plan and route errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl_test.h"
#include "cl_test_tmp.h"
#include "cleave/device.h"
#include "cleave/multiuser.h"
#include "cleave/onnx.h"
#include "cleave/plan.h"

static const char *k_tb =
    "model: lenet\n"
    "%s"
    "nodes:\n"
    "  - {name: dev1, tier: device%s}\n"
    "  - {name: dev2, tier: device%s}\n"
    "  - {name: edge, tier: edge}\n"
    "network: [{name: ap, kind: access_point}]\n"
    "links:\n"
    "  - {from: dev1, to: ap, latency: 1ms, bandwidth: 100Mbit/s}\n"
    "  - {from: dev2, to: ap, latency: 1ms, bandwidth: 100Mbit/s}\n"
    "  - {from: ap, to: edge, latency: 1ms, bandwidth: 100Mbit/s}\n"
    "users:\n"
    "  - {name: u1, plan: {cuts: [\"3\"], nodes: [dev1, edge]}, rate: 1, inferences: 3}\n"
    "  - {name: u2, plan: {cuts: [\"3\"], nodes: [dev2, edge]}, rate: 1, inferences: 3}\n"
    "%s";

/* k_tb with @p top, the extra keys of dev1 and dev2 (", device: raspi4"), and @p tail. */
static cl_mu *sim_nodes(const char *top, const char *dev1, const char *dev2, const char *tail,
                        cl_testbed *tb) {
  char text[4096];
  snprintf(text, sizeof text, k_tb, top, dev1, dev2, tail);
  CL_CHECK_OK(cl_testbed_load_string("<mu>", text, tb));
  cl_mu_opts o = {.reps = 1, .layer_time = 1e-3}; /* every layer: 1 ms */
  cl_mu *mu = NULL;
  CL_CHECK_OK(cl_mu_create(tb, &o, &mu));
  return mu;
}

static cl_mu *sim(const char *top, const char *tail, cl_testbed *tb) {
  return sim_nodes(top, "", "", tail, tb);
}

static void test_shared_edge(void) {
  cl_graph *g = NULL;
  CL_CHECK_OK(cl_model_load_structure("lenet", &g));
  int n = cl_graph_size(g);
  double B = (double)cl_shape_numel(cl_graph_node(g, 3)->out) * 4, tx = B / 12.5e6, edge = (n - 4) * 1e-3;
  cl_graph_destroy(g);
  CL_CHECK(edge > tx); /* the derivation below assumes it */
  for (int maxmin = 0; maxmin < 2; maxmin++) {
    cl_testbed tb;
    cl_mu *mu = sim(maxmin ? "sharing: maxmin\n" : "", "", &tb);
    cl_mu_user_stats s1, s2;
    CL_CHECK_OK(cl_mu_user_stats_get(mu, 0, &s1));
    CL_CHECK_OK(cl_mu_user_stats_get(mu, 1, &s2));
    CL_CHECK_INT_EQ(s1.stages, 2);
    CL_CHECK_INT_EQ(s1.inferences, 3);
    double rel, lat1, lat2, w1, w2;
    CL_CHECK_OK(cl_mu_inference(mu, 0, 2, &rel, &lat1, &w1));
    CL_CHECK_NEAR(rel, 2.0, 0);
    CL_CHECK_OK(cl_mu_inference(mu, 1, 2, NULL, &lat2, &w2));
    /* FIFO: u1's tensor holds dev1->ap->edge for tx; u2's waits tx on ap->edge, then waits
     * for u1's edge stage: wait(u2) = tx + (edge - tx) = edge. Max-min: both drain at 2 tx. */
    double arrive1 = 4e-3 + (maxmin ? 2 * tx : tx) + 2e-3;
    CL_CHECK_NEAR(w1, 0.0, 1e-12);
    CL_CHECK_NEAR(lat1, arrive1 + edge, 1e-12);
    CL_CHECK_NEAR(w2, edge, 1e-12); /* max-min: no link wait, the whole edge stage */
    CL_CHECK_NEAR(lat2, arrive1 + 2 * edge, 1e-12);
    CL_CHECK_NEAR(s2.wait_mean, edge, 1e-12);
    cl_mu_destroy(mu);
    cl_testbed_free(&tb);
  }
}

static void test_arrivals(void) {
  cl_testbed tb;
  cl_mu *mu = sim("",
                  "  - {name: p, plan: {cuts: [\"3\"], nodes: [dev1, edge]}, arrival: poisson, rate: 20,\n"
                  "     inferences: 400, seed: 9, start: 5s}\n"
                  "  - {name: q, plan: {cuts: [\"3\"], nodes: [dev1, edge]}, arrival: poisson, rate: 20,\n"
                  "     inferences: 400, seed: 10, start: 5s}\n",
                  &tb);
  double r0, r1, last, q1;
  CL_CHECK_OK(cl_mu_inference(mu, 2, 0, &r0, NULL, NULL));
  CL_CHECK_OK(cl_mu_inference(mu, 2, 1, &r1, NULL, NULL));
  CL_CHECK_OK(cl_mu_inference(mu, 2, 399, &last, NULL, NULL));
  CL_CHECK_OK(cl_mu_inference(mu, 3, 1, &q1, NULL, NULL));
  CL_CHECK_NEAR(r0, 5.0, 0);
  CL_CHECK(r1 > 5.0 && r1 != q1);                /* seeds give different streams */
  CL_CHECK_NEAR((last - 5.0) / 399, 0.05, 0.01); /* mean gap 1 / rate */
  CL_CHECK(cl_mu_inference(mu, 2, 400, NULL, NULL, NULL) == CL_ERR_INVALID);
  cl_mu_destroy(mu);
  cl_testbed_free(&tb);
}

static void test_errors(void) {
  char text[4096];
  cl_testbed tb;
  cl_mu_opts o = {.reps = 1, .layer_time = 1e-3};
  cl_mu *mu = NULL;
  /* a user chained to a node no link reaches */
  snprintf(text, sizeof text, k_tb, "", "", "",
           "  - {name: iso, plan: {cuts: [\"3\"], nodes: [dev1, lone]}, rate: 1}\n");
  char *p = strstr(text, "  - {name: edge, tier: edge}\n");
  char buf[4200];
  size_t pre = (size_t)(p - text);
  memcpy(buf, text, pre);
  snprintf(buf + pre, sizeof buf - pre, "  - {name: lone, tier: edge}\n%s", p);
  CL_CHECK_OK(cl_testbed_load_string("<mu>", buf, &tb));
  CL_CHECK(cl_mu_create(&tb, &o, &mu) == CL_ERR_CONFIG);
  CL_CHECK(mu == NULL);
  cl_testbed_free(&tb);
  snprintf(text, sizeof text, k_tb, "", "", "",
           "  - {name: u1, plan: {cuts: [\"3\"], nodes: [dev1, edge]}, rate: 1}\n");
  CL_CHECK(cl_testbed_load_string("<mu>", text, &tb) == CL_ERR_CONFIG); /* duplicate user */
  snprintf(text, sizeof text, k_tb, "", "", "",
           "  - {name: x, plan: {cuts: [\"3\"], nodes: [dev1, edge]}}\n");
  CL_CHECK(cl_testbed_load_string("<mu>", text, &tb) == CL_ERR_CONFIG); /* rate is required */
}

/* Planner users (`planner:`) see the load: a background user keeps the edge busy; an
 * unloaded Neurosurgeon / DADS offloads to the 4x faster edge, the load-aware one keeps the
 * inference on its device once it sees the edge's queue, and is faster for it. */
static const char *k_planned =
    "model: lenet\n"
    "nodes:\n"
    "  - {name: dev1, tier: device, speed: 4}\n"
    "  - {name: dev2, tier: device, speed: 4}\n"
    "  - {name: edge, tier: edge, speed: 1}\n"
    "network: [{name: ap, kind: access_point}]\n"
    "links:\n"
    "  - {from: dev1, to: ap, latency: 1ms, bandwidth: 100Mbit/s}\n"
    "  - {from: dev2, to: ap, latency: 1ms, bandwidth: 100Mbit/s}\n"
    "  - {from: ap, to: edge, latency: 1ms, bandwidth: 1Gbit/s}\n"
    "users:\n"
    "  - {name: bg, plan: {cuts: [\"1\"], nodes: [dev2, edge]}, arrival: poisson, rate: %g, inferences: "
    "200}\n"
    "  - {name: p, planner: {name: %s, nodes: [dev1, edge], load: %s}, rate: 5, start: 0.5s, inferences: "
    "10}\n";

static void test_planner_users(void) {
  cl_graph *g = NULL;
  CL_CHECK_OK(cl_model_load_structure("lenet", &g));
  int n = cl_graph_size(g);
  cl_graph_destroy(g);
  const char *planners[2] = {"neurosurgeon", "dads"};
  for (int k = 0; k < 2; k++) {
    double lat[3] = {0, 0, 0};
    const char *loads[3] = {"none", "wait", "utilisation"};
    for (int aware = 0; aware < 3; aware++) {
      char text[4096];
      /* bg: n - 2 layers of 1 ms on the edge per inference, at the edge's capacity */
      snprintf(text, sizeof text, k_planned, 1.0 / ((n - 2) * 1e-3), planners[k], loads[aware]);
      cl_testbed tb;
      CL_CHECK_OK(cl_testbed_load_string("<planned>", text, &tb));
      cl_mu_opts o = {.reps = 1, .layer_time = 1e-3, .plan = cl_plan_users_hook};
      cl_mu *mu = NULL;
      CL_CHECK_OK(cl_mu_create(&tb, &o, &mu));
      int nl = 0, conv = 0, on_edge = 0;
      const int *nol = cl_mu_user_layers(mu, 1, &nl);
      CL_CHECK_INT_EQ(nl, n);
      for (int y = 0; nol && y < nl; y++) on_edge += nol[y] == 2;
      int rounds = cl_mu_rounds(mu, &conv);
      printf("%s load %s: %d rounds, %d of %d layers on the edge, chain %s\n", planners[k], loads[aware],
             rounds, on_edge, n, cl_mu_user_chain_text(mu, 1));
      CL_CHECK(conv);
      if (aware) {
        CL_CHECK_INT_EQ(rounds, 2); /* offload, see the queue, stay local, stable */
        CL_CHECK_INT_EQ(on_edge, 0);
        cl_mu_node_load ld;
        CL_CHECK_OK(cl_mu_node_load_get(mu, 2, &ld));
        CL_CHECK(ld.wait_mean > 0.01 && ld.util > 0.8);
      } else {
        CL_CHECK_INT_EQ(rounds, 1);
        CL_CHECK(on_edge > n / 2);
      }
      cl_mu_user_stats st;
      CL_CHECK_OK(cl_mu_user_stats_get(mu, 1, &st));
      lat[aware] = st.lat_mean;
      cl_mu_destroy(mu);
      cl_testbed_free(&tb);
    }
    CL_CHECK(lat[1] < lat[0] && lat[2] < lat[0]);
  }
  /* without a planner hook a planner user is a config error */
  char text[4096];
  snprintf(text, sizeof text, k_planned, 1.0, "dads", "wait");
  cl_testbed tb;
  CL_CHECK_OK(cl_testbed_load_string("<planned>", text, &tb));
  cl_mu_opts o = {.reps = 1, .layer_time = 1e-3};
  cl_mu *mu = NULL;
  CL_CHECK(cl_mu_create(&tb, &o, &mu) == CL_ERR_CONFIG);
  cl_testbed_free(&tb);
}

/* The loader's name index (a hash since issue 16) against its naive twin, a linear scan,
 * on 4,000 nodes and 1,000 network elements; duplicates across nodes and elements refused. */
static void test_name_index(void) {
  enum { N = 4000, E = 1000 };
  size_t cap = (size_t)(N + E) * 64 + 256;
  char *text = malloc(cap);
  CL_CHECK(text != NULL);
  if (!text) return;
  size_t o = (size_t)snprintf(text, cap, "model: lenet\nnodes:\n");
  for (int i = 0; i < N; i++)
    o += (size_t)snprintf(text + o, cap - o, "  - {name: n%d, tier: edge}\n", i * 7919 % 100003);
  o += (size_t)snprintf(text + o, cap - o, "network:\n");
  for (int i = 0; i < E; i++) o += (size_t)snprintf(text + o, cap - o, "  - {name: sw%d, kind: switch}\n", i);
  cl_testbed tb;
  CL_CHECK_OK(cl_testbed_load_string("<names>", text, &tb));
  int bad = 0;
  for (int v = 0; v < N + E; v++) {
    int lin = -1;
    for (int j = 0; j < tb.n_nodes + tb.n_elements && lin < 0; j++)
      if (!strcmp(tb.nodes[j].name, tb.nodes[v].name)) lin = j;
    bad += cl_testbed_find_vertex(&tb, tb.nodes[v].name) != lin;
    bad += cl_testbed_find_node(&tb, tb.nodes[v].name) != (v < N ? lin : -1);
  }
  CL_CHECK_INT_EQ(bad, 0);
  CL_CHECK_INT_EQ(cl_testbed_find_vertex(&tb, "nosuch"), -1);
  CL_CHECK_INT_EQ(cl_testbed_find_node(&tb, "sw3"), -1);
  cl_testbed_free(&tb);
  /* a network element named like a node */
  snprintf(text + o, cap - o, "  - {name: n7919, kind: switch}\n");
  CL_CHECK(cl_testbed_load_string("<names>", text, &tb) == CL_ERR_CONFIG);
  free(text);
}

/* Users on catalogue devices (`device:`): a device node's stage costs its host time x
 * (device model / host calibration) of the stage's layers, and the device's power; a
 * `speed:` beside `device:` overrides the speed only. Checked against the same testbed
 * with those factors and that power written out as plain `speed:` / `power:` nodes.
 * (The simulation ignored `device:` before: a Raspberry Pi ran at this host's speed.) */
static void test_device_nodes(void) {
  CL_CHECK_OK(setenv("CLEAVE_CALIB_LAYERS", "0", 1)); /* the host calibration's class model: no model run */
  /* An empty calibration cache: the cl_calib_get below measures, the simulation's reads
   * the cache, and both must give the same numbers (the measuring run returned the
   * unrounded throughputs, 1e-4 relative off its reruns, until cl_calib_get re-read its
   * own cache; a fresh clone's CI caught it). */
  if (!cl_test_tmp_init("mu_calib")) return;
  CL_CHECK_OK(setenv("CLEAVE_CALIB_DIR", cl_test_tmp(""), 1));
  cl_device pi, host;
  cl_graph *g = NULL;
  CL_CHECK_OK(cl_device_find("raspi4", &pi));
  CL_CHECK_OK(cl_calib_get(CL_BACKEND_AUTO, 1, 0, &host, NULL, 0));
  CL_CHECK_OK(cl_model_load_structure("lenet", &g));
  double dev = 0, hs = 0; /* stage 1 of both users: graph nodes 0..3 */
  for (int y = 0; y <= 3; y++) {
    dev += cl_device_node_time(&pi, g, y);
    hs += cl_device_node_time(&host, g, y);
  }
  cl_graph_destroy(g);
  CL_CHECK(hs > 0 && dev / hs > 1); /* a Raspberry Pi 4 is slower than this host */
  char plain1[256], plain2[256];
  snprintf(plain1, sizeof plain1,
           ", speed: %.17g, power: {idle: %.17gW, busy: %.17gW, tx: %.17gW, rx: %.17gW}", dev / hs,
           pi.power.idle, pi.power.busy, pi.power.tx, pi.power.rx);
  snprintf(plain2, sizeof plain2, ", speed: 3, power: {idle: %.17gW, busy: %.17gW, tx: %.17gW, rx: %.17gW}",
           pi.power.idle, pi.power.busy, pi.power.tx, pi.power.rx);
  cl_testbed ta, tb;
  cl_mu *a = sim_nodes("", ", device: raspi4", ", device: raspi4, speed: 3", "", &ta);
  cl_mu *b = sim_nodes("", plain1, plain2, "", &tb);
  if (a && b) {
    for (int u = 0; u < 2; u++)
      for (int k = 0; k < 3; k++) {
        double la, lb, wa, wb;
        CL_CHECK_OK(cl_mu_inference(a, u, k, NULL, &la, &wa));
        CL_CHECK_OK(cl_mu_inference(b, u, k, NULL, &lb, &wb));
        CL_CHECK_NEAR(la, lb, 1e-12 * lb);
        CL_CHECK_NEAR(wa, wb, 1e-12 * fmax(wb, 1e-9));
      }
    for (int nd = 0; nd < 3; nd++) {
      cl_node_result ra, rb;
      CL_CHECK_OK(cl_timeline_node(cl_mu_timeline(a), nd, &ra));
      CL_CHECK_OK(cl_timeline_node(cl_mu_timeline(b), nd, &rb));
      CL_CHECK_NEAR(ra.busy_time, rb.busy_time, 1e-12 * rb.busy_time);
      CL_CHECK_NEAR(ra.energy, rb.energy, 1e-12 * rb.energy);
    }
    /* and the device really is slower than this host: dev1's busy time vs 4 layers x 3 x 1 ms */
    cl_node_result r;
    CL_CHECK_OK(cl_timeline_node(cl_mu_timeline(a), 0, &r));
    CL_CHECK_NEAR(r.busy_time, 3 * 4e-3 * dev / hs, 1e-12);
  }
  cl_mu_destroy(a);
  cl_mu_destroy(b);
  cl_testbed_free(&ta);
  cl_testbed_free(&tb);
  /* an unknown device is a config error naming it */
  cl_testbed tc;
  char text[4096];
  snprintf(text, sizeof text, k_tb, "", ", device: nosuchpi", "", "");
  CL_CHECK_OK(cl_testbed_load_string("<dev>", text, &tc));
  cl_mu_opts o = {.reps = 1, .layer_time = 1e-3};
  cl_mu *c = NULL;
  CL_CHECK(cl_mu_create(&tc, &o, &c) == CL_ERR_CONFIG);
  CL_CHECK(c == NULL);
  cl_testbed_free(&tc);
  CL_CHECK_OK(unsetenv("CLEAVE_CALIB_LAYERS"));
  CL_CHECK_OK(unsetenv("CLEAVE_CALIB_DIR"));
  cl_test_tmp_remove();
}

int main(void) {
  test_device_nodes();
  test_name_index();
  test_planner_users();
  test_shared_edge();
  test_arrivals();
  test_errors();
  return cl_test_finish("test_multiuser");
}
