#!/bin/bash
# synth_layers.sh [BUILD_DIR] -- per synthesis rule, on single layers of
# ResNet-18 and MobileNetV2 shapes (seeded weights; fitted rules fitted
# on 8 random calibration inputs): the layer's FLOPs ratio, host ms of
# the original and of the replacement measured side by side in one run
# (static runner, --bench 30, median), and the analytic cost model's
# predicted ms on pi3 and redmi-note7s. Prints a markdown table (the one
# in docs/synthesis.md). Not part of the tests. Each layer reads the
# model's input, so prune has no producer to shrink here: its rows time
# the gather of the kept channels plus the narrower convolution.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ms() { "$1" --random-inputs --bench 30 | sed 's/median_ms=\([0-9.]*\).*/\1/'; }
pred() { "$build/gos-cost" predict -target="$1" "$2" | cut -d, -f2; }
echo "| layer | candidate | FLOPs | host ms (orig -> new) | host speedup | pi3 ms (orig -> new) | redmi-note7s ms (orig -> new) |"
echo "|---|---|---|---|---|---|---|"
# name C K H k stride
for spec in "resnet18.layer2.conv 128 128 28 3 1" "resnet18.layer3.conv 256 256 14 3 1" \
	"resnet18.layer1.conv 64 64 56 3 1" "mobilenetv2.expand1x1 32 192 28 1 1"; do
	set -- $spec
	name=$1 C=$2 K=$3 H=$4 k=$5 s=$6
	p=$((k / 2))
	cat >"$tmp/l.gos" <<EOF
model layer {
  input x: f32[1, $C, $H, $H];
  weights seed 1;
  h = conv2d(x, param[$K, $C, $k, $k], param[$K]; stride = $s, pad = $p);
  output y = relu(h);
}
EOF
	/usr/bin/python3 -c "
import numpy as np
r = np.random.RandomState(0)
np.savez('$tmp/calib.npz', x=r.rand(8, $C, $H, $H).astype(np.float32), y=np.zeros(8, np.int64))"
	"$build/gosc" "$tmp/l.gos" -target=host -emit=exe -o "$tmp/orig.exe"
	t0=$(ms "$tmp/orig.exe")
	p0=$(pred pi3 "$tmp/l.gos")
	r0=$(pred redmi-note7s "$tmp/l.gos")
	"$build/gos-opt" "$tmp/l.gos" --synth --calib "$tmp/calib.npz:8" >"$tmp/list"
	tail -n +2 "$tmp/list" | grep -v '^(' | awk '{ r = $2; x = $4 + 0; d = x - 0.5; if (d < 0) d = -d;
		if (!(r in best) || d < bd[r]) { best[r] = $0; bd[r] = d } } END { for (r in best) print best[r] }' |
		sort >"$tmp/chosen"
	while read -r cand rule kind flops err; do
		"$build/gos-opt" "$tmp/l.gos" --apply="$cand" --calib "$tmp/calib.npz:8" -o "$tmp/c.gir" </dev/null
		"$build/gosc" "$tmp/c.gir" -target=host -emit=exe -o "$tmp/c.exe" </dev/null
		t0=$(ms "$tmp/orig.exe" </dev/null) # again, beside the candidate
		t1=$(ms "$tmp/c.exe" </dev/null)
		p1=$(pred pi3 "$tmp/c.gir" </dev/null)
		r1=$(pred redmi-note7s "$tmp/c.gir" </dev/null)
		sp=$(/usr/bin/python3 -c "print(f'{$t0 / $t1:.2f}x')")
		echo "| $name ${C}->${K} ${H}x${H} k$k | \`${cand##*/}\` | $flops | $t0 -> $t1 | $sp | $p0 -> $p1 | $r0 -> $r1 |"
	done <"$tmp/chosen"
done
