/* Testbed config schema: YAML tree -> cl_testbed, with file:line:col on every error.
 * Plan resolution lives in testbed_plan.c, YAML output in testbed_emit.c. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/exec.h"
#include "cleave/config.h"
#include "cleave/device.h"
#include "cleave/onnx.h"
#include "cleave/testbed.h"
#include "testbed_internal.h"
#include "cleave/device.h"

static const char *const k_tiers[] = {"device", "edge", "cloud", NULL};
static const char *const k_clocks[] = {"virtual", "wall", "model", NULL};
static const char *const k_backends[] = {"auto", "portable", "dnnl", NULL}; /* = cl_backend order */
static const char *const k_arrivals[] = {"back_to_back", "fixed_rate", "poisson", NULL};
static const cl_arrival_kind k_arrival_kind[] = {CL_ARRIVAL_BACK_TO_BACK, CL_ARRIVAL_FIXED_RATE, CL_ARRIVAL_POISSON};
static const char *const k_elements[] = {"access_point", "switch", "router", "wan", NULL}; /* = cl_tb_element_kind */
static const char *const k_sharing[] = {"fifo", "maxmin", NULL};                         /* = cl_sharing */
static const char *const k_jitters[] = {"none", "normal", "uniform", "exponential", "lognormal", "pareto", NULL};
static const cl_jitter_dist k_jitter_dist[] = {CL_JITTER_NONE,        CL_JITTER_NORMAL,    CL_JITTER_UNIFORM,
                                               CL_JITTER_EXPONENTIAL, CL_JITTER_LOGNORMAL, CL_JITTER_PARETO};

enum { MAX_TRACE_POINTS = 10000000, MAX_NODES = 4096, MAX_ELEMENTS = 1000000, MAX_VIA = 1024 };

const char *cl_tb_tier_name(cl_tb_tier t) { return (unsigned)t < CL_TB_TIER_COUNT ? k_tiers[t] : "?"; }
const char *cl_tb_element_kind_name(cl_tb_element_kind k) {
  return (unsigned)k < CL_TB_ELEMENT_COUNT ? k_elements[k] : "?";
}

char *cl__tb_strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

static cl_status oom(void) {
  cl_log_error("out of memory while loading the testbed config");
  return CL_ERR_NOMEM;
}

/* Name -> vertex index: open addressing (linear probing) over vertex indices, kept at
 * most half full. At 10,000 vertices a linear scan per link end cost ~15% of `cleave
 * sim` (bench/bench_net); a lookup is now O(1). */
typedef struct tb_names {
  size_t cap; /* power of two */
  size_t n;
  int *slot;  /* vertex index, -1 empty */
} tb_names;

static size_t name_hash(const char *s) {
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return (size_t)h;
}

/* Index of @p name among vertices [0, limit), or -1. */
static int names_find(const cl_testbed *tb, const char *name, int limit) {
  const tb_names *t = tb->names_;
  if (!t) {
    for (int i = 0; i < limit; i++)
      if (!strcmp(tb->nodes[i].name, name)) return i;
    return -1;
  }
  for (size_t k = name_hash(name) & (t->cap - 1);; k = (k + 1) & (t->cap - 1)) {
    int v = t->slot[k];
    if (v < 0) return -1;
    if (!strcmp(tb->nodes[v].name, name)) return v < limit ? v : -1;
  }
}

/* Index vertex @p v (its name set and unique). */
static cl_status names_add(cl_testbed *tb, int v) {
  tb_names *t = tb->names_;
  if (!t) {
    if (!(t = tb->names_ = calloc(1, sizeof *t))) return oom();
  }
  if (2 * (t->n + 1) > t->cap) { /* grow and rehash */
    size_t cap = t->cap ? 2 * t->cap : 64;
    int *slot = malloc(sizeof *slot * cap);
    if (!slot) return oom();
    for (size_t k = 0; k < cap; k++) slot[k] = -1;
    for (size_t j = 0; j < t->cap; j++) {
      int u = t->slot[j];
      if (u < 0) continue;
      size_t k = name_hash(tb->nodes[u].name) & (cap - 1);
      while (slot[k] >= 0) k = (k + 1) & (cap - 1);
      slot[k] = u;
    }
    free(t->slot);
    t->slot = slot;
    t->cap = cap;
  }
  size_t k = name_hash(tb->nodes[v].name) & (t->cap - 1);
  while (t->slot[k] >= 0) k = (k + 1) & (t->cap - 1);
  t->slot[k] = v;
  t->n++;
  return CL_OK;
}

int cl_testbed_find_node(const cl_testbed *tb, const char *name) { return names_find(tb, name, tb->n_nodes); }

int cl_testbed_find_vertex(const cl_testbed *tb, const char *name) {
  return names_find(tb, name, tb->n_nodes + tb->n_elements);
}

int cl_testbed_find_link(const cl_testbed *tb, int from, int to, int *reverse) {
  if (reverse) *reverse = 0;
  for (int i = 0; i < tb->n_links; i++)
    if (tb->links[i].from == from && tb->links[i].to == to) return i;
  for (int i = 0; i < tb->n_links; i++)
    if (tb->links[i].both_ways && tb->links[i].from == to && tb->links[i].to == from) {
      if (reverse) *reverse = 1;
      return i;
    }
  return -1;
}

/* "a, b, c" list of node names for messages. */
static void node_list(const cl_testbed *tb, char *buf, size_t cap) {
  size_t o = 0;
  buf[0] = '\0';
  for (int i = 0; i < tb->n_nodes + tb->n_elements && o < cap; i++)
    o += (size_t)snprintf(buf + o, cap - o, "%s%s", i ? ", " : "", tb->nodes[i].name);
}

/* Node (or, with vertex = 1, node or network element) named by the string value of map[key]. */
static cl_status get_ref(const cl_testbed *tb, cl_config_node *map, const char *key, int vertex, int *out) {
  const char *name;
  CL_TRY(cl_config_get_str(map, key, &name));
  int i = vertex ? cl_testbed_find_vertex(tb, name) : cl_testbed_find_node(tb, name);
  if (i < 0 && cl_testbed_find_vertex(tb, name) >= 0)
    return cl_config_error(cl_config_find(map, key), "'%s' is a network element (it computes nothing)", name);
  if (i < 0) {
    char list[512];
    node_list(tb, list, sizeof list);
    return cl_config_error(cl_config_find(map, key), "unknown node '%s' (nodes: %s)", name, list);
  }
  *out = i;
  return CL_OK;
}

static cl_status get_node_ref(const cl_testbed *tb, cl_config_node *map, const char *key, int *out) {
  return get_ref(tb, map, key, 0, out);
}

/* Resolve @p rel against base directory @p base ("" = as is). */
char *cl__tb_resolve_path(const char *base, const char *rel) {
  if (rel[0] == '/' || !base[0]) return cl__tb_strdup(rel);
  size_t lb = strlen(base), lr = strlen(rel);
  char *p = malloc(lb + lr + 2);
  if (!p) return NULL;
  memcpy(p, base, lb);
  p[lb] = '/';
  memcpy(p + lb + 1, rel, lr + 1);
  return p;
}

/* ---- nodes --------------------------------------------------------------------------- */

static cl_status check_name(cl_config_node *n, const char *name, const char *what) {
  if (!name[0]) return cl_config_error(n, "%s name must not be empty", what);
  for (const char *p = name; *p; p++)
    if (*p == ' ' || *p == '\t' || *p == ',' || (p[0] == '-' && p[1] == '>') || (unsigned char)*p < 32)
      return cl_config_error(n, "%s name '%s' must not contain spaces, ',' or '->'", what, name);
  if (strlen(name) > 63) return cl_config_error(n, "%s name '%s' is longer than 63 characters", what, name);
  return CL_OK;
}

static cl_status parse_power(cl_config_node *pm, cl_node_power *p) {
  CL_TRY(cl_config_expect(pm, CL_CONFIG_MAP));
  CL_TRY(cl_config_opt_unit(pm, "idle", CL_CONFIG_POWER, 0, &p->idle));
  CL_TRY(cl_config_opt_unit(pm, "busy", CL_CONFIG_POWER, 0, &p->busy));
  CL_TRY(cl_config_opt_unit(pm, "tx", CL_CONFIG_POWER, 0, &p->tx));
  CL_TRY(cl_config_opt_unit(pm, "rx", CL_CONFIG_POWER, 0, &p->rx));
  CL_TRY(cl_config_opt_unit(pm, "tx_per_byte", CL_CONFIG_ENERGY_PER_BYTE, 0, &p->tx_per_byte));
  CL_TRY(cl_config_opt_unit(pm, "rx_per_byte", CL_CONFIG_ENERGY_PER_BYTE, 0, &p->rx_per_byte));
  if (p->busy < p->idle)
    return cl_config_error(cl_config_find(pm, "busy"), "busy power (%gW) is below idle power (%gW)", p->busy,
                           p->idle);
  if (cl_config_find(pm, "tx") && cl_config_find(pm, "tx_per_byte"))
    return cl_config_error(cl_config_find(pm, "tx_per_byte"),
                           "give either tx (W while sending) or tx_per_byte (J/B), not both");
  if (cl_config_find(pm, "rx") && cl_config_find(pm, "rx_per_byte"))
    return cl_config_error(cl_config_find(pm, "rx_per_byte"),
                           "give either rx (W while receiving) or rx_per_byte (J/B), not both");
  return CL_OK;
}

static cl_status parse_node(cl_testbed *tb, cl_config_node *m, cl_tb_node *nd) {
  CL_TRY(cl_config_expect(m, CL_CONFIG_MAP));
  nd->line = cl_config_line(m);
  const char *name;
  CL_TRY(cl_config_get_str(m, "name", &name));
  CL_TRY(check_name(cl_config_find(m, "name"), name, "node"));
  int dup = cl_testbed_find_node(tb, name);
  if (dup >= 0)
    return cl_config_error(cl_config_find(m, "name"), "duplicate node name '%s' (first defined at line %d)", name,
                           tb->nodes[dup].line);
  if (!(nd->name = cl__tb_strdup(name))) return oom();
  int tier;
  CL_TRY(cl_config_get_enum(m, "tier", k_tiers, &tier));
  nd->tier = (cl_tb_tier)tier;
  const char *dev; /* device model (docs/devices.md); speed: then overrides it, recorded as such */
  CL_TRY(cl_config_opt_str(m, "device", "", &dev));
  cl_config_node *sp = cl_config_find(m, "speed");
  if (*dev && !(nd->device = cl__tb_strdup(dev))) return oom();
  nd->speed_given = sp && !cl_config_is_null(sp);
  int64_t dvfs; /* DVFS state of the device model; checked against its states at setup */
  CL_TRY(cl_config_opt_int(m, "dvfs", 0, CL_DEV_MAX_DVFS - 1, -1, &dvfs));
  if (dvfs >= 0 && !*dev)
    return cl_config_error(cl_config_find(m, "dvfs"), "dvfs selects a state of the node's device model: set device:");
  nd->dvfs_set = dvfs >= 0;
  nd->dvfs = dvfs >= 0 ? (int)dvfs : 0;
  nd->speed = 1;
  if (sp && cl_config_kind_of(sp) == CL_CONFIG_MAP) {
    nd->speed = 0;
    CL_TRY(cl_config_get_double(sp, "gflops", 1e-9, 1e12, &nd->gflops));
  } else if (sp && !cl_config_is_null(sp)) {
    if (cl_config_kind_of(sp) != CL_CONFIG_SCALAR)
      return cl_config_error(sp, "expected a slowdown factor (e.g. 8) or {gflops: X}, got %s",
                             cl_config_kind_name(cl_config_kind_of(sp)));
    CL_TRY(cl_config_as_double(sp, 0, 1e9, &nd->speed));
    /* A slowdown below 1e-6 (a node a million times faster than this host) describes no
     * real machine; 1e-300 made every step free and its timings denormal noise. */
    if (!(nd->speed >= 1e-6))
      return cl_config_error(sp, "speed (a slowdown factor) must be at least 1e-6 (a node a million times faster "
                                 "than this host); got %g",
                             nd->speed);
  }
  int64_t threads;
  CL_TRY(cl_config_opt_int(m, "threads", 1, 1024, 1, &threads));
  nd->threads = (int)threads;
  double mem;
  CL_TRY(cl_config_opt_unit(m, "memory", CL_CONFIG_SIZE, 0, &mem));
  if (mem > 0 && mem < 1) return cl_config_error(cl_config_find(m, "memory"), "memory cap below one byte");
  if (mem >= 1.8e19) return cl_config_error(cl_config_find(m, "memory"), "memory cap too large");
  nd->memory = (uint64_t)mem;
  cl_config_node *pw = cl_config_find(m, "power");
  if (pw && !cl_config_is_null(pw)) {
    CL_TRY(parse_power(pw, &nd->power));
    nd->has_power = 1;
  }
  CL_TRY(cl_config_opt_unit(m, "cpu_load", CL_CONFIG_FRACTION, 0, &nd->cpu_load));
  CL_TRY(cl_config_opt_unit(m, "mem_pressure", CL_CONFIG_FRACTION, 0, &nd->mem_pressure));
  if (nd->mem_pressure > 0 && nd->memory == 0)
    return cl_config_error(cl_config_find(m, "mem_pressure"),
                           "mem_pressure is a fraction of the memory cap: set memory (e.g. memory: 2GiB)");
  return CL_OK;
}

/* `network:` [{name, kind}]: network elements, appended to tb->nodes after the compute nodes. */
static cl_status parse_network(cl_testbed *tb, cl_config_node *root) {
  int sh;
  CL_TRY(cl_config_opt_enum(root, "sharing", k_sharing, 0, &sh));
  tb->sharing = (cl_sharing)sh;
  cl_config_node *seq = cl_config_find(root, "network");
  if (!seq || cl_config_is_null(seq)) return CL_OK;
  CL_TRY(cl_config_expect(seq, CL_CONFIG_SEQ));
  int n = cl_config_len(seq);
  if (n > MAX_ELEMENTS) return cl_config_error(seq, "more than %d network elements", MAX_ELEMENTS);
  if (n == 0) return CL_OK;
  cl_tb_node *nn = realloc(tb->nodes, sizeof *nn * (size_t)(tb->n_nodes + n));
  if (!nn) return oom();
  tb->nodes = nn;
  memset(nn + tb->n_nodes, 0, sizeof *nn * (size_t)n);
  for (int i = 0; i < n; i++) {
    cl_config_node *m = cl_config_at(seq, i);
    CL_TRY(cl_config_expect(m, CL_CONFIG_MAP));
    cl_tb_node *e = &tb->nodes[tb->n_nodes + i];
    e->line = cl_config_line(m);
    e->is_element = 1;
    const char *name;
    CL_TRY(cl_config_get_str(m, "name", &name));
    CL_TRY(check_name(cl_config_find(m, "name"), name, "network element"));
    int dup = cl_testbed_find_vertex(tb, name);
    if (dup >= 0)
      return cl_config_error(cl_config_find(m, "name"), "duplicate name '%s' (first defined at line %d)", name,
                             tb->nodes[dup].line);
    if (!(e->name = cl__tb_strdup(name))) return oom();
    tb->n_elements = i + 1; /* so cl_testbed_free releases it */
    CL_TRY(names_add(tb, tb->n_nodes + i));
    int kind;
    CL_TRY(cl_config_get_enum(m, "kind", k_elements, &kind));
    e->kind = (cl_tb_element_kind)kind;
  }
  return CL_OK;
}

/* `routes:` [{from, to, via: [names]}]: explicit paths (hops must be links). */
static cl_status parse_routes(cl_testbed *tb, cl_config_node *root) {
  cl_config_node *seq = cl_config_find(root, "routes");
  if (!seq || cl_config_is_null(seq)) return CL_OK;
  CL_TRY(cl_config_expect(seq, CL_CONFIG_SEQ));
  int n = cl_config_len(seq);
  if (n == 0) return CL_OK;
  if (!(tb->routes = calloc((size_t)n, sizeof *tb->routes))) return oom();
  for (int i = 0; i < n; i++) {
    cl_config_node *m = cl_config_at(seq, i);
    CL_TRY(cl_config_expect(m, CL_CONFIG_MAP));
    cl_tb_route *r = &tb->routes[i];
    tb->n_routes = i + 1;
    r->line = cl_config_line(m);
    CL_TRY(get_ref(tb, m, "from", 1, &r->from));
    CL_TRY(get_ref(tb, m, "to", 1, &r->to));
    if (r->from == r->to) return cl_config_error(cl_config_find(m, "to"), "a route joins two different vertices");
    for (int j = 0; j < i; j++)
      if (tb->routes[j].from == r->from && tb->routes[j].to == r->to)
        return cl_config_error(m, "duplicate route %s->%s (also at line %d)", tb->nodes[r->from].name,
                               tb->nodes[r->to].name, tb->routes[j].line);
    cl_config_node *via = cl_config_find(m, "via");
    if (!via) return cl_config_error(m, "missing required key 'via' (the vertices between from and to)");
    CL_TRY(cl_config_expect(via, CL_CONFIG_SEQ));
    int nv = cl_config_len(via);
    if (nv > MAX_VIA) return cl_config_error(via, "more than %d hops", MAX_VIA);
    if (!(r->via = calloc((size_t)nv + 1, sizeof *r->via))) return oom();
    r->n_via = nv;
    int prev = r->from;
    for (int k = 0; k <= nv; k++) {
      cl_config_node *vn = k < nv ? cl_config_at(via, k) : cl_config_find(m, "to");
      int v = r->to;
      if (k < nv) {
        const char *name;
        CL_TRY(cl_config_as_str(vn, &name));
        if ((v = cl_testbed_find_vertex(tb, name)) < 0) {
          char list[512];
          node_list(tb, list, sizeof list);
          return cl_config_error(vn, "unknown node or network element '%s' (have: %s)", name, list);
        }
        r->via[k] = v;
      }
      int rev, l = cl_testbed_find_link(tb, prev, v, &rev);
      if (l < 0)
        return cl_config_error(vn, "route hop %s->%s: no link in 'links'", tb->nodes[prev].name, tb->nodes[v].name);
      prev = v;
    }
  }
  return CL_OK;
}

cl_status cl_testbed_add_routes(const cl_testbed *tb, cl_netmodel *net) {
  for (int i = 0; i < tb->n_routes; i++) {
    const cl_tb_route *r = &tb->routes[i];
    int *hops = malloc(sizeof(int) * (size_t)(r->n_via + 1)), id;
    if (!hops) return oom();
    cl_status s = CL_OK;
    for (int k = 0, prev = r->from; k <= r->n_via && s == CL_OK; k++) {
      int v = k < r->n_via ? r->via[k] : r->to;
      s = cl_netmodel_find_link(net, prev, v, &hops[k]);
      if (s == CL_OK && cl_netmodel_route_hops(net, hops[k], NULL, 0) != 1) s = CL_ERR_NOTFOUND;
      if (s != CL_OK)
        cl_log_error("%s:%d: route %s->%s: no link %s->%s in this direction", tb->source, r->line,
                     tb->nodes[r->from].name, tb->nodes[r->to].name, tb->nodes[prev].name, tb->nodes[v].name);
      prev = v;
    }
    if (s == CL_OK && (s = cl_netmodel_add_route(net, hops, r->n_via + 1, &id)) != CL_OK)
      cl_log_error("%s:%d: invalid route %s->%s (see above)", tb->source, r->line, tb->nodes[r->from].name,
                   tb->nodes[r->to].name);
    free(hops);
    if (s != CL_OK) return CL_ERR_CONFIG;
  }
  return CL_OK;
}

static cl_status parse_nodes(cl_testbed *tb, cl_config_node *root) {
  cl_config_node *seq = cl_config_find(root, "nodes");
  if (!seq) return cl_config_error(root, "missing required key 'nodes' (a list of testbed nodes)");
  CL_TRY(cl_config_expect(seq, CL_CONFIG_SEQ));
  int n = cl_config_len(seq);
  if (n < 1) return cl_config_error(seq, "at least one node is needed");
  if (n > MAX_NODES) return cl_config_error(seq, "more than %d nodes", MAX_NODES);
  if (!(tb->nodes = calloc((size_t)n, sizeof *tb->nodes))) return oom();
  for (int i = 0; i < n; i++) {
    cl_status s = parse_node(tb, cl_config_at(seq, i), &tb->nodes[i]);
    tb->n_nodes = i + 1; /* so cl_testbed_free releases the partial node */
    if (s != CL_OK) return s;
    CL_TRY(names_add(tb, i));
  }
  return CL_OK;
}

/* ---- links --------------------------------------------------------------------------- */

static cl_status trace_error(const char *path, int line, const cl_config_node *field, const char *msg) {
  cl_log_error("%s:%d: %s (bandwidth trace of field '%s' at %s:%d)", path, line, msg, cl_config_path(field),
               cl_config_file(field), cl_config_line(field));
  return CL_ERR_CONFIG;
}

/* The columns of a trace line and their ranges (docs/config.md, "Trace files"): times
 * within ~30 years keep virtual time finite and precise to 1 us; bandwidths are those of
 * the bandwidth quantity ("Ranges": 0 = link down, else 1 bit/s .. 10 Tbit/s). */
typedef struct trace_col {
  const char *name; /* column header, as in the message */
  double lo, hi, tiny; /* range; tiny: smallest magnitude other than 0 (0: none) */
} trace_col;
static const trace_col k_trace_cols[2] = {{"time_s", 0, 1e9, 0}, {"Mbit/s", 0, 1e7, 1e-6}};

/* One CSV field [p, stop) of column @p c: exactly one finite number in range, spaces
 * around it allowed. 0 and *v set, or 1 with @p msg saying why not. */
static int trace_field(const char *p, const char *stop, const trace_col *c, double *v, char *msg, size_t cap) {
  while (p < stop && (*p == ' ' || *p == '\t')) p++;
  while (stop > p && (stop[-1] == ' ' || stop[-1] == '\t' || stop[-1] == '\r' || stop[-1] == '\n')) stop--;
  int len = (int)(stop - p > 40 ? 40 : stop - p);
  char *end = (char *)p;
  errno = 0;
  double x = p < stop ? strtod(p, &end) : 0;
  if (end != stop || p == stop) {
    snprintf(msg, cap, "column %s: '%.*s' is not a number", c->name, len, p);
    return 1;
  }
  if (!isfinite(x) || errno == ERANGE) {
    snprintf(msg, cap, "column %s: '%.*s' is not a finite number", c->name, len, p);
    return 1;
  }
  if (x < c->lo || x > c->hi || (x != 0 && fabs(x) < c->tiny)) {
    snprintf(msg, cap, "column %s: %g is out of range: %s[%g, %g]", c->name, x, c->tiny > 0 ? "0 or " : "",
             c->tiny > 0 ? c->tiny : c->lo, c->hi);
    return 1;
  }
  *v = x;
  return 0;
}

/* CSV "time_s,Mbit/s" -> arrays (B/s). Optional header line, '#' comments, blank lines. */
static cl_status load_trace(cl_tb_link *l, const cl_config_node *field) {
  FILE *f = fopen(l->trace_path, "r");
  if (!f)
    return cl_config_error(field, "cannot open bandwidth trace '%s': %s", l->trace_path, strerror(errno));
  char line[4096], msg[200];
  int lineno = 0, cap = 0, data_lines = 0;
  cl_status s = CL_OK;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    size_t len = strlen(line);
    if (len == sizeof line - 1 && line[len - 1] != '\n') {
      s = trace_error(l->trace_path, lineno, field, "line longer than 4095 characters");
      break;
    }
    char *p = line;
    while (*p == ' ' || *p == '\t') p++;
    if (*p == '#' || *p == '\n' || *p == '\r' || !*p) continue;
    data_lines++;
    /* A header is a first line that does not start like a number ("time_s,Mbit/s"). */
    const char *q = p + (*p == '+' || *p == '-');
    if (data_lines == 1 && !((*q >= '0' && *q <= '9') || *q == '.')) continue;
    char *comma = strchr(p, ',');
    if (!comma || strchr(comma + 1, ',')) {
      s = trace_error(l->trace_path, lineno, field, "expected 'time_s,Mbit/s' (two numbers)");
      break;
    }
    double t, mbps;
    if (trace_field(p, comma, &k_trace_cols[0], &t, msg, sizeof msg) ||
        trace_field(comma + 1, line + len, &k_trace_cols[1], &mbps, msg, sizeof msg)) {
      s = trace_error(l->trace_path, lineno, field, msg);
      break;
    }
    if (l->trace_n > 0 && !(t > l->trace_t[l->trace_n - 1])) {
      snprintf(msg, sizeof msg, "time %g s is not after the previous point (%g s); times must increase", t,
               l->trace_t[l->trace_n - 1]);
      s = trace_error(l->trace_path, lineno, field, msg);
      break;
    }
    if (l->trace_n == MAX_TRACE_POINTS) {
      s = trace_error(l->trace_path, lineno, field, "more than 10 million trace points");
      break;
    }
    if (l->trace_n == cap) {
      int nc = cap ? cap * 2 : 64;
      double *nt = realloc(l->trace_t, sizeof(double) * (size_t)nc);
      if (nt) l->trace_t = nt;
      double *nb = realloc(l->trace_bw, sizeof(double) * (size_t)nc);
      if (nb) l->trace_bw = nb;
      if (!nt || !nb) {
        s = oom();
        break;
      }
      cap = nc;
    }
    l->trace_t[l->trace_n] = t;
    l->trace_bw[l->trace_n] = mbps * 125000.0; /* 1 Mbit/s = 125000 B/s */
    l->trace_n++;
  }
  if (s == CL_OK && ferror(f)) s = cl_config_error(field, "read error on '%s'", l->trace_path);
  fclose(f);
  if (s == CL_OK && l->trace_n == 0) s = trace_error(l->trace_path, lineno, field, "trace has no data points");
  return s;
}

static cl_status parse_jitter(cl_config_node *j, cl_jitter *jt) {
  memset(jt, 0, sizeof *jt);
  if (!j || cl_config_is_null(j)) return CL_OK;
  CL_TRY(cl_config_expect(j, CL_CONFIG_MAP));
  int d;
  CL_TRY(cl_config_get_enum(j, "dist", k_jitters, &d));
  jt->dist = k_jitter_dist[d];
  switch (jt->dist) {
    case CL_JITTER_NORMAL:
      CL_TRY(cl_config_get_unit(j, "sigma", CL_CONFIG_DURATION, &jt->sigma));
      CL_TRY(cl_config_opt_unit(j, "mean", CL_CONFIG_DURATION, 0, &jt->mean));
      break;
    case CL_JITTER_UNIFORM:
      CL_TRY(cl_config_opt_unit(j, "lo", CL_CONFIG_DURATION, 0, &jt->lo));
      CL_TRY(cl_config_get_unit(j, "hi", CL_CONFIG_DURATION, &jt->hi));
      if (jt->hi < jt->lo) return cl_config_error(cl_config_find(j, "hi"), "hi must be >= lo");
      break;
    case CL_JITTER_EXPONENTIAL:
      CL_TRY(cl_config_get_unit(j, "mean", CL_CONFIG_DURATION, &jt->mean));
      if (!(jt->mean > 0)) return cl_config_error(cl_config_find(j, "mean"), "mean must be > 0");
      break;
    case CL_JITTER_LOGNORMAL:
      CL_TRY(cl_config_get_unit(j, "scale", CL_CONFIG_DURATION, &jt->scale));
      CL_TRY(cl_config_get_double(j, "sigma", 0, 100, &jt->sigma));
      if (!(jt->scale > 0)) return cl_config_error(cl_config_find(j, "scale"), "scale (the median) must be > 0");
      break;
    case CL_JITTER_PARETO:
      CL_TRY(cl_config_get_unit(j, "scale", CL_CONFIG_DURATION, &jt->scale));
      CL_TRY(cl_config_get_double(j, "shape", 0, 1e6, &jt->shape));
      if (!(jt->scale > 0)) return cl_config_error(cl_config_find(j, "scale"), "scale (the minimum) must be > 0");
      if (!(jt->shape > 0)) return cl_config_error(cl_config_find(j, "shape"), "shape must be > 0");
      break;
    default:
      break;
  }
  return CL_OK;
}

static cl_status parse_link(cl_testbed *tb, cl_config_node *m, int idx, const char *base) {
  CL_TRY(cl_config_expect(m, CL_CONFIG_MAP));
  cl_tb_link *l = &tb->links[idx];
  l->line = cl_config_line(m);
  l->medium = -1;
  CL_TRY(get_ref(tb, m, "from", 1, &l->from));
  CL_TRY(get_ref(tb, m, "to", 1, &l->to));
  if (l->from == l->to)
    return cl_config_error(cl_config_find(m, "to"), "a link needs two different nodes (from = to = '%s')",
                           tb->nodes[l->from].name);
  CL_TRY(cl_config_opt_bool(m, "both_ways", 1, &l->both_ways));
  for (int j = 0; j < idx; j++) {
    const cl_tb_link *o = &tb->links[j];
    int same = o->from == l->from && o->to == l->to;
    int rev = o->from == l->to && o->to == l->from && (o->both_ways || l->both_ways);
    if (same || rev)
      return cl_config_error(m, "duplicate link %s->%s (also defined at line %d)", tb->nodes[l->from].name,
                             tb->nodes[l->to].name, o->line);
  }
  CL_TRY(cl_config_get_unit(m, "latency", CL_CONFIG_DURATION, &l->latency));
  cl_config_node *bw = cl_config_find(m, "bandwidth");
  const char *trace;
  CL_TRY(cl_config_opt_str(m, "trace", NULL, &trace));
  if (trace && bw)
    return cl_config_error(bw, "give either bandwidth or trace, not both (a trace sets the bandwidth over time)");
  if (trace) {
    if (!trace[0]) return cl_config_error(cl_config_find(m, "trace"), "empty trace path");
    if (!(l->trace_path = cl__tb_resolve_path(base, trace))) return oom();
    CL_TRY(load_trace(l, cl_config_find(m, "trace")));
    l->bandwidth = l->trace_bw[0];
  } else {
    CL_TRY(cl_config_get_unit(m, "bandwidth", CL_CONFIG_BANDWIDTH, &l->bandwidth));
    if (!(l->bandwidth > 0)) return cl_config_error(bw, "bandwidth must be > 0");
  }
  CL_TRY(parse_jitter(cl_config_find(m, "jitter"), &l->jitter));
  CL_TRY(cl_config_opt_bool(m, "reorder", 0, &l->reorder));
  int sh;
  CL_TRY(cl_config_opt_enum(m, "sharing", k_sharing, (int)tb->sharing, &sh));
  l->sharing = (cl_sharing)sh;
  const char *shared;
  CL_TRY(cl_config_opt_str(m, "shared", NULL, &shared));
  if (shared) {
    CL_TRY(check_name(cl_config_find(m, "shared"), shared, "medium"));
    for (int i = 0; i < tb->n_media && l->medium < 0; i++)
      if (!strcmp(tb->media[i], shared)) l->medium = i;
    if (l->medium < 0) {
      char **nm = realloc(tb->media, sizeof(char *) * (size_t)(tb->n_media + 1));
      if (!nm) return oom();
      tb->media = nm;
      if (!(tb->media[tb->n_media] = cl__tb_strdup(shared))) return oom();
      l->medium = tb->n_media++;
    }
  }
  return CL_OK;
}

static cl_status parse_links(cl_testbed *tb, cl_config_node *root, const char *base) {
  cl_config_node *seq = cl_config_find(root, "links");
  if (!seq || cl_config_is_null(seq)) return CL_OK; /* a single node needs no links */
  CL_TRY(cl_config_expect(seq, CL_CONFIG_SEQ));
  int n = cl_config_len(seq);
  if (n == 0) return CL_OK;
  if (!(tb->links = calloc((size_t)n, sizeof *tb->links))) return oom();
  for (int i = 0; i < n; i++) {
    tb->n_links = i + 1;
    CL_TRY(parse_link(tb, cl_config_at(seq, i), i, base));
  }
  return CL_OK;
}

/* ---- workload, conditions --------------------------------------------------------------- */

static cl_status parse_workload(cl_testbed *tb, cl_config_node *root) {
  tb->inferences = 1;
  tb->arrival.kind = CL_ARRIVAL_BACK_TO_BACK;
  tb->arrival.in_flight = 1;
  tb->arrival.seed = tb->seed;
  cl_config_node *wl = cl_config_find(root, "workload");
  if (!wl || cl_config_is_null(wl)) return CL_OK;
  CL_TRY(cl_config_expect(wl, CL_CONFIG_MAP));
  int64_t v;
  CL_TRY(cl_config_opt_int(wl, "inferences", 1, 1000000000, 1, &v));
  tb->inferences = (int)v;
  int arr;
  CL_TRY(cl_config_opt_enum(wl, "arrival", k_arrivals, 0, &arr));
  tb->arrival.kind = k_arrival_kind[arr];
  if (arr == 0) {
    if (cl_config_find(wl, "rate"))
      return cl_config_error(cl_config_find(wl, "rate"),
                             "rate only applies to arrival: fixed_rate or poisson (back_to_back releases an "
                             "inference when the previous one finishes)");
    CL_TRY(cl_config_opt_int(wl, "in_flight", 1, 1000000, 1, &v));
    tb->arrival.in_flight = (int)v;
  } else {
    CL_TRY(cl_config_get_double(wl, "rate", 1e-12, 1e12, &tb->arrival.rate));
    if (cl_config_find(wl, "in_flight"))
      return cl_config_error(cl_config_find(wl, "in_flight"), "in_flight only applies to arrival: back_to_back");
  }
  CL_TRY(cl_config_opt_u64(wl, "seed", tb->seed, &tb->arrival.seed));
  return CL_OK;
}

static cl_status parse_condition(cl_testbed *tb, cl_config_node *m, cl_tb_condition *c) {
  CL_TRY(cl_config_expect(m, CL_CONFIG_MAP));
  c->line = cl_config_line(m);
  c->link = c->node = -1;
  c->bandwidth = c->latency = c->cpu_load = c->mem_pressure = -1;
  CL_TRY(cl_config_opt_unit(m, "at", CL_CONFIG_DURATION, 0, &c->at));
  cl_config_node *ln = cl_config_find(m, "link"), *nn = cl_config_find(m, "node");
  if ((ln != NULL) == (nn != NULL))
    return cl_config_error(m, "a condition changes either a link (link: \"a->b\") or a node (node: name)");
  if (nn) {
    CL_TRY(get_node_ref(tb, m, "node", &c->node));
    CL_TRY(cl_config_opt_unit(m, "cpu_load", CL_CONFIG_FRACTION, -1, &c->cpu_load));
    CL_TRY(cl_config_opt_unit(m, "mem_pressure", CL_CONFIG_FRACTION, -1, &c->mem_pressure));
    if (c->mem_pressure > 0 && tb->nodes[c->node].memory == 0)
      return cl_config_error(cl_config_find(m, "mem_pressure"), "node '%s' has no memory cap (memory: ...)",
                             tb->nodes[c->node].name);
    if (c->cpu_load < 0 && c->mem_pressure < 0 && cl_config_len(m) <= 1 + (cl_config_find(m, "at") != NULL))
      return cl_config_error(m, "node condition changes nothing (give cpu_load and/or mem_pressure)");
    return CL_OK;
  }
  const char *spec;
  CL_TRY(cl_config_as_str(ln, &spec));
  const char *arrow = strstr(spec, "->");
  if (!arrow) return cl_config_error(ln, "expected \"FROM->TO\", got '%s'", spec);
  char a[128], b[128];
  size_t la = (size_t)(arrow - spec);
  if (la >= sizeof a || strlen(arrow + 2) >= sizeof b) return cl_config_error(ln, "link name too long");
  memcpy(a, spec, la);
  a[la] = '\0';
  strcpy(b, arrow + 2);
  char *pa = a, *pb = b;
  while (*pa == ' ') pa++;
  while (*pb == ' ') pb++;
  for (char *e = pa + strlen(pa); e > pa && e[-1] == ' ';) *--e = '\0';
  for (char *e = pb + strlen(pb); e > pb && e[-1] == ' ';) *--e = '\0';
  int from = cl_testbed_find_vertex(tb, pa), to = cl_testbed_find_vertex(tb, pb);
  if (from < 0 || to < 0) {
    char list[512];
    node_list(tb, list, sizeof list);
    return cl_config_error(ln, "unknown node '%s' (nodes: %s)", from < 0 ? pa : pb, list);
  }
  c->link = cl_testbed_find_link(tb, from, to, &c->reverse);
  if (c->link < 0) return cl_config_error(ln, "no link %s->%s in 'links'", pa, pb);
  CL_TRY(cl_config_opt_unit(m, "bandwidth", CL_CONFIG_BANDWIDTH, -1, &c->bandwidth));
  CL_TRY(cl_config_opt_unit(m, "latency", CL_CONFIG_DURATION, -1, &c->latency));
  if (c->bandwidth < 0 && c->latency < 0 && cl_config_len(m) <= 1 + (cl_config_find(m, "at") != NULL))
    return cl_config_error(m, "link condition changes nothing (give bandwidth and/or latency)");
  return CL_OK;
}

static cl_status parse_conditions(cl_testbed *tb, cl_config_node *root) {
  cl_config_node *seq = cl_config_find(root, "conditions");
  if (!seq || cl_config_is_null(seq)) return CL_OK;
  CL_TRY(cl_config_expect(seq, CL_CONFIG_SEQ));
  int n = cl_config_len(seq);
  if (n == 0) return CL_OK;
  if (!(tb->conditions = calloc((size_t)n, sizeof *tb->conditions))) return oom();
  for (int i = 0; i < n; i++) {
    tb->n_conditions = i + 1;
    CL_TRY(parse_condition(tb, cl_config_at(seq, i), &tb->conditions[i]));
  }
  /* stable insertion sort by time */
  for (int i = 1; i < n; i++) {
    cl_tb_condition c = tb->conditions[i];
    int j = i;
    while (j > 0 && tb->conditions[j - 1].at > c.at) {
      tb->conditions[j] = tb->conditions[j - 1];
      j--;
    }
    tb->conditions[j] = c;
  }
  return CL_OK;
}

/* ---- top level ----------------------------------------------------------------------- */

static cl_status parse_top(cl_testbed *tb, cl_config_node *root, const char *base) {
  const char *model;
  CL_TRY(cl_config_get_str(root, "model", &model));
  if (!model[0]) return cl_config_error(cl_config_find(root, "model"), "model must not be empty");
  tb->model_is_onnx = cl_onnx_is_path(model);
  if (!(tb->model = tb->model_is_onnx ? cl__tb_resolve_path(base, model) : cl__tb_strdup(model))) return oom();
  CL_TRY(cl_config_opt_u64(root, "seed", 1, &tb->seed));
  int clock;
  CL_TRY(cl_config_opt_enum(root, "clock", k_clocks, 0, &clock));
  tb->wall_clock = clock == 1;
  tb->model_clock = clock == 2;
  tb->clock_line = cl_config_find(root, "clock") ? cl_config_line(cl_config_find(root, "clock")) : 0;
  CL_TRY(cl_config_opt_enum(root, "backend", k_backends, 0, &tb->backend));
  if (!cl_backend_available((cl_backend)tb->backend))
    return cl_config_error(cl_config_find(root, "backend"),
                           "backend '%s' is not available: cleave was built without oneDNN (libdnnl-dev)",
                           k_backends[tb->backend]);
  const char *profile;
  CL_TRY(cl_config_opt_str(root, "profile", NULL, &profile));
  if (profile) {
    if (!profile[0]) return cl_config_error(cl_config_find(root, "profile"), "empty profile path");
    if (!(tb->profile = cl__tb_resolve_path(base, profile))) return oom();
  }
  CL_TRY(parse_nodes(tb, root));
  CL_TRY(parse_network(tb, root));
  CL_TRY(parse_links(tb, root, base));
  CL_TRY(parse_routes(tb, root));
  CL_TRY(cl__tb_parse_plan(tb, root));
  CL_TRY(parse_workload(tb, root));
  CL_TRY(parse_conditions(tb, root));
  CL_TRY(cl__tb_parse_users(tb, root, base));
  return CL_OK;
}

static cl_status load(cl_config *c, const char *base, cl_testbed *tb) {
  cl_config_node *root = cl_config_root(c);
  if (!root) {
    cl_log_error("%s:1:1: empty config (expected a map with keys model, nodes, links, plan, workload)",
                 cl_config_name(c));
    return CL_ERR_CONFIG;
  }
  if (cl_config_kind_of(root) != CL_CONFIG_MAP)
    return cl_config_error(root, "a testbed config is a map (model: ..., nodes: ...), got %s",
                           cl_config_kind_name(cl_config_kind_of(root)));
  if (!(tb->source = cl__tb_strdup(cl_config_name(c)))) return oom();
  CL_TRY(parse_top(tb, root, base));
  return cl_config_check_unused(c);
}

static cl_status load_with(cl_config *c, cl_status parsed, const char *name, cl_testbed *tb) {
  if (parsed != CL_OK) return parsed;
  /* base directory for relative paths */
  char *base = cl__tb_strdup(name[0] == '<' ? "" : name);
  if (!base) {
    cl_config_destroy(c);
    return oom();
  }
  char *slash = strrchr(base, '/');
  if (slash)
    slash[slash == base ? 1 : 0] = '\0';
  else
    base[0] = '\0';
  cl_status s = load(c, base, tb);
  free(base);
  cl_config_destroy(c);
  if (s != CL_OK) cl_testbed_free(tb);
  return s;
}

cl_status cl_testbed_load(const char *path, cl_testbed *tb) {
  memset(tb, 0, sizeof *tb);
  cl_config *c = NULL;
  cl_status s = cl_config_load(path, &c);
  return load_with(c, s, path, tb);
}

cl_status cl_testbed_load_string(const char *name, const char *text, cl_testbed *tb) {
  memset(tb, 0, sizeof *tb);
  if (!name) name = "<string>";
  cl_config *c = NULL;
  cl_status s = cl_config_load_string(name, text, &c);
  return load_with(c, s, name, tb);
}

void cl_testbed_free(cl_testbed *tb) {
  if (!tb) return;
  free(tb->source);
  free(tb->model);
  free(tb->profile);
  for (int i = 0; i < tb->n_nodes + tb->n_elements; i++) {
    free(tb->nodes[i].name);
    free(tb->nodes[i].device);
  }
  for (int i = 0; i < tb->n_routes; i++) free(tb->routes[i].via);
  free(tb->routes);
  free(tb->nodes);
  for (int i = 0; i < tb->n_links; i++) {
    free(tb->links[i].trace_path);
    free(tb->links[i].trace_t);
    free(tb->links[i].trace_bw);
  }
  free(tb->links);
  for (int i = 0; i < tb->n_media; i++) free(tb->media[i]);
  free(tb->media);
  cl__tb_plan_free(&tb->plan);
  free(tb->conditions);
  cl__tb_users_free(tb);
  if (tb->names_) free(((tb_names *)tb->names_)->slot);
  free(tb->names_);
  memset(tb, 0, sizeof *tb);
}
