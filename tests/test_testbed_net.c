/* Routed testbeds: network elements, links between them, explicit and shortest-path
 * routes, sharing modes; `cleave sim`'s path (cl_rt_setup_load + cl_rt_simulate) gives
 * the routed transfer its formula time; config errors name the line. */
#include <math.h>
#include <stdlib.h>

#include "cl_test.h"
#include "cleave/onnx.h"
#include "cleave/runtime.h"
#include "cleave/testbed.h"

static const char *k_base =
    "model: lenet\n"
    "nodes:\n"
    "  - {name: dev, tier: device}\n"
    "  - {name: edge, tier: edge}\n"
    "  - {name: cloud, tier: cloud}\n"
    "network:\n"
    "  - {name: ap, kind: access_point}\n"
    "  - {name: wan, kind: wan}\n"
    "links:\n"
    "  - {from: dev, to: ap, latency: 2ms, bandwidth: 80Mbit/s}\n"
    "  - {from: ap, to: edge, latency: 1ms, bandwidth: 800Mbit/s}\n"
    "  - {from: edge, to: wan, latency: 10ms, bandwidth: 400Mbit/s}\n"
    "  - {from: wan, to: cloud, latency: 5ms, bandwidth: 40Mbit/s}\n"
    "  - {from: ap, to: wan, latency: 100ms, bandwidth: 20Mbit/s}\n"
    "plan: {cuts: [\"3\"], nodes: [dev, cloud]}\n";

static char *cat(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  char *s = malloc(la + lb + 1);
  memcpy(s, a, la);
  memcpy(s + la, b, lb + 1);
  return s;
}

/* Simulate with zero compute: the one inference's latency is its transfer's. */
static double sim_latency(const char *text, int *hops_out, int64_t *bytes_out) {
  cl_rt_setup su;
  CL_CHECK_OK(cl_rt_setup_load("<net>", text, &su));
  cl_graph *g = NULL;
  CL_CHECK_OK(cl_model_load_structure(su.model, &g));
  double *t = calloc((size_t)cl_graph_size(g), sizeof *t);
  cl_rt_tasks tasks;
  cl_timeline *tl = NULL;
  CL_CHECK_OK(cl_rt_simulate(g, &su, t, &tasks, &tl));
  CL_CHECK_INT_EQ(tasks.n_xfer, 1);
  *hops_out = cl_netmodel_route_hops(su.net, tasks.xfer_link[0], NULL, 0);
  *bytes_out = tasks.xfer_bytes[0];
  cl_inference_result ir;
  CL_CHECK_OK(cl_timeline_inference(tl, 0, &ir));
  cl_timeline_destroy(tl);
  cl_rt_tasks_free(&tasks);
  free(t);
  cl_graph_destroy(g);
  cl_rt_setup_free(&su);
  return ir.latency;
}

static void test_load(void) {
  cl_testbed tb;
  char *text = cat(k_base, "routes: [{from: dev, to: cloud, via: [ap, wan]}]\nsharing: maxmin\n");
  CL_CHECK_OK(cl_testbed_load_string("<net>", text, &tb));
  CL_CHECK_INT_EQ(tb.n_nodes, 3);
  CL_CHECK_INT_EQ(tb.n_elements, 2);
  CL_CHECK_STR_EQ(tb.nodes[3].name, "ap");
  CL_CHECK_INT_EQ(tb.nodes[4].kind, CL_TB_WAN);
  CL_CHECK_INT_EQ(cl_testbed_find_node(&tb, "ap"), -1);
  CL_CHECK_INT_EQ(cl_testbed_find_vertex(&tb, "wan"), 4);
  CL_CHECK_INT_EQ(tb.n_routes, 1);
  CL_CHECK_INT_EQ(tb.routes[0].n_via, 2);
  CL_CHECK_INT_EQ(tb.links[0].sharing, CL_SHARING_MAXMIN);
  cl_testbed_free(&tb);
  free(text);
}

static void test_sim_routes(void) {
  int hops;
  int64_t B;
  /* shortest path: dev->ap->edge->wan->cloud (18 ms) beats dev->ap->wan->cloud (107 ms) */
  double lat = sim_latency(k_base, &hops, &B);
  CL_CHECK_INT_EQ(hops, 4);
  CL_CHECK(B > 0);
  CL_CHECK_NEAR(lat, 0.002 + 0.001 + 0.010 + 0.005 + (double)B / 5e6, 1e-12);
  /* an explicit route wins */
  char *text = cat(k_base, "routes: [{from: dev, to: cloud, via: [ap, wan]}]\n");
  lat = sim_latency(text, &hops, &B);
  CL_CHECK_INT_EQ(hops, 3);
  CL_CHECK_NEAR(lat, 0.002 + 0.100 + 0.005 + (double)B / 2.5e6, 1e-12);
  free(text);
  /* max-min sharing: one flow alone gets the same formula */
  text = cat(k_base, "sharing: maxmin\n");
  lat = sim_latency(text, &hops, &B);
  CL_CHECK_NEAR(lat, 0.018 + (double)B / 5e6, 1e-12);
  free(text);
}

static int g_err;
static char g_last[1024];
static void sink(const char *line, void *ctx) {
  (void)ctx;
  g_err++;
  snprintf(g_last, sizeof g_last, "%s", line);
}

static void test_errors(void) {
  static const struct {
    const char *extra, *want;
  } cases[] = {
      {"routes: [{from: dev, to: cloud, via: [ap, nowhere]}]\n", "unknown node or network element 'nowhere'"},
      {"routes: [{from: dev, to: cloud, via: [edge]}]\n", "route hop dev->edge: no link"},
      {"routes: [{from: dev, to: cloud}]\n", "missing required key 'via'"},
      {"network2: 1\n", "network2"},
  };
  cl_log_set_sink(sink, NULL);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *text = cat(k_base, cases[i].extra);
    cl_testbed tb;
    g_err = 0;
    CL_CHECK_INT_EQ(cl_testbed_load_string("<net>", text, &tb), CL_ERR_CONFIG);
    CL_CHECK(strstr(g_last, cases[i].want) != NULL);
    if (!strstr(g_last, cases[i].want)) fprintf(stderr, "  got: %s\n", g_last);
    free(text);
  }
  /* a network element cannot hold layers */
  const char *bad = "model: lenet\nnodes: [{name: dev, tier: device}]\nnetwork: [{name: ap, kind: switch}]\n"
                    "links: [{from: dev, to: ap, latency: 1ms, bandwidth: 1Mbit/s}]\n"
                    "plan: [{node: ap, layers: rest}]\n";
  cl_testbed tb;
  CL_CHECK_INT_EQ(cl_testbed_load_string("<net>", bad, &tb), CL_ERR_CONFIG);
  CL_CHECK(strstr(g_last, "ap") != NULL);
  /* a route mixing fifo and maxmin links is refused when the model is built */
  char *text = cat(k_base, "routes: [{from: dev, to: cloud, via: [ap, wan]}]\n");
  char *mixed = malloc(strlen(text) + 32);
  char *p = strstr(text, "{from: ap, to: wan,");
  size_t pre = (size_t)(p - text);
  memcpy(mixed, text, pre);
  strcpy(mixed + pre, "{sharing: maxmin, ");
  strcat(mixed, p + 1);
  cl_rt_setup su;
  CL_CHECK(cl_rt_setup_load("<net>", mixed, &su) != CL_OK);
  CL_CHECK(strstr(g_last, "route") != NULL);
  free(mixed);
  free(text);
  cl_log_set_sink(NULL, NULL);
}

int main(void) {
  test_load();
  test_sim_routes();
  test_errors();
  return cl_test_finish("test_testbed_net");
}
