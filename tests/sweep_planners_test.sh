#!/bin/bash
# Kind `plan` (every planner on the same models and networks, in one sweep) under MPI:
# one /plan/choices row per (point, planner), one best planner per point, and
# predictions that move the right way with the link.
# usage: sweep_planners_test.sh BUILD_DIR SOURCE_DIR
. "$(dirname "$0")/script_lib.sh" "$@"
EXP=$S/tests/data/experiments/planners_small.yaml
W=$T
$MPI -n 2 "$C" sweep "$EXP" -o "$W/p.h5" --quiet > "$W/log" 2>&1 || { cat "$W/log"; fail "sweep"; }
cat "$W/log"
# the full experiment of the repository loads too (every planner, 3 nodes)
"$C" sweep "$S/experiments/planners.yaml" --list > "$W/list" || fail "experiments/planners.yaml"
/usr/bin/python3 - "$W/p.h5" <<'PYEOF' || fail "record checks"
import sys, math, h5py
f = h5py.File(sys.argv[1], "r")
p, c = f["/sweep/points"][:], f["/plan/choices"][:]
names = {int(r["id"]): r["name"].decode() for r in f["/strings/planners"][:]}
ok = True
def check(cond, msg):
    global ok
    if not cond:
        print("check failed:", msg); ok = False
P = len(names)
check(P >= 8, "every registered planner listed (got %d)" % P)
check(len(p) == 8 and not p["failed"].any(), "8 points (2 models x 2 bandwidths x 2 latencies), got %d" % len(p))
check(len(c) == len(p) * P, "one row per (point, planner): %d rows for %d points x %d planners" % (len(c), len(p), P))
cost = {}
for r in p:
    rows = c[c["attempt"] == r["attempt"]]
    check(sorted(rows["planner"].tolist()) == sorted(names), "each planner once per point")
    check(rows["best"].sum() == 1, "one best planner per point")
    good = rows[(rows["status"] == 0) & (rows["feasible"] == 1)]
    check(len(good) >= 2, "at least two planners apply")
    b = rows[rows["best"] == 1][0]
    check(abs(b["latency"] - good["latency"].min()) < 1e-15, "best = lowest predicted latency")
    check(abs(r["latency"] - b["latency"]) < 1e-15, "point row carries the best planner's latency")
    for x in rows:
        cost[(int(r["model"]), r["f0"], r["f1"], names[int(x["planner"])])] = (x["latency"], x["bytes"], x["status"])
for m in set(k[0] for k in cost):
    loc = [v for k, v in cost.items() if k[0] == m and k[3] == "local"]
    check(all(v[1] == 0 for v in loc) and max(v[0] for v in loc) == min(v[0] for v in loc),
          "local: nothing sent, latency independent of the link")
    for lat in (0.005, 0.1):
        fast, slow = cost[(m, 2500000.0, lat, "cloud")], cost[(m, 125000.0, lat, "cloud")]
        check(slow[0] > fast[0], "cloud: 1 Mbit/s slower than 20 Mbit/s (%g vs %g)" % (slow[0], fast[0]))
    for bw in (2500000.0, 125000.0):
        check(cost[(m, bw, 0.1, "cloud")][0] > cost[(m, bw, 0.005, "cloud")][0], "cloud: 100 ms slower than 5 ms")
print("%d points x %d planners; best per point:" % (len(p), P),
      sorted(set(names[int(x["planner"])] for x in c[c["best"] == 1])))
sys.exit(0 if ok else 1)
PYEOF
ok "every planner per point"
# A device factor (issue 14): the cloud node is a catalogue device per level; planners price
# it with the device model, so the GPU machine makes `cloud` faster than a Raspberry Pi
# does, and the record names the levels (attribute factor0_levels, f0 = level index).
cat > "$W/dexp.yaml" <<EOF
kind: plan
testbed: $S/tests/data/configs/device_pair.yaml
models: [resnet18]
planners: [local, cloud]
factors:
  - {set: nodes.cloud.device, levels: [raspi4, i7-6700k-gpu]}
EOF
$MPI -n 2 "$C" sweep "$W/dexp.yaml" -o "$W/d.h5" --quiet > "$W/dlog" 2>&1 || { cat "$W/dlog"; fail "device-factor sweep"; }
/usr/bin/python3 - "$W/d.h5" <<'PYEOF' || fail "device-factor records"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
p, c = f["/sweep/points"], f["/plan/choices"][:]
names = {int(r["id"]): r["name"].decode() for r in f["/strings/planners"][:]}
lv = p.attrs["factor0_levels"]
lv = lv.decode() if isinstance(lv, bytes) else lv
assert p.attrs["factor0"] in (b"nodes.cloud.device", "nodes.cloud.device"), p.attrs["factor0"]
assert lv == "raspi4,i7-6700k-gpu", lv
pts = p[:]
assert sorted(pts["f0"].tolist()) == [0.0, 1.0], pts["f0"]
lat = {}
for r in pts:
    for x in c[c["attempt"] == r["attempt"]]:
        lat[(int(r["f0"]), names[int(x["planner"])])] = x["latency"]
print("device factor: cloud on raspi4 %.1f ms, on i7-6700k-gpu %.1f ms; local %.1f / %.1f ms" %
      (lat[(0, "cloud")] * 1e3, lat[(1, "cloud")] * 1e3, lat[(0, "local")] * 1e3, lat[(1, "local")] * 1e3))
assert lat[(1, "cloud")] < 0.5 * lat[(0, "cloud")], "GPU cloud faster than a Pi cloud"
assert abs(lat[(0, "local")] - lat[(1, "local")]) < 1e-12, "local does not depend on the cloud device"
assert lat[(0, "cloud")] > lat[(0, "local")], "a Pi behind a link is slower than the Pi itself"
PYEOF
ok "device factor: levels recorded, planners price the selected device"
finish sweep_planners
