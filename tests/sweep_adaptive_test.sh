#!/bin/bash
# Scaled-down adaptivity study under MPI (2 ranks): record counts must match the
# model structure, every condition has exactly one best cut, the unstressed-best flag is
# consistent, the composition equals the sum of its parts, per-layer energy = busy power x
# time, the energy-optimal cut is the lowest median energy, the repeats' spreads match
# /adaptive/repeats, the profiling units run interleaved (A B C A B C, one rank), and the
# analysis script runs.
# usage: sweep_adaptive_test.sh BUILD_DIR MPIEXEC...
. "$(dirname "$0")/script_lib.sh" "$1" "$(cd "$(dirname "$0")/.." && pwd)"   # B S C PY T
shift
BUILD=$B; SRC=$S; W=$T
MPI=("$@")
EXP=$SRC/tests/data/experiments/adaptive_small.yaml
"${MPI[@]}" -n 2 "$BUILD/cleave" sweep "$EXP" -o "$W/a.h5" --quiet > "$W/log" 2>&1 || { cat "$W/log"; fail "sweep"; }
cat "$W/log"
/usr/bin/python3 - "$W/a.h5" <<'PYEOF' || fail "checks"
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
p, c, l, u = (f[k][:] for k in ("/sweep/points", "/adaptive/cuts", "/adaptive/layers", "/adaptive/profile_units"))
ok = True
def check(cond, msg):
    global ok
    if not cond:
        print("check failed:", msg); ok = False
check(len(p) == 2 * 8, "16 points (2 models x 8 conditions), got %d" % len(p))
check(len(u) == 2 * 3 * 2, "12 profile units (2 models x 3 distinct CPU/memory conditions: 0/0, 100%%/0, 0/100%%, x 2 repeats), got %d" % len(u))
reps = 3 * 2   # reps x repeats
rp = f["/adaptive/repeats"][:]
busy = (6.5, 91.0)  # configs/adaptive-dnn.yaml: edge, cloud busy power (W)
check(np.all(np.abs(l["energy"] - np.where(l["where"] == 0, busy[0], busy[1]) * l["time"]) <= 1e-6 * np.abs(l["energy"]) + 1e-12),
      "layer energy = busy power of its node x time")
for r in p:
    cc = c[c["attempt"] == r["attempt"]]
    ll = l[l["attempt"] == r["attempt"]]
    steps = int(cc["edge_steps"].max())
    check(cc["best"].sum() == 1, "one best cut per point")
    check(cc["base_best"].sum() == 1, "one unstressed-best cut per point")
    check(len(ll) == len(cc) * reps * steps, "layer records = cuts x reps x steps")
    check(abs(cc[cc["best"] == 1]["latency"][0] - cc["latency"].min()) < 1e-12, "best = min median latency")
    check(abs(r["latency"] - cc["latency"].min()) < 1e-12, "point latency = best")
    check(cc["ebest"].sum() == 1 and cc[cc["ebest"] == 1]["energy"][0] == cc["energy"].min(), "one energy-optimal cut = min energy")
    check(abs(r["energy"] - cc[cc["best"] == 1]["energy"][0]) < 1e-12, "point energy = energy of the latency-optimal cut")
    check(np.all(cc["energy"] > 0) and np.all(cc["energy_edge"] < cc["energy"]), "energy of both nodes, edge part")
    rr = rp[rp["attempt"] == r["attempt"]]
    check(len(rr) == len(cc) * 2, "2 repeat rows per cut")
    for k in range(len(cc)):
        x = rr[rr["cut"] == k]["latency"]
        check(abs(x.max() - x.min() - cc[cc["cut"] == k]["latency_spread"][0]) < 1e-12, "latency spread = max - min of the repeats")
    # per-layer times of (cut, rep) add up to edge + transfer + cloud
    for k in range(len(cc)):
        x = ll[(ll["cut"] == k) & (ll["rep"] == 0)]
        last = x[x["step"] == x["step"].max()][0]
        total = float(last["start"]) + float(last["time"])
        e = x[x["where"] == 0]["time"].sum(); cl = x[x["where"] == 1]["time"].sum()
        xfer = cc[cc["cut"] == k]["xfer_s"][0]
        check(abs(total - (e + cl + xfer)) <= 1e-4 * total + 1e-6, "chain timing adds up (%g vs %g)" % (total, e + cl + xfer))
        check((x["where"] == 0).sum() == cc[cc["cut"] == k]["edge_steps"][0], "edge steps")
# real stress: the 100% edge-CPU profiles of alexnet must be slower than the unloaded ones
mods = f["/strings/models"][:]
aid = [m["id"] for m in mods if m["name"].decode() == "alexnet"][0]
ua = u[u["model"] == aid]
t0 = ua[(ua["cpu_load"] == 0) & (ua["mem_pressure"] == 0)]["seconds"].sum()
t1 = ua[(ua["cpu_load"] == 1) & (ua["mem_pressure"] == 0)]["seconds"].sum()
print("alexnet profile: %.3f s unloaded, %.3f s at 100%% CPU load (ratio %.2f)" % (t0, t1, t1 / t0))
# the burners really ran alongside the profiled thread (timing ratios are too noisy on a
# shared 2-core machine to assert on)
# Burners run a duty cycle of L per 10 ms period, so a unit shorter than a few periods
# (lenet: ~5 ms) can end before a burner's busy phase: judge the longer units only, and
# require that at least one loaded unit was long enough to judge.
judged = 0
for x in u:
    if x["cpu_load"] == 0:
        check(x["burn_cpu"] == 0, "no burner without CPU load")
    elif x["seconds"] >= 0.05:
        judged += 1
        check(x["burn_cpu"] > 0.05 * x["seconds"], "burner threads used CPU during a loaded profile (%g of %g s)" % (x["burn_cpu"], x["seconds"]))
check(judged > 0, "no loaded profile unit lasted 50 ms")
sys.exit(0 if ok else 1)
PYEOF
/usr/bin/python3 "$SRC/scripts/analyze_adaptive.py" "$W/a.h5" -o "$W/plots" > "$W/an.log" 2>&1 || { cat "$W/an.log"; fail "analyze_adaptive.py"; }
grep -q "most important factor" "$W/an.log" || fail "analysis output"
grep -q "latency-optimal vs energy-optimal cut" "$W/an.log" || fail "analysis: energy-optimal cut"
grep -q "95% bootstrap CI over 2 repeats" "$W/an.log" || fail "analysis: confidence intervals"
# Interleaving: one rank runs the units in queue order; sorted by start time, every unit
# appears once per round and the rounds follow each other (A B A B A B, not A A A B B B).
cat > "$W/il.yaml" <<EOF
kind: adaptive
testbed: $SRC/configs/adaptive-dnn.yaml
models: [lenet]
reps: 2
repeats: 3
warmup: 0
mem_cap: 1MiB
factors:
  - {set: nodes.edge.cpu_load, levels: [0%, 50%]}
EOF
"${MPI[@]}" -n 1 "$BUILD/cleave" sweep "$W/il.yaml" -o "$W/il.h5" --quiet > "$W/il.log" 2>&1 || { cat "$W/il.log"; fail "interleave sweep"; }
/usr/bin/python3 - "$W/il.h5" <<'PYEOF' || fail "interleaving order"
import sys, h5py, numpy as np
u = np.sort(h5py.File(sys.argv[1], "r")["/adaptive/profile_units"][:], order="started")
seq = [(int(x["repeat"]), float(x["cpu_load"])) for x in u]
print("units by start time (repeat, edge cpu_load):", seq)
ok = [r for r, _ in seq] == [0, 0, 1, 1, 2, 2] and all(len({c for r, c in seq if r == q}) == 2 for q in range(3))
sys.exit(0 if ok else 1)
PYEOF
ls "$W/plots"/best_cut_heatmap_alexnet.png "$W/plots"/latency_vs_cut_alexnet.png > /dev/null || fail "plots"

# device: nodes are refused with the field's line: the study charges one slowdown per
# node, and a device node's came out 0 for the edge (every edge step free, exit 0)
mkdir -p "$W/dev/cfg" "$W/dev/exp"
sed 's/^    speed: 2 .*/    device: jetson-tx2/' "$SRC/configs/adaptive-dnn.yaml" > "$W/dev/cfg/adaptive-dnn.yaml"
sed 's|^testbed: .*|testbed: ../cfg/adaptive-dnn.yaml|; s/^models: .*/models: [lenet]/' "$EXP" > "$W/dev/exp/dev.yaml"
ln=$(grep -n "device: jetson-tx2" "$W/dev/cfg/adaptive-dnn.yaml" | cut -d: -f1)
"$BUILD/cleave" sweep "$W/dev/exp/dev.yaml" -o "$W/dev/d.h5" > "$W/dev/out" 2>&1; rc=$?
if [ $rc = 2 ] && [ "$(grep -c . "$W/dev/out")" = 1 ] && [ ! -e "$W/dev/d.h5" ] &&
   grep -q "adaptive-dnn.yaml:$ln:[0-9]*: field 'nodes\[0\].device': device 'jetson-tx2': the adaptive study charges" "$W/dev/out"; then
  echo "ok: device node refused with its line"
else cat "$W/dev/out"; fail "device node: exit $rc"; fi
# with speed: beside it (an explicit slowdown; the device only sets power) it runs
sed 's/^    device: jetson-tx2$/    device: jetson-tx2\n    speed: 2/' "$W/dev/cfg/adaptive-dnn.yaml" > "$W/dev/cfg/t" && mv "$W/dev/cfg/t" "$W/dev/cfg/adaptive-dnn.yaml"
"$BUILD/cleave" sweep "$W/dev/exp/dev.yaml" -o "$W/dev/d.h5" --quiet > "$W/dev/out" 2>&1 || { cat "$W/dev/out"; fail "device + speed: refused"; }
echo "ok: device + speed: runs"
echo PASS
