/* cleave plan: options shared by its subcommands (apps/cmd_plan*.c). The options are one
 * table (cmd_plan_opts.c); each row says which subcommands accept it. */
#ifndef CLEAVE_APPS_CMD_PLAN_H
#define CLEAVE_APPS_CMD_PLAN_H

#include <stdio.h>

#include "cleave/plan_profiles.h"
#include "cleave/planner.h"
#include "cli.h"

/* Subcommands (bits of an option row's `cmds`). */
enum { PLAN_SCISSION = 1, PLAN_NS = 2, PLAN_DADS = 4, PLAN_GENERIC = 8, PLAN_COEDGE = 16 };

#define PLAN_MAX_KV 32

/* Every option of every planner subcommand; unset values as initialised by plan_opts_init. */
typedef struct plan_opts {
  cl_plan_twonode_opts tn; /* sources, link, machines, layer files, fits, model, input */
  const char *emit, *fmt, *obj, *tiers, *weights, *power_s, *tx_s, *planner, *testbed, *host_profile;
  long inferences, count;
  double pc, ptx, pidle, result_bytes, deadline, host_gflops;
  int all, stats, compat;
  /* coedge (cmd_plan_coedge.c) */
  const char *devices, *mode, *schedule, *out;
  double c_bandwidth, msg_lat, threshold, probe, seed; /* B/s, s, -, inferences (< 0 unset), - */
  int show_plan, run, no_adapt, force;
  /* tier-keyed Scission options: (tier or NULL, value) pairs; NULL: value is TIER=VALUE */
  const char *kv[3][PLAN_MAX_KV];
  int n_kv[3];
} plan_opts;

void plan_opts_init(plan_opts *o);
/* cleave plan coedge --help text (cmd_plan_coedge.c). */
void plan_coedge_usage(FILE *f);
/* Parse argv[1..] for subcommand @p cmd. Returns 0 ok, 2 usage error (printed), -1 after
 * printing --help. */
int plan_opts_parse(int cmd, const char *name, int argc, char **argv, plan_opts *o);
/* The Scission query of @p o (tiers, criteria, limits, powers); @p store keeps strings
 * the query points to. 0 ok, 2 usage error (printed). */
int plan_scission_query(plan_opts *o, cl_scission_query *q, char store[][512], int n_store);
/* The command line as one line (for emitted configs). */
void plan_argv_line(char *out, size_t cap);
/* Load o's profile sources and resolve its model (default: the first profiled) into
 * @p name. 0 ok, else an exit code (printed). */
int plan_load_model(plan_opts *o, cl_profile_set **set, char *name, size_t cap);
/* cleave plan compare (planner NULL) or one planner through the interface (cmd_plan_generic.c). */
int plan_cmd_generic(const char *planner, int argc, char **argv);
/* Exit code of a status: 1 out of memory / internal, else 2. */
int plan_exit(cl_status st);

/* One error line "cleave: error: plan: ..." (apps/cli_error.c); callers return 2. */
#define PLAN_ERR(...) ((void)cl__cmd_error(2, "plan", __VA_ARGS__))

#endif
