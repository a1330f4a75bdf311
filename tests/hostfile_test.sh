#!/bin/bash
# `cleave run` and `cleave sweep` placed by an Open MPI hostfile (scripts/slurm/README.md),
# as far as one machine allows: a hostfile of localhost slots (Open MPI refuses two
# aliases of one host). Checks that the hostfile is in force (4 slots: 5 ranks are
# refused without --oversubscribe), that a wall run over it records one clock offset per
# rank within its RTT bound, and that a sweep over it completes.
. "$(dirname "$0")/script_lib.sh" "$@"
cd "$S"
printf 'localhost slots=4\n' > "$T/hosts"
MPI="mpiexec --allow-run-as-root --hostfile $T/hosts"
timeout 60 $MPI -n 4 bash -c 'echo "$OMPI_COMM_WORLD_RANK $OMPI_COMM_WORLD_LOCAL_RANK"' | sort > "$T/ranks" || fail "mpiexec with a hostfile"
[ "$(tr '\n' ' ' < "$T/ranks")" = "0 0 1 1 2 2 3 3 " ] || { cat "$T/ranks"; fail "hostfile placement"; }
if OMPI_MCA_rmaps_base_oversubscribe=0 timeout 60 $MPI -n 5 true > "$T/over.out" 2>&1; then fail "5 ranks on 4 hostfile slots"; fi
timeout 300 $MPI -n 4 "$C" run tests/data/runtime/wall_dumbbell.yaml -o "$T/run.h5" --force > "$T/run.out" 2>&1 ||
  { cat "$T/run.out"; fail "cleave run over the hostfile"; }
/usr/bin/python3 - "$T/run.h5" <<'PY' || fail "clock provenance"
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
p = f["/provenance"].attrs
off = np.array([float(v) for v in p["clock_offsets_s"].decode().split(",")])
rtt = np.array([float(v) for v in p["clock_rtt_s"].decode().split(",")])
print("offsets us", np.round(off * 1e6, 3), "rtt us", np.round(rtt * 1e6, 3))
assert len(off) == 4 and int(p["n_ranks"]) == 4
assert (np.abs(off) <= rtt / 2 + 1e-9).all()  # one host: the true offset is 0
assert p["clock_applied_s"].decode() == "0,0,0,0"  # one host: one CLOCK_MONOTONIC, nothing applied
x = f["/transfers"][:]
print("wall errors ms", np.round(x["wall_error"] * 1e3, 3))
assert len(f["/transfers"]) == 16
PY
timeout 300 $MPI -n 2 "$C" sweep tests/data/experiments/sweep_plans.yaml -o "$T/sw.h5" --quiet > "$T/sw.out" 2>&1 ||
  { cat "$T/sw.out"; fail "cleave sweep over the hostfile"; }
/usr/bin/python3 -c "import h5py,sys; n=len(h5py.File(sys.argv[1])['/sweep/points']); print('sweep points', n); sys.exit(n < 6)" "$T/sw.h5" ||
  fail "sweep points"
echo "ok: cleave run and cleave sweep over a hostfile"
