/* Shared argument-parsing helpers for the CLI. */
#include "cleave/exec.h"
#include "cleave/outfile.h"
#include "cli.h"

#include <errno.h>
#include <hdf5.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int cl_cli_verror(int code, const char *file, int line, int col, const char *fmt, va_list ap) {
  fputs("cleave: error: ", stderr);
  if (file) {
    fputs(file, stderr);
    if (line > 0) fprintf(stderr, ":%d", line);
    if (line > 0 && col > 0) fprintf(stderr, ":%d", col);
    fputs(": ", stderr);
  }
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  return code;
}

int cl_cli_error(int code, const char *file, int line, int col, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  cl_cli_verror(code, file, line, col, fmt, ap);
  va_end(ap);
  return code;
}

int cl__help_asked(const char *arg, void (*help)(void)) {
  if (strcmp(arg, "--help") && strcmp(arg, "-h")) return 0;
  help();
  return 1;
}

void cl_cli_init(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

const char *cl__opt(int argc, char **argv, int *i, const char *flag, int *missing) {
  const char *a = argv[*i];
  size_t n = strlen(flag);
  if (strncmp(a, flag, n) != 0) return NULL;
  if (a[n] == '=') return a + n + 1;
  if (a[n] != '\0') return NULL;
  if (*i + 1 >= argc) {
    *missing = 1;
    return NULL;
  }
  return argv[++*i];
}

int cl__arg_rest(const char *cmd, const char *what, const char *arg, int missing, const char **pos) {
  if (missing) {
    cl_cli_error(CL_EXIT_INPUT, NULL, 0, 0, "%s: %s needs a value", cmd, arg);
    return 2;
  }
  if (arg[0] == '-') {
    cl_cli_error(CL_EXIT_INPUT, NULL, 0, 0, "%s: unknown option '%s' (see --help)", cmd, arg);
    return 2;
  }
  if (*pos) {
    cl_cli_error(CL_EXIT_INPUT, NULL, 0, 0, "%s: more than one %s given ('%s', '%s')", cmd, what, *pos, arg);
    return 2;
  }
  *pos = arg;
  return 0;
}

int cl__parse_int(const char *cmd, const char *flag, const char *s, long lo, long hi, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi) {
    cl_cli_error(CL_EXIT_INPUT, NULL, 0, 0, "%s: %s expects an integer in [%ld, %ld], got '%s'", cmd, flag, lo, hi, s);
    return 1;
  }
  *out = v;
  return 0;
}

int cl__parse_shape(const char *cmd, const char *flag, const char *s, cl_shape *out) {
  long v[4] = {0, 0, 1, 1};
  int n = 0;
  const char *p = s;
  int bad = 0;
  for (;;) { /* a size, then 'x' and another size, up to four */
    char *end;
    errno = 0;
    long x = *p >= '0' && *p <= '9' ? strtol(p, &end, 10) : -1; /* no sign, no space */
    if (x < 1 || x > (1 << 24) || errno) {
      bad = 1;
      break;
    }
    v[n++] = x;
    p = end;
    if (n == 4 || *p != 'x') break;
    p++;
  }
  if (bad || *p || (n != 4 && n != 2)) {
    cl_cli_error(CL_EXIT_INPUT, NULL, 0, 0,
                 "%s: %s expects NxCxHxW (or NxF for a 2-D input) with each size in [1, 16777216], got '%s'", cmd,
                 flag, s);
    return 1;
  }
  *out = (cl_shape){(int)v[0], (int)v[1], (int)v[2], (int)v[3]};
  return 0;
}

int cl__parse_backend(const char *cmd, const char *s, int *out) {
  int b = cl_backend_parse(s);
  if (b < 0) {
    cl_cli_error(CL_EXIT_INPUT, NULL, 0, 0, "%s: --backend expects auto, portable or dnnl, got '%s'", cmd, s);
    return 1;
  }
  if (!cl_backend_available((cl_backend)b)) {
    cl_cli_error(CL_EXIT_INPUT, NULL, 0, 0, "%s: --backend %s is not available: cleave was built without oneDNN (libdnnl-dev)",
            cmd, s);
    return 1;
  }
  *out = b;
  return 0;
}

int cl__parse_u64(const char *cmd, const char *flag, const char *s, uint64_t *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 0);
  if (errno || end == s || *end || s[0] == '-') {
    cl_cli_error(CL_EXIT_INPUT, NULL, 0, 0, "%s: %s expects a non-negative integer, got '%s'", cmd, flag, s);
    return 1;
  }
  *out = v;
  return 0;
}

int cl__parse_double(const char *cmd, const char *flag, const char *s, double lo, double hi, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || !(v >= lo && v <= hi)) {
    cl_cli_error(CL_EXIT_INPUT, NULL, 0, 0, "%s: %s expects a number in [%g, %g], got '%s'", cmd, flag, lo, hi, s);
    return 1;
  }
  *out = v;
  return 0;
}

double cl__now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double cl__thread_cpu(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double cl__median(double *a, int n) {
  if (n <= 0) return 0.0;
  qsort(a, (size_t)n, sizeof *a, cmp_double);
  return n % 2 ? a[n / 2] : 0.5 * (a[n / 2 - 1] + a[n / 2]);
}

int cl__opt_common(int argc, char **argv, int *i, void (*help)(void), const char **out, const char *const *names,
                   int *const *on, int *missing) {
  const char *a = argv[*i], *v;
  if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
    help();
    return 0;
  }
  for (int k = 0; names && names[k]; k++)
    if (!strcmp(a, names[k])) {
      *on[k] = 1;
      return 1;
    }
  if (out && ((v = cl__opt(argc, argv, i, "-o", missing)) || (v = cl__opt(argc, argv, i, "--output", missing)))) {
    *out = v;
    return 1;
  }
  return -1;
}

int cl__check_output(const char *cmd, const char *path) {
  extern int cl__argc;
  extern char **cl__argv;
  int force = 0;
  for (int i = 1; i < cl__argc; i++) force |= !strcmp(cl__argv[i], "--force");
  return cl_output_check(cmd, path, force) == CL_OK ? 0 : 2;
}
