/* cleave plan: the option table of the scission / neurosurgeon / dads / generic
 * subcommands, their help texts and the Scission query built from the options. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/coedge.h"
#include "cli.h"
#include "cmd_plan.h"
#include "commands.h"

typedef enum { K_STR, K_DBL, K_INT, K_FLAG, K_SRC, K_KV, K_SEC, K_BW } opt_kind;

/* One option: flag (and alias), the subcommands that take it, how its value is stored
 * (at byte offset `off` of plan_opts), numeric range, and for K_KV the list (0 criteria,
 * 1 upload limits, 2 time limits) and the tier (NULL: the value is TIER=VALUE). */
typedef struct opt_row {
  const char *flag, *alias;
  int cmds;
  opt_kind kind;
  size_t off;
  double lo, hi;
  int list;
  const char *tier;
} opt_row;

#define S PLAN_SCISSION
#define N PLAN_NS
#define D PLAN_DADS
#define G PLAN_GENERIC
#define C PLAN_COEDGE
#define O(f) offsetof(plan_opts, f)
static const opt_row k_opts[] = {
    {"--profiles", NULL, S | N | D | G, K_STR, O(tn.src.dir), 0, 0, 0, NULL},
    {"--profile", NULL, S | N | D | G, K_SRC, 0, 0, 0, 0, NULL},
    {"--emit-config", NULL, S | N | D, K_STR, O(emit), 0, 0, 0, NULL},
    {"--inferences", NULL, S | N | D, K_INT, O(inferences), 1, 1000000, 0, NULL},
    {"--network", NULL, S | N | D | G, K_STR, O(tn.net), 0, 0, 0, NULL},
    {"-d", "--device", S, K_KV, 0, 0, 0, 0, "device"},
    {"-e", "--edge", S, K_KV, 0, 0, 0, 0, "edge"},
    {"-c", "--cloud", S, K_KV, 0, 0, 0, 0, "cloud"},
    {"--criteria", NULL, S, K_KV, 0, 0, 0, 0, NULL},
    {"--input", "-i", S | N | D, K_DBL, O(tn.input_mb), 0, 1e9, 0, NULL},
    {"--device-upload", NULL, S, K_KV, 0, 0, 0, 1, "device"},
    {"--edge-upload", NULL, S, K_KV, 0, 0, 0, 1, "edge"},
    {"--upload", NULL, S, K_KV, 0, 0, 0, 1, NULL},
    {"--device-time", NULL, S, K_KV, 0, 0, 0, 2, "device"},
    {"--edge-time", NULL, S, K_KV, 0, 0, 0, 2, "edge"},
    {"--cloud-time", NULL, S, K_KV, 0, 0, 0, 2, "cloud"},
    {"--time", NULL, S, K_KV, 0, 0, 0, 2, NULL},
    {"--result-count", NULL, S, K_INT, O(count), 1, 1000000, 0, NULL},
    {"--objective", NULL, S | N | G, K_STR, O(obj), 0, 0, 0, NULL},
    {"--weights", NULL, S, K_STR, O(weights), 0, 0, 0, NULL},
    {"--power", NULL, S, K_STR, O(power_s), 0, 0, 0, NULL},
    {"--power", NULL, N, K_DBL, O(pc), 0, 1e6, 0, NULL},
    {"--tx-power", NULL, S, K_STR, O(tx_s), 0, 0, 0, NULL},
    {"--tx-power", NULL, N, K_DBL, O(ptx), 0, 1e6, 0, NULL},
    {"--idle-power", NULL, N, K_DBL, O(pidle), 0, 1e6, 0, NULL},
    {"--result-bytes", NULL, N, K_DBL, O(result_bytes), 0, 1e15, 0, NULL},
    {"--tiers", NULL, S, K_STR, O(tiers), 0, 0, 0, NULL},
    {"--format", NULL, S | N | D | G | C, K_STR, O(fmt), 0, 0, 0, NULL},
    {"--scission-compat", NULL, S, K_FLAG, O(compat), 0, 0, 0, NULL},
    {"--stats", NULL, S, K_FLAG, O(stats), 0, 0, 0, NULL},
    {"--all", NULL, N | G, K_FLAG, O(all), 0, 0, 0, NULL},
    {"--mobile", NULL, N, K_STR, O(tn.a), 0, 0, 0, NULL},
    {"--device", NULL, D, K_STR, O(tn.a), 0, 0, 0, NULL},
    {"--cloud", NULL, N | D, K_STR, O(tn.b), 0, 0, 0, NULL},
    {"--mobile-layers", NULL, N, K_STR, O(tn.a_layers), 0, 0, 0, NULL},
    {"--device-layers", NULL, D, K_STR, O(tn.a_layers), 0, 0, 0, NULL},
    {"--cloud-layers", NULL, N | D, K_STR, O(tn.b_layers), 0, 0, 0, NULL},
    {"--predict-mobile", NULL, N, K_STR, O(tn.a_fit), 0, 0, 0, NULL},
    {"--predict-device", NULL, D, K_STR, O(tn.a_fit), 0, 0, 0, NULL},
    {"--predict-cloud", NULL, N | D, K_STR, O(tn.b_fit), 0, 0, 0, NULL},
    {"--bandwidth", NULL, N | D | G, K_DBL, O(tn.bandwidth_mbps), 1e-9, 1e12, 0, NULL},
    {"--latency", NULL, N | D | G, K_DBL, O(tn.latency_ms), 0, 1e9, 0, NULL},
    {"--planner", NULL, G | C, K_STR, O(planner), 0, 0, 0, NULL},
    {"--testbed", NULL, G, K_STR, O(testbed), 0, 0, 0, NULL},
    {"--host-profile", NULL, G, K_STR, O(host_profile), 0, 0, 0, NULL},
    {"--host-gflops", NULL, G | C, K_DBL, O(host_gflops), 1e-6, 1e9, 0, NULL},
    {"--deadline", NULL, G | C, K_SEC, O(deadline), 0, 0, 0, NULL},
    {"--devices", NULL, C, K_STR, O(devices), 0, 0, 0, NULL},
    {"--bandwidth", NULL, C, K_BW, O(c_bandwidth), 0, 0, 0, NULL},
    {"--msg-latency", NULL, C, K_SEC, O(msg_lat), 0, 0, 0, NULL},
    {"--mode", NULL, C, K_STR, O(mode), 0, 0, 0, NULL},
    {"--show-plan", NULL, C, K_FLAG, O(show_plan), 0, 0, 0, NULL},
    {"--run", NULL, C, K_FLAG, O(run), 0, 0, 0, NULL},
    {"--no-adapt", NULL, C, K_FLAG, O(no_adapt), 0, 0, 0, NULL},
    {"--force", NULL, S | N | D | C, K_FLAG, O(force), 0, 0, 0, NULL},
    {"--inferences", NULL, C, K_INT, O(inferences), 1, 1e7, 0, NULL},
    {"--threshold", NULL, C, K_DBL, O(threshold), 1e-6, 100, 0, NULL},
    {"--probe-every", NULL, C, K_DBL, O(probe), 0, 1e9, 0, NULL},
    {"--seed", NULL, C, K_DBL, O(seed), 0, 9e15, 0, NULL},
    {"--schedule", NULL, C, K_STR, O(schedule), 0, 0, 0, NULL},
    {"-o", NULL, C, K_STR, O(out), 0, 0, 0, NULL},
};
#undef O

void plan_opts_init(plan_opts *o) {
  memset(o, 0, sizeof *o);
  cl_plan_twonode_opts_init(&o->tn);
  o->obj = "latency";
  o->count = 5;
  o->inferences = 5;
  o->c_bandwidth = o->msg_lat = o->probe = -1;
  o->threshold = 0.15;
  o->seed = 1;
}

static const char *k_scission_help =
    "usage: cleave plan scission --profiles DIR|--profile TIER=FILE... --network FILE [options] [MODEL]\n"
    "Rank every device->edge->cloud split of MODEL (Scission, UCC 2020).\n"
    "  --profiles DIR        folder of <tier>-<machine>.csv Scission profiles and/or\n"
    "                        <tier>-<machine>.h5 cleave profiles (cleave profile MODEL -o FILE.h5)\n"
    "  --profile TIER[:NAME]=FILE   one more machine (.h5 or .csv; NAME: default the file's base\n"
    "                        name without 'TIER-'); repeatable. MODEL defaults to the first profiled\n"
    "  --emit-config FILE.yaml  write the best configuration as a runnable testbed config\n"
    "  --force               let --emit-config replace an existing file\n"
    "                        (needs .h5 profiles; see docs/planners.md)\n"
    "  --inferences N        workload.inferences of the emitted config (5)\n"
    "  --network FILE        source,destination,ping(ms),bandwidth(mbps) (bare name: in DIR)\n"
    "  -d/-e/-c LIST         device/edge/cloud criteria: N, !N, -1, !-1, name, !name\n"
    "  --criteria TIER=LIST  criteria for any tier (with --tiers)\n"
    "  -i, --input MB        raw input size sent when the device runs nothing (0.15; .h5\n"
    "                        profiles: the model's input tensor)\n"
    "  --device-upload MB, --edge-upload MB, --upload TIER=MB   upload limits\n"
    "  --device-time T, --edge-time T, --cloud-time T, --time TIER=T\n"
    "                        compute-time limits: seconds or x% of total compute\n"
    "  --result-count N      results to print (5)\n"
    "  --objective latency|energy|bytes|weighted   (latency)\n"
    "  --weights A,B,C       weighted: A*seconds + B*joules + C*MB\n"
    "  --power TIER=W,...    compute power per tier (energy objective)\n"
    "  --tx-power TIER=W,... radio power of a tier while it sends\n"
    "  --tiers T1,T2,...     tier order (default device,edge,cloud; file prefix = tier)\n"
    "  --scission-compat     reproduce Scission's zero-time-tier byte accounting\n"
    "  --format scission|table|csv   output format (scission)\n"
    "  --stats               print the number of configurations to stderr\n";

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

static const char *k_generic_help =
    "usage: cleave plan --planner NAME [input] [options] MODEL     one planner\n"
    "       cleave plan compare [input] [options] MODEL            every planner, one row each\n"
    "       cleave plan NAME [input] [options] MODEL               (NAME: a planner not listed above)\n"
    "Runs planners through the common interface (include/cleave/plan.h, docs/planners.md):\n"
    "one input, one cost model, one placement per planner.\n"
    "  input, one of:\n"
    "    --profiles DIR | --profile TIER[:NAME]=FILE...   measured profiles (units: .h5 steps or\n"
    "                 Scission blocks); a zoo MODEL also enables the spatial planners\n"
    "    --testbed FILE.yaml   machines, powers and links of a testbed config; units = graph\n"
    "                 nodes timed by --host-profile FILE.h5 or by flops / --host-gflops (20)\n"
    "  link: --network FILE or --bandwidth MBPS [--latency MS] (default for unlisted pairs)\n"
    "  --objective latency|energy   (latency)      --deadline S   latency deadline (coedge)\n"
    "  --format table|csv           (table)        --all          compare: also list n/a planners\n";

static void help(int cmd) {
  if (cmd == PLAN_SCISSION) {
    fputs(k_scission_help, stdout);
  } else if (cmd == PLAN_NS) {
    printf("usage: cleave plan neurosurgeon [source] [link] [options]\n"
           "Best single mobile/cloud split for latency or mobile energy (Neurosurgeon).\n");
    printf(k_twonode_help, "mobile", "mobile", "mobile");
    printf("  --objective latency|energy  (latency)\n"
           "  --power W, --tx-power W, --idle-power W   mobile power computing / sending / "
           "waiting\n"
           "  --result-bytes B           bytes returned to the mobile after a cloud tail (0)\n"
           "  --all                      print every split point\n");
  } else if (cmd == PLAN_DADS) {
    printf("usage: cleave plan dads [source] [link] [options]\n"
           "Latency-optimal device/cloud partition of a DAG by min-cut (DADS).\n"
           "Layers without inputs hold the raw input and stay on the device; block-level\n"
           "sources get a virtual input node 0 of --input MB.\n");
    printf(k_twonode_help, "device", "device", "device");
  } else if (cmd == PLAN_COEDGE) {
    plan_coedge_usage(stdout);
  } else {
    fputs(k_generic_help, stdout);
  }
}

/* Store value @p v of row @p r; 0 ok, 2 error (printed). */
static int store(const opt_row *r, const char *flag, const char *v, plan_opts *o) {
  char *base = (char *)o;
  switch (r->kind) {
    case K_STR: *(const char **)(base + r->off) = v; return 0;
    case K_DBL: return cl__parse_double("plan", r->flag, v, r->lo, r->hi, (double *)(base + r->off)) ? 2 : 0;
    case K_INT: return cl__parse_int("plan", r->flag, v, (long)r->lo, (long)r->hi, (long *)(base + r->off)) ? 2 : 0;
    case K_FLAG: *(int *)(base + r->off) = 1; return 0;
    case K_SEC: return cl_coedge_parse_seconds(v, (double *)(base + r->off)) == CL_OK ? 0 : 2;
    case K_BW: return cl_coedge_parse_bandwidth(v, (double *)(base + r->off)) == CL_OK ? 0 : 2;
    case K_SRC: return cl_plan_sources_add(&o->tn.src, v) == CL_OK ? 0 : 2;
    case K_KV:
      if (o->n_kv[r->list] >= PLAN_MAX_KV - 2) {
        PLAN_ERR("too many %s options", flag);
        return 2;
      }
      o->kv[r->list][o->n_kv[r->list]++] = r->tier;
      o->kv[r->list][o->n_kv[r->list]++] = v;
      return 0;
  }
  return 2;
}

int plan_opts_parse(int cmd, const char *name, int argc, char **argv, plan_opts *o) {
  const int n_rows = (int)(sizeof k_opts / sizeof k_opts[0]);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      help(cmd);
      return -1;
    }
    int miss = 0, done = 0;
    for (int k = 0; k < n_rows && !done && !miss; k++) {
      const opt_row *r = &k_opts[k];
      if (!(r->cmds & cmd)) continue;
      if (r->kind == K_FLAG) {
        if (strcmp(a, r->flag)) continue;
        done = 1;
        if (store(r, a, NULL, o)) return 2;
        continue;
      }
      const char *v = cl__opt(argc, argv, &i, r->flag, &miss);
      if (!v && !miss && r->alias) v = cl__opt(argc, argv, &i, r->alias, &miss);
      if (!v) continue;
      done = 1;
      if (store(r, a, v, o)) return 2;
    }
    if (done) continue;
    if (miss) {
      PLAN_ERR("option %s needs a value", a);
      return 2;
    }
    if (a[0] == '-' && a[1]) {
      PLAN_ERR("unknown option '%s' (see cleave plan %s --help)", a, name);
      return 2;
    }
    if (o->tn.model) {
      PLAN_ERR("unexpected argument '%s' (one MODEL expected)", a);
      return 2;
    }
    o->tn.model = a;
  }
  /* --emit-config: an existing file (without --force), a directory or one of the inputs
   * is refused before any planning work (checked again when written) */
  if (o->emit && cl__check_output("plan --emit-config", o->emit)) return 2;
  return 0;
}

void plan_argv_line(char *out, size_t cap) {
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

int plan_exit(cl_status st) { return st == CL_OK ? 0 : st == CL_ERR_NOMEM || st == CL_ERR_INTERNAL ? 1 : 2; }

/* ---- the Scission query ---- */

static int tier_index(const cl_scission_query *q, const char *name) {
  for (int t = 0; t < q->n_tiers; t++)
    if (!strcmp(q->tiers[t], name)) return t;
  return -1;
}

/* Copy @p v into @p buf and split it at '=' (tier in buf, value returned; NULL if none). */
static char *kv_split(const char *v, char *buf, size_t cap) {
  if (strlen(v) >= cap) return NULL;
  strcpy(buf, v);
  char *eq = strchr(buf, '=');
  if (!eq) return NULL;
  *eq = '\0';
  return eq + 1;
}

/* "tier=W,tier=W" into per-tier values. */
static int tier_values(const cl_scission_query *q, const char *flag, const char *v, double *dst, char *buf) {
  if (strlen(v) >= 512) {
    PLAN_ERR("%s value too long", flag);
    return 2;
  }
  strcpy(buf, v);
  char *save = NULL, item[512];
  for (char *it = strtok_r(buf, ",", &save); it; it = strtok_r(NULL, ",", &save)) {
    char *val = kv_split(it, item, sizeof item);
    int t = val ? tier_index(q, item) : -1;
    if (t < 0) {
      PLAN_ERR("%s expects TIER=VALUE items with a known tier, got '%s'", flag, item);
      return 2;
    }
    if (cl__parse_double("plan", flag, val, 0, 1e9, &dst[t])) return 2;
  }
  return 0;
}

/* One tier-keyed option (list 0 criteria, 1 upload MB, 2 time limit) of tier t. */
static int tier_option(cl_scission_query *q, int list, int t, const char *tier, char *val) {
  if (list == 0) {
    if (cl_scission_criteria_check(tier, val) != CL_OK) return 2;
    q->criteria[t] = val;
  } else if (list == 1) {
    double mb;
    if (cl__parse_double("plan", "upload limit (MB)", val, 0, 1e12, &mb)) return 2;
    q->upload_limit[t] = mb * 1000.0 * 1000.0;
  } else {
    size_t n = strlen(val);
    q->time_limit_pct[t] = n && val[n - 1] == '%';
    if (q->time_limit_pct[t]) val[n - 1] = '\0';
    if (!n || cl__parse_double("plan", "time limit", val, 0, 1e12, &q->time_limit[t])) {
      if (!n) PLAN_ERR("time limit expects seconds or x%%, got ''");
      return 2;
    }
  }
  return 0;
}

int plan_scission_query(plan_opts *o, cl_scission_query *q, char store[][512], int n_store) {
  cl_scission_query_init(q);
  q->input_bytes = (o->tn.input_mb >= 0 ? o->tn.input_mb : 0.15) * 1000.0 * 1000.0;
  q->result_count = (int)o->count;
  q->scission_compat = o->compat;
  int s = 0;
  if (o->tiers) {
    if (strlen(o->tiers) >= 512) {
      PLAN_ERR("--tiers value too long");
      return 2;
    }
    strcpy(store[s], o->tiers);
    q->n_tiers = 0;
    char *save = NULL;
    for (char *t = strtok_r(store[s++], ",", &save); t; t = strtok_r(NULL, ",", &save)) {
      if (q->n_tiers == CL_SCISSION_MAX_TIERS) {
        PLAN_ERR("--tiers: at most %d tiers", CL_SCISSION_MAX_TIERS);
        return 2;
      }
      q->tiers[q->n_tiers++] = t;
    }
    if (!q->n_tiers) {
      PLAN_ERR("--tiers needs at least one tier name");
      return 2;
    }
  }
  static const char *objs[] = {"latency", "energy", "bytes", "weighted"};
  int obj = -1;
  for (int k = 0; k < 4; k++)
    if (!strcmp(o->obj, objs[k])) obj = k;
  if (obj < 0) {
    PLAN_ERR("--objective expects latency, energy, bytes or weighted, got '%s'", o->obj);
    return 2;
  }
  q->objective = (cl_plan_objective)obj;
  if (o->weights) {
    char *end;
    const char *p = o->weights;
    for (int w = 0; w < 3; w++) {
      errno = 0;
      q->weights[w] = strtod(p, &end);
      if (errno || end == p || q->weights[w] < 0 || (w < 2 && *end != ',') || (w == 2 && *end)) {
        PLAN_ERR("--weights expects three non-negative numbers A,B,C, got '%s'", o->weights);
        return 2;
      }
      p = end + 1;
    }
  } else if (q->objective == CL_PLAN_WEIGHTED) {
    PLAN_ERR("--objective weighted needs --weights A,B,C");
    return 2;
  }
  if (o->power_s && tier_values(q, "--power", o->power_s, q->power_w, store[s++])) return 2;
  if (o->tx_s && tier_values(q, "--tx-power", o->tx_s, q->tx_power_w, store[s++])) return 2;
  if ((q->objective == CL_PLAN_ENERGY || (q->objective == CL_PLAN_WEIGHTED && q->weights[1] > 0)) && !o->power_s) {
    PLAN_ERR("the energy objective needs --power TIER=W,... (and usually --tx-power)");
    return 2;
  }
  for (int list = 0; list < 3; list++)
    for (int j = 0; j < o->n_kv[list]; j += 2, s++) {
      if (s >= n_store) {
        PLAN_ERR("too many tier options");
        return 2;
      }
      const char *tier = o->kv[list][j];
      char *val = store[s];
      if (strlen(o->kv[list][j + 1]) >= 512) {
        PLAN_ERR("option value too long");
        return 2;
      }
      strcpy(val, o->kv[list][j + 1]);
      if (!tier) {
        char item[512];
        snprintf(item, sizeof item, "%s", val);
        char *v = kv_split(item, val, 512);
        if (!v) {
          PLAN_ERR("expected TIER=VALUE, got '%s'", item);
          return 2;
        }
        tier = val;
        val = v;
      }
      int t = tier_index(q, tier);
      if (t < 0) {
        PLAN_ERR("tier '%s' is not in the tier list (see --tiers)", tier);
        return 2;
      }
      if (tier_option(q, list, t, tier, val)) return 2;
    }
  if (o->compat && q->n_tiers != 3) {
    PLAN_ERR("--scission-compat needs the three tiers device,edge,cloud");
    return 2;
  }
  return 0;
}
