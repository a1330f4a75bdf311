#!/usr/bin/env bash
# Output safety and input cross-checks of the CLI (ctest: outputs_cli, label mpi).
#   usage: outputs_test.sh BUILD_DIR SOURCE_DIR
# No output replaces a file without --force (-o, --save-output); a killed `cleave run`
# leaves nothing at its output path and the rerun works; a second writer is refused while
# the first runs; `sweep --resume` refuses a run output; a profile of another model or
# with rows missing is refused by run and sim; `sim --compare` refuses a run of another
# config; two run outputs merge; provenance n_ranks is the job's; report summarises
# durations; a corrupted chunk makes report fail naming the table.
. "$(dirname "$0")/script_lib.sh" "$@"
cd "$S"
CFG=configs/demo-3tier.yaml
run3() { timeout 300 $MPI -n 3 "$C" run "$@"; }

# 1. outputs are never replaced without --force
run3 $CFG -o "$T/a.h5" --quiet --inferences 2 --save-output "$T/y.bin" > "$T/a.out" 2>&1 || { bad "first run"; cat "$T/a.out"; }
cp "$T/y.bin" "$T/y.ref"
run3 $CFG -o "$T/a.h5" --quiet --inferences 2 > "$T/e1.out" 2>&1; rc=$?
if [ $rc = 2 ] && grep -q "cleave: error: .*already exists (use --force" "$T/e1.out"; then ok "-o exists: exit 2"
else bad "-o exists (rc $rc)"; cat "$T/e1.out"; fi
echo junk > "$T/y2.bin"
run3 $CFG --quiet --inferences 2 --save-output "$T/y2.bin" > "$T/e2.out" 2>&1; rc=$?
if [ $rc = 2 ] && grep -q "already exists" "$T/e2.out" && [ "$(cat "$T/y2.bin")" = junk ]; then ok "--save-output exists: exit 2, file kept"
else bad "--save-output exists (rc $rc)"; cat "$T/e2.out"; fi
if run3 $CFG --quiet --inferences 2 --save-output "$T/y2.bin" --force > "$T/e3.out" 2>&1 && cmp -s "$T/y2.bin" "$T/y.ref"; then
  ok "--save-output --force replaces"; else bad "--save-output --force"; cat "$T/e3.out"; fi

# --emit-config and infer --save-output likewise
timeout 120 "$C" profile lenet --reps 2 --warmup 1 --slowdown 4 -o "$T/ld.h5" > /dev/null 2>&1 && cp "$T/ld.h5" "$T/lc.h5" || bad "lenet profile"
echo old > "$T/e.yaml"
plan() { "$C" plan dads --profile device="$T/ld.h5" --profile cloud="$T/lc.h5" --bandwidth 50 --latency 5 --emit-config "$T/e.yaml" "$@"; }
plan > "$T/pe.out" 2>&1; rc=$?
if [ $rc = 2 ] && grep -q "already exists (use --force" "$T/pe.out" && [ "$(cat "$T/e.yaml")" = old ]; then ok "--emit-config exists: exit 2"
else bad "--emit-config exists (rc $rc)"; cat "$T/pe.out"; fi
plan --force > "$T/pe2.out" 2>&1 && grep -q "^nodes:" "$T/e.yaml" && ok "--emit-config --force" || { bad "--emit-config --force"; cat "$T/pe2.out"; }
"$C" infer lenet --reps 1 --warmup 0 --save-output "$T/y.bin" > "$T/i.out" 2>&1; rc=$?
if [ $rc = 2 ] && cmp -s "$T/y.bin" "$T/y.ref"; then ok "infer --save-output exists: exit 2"; else bad "infer --save-output (rc $rc)"; cat "$T/i.out"; fi

# a directory is never an output, even with --force: exit 2 before any work, one line
mkdir -p "$T/dir"
dirout() { # NAME CMD...: exit 2, one error line naming the directory, nothing written into it
  local name="$1"; shift
  "$@" > "$T/d.out" 2>&1; local rc=$?
  if [ $rc = 2 ] && [ "$(grep -c 'cleave: error: .*dir. is a directory' "$T/d.out")" = 1 ] && [ -z "$(ls -A "$T/dir")" ]; then
    ok "$name: directory output refused"; else bad "$name: directory output (rc $rc)"; cat "$T/d.out"; fi
}
dirout "profile -o" "$C" profile lenet --reps 1 -o "$T/dir" --force
dirout "infer --save-output" "$C" infer lenet --reps 1 --save-output "$T/dir" --force
dirout "run -o" run3 $CFG -o "$T/dir" --force --quiet --inferences 2
dirout "run --save-output" run3 $CFG -o "$T/dd.h5" --save-output "$T/dir" --force --quiet --inferences 2
dirout "run -o (users)" run3 tests/data/users/small.yaml -o "$T/dir" --force --quiet
dirout "sweep -o" timeout 120 $MPI -n 2 "$C" sweep tests/data/experiments/sweep_small.yaml -o "$T/dir" --force --quiet
dirout "--emit-config" "$C" plan dads --profile device="$T/ld.h5" --profile cloud="$T/lc.h5" --bandwidth 50 --latency 5 --emit-config "$T/dir" --force
dirout "merge" "$C" merge "$T/dir" "$T/ld.h5" --force

# an output is never one of the command's own inputs, even with --force (links included)
cp tests/data/onnx/tiny_mlp.onnx "$T/m.onnx"; ln -s "$T/p.h5" "$T/plink.h5"
timeout 120 "$C" profile resnet18 --reps 1 --warmup 0 -o "$T/p.h5" > /dev/null 2>&1 || bad "resnet18 profile"
sum_p=$(md5sum < "$T/p.h5"); sum_m=$(md5sum < "$T/m.onnx")
selfout() { # NAME CMD...: exit 2, one line, the inputs untouched
  local name="$1"; shift
  "$@" > "$T/s.out" 2>&1; local rc=$?
  if [ $rc = 2 ] && [ "$(grep -c 'cleave: error: .*is also an input of this command' "$T/s.out")" = 1 ] &&
     [ "$(md5sum < "$T/p.h5")" = "$sum_p" ] && [ "$(md5sum < "$T/m.onnx")" = "$sum_m" ]; then ok "$name: refused"
  else bad "$name (rc $rc)"; cat "$T/s.out"; fi
}
selfout "run --profile P -o P" run3 $CFG --profile "$T/p.h5" -o "$T/p.h5" --force --quiet --inferences 2
selfout "run -o LINK-TO-PROFILE" run3 $CFG --profile "$T/p.h5" -o "$T/plink.h5" --force --quiet --inferences 2
selfout "infer M --save-output M" "$C" infer "$T/m.onnx" --reps 1 --save-output "$T/m.onnx" --force
selfout "profile M -o M" "$C" profile "$T/m.onnx" --reps 1 -o "$T/m.onnx" --force
cp "$T/p.h5" "$T/pc.h5"
selfout "plan --emit-config TIER=FILE" "$C" plan dads --profile device="$T/p.h5" --profile cloud="$T/pc.h5" \
  --bandwidth 50 --latency 5 --emit-config "$T/p.h5" --force

# 2. a killed run leaves no file at its output path (and no stale lock); the rerun works
setsid $MPI -n 3 "$C" run $CFG -o "$T/k.h5" --quiet --inferences 100000 > "$T/k.out" 2>&1 &
pid=$!
for _ in $(seq 1 300); do [ -e "$T/k.h5.lock" ] && break; sleep 0.1; done
sleep 1
# 3. meanwhile a second writer of the same output is refused, even with --force
run3 $CFG -o "$T/k.h5" --force --quiet --inferences 2 > "$T/k2.out" 2>&1; rc=$?
if [ $rc = 2 ] && grep -q "is being written by another cleave process" "$T/k2.out"; then ok "second writer refused"
else bad "second writer (rc $rc)"; cat "$T/k2.out"; fi
kill -9 -- -$pid 2> /dev/null; wait $pid 2> /dev/null
sleep 0.5
if [ ! -e "$T/k.h5" ]; then ok "killed run: nothing at the output path"; else bad "killed run left k.h5"; ls -la "$T"; fi
if run3 $CFG -o "$T/k.h5" --quiet --inferences 2 > "$T/k3.out" 2>&1 && [ -e "$T/k.h5" ]; then ok "rerun after a kill"
else bad "rerun after a kill"; cat "$T/k3.out"; fi

# 4. sweep --resume on a run output is refused, the file untouched
sum0=$(md5sum < "$T/a.h5")
timeout 120 $MPI -n 2 "$C" sweep tests/data/experiments/sweep_small.yaml -o "$T/a.h5" --resume --quiet > "$T/sw.out" 2>&1; rc=$?
if [ $rc = 2 ] && grep -q "finished run output" "$T/sw.out" && [ "$(md5sum < "$T/a.h5")" = "$sum0" ]; then
  ok "sweep --resume on a run output refused (rc $rc)"; else bad "sweep --resume on a run output (rc $rc)"; cat "$T/sw.out"; fi

# 5. profiles checked against the testbed: another model, rows missing
timeout 300 "$C" profile lenet --reps 2 --warmup 1 -o "$T/lenet.h5" > /dev/null 2>&1 || bad "lenet profile"
run3 $CFG --profile "$T/lenet.h5" --quiet --inferences 2 > "$T/p1.out" 2>&1; rc=$?
if [ $rc = 2 ] && grep -q "a profile of model 'lenet', but the testbed runs 'resnet18'" "$T/p1.out"; then ok "run --profile of another model: exit 2"
else bad "run --profile another model (rc $rc)"; cat "$T/p1.out"; fi
"$C" sim $CFG --profile "$T/lenet.h5" > "$T/p2.out" 2>&1; rc=$?
if [ $rc = 2 ] && grep -q "a profile of model 'lenet'" "$T/p2.out"; then ok "sim --profile of another model: exit 2"
else bad "sim --profile another model (rc $rc)"; cat "$T/p2.out"; fi
timeout 300 "$C" profile resnet18 --reps 2 --warmup 1 -o "$T/r18.h5" > /dev/null 2>&1 || bad "resnet18 profile"
cp "$T/r18.h5" "$T/short.h5"
$PY -c "import h5py,sys; d=h5py.File(sys.argv[1],'r+')['/profile/layers']; d.resize((d.shape[0]-1,))" "$T/short.h5"
"$C" sim $CFG --profile "$T/short.h5" > "$T/p3.out" 2>&1; rc=$?
if [ $rc = 2 ] && grep -q "table '/profile/layers' is corrupted: it has .* records but was written with" "$T/p3.out"; then ok "table truncated after writing: exit 2"
else bad "truncated table (rc $rc)"; cat "$T/p3.out"; fi
# the same short profile with its checksums removed (as another tool would write it)
$PY -c "import h5py,sys; d=h5py.File(sys.argv[1],'r+')['/profile/layers']; [d.attrs.__delitem__(a) for a in ('crc32','crc32_block','crc32_records')]" "$T/short.h5"
"$C" sim $CFG --profile "$T/short.h5" > "$T/p3.out" 2>&1; rc=$?
if [ $rc = 2 ] && grep -q "layer rows, the model runs" "$T/p3.out"; then ok "profile with a row missing: exit 2"
else bad "profile with a row missing (rc $rc)"; cat "$T/p3.out"; fi

# 6. sim --compare: same config accepted, another config refused
"$C" sim $CFG --profile "$T/r18.h5" --compare "$T/a.h5" > "$T/c1.out" 2>&1 && grep -q median_abs_error_pct "$T/c1.out" &&
  ok "sim --compare same config" || { bad "sim --compare same config"; cat "$T/c1.out"; }
sed "s/latency: 20ms, bandwidth: 50Mbit/latency: 20ms, bandwidth: 40Mbit/" $CFG > "$T/other.yaml"
"$C" sim "$T/other.yaml" --profile "$T/r18.h5" --compare "$T/a.h5" > "$T/c2.out" 2>&1; rc=$?
if [ $rc = 2 ] && grep -q "made from another config" "$T/c2.out"; then ok "sim --compare another config: exit 2"
else bad "sim --compare another config (rc $rc)"; cat "$T/c2.out"; fi

# 7. two run outputs merge; n_ranks is the job's; report summarises durations
if "$C" merge "$T/m.h5" "$T/a.h5" "$T/k.h5" > "$T/m.out" 2>&1; then ok "merge two run outputs"; else bad "merge two runs"; cat "$T/m.out"; fi
$PY - "$T/m.h5" "$T/a.h5" <<'PY' && ok "merged rows, src, n_ranks" || bad "merged rows, src, n_ranks"
import sys, h5py
m, a = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
x = m["/transfers"][:]
assert set(x["src"]) == {0, 1} and "src_node" in x.dtype.names, x.dtype
assert m["/inferences"].shape[0] == 4
assert int(a["/provenance"].attrs["n_ranks"]) == 3, a["/provenance"].attrs["n_ranks"]
assert int(a.attrs["complete"]) == 1 and a.attrs["output_kind"] in (b"run", "run")
PY
"$C" report "$T/a.h5" > "$T/rep.out" 2>&1
grep -q "per-layer summary of /layers: duration \[s\]" "$T/rep.out" && grep -q "^complete: yes" "$T/rep.out" &&
  ok "report: durations, complete" || { bad "report summary"; grep -n "summary\|complete" "$T/rep.out"; }

# 8. a corrupted chunk: report fails and names the table
cp "$T/a.h5" "$T/bad.h5"
$PY - "$T/bad.h5" <<'PY' || bad "corrupt"
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    ci = f["/layers"].id.get_chunk_info(0)
with open(sys.argv[1], "r+b") as g:
    g.seek(ci.byte_offset + 40); b = g.read(1); g.seek(ci.byte_offset + 40); g.write(bytes([b[0] ^ 0x10]))
PY
"$C" report "$T/bad.h5" > "$T/bad.out" 2>&1; rc=$?
if [ $rc != 0 ] && grep -q "cleave: error: .*table '/layers' is corrupted" "$T/bad.out"; then ok "corrupted chunk: error naming /layers (rc $rc)"
else bad "corrupted chunk (rc $rc)"; tail -5 "$T/bad.out"; fi
PYTHONPATH="$(dirname "$0")/../scripts" $PY - "$T/bad.h5" "$T/a.h5" <<'PY' && ok "cleave_h5.load: ChecksumError on the damaged copy, intact original loads" || bad "cleave_h5 checksum"
import sys, cleave_h5
assert len(cleave_h5.load(sys.argv[2], "/layers")) > 0
try:
    cleave_h5.load(sys.argv[1], "/layers")
except cleave_h5.ChecksumError as e:
    assert "/layers" in str(e), e
    sys.exit(0)
sys.exit(1)
PY

finish outputs_cli
