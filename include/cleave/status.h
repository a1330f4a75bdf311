/** @file status.h
 *  @brief One status enum for all of cleave, error logging, and invariant asserts.
 *
 *  Every fallible function returns cl_status; results come back through
 *  out-parameters. Errors are logged where they are found (with file, line,
 *  field, value), then the status is returned. Library code never exits.
 */
#ifndef CLEAVE_STATUS_H
#define CLEAVE_STATUS_H

#include <stdio.h>
#include <stdlib.h>

/* X-macro: enum value, negative code, short description. */
#define CL_STATUS_MAP(X)                                   \
  X(CL_OK, 0, "ok")                                        \
  X(CL_ERR_INVALID, -1, "invalid argument or input")        \
  X(CL_ERR_NOMEM, -2, "out of memory")                     \
  X(CL_ERR_IO, -3, "I/O error")                            \
  X(CL_ERR_MPI, -4, "MPI error")                           \
  X(CL_ERR_HDF5, -5, "HDF5 error")                         \
  X(CL_ERR_CONFIG, -6, "configuration error")              \
  X(CL_ERR_NOTFOUND, -7, "not found")                      \
  X(CL_ERR_UNSUPPORTED, -8, "unsupported")                 \
  X(CL_ERR_INFEASIBLE, -9, "infeasible")                   \
  X(CL_ERR_EXISTS, -10, "already exists")                  \
  X(CL_ERR_INTERNAL, -11, "internal error")                \
  X(CL_ERR_ABORTED, -12, "failed on this rank while other ranks wait: the job must end")

typedef enum cl_status {
#define CL__STATUS_ENUM(name, code, desc) name = code,
  CL_STATUS_MAP(CL__STATUS_ENUM)
#undef CL__STATUS_ENUM
} cl_status;

/** @brief Short static description of a status (never NULL). */
const char *cl_status_str(cl_status s);

/** @brief Log a printf-style error line to stderr, prefixed "cleave: error: ". */
void cl_log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** @brief Log a warning line to stderr, prefixed "cleave: warning: ". */
void cl_log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** @brief Log an info line to stderr when verbosity >= 1. */
void cl_log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** @brief Set verbosity: 0 quiet (errors+warnings), 1 info, 2 debug. Unset, it comes from
 *  the CLEAVE_LOG environment variable (0, 1 or 2; anything else warns and means 0). */
void cl_log_set_level(int level);
int cl_log_level(void);
/** @brief Redirect every log line (as printed, e.g. "cleave: error: ...", without the
 *  newline) to @p fn instead of stderr; NULL restores stderr. Used by tests to assert
 *  on messages. Not thread-safe: set it before starting threads. */
void cl_log_set_sink(void (*fn)(const char *line, void *ctx), void *ctx);

/** Invariant check that stays on in release builds. Bugs abort; inputs never reach this. */
#define CL_ASSERT(cond)                                                          \
  do {                                                                           \
    if (!(cond)) {                                                               \
      fprintf(stderr, "cleave: assertion failed: %s (%s:%d)\n", #cond, __FILE__, \
              __LINE__);                                                         \
      abort();                                                                   \
    }                                                                            \
  } while (0)

/** Propagate a non-OK status. */
#define CL_TRY(expr)                \
  do {                              \
    cl_status cl__s_ = (expr);      \
    if (cl__s_ != CL_OK) return cl__s_; \
  } while (0)

#endif
