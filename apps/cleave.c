/* cleave: command-line entry point. Dispatches to subcommands (apps/cmd_*.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleave/build_info.h"
#include "cleave/outfile.h"
#include "cleave/ops.h"
#include "cli.h"
#include "commands.h"

int cl__argc;
char **cl__argv;

typedef struct command {
  const char *name;
  int (*fn)(int, char **);
  const char *brief;
} command;

static const command g_commands[] = {
    {"models", cl__cmd_models, "list the model zoo with parameter and MAC counts"},
    {"infer", cl__cmd_infer, "run real inference of a model and time it"},
    {"profile", cl__cmd_profile, "time every layer and cut block, write an HDF5 profile"},
    {"report", cl__cmd_report, "summarise a cleave HDF5 file"},
    {"merge", cl__cmd_merge, "merge per-rank HDF5 files into one"},
    {"run", cl__cmd_run, "run a testbed config under MPI (one rank per node)"},
    {"sim", cl__cmd_sim, "predict a testbed plan's latency and energy from profiles"},
    {"plan", cl__cmd_plan, "partition planners: scission, neurosurgeon, dads, coedge, ..."},
    {"sweep", cl__cmd_sweep, "run a resumable experiment sweep under MPI"},
    {"devices", cl__cmd_devices, "device catalogue: list, fit to Scission's data, check"},
    {"calibrate", cl__cmd_calibrate, "measure this host per op class (emulated devices scale by it)"},
};

static void usage(FILE *f) {
  fprintf(f, "usage: cleave <command> [options]   (cleave <command> --help)\n\ncommands:\n");
  for (size_t i = 0; i < sizeof g_commands / sizeof g_commands[0]; i++)
    fprintf(f, "  %-9s %s\n", g_commands[i].name, g_commands[i].brief);
}

/* 1 unless the command line only reads files or prints help: report, merge, models,
 * --help / --version anywhere, a missing or unknown command. Those never run a kernel,
 * so they skip cl_blas_fix_env: its re-executions and co-scheduling probe cost them
 * 100-200 ms of a ~60 ms run (scripts call `cleave report` per file). */
static int runs_kernels(int argc, char **argv) {
  if (argc < 2) return 0;
  static const char *const readers[] = {"report", "merge", "models", "--help", "-h", "--version"};
  for (size_t i = 0; i < sizeof readers / sizeof readers[0]; i++)
    if (!strcmp(argv[1], readers[i])) return 0;
  for (int i = 2; i < argc; i++)
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return 0;
  for (size_t i = 0; i < sizeof g_commands / sizeof g_commands[0]; i++)
    if (!strcmp(argv[1], g_commands[i].name)) return 1;
  return 0;
}

int main(int argc, char **argv) {
  /* may re-exec with OPENBLAS_CORETYPE=SkylakeX, OMP_WAIT_POLICY=passive */
  if (runs_kernels(argc, argv)) cl_blas_fix_env(argv);
  cl_cli_init();
  (void)cl_log_level(); /* CLEAVE_LOG read (and a bad value reported) once, up front */
  cl__argc = argc;
  cl__argv = argv;
  cl_output_register_args(argc, argv); /* an output never replaces one of the command's inputs */
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (!strcmp(argv[1], "--version")) {
    printf("cleave %s (%s)\n", CL_VERSION_STRING, CL_GIT_REV_CONFIGURED);
    return 0;
  }
  for (size_t i = 0; i < sizeof g_commands / sizeof g_commands[0]; i++)
    if (!strcmp(argv[1], g_commands[i].name)) return g_commands[i].fn(argc - 1, argv + 1);
  return cl_cli_error(CL_EXIT_INPUT, NULL, 0, 0, "unknown command '%s' (see cleave --help)", argv[1]);
}
