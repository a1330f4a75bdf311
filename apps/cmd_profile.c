/* cleave profile: placeholder until implemented. */
#include <stdio.h>

#include "commands.h"

int cl__cmd_profile(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "cleave: error: 'profile' is not implemented yet\n");
  return 2;
}
