/* Small hand-built graphs shared by the planner and spatial tests (tests/test_coedge.c,
 * tests/test_spatial_plan.c), whose numbers are worked out by hand there.
 * Header-only, like cl_test.h. */
#ifndef CL_TEST_GRAPH_H
#define CL_TEST_GRAPH_H

#include <stdlib.h>
#include <string.h>

#include "cleave/graph.h"

/** Host seconds per node of @p g at @p flops_per_s (a FLOP-based profile, the same on
 *  every rank): a new array of cl_graph_size(g) doubles the caller frees, or NULL. */
static inline double *cl_test_flop_seconds(const cl_graph *g, double flops_per_s) {
  int n = cl_graph_size(g);
  double *t = calloc((size_t)n, sizeof *t);
  for (int id = 0; t && id < n; id++) t[id] = (double)cl_graph_node(g, id)->flops / flops_per_s;
  return t;
}

/** Square conv params: @p out_c filters k x k, stride s, padding pad on every side,
 *  dilation dil, one group, with bias, no fused activation. */
static inline cl_conv_params cl_test_conv(int out_c, int k, int s, int pad, int dil) {
  cl_conv_params p = {out_c, k, k, s, s, pad, pad, pad, pad, dil, dil, 1, 1, CL_ACT_NONE};
  return p;
}

/** x[1,2,16,8] -> c1 conv3 -> r1 relu -> c2 conv3/s2 -> p1 maxpool2 -> flat -> fc(3).
 *  NULL if it cannot be built. */
static inline cl_graph *cl_test_tiny_chain(void) {
  cl_graph *g;
  if (cl_graph_create("tiny", &g) != CL_OK) return NULL;
  cl_shape s = {1, 2, 16, 8};
  int x = cl_graph_add_input(g, "x", s);
  cl_op_params p;
  memset(&p, 0, sizeof p);
  p.conv = cl_test_conv(4, 3, 1, 1, 1);
  int c1 = cl_graph_add(g, CL_OP_CONV, "c1", &x, 1, &p);
  memset(&p, 0, sizeof p);
  int r1 = cl_graph_add(g, CL_OP_RELU, "r1", &c1, 1, &p);
  p.conv = cl_test_conv(4, 3, 2, 1, 1);
  int c2 = cl_graph_add(g, CL_OP_CONV, "c2", &r1, 1, &p);
  memset(&p, 0, sizeof p);
  cl_pool_params pp = {2, 2, 2, 2, 0, 0, 0, 0, 0, 0};
  p.pool = pp;
  int p1 = cl_graph_add(g, CL_OP_MAXPOOL, "p1", &c2, 1, &p);
  memset(&p, 0, sizeof p);
  int fl = cl_graph_add(g, CL_OP_FLATTEN, "flat", &p1, 1, &p);
  p.fc.out_features = 3;
  p.fc.has_bias = 1;
  cl_graph_add(g, CL_OP_FC, "fc", &fl, 1, &p);
  return g;
}

/** Variants of cl_test_branchy(). */
typedef struct cl_test_branchy_spec {
  int ch;          /* channels of c1, b1, b2 */
  cl_act c1_act;   /* fused activation of c1 */
  int b2_dil;      /* dilation (and padding) of the 3x3 branch b2 */
  int c3_out, c3_k; /* c3: out channels, kernel (padding k/2) */
  int fc_out;      /* > 0: a final fc with that many outputs */
} cl_test_branchy_spec;

/** x[1,3,h,w] -> c1 conv3 -> [b1 conv1x1 | b2 conv3 dilated] -> add -> pool maxpool3/s2
 *  ceil -> c3 conv -> gap [-> fc]: a residual branch and ceil-mode pooling. NULL if it
 *  cannot be built. */
static inline cl_graph *cl_test_branchy(int h, int w, cl_test_branchy_spec sp) {
  cl_graph *g;
  if (cl_graph_create("branchy", &g) != CL_OK) return NULL;
  cl_shape s = {1, 3, h, w};
  int x = cl_graph_add_input(g, "x", s);
  cl_op_params p;
  memset(&p, 0, sizeof p);
  p.conv = cl_test_conv(sp.ch, 3, 1, 1, 1);
  p.conv.act = sp.c1_act;
  int c1 = cl_graph_add(g, CL_OP_CONV, "c1", &x, 1, &p);
  p.conv = cl_test_conv(sp.ch, 1, 1, 0, 1);
  int a = cl_graph_add(g, CL_OP_CONV, "b1", &c1, 1, &p);
  p.conv = cl_test_conv(sp.ch, 3, 1, sp.b2_dil, sp.b2_dil);
  int b = cl_graph_add(g, CL_OP_CONV, "b2", &c1, 1, &p);
  memset(&p, 0, sizeof p);
  int ab[2] = {a, b};
  int add = cl_graph_add(g, CL_OP_ADD, "add", ab, 2, &p);
  cl_pool_params pp = {3, 3, 2, 2, 0, 0, 0, 0, 1, 0};
  p.pool = pp;
  int mp = cl_graph_add(g, CL_OP_MAXPOOL, "pool", &add, 1, &p);
  memset(&p, 0, sizeof p);
  p.conv = cl_test_conv(sp.c3_out, sp.c3_k, 1, sp.c3_k / 2, 1);
  int c3 = cl_graph_add(g, CL_OP_CONV, "c3", &mp, 1, &p);
  memset(&p, 0, sizeof p);
  int gp = cl_graph_add(g, CL_OP_GAP, "gap", &c3, 1, &p);
  if (sp.fc_out > 0) {
    p.fc.out_features = sp.fc_out;
    cl_graph_add(g, CL_OP_FC, "fc", &gp, 1, &p);
  }
  return g;
}

#endif
