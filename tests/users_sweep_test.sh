#!/bin/bash
# Sweep kind `users` (issue 16): user counts x loads on a testbed with users, under MPI.
# Checks: one /users/stats row per (point, user); p50 <= p95 <= p99 <= max; more load
# means more waiting for the same users; the points' latency is the mean over their
# inferences; --resume runs nothing; a users level above the base testbed's is a
# FILE:LINE error (exit 2).
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
finish users_sweep
