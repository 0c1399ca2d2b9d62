#!/bin/bash
# winograd.sh [BUILD_DIR] -- host time of ResNet-18's 3x3 stride-1 layers
# (batch 1, seeded weights, bias, ReLU) as direct convolutions and after
# the exact `winograd` rule with m = 2 and m = 4, measured side by side in
# one run with the static runner (--bench 30, median ms), and the
# largest error of each form against the direct one on one random input
# (interpreter; max-abs and relative to max |y|). Prints a markdown table.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
py=/usr/bin/python3
ms() { "$1" --random-inputs --bench 30 | sed 's/median_ms=\([0-9.]*\).*/\1/'; }
err() {
	"$py" -c "
import numpy as np
a, b = np.load('$1').astype(np.float64), np.load('$2').astype(np.float64)
e = np.abs(a - b).max()
print(f'{e:.2e} / {e / np.abs(a).max():.2e}')"
}
echo "| layer | direct ms | F(2x2) ms | F(4x4) ms | F(2x2) speedup | F(4x4) speedup | F(2x2) err abs / rel | F(4x4) err abs / rel |"
echo "|---|---|---|---|---|---|---|---|"
for spec in "64 56" "128 28" "256 14" "512 7"; do
	set -- $spec
	C=$1 H=$2
	cat >"$tmp/l.gos" <<EOG
model layer {
  input x: f32[1, $C, $H, $H];
  weights seed 1;
  h = conv2d(x, param[$C, $C, 3, 3], param[$C]; pad = 1);
  output y = relu(h);
}
EOG
	"$build/gosc" "$tmp/l.gos" -target=host -emit=exe -o "$tmp/d.exe"
	"$build/gos-run" "$tmp/l.gos" --random-inputs --seed 1 --output-dir "$tmp/ref" >/dev/null
	for mt in 2 4; do
		"$build/gos-opt" "$tmp/l.gos" --apply=h/winograd:m=$mt -o "$tmp/w$mt.gir"
		"$build/gosc" "$tmp/w$mt.gir" -target=host -emit=exe -o "$tmp/w$mt.exe"
		"$build/gos-run" "$tmp/w$mt.gir" --input "x=$tmp/ref/x.input.npy" --output-dir "$tmp/o$mt" >/dev/null
	done
	t0=$(ms "$tmp/d.exe") t2=$(ms "$tmp/w2.exe") t4=$(ms "$tmp/w4.exe")
	s2=$("$py" -c "print(f'{$t0 / $t2:.2f}x')") s4=$("$py" -c "print(f'{$t0 / $t4:.2f}x')")
	echo "| ${C}ch ${H}x$H | $t0 | $t2 | $t4 | $s2 | $s4 | $(err "$tmp/ref/y.npy" "$tmp/o2/y.npy") | $(err "$tmp/ref/y.npy" "$tmp/o4/y.npy") |"
done
