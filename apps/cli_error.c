/* The error line of the subcommands that name themselves in their messages:
 * "cleave: error: CMD: message", the one form every command prints (issue 13);
 * the formatting is cl_cli_verror's (apps/cli.c). */
#include <stdarg.h>

#include "cli.h"

int cl__cmd_error(int code, const char *cmd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  cl_cli_verror(code, cmd, 0, 0, fmt, ap);
  va_end(ap);
  return code;
}
