/* oneDNN backend: the whole-graph fusion choices, timed once per host, graph and thread
 * count and cached with the kernel choices.
 *
 * Two fusions merge a step into its neighbour so that a tensor is never written out:
 * a batch norm into the 1x1 convolution that alone reads it (exec_dnnl_preact.c,
 * cleave's own kernel) and a 3x3 depthwise convolution into the 1x1 convolution that
 * alone feeds it (exec_dnnl_dw.c, oneDNN's depthwise post-op). Whether one pays shows
 * only in the running network, where the unfused tensor has left the cache by the time
 * it is read back; timed alone, with everything in cache, the pairs are within a few
 * percent of each other. So each fusion is decided by racing whole executors: every
 * such pair fused, none, and for the batch norm a partial variant (maps up to 14x14).
 * A fusion is kept when it is at least 3% faster than none.
 *
 * The executor built first has every fusion the mode allows (CLEAVE_DNNL_PREACT,
 * CLEAVE_DNNL_DW: off|on|auto; auto by default, on with CLEAVE_KERNEL_CHOICE=off, off
 * with a forced candidate or cl_exec_opts.preact = CL_PREACT_OFF). The fusions are
 * decided one after the other; while one is raced, the executors built for it keep the
 * choices already made for the others, and build nothing nested. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef CLEAVE_HAVE_DNNL
#include "exec_dnnl_internal.h"
#include "kernel_choice.h"

_Thread_local int cl__dn_fv[CL__FUSE_N] = {-1, -1};
static _Thread_local int racing;

int cl__dn_fuse_mode(const cl_exec *e, int f) {
  if (cl__dn_fv[f] >= 0) return cl__dn_fv[f] == CL__FV_NONE ? 0 : 1;
  if (e->opts.preact == CL_PREACT_OFF) return 0;
  if (e->opts.preact == CL_PREACT_ON) return 1;
  const char *env = getenv(f == CL__FUSE_PREACT ? "CLEAVE_DNNL_PREACT" : "CLEAVE_DNNL_DW");
  if (env && !strcmp(env, "off")) return 0;
  if (env && !strcmp(env, "on")) return 1;
  return strcmp(cl__kc_mode(), "auto") ? (strcmp(cl__kc_mode(), "off") ? 0 : 1) : 2;
}

int cl__dn_fuse_here(int f, int positions) { return cl__dn_fv[f] != CL__FV_PART || positions <= 196; }

typedef struct fusion {
  const char *key;  /* cache key word */
  const char *what; /* "%d <what>" in the log */
  const char *part; /* the partial variant, in the log (NULL: none) */
} fusion;

static const fusion k_fusion[CL__FUSE_N] = {
    {"preact", "batch norms fused into their 1x1 convolution", "on maps up to 14x14"},
    {"dwfuse", "depthwise convolutions fused into their 1x1 convolution", NULL},
};

static cl_status build_variant(cl_exec *e, int f, int v, cl_exec **out) {
  cl__dn_fv[f] = v;
  cl_status st = cl_exec_create(e->g, &e->opts, out);
  cl__dn_fv[f] = -1;
  return st;
}

/* Decide fusion @p f of *pe, which has @p n such pairs fused, @p n_part of them in the
 * partial variant. Returns with cl__dn_fv[f] set to the choice. */
static cl_status decide(cl_exec **pe, int f, int n, int n_part) {
  cl_exec *e = *pe;
  cl__dnnl *d = e->dnnl;
  const fusion *fu = &k_fusion[f];
  if (!n || cl__dn_fuse_mode(e, f) != 2 || e->opts.plan_only) return CL_OK; /* cl__dn_fv[f] stays -1 */
  cl__dn_fv[f] = CL__FV_ALL; /* what *pe was built with */
  cl__kc *kc = cl__kc_shared(CL_BACKEND_DNNL, e->opts.threads);
  if (!kc) return CL_OK;
  char sig[96];
  snprintf(sig, sizeof sig, "%s graph %016llx steps %d fused %d", fu->key,
           (unsigned long long)cl__dn_graph_signature(e), e->n_steps, n);
  int firm = 0, use = cl__kc_get_firm(kc, sig, &firm), multi = e->opts.threads > 1;
  if (use >= 0 && !firm && multi && cl__dn_host_quiet(d, 0)) use = -1; /* provisional: time it again */
  if (use == CL__FV_PART && (n_part == 0 || n_part == n)) use = -1;    /* not a variant of this graph */
  if (use > CL__FV_PART) use = -1;
  if (use == CL__FV_ALL) return CL_OK;
  cl_exec *ex[3] = {e, NULL, NULL};
  cl_status st = build_variant(e, f, use == CL__FV_PART ? CL__FV_PART : CL__FV_NONE, &ex[1]);
  if (st != CL_OK) return st == CL_ERR_NOMEM ? st : CL_OK; /* keep the fused executor */
  if (use >= 0) { /* cached: none or the partial variant */
    cl_exec_destroy(e);
    *pe = ex[1];
    cl__dn_fv[f] = use;
    return CL_OK;
  }
  int nv = 2, variant[3] = {CL__FV_ALL, CL__FV_NONE, CL__FV_PART};
  if (n_part > 0 && n_part < n) {
    if ((st = build_variant(e, f, CL__FV_PART, &ex[2])) != CL_OK) {
      cl_exec_destroy(ex[1]);
      return st == CL_ERR_NOMEM ? st : CL_OK;
    }
    nv = 3;
  }
  int quiet = !multi || cl__dn_host_quiet(d, 0);
  double t[3] = {0, 0, 0};
  if ((st = cl__dn_race(ex, nv, 5, t)) != CL_OK) {
    for (int v = 1; v < nv; v++) cl_exec_destroy(ex[v]);
    return st;
  }
  int best = 1;
  for (int v = 0; v < nv; v++)
    if (v != 1 && t[v] < 0.97 * t[1] && (best == 1 || t[v] < t[best])) best = v;
  use = variant[best];
  quiet = quiet && (!multi || cl__dn_host_quiet(d, 1));
  if (cl__kc_put_firm(kc, sig, use, quiet) != CL_OK || cl__kc_save(kc) != CL_OK)
    cl_log_warn("executor (oneDNN): the %s choice of '%s' is not cached", fu->key, cl_graph_name(e->g));
  char part[96] = "";
  if (nv == 3) snprintf(part, sizeof part, ", %.3f ms with the %d %s", 1e3 * t[2], n_part, fu->part);
  cl_log_info("executor (oneDNN): '%s' on %d thread%s: %.3f ms with %d %s%s, %.3f ms with none: %s%s",
              cl_graph_name(e->g), e->opts.threads, multi ? "s" : "", 1e3 * t[0], n, fu->what, part, 1e3 * t[1],
              use == CL__FV_ALL ? "all" : use == CL__FV_PART ? "partial" : "none",
              quiet ? "" : " (provisional: the host was loaded)");
  for (int v = 0; v < nv; v++)
    if (v != best) cl_exec_destroy(ex[v]);
  *pe = ex[best];
  cl__dn_fv[f] = use;
  return CL_OK;
}

cl_status cl__dnnl_fusions_decide(cl_exec **pe) {
  if (racing) return CL_OK; /* an executor built for a race */
  racing = 1;
  cl_status st = CL_OK;
  for (int f = 0; f < CL__FUSE_N && st == CL_OK; f++) {
    const cl__dnnl *d = (*pe)->dnnl;
    int n = 0, n_part = 0;
    if (f == CL__FUSE_PREACT) {
      n = d->n_pa;
      n_part = cl__dn_preact_part(d);
    } else {
      n = d->n_dw;
    }
    st = decide(pe, f, n, n_part);
  }
  for (int f = 0; f < CL__FUSE_N; f++) cl__dn_fv[f] = -1;
  racing = 0;
  return st;
}
#else
typedef int cl__dn_fuse_not_built; /* ISO C: a translation unit is not empty */
#endif
