/* `users:` of a testbed: request sources, each with its own model, plan (a chain of
 * compute nodes) and arrival process (periodic or Poisson). Simulated by
 * runtime/multiuser.c (cleave sim); docs/network.md. */
#include <stdlib.h>
#include <string.h>

#include "cleave/onnx.h"
#include "testbed_internal.h"

enum { MAX_USERS = 100000 };

static cl_status oom(void) {
  cl_log_error("out of memory while loading the testbed's users");
  return CL_ERR_NOMEM;
}

static const char *const k_user_arrivals[] = {"periodic", "poisson", NULL};
static const char *const k_user_loads[] = {"wait", "utilisation", "none", NULL}; /* CL_TB_LOAD_* order */
static const char *const k_user_modes[] = {"auto", "latency", "throughput", NULL}; /* cl_plan_mode order */

/* `planner: {name, nodes: [source, ...], load, mode}`: the user's placement is chosen by
 * a planner (runtime/multiuser.c runs it through the caller's planner hook). */
static cl_status parse_planner(cl_testbed *tb, cl_config_node *m, cl_tb_user *u) {
  CL_TRY(cl_config_expect(m, CL_CONFIG_MAP));
  const char *name;
  CL_TRY(cl_config_get_str(m, "name", &name));
  if (!name[0]) return cl_config_error(cl_config_find(m, "name"), "planner name must not be empty");
  if (!(u->planner.name = cl__tb_strdup(name))) return oom();
  cl_config_node *seq = cl_config_find(m, "nodes");
  if (!seq) return cl_config_error(m, "missing required key 'nodes' (the source node first, then the nodes the planner may use)");
  CL_TRY(cl__tb_parse_node_list(tb, seq, &u->planner.nodes, &u->planner.n_nodes));
  if (u->planner.n_nodes < 2) return cl_config_error(seq, "a planner needs at least two nodes (the source and a server)");
  CL_TRY(cl_config_opt_enum(m, "load", k_user_loads, CL_TB_LOAD_WAIT, &u->planner.load));
  return cl_config_opt_enum(m, "mode", k_user_modes, 0, &u->planner.mode);
}


static cl_status parse_user(cl_testbed *tb, cl_config_node *m, int idx, const char *base) {
  CL_TRY(cl_config_expect(m, CL_CONFIG_MAP));
  cl_tb_user *u = &tb->users[idx];
  u->line = cl_config_line(m);
  const char *name;
  CL_TRY(cl_config_get_str(m, "name", &name));
  if (!name[0]) return cl_config_error(cl_config_find(m, "name"), "user name must not be empty");
  for (int j = 0; j < idx; j++)
    if (!strcmp(tb->users[j].name, name))
      return cl_config_error(cl_config_find(m, "name"), "duplicate user '%s' (also at line %d)", name,
                             tb->users[j].line);
  if (!(u->name = cl__tb_strdup(name))) return oom();
  const char *model;
  CL_TRY(cl_config_opt_str(m, "model", NULL, &model));
  if (model && !model[0]) return cl_config_error(cl_config_find(m, "model"), "model must not be empty");
  u->model_default = !model;
  u->model_is_onnx = model ? cl_onnx_is_path(model) : tb->model_is_onnx;
  u->model = !model ? cl__tb_strdup(tb->model) : u->model_is_onnx ? cl__tb_resolve_path(base, model) : cl__tb_strdup(model);
  if (!u->model) return oom();
  cl_config_node *pl = cl_config_find(m, "planner");
  if (pl && cl_config_find(m, "plan"))
    return cl_config_error(pl, "a user has either 'plan' or 'planner', not both");
  if (pl) {
    CL_TRY(parse_planner(tb, pl, u));
  } else {
    /* The plan parser fills tb->plan: parse into it and move the result out. */
    if (!cl_config_find(m, "plan"))
      return cl_config_error(m, "missing required key 'plan' (the user's chain of nodes) or 'planner'");
    cl_tb_plan top = tb->plan;
    cl_status s = cl__tb_parse_plan(tb, m);
    u->plan = tb->plan;
    tb->plan = top;
    CL_TRY(s);
  }
  int64_t v;
  CL_TRY(cl_config_opt_int(m, "inferences", 1, 1000000000, 1, &v));
  u->inferences = (int)v;
  int arr;
  CL_TRY(cl_config_opt_enum(m, "arrival", k_user_arrivals, 0, &arr));
  u->arrival.kind = arr ? CL_ARRIVAL_POISSON : CL_ARRIVAL_FIXED_RATE;
  CL_TRY(cl_config_get_double(m, "rate", 1e-9, 1e9, &u->arrival.rate));
  CL_TRY(cl_config_opt_unit(m, "start", CL_CONFIG_DURATION, 0, &u->arrival.t0));
  CL_TRY(cl_config_opt_u64(m, "seed", tb->seed + 1 + (uint64_t)idx, &u->arrival.seed));
  return CL_OK;
}

cl_status cl__tb_parse_users(cl_testbed *tb, cl_config_node *root, const char *base) {
  cl_config_node *seq = cl_config_find(root, "users");
  if (!seq || cl_config_is_null(seq)) return CL_OK;
  CL_TRY(cl_config_expect(seq, CL_CONFIG_SEQ));
  int n = cl_config_len(seq);
  if (n > MAX_USERS) return cl_config_error(seq, "more than %d users", MAX_USERS);
  if (n == 0) return CL_OK;
  if (!(tb->users = calloc((size_t)n, sizeof *tb->users))) return oom();
  for (int i = 0; i < n; i++) {
    tb->n_users = i + 1;
    CL_TRY(parse_user(tb, cl_config_at(seq, i), i, base));
  }
  return CL_OK;
}

void cl__tb_users_free(cl_testbed *tb) {
  for (int i = 0; i < tb->n_users; i++) {
    free(tb->users[i].name);
    free(tb->users[i].model);
    cl__tb_plan_free(&tb->users[i].plan);
    free(tb->users[i].planner.name);
    free(tb->users[i].planner.nodes);
  }
  free(tb->users);
  tb->users = NULL;
  tb->n_users = 0;
}
