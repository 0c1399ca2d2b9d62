#!/bin/bash
# fashion_arm.sh BUILD_DIR SOURCE_DIR -- the trained Fashion-MNIST models
# compiled for ARM and run under qemu-user (gos-eval -target=armv8 builds
# the static runner and feeds it 200 test images in one process): the
# predictions equal those of host code for the same images, every one,
# for every example model on armv8 and for the ResNet on pi3-armv7, and
# for the VGG with two synthesised low-rank layers (a convolution and a
# dense layer, fitted on calibration images) on armv8 and pi3-armv7.
set -u
build=${1:?usage: fashion_arm.sh BUILD_DIR SOURCE_DIR}
src=${2:?usage: fashion_arm.sh BUILD_DIR SOURCE_DIR}
build=$(cd "$build" && pwd) && src=$(cd "$src" && pwd) || exit 1
ev=$build/gos-eval
py=/usr/bin/python3
norm="--mean 0.2860 --std 0.3530"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
[ -x "$ev" ] || { echo "fashion_arm: no gos-eval in $build"; exit 1; }
command -v qemu-aarch64 >/dev/null && command -v aarch64-linux-gnu-gcc >/dev/null ||
	{ echo "fashion_arm: skipped: no qemu-aarch64 / aarch64-linux-gnu-gcc (scripts/deps.sh)"; exit 0; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
jget() { "$py" -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$1" "$2"; }

check() { # arch target [model file]
	local onnx=${3:-$src/examples/fashion/$1.onnx} t=$2
	"$ev" "$onnx" --data fashion-mnist:test $norm --limit 200 --predictions "$tmp/$1.host.npy" \
		>/dev/null 2>"$tmp/err" || { fail "$1: host: $(head -5 "$tmp/err")"; return; }
	if ! "$ev" "$onnx" --data fashion-mnist:test $norm --limit 200 -target="$t" \
		--compare "$tmp/$1.host.npy" --json >"$tmp/$1.$t.json" 2>"$tmp/err"; then
		fail "$1: -target=$t: $(head -5 "$tmp/err")"
		return
	fi
	local differ correct
	differ=$(jget "$tmp/$1.$t.json" "d['compare']['differ']")
	correct=$(jget "$tmp/$1.$t.json" "d['correct']")
	echo "fashion_arm: $1 $t (qemu): $correct/200 correct, $differ predictions differ from host code"
	[ "$differ" = 0 ] || fail "$1: $t: $differ of 200 predictions differ from host code"
}
for arch in resnet mobilenet vgg; do
	[ -f "$src/examples/fashion/$arch.onnx" ] || { fail "no examples/fashion/$arch.onnx"; continue; }
	check "$arch" armv8
done
if command -v qemu-arm >/dev/null && command -v arm-linux-gnueabihf-gcc >/dev/null; then
	check resnet pi3-armv7
fi
# synthesised operators: the low-rank pairs take the ARM kernels too
spec="/features/features.4/features.4.0/Conv_output_0/lowrank:r=28,/fc1/Gemm_output_0/lowrank:r=51"
if "$build/gos-opt" "$src/examples/fashion/vgg.onnx" --apply="$spec" \
	--calib fashion-mnist:train:128 $norm -o "$tmp/vgg_lr.gir" 2>"$tmp/err"; then
	check vgg_lowrank armv8 "$tmp/vgg_lr.gir"
	command -v qemu-arm >/dev/null && command -v arm-linux-gnueabihf-gcc >/dev/null &&
		check vgg_lowrank pi3-armv7 "$tmp/vgg_lr.gir"
else
	fail "gos-opt --apply on vgg: $(head -3 "$tmp/err")"
fi
[ $fails -eq 0 ] || { echo "fashion_arm: $fails failure(s)"; exit 1; }
echo "fashion_arm: ok"
