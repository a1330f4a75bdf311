#!/bin/bash
# cleave sweep crash safety: an uninterrupted run and a run whose mpirun is SIGKILLed
# mid-way and then resumed must end with exactly the same set of point ids (those of
# `cleave sweep --list`), each once.
# usage: sweep_kill_test.sh BUILD_DIR MPIEXEC...
. "$(dirname "$0")/script_lib.sh" "$1" "$(cd "$(dirname "$0")/.." && pwd)"   # B S C PY T
shift
BUILD=$B; SRC=$S; W=$T
MPI=("$@")
EXP=$SRC/tests/data/experiments/sweep_small.yaml
ids() { # sorted ids of completed points, duplicates kept
  $PY - "$1" <<'PYEOF'
import sys, h5py
with h5py.File(sys.argv[1], "r", swmr=True) as f:
    p = f["/sweep/points"][:]
    for r in p:
        if not r["failed"]:
            print(r["id"].decode())
PYEOF
}

"$BUILD/cleave" sweep "$EXP" --list | awk '{print $2}' | sort > "$W/expected" || fail "--list"
N=$(wc -l < "$W/expected")
[ "$N" -gt 10 ] || fail "expected more than 10 points, got $N"

# 1. uninterrupted
"${MPI[@]}" -n 2 "$BUILD/cleave" sweep "$EXP" -o "$W/ref.h5" --quiet > "$W/ref.log" 2>&1 || { cat "$W/ref.log"; fail "reference run"; }
ids "$W/ref.h5" | sort > "$W/ref.ids"
cmp -s "$W/expected" "$W/ref.ids" || fail "reference run: ids differ from --list"

# 2. killed mid-way (SIGKILL of mpirun, then of anything left in its process group)
killed=0
for delay in 4 3 2 6; do
  rm -f "$W/kill.h5"
  setsid "${MPI[@]}" -n 2 "$BUILD/cleave" sweep "$EXP" -o "$W/kill.h5" --quiet > "$W/kill.log" 2>&1 &
  pid=$!
  sleep "$delay"
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid"
    kill -KILL -- "-$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    killed=1
  else
    wait "$pid"
  fi
  [ -f "$W/kill.h5" ] || continue
  n=$(ids "$W/kill.h5" 2>/dev/null | wc -l)
  echo "after SIGKILL at ${delay}s: $n of $N points complete"
  if [ "$killed" = 1 ] && [ "$n" -lt "$N" ]; then break; fi
done
[ "$killed" = 1 ] || fail "the sweep finished before it could be killed"
[ "$n" -lt "$N" ] || fail "could not kill the sweep mid-way"

# 3. resume
"${MPI[@]}" -n 2 "$BUILD/cleave" sweep "$EXP" -o "$W/kill.h5" --resume > "$W/resume.log" 2>&1 || { cat "$W/resume.log"; fail "resume"; }
cat "$W/resume.log"
grep -q "skipped" "$W/resume.log" || fail "resume did not report skipped points"
ids "$W/kill.h5" | sort > "$W/kill.ids"
cmp -s "$W/expected" "$W/kill.ids" || { diff "$W/expected" "$W/kill.ids" | head; fail "resumed run: ids differ (missing or duplicated points)"; }

# 4. a second resume runs nothing
"${MPI[@]}" -n 2 "$BUILD/cleave" sweep "$EXP" -o "$W/kill.h5" --resume > "$W/resume2.log" 2>&1 || fail "second resume"
grep -q "^sweep: 0 points run, $N skipped" "$W/resume2.log" || { cat "$W/resume2.log"; fail "second resume ran points"; }
# 5. without --resume an existing file is refused
"$BUILD/cleave" sweep "$EXP" -o "$W/kill.h5" > "$W/refuse.log" 2>&1 && fail "existing output was not refused"
echo "PASS: $N points, identical id sets after SIGKILL + resume"
