/* Scratch directory, quiet logs and file helpers for the fuzz harnesses. */
#include "fuzz_util.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleave/status.h"

#ifndef CL_FUZZ_SOURCE_DIR
#error "CL_FUZZ_SOURCE_DIR must name the source tree"
#endif

static char g_dir[512];

static void quiet(const char *line, void *ctx) {
  (void)line;
  (void)ctx;
}

static void remove_dir(void) {
  if (!g_dir[0]) return;
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
  if (system(cmd) != 0) fprintf(stderr, "fuzz: could not remove %s\n", g_dir);
}

/* Copies every regular file of SOURCE/@p from into scratch/@p to (no recursion). */
static void copy_dir(const char *from, const char *to) {
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "mkdir -p '%s/%s' && cp -pR '%s/%s'/* '%s/%s/' 2>/dev/null", g_dir, to,
           CL_FUZZ_SOURCE_DIR, from, g_dir, to);
  if (system(cmd) != 0) fprintf(stderr, "fuzz: copying %s failed (inputs referring to it fail to load)\n", from);
}

/* libhdf5 settings of every harness process, again after each library restart. */
static void h5_settings(void) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  /* Keep more of HDF5's freed blocks for reuse: every file open allocates a metadata
   * cache of ~1 MB; returned to ASan, each one was fresh mmap'd, page-faulted memory
   * and the HDF5 harnesses ran at ~10 executions per second. Bounded (bytes: global and
   * per list, for regular, array and block lists): unlimited lists of every block size
   * grew the RSS without end. */
  H5set_free_list_limits(64 << 20, 16 << 20, 16 << 20, 4 << 20, 64 << 20, 16 << 20);
}

/* libhdf5 keeps process-wide state that grows with the variety of files it has read
 * (most likely its table of datatype conversion paths, searched with H5T_cmp on every
 * H5Dread/H5Aread; not the free lists: H5garbage_collect() did not stop it) and frees it
 * only in H5close. fuzz_h5_struct grew by ~9 KB per input (3 GB, libFuzzer's
 * -rss_limit_mb, after ~350 k inputs; one input repeated 20,000 times does not grow) and
 * slowed from ~1,000 to ~550 inputs/s. Restarting the library every 5,000 inputs keeps it
 * at ~120 MB and ~800 inputs/s. No cleave handle outlives an input. */
void cl_fuzz_h5_input_done(void) {
  static unsigned long n;
  if (++n % 5000) return;
  H5close();
  if (H5open() < 0) abort();
  h5_settings();
}

void cl_fuzz_setup(void) {
  if (g_dir[0]) return;
  const char *v = getenv("CL_FUZZ_VERBOSE");
  if (!v || strcmp(v, "1")) cl_log_set_sink(quiet, NULL);
  h5_settings();
  /* The probed harnesses (store_file, profile_file): a libhdf5 loop in the probe's child
   * is refused after 5 s, within libFuzzer's -timeout. */
  setenv("CLEAVE_H5_PROBE_TIMEOUT", "5", 0);
  struct stat st;
  const char *base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : getenv("TMPDIR");
  snprintf(g_dir, sizeof g_dir, "%s/cleave-fuzz.XXXXXX", base ? base : "/tmp");
  if (!mkdtemp(g_dir)) {
    perror("fuzz: mkdtemp");
    abort();
  }
  atexit(remove_dir);
  copy_dir("configs", "configs");
  copy_dir("tests/data/configs", "configs");
  copy_dir("experiments", "experiments");
  copy_dir("tests/data/experiments", "experiments");
}

const char *cl_fuzz_dir(void) { return g_dir; }

const char *cl_fuzz_write(const char *rel, const uint8_t *data, size_t len) {
  static char path[1024];
  snprintf(path, sizeof path, "%s/%s", g_dir, rel);
  FILE *f = fopen(path, "wb");
  if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0) {
    perror(path);
    abort();
  }
  return path;
}

char *cl_fuzz_strdup(const uint8_t *data, size_t len) {
  char *s = malloc(len + 1);
  if (!s) abort();
  if (len) memcpy(s, data, len);
  s[len] = '\0';
  return s;
}
