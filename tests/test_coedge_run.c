/* CoEdge executed for real (sim/coedge_run.c): measured composition equals the
 * planner's model when compute is negligible, measured compute tracks the prediction,
 * deadlines, unknown planners, schedules, the adaptive re-planning loop with its HDF5
 * records, grid tiles (tiles2x2/tiles3x3) executed for real, the local planner and the
 * 8-bit input scatter (input_bytes_per_elem). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cl_test.h"
#include "cleave/coedge.h"
#include "cleave/coedge_run.h"
#include "cleave/store.h"

static char g_dir[] = "/tmp/cl_coedge_run_XXXXXX";

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  CL_CHECK(f != NULL);
  if (!f) return;
  fputs(text, f);
  fclose(f);
}

static const char *k_devs =
    "bandwidth: 40Mbit/s\n"
    "msg_latency: 2ms\n"
    "devices:\n"
    "  - {name: a, speed: 0.5, compute_w: 5, idle_w: 2, tx_w: 2.5, rx_w: 2.2, source: true}\n"
    "  - {name: b, speed: 1.0, compute_w: 9, idle_w: 2, tx_w: 2.6, rx_w: 2.4}\n"
    "  - {name: c, speed: 0.3, compute_w: 4, idle_w: 1.5, tx_w: 2.0, rx_w: 1.8}\n";

/* Every device a million times faster than the host: compute vanishes and the measured
 * latency/energy must equal the planner's (same WLAN and energy model, same plan). */
static const char *k_fast =
    "bandwidth: 10Mbit/s\n"
    "msg_latency: 1ms\n"
    "devices:\n"
    "  - {name: a, speed: 1e6, compute_w: 5, idle_w: 2, tx_w: 2.5, rx_w: 2.2}\n"
    "  - {name: b, speed: 2e6, compute_w: 9, idle_w: 3, tx_w: 2.6, rx_w: 2.4, source: true}\n"
    "  - {name: c, speed: 1e6, compute_w: 4, idle_w: 1.5, tx_w: 2.0, rx_w: 1.8}\n";

static cl_coedge_point point(const char *model, const char *planner, const char *devs) {
  cl_coedge_point p;
  memset(&p, 0, sizeof p);
  p.model = model;
  p.planner = planner;
  p.devices_path = devs;
  p.inferences = 2;
  p.seed = 7;
  return p;
}

static void test_composition(const char *fast) {
  const char *planners[] = {"equal", "proportional", "coedge"};
  for (int mode = 0; mode < 2; mode++)
    for (int k = 0; k < 3; k++) {
      cl_coedge_point p = point("alexnet", planners[k], fast);
      p.mode = mode;
      p.inferences = 1;
      cl_coedge_point_result r;
      CL_CHECK_OK(cl_coedge_run_point(&p, &r));
      /* equal/proportional move rows over the WLAN: milliseconds; CoEdge keeps all on the
       * source b here (no transfer beats any transfer), leaving only ~ns of compute */
      if (k < 2) CL_CHECK(r.latency > 0.001);
      CL_CHECK_NEAR(r.latency, r.planned_latency, 1e-4 * r.planned_latency + 1e-6);
      CL_CHECK_NEAR(r.energy, r.planned_energy, 1e-4 * r.planned_energy + 1e-5);
      CL_CHECK(r.feasible == 1);
      CL_CHECK(r.devices_used >= 1 && r.devices_used <= 3);
      CL_CHECK(strncmp(r.plan, "rows 0-", 7) == 0);
      if (k == 0) CL_CHECK_INT_EQ(r.devices_used, 3);
    }
}

/* "local": the whole run on the requester (source b), nothing on the WLAN: the measured
 * composition equals the planner's evaluation of the same rows, and only b takes part. */
static void test_local(const char *fast) {
  cl_coedge_point p = point("alexnet", "local", fast);
  p.inferences = 1;
  cl_coedge_point_result r;
  CL_CHECK_OK(cl_coedge_run_point(&p, &r));
  CL_CHECK_STR_EQ(r.plan, "rows 0-223:b");
  CL_CHECK_INT_EQ(r.devices_used, 1);
  CL_CHECK_NEAR(r.latency, r.planned_latency, 1e-4 * r.planned_latency + 1e-6);
  CL_CHECK(r.latency < 1e-3); /* no transfer at all; compute is ~ns at speed 2e6 */
  CL_CHECK(r.feasible == 1);
  cl_coedge_adapt_opts o;
  memset(&o, 0, sizeof o);
  cl_coedge_inference *rec = NULL;
  p.inferences = 2;
  CL_CHECK_OK(cl_coedge_run_adaptive(&p, &o, &rec));
  if (rec) CL_CHECK_STR_EQ(rec[1].planner, "local");
  free(rec);
  /* a source that cannot compute: local does not apply */
  char path[512];
  snprintf(path, sizeof path, "%s/cam.yaml", g_dir);
  write_file(path, "devices:\n"
                   "  - {name: cam, speed: 0, compute_w: 3, idle_w: 1, tx_w: 2, rx_w: 2, source: true}\n"
                   "  - {name: b, speed: 1, compute_w: 9, idle_w: 2, tx_w: 2.6, rx_w: 2.4}\n");
  p = point("alexnet", "local", path);
  cl_log_set_level(-1);
  CL_CHECK_INT_EQ(cl_coedge_run_point(&p, &r), CL_ERR_UNSUPPORTED);
  cl_log_set_level(0);
  unlink(path);
}

static void test_measured(const char *devs) {
  /* Real compute: the measured latency follows the prediction from the calibrated host
   * times (same kernels on row slices; slack for slice overheads and a shared host). */
  const char *planners[] = {"equal", "fastest", "minlat"};
  double lat[3];
  for (int k = 0; k < 3; k++) {
    cl_coedge_point p = point("alexnet", planners[k], devs);
    cl_coedge_point_result r;
    CL_CHECK_OK(cl_coedge_run_point(&p, &r));
    double ratio = r.latency / r.planned_latency;
    if (!(ratio > 0.6 && ratio < 1.6))
      fprintf(stderr, "%s: measured %.4f s vs planned %.4f s\n", planners[k], r.latency,
              r.planned_latency);
    CL_CHECK(ratio > 0.6 && ratio < 1.6);
    CL_CHECK(r.energy > 0 && r.plan_seconds >= 0);
    lat[k] = r.latency;
  }
  /* equal split puts a third of the rows on the slowest device (0.3): slower than the
   * fastest device alone, which is what minlat improves on */
  CL_CHECK(lat[0] > lat[1]);
  CL_CHECK(lat[2] < 1.1 * lat[1]);

  /* an impossible deadline: not an error, the minimum-latency plan runs, infeasible */
  cl_coedge_point p = point("alexnet", "coedge", devs);
  p.deadline_s = 1e-6;
  p.inferences = 1;
  cl_coedge_point_result r;
  CL_CHECK_OK(cl_coedge_run_point(&p, &r));
  CL_CHECK_INT_EQ(r.feasible, 0);
  CL_CHECK(r.latency > 1e-6);
  /* a loose deadline: met, and CoEdge's energy is at most the equal split's */
  p.deadline_s = 10;
  cl_coedge_point_result rc, re;
  CL_CHECK_OK(cl_coedge_run_point(&p, &rc));
  p.planner = "equal";
  CL_CHECK_OK(cl_coedge_run_point(&p, &re));
  CL_CHECK_INT_EQ(rc.feasible, 1);
  CL_CHECK(rc.planned_energy <= 1.03 * re.planned_energy);
  CL_CHECK(rc.energy < re.energy);
}

static void test_errors(const char *devs) {
  cl_coedge_point_result r;
  cl_coedge_point p = point("alexnet", "nope", devs);
  CL_CHECK_INT_EQ(cl_coedge_run_point(&p, &r), CL_ERR_INVALID);
  p = point("alexnet", "equal", "/nonexistent/devs.yaml");
  CL_CHECK_INT_EQ(cl_coedge_run_point(&p, &r), CL_ERR_IO);
  p = point("no_such_model", "equal", devs);
  CL_CHECK_INT_EQ(cl_coedge_run_point(&p, &r), CL_ERR_NOTFOUND);
  p = point("alexnet", "equal", devs);
  p.inferences = 0;
  CL_CHECK_INT_EQ(cl_coedge_run_point(&p, &r), CL_ERR_INVALID);
}

/* Grid tiles run for real (column crops, runtime/spatial_tiles.c). With compute made
 * negligible the measured composition must equal the planner's evaluation of the same
 * tiles (same WLAN: the fused tiles' overlapping input regions are scattered, so the
 * latency is milliseconds); with real compute it must track the prediction. */
static void test_tiles(const char *fast, const char *devs) {
  const char *planners[2] = {"tiles2x2", "tiles3x3"};
  const char *grid[2] = {"tiles 2x2 ", "tiles 3x3 "};
  for (int k = 0; k < 2; k++) {
    cl_coedge_point p = point("lenet", planners[k], fast);
    p.inferences = 1;
    cl_coedge_point_result r;
    CL_CHECK_OK(cl_coedge_run_point(&p, &r));
    CL_CHECK(strncmp(r.plan, grid[k], 10) == 0);
    CL_CHECK(r.latency > 0.001);
    CL_CHECK_NEAR(r.latency, r.planned_latency, 1e-4 * r.planned_latency + 1e-6);
    CL_CHECK_NEAR(r.energy, r.planned_energy, 1e-4 * r.planned_energy + 1e-5);
    CL_CHECK(r.devices_used >= 1);
  }
  /* real compute on the 3-device file: a 2x2 grid (redundant compute ~ +99%) */
  cl_coedge_point p = point("alexnet", "tiles2x2", devs);
  p.inferences = 1;
  cl_coedge_point_result r;
  CL_CHECK_OK(cl_coedge_run_point(&p, &r));
  double ratio = r.latency / r.planned_latency;
  if (!(ratio > 0.6 && ratio < 1.6))
    fprintf(stderr, "tiles2x2: measured %.4f s vs planned %.4f s (%s)\n", r.latency,
            r.planned_latency, r.plan);
  CL_CHECK(ratio > 0.6 && ratio < 1.6);
  CL_CHECK(strncmp(r.plan, "tiles 2x2 ", 10) == 0);
  /* the adaptive loop accepts tile plans too */
  cl_coedge_adapt_opts o;
  memset(&o, 0, sizeof o);
  o.adapt = 1;
  cl_coedge_inference *rec = NULL;
  p = point("lenet", "tiles2x2", fast);
  CL_CHECK_OK(cl_coedge_run_adaptive(&p, &o, &rec));
  if (rec) {
    CL_CHECK_STR_EQ(rec[1].planner, "tiles2x2");
    CL_CHECK(strncmp(rec[0].plan, "tiles 2x2 ", 10) == 0);
    CL_CHECK(rec[0].latency > 0);
  }
  free(rec);
}

/* input_bytes_per_elem: 1 (an 8-bit frame): only the input scatter shrinks. With compute
 * negligible, measured == planned still holds, the latency drops, and the adaptive loop's
 * bandwidth estimate counts the bytes the WLAN really carried (float32 bytes would make
 * it see a 4x faster link and re-plan for nothing). */
static void test_input_bytes(const char *fast, const char *fast8) {
  cl_coedge_point_result r4, r1;
  cl_coedge_point p = point("lenet", "equal", fast);
  p.inferences = 1;
  CL_CHECK_OK(cl_coedge_run_point(&p, &r4));
  p.devices_path = fast8;
  CL_CHECK_OK(cl_coedge_run_point(&p, &r1));
  CL_CHECK_NEAR(r1.latency, r1.planned_latency, 1e-4 * r1.planned_latency + 1e-6);
  CL_CHECK_STR_EQ(r1.plan, r4.plan);
  /* lenet's equal split scatters input rows [0,14) to a and [19,32) to c: 3,456 B of
   * float32 at 10 Mbit/s = 2.765 ms, 864 B of 8-bit = 0.691 ms (+ 2 x 1 ms each); the
   * halos (10.7 ms) and the gather (2.8 ms) do not change */
  CL_CHECK_NEAR(r4.latency - r1.latency, 0.75 * 3456 / 1.25e6, 2e-5);
  /* alexnet: 312 KB of the 450 KB moved are the input's float32 overcount */
  p.model = "alexnet";
  cl_coedge_adapt_opts o;
  memset(&o, 0, sizeof o);
  o.adapt = 1;
  cl_coedge_inference *rec = NULL;
  p.inferences = 3;
  CL_CHECK_OK(cl_coedge_run_adaptive_ex(&p, &o, -1, &rec));
  if (rec)
    for (int i = 0; i < 3; i++) {
      CL_CHECK_INT_EQ(rec[i].replanned, 0);
      CL_CHECK_INT_EQ(rec[i].plan_id, 0);
    }
  free(rec);
}

static void test_schedule(void) {
  const char *names[] = {"a", "b", "c"};
  cl_coedge_event *ev = NULL;
  int n = 0;
  CL_CHECK_OK(cl_coedge_parse_schedule("5:b=0.1, 2:bandwidth=5Mbit/s,5:a=2", names, 3, &ev, &n));
  CL_CHECK_INT_EQ(n, 3);
  if (n == 3) {
    CL_CHECK_INT_EQ(ev[0].at, 2);
    CL_CHECK_INT_EQ(ev[0].device, -1);
    CL_CHECK_NEAR(ev[0].value, 625000, 1e-6);
    CL_CHECK_INT_EQ(ev[1].at, 5);
    CL_CHECK_INT_EQ(ev[1].device, 1); /* stable: b before a at the same inference */
    CL_CHECK_NEAR(ev[1].value, 0.1, 1e-12);
    CL_CHECK_INT_EQ(ev[2].device, 0);
  }
  free(ev);
  const char *bad[] = {"5:z=0.1", "x:b=1", "5:b=0", "5:b", "5:bandwidth=fast", "-1:b=1", "5b=1"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    CL_CHECK_INT_EQ(cl_coedge_parse_schedule(bad[i], names, 3, &ev, &n), CL_ERR_INVALID);
    CL_CHECK(ev == NULL);
  }
  CL_CHECK_OK(cl_coedge_parse_schedule("", names, 3, &ev, &n));
  CL_CHECK_INT_EQ(n, 0);
}

static void test_adaptive(const char *devs) {
  const char *names[] = {"a", "b", "c"};
  cl_coedge_event *ev = NULL;
  int n_ev = 0;
  /* the source a (minlat runs everything on it: shipping the input costs more than it
   * saves) gets a background load, 10x slower, before inference 2 */
  CL_CHECK_OK(cl_coedge_parse_schedule("2:a=0.05", names, 3, &ev, &n_ev));
  char out[512];
  snprintf(out, sizeof out, "%s/adapt.h5", g_dir);
  cl_coedge_point p = point("alexnet", "minlat", devs);
  p.inferences = 5;
  double lat_static_end = 0;
  for (int adapt = 0; adapt < 2; adapt++) {
    cl_coedge_adapt_opts o;
    memset(&o, 0, sizeof o);
    o.events = ev;
    o.n_events = n_ev;
    o.adapt = adapt;
    o.out = adapt ? out : NULL;
    o.config_text = "test config";
    cl_coedge_inference *rec = NULL;
    CL_CHECK_OK(cl_coedge_run_adaptive(&p, &o, &rec));
    if (!rec) continue;
    for (int i = 0; i < 5; i++) CL_CHECK_INT_EQ(rec[i].inference, i);
    CL_CHECK_INT_EQ(rec[0].plan_id, 0);
    CL_CHECK_INT_EQ(rec[2].plan_id, 0); /* the change is only observed during inference 2 */
    CL_CHECK(rec[2].latency > 2 * rec[1].latency);
    CL_CHECK_NEAR(rec[2].min_speed_ratio, 0.1, 1e-12);
    CL_CHECK_STR_EQ(rec[0].plan, "rows 0-223:a");
    if (!adapt) {
      for (int i = 0; i < 5; i++) CL_CHECK_INT_EQ(rec[i].replanned, 0);
      CL_CHECK_INT_EQ(rec[4].plan_id, 0);
      lat_static_end = rec[4].latency;
    } else {
      CL_CHECK_INT_EQ(rec[3].replanned, 1);
      CL_CHECK_INT_EQ(rec[3].plan_id, 1);
      CL_CHECK(strcmp(rec[3].plan, rec[2].plan) != 0);
      CL_CHECK(rec[3].latency < 0.8 * rec[2].latency);
      CL_CHECK(rec[4].latency < 0.8 * lat_static_end);
      /* timing noise on a shared host may trigger one more re-plan; it never returns to
       * the stale plan */
      CL_CHECK(rec[4].plan_id >= 1);
      CL_CHECK(strcmp(rec[4].plan, rec[0].plan) != 0);
    }
    free(rec);
  }
  free(ev);
  /* the records on disk */
  cl_reader *rd = NULL;
  CL_CHECK_OK(cl_reader_open(out, &rd));
  if (rd) {
    const cl_table_info *ti = cl_reader_find(rd, "/inferences");
    CL_CHECK(ti != NULL);
    if (ti) CL_CHECK_INT_EQ(ti->n_records, 5);
    CL_CHECK(cl_reader_exists(rd, "/provenance/config"));
    cl_reader_close(rd);
  }
  unlink(out);
}

/* A device that holds no rows is never observed by the plan. Without probing, a device
 * that slowed down and recovered keeps its stale (slow) belief and is never used again;
 * with probing (every 2 inferences) the recovery is seen and the original plan returns. */
static void test_probe(const char *devs) {
  const char *names[] = {"a", "b", "c"};
  cl_coedge_event *ev = NULL;
  int n_ev = 0;
  CL_CHECK_OK(cl_coedge_parse_schedule("2:a=0.02,4:a=0.5", names, 3, &ev, &n_ev));
  cl_coedge_point p = point("alexnet", "minlat", devs);
  p.inferences = 10;
  for (int probing = 0; probing < 2; probing++) {
    cl_coedge_adapt_opts o;
    memset(&o, 0, sizeof o);
    o.events = ev;
    o.n_events = n_ev;
    o.adapt = 1;
    cl_coedge_inference *rec = NULL;
    CL_CHECK_OK(cl_coedge_run_adaptive_ex(&p, &o, probing ? 2 : -1, &rec));
    if (!rec) continue;
    int probes = 0;
    double pe = 0;
    for (int i = 0; i < 10; i++) {
      probes += rec[i].probed;
      pe += rec[i].probe_energy;
    }
    if ((strcmp(rec[9].plan, rec[0].plan) == 0) != probing)
      for (int i = 0; i < 10; i++)
        fprintf(stderr, "probe every %d: inference %d plan %d '%s' latency %.4f probed %d\n",
                probing ? 2 : -1, i, rec[i].plan_id, rec[i].plan, rec[i].latency,
                rec[i].probed);
    CL_CHECK_STR_EQ(rec[0].plan, "rows 0-223:a");
    /* the slowdown moves the work off a */
    CL_CHECK(strstr(rec[3].plan, "0-223:a") == NULL);
    if (!probing) {
      CL_CHECK_INT_EQ(probes, 0);
      /* a recovered at 4 but is never looked at again: the detour plan stays */
      CL_CHECK(strcmp(rec[9].plan, rec[0].plan) != 0);
    } else {
      CL_CHECK(probes >= 1);
      CL_CHECK(pe > 0);
      /* probed after inference 5 (a recovered at 4): back on a by the end */
      CL_CHECK_STR_EQ(rec[9].plan, rec[0].plan);
      CL_CHECK(rec[9].latency < 0.8 * rec[3].latency);
    }
    free(rec);
  }
  free(ev);
}

int main(void) {
  CL_CHECK(mkdtemp(g_dir) != NULL);
  char devs[512], fast[512], fast8[512], text[1024];
  snprintf(devs, sizeof devs, "%s/devs.yaml", g_dir);
  snprintf(fast, sizeof fast, "%s/fast.yaml", g_dir);
  snprintf(fast8, sizeof fast8, "%s/fast8.yaml", g_dir);
  write_file(devs, k_devs);
  write_file(fast, k_fast);
  snprintf(text, sizeof text, "input_bytes_per_elem: 1\n%s", k_fast);
  write_file(fast8, text);
  test_schedule();
  test_errors(devs);
  test_composition(fast);
  test_local(fast);
  test_tiles(fast, devs);
  test_input_bytes(fast, fast8);
  test_measured(devs);
  test_adaptive(devs);
  test_probe(devs);
  unlink(devs);
  unlink(fast);
  unlink(fast8);
  rmdir(g_dir);
  return cl_test_finish("test_coedge_run");
}
