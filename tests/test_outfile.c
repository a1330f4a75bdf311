/* cl_outfile_write (runtime/outfile.c): a new file is created whole; an existing one is
 * kept (CL_ERR_EXISTS) unless replacing is asked; no temporary file is left behind; the
 * mode is the usual 0666 & ~umask; a write that cannot happen leaves nothing.
 * cl_infile_read_f32: a raw tensor file of exactly the asked size, else IO / INVALID. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cl_test.h"
#include "cleave/outfile.h"

static char g_dir[256];

static void quiet(const char *line, void *ctx) {
  (void)line;
  (void)ctx;
}

static int n_entries(void) {
  DIR *d = opendir(g_dir);
  int n = 0;
  for (struct dirent *e; d && (e = readdir(d));) n += e->d_name[0] != '.';
  if (d) closedir(d);
  return n;
}

static void read_back(const char *path, char *buf, size_t cap) {
  buf[0] = '\0';
  FILE *f = fopen(path, "rb");
  if (!f) return;
  size_t n = fread(buf, 1, cap - 1, f);
  buf[n] = '\0';
  fclose(f);
}

int main(void) {
  snprintf(g_dir, sizeof g_dir, "%s/cl_outfile.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  if (!mkdtemp(g_dir)) return 1;
  cl_log_set_sink(quiet, NULL);
  char path[400], buf[64];
  snprintf(path, sizeof path, "%s/out.bin", g_dir);

  CL_CHECK_INT_EQ(cl_outfile_write(path, "first", 5, 0), CL_OK);
  read_back(path, buf, sizeof buf);
  CL_CHECK_STR_EQ(buf, "first");
  CL_CHECK_INT_EQ(n_entries(), 1); /* no PATH.XXXXXX left */
  struct stat st;
  mode_t um = umask(0);
  umask(um);
  CL_CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == (0666 & ~um));

  /* exists, not replaced: the old content stays */
  CL_CHECK_INT_EQ(cl_outfile_write(path, "second", 6, 0), CL_ERR_EXISTS);
  read_back(path, buf, sizeof buf);
  CL_CHECK_STR_EQ(buf, "first");
  CL_CHECK_INT_EQ(n_entries(), 1);

  /* replaced when asked */
  CL_CHECK_INT_EQ(cl_outfile_write(path, "third", 5, 1), CL_OK);
  read_back(path, buf, sizeof buf);
  CL_CHECK_STR_EQ(buf, "third");
  CL_CHECK_INT_EQ(n_entries(), 1);

  /* an empty output is a file too */
  char empty[400];
  snprintf(empty, sizeof empty, "%s/empty.bin", g_dir);
  CL_CHECK_INT_EQ(cl_outfile_write(empty, NULL, 0, 0), CL_OK);
  CL_CHECK(stat(empty, &st) == 0 && st.st_size == 0);

  /* a directory that does not exist: an I/O error, nothing created */
  char nodir[400];
  snprintf(nodir, sizeof nodir, "%s/missing/out.bin", g_dir);
  CL_CHECK_INT_EQ(cl_outfile_write(nodir, "x", 1, 0), CL_ERR_IO);
  CL_CHECK_INT_EQ(n_entries(), 2);

  /* cl_infile_read_f32: exactly n floats, or which way it is wrong */
  char fin[400];
  snprintf(fin, sizeof fin, "%s/in.bin", g_dir);
  const float three[3] = {1.5f, -2.0f, 3.25f};
  CL_CHECK_INT_EQ(cl_outfile_write(fin, three, sizeof three, 0), CL_OK);
  float got[4] = {0, 0, 0, 0};
  CL_CHECK_INT_EQ(cl_infile_read_f32(fin, got, 3), CL_OK);
  CL_CHECK(got[0] == 1.5f && got[1] == -2.0f && got[2] == 3.25f && got[3] == 0);
  CL_CHECK_INT_EQ(cl_infile_read_f32(fin, got, 2), CL_ERR_INVALID); /* longer than asked */
  CL_CHECK_INT_EQ(cl_infile_read_f32(fin, got, 4), CL_ERR_INVALID); /* shorter */
  CL_CHECK_INT_EQ(cl_outfile_write(fin, three, 10, 1), CL_OK);      /* not whole floats */
  CL_CHECK_INT_EQ(cl_infile_read_f32(fin, got, 3), CL_ERR_INVALID);
  CL_CHECK_INT_EQ(cl_infile_read_f32(nodir, got, 1), CL_ERR_IO);
  CL_CHECK_INT_EQ(cl_infile_read_f32(g_dir, got, 1), CL_ERR_IO); /* a directory */
  remove(fin);

  cl_log_set_sink(NULL, NULL);
  remove(path);
  remove(empty);
  rmdir(g_dir);
  return cl_test_finish("test_outfile");
}
