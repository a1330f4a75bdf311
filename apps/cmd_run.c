/* cleave run: the MPI testbed (one rank per node). */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/partition.h"
#include "cleave/plan.h"
#include "cleave/runtime.h"
#include "cli.h"
#include "commands.h"
#include "default_config.h"

static void help(void) {
  printf(
      "usage: mpirun -n N cleave run [TESTBED.yaml] [-o OUT.h5] [--force] [--clock virtual|wall|model]\n"
      "                              [--inferences N] [--profile FILE.h5] [--verify] [--save-output FILE]\n"
      "                              [--input FILE] [--quiet] [--print-config] [--strict]\n"
      "  Runs the testbed: MPI rank r stands in for node r of the config (config order);\n"
      "  each rank runs the layers the plan places on it, tensors travel over MPI, and the\n"
      "  virtual clock (default) composes measured compute x slowdown with the link model.\n"
      "  Without TESTBED.yaml the embedded default (configs/demo-3tier.yaml) is used.\n"
      "  The config's model is a zoo name or an ONNX file (its own weights; docs/onnx.md).\n"
      "  -o, --output FILE  write /layers, /transfers, /inferences, /nodes, /provenance\n"
      "  --force            overwrite an existing output file (-o and --save-output)\n"
      "  --clock MODE       override the config's clock (virtual | wall | model: device steps cost\n"
      "                     their device model's time, docs/devices.md)\n"
      "  --inferences N     override workload.inferences\n"
      "  --profile FILE.h5  virtual durations from this host profile (cleave profile) instead of the\n"
      "                     measured CPU times: bit-identical reruns, identical to `cleave sim`\n"
      "  --verify           compare the partitioned output with a monolithic run (1e-5 relative)\n"
      "  --save-output FILE write inference 0's output tensor as raw little-endian float32\n"
      "                     (as `cleave infer --save-output`; same seeded input for the same seed)\n"
      "  --input FILE       every inference's input: raw little-endian float32 NCHW (as `cleave infer\n"
      "                     --input`) instead of the input seeded from the config's seed\n"
      "  --print-config     print the resolved config and exit\n"
      "  --strict           wall clock: refuse when a node is faster than this host for some\n"
      "                     layer (sleeping cannot realise it; default: warn; docs/devices.md)\n");
}

/* Rank 0 reads the file; everyone gets the text (counts first, then payload). */
static char *bcast_text(MPI_Comm comm, const char *path, int *ok) {
  int rank = 0;
  *ok = -1; /* until the end: a failure on this rank alone (the job must end) */
  if (cl_mpi_check(MPI_Comm_rank(comm, &rank), "MPI_Comm_rank") != CL_OK) return NULL;
  long len = -1;
  char *text = NULL;
  if (rank == 0) {
    if (!path) {
      len = (long)strlen(cl__default_config);
      text = malloc((size_t)len + 1);
      if (text) memcpy(text, cl__default_config, (size_t)len + 1);
    } else {
      FILE *f = fopen(path, "rb");
      if (!f) {
        fprintf(stderr, "cleave: error: run: cannot open config '%s'\n", path);
      } else {
        fseek(f, 0, SEEK_END);
        len = ftell(f);
        fseek(f, 0, SEEK_SET);
        text = len >= 0 ? malloc((size_t)len + 1) : NULL;
        if (text && fread(text, 1, (size_t)len, f) == (size_t)len) text[len] = '\0';
        else len = -1;
        fclose(f);
      }
    }
  }
  if (cl_mpi_check(MPI_Bcast(&len, 1, MPI_LONG, 0, comm), "MPI_Bcast(config length)") != CL_OK) {
    free(text);
    return NULL;
  }
  if (len < 0) { /* every rank sees it */
    free(text);
    *ok = 0;
    return NULL;
  }
  if (rank != 0) text = malloc((size_t)len + 1);
  /* a rank without memory cannot take part: the job must end (main aborts it) */
  if (!text || cl_mpi_check(MPI_Bcast(text, (int)len + 1, MPI_CHAR, 0, comm), "MPI_Bcast(config)") != CL_OK) {
    free(text);
    return NULL;
  }
  *ok = 1;
  return text;
}

int cl__cmd_run(int argc, char **argv) {
  const char *path = NULL, *out = NULL, *clock = NULL, *profile = NULL, *save_output = NULL, *input = NULL;
  long inferences = 0;
  int force = 0, verify = 0, quiet = 0, print_config = 0, strict = 0;
  static const char *const bools[] = {"--force", "--verify", "--quiet", "--print-config", "--strict", NULL};
  int *const on[] = {&force, &verify, &quiet, &print_config, &strict};
  for (int i = 1; i < argc; i++) {
    int missing = 0, c = cl__opt_common(argc, argv, &i, help, &out, bools, on, &missing);
    const char *v;
    if (c >= 0) {
      if (c == 0) return 0;
    } else if ((v = cl__opt(argc, argv, &i, "--clock", &missing))) {
      if (strcmp(v, "virtual") && strcmp(v, "wall") && strcmp(v, "model")) {
        fprintf(stderr, "cleave: error: run: --clock expects 'virtual', 'wall' or 'model', got '%s'\n", v);
        return 2;
      }
      clock = v;
    } else if ((v = cl__opt(argc, argv, &i, "--profile", &missing))) {
      profile = v;
    } else if ((v = cl__opt(argc, argv, &i, "--save-output", &missing))) {
      save_output = v;
    } else if ((v = cl__opt(argc, argv, &i, "--input", &missing))) {
      input = v;
    } else if ((v = cl__opt(argc, argv, &i, "--inferences", &missing))) {
      if (cl__parse_int("run", "--inferences", v, 1, 10000000, &inferences)) return 2;
    } else if (cl__arg_rest("run", "config", argv[i], missing, &path)) {
      return 2;
    }
  }
  /* Threads: wall mode's network arbiter (runtime/rt_wall.c) calls MPI from its own thread. */
  int provided = MPI_THREAD_SINGLE;
  if (MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided) != MPI_SUCCESS) {
    fprintf(stderr, "cleave: error: run: MPI_Init_thread failed\n");
    return 1;
  }
  MPI_Comm comm = MPI_COMM_NULL;
  /* MPI_COMM_WORLD still aborts on errors; from the duplicate on, every call returns */
  if (MPI_Comm_dup(MPI_COMM_WORLD, &comm) != MPI_SUCCESS ||
      cl_mpi_check(MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler") != CL_OK) {
    fprintf(stderr, "cleave: error: run: cannot set up the MPI communicator\n");
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  int rank = 0, ok = 0, rc = 2;
  if (cl_mpi_check(MPI_Comm_rank(comm, &rank), "MPI_Comm_rank") != CL_OK) MPI_Abort(comm, 1);
  char *text = bcast_text(comm, path, &ok);
  if (ok < 0) MPI_Abort(comm, 1); /* this rank alone failed: the others would wait for it */
  cl_rt_setup su;
  memset(&su, 0, sizeof su);
  if (ok) {
    /* Rank 0 parses first (and alone prints errors); the others follow only on success. */
    cl_status st = CL_OK;
    const char *name = path ? path : cl__default_config_name;
    if (rank == 0) st = cl_rt_setup_load(name, text, &su);
    int ist = (int)st;
    if (cl_mpi_check(MPI_Bcast(&ist, 1, MPI_INT, 0, comm), "MPI_Bcast(config status)") != CL_OK) MPI_Abort(comm, 1);
    if (ist == CL_OK && rank != 0) ist = (int)cl_rt_setup_load(name, text, &su);
    ok = ist == CL_OK;
  }
  free(text);
  if (ok) {
    if (clock) {
      su.wall = !strcmp(clock, "wall");
      su.model_clock = !strcmp(clock, "model");
      const char *why = cl_rt_model_clock_refusal(su.users_tb != NULL, su.device_models != NULL);
      if (su.model_clock && why) {
        if (rank == 0)
          fprintf(stderr, "cleave: error: run: --clock model charges device nodes their device model's time, but %s\n",
                  why);
        ok = 0;
      }
    }
  }
  if (ok) {
    if (inferences > 0) su.inferences = (int)inferences;
    if (print_config) {
      if (rank == 0) fputs(su.config_text, stdout);
      rc = 0;
    } else {
      cl_rt_opts o;
      memset(&o, 0, sizeof o);
      o.out_path = out;
      o.force = force;
      o.verify = verify;
      o.save_output = save_output;
      o.input = input;
      o.profile = profile ? profile : su.profile;
      o.quiet = quiet || rank != 0;
      o.strict = strict;
      o.plan_users = cl_plan_users_hook; /* `planner:` users (testbeds with users) */
      o.argc = cl__argc;
      o.argv = cl__argv;
      cl_status st = cl_rt_run(comm, &su, &o);
      /* a rank failed alone while the others may wait for it: only main may end the job */
      if (st == CL_ERR_ABORTED) MPI_Abort(comm, 1);
      rc = st == CL_OK ? 0 : (st == CL_ERR_CONFIG || st == CL_ERR_EXISTS) ? 2 : 1;
    }
  }
  cl_rt_setup_free(&su);
  (void)cl_mpi_check(MPI_Comm_free(&comm), "MPI_Comm_free"); /* logged; MPI_Finalize follows */
  MPI_Finalize();
  return rc;
}
