/* cleave plan compare / --planner NAME / NAME: every registered planner through the
 * common interface (include/cleave/plan.h) on one input built from a testbed config or
 * from profiles, one row (or one block) per planner. The sweep kind `plan` runs the same
 * planners on the same kind of input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/onnx.h"
#include "cleave/plan.h"
#include "cleave/runtime.h"
#include "cleave/testbed.h"
#include "cleave/zoo.h"
#include "cmd_plan.h"

/* The common input of the generic path: a testbed + graph, or profiles (+ a zoo graph). */
typedef struct generic_ctx {
  cl_testbed tb;
  int have_tb;
  cl_graph *g;
  double *host;
  cl_profile_set *set;
  cl_netstats *net;
  char name[256];
} generic_ctx;

static int generic_input(plan_opts *o, generic_ctx *c, cl_plan_input *in) {
  int rc = 0;
  char path[4096];
  if (o->testbed) {
    if (cl_testbed_load(o->testbed, &c->tb) != CL_OK) return 2;
    c->have_tb = 1;
    if (!o->tn.model) o->tn.model = c->tb.model;
    if (cl_model_load_structure(o->tn.model, &c->g) != CL_OK) return 2;
    if (o->host_profile) {
      if (!(c->host = calloc((size_t)cl_graph_size(c->g), sizeof *c->host))) return 1;
      if (cl_rt_node_times_from_profile(o->host_profile, c->g, c->host) != CL_OK) return 2;
    }
    rc = plan_exit(cl_plan_input_from_testbed(&c->tb, c->g, c->host, o->host_gflops, in));
  } else {
    if (!o->tn.src.dir && !o->tn.src.n) {
      PLAN_ERR("give --testbed FILE.yaml or --profiles DIR / --profile TIER=FILE (see cleave plan compare --help)");
      return 2;
    }
    rc = plan_load_model(o, &c->set, c->name, sizeof c->name);
    if (!rc && o->tn.net) {
      cl_plan_net_path(o->tn.src.dir, o->tn.net, path, sizeof path);
      if (cl_netstats_load_csv(path, &c->net) != CL_OK) rc = 2;
    }
    if (!rc) rc = plan_exit(cl_plan_input_from_profiles(c->set, c->name, c->net, in));
    /* a zoo model (not an ONNX file) also enables the spatial planners */
    if (!rc && !cl_onnx_is_path(c->name) && cl_zoo_find(c->name) && cl_zoo_build(c->name, &c->g) == CL_OK)
      rc = plan_exit(cl_plan_input_attach_graph(in, c->g));
  }
  if (!rc && o->tn.bandwidth_mbps > 0) {
    in->bandwidth_Bps = o->tn.bandwidth_mbps * 125000.0;
    in->latency_s = o->tn.latency_ms > 0 ? o->tn.latency_ms / 1e3 : 0;
  }
  int energy = !strcmp(o->obj, "energy");
  if (!energy && strcmp(o->obj, "latency")) {
    PLAN_ERR("--objective expects latency or energy, got '%s'", o->obj);
    rc = 2;
  }
  in->objective = energy ? CL_PLAN_ENERGY : CL_PLAN_LATENCY;
  in->deadline_s = o->deadline;
  if (o->host_gflops > 0) in->host_gflops = o->host_gflops;
  return rc;
}

/* One row (compare) or one block (single planner) per planner. */
static int print_result(const cl_plan_input *in, const char *name, cl_status st, const cl_plan_result *r, int csv,
                        int table) {
  char place[4096];
  if (st == CL_OK) cl_plan_placement_text(in, r, place, sizeof place);
  const char *status = st == CL_OK ? (r->feasible ? "ok" : "missed") : st == CL_ERR_UNSUPPORTED ? "n/a" : "error";
  if (csv) {
    if (st == CL_OK)
      printf("%s,%s,%s,%.9g,%.9g,%.0f,\"%s\"\n", in->model, name, status, r->latency, r->energy, r->bytes, place);
    else
      printf("%s,%s,%s,,,,\n", in->model, name, status);
  } else if (table) {
    if (st == CL_OK)
      printf("%-13s %-7s %12.3f %10.4f %12.4f  %s\n", name, status, r->latency * 1e3, r->energy, r->bytes / 1e6,
             place);
    else
      printf("%-13s %-7s (%s)\n", name, status, cl_status_str(st));
  } else if (st == CL_OK) {
    printf("planner %s: latency %.6f s, energy %.6f J, %.0f bytes sent%s\nplacement: %s\n", name, r->latency,
           r->energy, r->bytes, r->feasible ? "" : " (deadline missed)", place);
    if (r->detail) printf("detail: %s\n", r->detail);
  }
  return st == CL_OK || (table && st == CL_ERR_UNSUPPORTED) ? 0 : plan_exit(st);
}

int plan_cmd_generic(const char *planner, int argc, char **argv) {
  plan_opts o;
  plan_opts_init(&o);
  int rc = plan_opts_parse(PLAN_GENERIC, planner ? planner : "compare", argc, argv, &o);
  if (rc) return rc < 0 ? 0 : rc;
  if (!planner) planner = o.planner;
  if (planner && !cl_planner_find(planner)) {
    PLAN_ERR("unknown planner '%s' (see cleave plan --help)", planner);
    return 2;
  }
  int csv = o.fmt && !strcmp(o.fmt, "csv");
  if (o.fmt && !csv && strcmp(o.fmt, "table")) {
    PLAN_ERR("--format expects table or csv, got '%s'", o.fmt);
    return 2;
  }
  generic_ctx c;
  memset(&c, 0, sizeof c);
  cl_plan_input in;
  cl_plan_input_init(&in);
  rc = generic_input(&o, &c, &in);
  if (!rc && csv) puts("model,planner,status,latency_s,energy_j,bytes,placement");
  else if (!rc && !planner)
    printf("%s: %d units, %d machines, objective %s\n%-13s %-7s %12s %10s %12s  %s\n", in.model, in.n_units,
           in.n_machines, o.obj, "planner", "status", "latency_ms", "energy_J", "sent_MB", "placement");
  for (int i = 0; !rc && i < cl_planner_count(); i++) {
    const cl_planner_i *p = cl_planner_get(i);
    if (planner && strcmp(planner, p->name)) continue;
    cl_plan_result r;
    cl_status st = cl_planner_applies(p, &in);
    if (st == CL_ERR_UNSUPPORTED && !planner && !o.all) continue;
    if (st == CL_OK || planner) st = cl_plan_run(p->name, &in, &r);
    else cl_plan_result_init(&r);
    int prc = print_result(&in, p->name, st, &r, csv, !planner);
    if (planner) rc = prc;
    cl_plan_result_fini(&r);
  }
  cl_plan_input_fini(&in);
  cl_graph_destroy(c.g);
  free(c.host);
  if (c.have_tb) cl_testbed_free(&c.tb);
  cl_netstats_destroy(c.net);
  cl_profile_set_destroy(c.set);
  return rc;
}

