#!/bin/bash
# The explicit `plans:` list of docs/experiments.md (both testbed plan syntaxes): the
# experiment loads, runs under MPI, and its records say what each plan placed where.
# usage: sweep_plans_test.sh BUILD_DIR SOURCE_DIR
. "$(dirname "$0")/script_lib.sh" "$@"
EXP=$S/tests/data/experiments/sweep_plans.yaml
W=$T
"$C" sweep "$EXP" --list > "$W/list" || fail "--list rejected the explicit plans"
[ "$(wc -l < "$W/list")" = 6 ] || fail "expected 6 points (3 plans x 2 bandwidths), got $(wc -l < "$W/list")"
# (the config writer's block style: the plan's list items on their own lines, in flow)
"$C" sweep "$EXP" --print-point 2 | grep -A2 '^plan:$' | tr '\n' '|' |
  grep -q '^plan:|  - {node: device, layers: input..pool2}|  - {node: cloud, layers: rest}|$' ||
  fail "point 2 does not carry the second plan as written"
$MPI -n 2 "$C" sweep "$EXP" -o "$W/p.h5" --quiet > "$W/log" 2>&1 || { cat "$W/log"; fail "sweep"; }
cat "$W/log"
/usr/bin/python3 - "$W/p.h5" <<'PYEOF' || fail "record checks"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
p, inf = f["/sweep/points"][:], f["/inferences"][:]
d = f["/strings/plans"][:]
plans = [(r[d.dtype.names[-1]] if d.dtype.names else r).decode() for r in d]
ok = True
def check(cond, msg):
    global ok
    if not cond:
        print("check failed:", msg); ok = False
check(len(p) == 6 and not p["failed"].any(), "6 successful points, got %d" % len(p))
check(len(inf) == 6 * 2, "2 inferences per point (the testbed's workload), got %d" % len(inf))
by_plan = {}
for r in p:
    rows = inf[inf["attempt"] == r["attempt"]]
    check(len(rows) == 2, "2 inference rows per point")
    by_plan.setdefault(int(r["plan"]), []).append((r["f0"], rows["bytes"].max(), r["latency"]))
check(len(by_plan) == 3, "3 distinct plan labels, got %d" % len(by_plan))
for pid, xs in by_plan.items():
    label = plans[pid] if plans else str(pid)
    moved = [b for _, b, _ in xs]
    if "layers: rest}]" in label and "cloud" not in label:   # all on the device
        check(all(b == 0 for b in moved), "%s: nothing crosses the link" % label)
    else:
        check(all(b > 0 for b in moved), "%s: the cut tensor crosses the link" % label)
        lat = {round(bw): l for bw, _, l in xs}
        check(len(lat) == 2 and lat[min(lat)] > lat[max(lat)], "%s: slower link, higher latency %s" % (label, lat))
    print(label, xs)
# /sweep/layers: every executed layer of every inference, energy = busy power x duration
# with the powers of tb2.yaml (device 5 W, cloud 120 W), inside the inference's energy
lay = f["/sweep/layers"][:]
nodes = {r["id"]: r["name"].decode() for r in f["/strings/nodes"][:]}
busy = {"device": 5.0, "cloud": 120.0}
for r in p:
    for i in range(2):
        x = lay[(lay["attempt"] == r["attempt"]) & (lay["inference"] == i)]
        check(len(x) >= 5, "layer rows of every inference (%d)" % len(x))
        for y in x:
            w = busy[nodes[y["node"]]]
            check(abs(y["energy"] - w * y["duration"]) <= 1e-12 + 1e-9 * y["energy"], "layer energy = %g W x duration" % w)
            check(y["power"] == w, "recorded power of %s" % nodes[y["node"]])
        ie = inf[(inf["attempt"] == r["attempt"]) & (inf["inference"] == i)]["energy"][0]
        check(x["energy"].sum() <= ie * (1 + 1e-9) and x["energy"].sum() > 0, "layer energies within the inference energy")
        fin = inf[(inf["attempt"] == r["attempt"]) & (inf["inference"] == i)]["finish"][0]
        check((x["start"] + x["duration"]).max() <= fin + 1e-9, "layers end by the inference's finish")
sys.exit(0 if ok else 1)
PYEOF
echo PASS
