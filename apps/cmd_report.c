/* cleave report: placeholder until implemented. */
#include <stdio.h>

#include "commands.h"

int cl__cmd_report(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "cleave: error: 'report' is not implemented yet\n");
  return 2;
}
