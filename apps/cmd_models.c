/* cleave models: placeholder until implemented. */
#include <stdio.h>

#include "commands.h"

int cl__cmd_models(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "cleave: error: 'models' is not implemented yet\n");
  return 2;
}
