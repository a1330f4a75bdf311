/* cleave plan <planner>: Scission, Neurosurgeon and DADS with their own options and
 * output (CoEdge: cmd_plan_coedge.c), and every registered planner through the common
 * interface (`--planner NAME`, `compare`). Options: cmd_plan_opts.c; profile glue:
 * sim/plan_profiles.c. Exit codes: 0 ok, 1 runtime failure, 2 usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/plan.h"
#include "cli.h"
#include "cmd_plan.h"
#include "commands.h"

/* The loaded profile set and the model's profiled name; 0 ok, else an exit code. */
int plan_load_model(plan_opts *o, cl_profile_set **set, char *name, size_t cap) {
  int rc = plan_exit(cl_plan_sources_load(&o->tn.src, set));
  if (!rc && !o->tn.model) {
    const cl_profile_machine *m0 = cl_profile_set_machine(*set, 0);
    if (m0 && m0->n_models) {
      o->tn.model = m0->models[0].name;
    } else {
      PLAN_ERR("no MODEL given and no profile loaded");
      rc = 2;
    }
  }
  if (!rc && !cl_plan_model_name(*set, o->tn.model, name, cap)) {
    PLAN_ERR("unknown model '%s': no profile in %s has it", o->tn.model, cl_plan_sources_desc(&o->tn.src));
    rc = 2;
  }
  return rc;
}

static int cmd_scission(int argc, char **argv) {
  plan_opts o;
  plan_opts_init(&o);
  int rc = plan_opts_parse(PLAN_SCISSION, "scission", argc, argv, &o);
  if (rc) return rc < 0 ? 0 : rc;
  if ((!o.tn.src.dir && !o.tn.src.n) || !o.tn.net) {
    PLAN_ERR("scission needs --profiles DIR (or --profile TIER=FILE) and --network FILE (see --help)");
    return 2;
  }
  static const char *fmts[] = {"scission", "table", "csv"};
  int fmt = -1;
  for (int k = 0; k < 3; k++)
    if (!strcmp(o.fmt ? o.fmt : "scission", fmts[k])) fmt = k;
  if (fmt < 0) {
    PLAN_ERR("--format expects scission, table or csv, got '%s'", o.fmt);
    return 2;
  }
  cl_scission_query q;
  char store[3 * PLAN_MAX_KV / 2 + 3][512];
  if (plan_scission_query(&o, &q, store, (int)(sizeof store / sizeof store[0]))) return 2;
  cl_profile_set *set = NULL;
  cl_netstats *net = NULL;
  cl_scission_config *res = NULL;
  char path[4096], name[256];
  rc = plan_load_model(&o, &set, name, sizeof name);
  q.model = o.tn.model;
  if (!rc) {
    cl_plan_net_path(o.tn.src.dir, o.tn.net, path, sizeof path);
    if (cl_netstats_load_csv(path, &net) != CL_OK) rc = 2;
  }
  /* cleave profiles: the raw input is the model's input tensor (step 0, the input node) */
  for (int i = 0; !rc && o.tn.input_mb < 0 && i < cl_profile_set_n_machines(set); i++) {
    const cl_profile_model *md = cl_profile_machine_model(cl_profile_set_machine(set, i), name);
    if (cl_plan_profile_steps(md) && md->layers[0].n_inputs == 0) {
      q.input_bytes = (double)md->layers[0].output_bytes;
      break;
    }
  }
  if (!rc && !(res = malloc((size_t)q.result_count * sizeof *res))) rc = 1;
  int n = 0;
  cl_scission_stats st = {0, 0};
  if (!rc) rc = plan_exit(cl_scission_search(set, net, &q, res, &n, &st));
  if (!rc) {
    char line[2048];
    if (fmt != CL_SCISSION_FMT_SCISSION) {
      cl_scission_format_line(set, &q, NULL, 0, (cl_scission_format)fmt, line, sizeof line);
      puts(line);
    }
    if (n == 0 && fmt == CL_SCISSION_FMT_SCISSION) puts("No results for the specified configuration");
    for (int r = 0; r < n; r++) {
      cl_scission_format_line(set, &q, &res[r], r + 1, (cl_scission_format)fmt, line, sizeof line);
      puts(line);
    }
    if (o.stats)
      fprintf(stderr, "scission: %lld configurations, %lld feasible\n", (long long)st.enumerated,
              (long long)st.feasible);
  }
  if (!rc && o.emit) {
    char cmd[2048];
    plan_argv_line(cmd, sizeof cmd);
    if ((rc = cl__check_output("plan --emit-config", o.emit)) != 0) {
      /* refused: the file exists and --force was not given */
    } else if (n == 0) {
      PLAN_ERR("--emit-config: no feasible configuration to write");
      rc = 2;
    } else {
      rc = plan_exit(cl_plan_emit_scission(o.emit, set, net, &q, &res[0], name, o.inferences, cmd, o.force));
    }
  }
  free(res);
  cl_netstats_destroy(net);
  cl_profile_set_destroy(set);
  return rc;
}

/* Parse and load a two-node problem (Neurosurgeon, DADS); 0 ok, -1 help shown, else an exit code. */
static int twonode_cmd(int cmd, const char *name, int argc, char **argv, plan_opts *o, cl_plan_twonode *p) {
  plan_opts_init(o);
  o->tn.dag = cmd == PLAN_DADS;
  int rc = plan_opts_parse(cmd, name, argc, argv, o);
  if (rc) return rc;
  const char *fmt = o->fmt ? o->fmt : "table";
  if (strcmp(fmt, "table") && strcmp(fmt, "csv")) {
    PLAN_ERR("--format expects table or csv, got '%s'", fmt);
    return 2;
  }
  int energy = !strcmp(o->obj, "energy");
  if (!energy && strcmp(o->obj, "latency")) {
    PLAN_ERR("--objective expects latency or energy, got '%s'", o->obj);
    return 2;
  }
  if (energy && o->pc == 0 && o->ptx == 0 && o->pidle == 0) {
    PLAN_ERR("the energy objective needs --power/--tx-power/--idle-power");
    return 2;
  }
  return plan_exit(cl_plan_twonode_load(&o->tn, p));
}

static int emit_twonode(const plan_opts *o, const cl_plan_twonode *p, const unsigned char *on_b, const char *planner,
                        const char *summary) {
  char cmd[2048];
  if (cl__check_output("plan --emit-config", o->emit)) return 2;
  plan_argv_line(cmd, sizeof cmd);
  return plan_exit(cl_plan_emit_twonode(o->emit, p, on_b, planner, summary, o->inferences, cmd, o->force));
}

static int cmd_neurosurgeon(int argc, char **argv) {
  plan_opts o;
  cl_plan_twonode p;
  int rc = twonode_cmd(PLAN_NS, "neurosurgeon", argc, argv, &o, &p);
  if (rc) return rc < 0 ? 0 : rc;
  cl_ns_input in = {p.n,  p.ta, p.tb, p.out, NULL, p.input_bytes, p.lat, p.bw, o.result_bytes,
                    !strcmp(o.obj, "energy") ? CL_NS_ENERGY : CL_NS_LATENCY, o.pc, o.ptx, o.pidle};
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
  int csv = o.fmt && !strcmp(o.fmt, "csv");
  if (!rc) {
    if (csv) puts("split,latency_s,mobile_s,comm_s,cloud_s,upload_bytes,mobile_energy_j,best");
    else
      printf("neurosurgeon: %s, mobile %s, cloud %s, link %.4g ms / %.6g MB/s, objective %s\n", p.model, p.a_name,
             p.b_name, p.lat * 1e3, p.bw / 1e6, o.obj);
    for (int s = 0; s <= p.n; s++) {
      if (res[s].split < 0 || (!o.all && s != best.split)) continue;
      const cl_ns_result *r = &res[s];
      if (csv) {
        printf("%d,%.9g,%.9g,%.9g,%.9g,%.0f,%.9g,%d\n", s, r->latency, r->t_mobile, r->t_comm, r->t_cloud, r->bytes,
               r->energy, s == best.split);
        continue;
      }
      char where[128] = "";
      if (p.first_layer && s > 0) snprintf(where, sizeof where, " (mobile runs layers 0-%d)", p.last_layer[s - 1]);
      printf("%s split %d/%d%s: latency %.4f s (mobile %.4f, comm %.4f, cloud %.4f), "
             "upload %.4f MB, mobile energy %.4f J\n",
             s == best.split ? "best" : "    ", s, p.n, where, r->latency, r->t_mobile, r->t_comm, r->t_cloud,
             r->bytes / 1e6, r->energy);
    }
  }
  if (!rc && o.emit) {
    unsigned char *on_b = malloc((size_t)p.n + 1);
    if (!on_b) rc = 1;
    for (int k = 0; !rc && k < p.n; k++) on_b[k] = k >= best.split;
    char sum[512];
    snprintf(sum, sizeof sum,
             "split %d of %d (steps 0-%d on %s): predicted latency %.6f s (mobile %.6f, transfer %.6f, cloud "
             "%.6f), %.0f bytes sent",
             best.split, p.n, best.split - 1, p.a_name, best.latency, best.t_mobile, best.t_comm, best.t_cloud,
             best.bytes);
    if (!rc) rc = emit_twonode(&o, &p, on_b, "Neurosurgeon", sum);
    free(on_b);
  }
  free(cut_ok);
  free(res);
  cl_plan_twonode_fini(&p);
  return rc;
}

static int cmd_dads(int argc, char **argv) {
  plan_opts o;
  cl_plan_twonode p;
  int rc = twonode_cmd(PLAN_DADS, "dads", argc, argv, &o, &p);
  if (rc) return rc < 0 ? 0 : rc;
  cl_dads_input in = {p.n, p.in_off, p.in_idx, p.ta, p.tb, p.out, p.bw, p.lat};
  unsigned char *cloud = calloc((size_t)p.n, 1), *dev = calloc((size_t)p.n, 1);
  cl_dads_result r, r_dev;
  if (!cloud || !dev) rc = 1;
  if (!rc && (cl_dads_plan(&in, cloud, &r) != CL_OK || cl_dads_eval(&in, dev, &r_dev) != CL_OK)) rc = 1;
  if (!rc && o.fmt && !strcmp(o.fmt, "csv")) {
    puts("node,first_layer,last_layer,on_cloud,device_s,cloud_s,out_bytes");
    for (int v = 0; v < p.n; v++)
      printf("%d,%d,%d,%d,%.9g,%.9g,%.0f\n", v, p.first_layer ? p.first_layer[v] : v,
             p.last_layer ? p.last_layer[v] : v, cloud[v], p.ta[v], p.tb[v], p.out[v]);
  } else if (!rc) {
    printf("dads: %s, device %s, cloud %s, link %.4g ms / %.6g MB/s\n", p.model, p.a_name, p.b_name, p.lat * 1e3,
           p.bw / 1e6);
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
  if (!rc && o.emit) {
    char sum[512];
    snprintf(sum, sizeof sum,
             "%d of %d steps on the cloud: predicted latency %.6f s (all on the device %.6f s), %d tensors / %.0f "
             "bytes sent",
             r.n_cloud, p.n, r.latency, r_dev.latency, r.n_sent, r.bytes);
    rc = emit_twonode(&o, &p, cloud, "DADS", sum);
  }
  free(cloud);
  free(dev);
  cl_plan_twonode_fini(&p);
  return rc;
}

/* ---- dispatch ---- */

static const struct {
  const char *name;
  int (*fn)(int argc, char **argv);
  const char *desc;
} k_cmds[] = {
    {"scission", cmd_scission, "rank every device/edge/cloud block split (Scission, UCC 2020)"},
    {"neurosurgeon", cmd_neurosurgeon, "best single mobile/cloud split for latency or energy (ASPLOS 2017)"},
    {"dads", cmd_dads, "optimal device/cloud DAG partition by min-cut (INFOCOM 2019)"},
    {"coedge", cl__cmd_plan_coedge, "cooperative spatial partitioning across edge devices"},
};
#define N_CMDS ((int)(sizeof k_cmds / sizeof k_cmds[0]))

static void plan_usage(FILE *f) {
  fprintf(f, "usage: cleave plan <planner> [options]   (cleave plan <planner> --help)\n\nplanners:\n");
  for (int i = 0; i < N_CMDS; i++) fprintf(f, "  %-13s %s\n", k_cmds[i].name, k_cmds[i].desc);
  fprintf(f, "\nevery planner through one interface (cleave plan compare --help):\n"
             "  compare       run every planner on the same input, one row each\n"
             "  --planner NAME, or NAME: one of");
  int n;
  const char *const *names = cl_planner_list(&n);
  for (int i = 0; i < n; i++) fprintf(f, " %s", names[i]);
  fputc('\n', f);
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
  for (int i = 0; i < N_CMDS; i++)
    if (!strcmp(p, k_cmds[i].name)) return k_cmds[i].fn(argc - 1, argv + 1);
  if (!strcmp(p, "compare")) return plan_cmd_generic(NULL, argc - 1, argv + 1);
  if (cl_planner_find(p)) return plan_cmd_generic(p, argc - 1, argv + 1);
  if (p[0] == '-') return plan_cmd_generic(NULL, argc, argv); /* cleave plan --planner NAME ... */
  PLAN_ERR("unknown planner '%s' (see cleave plan --help)", p);
  return 2;
}
