#!/bin/bash
# Crash safety of the record store: SIGKILL a writer mid-stream (several times, at
# different moments) and check with h5py (an independent reader) that every record it
# reported as flushed is present, that the records are exactly the written sequence,
# and that the file reopens: for reading (SWMR read), and for appending (recovery),
# after which any HDF5 tool opens it normally.
# Usage: store_kill_test.sh BUILD_DIR
#        store_kill_test.sh BUILD_DIR --mpi MPIEXEC...   (per-rank files + merge + report)
set -u
BUILD=${1:?build dir}
W="$BUILD/tests/store_writer"
PY=/usr/bin/python3
DIR=$(mktemp -d /tmp/cl_store_kill.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
fail=0

if [ "${2:-}" = "--mpi" ]; then
  shift 2
  "$@" -n 3 "$W" sample "$DIR/run.h5" --mpi > /dev/null || { echo "mpi writers failed"; exit 1; }
  "$BUILD/cleave" merge "$DIR/merged.h5" "$DIR"/run.rank0.h5 "$DIR"/run.rank1.h5 "$DIR"/run.rank2.h5 || exit 1
  "$BUILD/cleave" report "$DIR/merged.h5" > "$DIR/report.txt" || exit 1
  grep -q "/profile/summary  30 records" "$DIR/report.txt" || { echo "report lacks the merged table"; exit 1; }
  "$PY" - "$DIR/merged.h5" <<'EOF' || exit 1
import sys, h5py
f = h5py.File(sys.argv[1], "r")
s, src = f["/profile/summary"][:], f["/merge/sources"][:]
ok = len(s) == 30 and list(src["rank"]) == [0, 1, 2] and list(src["n_ranks"]) == [3, 3, 3]
ok &= sorted(set(s["src"].tolist())) == [0, 1, 2] and len(f["/provenance/sources"]) == 3
print("mpi merge:", "ok" if ok else "FAILED")
sys.exit(0 if ok else 1)
EOF
  exit 0
fi

verify() { # FILE MIN_COUNT SWMR(0/1)
  "$PY" - "$1" "$2" "$3" <<'EOF'
import sys, h5py, numpy as np
path, flushed, swmr = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
f = h5py.File(path, "r", swmr=True) if swmr else h5py.File(path, "r")
d = f["/seq"][:]
n = len(d)
i = np.arange(n, dtype=np.int64)
ok = n >= flushed
ok &= bool(np.array_equal(d["seq"], i))
ok &= bool(np.array_equal(d["x"], 0.5 * i))
ok &= bool(np.array_equal(d["y"], ((i * i) % 1000000000).astype(float)))
ok &= bool(np.array_equal(d["a"], (i % 1000).astype(np.int32)))
ok &= bool(np.array_equal(d["b"], (i.astype(np.float32) / np.float32(8))))
ok &= bool(np.array_equal(d["c"], ~i.astype(np.uint64)))
ok &= all(d["name"][k] == b"r%d" % k for k in range(0, n, max(1, n // 1000)))
units = [u.decode() for u in f["/seq"].attrs["units"]]
ok &= units[1] == "s"
f.close()
print("records on disk %d, reported flushed %d: %s" % (n, flushed, "ok" if ok else "FAILED"))
sys.exit(0 if ok else 1)
EOF
}

for delay in 0.15 0.3 0.45 0.6 0.8; do
  out="$DIR/kill.h5"
  rm -f "$out"
  "$W" forever "$out" 1000 100 > "$DIR/count.txt" &
  pid=$!
  # The kill lands $delay s after the writer's first completed flush: on a loaded
  # machine process start-up alone can take longer than the shortest delay.
  for _ in $(seq 1 200); do
    grep -qE '^[0-9]+$' "$DIR/count.txt" && break
    sleep 0.05
  done
  sleep "$delay"
  kill -9 "$pid"
  wait "$pid" 2>/dev/null
  # The last complete line is the last count whose flush returned.
  flushed=$(grep -E '^[0-9]+$' "$DIR/count.txt" | tail -n 1)
  flushed=${flushed:-0}
  if [ "$flushed" -le 0 ]; then echo "writer flushed nothing before the kill (delay $delay)"; fail=1; continue; fi
  echo "kill after ${delay}s:"
  verify "$out" "$flushed" 1 || fail=1
  # Recovery: reopen for appending, add records, close cleanly; then a plain open works.
  n2=$("$W" resume "$out" 2500) || { echo "resume failed"; fail=1; continue; }
  verify "$out" "$n2" 0 || fail=1
  # the closed file's per-block CRC-32s cover every record, including the killed run's
  PYTHONPATH="$(dirname "$0")/../scripts" "$PY" -c "import sys,h5py,cleave_h5; f=h5py.File(sys.argv[1],'r'); n=cleave_h5.verify(f['/seq']); sys.exit(0 if n==int(sys.argv[2]) else 1)" "$out" "$n2" ||
    { echo "checksums of the recovered file do not cover its $n2 records"; fail=1; }
  h5dump -H "$out" > /dev/null || { echo "h5dump cannot open the recovered file"; fail=1; }
done
[ $fail -eq 0 ] && echo "store_kill_test: ok"
exit $fail
