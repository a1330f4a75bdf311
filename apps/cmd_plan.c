/* cleave plan <planner>: Scission, Neurosurgeon and DADS planners on profile data
 * (CoEdge lives in cmd_plan_coedge.c). Exit codes: 0 ok, 1 runtime failure, 2 usage. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleave/planner.h"
#include "cleave/profile.h"
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

static int load_profiles(const char *dir, cl_profile_set **set) {
  if (cl_profile_set_create(set) != CL_OK) return 1;
  if (cl_profile_load_scission_dir(*set, dir) != CL_OK) return 2;
  return 0;
}

/* 1 if some machine of the set profiles @p model (case-insensitive). */
static int model_known(const cl_profile_set *set, const char *model, char *lower, size_t cap) {
  size_t n = strlen(model);
  if (n >= cap) return 0;
  for (size_t i = 0; i <= n; i++) lower[i] = (char)tolower((unsigned char)model[i]);
  for (int i = 0; i < cl_profile_set_n_machines(set); i++)
    if (cl_profile_machine_model(cl_profile_set_machine(set, i), lower)) return 1;
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
          "usage: cleave plan scission --profiles DIR --network FILE [options] MODEL\n"
          "Rank every device->edge->cloud split of MODEL (Scission, UCC 2020).\n"
          "  --profiles DIR        folder of <tier>-<machine>.csv Scission profiles\n"
          "  --network FILE        source,destination,ping(ms),bandwidth(mbps) (bare name: in DIR)\n"
          "  -d/-e/-c LIST         device/edge/cloud criteria: N, !N, -1, !-1, name, !name\n"
          "  --criteria TIER=LIST  criteria for any tier (with --tiers)\n"
          "  -i, --input MB        raw input size sent when the device runs nothing (0.15)\n"
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

static int cmd_scission(int argc, char **argv) {
  const char *dir = NULL, *netname = NULL, *model = NULL, *fmt_s = "scission";
  const char *tiers_s = NULL, *power_s = NULL, *tx_s = NULL, *weights_s = NULL;
  const char *obj_s = "latency";
  /* Tier-keyed options are applied after --tiers is known. */
  const char *kv_crit[32], *kv_upload[32], *kv_time[32];
  int n_crit = 0, n_upload = 0, n_time = 0, stats = 0, compat = 0;
  double input_mb = 0.15;
  long count = 5;
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
    else if (OPT("--network")) netname = v;
    else if (OPT("-d") || OPT("--device")) TIERKV(kv_crit, n_crit, "device");
    else if (OPT("-e") || OPT("--edge")) TIERKV(kv_crit, n_crit, "edge");
    else if (OPT("-c") || OPT("--cloud")) TIERKV(kv_crit, n_crit, "cloud");
    else if (OPT("--criteria")) TIERKV(kv_crit, n_crit, NULL);
    else if (OPT("-i") || OPT("--input")) {
      if (cl__parse_double("plan", "--input", v, 0, 1e9, &input_mb)) return 2;
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
  if (!dir || !netname || !model) {
    ERR("scission needs --profiles DIR, --network FILE and a MODEL (see --help)");
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
  q.model = model;
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
  cl_netstats *net = NULL;
  cl_scission_config *res = NULL;
  int rc = load_profiles(dir, &set);
  char path[4096], lower[256];
  if (!rc) {
    resolve_net(dir, netname, path, sizeof path);
    if (cl_netstats_load_csv(path, &net) != CL_OK) rc = 2;
  }
  if (!rc && !model_known(set, model, lower, sizeof lower)) {
    ERR("unknown model '%s': no profile in %s has it", model, dir);
    rc = 2;
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
} twonode;

static void twonode_free(twonode *p) {
  free(p->ta);
  free(p->tb);
  free(p->out);
  free(p->in_off);
  free(p->in_idx);
  free(p->first_layer);
  free(p->last_layer);
}

typedef struct twonode_opts {
  const char *dir, *net, *a, *b, *a_layers, *b_layers, *a_fit, *b_fit, *model;
  const char *bw_s, *lat_s;
  double input_mb;
  int dag; /* 1: DADS (add a virtual input node in block mode) */
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
    /* block mode, from Scission profiles */
    if (!o->dir || !o->model) {
      ERR("give --profiles DIR and a MODEL, or per-layer CSV files (see --help)");
      rc = 2;
    }
    if (!rc && cl_profile_load_scission_dir(set, o->dir) != CL_OK) rc = 2;
    char lower[256];
    if (!rc && !model_known(set, o->model, lower, sizeof lower)) {
      ERR("unknown model '%s': no profile in %s has it", o->model, o->dir);
      rc = 2;
    }
    int ia = -1, ib = -1;
    for (int i = 0; !rc && i < cl_profile_set_n_machines(set); i++) {
      const cl_profile_machine *m = cl_profile_set_machine(set, i);
      if (ia < 0 && (o->a ? !strcmp(m->name, o->a) : !strcmp(m->tier, "device"))) ia = i;
      if (ib < 0 && (o->b ? !strcmp(m->name, o->b) : !strcmp(m->tier, "cloud"))) ib = i;
    }
    if (!rc && (ia < 0 || ib < 0)) {
      ERR("machine '%s' not found in %s", ia < 0 ? (o->a ? o->a : "(first device)")
                                                 : (o->b ? o->b : "(first cloud)"), o->dir);
      rc = 2;
    }
    if (!rc) {
      ma = cl_profile_machine_model(cl_profile_set_machine(set, ia), lower);
      mb = cl_profile_machine_model(cl_profile_set_machine(set, ib), lower);
      if (!ma || !mb || ma->n_blocks != mb->n_blocks) {
        ERR("model '%s' is not profiled with the same blocks on both machines", lower);
        rc = 2;
      }
    }
    if (!rc) {
      snprintf(p->a_name, sizeof p->a_name, "%s", cl_profile_set_machine(set, ia)->name);
      snprintf(p->b_name, sizeof p->b_name, "%s", cl_profile_set_machine(set, ib)->name);
      snprintf(p->model, sizeof p->model, "%s", lower);
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
  cl_profile_set_destroy(set);
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
  else if (OPT("--network")) o->net = v;
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
    "  source (block level, from Scission profiles):\n"
    "    --profiles DIR MODEL     with --%s NAME (default: first device machine) and\n"
    "                             --cloud NAME (default: first cloud machine)\n"
    "  source (layer level, CSV with header layer,name,seconds,out_bytes[,inputs,op,macs,in_bytes]):\n"
    "    --%s-layers FILE --cloud-layers FILE\n"
    "    --predict-%s FIT.csv / --predict-cloud FIT.csv: instead of a side's layer file, fit\n"
    "                             per-op regressions (GSL) on FIT.csv and predict its times\n"
    "  link: --network FILE (bare name: inside --profiles DIR; rows named by machine) or\n"
    "        --bandwidth MBPS [--latency MS]\n"
    "  -i, --input MB             raw input size (0.15; layer files: layer 0's output)\n"
    "  --format table|csv         output format (table)\n";

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

