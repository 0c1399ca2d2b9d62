#!/bin/bash
# synth_targets.sh BUILD_DIR SOURCE_DIR -- a candidate of every synthesis
# rule compiled for host, armv8 and pi3-armv7 (the ARM ones run under
# qemu) gives the interpreter's outputs of the same rewritten model
# (within 1e-4 of the output's scale, tests/e2e/lib.sh):
# - the trained Fashion-MNIST ResNet with each fitted rule on its own
#   layer (weights fitted on 64 real training images), and the MobileNet
#   with two squeeze-excite gates frozen;
# - the exact rules on small ONNX models built here (phase split of a
#   stride-2 ConvTranspose, zero channels removed from a conv pair).
# Every rule in `gos-opt --help`'s table must appear in one of them, so
# a new rule without a cross-target check fails here.
set -u
build=${1:?usage: synth_targets.sh BUILD_DIR SOURCE_DIR}
src=${2:?usage: synth_targets.sh BUILD_DIR SOURCE_DIR}
build=$(cd "$build" && pwd) && src=$(cd "$src" && pwd) || exit 1
. "$src/tests/e2e/lib.sh"
opt=$build/gos-opt
norm="--mean 0.2860 --std 0.3530"
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] ||
	{ fail "no Fashion-MNIST (apt-get install dataset-fashion-mnist)"; e2e_finish; }

# one fitted rule per layer of the ResNet
L=/layers/layers
fitted="/stem/stem.0/Conv_output_0/shrink1x1
$L.0/c1/c1.0/Conv_output_0/lowrank:r=7
$L.0/c2/c2.0/Conv_output_0/separable:m=12
$L.1/c1/c1.0/Conv_output_0/shrinkkx1
$L.1/c2/c2.0/Conv_output_0/shrink1xk
$L.2/c1/c1.0/Conv_output_0/grouped:g=2
$L.2/c2/c2.0/Conv_output_0/dwsep
$L.3/c2/c2.0/Conv_output_0/prune:c=16
$L.5/c1/c1.0/Conv_output_0/winograd:m=2
$L.5/c2/c2.0/Conv_output_0/winograd:m=4"
spec=$(echo "$fitted" | paste -sd, -)
mkdir -p "$tmp/m"
models=
if "$opt" "$src/examples/fashion/resnet.onnx" --apply="$spec" --calib fashion-mnist:train:64 \
	$norm -o "$tmp/m/resnet_fitted.gir" >"$tmp/log" 2>&1; then
	models="$tmp/m/resnet_fitted.gir"
else
	fail "gos-opt --apply (fitted rules on the ResNet): $(head -3 "$tmp/log")"
fi

# the MobileNet with two squeeze-excite gates frozen (their branches
# removed, the per-channel scales fused into the depthwise filters)
B=/blocks/blocks
frozen="$B.3/se/HardSigmoid_output_0/freeze
$B.6/se/HardSigmoid_output_0/freeze"
if "$opt" "$src/examples/fashion/mobilenet.onnx" --apply="$(echo "$frozen" | paste -sd, -)" \
	--calib fashion-mnist:train:64 $norm -o "$tmp/m/mobilenet_frozen.gir" >"$tmp/log" 2>&1; then
	models="$models $tmp/m/mobilenet_frozen.gir"
else
	fail "gos-opt --apply (freeze on the MobileNet): $(head -3 "$tmp/log")"
fi

# exact rules on small ONNX models: the phase split of a stride-2
# transposed convolution; zero input channels of a convolution removed
# with the producer's (conv -> relu -> conv whose weight has zero columns)
exact="y/phase
c2/zerochan"
if "$python" -c 'import onnx' 2>/dev/null; then
	"$python" - "$tmp/ct.onnx" <<'EOF'
import sys, numpy as np, onnx
from onnx import helper, TensorProto, numpy_helper
r = np.random.RandomState(7)
w = numpy_helper.from_array((r.randn(12, 8, 4, 4) * 0.3).astype(np.float32), "W")
b = numpy_helper.from_array(r.randn(8).astype(np.float32), "B")
node = helper.make_node("ConvTranspose", ["x", "W", "B"], ["y"], strides=[2, 2], pads=[1, 1, 1, 1])
g = helper.make_graph([node], "ct", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 12, 9, 9])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 18, 18])], [w, b])
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), sys.argv[1])
EOF
	"$python" - "$tmp/zc.onnx" <<'EOF'
import sys, numpy as np, onnx
from onnx import helper, TensorProto, numpy_helper
r = np.random.RandomState(8)
w1 = (r.randn(12, 3, 3, 3) * 0.3).astype(np.float32)
w2 = (r.randn(10, 12, 3, 3) * 0.3).astype(np.float32)
w2[:, [2, 3, 7]] = 0
inits = [numpy_helper.from_array(w1, "W1"), numpy_helper.from_array(r.randn(12).astype(np.float32), "B1"),
         numpy_helper.from_array(w2, "W2"), numpy_helper.from_array(r.randn(10).astype(np.float32), "B2")]
nodes = [helper.make_node("Conv", ["x", "W1", "B1"], ["c1"], pads=[1, 1, 1, 1]),
         helper.make_node("Relu", ["c1"], ["r1"]),
         helper.make_node("Conv", ["r1", "W2", "B2"], ["c2"], pads=[1, 1, 1, 1])]
g = helper.make_graph(nodes, "zc", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 10, 10])],
                      [helper.make_tensor_value_info("c2", TensorProto.FLOAT, [1, 10, 10, 10])], inits)
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), sys.argv[1])
EOF
	for e in $exact; do
		base=${e##*/}
		f=zc
		[ "$base" = phase ] && f=ct
		if "$opt" "$tmp/$f.onnx" --apply="$e" -o "$tmp/m/${f}_$base.gir" >"$tmp/log" 2>&1; then
			models="$models $tmp/m/${f}_$base.gir"
		else
			fail "gos-opt --apply=$e: $(head -3 "$tmp/log")"
		fi
	done
else
	echo "SKIP the phase model (no python3-onnx)"
	skipped=$((skipped + 1))
fi

# the algebraic rules: the rewritten models of tests/synth_algebra (the
# IR gos-opt -O2 gives, checked there against golden files)
algebra="fold simplify share merge"
for r in $algebra; do
	cp "$src/tests/synth_algebra/$r.gir" "$tmp/m/alg_$r.gir" && models="$models $tmp/m/alg_$r.gir"
done

# every rule of the table is covered above
rules=$("$opt" --help 2>&1 | sed -n 's/^  rule  *\([a-z0-9_]*\) .*/\1/p')
for r in $rules; do
	printf '%s\n%s\n%s\n%s\n' "$fitted" "$frozen" "$exact" "$(printf '/%s\n' $algebra)" | grep -q "/$r\(:\|$\)" ||
		fail "rule $r has no candidate in synth_targets.sh"
done

e2e_run_matrix "$models" given
e2e_finish
