#!/bin/sh
# demo.sh -- install what is missing, build, and run the main job on an
# example: compile MobileNetV2 for the Raspberry Pi 3 (armv8), run it under
# qemu on random inputs and compare with the reference interpreter; then
# the accuracy of a trained model on real test data, on host and armv8.
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh
sh scripts/build.sh build
model=${1:-examples/mobilenet_v2.gos}
out=out/demo; rm -rf "$out"; mkdir -p "$out"
echo "== gosc $model -target=armv8 -o $out/model.o"
build/gosc "$model" -target=armv8 -o "$out/model.o"
ls -l "$out"
echo "== reference interpreter on random inputs"
build/gos-run "$model" --random-inputs --seed 1 --output-dir "$out/ref"
echo "== armv8 runner under qemu on the same inputs"
build/gosc "$model" -target=armv8 -emit=exe -o "$out/runner"
args=""; for f in "$out"/ref/*.input.npy; do n=$(basename "$f" .input.npy); args="$args --input $n=$f"; done
qemu-aarch64 "$out/runner" $args --output-dir "$out/arm"
py=/usr/bin/python3; [ -x "$py" ] || py=python3
"$py" scripts/npycmp.py "$out/ref" "$out/arm"
echo "== timing under qemu (emulated, not device latency)"
qemu-aarch64 "$out/runner" --random-inputs --bench 3
echo "== accuracy of a trained model (examples/fashion/resnet.onnx) on the Fashion-MNIST test set"
norm="--mean 0.2860 --std 0.3530"
build/gos-eval examples/fashion/resnet.onnx --data fashion-mnist:test $norm \
	--compare examples/fashion/resnet.pred.npy
echo "== the same model compiled for armv8, under qemu, on 200 test images"
build/gos-eval examples/fashion/resnet.onnx --data fashion-mnist:test $norm --limit 200 \
	-target=armv8 --compare examples/fashion/resnet.pred.npy | tail -2
