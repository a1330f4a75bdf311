#!/usr/bin/env bash
# Install dependencies, build cleave, and run the main job on the embedded default
# config: a 3-node (device, edge, cloud) resnet18 split under MPI, virtual clock.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/deps.sh"
cleave_install_deps
echo "cleave: building in $CLEAVE_BUILD_DIR" >&2
cleave_build
cd "$CLEAVE_ROOT"
C="$CLEAVE_BUILD_DIR/cleave"
echo "== model zoo (excerpt) =="
"$C" models | head -6
echo
echo "== single-host inference: resnet18, 1 thread =="
"$C" infer resnet18 --reps 5
