/* Scission result formatting: Scission's exact line, an aligned table, and CSV. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cleave/planner.h"

/* Append printf output to buf at *len (snprintf semantics: *len may exceed cap). */
static void app(char *buf, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void app(char *buf, size_t cap, size_t *len, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(*len < cap ? buf + *len : NULL, *len < cap ? cap - *len : 0, fmt, ap);
  va_end(ap);
  if (n > 0) *len += (size_t)n;
}

static const char *mname(const cl_profile_set *set, int m) {
  const cl_profile_machine *mc = cl_profile_set_machine(set, m);
  return mc ? mc->name : "None";
}

int cl_scission_format_line(const cl_profile_set *set, const cl_scission_query *q,
                            const cl_scission_config *c, int rank, cl_scission_format fmt,
                            char *buf, size_t cap) {
  size_t len = 0;
  if (cap) buf[0] = '\0';
  const int k = q->n_tiers;
  if (fmt == CL_SCISSION_FMT_SCISSION) {
    /* Scission divides by 1000 twice; printf's %.4f rounds like format(round(x, 4)). */
    app(buf, cap, &len, "[%d] %.4fs - %.4fMB - ", rank, c->latency, c->bytes / 1000.0 / 1000.0);
    for (int t = 0; t < k; t++) {
      char label[64];
      snprintf(label, sizeof label, "%s", q->tiers[t]);
      label[0] = (char)toupper((unsigned char)label[0]);
      int used = c->first_layer[t] >= 0;
      app(buf, cap, &len, "%s%s(%s) = %d - %d", t ? ", " : "", label,
          (t == 0 || used) ? mname(set, c->machine[t]) : "None", c->first_layer[t],
          c->last_layer[t]);
    }
    return (int)len;
  }
  if (fmt == CL_SCISSION_FMT_CSV) {
    if (rank == 0) {
      app(buf, cap, &len, "rank,model,latency_s,compute_s,comm_s,bytes,energy_j,objective");
      for (int t = 0; t < k; t++) {
        const char *n = q->tiers[t];
        app(buf, cap, &len,
            ",%s_machine,%s_first_layer,%s_last_layer,%s_first_block,%s_last_block,%s_seconds,"
            "%s_upload_bytes",
            n, n, n, n, n, n, n);
      }
      return (int)len;
    }
    app(buf, cap, &len, "%d,%s,%.9g,%.9g,%.9g,%.0f,%.9g,%.9g", rank, q->model, c->latency,
        c->compute, c->comm, c->bytes, c->energy, c->objective);
    for (int t = 0; t < k; t++) {
      int used = c->first_layer[t] >= 0;
      app(buf, cap, &len, ",%s,%d,%d,%d,%d,%.9g,%.0f",
          (t == 0 || used) ? mname(set, c->machine[t]) : "", c->first_layer[t], c->last_layer[t],
          c->first_block[t], c->last_block[t], c->seconds[t], c->upload[t]);
    }
    return (int)len;
  }
  /* table */
  if (rank == 0) {
    app(buf, cap, &len, "%-5s %10s %10s %10s %10s %10s", "rank", "latency_s", "compute_s",
        "comm_s", "sent_MB", "energy_J");
    for (int t = 0; t < k; t++) app(buf, cap, &len, "  %-30s", q->tiers[t]);
    return (int)len;
  }
  app(buf, cap, &len, "%-5d %10.4f %10.4f %10.4f %10.4f %10.4f", rank, c->latency, c->compute,
      c->comm, c->bytes / 1e6, c->energy);
  for (int t = 0; t < k; t++) {
    char cell[160];
    if (c->first_layer[t] >= 0)
      snprintf(cell, sizeof cell, "%s L%d-%d (%.4fs)", mname(set, c->machine[t]),
               c->first_layer[t], c->last_layer[t], c->seconds[t]);
    else
      snprintf(cell, sizeof cell, "-");
    app(buf, cap, &len, "  %-30s", cell);
  }
  return (int)len;
}
