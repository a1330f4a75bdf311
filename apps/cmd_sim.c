/* cleave sim: placeholder until implemented. */
#include <stdio.h>

#include "commands.h"

int cl__cmd_sim(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "cleave: error: 'sim' is not implemented yet\n");
  return 2;
}
