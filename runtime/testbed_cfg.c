/* Testbed configs: YAML -> cl_rt_setup (nodes, links, plan, workload, conditions). */
#include <cblas.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleave/cfg.h"
#include "cleave/runtime.h"
#include "cleave/zoo.h"

static const char *const g_tiers[] = {"device", "edge", "cloud", NULL};
static const char *const g_clocks[] = {"virtual", "wall", NULL};
static const char *const g_arrivals[] = {"back_to_back", "fixed_rate", "poisson", NULL};
static const char *const g_jitters[] = {"none", "normal", "uniform", "exponential", "lognormal", "pareto", NULL};

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double cl_rt_host_gflops(void) {
  enum { N = 512 };
  float *a = malloc(sizeof(float) * N * N), *b = malloc(sizeof(float) * N * N), *c = malloc(sizeof(float) * N * N);
  if (!a || !b || !c) {
    free(a);
    free(b);
    free(c);
    return 0;
  }
  for (int i = 0; i < N * N; i++) {
    a[i] = (float)(i % 7) * 0.1f;
    b[i] = (float)(i % 5) * 0.1f;
  }
  double best[5];
  for (int r = 0; r < 5; r++) {
    double t0 = now_s();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, N, N, 1.0f, a, N, b, N, 0.0f, c, N);
    best[r] = now_s() - t0;
  }
  for (int i = 0; i < 5; i++)
    for (int j = i + 1; j < 5; j++)
      if (best[j] < best[i]) {
        double t = best[i];
        best[i] = best[j];
        best[j] = t;
      }
  free(a);
  free(b);
  free(c);
  return 2.0 * N * N * (double)N / best[2] / 1e9;
}

static int node_index(const cl_rt_setup *su, const char *name) {
  for (int i = 0; i < su->n_nodes; i++)
    if (!strcmp(su->nodes[i].name, name)) return i;
  return -1;
}

static cl_status parse_power(const cl_cfg *c, const cl_cfg_node *pm, cl_node_power *p) {
  CL_TRY(cl_cfg_expect(c, pm, CL_CFG_MAP));
  CL_TRY(cl_cfg_get_unit(c, pm, "idle", 0, CL_UNIT_WATTS, &p->idle));
  CL_TRY(cl_cfg_get_unit(c, pm, "busy", 0, CL_UNIT_WATTS, &p->busy));
  CL_TRY(cl_cfg_get_unit(c, pm, "tx", 0, CL_UNIT_WATTS, &p->tx));
  CL_TRY(cl_cfg_get_unit(c, pm, "rx", 0, CL_UNIT_WATTS, &p->rx));
  CL_TRY(cl_cfg_get_unit(c, pm, "tx_per_byte", 0, CL_UNIT_J_PER_BYTE, &p->tx_per_byte));
  CL_TRY(cl_cfg_get_unit(c, pm, "rx_per_byte", 0, CL_UNIT_J_PER_BYTE, &p->rx_per_byte));
  return CL_OK;
}

static cl_status parse_nodes(const cl_cfg *c, const cl_cfg_node *seq, cl_rt_setup *su, double *host_gflops) {
  CL_TRY(cl_cfg_expect(c, seq, CL_CFG_SEQ));
  int n = cl_cfg_len(seq);
  if (n < 1) return cl_cfg_error(c, seq, "at least one node is needed");
  su->nodes = calloc((size_t)n, sizeof(cl_rt_node));
  if (!su->nodes) return CL_ERR_NOMEM;
  for (int i = 0; i < n; i++) {
    const cl_cfg_node *m = cl_cfg_at(seq, i);
    CL_TRY(cl_cfg_expect(c, m, CL_CFG_MAP));
    cl_rt_node *nd = &su->nodes[i];
    const char *name = NULL;
    CL_TRY(cl_cfg_get_str(c, m, "name", 1, &name));
    if (strlen(name) >= sizeof nd->name) return cl_cfg_error(c, cl_cfg_get(m, "name"), "name longer than 63 characters");
    if (node_index(su, name) >= 0) return cl_cfg_error(c, cl_cfg_get(m, "name"), "duplicate node name '%s'", name);
    snprintf(nd->name, sizeof nd->name, "%s", name);
    su->n_nodes = i + 1;
    int tier = 0;
    CL_TRY(cl_cfg_get_enum(c, m, "tier", 1, g_tiers, &tier));
    snprintf(nd->tier, sizeof nd->tier, "%s", g_tiers[tier]);
    nd->speed = 1.0;
    const cl_cfg_node *sp = cl_cfg_get(m, "speed");
    if (sp && cl_cfg_kind_of(sp) == CL_CFG_MAP) {
      double gf = 0;
      CL_TRY(cl_cfg_get_double(c, sp, "gflops", 1, 1e-6, 1e9, &gf));
      if (*host_gflops <= 0) *host_gflops = cl_rt_host_gflops();
      nd->speed = *host_gflops / gf;
    } else if (sp) {
      CL_TRY(cl_cfg_get_double(c, m, "speed", 1, 1e-6, 1e6, &nd->speed));
    }
    long threads = 1;
    CL_TRY(cl_cfg_get_int(c, m, "threads", 0, 1, 256, &threads));
    nd->threads = (int)threads;
    double mem = 0;
    CL_TRY(cl_cfg_get_unit(c, m, "memory", 0, CL_UNIT_BYTES, &mem));
    CL_TRY(cl_cfg_get_unit(c, m, "cpu_load", 0, CL_UNIT_FRACTION, &nd->cpu_load));
    CL_TRY(cl_cfg_get_unit(c, m, "mem_pressure", 0, CL_UNIT_FRACTION, &nd->mem_pressure));
    const cl_cfg_node *pw = cl_cfg_get(m, "power");
    if (pw) CL_TRY(parse_power(c, pw, &nd->power));
  }
  return CL_OK;
}

/* Bandwidth trace CSV: "time_s,Mbit/s" lines, optional header, '#' comments. */
static cl_status load_trace(const char *path, double **t, double **bw, int *n) {
  FILE *f = fopen(path, "r");
  if (!f) {
    cl_log_error("%s: cannot open bandwidth trace: %s", path, strerror(errno));
    return CL_ERR_CONFIG;
  }
  char line[512];
  int cap = 64, ln = 0;
  *n = 0;
  *t = malloc(sizeof(double) * (size_t)cap);
  *bw = malloc(sizeof(double) * (size_t)cap);
  cl_status st = (*t && *bw) ? CL_OK : CL_ERR_NOMEM;
  while (st == CL_OK && fgets(line, sizeof line, f)) {
    ln++;
    char *s = line;
    while (isspace((unsigned char)*s)) s++;
    if (!*s || *s == '#') continue;
    double a, b;
    char extra;
    if (sscanf(s, "%lf , %lf %c", &a, &b, &extra) != 2) {
      if (ln == 1 && isalpha((unsigned char)*s)) continue; /* header */
      cl_log_error("%s:%d: expected 'time_s,Mbit/s', got '%.60s'", path, ln, s);
      st = CL_ERR_CONFIG;
      break;
    }
    if (a < 0 || b < 0 || (*n && a <= (*t)[*n - 1])) {
      cl_log_error("%s:%d: times must increase and values be >= 0", path, ln);
      st = CL_ERR_CONFIG;
      break;
    }
    if (*n == cap) {
      cap *= 2;
      double *nt = realloc(*t, sizeof(double) * (size_t)cap), *nb = realloc(*bw, sizeof(double) * (size_t)cap);
      if (nt) *t = nt;
      if (nb) *bw = nb;
      if (!nt || !nb) {
        st = CL_ERR_NOMEM;
        break;
      }
    }
    (*t)[*n] = a;
    (*bw)[*n] = b * 125000.0;
    (*n)++;
  }
  fclose(f);
  if (st == CL_OK && *n == 0) {
    cl_log_error("%s: bandwidth trace has no data lines", path);
    st = CL_ERR_CONFIG;
  }
  return st;
}

typedef struct medium_name {
  char name[64];
  int id;
} medium_name;

static cl_status parse_links(const cl_cfg *c, const cl_cfg_node *seq, cl_rt_setup *su, const char *cfg_dir) {
  CL_TRY(cl_cfg_expect(c, seq, CL_CFG_SEQ));
  medium_name media[64];
  int n_media = 0;
  for (int i = 0; i < cl_cfg_len(seq); i++) {
    const cl_cfg_node *m = cl_cfg_at(seq, i);
    CL_TRY(cl_cfg_expect(c, m, CL_CFG_MAP));
    const char *from = NULL, *to = NULL, *shared = NULL, *trace = NULL;
    CL_TRY(cl_cfg_get_str(c, m, "from", 1, &from));
    CL_TRY(cl_cfg_get_str(c, m, "to", 1, &to));
    int a = node_index(su, from), b = node_index(su, to);
    if (a < 0) return cl_cfg_error(c, cl_cfg_get(m, "from"), "unknown node '%s'", from);
    if (b < 0) return cl_cfg_error(c, cl_cfg_get(m, "to"), "unknown node '%s'", to);
    if (a == b) return cl_cfg_error(c, cl_cfg_get(m, "to"), "a link needs two different nodes");
    cl_link_desc d;
    memset(&d, 0, sizeof d);
    d.medium = -1;
    CL_TRY(cl_cfg_get_unit(c, m, "latency", 1, CL_UNIT_SECONDS, &d.latency));
    CL_TRY(cl_cfg_get_unit(c, m, "bandwidth", 1, CL_UNIT_BANDWIDTH, &d.bandwidth));
    if (!(d.bandwidth > 0)) return cl_cfg_error(c, cl_cfg_get(m, "bandwidth"), "bandwidth must be > 0");
    int both = 1, reorder = 0;
    CL_TRY(cl_cfg_get_bool(c, m, "both_ways", 0, &both));
    CL_TRY(cl_cfg_get_bool(c, m, "reorder", 0, &reorder));
    d.reorder = reorder;
    CL_TRY(cl_cfg_get_str(c, m, "shared", 0, &shared));
    if (shared) {
      int id = -1;
      for (int k = 0; k < n_media; k++)
        if (!strcmp(media[k].name, shared)) id = media[k].id;
      if (id < 0) {
        if (n_media == 64) return cl_cfg_error(c, cl_cfg_get(m, "shared"), "more than 64 media");
        CL_TRY(cl_netmodel_add_medium(su->net, shared, 0.0, &id));
        snprintf(media[n_media].name, sizeof media[n_media].name, "%s", shared);
        media[n_media++].id = id;
      }
      d.medium = id;
    }
    const cl_cfg_node *j = cl_cfg_get(m, "jitter");
    if (j) {
      CL_TRY(cl_cfg_expect(c, j, CL_CFG_MAP));
      int dist = 0;
      CL_TRY(cl_cfg_get_enum(c, j, "dist", 1, g_jitters, &dist));
      d.jitter.dist = (cl_jitter_dist)dist;
      CL_TRY(cl_cfg_get_unit(c, j, "mean", 0, CL_UNIT_SECONDS, &d.jitter.mean));
      CL_TRY(cl_cfg_get_unit(c, j, "lo", 0, CL_UNIT_SECONDS, &d.jitter.lo));
      CL_TRY(cl_cfg_get_unit(c, j, "hi", 0, CL_UNIT_SECONDS, &d.jitter.hi));
      CL_TRY(cl_cfg_get_unit(c, j, "scale", 0, CL_UNIT_SECONDS, &d.jitter.scale));
      CL_TRY(cl_cfg_get_double(c, j, "shape", 0, 0, 1e9, &d.jitter.shape));
      if (d.jitter.dist == CL_JITTER_LOGNORMAL) CL_TRY(cl_cfg_get_double(c, j, "sigma", 0, 0, 100, &d.jitter.sigma));
      else CL_TRY(cl_cfg_get_unit(c, j, "sigma", 0, CL_UNIT_SECONDS, &d.jitter.sigma));
    }
    double *tt = NULL, *tb = NULL;
    int tn = 0;
    CL_TRY(cl_cfg_get_str(c, m, "trace", 0, &trace));
    if (trace) {
      char p[1024];
      if (trace[0] == '/' || !cfg_dir) snprintf(p, sizeof p, "%s", trace);
      else snprintf(p, sizeof p, "%s/%s", cfg_dir, trace);
      cl_status ts = load_trace(p, &tt, &tb, &tn);
      if (ts != CL_OK) {
        free(tt);
        free(tb);
        return cl_cfg_error(c, cl_cfg_get(m, "trace"), "bad bandwidth trace '%s'", p);
      }
      d.trace_t = tt;
      d.trace_bw = tb;
      d.trace_n = tn;
    }
    char name[160];
    for (int dir = 0; dir < (both ? 2 : 1); dir++) {
      d.src = dir ? b : a;
      d.dst = dir ? a : b;
      snprintf(name, sizeof name, "%s->%s", su->nodes[d.src].name, su->nodes[d.dst].name);
      d.name = name;
      int id;
      int exists = cl_netmodel_find_link(su->net, d.src, d.dst, &id) == CL_OK;
      cl_status ls = exists ? cl_cfg_error(c, m, "link %s is defined twice", name) : cl_netmodel_add_link(su->net, &d, &id);
      if (ls != CL_OK) {
        free(tt);
        free(tb);
        return ls == CL_ERR_CONFIG ? ls : cl_cfg_error(c, m, "invalid link %s", name);
      }
    }
    free(tt);
    free(tb);
  }
  return CL_OK;
}

/* Resolve one plan item (a layer spec) into node assignments; rest handled by caller. */
static cl_status assign_item(const cl_cfg *c, const cl_cfg_node *at, const cl_graph *g, const char *item, int node,
                             int *owner, int *rest_node) {
  int n = cl_graph_size(g);
  char buf[256];
  snprintf(buf, sizeof buf, "%s", item);
  char *s = buf;
  while (isspace((unsigned char)*s)) s++;
  char *e = s + strlen(s);
  while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
  if (!*s) return cl_cfg_error(c, at, "empty layer spec");
  if (!strcmp(s, "rest") || !strcmp(s, "*")) {
    if (*rest_node >= 0) return cl_cfg_error(c, at, "'rest' is given twice");
    *rest_node = node;
    return CL_OK;
  }
  int lo = -1, hi = -1;
  char *dots = strstr(s, "..");
  int a, b;
  char tail;
  if (sscanf(s, "%d-%d%c", &a, &b, &tail) == 2) {
    lo = a;
    hi = b;
  } else if (dots) {
    *dots = '\0';
    lo = cl_graph_find(g, s);
    hi = cl_graph_find(g, dots + 2);
    if (lo < 0) return cl_cfg_error(c, at, "unknown layer '%s' in model %s", s, cl_graph_name(g));
    if (hi < 0) return cl_cfg_error(c, at, "unknown layer '%s' in model %s", dots + 2, cl_graph_name(g));
  } else if (sscanf(s, "%d%c", &a, &tail) == 1) {
    lo = hi = a;
  } else {
    lo = hi = cl_graph_find(g, s);
    if (lo < 0) return cl_cfg_error(c, at, "unknown layer '%s' in model %s (see `cleave profile` or the zoo for names)", s,
                                    cl_graph_name(g));
  }
  if (lo < 0 || hi >= n || lo > hi) return cl_cfg_error(c, at, "layer range '%s' is not within 0-%d", item, n - 1);
  for (int i = lo; i <= hi; i++) {
    if (owner[i] >= 0 && owner[i] != node)
      return cl_cfg_error(c, at, "layer '%s' (%d) is assigned twice", cl_graph_node(g, i)->name, i);
    owner[i] = node;
  }
  return CL_OK;
}

static cl_status parse_plan(const cl_cfg *c, const cl_cfg_node *plan, const cl_graph *g, cl_rt_setup *su) {
  int n = cl_graph_size(g);
  int *owner = su->node_of_layer;
  for (int i = 0; i < n; i++) owner[i] = -1;
  int rest = -1;
  if (cl_cfg_kind_of(plan) == CL_CFG_MAP) {
    const cl_cfg_node *cuts = cl_cfg_get(plan, "cuts");
    if (!cuts) return cl_cfg_error(c, plan, "expected a list of {node, layers} or {cuts: [...]}");
    CL_TRY(cl_cfg_expect(c, cuts, CL_CFG_SEQ));
    int nc = cl_cfg_len(cuts);
    if (nc > su->n_nodes - 1) return cl_cfg_error(c, cuts, "%d cuts need %d nodes, the testbed has %d", nc, nc + 1, su->n_nodes);
    int prev = -1;
    for (int k = 0; k <= nc; k++) {
      int upto = n - 1;
      if (k < nc) {
        const char *name = cl_cfg_scalar(cl_cfg_at(cuts, k));
        upto = name ? cl_graph_find(g, name) : -1;
        if (upto < 0) return cl_cfg_error(c, cl_cfg_at(cuts, k), "unknown layer '%s'", name ? name : "?");
        if (upto <= prev) return cl_cfg_error(c, cl_cfg_at(cuts, k), "cuts must be in increasing layer order");
      }
      for (int i = prev + 1; i <= upto; i++) owner[i] = k;
      prev = upto;
    }
    return CL_OK;
  }
  CL_TRY(cl_cfg_expect(c, plan, CL_CFG_SEQ));
  for (int k = 0; k < cl_cfg_len(plan); k++) {
    const cl_cfg_node *m = cl_cfg_at(plan, k);
    CL_TRY(cl_cfg_expect(c, m, CL_CFG_MAP));
    const char *node = NULL;
    CL_TRY(cl_cfg_get_str(c, m, "node", 1, &node));
    int nd = node_index(su, node);
    if (nd < 0) return cl_cfg_error(c, cl_cfg_get(m, "node"), "unknown node '%s'", node);
    const cl_cfg_node *layers = cl_cfg_get(m, "layers");
    if (!layers) return cl_cfg_error(c, m, "missing 'layers'");
    if (cl_cfg_kind_of(layers) == CL_CFG_SEQ) {
      for (int q = 0; q < cl_cfg_len(layers); q++) {
        const char *it = cl_cfg_scalar(cl_cfg_at(layers, q));
        if (!it) return cl_cfg_error(c, cl_cfg_at(layers, q), "expected a layer name or range");
        CL_TRY(assign_item(c, cl_cfg_at(layers, q), g, it, nd, owner, &rest));
      }
    } else {
      const char *txt = cl_cfg_scalar(layers);
      if (!txt) return cl_cfg_error(c, layers, "expected a layer spec or a list of them");
      char buf[4096];
      snprintf(buf, sizeof buf, "%s", txt);
      for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) CL_TRY(assign_item(c, layers, g, tok, nd, owner, &rest));
    }
  }
  for (int i = 0; i < n; i++)
    if (owner[i] < 0) {
      if (rest >= 0) owner[i] = rest;
      else if (i == 0) owner[i] = 0; /* the input lives on the first node by default */
      else return cl_cfg_error(c, plan, "layer '%s' (%d) is not assigned to any node (add it, or a 'rest' item)",
                               cl_graph_node(g, i)->name, i);
    }
  return CL_OK;
}

static cl_status parse_conditions(const cl_cfg *c, const cl_cfg_node *seq, cl_rt_setup *su) {
  CL_TRY(cl_cfg_expect(c, seq, CL_CFG_SEQ));
  for (int i = 0; i < cl_cfg_len(seq); i++) {
    const cl_cfg_node *m = cl_cfg_at(seq, i);
    CL_TRY(cl_cfg_expect(c, m, CL_CFG_MAP));
    const char *node = NULL, *link = NULL;
    CL_TRY(cl_cfg_get_str(c, m, "node", 0, &node));
    CL_TRY(cl_cfg_get_str(c, m, "link", 0, &link));
    if (!!node == !!link) return cl_cfg_error(c, m, "a condition names exactly one 'node' or one 'link'");
    if (node) {
      int nd = node_index(su, node);
      if (nd < 0) return cl_cfg_error(c, cl_cfg_get(m, "node"), "unknown node '%s'", node);
      if (cl_cfg_get(m, "at"))
        return cl_cfg_error(c, cl_cfg_get(m, "at"), "timed node conditions are not supported; node conditions hold for the whole run");
      CL_TRY(cl_cfg_get_unit(c, m, "cpu_load", 0, CL_UNIT_FRACTION, &su->nodes[nd].cpu_load));
      CL_TRY(cl_cfg_get_unit(c, m, "mem_pressure", 0, CL_UNIT_FRACTION, &su->nodes[nd].mem_pressure));
      continue;
    }
    char a[64], b[64];
    const char *arrow = strstr(link, "->");
    if (!arrow || arrow == link || (size_t)(arrow - link) >= sizeof a || strlen(arrow + 2) >= sizeof b)
      return cl_cfg_error(c, cl_cfg_get(m, "link"), "expected 'FROM->TO', got '%s'", link);
    memcpy(a, link, (size_t)(arrow - link));
    a[arrow - link] = '\0';
    snprintf(b, sizeof b, "%s", arrow + 2);
    int s = node_index(su, a), d = node_index(su, b), id = -1;
    if (s < 0 || d < 0 || cl_netmodel_find_link(su->net, s, d, &id) != CL_OK)
      return cl_cfg_error(c, cl_cfg_get(m, "link"), "no link '%s' in the testbed", link);
    cl_link_change ch = {id, 0.0, -1.0, -1.0};
    CL_TRY(cl_cfg_get_unit(c, m, "at", 0, CL_UNIT_SECONDS, &ch.at));
    CL_TRY(cl_cfg_get_unit(c, m, "bandwidth", 0, CL_UNIT_BANDWIDTH, &ch.bandwidth));
    CL_TRY(cl_cfg_get_unit(c, m, "latency", 0, CL_UNIT_SECONDS, &ch.latency));
    if (cl_netmodel_add_changes(su->net, &ch, 1) != CL_OK) return cl_cfg_error(c, m, "invalid link change");
  }
  return CL_OK;
}

cl_status cl_rt_setup_load(const char *path, const char *text, cl_rt_setup *su) {
  memset(su, 0, sizeof *su);
  cl_cfg *c = NULL;
  cl_status st = text ? cl_cfg_parse_string(path, text, &c) : cl_cfg_parse_file(path, &c);
  if (st != CL_OK) return st;
  cl_graph *g = NULL;
  const cl_cfg_node *root = cl_cfg_root(c);
  double host_gflops = 0;
  char dir[1024] = ".";
  const char *slash = strrchr(path, '/');
  if (slash && (size_t)(slash - path) < sizeof dir) {
    memcpy(dir, path, (size_t)(slash - path));
    dir[slash - path] = '\0';
  }
  const char *model = NULL;
  if ((st = cl_cfg_get_str(c, root, "model", 1, &model)) != CL_OK) goto done;
  if (!cl_zoo_find(model)) {
    st = cl_cfg_error(c, cl_cfg_get(root, "model"), "unknown model '%s' (see `cleave models`)", model);
    goto done;
  }
  snprintf(su->model, sizeof su->model, "%s", model);
  su->seed = 1;
  if ((st = cl_cfg_get_u64(c, root, "seed", 0, &su->seed)) != CL_OK) goto done;
  int clock = 0;
  if ((st = cl_cfg_get_enum(c, root, "clock", 0, g_clocks, &clock)) != CL_OK) goto done;
  su->wall = clock == 1;
  if ((st = cl_netmodel_create(su->seed, &su->net)) != CL_OK) goto done;
  const cl_cfg_node *nodes = cl_cfg_get(root, "nodes");
  if (!nodes) {
    st = cl_cfg_error(c, root, "missing required key 'nodes'");
    goto done;
  }
  if ((st = parse_nodes(c, nodes, su, &host_gflops)) != CL_OK) goto done;
  const cl_cfg_node *links = cl_cfg_get(root, "links");
  if (links && (st = parse_links(c, links, su, dir)) != CL_OK) goto done;
  const cl_cfg_node *cond = cl_cfg_get(root, "conditions");
  if (cond && (st = parse_conditions(c, cond, su)) != CL_OK) goto done;
  for (int i = 0; i < su->n_nodes; i++)
    su->nodes[i].slowdown = cl_rt_effective_slowdown(su->nodes[i].speed, su->nodes[i].cpu_load, su->nodes[i].mem_pressure);
  su->inferences = 1;
  su->arrival.kind = CL_ARRIVAL_BACK_TO_BACK;
  su->arrival.seed = su->seed;
  const cl_cfg_node *wl = cl_cfg_get(root, "workload");
  if (wl) {
    if ((st = cl_cfg_expect(c, wl, CL_CFG_MAP)) != CL_OK) goto done;
    long inf = 1;
    int arr = 0;
    if ((st = cl_cfg_get_int(c, wl, "inferences", 0, 1, 10000000, &inf)) != CL_OK) goto done;
    if ((st = cl_cfg_get_enum(c, wl, "arrival", 0, g_arrivals, &arr)) != CL_OK) goto done;
    if ((st = cl_cfg_get_double(c, wl, "rate", arr != 0, 1e-9, 1e9, &su->arrival.rate)) != CL_OK) goto done;
    if ((st = cl_cfg_get_u64(c, wl, "seed", 0, &su->arrival.seed)) != CL_OK) goto done;
    su->inferences = (int)inf;
    su->arrival.kind = arr == 0 ? CL_ARRIVAL_BACK_TO_BACK : arr == 1 ? CL_ARRIVAL_FIXED_RATE : CL_ARRIVAL_POISSON;
  }
  if ((st = cl_zoo_build(model, &g)) != CL_OK) goto done;
  su->node_of_layer = malloc(sizeof(int) * (size_t)cl_graph_size(g));
  if (!su->node_of_layer) {
    st = CL_ERR_NOMEM;
    goto done;
  }
  const cl_cfg_node *plan = cl_cfg_get(root, "plan");
  if (!plan) {
    st = cl_cfg_error(c, root, "missing required key 'plan' (which layers run on which node)");
    goto done;
  }
  if ((st = parse_plan(c, plan, g, su)) != CL_OK) goto done;
  if ((st = cl_cfg_check_unused(c)) != CL_OK) goto done;
  su->config_path = malloc(strlen(path) + 1);
  if (su->config_path) memcpy(su->config_path, path, strlen(path) + 1);
  su->config_text = cl_rt_setup_to_yaml(su, g);
  if (!su->config_path || !su->config_text) st = CL_ERR_NOMEM;
done:
  cl_graph_destroy(g);
  cl_cfg_free(c);
  if (st != CL_OK) cl_rt_setup_free(su);
  return st;
}

/* Growable string for the YAML emitter. */
typedef struct sbuf {
  char *s;
  size_t n, cap;
  int oom;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...) {
  if (b->oom) return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
    va_end(ap);
    if (need < 0) {
      b->oom = 1;
      return;
    }
    if (b->s && b->n + (size_t)need < b->cap) {
      b->n += (size_t)need;
      return;
    }
    size_t cap = (b->cap ? b->cap * 2 : 4096) + (size_t)need;
    char *ns = realloc(b->s, cap);
    if (!ns) {
      b->oom = 1;
      return;
    }
    b->s = ns;
    b->cap = cap;
  }
}

char *cl_rt_setup_to_yaml(const cl_rt_setup *su, const cl_graph *g) {
  sbuf b = {NULL, 0, 0, 0};
  sb_printf(&b, "# resolved by cleave: every default filled in, plan as explicit layer index ranges\n");
  sb_printf(&b, "model: %s\nseed: %llu\nclock: %s\nnodes:\n", su->model, (unsigned long long)su->seed,
            su->wall ? "wall" : "virtual");
  for (int i = 0; i < su->n_nodes; i++) {
    const cl_rt_node *n = &su->nodes[i];
    sb_printf(&b,
              "  - name: %s\n    tier: %s\n    speed: %.17g  # effective slowdown %.17g\n    threads: %d\n"
              "    cpu_load: %.17g\n    mem_pressure: %.17g\n"
              "    power: {idle: %.17gW, busy: %.17gW, tx: %.17gW, rx: %.17gW, tx_per_byte: %.17gJ/B, rx_per_byte: %.17gJ/B}\n",
              n->name, n->tier, n->speed, n->slowdown, n->threads, n->cpu_load, n->mem_pressure, n->power.idle,
              n->power.busy, n->power.tx, n->power.rx, n->power.tx_per_byte, n->power.rx_per_byte);
  }
  sb_printf(&b, "links:\n");
  for (int l = 0; l < cl_netmodel_links(su->net); l++) {
    int s = 0, d = 0;
    cl_netmodel_link_ends(su->net, l, &s, &d);
    sb_printf(&b, "  - {from: %s, to: %s, both_ways: false, latency: %.17gs, bandwidth: %.17gB/s}\n", su->nodes[s].name,
              su->nodes[d].name, cl_netmodel_latency_at(su->net, l, 0.0), cl_netmodel_bandwidth_at(su->net, l, 0.0));
  }
  sb_printf(&b, "workload: {inferences: %d, arrival: %s", su->inferences,
            su->arrival.kind == CL_ARRIVAL_FIXED_RATE ? "fixed_rate"
            : su->arrival.kind == CL_ARRIVAL_POISSON  ? "poisson"
                                                      : "back_to_back");
  if (su->arrival.kind == CL_ARRIVAL_FIXED_RATE || su->arrival.kind == CL_ARRIVAL_POISSON)
    sb_printf(&b, ", rate: %.17g", su->arrival.rate);
  sb_printf(&b, ", seed: %llu}\nplan:\n", (unsigned long long)su->arrival.seed);
  int n = g ? cl_graph_size(g) : 0;
  for (int nd = 0; nd < su->n_nodes; nd++) {
    int any = 0;
    for (int i = 0; i < n;) {
      if (su->node_of_layer[i] != nd) {
        i++;
        continue;
      }
      int j = i;
      while (j + 1 < n && su->node_of_layer[j + 1] == nd) j++;
      if (!any) sb_printf(&b, "  - {node: %s, layers: \"", su->nodes[nd].name);
      sb_printf(&b, "%s%d-%d", any ? ", " : "", i, j);
      any = 1;
      i = j + 1;
    }
    if (any) sb_printf(&b, "\"}\n");
  }
  if (b.oom) {
    free(b.s);
    return NULL;
  }
  return b.s;
}
