#!/bin/bash
# fashion.sh BUILD_DIR SOURCE_DIR -- the trained Fashion-MNIST models of
# examples/fashion against what torch recorded when it trained them
# (<arch>.pred.npy: torch's top-1 for each of the 10,000 test images,
# <arch>.json: its test accuracy), on Debian's dataset-fashion-mnist:
#   - host code (gos-eval's default engine), all 10,000 test images: at
#     most 5 predictions differ from torch's, and the top-1 count is
#     within 5 of torch's;
#   - the reference interpreter, the first 500 test images: at most 1
#     prediction differs;
#   - gos-run --dump-activations on a seeded calibration sample: the
#     logits recorded by the interpreter (--nodes logits) and by host code
#     (every node) agree, so the same seed drew the same images.
# The armv8 check under qemu is tests/fashion_armv8.sh.
set -u
build=${1:?usage: fashion.sh BUILD_DIR SOURCE_DIR}
src=${2:?usage: fashion.sh BUILD_DIR SOURCE_DIR}
build=$(cd "$build" && pwd) && src=$(cd "$src" && pwd) || exit 1
ev=$build/gos-eval
run=$build/gos-run
py=/usr/bin/python3
norm="--mean 0.2860 --std 0.3530"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
[ -x "$ev" ] || { echo "fashion: no gos-eval in $build"; exit 1; }
data=${GOS_FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
[ -f "$data/t10k-images-idx3-ubyte.gz" ] ||
	{ echo "FAIL: no Fashion-MNIST in $data (apt-get install dataset-fashion-mnist)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# value of a top-level or "compare" number in gos-eval's JSON
jget() { "$py" -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$1" "$2"; }

models=0
for onnx in "$src"/examples/fashion/*.onnx; do
	arch=$(basename "$onnx" .onnx)
	pred=${onnx%.onnx}.pred.npy
	info=${onnx%.onnx}.json
	models=$((models + 1))
	torch_correct=$(jget "$info" "d['correct']")
	# host code, every test image
	if ! "$ev" "$onnx" --data fashion-mnist:test $norm --compare "$pred" --json \
		>"$tmp/$arch.host.json" 2>"$tmp/$arch.host.err"; then
		fail "$arch: gos-eval (host) failed: $(head -5 "$tmp/$arch.host.err")"
		continue
	fi
	n=$(jget "$tmp/$arch.host.json" "d['images']")
	differ=$(jget "$tmp/$arch.host.json" "d['compare']['differ']")
	correct=$(jget "$tmp/$arch.host.json" "d['correct']")
	ips=$(jget "$tmp/$arch.host.json" "round(d['images_per_second'])")
	echo "fashion: $arch host: $correct/$n correct (torch $torch_correct), $differ predictions differ from torch, $ips images/s"
	[ "$n" = 10000 ] || fail "$arch: host evaluated $n images, not 10000"
	[ "$differ" -le 5 ] || fail "$arch: host: $differ predictions differ from torch's (at most 5)"
	d=$((correct - torch_correct))
	[ "${d#-}" -le 5 ] || fail "$arch: host: $correct correct, torch $torch_correct"
	# the interpreter, 500 images
	if ! "$ev" "$onnx" --data fashion-mnist:test $norm --limit 500 -target=interp \
		--compare "$pred" --json >"$tmp/$arch.interp.json" 2>"$tmp/$arch.interp.err"; then
		fail "$arch: gos-eval -target=interp failed: $(head -5 "$tmp/$arch.interp.err")"
		continue
	fi
	differ=$(jget "$tmp/$arch.interp.json" "d['compare']['differ']")
	correct=$(jget "$tmp/$arch.interp.json" "d['correct']")
	echo "fashion: $arch interp: $correct/500 correct, $differ predictions differ from torch"
	[ "$differ" -le 1 ] || fail "$arch: interp: $differ of 500 predictions differ from torch's"
done
[ "$models" -ge 3 ] || fail "only $models trained models in examples/fashion (want 3)"

# activation capture on a calibration sample: its logits are the model's
onnx=$src/examples/fashion/resnet.onnx
if [ -f "$onnx" ]; then
	if "$run" "$onnx" --calib fashion-mnist:test:64 --seed 3 $norm --nodes logits,image \
		--dump-activations "$tmp/act" 2>"$tmp/act.err" &&
		"$run" "$onnx" --calib fashion-mnist:test:64 --seed 3 $norm -target=host \
			--dump-activations "$tmp/act-all" 2>>"$tmp/act.err"; then
		"$py" - "$tmp" <<'EOF' || fail "activation capture: see above"
import glob, sys, numpy as np
t = sys.argv[1]
a = np.load(f"{t}/act/logits.npy")
assert a.shape == (64, 10), a.shape
assert sorted(glob.glob(f"{t}/act/*.npy")) == [f"{t}/act/image.npy", f"{t}/act/logits.npy"], \
    glob.glob(f"{t}/act/*.npy")  # every name of --nodes
files = glob.glob(f"{t}/act-all/*.npy")
assert len(files) > 20, len(files)
b = np.load(f"{t}/act-all/logits.npy")
err = np.abs(a - b).max() / np.abs(a).max()
assert err < 1e-4, err
print(f"fashion: activation capture: {len(files)} tensors, logits interp vs host rel. err {err:.2e}")
EOF
	else
		fail "gos-run --dump-activations: $(head -5 "$tmp/act.err")"
	fi
fi
[ $fails -eq 0 ] || { echo "fashion: $fails failure(s)"; exit 1; }
echo "fashion: ok"
