/* Max-flow by Dinic's algorithm on double capacities. Infinite capacities are
 * replaced at solve time by a finite "big" value larger than the sum of all finite
 * capacities, so arithmetic stays finite; a flow >= big means no finite cut exists.
 * Residual capacities below a relative epsilon count as saturated. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/planner.h"
#include "cleave/vec.h"

typedef struct arc {
  int to, next; /* next arc out of the same node, -1 ends */
  double cap;   /* residual capacity */
} arc;

struct cl_maxflow {
  int n;
  int *head, *level, *iter, *queue; /* [n] each, one block owned by head */
  arc *arcs;
  int n_arcs, cap_arcs;
  double eps;
  int solved;
};

cl_status cl_maxflow_create(int n_nodes, cl_maxflow **out) {
  *out = NULL;
  if (n_nodes < 2) {
    cl_log_error("maxflow: need at least 2 nodes, got %d", n_nodes);
    return CL_ERR_INVALID;
  }
  cl_maxflow *mf = calloc(1, sizeof *mf);
  if (!mf) return CL_ERR_NOMEM;
  mf->n = n_nodes;
  size_t n = (size_t)n_nodes;
  const cl_block_part parts[] = {CL_BLOCK_PART(mf->head, n), CL_BLOCK_PART(mf->level, n),
                                 CL_BLOCK_PART(mf->iter, n), CL_BLOCK_PART(mf->queue, n)};
  if (cl_block_alloc(parts, 4) != CL_OK) {
    free(mf);
    return CL_ERR_NOMEM;
  }
  for (int i = 0; i < n_nodes; i++) mf->head[i] = -1;
  *out = mf;
  return CL_OK;
}

void cl_maxflow_destroy(cl_maxflow *mf) {
  if (!mf) return;
  free(mf->head); /* with level, iter and queue */
  free(mf->arcs);
  free(mf);
}

cl_status cl_maxflow_add_edge(cl_maxflow *mf, int u, int v, double cap) {
  if (u < 0 || v < 0 || u >= mf->n || v >= mf->n || u == v || !(cap >= 0)) {
    cl_log_error("maxflow: bad edge %d -> %d (capacity %g, %d nodes)", u, v, cap, mf->n);
    return CL_ERR_INVALID;
  }
  CL_TRY(CL_VEC_RESERVE(mf->arcs, mf->cap_arcs, mf->n_arcs + 2, 64));
  arc *a = &mf->arcs[mf->n_arcs];
  a[0] = (arc){v, mf->head[u], cap};
  a[1] = (arc){u, mf->head[v], 0.0};
  mf->head[u] = mf->n_arcs;
  mf->head[v] = mf->n_arcs + 1;
  mf->n_arcs += 2;
  mf->solved = 0;
  return CL_OK;
}

static int bfs(cl_maxflow *mf, int s, int t) {
  for (int i = 0; i < mf->n; i++) mf->level[i] = -1;
  int qh = 0, qt = 0;
  mf->level[s] = 0;
  mf->queue[qt++] = s;
  while (qh < qt) {
    int u = mf->queue[qh++];
    for (int e = mf->head[u]; e >= 0; e = mf->arcs[e].next)
      if (mf->arcs[e].cap > mf->eps && mf->level[mf->arcs[e].to] < 0) {
        mf->level[mf->arcs[e].to] = mf->level[u] + 1;
        mf->queue[qt++] = mf->arcs[e].to;
      }
  }
  return t < 0 ? 1 : mf->level[t] >= 0;
}

/* Blocking-flow DFS (recursive; depth bounded by the BFS level of t). */
static double dfs(cl_maxflow *mf, int u, int t, double f) {
  if (u == t) return f;
  for (int *e = &mf->iter[u]; *e >= 0; *e = mf->arcs[*e].next) {
    arc *a = &mf->arcs[*e];
    if (a->cap > mf->eps && mf->level[a->to] == mf->level[u] + 1) {
      double d = dfs(mf, a->to, t, f < a->cap ? f : a->cap);
      if (d > 0) {
        a->cap -= d;
        mf->arcs[*e ^ 1].cap += d;
        return d;
      }
    }
  }
  return 0.0;
}

cl_status cl_maxflow_solve(cl_maxflow *mf, int s, int t, double *flow) {
  if (s < 0 || t < 0 || s >= mf->n || t >= mf->n || s == t) {
    cl_log_error("maxflow: bad source %d / sink %d", s, t);
    return CL_ERR_INVALID;
  }
  double finite = 0.0;
  for (int e = 0; e < mf->n_arcs; e += 2)
    if (isfinite(mf->arcs[e].cap)) finite += mf->arcs[e].cap;
  double big = 2.0 * finite + 1.0;
  for (int e = 0; e < mf->n_arcs; e += 2)
    if (!isfinite(mf->arcs[e].cap)) mf->arcs[e].cap = big;
  mf->eps = 1e-12 * (finite > 0 ? finite : 1.0);
  double total = 0.0;
  while (bfs(mf, s, t)) {
    memcpy(mf->iter, mf->head, (size_t)mf->n * sizeof *mf->iter);
    double f;
    while ((f = dfs(mf, s, t, INFINITY)) > 0) total += f;
  }
  bfs(mf, s, -1); /* final residual reachability marks the source side */
  mf->solved = 1;
  *flow = total;
  return CL_OK;
}

int cl_maxflow_source_side(const cl_maxflow *mf, int v) {
  CL_ASSERT(mf->solved && v >= 0 && v < mf->n);
  return mf->level[v] >= 0;
}
