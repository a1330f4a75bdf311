/* Status strings and logging. */
#include "cleave/status.h"

#include <stdarg.h>

#include <stdlib.h>

static int g_log_level = -100; /* unset: CLEAVE_LOG (0 quiet, 1 info, 2 debug), else 0 */

/* Verbosity from CLEAVE_LOG on first use, unless cl_log_set_level came first. */
static int level_now(void) {
  if (g_log_level == -100) {
    const char *env = getenv("CLEAVE_LOG");
    int ok = env && env[0] >= '0' && env[0] <= '2' && !env[1];
    g_log_level = ok ? env[0] - '0' : 0;
    if (env && !ok) cl_log_warn("CLEAVE_LOG='%.40s' is not 0, 1 or 2; ignored (0: quiet)", env);
  }
  return g_log_level;
}
static void (*g_log_sink)(const char *line, void *ctx) = NULL;
static void *g_log_sink_ctx = NULL;

void cl_log_set_sink(void (*fn)(const char *line, void *ctx), void *ctx) {
  g_log_sink = fn;
  g_log_sink_ctx = ctx;
}

const char *cl_status_str(cl_status s) {
  switch (s) {
#define CL__STATUS_CASE(name, code, desc) \
  case name:                              \
    return desc;
    CL_STATUS_MAP(CL__STATUS_CASE)
#undef CL__STATUS_CASE
  }
  return "unknown status";
}

static void vlog(const char *prefix, const char *fmt, va_list ap) {
  char buf[2048];
  vsnprintf(buf, sizeof buf, fmt, ap);
  if (g_log_sink) {
    char line[2200];
    snprintf(line, sizeof line, "cleave: %s%s", prefix, buf);
    g_log_sink(line, g_log_sink_ctx);
    return;
  }
  fprintf(stderr, "cleave: %s%s\n", prefix, buf);
}

void cl_log_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vlog("error: ", fmt, ap);
  va_end(ap);
}

void cl_log_warn(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vlog("warning: ", fmt, ap);
  va_end(ap);
}

void cl_log_info(const char *fmt, ...) {
  if (level_now() < 1) return;
  va_list ap;
  va_start(ap, fmt);
  vlog("", fmt, ap);
  va_end(ap);
}

void cl_log_set_level(int level) {
  g_log_level = level;
}
int cl_log_level(void) {
  return level_now();
}
