/* Fuzz harness: cleave's HDF5 profile reader (sim/profile_h5.c), the bytes written to a
 * scratch file and loaded with both statistics plus the metadata-only reader. */
#include <stdlib.h>

#include "cleave/profile_h5.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cl_fuzz_setup();
  const char *path = cl_fuzz_write("profile.h5", data, size);
  cl_profile_h5_info info;
  (void)cl_profile_h5_info_read(path, &info);
  for (int t = 0; t < 2; t++) {
    cl_profile_set *set = NULL;
    if (cl_profile_set_create(&set) != CL_OK) abort();
    if (cl_profile_load_cleave_h5_ex(set, path, "edge", "m", (cl_profile_time)t, &info) == CL_OK &&
        (cl_profile_set_n_machines(set) != 1 || info.n_steps < 1))
      abort();
    cl_profile_set_destroy(set);
  }
  return 0;
}
