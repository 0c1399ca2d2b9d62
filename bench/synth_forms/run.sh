#!/bin/sh
# bench/synth_forms/run.sh -- which low-cost form of a 3x3 convolution
# keeps the most at equal FLOPs? On three convolutions of the trained
# Fashion-MNIST ResNet (layers.1/3/5 c1: 16, 32 and 64 channels), the
# separable pair (SVD start, second stage by least squares), the
# separable pair with a 1x1 bypass, Tucker-2 (1x1, 3x3 core, 1x1; HOSVD
# start, last stage by least squares) and the low-rank pair, each fitted
# on 200-400 calibration images and measured on as many others (relative
# error before and behind the relu). A study, not gosc's code: numpy on
# activations that gos-run dumps. About two minutes.
# Environment: BUILD (default build).
set -eu
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${BUILD:-$SRC/build}" && pwd)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
"$BUILD/gos-run" "$SRC/examples/fashion/resnet.onnx" --calib fashion-mnist:train:1024 \
	--mean 0.2860 --std 0.3530 -target=host --dump-activations="$W/acts" \
	--nodes "/layers/layers.0/Relu_output_0,/layers/layers.1/c1/c1.0/Conv_output_0,/layers/layers.2/Relu_output_0,/layers/layers.3/c1/c1.0/Conv_output_0,/layers/layers.4/Relu_output_0,/layers/layers.5/c1/c1.0/Conv_output_0" >/dev/null
for l in 1 3 5; do
	/usr/bin/python3 "$SRC/bench/synth_forms/forms.py" "$SRC/examples/fashion/resnet.onnx" "$W/acts" \
		"layers.$l" "_layers_layers.$((l - 1))_Relu_output_0"
done
# the fitted first stage of separable:m (passes/synth/stages.c)
for l in 1 3 5; do
	/usr/bin/python3 "$SRC/bench/synth_forms/stages.py" "$SRC/examples/fashion/resnet.onnx" "$W/acts" \
		"layers.$l" "_layers_layers.$((l - 1))_Relu_output_0"
done
