/* Fuzz harness: the HDF5 profile reader on the bytes as a file opened by path, as `cleave
 * sim --profile` and `cleave run --profile` open it: probed in a forked child first
 * (runtime/store/probe.c), then the input checks, the metadata and both statistics here
 * (fuzz_h5.c). A crash of this process is one a user would see. */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cl_fuzz_setup();
  cl_fuzz_h5_profile_file(data, size);
  cl_fuzz_h5_input_done();
  return 0;
}
