#!/bin/sh
# Sweep throughput, before and after work reuse (docs/runtime.md, "Work reuse in sweeps"):
# points per second of the Neurosurgeon (experiments/neurosurgeon.yaml) and Scission
# (experiments/scission.yaml) experiments, same host, same run, in three modes:
#   off      executors made per point (CLEAVE_EXEC_CACHE_MB=0: the old behaviour)
#   reuse    executors cached across points (the default)
#   profile  `profiles:` mode: one `cleave profile` per model (reported with and
#            without its time), points composed without execution
# Each experiment is cut to its first K plans per model (grid order, every factor
# level), so the points keep the order a full sweep has (reuse depends on it); the
# modes run in alternating rounds and points/s = points / wall seconds of the
# `cleave sweep` processes. Also checks that off and reuse give the same records
# apart from timing (ids, inference counts, bytes).
#
#   bench/bench_sweep.sh [-b BUILD_DIR] [-k PLANS] [-r ROUNDS] [-o WORK_DIR]
# Needs /usr/bin/python3 with PyYAML and h5py (Debian: python3-yaml python3-h5py).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=$here/build k=6 rounds=1 work=
while getopts b:k:r:o: opt; do
  case $opt in
    b) build=$OPTARG ;; k) k=$OPTARG ;; r) rounds=$OPTARG ;; o) work=$OPTARG ;;
    *) echo "usage: $0 [-b BUILD_DIR] [-k PLANS] [-r ROUNDS] [-o WORK_DIR]" >&2; exit 2 ;;
  esac
done
cleave=$build/cleave
[ -x "$cleave" ] || { echo "bench_sweep: no $cleave (build the cleave target)" >&2; exit 2; }
[ -n "$work" ] || work=$(mktemp -d /tmp/bench_sweep.XXXXXX)
mkdir -p "$work"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
py=/usr/bin/python3

# Derived experiments: one per (experiment, model), the first K plans as explicit plans.
$py - "$cleave" "$here" "$work" "$k" <<'EOF'
import subprocess, sys, yaml, os
cleave, here, work, k = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
for exp in ("neurosurgeon", "scission"):
    path = f"{here}/experiments/{exp}.yaml"
    e = yaml.safe_load(open(path))
    levels = 1
    for f in e.get("factors", []):
        levels *= len(f["levels"])
    for m in e["models"]:
        tag = f"{exp}-{m.replace('/', '_')}"
        d = dict(e)
        d["testbed"] = os.path.normpath(os.path.join(os.path.dirname(path), e["testbed"]))
        d["models"] = [m]
        yaml.safe_dump(d, open(f"{work}/{tag}.yaml", "w"), default_flow_style=None, sort_keys=False)
        full = f"{work}/{tag}.yaml"
        n = len(subprocess.run([cleave, "sweep", full, "--list"], capture_output=True, text=True,
                               check=True).stdout.split()) // 2
        plans = []
        for j in range(min(k, n // levels)):  # grid order: plan-major, factor levels fastest
            text = subprocess.run([cleave, "sweep", full, "--print-point", str(j * levels)],
                                  capture_output=True, text=True, check=True).stdout
            plans.append(yaml.safe_load(text)["plan"])
        d["plans"] = plans
        yaml.safe_dump(d, open(f"{work}/{tag}.yaml", "w"), default_flow_style=None, sort_keys=False)
        prof = dict(d)
        prof["profiles"] = {m: f"{work}/{tag}-profile.h5"}
        yaml.safe_dump(prof, open(f"{work}/{tag}-p.yaml", "w"), default_flow_style=None, sort_keys=False)
        print(f"{tag} {m} {len(plans) * levels}", file=open(f"{work}/list", "a"))
EOF

now() { date +%s.%N; }
minus() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a - b}'; }
# run TAG MODE ROUND: one cleave sweep; appends "exp mode points seconds" to $work/times
run() {
  tag=$1 mode=$2 r=$3
  exp=${tag%%-*}
  model=$(awk -v t="$tag" '$1 == t {print $2}' "$work/list")
  pts=$(awk -v t="$tag" '$1 == t {print $3}' "$work/list")
  log=$work/$tag-$mode-$r.log
  t0=$(now)
  case $mode in
    off) CLEAVE_EXEC_CACHE_MB=0 "$cleave" sweep "$work/$tag.yaml" -o "$work/$tag-off-$r.h5" --force --quiet ;;
    reuse) "$cleave" sweep "$work/$tag.yaml" -o "$work/$tag-reuse-$r.h5" --force --quiet ;;
    profile)
      "$cleave" profile "$model" -o "$work/$tag-profile.h5" --force > /dev/null
      tp=$(now)
      echo "$exp profiling 0 $(minus "$tp" "$t0")" >> "$work/times"
      "$cleave" sweep "$work/$tag-p.yaml" -o "$work/$tag-profile-$r.h5" --force --quiet ;;
  esac > "$log" 2>&1 || { cat "$log" >&2; exit 1; }
  t1=$(now)
  echo "$exp $mode $pts $(minus "$t1" "$t0")" >> "$work/times"
}

: > "$work/times"
r=1
while [ "$r" -le "$rounds" ]; do
  for tag in $(awk '{print $1}' "$work/list"); do
    for mode in off reuse profile; do run "$tag" "$mode" "$r"; done
  done
  r=$((r + 1))
done

echo "host: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) (at the end), $(date -u +%FT%TZ)"
$py - "$work" "$rounds" <<'EOF'
import sys, glob, h5py, numpy as np
work, rounds = sys.argv[1], int(sys.argv[2])
rows = [l.split() for l in open(f"{work}/times")]
tot = {}
for exp, mode, pts, s in rows:
    t = tot.setdefault((exp, mode), [0, 0.0])
    t[0] += int(pts); t[1] += float(s)
# profile: with the `cleave profile` runs counted; profile-sweep: without (a full sweep
# profiles each model once and reuses it for all its points)
for exp in ("neurosurgeon", "scission"):
    n, s = tot[(exp, "profile")]
    tot[(exp, "profile-sweep")] = [n, s - tot.get((exp, "profiling"), [0, 0.0])[1]]
print(f"{'experiment':<14}{'mode':<15}{'points':>7}{'wall_s':>9}{'points/s':>10}{'x off':>8}{'median_pt_s':>13}")
for exp in ("neurosurgeon", "scission"):
    base = tot[(exp, "off")][0] / tot[(exp, "off")][1]
    for mode in ("off", "reuse", "profile", "profile-sweep"):
        n, s = tot[(exp, mode)]
        m = mode.split("-")[0]
        sec = [p for f in sorted(glob.glob(f"{work}/{exp}-*-{m}-*.h5")) for p in h5py.File(f, "r")["/sweep/points"]["seconds"]]
        print(f"{exp:<14}{mode:<15}{n:>7}{s:>9.1f}{n / s:>10.3f}{n / s / base:>8.2f}{np.median(sec):>13.3f}")
# off and reuse: the same records apart from timing
bad = 0
for f in sorted(glob.glob(f"{work}/*-off-*.h5")):
    g = f.replace("-off-", "-reuse-")
    a, b = h5py.File(f, "r"), h5py.File(g, "r")
    ia, ib = sorted(a["/sweep/points"]["id"]), sorted(b["/sweep/points"]["id"])
    xa, xb = a["/inferences"][:], b["/inferences"][:]
    same = ia == ib and len(xa) == len(xb) and (np.sort(xa["bytes"]) == np.sort(xb["bytes"])).all()
    bad += not same
print("off vs reuse records (ids, inferences, bytes):", "identical" if not bad else f"{bad} files DIFFER")
sys.exit(1 if bad else 0)
EOF
