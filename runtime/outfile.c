/* Whole-file outputs: temporary file beside the target, then link (no replace) or
 * rename (replace) into place. See include/cleave/outfile.h. */
#include "cleave/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Put @p tmp at @p path unless a file is there (errno EEXIST). link() is atomic; file
 * systems without hard links get an O_EXCL placeholder that the rename then replaces. */
static int place_new(const char *tmp, const char *path) {
  if (link(tmp, path) == 0) return 0;
  if (errno != EPERM && errno != ENOTSUP && errno != EOPNOTSUPP && errno != EMLINK) return -1;
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) return -1;
  close(fd);
  return rename(tmp, path);
}

static int g_argc;
static char **g_argv;

void cl_output_register_args(int argc, char **argv) {
  g_argc = argc;
  g_argv = argv;
}

cl_status cl_output_not_input(const char *what, const char *path) {
  struct stat so, si;
  if (!path || !g_argv || stat(path, &so) != 0 || !S_ISREG(so.st_mode)) return CL_OK;
  /* The output's own argument is skipped: the one @p path points into, else the first
   * spelled exactly as @p path (callers may pass a copy). */
  int own = -1;
  for (int i = 1; i < g_argc && own < 0; i++)
    if (g_argv[i] && path >= g_argv[i] && path <= g_argv[i] + strlen(g_argv[i])) own = i;
  for (int i = 1; i < g_argc && own < 0; i++)
    if (g_argv[i] && !strcmp(g_argv[i], path)) own = i;
  for (int i = 1; i < g_argc; i++) {
    const char *a = g_argv[i];
    if (!a || i == own) continue;
    /* ARG, and the file of --opt=FILE and TIER=FILE forms */
    const char *first = strchr(a, '='), *last = strrchr(a, '=');
    const char *cand[3] = {a, first ? first + 1 : NULL, last != first ? last + 1 : NULL};
    for (int k = 0; k < 3; k++)
      if (cand[k] && *cand[k] && stat(cand[k], &si) == 0 && si.st_dev == so.st_dev && si.st_ino == so.st_ino) {
        if (what)
          cl_log_error("%s: output '%s' is also an input of this command ('%s'); give the output another name", what,
                       path, cand[k]);
        else
          cl_log_error("output '%s' is also an input of this command ('%s'); give the output another name", path,
                       cand[k]);
        return CL_ERR_EXISTS;
      }
  }
  return CL_OK;
}

cl_status cl_output_target_ok(const char *what, const char *path) {
  struct stat sb;
  if (!path || stat(path, &sb) != 0) return CL_OK;
  if (S_ISDIR(sb.st_mode)) {
    if (what) cl_log_error("%s: output '%s' is a directory (give a file name)", what, path);
    else cl_log_error("output '%s' is a directory (give a file name)", path);
    return CL_ERR_EXISTS;
  }
  return cl_output_not_input(what, path);
}

cl_status cl_output_check(const char *what, const char *path, int force) {
  struct stat sb;
  if (!path || stat(path, &sb) != 0) return CL_OK;
  CL_TRY(cl_output_target_ok(what, path));
  if (force) return CL_OK;
  cl_log_error("%s: output file '%s' already exists (use --force to overwrite)", what, path);
  return CL_ERR_EXISTS;
}

cl_status cl_outfile_write(const char *path, const void *data, size_t len, int replace) {
  CL_TRY(cl_output_target_ok(NULL, path));
  size_t n = strlen(path) + 8;
  char *tmp = malloc(n);
  if (!tmp) return CL_ERR_NOMEM;
  snprintf(tmp, n, "%s.XXXXXX", path);
  int fd = mkstemp(tmp); /* same directory: link/rename stay on one file system */
  if (fd < 0) {
    cl_log_error("%s: cannot create the output file: %s", path, strerror(errno));
    free(tmp);
    return CL_ERR_IO;
  }
  FILE *f = fdopen(fd, "wb");
  if (!f) close(fd);
  int ok = f && (len == 0 || fwrite(data, 1, len, f) == len);
  if (f && fflush(f) != 0) ok = 0;
  if (f && fsync(fileno(f)) != 0) ok = 0;
  if (f && fclose(f) != 0) ok = 0;
  /* mkstemp makes 0600; outputs are ordinary files (0666 & ~umask) */
  mode_t um = umask(0);
  umask(um);
  if (ok && chmod(tmp, 0666 & ~um) != 0) ok = 0;
  cl_status st = CL_OK;
  if (!ok) {
    cl_log_error("%s: write failed: %s", path, strerror(errno ? errno : EIO));
    st = CL_ERR_IO;
  } else if (replace ? rename(tmp, path) != 0 : place_new(tmp, path) != 0) {
    if (errno == EEXIST) {
      cl_log_error("%s: output file already exists (use --force to overwrite)", path);
      st = CL_ERR_EXISTS;
    } else {
      cl_log_error("%s: cannot create the output file: %s", path, strerror(errno));
      st = CL_ERR_IO;
    }
  }
  if (!(replace && st == CL_OK)) unlink(tmp); /* linked, or failed */
  free(tmp);
  return st;
}

cl_status cl_infile_read_f32(const char *path, float *dst, size_t n) {
  FILE *f = fopen(path, "rb");
  if (!f) return CL_ERR_IO;
  size_t got = fread(dst, sizeof(float), n, f);
  int err = ferror(f), extra = !err && fgetc(f) != EOF;
  fclose(f);
  if (err) return CL_ERR_IO;
  return got != n || extra ? CL_ERR_INVALID : CL_OK;
}
