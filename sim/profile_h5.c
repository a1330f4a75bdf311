/* Loader of cleave's HDF5 profiles into the planners' profile data model. */
#include "cleave/profile_h5.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "cleave/exec.h"
#include "cleave/onnx.h"
#include "cleave/records.h"
#include "cleave/store.h"
#include "cleave/zoo.h"

/* Layouts declared in cleave/records.h; cl_rec_read takes the columns a file has
 * (profiles written before cpu_median existed lack it). */
typedef cl_rec_profile_layer lrec;
typedef cl_rec_profile_block brec;

typedef struct attr_find {
  const char *key;
  char value[256];
  int found;
} attr_find;

/* Attribute a->key of @p obj, if present; unreadable -> CL_ERR_INVALID (logged). */
static cl_status attr_by_name(cl_reader *r, const char *obj, attr_find *a) {
  char *v = NULL;
  cl_status st = cl_reader_attr_text(r, obj, a->key, &v);
  if (st == CL_ERR_NOTFOUND) return CL_OK;
  if (st != CL_OK) return CL_ERR_INVALID;
  snprintf(a->value, sizeof a->value, "%s", v);
  a->found = 1;
  free(v);
  return CL_OK;
}

static int has_field(const cl_table_info *ti, const char *name) {
  for (int i = 0; i < ti->n_fields; i++)
    if (!strcmp(ti->fields[i].name, name)) return 1;
  return 0;
}

/* Metadata and the raw tables of an open profile. *L and *B are malloc'd. */
static cl_status read_profile(cl_reader *r, const char *path, cl_profile_time time, cl_profile_h5_info *info,
                              lrec **L, brec **B) {
  *L = NULL;
  *B = NULL;
  memset(info, 0, sizeof *info);
  const cl_table_info *ti = cl_reader_find(r, "/profile/layers"), *bi = cl_reader_find(r, "/profile/blocks");
  if (!ti || !bi) {
    cl_log_error("%s: not a cleave profile (no /profile/layers and /profile/blocks; make one with cleave profile)",
                 path);
    return CL_ERR_INVALID;
  }
  attr_find model = {"model", "", 0}, fused = {"fused", "", 0}, slow = {"slowdown", "", 0}, host = {"host", "", 0};
  /* By name (cl_reader_attr_text): an unreadable one fails with one line. */
  if (attr_by_name(r, "/profile", &model) != CL_OK || attr_by_name(r, "/profile", &fused) != CL_OK ||
      attr_by_name(r, "/profile", &slow) != CL_OK || attr_by_name(r, "/provenance", &host) != CL_OK)
    return CL_ERR_INVALID;
  if (!model.found || !model.value[0]) {
    cl_log_error("%s: /profile has no 'model' attribute", path);
    return CL_ERR_INVALID;
  }
  if (strlen(model.value) >= sizeof info->model) { /* an ONNX path: never plan on a cut name */
    cl_log_error("%s: /profile model '%s' is longer than %zu characters (an ONNX file in a deep directory? "
                 "profile it from a shorter path)", path, model.value, sizeof info->model - 1);
    return CL_ERR_INVALID;
  }
  memcpy(info->model, model.value, strlen(model.value) + 1); /* fits: checked above */
  snprintf(info->host, sizeof info->host, "%s", host.found ? host.value : "");
  info->fused = fused.found ? atoi(fused.value) != 0 : 1;
  char *end = slow.value;
  info->slowdown = slow.found ? strtod(slow.value, &end) : 1.0;
  if (slow.found && (end == slow.value || *end || !(info->slowdown > 0) || !isfinite(info->slowdown) ||
                     info->slowdown > 1e9)) { /* the speed-factor range (docs/config.md) */
    cl_log_error("%s: /profile attribute slowdown '%s' is not a factor in (0, 1e9]", path, slow.value);
    return CL_ERR_INVALID;
  }
  info->cpu_times = time == CL_PROFILE_TIME_CPU && has_field(ti, "cpu_median");
  size_t nl = (size_t)ti->n_records, nb = (size_t)bi->n_records;
  if (nl == 0 || nb == 0 || nl > INT32_MAX || nb > INT32_MAX) { /* no steps: every layer would cost 0 s */
    cl_log_error("%s: /profile/layers has %zu rows and /profile/blocks %zu (expected at least one of each)", path,
                 nl, nb);
    return CL_ERR_INVALID;
  }
  info->n_steps = (int)nl;
  info->n_blocks = (int)nb;
  *L = calloc(nl ? nl : 1, sizeof **L);
  *B = calloc(nb ? nb : 1, sizeof **B);
  if (!*L || !*B) {
    free(*L);
    free(*B);
    *L = NULL;
    *B = NULL;
    cl_log_error("%s: out of memory reading the profile", path);
    return CL_ERR_NOMEM;
  }
  uint64_t miss_l = 0, miss_b = 0;
  cl_status st = cl_rec_read(r, &CL_REC_PROFILE_LAYERS, 0, nl, *L, &miss_l);
  if (st == CL_OK) st = cl_rec_read(r, &CL_REC_PROFILE_BLOCKS, 0, nb, *B, &miss_b);
  static const char *const need_l[] = {"step", "name", "op", "out_bytes", "macs", "median"};
  static const char *const need_b[] = {"first_step", "last_step", "out_bytes", "median"};
  for (size_t q = 0; st == CL_OK && q < sizeof need_l / sizeof *need_l; q++)
    if (miss_l >> cl_rec_field_index(&CL_REC_PROFILE_LAYERS, need_l[q]) & 1) {
      cl_log_error("%s: /profile/layers has no '%s' column", path, need_l[q]);
      st = CL_ERR_INVALID;
    }
  for (size_t q = 0; st == CL_OK && q < sizeof need_b / sizeof *need_b; q++)
    if (miss_b >> cl_rec_field_index(&CL_REC_PROFILE_BLOCKS, need_b[q]) & 1) {
      cl_log_error("%s: /profile/blocks has no '%s' column", path, need_b[q]);
      st = CL_ERR_INVALID;
    }
  for (size_t k = 0; st == CL_OK && k < nl; k++) {
    if (!info->cpu_times) (*L)[k].cpu_median = (*L)[k].median;
    if ((*L)[k].step != (int32_t)k) {
      cl_log_error("%s: /profile/layers row %zu holds step %d (expected steps in order)", path, k, (*L)[k].step);
      st = CL_ERR_INVALID;
    }
    const double sec = (*L)[k].cpu_median;
    if (st == CL_OK && (!(sec >= 0) || !isfinite(sec) || !isfinite(info->total_s + sec))) {
      cl_log_error("%s: /profile/layers row %zu: %s %g is not a time in seconds%s", path, k,
                   info->cpu_times ? "cpu_median" : "median", sec,
                   isfinite(sec) && sec >= 0 ? " (the steps' total overflows)" : "");
      st = CL_ERR_INVALID;
    }
    info->total_s += sec;
  }
  for (size_t b = 0; st == CL_OK && b < nb; b++)
    if ((*B)[b].first_step < 0 || (*B)[b].last_step < (*B)[b].first_step || (*B)[b].last_step >= (int32_t)nl ||
        (*B)[b].first_step != (b ? (*B)[b - 1].last_step + 1 : 0)) {
      cl_log_error("%s: /profile/blocks row %zu: steps %d..%d do not continue the previous block", path, b,
                   (*B)[b].first_step, (*B)[b].last_step);
      st = CL_ERR_INVALID;
    }
  if (st == CL_OK && (*B)[nb - 1].last_step != (int32_t)nl - 1) { /* the tail would cost nothing */
    cl_log_error("%s: /profile/blocks end at step %d, but /profile/layers has steps 0..%zu", path,
                 (*B)[nb - 1].last_step, nl - 1);
    st = CL_ERR_INVALID;
  }
  if (st != CL_OK) {
    free(*L);
    free(*B);
    *L = NULL;
    *B = NULL;
  }
  return st;
}

cl_status cl_profile_h5_info_read_reader(cl_reader *r, const char *path, cl_profile_h5_info *info) {
  lrec *L = NULL;
  brec *B = NULL;
  cl_status st = read_profile(r, path, CL_PROFILE_TIME_CPU, info, &L, &B);
  free(L);
  free(B);
  return st;
}

cl_status cl_profile_h5_info_read(const char *path, cl_profile_h5_info *info) {
  cl_reader *r = NULL;
  CL_TRY(cl_reader_open_input(path, "profile", &r));
  cl_status st = cl_profile_h5_info_read_reader(r, path, info);
  cl_reader_close(r);
  return st;
}

cl_status cl_profile_load_cleave_h5_ex(cl_profile_set *set, const char *path, const char *tier, const char *name,
                                       cl_profile_time time, cl_profile_h5_info *info_out) {
  cl_reader *r = NULL;
  CL_TRY(cl_reader_open_input(path, "profile", &r));
  cl_status st = cl_profile_load_cleave_reader(set, r, path, tier, name, time, info_out);
  cl_reader_close(r);
  return st;
}

cl_status cl_profile_load_cleave_reader(cl_profile_set *set, cl_reader *r, const char *path, const char *tier,
                                        const char *name, cl_profile_time time, cl_profile_h5_info *info_out) {
  lrec *L = NULL;
  brec *B = NULL;
  cl_graph *g = NULL;
  cl_exec *e = NULL;
  cl_profile_h5_info info;
  cl_status st = read_profile(r, path, time, &info, &L, &B);
  if (st != CL_OK) return st;
  char mname[256];
  if (!name) {
    const char *base = strrchr(path, '/');
    snprintf(mname, sizeof mname, "%s", base ? base + 1 : path);
    size_t n = strlen(mname);
    if (n > 3 && !strcmp(mname + n - 3, ".h5")) mname[n - 3] = '\0';
    name = mname;
  }
  size_t nl = (size_t)info.n_steps, nb = (size_t)info.n_blocks;
  int m = -1;
  if ((st = cl_profile_set_add_machine(set, tier, name, &m)) != CL_OK) goto done;
  if ((st = cl_profile_set_set_source(set, m, path)) != CL_OK) goto done;
  /* Real DAG between steps when the model can be built: a zoo name, or the ONNX file
   * the profile names (imported without weights); otherwise a chain. */
  const int onnx = cl_onnx_is_path(info.model);
  char mpath[4096];
  snprintf(mpath, sizeof mpath, "%s", info.model);
  if (onnx && info.model[0] != '/' && access(mpath, R_OK) != 0) {
    /* profiles written before paths were absolute: try next to the profile */
    const char *slash = strrchr(path, '/');
    if (slash) snprintf(mpath, sizeof mpath, "%.*s/%s", (int)(slash - path), path, info.model);
  }
  if (onnx && access(mpath, R_OK) != 0) {
    cl_log_warn("%s: the profiled ONNX file '%s' cannot be read: planning on a chain of steps", path, info.model);
  } else if ((onnx || cl_zoo_find(info.model)) && cl_model_load_structure(mpath, &g) == CL_OK) {
    cl_exec_opts o = cl_exec_opts_default();
    o.plan_only = 1;
    o.fuse = info.fused;
    if (cl_exec_create(g, &o, &e) != CL_OK || (size_t)cl_exec_step_count(e) != nl) {
      cl_log_warn("%s: %s %s has %d steps, the profile %zu: planning on a chain of steps", path,
                  onnx ? "the ONNX file" : "the zoo's", info.model, e ? cl_exec_step_count(e) : -1, nl);
      cl_exec_destroy(e);
      e = NULL;
    }
  } else if (onnx) {
    cl_log_warn("%s: the profiled ONNX file '%s' does not import (see above): planning on a chain of steps", path,
                info.model);
  }
  int inputs[512];
  for (size_t k = 0; k < nl; k++) {
    cl_profile_layer pl;
    memset(&pl, 0, sizeof pl);
    pl.name = L[k].name;
    pl.op = (int)cl_op_from_name(L[k].op);
    if (pl.op == CL_OP_COUNT) pl.op = -1;
    pl.seconds = L[k].cpu_median;
    pl.output_bytes = L[k].out_bytes;
    pl.macs = L[k].macs;
    pl.input_bytes = -1;
    pl.n_inputs = -1;
    if (e) {
      /* inputs of a step: producers of every input of its nodes from outside the step */
      const cl_exec_step *s = cl_exec_step_get(e, (int)k);
      int ni = 0;
      int64_t in_bytes = 0;
      for (int q = 0; q < s->n_nodes; q++) {
        const cl_node *nd = cl_graph_node(g, s->nodes[q]);
        for (int j = 0; j < nd->n_inputs && ni < 512; j++) {
          int src = -1;
          for (int kk = 0; kk < (int)k && src < 0; kk++) {
            const cl_exec_step *ps = cl_exec_step_get(e, kk);
            for (int z = 0; z < ps->n_nodes; z++)
              if (ps->nodes[z] == nd->inputs[j]) src = kk;
          }
          if (src < 0) continue; /* inside this step */
          int dup = 0;
          for (int z = 0; z < ni; z++) dup |= inputs[z] == src;
          if (dup) continue;
          inputs[ni++] = src;
          in_bytes += cl_exec_step_get(e, src)->out_bytes;
        }
      }
      pl.n_inputs = ni;
      pl.inputs = inputs;
      pl.input_bytes = in_bytes;
    }
    if ((st = cl_profile_set_add_layer(set, m, info.model, &pl)) != CL_OK) goto done;
  }
  for (size_t b = 0; b < nb; b++) {
    double sec = 0;
    if (info.cpu_times)
      for (int k = B[b].first_step; k <= B[b].last_step; k++) sec += L[k].cpu_median;
    else
      sec = B[b].median;
    cl_profile_block pb = {B[b].first_step, B[b].last_step, sec, B[b].out_bytes};
    if ((st = cl_profile_set_add_block(set, m, info.model, &pb)) != CL_OK) goto done;
  }
  if (info_out) *info_out = info;
  st = CL_OK;
done:
  cl_exec_destroy(e);
  cl_graph_destroy(g);
  free(L);
  free(B);
  return st;
}

cl_status cl_profile_load_cleave_h5(cl_profile_set *set, const char *path, const char *tier, const char *name) {
  return cl_profile_load_cleave_h5_ex(set, path, tier, name, CL_PROFILE_TIME_CPU, NULL);
}
