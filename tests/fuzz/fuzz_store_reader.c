/* Fuzz harness: the record reader (runtime/store/reader.c): open the bytes as an
 * in-memory HDF5 image, read every table as its own layout (first 256 records) and as
 * every declared record layout, its attributes, and the provenance text (fuzz_h5.c). */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cl_fuzz_setup();
  cl_fuzz_h5_store(data, size);
  cl_fuzz_h5_input_done();
  return 0;
}
