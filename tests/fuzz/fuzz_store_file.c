/* Fuzz harness: the record reader on the bytes as a file opened by path, as `cleave
 * report`, `merge` and `sweep --resume` open their inputs: probed in a forked child first
 * (runtime/store/probe.c), read here only when the probe passed (fuzz_h5.c). libhdf5's
 * own crashes on corrupt files stay in the child; a crash of this process is one a user
 * would see. */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cl_fuzz_setup();
  cl_fuzz_h5_store_file(data, size);
  cl_fuzz_h5_input_done();
  return 0;
}
