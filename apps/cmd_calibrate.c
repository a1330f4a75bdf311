/* cleave calibrate: measure this host per op class and refresh the calibration cache
 * that emulated devices are scaled against (docs/devices.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/device.h"
#include "cli.h"
#include "commands.h"

static void help(void) {
  printf("usage: cleave calibrate [--backend auto|portable|dnnl] [--threads N] [--cached]\n"
         "  Measures this host per op class (conv, dwconv, conv1x1, fc, eltwise, copy and the\n"
         "  per-layer overhead) through the real executor and writes the cache file keyed by\n"
         "  CPU model, backend, thread count and cleave version ($CLEAVE_CALIB_DIR, else\n"
         "  $XDG_CACHE_HOME/cleave, else ~/.cache/cleave). --cached: print the cached model\n"
         "  (measuring only if there is none). Prints the model as device YAML.\n");
}

int cl__cmd_calibrate(int argc, char **argv) {
  int backend = CL_BACKEND_AUTO, cached = 0;
  long threads = 1;
  for (int i = 1; i < argc; i++) {
    int missing = 0;
    const char *v;
    if (cl__help_asked(argv[i], help)) return 0;
    if ((v = cl__opt(argc, argv, &i, "--backend", &missing))) {
      if (cl__parse_backend("calibrate", v, &backend)) return 2;
    } else if ((v = cl__opt(argc, argv, &i, "--threads", &missing))) {
      if (cl__parse_int("calibrate", "--threads", v, 1, 1024, &threads)) return 2;
    } else if (!strcmp(argv[i], "--cached")) {
      cached = 1;
    } else {
      fprintf(stderr, "cleave: error: calibrate: %s '%s' (see --help)\n", missing ? "missing value for" : "unknown argument",
              argv[i]);
      return 2;
    }
  }
  if (!cl_backend_available((cl_backend)backend)) {
    fprintf(stderr, "cleave: error: calibrate: backend %s is not built in\n", cl_backend_name((cl_backend)backend));
    return 2;
  }
  cl_device host;
  char path[4096];
  if (cl_calib_get((cl_backend)backend, (int)threads, !cached, &host, path, sizeof path) != CL_OK) return 1;
  char *text = NULL;
  if (cl_device_to_yaml(&host, &text) != CL_OK) return 1;
  printf("# %s\n%s", path, text);
  free(text);
  return 0;
}
