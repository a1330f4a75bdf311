#!/bin/bash
# Malformed experiment files: a FILE:LINE error before any point runs, exit code 2, no output.
# usage: sweep_bad_test.sh BUILD_DIR
set -u
BUILD=$1
D=$(cd "$(dirname "$0")" && pwd)/data/experiments
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
check() { # file, expected line, expected message part
  "$BUILD/cleave" sweep "$D/$1" -o "$W/out.h5" > "$W/log" 2>&1
  rc=$?
  [ "$rc" = 2 ] || { cat "$W/log"; fail "$1: exit code $rc, expected 2"; }
  grep -q "$1:$2" "$W/log" || { cat "$W/log"; fail "$1: no error at line $2"; }
  grep -q -- "$3" "$W/log" || { cat "$W/log"; fail "$1: message lacks '$3'"; }
  [ ! -e "$W/out.h5" ] || fail "$1: an output file was written"
  echo "ok: $1: $(head -1 "$W/log")"
}
check bad_factor.yaml 7 "unknown factor target 'nodes.cloud.gpu_load'"
check bad_empty.yaml 6 "empty level list"
check bad_unit.yaml 7 "cannot parse '20 parsecs' as a duration"
check bad_key.yaml 5 "unknown key 'repetitions'"
check bad_node.yaml 5 "has no node 'fog'"
check bad_speed_inf.yaml 7 "cannot parse 'inf' as a speed factor"
echo PASS
