#!/bin/bash
# Device fidelity (issue 14): for each Scission machine, the emulated per-block times of
# every model whose Keras blocks map onto the zoo (vgg16, vgg19, mobilenet) against
# Scission's CSVs, one line per device:
#   device NAME blocks N median_abs_error_pct X heldout_blocks M
#     heldout_median_abs_error_pct Y loo_model_median_abs_error_pct Z
# X: emulated as `cleave run` charges it: this host's measured layer time x (device model
#    / this host's per-layer calibration), calibration and measurement taken separately.
# Y: the device model refitted on even blocks and tested on odd ones (and vice versa).
# Z: refitted without the tested model (mobilenet's depthwise layers are then unseen).
# Printed twice: for the default virtual clock (X as above: the device model's error plus
# this host's drift between calibration and run, which contention on a shared host makes
# large, docs/devices.md) and for `clock: model` (a device step costs its device model's
# time: X is the model's own error, the same on every host and backend, and reruns are
# bit-identical).
# usage: bench/device_fidelity.sh [BUILD_DIR] [SCISSION_DIR] [--backend portable|dnnl]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
data=${2:-$here/tests/data/scission}
shift $(( $# > 2 ? 2 : $# ))
echo "# clock: virtual (measured host CPU time x device / calibrated host time)"
"$build/cleave" devices check --scission "$data" --emulate "$@"
echo "# clock: model (device steps charged their device model's time)"
"$build/cleave" devices check --scission "$data" --emulate --clock model "$@"
