#!/usr/bin/env bash
# Planners on cleave HDF5 profiles -> --emit-config -> cleave run (ctest: planint_cli, label mpi).
#   usage: planint_test.sh BUILD_DIR SOURCE_DIR
# Profiles squeezenet1_1 as three "machines" (--slowdown 8 / 2 / 0.5), plans it with DADS
# (real DAG), Neurosurgeon and Scission (3 tiers) from the .h5 profiles, emits testbed
# configs and runs them under MPI with --verify; checks speeds, links, the placement, the
# predicted vs run latency, the speed derivation for a foreign profile, and the error for
# --emit-config from Scission CSV profiles.
. "$(dirname "$0")/script_lib.sh" "$@"
M=squeezenet1_1
mkdir -p "$T/prof"

# 0. profiles: three machines of one host, plus a host profile (slowdown 1) for cleave sim
for spec in device-dev:8 edge-box:2 cloud-srv:0.5; do
  timeout 120 "$C" profile $M --reps 3 --warmup 1 --slowdown "${spec#*:}" -o "$T/prof/${spec%%:*}.h5" > /dev/null ||
    bad "profile $spec"
done
timeout 120 "$C" profile $M --reps 3 --warmup 1 -o "$T/host.h5" > /dev/null || bad "host profile"
NSTEPS=$($PY -c "import h5py,sys; print(h5py.File(sys.argv[1],'r')['/profile/layers'].shape[0])" "$T/prof/device-dev.h5")
printf 'source,destination,ping(ms),bandwidth(mbps)\ndev,box,2,100\nbox,srv,5,200\ndev,srv,20,50\n' > "$T/prof/net.csv"

# 1. loader: DADS units = profile steps, step 0 (the input) on the device
"$C" plan dads --profiles "$T/prof" --bandwidth 50 --latency 5 --format csv $M > "$T/d.csv" 2> "$T/d.err"
if [ "$(($(wc -l < "$T/d.csv") - 1))" = "$NSTEPS" ] && sed -n 2p "$T/d.csv" | grep -q '^0,0,0,0,'; then
  ok "dads on .h5 steps ($NSTEPS)"; else bad "dads csv"; cat "$T/d.csv" "$T/d.err"; fi

# 2. DADS -> config -> run --verify (2 ranks)
"$C" plan dads --profile device=$T/prof/device-dev.h5 --profile cloud=$T/prof/cloud-srv.h5 --bandwidth 50 \
  --latency 5 --emit-config "$T/dads.yaml" --inferences 5 > "$T/dads.out" 2>&1 || bad "dads emit"
ncloud=$(sed -n 's/.* \([0-9]*\) of [0-9]* nodes on the cloud.*/\1/p' "$T/dads.out")
if [ "${ncloud:-0}" -ge 1 ] && grep -q '{name: dev, tier: device, speed: 8}' "$T/dads.yaml" &&
   grep -q '{name: srv, tier: cloud, speed: 0.5}' "$T/dads.yaml" &&
   grep -q '{from: dev, to: srv, latency: 5ms, bandwidth: 50Mbit/s}' "$T/dads.yaml" &&
   [ "$(grep -c '^  - {node:' "$T/dads.yaml")" = 2 ]; then ok "dads config ($ncloud steps on the cloud)"
else bad "dads config"; cat "$T/dads.out" "$T/dads.yaml"; fi
if timeout 120 $MPI -n 2 "$C" run "$T/dads.yaml" --verify -o "$T/dads.h5" > "$T/dads.run" 2>&1 &&
   grep -q "verify: max relative difference" "$T/dads.run"; then ok "dads run --verify"
else bad "dads run"; cat "$T/dads.run"; fi
# the planner's prediction and the run's virtual clock agree (loose: a shared, noisy host)
pred=$(sed -n 's/^latency \([0-9.]*\) s.*/\1/p' "$T/dads.out")
$PY - "$T/dads.h5" "$pred" <<'PY' && ok "dads predicted vs run" || bad "dads predicted vs run"
import sys, h5py, numpy as np
lat = np.median(h5py.File(sys.argv[1], "r")["/inferences"]["latency"])
pred = float(sys.argv[2])
print(f"  dads predicted {pred*1e3:.3f} ms, run median {lat*1e3:.3f} ms")
assert abs(lat - pred) / pred < 0.35
PY

# 3. Neurosurgeon (named machines) -> config -> run --verify
"$C" plan neurosurgeon --profile device:phone=$T/prof/device-dev.h5 --profile cloud:dc=$T/prof/cloud-srv.h5 \
  --bandwidth 50 --latency 5 --emit-config "$T/ns.yaml" > "$T/ns.out" 2>&1 || bad "neurosurgeon emit"
if grep -q '{name: phone, tier: device, speed: 8}' "$T/ns.yaml" &&
   timeout 120 $MPI -n 2 "$C" run "$T/ns.yaml" --verify > "$T/ns.run" 2>&1 &&
   grep -q "verify: max relative difference" "$T/ns.run"; then ok "neurosurgeon config + run --verify"
else bad "neurosurgeon"; cat "$T/ns.out" "$T/ns.yaml" "$T/ns.run"; fi

# 4. Scission, three tiers all used -> config -> run --verify (3 ranks) -> cleave sim
"$C" plan scission --profiles "$T/prof" --network net.csv -d '!-1' -e '!-1' -c '!-1' --emit-config "$T/sc.yaml" \
  $M > "$T/sc.out" 2>&1 || bad "scission emit"
if [ "$(grep -c '^  - {node:' "$T/sc.yaml")" = 3 ] && grep -q '{name: box, tier: edge, speed: 2}' "$T/sc.yaml" &&
   grep -q '{from: box, to: srv, latency: 5ms, bandwidth: 200Mbit/s}' "$T/sc.yaml" &&
   timeout 120 $MPI -n 3 "$C" run "$T/sc.yaml" --verify -o "$T/sc.h5" > "$T/sc.run" 2>&1 &&
   grep -q "verify: max relative difference" "$T/sc.run"; then ok "scission 3-tier config + run --verify"
else bad "scission"; cat "$T/sc.out" "$T/sc.yaml" "$T/sc.run"; fi
if "$C" sim "$T/sc.yaml" --profile "$T/host.h5" --compare "$T/sc.h5" > "$T/sc.sim" 2>&1 &&
   grep -q "median_abs_error_pct" "$T/sc.sim"; then ok "cleave sim --compare on the emitted config"
else bad "sim"; cat "$T/sc.sim"; fi

# 5. a profile from another host: speed = its total / this host's total (from a local profile)
cp "$T/prof/device-dev.h5" "$T/foreign.h5"
$PY -c "import h5py,sys; f=h5py.File(sys.argv[1],'r+'); f['/provenance'].attrs['host']=b'elsewhere'" "$T/foreign.h5"
"$C" plan dads --profile device:far=$T/foreign.h5 --profile cloud=$T/prof/cloud-srv.h5 --bandwidth 50 \
  --emit-config "$T/far.yaml" > /dev/null 2>&1 || bad "foreign emit"
sp=$(sed -n 's/.*{name: far, tier: device, speed: \([0-9.e+-]*\)}.*/\1/p' "$T/far.yaml")
if grep -q "speed = .* s on far / .* s on this host" "$T/far.yaml" && $PY - "$T/foreign.h5" "$T/prof/cloud-srv.h5" \
     "${sp:-0}" <<'PY'; then ok "derived speed $sp = far's total / (srv's total / 0.5)"
import sys, h5py
tot = lambda p: h5py.File(p, "r")["/profile/layers"]["cpu_median"].sum()
want = tot(sys.argv[1]) / (tot(sys.argv[2]) / 0.5)
assert abs(float(sys.argv[3]) - want) <= 1e-6 * want, (sys.argv[3], want)
PY
else bad "foreign speed '$sp'"; cat "$T/far.yaml"; fi

# 6. --emit-config from Scission CSV profiles is refused with a clear message (exit 2)
"$C" plan scission --profiles "$S/tests/data/scission" --network network_stats.csv vgg19 \
  --emit-config "$T/x.yaml" > /dev/null 2> "$T/x.err"
rc=$?
if [ $rc = 2 ] && grep -q "needs cleave HDF5 profiles" "$T/x.err" && [ ! -e "$T/x.yaml" ]; then ok "csv refused"
else bad "csv emit rc=$rc"; cat "$T/x.err"; fi

finish planint
