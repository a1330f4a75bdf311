#!/bin/bash
# The Keras family on the command line: `cleave models --scission` lists Scission's 18
# models under Scission's names with Keras's parameter totals, and `cleave profile
# --blocks scission` writes as many /profile/blocks rows as Scission's benchmark file has
# blocks for the model (counted from tests/data/scission/edge-2500.csv).
# Usage: keras_cli_test.sh BUILD_DIR SOURCE_DIR
. "$(dirname "$0")/script_lib.sh" "$@"
CSV="$S/tests/data/scission/edge-2500.csv"

out="$("$C" models --scission --format csv)"
[ "$(echo "$out" | head -1)" = "name,params,macs,layers,input" ] && ok "csv header" || bad "csv header: $(echo "$out" | head -1)"
names="$(echo "$out" | tail -n +2 | cut -d, -f1 | tr '\n' ' ')"
want="xception vgg16 vgg19 resnet50 resnet101 resnet152 resnet50v2 resnet101v2 resnet152v2 inception_v3 inceptionresnet_v2 mobilenet mobilenetv2 densenet121 densenet169 densenet201 nasnetmobile nasnetlarge "
[ "$names" = "$want" ] && ok "the 18 Scission names in order" || bad "names: $names"
echo "$out" | grep -qx "resnet50,25636712,[0-9]*,177,3x224x224" && ok "resnet50: Keras params and layers" || bad "resnet50 row"
echo "$out" | grep -qx "nasnetlarge,88949818,[0-9]*,1041,3x331x331" && ok "nasnetlarge: Keras params, layers, 331" || bad "nasnetlarge row"
# every listed layer count is Scission's (last output_layer + 1)
for m in $names; do
  l="$(awk -F, -v m="$m" '$1 == m { x = $4 } END { print x + 1 }' "$CSV")"
  echo "$out" | grep -q "^$m,[0-9]*,[0-9]*,$l," || bad "$m: layers != $l"
done
ok "layer counts equal Scission's"
"$C" models --scission keras/vgg16 >/dev/null 2>&1 && bad "--scission with a model accepted" || ok "--scission with a model refused"

for m in mobilenet nasnetmobile; do
  want_b="$(awk -F, -v m="$m" '$1 == m' "$CSV" | wc -l)"
  "$C" profile "keras/$m" -o "$T/$m.h5" --reps 1 --warmup 0 --blocks scission >"$T/$m.log" 2>&1 || bad "profile $m failed: $(cat "$T/$m.log")"
  got="$(h5ls "$T/$m.h5/profile/blocks" | sed -n 's/.*{\([0-9]*\)\/Inf}.*/\1/p')"
  [ "$got" = "$want_b" ] && ok "$m: $got Scission blocks in /profile/blocks" || bad "$m: $got blocks, Scission has $want_b"
done
"$C" profile resnet18 -o "$T/r.h5" --reps 1 --warmup 0 --blocks scission >/dev/null 2>&1 && bad "--blocks scission on a torchvision model accepted" || ok "--blocks scission refuses a non-Keras model"
"$C" profile keras/mobilenet -o "$T/x.h5" --blocks bogus >/dev/null 2>&1 && bad "--blocks bogus accepted" || ok "--blocks bogus refused"
finish keras_cli
