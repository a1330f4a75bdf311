/* The field tables of every record declared in include/cleave/records.h, built from
 * the same X-macro lists as the structs, plus the generated docs and a tolerant reader. */
#include "cleave/records.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define CL_REC_FIELD(T, ctype, name, dim, ftype, unit, dict, desc) \
  {#name, ftype, offsetof(T, name), sizeof(((T *)0)->name), unit, desc, dict},
#define NF(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define DESC(var, path, T, fields, text, chunk) \
  const cl_table_desc var = {path, sizeof(T), fields, NF(fields), text, chunk};

static const cl_field f_inf[] = {CL_REC_INFERENCE_BASE(CL_REC_FIELD, cl_rec_inference)};
static const cl_field f_inf_run[] = {
    CL_REC_INFERENCE_BASE(CL_REC_FIELD, cl_rec_inference_run)
    CL_REC_INFERENCE_TIMELINE(CL_REC_FIELD, cl_rec_inference_run)
    CL_REC_INFERENCE_RUN(CL_REC_FIELD, cl_rec_inference_run)};
static const cl_field f_inf_sweep[] = {
    CL_REC_SWEEP_KEY(CL_REC_FIELD, cl_rec_inference_sweep)
    CL_REC_INFERENCE_BASE(CL_REC_FIELD, cl_rec_inference_sweep)
    CL_REC_INFERENCE_TIMELINE(CL_REC_FIELD, cl_rec_inference_sweep)};
static const cl_field f_inf_coedge[] = {
    CL_REC_INFERENCE_BASE(CL_REC_FIELD, cl_rec_inference_coedge)
    CL_REC_INFERENCE_COEDGE(CL_REC_FIELD, cl_rec_inference_coedge)};
static const cl_field f_inf_users[] = {
    CL_REC_USER_KEY(CL_REC_FIELD, cl_rec_inference_users)
    CL_REC_INFERENCE_BASE(CL_REC_FIELD, cl_rec_inference_users)
    CL_REC_INFERENCE_TIMELINE(CL_REC_FIELD, cl_rec_inference_users)
    CL_REC_INFERENCE_USER(CL_REC_FIELD, cl_rec_inference_users)};
static const cl_field f_user_stat[] = {CL_REC_USER_STAT(CL_REC_FIELD, cl_rec_user_stat)};
static const cl_field f_run_layer[] = {CL_REC_RUN_LAYER(CL_REC_FIELD, cl_rec_run_layer)};
static const cl_field f_run_xfer[] = {CL_REC_RUN_TRANSFER(CL_REC_FIELD, cl_rec_run_transfer)};
static const cl_field f_run_node[] = {CL_REC_RUN_NODE(CL_REC_FIELD, cl_rec_run_node)};
static const cl_field f_prof_layer[] = {CL_REC_PROFILE_LAYER(CL_REC_FIELD, cl_rec_profile_layer)};
static const cl_field f_prof_block[] = {CL_REC_PROFILE_BLOCK(CL_REC_FIELD, cl_rec_profile_block)};
static const cl_field f_prof_sample[] = {CL_REC_PROFILE_SAMPLE(CL_REC_FIELD, cl_rec_profile_sample)};
static const cl_field f_prof_energy[] = {CL_REC_PROFILE_ENERGY(CL_REC_FIELD, cl_rec_profile_energy)};
static const cl_field f_sw_layer[] = {CL_REC_SWEEP_LAYER(CL_REC_FIELD, cl_rec_sweep_layer)};
static const cl_field f_ad_repeat[] = {CL_REC_ADAPTIVE_REPEAT(CL_REC_FIELD, cl_rec_adaptive_repeat)};
static const cl_field f_sw_point[] = {CL_REC_SWEEP_POINT(CL_REC_FIELD, cl_rec_sweep_point)};
static const cl_field f_sw_config[] = {CL_REC_SWEEP_CONFIG(CL_REC_FIELD, cl_rec_sweep_config)};
static const cl_field f_sw_coedge[] = {CL_REC_SWEEP_COEDGE(CL_REC_FIELD, cl_rec_sweep_coedge)};
static const cl_field f_ad_unit[] = {CL_REC_ADAPTIVE_UNIT(CL_REC_FIELD, cl_rec_adaptive_unit)};
static const cl_field f_ad_prof[] = {CL_REC_ADAPTIVE_PROFILE(CL_REC_FIELD, cl_rec_adaptive_profile)};
static const cl_field f_ad_layer[] = {CL_REC_ADAPTIVE_LAYER(CL_REC_FIELD, cl_rec_adaptive_layer)};
static const cl_field f_ad_cut[] = {CL_REC_ADAPTIVE_CUT(CL_REC_FIELD, cl_rec_adaptive_cut)};
static const cl_field f_plan_choice[] = {CL_REC_PLAN_CHOICE(CL_REC_FIELD, cl_rec_plan_choice)};
static const cl_field f_dict[] = {CL_REC_DICT(CL_REC_FIELD, cl_rec_dict)};
static const cl_field f_msrc[] = {CL_REC_MERGE_SOURCE(CL_REC_FIELD, cl_rec_merge_source)};

DESC(CL_REC_INFERENCES, "/inferences", cl_rec_inference, f_inf, "one row per inference (base columns)", 0)
DESC(CL_REC_INFERENCES_RUN, "/inferences", cl_rec_inference_run, f_inf_run, "one row per inference", 0)
DESC(CL_REC_INFERENCES_SWEEP, "/inferences", cl_rec_inference_sweep, f_inf_sweep,
     "testbed sweeps: one row per inference of every point", 0)
DESC(CL_REC_INFERENCES_COEDGE, "/inferences", cl_rec_inference_coedge, f_inf_coedge,
     "one row per CoEdge inference (adaptive run)", 0)
DESC(CL_REC_INFERENCES_USERS, "/inferences", cl_rec_inference_users, f_inf_users,
     "cleave run with users: one row per inference of every user", 0)
DESC(CL_REC_USER_STATS, "/users/stats", cl_rec_user_stat, f_user_stat,
     "users sweeps: one row per (point, user): latency distribution and waiting", 1024)
DESC(CL_REC_RUN_LAYERS, "/layers", cl_rec_run_layer, f_run_layer, "one row per executed layer per inference", 0)
DESC(CL_REC_RUN_TRANSFERS, "/transfers", cl_rec_run_transfer, f_run_xfer,
     "one row per tensor crossing nodes per inference", 0)
DESC(CL_REC_RUN_NODES, "/nodes", cl_rec_run_node, f_run_node, "per-node totals over the run", 0)
DESC(CL_REC_PROFILE_LAYERS, "/profile/layers", cl_rec_profile_layer, f_prof_layer,
     "per-layer (executor step) profile summary", 0)
DESC(CL_REC_PROFILE_BLOCKS, "/profile/blocks", cl_rec_profile_block, f_prof_block, "per cut-block profile summary", 0)
DESC(CL_REC_PROFILE_SAMPLES, "/profile/samples", cl_rec_profile_sample, f_prof_sample,
     "every timed repetition of every step", 0)
DESC(CL_REC_PROFILE_ENERGY, "/profile/energy", cl_rec_profile_energy, f_prof_energy,
     "per-step emulated time and energy on the --device model", 0)
DESC(CL_REC_SWEEP_LAYERS, "/sweep/layers", cl_rec_sweep_layer, f_sw_layer,
     "testbed sweeps: one row per executed layer per inference of every point", 0)
DESC(CL_REC_ADAPTIVE_REPEATS, "/adaptive/repeats", cl_rec_adaptive_repeat, f_ad_repeat,
     "per (model, condition, cut, repeat) medians: the host noise between repeats", 4096)
DESC(CL_REC_SWEEP_POINTS, "/sweep/points", cl_rec_sweep_point, f_sw_point,
     "one row per completed point (written after its records)", 4096)
DESC(CL_REC_SWEEP_CONFIGS, "/sweep/configs", cl_rec_sweep_config, f_sw_config,
     "resolved config text of every point, in 243-byte chunks", 4096)
DESC(CL_REC_SWEEP_COEDGE_POINTS, "/sweep/coedge", cl_rec_sweep_coedge, f_sw_coedge,
     "coedge sweeps: one row per point (model, planner, deadline, bandwidth)", 0)
DESC(CL_REC_ADAPTIVE_UNITS, "/adaptive/profile_units", cl_rec_adaptive_unit, f_ad_unit,
     "one row per (model, CPU load, memory use) profiled for real", 1024)
DESC(CL_REC_ADAPTIVE_PROFILES, "/adaptive/profile", cl_rec_adaptive_profile, f_ad_prof,
     "per-step times measured under each CPU/memory condition", 0)
DESC(CL_REC_ADAPTIVE_LAYERS, "/adaptive/layers", cl_rec_adaptive_layer, f_ad_layer,
     "per (model, condition, cut, rep, layer) composed times", 0)
DESC(CL_REC_ADAPTIVE_CUTS, "/adaptive/cuts", cl_rec_adaptive_cut, f_ad_cut, "per (model, condition, cut) summary", 4096)
DESC(CL_REC_PLAN_CHOICES, "/plan/choices", cl_rec_plan_choice, f_plan_choice,
     "plan sweeps: one row per (point, planner)", 1024)
DESC(CL_REC_DICTS, "/strings/<name>", cl_rec_dict, f_dict, "dictionary: id -> string, referenced by int32 id fields", 1024)
DESC(CL_REC_MERGE_SOURCES, "/merge/sources", cl_rec_merge_source, f_msrc, "one row per merged input file", 0)

static const cl_rec_entry g_all[] = {
    {&CL_REC_INFERENCES, "every /inferences (base columns; readers use this)"},
    {&CL_REC_INFERENCES_RUN, "cleave run"},
    {&CL_REC_RUN_LAYERS, "cleave run"},
    {&CL_REC_RUN_TRANSFERS, "cleave run"},
    {&CL_REC_RUN_NODES, "cleave run"},
    {&CL_REC_PROFILE_LAYERS, "cleave profile"},
    {&CL_REC_PROFILE_BLOCKS, "cleave profile"},
    {&CL_REC_PROFILE_SAMPLES, "cleave profile"},
    {&CL_REC_PROFILE_ENERGY, "cleave profile --device"},
    {&CL_REC_INFERENCES_COEDGE, "CoEdge adaptive runs"},
    {&CL_REC_SWEEP_POINTS, "cleave sweep"},
    {&CL_REC_SWEEP_CONFIGS, "cleave sweep"},
    {&CL_REC_INFERENCES_SWEEP, "cleave sweep (testbed)"},
    {&CL_REC_SWEEP_LAYERS, "cleave sweep (testbed)"},
    {&CL_REC_SWEEP_COEDGE_POINTS, "cleave sweep (coedge)"},
    {&CL_REC_ADAPTIVE_UNITS, "cleave sweep (adaptive)"},
    {&CL_REC_ADAPTIVE_PROFILES, "cleave sweep (adaptive)"},
    {&CL_REC_ADAPTIVE_LAYERS, "cleave sweep (adaptive)"},
    {&CL_REC_ADAPTIVE_CUTS, "cleave sweep (adaptive)"},
    {&CL_REC_ADAPTIVE_REPEATS, "cleave sweep (adaptive)"},
    {&CL_REC_PLAN_CHOICES, "cleave sweep (plan)"},
    {&CL_REC_INFERENCES_USERS, "cleave run (testbed with users:)"},
    {&CL_REC_USER_STATS, "cleave sweep (users)"},
    {&CL_REC_DICTS, "every store with dictionary fields"},
    {&CL_REC_MERGE_SOURCES, "cleave merge"},
    {NULL, NULL},
};

const cl_rec_entry *cl_rec_all(void) { return g_all; }

int cl_rec_field_index(const cl_table_desc *d, const char *name) {
  for (int i = 0; d && name && i < d->n_fields; i++)
    if (!strcmp(d->fields[i].name, name)) return i;
  return -1;
}

cl_status cl_rec_read(cl_reader *r, const cl_table_desc *d, uint64_t start, size_t n, void *out,
                      uint64_t *missing) {
  if (missing) *missing = 0;
  const cl_table_info *ti = cl_reader_find(r, d->path);
  if (!ti) return CL_ERR_NOTFOUND;
  cl_field *f = calloc((size_t)d->n_fields, sizeof *f);
  if (!f) return CL_ERR_NOMEM;
  int k = 0;
  for (int i = 0; i < d->n_fields; i++) {
    int have = 0;
    for (int j = 0; j < ti->n_fields && !have; j++) have = !strcmp(ti->fields[j].name, d->fields[i].name);
    if (have)
      f[k++] = d->fields[i];
    else if (missing && i < 64)
      *missing |= (uint64_t)1 << i;
  }
  memset(out, 0, n * d->record_size);
  cl_status st = CL_OK;
  if (k > 0) {
    cl_table_desc sub = *d;
    sub.fields = f;
    sub.n_fields = k;
    st = cl_reader_read(r, d->path, &sub, start, n, out);
  }
  free(f);
  return st;
}

cl_status cl_rec_markdown(FILE *o) {
  for (const cl_rec_entry *e = g_all; e->desc; e++) {
    const cl_table_desc *d = e->desc;
    fprintf(o, "### `%s` (%s)\n\n%s.\n\n| field | type | unit | description |\n|---|---|---|---|\n", d->path,
            e->writer, d->desc);
    for (int i = 0; i < d->n_fields; i++) {
      const cl_field *f = &d->fields[i];
      char ty[32];
      if (f->type == CL_F_STRING)
        snprintf(ty, sizeof ty, "string[%zu]", f->size);
      else
        snprintf(ty, sizeof ty, "%s", cl_ftype_name(f->type));
      fprintf(o, "| %s | %s | %s | %s%s%s |\n", f->name, ty, f->unit && *f->unit ? f->unit : "", f->desc,
              f->dict ? "; id in /strings/" : "", f->dict ? f->dict : "");
    }
    fprintf(o, "\n");
  }
  return ferror(o) ? CL_ERR_IO : CL_OK;
}
