# ONNX import tests beyond the unit executable test_onnx (included by tests/CMakeLists.txt).

# Generated torchvision models (scripts/make_onnx_models.py BUILD/onnx-models, also made
# by bench/vs-onnxruntime/run.sh): compare with PyTorch and, if saved, onnxruntime.
# Skips cleanly (passes, prints "skipped") when the directory holds no models.
add_test(NAME test_onnx_zoo COMMAND test_onnx --zoo ${CMAKE_BINARY_DIR}/onnx-models
         WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
set_tests_properties(test_onnx_zoo PROPERTIES LABELS "slow" TIMEOUT 300)

# CLI: `cleave infer MODEL.onnx --input --save-output` writes the raw float32 output;
# an unsupported op, a truncated file and a wrong-size input fail with exit code 2 and a
# message naming the problem.
add_test(NAME onnx_cli
         COMMAND bash -c [=[
set -u
cl="$1"; d=data/onnx; tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
"$cl" infer "$d/tiny_cnn.onnx" --input "$d/tiny_cnn.input.bin" --save-output "$tmp/y.bin" --reps 2 >/dev/null || exit 1
[ "$(stat -c %s "$tmp/y.bin")" = 40 ] || { echo "output size $(stat -c %s "$tmp/y.bin") != 40"; exit 1; }
"$cl" infer --onnx "$d/tiny_mlp.onnx" --input "$d/tiny_mlp.input.bin" --reps 1 >/dev/null || exit 1
expect() { # exit code 2 and the message
  out="$("$cl" infer "$@" 2>&1)"; rc=$?
  [ $rc -eq 2 ] || { echo "cleave infer $*: exit $rc, expected 2"; echo "$out"; exit 1; }
  echo "$out" | grep -q -- "$msg" || { echo "cleave infer $*: no '$msg' in: $out"; exit 1; }
}
msg="LeakyRelu node '/LeakyRelu'" expect --onnx "$d/bad_op.onnx"
msg="does not parse" ; head -c 3000 "$d/tiny_cnn.onnx" > "$tmp/t.onnx"; expect "$tmp/t.onnx"
msg="must hold exactly 3072" expect "$d/tiny_cnn.onnx" --input "$d/tiny_mlp.input.bin"
msg="cannot open" expect "$tmp/none.onnx"
# Symbolic input dimensions: height and width need --shape, which must agree with the
# model's static ones; --shape is for ONNX models only and is parsed strictly.
"$2" --write-symbolic "$tmp" || exit 1
msg="give the input shape with .cleave infer --shape NxCxHxW." expect "$tmp/sym_hw.onnx"
out="$("$cl" infer "$tmp/sym_hw.onnx" --shape 1x3x16x12 --reps 1 --warmup 0)" || { echo "--shape 1x3x16x12 failed"; exit 1; }
echo "$out" | grep -q '^output_shape: 1x3x16x12$' || { echo "no output_shape 1x3x16x12 in: $out"; exit 1; }
msg="dimension 1 differs" expect "$tmp/sym_hw.onnx" --shape 1x4x16x12
msg="--shape expects NxCxHxW" expect "$tmp/sym_hw.onnx" --shape 1x3x16
msg="--shape expects NxCxHxW" expect "$tmp/sym_hw.onnx" --shape 1x3x0x12
msg="--shape expects NxCxHxW" expect "$tmp/sym_hw.onnx" --shape 1x3x16x12x
msg="--shape expects NxCxHxW" expect "$tmp/sym_hw.onnx" --shape 1x3x
msg="--shape expects NxCxHxW" expect "$tmp/sym_hw.onnx" --shape 1x-3x16x12
msg="--shape expects NxCxHxW" expect "$tmp/sym_hw.onnx" --shape 1x3x16x99999999999999999999
msg="--shape applies to ONNX models" expect lenet --shape 1x1x28x28
echo onnx_cli ok
]=] onnx_cli $<TARGET_FILE:cleave> $<TARGET_FILE:test_onnx>
         WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
set_tests_properties(onnx_cli PROPERTIES LABELS "unit" TIMEOUT 60)

# ONNX models in testbeds: mpirun -n 2 cleave run --verify and cleave sim on an imported
# tiny DenseNet split by ONNX layer names; output == cleave infer's, provenance of the file.
add_test(NAME onnx_testbed
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/onnx_testbed_test.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
set_tests_properties(onnx_testbed PROPERTIES LABELS "mpi" TIMEOUT 300 RUN_SERIAL TRUE)

# ONNX profiles -> DADS / Neurosurgeon plans -> --emit-config -> mpirun -n 2 cleave run
# --verify; profile provenance of the file; `cleave models FILE.onnx` layer listing.
add_test(NAME onnx_plan
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/onnx_plan_test.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
set_tests_properties(onnx_plan PROPERTIES LABELS "mpi" TIMEOUT 300 RUN_SERIAL TRUE)
