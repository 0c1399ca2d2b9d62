#!/bin/bash
# onnx_errors.sh BUILD_DIR SOURCE_DIR -- bad ONNX input gives one clear
# error, never a crash:
#   - an unsupported operator names the node and its op type; an output the
#     importer cannot compute names it too (gosc and gos-import);
#   - every tested truncation of three valid models, random byte changes
#     and files of random bytes make gosc exit with status 0 (a still valid
#     model) or 1 with an "error:" line; anything else (a signal, or a
#     sanitizer report: ASan exits with 99 here) fails.
# Deterministic (bash's RANDOM is seeded). Uses models of libonnx-testdata;
# skipped without it.
set -u
build=${1:?usage: onnx_errors.sh BUILD_DIR SOURCE_DIR}
data=${GOS_ONNX_TESTDATA:-/usr/share/libonnx-testdata/data}
gosc=$build/gosc
import=$build/gos-import
[ -x "$gosc" ] && [ -x "$import" ] || { echo "onnx_errors: no gosc/gos-import in $build"; exit 1; }
if [ ! -d "$data/node" ]; then
	echo "onnx_errors: skipped: no ONNX test data in $data"
	exit 0
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-exitcode=99}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 failed=0
fail() {
	echo "FAIL: $*"
	failed=$((failed + 1))
}

# expect_error CMD... : exit status 1 and the pattern $want in stderr
expect_error() {
	"$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	if [ $rc -ne 1 ] || ! grep -qF -- "$want" "$tmp/err"; then
		fail "$*: want status 1 and '$want', got status $rc:"
		cat "$tmp/err"
	else
		pass=$((pass + 1))
	fi
}

want="error: node 0 (Det, output 'y'): operator Det is not supported"
expect_error "$gosc" "$data/node/test_det_2d/model.onnx" -emit=ir
expect_error "$import" "$data/node/test_det_2d/model.onnx" -o "$tmp/det.gos"
[ -e "$tmp/det.gos" ] && fail "gos-import wrote a .gos for a failed import"
want="graph output 'z': the Indices output of MaxPool is not supported"
expect_error "$gosc" "$data/node/test_maxpool_with_argmax_2d_precomputed_pads/model.onnx"
want="not a valid ONNX model (corrupt or truncated protobuf)"
printf '\x0a\xff\xff\xff' >"$tmp/bad.onnx"
expect_error "$gosc" "$tmp/bad.onnx"
want="error:"
expect_error "$gosc" "$tmp/does-not-exist.onnx"

# robust CASE FILE: gosc FILE exits with 0 or 1 (then with an error line)
robust() {
	"$gosc" "$2" -emit=ir -o "$tmp/out.gir" >/dev/null 2>"$tmp/err"
	local rc=$?
	if [ $rc -eq 1 ] && grep -q "error:" "$tmp/err"; then
		pass=$((pass + 1))
	elif [ $rc -eq 0 ]; then
		pass=$((pass + 1))
	else
		fail "$1: gosc exited with status $rc:"
		head -20 "$tmp/err"
	fi
}

RANDOM=4242
for m in pytorch-converted/test_Conv2d node/test_conv_with_strides_padding simple/test_single_relu_model; do
	src=$data/$m/model.onnx
	size=$(stat -c %s "$src")
	step=$((size / 37 + 1))
	for ((len = 0; len < size; len += step)); do
		head -c $len "$src" >"$tmp/cut.onnx"
		robust "$m truncated to $len bytes" "$tmp/cut.onnx"
	done
	for ((k = size - 8; k < size; k++)); do
		[ $k -ge 0 ] || continue
		head -c $k "$src" >"$tmp/cut.onnx"
		robust "$m truncated to $k bytes" "$tmp/cut.onnx"
	done
	for ((round = 0; round < 40; round++)); do
		cp "$src" "$tmp/flip.onnx"
		for ((c = 0; c <= round % 3; c++)); do
			pos=$(((RANDOM * 32768 + RANDOM) % size))
			printf "$(printf '\\x%02x' $((RANDOM % 256)))" |
				dd of="$tmp/flip.onnx" bs=1 seek=$pos conv=notrunc status=none
		done
		robust "$m with bytes changed (round $round)" "$tmp/flip.onnx"
	done
done
for ((round = 0; round < 30; round++)); do
	n=$((RANDOM % 300))
	: >"$tmp/rand.onnx"
	for ((k = 0; k < n; k++)); do
		printf "$(printf '\\x%02x' $((RANDOM % 256)))" >>"$tmp/rand.onnx"
	done
	robust "random file $round ($n bytes)" "$tmp/rand.onnx"
done
echo "onnx_errors: $pass passed, $failed failed"
[ $failed -eq 0 ]
