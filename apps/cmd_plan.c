/* cleave plan: placeholder until implemented. */
#include <stdio.h>

#include "commands.h"

int cl__cmd_plan(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "cleave: error: 'plan' is not implemented yet\n");
  return 2;
}
