/* cleave run: placeholder until implemented. */
#include <stdio.h>

#include "commands.h"

int cl__cmd_run(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "cleave: error: 'run' is not implemented yet\n");
  return 2;
}
