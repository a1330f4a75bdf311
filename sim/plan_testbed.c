/* Planner placements as runnable testbed configs (cleave plan ... --emit-config):
 * node speeds derived from the profiles, steps placed, links from the plan
 * (include/cleave/plan_profiles.h). The YAML itself is written by cl_plan_config_write. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleave/onnx.h"
#include "cleave/plan_profiles.h"
#include "cleave/profile_h5.h"
#include "plan_internal.h"

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
  if (cl__plan_is_h5(m) && cl_profile_h5_info_read(m->source, &info) == CL_OK && host[0] && !strcmp(info.host, host)) {
    snprintf(note, cap, "%s: profiled on this host (%s) with --slowdown %.9g: speed = %.9g", m->source, host,
             info.slowdown, info.slowdown);
    return info.slowdown;
  }
  for (int r = 0; r < cl_profile_set_n_machines(set); r++) {
    const cl_profile_machine *ref = cl_profile_set_machine(set, r);
    cl_profile_h5_info ri;
    if (r == mi || !cl__plan_is_h5(ref) || !cl_profile_machine_model(ref, model) || !host[0] ||
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
/* Write the config: nodes[] named after machines, speeds derived, steps placed. */
static cl_status emit_config(const char *path, const cl_profile_set *set, const char *model, int n_nodes,
                       const int *machine, const char *const *tiers, const int *node_of_step, int n_steps,
                       const cl_plan_link *links, int n_links, long inferences, const char *comment,
                       int force) {
  cl_plan_node nodes[CL_SCISSION_MAX_TIERS];
  char names[CL_SCISSION_MAX_TIERS][64], notes[CL_SCISSION_MAX_TIERS][1024];
  cl_profile_h5_info info;
  const cl_profile_machine *m0 = cl_profile_set_machine(set, machine[0]);
  if (!cl__plan_is_h5(m0) || cl_profile_h5_info_read(m0->source, &info) != CL_OK) {
    cl_log_error("--emit-config needs cleave HDF5 profiles (cleave profile MODEL -o FILE.h5): the units of Scission CSV "
        "profiles are not cleave graph nodes");
    return CL_ERR_INVALID;
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
      cl_log_error("--emit-config: the profiled ONNX file '%s' is not readable from here (profiles record the path given "
          "to `cleave profile`); run from that directory or re-profile with an absolute path", model);
      return CL_ERR_INVALID;
    }
    snprintf(abs, sizeof abs, "%s/%s", cwd, model);
    model = abs;
  }
  cl_plan_config pc = {model, info.fused, n_steps, node_of_step, n_nodes, nodes, n_links, links,
                       (int)inferences, 1, comment, force};
  CL_TRY(cl_plan_config_write(&pc, path));
  fprintf(stderr, "cleave plan: wrote %s (run: mpiexec -n %d cleave run %s)\n", path, n_nodes, path);
  return CL_OK;
}
/* The best Scission configuration as a testbed config: one node per used tier (tier 0
 * always: it holds the input), links between consecutive used tiers. */
cl_status cl_plan_emit_scission(const char *path, const cl_profile_set *set, const cl_netstats *net,
                                const cl_scission_query *q, const cl_scission_config *c, const char *model,
                                long inferences, const char *cmdline, int force) {
  int machine[CL_SCISSION_MAX_TIERS], pos[CL_SCISSION_MAX_TIERS], nn = 0;
  const char *tiers[CL_SCISSION_MAX_TIERS];
  for (int t = 0; t < q->n_tiers; t++)
    if (c->machine[t] >= 0) {
      const cl_profile_machine *m = cl_profile_set_machine(set, c->machine[t]);
      if (!cl__plan_steps_known(cl_profile_machine_model(m, model))) {
        cl_log_error("--emit-config needs cleave HDF5 profiles (cleave profile MODEL -o FILE.h5); machine '%s' (%s) has "
            "none for '%s'",
            m->name, m->source ? m->source : "?", model);
        return CL_ERR_INVALID;
      }
      pos[nn] = t;
      machine[nn] = c->machine[t];
      tiers[nn++] = tb_tier(q->tiers[t], t, q->n_tiers);
    }
  const cl_profile_model *md = cl_profile_machine_model(cl_profile_set_machine(set, machine[0]), model);
  int ns = md->n_layers;
  cl_status rc = CL_OK;
  int *nos = malloc(sizeof(int) * (size_t)ns);
  if (!nos) return CL_ERR_NOMEM;
  for (int k = 0; k < ns; k++) nos[k] = -1;
  for (int i = 0; i < nn; i++) {
    int t = pos[i];
    if (c->first_layer[t] < 0) continue;
    for (int k = c->first_layer[t]; k <= c->last_layer[t] && k < ns; k++) nos[k] = i;
  }
  for (int k = 0; k < ns; k++) {
    if (md->layers[k].n_inputs == 0) nos[k] = 0; /* the raw input stays where it is produced */
    if (nos[k] < 0) {
      cl_log_error("--emit-config: step %d of '%s' is on no tier (block ranges differ between profiles?)", k, model);
      rc = CL_ERR_INVALID;
    }
  }
  cl_plan_link links[CL_SCISSION_MAX_TIERS];
  for (int i = 0; !rc && i + 1 < nn; i++) {
    const char *a = cl_profile_set_machine(set, machine[i])->name, *b = cl_profile_set_machine(set, machine[i + 1])->name;
    const cl_netstats_link *l = cl_netstats_find(net, a, b);
    if (!l) {
      cl_log_error("--emit-config: the network file has no link %s -> %s", a, b);
      rc = CL_ERR_INVALID;
      break;
    }
    links[i] = (cl_plan_link){i, i + 1, l->latency_s, l->bandwidth_Bps};
  }
  if (!rc) {
    char comment[4096];
    const char *cmd = cmdline ? cmdline : "cleave plan";
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
    rc = emit_config(path, set, model, nn, machine, tiers, nos, ns, links, nn - 1, inferences, comment, force);
  }
  free(nos);
  return rc;
}
/* A two-node plan as a testbed config: on_b[k] = 1 puts unit (step) k on side B. */
cl_status cl_plan_emit_twonode(const char *path, const cl_plan_twonode *p, const unsigned char *on_b,
                               const char *planner, const char *summary, long inferences, const char *cmdline,
                               int force) {
  if (!p->set || !p->steps) {
    cl_log_error("--emit-config needs cleave HDF5 profiles of both machines (--profile TIER=FILE.h5 or <tier>-<machine>.h5 "
        "in --profiles DIR): per-layer CSV files and Scission CSV blocks are not cleave graph nodes");
    return CL_ERR_INVALID;
  }
  int *nos = malloc(sizeof(int) * (size_t)p->n);
  if (!nos) return CL_ERR_NOMEM;
  for (int k = 0; k < p->n; k++)
    nos[k] = p->in_off[k + 1] == p->in_off[k] ? 0 : on_b[k]; /* the raw input stays on A */
  int machine[2] = {p->ia, p->ib};
  const char *tiers[2] = {"device", "cloud"};
  cl_plan_link link = {0, 1, p->lat, p->bw};
  char comment[3072];
  const char *cmd = cmdline ? cmdline : "cleave plan";
  snprintf(comment, sizeof comment,
           "Testbed config written by: %s\n%s plan: %s\n"
           "plan -> run -> compare: mpiexec -n 2 cleave run THIS.yaml -o run.h5; "
           "cleave sim THIS.yaml --profile HOST.h5 --compare run.h5",
           cmd, planner, summary);
  cl_status rc = emit_config(path, p->set, p->model, 2, machine, tiers, nos, p->n, &link, 1,
                             inferences > 0 ? inferences : 5, comment, force);
  free(nos);
  return rc;
}
