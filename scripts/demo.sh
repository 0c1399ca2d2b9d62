#!/bin/sh
# demo.sh [MODEL.onnx] -- install what is missing, build, and run the main
# job: adapt a trained model (default: the Fashion-MNIST ResNet in
# examples/fashion) to the Raspberry Pi 3 with `gosc -search`, then show
# test accuracy before and after (full test set, compiled host code), the
# predicted speedup on pi3 and redmi-note7s, the measured host speedup,
# and compile the adapted model for armv8 and check it under qemu against
# the reference interpreter. BUDGET (default 5m) bounds the search.
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh
sh scripts/build.sh build
model=${1:-examples/fashion/resnet.onnx}
budget=${BUDGET:-5m}
out=out/demo; rm -rf "$out"; mkdir -p "$out"
norm="-mean=0.2860 -std=0.3530"
py=/usr/bin/python3; [ -x "$py" ] || py=python3
echo "== gosc $model -target=pi3 -search (budget $budget)"
build/gosc "$model" -target=pi3 -search -calib=fashion-mnist:train:512 $norm \
	-eval=fashion-mnist:test -budget="$budget" -o "$out/adapted.o"
ls -l "$out" "$out/adapted.search"
sed -n '/^| | original/,/^$/p' "$out/adapted.search/report.md"
echo "== test accuracy by compiled host code, 10,000 images"
for m in "$model" "$out/adapted.search/adapted.gos"; do
	printf '%s: ' "$m"
	build/gos-eval "$m" --data fashion-mnist:test --mean 0.2860 --std 0.3530 | sed -n 's/^\(top-1 [^ ]*\).*/\1/p'
done
echo "== host latency, side by side (median of 200 runs)"
build/gosc "$model" -target=host -emit=exe -o "$out/orig.run"
build/gosc "$out/adapted.search/adapted.gos" -target=host -emit=exe -o "$out/adapted.run"
o=$("$out/orig.run" --random-inputs --bench 200 | sed -n 's/.*median_ms=\([0-9.]*\).*/\1/p')
a=$("$out/adapted.run" --random-inputs --bench 200 | sed -n 's/.*median_ms=\([0-9.]*\).*/\1/p')
echo "original $o ms, adapted $a ms: $("$py" -c "print(f'{$o / $a:.2f}x')")"
echo "== the adapted model for armv8, under qemu, against the interpreter"
build/gos-run "$out/adapted.search/adapted.gos" --random-inputs --seed 1 --output-dir "$out/ref" >/dev/null
build/gosc "$out/adapted.search/adapted.gos" -target=armv8 -emit=exe -o "$out/runner"
args=""; for f in "$out"/ref/*.input.npy; do n=$(basename "$f" .input.npy); args="$args --input $n=$f"; done
qemu-aarch64 "$out/runner" $args --output-dir "$out/arm" >/dev/null
"$py" scripts/npycmp.py "$out/ref" "$out/arm"
