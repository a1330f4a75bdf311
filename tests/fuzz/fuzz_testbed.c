/* Fuzz harness: the testbed loader (runtime/testbed.c on runtime/config/), from text
 * named as a file in the scratch copy of configs/ so relative paths (traces, profiles)
 * resolve there. */
#include <stdio.h>
#include <stdlib.h>

#include "cleave/testbed.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cl_fuzz_setup();
  char name[600];
  snprintf(name, sizeof name, "%s/configs/fuzz.yaml", cl_fuzz_dir());
  char *text = cl_fuzz_strdup(data, size);
  cl_testbed tb = {0};
  cl_status st = cl_testbed_load_string(name, text, &tb);
  if (st == CL_OK && (tb.n_nodes < 1 || tb.inferences < 1)) abort(); /* validated loads only */
  cl_testbed_free(&tb);
  cl_testbed_free(&tb); /* documented idempotent */
  free(text);
  return 0;
}
