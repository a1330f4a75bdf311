#!/usr/bin/env bash
# Install the Debian 12 packages cleave needs (only those missing), then configure and
# build with CMake into build/ (or $CLEAVE_BUILD_DIR). Sourced by demo.sh and test.sh.
set -euo pipefail

CLEAVE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLEAVE_BUILD_DIR="${CLEAVE_BUILD_DIR:-$CLEAVE_ROOT/build}"

CLEAVE_PACKAGES=(
  build-essential cmake pkg-config git
  libopenmpi-dev openmpi-bin
  libhdf5-openmpi-dev hdf5-tools
  libgsl-dev libopenblas-dev libglpk-dev libyaml-dev zlib1g-dev
  libprotobuf-c-dev protobuf-c-compiler libdnnl-dev
  python3 python3-h5py python3-numpy python3-pandas python3-matplotlib
)

# Reference checks only (torchvision numerics of the zoo, ONNX export): tests, never the core.
# clang + its libFuzzer/sanitizer runtimes: the ctest label fuzz (tests/fuzz, docs/fuzzing.md).
CLEAVE_TEST_PACKAGES=(python3-torch python3-torchvision clang libclang-rt-14-dev)

cleave_install_deps() {
  local missing=() pkgs=("${CLEAVE_PACKAGES[@]}")
  [ "${1:-}" = "--test" ] && pkgs+=("${CLEAVE_TEST_PACKAGES[@]}")
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "cleave: installing Debian packages: ${missing[*]}" >&2
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

cleave_build() {
  cmake -S "$CLEAVE_ROOT" -B "$CLEAVE_BUILD_DIR" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
  cmake --build "$CLEAVE_BUILD_DIR" -j "$(nproc)" -- --no-print-directory >/dev/null
}

# Open MPI refuses to run as root without these; harmless otherwise.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
