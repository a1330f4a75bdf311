#!/bin/bash
# cleave run with users (issue 16): every user's inferences run on the MPI ranks of its
# plan; rank 0 composes the multi-user virtual clock. Checks: with a host profile, run
# and `cleave sim` give identical per-user tables (exact); measured, per-user medians
# agree with `cleave sim` within 30% (the host is shared: scheduling noise); /inferences
# holds one row per inference of every user with user, wait and stages; a planner user
# is planned as in `cleave sim`; errors.
. "$(dirname "$0")/script_lib.sh" "$@"
cd "$S" || exit 1
CFG=tests/data/users/small.yaml
timeout 300 "$C" profile lenet --reps 5 --warmup 1 -o "$T/p.h5" > /dev/null 2>&1 || fail "profile"
timeout 300 $MPI -n 3 "$C" run $CFG --profile "$T/p.h5" -o "$T/run.h5" > "$T/run.out" 2>&1 || { cat "$T/run.out"; fail "run --profile"; }
timeout 300 "$C" sim $CFG --profile "$T/p.h5" > "$T/sim.out" 2>&1 || fail "sim --profile"
grep -E '^u[0-9] ' "$T/run.out" > "$T/run.users"
grep -E '^u[0-9] ' "$T/sim.out" > "$T/sim.users"
[ "$(wc -l < "$T/run.users")" -eq 3 ] && cmp -s "$T/run.users" "$T/sim.users" && ok "profile: run == sim per user" \
  || { cat "$T/run.users" "$T/sim.users"; bad "profile: run != sim"; }
$PY - "$T/run.h5" <<'PY' && ok "records" || bad "records"
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
inf = f["inferences"][:]
users = [s.decode() if isinstance(s, bytes) else s for s in f["strings/users"]["name"]]
assert len(inf) == 80, len(inf)
for name in ("user", "model", "inference", "latency", "release", "finish", "wait", "stages"):
    assert name in inf.dtype.names, name
assert sorted(users) == ["u1", "u2", "u3"], users
assert np.all(inf["latency"] > 0) and np.all(inf["wait"] >= 0) and np.all(inf["stages"] == 2)
assert np.allclose(inf["finish"] - inf["release"], inf["latency"])
assert inf["wait"].max() > 0  # 120-150 requests/s on one edge queue
assert f.attrs["users"] == 3 and f.attrs["durations"] in (b"profile", "profile")
PY
# users on catalogue devices: dev1 a Raspberry Pi 4, the edge an i5-2500 (the users'
# simulation ignored device: before and ran them at this host's speed): run == sim
# exactly with the profile, the calibrations in /devices, dev1 slower than with speed: 4
sed 's/{name: dev1, tier: device, speed: 4}/{name: dev1, tier: device, device: raspi4}/; s/{name: edge, tier: edge, speed: 1}/{name: edge, tier: edge, device: i5-2500}/' $CFG > "$T/dev.yaml"
timeout 300 $MPI -n 3 "$C" run "$T/dev.yaml" --profile "$T/p.h5" -o "$T/dev.h5" > "$T/dev.out" 2>&1 || { cat "$T/dev.out"; bad "run on devices"; }
timeout 300 "$C" sim "$T/dev.yaml" --profile "$T/p.h5" > "$T/devsim.out" 2>&1 || bad "sim on devices"
grep -E '^(u[0-9]|dev[12]|edge) ' "$T/dev.out" > "$T/dev.rows"
grep -E '^(u[0-9]|dev[12]|edge) ' "$T/devsim.out" > "$T/devsim.rows"
[ "$(wc -l < "$T/dev.rows")" -eq 6 ] && cmp -s "$T/dev.rows" "$T/devsim.rows" && ok "devices: run == sim" \
  || { cat "$T/dev.rows" "$T/devsim.rows"; bad "devices: run != sim"; }
$PY - "$T/dev.h5" "$T/run.out" "$T/dev.out" <<'PY' && ok "devices: /devices provenance, dev1 slower" || bad "devices: provenance or speed"
import sys, h5py
a = h5py.File(sys.argv[1], "r")["/devices"].attrs
for k in ("device_dev1", "host_dev1", "host_times_dev1", "speed_dev1", "device_edge", "host_edge"):
    assert k in a, k
assert b"raspi4" in a["device_dev1"] and "device_dev2" not in a
busy = lambda f: float([l.split() for l in open(f) if l.startswith("dev1 ")][0][3])
assert busy(sys.argv[3]) > 1.5 * busy(sys.argv[2]), (busy(sys.argv[3]), busy(sys.argv[2]))
PY

# a planner user: rank 0 plans it with the measured load (as cleave sim), every rank runs it
P=tests/data/users/planned.yaml
timeout 300 $MPI -n 3 "$C" run $P --profile "$T/p.h5" > "$T/prun.out" 2>&1 || { cat "$T/prun.out"; fail "run planner user"; }
timeout 300 "$C" sim $P --profile "$T/p.h5" > "$T/psim.out" 2>&1 || fail "sim planner user"
grep -E '^(u[0-9]|p4) ' "$T/prun.out" > "$T/prun.users"
grep -E '^(u[0-9]|p4) ' "$T/psim.out" > "$T/psim.users"
grep -q "^planning: 1 planner users" "$T/prun.out" && [ "$(wc -l < "$T/prun.users")" -eq 4 ] && cmp -s "$T/prun.users" "$T/psim.users" \
  && grep -E '^  p4 +dads' "$T/prun.out" | cmp -s - <(grep -E '^  p4 +dads' "$T/psim.out") && ok "planner user: run == sim" \
  || { cat "$T/prun.out" "$T/psim.out"; bad "planner user: run != sim"; }
# measured: run vs sim (both measure this host) per user, medians within 30%
timeout 600 $MPI -n 3 "$C" run $CFG -o "$T/m.h5" > "$T/m.out" 2>&1 || { cat "$T/m.out"; fail "run measured"; }
timeout 300 "$C" sim $CFG --reps 10 > "$T/ms.out" 2>&1 || fail "sim measured"
$PY - "$T/m.out" "$T/ms.out" <<'PY' && ok "measured: run ~ sim" || bad "measured: run vs sim beyond 30%"
import sys
def rows(p):
    return {l.split()[0]: float(l.split()[5]) for l in open(p) if l[:1] == "u" and l.split()[0][1:].isdigit()}
r, s = rows(sys.argv[1]), rows(sys.argv[2])
assert set(r) == {"u1", "u2", "u3"} and set(s) == set(r)
for u in sorted(r):
    print(f"{u}: run p50 {r[u]:.3f} ms, sim p50 {s[u]:.3f} ms, {100 * (r[u] - s[u]) / s[u]:+.1f}%")
    assert abs(r[u] - s[u]) <= 0.3 * s[u]
PY
# errors: too few ranks, wall clock, --input, an existing output
timeout 120 $MPI -n 2 "$C" run $CFG > "$T/e1" 2>&1; [ $? -eq 2 ] && grep -q "at least 3 MPI ranks" "$T/e1" && ok "too few ranks" || bad "too few ranks"
timeout 120 $MPI -n 3 "$C" run $CFG --clock wall > "$T/e2" 2>&1; [ $? -eq 2 ] && grep -q "virtual clock only" "$T/e2" && ok "wall refused" || bad "wall refused"
timeout 120 $MPI -n 3 "$C" run $CFG --input "$S/tests/data/onnx/tiny_cnn.input.bin" > "$T/e4" 2>&1; [ $? -eq 2 ] && grep -q "no wall clock, --verify, --save-output or --input" "$T/e4" && ok "--input refused" || bad "--input refused"
timeout 120 $MPI -n 3 "$C" run $CFG -o "$T/run.h5" > "$T/e3" 2>&1; [ $? -eq 2 ] && grep -q "already exists" "$T/e3" && ok "existing output" || bad "existing output"
finish users_run
