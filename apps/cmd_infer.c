/* cleave infer: placeholder until implemented. */
#include <stdio.h>

#include "commands.h"

int cl__cmd_infer(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "cleave: error: 'infer' is not implemented yet\n");
  return 2;
}
