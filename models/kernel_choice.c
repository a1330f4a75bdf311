/* Per-layer kernel choices measured once per host, and the key scheme of every
 * per-host cache file (the host calibration of runtime/device_calib.c uses it too).
 *
 * File format (plain text, one item a line; written by cl__kc_save, read back here):
 *
 *     # cleave kernel choices (models/kernel_choice.c) ...
 *     cpu: AMD EPYC
 *     backend: dnnl oneDNN 2.6.3
 *     threads: 1
 *     cleave: 0.9.0
 *     choice: <signature> = <candidate>
 *     choice: <signature> = <candidate> provisional
 *
 * A provisional choice was timed on 2+ threads while the host was loaded (the
 * co-scheduling probe found this process's two threads not running together): wall
 * time then measured the host's other work, and a choice taken so once cost ResNet-18
 * 2% on 2 threads for as long as the cache lived. It is used as it is while the host
 * stays loaded, and timed again by the first executor that finds the host quiet.
 * The four key lines must all equal this process's key or the whole file is refused:
 * the file name already carries the key, so a mismatch means a copied, hand-edited or
 * colliding file (two CPU model names that sanitise alike), never a usable one. */
#define _POSIX_C_SOURCE 200809L
#include "kernel_choice.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleave/build_info.h"
#include "cleave/device.h"
#include "cleave/ops.h"

const char *cl_calib_cpu_model(void) {
  static char model[128];
  if (model[0]) return model;
  snprintf(model, sizeof model, "unknown");
  FILE *f = fopen("/proc/cpuinfo", "r");
  char line[512];
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "model name", 10)) {
      const char *v = strchr(line, ':');
      if (!v) continue;
      for (v++; *v == ' '; v++) {
      }
      snprintf(model, sizeof model, "%s", v);
      model[strcspn(model, "\n")] = '\0';
      break;
    }
  if (f) fclose(f);
  return model;
}

/* Letters, digits and '.' kept; everything else '_' (a file-name component). */
static void sanitise(char *s) {
  for (char *p = s; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.')) *p = '_';
}

void cl_calib_cache_path(const char *kind, cl_backend backend, int threads, const char *model, char *path, int cap) {
  const char *dir = getenv("CLEAVE_CALIB_DIR"), *home = getenv("HOME"), *xdg = getenv("XDG_CACHE_HOME");
  char base[2048];
  if (dir && *dir) snprintf(base, sizeof base, "%s", dir);
  else if (xdg && *xdg) snprintf(base, sizeof base, "%s/cleave", xdg);
  else snprintf(base, sizeof base, "%s/.cache/cleave", home && *home ? home : "/tmp");
  char cpu[128];
  snprintf(cpu, sizeof cpu, "%.96s", cl_calib_cpu_model());
  sanitise(cpu);
  char mdl[160] = "";
  if (model) { /* the model's file name (or zoo name) keys its per-layer cache */
    const char *slash = strrchr(model, '/');
    snprintf(mdl, sizeof mdl, "-%.150s", slash ? slash + 1 : model);
    sanitise(mdl + 1);
  }
  /* The backend with its library version and the ISA / BLAS kernel set it dispatches to:
   * a library upgrade, ONEDNN_MAX_CPU_ISA or OPENBLAS_CORETYPE is another cache, never a
   * stale one (e.g. dnnl_2.6.3_avx512_core, portable_OpenBLAS_0.3.21_SkylakeX). */
  char be[128];
  backend = cl_backend_resolve(backend);
  const char *ver = cl_backend_version(backend);
  if (backend == CL_BACKEND_DNNL && !strncmp(ver, "oneDNN ", 7)) snprintf(be, sizeof be, "dnnl_%.100s", ver + 7);
  else if (backend == CL_BACKEND_PORTABLE && strstr(ver, "+ ")) snprintf(be, sizeof be, "portable_%.100s", strstr(ver, "+ ") + 2);
  else snprintf(be, sizeof be, "%s", cl_backend_name(backend));
  be[strcspn(be, ")")] = '\0';
  sanitise(be);
  snprintf(path, (size_t)cap, "%s/%s-%s-%s-t%d-v%s%s.yaml", base, kind, cpu, be, threads, CL_VERSION_STRING, mdl);
}

void cl__kc_key_host(cl_backend backend, int threads, cl__kc_key *key) {
  backend = cl_backend_resolve(backend);
  memset(key, 0, sizeof *key);
  snprintf(key->cpu, sizeof key->cpu, "%s", cl_calib_cpu_model());
  snprintf(key->backend, sizeof key->backend, "%s %s", cl_backend_name(backend), cl_backend_version(backend));
  key->threads = threads;
  snprintf(key->version, sizeof key->version, "%s", CL_VERSION_STRING);
}

typedef struct kc_entry {
  char *sig;
  int choice;
  int firm;     /* 0: provisional (timed on a loaded host) */
  unsigned gen; /* cl__kc_generation() when put */
} kc_entry;

struct cl__kc {
  cl__kc_key key;
  char path[4096];
  kc_entry *e;
  int n, cap;
  int dirty;
  unsigned gen;
};

static kc_entry *find(const cl__kc *kc, const char *sig) {
  for (int i = 0; i < kc->n; i++)
    if (!strcmp(kc->e[i].sig, sig)) return &kc->e[i];
  return NULL;
}

int cl__kc_get(const cl__kc *kc, const char *sig) { return cl__kc_get_firm(kc, sig, NULL); }

int cl__kc_get_firm(const cl__kc *kc, const char *sig, int *firm) {
  const kc_entry *x = kc ? find(kc, sig) : NULL;
  if (firm) *firm = x ? x->firm : 0;
  return x ? x->choice : -1;
}

static cl_status put(cl__kc *kc, const char *sig, int choice, int firm) {
  kc_entry *x = find(kc, sig);
  if (x) {
    x->choice = choice;
    x->firm = firm;
    x->gen = kc->gen;
    return CL_OK;
  }
  if (kc->n == kc->cap) { /* cl_vec_reserve lives in cleave_runtime, above this library */
    int nc = kc->cap ? 2 * kc->cap : 64;
    kc_entry *p = realloc(kc->e, sizeof *p * (size_t)nc);
    if (!p) return CL_ERR_NOMEM;
    kc->e = p;
    kc->cap = nc;
  }
  char *s = strdup(sig);
  if (!s) return CL_ERR_NOMEM;
  kc->e[kc->n++] = (kc_entry){s, choice, firm, kc->gen};
  return CL_OK;
}

cl_status cl__kc_put(cl__kc *kc, const char *sig, int choice) { return cl__kc_put_firm(kc, sig, choice, 1); }

cl_status cl__kc_put_firm(cl__kc *kc, const char *sig, int choice, int firm) {
  if (strchr(sig, '\n') || strstr(sig, " = ")) return CL_ERR_INVALID; /* would not read back */
  CL_TRY(put(kc, sig, choice, firm != 0));
  kc->dirty = 1;
  return CL_OK;
}

unsigned cl__kc_generation(cl__kc *kc) { return ++kc->gen; }

int cl__kc_demote(cl__kc *kc, unsigned gen) {
  int n = 0;
  for (int i = 0; i < kc->n; i++)
    if (kc->e[i].gen == gen && kc->e[i].firm) {
      kc->e[i].firm = 0;
      kc->dirty = 1;
      n++;
    }
  return n;
}

int cl__kc_provisional(const cl__kc *kc) {
  int n = 0;
  for (int i = 0; kc && i < kc->n; i++) n += !kc->e[i].firm;
  return n;
}

int cl__kc_count(const cl__kc *kc) { return kc ? kc->n : 0; }
const char *cl__kc_path(const cl__kc *kc) { return kc->path; }

static int same_key(const cl__kc_key *a, const cl__kc_key *b) {
  return !strcmp(a->cpu, b->cpu) && !strcmp(a->backend, b->backend) && a->threads == b->threads &&
         !strcmp(a->version, b->version);
}

/* Read @p path into @p kc if its key lines equal kc->key. Returns CL_OK (also when the
 * file does not exist), CL_ERR_CONFIG for another key, CL_ERR_IO when malformed. */
static cl_status load(cl__kc *kc, const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return CL_OK;
  char line[1024];
  int lineno = 0, n_key = 0; /* key lines read (all four come before any choice) */
  cl__kc_key fk;
  memset(&fk, 0, sizeof fk);
  cl_status st = CL_OK;
  while (st == CL_OK && fgets(line, sizeof line, f)) {
    lineno++;
    line[strcspn(line, "\n")] = '\0';
    if (!line[0] || line[0] == '#') continue;
    char *colon = strstr(line, ": ");
    if (!colon) {
      st = CL_ERR_IO;
      break;
    }
    *colon = '\0';
    const char *k = line, *v = colon + 2;
    if (!strcmp(k, "cpu")) snprintf(fk.cpu, sizeof fk.cpu, "%s", v), n_key++;
    else if (!strcmp(k, "backend")) snprintf(fk.backend, sizeof fk.backend, "%s", v), n_key++;
    else if (!strcmp(k, "threads")) fk.threads = atoi(v), n_key++;
    else if (!strcmp(k, "cleave")) snprintf(fk.version, sizeof fk.version, "%s", v), n_key++;
    else if (!strcmp(k, "choice")) {
      if (n_key != 4) st = CL_ERR_CONFIG; /* choices without their key: refused */
      else if (!same_key(&fk, &kc->key)) st = CL_ERR_CONFIG;
      char *eq = st == CL_OK ? strstr(v, " = ") : NULL, *end = NULL;
      long c = eq ? strtol(eq + 3, &end, 10) : -1;
      int firm = 1;
      if (end && !strcmp(end, " provisional")) firm = 0, end += strlen(end);
      if (st == CL_OK && (!eq || !end || end == eq + 3 || *end || c < 0 || c > 1000)) st = CL_ERR_IO;
      if (st != CL_OK) break;
      *eq = '\0';
      st = put(kc, v, (int)c, firm);
    } else {
      st = CL_ERR_IO;
    }
  }
  fclose(f);
  if (st == CL_OK && n_key != 4) st = CL_ERR_IO;
  if (st == CL_OK && !same_key(&fk, &kc->key)) st = CL_ERR_CONFIG;
  if (st != CL_OK) {
    for (int i = 0; i < kc->n; i++) free(kc->e[i].sig);
    kc->n = 0;
    if (st == CL_ERR_CONFIG)
      cl_log_info("kernel choices: '%s' was written for another host, library, thread count or cleave version: "
                  "refused, measuring again",
                  path);
    else if (st != CL_ERR_NOMEM)
      cl_log_warn("kernel choices: '%s' line %d is malformed: ignored, measuring again", path, lineno);
  }
  return st;
}

cl_status cl__kc_open(const cl__kc_key *key, const char *path, cl__kc **out, int *refused) {
  *out = NULL;
  if (!path || !*path) return CL_ERR_INVALID;
  if (refused) *refused = 0;
  cl__kc *kc = calloc(1, sizeof *kc);
  if (!kc) return CL_ERR_NOMEM;
  kc->key = *key;
  snprintf(kc->path, sizeof kc->path, "%s", path);
  cl_status st = load(kc, kc->path);
  if (st == CL_ERR_NOMEM) {
    cl__kc_destroy(kc);
    return st;
  }
  if (st != CL_OK && refused) *refused = 1;
  *out = kc;
  return CL_OK;
}

void cl__kc_destroy(cl__kc *kc) {
  if (!kc) return;
  for (int i = 0; i < kc->n; i++) free(kc->e[i].sig);
  free(kc->e);
  free(kc);
}

static cl_status mkdirs(char *path) { /* parent directories of the file @p path */
  for (char *p = path + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    int r = mkdir(path, 0755);
    *p = '/';
    if (r != 0 && errno != EEXIST) return CL_ERR_IO;
  }
  return CL_OK;
}

cl_status cl__kc_save(cl__kc *kc) {
  if (!kc->dirty) return CL_OK;
  /* Merge what another process (a parallel test, another MPI rank) saved since we
   * loaded: its choices for signatures we did not measure are kept. */
  cl__kc *disk = NULL;
  if (cl__kc_open(&kc->key, kc->path, &disk, NULL) == CL_OK) {
    for (int i = 0; i < disk->n; i++) {
      kc_entry *x = find(kc, disk->e[i].sig);
      if (!x) CL_TRY(put(kc, disk->e[i].sig, disk->e[i].choice, disk->e[i].firm));
      else if (!x->firm && disk->e[i].firm) x->choice = disk->e[i].choice, x->firm = 1; /* firm beats provisional */
    }
    cl__kc_destroy(disk);
  }
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.%ld.tmp", kc->path, (long)getpid());
  cl_status st = mkdirs(tmp);
  FILE *f = st == CL_OK ? fopen(tmp, "w") : NULL;
  if (!f) st = CL_ERR_IO;
  if (f) {
    fprintf(f, "# cleave kernel choices (models/kernel_choice.c): per layer signature the candidate kernel\n"
               "# measured fastest on this host; delete the file to measure again\n");
    fprintf(f, "cpu: %s\nbackend: %s\nthreads: %d\ncleave: %s\n", kc->key.cpu, kc->key.backend, kc->key.threads,
            kc->key.version);
    for (int i = 0; i < kc->n; i++)
      fprintf(f, "choice: %s = %d%s\n", kc->e[i].sig, kc->e[i].choice, kc->e[i].firm ? "" : " provisional");
    if (fclose(f) != 0) st = CL_ERR_IO;
  }
  if (st == CL_OK && rename(tmp, kc->path) != 0) st = CL_ERR_IO;
  if (st != CL_OK) {
    remove(tmp);
    cl_log_warn("kernel choices not cached in '%s' (%s); they are measured again next time", kc->path,
                strerror(errno));
    return st;
  }
  kc->dirty = 0;
  return CL_OK;
}

/* Process-wide sets, one per (backend, threads); freed at exit. */
enum { KC_SHARED_MAX = 16 };
static cl__kc *g_shared[KC_SHARED_MAX];
static int g_n_shared;

static void free_shared(void) {
  for (int i = 0; i < g_n_shared; i++) cl__kc_destroy(g_shared[i]);
  g_n_shared = 0;
}

cl__kc *cl__kc_shared(cl_backend backend, int threads) {
  char path[4096];
  cl_calib_cache_path("kernels", cl_backend_resolve(backend), threads, NULL, path, sizeof path);
  for (int i = 0; i < g_n_shared; i++) /* the path holds the key (and CLEAVE_CALIB_DIR) */
    if (!strcmp(g_shared[i]->path, path)) return g_shared[i];
  if (g_n_shared == KC_SHARED_MAX) return NULL;
  cl__kc_key key;
  cl__kc_key_host(backend, threads, &key);
  cl__kc *kc = NULL;
  if (cl__kc_open(&key, path, &kc, NULL) != CL_OK) return NULL;
  if (!g_n_shared) atexit(free_shared);
  g_shared[g_n_shared++] = kc;
  return kc;
}

int cl__kc_host_quiet(double *stalled) {
  const char *env = getenv("CLEAVE_HOST_LOAD");
  double f;
  if (env && (!strcmp(env, "quiet") || !strcmp(env, "loaded")))
    f = !strcmp(env, "quiet") ? 0 : 1;
  else
    f = cl_blas_coschedule_probe(NULL);
  if (stalled) *stalled = f;
  return f <= 0.03;
}

const char *cl__kc_mode(void) {
  const char *m = getenv("CLEAVE_KERNEL_CHOICE");
  return m && *m ? m : "auto";
}
