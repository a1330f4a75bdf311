#!/usr/bin/env bash
# Every file in tests/fuzz/hdf5-known/ (libhdf5 1.10.8 crashes: docs/fuzzing.md) given to
# the commands that read HDF5 inputs -- report, merge, sim --profile, sweep --resume --
# ends with one line "cleave: error: 'FILE': ..." naming it and exit 2 (sweep: 1, its
# status for any damaged output), never a signal: cl_reader_probe (runtime/store/probe.c)
# refuses them before the process opens them.
#   usage: h5_known_test.sh BUILD_DIR SOURCE_DIR SANITIZE      (ctest: h5_known, label unit)
# SANITIZE ON (an ASan build): every file must be refused by the probe. Without a
# sanitizer two of them do not fault: libhdf5 reads a few bytes past a heap buffer and
# carries on (SILENT below); they must still not crash, and any error must be one line.
# CLEAVE_H5_PROBE=off in the environment turns the probe off: this test then fails.
. "$(dirname "$0")/script_lib.sh" "$1" "$2"
SANITIZE="${3:-OFF}"
cd "$S"
SILENT="h5aexists_segv.h5 h5o_attr_decode_overflow.h5"
KNOWN=(tests/fuzz/hdf5-known/*.h5)
[ "${#KNOWN[@]}" -ge 8 ] || fail "expected the 8 files of tests/fuzz/hdf5-known, found ${#KNOWN[@]}"

# check WHAT FILE WANT_RC CMD...: no signal, exit WANT_RC, exactly one "cleave: error:" line,
# naming FILE and saying the probe refused it (for files the probe must refuse).
check() {
  local what="$1" f="$2" want="$3"; shift 3
  "$C" "$@" > "$T/out" 2> "$T/err"; local rc=$?
  local n; n=$(grep -c "^cleave: error: " "$T/err")
  local silent=0
  case " $SILENT " in *" $(basename "$f") "*) [ "$SANITIZE" = ON ] || silent=1 ;; esac
  if [ $rc -ge 128 ]; then
    bad "$what $f: killed by signal $((rc - 128))"
  elif [ $silent = 1 ]; then
    # libhdf5 does not fault on it in this build: any outcome but a crash, one line if an error
    if [ $rc = 0 ] || { [ $rc = "$want" ] && [ "$n" = 1 ] && grep -qF "$f" "$T/err"; }; then
      ok "$what $f: exit $rc (libhdf5 does not fault on it without a sanitizer)"
    else bad "$what $f: exit $rc, $n error lines"; cat "$T/err"; fi
  elif [ $rc = "$want" ] && [ "$n" = 1 ] &&
       grep -qF "cleave: error: '$f': damaged HDF5 file: libhdf5 crashed (" "$T/err"; then
    ok "$what $f -> exit $rc, $(grep '^cleave: error' "$T/err" | sed 's/.*libhdf5 crashed/libhdf5 crashed/')"
  else
    bad "$what $f: exit $rc, $n error lines (want exit $want and one line: '$f': damaged HDF5 file: libhdf5 crashed)"
    cat "$T/err"
  fi
}

for f in "${KNOWN[@]}"; do
  check report "$f" 2 report "$f"
  rm -f "$T/merged.h5"
  check merge "$f" 2 merge "$T/merged.h5" "$f"
  [ -s "$T/err" ] && [ -e "$T/merged.h5" ] && bad "merge $f failed but left an output"
  check "sim --profile" "$f" 2 sim configs/demo-3tier.yaml --profile "$f"
done

# sweep --resume (cl_store_open_append): refused before it is opened for writing, file untouched
cp tests/fuzz/hdf5-known/h5t_copy_fpe.h5 "$T/resume.h5"
check "sweep --resume" "$T/resume.h5" 2 sweep tests/data/experiments/sweep_small.yaml -o "$T/resume.h5" --resume
cmp -s tests/fuzz/hdf5-known/h5t_copy_fpe.h5 "$T/resume.h5" && ok "sweep --resume left the file untouched" ||
  bad "sweep --resume changed the refused file"

# a 21 KB file whose metadata makes libhdf5 malloc 21 GB: the probe's child must not fill
# that memory (M_PERTURB) for minutes; the command fails in well under a second
# (release builds: the child's address-space cap). An ASan build has no such cap (its
# shadow memory does not fit one): ASan itself maps the 21 GB and poisons 2.6 GB of shadow
# for a minute, then LeakSanitizer reports libhdf5's error-path leaks; there the same
# bound comes from ASan's own allocation limit, as a developer would set it.
f=tests/data/h5/h5c_protect_21gb.h5
asan_env=()
[ "$SANITIZE" = ON ] && asan_env=(env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0:allocator_may_return_null=1:max_allocation_size_mb=4096")
t0=$(date +%s)
timeout 60 "${asan_env[@]}" "$C" report "$f" > "$T/out" 2> "$T/err"; rc=$?; dt=$(( $(date +%s) - t0 ))
if [ $rc = 2 ] && [ "$(grep -c '^cleave: error: ' "$T/err")" = 1 ] && [ $dt -le 20 ]; then ok "report $f: exit 2 in ${dt}s"
else bad "report $f: exit $rc after ${dt}s"; head -3 "$T/err"; fi

# damaged tables libhdf5 does not always fault on (tests/test_h5probe.c): a record type
# with a field outside its records (report died of SIGSEGV, depending on the heap), and
# 17 billion declared records without data (merge wrote terabytes of fill values)
for f in tests/data/h5/compound_field_outside_record.h5 tests/data/h5/table_records_without_data.h5; do
  for cmd in report merge sim resume; do
    rm -f "$T/merged.h5"; cp "$f" "$T/resume.h5"
    case $cmd in
      report) args=(report "$f") ;;
      merge) args=(merge "$T/merged.h5" "$f") ;;
      sim) args=(sim configs/demo-3tier.yaml --profile "$f") ;;
      resume) args=(sweep tests/data/experiments/sweep_small.yaml -o "$T/resume.h5" --resume) ;;
    esac
    timeout 60 "$C" "${args[@]}" > "$T/out" 2> "$T/err"; rc=$?
    n=$(grep -c "^cleave: error: " "$T/err")
    if [ $rc = 2 ] && [ "$n" = 1 ] && grep -q "damaged HDF5 file: .*table" "$T/err" && [ ! -e "$T/merged.h5" ] &&
       cmp -s "$f" "$T/resume.h5"; then ok "$cmd $f -> exit 2, one line"
    else bad "$cmd $f: exit $rc, $n error lines"; head -3 "$T/err"; fi
  done
done

# merging an input whose table attributes cannot be read (a fuzzed profile that report
# and the probe read fine): exit 2 and one line naming it, no output (it was exit 1 with
# a second, generic "merge: failed (HDF5 error)" line)
f=tests/data/h5/table_attrs_unreadable.h5
rm -f "$T/merged.h5"
"$C" merge "$T/merged.h5" "$f" > "$T/out" 2> "$T/err"; rc=$?
# (an ASan build's probe refuses it: libhdf5 reads out of bounds there)
if [ $rc = 2 ] && [ "$(grep -c '^cleave: error: ' "$T/err")" = 1 ] && grep -qF "'$f'" "$T/err" &&
   [ ! -e "$T/merged.h5" ]; then ok "merge $f -> exit 2, one line"
else bad "merge $f: exit $rc"; cat "$T/err"; fi

# a fuzzed profile whose attributes of /profile fail to copy: libhdf5 then keeps a freed
# attribute that H5Fclose of the input closes again (merge died of SIGSEGV after its error
# line). The probe's child replays merge's attribute copy and takes the crash instead.
f=tests/data/h5/merge_attr_copy_segv.h5
for order in first second; do
  rm -f "$T/merged.h5"
  if [ $order = first ]; then args=(merge "$T/merged.h5" "$f" tests/fuzz/corpus/profile_h5/lenet_conti.h5)
  else args=(merge "$T/merged.h5" tests/fuzz/corpus/profile_h5/lenet_conti.h5 "$f"); fi
  "$C" "${args[@]}" > "$T/out" 2> "$T/err"; rc=$?
  if [ $rc = 2 ] && [ "$(grep -c '^cleave: error: ' "$T/err")" = 1 ] && [ "$(grep -c . "$T/err")" = 1 ] &&
     grep -qF "'$f'" "$T/err" && [ ! -e "$T/merged.h5" ]; then ok "merge ($order input) $f -> exit 2, one line"
  elif [ $order = second ] && [ $rc = 0 ] && "$C" report "$T/merged.h5" > /dev/null 2>&1; then
    # as a later input only its tables are merged (its /profile attributes are not read)
    ok "merge ($order input) $f -> exit 0, a readable output"
  else bad "merge ($order input) $f: exit $rc"; cat "$T/err"; fi
done

# fuzzed profiles whose attribute tables libhdf5 fails to build (each command's first
# error must be its only line, and a second pass over the table must never happen):
# `sim --profile` died of SIGSEGV reading /profile's attributes (it read them three
# times, and the probe's child, which read other objects first, did not fault), or
# printed three error lines; `report` printed two (provenance, then a table), or died
# of SIGSEGV in its pass over /provenance's attributes (the probe's child had read
# other objects first; it now opens the file afresh for each way commands begin), or
# exited 2 with no line at all (a /provenance group that cannot be opened).
for spec in "sim tests/data/h5/profile_attrs_segv_on_first_read.h5" \
            "sim tests/data/h5/provenance_attrs_unreadable.h5" \
            "report tests/data/h5/provenance_attrs_unreadable.h5" \
            "report tests/data/h5/profile_attrs_segv_on_first_read.h5" \
            "report tests/data/h5/provenance_iterate_segv.h5" \
            "report tests/data/h5/provenance_unopenable.h5"; do
  set -- $spec; cmd=$1 f=$2
  if [ $cmd = sim ]; then args=(sim configs/demo-3tier.yaml --profile "$f"); else args=(report "$f"); fi
  "$C" "${args[@]}" > "$T/out" 2> "$T/err"; rc=$?
  if [ $rc = 2 ] && [ "$(grep -c . "$T/err")" = 1 ] && grep -q "^cleave: error: .*$f" "$T/err"; then
    ok "$cmd $f -> exit 2, one line: $(sed 's/.*h5.: //' "$T/err")"
  else bad "$cmd $f: exit $rc, $(grep -c . "$T/err") lines"; cat "$T/err"; fi
done

# a fuzzed file on which libhdf5 reads past a buffer while the reader's open walks it
# (H5Aexists in reader_init): merge died of SIGSEGV opening it as its second input, where
# the parent's heap (the probe's attribute index was malloc'd between the fork and the
# open) differed from the child's. No crash: exit 0, or exit 2 and one line.
f=tests/data/h5/walk_overread_second_input.h5
rm -f "$T/merged.h5"
"$C" merge "$T/merged.h5" tests/fuzz/corpus/profile_h5/lenet_conti.h5 "$f" > "$T/out" 2> "$T/err"; rc=$?
if [ $rc = 0 ] || { [ $rc = 2 ] && [ "$(grep -c . "$T/err")" = 1 ]; }; then ok "merge (second input) $f -> exit $rc"
else bad "merge (second input) $f: exit $rc"; cat "$T/err"; fi

# a valid profile whose /provenance attribute 'host' h5py rewrote as a variable-length
# string (dense attribute storage): libhdf5 1.10's H5Ocopy of it called a NULL conversion
# function, so merge died of SIGSEGV (and the probe, replaying merge, refused it for
# every command). merge copies attributes by name now: exit 0, the value kept.
cp tests/fuzz/corpus/profile_h5/lenet_conti.h5 "$T/vlen.h5"
if $PY -c "import h5py,sys; f=h5py.File(sys.argv[1],'r+'); f['/provenance'].attrs['host']=b'elsewhere'; f['/profile'].attrs['note']='h5py str'" "$T/vlen.h5"; then
  for probe in on off; do
    rm -f "$T/merged.h5"
    if CLEAVE_H5_PROBE=$probe "$C" merge "$T/merged.h5" "$T/vlen.h5" tests/fuzz/corpus/profile_h5/lenet_conti.h5 > "$T/out" 2> "$T/err" &&
       "$C" report "$T/merged.h5" > "$T/out" 2>&1 && grep -q "host .*elsewhere" "$T/out" &&
       "$C" report "$T/vlen.h5" > /dev/null 2>&1; then ok "merge of an h5py-edited profile (probe $probe): exit 0, host kept"
    else bad "merge of an h5py-edited profile (probe $probe)"; cat "$T/err"; fi
  done
else bad "h5py could not edit the profile"; fi

# fuzzed profiles on which libhdf5's object walk never ended (a corrupt group B-tree
# that H5Ovisit follows as a chain of ever deeper "new" groups): sim --profile, report
# and merge hung forever, then for the probe's 60 s. The walk now stops at 32 levels of
# nesting and the file is refused at once, in the probe's child and in process.
f=tests/data/h5/group_loop_hangs_libhdf5.h5
for probe in on off; do
  for cmd in sim report merge; do
    case $cmd in
      sim) args=(sim configs/demo-3tier.yaml --profile "$f") ;;
      report) args=(report "$f") ;;
      merge) rm -f "$T/merged.h5"; args=(merge "$T/merged.h5" "$f") ;;
    esac
    t0=$(date +%s)
    CLEAVE_H5_PROBE=$probe timeout 120 "$C" "${args[@]}" > "$T/out" 2> "$T/err"; rc=$?; dt=$(( $(date +%s) - t0 ))
    if [ $rc = 2 ] && [ "$(grep -c . "$T/err")" = 1 ] && grep -q "groups nest deeper than 32 levels" "$T/err" &&
       [ $dt -le 10 ]; then ok "$cmd $f (probe $probe) -> exit 2 in ${dt}s, one line"
    else bad "$cmd $f (probe $probe): exit $rc after ${dt}s"; cat "$T/err"; fi
  done
done

# a probe child that never finishes (any other loop inside libhdf5; here the child is
# stopped with SIGSTOP) is killed after CLEAVE_H5_PROBE_TIMEOUT seconds and the file
# refused with one line.
# The child lives ~30 ms: tries until one is caught.
child=
for try in $(seq 20); do
  t0=$(date +%s)
  CLEAVE_H5_PROBE_TIMEOUT=2 "$C" report tests/fuzz/corpus/profile_h5/lenet_conti.h5 > "$T/out" 2> "$T/err" &
  job=$!
  for _ in $(seq 200); do
    cl=$(pgrep -P $job | head -1)
    if [ -n "$cl" ]; then
      # caught only if it really stopped (not a zombie that had finished already)
      kill -STOP "$cl" 2>/dev/null && sleep 0.2 && [ "$(ps -o stat= -p "$cl" 2>/dev/null | cut -c1)" = T ] && child=$cl
      break
    fi
    kill -0 $job 2>/dev/null || break
  done
  wait $job; rc=$?; dt=$(( $(date +%s) - t0 ))
  [ -n "$child" ] && break
done
if [ -z "$child" ]; then
  bad "probe timeout: no probe child caught in 20 tries"
elif [ $rc = 2 ] && [ "$(grep -c . "$T/err")" = 1 ] && grep -q "did not finish reading its metadata within 2 s" "$T/err" &&
   [ $dt -le 30 ]; then ok "a stopped probe child (try $try) -> exit 2 in ${dt}s, one line"
else bad "a stopped probe child: exit $rc after ${dt}s"; cat "$T/err"; fi

# scripts/fuzz_replay_cli.sh (replays fuzzer artifacts through report/sim/merge): contains
# every known file, and reports a cleave that dies of a signal.
if out=$(scripts/fuzz_replay_cli.sh -j 2 --commands "report merge" "$C" tests/fuzz/hdf5-known "$f" 2>&1) &&
   echo "$out" | grep -q "^fuzz_replay_cli: 10 files, 20 commands: .* 0 bad$"; then ok "fuzz_replay_cli: $out"
else bad "fuzz_replay_cli on the known files"; echo "$out"; fi
printf '#!/bin/sh\nkill -SEGV $$\n' > "$T/segv"; chmod +x "$T/segv"
if out=$(scripts/fuzz_replay_cli.sh --commands report "$T/segv" "$f" 2>&1); then bad "fuzz_replay_cli passed a crashing cleave"
elif echo "$out" | grep -q "not contained: report .*(signal 11" && echo "$out" | grep -q " 1 bad$"; then ok "fuzz_replay_cli reports a crash"
else bad "fuzz_replay_cli on a crashing cleave"; echo "$out"; fi

# a valid output still reads (the probe passes it)
if "$C" report tests/fuzz/corpus/profile_h5/lenet_conti.h5 > "$T/out" 2> "$T/err" && [ ! -s "$T/err" ] &&
   grep -q "^provenance:" "$T/out"; then ok "report of a valid profile"
else bad "report of a valid profile"; cat "$T/err"; fi
finish h5_known
