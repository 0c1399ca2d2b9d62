#!/bin/bash
# synth_prune.sh BUILD_DIR SOURCE_DIR -- channel pruning on the trained
# Fashion-MNIST ResNet with real calibration images: one mid layer
# (layers.2.c2, 32 input channels) pruned to c=16, which halves it and the
# convolution producing its input (layers.2.c1 loses 16 output channels),
# keeps test top-1 within 1 point on 2,000 test images; the listed
# candidate reports FLOPs 0.5x of the rewritten nodes and an error in (0, 1).
set -u
build=${1:?usage: synth_prune.sh BUILD_DIR SOURCE_DIR}
src=${2:?usage: synth_prune.sh BUILD_DIR SOURCE_DIR}
build=$(cd "$build" && pwd) && src=$(cd "$src" && pwd) || exit 1
opt=$build/gos-opt
ev=$build/gos-eval
model=$src/examples/fashion/resnet.onnx
norm="--mean 0.2860 --std 0.3530"
calib="--calib fashion-mnist:train:128 $norm"
node=/layers/layers.2/c2/c2.0/Conv_output_0
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] ||
	{ echo "FAIL: no Fashion-MNIST (apt-get install dataset-fashion-mnist)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if "$opt" "$model" --synth --node "$node" $calib >"$tmp/list" 2>"$tmp/err"; then
	line=$(grep "^$node/prune:c=16 " "$tmp/list")
	[ -n "$line" ] || fail "--synth listed no prune:c=16 of $node: $(cat "$tmp/list")"
	echo "$line" | awk '{ if (!($4 + 0 > 0.45 && $4 + 0 < 0.55 && $5 > 0 && $5 < 1)) exit 1 }' ||
		fail "prune:c=16: want FLOPs about 0.5x and an error in (0, 1): $line"
else
	fail "--synth: $(head -3 "$tmp/err")"
fi

if "$opt" "$model" --apply="$node/prune:c=16" $calib -o "$tmp/p.gir" 2>"$tmp/err"; then
	grep -q '^node "/layers/layers.2/c1/c1.2/Relu_output_0".*f32\[1,16,14,14\]' "$tmp/p.gir" ||
		fail "the producer's chain was not shrunk to 16 channels"
	"$ev" "$model" --data fashion-mnist:test $norm --limit 2000 --json >"$tmp/orig.json" &&
		"$ev" "$tmp/p.gir" --data fashion-mnist:test $norm --limit 2000 --json >"$tmp/p.json" ||
		fail "gos-eval failed"
	/usr/bin/python3 - "$tmp" <<'PY' || fail "accuracy after pruning one layer (see above)"
import json, sys
t = sys.argv[1]
a, b = json.load(open(f"{t}/orig.json")), json.load(open(f"{t}/p.json"))
print(f"synth_prune: prune c=16 of layers.2.c2: top-1 {b['top1']*100:.2f}% (original {a['top1']*100:.2f}%)")
assert a["top1"] - b["top1"] <= 0.01, "more than 1 point lost"
PY
else
	fail "--apply: $(head -3 "$tmp/err")"
fi

# through a depthwise filter (the MobileNet's block 1: its project conv
# pruned prunes the expand conv and the depthwise filter between them):
# written as .gos, the depthwise conv2d's groups follow the channels, and
# the .gos compiles and computes what the .gir does
mnode=/blocks/blocks.1/project/project.0/Conv_output_0
mnet=$src/examples/fashion/mobilenet.onnx
if "$opt" "$mnet" --apply="$mnode/prune:c=48" $calib -o "$tmp/m.gos" 2>"$tmp/err" &&
	"$opt" "$mnet" --apply="$mnode/prune:c=48" $calib -o "$tmp/m.gir" 2>>"$tmp/err"; then
	grep -q "groups = 48" "$tmp/m.gos" || fail "pruned depthwise filter: groups not 48 in the .gos"
	"$build/gosc" "$tmp/m.gos" -target=host -o "$tmp/m.o" 2>"$tmp/err" ||
		fail "the pruned MobileNet .gos does not compile: $(head -3 "$tmp/err")"
	"$build/gos-run" "$tmp/m.gos" --random-inputs --seed 4 --output-dir "$tmp/a" >/dev/null 2>&1 &&
		"$build/gos-run" "$tmp/m.gir" --random-inputs --seed 4 --output-dir "$tmp/b" >/dev/null 2>&1 &&
		/usr/bin/python3 "$src/scripts/npycmp.py" "$tmp/b" "$tmp/a" >/dev/null ||
		fail "the pruned MobileNet's .gos and .gir compute different results"
else
	fail "prune through a depthwise filter: $(head -3 "$tmp/err")"
fi

# bad requests: c out of range, no calibration data
for spec in prune:c=32 prune:c=0 prune:c=40; do
	"$opt" "$model" --apply="$node/$spec" $calib -o "$tmp/bad.gir" 2>"$tmp/err" &&
		fail "--apply=$spec succeeded"
	[ -s "$tmp/err" ] || fail "--apply=$spec gave no message"
done
"$opt" "$model" --apply="$node/prune:c=16" -o "$tmp/bad.gir" 2>"$tmp/err" &&
	fail "prune without --calib succeeded"
grep -q "calibration data" "$tmp/err" || fail "prune without --calib: $(cat "$tmp/err")"
[ "$fails" = 0 ] && echo "synth_prune: ok"
exit $((fails > 0))
