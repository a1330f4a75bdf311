/* cleave merge OUT.h5 IN.h5... [--force]: merge per-rank record files into one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/provenance.h"
#include "cleave/store.h"
#include "cli.h"
#include "commands.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: cleave merge OUT.h5 IN.h5 [IN.h5 ...] [--force]\n"
          "\n"
          "Concatenate every table of the inputs (e.g. the per-rank files run.rank0.h5,\n"
          "run.rank1.h5, ... of an MPI run) into OUT.h5, in the order given. Tables with the\n"
          "same path must have the same record type. Each merged table gets an int32 column\n"
          "'src' = index of its input (see table /merge/sources for file, rank and counts).\n"
          "Dictionary tables (/strings/*) are unioned and id columns remapped. /provenance is\n"
          "input 0's; every input's is kept under /provenance/sources/<i>.\n"
          "Files of killed writers are read too (everything they flushed).\n"
          "\n"
          "options:\n"
          "  --force   overwrite OUT.h5 if it exists\n"
          "  --help    this text\n");
}

int cl__cmd_merge(int argc, char **argv) {
  int force = 0;
  const char **files = calloc((size_t)argc + 1, sizeof *files);
  int nf = 0;
  if (!files) return 1;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage(stdout);
      free(files);
      return 0;
    } else if (!strcmp(argv[i], "--force") || !strcmp(argv[i], "-f")) {
      force = 1;
    } else if (argv[i][0] == '-' && argv[i][1]) {
      cl__cmd_error(2, "merge", "unknown option '%s' (see cleave merge --help)", argv[i]);
      free(files);
      return 2;
    } else {
      files[nf++] = argv[i];
    }
  }
  if (nf < 2) {
    cl__cmd_error(2, "merge", "need OUT.h5 and at least one input (see cleave merge --help)");
    free(files);
    return 2;
  }
  cl_provenance prov = {cl__argc, cl__argv, 0, 0, NULL, NULL};
  cl_merge_opts mo = {force, &prov};
  cl_status st = cl_store_merge(files[0], files + 1, nf - 1, &mo);
  free(files);
  if (st == CL_ERR_HDF5 || st == CL_ERR_NOMEM || st == CL_ERR_INTERNAL)
    return cl__cmd_error(1, "merge", "failed (%s)", cl_status_str(st));
  /* Bad inputs (missing, damaged, existing, unwritable, mismatched files) are usage errors,
   * and cl_store_merge's line naming the file is the one error line. */
  return st == CL_OK ? 0 : 2;
}
