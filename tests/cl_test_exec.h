/* Helpers shared by the execution tests that compare a partitioned or spatial run
 * with the monolithic one: the error metric, graph rebuilds at another input size
 * and the reference run. Header-only, like cl_test.h. */
#ifndef CL_TEST_EXEC_H
#define CL_TEST_EXEC_H

#include "cl_test.h"
#include "cleave/exec.h"
#include "cleave/zoo.h"

/** max |a - b| / max |b| over n floats (the absolute error when b is all zeros). */
static inline double cl_test_rel_err(const float *a, const float *b, int64_t n) {
  double num = 0, den = 0;
  for (int64_t i = 0; i < n; i++) {
    num = fmax(num, fabs((double)a[i] - b[i]));
    den = fmax(den, fabs((double)b[i]));
  }
  return den > 0 ? num / den : num;
}

/** Nodes 0..last of @p src rebuilt on a new input shape (shapes re-inferred), weights
 *  from @p wseed. NULL if the model does not fit that input. The caller destroys it. */
static inline cl_graph *cl_test_rebuild(const cl_graph *src, int last, cl_shape in, uint64_t wseed) {
  cl_graph *g = NULL;
  if (cl_graph_create(cl_graph_name(src), &g) != CL_OK) return NULL;
  for (int id = 0; id <= last; id++) {
    const cl_node *nd = cl_graph_node(src, id);
    int r = nd->op == CL_OP_INPUT
                ? cl_graph_add_input(g, nd->name, in)
                : cl_graph_add(g, nd->op, nd->name, nd->inputs, nd->n_inputs, &nd->p);
    if (r != id) {
      cl_graph_destroy(g);
      return NULL;
    }
  }
  if (cl_graph_init_weights(g, wseed) != CL_OK) {
    cl_graph_destroy(g);
    return NULL;
  }
  return g;
}

/** Zoo model @p model with weights from @p wseed; a failed check and NULL if it does
 *  not build. The caller destroys it. */
static inline cl_graph *cl_test_zoo(const char *model, uint64_t wseed) {
  cl_graph *g = NULL;
  CL_CHECK_OK(cl_zoo_build(model, &g));
  if (g && cl_graph_init_weights(g, wseed) != CL_OK) {
    CL_CHECK(!"cl_graph_init_weights");
    cl_graph_destroy(g);
    g = NULL;
  }
  return g;
}

/** The monolithic reference: an unfused executor of @p g on @p backend, run once on
 *  the input from @p input_seed (every buffer then holds the reference values). A
 *  failed check and NULL on error. The caller destroys it. */
static inline cl_exec *cl_test_reference(const cl_graph *g, cl_backend backend, uint64_t input_seed) {
  cl_exec_opts o = cl_exec_opts_default();
  o.fuse = 0;
  o.backend = backend;
  cl_exec *e = NULL;
  CL_CHECK_OK(cl_exec_create(g, &o, &e));
  if (!e) return NULL;
  cl_exec_fill_input(e, input_seed);
  CL_CHECK_OK(cl_exec_run(e));
  return e;
}

#endif
