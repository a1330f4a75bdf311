/* Spatial execution (CoEdge layer mode, DeepThings fused mode) equals the monolithic
 * run for many random row splits, incl. 1-row slices and empty devices, on the spatial
 * part of every replayed CNN. In-process transport (the MPI transport is covered by
 * mpi_spatial). */
#include <stdlib.h>
#include <string.h>

#include "cl_test_exec.h"
#include "cleave/spatial.h"
#include "cleave/spatial_exec.h"

static void check_model(const char *model, int trials, uint64_t seed) {
  cl_graph *g = cl_test_zoo(model, 3);
  if (!g) return;
  int out = cl_graph_output(g);
  int64_t out_n = cl_shape_numel(cl_graph_node(g, out)->out);
  cl_exec *e = cl_test_reference(g, CL_BACKEND_AUTO, 5);
  if (!e) {
    cl_graph_destroy(g);
    return;
  }
  const float *ref = cl_exec_buffer(e, out);
  const float *input = cl_exec_buffer(e, 0);
  float *y = malloc(sizeof(float) * (size_t)out_n);
  int first, last;
  CL_CHECK_OK(cl_spatial_prefix(g, &first, &last));
  int tallest = 1;
  for (int id = first; id <= last; id++)
    if (cl_graph_node(g, id)->out.h > tallest) tallest = cl_graph_node(g, id)->out.h;
  uint64_t rng = seed;
  for (int trial = 0; trial < trials; trial++) {
    cl_spatial_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.first = first;
    spec.last = last;
    spec.mode = trial % 2 ? CL_SPATIAL_FUSED : CL_SPATIAL_LAYER;
    /* decision rows: the last node's height (odd for AlexNet: 6, GoogLeNet: 7) or, in
     * layer mode every other time, the tallest node (what the CoEdge planner uses) */
    int ref_h = (spec.mode == CL_SPATIAL_LAYER && trial % 4 == 2) ? tallest
                                                                   : cl_graph_node(g, last)->out.h;
    spec.n_dev = 1 + (int)(cl_rng_next(&rng) % 5);
    spec.source = (int)(cl_rng_next(&rng) % (uint64_t)spec.n_dev);
    spec.sink = trial % 3 == 0 ? -1 : (int)(cl_rng_next(&rng) % (uint64_t)spec.n_dev);
    int bounds[8];
    bounds[0] = 0;
    bounds[spec.n_dev] = ref_h;
    /* random cut points incl. 1-row and empty slices */
    for (int d = 1; d < spec.n_dev; d++) {
      int lo = bounds[d - 1];
      int r = (int)(cl_rng_next(&rng) % 4);
      bounds[d] = r == 0 ? lo : r == 1 ? (lo + 1 < ref_h ? lo + 1 : ref_h)
                              : lo + (int)(cl_rng_next(&rng) % (uint64_t)(ref_h - lo + 1));
    }
    cl_spatial_plan *p = NULL;
    CL_CHECK_OK(cl_spatial_plan_rows(g, &spec, bounds, ref_h, &p));
    if (!p) continue;
    cl_spatial_exec *se = NULL;
    CL_CHECK_OK(cl_spatial_exec_create(g, p, MPI_COMM_NULL, &se));
    if (se) {
      memset(y, 0, sizeof(float) * (size_t)out_n);
      CL_CHECK_OK(cl_spatial_exec_run(se, input, y));
      double err = cl_test_rel_err(y, ref, out_n);
      /* per-node timings add up to the per-device compute time */
      for (int d = 0; d < spec.n_dev; d++) {
        double sum = 0;
        for (int i = 0; i < p->n_nodes; i++) sum += cl_spatial_exec_node_seconds(se, i, d);
        CL_CHECK_NEAR(sum, cl_spatial_exec_compute_seconds(se, d), 1e-9);
        CL_CHECK(cl_spatial_exec_compute_seconds(se, d) >= 0);
        int busy = 0;
        for (int i = 0; i < p->n_nodes; i++)
          busy |= p->first + i != 0 && !cl_box_empty(p->box[(size_t)i * p->n_tasks + d]);
        if (!busy) CL_CHECK(cl_spatial_exec_compute_seconds(se, d) == 0);
      }
      CL_CHECK((p->last < out) == (cl_spatial_exec_tail_seconds(se) > 0));
      if (err > 1e-5) {
        fprintf(stderr, "%s trial %d mode %d devices %d bounds:", model, trial, spec.mode, spec.n_dev);
        for (int d = 0; d <= spec.n_dev; d++) fprintf(stderr, " %d", bounds[d]);
        fprintf(stderr, " rel err %g\n", err);
      }
      CL_CHECK(err <= 1e-5);
    }
    cl_spatial_exec_destroy(se);
    cl_spatial_plan_destroy(p);
  }
  free(y);
  cl_exec_destroy(e);
  cl_graph_destroy(g);
}

int main(void) {
  check_model("alexnet", 8, 1);
  check_model("vgg_f", 8, 2);
  check_model("resnet18", 8, 3);
  check_model("googlenet", 6, 4);
  check_model("mobilenet_v1", 6, 5);
  check_model("vgg16", 4, 6);
  return cl_test_finish("test_spatial_exec");
}
