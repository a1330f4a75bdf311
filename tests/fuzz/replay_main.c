/* Replays files through a fuzz harness without libFuzzer (normal unit-test build):
 *   fuzz_replay_<harness> FILE_OR_DIR...
 * Each file is one input; a directory contributes its regular files (not recursive).
 * A crash, sanitizer report or assertion fails the test; exit 0 after every input ran,
 * 2 when no input was found (a test that replays nothing must not pass). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_util.h"

static int replay_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    return -1;
  }
  size_t cap = 1 << 16, n = 0;
  unsigned char *buf = malloc(cap);
  size_t r;
  while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
    n += r;
    if (n == cap) {
      unsigned char *b = realloc(buf, cap *= 2);
      if (!b) free(buf);
      buf = b;
    }
  }
  fclose(f);
  if (!buf) return -1;
  fprintf(stderr, "replay %s (%zu bytes)\n", path, n);
  LLVMFuzzerTestOneInput(buf, n);
  free(buf);
  return 1;
}

int main(int argc, char **argv) {
  cl_fuzz_setup();
  int n = 0;
  for (int a = 1; a < argc; a++) {
    struct stat st;
    if (stat(argv[a], &st) != 0) {
      perror(argv[a]);
      return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
      if (replay_file(argv[a]) < 0) return 1;
      n++;
      continue;
    }
    struct dirent **ents;
    int k = scandir(argv[a], &ents, NULL, alphasort);
    if (k < 0) {
      perror(argv[a]);
      return 1;
    }
    for (int i = 0; i < k; i++) {
      char p[4096];
      snprintf(p, sizeof p, "%s/%s", argv[a], ents[i]->d_name);
      struct stat fs;
      if (ents[i]->d_name[0] != '.' && stat(p, &fs) == 0 && S_ISREG(fs.st_mode)) {
        if (replay_file(p) < 0) return 1;
        n++;
      }
      free(ents[i]);
    }
    free(ents);
  }
  fprintf(stderr, "replayed %d inputs\n", n);
  return n ? 0 : 2;
}
