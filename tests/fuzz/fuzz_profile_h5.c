/* Fuzz harness: cleave's HDF5 profile reader (sim/profile_h5.c) on the bytes as an
 * in-memory HDF5 image: the input checks, the metadata reader and both statistics
 * (fuzz_h5.c); a loaded profile must be usable as it is. */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cl_fuzz_setup();
  cl_fuzz_h5_profile(data, size);
  cl_fuzz_h5_input_done();
  return 0;
}
