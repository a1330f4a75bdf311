/* Tests for the spatial partition arithmetic (sim/spatial_plan.c).
 *
 * - hand-checked slices, halos, scatter/gather bytes on a tiny chain;
 * - every row plan (layer and fused, random partitions, with a residual branch) is
 *   EXECUTED with the real kernels on per-device row windows, moving exactly the bytes
 *   the plan's transfer list says, and the gathered output must equal the full run;
 * - fused needs checked against a brute-force per-row dependency closure;
 * - grid tiles: boxes checked against a per-pixel brute-force closure; MAC accounting.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl_test.h"
#include "cl_test_graph.h"
#include "cleave/graph.h"
#include "cleave/ops.h"
#include "cleave/spatial.h"

/* The residual block of the spatial tests: relu on c1, a dilated branch, a 5x5 conv. */
static const cl_test_branchy_spec g_branchy = {6, CL_ACT_RELU, 2, 5, 5, 0};

static void test_tiny_by_hand(void) {
  cl_graph *g = cl_test_tiny_chain();
  CL_CHECK(g != NULL);
  int first, last;
  CL_CHECK_OK(cl_spatial_prefix(g, &first, &last));
  CL_CHECK_INT_EQ(first, 0);
  CL_CHECK_INT_EQ(last, 4); /* p1; flatten is not spatial */
  cl_spatial_spec spec = {first, last, CL_SPATIAL_LAYER, 2, 0, -1};
  int bounds[3] = {0, 8, 16};
  cl_spatial_plan *p;
  CL_CHECK_OK(cl_spatial_plan_rows(g, &spec, bounds, 16, &p));
  /* slices: c1/r1 [0,8) [8,16); c2 [0,4) [4,8); p1 [0,2) [2,4) */
  CL_CHECK_INT_EQ(p->box[1 * 2 + 1].y0, 8);
  CL_CHECK_INT_EQ(p->box[3 * 2 + 0].y1, 4);
  CL_CHECK_INT_EQ(p->box[4 * 2 + 1].y0, 2);
  /* input: d0 needs [0,9), d1 needs [7,16) */
  CL_CHECK_INT_EQ(p->box[0].y0, 0);
  CL_CHECK_INT_EQ(p->box[0].y1, 9);
  CL_CHECK_INT_EQ(p->box[1].y0, 7);
  CL_CHECK_INT_EQ(p->box[1].y1, 16);
  /* r1 need of d1: c2 rows [4,8) with s2 p1 k3 -> [7,16): one halo row from d0 */
  CL_CHECK_INT_EQ(p->need[2 * 2 + 1].y0, 7);
  /* d1 computes c1 rows [8,16) from input [7,16) (k3 p1), r1 same rows: no halo for r1's
   * input; so xfers: scatter (9 rows x 2 ch x 8 x 4 B), halo r1 row 7, gather p1 rows [2,4) */
  CL_CHECK_INT_EQ(p->n_xfer, 3);
  CL_CHECK_INT_EQ(p->xfer[0].kind, CL_XFER_SCATTER);
  CL_CHECK_INT_EQ(p->xfer[0].bytes, 9 * 2 * 8 * 4);
  CL_CHECK_INT_EQ(p->xfer[1].kind, CL_XFER_HALO);
  CL_CHECK_INT_EQ(p->xfer[1].node, 2);
  CL_CHECK_INT_EQ(p->xfer[1].src, 0);
  CL_CHECK_INT_EQ(p->xfer[1].dst, 1);
  CL_CHECK_INT_EQ(p->xfer[1].box.y0, 7);
  CL_CHECK_INT_EQ(p->xfer[1].box.y1, 8);
  CL_CHECK_INT_EQ(p->xfer[1].bytes, 1 * 4 * 8 * 4);
  CL_CHECK_INT_EQ(p->xfer[2].kind, CL_XFER_GATHER);
  CL_CHECK_INT_EQ(p->sink, 0); /* tie -> source */
  CL_CHECK_INT_EQ(p->xfer[2].bytes, 2 * 4 * 2 * 4);
  CL_CHECK_NEAR(p->redundancy, 0.0, 1e-12);
  CL_CHECK_INT_EQ(p->macs[0] + p->macs[1], p->run_macs);
  cl_spatial_plan_destroy(p);

  /* fused: d1's p1 rows [2,4) <- c2 [4,8) <- r1/c1 [7,16) <- input [6,16) */
  spec.mode = CL_SPATIAL_FUSED;
  CL_CHECK_OK(cl_spatial_plan_rows(g, &spec, bounds, 16, &p));
  CL_CHECK_INT_EQ(p->box[4 * 2 + 1].y0, 2);
  CL_CHECK_INT_EQ(p->box[3 * 2 + 1].y0, 4);
  CL_CHECK_INT_EQ(p->box[1 * 2 + 1].y0, 7);
  CL_CHECK_INT_EQ(p->box[0 * 2 + 1].y0, 6);
  CL_CHECK_INT_EQ(p->box[1 * 2 + 0].y1, 8); /* d0: c2 [0,4) <- r1 [0,8) (k3 s2 p1) <- c1 [0,8) */
  CL_CHECK_INT_EQ(p->box[0 * 2 + 0].y1, 9); /* <- input [0,9) */
  CL_CHECK_INT_EQ(p->n_xfer, 2);            /* scatter + gather, no halos */
  /* c1 redundancy: d0 computes 8 rows, d1 9 rows of 16 */
  const cl_node *c1 = cl_graph_node(g, 1);
  CL_CHECK_INT_EQ(p->macs[0], c1->macs * 8 / 16 + cl_graph_node(g, 3)->macs / 2);
  CL_CHECK_INT_EQ(p->macs[1], c1->macs * 9 / 16 + cl_graph_node(g, 3)->macs / 2);
  CL_CHECK(p->redundancy > 0);
  cl_spatial_plan_destroy(p);

  /* bad input is rejected, not asserted */
  int badb[3] = {0, 9, 8};
  CL_CHECK_INT_EQ(cl_spatial_plan_rows(g, &spec, badb, 16, &p), CL_ERR_INVALID);
  CL_CHECK_INT_EQ(cl_spatial_check_run(g, 0, 6), CL_ERR_INVALID); /* includes fc */
  CL_CHECK_INT_EQ(cl_spatial_check_run(g, 0, 3), CL_OK);
  cl_graph_destroy(g);
}

/* ------------------------------------------------------------ execution of plans */

typedef struct buf {
  float *data;
  cl_tensor t;
} buf;

static cl_status run_node(const cl_graph *g, int id, const cl_tensor *const *ins, cl_tensor *out,
                          int oy0, int oy1) {
  const cl_node *nd = cl_graph_node(g, id);
  const cl_op_impl *impl = cl_op_get(nd->op);
  cl_shape in_sh[4];
  for (int j = 0; j < nd->n_inputs; j++) in_sh[j] = ins[j]->shape;
  size_t ws = impl->workspace ? impl->workspace(nd, in_sh, nd->n_inputs, oy1 - oy0) : 0;
  float *w = ws ? malloc(ws) : NULL;
  cl_op_ctx ctx = {w, ws, 1};
  cl_status st = impl->run(nd, ins, nd->n_inputs, out, oy0, oy1, &ctx);
  free(w);
  return st;
}

/* Full reference outputs of nodes 0..last. */
static float **reference(const cl_graph *g, int last, const float *input) {
  float **full = calloc((size_t)last + 1, sizeof *full);
  for (int id = 0; id <= last; id++) {
    const cl_node *nd = cl_graph_node(g, id);
    full[id] = calloc((size_t)cl_shape_numel(nd->out), sizeof(float));
    if (nd->op == CL_OP_INPUT) {
      memcpy(full[id], input, (size_t)cl_shape_numel(nd->out) * sizeof(float));
      continue;
    }
    cl_tensor ti[4];
    const cl_tensor *tp[4];
    for (int j = 0; j < nd->n_inputs; j++) {
      const cl_node *in = cl_graph_node(g, nd->inputs[j]);
      cl_tensor t = {full[nd->inputs[j]], in->out, 0, in->out.h};
      ti[j] = t;
      tp[j] = &ti[j];
    }
    cl_tensor o = {full[id], nd->out, 0, nd->out.h};
    CL_CHECK_OK(run_node(g, id, tp, &o, 0, nd->out.h));
  }
  return full;
}

/* Copy rows [y0,y1) (full width) between two row-window views of the same node. */
static void copy_rows(const cl_tensor *src, cl_tensor *dst, int y0, int y1) {
  for (int n = 0; n < src->shape.n; n++)
    for (int c = 0; c < src->shape.c; c++)
      for (int y = y0; y < y1; y++)
        memcpy(cl_tensor_at(dst, n, c, y, 0), cl_tensor_at(src, n, c, y, 0),
               (size_t)src->shape.w * sizeof(float));
}

/* Execute a row plan device by device; returns max |out - ref| over the run's output. */
static double execute_plan(const cl_graph *g, const cl_spatial_plan *p, float **full) {
  int T = p->n_tasks, nn = p->n_nodes;
  buf *b = calloc((size_t)nn * T, sizeof *b);
  for (int i = 0; i < nn; i++) {
    const cl_node *nd = cl_graph_node(g, p->first + i);
    for (int t = 0; t < T; t++) {
      cl_box need = p->need[(size_t)i * T + t];
      buf *x = &b[(size_t)i * T + t];
      int rows = cl_box_empty(need) ? 0 : need.y1 - need.y0;
      x->data = calloc((size_t)nd->out.n * nd->out.c * (rows ? rows : 1) * nd->out.w, sizeof(float));
      /* poison: rows we never fill must not be read */
      for (size_t k = 0; k < (size_t)nd->out.n * nd->out.c * rows * nd->out.w; k++)
        x->data[k] = 1e30f;
      cl_tensor t0 = {x->data, nd->out, rows ? need.y0 : 0, rows};
      x->t = t0;
    }
  }
  int xk = 0;
  /* scatter: the source holds the full input */
  for (int i = 0; i < nn; i++) {
    int id = p->first + i;
    const cl_node *nd = cl_graph_node(g, id);
    if (nd->op != CL_OP_INPUT) continue;
    cl_tensor src = {full[id], nd->out, 0, nd->out.h};
    for (int t = 0; t < T; t++) {
      cl_box bx = p->box[(size_t)i * T + t];
      if (!cl_box_empty(bx)) copy_rows(&src, &b[(size_t)i * T + t].t, bx.y0, bx.y1);
    }
  }
  while (xk < p->n_xfer && p->xfer[xk].kind == CL_XFER_SCATTER) xk++;
  for (int i = 0; i < nn; i++) {
    int id = p->first + i;
    const cl_node *nd = cl_graph_node(g, id);
    if (nd->op == CL_OP_INPUT) continue;
    for (int t = 0; t < T; t++) {
      cl_box bx = p->box[(size_t)i * T + t];
      if (cl_box_empty(bx)) continue;
      const cl_tensor *tp[4];
      for (int j = 0; j < nd->n_inputs; j++)
        tp[j] = &b[(size_t)(nd->inputs[j] - p->first) * T + t].t;
      CL_CHECK_OK(run_node(g, id, tp, &b[(size_t)i * T + t].t, bx.y0, bx.y1));
    }
    /* halos of this node, in list order */
    while (xk < p->n_xfer && p->xfer[xk].kind == CL_XFER_HALO && p->xfer[xk].node == id) {
      const cl_spatial_xfer *x = &p->xfer[xk++];
      CL_CHECK_INT_EQ(x->bytes, (int64_t)nd->out.n * nd->out.c * (x->box.y1 - x->box.y0) *
                                    nd->out.w * 4);
      copy_rows(&b[(size_t)i * T + x->src].t, &b[(size_t)i * T + x->task].t, x->box.y0, x->box.y1);
    }
  }
  CL_CHECK(xk == p->n_xfer || p->xfer[xk].kind == CL_XFER_GATHER);
  /* gather and compare */
  const cl_node *ln = cl_graph_node(g, p->last);
  double maxerr = 0;
  int64_t covered = 0;
  for (int t = 0; t < T; t++) {
    cl_box bx = p->box[(size_t)(nn - 1) * T + t];
    if (cl_box_empty(bx)) continue;
    covered += bx.y1 - bx.y0;
    const cl_tensor *o = &b[(size_t)(nn - 1) * T + t].t;
    cl_tensor ref = {full[p->last], ln->out, 0, ln->out.h};
    for (int n = 0; n < ln->out.n; n++)
      for (int c = 0; c < ln->out.c; c++)
        for (int y = bx.y0; y < bx.y1; y++)
          for (int x = 0; x < ln->out.w; x++) {
            double d = fabs((double)*cl_tensor_at(o, n, c, y, x) - *cl_tensor_at(&ref, n, c, y, x));
            if (!(d <= maxerr)) maxerr = d; /* NaN / poison propagate */
          }
  }
  CL_CHECK_INT_EQ(covered, ln->out.h);
  for (int k = 0; k < nn * T; k++) free(b[k].data);
  free(b);
  return maxerr;
}

static uint64_t g_rng = 0x5eedULL;

static void random_bounds(int n_dev, int h, int *b) {
  b[0] = 0;
  for (int d = 1; d < n_dev; d++) b[d] = (int)(cl_rng_next(&g_rng) % (uint64_t)(h + 1));
  b[n_dev] = h;
  for (int i = 1; i < n_dev; i++) /* sort */
    for (int j = i; j > 0 && b[j] < b[j - 1]; j--) {
      int tmp = b[j];
      b[j] = b[j - 1];
      b[j - 1] = tmp;
    }
}

static void test_execute_plans(void) {
  int h = 23, w = 9;
  cl_graph *g = cl_test_branchy(h, w, g_branchy);
  CL_CHECK(g != NULL);
  CL_CHECK_OK(cl_graph_init_weights(g, 7));
  int first, last;
  CL_CHECK_OK(cl_spatial_prefix(g, &first, &last));
  CL_CHECK_INT_EQ(last, cl_graph_size(g) - 2); /* everything but gap */
  float *input = malloc((size_t)3 * h * w * sizeof(float));
  uint64_t s = 99;
  for (int k = 0; k < 3 * h * w; k++) input[k] = cl_rng_uniform(&s, -1, 1);
  float **full = reference(g, last, input);
  int bounds[6];
  double worst = 0;
  for (int trial = 0; trial < 60; trial++) {
    int n_dev = 1 + trial % 5;
    cl_spatial_mode mode = (trial / 5) % 2 ? CL_SPATIAL_FUSED : CL_SPATIAL_LAYER;
    int ref_h = mode == CL_SPATIAL_FUSED ? cl_graph_node(g, last)->out.h : h;
    random_bounds(n_dev, ref_h, bounds);
    cl_spatial_spec spec = {first, last, mode, n_dev, trial % n_dev, -1};
    cl_spatial_plan *p;
    CL_CHECK_OK(cl_spatial_plan_rows(g, &spec, bounds, ref_h, &p));
    double e = execute_plan(g, p, full);
    if (e > worst) worst = e;
    /* accounting invariants */
    int64_t sum = 0, out = 0, in = 0;
    for (int d = 0; d < n_dev; d++) sum += p->macs[d], out += p->bytes_out[d], in += p->bytes_in[d];
    CL_CHECK_INT_EQ(out, in);
    if (mode == CL_SPATIAL_LAYER) CL_CHECK_INT_EQ(sum, p->run_macs);
    else CL_CHECK(sum >= p->run_macs);
    cl_spatial_plan_destroy(p);
  }
  printf("  row plans executed with kernels: max |err| %.3g\n", worst);
  CL_CHECK(worst <= 1e-4);
  for (int id = 0; id <= last; id++) free(full[id]);
  free(full);
  free(input);
  cl_graph_destroy(g);
}

/* Brute force: per-pixel dependency closure of each tile; boxes must be its bounding box
 * and every needed pixel must lie inside. */
static void test_tiles_bruteforce(void) {
  cl_graph *g = cl_test_branchy(20, 17, g_branchy);
  int first, last;
  CL_CHECK_OK(cl_spatial_prefix(g, &first, &last));
  int n = last + 1;
  for (int grid = 2; grid <= 3; grid++) {
    int T = grid * grid, dev[9];
    for (int k = 0; k < T; k++) dev[k] = k % 2;
    cl_spatial_spec spec = {first, last, CL_SPATIAL_FUSED, 2, 0, -1};
    cl_spatial_plan *p;
    CL_CHECK_OK(cl_spatial_plan_tiles(g, &spec, grid, grid, dev, &p));
    int64_t sum = 0;
    for (int t = 0; t < T; t++) {
      unsigned char **mark = calloc((size_t)n, sizeof *mark);
      for (int id = 0; id < n; id++) {
        const cl_node *nd = cl_graph_node(g, id);
        mark[id] = calloc((size_t)nd->out.h * nd->out.w, 1);
      }
      cl_box fb = p->box[(size_t)(n - 1) * T + t];
      const cl_node *ln = cl_graph_node(g, last);
      for (int y = fb.y0; y < fb.y1; y++)
        for (int x = fb.x0; x < fb.x1; x++) mark[last][y * ln->out.w + x] = 1;
      for (int id = last; id > 0; id--) {
        const cl_node *nd = cl_graph_node(g, id);
        for (int y = 0; y < nd->out.h; y++)
          for (int x = 0; x < nd->out.w; x++) {
            if (!mark[id][y * nd->out.w + x]) continue;
            cl_box one = {y, y + 1, x, x + 1};
            for (int j = 0; j < nd->n_inputs; j++) {
              int src = nd->inputs[j];
              cl_box r = cl_spatial_input_box(g, id, j, one);
              for (int yy = r.y0; yy < r.y1; yy++)
                for (int xx = r.x0; xx < r.x1; xx++)
                  mark[src][yy * cl_graph_node(g, src)->out.w + xx] = 1;
            }
          }
      }
      for (int id = 0; id < n; id++) {
        const cl_node *nd = cl_graph_node(g, id);
        cl_box hb = {nd->out.h, 0, nd->out.w, 0};
        for (int y = 0; y < nd->out.h; y++)
          for (int x = 0; x < nd->out.w; x++)
            if (mark[id][y * nd->out.w + x]) {
              if (y < hb.y0) hb.y0 = y;
              if (y + 1 > hb.y1) hb.y1 = y + 1;
              if (x < hb.x0) hb.x0 = x;
              if (x + 1 > hb.x1) hb.x1 = x + 1;
            }
        cl_box pb = p->box[(size_t)id * T + t];
        CL_CHECK_INT_EQ(pb.y0, hb.y0);
        CL_CHECK_INT_EQ(pb.y1, hb.y1);
        CL_CHECK_INT_EQ(pb.x0, hb.x0);
        CL_CHECK_INT_EQ(pb.x1, hb.x1);
        free(mark[id]);
      }
      free(mark);
    }
    for (int d = 0; d < 2; d++) sum += p->macs[d];
    CL_CHECK(sum > p->run_macs); /* tiles recompute overlaps */
    printf("  %dx%d tiles: redundancy %.1f%%, %d transfers\n", grid, grid, 100 * p->redundancy,
           p->n_xfer);
    cl_spatial_plan_destroy(p);
  }
  cl_graph_destroy(g);
}

int main(void) {
  test_tiny_by_hand();
  test_execute_plans();
  test_tiles_bruteforce();
  return cl_test_finish("test_spatial_plan");
}
