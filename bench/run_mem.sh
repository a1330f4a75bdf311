#!/bin/bash
# `cleave run` memory per rank (issue 16): N ranks (default 64), oversubscribed on this
# host, virtual clock, MODEL (default mobilenet_v2) spread over N nodes in contiguous
# layer ranges, all nodes on one switch (routes through it). Per rank: peak RSS
# (ru_maxrss, includes the shared libraries' pages, which all ranks of a host share) and
# peak private anonymous memory (RssAnon sampled every 20 ms: the rank's own heap).
#   bench/run_mem.sh [BUILD_DIR] [N] [MODEL]
set -eu
B=${1:-build}; N=${2:-64}; M=${3:-mobilenet_v2}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 T
L=$("$B/cleave" models "$M" | awk 'NR > 1 && $1 ~ /^[0-9]+$/ {n = $1} END {print n}') # last graph index
/usr/bin/python3 - "$N" "$L" "$M" > "$T/tb.yaml" <<'PY'
import sys
n, last, model = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
print("model: %s\nseed: 1\nclock: virtual\nnodes:" % model)
for r in range(n):
    print("  - {name: n%d, tier: edge, speed: 1}" % r)
print("network: [{name: sw, kind: switch}]\nlinks:")
for r in range(n):
    print("  - {from: n%d, to: sw, latency: 1ms, bandwidth: 1Gbit/s}" % r)
print("plan:")
for r in range(n):  # contiguous index ranges, graph node 0 (the input) on n0
    a, b = r * (last + 1) // n, (r + 1) * (last + 1) // n - 1
    if b >= a:
        print('  - {node: n%d, layers: "%d-%d"}' % (r, a, b))
print("workload: {inferences: 2}")
PY
# Each rank: time(1) for ru_maxrss, plus a sampler of its RssAnon.
mpiexec --oversubscribe -n "$N" bash -c '
  r=$OMPI_COMM_WORLD_RANK
  /usr/bin/time -f %M -o "$T/rss.$r" "$0" run "$1" --quiet & tp=$!
  sleep 0.05; p=$(pgrep -P $tp | head -1); peak=0
  while kill -0 $tp 2>/dev/null; do
    a=$(awk "/RssAnon/ {print \$2}" /proc/$p/status 2>/dev/null || echo 0)
    [ "${a:-0}" -gt "$peak" ] && peak=$a
    sleep 0.02
  done
  wait $tp; rc=$?; echo $peak > "$T/anon.$r"; exit $rc' "$(realpath "$B/cleave")" "$T/tb.yaml" > "$T/out" 2>&1 ||
  { tail -20 "$T/out"; exit 1; }
/usr/bin/python3 - "$T" "$N" "$M" <<'PY'
import glob, sys
def stats(kind):
    v = sorted(int(open(f).read()) / 1024 for f in glob.glob("%s/%s.*" % (sys.argv[1], kind)))
    return "median %.1f min %.1f max %.1f sum %.0f MB" % (v[len(v) // 2], v[0], v[-1], sum(v))
print("cleave run %s ranks, %s: peak RSS per rank %s; peak private (RssAnon) per rank %s"
      % (sys.argv[2], sys.argv[3], stats("rss"), stats("anon")))
PY
