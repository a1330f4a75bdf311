#!/usr/bin/env bash
# One error path (issue 13): bad input to report, merge, profile and plan prints one line
# "cleave: error: CMD: ..." (never the old "cleave CMD: error:") and exits 2.
#   usage: cli_errors_test.sh BUILD_DIR SOURCE_DIR        (ctest: cli_errors, label unit)
. "$(dirname "$0")/script_lib.sh" "$@"
cd "$S"
# expected stderr (grep -E), then the arguments
expect2() {
  local want="$1"; shift
  "$C" "$@" > "$T/out" 2> "$T/err"; local rc=$?
  local n; n=$(grep -c "^cleave: error: " "$T/err")
  if [ $rc = 2 ] && [ "$n" -ge 1 ] && grep -qE "^cleave: error: $want" "$T/err" &&
     ! grep -qE "^cleave [a-z ]+: error:" "$T/err"; then ok "$* -> exit 2, $(grep -m1 '^cleave: error' "$T/err")"
  else bad "$* (rc $rc)"; cat "$T/err"; fi
}
expect2 "report: missing FILE.h5" report
expect2 "report: unknown option '--bogus'" report --bogus
expect2 "report: --format expects" report x.h5 --format xml
expect2 "merge: need OUT.h5" merge
expect2 "merge: unknown option '--zz'" merge --zz
expect2 "cannot open '.*missing.h5': no such file or not readable" merge "$T/o.h5" "$T/missing.h5"
expect2 "profile: no model given" profile
expect2 "profile: no output file given" profile resnet18
expect2 "plan: unknown option '--zz'" plan --zz
expect2 "plan: unknown planner 'nosuch'" plan nosuch
expect2 "plan coedge: --devices is required" plan coedge resnet18
expect2 "plan coedge: unknown planner 'nope' \(coedge, .*all\)" plan coedge --devices x.yaml --planner nope resnet18
expect2 "plan coedge: --mode expects layer or fused" plan coedge --devices x.yaml --mode diagonal resnet18
# damaged or non-HDF5 input files are bad input too (exit 2), never a raw HDF5 stack
echo "not hdf5" > "$T/junk.h5"
expect2 "cannot open '.*junk.h5': not an HDF5 file, or damaged" report "$T/junk.h5"
expect2 "cannot open '.*junk.h5': not an HDF5 file, or damaged" merge "$T/m.h5" "$T/junk.h5"
expect2 "cannot open '.*junk.h5': not an HDF5 file, or damaged" sim configs/demo-3tier.yaml --profile "$T/junk.h5"
! grep -q "HDF5-DIAG" "$T/err" && ok "no raw HDF5 stack" || bad "raw HDF5 stack printed"
# trace CSV values out of range: FILE:LINE naming the column
printf 'model: lenet\nnodes:\n  - {name: a, tier: device}\n  - {name: b, tier: edge}\nlinks:\n  - {from: a, to: b, latency: 5ms, trace: t.csv}\n' > "$T/tb.yaml"
printf 'time_s,Mbit/s\n0,10\n1,nan\n' > "$T/t.csv"
expect2 ".*t.csv:3: column Mbit/s: 'nan' is not a finite number \\(bandwidth trace of field 'links\\[0\\].trace'" sim "$T/tb.yaml"
printf '0,10\n1,2e7\n' > "$T/t.csv"
expect2 ".*t.csv:2: column Mbit/s: 2e\\+07 is out of range" sim "$T/tb.yaml"
# a device model whose 'derived' is a map, not a list of classes: file:line, no crash (the
# loader dereferenced a NULL item: SIGSEGV; found by fuzz_device)
printf 'name: d\nthroughput: {conv: 1, dwconv: 1, conv1x1: 1, fc: 1, eltwise: 1Gbit/s, copy: 1Gbit/s}\nderived: {conv: 1}\noverhead: 1us\n' > "$T/dev.yaml"
printf 'model: lenet\nnodes:\n  - {name: a, tier: device, device: %s}\n  - {name: b, tier: edge}\nlinks:\n  - {from: a, to: b, latency: 5ms, bandwidth: 10Mbit/s}\nplan: {cuts: [input]}\n' "$T/dev.yaml" > "$T/tbd.yaml"
expect2 ".*dev.yaml:3:.*expected a (sequence|list)" sim "$T/tbd.yaml"
# infer --save-output never replaces a file without --force, and writes it whole with it
echo keep > "$T/y.bin"
expect2 "infer --save-output: output file '.*y.bin' already exists \\(use --force" infer lenet --reps 1 --warmup 0 --save-output "$T/y.bin"
# devices: a missing or bad Scission folder is bad input; emulate keeps existing outputs
expect2 "cannot open Scission CSV '.*nosuch/device-raspi4.csv'" devices check --scission "$T/nosuch"
expect2 "cannot open Scission CSV '.*nosuch/device-raspi4.csv'" devices fit --scission "$T/nosuch" --out "$T"
expect2 "devices check: --scission DIR is required" devices check
mkdir -p "$T/emu"
expect2 "devices: --out '.*nodir' is not a directory" devices emulate --scission tests/data/scission --out "$T/nodir"
if "$C" devices emulate --scission tests/data/scission --out "$T/emu" > /dev/null 2>&1 && [ -s "$T/emu/device-raspi4.csv" ]; then
  ok "devices emulate writes"; else bad "devices emulate"; fi
expect2 "devices: output file '.*emu/device-raspi4.csv' already exists \\(use --force" devices emulate --scission tests/data/scission --out "$T/emu"
"$C" devices emulate --scission tests/data/scission --out "$T/emu" --force > /dev/null 2>&1 && ok "devices emulate --force" || bad "devices emulate --force"
printf 'model,block,input_layer,output_layer,seconds,output_bytes\nvgg16,zero,1,2,3,4\n' > "$T/bad/device-raspi4.csv" 2> /dev/null ||
  { mkdir -p "$T/bad"; printf 'model,block,input_layer,output_layer,seconds,output_bytes\nvgg16,zero,1,2,3,4\n' > "$T/bad/device-raspi4.csv"; }
expect2 ".*bad/device-raspi4.csv:2: expected model,block" devices check --scission "$T/bad"
[ "$(cat "$T/y.bin")" = keep ] && ok "infer: existing --save-output kept" || bad "infer: --save-output replaced without --force"
if "$C" infer lenet --reps 1 --warmup 0 --save-output "$T/y.bin" --force > /dev/null 2>&1 && [ "$(stat -c %s "$T/y.bin")" = 40 ] &&
   [ "$(ls "$T" | grep -c '^y.bin')" = 1 ]; then ok "infer --save-output --force: 10 floats, no temporary left"
else bad "infer --save-output --force"; ls -la "$T"; fi
# CLEAVE_LOG=1 shows the info lines (what the executor measured and chose), unset none,
# a bad value one warning
if "$C" infer lenet --reps 1 --warmup 0 --backend dnnl > /dev/null 2>&1; then
  CLEAVE_CALIB_DIR="$T/log1" CLEAVE_LOG=1 "$C" infer lenet --reps 1 --warmup 0 > /dev/null 2> "$T/err"
  grep -q "^cleave: executor (oneDNN): timed kernel candidates" "$T/err" && ok "CLEAVE_LOG=1: info lines" || { bad "CLEAVE_LOG=1"; cat "$T/err"; }
  CLEAVE_CALIB_DIR="$T/log0" "$C" infer lenet --reps 1 --warmup 0 > /dev/null 2> "$T/err"
  [ ! -s "$T/err" ] && ok "CLEAVE_LOG unset: quiet" || { bad "CLEAVE_LOG unset"; cat "$T/err"; }
fi
CLEAVE_LOG=loud "$C" infer lenet --reps 1 --warmup 0 > /dev/null 2> "$T/err"
[ "$(grep -c "warning: CLEAVE_LOG='loud' is not 0, 1 or 2" "$T/err")" = 1 ] && ok "CLEAVE_LOG=loud: one warning" || { bad "CLEAVE_LOG=loud"; cat "$T/err"; }
# every command and subcommand answers --help with its usage on stdout and exit 0
for c in models infer profile report merge run sim plan sweep devices calibrate "devices list" "devices fit" \
         "devices check" "devices emulate" "plan scission" "plan neurosurgeon" "plan dads" "plan coedge" \
         "plan modnn" "plan deepthings" "plan local" "plan cloud" "plan compare"; do
  # shellcheck disable=SC2086
  "$C" $c --help > "$T/out" 2> "$T/err"; rc=$?
  if [ $rc = 0 ] && grep -q "usage" "$T/out" && [ ! -s "$T/err" ]; then ok "$c --help"
  else bad "$c --help (rc $rc)"; head -3 "$T/err"; fi
done
finish cli_errors
