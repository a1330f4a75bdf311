#!/bin/bash
# Sweep kind `users` (issue 16): user counts x loads on a testbed with users, under MPI.
# Checks: one /users/stats row per (point, user); p50 <= p95 <= p99 <= max; more load
# means more waiting for the same users; the points' latency is the mean over their
# inferences; --resume runs nothing; a users level above the base testbed's is a
# FILE:LINE error (exit 2); the `models` factor reaches users without their own model.
. "$(dirname "$0")/script_lib.sh" "$@"
cd "$S" || exit 1
timeout 300 $MPI -n 2 "$C" sweep tests/data/users/sweep.yaml -o "$T/s.h5" --quiet > "$T/s.out" 2>&1 || { cat "$T/s.out"; fail "sweep"; }
$PY - "$T/s.h5" <<'PY' && ok "records" || bad "records"
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
pts, st = f["sweep/points"][:], f["users/stats"][:]
assert len(pts) == 6 and np.all(pts["kind"] == 4), pts["kind"]
assert len(st) == 2 * (1 + 2 + 3), len(st)
a = f["sweep/points"].attrs
assert a["factor0"] in (b"users", "users") and a["factor1"] in (b"load", "load")
for c in ("lat_p50", "lat_p95", "lat_p99"):
    assert np.all(st[c] > 0)
assert np.all(st["lat_p50"] <= st["lat_p95"] + 1e-12) and np.all(st["lat_p95"] <= st["lat_p99"] + 1e-12)
assert np.all(st["lat_p99"] <= st["lat_max"] + 1e-12)
by = {}
for p in pts:
    rows = st[st["attempt"] == p["attempt"]]
    assert len(rows) == int(p["f0"])
    assert abs(p["latency"] - np.sum(rows["lat_mean"] * rows["inferences"]) / np.sum(rows["inferences"])) < 1e-12
    by[(int(p["f0"]), float(p["f1"]))] = rows["wait_mean"].mean()
assert by[(3, 4.0)] > by[(3, 1.0)], by
PY
timeout 300 $MPI -n 2 "$C" sweep tests/data/users/sweep.yaml -o "$T/s.h5" --resume > "$T/r.out" 2>&1 && grep -q "0 points run, 6 skipped" "$T/r.out" \
  && ok "resume runs nothing" || { cat "$T/r.out"; bad "resume"; }
timeout 60 "$C" sweep tests/data/users/sweep_bad.yaml -o "$T/b.h5" > "$T/b.out" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q "sweep_bad.yaml:4:.*users level '4'" "$T/b.out" && [ ! -e "$T/b.h5" ] && ok "bad users level" \
  || { cat "$T/b.out"; bad "bad users level (rc $rc)"; }
# The point's model (a zoo name or an ONNX file) reaches the users without a `model:` of
# their own (they took the base file's top-level model); users naming their own keep it. Before, every point ran
# the base file's model whatever `models` said, and recorded the point's.
cat > "$T/tb.yaml" <<EOF
model: lenet
seed: 3
nodes:
  - {name: dev1, tier: device, speed: 4}
  - {name: edge, tier: edge, speed: 1}
links:
  - {from: dev1, to: edge, latency: 2ms, bandwidth: 20Mbit/s}
users:
  - {name: own, model: lenet, plan: {cuts: ["3"], nodes: [dev1, edge]}, arrival: periodic, rate: 20, inferences: 5}
  - {name: top, planner: {name: neurosurgeon, nodes: [dev1, edge], load: none}, arrival: periodic, rate: 20, inferences: 5}
EOF
cat > "$T/mx.yaml" <<EOF
kind: users
name: model-factor
testbed: tb.yaml
models: [lenet, alexnet, $S/tests/data/onnx/tiny_dense.onnx]
users: [2]
host_gflops: 5
EOF
timeout 300 "$C" sweep "$T/mx.yaml" -o "$T/mx.h5" --quiet > "$T/mx.out" 2>&1 || { cat "$T/mx.out"; bad "model factor sweep"; }
$PY - "$T/mx.h5" <<'PY' && ok "the point's model reaches users without their own" || bad "model factor"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
names = {int(i): (n.decode() if isinstance(n, bytes) else n) for i, n in f["strings/models"][:]}
pts, st = f["sweep/points"][:], f["users/stats"][:]
assert len(pts) == 3 and not pts["failed"].any(), pts
got = {}
for p in pts:
    rows = st[st["attempt"] == p["attempt"]]
    got[names[int(p["model"])].split("/")[-1]] = sorted((int(r["user"]), names[int(r["model"])].split("/")[-1]) for r in rows)
print(got)
assert got == {"lenet": [(0, "lenet"), (1, "lenet")], "alexnet": [(0, "lenet"), (1, "alexnet")],
               "tiny_dense.onnx": [(0, "lenet"), (1, "tiny_dense.onnx")]}, got
lat = {names[int(p["model"])].split("/")[-1]: float(p["latency"]) for p in pts}
assert lat["alexnet"] > lat["lenet"], lat
PY
finish users_sweep
