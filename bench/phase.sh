#!/bin/bash
# phase.sh [BUILD_DIR] -- host time of strided transposed convolutions
# (ONNX ConvTranspose, seeded weights) as imported (masked sum over every
# tap) and after the exact `phase` rule, measured side by side in one run
# with the static runner (--bench 30, median ms). Prints a markdown table.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "| layer | masked ms | phase ms | speedup |"
echo "|---|---|---|---|"
for spec in "64 32 40 4 2 1 0" "32 16 80 4 2 1 0" "96 48 20 3 2 1 1" "32 32 30 2 2 0 0"; do
	set -- $spec
	name="C$1-K$2-${3}x$3-k$4-s$5-p$6-op$7"
	/usr/bin/python3 - "$tmp/m.onnx" "$@" <<'EOF'
import sys, numpy as np, onnx
from onnx import helper, TensorProto, numpy_helper
out, C, K, H, k, s, p, op = sys.argv[1], *map(int, sys.argv[2:])
r = np.random.RandomState(0)
W = (r.randn(C, K, k, k) * 0.1).astype(np.float32)
B = r.randn(K).astype(np.float32)
n = helper.make_node("ConvTranspose", ["x", "W", "B"], ["y"], strides=[s, s], pads=[p] * 4,
                     output_padding=[op, op])
P = s * (H - 1) + op + k - 2 * p
g = helper.make_graph([n], "ct", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, C, H, H])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, K, P, P])],
                      [numpy_helper.from_array(W, "W"), numpy_helper.from_array(B, "B")])
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), out)
EOF
	"$build/gos-opt" "$tmp/m.onnx" --apply=y/phase -o "$tmp/p.gir"
	"$build/gosc" "$tmp/m.onnx" -target=host -emit=exe -o "$tmp/m.exe"
	"$build/gosc" "$tmp/p.gir" -target=host -emit=exe -o "$tmp/p.exe"
	a=$("$tmp/m.exe" --random-inputs --bench 30 | sed 's/median_ms=\([0-9.]*\).*/\1/')
	b=$("$tmp/p.exe" --random-inputs --bench 30 | sed 's/median_ms=\([0-9.]*\).*/\1/')
	echo "| $name | $a | $b | $(/usr/bin/python3 -c "print(f'{$a / $b:.1f}x')") |"
done
