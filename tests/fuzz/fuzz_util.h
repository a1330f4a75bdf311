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

/** Call after each input of an HDF5 harness: restarts libhdf5 every few thousand inputs
 *  (its type conversion table grows with every new datatype and is freed only then). */
void cl_fuzz_h5_input_done(void);
/** fuzz_h5.c: cleave's record reader (every table, every declared layout, attributes,
 *  provenance) on @p data opened as an in-memory HDF5 image. Aborts on a broken contract. */
void cl_fuzz_h5_store(const uint8_t *data, size_t size);
/** fuzz_h5.c: the profile reader on @p data as an in-memory HDF5 image; a profile that
 *  loads must have steps, blocks covering them and finite non-negative seconds. */
void cl_fuzz_h5_profile(const uint8_t *data, size_t size);
/** The two above on an open reader (borrowed); the profile one skips the input checks. */
/** The two above on a scratch file opened by path as commands open it (probed in a
 *  forked child first, then read in this process when the probe passed). */
void cl_fuzz_h5_store_file(const uint8_t *data, size_t size);
void cl_fuzz_h5_profile_file(const uint8_t *data, size_t size);
typedef struct cl_reader cl_reader;
void cl_fuzz_h5_store_reader(cl_reader *r);
void cl_fuzz_h5_profile_reader(cl_reader *r);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
