/* Network statistics: directed links between named machines (Scission's network CSV). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/profile.h"
#include "cleave/text.h"
#include "cleave/vec.h"

struct cl_netstats {
  int n, cap;
  cl_netstats_link *links;
};

cl_status cl_netstats_create(cl_netstats **out) {
  *out = calloc(1, sizeof **out);
  return *out ? CL_OK : CL_ERR_NOMEM;
}

void cl_netstats_destroy(cl_netstats *ns) {
  if (!ns) return;
  for (int i = 0; i < ns->n; i++) {
    free(ns->links[i].src);
    free(ns->links[i].dst);
  }
  free(ns->links);
  free(ns);
}

int cl_netstats_size(const cl_netstats *ns) { return ns ? ns->n : 0; }

const cl_netstats_link *cl_netstats_get(const cl_netstats *ns, int i) {
  return (ns && i >= 0 && i < ns->n) ? &ns->links[i] : NULL;
}

const cl_netstats_link *cl_netstats_find(const cl_netstats *ns, const char *src,
                                         const char *dst) {
  for (int i = 0; ns && i < ns->n; i++)
    if (!strcmp(ns->links[i].src, src) && !strcmp(ns->links[i].dst, dst)) return &ns->links[i];
  return NULL;
}

cl_status cl_netstats_add(cl_netstats *ns, const char *src, const char *dst, double latency_s,
                          double bandwidth_Bps) {
  if (!src || !*src || !dst || !*dst || !(latency_s >= 0) || !isfinite(latency_s) ||
      !(bandwidth_Bps > 0) || !isfinite(bandwidth_Bps)) {
    cl_log_error("netstats: invalid link %s -> %s (latency %g s, bandwidth %g B/s)",
                 src ? src : "?", dst ? dst : "?", latency_s, bandwidth_Bps);
    return CL_ERR_INVALID;
  }
  cl_netstats_link *l = (cl_netstats_link *)cl_netstats_find(ns, src, dst);
  if (l) { /* a later row replaces an earlier one, as a dict would */
    l->latency_s = latency_s;
    l->bandwidth_Bps = bandwidth_Bps;
    return CL_OK;
  }
  CL_TRY(CL_VEC_RESERVE(ns->links, ns->cap, ns->n + 1, 8));
  l = &ns->links[ns->n];
  l->src = malloc(strlen(src) + 1);
  l->dst = malloc(strlen(dst) + 1);
  if (!l->src || !l->dst) {
    free(l->src);
    free(l->dst);
    return CL_ERR_NOMEM;
  }
  strcpy(l->src, src);
  strcpy(l->dst, dst);
  l->latency_s = latency_s;
  l->bandwidth_Bps = bandwidth_Bps;
  ns->n++;
  return CL_OK;
}

cl_status cl_netstats_load_csv(const char *path, cl_netstats **out) {
  static const char *const cols[4] = {"source", "destination", "ping(ms)", "bandwidth(mbps)"};
  static const double k_min[2] = {0, 1e-6}, k_max[2] = {3.6e6, 1e7}; /* ms; Mbit/s */
  *out = NULL;
  FILE *f = fopen(path, "r");
  if (!f) {
    cl_log_error("%s: cannot open network file: %s", path, strerror(errno));
    return CL_ERR_IO;
  }
  cl_netstats *ns;
  cl_status st = cl_netstats_create(&ns);
  char *line = NULL;
  size_t cap = 0;
  int lineno = 0, header = 0;
  while (st == CL_OK && getline(&line, &cap, f) >= 0) {
    lineno++;
    char *fl[4];
    int nf = 0;
    char *p = line;
    for (;;) {
      char *c = strchr(p, ',');
      if (c) *c = '\0';
      if (nf < 4) fl[nf] = cl_text_trim(p);
      nf++;
      if (!c) break;
      p = c + 1;
    }
    if (nf == 1 && !*fl[0]) continue; /* blank line */
    if (nf != 4) {
      cl_log_error("%s:%d: expected 4 columns (source,destination,ping(ms),bandwidth(mbps)), "
                   "found %d", path, lineno, nf);
      st = CL_ERR_INVALID;
      break;
    }
    if (!header) {
      for (int i = 0; i < 4 && st == CL_OK; i++)
        if (strcmp(fl[i], cols[i])) {
          cl_log_error("%s:%d: header column %d is '%s', expected '%s'", path, lineno, i + 1,
                       fl[i], cols[i]);
          st = CL_ERR_INVALID;
        }
      header = 1;
      continue;
    }
    double v[2];
    for (int i = 0; i < 2 && st == CL_OK; i++) {
      char *end;
      errno = 0;
      v[i] = strtod(fl[2 + i], &end);
      /* The ranges of a testbed link (docs/config.md): latency [0 s, 3600 s], bandwidth
       * [1 bit/s, 10 Tbit/s]. */
      if (errno || end == fl[2 + i] || *end || !(v[i] >= k_min[i] && v[i] <= k_max[i])) {
        cl_log_error("%s:%d: column '%s': expected a number in [%g, %g], got '%s'", path, lineno,
                     cols[2 + i], k_min[i], k_max[i], fl[2 + i]);
        st = CL_ERR_INVALID;
      }
    }
    if (st != CL_OK) break;
    if (!*fl[0] || !*fl[1]) {
      cl_log_error("%s:%d: column '%s' is empty", path, lineno, *fl[0] ? cols[1] : cols[0]);
      st = CL_ERR_INVALID;
      break;
    }
    /* Scission: latency = ping / 1000; bytes/s = round(Mbps * 125000) (half-even). */
    double bw = nearbyint(v[1] * 125000.0);
    if (bw <= 0) {
      cl_log_error("%s:%d: column '%s': %g Mbit/s rounds to 0 bytes/s", path, lineno, cols[3],
                   v[1]);
      st = CL_ERR_INVALID;
      break;
    }
    st = cl_netstats_add(ns, fl[0], fl[1], v[0] / 1000.0, bw);
  }
  if (st == CL_OK && !header) {
    cl_log_error("%s: empty network file", path);
    st = CL_ERR_INVALID;
  }
  free(line);
  fclose(f);
  if (st != CL_OK) {
    cl_netstats_destroy(ns);
    return st;
  }
  *out = ns;
  return CL_OK;
}
