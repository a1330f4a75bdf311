/* Executor cache for sweeps (docs/runtime.md, "Executor reuse in sweeps"): one executor
 * per (graph, run mask, backend, threads, fusion, inter-op mode), weights packed and
 * buffers touched once, reused by every point that needs that node's layer set. Points
 * of a testbed sweep differ mostly in link and node factors (levels vary fastest in the
 * grid), so consecutive points ask for the same executors; 3-node every_cut plans share
 * the first node's executor across all second cuts.
 *
 * Bounded by bytes (cl_exec_memory_bytes: activations, workspace and, with oneDNN, the
 * packed weights): least recently used entries go first. Entries in use by the point
 * being evaluated are pinned and never evicted; an executor larger than the whole
 * budget is used once and destroyed when released. Capacity 0 turns reuse off (every
 * get creates, every release destroys): the "before" of bench/bench_sweep.sh.
 *
 * Reuse is safe because an executor is plan-once-run-many: every run rewrites every
 * buffer it reads before reading it (inputs are filled or copied in by the caller),
 * so a reused executor gives the outputs of a fresh one (tests/test_exec_cache.c). */
#include <stdlib.h>
#include <string.h>

#include "cleave/vec.h"
#include "sweep_internal.h"

typedef struct ec_entry {
  const cl_graph *g;
  uint8_t *mask;  /* [n] copy; the executor's run_mask points here */
  int n;
  cl_backend backend;
  int threads, fuse, inter_op;
  cl_exec *ex;
  size_t bytes;
  uint64_t used;  /* LRU clock */
  int pins;
} ec_entry;

struct cl__exec_cache {
  size_t cap;     /* bytes */
  ec_entry *e;
  int n, cap_e;
  uint64_t clock;
  size_t bytes;   /* sum over entries */
  cl__exec_cache_stats st;
};

cl_status cl__exec_cache_create(size_t cap_bytes, cl__exec_cache **out) {
  *out = calloc(1, sizeof **out);
  if (!*out) return CL_ERR_NOMEM;
  (*out)->cap = cap_bytes;
  return CL_OK;
}

size_t cl__exec_cache_default_bytes(void) {
  const char *env = getenv("CLEAVE_EXEC_CACHE_MB");
  if (env && *env) {
    char *end = NULL;
    double mb = strtod(env, &end);
    if (end != env && mb >= 0) return (size_t)(mb * 1048576.0);
    cl_log_warn("CLEAVE_EXEC_CACHE_MB='%s' is not a size in MiB; using the default", env);
  }
  return (size_t)CL__EXEC_CACHE_DEFAULT_MB << 20;
}

static void drop(cl__exec_cache *c, int i) {
  ec_entry *x = &c->e[i];
  cl_exec_destroy(x->ex);
  free(x->mask);
  c->bytes -= x->bytes;
  c->e[i] = c->e[--c->n];
}

/* Evict least recently used unpinned entries until the budget holds. */
static void shrink(cl__exec_cache *c) {
  while (c->bytes > c->cap) {
    int victim = -1;
    for (int i = 0; i < c->n; i++)
      if (!c->e[i].pins && (victim < 0 || c->e[i].used < c->e[victim].used)) victim = i;
    if (victim < 0) return; /* everything pinned: over budget until released */
    drop(c, victim);
    c->st.evictions++;
  }
}

void cl__exec_cache_destroy(cl__exec_cache *c) {
  if (!c) return;
  while (c->n) drop(c, c->n - 1);
  free(c->e);
  free(c);
}

static int same_key(const ec_entry *x, const cl_graph *g, const uint8_t *mask, int n, const cl_exec_opts *o,
                    cl_backend b) {
  if (x->g != g || x->n != n || x->backend != b || x->threads != o->threads || x->fuse != o->fuse ||
      x->inter_op != o->inter_op)
    return 0;
  if (!mask) { /* all nodes */
    for (int i = 0; i < n; i++)
      if (!x->mask[i]) return 0;
    return 1;
  }
  return !memcmp(x->mask, mask, (size_t)n);
}

cl_status cl__exec_cache_get(cl__exec_cache *c, const cl_graph *g, const cl_exec_opts *opts, cl_exec **out) {
  *out = NULL;
  cl_exec_opts o = *opts;
  if (o.threads < 1) o.threads = 1;
  cl_backend b = cl_backend_resolve(o.backend);
  int n = cl_graph_size(g);
  for (int i = 0; i < c->n; i++)
    if (same_key(&c->e[i], g, o.run_mask, n, &o, b)) {
      c->e[i].pins++;
      c->e[i].used = ++c->clock;
      c->st.hits++;
      *out = c->e[i].ex;
      return CL_OK;
    }
  c->st.misses++;
  CL_TRY(CL_VEC_RESERVE(c->e, c->cap_e, c->n + 1, 16));
  ec_entry x = {.g = g, .n = n, .backend = b, .threads = o.threads, .fuse = o.fuse, .inter_op = o.inter_op};
  if (!(x.mask = malloc((size_t)(n ? n : 1)))) return CL_ERR_NOMEM;
  if (o.run_mask) memcpy(x.mask, o.run_mask, (size_t)n);
  else memset(x.mask, 1, (size_t)n);
  o.run_mask = x.mask; /* lives as long as the entry */
  cl_status st = cl_exec_create(g, &o, &x.ex);
  if (st != CL_OK) {
    free(x.mask);
    return st;
  }
  x.bytes = cl_exec_memory_bytes(x.ex);
  x.pins = 1;
  x.used = ++c->clock;
  c->e[c->n++] = x;
  c->bytes += x.bytes;
  shrink(c); /* the new entry is pinned: others make room */
  *out = x.ex;
  return CL_OK;
}

void cl__exec_cache_release(cl__exec_cache *c, cl_exec *ex) {
  if (!ex) return;
  for (int i = 0; i < c->n; i++)
    if (c->e[i].ex == ex) {
      CL_ASSERT(c->e[i].pins > 0);
      c->e[i].pins--;
      shrink(c);
      return;
    }
  CL_ASSERT(!"executor not from this cache");
}

void cl__exec_cache_drop_graph(cl__exec_cache *c, const cl_graph *g) {
  if (!c) return;
  for (int i = c->n - 1; i >= 0; i--)
    if (c->e[i].g == g) {
      CL_ASSERT(c->e[i].pins == 0);
      drop(c, i);
    }
}

cl__exec_cache_stats cl__exec_cache_stats_get(const cl__exec_cache *c) {
  cl__exec_cache_stats s = c->st;
  s.entries = c->n;
  s.bytes = c->bytes;
  return s;
}
