/* Small shared helpers for subcommand argument parsing. Errors print one line and
 * return nonzero; callers then exit with code 2. */
#ifndef CLEAVE_APPS_CLI_H
#define CLEAVE_APPS_CLI_H

#include <stdarg.h>
#include <stdint.h>

#include "cleave/graph.h"

/* Exit codes of every command (documented in README.md): bad input (arguments, config,
 * model or data files) vs a failure while running. */
enum { CL_EXIT_OK = 0, CL_EXIT_RUNTIME = 1, CL_EXIT_INPUT = 2 };

/* The one error line of the CLI: "cleave: error: FILE[:LINE[:COL]]: message" (FILE NULL:
 * "cleave: error: message"; LINE/COL <= 0 are left out). Returns @p code, so callers
 * write `return cl_cli_error(CL_EXIT_INPUT, path, 0, 0, "...")`. */
/** cl_cli_error with a va_list. */
int cl_cli_verror(int code, const char *file, int line, int col, const char *fmt, va_list ap);
int cl_cli_error(int code, const char *file, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Once at startup: HDF5 prints no error stacks of its own (failures reach the user as
 * cleave errors naming the file). */
void cl_cli_init(void);

/* Value of option argv[*i] ("--flag VALUE" or "--flag=VALUE") if it matches @p flag;
 * advances *i past a separate value. Returns NULL if argv[*i] is not this flag;
 * sets *missing when the flag is present without a value. */
const char *cl__opt(int argc, char **argv, int *i, const char *flag, int *missing);

/* The fallback branch of every option loop: a flag that lacks its value, an unknown
 * option, or the one positional argument (a @p what: "model", "config", ...) stored in
 * *pos. Returns 0 when the argument was taken, else prints one error line for
 * `cleave CMD` and returns 2. */
int cl__arg_rest(const char *cmd, const char *what, const char *arg, int missing, const char **pos);

/* The options commands share: --help/-h (calls @p help; returns 0), -o/--output FILE
 * (into *out, if @p out is not NULL) and the boolean flags names[k] (NULL-terminated;
 * sets *on[k] = 1). Returns 1 when argv[*i] was one of them, else -1 (and *missing as
 * cl__opt sets it). */
/** 1 (after printing @p help) if @p arg is --help or -h, else 0. */
int cl__help_asked(const char *arg, void (*help)(void));
int cl__opt_common(int argc, char **argv, int *i, void (*help)(void), const char **out, const char *const *names,
                   int *const *on, int *missing);

/** Parse a --backend value (auto|portable|dnnl); 1 after printing an error. */
int cl__parse_backend(const char *cmd, const char *s, int *out);
int cl__parse_int(const char *cmd, const char *flag, const char *s, long lo, long hi, long *out);
/** Parse a tensor shape "NxCxHxW" (or "NxF": C = F, H = W = 1), each size in [1, 2^24]; 1
 *  after printing an error. */
int cl__parse_shape(const char *cmd, const char *flag, const char *s, cl_shape *out);
int cl__parse_u64(const char *cmd, const char *flag, const char *s, uint64_t *out);
int cl__parse_double(const char *cmd, const char *flag, const char *s, double lo, double hi, double *out);

/* 0 when output file @p path may be written: it does not exist, or --force is on the
 * command line. Else one error line for `cleave CMD` and 2 (no output replaces an
 * existing file without --force). */
int cl__check_output(const char *cmd, const char *path);

/* Monotonic seconds and this thread's CPU seconds. */
double cl__now(void);
double cl__thread_cpu(void);

/* Median of n doubles (sorts a in place). */
double cl__median(double *a, int n);

/* One error line "cleave: error: CMD: message" (printf-style @p fmt, no trailing
 * newline) on stderr. Returns @p code so that callers write `return cl__cmd_error(2,
 * "report", ...)`: 2 for bad input (arguments, files), 1 for a runtime failure. */
int cl__cmd_error(int code, const char *cmd, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
