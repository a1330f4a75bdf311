#!/usr/bin/env bash
# ONNX models in testbeds (ctest: onnx_testbed, labels mpi): `cleave run` and `cleave sim`
# on tests/data/onnx/tiny_dense_2node.yaml (the imported tiny DenseNet split by ONNX layer
# names inside a dense block).
#   usage: onnx_testbed_test.sh BUILD_DIR SOURCE_DIR
# Checks: mpirun -n 2 cleave run --verify passes and its output tensor equals the
# single-process `cleave infer FILE --save-output` (same seed: same input, the file's
# weights); records name the ONNX layers and the two crossing tensors; provenance holds
# the file's path, size and SHA-256; a fixed profile makes run == sim exactly; sim
# --compare reads the run; a missing file and an unknown ONNX layer in the plan fail
# with one clear message (exit 2) on every rank; run --input takes a real input tensor.
. "$(dirname "$0")/script_lib.sh" "$@"

cd "$S"
D=tests/data/onnx
CFG=$D/tiny_dense_2node.yaml
M=$D/tiny_dense.onnx

# 1. partitioned run with --verify, output saved; reference from cleave infer (seed 5 = config seed)
if timeout 120 $MPI -n 2 "$C" run "$CFG" --verify -o "$T/run.h5" --save-output "$T/run.bin" > "$T/run.out" 2>&1 &&
   grep -q "verify: max relative difference" "$T/run.out"; then ok "run --verify"; else bad "run --verify"; cat "$T/run.out"; fi
timeout 60 "$C" infer "$M" --seed 5 --reps 1 --warmup 0 --save-output "$T/ref.bin" > "$T/infer.out" 2>&1 ||
  { bad "cleave infer"; cat "$T/infer.out"; }
# the same model without the file's weights would differ: seeded zoo-style weights are not used
$PY - "$T/run.bin" "$T/ref.bin" "$D/tiny_dense.input.bin" <<'PY' && ok "run output == cleave infer output" || bad "run output"
import sys, numpy as np
y, r = (np.fromfile(p, dtype="<f4") for p in sys.argv[1:3])
assert y.size == 10 and r.size == 10, (y.size, r.size)
err = np.abs(y - r).max() / np.abs(r).max()
print(f"  max relative difference run vs infer: {err:.3g}")
assert err <= 1e-5, err
assert np.abs(r).max() > 0
PY

# 2. records and provenance
$PY - "$T/run.h5" "$S/$M" <<'PY' && ok "records + provenance" || bad "records + provenance"
import sys, os, hashlib, h5py
f = h5py.File(sys.argv[1], "r")
path = sys.argv[2]
p = f["/provenance"].attrs
def s(v): return v.decode() if isinstance(v, bytes) else str(v)
assert os.path.samefile(s(p["model_path"]), path), s(p["model_path"])
assert int(p["model_bytes"]) == os.path.getsize(path), p["model_bytes"]
assert s(p["model_sha256"]) == hashlib.sha256(open(path, "rb").read()).hexdigest()
assert os.path.samefile(s(f.attrs["model"]), path)
layers = {int(i): s(n) for i, n in f["/strings/layers"][:]}
names = set(layers[i] for i in f["/layers"]["layer"])
for want in ("features.denseblock1.denselayer1.conv2", "features.denseblock1.denselayer2.Concat", "classifier"):
    assert want in names, (want, sorted(names))
tensors = {int(i): s(n) for i, n in f["/strings/tensors"][:]}
crossing = sorted(set(tensors[i] for i in f["/transfers"]["tensor"]))
assert crossing == ["features.denseblock1.denselayer1.conv2", "features.pool0"], crossing
assert f["/inferences"].shape[0] == 3 and (f["/inferences"]["latency"] > 0).all()
assert (f["/transfers"]["bytes"] == [2048, 1024] * 3).all(), f["/transfers"]["bytes"]
PY

# 3. a profile of the ONNX model: run and sim give identical virtual latencies
timeout 60 "$C" profile "$M" --reps 3 --warmup 1 -o "$T/p.h5" > "$T/prof.out" 2>&1 || { bad "profile"; cat "$T/prof.out"; }
timeout 120 $MPI -n 2 "$C" run "$CFG" --profile "$T/p.h5" -o "$T/rp.h5" --quiet > "$T/rp.out" 2>&1 || { bad "run --profile"; cat "$T/rp.out"; }
timeout 60 "$C" sim "$CFG" --profile "$T/p.h5" --format csv > "$T/sim.csv" 2> "$T/sim.err" || { bad "sim --profile"; cat "$T/sim.err"; }
$PY - "$T/rp.h5" "$T/sim.csv" <<'PY' && ok "sim == run on a profile" || bad "sim == run on a profile"
import sys, h5py, numpy as np
run = h5py.File(sys.argv[1], "r")["/inferences"]["latency"]
sim = np.loadtxt(sys.argv[2], delimiter=",", skiprows=1, ndmin=2)[:, 1]
assert len(run) == len(sim) == 3, (len(run), len(sim))
assert np.allclose(run, sim, rtol=1e-9, atol=0), (run, sim)
PY
if timeout 60 "$C" sim "$CFG" --reps 2 --compare "$T/run.h5" > "$T/cmp.out" 2>&1 &&
   grep -q "median_abs_error_pct" "$T/cmp.out"; then ok "sim (measured) --compare"; else bad "sim --compare"; cat "$T/cmp.out"; fi

# 4. errors: a missing ONNX file, an unknown ONNX layer name in the plan
sed 's#model: tiny_dense.onnx#model: no_such_model.onnx#' "$CFG" > "$T/missing.yaml"
sed -e 's#denselayer1.conv2"#denselayer1.conv9"#' -e "s#model: tiny_dense.onnx#model: $S/$M#" "$CFG" > "$T/badlayer.yaml"
expect() { # file, message: exit 2 from sim and from every rank of run, message printed
  out="$(timeout 60 "$C" sim "$1" 2>&1)"; rc=$?
  { [ $rc -eq 2 ] && echo "$out" | grep -q -- "$2"; } && ok "sim $(basename "$1"): exit 2, '$2'" ||
    { bad "sim $(basename "$1"): exit $rc"; echo "$out"; }
  out="$(timeout 60 $MPI -n 2 "$C" run "$1" 2>&1)"; rc=$?
  { [ $rc -eq 2 ] && echo "$out" | grep -q -- "$2"; } && ok "run $(basename "$1"): exit 2" ||
    { bad "run $(basename "$1"): exit $rc"; echo "$out"; }
}
expect "$T/missing.yaml" "cannot open '.*no_such_model.onnx'"
expect "$T/badlayer.yaml" "features.denseblock1.denselayer1.conv9"

# 5. --input: a real input tensor instead of the seeded one; the partitioned output equals
# cleave infer's on the same file and PyTorch's (the generator's output for that input);
# a file of another size and a missing file: exit 2 with one message
if timeout 120 $MPI -n 2 "$C" run "$CFG" --verify --input "$D/tiny_dense.input.bin" --save-output "$T/in.bin" \
     --quiet > "$T/in.out" 2>&1; then ok "run --input --verify"; else bad "run --input"; cat "$T/in.out"; fi
timeout 60 "$C" infer "$M" --input "$D/tiny_dense.input.bin" --reps 1 --warmup 0 --save-output "$T/inref.bin" \
  > "$T/inref.out" 2>&1 || { bad "infer --input"; cat "$T/inref.out"; }
$PY - "$T/in.bin" "$T/inref.bin" "$D/tiny_dense.torch.bin" "$T/run.bin" <<'PY' && ok "run --input == infer --input == PyTorch" || bad "run --input output"
import sys, numpy as np
y, r, t, seeded = (np.fromfile(p, dtype="<f4") for p in sys.argv[1:5])
assert y.size == r.size == t.size == 10, (y.size, r.size, t.size)
e_inf = np.abs(y - r).max() / np.abs(r).max()
e_torch = np.abs(y - t).max() / np.abs(t).max()
print(f"  run --input vs infer --input {e_inf:.3g}, vs PyTorch {e_torch:.3g}")
assert e_inf <= 1e-5 and e_torch <= 1e-5, (e_inf, e_torch)
assert np.abs(y - seeded).max() > 1e-3 * np.abs(seeded).max()  # not the seeded input's output
PY
for bad_in in "$D/tiny_mlp.input.bin:must hold exactly 3072 float32 values" "$T/none.bin:cannot open the --input file"; do
  f="${bad_in%%:*}"; msg="${bad_in#*:}"
  out="$(timeout 60 $MPI -n 2 "$C" run "$CFG" --input "$f" 2>&1)"; rc=$?
  n="$(echo "$out" | grep -c '^cleave: error:')"
  { [ $rc -eq 2 ] && [ "$n" = 1 ] && echo "$out" | grep -q -- "$msg"; } && ok "run --input $(basename "$f"): exit 2, one line" ||
    { bad "run --input $(basename "$f"): exit $rc, $n error lines"; echo "$out"; }
done

finish onnx_testbed
