#!/bin/bash
# input_shape.sh BUILD_DIR SOURCE_DIR -- -input-shape on ONNX models with
# symbolic input dimensions (as exporters write them: batch, height,
# width): a two-input model (conv + resize-free arithmetic, a dense head
# over a symbolic batch) compiles for two different shapes, gos-run and
# the compiled code agree with ONNX Runtime (when installed; else with
# each other), and every bad request is an error naming the input or the
# flag, exit 1, no output file.
set -u
build=${1:?usage: input_shape.sh BUILD_DIR SOURCE_DIR}
src=${2:?usage: input_shape.sh BUILD_DIR SOURCE_DIR}
build=$(cd "$build" && pwd) && src=$(cd "$src" && pwd) || exit 1
py=/usr/bin/python3
"$py" -c 'import onnx, numpy' 2>/dev/null ||
	{ echo "input_shape: skipped: $py cannot import onnx and numpy (python3-onnx)"; exit 0; }
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ort=$src/bench/ort
have_ort=0
[ -f "$ort/node_modules/onnxruntime-node/package.json" ] && command -v node >/dev/null && have_ort=1

"$py" - "$tmp/sym.onnx" <<'EOF'
import sys, numpy as np, onnx
from onnx import helper, TensorProto, numpy_helper
r = np.random.RandomState(3)
w = numpy_helper.from_array((r.randn(8, 3, 3, 3) * 0.3).astype(np.float32), "W")
b = numpy_helper.from_array(r.randn(8).astype(np.float32), "B")
s = numpy_helper.from_array(r.randn(1, 8, 1, 1).astype(np.float32), "S")
nodes = [
    helper.make_node("Conv", ["x", "W", "B"], ["c"], pads=[1, 1, 1, 1]),
    helper.make_node("Relu", ["c"], ["r"]),
    helper.make_node("Mul", ["r", "S"], ["m"]),
    helper.make_node("Add", ["m", "skip"], ["y"]),
    helper.make_node("ReduceMean", ["y"], ["g"], axes=[2, 3], keepdims=0),
]
ins = [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, "h", "w"]),
       helper.make_tensor_value_info("skip", TensorProto.FLOAT, ["batch", 8, "h", "w"])]
outs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 8, "h", "w"]),
        helper.make_tensor_value_info("g", TensorProto.FLOAT, ["batch", 8])]
g = helper.make_graph(nodes, "sym", ins, outs, [w, b, s])
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), sys.argv[1])
EOF
m=$tmp/sym.onnx

for shp in "2 20 28" "1 48 192"; do
	set -- $shp
	n=$1 h=$2 w=$3 tag=$1x$2x$3
	flags=(-input-shape "x=$n,3,$h,$w" -input-shape "skip=$n,8,$h,$w")
	if ! "$build/gos-run" "$m" --input-shape "x=$n,3,$h,$w" --input-shape="skip=$n,8,$h,$w" \
		--random-inputs --seed 4 --output-dir "$tmp/$tag.ref" >/dev/null 2>"$tmp/err"; then
		fail "$tag: gos-run --input-shape: $(head -3 "$tmp/err")"
		continue
	fi
	if ! "$build/gosc" "$m" "${flags[@]}" -target=host -emit=exe -o "$tmp/$tag.exe" 2>"$tmp/err" ||
		! "$tmp/$tag.exe" --input "x=$tmp/$tag.ref/x.input.npy" --input "skip=$tmp/$tag.ref/skip.input.npy" \
			--output-dir "$tmp/$tag.host" >/dev/null 2>&1; then
		fail "$tag: gosc -input-shape: $(head -3 "$tmp/err")"
		continue
	fi
	"$py" "$src/scripts/npycmp.py" "$tmp/$tag.host" "$tmp/$tag.ref" 1e-4 >"$tmp/cmp" ||
		fail "$tag: host code differs from the interpreter: $(cat "$tmp/cmp")"
	"$py" -c "import numpy as np, sys; sys.exit(0 if np.load('$tmp/$tag.ref/y.npy').shape == ($n, 8, $h, $w) else 1)" ||
		fail "$tag: output y does not have shape [$n, 8, $h, $w]"
	if [ $have_ort = 1 ]; then
		if node "$ort/ort-run.js" "$m" --input-dir "$tmp/$tag.ref" --output-dir "$tmp/$tag.ort" 2>"$tmp/err"; then
			"$py" "$src/scripts/npycmp.py" "$tmp/$tag.ort" "$tmp/$tag.ref" 1e-4 >"$tmp/cmp" ||
				fail "$tag: gos-run differs from ONNX Runtime: $(cat "$tmp/cmp")"
		else
			fail "$tag: ONNX Runtime failed: $(head -3 "$tmp/err")"
		fi
	fi
	echo "input_shape: $tag: gosc/gos-run with -input-shape$([ $have_ort = 1 ] && echo ' match ONNX Runtime' || echo ' agree (ONNX Runtime not installed)')"
done

# gos-import and gos-opt take it too
"$build/gos-import" "$m" --input-shape x=1,3,8,8 --input-shape skip=1,8,8,8 -o "$tmp/imp.gos" 2>"$tmp/err" &&
	grep -q 'f32\[1, 3, 8, 8\]' "$tmp/imp.gos" || fail "gos-import --input-shape: $(head -3 "$tmp/err")"
"$build/gos-opt" "$m" --input-shape x=1,3,8,8 --input-shape skip=1,8,8,8 --flops >/dev/null 2>"$tmp/err" ||
	fail "gos-opt --input-shape: $(head -3 "$tmp/err")"

# errors: exit 1, the message names what is wrong, no output file
bad() { # pattern args...
	local pat=$1
	shift
	rm -f "$tmp/bad.o" "$tmp/bad.h"
	if "$build/gosc" -o "$tmp/bad.o" "$@" 2>"$tmp/err"; then
		fail "gosc $*: succeeded"
	elif ! grep -q -- "$pat" "$tmp/err"; then
		fail "gosc $*: error does not say '$pat': $(head -2 "$tmp/err")"
	elif [ -e "$tmp/bad.o" ] || [ -e "$tmp/bad.h" ]; then
		fail "gosc $*: left an output file"
	fi
}
bad "dimension 0 is symbolic ('batch'); set the input's shape with -input-shape x=" "$m"
bad "'skip': dimension 0 is symbolic" "$m" -input-shape x=1,3,8,8
bad "has rank 4; -input-shape gives 3" "$m" -input-shape x=1,8,8 -input-shape skip=1,8,8,8
bad "dimension 1 is 3 in the model; -input-shape gives 4" "$m" -input-shape x=1,4,8,8 -input-shape skip=1,8,8,8
bad "'nope', which is not a float input" "$m" -input-shape x=1,3,8,8 -input-shape skip=1,8,8,8 -input-shape nope=1
bad "dimension 1 is not a positive integer" "$m" -input-shape x=1,0,8,8
bad "expected NAME=D0,D1" "$m" -input-shape x
bad "expected NAME=D0,D1" "$m" -input-shape =1,2
bad "expected NAME=D0,D1,... after it" "$m" -input-shape
rm -f "$tmp/bad.o"
if "$build/gosc" "$src/examples/tiny.gos" -input-shape x=1,3,31,32 -o "$tmp/bad.o" 2>"$tmp/err"; then
	fail "gosc tiny.gos -input-shape with another shape: succeeded"
else
	grep -q "declared with shape \[1,3,32,32\]" "$tmp/err" || fail "tiny.gos: $(head -2 "$tmp/err")"
fi
"$build/gosc" "$src/examples/tiny.gos" -input-shape x=1,3,32,32 -o "$tmp/same.o" 2>"$tmp/err" ||
	fail "gosc tiny.gos with its own shape: $(head -2 "$tmp/err")"

[ "$fails" -eq 0 ] || { echo "input_shape: $fails failure(s)"; exit 1; }
echo "input_shape: ok"
