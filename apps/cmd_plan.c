/* cleave plan <planner>: Scission, Neurosurgeon and DADS planners on profile data
 * (CoEdge lives in cmd_plan_coedge.c). Exit codes: 0 ok, 1 runtime failure, 2 usage. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleave/onnx.h"
#include "cleave/planner.h"
#include "cleave/profile.h"
#include "cleave/profile_h5.h"
#include "cli.h"
#include "commands.h"


#define ERR(...)                                        \
  do {                                                  \
    fprintf(stderr, "cleave plan: error: " __VA_ARGS__); \
    fputc('\n', stderr);                                \
  } while (0)

/* ---- shared helpers ---- */

/* Resolve a network file: a bare name is looked up inside the profile dir first. */
static void resolve_net(const char *dir, const char *name, char *out, size_t cap) {
  struct stat sb;
  if (dir && !strchr(name, '/')) {
    snprintf(out, cap, "%s/%s", dir, name);
    if (stat(out, &sb) == 0) return;
  }
  snprintf(out, cap, "%s", name);
}


/* 1 if the same file (both paths stat-able from here). */
static int same_file(const char *a, const char *b) {
  struct stat sa, sb;
  return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* 1 if some machine of the set profiles @p model; its profiled name goes to @p lower.
 * Zoo and Scission names match case-insensitively (Scission lower-cases queries); an
 * ONNX file (`cleave profile FILE.onnx` records the path as given) matches its exact
 * path, else a profiled .onnx path naming the same file. */
static int model_known(const cl_profile_set *set, const char *model, char *lower, size_t cap) {
  size_t n = strlen(model);
  if (n >= cap) return 0;
  const int onnx = cl_onnx_is_path(model);
  for (int pass = 0; pass < 2; pass++) {
    for (size_t i = 0; i <= n; i++) lower[i] = pass || onnx ? model[i] : (char)tolower((unsigned char)model[i]);
    for (int i = 0; i < cl_profile_set_n_machines(set); i++)
      if (cl_profile_machine_model(cl_profile_set_machine(set, i), lower)) return 1;
  }
  for (int i = 0; onnx && i < cl_profile_set_n_machines(set); i++) {
    const cl_profile_machine *m = cl_profile_set_machine(set, i);
    for (int k = 0; k < m->n_models; k++)
      if (cl_onnx_is_path(m->models[k].name) && strlen(m->models[k].name) < cap &&
          same_file(model, m->models[k].name)) {
        snprintf(lower, cap, "%s", m->models[k].name);
        return 1;
      }
  }
  return 0;
}

static int tier_index(const cl_scission_query *q, const char *name) {
  for (int t = 0; t < q->n_tiers; t++)
    if (!strcmp(q->tiers[t], name)) return t;
  return -1;
}

/* Split "tier=value" at '='; returns the value or NULL. */
static char *kv_split(char *s) {
  char *eq = strchr(s, '=');
  if (!eq) return NULL;
  *eq = '\0';
  return eq + 1;
}

/* --profile TIER[:NAME]=FILE items (cleave .h5 or Scission .csv profiles). */
#define MAX_PROFILE_ITEMS 16
typedef struct prof_items {
  int n;
  const char *v[MAX_PROFILE_ITEMS];
} prof_items;

static int prof_items_add(prof_items *pi, const char *v) {
  if (pi->n == MAX_PROFILE_ITEMS) {
    ERR("at most %d --profile options", MAX_PROFILE_ITEMS);
    return 1;
  }
  pi->v[pi->n++] = v;
  return 0;
}

static int ends_with(const char *s, const char *suf) {
  size_t n = strlen(s), m = strlen(suf);
  return n >= m && !strcmp(s + n - m, suf);
}

/* Load one TIER[:NAME]=FILE item. NAME defaults to the file's base name without its
 * extension and without a leading "TIER-" (so device-pi4.h5 is machine pi4). */
static int load_item(cl_profile_set *set, const char *item) {
  char buf[1024], name[256];
  if (strlen(item) >= sizeof buf) {
    ERR("--profile value too long");
    return 2;
  }
  strcpy(buf, item);
  char *path = kv_split(buf), *tier = buf, *colon = strchr(buf, ':');
  if (colon) *colon = '\0';
  if (!path || !*path || !*tier || (colon && !colon[1])) {
    ERR("--profile expects TIER=FILE or TIER:NAME=FILE (FILE: cleave .h5 or Scission .csv), got '%s'", item);
    return 2;
  }
  int h5 = ends_with(path, ".h5"), csv = ends_with(path, ".csv");
  if (!h5 && !csv) {
    ERR("--profile %s: expected a cleave profile (.h5) or a Scission CSV (.csv)", item);
    return 2;
  }
  if (colon) {
    snprintf(name, sizeof name, "%s", colon + 1);
  } else {
    const char *base = strrchr(path, '/');
    snprintf(name, sizeof name, "%s", base ? base + 1 : path);
    name[strlen(name) - (h5 ? 3 : 4)] = '\0';
    size_t tl = strlen(tier);
    if (!strncmp(name, tier, tl) && name[tl] == '-' && name[tl + 1]) memmove(name, name + tl + 1, strlen(name + tl));
  }
  cl_status st;
  if (h5) {
    st = cl_profile_load_cleave_h5(set, path, tier, name);
  } else {
    st = cl_profile_load_scission_csv(set, path, tier, name);
    int m = cl_profile_set_find_machine(set, name);
    if (st == CL_OK && m >= 0) st = cl_profile_set_set_source(set, m, path);
  }
  return st == CL_OK ? 0 : st == CL_ERR_NOMEM ? 1 : 2;
}

/* The profile set of --profiles DIR (<tier>-<machine>.csv and .h5) plus --profile items. */
static int load_profiles(const char *dir, const prof_items *pi, cl_profile_set **set) {
  if (cl_profile_set_create(set) != CL_OK) return 1;
  if (dir && cl_profile_load_dir(*set, dir) != CL_OK) return 2;
  for (int i = 0; pi && i < pi->n; i++) {
    int rc = load_item(*set, pi->v[i]);
    if (rc) return rc;
  }
  return 0;
}

static const char *src_desc(const char *dir, const prof_items *pi) {
  return dir ? dir : pi && pi->n ? "the --profile files" : "(no profiles)";
}

/* ---- --emit-config helpers ---- */

static int is_h5_machine(const cl_profile_machine *m) { return m && m->source && ends_with(m->source, ".h5"); }

/* Seconds of @p model on machine @p m (sum of its blocks). */
static double model_total(const cl_profile_machine *m, const char *model) {
  const cl_profile_model *md = cl_profile_machine_model(m, model);
  double t = 0;
  for (int b = 0; md && b < md->n_blocks; b++) t += md->blocks[b].seconds;
  return t;
}

/* Slowdown of machine @p mi relative to this host, and how it was derived (@p note).
 * A cleave profile made on this host carries its own factor (--slowdown); otherwise a
 * profile of this host (any slowdown) among the loaded ones gives the ratio of totals;
 * otherwise the speed is not derivable and is 1. */
static double derive_speed(const cl_profile_set *set, int mi, const char *model, char *note, size_t cap) {
  char host[256] = "";
  if (gethostname(host, sizeof host) != 0) host[0] = '\0';
  host[sizeof host - 1] = '\0';
  const cl_profile_machine *m = cl_profile_set_machine(set, mi);
  cl_profile_h5_info info;
  if (is_h5_machine(m) && cl_profile_h5_info_read(m->source, &info) == CL_OK && host[0] && !strcmp(info.host, host)) {
    snprintf(note, cap, "%s: profiled on this host (%s) with --slowdown %.9g: speed = %.9g", m->source, host,
             info.slowdown, info.slowdown);
    return info.slowdown;
  }
  for (int r = 0; r < cl_profile_set_n_machines(set); r++) {
    const cl_profile_machine *ref = cl_profile_set_machine(set, r);
    cl_profile_h5_info ri;
    if (r == mi || !is_h5_machine(ref) || !cl_profile_machine_model(ref, model) || !host[0] ||
        cl_profile_h5_info_read(ref->source, &ri) != CL_OK || strcmp(ri.host, host))
      continue;
    double tm = model_total(m, model), th = model_total(ref, model) / ri.slowdown;
    if (!(tm > 0) || !(th > 0)) continue;
    snprintf(note, cap, "speed = %.6g s on %s / %.6g s on this host (%s, from %s)", tm, m->name, th, host,
             ref->source);
    return tm / th;
  }
  snprintf(note, cap,
           "speed not derivable (%s was not profiled on this host, and no profile of this host is loaded): "
           "1 = this host's speed; edit it",
           m->source ? m->source : m->name);
  return 1.0;
}

/* Testbed node name from a machine name: [A-Za-z0-9_.-], at most 63 characters. */
static void tb_name(const char *machine, char *out, size_t cap) {
  size_t n = 0;
  for (const char *p = machine; *p && n + 1 < cap && n < 63; p++) {
    char c = *p;
    int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
             c == '-';
    out[n++] = ok ? c : '_';
  }
  out[n] = '\0';
  if (!n) snprintf(out, cap, "node");
}

/* Testbed tier of a planner tier at position @p pos of @p n. */
static const char *tb_tier(const char *tier, int pos, int n) {
  if (!strcmp(tier, "device") || !strcmp(tier, "edge") || !strcmp(tier, "cloud")) return tier;
  return pos == 0 ? "device" : pos == n - 1 ? "cloud" : "edge";
}

/* Steps of @p md: 1 if its units are cleave profile steps with a known DAG. */
static int steps_known(const cl_profile_model *md) {
  if (!md || md->n_layers < 1 || md->n_blocks < 1 || md->blocks[md->n_blocks - 1].last_layer != md->n_layers - 1)
    return 0;
  for (int i = 0; i < md->n_layers; i++)
    if (md->layers[i].n_inputs < 0) return 0;
  return 1;
}

/* Write the config: nodes[] named after machines, speeds derived, steps placed. */
static int emit_config(const char *path, const cl_profile_set *set, const char *model, int n_nodes,
                       const int *machine, const char *const *tiers, const int *node_of_step, int n_steps,
                       const cl_plan_link *links, int n_links, long inferences, const char *comment) {
  if (cl__check_output("plan --emit-config", path)) return 2;
  cl_plan_node nodes[CL_SCISSION_MAX_TIERS];
  char names[CL_SCISSION_MAX_TIERS][64], notes[CL_SCISSION_MAX_TIERS][1024];
  cl_profile_h5_info info;
  const cl_profile_machine *m0 = cl_profile_set_machine(set, machine[0]);
  if (!is_h5_machine(m0) || cl_profile_h5_info_read(m0->source, &info) != CL_OK) {
    ERR("--emit-config needs cleave HDF5 profiles (cleave profile MODEL -o FILE.h5): the units of Scission CSV "
        "profiles are not cleave graph nodes");
    return 2;
  }
  for (int i = 0; i < n_nodes; i++) {
    const cl_profile_machine *m = cl_profile_set_machine(set, machine[i]);
    tb_name(m->name, names[i], sizeof names[i]);
    for (int j = 0; j < i; j++)
      if (!strcmp(names[i], names[j])) {
        /* make it unique: truncate to 55 chars and append "-NN" (i < 100 nodes) */
        size_t l = strlen(names[i]) > 55 ? 55 : strlen(names[i]);
        int k = i % 100;
        names[i][l] = '-';
        names[i][l + 1] = (char)('0' + k / 10);
        names[i][l + 2] = (char)('0' + k % 10);
        names[i][l + 3] = '\0';
      }
    nodes[i].name = names[i];
    nodes[i].tier = tiers[i];
    nodes[i].speed = derive_speed(set, machine[i], model, notes[i], sizeof notes[i]);
    nodes[i].note = notes[i];
  }
  /* An ONNX model goes into the config as an absolute path: the profile recorded it as
   * given to `cleave profile` (relative to where that ran); configs resolve relative
   * paths against their own directory. */
  char abs[4096];
  if (cl_onnx_is_path(model) && model[0] != '/') {
    char cwd[2048];
    if (access(model, R_OK) != 0 || !getcwd(cwd, sizeof cwd)) {
      ERR("--emit-config: the profiled ONNX file '%s' is not readable from here (profiles record the path given "
          "to `cleave profile`); run from that directory or re-profile with an absolute path", model);
      return 2;
    }
    snprintf(abs, sizeof abs, "%s/%s", cwd, model);
    model = abs;
  }
  cl_plan_config pc = {model, info.fused, n_steps, node_of_step, n_nodes, nodes, n_links, links,
                       (int)inferences, 1, comment};
  cl_status st = cl_plan_config_write(&pc, path);
  if (st != CL_OK) return st == CL_ERR_NOMEM || st == CL_ERR_INTERNAL ? 1 : 2;
  fprintf(stderr, "cleave plan: wrote %s (run: mpiexec -n %d cleave run %s)\n", path, n_nodes, path);
  return 0;
}

/* The command line as one comment line. */
static void argv_line(char *out, size_t cap) {
  size_t n = 0;
  out[0] = '\0';
  for (int i = 0; i < cl__argc && n + 1 < cap; i++) {
    int w = snprintf(out + n, cap - n, "%s%s", i ? " " : "", cl__argv[i]);
    if (w < 0) break;
    n += (size_t)w;
  }
  if (n >= cap) n = cap - 1;
  out[n] = '\0';
}

static int parse_time_limit(const char *flag, const char *v, double *lim, int *pct) {
  size_t n = strlen(v);
  char buf[64];
  if (n == 0 || n >= sizeof buf) {
    ERR("%s expects seconds or x%%, got '%s'", flag, v);
    return 1;
  }
  memcpy(buf, v, n + 1);
  *pct = buf[n - 1] == '%';
  if (*pct) buf[n - 1] = '\0';
  return cl__parse_double("plan", flag, buf, 0, 1e12, lim);
}

/* ---- scission ---- */

static void scission_usage(FILE *f) {
  fprintf(f,
          "usage: cleave plan scission --profiles DIR|--profile TIER=FILE... --network FILE [options] [MODEL]\n"
          "Rank every device->edge->cloud split of MODEL (Scission, UCC 2020).\n"
          "  --profiles DIR        folder of <tier>-<machine>.csv Scission profiles and/or\n"
          "                        <tier>-<machine>.h5 cleave profiles (cleave profile MODEL -o FILE.h5)\n"
          "  --profile TIER[:NAME]=FILE   one more machine (.h5 or .csv; NAME: default the file's base\n"
          "                        name without 'TIER-'); repeatable. MODEL defaults to the first profiled\n"
          "  --emit-config FILE.yaml  write the best configuration as a runnable testbed config\n"
          "                        (needs .h5 profiles; see docs/planners.md)\n"
          "  --inferences N        workload.inferences of the emitted config (5)\n"
          "  --network FILE        source,destination,ping(ms),bandwidth(mbps) (bare name: in DIR)\n"
          "  -d/-e/-c LIST         device/edge/cloud criteria: N, !N, -1, !-1, name, !name\n"
          "  --criteria TIER=LIST  criteria for any tier (with --tiers)\n"
          "  -i, --input MB        raw input size sent when the device runs nothing (0.15; .h5\n"
          "                        profiles: the model's input tensor)\n"
          "  --device-upload MB, --edge-upload MB, --upload TIER=MB   upload limits\n"
          "  --device-time T, --edge-time T, --cloud-time T, --time TIER=T\n"
          "                        compute-time limits: seconds or x%% of total compute\n"
          "  --result-count N      results to print (5)\n"
          "  --objective latency|energy|bytes|weighted   (latency)\n"
          "  --weights A,B,C       weighted: A*seconds + B*joules + C*MB\n"
          "  --power TIER=W,...    compute power per tier (energy objective)\n"
          "  --tx-power TIER=W,... radio power of a tier while it sends\n"
          "  --tiers T1,T2,...     tier order (default device,edge,cloud; file prefix = tier)\n"
          "  --scission-compat     reproduce Scission's zero-time-tier byte accounting\n"
          "  --format scission|table|csv   output format (scission)\n"
          "  --stats               print the number of configurations to stderr\n");
}

/* Parse "tier=W,tier=W" into per-tier values. */
static int parse_tier_values(const cl_scission_query *q, const char *flag, const char *v,
                             double *dst, char *store, size_t cap) {
  if (strlen(v) >= cap) {
    ERR("%s value too long", flag);
    return 1;
  }
  strcpy(store, v);
  char *save = NULL;
  for (char *it = strtok_r(store, ",", &save); it; it = strtok_r(NULL, ",", &save)) {
    char *val = kv_split(it);
    int t = tier_index(q, it);
    if (!val || t < 0) {
      ERR("%s expects TIER=VALUE items with a known tier, got '%s'", flag, it);
      return 1;
    }
    if (cl__parse_double("plan", flag, val, 0, 1e9, &dst[t])) return 1;
  }
  return 0;
}

/* The best Scission configuration as a testbed config: one node per used tier (tier 0
 * always: it holds the input), links between consecutive used tiers. */
static int scission_emit(const char *path, const cl_profile_set *set, const cl_netstats *net,
                         const cl_scission_query *q, const cl_scission_config *c, const char *model,
                         long inferences) {
  int machine[CL_SCISSION_MAX_TIERS], pos[CL_SCISSION_MAX_TIERS], nn = 0;
  const char *tiers[CL_SCISSION_MAX_TIERS];
  for (int t = 0; t < q->n_tiers; t++)
    if (c->machine[t] >= 0) {
      const cl_profile_machine *m = cl_profile_set_machine(set, c->machine[t]);
      if (!steps_known(cl_profile_machine_model(m, model))) {
        ERR("--emit-config needs cleave HDF5 profiles (cleave profile MODEL -o FILE.h5); machine '%s' (%s) has "
            "none for '%s'",
            m->name, m->source ? m->source : "?", model);
        return 2;
      }
      pos[nn] = t;
      machine[nn] = c->machine[t];
      tiers[nn++] = tb_tier(q->tiers[t], t, q->n_tiers);
    }
  const cl_profile_model *md = cl_profile_machine_model(cl_profile_set_machine(set, machine[0]), model);
  int ns = md->n_layers, rc = 0;
  int *nos = malloc(sizeof(int) * (size_t)ns);
  if (!nos) return 1;
  for (int k = 0; k < ns; k++) nos[k] = -1;
  for (int i = 0; i < nn; i++) {
    int t = pos[i];
    if (c->first_layer[t] < 0) continue;
    for (int k = c->first_layer[t]; k <= c->last_layer[t] && k < ns; k++) nos[k] = i;
  }
  for (int k = 0; k < ns; k++) {
    if (md->layers[k].n_inputs == 0) nos[k] = 0; /* the raw input stays where it is produced */
    if (nos[k] < 0) {
      ERR("--emit-config: step %d of '%s' is on no tier (block ranges differ between profiles?)", k, model);
      rc = 2;
    }
  }
  cl_plan_link links[CL_SCISSION_MAX_TIERS];
  for (int i = 0; !rc && i + 1 < nn; i++) {
    const char *a = cl_profile_set_machine(set, machine[i])->name, *b = cl_profile_set_machine(set, machine[i + 1])->name;
    const cl_netstats_link *l = cl_netstats_find(net, a, b);
    if (!l) {
      ERR("--emit-config: the network file has no link %s -> %s", a, b);
      rc = 2;
      break;
    }
    links[i] = (cl_plan_link){i, i + 1, l->latency_s, l->bandwidth_Bps};
  }
  if (!rc) {
    char cmd[2048], comment[4096];
    argv_line(cmd, sizeof cmd);
    int w = snprintf(comment, sizeof comment,
                     "Testbed config written by: %s\n"
                     "Scission's best configuration: predicted latency %.6f s (compute %.6f s, transfers %.6f s), "
                     "%.0f bytes sent\n",
                     cmd, c->latency, c->compute, c->comm, c->bytes);
    for (int i = 0; i < nn && w > 0 && (size_t)w < sizeof comment; i++) {
      int t = pos[i];
      if (c->first_layer[t] < 0)
        w += snprintf(comment + w, sizeof comment - (size_t)w, "  %s %s: no blocks (holds the raw input)\n",
                      q->tiers[t], cl_profile_set_machine(set, machine[i])->name);
      else
        w += snprintf(comment + w, sizeof comment - (size_t)w, "  %s %s: blocks %d-%d = steps %d-%d, %.6f s\n",
                      q->tiers[t], cl_profile_set_machine(set, machine[i])->name, c->first_block[t],
                      c->last_block[t], c->first_layer[t], c->last_layer[t], c->seconds[t]);
    }
    if (w > 0 && (size_t)w < sizeof comment)
      snprintf(comment + w, sizeof comment - (size_t)w,
               "plan -> run -> compare: mpiexec -n %d cleave run THIS.yaml -o run.h5; "
               "cleave sim THIS.yaml --profile HOST.h5 --compare run.h5",
               nn);
    rc = emit_config(path, set, model, nn, machine, tiers, nos, ns, links, nn - 1, inferences, comment);
  }
  free(nos);
  return rc;
}

static int cmd_scission(int argc, char **argv) {
  const char *dir = NULL, *netname = NULL, *model = NULL, *fmt_s = "scission";
  const char *tiers_s = NULL, *power_s = NULL, *tx_s = NULL, *weights_s = NULL;
  const char *obj_s = "latency";
  /* Tier-keyed options are applied after --tiers is known. */
  const char *kv_crit[32], *kv_upload[32], *kv_time[32];
  int n_crit = 0, n_upload = 0, n_time = 0, stats = 0, compat = 0, input_set = 0;
  double input_mb = 0.15;
  long count = 5, inferences = 5;
  const char *emit = NULL;
  prof_items pi = {0};
  for (int i = 1; i < argc; i++) {
    int miss = 0;
    const char *v;
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      scission_usage(stdout);
      return 0;
    }
#define OPT(flag) (v = cl__opt(argc, argv, &i, flag, &miss))
#define TIERKV(arr, n, tier)                                                   \
  do {                                                                         \
    if ((n) >= 30) {                                                           \
      ERR("too many %s options", a);                                           \
      return 2;                                                                \
    }                                                                          \
    (arr)[(n)++] = tier;                                                       \
    (arr)[(n)++] = v;                                                          \
  } while (0)
    if (OPT("--profiles")) dir = v;
    else if (OPT("--profile")) {
      if (prof_items_add(&pi, v)) return 2;
    } else if (OPT("--emit-config")) emit = v;
    else if (!strcmp(a, "--force")) { /* --emit-config may replace a file */ }
    else if (OPT("--inferences")) {
      if (cl__parse_int("plan", "--inferences", v, 1, 1000000, &inferences)) return 2;
    } else if (OPT("--network")) netname = v;
    else if (OPT("-d") || OPT("--device")) TIERKV(kv_crit, n_crit, "device");
    else if (OPT("-e") || OPT("--edge")) TIERKV(kv_crit, n_crit, "edge");
    else if (OPT("-c") || OPT("--cloud")) TIERKV(kv_crit, n_crit, "cloud");
    else if (OPT("--criteria")) TIERKV(kv_crit, n_crit, NULL);
    else if (OPT("-i") || OPT("--input")) {
      if (cl__parse_double("plan", "--input", v, 0, 1e9, &input_mb)) return 2;
      input_set = 1;
    } else if (OPT("--device-upload")) TIERKV(kv_upload, n_upload, "device");
    else if (OPT("--edge-upload")) TIERKV(kv_upload, n_upload, "edge");
    else if (OPT("--upload")) TIERKV(kv_upload, n_upload, NULL);
    else if (OPT("--device-time")) TIERKV(kv_time, n_time, "device");
    else if (OPT("--edge-time")) TIERKV(kv_time, n_time, "edge");
    else if (OPT("--cloud-time")) TIERKV(kv_time, n_time, "cloud");
    else if (OPT("--time")) TIERKV(kv_time, n_time, NULL);
    else if (OPT("--result-count")) {
      if (cl__parse_int("plan", "--result-count", v, 1, 1000000, &count)) return 2;
    } else if (OPT("--objective")) obj_s = v;
    else if (OPT("--weights")) weights_s = v;
    else if (OPT("--power")) power_s = v;
    else if (OPT("--tx-power")) tx_s = v;
    else if (OPT("--tiers")) tiers_s = v;
    else if (OPT("--format")) fmt_s = v;
    else if (!strcmp(a, "--scission-compat")) compat = 1;
    else if (!strcmp(a, "--stats")) stats = 1;
    else if (miss) {
      ERR("option %s needs a value", a);
      return 2;
    } else if (a[0] == '-' && a[1]) {
      ERR("unknown option '%s' (see cleave plan scission --help)", a);
      return 2;
    } else if (!model) model = a;
    else {
      ERR("unexpected argument '%s' (one MODEL expected)", a);
      return 2;
    }
#undef OPT
#undef TIERKV
  }
  if ((!dir && !pi.n) || !netname) {
    ERR("scission needs --profiles DIR (or --profile TIER=FILE) and --network FILE (see --help)");
    return 2;
  }
  cl_scission_format fmt;
  if (!strcmp(fmt_s, "scission")) fmt = CL_SCISSION_FMT_SCISSION;
  else if (!strcmp(fmt_s, "table")) fmt = CL_SCISSION_FMT_TABLE;
  else if (!strcmp(fmt_s, "csv")) fmt = CL_SCISSION_FMT_CSV;
  else {
    ERR("--format expects scission, table or csv, got '%s'", fmt_s);
    return 2;
  }
  cl_scission_query q;
  cl_scission_query_init(&q);
  q.input_bytes = input_mb * 1000.0 * 1000.0;
  q.result_count = (int)count;
  q.scission_compat = compat;
  char tiers_buf[512];
  if (tiers_s) {
    if (strlen(tiers_s) >= sizeof tiers_buf) {
      ERR("--tiers value too long");
      return 2;
    }
    strcpy(tiers_buf, tiers_s);
    q.n_tiers = 0;
    char *save = NULL;
    for (char *t = strtok_r(tiers_buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
      if (q.n_tiers == CL_SCISSION_MAX_TIERS) {
        ERR("--tiers: at most %d tiers", CL_SCISSION_MAX_TIERS);
        return 2;
      }
      q.tiers[q.n_tiers++] = t;
    }
    if (!q.n_tiers) {
      ERR("--tiers needs at least one tier name");
      return 2;
    }
  }
  if (!strcmp(obj_s, "latency")) q.objective = CL_PLAN_LATENCY;
  else if (!strcmp(obj_s, "energy")) q.objective = CL_PLAN_ENERGY;
  else if (!strcmp(obj_s, "bytes")) q.objective = CL_PLAN_BYTES;
  else if (!strcmp(obj_s, "weighted")) q.objective = CL_PLAN_WEIGHTED;
  else {
    ERR("--objective expects latency, energy, bytes or weighted, got '%s'", obj_s);
    return 2;
  }
  if (weights_s) {
    char *end;
    const char *p = weights_s;
    for (int w = 0; w < 3; w++) {
      errno = 0;
      q.weights[w] = strtod(p, &end);
      if (errno || end == p || q.weights[w] < 0 || (w < 2 && *end != ',') || (w == 2 && *end)) {
        ERR("--weights expects three non-negative numbers A,B,C, got '%s'", weights_s);
        return 2;
      }
      p = end + 1;
    }
  } else if (q.objective == CL_PLAN_WEIGHTED) {
    ERR("--objective weighted needs --weights A,B,C");
    return 2;
  }
  char pbuf[512], tbuf[512];
  if (power_s && parse_tier_values(&q, "--power", power_s, q.power_w, pbuf, sizeof pbuf)) return 2;
  if (tx_s && parse_tier_values(&q, "--tx-power", tx_s, q.tx_power_w, tbuf, sizeof tbuf)) return 2;
  if ((q.objective == CL_PLAN_ENERGY || (q.objective == CL_PLAN_WEIGHTED && q.weights[1] > 0)) &&
      !power_s) {
    ERR("the energy objective needs --power TIER=W,... (and usually --tx-power)");
    return 2;
  }
  /* Tier-keyed options. kv arrays hold (tier or NULL, value) pairs; NULL means the
   * value itself is "TIER=VALUE". */
  char kvbuf[3][16][512];
  const char **arrs[3] = {kv_crit, kv_upload, kv_time};
  int ns[3] = {n_crit, n_upload, n_time};
  for (int kind = 0; kind < 3; kind++)
    for (int j = 0; j < ns[kind]; j += 2) {
      const char *tier = arrs[kind][j];
      char *val = (char *)arrs[kind][j + 1];
      if (!tier) {
        char *b = kvbuf[kind][j / 2];
        if (strlen(val) >= 512) {
          ERR("option value too long");
          return 2;
        }
        strcpy(b, val);
        val = kv_split(b);
        tier = b;
        if (!val) {
          ERR("expected TIER=VALUE, got '%s'", b);
          return 2;
        }
      }
      int t = tier_index(&q, tier);
      if (t < 0) {
        ERR("tier '%s' is not in the tier list (see --tiers)", tier);
        return 2;
      }
      if (kind == 0) {
        if (cl_scission_criteria_check(tier, val) != CL_OK) return 2;
        q.criteria[t] = val;
      } else if (kind == 1) {
        double mb;
        if (cl__parse_double("plan", "upload limit (MB)", val, 0, 1e12, &mb)) return 2;
        q.upload_limit[t] = mb * 1000.0 * 1000.0;
      } else {
        if (parse_time_limit("time limit", val, &q.time_limit[t], &q.time_limit_pct[t])) return 2;
      }
    }
  if (compat && q.n_tiers != 3) {
    ERR("--scission-compat needs the three tiers device,edge,cloud");
    return 2;
  }

  cl_profile_set *set = NULL;
  int rc = load_profiles(dir, &pi, &set);
  if (!rc && !model) {
    const cl_profile_machine *m0 = cl_profile_set_machine(set, 0);
    if (m0 && m0->n_models) {
      model = m0->models[0].name;
    } else {
      ERR("no MODEL given and no profile loaded");
      rc = 2;
    }
  }
  q.model = model;
  cl_netstats *net = NULL;
  cl_scission_config *res = NULL;
  char path[4096], lower[256];
  if (!rc) {
    resolve_net(dir, netname, path, sizeof path);
    if (cl_netstats_load_csv(path, &net) != CL_OK) rc = 2;
  }
  if (!rc && !model_known(set, model, lower, sizeof lower)) {
    ERR("unknown model '%s': no profile in %s has it", model, src_desc(dir, &pi));
    rc = 2;
  }
  /* cleave profiles: the raw input is the model's input tensor (step 0, the input node) */
  for (int i = 0; !rc && !input_set && i < cl_profile_set_n_machines(set); i++) {
    const cl_profile_model *md = cl_profile_machine_model(cl_profile_set_machine(set, i), lower);
    if (steps_known(md) && md->layers[0].n_inputs == 0) {
      q.input_bytes = (double)md->layers[0].output_bytes;
      break;
    }
  }
  if (!rc && !(res = malloc((size_t)q.result_count * sizeof *res))) rc = 1;
  int n = 0;
  cl_scission_stats st = {0, 0};
  if (!rc) {
    cl_status s = cl_scission_search(set, net, &q, res, &n, &st);
    if (s != CL_OK) rc = (s == CL_ERR_NOMEM || s == CL_ERR_INTERNAL) ? 1 : 2;
  }
  if (!rc) {
    char line[2048];
    if (fmt != CL_SCISSION_FMT_SCISSION) {
      cl_scission_format_line(set, &q, NULL, 0, fmt, line, sizeof line);
      puts(line);
    }
    if (n == 0 && fmt == CL_SCISSION_FMT_SCISSION)
      puts("No results for the specified configuration");
    for (int r = 0; r < n; r++) {
      cl_scission_format_line(set, &q, &res[r], r + 1, fmt, line, sizeof line);
      puts(line);
    }
    if (stats)
      fprintf(stderr, "scission: %lld configurations, %lld feasible\n", (long long)st.enumerated,
              (long long)st.feasible);
  }
  if (!rc && emit) {
    if (n == 0) {
      ERR("--emit-config: no feasible configuration to write");
      rc = 2;
    } else {
      rc = scission_emit(emit, set, net, &q, &res[0], lower, inferences);
    }
  }
  free(res);
  cl_netstats_destroy(net);
  cl_profile_set_destroy(set);
  return rc;
}

/* ---- neurosurgeon and dads: shared two-node problem loader ---- */

/* A two-node problem: n units (blocks or layers) with times on side A (mobile /
 * device) and side B (cloud), output sizes, DAG inputs (CSR) and the link. */
typedef struct twonode {
  int n;
  double *ta, *tb, *out;
  int *in_off, *in_idx;
  int *first_layer, *last_layer; /* block mode: layer ranges; NULL in layer mode */
  double input_bytes, lat, bw;
  char a_name[256], b_name[256], model[256];
  cl_profile_set *set; /* profile-set modes: the loaded profiles (for --emit-config) */
  int ia, ib;          /* machines of side A and B in set, -1 if none */
  int steps;           /* 1: units are the steps of cleave .h5 profiles (emittable) */
} twonode;

static void twonode_free(twonode *p) {
  free(p->ta);
  free(p->tb);
  free(p->out);
  free(p->in_off);
  free(p->in_idx);
  free(p->first_layer);
  free(p->last_layer);
  cl_profile_set_destroy(p->set);
  p->set = NULL;
}

typedef struct twonode_opts {
  const char *dir, *net, *a, *b, *a_layers, *b_layers, *a_fit, *b_fit, *model;
  const char *bw_s, *lat_s, *emit;
  double input_mb;
  long inferences; /* of the emitted config */
  int dag; /* 1: DADS (add a virtual input node in block mode) */
  prof_items pi;
} twonode_opts;

/* Regression: fit on @p fit_path's layers, predict the times of @p md's layers. */
static int predict_times(const char *fit_path, const cl_profile_model *md, double *t) {
  cl_profile_set *fs = NULL;
  cl_ns_sample *smp = NULL;
  cl_ns_model *nm = NULL;
  int rc = 2, m;
  if (cl_profile_set_create(&fs) != CL_OK) return 1;
  if (cl_profile_set_add_machine(fs, "fit", "fit", &m) != CL_OK ||
      cl_profile_load_layers_csv(fs, m, "fit", fit_path) != CL_OK)
    goto done;
  const cl_profile_model *fm = cl_profile_machine_model(cl_profile_set_machine(fs, m), "fit");
  smp = malloc((size_t)fm->n_layers * sizeof *smp);
  if (!smp) goto done;
  for (int i = 0; i < fm->n_layers; i++) {
    const cl_profile_layer *l = &fm->layers[i];
    if (l->op < 0 || l->macs < 0 || l->input_bytes < 0) {
      ERR("%s: regression needs op, macs and in_bytes columns (layer %d)", fit_path, i);
      goto done;
    }
    smp[i] = (cl_ns_sample){l->op, (double)l->macs, (double)l->input_bytes,
                            (double)l->output_bytes, l->seconds};
  }
  if (cl_ns_model_fit(smp, fm->n_layers, &nm) != CL_OK) goto done;
  for (int i = 0; i < md->n_layers; i++) {
    const cl_profile_layer *l = &md->layers[i];
    if (l->op < 0 || l->macs < 0 || l->input_bytes < 0) {
      ERR("predicting needs op, macs and in_bytes columns in the layer file (layer %d)", i);
      goto done;
    }
    cl_ns_model_predict(nm, l->op, (double)l->macs, (double)l->input_bytes,
                        (double)l->output_bytes, &t[i]);
  }
  rc = 0;
done:
  cl_ns_model_destroy(nm);
  free(smp);
  cl_profile_set_destroy(fs);
  return rc;
}

static int twonode_load(const twonode_opts *o, twonode *p) {
  memset(p, 0, sizeof *p);
  p->ia = p->ib = -1;
  p->input_bytes = (o->input_mb < 0 ? 0.15 : o->input_mb) * 1e6; /* default 0.15 MB */
  cl_profile_set *set = NULL;
  cl_netstats *net = NULL;
  int rc = 0;
  if (cl_profile_set_create(&set) != CL_OK) return 1;
  const cl_profile_model *ma = NULL, *mb = NULL;
  if (o->a_layers || o->b_layers) {
    /* layer mode */
    int ia = -1, ib = -1;
    if (o->a_layers && (cl_profile_set_add_machine(set, "a", "a", &ia) != CL_OK ||
                        cl_profile_load_layers_csv(set, ia, "m", o->a_layers) != CL_OK))
      rc = 2;
    if (!rc && o->b_layers &&
        (cl_profile_set_add_machine(set, "b", "b", &ib) != CL_OK ||
         cl_profile_load_layers_csv(set, ib, "m", o->b_layers) != CL_OK))
      rc = 2;
    if (!rc) {
      ma = ia >= 0 ? cl_profile_machine_model(cl_profile_set_machine(set, ia), "m") : NULL;
      mb = ib >= 0 ? cl_profile_machine_model(cl_profile_set_machine(set, ib), "m") : NULL;
      const cl_profile_model *st = ma ? ma : mb;
      if ((!ma && !o->a_fit) || (!mb && !o->b_fit)) {
        ERR("each side needs a layer file or a --predict-* fit file");
        rc = 2;
      } else if (ma && mb && ma->n_layers != mb->n_layers) {
        ERR("layer files list %d and %d layers", ma->n_layers, mb->n_layers);
        rc = 2;
      } else {
        int n = p->n = st->n_layers;
        p->ta = malloc((size_t)n * sizeof *p->ta);
        p->tb = malloc((size_t)n * sizeof *p->tb);
        p->out = malloc((size_t)n * sizeof *p->out);
        p->in_off = malloc((size_t)(n + 1) * sizeof *p->in_off);
        p->in_idx = malloc((size_t)(n * 8 + 1) * sizeof *p->in_idx);
        if (!p->ta || !p->tb || !p->out || !p->in_off || !p->in_idx) rc = 1;
        int k = 0, cap = n * 8 + 1;
        for (int i = 0; i < n && !rc; i++) {
          const cl_profile_layer *l = &st->layers[i];
          p->ta[i] = ma ? ma->layers[i].seconds : 0;
          p->tb[i] = mb ? mb->layers[i].seconds : 0;
          p->out[i] = (double)l->output_bytes;
          p->in_off[i] = k;
          int ni = l->n_inputs < 0 ? (i > 0) : l->n_inputs; /* no inputs column: chain */
          if (k + ni > cap) {
            cap = 2 * (k + ni);
            int *q = realloc(p->in_idx, (size_t)cap * sizeof *q);
            if (!q) {
              rc = 1;
              break;
            }
            p->in_idx = q;
          }
          for (int j = 0; j < ni; j++) p->in_idx[k++] = l->n_inputs < 0 ? i - 1 : l->inputs[j];
        }
        if (!rc) p->in_off[n] = k;
        /* Layer 0 without inputs is the graph input: its output is the raw input. */
        if (!rc && o->input_mb < 0 && p->in_off[1] == 0) p->input_bytes = p->out[0];
        if (!rc && !ma) rc = predict_times(o->a_fit, st, p->ta);
        if (!rc && !mb) rc = predict_times(o->b_fit, st, p->tb);
        snprintf(p->model, sizeof p->model, "%s", o->a_layers ? o->a_layers : o->b_layers);
      }
    }
    snprintf(p->a_name, sizeof p->a_name, "%s", o->a ? o->a : "mobile");
    snprintf(p->b_name, sizeof p->b_name, "%s", o->b ? o->b : "cloud");
  } else {
    /* profile-set modes: --profiles DIR (.csv, .h5) and --profile TIER=FILE; the steps of
     * cleave .h5 profiles (real DAG), else Scission blocks (a chain) */
    if (!o->dir && !o->pi.n) {
      ERR("give --profiles DIR or --profile TIER=FILE.h5 (or per-layer CSV files); see --help");
      rc = 2;
    }
    cl_profile_set_destroy(set);
    set = NULL;
    if (!rc) rc = load_profiles(o->dir, &o->pi, &set);
    char lower[256];
    const char *model = o->model;
    if (!rc && !model) {
      const cl_profile_machine *m0 = cl_profile_set_machine(set, 0);
      if (m0 && m0->n_models) model = m0->models[0].name;
      else {
        ERR("no MODEL given");
        rc = 2;
      }
    }
    if (!rc && !model_known(set, model, lower, sizeof lower)) {
      ERR("unknown model '%s': no profile in %s has it", model, src_desc(o->dir, &o->pi));
      rc = 2;
    }
    int ia = -1, ib = -1;
    for (int i = 0; !rc && i < cl_profile_set_n_machines(set); i++) {
      const cl_profile_machine *m = cl_profile_set_machine(set, i);
      if (!cl_profile_machine_model(m, lower)) continue;
      if (ia < 0 && (o->a ? !strcmp(m->name, o->a) : !strcmp(m->tier, "device"))) ia = i;
      if (ib < 0 && (o->b ? !strcmp(m->name, o->b) : !strcmp(m->tier, "cloud"))) ib = i;
    }
    if (!rc && (ia < 0 || ib < 0)) {
      ERR("machine '%s' with model '%s' not found in %s",
          ia < 0 ? (o->a ? o->a : "(first device)") : (o->b ? o->b : "(first cloud)"), lower,
          src_desc(o->dir, &o->pi));
      rc = 2;
    }
    if (!rc) {
      ma = cl_profile_machine_model(cl_profile_set_machine(set, ia), lower);
      mb = cl_profile_machine_model(cl_profile_set_machine(set, ib), lower);
      p->steps = is_h5_machine(cl_profile_set_machine(set, ia)) && is_h5_machine(cl_profile_set_machine(set, ib)) &&
                 steps_known(ma) && steps_known(mb) && ma->n_layers == mb->n_layers;
      if (!p->steps && (!ma || !mb || ma->n_blocks != mb->n_blocks)) {
        ERR("model '%s' is not profiled with the same blocks on both machines", lower);
        rc = 2;
      }
    }
    if (!rc) {
      p->ia = ia;
      p->ib = ib;
      snprintf(p->a_name, sizeof p->a_name, "%s", cl_profile_set_machine(set, ia)->name);
      snprintf(p->b_name, sizeof p->b_name, "%s", cl_profile_set_machine(set, ib)->name);
      snprintf(p->model, sizeof p->model, "%s", lower);
    }
    if (!rc && p->steps) {
      /* steps of cleave profiles: the real DAG; step 0 is the input node (raw input) */
      int n = p->n = ma->n_layers, k = 0;
      for (int i = 0; i < n; i++) k += ma->layers[i].n_inputs;
      p->ta = malloc((size_t)n * sizeof *p->ta);
      p->tb = malloc((size_t)n * sizeof *p->tb);
      p->out = malloc((size_t)n * sizeof *p->out);
      p->in_off = malloc((size_t)(n + 1) * sizeof *p->in_off);
      p->in_idx = malloc((size_t)(k + 1) * sizeof *p->in_idx);
      if (!p->ta || !p->tb || !p->out || !p->in_off || !p->in_idx) rc = 1;
      k = 0;
      for (int i = 0; !rc && i < n; i++) {
        const cl_profile_layer *l = &ma->layers[i];
        p->ta[i] = l->seconds;
        p->tb[i] = mb->layers[i].seconds;
        p->out[i] = (double)l->output_bytes;
        p->in_off[i] = k;
        for (int j = 0; j < l->n_inputs; j++) p->in_idx[k++] = l->inputs[j];
      }
      if (!rc) p->in_off[n] = k;
      if (!rc && o->input_mb < 0 && p->in_off[1] == 0) p->input_bytes = p->out[0];
    } else if (!rc) {
      int v = o->dag, n = p->n = ma->n_blocks + v; /* DADS: node 0 = raw input */
      p->ta = calloc((size_t)n, sizeof *p->ta);
      p->tb = calloc((size_t)n, sizeof *p->tb);
      p->out = calloc((size_t)n, sizeof *p->out);
      p->in_off = calloc((size_t)(n + 1), sizeof *p->in_off);
      p->in_idx = calloc((size_t)(n + 1), sizeof *p->in_idx);
      p->first_layer = calloc((size_t)n, sizeof *p->first_layer);
      p->last_layer = calloc((size_t)n, sizeof *p->last_layer);
      if (!p->ta || !p->tb || !p->out || !p->in_off || !p->in_idx || !p->first_layer ||
          !p->last_layer)
        rc = 1;
      for (int i = 0; !rc && i < n; i++) {
        int b = i - v;
        p->ta[i] = b >= 0 ? ma->blocks[b].seconds : 0;
        p->tb[i] = b >= 0 ? mb->blocks[b].seconds : 0;
        p->out[i] = b >= 0 ? (double)ma->blocks[b].output_bytes : p->input_bytes;
        p->first_layer[i] = b >= 0 ? ma->blocks[b].first_layer : -1;
        p->last_layer[i] = b >= 0 ? ma->blocks[b].last_layer : -1;
        p->in_off[i + 1] = p->in_off[i] + (i > 0);
        if (i > 0) p->in_idx[p->in_off[i]] = i - 1;
      }
    }
  }
  /* link */
  if (!rc && o->net) {
    char path[4096];
    resolve_net(o->dir, o->net, path, sizeof path);
    if (cl_netstats_load_csv(path, &net) != CL_OK) rc = 2;
    const cl_netstats_link *l = rc ? NULL : cl_netstats_find(net, p->a_name, p->b_name);
    if (!rc && !l) {
      ERR("%s has no link %s -> %s", path, p->a_name, p->b_name);
      rc = 2;
    }
    if (l) {
      p->lat = l->latency_s;
      p->bw = l->bandwidth_Bps;
    }
  } else if (!rc) {
    double mbps = 0, ms = 0;
    if (!o->bw_s) {
      ERR("give --network FILE or --bandwidth MBPS [--latency MS]");
      rc = 2;
    } else if (cl__parse_double("plan", "--bandwidth", o->bw_s, 1e-9, 1e12, &mbps) ||
               (o->lat_s && cl__parse_double("plan", "--latency", o->lat_s, 0, 1e9, &ms))) {
      rc = 2;
    }
    p->bw = nearbyint(mbps * 125000.0);
    p->lat = ms / 1000.0;
    if (!rc && p->bw <= 0) {
      ERR("--bandwidth %s rounds to 0 bytes/s", o->bw_s);
      rc = 2;
    }
  }
  cl_netstats_destroy(net);
  if (p->ia >= 0) p->set = set; /* kept for --emit-config */
  else cl_profile_set_destroy(set);
  if (rc) twonode_free(p);
  return rc;
}

/* Common option parsing; returns 1 if argv[*i] was consumed, -1 on error. */
static int twonode_opt(int argc, char **argv, int *i, twonode_opts *o, const char *a_flag,
                       const char *a_layers_flag, const char *a_fit_flag) {
  int miss = 0;
  const char *v;
#define OPT(flag) (v = cl__opt(argc, argv, i, flag, &miss))
  if (OPT("--profiles")) o->dir = v;
  else if (OPT("--profile")) {
    if (prof_items_add(&o->pi, v)) return -1;
  } else if (OPT("--emit-config")) o->emit = v;
  else if (!strcmp(argv[*i], "--force")) return 1; /* --emit-config may replace a file */
  else if (OPT("--inferences")) {
    if (cl__parse_int("plan", "--inferences", v, 1, 1000000, &o->inferences)) return -1;
  } else if (OPT("--network")) o->net = v;
  else if (OPT(a_flag)) o->a = v;
  else if (OPT("--cloud")) o->b = v;
  else if (OPT(a_layers_flag)) o->a_layers = v;
  else if (OPT("--cloud-layers")) o->b_layers = v;
  else if (OPT(a_fit_flag)) o->a_fit = v;
  else if (OPT("--predict-cloud")) o->b_fit = v;
  else if (OPT("--bandwidth")) o->bw_s = v;
  else if (OPT("--latency")) o->lat_s = v;
  else if (OPT("--input") || OPT("-i")) {
    if (cl__parse_double("plan", "--input", v, 0, 1e9, &o->input_mb)) return -1;
  } else if (miss) {
    ERR("option %s needs a value", argv[*i]);
    return -1;
  } else {
    return 0;
  }
#undef OPT
  return 1;
}

static const char *k_twonode_help =
    "  source (profiles of machines, with --%s NAME (default: the first device machine)\n"
    "          and --cloud NAME (default: the first cloud machine)):\n"
    "    --profiles DIR [MODEL]   <tier>-<machine>.csv Scission profiles (blocks) and/or\n"
    "                             <tier>-<machine>.h5 cleave profiles (steps with their real DAG)\n"
    "    --profile TIER[:NAME]=FILE  one machine's profile (.h5 or .csv), repeatable\n"
    "  source (layer level, CSV with header layer,name,seconds,out_bytes[,inputs,op,macs,in_bytes]):\n"
    "    --%s-layers FILE --cloud-layers FILE\n"
    "    --predict-%s FIT.csv / --predict-cloud FIT.csv: instead of a side's layer file, fit\n"
    "                             per-op regressions (GSL) on FIT.csv and predict its times\n"
    "  link: --network FILE (bare name: inside --profiles DIR; rows named by machine) or\n"
    "        --bandwidth MBPS [--latency MS]\n"
    "  -i, --input MB             raw input size (0.15; layer files and .h5: the input's output)\n"
    "  --format table|csv         output format (table)\n"
    "  --emit-config FILE.yaml    write the plan as a runnable testbed config (.h5 profiles)\n"
    "  --inferences N             workload.inferences of the emitted config (5)\n";

/* A two-node plan as a testbed config: on_b[k] = 1 puts unit (step) k on side B. */
static int twonode_emit(const twonode_opts *o, const twonode *p, const unsigned char *on_b, const char *planner,
                        const char *summary) {
  if (!p->set || !p->steps) {
    ERR("--emit-config needs cleave HDF5 profiles of both machines (--profile TIER=FILE.h5 or <tier>-<machine>.h5 "
        "in --profiles DIR): per-layer CSV files and Scission CSV blocks are not cleave graph nodes");
    return 2;
  }
  int *nos = malloc(sizeof(int) * (size_t)p->n);
  if (!nos) return 1;
  for (int k = 0; k < p->n; k++)
    nos[k] = p->in_off[k + 1] == p->in_off[k] ? 0 : on_b[k]; /* the raw input stays on A */
  int machine[2] = {p->ia, p->ib};
  const char *tiers[2] = {"device", "cloud"};
  cl_plan_link link = {0, 1, p->lat, p->bw};
  char cmd[2048], comment[3072];
  argv_line(cmd, sizeof cmd);
  snprintf(comment, sizeof comment,
           "Testbed config written by: %s\n%s plan: %s\n"
           "plan -> run -> compare: mpiexec -n 2 cleave run THIS.yaml -o run.h5; "
           "cleave sim THIS.yaml --profile HOST.h5 --compare run.h5",
           cmd, planner, summary);
  int rc = emit_config(o->emit, p->set, p->model, 2, machine, tiers, nos, p->n, &link, 1,
                       o->inferences > 0 ? o->inferences : 5, comment);
  free(nos);
  return rc;
}

static int cmd_neurosurgeon(int argc, char **argv) {
  twonode_opts o = {0};
  o.input_mb = -1; /* unset */
  const char *obj_s = "latency", *fmt_s = "table";
  double pc = 0, ptx = 0, pidle = 0, result_bytes = 0;
  int all = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      printf("usage: cleave plan neurosurgeon [source] [link] [options]\n"
             "Best single mobile/cloud split for latency or mobile energy (Neurosurgeon).\n");
      printf(k_twonode_help, "mobile", "mobile", "mobile");
      printf("  --objective latency|energy  (latency)\n"
             "  --power W, --tx-power W, --idle-power W   mobile power computing / sending / "
             "waiting\n"
             "  --result-bytes B           bytes returned to the mobile after a cloud tail (0)\n"
             "  --all                      print every split point\n");
      return 0;
    }
    int r = twonode_opt(argc, argv, &i, &o, "--mobile", "--mobile-layers", "--predict-mobile");
    if (r < 0) return 2;
    if (r) continue;
    int miss = 0;
    const char *v;
    if ((v = cl__opt(argc, argv, &i, "--objective", &miss))) obj_s = v;
    else if ((v = cl__opt(argc, argv, &i, "--format", &miss))) fmt_s = v;
    else if ((v = cl__opt(argc, argv, &i, "--power", &miss))) {
      if (cl__parse_double("plan", "--power", v, 0, 1e6, &pc)) return 2;
    } else if ((v = cl__opt(argc, argv, &i, "--tx-power", &miss))) {
      if (cl__parse_double("plan", "--tx-power", v, 0, 1e6, &ptx)) return 2;
    } else if ((v = cl__opt(argc, argv, &i, "--idle-power", &miss))) {
      if (cl__parse_double("plan", "--idle-power", v, 0, 1e6, &pidle)) return 2;
    } else if ((v = cl__opt(argc, argv, &i, "--result-bytes", &miss))) {
      if (cl__parse_double("plan", "--result-bytes", v, 0, 1e15, &result_bytes)) return 2;
    } else if (!strcmp(a, "--all")) all = 1;
    else if (miss) {
      ERR("option %s needs a value", a);
      return 2;
    } else if (a[0] == '-') {
      ERR("unknown option '%s' (see cleave plan neurosurgeon --help)", a);
      return 2;
    } else if (!o.model) o.model = a;
    else {
      ERR("unexpected argument '%s'", a);
      return 2;
    }
  }
  int energy = !strcmp(obj_s, "energy");
  if (!energy && strcmp(obj_s, "latency")) {
    ERR("--objective expects latency or energy, got '%s'", obj_s);
    return 2;
  }
  if (strcmp(fmt_s, "table") && strcmp(fmt_s, "csv")) {
    ERR("--format expects table or csv, got '%s'", fmt_s);
    return 2;
  }
  if (energy && pc == 0 && ptx == 0 && pidle == 0) {
    ERR("the energy objective needs --power/--tx-power/--idle-power");
    return 2;
  }
  twonode p;
  int rc = twonode_load(&o, &p);
  if (rc) return rc;
  cl_ns_input in = {p.n, p.ta, p.tb, p.out, NULL, p.input_bytes, p.lat, p.bw, result_bytes,
                    energy ? CL_NS_ENERGY : CL_NS_LATENCY, pc, ptx, pidle};
  /* Layer DAGs: only single-tensor cut points are legal splits. */
  unsigned char *cut_ok = calloc((size_t)p.n + 1, 1);
  cl_ns_result *res = malloc((size_t)(p.n + 1) * sizeof *res);
  cl_ns_result best;
  if (!cut_ok || !res) rc = 1;
  if (!rc) {
    for (int s = 0; s <= p.n; s++) cut_ok[s] = 1;
    for (int v = 0; v < p.n; v++)
      for (int k = p.in_off[v]; k < p.in_off[v + 1]; k++)
        for (int s = p.in_idx[k] + 2; s <= v; s++) cut_ok[s] = 0; /* edge u->v spans cut s */
    in.cut_ok = cut_ok;
    if (cl_neurosurgeon_plan(&in, &best, res) != CL_OK) rc = 1;
  }
  if (!rc) {
    int csv = !strcmp(fmt_s, "csv");
    if (csv) puts("split,latency_s,mobile_s,comm_s,cloud_s,upload_bytes,mobile_energy_j,best");
    else
      printf("neurosurgeon: %s, mobile %s, cloud %s, link %.4g ms / %.6g MB/s, objective %s\n",
             p.model, p.a_name, p.b_name, p.lat * 1e3, p.bw / 1e6, obj_s);
    for (int s = 0; s <= p.n; s++) {
      if (res[s].split < 0 || (!all && s != best.split)) continue;
      const cl_ns_result *r = &res[s];
      if (csv) {
        printf("%d,%.9g,%.9g,%.9g,%.9g,%.0f,%.9g,%d\n", s, r->latency, r->t_mobile, r->t_comm,
               r->t_cloud, r->bytes, r->energy, s == best.split);
        continue;
      }
      char where[128] = "";
      if (p.first_layer && s > 0) snprintf(where, sizeof where, " (mobile runs layers 0-%d)",
                                           p.last_layer[s - 1]);
      printf("%s split %d/%d%s: latency %.4f s (mobile %.4f, comm %.4f, cloud %.4f), "
             "upload %.4f MB, mobile energy %.4f J\n",
             s == best.split ? "best" : "    ", s, p.n, where, r->latency, r->t_mobile,
             r->t_comm, r->t_cloud, r->bytes / 1e6, r->energy);
    }
  }
  if (!rc && o.emit) {
    unsigned char *on_b = malloc((size_t)p.n + 1);
    if (!on_b) rc = 1;
    for (int k = 0; !rc && k < p.n; k++) on_b[k] = k >= best.split;
    char sum[512];
    snprintf(sum, sizeof sum,
             "split %d of %d (steps 0-%d on %s): predicted latency %.6f s (mobile %.6f, transfer %.6f, cloud "
             "%.6f), %.0f bytes sent",
             best.split, p.n, best.split - 1, p.a_name, best.latency, best.t_mobile, best.t_comm, best.t_cloud,
             best.bytes);
    if (!rc) rc = twonode_emit(&o, &p, on_b, "Neurosurgeon", sum);
    free(on_b);
  }
  free(cut_ok);
  free(res);
  twonode_free(&p);
  return rc;
}

static int cmd_dads(int argc, char **argv) {
  twonode_opts o = {0};
  o.input_mb = -1; /* unset */
  o.dag = 1;
  const char *fmt_s = "table";
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      printf("usage: cleave plan dads [source] [link] [options]\n"
             "Latency-optimal device/cloud partition of a DAG by min-cut (DADS).\n"
             "Layers without inputs hold the raw input and stay on the device; block-level\n"
             "sources get a virtual input node 0 of --input MB.\n");
      printf(k_twonode_help, "device", "device", "device");
      return 0;
    }
    int r = twonode_opt(argc, argv, &i, &o, "--device", "--device-layers", "--predict-device");
    if (r < 0) return 2;
    if (r) continue;
    int miss = 0;
    const char *v;
    if ((v = cl__opt(argc, argv, &i, "--format", &miss))) fmt_s = v;
    else if (miss) {
      ERR("option %s needs a value", a);
      return 2;
    } else if (a[0] == '-') {
      ERR("unknown option '%s' (see cleave plan dads --help)", a);
      return 2;
    } else if (!o.model) o.model = a;
    else {
      ERR("unexpected argument '%s'", a);
      return 2;
    }
  }
  if (strcmp(fmt_s, "table") && strcmp(fmt_s, "csv")) {
    ERR("--format expects table or csv, got '%s'", fmt_s);
    return 2;
  }
  twonode p;
  int rc = twonode_load(&o, &p);
  if (rc) return rc;
  cl_dads_input in = {p.n, p.in_off, p.in_idx, p.ta, p.tb, p.out, p.bw, p.lat};
  unsigned char *cloud = calloc((size_t)p.n, 1), *dev = calloc((size_t)p.n, 1);
  cl_dads_result r, r_dev;
  if (!cloud || !dev) rc = 1;
  if (!rc && (cl_dads_plan(&in, cloud, &r) != CL_OK || cl_dads_eval(&in, dev, &r_dev) != CL_OK))
    rc = 1;
  if (!rc) {
    if (!strcmp(fmt_s, "csv")) {
      puts("node,first_layer,last_layer,on_cloud,device_s,cloud_s,out_bytes");
      for (int v = 0; v < p.n; v++)
        printf("%d,%d,%d,%d,%.9g,%.9g,%.0f\n", v, p.first_layer ? p.first_layer[v] : v,
               p.last_layer ? p.last_layer[v] : v, cloud[v], p.ta[v], p.tb[v], p.out[v]);
    } else {
      printf("dads: %s, device %s, cloud %s, link %.4g ms / %.6g MB/s\n", p.model, p.a_name,
             p.b_name, p.lat * 1e3, p.bw / 1e6);
      printf("latency %.4f s (all on device %.4f s), %d of %d nodes on the cloud, %d tensors / "
             "%.4f MB sent\n",
             r.latency, r_dev.latency, r.n_cloud, p.n, r.n_sent, r.bytes / 1e6);
      printf("cloud nodes:");
      for (int v = 0; v < p.n; v++) {
        if (!cloud[v] || (v > 0 && cloud[v - 1])) continue;
        int w = v;
        while (w + 1 < p.n && cloud[w + 1]) w++;
        printf(v == w ? " %d" : " %d-%d", v, w);
      }
      printf("%s\n", r.n_cloud ? "" : " none");
    }
  }
  if (!rc && o.emit) {
    char sum[512];
    snprintf(sum, sizeof sum,
             "%d of %d steps on the cloud: predicted latency %.6f s (all on the device %.6f s), %d tensors / %.0f "
             "bytes sent",
             r.n_cloud, p.n, r.latency, r_dev.latency, r.n_sent, r.bytes);
    rc = twonode_emit(&o, &p, cloud, "DADS", sum);
  }
  free(cloud);
  free(dev);
  twonode_free(&p);
  return rc;
}

/* ---- dispatch ---- */

static void plan_usage(FILE *f) {
  fprintf(f,
          "usage: cleave plan <planner> [options]   (cleave plan <planner> --help)\n\n"
          "planners:\n"
          "  scission      rank every device/edge/cloud block split (Scission, UCC 2020)\n"
          "  neurosurgeon  best single mobile/cloud split for latency or energy (ASPLOS 2017)\n"
          "  dads          optimal device/cloud DAG partition by min-cut (INFOCOM 2019)\n"
          "  coedge        cooperative spatial partitioning across edge devices\n");
}

int cl__cmd_plan(int argc, char **argv) {
  if (argc < 2) {
    plan_usage(stderr);
    return 2;
  }
  const char *p = argv[1];
  if (!strcmp(p, "--help") || !strcmp(p, "-h")) {
    plan_usage(stdout);
    return 0;
  }
  if (!strcmp(p, "scission")) return cmd_scission(argc - 1, argv + 1);
  if (!strcmp(p, "neurosurgeon")) return cmd_neurosurgeon(argc - 1, argv + 1);
  if (!strcmp(p, "dads")) return cmd_dads(argc - 1, argv + 1);
  if (!strcmp(p, "coedge")) return cl__cmd_plan_coedge(argc - 1, argv + 1);
  ERR("unknown planner '%s' (scission, neurosurgeon, dads, coedge)", p);
  return 2;
}

