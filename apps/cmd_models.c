/* cleave models: list the zoo with parameter and MAC counts. */
#include <stdio.h>
#include <string.h>

#include "cleave/graph.h"
#include "cleave/zoo.h"
#include "cli.h"
#include "commands.h"

static void help(void) {
  printf(
      "usage: cleave models [--format table|csv]\n"
      "  Lists every zoo model: learnable parameters, conv+linear multiply-accumulates,\n"
      "  layers (graph nodes excluding the input) and input shape (CxHxW).\n"
      "  csv header: name,params,macs,layers,input\n");
}

int cl__cmd_models(int argc, char **argv) {
  int csv = 0;
  for (int i = 1; i < argc; i++) {
    int missing = 0;
    const char *v;
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      help();
      return 0;
    } else if ((v = cl__opt(argc, argv, &i, "--format", &missing)) || missing) {
      if (missing || (strcmp(v, "csv") && strcmp(v, "table"))) {
        fprintf(stderr, "cleave models: error: --format expects 'table' or 'csv'\n");
        return 2;
      }
      csv = !strcmp(v, "csv");
    } else {
      fprintf(stderr, "cleave models: error: unknown argument '%s' (see --help)\n", argv[i]);
      return 2;
    }
  }
  if (csv) printf("name,params,macs,layers,input\n");
  else printf("%-16s %14s %16s %7s  %-10s %s\n", "name", "params", "macs", "layers", "input", "description");
  for (int i = 0; i < cl_zoo_count(); i++) {
    const cl_zoo_entry *z = cl_zoo_get(i);
    cl_graph *g = NULL;
    if (z->build(&g) != CL_OK) {
      fprintf(stderr, "cleave models: error: building '%s' failed\n", z->name);
      return 1;
    }
    cl_graph_stats st;
    cl_graph_stats_get(g, &st);
    char in[64];
    snprintf(in, sizeof in, "%dx%dx%d", z->input.c, z->input.h, z->input.w);
    if (csv)
      printf("%s,%lld,%lld,%d,%s\n", z->name, (long long)st.params, (long long)st.macs, st.n_layers, in);
    else
      printf("%-16s %14lld %16lld %7d  %-10s %s\n", z->name, (long long)st.params, (long long)st.macs,
             st.n_layers, in, z->description ? z->description : "");
    cl_graph_destroy(g);
  }
  return 0;
}
