/* Grid-tile execution (DeepThings fused tile partitioning) equals the monolithic run
 * within 1e-5 relative, for random grids (1x1 .. 4x4), the planner's near-equal tiles
 * and random uneven tiles down to 1 pixel, random fused prefixes of AlexNet, VGG-F,
 * GoogLeNet, MobileNet v1, VGG-16 and ResNet-18 rebuilt at odd input sizes, and a
 * synthetic block with the awkward cases (ceil-mode max/avg pools with padding and
 * count_include_pad, dilation, asymmetric padding, depthwise stride 2, strides that
 * skip columns, branches of different widths, concat, add, LRN). The regions and MACs
 * the executor derives itself are checked against the analytic plan of
 * sim/spatial_plan.c (cl_spatial_plan_tiles), so the analytic redundancy numbers are
 * checked against execution. In-process transport (MPI: tests/mpi_spatial_tiles.c). */
#include <stdlib.h>
#include <string.h>

#include "cl_test_exec.h"
#include "cleave/spatial.h"
#include "cleave/spatial_exec.h"

static int box_eq(cl_box a, cl_box b) {
  if (cl_box_empty(a) || cl_box_empty(b)) return cl_box_empty(a) && cl_box_empty(b);
  return a.y0 == b.y0 && a.y1 == b.y1 && a.x0 == b.x0 && a.x1 == b.x1;
}

/* n + 1 strictly increasing bounds from 0 to h; random sizes, often 1. */
static void random_bounds(int *b, int n, int h, uint64_t *rng) {
  b[0] = 0;
  b[n] = h;
  for (int k = 1; k < n; k++) {
    int lo = b[k - 1] + 1, hi = h - (n - k); /* leave >= 1 for each later part */
    int r = (int)(cl_rng_next(rng) % 3);
    b[k] = r == 0 ? lo : lo + (int)(cl_rng_next(rng) % (uint64_t)(hi - lo + 1));
  }
}

typedef struct stats {
  int runs, uneven, one_px, compared_plans;
  double max_err, max_red;
} stats;

/* Random tile trials on run [0, last] of g (the graph output is last or has a tail). */
static void tile_trials(const char *what, cl_graph *g, int last, int trials, uint64_t seed, stats *sm) {
  int out = cl_graph_output(g);
  cl_exec *e = cl_test_reference(g, CL_BACKEND_PORTABLE, 5); /* every buffer readable (NCHW) */
  if (!e) return;
  const float *input = cl_exec_buffer(e, 0);
  const cl_node *ln = cl_graph_node(g, last);
  int64_t run_n = cl_shape_numel(ln->out), out_n = cl_shape_numel(cl_graph_node(g, out)->out);
  float *y = malloc(sizeof(float) * (size_t)out_n);
  uint64_t rng = seed;
  for (int trial = 0; trial < trials; trial++) {
    int H = ln->out.h, W = ln->out.w;
    int gr = 1 + (int)(cl_rng_next(&rng) % (uint64_t)(H < 4 ? H : 4));
    int gc = 1 + (int)(cl_rng_next(&rng) % (uint64_t)(W < 4 ? W : 4));
    int T = gr * gc, tile_dev[16];
    cl_spatial_spec spec = {0, last, CL_SPATIAL_FUSED, 1 + (int)(cl_rng_next(&rng) % 4), 0, -1};
    spec.source = (int)(cl_rng_next(&rng) % (uint64_t)spec.n_dev);
    if (trial % 2) spec.sink = (int)(cl_rng_next(&rng) % (uint64_t)spec.n_dev);
    for (int k = 0; k < T; k++) tile_dev[k] = (int)(cl_rng_next(&rng) % (uint64_t)spec.n_dev);
    cl_spatial_plan *p = NULL;
    CL_CHECK_OK(cl_spatial_plan_tiles(g, &spec, gr, gc, tile_dev, &p));
    if (!p) continue;
    /* every third trial: random uneven tiles (the tile executor derives all regions from
     * the last node's tiles alone, so the plan's other regions no longer apply). Only for
     * real column tiles: full-width plans take the row executor, which runs the plan's
     * regions as they are (uneven row splits: tests/test_spatial_exec.c). */
    int uneven = trial % 3 == 2 && gc > 1, rb[5], cb[5];
    if (uneven) {
      random_bounds(rb, gr, H, &rng);
      random_bounds(cb, gc, W, &rng);
      for (int r = 0; r < gr; r++)
        for (int c = 0; c < gc; c++) {
          cl_box b = {rb[r], rb[r + 1], cb[c], cb[c + 1]};
          p->box[(size_t)(p->n_nodes - 1) * T + r * gc + c] = b;
          if (cl_box_area(b) == 1) sm->one_px++;
        }
      sm->uneven++;
    }
    cl_spatial_exec *se = NULL;
    CL_CHECK_OK(cl_spatial_exec_create(g, p, MPI_COMM_NULL, &se));
    if (se) {
      memset(y, 0, sizeof(float) * (size_t)out_n);
      CL_CHECK_OK(cl_spatial_exec_run(se, input, y));
      double err = cl_test_rel_err(cl_spatial_exec_run_output(se), cl_exec_buffer(e, last), run_n);
      double err_out = cl_test_rel_err(y, cl_exec_buffer(e, out), out_n);
      if (err > 1e-5 || err_out > 1e-5)
        fprintf(stderr, "%s trial %d: %dx%d tiles%s on %d devices: rel err %g (output %g)\n", what,
                trial, gr, gc, uneven ? " (uneven)" : "", spec.n_dev, err, err_out);
      CL_CHECK(err <= 1e-5);
      CL_CHECK(err_out <= 1e-5);
      if (err > sm->max_err) sm->max_err = err;
      sm->runs++;
      if (!uneven) {
        /* analytic regions and MACs (sim/spatial_plan.c) == what the executor ran */
        int bad = 0;
        for (int i = 0; i < p->n_nodes; i++)
          for (int t = 0; t < T; t++) {
            cl_box a = p->need[(size_t)i * T + t], x = cl_spatial_exec_region(se, i, t);
            if (!box_eq(a, x) && bad++ < 3)
              fprintf(stderr, "%s: node '%s' tile %d: plan [%d,%d)x[%d,%d), executed [%d,%d)x[%d,%d)\n",
                      what, cl_graph_node(g, p->first + i)->name, t, a.y0, a.y1, a.x0, a.x1, x.y0,
                      x.y1, x.x0, x.x1);
          }
        CL_CHECK_INT_EQ(bad, 0);
        int64_t sum = 0;
        for (int d = 0; d < spec.n_dev; d++) {
          CL_CHECK_INT_EQ(cl_spatial_exec_macs(se, d), p->macs[d]);
          sum += cl_spatial_exec_macs(se, d);
        }
        if (p->run_macs > 0) {
          double red = (double)sum / (double)p->run_macs - 1.0;
          CL_CHECK_NEAR(red, p->redundancy, 1e-12);
          if (red > sm->max_red) sm->max_red = red;
        }
        sm->compared_plans++;
      }
      /* per-node timings add up to the per-device compute time */
      for (int d = 0; d < spec.n_dev; d++) {
        double s = 0;
        for (int i = 0; i < p->n_nodes; i++) s += cl_spatial_exec_node_seconds(se, i, d);
        CL_CHECK_NEAR(s, cl_spatial_exec_compute_seconds(se, d), 1e-9);
      }
    }
    cl_spatial_exec_destroy(se);
    cl_spatial_plan_destroy(p);
  }
  free(y);
  cl_exec_destroy(e);
}

/* Random fused prefixes of a zoo model rebuilt at an odd input size. */
static void zoo_model(const char *model, int h, int w, int prefixes, int trials, uint64_t seed,
                      stats *sm) {
  cl_graph *full = NULL;
  CL_CHECK_OK(cl_zoo_build(model, &full));
  if (!full) return;
  int first, last;
  CL_CHECK_OK(cl_spatial_prefix(full, &first, &last));
  cl_shape in = cl_graph_node(full, 0)->out;
  in.h = h;
  in.w = w;
  cl_graph *g = cl_test_rebuild(full, last, in, 11);
  CL_CHECK(g != NULL);
  if (!g) {
    fprintf(stderr, "%s does not fit %dx%d\n", model, h, w);
    cl_graph_destroy(full);
    return;
  }
  int cuts[1024];
  int nc = cl_graph_cut_points(g, cuts, 1024);
  if (nc > 1024) nc = 1024;
  uint64_t rng = seed;
  for (int k = 0; k < prefixes; k++) {
    /* the whole spatial part first, then random single-tensor cut points */
    int end = last;
    if (k > 0) {
      do end = cuts[cl_rng_next(&rng) % (uint64_t)nc];
      while (end == 0);
    }
    cl_graph *sub = end == last ? g : cl_test_rebuild(g, end, in, 11);
    CL_CHECK(sub != NULL);
    if (!sub) continue;
    char what[96];
    snprintf(what, sizeof what, "%s %dx%d ..%s", model, h, w, cl_graph_node(sub, end)->name);
    tile_trials(what, sub, end, trials, seed * 100 + (uint64_t)k, sm);
    if (sub != g) cl_graph_destroy(sub);
  }
  cl_graph_destroy(g);
  cl_graph_destroy(full);
}

static char g_last_error[512];
static void capture(const char *line, void *ctx) {
  (void)ctx;
  snprintf(g_last_error, sizeof g_last_error, "%s", line);
}

/* A block with every awkward window case, at odd sizes. */
static cl_graph *torture(int h, int w) {
  cl_graph *g = NULL;
  if (cl_graph_create("tiles_torture", &g) != CL_OK) return NULL;
  cl_op_params p;
  int x = cl_graph_add_input(g, "input", (cl_shape){1, 3, h, w});
  memset(&p, 0, sizeof p);
  p.conv = (cl_conv_params){4, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 1, 1, CL_ACT_RELU};
  int c1 = cl_graph_add(g, CL_OP_CONV, "conv5x5", &x, 1, &p);
  memset(&p, 0, sizeof p);
  p.pool = (cl_pool_params){3, 3, 2, 2, 1, 1, 1, 1, 1, 1}; /* ceil, count_include_pad */
  int a1 = cl_graph_add(g, CL_OP_AVGPOOL, "avg_ceil_incl", &c1, 1, &p);
  int m1 = cl_graph_add(g, CL_OP_MAXPOOL, "max_ceil", &c1, 1, &p);
  int cat_in[2] = {a1, m1};
  int cat = cl_graph_add(g, CL_OP_CONCAT, "cat", cat_in, 2, NULL);
  memset(&p, 0, sizeof p);
  p.conv = (cl_conv_params){6, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1, 1, CL_ACT_NONE}; /* dilated */
  int d1 = cl_graph_add(g, CL_OP_CONV, "dilated", &cat, 1, &p);
  p.conv = (cl_conv_params){6, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0, CL_ACT_NONE}; /* pointwise */
  int pw = cl_graph_add(g, CL_OP_CONV, "pointwise", &cat, 1, &p);
  int add_in[2] = {d1, pw};
  memset(&p, 0, sizeof p);
  p.eltwise.act = CL_ACT_RELU6;
  int add = cl_graph_add(g, CL_OP_ADD, "add", add_in, 2, &p);
  memset(&p, 0, sizeof p);
  p.conv = (cl_conv_params){6, 3, 3, 2, 2, 0, 0, 1, 1, 1, 1, 6, 1, CL_ACT_NONE}; /* dw, asym pad */
  int dw = cl_graph_add(g, CL_OP_CONV, "depthwise_s2", &add, 1, &p);
  memset(&p, 0, sizeof p);
  p.lrn = (cl_lrn_params){3, 1e-2f, 0.75f, 2.0f};
  int lrn = cl_graph_add(g, CL_OP_LRN, "lrn", &dw, 1, &p);
  memset(&p, 0, sizeof p);
  p.pool = (cl_pool_params){3, 3, 1, 1, 1, 1, 1, 1, 0, 0}; /* excl. pad */
  int a2 = cl_graph_add(g, CL_OP_AVGPOOL, "avg_excl", &lrn, 1, &p);
  p.pool = (cl_pool_params){2, 2, 2, 2, 0, 0, 0, 0, 1, 0}; /* ceil, no pad */
  int a3 = cl_graph_add(g, CL_OP_AVGPOOL, "avg_ceil_nopad", &a2, 1, &p);
  memset(&p, 0, sizeof p);
  p.conv = (cl_conv_params){5, 2, 2, 3, 3, 0, 0, 0, 0, 1, 1, 1, 1, CL_ACT_SIGMOID}; /* skips cols */
  int sk = cl_graph_add(g, CL_OP_CONV, "k2s3", &lrn, 1, &p);
  memset(&p, 0, sizeof p);
  p.pool = (cl_pool_params){3, 2, 1, 2, 1, 1, 1, 0, 1, 1}; /* asymmetric pad, ceil, incl */
  int a4 = cl_graph_add(g, CL_OP_AVGPOOL, "avg_asym", &a3, 1, &p);
  (void)sk;
  if (a4 < 0 || cl_graph_init_weights(g, 7) != CL_OK) {
    cl_graph_destroy(g);
    return NULL;
  }
  return g;
}

static void torture_trials(int h, int w, int trials, uint64_t seed, stats *sm) {
  cl_graph *g = torture(h, w);
  CL_CHECK(g != NULL);
  if (!g) return;
  /* every node as the block's end, then the whole block (its output is the last node) */
  int n = cl_graph_size(g);
  for (int end = 1; end < n; end++) {
    cl_log_set_sink(capture, NULL); /* "consumed after the run" for ends inside branches */
    cl_status ok = cl_spatial_check_run(g, 0, end);
    cl_log_set_sink(NULL, NULL);
    if (ok != CL_OK) continue;
    cl_graph *sub = end == n - 1 ? g : cl_test_rebuild(g, end, cl_graph_node(g, 0)->out, 11);
    CL_CHECK(sub != NULL);
    if (!sub) continue;
    char what[96];
    snprintf(what, sizeof what, "torture %dx%d ..%s", h, w, cl_graph_node(g, end)->name);
    tile_trials(what, sub, end, trials, seed + (uint64_t)end, sm);
    if (sub != g) cl_graph_destroy(sub);
  }
  cl_graph_destroy(g);
}

/* A 1x1 conv with padding 1: the corner output pixel reads padding only. The tile that
 * holds just that pixel cannot be cropped; refused, naming the node. */
static void refusal(void) {
  cl_graph *g = NULL;
  CL_CHECK_OK(cl_graph_create("pad_only", &g));
  cl_op_params p;
  memset(&p, 0, sizeof p);
  p.conv = (cl_conv_params){2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, CL_ACT_NONE};
  int x = cl_graph_add_input(g, "input", (cl_shape){1, 2, 5, 5});
  CL_CHECK(cl_graph_add(g, CL_OP_CONV, "pad_only_conv", &x, 1, &p) == 1);
  CL_CHECK_OK(cl_graph_init_weights(g, 1));
  int dev[49] = {0};
  cl_spatial_spec spec = {0, 1, CL_SPATIAL_FUSED, 1, 0, -1};
  cl_spatial_plan *pl = NULL;
  CL_CHECK_OK(cl_spatial_plan_tiles(g, &spec, 7, 7, dev, &pl));
  cl_spatial_exec *se = NULL;
  g_last_error[0] = 0;
  cl_log_set_sink(capture, NULL);
  cl_status st = pl ? cl_spatial_exec_create(g, pl, MPI_COMM_NULL, &se) : CL_ERR_INVALID;
  cl_log_set_sink(NULL, NULL);
  CL_CHECK_INT_EQ(st, CL_ERR_UNSUPPORTED);
  CL_CHECK(se == NULL);
  CL_CHECK(strstr(g_last_error, "pad_only_conv") != NULL);
  /* tiles that do not cover the output are refused too */
  if (pl) {
    pl->box[pl->n_tasks + 0].x1 = pl->box[pl->n_tasks + 0].x0; /* empty tile 0 */
    cl_log_set_sink(capture, NULL);
    st = cl_spatial_exec_create(g, pl, MPI_COMM_NULL, &se);
    cl_log_set_sink(NULL, NULL);
    CL_CHECK_INT_EQ(st, CL_ERR_INVALID);
    CL_CHECK(strstr(g_last_error, "no tile covers (0, 0)") != NULL);
  }
  cl_spatial_plan_destroy(pl);
  cl_graph_destroy(g);
}

/* The full model (tail after the spatial part) at its native size, 2x2 tiles. */
static void with_tail(const char *model, stats *sm) {
  cl_graph *g = NULL;
  CL_CHECK_OK(cl_zoo_build(model, &g));
  if (!g) return;
  CL_CHECK_OK(cl_graph_init_weights(g, 3));
  int first, last;
  CL_CHECK_OK(cl_spatial_prefix(g, &first, &last));
  tile_trials(model, g, last, 1, 77, sm);
  cl_graph_destroy(g);
}

int main(void) {
  stats sm = {0, 0, 0, 0, 0, 0};
  refusal();
  torture_trials(45, 52, 6, 1, &sm);
  torture_trials(20, 17, 4, 2, &sm);
  zoo_model("alexnet", 95, 79, 4, 5, 3, &sm);
  zoo_model("vgg_f", 99, 87, 4, 5, 4, &sm);
  zoo_model("googlenet", 71, 57, 4, 5, 5, &sm);
  zoo_model("mobilenet_v1", 67, 59, 4, 5, 6, &sm);
  zoo_model("vgg16", 37, 41, 4, 5, 7, &sm);
  zoo_model("resnet18", 61, 53, 4, 5, 8, &sm);
  with_tail("alexnet", &sm);
  printf("tile runs %d (%d uneven, %d one-pixel tiles), %d compared with the analytic plan, "
         "max rel err %.3g, max redundancy %.2f\n",
         sm.runs, sm.uneven, sm.one_px, sm.compared_plans, sm.max_err, sm.max_red);
  CL_CHECK(sm.runs > 100);
  CL_CHECK(sm.one_px > 0);
  return cl_test_finish("test_spatial_tiles");
}
