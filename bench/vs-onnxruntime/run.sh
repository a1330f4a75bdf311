#!/usr/bin/env bash
# The speed race: cleave vs onnxruntime (CPU, Node binding) on the same ONNX files.
#
#   bench/vs-onnxruntime/run.sh [--build DIR] [--models "resnet18 ..."] [--threads "1 2"]
#                               [--rounds R] [--reps N] [--warmup W] [--models-dir DIR]
#                               [--backend auto|dnnl|portable] [--pin1 CPU] [--cap]
#
# One command: installs onnxruntime-node into bench/vs-onnxruntime/node_modules if
# needed (npm install --ignore-scripts: the CPU library ships in the package), exports
# the torchvision models with random weights if absent (scripts/make_onnx_models.py,
# Debian's python3-torch), checks that cleave's output equals onnxruntime's on the same
# input (max |diff| / max |ref|, also saved as NAME.ort.bin for `test_onnx --zoo`), then
# times both engines, alternating processes round by round so that machine noise hits
# both alike. Per model and thread count it prints both medians (of the per-round
# medians), the ratio cleave/ORT, GFLOP/s (2 * conv+fc MACs / latency), both engines'
# speed-up from 1 thread (cl_2t_x, ort_2t_x), cleave's inter-op branch groups
# (parallel/all, see docs/runtime.md), the noise (cl_spr, ort_spr: (max - min) / median
# of the per-round medians, in %), the host load at start and end and the
# onnxruntime-node version. --pin1 CPU runs both engines' 1-thread rounds on that CPU
# (taskset): on a VM whose vCPUs differ in noise, a process's median otherwise depends on
# where the scheduler put it (docs/onnx.md). --cap also times both engines on 1 thread
# pinned to each of CPU 0 and CPU 1 (alternating, same rounds and reps) and prints cl_cap /
# ort_cap in the 2-thread rows: the speed-up over the row's 1-thread reference that a
# perfectly balanced split over the two CPUs could reach, t1 * (1/t_cpu0 + 1/t_cpu1); on
# a VM whose CPUs differ in speed it is below 2, and a static split reaches at most
# t1 * 2 / max(t_cpu0, t_cpu1). cleave picks its convolution kernels per layer once per
# host (docs/runtime.md, "Kernel choice"): the first run after an upgrade measures them.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BUILD="$ROOT/build"
MODELS="resnet18 resnet50 vgg16 mobilenet_v2 googlenet inception_v3 densenet121"
THREADS="1 2"
ROUNDS=5
REPS=5
WARMUP=2
MDIR=""
BACKEND=auto
PIN1=""
CAP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILD="$2"; shift 2 ;;
    --models) MODELS="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --reps) REPS="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --models-dir) MDIR="$2"; shift 2 ;;
    --backend) BACKEND="$2"; shift 2 ;;
    --pin1) PIN1="$2"; shift 2 ;;
    --cap) CAP=1; shift ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) echo "run.sh: error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
MDIR="${MDIR:-$BUILD/onnx-models}"
CLEAVE="$BUILD/cleave"
PY=/usr/bin/python3
[ -x "$CLEAVE" ] || { echo "run.sh: error: $CLEAVE not found; build first (cmake --build $BUILD)" >&2; exit 2; }
if [ ! -d "$HERE/node_modules/onnxruntime-node" ]; then
  echo "# installing onnxruntime-node (npm install --ignore-scripts)" >&2
  (cd "$HERE" && npm install --ignore-scripts --no-audit --no-fund >&2)
fi
mkdir -p "$MDIR"
missing=""
for m in $MODELS; do [ -f "$MDIR/$m.onnx" ] || missing="$missing $m"; done
if [ -n "$missing" ]; then
  echo "# exporting$missing to $MDIR" >&2
  "$PY" "$ROOT/scripts/make_onnx_models.py" "$MDIR" $missing 2>&1 | grep -v -i -e warning -e '_C\._jit' >&2
fi

median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) {print "nan"} else if (NR%2) {print a[(NR+1)/2]} else {print (a[NR/2]+a[NR/2+1])/2}}'; }
field() { sed -n "s/^$1: //p"; }
spread() { sort -g | awk '{a[NR]=$1} END {if (NR < 2) {print "nan"} else {m = NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; printf "%.0f\n", 100*(a[NR]-a[1])/m}}'; }

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
ORTVER="$(node -p "require('$HERE/node_modules/onnxruntime-node/package.json').version")"
LOAD0="$(cut -d' ' -f1-3 /proc/loadavg)"
[ "$CAP" = 1 ] && [ "$(nproc)" -lt 2 ] && { echo "run.sh: error: --cap needs 2 CPUs" >&2; exit 2; }
capcols=""; [ "$CAP" = 1 ] && capcols="   cl_cap  ort_cap  cl_cpu0/1  ort_cpu0/1"
printf "%-14s %3s %11s %11s %7s %9s %9s %8s %8s %6s %6s %6s %10s%s\n" model thr cleave_ms ort_ms ratio cl_GF/s ort_GF/s cl_2t_x ort_2t_x groups cl_spr ort_spr max_relerr "$capcols"
for m in $MODELS; do
  f="$MDIR/$m.onnx"
  in="$MDIR/$m.input.bin"
  # Reference check on the generator's input.
  node "$HERE/ort_run.js" "$f" --input "$in" --save-output "$MDIR/$m.ort.bin" --threads 1 > /dev/null
  "$CLEAVE" infer "$f" --backend "$BACKEND" --input "$in" --save-output "$TMP/$m.cleave.bin" --reps 1 --warmup 0 > "$TMP/info"
  [ -n "${BVER:-}" ] || BVER="$(field backend_version < "$TMP/info")"
  macs="$(field macs < "$TMP/info")"
  err="$("$PY" -c "import numpy as np,sys; a=np.fromfile(sys.argv[1],'<f4'); b=np.fromfile(sys.argv[2],'<f4'); print('%.2e' % (abs(a-b).max()/abs(b).max()) if a.size==b.size else 'size!')" "$TMP/$m.cleave.bin" "$MDIR/$m.ort.bin")"
  t1=""; o1=""
  if [ "$CAP" = 1 ]; then
    for k in c0 c1 o0 o1; do : > "$TMP/$k"; done
    for r in $(seq "$ROUNDS"); do
      for cpu in 0 1; do
        taskset -c "$cpu" "$CLEAVE" infer "$f" --backend "$BACKEND" --input "$in" --threads 1 --reps "$REPS" --warmup "$WARMUP" | field latency_ms_median >> "$TMP/c$cpu"
        taskset -c "$cpu" node "$HERE/ort_run.js" "$f" --input "$in" --threads 1 --repeat "$REPS" --warmup "$WARMUP" |
          sed -n 's/.*"median_ms":\([0-9.e+-]*\).*/\1/p' >> "$TMP/o$cpu"
      done
    done
    cc0="$(median < "$TMP/c0")"; cc1="$(median < "$TMP/c1")"; oc0="$(median < "$TMP/o0")"; oc1="$(median < "$TMP/o1")"
  fi
  for t in $THREADS; do
    : > "$TMP/c"; : > "$TMP/o"
    pin=""
    [ "$t" = 1 ] && [ -n "$PIN1" ] && pin="taskset -c $PIN1"
    for r in $(seq "$ROUNDS"); do
      $pin "$CLEAVE" infer "$f" --backend "$BACKEND" --input "$in" --threads "$t" --reps "$REPS" --warmup "$WARMUP" | field latency_ms_median >> "$TMP/c"
      $pin node "$HERE/ort_run.js" "$f" --input "$in" --threads "$t" --repeat "$REPS" --warmup "$WARMUP" |
        sed -n 's/.*"median_ms":\([0-9.e+-]*\).*/\1/p' >> "$TMP/o"
    done
    c="$(median < "$TMP/c")"; o="$(median < "$TMP/o")"
    cs="$(spread < "$TMP/c")"; os="$(spread < "$TMP/o")"
    [ -z "$t1" ] && t1="$c" && o1="$o"
    grp="$("$CLEAVE" infer "$f" --backend "$BACKEND" --input "$in" --threads "$t" --reps 1 --warmup 0 |
           awk -F': ' '/^branch_groups:/ {g=$2} /^branch_groups_parallel:/ {p=$2} END {print p "/" g}')"
    awk -v m="$m" -v t="$t" -v c="$c" -v o="$o" -v macs="$macs" -v t1="$t1" -v o1="$o1" -v grp="$grp" -v err="$err" \
        -v cs="$cs" -v os="$os" -v cap="$CAP" -v cc0="${cc0:-}" -v cc1="${cc1:-}" -v oc0="${oc0:-}" -v oc1="${oc1:-}" 'BEGIN {
      printf "%-14s %3d %11.2f %11.2f %7.3f %9.1f %9.1f %8.2f %8.2f %6s %5s%% %5s%% %10s", m, t, c, o, c / o,
             2 * macs / (c * 1e6), 2 * macs / (o * 1e6), t1 / c, o1 / o, grp, cs, os, err
      if (cap == 1) {
        if (t == 2) printf " %8.2f %8.2f %5.2f/%-5.2f %5.2f/%-5.2f", t1 * (1 / cc0 + 1 / cc1), o1 * (1 / oc0 + 1 / oc1), cc0, cc1, oc0, oc1
        else printf " %8s %8s %5.2f/%-5.2f %5.2f/%-5.2f", "-", "-", cc0, cc1, oc0, oc1
      }
      printf "\n" }'
  done
done
echo "# ratio = cleave/ORT latency (goal: <= 0.9 on 1 thread for every model);" \
     "cl_2t_x = cleave 1-thread / this-row latency (goal: >= 1.85 at 2 threads)"
[ "$CAP" = 1 ] && echo "# cl_cap, ort_cap = 1-thread reference x (1/t_cpu0 + 1/t_cpu1): the speed-up a perfectly" \
     "balanced 2-thread split could reach on these two CPUs; cpu0/1 = 1-thread medians (ms) pinned to each"
echo "# medians of $ROUNDS alternating rounds x $REPS reps (after $WARMUP warm-up runs each);" \
     "host: $(nproc) cores, load $LOAD0 at start, $(cut -d' ' -f1-3 /proc/loadavg) at end;" \
     "cleave backend: ${BVER:-?}; onnxruntime-node $ORTVER${PIN1:+; 1-thread rounds pinned to CPU $PIN1}"
