/* cleave sim: predict a testbed plan from profiles with the runtime's timing model. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/plan.h"
#include "cleave/provenance.h"
#include "cleave/records.h"
#include "cleave/multiuser.h"
#include "cleave/runtime.h"
#include "cleave/store.h"
#include "cleave/testbed.h"
#include "cleave/onnx.h"
#include "cli.h"
#include "commands.h"

static void help(void) {
  printf(
      "usage: cleave sim TESTBED.yaml [--profile FILE.h5] [--reps N] [--planner NAME] [--compare OUT.h5]\n"
      "                 [--format table|csv]\n"
      "  Predicts the plan's per-inference latency, per-node energy and bytes without running it,\n"
      "  using the same timing model as `cleave run`'s virtual clock: per-layer host times from a\n"
      "  profile (cleave profile MODEL -o FILE.h5) or, without --profile, measured now (--reps,\n"
      "  default 5), times the nodes' slowdowns, plus the link model.\n"
      "  --planner NAME     replace the testbed's plan by planner NAME's placement (a layer planner:\n"
      "                     scission, neurosurgeon, dads, local, cloud; see `cleave plan --help`) made\n"
      "                     on the same host times and testbed, then predict that placement\n"
      "  --compare OUT.h5   print predicted vs measured (a `cleave run` output) and the error\n");
}

/* --compare: the run must come from the same resolved config (its /provenance
 * config_sha256), else predicted and measured describe different experiments. */
typedef struct prov_find {
  char sha[65];
} prov_find;
static void prov_cb(const char *name, const char *value, void *ud) {
  if (!strcmp(name, "config_sha256")) snprintf(((prov_find *)ud)->sha, sizeof ((prov_find *)ud)->sha, "%s", value);
}

static int compare_identity(cl_reader *r, const char *compare, const cl_rt_setup *su) {
  prov_find pf = {""};
  if (cl_reader_exists(r, "/provenance") && cl_reader_attrs(r, "/provenance", prov_cb, &pf) != CL_OK)
    return 2; /* logged: a damaged file */
  char want[65];
  cl_sha256_hex(su->config_text, strlen(su->config_text), want);
  if (!pf.sha[0]) {
    fprintf(stderr, "cleave: error: %s: no /provenance config_sha256 (not a cleave run output)\n", compare);
    return 2;
  }
  if (strcmp(pf.sha, want)) {
    fprintf(stderr, "cleave: error: %s: made from another config (config_sha256 %.12s..., this testbed's "
            "resolved config %.12s...); compare a run of this testbed\n", compare, pf.sha, want);
    return 2;
  }
  return 0;
}

/* --planner: run planner @p name on the testbed's nodes, links and the model's host
 * times @p t, and place every graph node where it says (su->node_of_layer). */
static int apply_planner(const char *name, const char *path, const cl_graph *g, const double *t, cl_rt_setup *su,
                         int csv) {
  cl_testbed tb;
  memset(&tb, 0, sizeof tb);
  cl_plan_input in;
  cl_plan_input_init(&in);
  cl_plan_result r;
  cl_plan_result_init(&r);
  int rc = 2;
  cl_status st = cl_testbed_load(path, &tb);
  if (st == CL_OK) st = cl_plan_input_from_testbed(&tb, g, t, 0, &in);
  if (st == CL_OK) {
    in.model = su->model;
    st = cl_plan_run(name, &in, &r);
  }
  if (st == CL_OK && (!r.node_of_unit || r.n_units != cl_graph_size(g) || r.n_machines != su->n_nodes)) {
    fprintf(stderr, "cleave: error: sim: planner '%s' gives a spatial (row-split) plan; simulate it with "
                    "`cleave coedge`\n", name);
    st = CL_ERR_INVALID;
  } else if (st == CL_OK) {
    /* units are graph nodes, machines the testbed's nodes in order; the raw input stays
     * on machine 0 (the source), as the planners' cost model has it */
    for (int k = 0; k < r.n_units; k++)
      su->node_of_layer[k] = cl_graph_node(g, k)->n_inputs == 0 ? 0 : r.node_of_unit[k];
    /* device nodes: per-layer device / host times for the new placement */
    st = cl_rt_setup_devices(&tb, g, su);
  }
  if (st == CL_OK) {
    char place[256] = "";
    cl_plan_placement_text(&in, &r, place, sizeof place);
    if (!csv)
      printf("planner: %s\nplacement: %s\nplanned_latency_ms: %.3f\nplanned_energy_J: %.4f\n", name, place,
             r.latency * 1e3, r.energy);
    rc = 0;
  }
  if (st == CL_ERR_NOTFOUND || st == CL_ERR_UNSUPPORTED) { /* cl_plan_run said why */
    fprintf(stderr, "cleave sim: planners:");
    for (const char *const *p = cl_planner_list(NULL); *p; p++) fprintf(stderr, " %s", *p);
    fprintf(stderr, "\n");
  }
  cl_plan_result_fini(&r);
  cl_plan_input_fini(&in);
  cl_testbed_free(&tb);
  return rc;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int cl__cmd_sim(int argc, char **argv) {
  const char *path = NULL, *profile = NULL, *compare = NULL, *planner = NULL;
  long reps = 5;
  int csv = 0;
  for (int i = 1; i < argc; i++) {
    int missing = 0;
    const char *v;
    if (cl__help_asked(argv[i], help)) return 0;
    if ((v = cl__opt(argc, argv, &i, "--profile", &missing))) {
      profile = v;
    } else if ((v = cl__opt(argc, argv, &i, "--planner", &missing))) {
      planner = v;
    } else if ((v = cl__opt(argc, argv, &i, "--compare", &missing))) {
      compare = v;
    } else if ((v = cl__opt(argc, argv, &i, "--reps", &missing))) {
      if (cl__parse_int("sim", "--reps", v, 1, 100000, &reps)) return 2;
    } else if ((v = cl__opt(argc, argv, &i, "--format", &missing))) {
      if (strcmp(v, "csv") && strcmp(v, "table")) {
        fprintf(stderr, "cleave: error: sim: --format expects 'table' or 'csv'\n");
        return 2;
      }
      csv = !strcmp(v, "csv");
    } else if (cl__arg_rest("sim", "config", argv[i], missing, &path)) {
      return 2;
    }
  }
  if (!path) {
    fprintf(stderr, "cleave: error: sim: no testbed config given (see --help)\n");
    return 2;
  }
  int mu_rc = cl_mu_cmd_sim(path, profile, (int)reps, csv, cl_plan_users_hook); /* `users:` (runtime/multiuser.c) */
  if (mu_rc >= 0) return mu_rc;
  cl_rt_setup su;
  if (cl_rt_setup_load(path, NULL, &su) != CL_OK) return 2;
  cl_graph *g = NULL;
  double *t = NULL;
  cl_rt_tasks tasks;
  memset(&tasks, 0, sizeof tasks);
  cl_timeline *tl = NULL;
  int rc = 1;
  /* A zoo name or an ONNX file; the timing needs the structure only (measured timings
   * re-seed the weights: the kernels' speed does not depend on their values). */
  if (cl_model_load_structure(su.model, &g) != CL_OK) goto done;
  t = calloc((size_t)cl_graph_size(g), sizeof(double));
  if (!t) goto done;
  if (!profile) profile = su.profile; /* the config's `profile:` key */
  if (profile) {
    if (cl_rt_node_times_for_setup(profile, &su, g, t) != CL_OK) {
      rc = 2;
      goto done;
    }
  } else if (cl_rt_node_times_measure(g, su.seed, (int)reps, t) != CL_OK) {
    goto done;
  }
  if (planner && (rc = apply_planner(planner, path, g, t, &su, csv)) != 0) goto done;
  rc = 1;
  if (cl_rt_simulate(g, &su, t, &tasks, &tl) != CL_OK) goto done;
  int I = tasks.inferences;
  double *pred = malloc(sizeof(double) * (size_t)I);
  if (!pred) goto done;
  if (csv) printf("inference,latency_s,energy_J,bytes\n");
  else printf("model: %s\nnodes: %d\ninferences: %d\n%-10s %14s %12s %12s\n", su.model, su.n_nodes, I, "inference",
              "latency_ms", "energy_J", "bytes");
  for (int i = 0; i < I; i++) {
    cl_inference_result ir;
    cl_timeline_inference(tl, i, &ir);
    pred[i] = ir.latency;
    if (csv) printf("%d,%.9g,%.9g,%llu\n", i, ir.latency, ir.energy, (unsigned long long)ir.bytes);
    else printf("%-10d %14.3f %12.4f %12llu\n", i, ir.latency * 1e3, ir.energy, (unsigned long long)ir.bytes);
  }
  if (!csv) {
    printf("%-10s %10s %12s %12s\n", "node", "tier", "busy_s", "energy_J");
    for (int nd = 0; nd < su.n_nodes; nd++) {
      cl_node_result nr;
      cl_timeline_node(tl, nd, &nr);
      printf("%-10s %10s %12.4f %12.4f\n", su.nodes[nd].name, su.nodes[nd].tier, nr.busy_time, nr.energy);
    }
  }
  rc = 0;
  if (compare) {
    cl_reader *r = NULL;
    if (cl_reader_open_input(compare, "run", &r) != CL_OK) {
      rc = 2;
      free(pred);
      goto done;
    }
    const cl_table_info *ti = cl_reader_find(r, CL_REC_INFERENCES.path);
    if ((rc = compare_identity(r, compare, &su)) != 0) {
    } else if (!ti) {
      fprintf(stderr, "cleave: error: sim: %s has no /inferences table (not a cleave run output)\n", compare);
      rc = 2;
    } else {
      size_t n = (size_t)ti->n_records;
      cl_rec_inference *m = malloc(sizeof(cl_rec_inference) * (n + 1));
      double *err = malloc(sizeof(double) * (n + 1));
      if (m && err && cl_reader_read(r, CL_REC_INFERENCES.path, &CL_REC_INFERENCES, 0, n, m) == CL_OK) {
        printf("%-10s %14s %14s %10s\n", "inference", "predicted_ms", "measured_ms", "error_%");
        int k = 0;
        for (size_t q = 0; q < n; q++) {
          if (m[q].inference < 0 || m[q].inference >= I) continue;
          double p = pred[m[q].inference], meas = m[q].latency;
          err[k] = meas > 0 ? 100.0 * (p - meas) / meas : 0;
          printf("%-10d %14.3f %14.3f %10.2f\n", m[q].inference, p * 1e3, meas * 1e3, err[k]);
          err[k] = fabs(err[k]);
          k++;
        }
        qsort(err, (size_t)k, sizeof *err, cmp_d);
        if (k) printf("median_abs_error_pct: %.2f\n", k % 2 ? err[k / 2] : 0.5 * (err[k / 2 - 1] + err[k / 2]));
      } else {
        rc = 1;
      }
      free(m);
      free(err);
    }
    cl_reader_close(r);
  }
  free(pred);
done:
  cl_timeline_destroy(tl);
  cl_rt_tasks_free(&tasks);
  free(t);
  cl_graph_destroy(g);
  cl_rt_setup_free(&su);
  return rc;
}
