/* Fuzz harness: the ONNX importer (models/onnx/), full and structure-only imports of the
 * same bytes. A successful import must give a graph whose output is its last node. */
#include <stdlib.h>

#include "cleave/onnx.h"
#include "fuzz_util.h"

static void check(cl_status st, cl_graph *g) {
  if (st != CL_OK) {
    if (g) abort(); /* an error leaves *out NULL */
    return;
  }
  if (!g || cl_graph_size(g) < 2 || cl_graph_output(g) != cl_graph_size(g) - 1) abort();
  cl_graph_destroy(g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cl_fuzz_setup();
  cl_onnx_opts o = cl_onnx_opts_default();
  for (int so = 0; so < 2; so++) {
    o.structure_only = so;
    cl_graph *g = NULL;
    const cl_status st = cl_onnx_load_buffer(data, size, "fuzz.onnx", &o, &g);
    /* A small file cannot need gigabytes: sizes it declares but does not hold are bad
     * input (CL_ERR_INVALID), checked before anything is allocated from them. */
    if (st == CL_ERR_NOMEM && size < (1u << 20)) abort();
    check(st, g);
  }
  return 0;
}
