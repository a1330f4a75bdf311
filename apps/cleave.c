/* cleave: command-line entry point. Dispatches to subcommands (apps/cmd_*.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleave/build_info.h"
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
};

static void usage(FILE *f) {
  fprintf(f, "usage: cleave <command> [options]   (cleave <command> --help)\n\ncommands:\n");
  for (size_t i = 0; i < sizeof g_commands / sizeof g_commands[0]; i++)
    fprintf(f, "  %-9s %s\n", g_commands[i].name, g_commands[i].brief);
}

/* Debian's OpenBLAS 0.3.21 detects AVX-512 Zen parts as Haswell and runs sgemm at
 * half speed. OpenBLAS reads OPENBLAS_CORETYPE once, when the library loads, so the
 * only reliable fix is to set it and re-execute ourselves before any BLAS call. */
static void fix_openblas_coretype(char **argv) {
  const char *ct = getenv("OPENBLAS_CORETYPE");
  /* An explicit choice is respected, except "Haswell", which some environments export
   * for this very CPU and which halves sgemm speed. */
  if ((ct && strcmp(ct, "Haswell") != 0) || getenv("CLEAVE_NO_COREFIX")) return;
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw")) return;
  setenv("OPENBLAS_CORETYPE", "SkylakeX", 1);
  execv("/proc/self/exe", argv);
  /* exec failed: keep going at Haswell speed rather than fail. */
}

int main(int argc, char **argv) {
  fix_openblas_coretype(argv);
  cl__argc = argc;
  cl__argv = argv;
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
  fprintf(stderr, "cleave: error: unknown command '%s' (see cleave --help)\n", argv[1]);
  return 2;
}
