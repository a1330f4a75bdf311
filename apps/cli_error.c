/* The error line of the subcommands that name themselves in their messages:
 * "cleave: error: CMD: message", the one form every command prints (issue 13). */
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"

int cl__cmd_error(int code, const char *cmd, const char *fmt, ...) {
  fprintf(stderr, "cleave: error: %s: ", cmd);
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return code;
}
