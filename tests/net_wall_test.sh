#!/bin/bash
# Routed transfers in wall mode: dev -> sw -> srv (a network element between two ranks).
# Each transfer's measured arrival is within 2% (or 1 ms) of the route model
# (latency summed over the hops, bytes through the bottleneck); one retry on a loaded host.
set -u
B="$1"; S="$2"
cd "$S"
C="$B/cleave"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
MPI="mpiexec --oversubscribe --allow-run-as-root"
check() {
  timeout 300 $MPI -n 2 "$C" run tests/data/runtime/wall_routed.yaml -o "$T/w.h5" --force > "$T/w.out" 2>&1 || { cat "$T/w.out"; return 1; }
  /usr/bin/python3 - "$T/w.h5" <<'PY'
import sys, h5py, numpy as np
x = h5py.File(sys.argv[1], "r")["/transfers"][:]
assert len(x) == 4, len(x)
delay = x["latency"] + x["tx_time"]
err = np.abs(x["wall_error"])
print("routed wall transfers: delay ms", np.round(delay * 1e3, 2), "error ms", np.round(err * 1e3, 3))
assert np.allclose(x["latency"], 0.015, atol=1e-12), x["latency"]  # 10 + 5 ms over the route
assert (delay >= 0.010).all()
bound = np.maximum(0.02 * delay, 0.001)
assert np.median(err / bound) <= 1.0 and (err <= 3 * bound).all() and (err > bound).sum() <= 1
PY
}
if check || check; then echo "ok: routed wall transfers within 2%"; exit 0; fi
echo "FAIL: routed wall transfers"; exit 1
