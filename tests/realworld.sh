#!/bin/bash
# realworld.sh BUILD_DIR SOURCE_DIR -- the two models of
# examples/realworld/make_models.py (a paddle2onnx-style detector and an
# SVTR-style recogniser, symbolic input dimensions) at small shapes:
#   - without -input-shape gosc names the unset symbolic dimensions and the
#     flag, exits 1 and writes nothing;
#   - with it, the compiled host code and the reference interpreter
#     (gos-run --input-shape) agree with ONNX Runtime within 1e-4 of the
#     output's scale on the same random input;
#   - gos-cost predict takes --input-shape too (and fails without it), also
#     with --proxy (which passes it to gosc).
# Skipped without /usr/bin/python3 + onnx or without onnxruntime-node.
set -u
build=$(cd "${1:?}" && pwd) src=$(cd "${2:?}" && pwd) || exit 1
py=/usr/bin/python3
if ! "$py" -c 'import onnx, numpy' 2>/dev/null; then
	echo "realworld: skipped: $py cannot import onnx and numpy (apt-get install python3-onnx)"
	exit 0
fi
if ! command -v node >/dev/null || [ ! -d "$src/bench/ort/node_modules/onnxruntime-node" ]; then
	echo "realworld: skipped: no node or no onnxruntime-node (sh scripts/deps.sh)"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
"$py" "$src/examples/realworld/make_models.py" . || { echo "FAIL: make_models.py"; exit 1; }
for c in "detector 1,3,64,96" "recogniser 2,3,48,64"; do
	set -- $c
	m=$1 shape=$2
	# symbolic dimensions left unset: a clear error, no output
	if "$build/gosc" $m.onnx -target=host -o none.o 2>unset.err; then
		fail "$m: compiled with its symbolic dimensions unset"
	fi
	grep -q "input-shape" unset.err && grep -q "batch" unset.err ||
		fail "$m: the error does not name the dimension and the flag: $(head -3 unset.err)"
	[ ! -e none.o ] && [ ! -e none.h ] || fail "$m: a failed compile left output"
	"$py" -c "
import numpy as np, os, sys
os.makedirs('$m.in', exist_ok=True)
np.save('$m.in/x.input.npy', np.random.default_rng(7).normal(0, 1, [int(v) for v in '$shape'.split(',')]).astype(np.float32))"
	if ! "$build/gosc" $m.onnx -input-shape x=$shape -target=host -emit=exe -o $m.run 2>$m.err; then
		fail "$m: gosc -input-shape x=$shape: $(head -5 $m.err)"
		continue
	fi
	node "$src/bench/ort/ort-run.js" $m.onnx --input-dir $m.in --output-dir $m.ort 2>$m.ort.err ||
		{ fail "$m: ONNX Runtime: $(head -3 $m.ort.err)"; continue; }
	./$m.run --input x=$m.in/x.input.npy --output-dir $m.host >/dev/null 2>&1 ||
		fail "$m: the compiled runner failed"
	"$py" "$src/scripts/npycmp.py" $m.ort $m.host >$m.cmp 2>&1 ||
		fail "$m: host code vs ONNX Runtime: $(cat $m.cmp)"
	"$build/gos-run" $m.onnx --input-shape x=$shape --input x=$m.in/x.input.npy \
		--output-dir $m.interp >/dev/null 2>$m.interp.err ||
		fail "$m: gos-run: $(head -3 $m.interp.err)"
	"$py" "$src/scripts/npycmp.py" $m.ort $m.interp >$m.icmp 2>&1 ||
		fail "$m: interpreter vs ONNX Runtime: $(cat $m.icmp)"
	"$build/gos-cost" predict -target=pi3 --input-shape x=$shape $m.onnx >$m.cost 2>&1 ||
		fail "$m: gos-cost predict --input-shape: $(cat $m.cost)"
	! "$build/gos-cost" predict -target=pi3 $m.onnx >/dev/null 2>&1 ||
		fail "$m: gos-cost predicted with the symbolic dimensions unset"
	"$build/gos-cost" predict --proxy --runs 3 --input-shape x=$shape $m.onnx >$m.proxy 2>&1 &&
		grep -q "^$m.onnx,[0-9.e+-]*$" $m.proxy ||
		fail "$m: gos-cost predict --proxy --input-shape: $(cat $m.proxy)"
	echo "$m x=$shape: host $(grep -o 'max_abs_err=[^ ]* scale=[^ ]*' $m.cmp), interpreter $(grep -o 'max_abs_err=[^ ]*' $m.icmp)"
done
[ $fails -eq 0 ] && echo "realworld: all passed"
[ $fails -eq 0 ]
