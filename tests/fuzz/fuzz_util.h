/* Shared helpers of the libFuzzer harnesses (tests/fuzz/fuzz_*.c). Each harness defines
 * LLVMFuzzerTestOneInput(); built with -fsanitize=fuzzer under CLEAVE_FUZZ=ON, or linked
 * with replay_main.c in the normal build, where it replays the seed corpus and every
 * kept crash input (tests/fuzz/regress/<harness>/) as a unit test. */
#ifndef CLEAVE_FUZZ_UTIL_H
#define CLEAVE_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

/** Once per process: silence cleave's log (CL_FUZZ_VERBOSE=1 keeps it) and HDF5's
 *  automatic error stacks, and make a private scratch directory holding copies of the
 *  repository files the inputs may refer to (configs/, tests/data/configs, experiments). */
void cl_fuzz_setup(void);
/** The scratch directory ("/dev/shm/cleave-fuzz.XXXXXX" or under $TMPDIR). */
const char *cl_fuzz_dir(void);
/** Writes @p len bytes to file @p rel (relative to the scratch directory) and returns
 *  its full path (static storage), or NULL (aborts: the harness cannot go on). */
const char *cl_fuzz_write(const char *rel, const uint8_t *data, size_t len);
/** @p data as a NUL-terminated malloc'd string (embedded NULs end it early). */
char *cl_fuzz_strdup(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
