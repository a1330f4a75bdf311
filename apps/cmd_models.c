/* cleave models: list the zoo with parameter and MAC counts, or the layers of one model
 * (zoo name or ONNX file) so placements can be written by layer name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/graph.h"
#include "cleave/onnx.h"
#include "cleave/zoo.h"
#include "cli.h"
#include "commands.h"

static void help(void) {
  printf(
      "usage: cleave models [--scission] [--format table|csv]\n"
      "       cleave models MODEL|FILE.onnx [--format table|csv]\n"
      "  Without a model: lists every zoo model: learnable parameters, conv+linear\n"
      "  multiply-accumulates, layers (graph nodes excluding the input) and input shape\n"
      "  (CxHxW). csv header: name,params,macs,layers,input\n"
      "  Keras models (keras/...) count parameters as Keras does (BN moving statistics\n"
      "  included: model.summary()'s total); the others as their reference (torchvision).\n"
      "  --scission         only Scission's 18 Keras Applications models, under Scission's\n"
      "                     names (xception, vgg16, ..., nasnetlarge; zoo names keras/<name>),\n"
      "                     layers = Keras layers incl. the input (len(model.layers))\n"
      "  With a zoo name or an ONNX file: lists its layers (graph nodes, in the order plan\n"
      "  ranges such as \"input..layer2.1.conv2\" use): id, name (as configs and plans write\n"
      "  it; ONNX imports use module paths, docs/onnx.md), op, input layer ids, output shape\n"
      "  NxCxHxW, learnable parameters, MACs, and cut = 1 where cutting after the layer\n"
      "  leaves exactly one crossing tensor. ONNX files are read without their weights.\n"
      "  csv header: id,name,op,inputs,output,params,macs,cut (inputs separated by ';')\n");
}

/* Layers of one model; 0, or 2 after a one-line error (bad name or file). */
static int list_layers(const char *model, int csv) {
  cl_graph *g = NULL;
  cl_status st = cl_model_load_structure(model, &g); /* logs one line on failure */
  if (st != CL_OK) return st == CL_ERR_NOMEM || st == CL_ERR_INTERNAL ? 1 : 2;
  const int n = cl_graph_size(g);
  int *cuts = malloc(sizeof(int) * (size_t)(n + 1));
  unsigned char *is_cut = calloc((size_t)n + 1, 1);
  if (!cuts || !is_cut) {
    free(cuts);
    free(is_cut);
    cl_graph_destroy(g);
    cl_cli_error(CL_EXIT_RUNTIME, NULL, 0, 0, "models: out of memory");
    return 1;
  }
  const int nc = cl_graph_cut_points(g, cuts, n);
  for (int k = 0; k < nc && k < n; k++) is_cut[cuts[k]] = 1;
  if (csv) printf("id,name,op,inputs,output,params,macs,cut\n");
  else printf("%5s  %-44s %-15s %-12s %-16s %12s %14s %3s\n", "id", "name", "op", "inputs", "output", "params",
              "macs", "cut");
  for (int i = 0; i < n; i++) {
    const cl_node *nd = cl_graph_node(g, i);
    char ins[64] = "", shape[64];
    size_t l = 0;
    for (int q = 0; q < nd->n_inputs && l < sizeof ins - 1; q++) {
      int w = snprintf(ins + l, sizeof ins - l, "%s%d", q ? (csv ? ";" : ",") : "", nd->inputs[q]);
      if (w < 0 || (size_t)w >= sizeof ins - l) { /* very wide concat: cut with an ellipsis */
        snprintf(ins + sizeof ins - 4, 4, "...");
        break;
      }
      l += (size_t)w;
    }
    if (!nd->n_inputs && !csv) snprintf(ins, sizeof ins, "-");
    snprintf(shape, sizeof shape, "%dx%dx%dx%d", nd->out.n, nd->out.c, nd->out.h, nd->out.w);
    if (csv) {
      /* names never hold '"'; quote those with a comma */
      const int q = strchr(nd->name, ',') != NULL;
      printf("%d,%s%s%s,%s,%s,%s,%lld,%lld,%d\n", i, q ? "\"" : "", nd->name, q ? "\"" : "", cl_op_name(nd->op), ins,
             shape, (long long)nd->n_params, (long long)nd->macs, is_cut[i]);
    } else {
      printf("%5d  %-44s %-15s %-12s %-16s %12lld %14lld %3s\n", i, nd->name, cl_op_name(nd->op), ins, shape,
             (long long)nd->n_params, (long long)nd->macs, is_cut[i] ? "1" : "");
    }
  }
  if (!csv) {
    cl_graph_stats gs;
    cl_graph_stats_get(g, &gs);
    printf("%s: %d layers (excluding the input), %lld params, %lld MACs, %d cut points\n", cl_graph_name(g),
           gs.n_layers, (long long)gs.params, (long long)gs.macs, nc);
  }
  free(cuts);
  free(is_cut);
  cl_graph_destroy(g);
  return 0;
}

int cl__cmd_models(int argc, char **argv) {
  int csv = 0, scission = 0;
  const char *model = NULL;
  for (int i = 1; i < argc; i++) {
    int missing = 0;
    const char *v;
    if (cl__help_asked(argv[i], help)) return 0;
    if ((v = cl__opt(argc, argv, &i, "--format", &missing)) || missing) {
      if (missing || (strcmp(v, "csv") && strcmp(v, "table"))) {
        cl_cli_error(CL_EXIT_INPUT, NULL, 0, 0, "models: --format expects 'table' or 'csv'");
        return 2;
      }
      csv = !strcmp(v, "csv");
    } else if (!strcmp(argv[i], "--scission")) {
      scission = 1;
    } else if (argv[i][0] == '-') {
      cl_cli_error(CL_EXIT_INPUT, NULL, 0, 0, "models: unknown argument '%s' (see --help)", argv[i]);
      return 2;
    } else if (model) {
      cl_cli_error(CL_EXIT_INPUT, NULL, 0, 0, "models: more than one model given ('%s', '%s')", model, argv[i]);
      return 2;
    } else {
      model = argv[i];
    }
  }
  if (model && scission) {
    fprintf(stderr, "cleave: error: models: --scission lists models; it takes no model name ('%s')\n", model);
    return 2;
  }
  if (model) return list_layers(model, csv);
  if (csv) printf("name,params,macs,layers,input\n");
  else printf("%-18s %14s %16s %7s  %-10s %s\n", "name", "params", "macs", "layers", "input", "description");
  for (int i = 0; i < cl_zoo_count(); i++) {
    const cl_zoo_entry *z = cl_zoo_get(i);
    if (scission && !z->scission) continue;
    cl_graph *g = NULL;
    if (z->build(&g) != CL_OK) {
      cl_cli_error(CL_EXIT_INPUT, NULL, 0, 0, "models: building '%s' failed", z->name);
      return 1;
    }
    cl_graph_stats st;
    cl_graph_stats_get(g, &st);
    char in[64];
    snprintf(in, sizeof in, "%dx%dx%d", z->input.c, z->input.h, z->input.w);
    const char *name = scission ? z->scission : z->name;
    long long params = z->scission ? st.params_total : st.params;
    int layers = scission ? cl_graph_node(g, cl_graph_size(g) - 1)->layer + 1 : st.n_layers;
    if (csv)
      printf("%s,%lld,%lld,%d,%s\n", name, params, (long long)st.macs, layers, in);
    else
      printf("%-18s %14lld %16lld %7d  %-10s %s\n", name, params, (long long)st.macs, layers, in,
             z->description ? z->description : "");
    cl_graph_destroy(g);
  }
  return 0;
}
