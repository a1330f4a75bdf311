/* Fuzz harness: the experiment loader (cl_sweep_load on runtime/cfg.c), from a file in
 * the scratch copy of experiments/ (base testbeds such as tb2.yaml and ../configs/
 * resolve there). Loaded experiments expand their first points. */
#include <stdlib.h>
#include <string.h>

#include "cleave/sweep.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cl_fuzz_setup();
  const char *path = cl_fuzz_write("experiments/fuzz.yaml", data, size);
  cl_sweep_exp *e = NULL;
  if (cl_sweep_load(path, NULL, &e) != CL_OK) {
    if (e) abort();
    return 0;
  }
  const int n = cl_sweep_n_points(e);
  if (n < 1) abort();
  for (int i = 0; i < n && i < 4; i++) {
    const char *id = cl_sweep_point_id(e, i);
    if (!id || strlen(id) != 64) abort();
    free(cl_sweep_point_text(e, i));
  }
  cl_sweep_exp_destroy(e);
  return 0;
}
