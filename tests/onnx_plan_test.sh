#!/usr/bin/env bash
# ONNX profiles -> planners -> --emit-config -> cleave run (ctest: onnx_plan, label mpi).
#   usage: onnx_plan_test.sh BUILD_DIR SOURCE_DIR
# Profiles tests/data/onnx/tiny_dense.onnx (a DenseNet: a real DAG) from another directory
# with a relative path, as two machines (--slowdown 4 / 1); checks the profile records the
# file's absolute path with its size and SHA-256; DADS plans on the imported DAG (no chain
# fallback; moving the file away gives the fallback's warning); DADS and Neurosurgeon emit
# configs that name the file absolutely and run with mpirun -n 2 cleave run --verify from
# another directory; `cleave models FILE.onnx` lists the layers the emitted plans name;
# bad names / files exit 2 with one line.
. "$(dirname "$0")/script_lib.sh" "$@"
M="$S/tests/data/onnx/tiny_dense.onnx"
mkdir -p "$T/prof" "$T/work"
cp "$M" "$T/work/net.onnx"

# 0. profiles of a relative path (from $T/work), recorded absolutely
(cd "$T/work" && timeout 120 "$C" profile net.onnx --reps 3 --warmup 1 --slowdown 4 -o "$T/prof/device-dev.h5" > /dev/null &&
  timeout 120 "$C" profile net.onnx --reps 3 --warmup 1 --slowdown 1 -o "$T/prof/cloud-srv.h5" > /dev/null) || bad "profile"
$PY - "$T/prof/device-dev.h5" "$T/work/net.onnx" <<'PY' && ok "profile: absolute model path + provenance" || bad "profile provenance"
import sys, hashlib, os, h5py
f = h5py.File(sys.argv[1], "r")
def s(v): return v.decode() if isinstance(v, bytes) else str(v)
path = sys.argv[2]
m = s(f["/profile"].attrs["model"])
assert m == os.path.realpath(path) or (os.path.isabs(m) and os.path.samefile(m, path)), m
p = f["/provenance"].attrs
assert os.path.isabs(s(p["model_path"])) and os.path.samefile(s(p["model_path"]), path), s(p["model_path"])
assert int(p["model_bytes"]) == os.path.getsize(path)
assert s(p["model_sha256"]) == hashlib.sha256(open(path, "rb").read()).hexdigest()
PY

# 1. DADS on the real DAG: some step has >= 2 input steps (a concat), from another cwd
cd "$T"
"$C" plan dads --profiles "$T/prof" --bandwidth 50 --latency 5 --format csv "$T/work/net.onnx" > "$T/d.csv" 2> "$T/d.err"
NSTEPS=$($PY -c "import h5py,sys; print(h5py.File(sys.argv[1],'r')['/profile/layers'].shape[0])" "$T/prof/device-dev.h5")
if [ "$(($(wc -l < "$T/d.csv") - 1))" = "$NSTEPS" ] && ! grep -q "chain" "$T/d.err"; then ok "dads csv ($NSTEPS steps)"
else bad "dads csv"; cat "$T/d.csv" "$T/d.err"; fi

# 2. DADS -> config -> run --verify (2 ranks), from a third directory
"$C" plan dads --profile device=$T/prof/device-dev.h5 --profile cloud=$T/prof/cloud-srv.h5 --bandwidth 1000 --latency 1 \
  --emit-config "$T/dads.yaml" --inferences 3 > "$T/dads.out" 2>&1 || { bad "dads emit"; cat "$T/dads.out"; }
if grep -q "^model: $T/work/net.onnx\$" "$T/dads.yaml" && [ "$(grep -c '^  - {node:' "$T/dads.yaml")" -ge 1 ]; then
  ok "dads config names the file absolutely"; else bad "dads config"; cat "$T/dads.out" "$T/dads.yaml"; fi
mkdir -p "$T/elsewhere"; cd "$T/elsewhere"
if timeout 120 $MPI -n 2 "$C" run "$T/dads.yaml" --verify -o "$T/dads.h5" > "$T/dads.run" 2>&1 &&
   grep -q "verify: max relative difference" "$T/dads.run"; then ok "dads run --verify"
else bad "dads run"; cat "$T/dads.yaml" "$T/dads.run"; fi

# 3. Neurosurgeon with a slow link: a split inside the network -> both nodes used
"$C" plan neurosurgeon --profile device:phone=$T/prof/cloud-srv.h5 --profile cloud:dc=$T/prof/device-dev.h5 \
  --bandwidth 0.5 --latency 5 --emit-config "$T/ns.yaml" > "$T/ns.out" 2>&1 || { bad "neurosurgeon emit"; cat "$T/ns.out"; }
if grep -q "{name: phone, tier: device" "$T/ns.yaml" &&
   timeout 120 $MPI -n 2 "$C" run "$T/ns.yaml" --verify > "$T/ns.run" 2>&1 &&
   grep -q "verify: max relative difference" "$T/ns.run"; then ok "neurosurgeon config + run --verify"
else bad "neurosurgeon"; cat "$T/ns.out" "$T/ns.yaml" "$T/ns.run"; fi
# a forced split: every step up to the first dense block's conv2 on the device
sed -e '/^plan:/,$d' "$T/dads.yaml" > "$T/split.yaml"
cat >> "$T/split.yaml" <<'EOF'
plan:
  - {node: dev, layers: "input..features.denseblock1.denselayer1.conv2"}
  - {node: srv, layers: rest}
workload: {inferences: 2}
EOF
sed -i -e 's/{name: [a-z-]*, tier: device/{name: dev, tier: device/' -e 's/{name: [a-z-]*, tier: cloud/{name: srv, tier: cloud/' \
  -e 's/{from: [a-z-]*, to: [a-z-]*,/{from: dev, to: srv,/' "$T/split.yaml"
if timeout 120 $MPI -n 2 "$C" run "$T/split.yaml" --verify > "$T/split.run" 2>&1 &&
   grep -q "verify: max relative difference" "$T/split.run"; then ok "split config run --verify"
else bad "split run"; cat "$T/split.yaml" "$T/split.run"; fi

# 4. cleave models FILE.onnx: the layers, by the names plans use
"$C" models "$M" --format csv > "$T/layers.csv" 2> "$T/layers.err" || bad "models csv"
$PY - "$T/layers.csv" "$T/dads.yaml" <<'PY' && ok "models FILE.onnx csv" || { bad "models csv content"; cat "$T/layers.csv"; }
import sys, csv, re
rows = list(csv.DictReader(open(sys.argv[1])))
assert list(rows[0].keys()) == ["id", "name", "op", "inputs", "output", "params", "macs", "cut"], rows[0].keys()
names = [r["name"] for r in rows]
assert rows[0]["op"] == "input" and rows[0]["output"] == "1x3x32x32", rows[0]
assert [int(r["id"]) for r in rows] == list(range(len(rows)))
for want in ("features.conv0", "features.denseblock1.denselayer2.Concat", "classifier"):
    assert want in names, want
cat = rows[names.index("features.denseblock1.denselayer2.Concat")]
assert cat["op"] == "concat" and len(cat["inputs"].split(";")) >= 2, cat
fc = rows[names.index("classifier")]
assert fc["op"] == "fc" and int(fc["macs"]) > 0 and int(fc["params"]) > 0 and fc["output"].startswith("1x10x"), fc
assert rows[names.index("features.pool0")]["cut"] == "1"
assert cat["cut"] in ("0", "1")
# every layer name the emitted config uses is listed
for ref in re.findall(r'layers: "([^"]*)"', open(sys.argv[2]).read()):
    for part in ref.split(", "):
        for n in part.split(".."):
            assert n in names or n.isdigit() or n == "rest", n
PY
n_table=$("$C" models "$M" | grep -c "features.denseblock")
[ "$n_table" -ge 8 ] && ok "models FILE.onnx table" || bad "models table ($n_table)"
"$C" models resnet18 --format csv | grep -q '^1,conv1,conv,0,' && ok "models resnet18 (zoo layers)" || bad "models resnet18"
[ "$("$C" models | head -1 | awk '{print $1}')" = name ] && [ "$("$C" models --format csv | head -1)" = "name,params,macs,layers,input" ] &&
  ok "models (no args) unchanged" || bad "models no args"
expect2() { # one-line error, exit 2
  out="$("$C" models "$@" 2>&1)"; rc=$?
  { [ $rc -eq 2 ] && [ "$(echo "$out" | wc -l)" = 1 ] && echo "$out" | grep -q -- "$msg"; } && ok "models $*: exit 2" ||
    { bad "models $*: exit $rc"; echo "$out"; }
}
msg="unknown model 'nosuch'" expect2 nosuch
msg="cannot open" expect2 "$T/none.onnx"
msg="LeakyRelu" expect2 "$S/tests/data/onnx/bad_op.onnx"
msg="more than one model" expect2 resnet18 vgg16

# 5. the loader really reads the file: moved away, DADS warns and falls back to a chain
mv "$T/work/net.onnx" "$T/work/net.moved"
cp "$T/work/net.moved" "$T/net.onnx"
"$C" plan dads --profiles "$T/prof" --bandwidth 50 --latency 5 --format csv "$T/work/net.onnx" > /dev/null 2> "$T/d2.err"
grep -q "cannot be read: planning on a chain" "$T/d2.err" && ok "moved ONNX file: chain fallback with a warning" ||
  { bad "moved file warning"; cat "$T/d2.err"; }

finish onnx_plan
