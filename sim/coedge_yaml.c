/* Devices file for the CoEdge planner (libyaml document API) and unit parsers. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "cleave/coedge.h"

static int unit_is(const char *u, const char *const *names) {
  for (; *names; names++)
    if (!strcasecmp(u, *names)) return 1;
  return 0;
}

cl_status cl_coedge_parse_bandwidth(const char *s, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || !(v > 0) || !isfinite(v)) goto bad;
  while (*end == ' ') end++;
  static const char *const bits[] = {"bit/s", "bps", "b/s", NULL};
  static const char *const kbits[] = {"kbit/s", "kbps", "kb/s", NULL};
  static const char *const mbits[] = {"Mbit/s", "Mbps", "Mb/s", NULL};
  static const char *const gbits[] = {"Gbit/s", "Gbps", "Gb/s", NULL};
  double f;
  if (!*end || !strcmp(end, "B/s")) f = 1;
  else if (!strcmp(end, "kB/s") || !strcmp(end, "KB/s")) f = 1e3;
  else if (!strcmp(end, "MB/s")) f = 1e6;
  else if (!strcmp(end, "GB/s")) f = 1e9;
  else if (unit_is(end, bits)) f = 1.0 / 8;
  else if (unit_is(end, kbits)) f = 1e3 / 8;
  else if (unit_is(end, mbits)) f = 1e6 / 8;
  else if (unit_is(end, gbits)) f = 1e9 / 8;
  else goto bad;
  *out = v * f;
  return CL_OK;
bad:
  cl_log_error("bad bandwidth '%s' (expected e.g. 50Mbit/s, 100Mbps, 6.25MB/s or bytes/s)", s);
  return CL_ERR_INVALID;
}

cl_status cl_coedge_parse_seconds(const char *s, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || !(v >= 0) || !isfinite(v)) goto bad;
  while (*end == ' ') end++;
  double f;
  if (!*end || !strcmp(end, "s")) f = 1;
  else if (!strcmp(end, "ms")) f = 1e-3;
  else if (!strcmp(end, "us")) f = 1e-6;
  else if (!strcmp(end, "ns")) f = 1e-9;
  else goto bad;
  *out = v * f;
  return CL_OK;
bad:
  cl_log_error("bad duration '%s' (expected e.g. 200ms, 0.2s, 150us or seconds)", s);
  return CL_ERR_INVALID;
}

void cl_coedge_devfile_fini(cl_coedge_devfile *f) {
  if (!f) return;
  for (int d = 0; d < f->n_dev; d++) free((char *)f->dev[d].name);
  free(f->dev);
  memset(f, 0, sizeof *f);
}

static const char *scalar(yaml_node_t *n) {
  return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static cl_status num_field(const char *path, yaml_node_t *v, const char *key, double *out) {
  const char *s = scalar(v);
  char *end;
  double x = s ? strtod(s, &end) : NAN;
  if (!s || end == s || *end || !isfinite(x) || x < 0) {
    cl_log_error("%s:%lu: '%s' expects a number >= 0, got '%s'", path,
                 (unsigned long)v->start_mark.line + 1, key, s ? s : "(not a scalar)");
    return CL_ERR_CONFIG;
  }
  *out = x;
  return CL_OK;
}

static cl_status load_device(const char *path, yaml_document_t *doc, yaml_node_t *m,
                             cl_coedge_device *dv, int *is_source) {
  unsigned long line = (unsigned long)m->start_mark.line + 1;
  if (m->type != YAML_MAPPING_NODE) {
    cl_log_error("%s:%lu: each device must be a mapping (name, speed, compute_w, ...)", path, line);
    return CL_ERR_CONFIG;
  }
  int have_speed = 0, have_comp = 0, have_idle = 0, have_tx = 0, have_rx = 0;
  *is_source = 0;
  for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++) {
    yaml_node_t *k = yaml_document_get_node(doc, pr->key);
    yaml_node_t *v = yaml_document_get_node(doc, pr->value);
    const char *key = scalar(k);
    unsigned long kl = (unsigned long)k->start_mark.line + 1;
    if (!key) {
      cl_log_error("%s:%lu: device keys must be scalars", path, kl);
      return CL_ERR_CONFIG;
    }
    if (!strcmp(key, "name")) {
      const char *s = scalar(v);
      if (!s || !*s) {
        cl_log_error("%s:%lu: 'name' must be a non-empty string", path, kl);
        return CL_ERR_CONFIG;
      }
      free((char *)dv->name);
      dv->name = strdup(s);
      if (!dv->name) return CL_ERR_NOMEM;
    } else if (!strcmp(key, "speed")) {
      CL_TRY(num_field(path, v, key, &dv->speed));
      have_speed = 1;
    } else if (!strcmp(key, "compute_w")) {
      CL_TRY(num_field(path, v, key, &dv->p_comp));
      have_comp = 1;
    } else if (!strcmp(key, "idle_w")) {
      CL_TRY(num_field(path, v, key, &dv->p_idle));
      have_idle = 1;
    } else if (!strcmp(key, "tx_w")) {
      CL_TRY(num_field(path, v, key, &dv->p_tx));
      have_tx = 1;
    } else if (!strcmp(key, "rx_w")) {
      CL_TRY(num_field(path, v, key, &dv->p_rx));
      have_rx = 1;
    } else if (!strcmp(key, "source")) {
      const char *s = scalar(v);
      if (s && (!strcmp(s, "true") || !strcmp(s, "yes"))) *is_source = 1;
      else if (!s || (strcmp(s, "false") && strcmp(s, "no"))) {
        cl_log_error("%s:%lu: 'source' expects true or false, got '%s'", path, kl,
                     s ? s : "(not a scalar)");
        return CL_ERR_CONFIG;
      }
    } else {
      cl_log_error("%s:%lu: unknown device key '%s' (expected name, speed, compute_w, idle_w, "
                   "tx_w, rx_w, source)",
                   path, kl, key);
      return CL_ERR_CONFIG;
    }
  }
  const char *missing = !dv->name ? "name" : !have_speed ? "speed" : !have_comp ? "compute_w"
                        : !have_idle ? "idle_w" : !have_tx ? "tx_w" : !have_rx ? "rx_w" : NULL;
  if (missing) {
    cl_log_error("%s:%lu: device%s%s is missing required key '%s'", path, line,
                 dv->name ? " " : "", dv->name ? dv->name : "", missing);
    return CL_ERR_CONFIG;
  }
  return CL_OK;
}

cl_status cl_coedge_devfile_load(const char *path, cl_coedge_devfile *out) {
  memset(out, 0, sizeof *out);
  out->msg_latency = -1;
  out->input_bytes_per_elem = 4;
  FILE *fp = fopen(path, "rb");
  if (!fp) {
    cl_log_error("%s: cannot open devices file: %s", path, strerror(errno));
    return CL_ERR_IO;
  }
  yaml_parser_t parser;
  yaml_document_t doc;
  cl_status st = CL_OK;
  if (!yaml_parser_initialize(&parser)) {
    fclose(fp);
    return CL_ERR_NOMEM;
  }
  yaml_parser_set_input_file(&parser, fp);
  if (!yaml_parser_load(&parser, &doc)) {
    cl_log_error("%s:%lu: YAML error: %s %s", path, (unsigned long)parser.problem_mark.line + 1,
                 parser.problem ? parser.problem : "", parser.context ? parser.context : "");
    yaml_parser_delete(&parser);
    fclose(fp);
    return CL_ERR_CONFIG;
  }
  yaml_node_t *root = yaml_document_get_root_node(&doc);
  yaml_node_t *devs = NULL;
  if (!root || root->type != YAML_MAPPING_NODE) {
    cl_log_error("%s:%lu: expected a mapping with a 'devices' list at the top", path,
                 root ? (unsigned long)root->start_mark.line + 1 : 1UL);
    st = CL_ERR_CONFIG;
    goto done;
  }
  for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top;
       pr++) {
    yaml_node_t *k = yaml_document_get_node(&doc, pr->key);
    yaml_node_t *v = yaml_document_get_node(&doc, pr->value);
    const char *key = scalar(k);
    unsigned long kl = (unsigned long)k->start_mark.line + 1;
    if (key && !strcmp(key, "devices")) {
      devs = v;
    } else if (key && !strcmp(key, "bandwidth") && scalar(v)) {
      if (cl_coedge_parse_bandwidth(scalar(v), &out->bandwidth) != CL_OK) {
        cl_log_error("%s:%lu: in 'bandwidth'", path, kl);
        st = CL_ERR_CONFIG;
        goto done;
      }
    } else if (key && !strcmp(key, "msg_latency") && scalar(v)) {
      if (cl_coedge_parse_seconds(scalar(v), &out->msg_latency) != CL_OK) {
        cl_log_error("%s:%lu: in 'msg_latency'", path, kl);
        st = CL_ERR_CONFIG;
        goto done;
      }
    } else if (key && !strcmp(key, "input_bytes_per_elem")) {
      /* how the requester sends the input: 1 = 8-bit camera frame, 2 = fp16, 4 = float32 */
      const char *sv = scalar(v);
      if (!sv || (strcmp(sv, "1") && strcmp(sv, "2") && strcmp(sv, "4"))) {
        cl_log_error("%s:%lu: 'input_bytes_per_elem' expects 1 (8-bit image), 2 (fp16) or 4 "
                     "(float32), got '%s'",
                     path, kl, sv ? sv : "(not a scalar)");
        st = CL_ERR_CONFIG;
        goto done;
      }
      out->input_bytes_per_elem = atoi(sv);
    } else {
      cl_log_error("%s:%lu: unknown top-level key '%s' (expected devices, bandwidth, msg_latency, "
                   "input_bytes_per_elem)",
                   path, kl, key ? key : "(not a scalar)");
      st = CL_ERR_CONFIG;
      goto done;
    }
  }
  if (!devs || devs->type != YAML_SEQUENCE_NODE ||
      devs->data.sequence.items.top == devs->data.sequence.items.start) {
    cl_log_error("%s:%lu: 'devices' must be a non-empty list", path,
                 devs ? (unsigned long)devs->start_mark.line + 1 : 1UL);
    st = CL_ERR_CONFIG;
    goto done;
  }
  int n = (int)(devs->data.sequence.items.top - devs->data.sequence.items.start);
  out->dev = calloc((size_t)n, sizeof *out->dev);
  if (!out->dev) {
    st = CL_ERR_NOMEM;
    goto done;
  }
  int n_source = 0;
  for (int i = 0; i < n && st == CL_OK; i++) {
    yaml_node_t *m = yaml_document_get_node(&doc, devs->data.sequence.items.start[i]);
    int is_src = 0;
    out->n_dev = i + 1;
    st = load_device(path, &doc, m, &out->dev[i], &is_src);
    if (st == CL_OK && is_src) {
      if (n_source++) {
        cl_log_error("%s:%lu: more than one device is marked source", path,
                     (unsigned long)m->start_mark.line + 1);
        st = CL_ERR_CONFIG;
      }
      out->source = i;
    }
    for (int j = 0; j < i && st == CL_OK; j++)
      if (!strcmp(out->dev[j].name, out->dev[i].name)) {
        cl_log_error("%s:%lu: duplicate device name '%s'", path,
                     (unsigned long)m->start_mark.line + 1, out->dev[i].name);
        st = CL_ERR_CONFIG;
      }
  }
done:
  yaml_document_delete(&doc);
  yaml_parser_delete(&parser);
  fclose(fp);
  if (st != CL_OK) cl_coedge_devfile_fini(out);
  return st;
}
