#!/usr/bin/env bash
# Per-host caches and recorded backend versions name what the backend dispatches to
# (ctest: isa_caches). A process capped to AVX2 (ONEDNN_MAX_CPU_ISA) must neither use
# the AVX-512 process's kernel choices or calibration nor overwrite them; the portable
# backend's version names OpenBLAS's kernel set (OPENBLAS_CORETYPE: 2x in sgemm here).
. "$(dirname "$0")/script_lib.sh" "$@"
export CLEAVE_CALIB_DIR="$T/cal"
unset ONEDNN_MAX_CPU_ISA
if ! "$C" infer lenet --reps 1 --warmup 0 --backend dnnl > /dev/null 2>&1; then
  echo "isa_caches: cleave built without oneDNN: only the portable check"
else
"$C" infer resnet18 --reps 1 --warmup 0 > "$T/a.out" 2>&1 || { bad "infer (native ISA)"; cat "$T/a.out"; }
"$C" infer resnet18 --reps 1 --warmup 0 --threads 1 > /dev/null 2>&1
ONEDNN_MAX_CPU_ISA=AVX2 "$C" infer resnet18 --reps 1 --warmup 0 > "$T/b.out" 2>&1 || { bad "infer (AVX2)"; cat "$T/b.out"; }
va="$(sed -n 's/^backend_version: //p' "$T/a.out")"; vb="$(sed -n 's/^backend_version: //p' "$T/b.out")"
case "$vb" in "oneDNN "*" avx2") ok "AVX2 process records '$vb'" ;; *) bad "AVX2 backend_version '$vb'" ;; esac
[ -n "$va" ] && [ "$va" != "$vb" ] && ok "native process records '$va'" || bad "native backend_version '$va'"
na="$(ls "$T/cal" | grep -c '^kernels-.*-dnnl_.*_avx2-t1-')"
nn="$(ls "$T/cal" | grep '^kernels-.*-dnnl_.*-t1-' | grep -vc '_avx2-t1-')"
if [ "$na" = 1 ] && [ "$nn" = 1 ]; then ok "one kernel-choice cache per ISA"; else bad "kernel caches: $(ls "$T/cal" | tr '\n' ' ')"; fi
grep -q '^backend: dnnl oneDNN .* avx2$' "$T"/cal/kernels-*_avx2-t1-*.yaml && ok "AVX2 cache keyed by its ISA" || bad "AVX2 cache key"
# a cache from another ISA under this one's name is refused (its key line differs)
cp "$T"/cal/kernels-*-t1-*.yaml "$T/keep" 2> /dev/null
native="$(ls "$T"/cal/kernels-*-t1-*.yaml | grep -v _avx2-t1-)"; avx2="$(ls "$T"/cal/kernels-*_avx2-t1-*.yaml)"
cp "$native" "$avx2"
ONEDNN_MAX_CPU_ISA=AVX2 "$C" infer resnet18 --reps 1 --warmup 0 > "$T/c.out" 2>&1
grep -q '^backend: dnnl oneDNN .* avx2$' "$avx2" && ok "a copied cache of another ISA is measured again" || bad "copied cache kept"
fi
# the portable backend names OpenBLAS's kernel set
pa="$(CLEAVE_BACKEND=portable OPENBLAS_CORETYPE=Nehalem "$C" infer lenet --reps 1 --warmup 0 | sed -n 's/^backend_version: //p')"
pb="$(CLEAVE_BACKEND=portable OPENBLAS_CORETYPE=Sandybridge "$C" infer lenet --reps 1 --warmup 0 | sed -n 's/^backend_version: //p')"
case "$pa|$pb" in *"OpenBLAS "*" Nehalem)|"*"OpenBLAS "*" Sandybridge)") ok "portable: '$pa' / '$pb'" ;; *) bad "portable versions '$pa' / '$pb'" ;; esac
finish isa_caches
