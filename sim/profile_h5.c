/* Loader of cleave's HDF5 profiles into the planners' profile data model. */
#include "cleave/profile_h5.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/exec.h"
#include "cleave/store.h"
#include "cleave/zoo.h"

typedef struct lrec {
  int32_t step, out_node;
  char name[96];
  char op[16];
  int64_t out_bytes, macs;
  double median;
} lrec;
static const cl_field g_lf[] = {
    CL_FIELD(lrec, step, CL_F_INT32, "", ""),       CL_FIELD(lrec, out_node, CL_F_INT32, "", ""),
    CL_FIELD(lrec, name, CL_F_STRING, "", ""),      CL_FIELD(lrec, op, CL_F_STRING, "", ""),
    CL_FIELD(lrec, out_bytes, CL_F_INT64, "B", ""), CL_FIELD(lrec, macs, CL_F_INT64, "", ""),
    CL_FIELD(lrec, median, CL_F_FLOAT64, "s", ""),
};
static const cl_table_desc g_ld = {"/profile/layers", sizeof(lrec), g_lf, 7, "", 0};

typedef struct brec {
  int32_t first_step, last_step;
  int64_t out_bytes;
  double median;
} brec;
static const cl_field g_bf[] = {
    CL_FIELD(brec, first_step, CL_F_INT32, "", ""),
    CL_FIELD(brec, last_step, CL_F_INT32, "", ""),
    CL_FIELD(brec, out_bytes, CL_F_INT64, "B", ""),
    CL_FIELD(brec, median, CL_F_FLOAT64, "s", ""),
};
static const cl_table_desc g_bd = {"/profile/blocks", sizeof(brec), g_bf, 4, "", 0};

typedef struct attr_find {
  const char *key;
  char value[128];
  int found;
} attr_find;

static void find_attr(const char *name, const char *value, void *ud) {
  attr_find *a = ud;
  if (!strcmp(name, a->key)) {
    snprintf(a->value, sizeof a->value, "%s", value);
    a->found = 1;
  }
}

cl_status cl_profile_load_cleave_h5(cl_profile_set *set, const char *path, const char *tier, const char *name) {
  cl_reader *r = NULL;
  CL_TRY(cl_reader_open(path, &r));
  cl_status st = CL_ERR_INVALID;
  lrec *L = NULL;
  brec *B = NULL;
  cl_graph *g = NULL;
  cl_exec *e = NULL;
  int *step_of_node = NULL;
  const cl_table_info *ti = cl_reader_find(r, "/profile/layers"), *bi = cl_reader_find(r, "/profile/blocks");
  if (!ti || !bi) {
    cl_log_error("%s: not a cleave profile (no /profile/layers and /profile/blocks; make one with cleave profile)",
                 path);
    goto done;
  }
  attr_find model = {"model", "", 0}, fused = {"fused", "", 0};
  cl_reader_attrs(r, "/profile", find_attr, &model);
  cl_reader_attrs(r, "/profile", find_attr, &fused);
  if (!model.found) {
    cl_log_error("%s: /profile has no 'model' attribute", path);
    goto done;
  }
  char mname[256];
  if (!name) {
    const char *base = strrchr(path, '/');
    snprintf(mname, sizeof mname, "%s", base ? base + 1 : path);
    size_t n = strlen(mname);
    if (n > 3 && !strcmp(mname + n - 3, ".h5")) mname[n - 3] = '\0';
    name = mname;
  }
  size_t nl = (size_t)ti->n_records, nb = (size_t)bi->n_records;
  L = calloc(nl ? nl : 1, sizeof *L);
  B = calloc(nb ? nb : 1, sizeof *B);
  if (!L || !B) {
    st = CL_ERR_NOMEM;
    goto done;
  }
  if ((st = cl_reader_read(r, "/profile/layers", &g_ld, 0, nl, L)) != CL_OK) goto done;
  if ((st = cl_reader_read(r, "/profile/blocks", &g_bd, 0, nb, B)) != CL_OK) goto done;
  int m = -1;
  if ((st = cl_profile_set_add_machine(set, tier, name, &m)) != CL_OK) goto done;
  /* Real DAG between steps when the model is in the zoo; otherwise a chain. */
  if (cl_zoo_find(model.value) && cl_zoo_build(model.value, &g) == CL_OK) {
    cl_exec_opts o = cl_exec_opts_default();
    o.plan_only = 1;
    o.fuse = fused.found ? atoi(fused.value) : 1;
    if (cl_exec_create(g, &o, &e) != CL_OK || (size_t)cl_exec_step_count(e) != nl) {
      cl_exec_destroy(e);
      e = NULL;
    }
  }
  int inputs[512];
  for (size_t k = 0; k < nl; k++) {
    cl_profile_layer pl;
    memset(&pl, 0, sizeof pl);
    pl.name = L[k].name;
    pl.op = (int)cl_op_from_name(L[k].op);
    if (pl.op == CL_OP_COUNT) pl.op = -1;
    pl.seconds = L[k].median;
    pl.output_bytes = L[k].out_bytes;
    pl.macs = L[k].macs;
    pl.input_bytes = -1;
    pl.n_inputs = -1;
    if (e) {
      const cl_exec_step *s = cl_exec_step_get(e, (int)k);
      int ni = 0;
      int64_t in_bytes = 0;
      const cl_node *nd = cl_graph_node(g, s->node);
      for (int j = 0; j < nd->n_inputs && ni < 512; j++) {
        int src = cl_exec_step_of(e, nd->inputs[j]);
        if (src < 0 || src >= (int)k) continue;
        int dup = 0;
        for (int q = 0; q < ni; q++) dup |= inputs[q] == src;
        if (!dup) inputs[ni++] = src;
        in_bytes += cl_exec_step_get(e, src)->out_bytes;
      }
      pl.n_inputs = ni;
      pl.inputs = inputs;
      pl.input_bytes = in_bytes;
    }
    if ((st = cl_profile_set_add_layer(set, m, model.value, &pl)) != CL_OK) goto done;
  }
  for (size_t b = 0; b < nb; b++) {
    cl_profile_block pb = {B[b].first_step, B[b].last_step, B[b].median, B[b].out_bytes};
    if ((st = cl_profile_set_add_block(set, m, model.value, &pb)) != CL_OK) goto done;
  }
  st = CL_OK;
done:
  free(step_of_node);
  cl_exec_destroy(e);
  cl_graph_destroy(g);
  free(L);
  free(B);
  cl_reader_close(r);
  return st;
}
