#!/usr/bin/env bash
# Replays fuzzer artifacts (crash-*, timeout-*, oom-* files of the raw-byte HDF5
# harnesses: inputs that crash or hang libhdf5 *in process*) through the commands a user
# runs on an HDF5 input, and checks that cleave contains every one of them: no signal,
# exit 0 (the file read) or 2 (refused), at most one "cleave: error:" line, within the
# time limit. docs/fuzzing.md, "Raw-byte harnesses".
#   usage: scripts/fuzz_replay_cli.sh [-j N] [--commands "report sim merge"] [--limit S]
#                                     [--sample N] CLEAVE FILE|DIR...
#   --sample N: N files drawn at random (fixed seed, so a rerun draws the same ones)
# Prints one line per file that is not contained, then a summary line:
#   fuzz_replay_cli: F files, C commands: R refused (exit 2), A read (exit 0), B bad
# Exit status 0 when nothing is bad, 1 otherwise, 2 on a usage error.
set -u
jobs=2
commands="report sim merge"
limit=90
sample=0
while [ $# -gt 0 ]; do
  case "$1" in
    -j) jobs="${2:?-j needs a number}"; shift 2 ;;
    --commands) commands="${2:?--commands needs a list}"; shift 2 ;;
    --limit) limit="${2:?--limit needs seconds}"; shift 2 ;;
    --sample) sample="${2:?--sample needs a number}"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz_replay_cli: error: unknown option '$1'" >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $# -ge 2 ] || { echo "fuzz_replay_cli: error: usage: fuzz_replay_cli.sh [-j N] CLEAVE FILE|DIR..." >&2; exit 2; }
C="$1"; shift
[ -x "$C" ] || { echo "fuzz_replay_cli: error: '$C' is not an executable cleave" >&2; exit 2; }
for c in $commands; do
  case "$c" in report|sim|merge) ;; *) echo "fuzz_replay_cli: error: unknown command '$c' (report, sim, merge)" >&2; exit 2 ;; esac
done
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT

list="$T/files"
for a in "$@"; do
  if [ -d "$a" ]; then find "$a" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name '*.h5' \)
  elif [ -f "$a" ]; then echo "$a"
  else echo "fuzz_replay_cli: error: '$a': no such file or directory" >&2; exit 2; fi
done | sort > "$list"
if [ "$sample" -gt 0 ]; then
  shuf -n "$sample" --random-source=<(yes cleave) "$list" | sort > "$list.s" && mv "$list.s" "$list"
fi
n_files=$(grep -c . "$list")
[ "$n_files" -gt 0 ] || { echo "fuzz_replay_cli: error: no artifact files in $*" >&2; exit 2; }

# one: FILE -> one result line per command: "CMD rc=N lines=L FILE"
one() {
  local f="$1" c rc args out err d
  d="$(mktemp -d "$T/w.XXXXXX")"
  for c in $commands; do
    case "$c" in
      report) args=(report "$f") ;;
      sim) args=(sim "$ROOT/configs/demo-3tier.yaml" --profile "$f") ;;
      merge) args=(merge "$d/m.h5" "$f") ;;
    esac
    rm -f "$d/m.h5"
    # (the braces keep bash's own "Segmentation fault" notice off the terminal)
    { timeout -s KILL "$limit" "$C" "${args[@]}" > "$d/out" 2> "$d/err" < /dev/null; } 2> /dev/null
    rc=$?
    echo "$c rc=$rc lines=$(grep -c 'cleave: error:' "$d/err") other=$(grep -vc 'cleave: error:\|^cleave: warning:' "$d/err") $f"
  done
  rm -rf "$d"
}
export -f one
export C ROOT T commands limit
xargs -a "$list" -d '\n' -P "$jobs" -n 1 bash -c 'one "$1"' _ > "$T/results"

awk -v files="$n_files" '
  { split($2, r, "="); split($3, l, "="); split($4, o, "=");
    rc = r[2] + 0; ok = (rc == 0 || rc == 2) && l[2] + 0 <= 1 && (rc == 0 || l[2] + 0 == 1) && o[2] + 0 == 0
    if (rc == 2) refused++; else if (rc == 0) read_ok++
    if (!ok) { bad++; why = rc > 128 ? "signal " rc - 128 : "exit " rc; print "not contained: " $1 " " $5 " (" why ", " l[2] " error lines, " o[2] " other stderr lines)" }
    n++ }
  END { printf "fuzz_replay_cli: %d files, %d commands: %d refused (exit 2), %d read (exit 0), %d bad\n", files, n, refused, read_ok, bad
        exit bad > 0 }' "$T/results"
