#!/bin/bash
# synth.sh [BUILD_DIR] -- every fitted synthesis rule on one mid-network
# layer of the trained Fashion-MNIST models: reconstruction error on 256
# calibration images from the training set, and test top-1 on all 10,000
# test images after replacing only that layer. Writes the table to
# docs/synthesis-results.md (included by docs/synthesis.md). Not part of
# the tests; takes a few minutes. prune's "layer FLOPs" counts the layer
# and the producer chain it shrinks with it (docs/synthesis.md).
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
norm="--mean 0.2860 --std 0.3530"
calib="--calib fashion-mnist:train:256 $norm"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$src/docs/synthesis-results.md
jget() { /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$1" "$2"; }

{
	echo "<!-- written by bench/synth.sh on $(date -u +%Y-%m-%d); do not edit -->"
	echo "| model | layer | candidate | kind | layer FLOPs | rel. MSE (calib) | test top-1 | change | top-1 agreement |"
	echo "|---|---|---|---|---|---|---|---|---|"
} >"$tmp/table"

layer_table() { # model layer
	local model=$src/examples/fashion/$1.onnx layer=$2
	"$build/gos-eval" "$model" --data fashion-mnist:test $norm --json >"$tmp/base.json"
	local base
	base=$(jget "$tmp/base.json" "round(d['top1']*100, 2)")
	echo "| $1 | \`$layer\` | (original) | | 1.000x | | $base% | | |" >>"$tmp/table"
	"$build/gos-opt" "$model" --synth --node "$layer" $calib >"$tmp/list"
	# per rule: the candidate closest to half the FLOPs
	tail -n +2 "$tmp/list" | grep -v '^(' | awk '{ r = $2; x = $4 + 0; d = x - 0.5; if (d < 0) d = -d;
		if (!(r in best) || d < bd[r]) { best[r] = $0; bd[r] = d } } END { for (r in best) print best[r] }' |
		sort >"$tmp/chosen"
	while read -r cand rule kind flops err; do
		"$build/gos-opt" "$model" --apply="$cand" $calib -o "$tmp/c.gir" </dev/null
		"$build/gos-eval" "$tmp/c.gir" --data fashion-mnist:test $norm --compare "$model" </dev/null \
			--json >"$tmp/c.json"
		local t1 agree
		t1=$(jget "$tmp/c.json" "round(d['top1']*100, 2)")
		agree=$(jget "$tmp/c.json" "round(d['compare']['agreement']*100, 2)")
		local delta
		delta=$(/usr/bin/python3 -c "print(f'{$t1 - $base:+.2f}')")
		echo "| $1 | \`$layer\` | \`${cand##*/}\` | $kind | $flops | $err | $t1% | $delta | $agree% |" >>"$tmp/table"
		echo "synth: $1 ${cand##*/}: flops $flops, rel. MSE $err, top-1 $t1% ($delta)" >&2
	done <"$tmp/chosen"
}
layer_table resnet /layers/layers.2/c2/c2.0/Conv_output_0
layer_table vgg /features/features.4/features.4.0/Conv_output_0
mv "$tmp/table" "$out"
echo "synth: wrote $out"
