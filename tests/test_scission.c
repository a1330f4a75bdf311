/* Scission planner: profile/network loaders, the README query reproduced exactly, and
 * the optimised search checked against an independent brute force that follows
 * Scission's own enumeration (all machine triples x all (x, y) cuts, de-duplicated by
 * the printed configuration, criteria applied as filters). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cl_test.h"
#include "cleave/planner.h"
#include "cleave/profile.h"

static char g_dir[4096];

/* ---------------- brute force (Scission's enumeration) ---------------- */

typedef struct bf_cfg {
  char key[256];
  double latency, bytes;
} bf_cfg;

typedef struct bf_query {
  const char *model;
  const char *crit[3];
  double input_bytes, upload[3], time[3];
  int pct[3];
  int compat;
} bf_query;

static int isdig(const char *s) {
  if (!*s) return 0;
  for (; *s; s++)
    if (*s < '0' || *s > '9') return 0;
  return 1;
}

/* Scission's filter for one tier: block = (first, last) layer, (-1, -1) if unused. */
static int bf_crit(const char *crit, const char *machine, int used, int b0, int b1) {
  if (!crit) return 1;
  char buf[512];
  snprintf(buf, sizeof buf, "%s", crit);
  int n_inc = 0, name_ok = 0;
  char *save = NULL;
  for (char *c = strtok_r(buf, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
    while (*c == ' ') c++;
    if (isdig(c) || !strcmp(c, "-1")) {
      int x = atoi(c);
      if (!(x >= b0 && x <= b1)) return 0; /* x in range(b0, b1 + 1) */
    } else if (c[0] == '!' && (isdig(c + 1) || !strcmp(c + 1, "-1"))) {
      int x = atoi(c + 1);
      if (x >= b0 && x <= b1) return 0;
    } else if (c[0] == '!') {
      if (!used || !strcmp(c + 1, machine)) return 0;
    } else {
      n_inc++;
      if (used && !strcmp(c, machine)) name_ok = 1;
    }
  }
  return n_inc == 0 || name_ok;
}

static int cmp_bf(const void *a, const void *b) {
  return strcmp(((const bf_cfg *)a)->key, ((const bf_cfg *)b)->key);
}
static int cmp_bf_lat(const void *a, const void *b) {
  double x = ((const bf_cfg *)a)->latency, y = ((const bf_cfg *)b)->latency;
  return (x > y) - (x < y);
}

/* All feasible configurations, sorted by latency. Returns the count. */
static int brute_force(const cl_profile_set *set, const cl_netstats *net, const bf_query *q,
                       bf_cfg **out) {
  const char *tiers[3] = {"device", "edge", "cloud"};
  int mach[3][8], nm[3] = {0, 0, 0};
  for (int i = 0; i < cl_profile_set_n_machines(set); i++)
    for (int t = 0; t < 3; t++)
      if (!strcmp(cl_profile_set_machine(set, i)->tier, tiers[t])) mach[t][nm[t]++] = i;
  const cl_profile_model *ref =
      cl_profile_machine_model(cl_profile_set_machine(set, mach[0][0]), q->model);
  int L = ref->n_blocks;
  size_t cap = (size_t)(L + 2) * (L + 2) * nm[0] * nm[1] * nm[2], n = 0;
  bf_cfg *all = malloc(cap * sizeof *all);
  for (int d = 0; d < nm[0]; d++)
    for (int e = 0; e < nm[1]; e++)
      for (int c = 0; c < nm[2]; c++) {
        const cl_profile_machine *M[3] = {cl_profile_set_machine(set, mach[0][d]),
                                          cl_profile_set_machine(set, mach[1][e]),
                                          cl_profile_set_machine(set, mach[2][c])};
        const cl_profile_model *md[3];
        for (int t = 0; t < 3; t++) md[t] = cl_profile_machine_model(M[t], q->model);
        for (int x = -1; x < L; x++)
          for (int y = -1; y < L; y++) {
            if (!(y > x || y == -1)) continue;
            int z = (x != L - 1 && y != L - 1) ? L - 1 : -1;
            int lo[3] = {x >= 0 ? 0 : -1, y >= 0 ? x + 1 : -1, z >= 0 ? (x > y ? x : y) + 1 : -1};
            int hi[3] = {x, y, z};
            double tm[3] = {0, 0, 0};
            int used[3], b0[3], b1[3];
            for (int t = 0; t < 3; t++) {
              used[t] = lo[t] >= 0;
              b0[t] = b1[t] = -1;
              if (!used[t]) continue;
              for (int b = lo[t]; b <= hi[t]; b++) tm[t] += md[t]->blocks[b].seconds;
              b0[t] = md[t]->blocks[lo[t]].first_layer;
              b1[t] = md[t]->blocks[hi[t]].last_layer;
            }
            double dout = used[0] ? (double)md[0]->blocks[x].output_bytes : q->input_bytes;
            double eout = used[1] ? (double)md[1]->blocks[y].output_bytes : 0.0;
            if (q->compat) {
              if (tm[1] == 0 && tm[2] == 0) dout = 0;
              else if (tm[2] == 0) eout = 0;
            } else {
              if (!used[1] && !used[2]) dout = 0;
              if (!used[2]) eout = 0;
            }
            double comm = 0;
            const cl_netstats_link *l;
            if (used[1]) {
              l = cl_netstats_find(net, M[0]->name, M[1]->name);
              comm += l->latency_s + dout / l->bandwidth_Bps;
              if (used[2]) {
                l = cl_netstats_find(net, M[1]->name, M[2]->name);
                comm += l->latency_s + eout / l->bandwidth_Bps;
              }
            } else if (used[2]) {
              l = cl_netstats_find(net, M[0]->name, M[2]->name);
              comm += l->latency_s + dout / l->bandwidth_Bps;
            }
            double total = tm[0] + tm[1] + tm[2];
            int ok = 1;
            for (int t = 0; t < 3; t++)
              ok &= bf_crit(q->crit[t], M[t]->name, used[t], b0[t], b1[t]);
            if (q->upload[0] >= 0 && dout > q->upload[0]) ok = 0;
            if (q->upload[1] >= 0 && eout > q->upload[1]) ok = 0;
            for (int t = 0; t < 3; t++) {
              if (q->time[t] < 0) continue;
              double v = q->pct[t] ? (total > 0 ? tm[t] / total * 100 : 0) : tm[t];
              if (v > q->time[t]) ok = 0;
            }
            if (!ok) continue;
            bf_cfg *r = &all[n++];
            snprintf(r->key, sizeof r->key,
                     "Device(%s) = %d - %d, Edge(%s) = %d - %d, Cloud(%s) = %d - %d", M[0]->name,
                     b0[0], b1[0], used[1] ? M[1]->name : "None", b0[1], b1[1],
                     used[2] ? M[2]->name : "None", b0[2], b1[2]);
            r->latency = total + comm;
            r->bytes = dout + eout;
          }
      }
  /* de-duplicate by printed configuration, then sort by latency */
  qsort(all, n, sizeof *all, cmp_bf);
  size_t u = 0;
  for (size_t i = 0; i < n; i++)
    if (!u || strcmp(all[u - 1].key, all[i].key)) all[u++] = all[i];
  qsort(all, u, sizeof *all, cmp_bf_lat);
  *out = all;
  return (int)u;
}

/* Run the search and the brute force on the same query; compare every rank. */
static void compare(const cl_profile_set *set, const cl_netstats *net, const bf_query *bq,
                    int count) {
  cl_scission_query q;
  cl_scission_query_init(&q);
  q.model = bq->model;
  q.input_bytes = bq->input_bytes;
  q.scission_compat = bq->compat;
  q.result_count = count;
  for (int t = 0; t < 3; t++) {
    q.criteria[t] = bq->crit[t];
    q.upload_limit[t] = bq->upload[t];
    q.time_limit[t] = bq->time[t];
    q.time_limit_pct[t] = bq->pct[t];
  }
  cl_scission_config *res = malloc((size_t)count * sizeof *res);
  int n = 0;
  cl_scission_stats st;
  CL_CHECK_OK(cl_scission_search(set, net, &q, res, &n, &st));
  bf_cfg *bf;
  int nb = brute_force(set, net, bq, &bf);
  CL_CHECK_INT_EQ(st.feasible, nb);
  CL_CHECK_INT_EQ(n, nb < count ? nb : count);
  int bad = 0;
  for (int r = 0; r < n && r < nb && bad < 3; r++) {
    char line[1024];
    cl_scission_format_line(set, &q, &res[r], r + 1, CL_SCISSION_FMT_SCISSION, line, sizeof line);
    const char *cfg = strstr(line, "MB - ") + 5;
    /* rank r's latency must match; the configuration must be one of equal latency */
    int found = 0;
    for (int j = 0; j < nb && !found; j++)
      found = fabs(bf[j].latency - res[r].latency) < 1e-9 && !strcmp(bf[j].key, cfg) &&
              fabs(bf[j].bytes - res[r].bytes) < 1e-6;
    if (fabs(bf[r].latency - res[r].latency) > 1e-9 || !found) {
      fprintf(stderr, "%s rank %d: search '%s' (%.9f) vs brute force '%s' (%.9f)\n", bq->model,
              r + 1, line, res[r].latency, bf[r].key, bf[r].latency);
      bad++;
    }
  }
  CL_CHECK_INT_EQ(bad, 0);
  free(bf);
  free(res);
}

static bf_query bfq(const char *model) {
  bf_query q = {model, {NULL, NULL, NULL}, 150000.0, {-1, -1, -1}, {-1, -1, -1}, {0, 0, 0}, 0};
  return q;
}

/* ---------------- tests ---------------- */

static int g_lines;
static char g_last[1024];
static void capture(const char *line, void *ctx) {
  (void)ctx;
  g_lines++;
  snprintf(g_last, sizeof g_last, "%s", line);
}

static void test_loaders(cl_profile_set *set, cl_netstats *net) {
  CL_CHECK_INT_EQ(cl_profile_set_n_machines(set), 5);
  int r = cl_profile_set_find_machine(set, "raspi4");
  CL_CHECK(r >= 0);
  CL_CHECK_STR_EQ(cl_profile_set_machine(set, r)->tier, "device");
  const cl_profile_model *v = cl_profile_machine_model(cl_profile_set_machine(set, r), "vgg19");
  CL_CHECK(v != NULL);
  if (v) {
    CL_CHECK_INT_EQ(v->n_blocks, 25);
    CL_CHECK_INT_EQ(v->blocks[0].first_layer, 0);
    CL_CHECK_INT_EQ(v->blocks[0].last_layer, 1);
    CL_CHECK(v->blocks[0].seconds == 0.07058942317962646); /* exact repr round trip */
    CL_CHECK_INT_EQ(v->blocks[0].output_bytes, 12845184);
  }
  const cl_profile_model *mn = cl_profile_machine_model(cl_profile_set_machine(set, r), "mobilenet");
  CL_CHECK(mn && mn->n_blocks == 92);
  CL_CHECK(cl_profile_set_find_machine(set, "6700k(GPU)") >= 0);
  const cl_netstats_link *l = cl_netstats_find(net, "raspi4", "vm2Core");
  CL_CHECK(l != NULL);
  if (l) {
    CL_CHECK_NEAR(l->latency_s, 0.0667, 1e-15);
    CL_CHECK(l->bandwidth_Bps == 200000.0); /* round(1.6 * 125000) */
  }
  l = cl_netstats_find(net, "vm2Core", "6700k(NoGPU)");
  CL_CHECK(l && l->bandwidth_Bps == 6250000.0);
  CL_CHECK(cl_netstats_find(net, "vm2Core", "raspi4") == NULL);
  CL_CHECK_INT_EQ(cl_netstats_size(net), 8);

  /* parse errors: file:line and column named, CL_ERR_INVALID */
  char tmpd[] = "/tmp/cl_scission_XXXXXX";
  CL_CHECK(mkdtemp(tmpd) != NULL);
  char p[4200];
  snprintf(p, sizeof p, "%s/device-x.csv", tmpd);
  FILE *f = fopen(p, "w");
  fprintf(f, "model,block,input_layer,output_layer,seconds,output_bytes\nm,0,0,1,0.5,10\n"
             "m,1,2,3,abc,10\n");
  fclose(f);
  cl_profile_set *bad;
  CL_CHECK_OK(cl_profile_set_create(&bad));
  fprintf(stderr, "(expected error follows)\n");
  CL_CHECK_INT_EQ(cl_profile_load_scission_dir(bad, tmpd), CL_ERR_INVALID);
  cl_profile_set_destroy(bad);
  f = fopen(p, "w"); /* gap between blocks */
  fprintf(f, "model,block,input_layer,output_layer,seconds,output_bytes\nm,0,0,1,0.5,10\n"
             "m,1,3,3,0.1,10\n");
  fclose(f);
  CL_CHECK_OK(cl_profile_set_create(&bad));
  fprintf(stderr, "(expected error follows)\n");
  CL_CHECK_INT_EQ(cl_profile_load_scission_dir(bad, tmpd), CL_ERR_INVALID);
  cl_profile_set_destroy(bad);
  /* Missing first rows (block 0 not at layer 0) and absurd seconds would cost layers
   * nothing or make every sum infinite: refused with one line naming file:line. */
  static const char *const refused[][2] = {
      {"m,0,1,1,0.5,10\n", ":2: column 'input_layer': block 0 of model m must start at layer 0, got 1"},
      {"m,0,0,1,0.5,10\nm,1,2,1,0.5,10\n", ":3: column 'output_layer': 1 is before input_layer 2"},
      {"m,0,0,1,1e300,10\n", ":2: column 'seconds': expected a number in [0, 1e+09], got '1e300'"},
      {"m,0,0,1,0.5,10\nm,1,2,3,1e9,1\nm,2,4,4,1e9,1\n", NULL}, /* the bound itself loads */
  };
  for (size_t k = 0; k < sizeof refused / sizeof refused[0]; k++) {
    f = fopen(p, "w");
    fprintf(f, "model,block,input_layer,output_layer,seconds,output_bytes\n%s", refused[k][0]);
    fclose(f);
    CL_CHECK_OK(cl_profile_set_create(&bad));
    g_lines = 0;
    g_last[0] = '\0';
    cl_log_set_sink(capture, NULL);
    cl_status st = cl_profile_load_scission_csv(bad, p, "device", "x");
    cl_log_set_sink(NULL, NULL);
    if (refused[k][1]) {
      CL_CHECK_INT_EQ(st, CL_ERR_INVALID);
      CL_CHECK_INT_EQ(g_lines, 1);
      CL_CHECK(strstr(g_last, p) != NULL && strstr(g_last, refused[k][1]) != NULL);
      if (!strstr(g_last, refused[k][1])) fprintf(stderr, "got: %s\n", g_last);
    } else {
      CL_CHECK_OK(st);
      CL_CHECK_INT_EQ(g_lines, 0);
    }
    cl_profile_set_destroy(bad);
  }
  unlink(p);
  snprintf(p, sizeof p, "%s/net.csv", tmpd);
  f = fopen(p, "w");
  fprintf(f, "source,destination,ping(ms),bandwidth(mbps)\na,b,  10,  x\n");
  fclose(f);
  cl_netstats *bn = NULL;
  fprintf(stderr, "(expected error follows)\n");
  CL_CHECK_INT_EQ(cl_netstats_load_csv(p, &bn), CL_ERR_INVALID);
  CL_CHECK(bn == NULL);
  /* A testbed link's ranges (latency <= 3600 s, bandwidth <= 10 Tbit/s), one line each;
   * a header with every column wrong is one line too. */
  static const char *const net_refused[][2] = {
      {"source,destination,ping(ms),bandwidth(mbps)\na,b,1e308,5\n",
       ":2: column 'ping(ms)': expected a number in [0, 3.6e+06], got '1e308'"},
      {"source,destination,ping(ms),bandwidth(mbps)\na,b,10,1e8\n",
       ":2: column 'bandwidth(mbps)': expected a number in [1e-06, 1e+07], got '1e8'"},
      {"src,dst,ping,bw\na,b,10,5\n", ":1: header column 1 is 'src', expected 'source'"},
  };
  for (size_t k = 0; k < sizeof net_refused / sizeof net_refused[0]; k++) {
    f = fopen(p, "w");
    fputs(net_refused[k][0], f);
    fclose(f);
    g_lines = 0;
    cl_log_set_sink(capture, NULL);
    CL_CHECK_INT_EQ(cl_netstats_load_csv(p, &bn), CL_ERR_INVALID);
    cl_log_set_sink(NULL, NULL);
    CL_CHECK(bn == NULL);
    CL_CHECK_INT_EQ(g_lines, 1);
    CL_CHECK(strstr(g_last, net_refused[k][1]) != NULL);
    if (!strstr(g_last, net_refused[k][1])) fprintf(stderr, "got: %s\n", g_last);
  }
  unlink(p);
  rmdir(tmpd);
  CL_CHECK_INT_EQ(cl_scission_criteria_check("edge", "10,,!3"), CL_ERR_INVALID);
  CL_CHECK_OK(cl_scission_criteria_check("edge", "10, !3,-1,!-1,name,!other"));
}

/* The README example: exact output of Scission's first five lines. */
static void test_readme_query(cl_profile_set *set, cl_netstats *net) {
  static const char *const expect[5] = {
      "[1] 9.0106s - 2.4087MB - Device(raspi4) = 0 - 6, Edge(vm2Core) = 7 - 11, Cloud(6700k(GPU)) = 12 - 25",
      "[2] 9.0594s - 2.4087MB - Device(raspi4) = 0 - 6, Edge(2500) = 7 - 11, Cloud(6700k(GPU)) = 12 - 25",
      "[3] 9.0721s - 2.4087MB - Device(raspi4) = 0 - 6, Edge(vm2Core) = 7 - 11, Cloud(6700k(NoGPU)) = 12 - 25",
      "[4] 9.1209s - 2.4087MB - Device(raspi4) = 0 - 6, Edge(2500) = 7 - 11, Cloud(6700k(NoGPU)) = 12 - 25",
      "[5] 9.1511s - 3.2115MB - Device(raspi4) = 0 - 6, Edge(vm2Core) = 7 - 12, Cloud(6700k(GPU)) = 13 - 25"};
  for (int compat = 0; compat < 2; compat++) {
    cl_scission_query q;
    cl_scission_query_init(&q);
    q.model = "VGG19"; /* lower-cased like Scission */
    q.criteria[0] = "!-1";
    q.criteria[1] = "10";
    q.criteria[2] = "16";
    q.scission_compat = compat;
    cl_scission_config res[5];
    int n = 0;
    CL_CHECK_OK(cl_scission_search(set, net, &q, res, &n, NULL));
    CL_CHECK_INT_EQ(n, 5);
    for (int r = 0; r < n; r++) {
      char line[1024];
      cl_scission_format_line(set, &q, &res[r], r + 1, CL_SCISSION_FMT_SCISSION, line,
                              sizeof line);
      CL_CHECK_STR_EQ(line, expect[r]);
    }
  }
  bf_query b = bfq("vgg19");
  b.crit[0] = "!-1";
  b.crit[1] = "10";
  b.crit[2] = "16";
  compare(set, net, &b, 1000000);
}

static void test_against_brute_force(cl_profile_set *set, cl_netstats *net, cl_netstats *wired) {
  static const char *const models[] = {
      "vgg16",       "vgg19",        "xception",     "resnet50",           "resnet101",
      "resnet152",   "resnet50v2",   "resnet101v2",  "resnet152v2",        "inception_v3",
      "inceptionresnet_v2", "mobilenet", "mobilenetv2", "densenet121",     "densenet169",
      "densenet201", "nasnetlarge",  "nasnetmobile"};
  for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
    bf_query b = bfq(models[i]);
    compare(set, i % 2 ? wired : net, &b, 10);
  }
  /* full rankings (every feasible configuration), both byte-accounting modes */
  for (int compat = 0; compat < 2; compat++) {
    bf_query b = bfq("resnet50");
    b.compat = compat;
    compare(set, net, &b, 1000000);
    compare(set, wired, &b, 1000000);
  }
  /* criteria edge cases */
  bf_query b = bfq("resnet50");
  b.upload[0] = 0.5e6;
  b.upload[1] = 1e6;
  compare(set, net, &b, 1000000);
  b = bfq("mobilenet");
  b.time[0] = 30;
  b.pct[0] = 1;
  b.time[2] = 0.01;
  compare(set, wired, &b, 1000000);
  b = bfq("mobilenet");
  b.time[1] = 50;
  b.pct[1] = 1;
  b.crit[1] = "!-1";
  compare(set, net, &b, 50);
  b = bfq("densenet121");
  b.crit[2] = "!6700k(GPU)"; /* name items imply the tier is used */
  compare(set, net, &b, 1000000);
  b = bfq("densenet121");
  b.crit[0] = "-1";
  b.crit[1] = "vm2Core";
  compare(set, wired, &b, 1000000);
  b = bfq("inception_v3");
  b.crit[1] = "-1";
  b.crit[0] = "!-1,!5";
  b.input_bytes = 0.6e6;
  compare(set, net, &b, 1000000);
  b = bfq("xception");
  b.crit[1] = "!vm2Core,!-1";
  b.crit[2] = "6700k(NoGPU),6700k(GPU)";
  b.upload[0] = 2e6;
  compare(set, wired, &b, 1000000);
  b = bfq("resnet50");
  b.crit[1] = "175,176,!174"; /* vm2Core runs only zero-time blocks here */
  b.crit[2] = "-1";
  for (int compat = 0; compat < 2; compat++) {
    b.compat = compat;
    compare(set, net, &b, 1000000);
  }

  /* digits are layer numbers: edge "2500" asks for layer 2500 -> nothing */
  cl_scission_query q;
  cl_scission_query_init(&q);
  q.model = "vgg19";
  q.criteria[1] = "2500";
  cl_scission_config res[5];
  int n = -1;
  CL_CHECK_OK(cl_scission_search(set, net, &q, res, &n, NULL));
  CL_CHECK_INT_EQ(n, 0);

  /* The zero-time accident: with the edge on vm2Core running only layers 175-176 of
   * resnet50 and no cloud, Scission charges no bytes on the first hop and prints the
   * edge's output size. */
  cl_scission_query_init(&q);
  q.model = "resnet50";
  q.criteria[0] = "!-1";
  q.criteria[1] = "vm2Core,175,!174";
  q.criteria[2] = "-1";
  q.result_count = 1;
  cl_scission_config sane, compat;
  CL_CHECK_OK(cl_scission_search(set, net, &q, &sane, &n, NULL));
  q.scission_compat = 1;
  CL_CHECK_OK(cl_scission_search(set, net, &q, &compat, &n, NULL));
  CL_CHECK_INT_EQ(sane.first_layer[1], 175);
  CL_CHECK_INT_EQ(compat.first_layer[1], 175);
  CL_CHECK(sane.seconds[1] == 0.0);
  const cl_profile_model *dm = cl_profile_machine_model(
      cl_profile_set_machine(set, cl_profile_set_find_machine(set, "raspi4")), "resnet50");
  const cl_profile_model *em = cl_profile_machine_model(
      cl_profile_set_machine(set, cl_profile_set_find_machine(set, "vm2Core")), "resnet50");
  CL_CHECK_NEAR(sane.bytes, (double)dm->blocks[sane.last_block[0]].output_bytes, 0);
  CL_CHECK_NEAR(compat.bytes, (double)em->blocks[em->n_blocks - 1].output_bytes, 0);
  CL_CHECK_NEAR(sane.comm - compat.comm,
                (double)dm->blocks[sane.last_block[0]].output_bytes / 200000.0, 1e-12);
}

/* More than three tiers on synthetic data, against a generic brute force over block ->
 * tier maps (non-decreasing) and machine choices, with energy as the objective. */
static void test_multi_tier(void) {
  enum { K = 4, M = 2, L = 7 };
  const char *tiers[K] = {"sensor", "gateway", "edge", "cloud"};
  cl_profile_set *set;
  cl_netstats *net;
  CL_CHECK_OK(cl_profile_set_create(&set));
  CL_CHECK_OK(cl_netstats_create(&net));
  uint64_t rng = 42;
  double sec[K][M][L], outb[L];
  char names[K][M][32];
  for (int b = 0; b < L; b++) outb[b] = (double)(1000 + cl_rng_next(&rng) % 100000);
  for (int t = 0; t < K; t++)
    for (int m = 0; m < M; m++) {
      snprintf(names[t][m], 32, "%s%d", tiers[t], m);
      int idx;
      CL_CHECK_OK(cl_profile_set_add_machine(set, tiers[t], names[t][m], &idx));
      for (int b = 0; b < L; b++) {
        sec[t][m][b] = cl_rng_uniform(&rng, 0.001f, 0.2f) / (t + 1);
        cl_profile_block blk = {2 * b, 2 * b + 1, sec[t][m][b], (int64_t)outb[b]};
        CL_CHECK_OK(cl_profile_set_add_block(set, idx, "toy", &blk));
      }
    }
  double lat[K][M][K][M], bw[K][M][K][M];
  for (int a = 0; a < K; a++)
    for (int ma = 0; ma < M; ma++)
      for (int b = a + 1; b < K; b++)
        for (int mb = 0; mb < M; mb++) {
          lat[a][ma][b][mb] = cl_rng_uniform(&rng, 0.001f, 0.05f);
          bw[a][ma][b][mb] = 1e5 * (1 + (double)(cl_rng_next(&rng) % 50));
          CL_CHECK_OK(cl_netstats_add(net, names[a][ma], names[b][mb], lat[a][ma][b][mb],
                                      bw[a][ma][b][mb]));
        }
  double power[K] = {2.0, 5.0, 30.0, 200.0}, txp[K] = {1.5, 3.0, 10.0, 0.0}, in_bytes = 5e4;
  /* brute force: tier of each block non-decreasing; machines for used tiers (tier 0 always) */
  int n_bf = 0;
  double best_e = INFINITY, best_l = INFINITY;
  int asg[L];
  int total_maps = 1;
  for (int b = 0; b < L; b++) total_maps *= K;
  for (int code = 0; code < total_maps; code++) {
    int c = code, okm = 1;
    for (int b = 0; b < L; b++) {
      asg[b] = c % K;
      c /= K;
      if (b && asg[b] < asg[b - 1]) okm = 0;
    }
    if (!okm) continue;
    for (int mc = 0; mc < (1 << K); mc++) {
      int used[K] = {0}, mach[K], valid = 1;
      for (int b = 0; b < L; b++) used[asg[b]] = 1;
      for (int t = 0; t < K; t++) {
        mach[t] = (mc >> t) & 1;
        if (t > 0 && !used[t] && mach[t]) valid = 0; /* unused tier: one canonical machine */
      }
      if (!valid) continue;
      double compute = 0, energy = 0, comm = 0;
      for (int b = 0; b < L; b++) {
        compute += sec[asg[b]][mach[asg[b]]][b];
        energy += power[asg[b]] * sec[asg[b]][mach[asg[b]]][b];
      }
      int holder = 0;
      double bytes = in_bytes;
      for (int b = 0; b < L; b++)
        if (asg[b] == 0) bytes = outb[b];
      for (int t = 1; t < K; t++) {
        if (!used[t]) continue;
        double w = bw[holder][mach[holder]][t][mach[t]];
        comm += lat[holder][mach[holder]][t][mach[t]] + bytes / w;
        energy += txp[holder] * bytes / w;
        holder = t;
        for (int b = 0; b < L; b++)
          if (asg[b] == t) bytes = outb[b];
      }
      n_bf++;
      if (energy < best_e || (energy == best_e && compute + comm < best_l)) {
        best_e = energy;
        best_l = compute + comm;
      }
    }
  }
  cl_scission_query q;
  cl_scission_query_init(&q);
  q.model = "toy";
  q.n_tiers = K;
  for (int t = 0; t < K; t++) {
    q.tiers[t] = tiers[t];
    q.power_w[t] = power[t];
    q.tx_power_w[t] = txp[t];
  }
  q.input_bytes = in_bytes;
  q.objective = CL_PLAN_ENERGY;
  q.result_count = 3;
  cl_scission_config res[3];
  int n = 0;
  cl_scission_stats st;
  CL_CHECK_OK(cl_scission_search(set, net, &q, res, &n, &st));
  CL_CHECK_INT_EQ(st.enumerated, n_bf);
  CL_CHECK_INT_EQ(n, 3);
  CL_CHECK_NEAR(res[0].energy, best_e, 1e-12);
  CL_CHECK_NEAR(res[0].latency, best_l, 1e-12);
  CL_CHECK(res[0].objective <= res[1].objective && res[1].objective <= res[2].objective);
  char line[1024];
  cl_scission_format_line(set, &q, &res[0], 1, CL_SCISSION_FMT_SCISSION, line, sizeof line);
  CL_CHECK(strstr(line, "Sensor(sensor") != NULL && strstr(line, "Cloud(") != NULL);
  cl_scission_format_line(set, &q, NULL, 0, CL_SCISSION_FMT_CSV, line, sizeof line);
  CL_CHECK(strstr(line, "gateway_machine,gateway_first_layer") != NULL);
  cl_netstats_destroy(net);
  cl_profile_set_destroy(set);
}

int main(void) {
  const char *src = getenv("CL_SOURCE_DIR");
  snprintf(g_dir, sizeof g_dir, "%s/tests/data/scission", src ? src : "..");
  cl_profile_set *set;
  cl_netstats *net, *wired;
  char p[4200];
  CL_CHECK_OK(cl_profile_set_create(&set));
  cl_status s = cl_profile_load_scission_dir(set, g_dir);
  CL_CHECK_OK(s);
  snprintf(p, sizeof p, "%s/network_stats.csv", g_dir);
  CL_CHECK_OK(cl_netstats_load_csv(p, &net));
  snprintf(p, sizeof p, "%s/network_stats_wired.csv", g_dir);
  CL_CHECK_OK(cl_netstats_load_csv(p, &wired));
  if (s != CL_OK || !net || !wired) return cl_test_finish("test_scission");
  test_loaders(set, net);
  test_readme_query(set, net);
  test_against_brute_force(set, net, wired);
  test_multi_tier();
  cl_netstats_destroy(net);
  cl_netstats_destroy(wired);
  cl_profile_set_destroy(set);
  return cl_test_finish("test_scission");
}
