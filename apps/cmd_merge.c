/* cleave merge: placeholder until implemented. */
#include <stdio.h>

#include "commands.h"

int cl__cmd_merge(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "cleave: error: 'merge' is not implemented yet\n");
  return 2;
}
