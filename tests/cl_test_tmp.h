/* A unit test's scratch directory: cl_test_tmp_init("name") makes /tmp/cl_name.XXXXXX,
 * cl_test_tmp("file") is a path in it (valid until the next 15 calls) and
 * cl_test_tmp_remove() deletes it with everything in it. */
#ifndef CL_TEST_TMP_H
#define CL_TEST_TMP_H

#include <stdio.h>
#include <stdlib.h>

static char cl_test_dir[64];

static inline int cl_test_tmp_init(const char *name) {
  snprintf(cl_test_dir, sizeof cl_test_dir, "/tmp/cl_%s.XXXXXX", name);
  if (mkdtemp(cl_test_dir)) return 1;
  perror("mkdtemp");
  return 0;
}

static inline const char *cl_test_tmp(const char *name) {
  static char pool[16][256];
  static unsigned next;
  char *p = pool[next++ % 16];
  return snprintf(p, 256, "%s/%s", cl_test_dir, name) < 256 ? p : "";
}

static inline void cl_test_tmp_remove(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", cl_test_dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", cl_test_dir);
}

#endif
