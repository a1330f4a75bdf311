/* Per-layer kernel choices measured once per host (models/kernel_choice.c).
 *
 * A choice maps a layer signature (op, shapes, parameters, neighbouring layouts: text
 * built by the backend) to a small integer (the backend's candidate index). The
 * choices of one (CPU model, backend + library version, thread count, cleave version)
 * live in one file beside the host calibration (runtime/device_calib.c uses the same
 * directory and key scheme, cl_calib_cache_path), so a new CPU, library, thread count
 * or cleave version is a new file, and a file whose header names another key is
 * refused (measured again, then overwritten). Internal to cleave_models; tests include
 * it directly. */
#ifndef CLEAVE_KERNEL_CHOICE_H
#define CLEAVE_KERNEL_CHOICE_H

#include "cleave/exec.h"
#include "cleave/status.h"

typedef struct cl__kc cl__kc;

/* The key a choice file is valid for. */
typedef struct cl__kc_key {
  char cpu[128];
  char backend[64]; /* backend name, library version and ISA, e.g. "dnnl oneDNN 2.6.3 avx512_core" */
  int threads;
  char version[32]; /* cleave version */
} cl__kc_key;

/* This host's key for @p backend (resolved) and @p threads. */
void cl__kc_key_host(cl_backend backend, int threads, cl__kc_key *key);

/* Open the choices of @p key stored at @p path (cl_calib_cache_path("kernels", ...) for
 * this host's).
 * A missing file gives an empty set; a file for another key, or unreadable, is refused
 * with a log line and gives an empty set (*refused = 1 when @p refused is not NULL).
 * Caller owns *out (cl__kc_destroy). */
cl_status cl__kc_open(const cl__kc_key *key, const char *path, cl__kc **out, int *refused);
void cl__kc_destroy(cl__kc *kc);
/* The choice stored for @p sig, or -1. */
int cl__kc_get(const cl__kc *kc, const char *sig);
/* The choice stored for @p sig, or -1; *firm (if not NULL) = 0 when it is provisional
 * (timed on 2+ threads on a loaded host: use it, but time it again on a quiet one). */
int cl__kc_get_firm(const cl__kc *kc, const char *sig, int *firm);
/* Store (or replace) a choice; marks the set for saving. cl__kc_put stores a firm one. */
cl_status cl__kc_put(cl__kc *kc, const char *sig, int choice);
cl_status cl__kc_put_firm(cl__kc *kc, const char *sig, int choice, int firm);
/* A new generation: choices put from now on carry it, so cl__kc_demote(kc, gen) can make
 * exactly them provisional (an executor's measurements, when the host turned out
 * loaded by the end). Returns the number of choices demoted. */
unsigned cl__kc_generation(cl__kc *kc);
int cl__kc_demote(cl__kc *kc, unsigned gen);
/* How many choices are provisional. */
int cl__kc_provisional(const cl__kc *kc);
int cl__kc_count(const cl__kc *kc);
/* Write the set if it changed (merged with what another process saved meanwhile;
 * written to a temporary file, then renamed). */
cl_status cl__kc_save(cl__kc *kc);
const char *cl__kc_path(const cl__kc *kc);

/* The process-wide set for @p backend / @p threads in the current cache directory
 * (opened on first use, kept until exit; NULL if it cannot be allocated). Not thread-safe: executors are created by one
 * thread at a time. */
cl__kc *cl__kc_shared(cl_backend backend, int threads);

/* Is the host quiet enough for 2+-thread timings, now? The co-scheduling probe
 * (cl_blas_coschedule_probe) finds at most 3% of its median window stalled;
 * CLEAVE_HOST_LOAD=quiet|loaded fixes the verdict (tests). *stalled (if not NULL) gets
 * the probe's fraction (0 or 1 when fixed). Every choice timed on 2+ threads (kernels,
 * whole-graph races, branch groups) is firm only when this holds before and after. */
int cl__kc_host_quiet(double *stalled);

/* CLEAVE_KERNEL_CHOICE: "auto" (default: cached, else measured), "off" (the fixed
 * heuristics, nothing measured or cached), or a candidate name the backend forces
 * wherever it applies (tests). Returns the text ("auto" when unset). */
const char *cl__kc_mode(void);

/* What the kernel choice did in one executor (oneDNN backend). */
typedef struct cl__kc_stats {
  int layers;          /* convolutions whose kernel came from a choice (cached or measured) */
  int measured;        /* ... of which measured now */
  int changed;         /* ... of which differ from the fixed heuristic's kernel */
  int provisional;     /* ... of which measured now on a loaded host (2+ threads): not final */
  int layout_reorders; /* run-time reorders between layers whose layouts differ */
  int concat_copies;   /* concat inputs copied at run time instead of written in place */
  int preact;          /* batch-norm steps fused into their 1x1 convolution (exec_dnnl_preact.c) */
  int dw;              /* depthwise convolutions fused into their 1x1 convolution (exec_dnnl_dw.c) */
  double seconds;      /* wall time spent measuring */
} cl__kc_stats;

/* CL_ERR_INVALID for an executor without oneDNN state, CL_ERR_UNSUPPORTED without oneDNN. */
cl_status cl__kc_exec_stats(const cl_exec *e, cl__kc_stats *out);

#endif
