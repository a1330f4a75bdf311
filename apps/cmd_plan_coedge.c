/* cleave plan coedge: cooperative spatial partitioning of a model's spatial part across
 * heterogeneous edge devices (CoEdge LP planner and baselines). Exit codes: 0 ok,
 * 1 runtime failure or infeasible deadline, 2 bad usage / input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/coedge.h"
#include "cleave/coedge_run.h"
#include "cleave/onnx.h"
#include "cleave/spatial.h"
#include "cli.h"
#include "cmd_plan.h"
#include "commands.h"

#define CMD "plan coedge"

void plan_coedge_usage(FILE *f) {
  fprintf(f,
          "usage: cleave plan coedge --devices FILE.yaml [options] MODEL\n"
          "\n"
          "Split the spatial part of MODEL (a zoo name or an ONNX file; all layers before the\n"
          "first non-spatial one) into horizontal row slices across edge devices and predict\n"
          "latency and energy.\n"
          "\n"
          "options:\n"
          "  --devices FILE      YAML: devices: [{name, gflops | speed, compute_w, idle_w, tx_w,\n"
          "                      rx_w, source: true?}] (gflops: the device's effective GFLOP/s,\n"
          "                      absolute; speed: relative to the host rate below), optional\n"
          "                      bandwidth:, msg_latency:,\n"
          "                      input_bytes_per_elem: (1 = the source sends an 8-bit image,\n"
          "                      2 = fp16, 4 = float32; default 4; only the scatter's bytes),\n"
          "                      overlap: true (halo exchange beside compute; docs/coedge.md)\n"
          "  --deadline T        latency deadline, e.g. 200ms (default: none)\n"
          "  --bandwidth B       shared WLAN bandwidth, e.g. 50Mbit/s (default: file, else 50Mbit/s)\n"
          "  --msg-latency T     per-transfer overhead (default: file, else 1ms)\n"
          "  --mode M            layer (per-layer halo exchange, CoEdge) | fused (one fused\n"
          "                      block, redundant compute, DeepThings)   (default layer)\n"
          "  --planner P         coedge | fastest | equal | proportional | tiles2x2 | tiles3x3\n"
          "                      | minlat | local | all   (default coedge; local = everything\n"
          "                      on the source, nothing sent: on-device inference)\n"
          "  --host-gflops G     host speed that device speed factors scale (default 20):\n"
          "                      a node takes flops / (G * 1e9 * speed) seconds on a device\n"
          "                      (a device given in gflops takes flops / (gflops * 1e9))\n"
          "  --format F          table | csv (default table)\n"
          "  --show-plan         print the spatial plan (regions, transfers) of each result\n"
          "  -h, --help          this help\n"
          "\n"
          "executing the plan (real kernels on every device's rows or grid tiles, in-process; each device's\n"
          "thread CPU time / its speed, WLAN and energy from the same model; the planner uses\n"
          "per-layer host times measured first, so --host-gflops does not apply: a device given\n"
          "in gflops runs at that rate relative to this host's measured rate on the model):\n"
          "  --run               execute; with --planner all: one measured row per planner\n"
          "  --inferences N      inferences to execute (default 1; median reported)\n"
          "  --schedule S        environment changes between inferences, e.g.\n"
          "                      \"10:tx2=0.2,20:bandwidth=5Mbit/s\" (device speed factor, or\n"
          "                      GFLOP/s for a device given in gflops, or WLAN bandwidth\n"
          "                      from inference AT on); one planner only\n"
          "  --no-adapt          keep the first plan (default: re-plan when the observed device\n"
          "                      speeds or bandwidth drift by more than --threshold)\n"
          "  --threshold F       relative drift that triggers re-planning (default 0.15)\n"
          "  --probe-every N     adaptive mode: every N inferences, each device the plan does not\n"
          "                      observe (no rows, or a sliver) runs one probe node so a device\n"
          "                      that recovered is seen again; 0 = never probe (default %d)\n"
          "  --seed S            weights and input seed (default 1)\n"
          "  -o FILE.h5          write one /inferences record per inference (one planner)\n"
          "  --force             overwrite FILE.h5\n",
          CL_COEDGE_PROBE_EVERY);
}

static double wall_ms(double t0) { return (cl__now() - t0) * 1e3; }

static void print_detail(const cl_coedge_problem *pb, const cl_coedge_result *r, double ms) {
  const cl_spatial_plan *sp = r->plan;
  printf("planner %s (%s)\n", cl_coedge_planner_name(r->planner),
         cl_coedge_planner_desc(r->planner));
  printf("%-16s %8s %10s %10s %10s %10s %10s %12s\n", "device", "rows", "GMACs", "busy_ms",
         "tx_ms", "rx_ms", "energy_J", "role");
  int tiles = sp->n_tasks != sp->n_dev;
  for (int d = 0; d < pb->n_dev; d++) {
    char role[32] = "";
    if (d == sp->source) strcat(role, "source ");
    if (d == sp->sink) strcat(role, "sink");
    if (!r->participates[d]) strcpy(role, "idle (off)");
    printf("%-16s %8d %10.3f %10.3f %10.3f %10.3f %10.4f %12s\n", pb->dev[d].name, r->rows[d],
           (double)sp->macs[d] * 1e-9, r->busy[d] * 1e3, r->tx[d] * 1e3, r->rx[d] * 1e3,
           r->e_dev[d], role);
  }
  printf("rows are %s of a reference height of %d\n", tiles ? "tiles" : "rows", r->ref_h);
  printf("latency %.3f ms = scatter %.3f + compute %.3f + halo %.3f + gather %.3f + tail %.3f\n",
         r->latency * 1e3, r->t_scatter * 1e3, r->t_compute * 1e3, r->t_comm * 1e3,
         r->t_gather * 1e3, r->t_tail * 1e3);
  printf("energy %.4f J; redundant compute %.2f%%; %d transfers; deadline %s\n", r->energy,
         100 * sp->redundancy, sp->n_xfer,
         pb->deadline > 0 ? (r->meets_deadline ? "met" : "MISSED") : "none");
  if (r->lp_solves)
    printf("LP: %d solves (first relaxed optimum %.6g %s); %d exact evaluations; planned in "
           "%.2f ms\n",
           r->lp_solves, r->lp_objective, r->planner == CL_COEDGE_MINLAT ? "s" : "J", r->evals,
           ms);
}

static int csv_fmt(const char *format) { return !strcmp(format, "csv"); }

/* --run: execute with planner @p planner (NULL: every executable planner, one row each). */
static int run_cmd(const char *devices, const char *model, const char *planner, double deadline,
                   double bandwidth, cl_spatial_mode mode, int inferences, uint64_t seed,
                   const char *schedule, int adapt, double threshold, int probe_every,
                   const char *out, int force, int csv) {
  cl_coedge_point pt = {model, planner, devices, deadline, bandwidth, (int)mode, inferences, seed};
  if (!planner) {
    if (csv)
      printf("model,mode,planner,feasible,latency_ms,planned_latency_ms,energy_J,planned_energy_J,"
             "devices_used,plan_ms,plan\n");
    else
      printf("%s, %s mode, %d inference(s) executed per planner (latency/energy: medians)\n"
             "%-13s %5s %11s %11s %10s %10s %4s  %s\n",
             model, mode ? "fused" : "layer", inferences, "planner", "meets", "latency_ms",
             "planned_ms", "energy_J", "planned_J", "devs", "plan");
    int rc = 0;
    for (int k = 0; k < CL_COEDGE_PLANNER_COUNT; k++) {
      pt.planner = cl_coedge_planner_name((cl_coedge_planner)k);
      cl_coedge_point_result r;
      cl_status st = cl_coedge_run_point(&pt, &r);
      if (st == CL_ERR_UNSUPPORTED) { /* e.g. local with a source that cannot compute */
        printf("%-13s n/a (%s)\n", pt.planner, cl_status_str(st));
        continue;
      }
      if (st != CL_OK) {
        printf("%-13s error (%s)\n", pt.planner, cl_status_str(st));
        rc = st == CL_ERR_NOTFOUND || st == CL_ERR_IO || st == CL_ERR_CONFIG ? 2 : 1;
        if (rc == 2) return rc;
        continue;
      }
      if (csv)
        printf("%s,%s,%s,%d,%.6f,%.6f,%.6f,%.6f,%d,%.3f,%s\n", model, mode ? "fused" : "layer",
               pt.planner, r.feasible, r.latency * 1e3, r.planned_latency * 1e3, r.energy,
               r.planned_energy, r.devices_used, r.plan_seconds * 1e3, r.plan);
      else
        printf("%-13s %5s %11.3f %11.3f %10.4f %10.4f %4d  %s\n", pt.planner,
               r.feasible ? "yes" : "NO", r.latency * 1e3, r.planned_latency * 1e3, r.energy,
               r.planned_energy, r.devices_used, r.plan);
    }
    return rc;
  }
  cl_coedge_devfile df;
  if (cl_coedge_devfile_load(devices, &df) != CL_OK) return 2;
  const char **names = calloc((size_t)df.n_dev, sizeof *names);
  cl_coedge_event *ev = NULL;
  int n_ev = 0, rc = 0;
  if (!names) {
    cl_coedge_devfile_fini(&df);
    return 1;
  }
  for (int d = 0; d < df.n_dev; d++) names[d] = df.dev[d].name;
  cl_status st = cl_coedge_parse_schedule(schedule, names, df.n_dev, &ev, &n_ev);
  free(names);
  cl_coedge_devfile_fini(&df);
  if (st != CL_OK) return 2;
  char cfg[4096];
  size_t len = (size_t)snprintf(cfg, sizeof cfg, "command:");
  for (int i = 0; i < cl__argc && len < sizeof cfg; i++)
    len += (size_t)snprintf(cfg + len, sizeof cfg - len, " %s", cl__argv[i]);
  cl_coedge_adapt_opts o = {ev, n_ev, adapt, threshold, out, force, cfg};
  cl_coedge_inference *rec = NULL;
  st = cl_coedge_run_adaptive_ex(&pt, &o, probe_every, &rec);
  free(ev);
  if (st != CL_OK) return st == CL_ERR_NOTFOUND || st == CL_ERR_IO || st == CL_ERR_CONFIG ||
                                 st == CL_ERR_EXISTS || st == CL_ERR_INVALID
                            ? 2
                            : 1;
  if (csv)
    printf("inference,planner,plan_id,replanned,latency_ms,planned_latency_ms,energy_J,"
           "planned_energy_J,met_deadline,bandwidth_Bps,min_speed_ratio,probed,probe_energy_J,"
           "plan\n");
  else
    printf("%s, %s mode, planner %s, %s\n%5s %4s %3s %11s %11s %9s %9s %5s %9s %6s %6s  %s\n",
           model, mode ? "fused" : "layer", planner,
           adapt ? "adaptive (re-plans on drift)" : "static plan", "inf", "plan", "new",
           "latency_ms", "planned_ms", "energy_J", "planned_J", "meets", "bw_Mbit/s", "speed",
           "probed", "split");
  for (int i = 0; i < inferences; i++) {
    const cl_coedge_inference *r = &rec[i];
    if (csv)
      printf("%lld,%s,%d,%d,%.6f,%.6f,%.6f,%.6f,%d,%.1f,%.4f,%d,%.6f,%s\n",
             (long long)r->inference, r->planner, r->plan_id, r->replanned, r->latency * 1e3,
             r->planned_latency * 1e3, r->energy, r->planned_energy, r->met_deadline,
             r->bandwidth, r->min_speed_ratio, r->probed, r->probe_energy, r->plan);
    else
      printf("%5lld %4d %3s %11.3f %11.3f %9.4f %9.4f %5s %9.2f %6.3f %6d  %s\n",
             (long long)r->inference, r->plan_id, r->replanned ? "yes" : "", r->latency * 1e3,
             r->planned_latency * 1e3, r->energy, r->planned_energy,
             r->met_deadline ? "yes" : "NO", r->bandwidth * 8e-6, r->min_speed_ratio, r->probed,
             r->plan);
  }
  if (out && !csv) printf("records: %s (/inferences)\n", out);
  free(rec);
  return rc;
}

int cl__cmd_plan_coedge(int argc, char **argv) {
  plan_opts o;
  plan_opts_init(&o);
  o.inferences = 1;
  o.host_gflops = 20;
  int prc = plan_opts_parse(PLAN_COEDGE, "coedge", argc, argv, &o);
  if (prc) return prc < 0 ? 0 : prc;
  const char *devices = o.devices, *model = o.tn.model, *planner = o.planner ? o.planner : "coedge";
  const char *format = o.fmt ? o.fmt : "table", *schedule = o.schedule, *out = o.out;
  double deadline = o.deadline, bandwidth = o.c_bandwidth, msg_lat = o.msg_lat, gflops = o.host_gflops;
  int show_plan = o.show_plan, run = o.run, inferences = (int)o.inferences, no_adapt = o.no_adapt, force = o.force;
  double threshold = o.threshold, seed = o.seed;
  int probe_every = o.probe > 0 ? (int)o.probe : -1; /* cl_coedge_run_adaptive_ex: 0 default period, < 0 never */
  const char *probe_arg = o.probe >= 0 ? "given" : NULL;
  if (!probe_arg) probe_every = 0;
  if (o.probe >= 0 && o.probe != (int)o.probe) {
    return cl__cmd_error(2, CMD, "--probe-every expects a whole number of inferences, got '%g'", o.probe);
  }
  cl_spatial_mode mode = CL_SPATIAL_LAYER;
  if (o.mode && !strcmp(o.mode, "fused")) mode = CL_SPATIAL_FUSED;
  else if (o.mode && strcmp(o.mode, "layer")) {
    return cl__cmd_error(2, CMD, "--mode expects layer or fused, got '%s'", o.mode);
  }
  if (!devices || !model) {
    cl__cmd_error(2, CMD, "%s is required", !devices ? "--devices" : "MODEL");
    plan_coedge_usage(stderr);
    return 2;
  }
  if (strcmp(format, "table") && strcmp(format, "csv")) {
    return cl__cmd_error(2, CMD, "--format expects table or csv, got '%s'", format);
  }
  int all = !strcmp(planner, "all");
  cl_coedge_planner which = cl_coedge_planner_from_name(planner);
  if (!all && which == CL_COEDGE_PLANNER_COUNT) {
    char names[512] = "";
    for (int k = 0; k < CL_COEDGE_PLANNER_COUNT; k++)
      snprintf(names + strlen(names), sizeof names - strlen(names), "%s, ",
               cl_coedge_planner_name((cl_coedge_planner)k));
    return cl__cmd_error(2, CMD, "unknown planner '%s' (%sall)", planner, names);
  }

  if (!run && (schedule || out || no_adapt || inferences != 1 || probe_arg)) {
    return cl__cmd_error(2, CMD, "--inferences, --schedule, --no-adapt, --probe-every "
                    "and -o need --run");
  }
  if (probe_arg && (all || no_adapt)) {
    return cl__cmd_error(2, CMD, "--probe-every applies to the adaptive mode: one "
                    "--planner (not all), without --no-adapt");
  }
  if (run) {
    if (msg_lat >= 0) {
      return cl__cmd_error(2, CMD, "with --run the message latency comes from the "
                      "devices file (msg_latency:)");
    }
    if (all && (schedule || out)) {
      return cl__cmd_error(2, CMD, "--schedule and -o need one --planner, not all");
    }
    return run_cmd(devices, model, all ? NULL : planner, deadline, bandwidth, mode, inferences,
                   (uint64_t)seed, schedule, !no_adapt, threshold, probe_every, out, force,
                   csv_fmt(format));
  }

  cl_coedge_devfile df;
  if (cl_coedge_devfile_load(devices, &df) != CL_OK) return 2;
  cl_graph *g = NULL;
  if (cl_model_load_structure(model, &g) != CL_OK) { /* zoo name or ONNX file (no weights needed) */
    cl_coedge_devfile_fini(&df);
    return 2;
  }
  cl_coedge_devfile_reference(&df, gflops); /* devices given in gflops: speed = their rate / the host's */
  int rc = 0, n = cl_graph_size(g);
  double *host = calloc((size_t)n, sizeof *host);
  if (!host) {
    rc = 1;
    goto done;
  }
  for (int id = 0; id < n; id++) host[id] = (double)cl_graph_node(g, id)->flops / (gflops * 1e9);
  if (bandwidth < 0) bandwidth = df.bandwidth > 0 ? df.bandwidth : 50e6 / 8;
  if (msg_lat < 0) msg_lat = df.msg_latency >= 0 ? df.msg_latency : 1e-3;
  cl_coedge_problem pb = {g,       -1,       -1,       host, df.n_dev, df.dev, df.source,
                          bandwidth, msg_lat, deadline, mode, df.input_bytes_per_elem,
                          df.overlap};
  int first, last;
  if (cl_spatial_prefix(g, &first, &last) != CL_OK) {
    rc = 2;
    goto done;
  }
  int csv = !strcmp(format, "csv");
  /* zero-speed devices: left out of every plan; a zero-speed source still holds the
   * input (a camera or sensor) and sends it */
  int n_fast = 0;
  for (int d = 0; d < df.n_dev; d++) {
    if (df.dev[d].speed > 0) {
      n_fast++;
      continue;
    }
    const char *what = df.gflops[d] >= 0 ? "gflops" : "speed"; /* the key the file gave */
    if (d == df.source)
      fprintf(stderr, "cleave " CMD ": note: source '%s' has %s 0: it computes nothing and "
                      "only sends the input\n", df.dev[d].name, what);
    else
      fprintf(stderr, "cleave " CMD ": note: device '%s' has %s 0 and is left out\n", df.dev[d].name, what);
  }
  if (n_fast == 0) {
    cl__cmd_error(2, CMD, "no device in %s can compute (every speed or gflops is 0)",
            devices);
    rc = 2;
    goto done;
  }
  if (!csv) {
    printf("model %s: spatial part = nodes %d..%d (up to '%s', %dx%dx%d), %s mode\n",
           cl_graph_name(g), first, last, cl_graph_node(g, last)->name,
           cl_graph_node(g, last)->out.c, cl_graph_node(g, last)->out.h,
           cl_graph_node(g, last)->out.w, mode == CL_SPATIAL_LAYER ? "layer" : "fused");
    printf("%d devices, source %s (sends the input at %d byte%s/element), WLAN %.2f Mbit/s, "
           "%.3f ms per transfer, deadline %s",
           df.n_dev, df.dev[df.source].name, df.input_bytes_per_elem,
           df.input_bytes_per_elem == 1 ? "" : "s", bandwidth * 8e-6, msg_lat * 1e3,
           deadline > 0 ? "" : "none\n");
    if (deadline > 0) printf("%.3f ms\n", deadline * 1e3);
  } else {
    printf("model,mode,planner,status,latency_ms,energy_J,meets_deadline,devices_used,rows,"
           "redundancy_pct,transfers,plan_ms\n");
  }
  if (!csv && all)
    printf("\n%-13s %-10s %11s %10s %6s %5s %-28s %7s %8s\n", "planner", "status", "latency_ms",
           "energy_J", "meets", "devs", "rows", "redund%", "plan_ms");
  for (int k = 0; k < CL_COEDGE_PLANNER_COUNT; k++) {
    if (!all && k != (int)which) continue;
    cl_coedge_result r;
    double t0 = cl__now();
    cl_status st = cl_coedge_plan(&pb, (cl_coedge_planner)k, &r);
    double ms = wall_ms(t0);
    /* unsupported: the planner does not apply (local with a source that cannot compute) */
    int na = st == CL_ERR_UNSUPPORTED && all;
    const char *status = st == CL_OK ? "ok" : st == CL_ERR_INFEASIBLE ? "infeasible"
                                            : na                      ? "n/a"
                                                                      : "error";
    if (st != CL_OK && st != CL_ERR_INFEASIBLE && !na) rc = 1;
    if (st == CL_ERR_INFEASIBLE && !all) rc = rc ? rc : 1;
    if (!r.plan) {
      if (csv)
        printf("%s,%s,%s,%s,,,,,,,,%.3f\n", cl_graph_name(g), mode ? "fused" : "layer",
               cl_coedge_planner_name((cl_coedge_planner)k), status, ms);
      else
        printf("%-13s %-10s (%s)\n", cl_coedge_planner_name((cl_coedge_planner)k), status,
               cl_status_str(st));
      cl_coedge_result_fini(&r);
      continue;
    }
    char rows[256] = "";
    int used = 0;
    for (int d = 0; d < df.n_dev; d++) {
      char b[24];
      snprintf(b, sizeof b, "%s%d", d ? (csv ? ";" : " ") : "", r.rows[d]);
      if (strlen(rows) + strlen(b) < sizeof rows) strcat(rows, b);
      used += r.participates[d] && (r.rows[d] > 0);
    }
    if (csv) {
      printf("%s,%s,%s,%s,%.6f,%.6f,%d,%d,%s,%.3f,%d,%.3f\n", cl_graph_name(g),
             mode ? "fused" : "layer", cl_coedge_planner_name((cl_coedge_planner)k), status,
             r.latency * 1e3, r.energy, r.meets_deadline, used, rows, 100 * r.plan->redundancy,
             r.plan->n_xfer, ms);
    } else if (all) {
      printf("%-13s %-10s %11.3f %10.4f %6s %5d %-28s %7.2f %8.2f\n",
             cl_coedge_planner_name((cl_coedge_planner)k), status, r.latency * 1e3, r.energy,
             r.meets_deadline ? "yes" : "NO", used, rows, 100 * r.plan->redundancy, ms);
    } else {
      printf("\n");
      if (st == CL_ERR_INFEASIBLE)
        printf("deadline infeasible: minimum achievable latency %.3f ms (plan below)\n",
               r.latency * 1e3);
      print_detail(&pb, &r, ms);
    }
    if (show_plan) cl_spatial_plan_print(stdout, g, r.plan);
    cl_coedge_result_fini(&r);
  }
done:
  free(host);
  cl_graph_destroy(g);
  cl_coedge_devfile_fini(&df);
  return rc;
}
