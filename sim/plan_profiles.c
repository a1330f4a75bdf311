/* Profile sources, model matching and two-node problems for the planners
 * (include/cleave/plan_profiles.h); moved out of apps/cmd_plan.c so that `cleave plan`,
 * `cleave sim` and sweeps share them. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleave/onnx.h"
#include "cleave/plan_profiles.h"
#include "cleave/profile_h5.h"
#include "plan_internal.h"
#include "cleave/vec.h"

/* Resolve a network file: a bare name is looked up inside the profile dir first. */
void cl_plan_net_path(const char *dir, const char *name, char *out, size_t cap) {
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
int cl_plan_model_name(const cl_profile_set *set, const char *model, char *lower, size_t cap) {
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
/* Split "tier=value" at '='; returns the value or NULL. */
static char *kv_split(char *s) {
  char *eq = strchr(s, '=');
  if (!eq) return NULL;
  *eq = '\0';
  return eq + 1;
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
    cl_log_error("--profile value too long");
    return 2;
  }
  strcpy(buf, item);
  char *path = kv_split(buf), *tier = buf, *colon = strchr(buf, ':');
  if (colon) *colon = '\0';
  if (!path || !*path || !*tier || (colon && !colon[1])) {
    cl_log_error("--profile expects TIER=FILE or TIER:NAME=FILE (FILE: cleave .h5 or Scission .csv), got '%s'", item);
    return 2;
  }
  int h5 = ends_with(path, ".h5"), csv = ends_with(path, ".csv");
  if (!h5 && !csv) {
    cl_log_error("--profile %s: expected a cleave profile (.h5) or a Scission CSV (.csv)", item);
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

/* 0 ok, 1 out of memory, 2 bad input: the exit codes of `cleave plan`. */
static cl_status rc_status(int rc) { return rc == 0 ? CL_OK : rc == 1 ? CL_ERR_NOMEM : CL_ERR_INVALID; }

cl_status cl_plan_sources_add(cl_plan_sources *s, const char *item) {
  if (s->n == CL_PLAN_MAX_PROFILES) {
    cl_log_error("at most %d --profile options", CL_PLAN_MAX_PROFILES);
    return CL_ERR_INVALID;
  }
  s->items[s->n++] = item;
  return CL_OK;
}

cl_status cl_plan_sources_load(const cl_plan_sources *s, cl_profile_set **set) {
  CL_TRY(cl_profile_set_create(set));
  if (s->dir) CL_TRY(cl_profile_load_dir(*set, s->dir));
  for (int i = 0; i < s->n; i++) CL_TRY(rc_status(load_item(*set, s->items[i])));
  return CL_OK;
}

const char *cl_plan_sources_desc(const cl_plan_sources *s) {
  return s->dir ? s->dir : s->n ? "the --profile files" : "(no profiles)";
}


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
      cl_log_error("%s: regression needs op, macs and in_bytes columns (layer %d)", fit_path, i);
      goto done;
    }
    smp[i] = (cl_ns_sample){l->op, (double)l->macs, (double)l->input_bytes,
                            (double)l->output_bytes, l->seconds};
  }
  if (cl_ns_model_fit(smp, fm->n_layers, &nm) != CL_OK) goto done;
  for (int i = 0; i < md->n_layers; i++) {
    const cl_profile_layer *l = &md->layers[i];
    if (l->op < 0 || l->macs < 0 || l->input_bytes < 0) {
      cl_log_error("predicting needs op, macs and in_bytes columns in the layer file (layer %d)", i);
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

/* Zeroed per-node arrays of an n-node problem (one block owned by ta; first_layer and
 * last_layer only when @p blocks, else they stay NULL) and room for n_idx input indices
 * (in_idx: its own allocation, it may grow). cl_plan_twonode_fini frees them.
 * 0, or 1 when out of memory. */
static int node_arrays(cl_plan_twonode *p, int n, int n_idx, int blocks) {
  size_t m = (size_t)n;
  p->n = n;
  const cl_block_part parts[] = {CL_BLOCK_PART(p->ta, m),         CL_BLOCK_PART(p->tb, m),
                                 CL_BLOCK_PART(p->out, m),        CL_BLOCK_PART(p->in_off, m + 1),
                                 CL_BLOCK_PART(p->first_layer, m), CL_BLOCK_PART(p->last_layer, m)};
  if (cl_block_alloc(parts, blocks ? 6 : 4) != CL_OK) return 1;
  p->in_idx = calloc((size_t)n_idx, sizeof *p->in_idx);
  return !p->in_idx;
}

static int twonode_load(const cl_plan_twonode_opts *o, cl_plan_twonode *p) {
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
        cl_log_error("each side needs a layer file or a --predict-* fit file");
        rc = 2;
      } else if (ma && mb && ma->n_layers != mb->n_layers) {
        cl_log_error("layer files list %d and %d layers", ma->n_layers, mb->n_layers);
        rc = 2;
      } else {
        int n = st->n_layers;
        rc = node_arrays(p, n, n * 8 + 1, 0);
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
    if (!o->src.dir && !o->src.n) {
      cl_log_error("give --profiles DIR or --profile TIER=FILE.h5 (or per-layer CSV files); see --help");
      rc = 2;
    }
    cl_profile_set_destroy(set);
    set = NULL;
    if (!rc) {
      cl_status ls = cl_plan_sources_load(&o->src, &set);
      rc = ls == CL_OK ? 0 : ls == CL_ERR_NOMEM ? 1 : 2;
    }
    char lower[256];
    const char *model = o->model;
    if (!rc && !model) {
      const cl_profile_machine *m0 = cl_profile_set_machine(set, 0);
      if (m0 && m0->n_models) model = m0->models[0].name;
      else {
        cl_log_error("no MODEL given");
        rc = 2;
      }
    }
    if (!rc && !cl_plan_model_name(set, model, lower, sizeof lower)) {
      cl_log_error("unknown model '%s': no profile in %s has it", model, cl_plan_sources_desc(&o->src));
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
      cl_log_error("machine '%s' with model '%s' not found in %s",
          ia < 0 ? (o->a ? o->a : "(first device)") : (o->b ? o->b : "(first cloud)"), lower,
          cl_plan_sources_desc(&o->src));
      rc = 2;
    }
    if (!rc) {
      ma = cl_profile_machine_model(cl_profile_set_machine(set, ia), lower);
      mb = cl_profile_machine_model(cl_profile_set_machine(set, ib), lower);
      p->steps = cl__plan_is_h5(cl_profile_set_machine(set, ia)) && cl__plan_is_h5(cl_profile_set_machine(set, ib)) &&
                 cl__plan_steps_known(ma) && cl__plan_steps_known(mb) && ma->n_layers == mb->n_layers;
      if (!p->steps && (!ma || !mb || ma->n_blocks != mb->n_blocks)) {
        cl_log_error("model '%s' is not profiled with the same blocks on both machines", lower);
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
      int n = ma->n_layers, k = 0;
      for (int i = 0; i < n; i++) k += ma->layers[i].n_inputs;
      rc = node_arrays(p, n, k + 1, 0);
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
      int v = o->dag, n = ma->n_blocks + v; /* DADS: node 0 = raw input */
      rc = node_arrays(p, n, n + 1, 1);
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
    cl_plan_net_path(o->src.dir, o->net, path, sizeof path);
    if (cl_netstats_load_csv(path, &net) != CL_OK) rc = 2;
    const cl_netstats_link *l = rc ? NULL : cl_netstats_find(net, p->a_name, p->b_name);
    if (!rc && !l) {
      cl_log_error("%s has no link %s -> %s", path, p->a_name, p->b_name);
      rc = 2;
    }
    if (l) {
      p->lat = l->latency_s;
      p->bw = l->bandwidth_Bps;
    }
  } else if (!rc) {
    double mbps = o->bandwidth_mbps, ms = o->latency_ms > 0 ? o->latency_ms : 0;
    if (!(mbps >= 0)) {
      cl_log_error("give --network FILE or --bandwidth MBPS [--latency MS]");
      rc = 2;
    }
    p->bw = nearbyint(mbps * 125000.0);
    p->lat = ms / 1000.0;
    if (!rc && p->bw <= 0) {
      cl_log_error("--bandwidth %g rounds to 0 bytes/s", mbps);
      rc = 2;
    }
  }
  cl_netstats_destroy(net);
  if (p->ia >= 0) p->set = set; /* kept for --emit-config */
  else cl_profile_set_destroy(set);
  if (rc) cl_plan_twonode_fini(p);
  return rc;
}

void cl_plan_twonode_opts_init(cl_plan_twonode_opts *o) {
  memset(o, 0, sizeof *o);
  o->bandwidth_mbps = o->latency_ms = o->input_mb = -1;
}

cl_status cl_plan_twonode_load(const cl_plan_twonode_opts *o, cl_plan_twonode *p) {
  return rc_status(twonode_load(o, p));
}

void cl_plan_twonode_fini(cl_plan_twonode *p) {
  free(p->ta); /* the block of every per-node array (node_arrays) */
  free(p->in_idx);
  cl_profile_set_destroy(p->set);
  memset(p, 0, sizeof *p);
  p->ia = p->ib = -1;
}

cl_status cl_plan_predict_times(const char *fit_path, const cl_profile_model *md, double *t) {
  return rc_status(predict_times(fit_path, md, t));
}
