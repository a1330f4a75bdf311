/* cleave sweep: placeholder until implemented. */
#include <stdio.h>

#include "commands.h"

int cl__cmd_sweep(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "cleave: error: 'sweep' is not implemented yet\n");
  return 2;
}
