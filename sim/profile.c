/* Profile data model (machines -> models -> blocks / layers) and its CSV loaders. */
#include "cleave/profile.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/graph.h"
#include "cleave/profile_h5.h"
#include "cleave/text.h"
#include "cleave/vec.h"

struct cl_profile_set {
  int n, cap;
  cl_profile_machine *machines;
};

static char *dup_str(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

cl_status cl_profile_set_create(cl_profile_set **out) {
  *out = calloc(1, sizeof **out);
  if (!*out) {
    cl_log_error("profile: out of memory");
    return CL_ERR_NOMEM;
  }
  return CL_OK;
}

static void free_model(cl_profile_model *md) {
  free(md->name);
  free(md->blocks);
  for (int i = 0; i < md->n_layers; i++) {
    free(md->layers[i].name);
    free(md->layers[i].inputs);
  }
  free(md->layers);
}

void cl_profile_set_destroy(cl_profile_set *set) {
  if (!set) return;
  for (int i = 0; i < set->n; i++) {
    cl_profile_machine *m = &set->machines[i];
    for (int j = 0; j < m->n_models; j++) free_model(&m->models[j]);
    free(m->models);
    free(m->name);
    free(m->tier);
    free(m->source);
  }
  free(set->machines);
  free(set);
}

int cl_profile_set_n_machines(const cl_profile_set *set) { return set ? set->n : 0; }

const cl_profile_machine *cl_profile_set_machine(const cl_profile_set *set, int i) {
  return (set && i >= 0 && i < set->n) ? &set->machines[i] : NULL;
}

int cl_profile_set_find_machine(const cl_profile_set *set, const char *name) {
  for (int i = 0; i < set->n; i++)
    if (!strcmp(set->machines[i].name, name)) return i;
  return -1;
}

const cl_profile_model *cl_profile_machine_model(const cl_profile_machine *m, const char *model) {
  if (!m) return NULL;
  for (int i = 0; i < m->n_models; i++)
    if (!strcmp(m->models[i].name, model)) return &m->models[i];
  return NULL;
}

cl_status cl_profile_set_add_machine(cl_profile_set *set, const char *tier, const char *name,
                                     int *idx) {
  if (!tier || !*tier || !name || !*name) {
    cl_log_error("profile: machine needs a non-empty tier and name");
    return CL_ERR_INVALID;
  }
  if (cl_profile_set_find_machine(set, name) >= 0) {
    cl_log_error("profile: machine '%s' is defined twice", name);
    return CL_ERR_EXISTS;
  }
  CL_TRY(CL_VEC_RESERVE(set->machines, set->cap, set->n + 1, 8));
  cl_profile_machine *m = &set->machines[set->n];
  memset(m, 0, sizeof *m);
  m->name = dup_str(name);
  m->tier = dup_str(tier);
  if (!m->name || !m->tier) {
    free(m->name);
    free(m->tier);
    return CL_ERR_NOMEM;
  }
  if (idx) *idx = set->n;
  set->n++;
  return CL_OK;
}

/* Model @p name on machine @p m, created if missing. */
static cl_profile_model *get_model(cl_profile_set *set, int m, const char *name) {
  if (m < 0 || m >= set->n) {
    cl_log_error("profile: machine index %d out of range", m);
    return NULL;
  }
  cl_profile_machine *mc = &set->machines[m];
  for (int i = 0; i < mc->n_models; i++)
    if (!strcmp(mc->models[i].name, name)) return &mc->models[i];
  cl_profile_model *p = realloc(mc->models, (size_t)(mc->n_models + 1) * sizeof *p);
  if (!p) return NULL;
  mc->models = p;
  cl_profile_model *md = &p[mc->n_models];
  memset(md, 0, sizeof *md);
  md->name = dup_str(name);
  if (!md->name) return NULL;
  mc->n_models++;
  return md;
}

cl_status cl_profile_set_set_source(cl_profile_set *set, int m, const char *path) {
  if (m < 0 || m >= set->n || !path) {
    cl_log_error("profile: machine index %d out of range (or no path)", m);
    return CL_ERR_INVALID;
  }
  char *d = dup_str(path);
  if (!d) return CL_ERR_NOMEM;
  free(set->machines[m].source);
  set->machines[m].source = d;
  return CL_OK;
}

cl_status cl_profile_set_add_block(cl_profile_set *set, int m, const char *model,
                                   const cl_profile_block *b) {
  cl_profile_model *md = get_model(set, m, model);
  if (!md) return CL_ERR_NOMEM;
  int expect = md->n_blocks ? md->blocks[md->n_blocks - 1].last_layer + 1 : 0;
  if (b->first_layer != expect || b->last_layer < b->first_layer) {
    cl_log_error("profile: %s/%s block %d covers layers %d-%d, expected it to start at layer %d",
                 set->machines[m].name, model, md->n_blocks, b->first_layer, b->last_layer, expect);
    return CL_ERR_INVALID;
  }
  if (!(b->seconds >= 0) || !(b->seconds <= CL_PROFILE_MAX_SECONDS) || b->output_bytes < 0) {
    cl_log_error("profile: %s/%s block %d has invalid seconds %g or output_bytes %lld",
                 set->machines[m].name, model, md->n_blocks, b->seconds,
                 (long long)b->output_bytes);
    return CL_ERR_INVALID;
  }
  if ((md->n_blocks & (md->n_blocks - 1)) == 0) { /* grow at powers of two */
    int cap = md->n_blocks ? 2 * md->n_blocks : 1;
    cl_profile_block *p = realloc(md->blocks, (size_t)cap * sizeof *p);
    if (!p) return CL_ERR_NOMEM;
    md->blocks = p;
  }
  md->blocks[md->n_blocks++] = *b;
  return CL_OK;
}

cl_status cl_profile_set_add_layer(cl_profile_set *set, int m, const char *model,
                                   const cl_profile_layer *l) {
  cl_profile_model *md = get_model(set, m, model);
  if (!md) return CL_ERR_NOMEM;
  int id = md->n_layers;
  for (int k = 0; k < l->n_inputs; k++)
    if (l->inputs[k] < 0 || l->inputs[k] >= id) {
      cl_log_error("profile: %s/%s layer %d input %d is not an earlier layer",
                   set->machines[m].name, model, id, l->inputs[k]);
      return CL_ERR_INVALID;
    }
  if (!(l->seconds >= 0) || !(l->seconds <= CL_PROFILE_MAX_SECONDS) || l->output_bytes < 0) {
    cl_log_error("profile: %s/%s layer %d has invalid seconds %g or output bytes %lld",
                 set->machines[m].name, model, id, l->seconds, (long long)l->output_bytes);
    return CL_ERR_INVALID;
  }
  if ((id & (id - 1)) == 0) {
    int cap = id ? 2 * id : 1;
    cl_profile_layer *p = realloc(md->layers, (size_t)cap * sizeof *p);
    if (!p) return CL_ERR_NOMEM;
    md->layers = p;
  }
  cl_profile_layer *d = &md->layers[id];
  *d = *l;
  d->name = dup_str(l->name ? l->name : "");
  d->inputs = NULL;
  if (l->n_inputs > 0) {
    d->inputs = malloc((size_t)l->n_inputs * sizeof *d->inputs);
    if (d->inputs) memcpy(d->inputs, l->inputs, (size_t)l->n_inputs * sizeof *d->inputs);
  }
  if (!d->name || (l->n_inputs > 0 && !d->inputs)) {
    free(d->name);
    free(d->inputs);
    return CL_ERR_NOMEM;
  }
  md->n_layers++;
  return CL_OK;
}

/* ---- CSV helpers ---- */

#define MAX_FIELDS 16

/* Split @p line in place at commas; trims spaces, tabs and the line end. */
static int split_csv(char *line, char **f, int cap) {
  int n = 0;
  char *p = line;
  for (;;) {
    char *end = strchr(p, ',');
    if (end) *end = '\0';
    if (n < cap) f[n] = cl_text_trim(p);
    n++;
    if (!end) break;
    p = end + 1;
  }
  return n;
}

static int is_blank(const char *s) {
  for (; *s; s++)
    if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n') return 0;
  return 1;
}

static int parse_ll(const char *s, long long *v) {
  char *end;
  errno = 0;
  *v = strtoll(s, &end, 10);
  return !(errno || end == s || *end);
}

static int parse_dbl(const char *s, double *v) {
  char *end;
  errno = 0;
  *v = strtod(s, &end);
  return !(errno || end == s || *end || !isfinite(*v));
}

static const char *const k_scission_cols[] = {"model",        "block",   "input_layer",
                                              "output_layer", "seconds", "output_bytes"};

cl_status cl_profile_load_scission_csv(cl_profile_set *set, const char *path, const char *tier,
                                       const char *name) {
  FILE *f = fopen(path, "r");
  if (!f) {
    cl_log_error("%s: cannot open: %s", path, strerror(errno));
    return CL_ERR_IO;
  }
  int m;
  cl_status st = cl_profile_set_add_machine(set, tier, name, &m);
  if (st != CL_OK) {
    fclose(f);
    return st;
  }
  char *line = NULL;
  size_t cap = 0;
  int lineno = 0;
  char *fl[MAX_FIELDS];
  while (getline(&line, &cap, f) >= 0) {
    lineno++;
    if (is_blank(line)) continue;
    int nf = split_csv(line, fl, MAX_FIELDS);
    if (lineno == 1) {
      if (nf != 6) goto bad_header;
      for (int i = 0; i < 6; i++)
        if (strcmp(fl[i], k_scission_cols[i])) goto bad_header;
      continue;
    }
    if (nf != 6) {
      cl_log_error("%s:%d: expected 6 columns, found %d", path, lineno, nf);
      st = CL_ERR_INVALID;
      goto done;
    }
    long long v[3], ob;
    double sec;
    for (int i = 0; i < 3; i++)
      if (!parse_ll(fl[1 + i], &v[i]) || v[i] < 0 || v[i] > 1000000000) {
        cl_log_error("%s:%d: column '%s': expected a non-negative integer, got '%s'", path,
                     lineno, k_scission_cols[1 + i], fl[1 + i]);
        st = CL_ERR_INVALID;
        goto done;
      }
    if (!parse_dbl(fl[4], &sec) || sec < 0 || sec > CL_PROFILE_MAX_SECONDS) {
      cl_log_error("%s:%d: column 'seconds': expected a number in [0, %g], got '%s'", path,
                   lineno, CL_PROFILE_MAX_SECONDS, fl[4]);
      st = CL_ERR_INVALID;
      goto done;
    }
    if (!parse_ll(fl[5], &ob) || ob < 0) {
      cl_log_error("%s:%d: column 'output_bytes': expected a non-negative integer, got '%s'",
                   path, lineno, fl[5]);
      st = CL_ERR_INVALID;
      goto done;
    }
    if (!*fl[0]) {
      cl_log_error("%s:%d: column 'model' is empty", path, lineno);
      st = CL_ERR_INVALID;
      goto done;
    }
    /* Model names are matched case-insensitively, as Scission lower-cases queries. */
    for (char *c = fl[0]; *c; c++)
      if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
    const cl_profile_model *md = cl_profile_machine_model(&set->machines[m], fl[0]);
    int have = md ? md->n_blocks : 0;
    if (v[0] != have) {
      cl_log_error("%s:%d: column 'block': model %s expects block %d next, got %lld", path,
                   lineno, fl[0], have, v[0]);
      st = CL_ERR_INVALID;
      goto done;
    }
    /* Blocks cover the model from layer 0 without gaps (cl_profile_set_add_block): said
     * here with the file and line. */
    long long expect = have ? (long long)md->blocks[have - 1].last_layer + 1 : 0;
    if (v[1] != expect) {
      cl_log_error("%s:%d: column 'input_layer': block %d of model %s must start at layer %lld, got %lld", path,
                   lineno, have, fl[0], expect, v[1]);
      st = CL_ERR_INVALID;
      goto done;
    }
    if (v[2] < v[1]) {
      cl_log_error("%s:%d: column 'output_layer': %lld is before input_layer %lld", path, lineno, v[2], v[1]);
      st = CL_ERR_INVALID;
      goto done;
    }
    cl_profile_block b = {(int)v[1], (int)v[2], sec, (int64_t)ob};
    st = cl_profile_set_add_block(set, m, fl[0], &b);
    if (st != CL_OK) goto done;
  }
  if (lineno == 0) {
    cl_log_error("%s: empty file", path);
    st = CL_ERR_INVALID;
  }
  goto done;
bad_header:
  cl_log_error("%s:1: expected header model,block,input_layer,output_layer,seconds,output_bytes",
               path);
  st = CL_ERR_INVALID;
done:
  free(line);
  fclose(f);
  return st;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* 1 if @p nm is <tier>-<machine><ext> with non-empty tier and machine. */
static int profile_name_ok(const char *nm, const char *ext) {
  size_t len = strlen(nm), el = strlen(ext);
  const char *dash = strchr(nm, '-');
  return len > el + 2 && !strcmp(nm + len - el, ext) && dash && dash != nm && dash != nm + len - el - 1;
}

/* Load every <tier>-<machine>.csv (and, with @p h5, .h5) in @p dir in name order. */
static cl_status load_dir(cl_profile_set *set, const char *dir, int h5) {
  DIR *d = opendir(dir);
  if (!d) {
    cl_log_error("%s: cannot open profile directory: %s", dir, strerror(errno));
    return CL_ERR_IO;
  }
  char **names = NULL;
  int n = 0, cap = 0;
  cl_status st = CL_OK;
  struct dirent *e;
  while ((e = readdir(d))) {
    const char *nm = e->d_name;
    if (!profile_name_ok(nm, ".csv") && !(h5 && profile_name_ok(nm, ".h5"))) continue;
    if ((st = CL_VEC_RESERVE(names, cap, n + 1, 16)) != CL_OK) break;
    if (!(names[n] = dup_str(nm))) {
      st = CL_ERR_NOMEM;
      break;
    }
    n++;
  }
  closedir(d);
  if (st == CL_OK && n == 0) {
    cl_log_error("%s: no <tier>-<machine>.csv%s profile files found", dir, h5 ? " or .h5" : "");
    st = CL_ERR_NOTFOUND;
  }
  if (st == CL_OK) qsort(names, (size_t)n, sizeof *names, cmp_str);
  for (int i = 0; i < n && st == CL_OK; i++) {
    size_t plen = strlen(dir) + strlen(names[i]) + 2;
    char *path = malloc(plen);
    char *base = dup_str(names[i]);
    if (!path || !base) {
      free(path);
      free(base);
      st = CL_ERR_NOMEM;
      break;
    }
    snprintf(path, plen, "%s/%s", dir, names[i]);
    int is_h5 = profile_name_ok(base, ".h5");
    base[strlen(base) - (is_h5 ? 3 : 4)] = '\0';
    char *dash = strchr(base, '-');
    *dash = '\0';
    if (is_h5) {
      st = cl_profile_load_cleave_h5(set, path, base, dash + 1);
    } else {
      st = cl_profile_load_scission_csv(set, path, base, dash + 1);
      int m = cl_profile_set_find_machine(set, dash + 1);
      if (st == CL_OK && m >= 0) st = cl_profile_set_set_source(set, m, path);
    }
    free(path);
    free(base);
  }
  for (int i = 0; i < n; i++) free(names[i]);
  free(names);
  return st;
}

cl_status cl_profile_load_scission_dir(cl_profile_set *set, const char *dir) { return load_dir(set, dir, 0); }

cl_status cl_profile_load_dir(cl_profile_set *set, const char *dir) { return load_dir(set, dir, 1); }

/* ---- per-layer CSV ---- */

enum { COL_LAYER, COL_NAME, COL_SECONDS, COL_OUT, COL_INPUTS, COL_OP, COL_MACS, COL_IN, COL_N };
static const char *const k_layer_cols[COL_N] = {"layer", "name", "seconds",  "out_bytes",
                                                "inputs", "op",   "macs",     "in_bytes"};

cl_status cl_profile_load_layers_csv(cl_profile_set *set, int m, const char *model,
                                     const char *path) {
  if (m < 0 || m >= set->n) {
    cl_log_error("%s: machine index %d out of range", path, m);
    return CL_ERR_INVALID;
  }
  FILE *f = fopen(path, "r");
  if (!f) {
    cl_log_error("%s: cannot open: %s", path, strerror(errno));
    return CL_ERR_IO;
  }
  int col[COL_N];
  for (int i = 0; i < COL_N; i++) col[i] = -1;
  char *line = NULL;
  size_t cap = 0;
  int lineno = 0, ncols = 0, nlayers = 0;
  char *fl[MAX_FIELDS];
  int inputs[256];
  cl_status st = CL_OK;
  while (getline(&line, &cap, f) >= 0) {
    lineno++;
    if (is_blank(line) || line[0] == '#') continue;
    int nf = split_csv(line, fl, MAX_FIELDS);
    if (!ncols) {
      if (nf > MAX_FIELDS) nf = MAX_FIELDS;
      for (int i = 0; i < nf; i++) {
        int k = 0;
        while (k < COL_N && strcmp(fl[i], k_layer_cols[k])) k++;
        if (k == COL_N) {
          cl_log_error("%s:%d: unknown column '%s' (known: layer,name,seconds,out_bytes,inputs,"
                       "op,macs,in_bytes)", path, lineno, fl[i]);
          st = CL_ERR_INVALID;
          goto done;
        }
        col[k] = i;
      }
      if (col[COL_LAYER] < 0 || col[COL_SECONDS] < 0 || col[COL_OUT] < 0) {
        cl_log_error("%s:%d: header must have columns layer, seconds and out_bytes", path, lineno);
        st = CL_ERR_INVALID;
        goto done;
      }
      ncols = nf;
      continue;
    }
    if (nf != ncols) {
      cl_log_error("%s:%d: expected %d columns, found %d", path, lineno, ncols, nf);
      st = CL_ERR_INVALID;
      goto done;
    }
    long long id, ob, macs = -1, inb = -1;
    cl_profile_layer l = {0};
    l.op = -1;
    l.n_inputs = -1;
    if (!parse_ll(fl[col[COL_LAYER]], &id) || id != nlayers) {
      cl_log_error("%s:%d: column 'layer': expected %d, got '%s'", path, lineno, nlayers,
                   fl[col[COL_LAYER]]);
      st = CL_ERR_INVALID;
      goto done;
    }
    if (!parse_dbl(fl[col[COL_SECONDS]], &l.seconds) || l.seconds < 0 || l.seconds > CL_PROFILE_MAX_SECONDS) {
      cl_log_error("%s:%d: column 'seconds': expected a number in [0, %g], got '%s'", path,
                   lineno, CL_PROFILE_MAX_SECONDS, fl[col[COL_SECONDS]]);
      st = CL_ERR_INVALID;
      goto done;
    }
    if (!parse_ll(fl[col[COL_OUT]], &ob) || ob < 0) {
      cl_log_error("%s:%d: column 'out_bytes': expected a non-negative integer, got '%s'", path,
                   lineno, fl[col[COL_OUT]]);
      st = CL_ERR_INVALID;
      goto done;
    }
    l.output_bytes = ob;
    if (col[COL_MACS] >= 0 && (!parse_ll(fl[col[COL_MACS]], &macs) || macs < 0)) {
      cl_log_error("%s:%d: column 'macs': expected a non-negative integer, got '%s'", path,
                   lineno, fl[col[COL_MACS]]);
      st = CL_ERR_INVALID;
      goto done;
    }
    if (col[COL_IN] >= 0 && (!parse_ll(fl[col[COL_IN]], &inb) || inb < 0)) {
      cl_log_error("%s:%d: column 'in_bytes': expected a non-negative integer, got '%s'", path,
                   lineno, fl[col[COL_IN]]);
      st = CL_ERR_INVALID;
      goto done;
    }
    l.macs = macs;
    l.input_bytes = inb;
    if (col[COL_OP] >= 0) {
      cl_op op = cl_op_from_name(fl[col[COL_OP]]);
      if (op == CL_OP_COUNT) {
        cl_log_error("%s:%d: column 'op': unknown op '%s'", path, lineno, fl[col[COL_OP]]);
        st = CL_ERR_INVALID;
        goto done;
      }
      l.op = (int)op;
    }
    if (col[COL_INPUTS] >= 0) {
      l.n_inputs = 0;
      char *save = NULL;
      for (char *tok = strtok_r(fl[col[COL_INPUTS]], "; ", &save); tok;
           tok = strtok_r(NULL, "; ", &save)) {
        long long in;
        if (!parse_ll(tok, &in) || in < 0 || in >= id || l.n_inputs == 256) {
          cl_log_error("%s:%d: column 'inputs': '%s' is not an earlier layer id", path, lineno,
                       tok);
          st = CL_ERR_INVALID;
          goto done;
        }
        inputs[l.n_inputs++] = (int)in;
      }
      l.inputs = inputs;
    }
    l.name = col[COL_NAME] >= 0 ? fl[col[COL_NAME]] : "";
    st = cl_profile_set_add_layer(set, m, model, &l);
    if (st != CL_OK) goto done;
    nlayers++;
  }
  if (!nlayers) {
    cl_log_error("%s: no layers", path);
    st = CL_ERR_INVALID;
  }
done:
  free(line);
  fclose(f);
  return st;
}
