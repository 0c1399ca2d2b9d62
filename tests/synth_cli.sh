#!/bin/bash
# synth_cli.sh BUILD_DIR SOURCE_DIR -- gos-opt --synth / --apply on the
# trained Fashion-MNIST ResNet with real calibration images: candidates
# are listed with their reconstruction error; a fitted low-rank layer at
# half the layer's FLOPs, written as .gos + safetensors, keeps the test
# accuracy within 1 point on 2,000 test images (and the .gos and .gir
# forms agree on every image); bad requests exit 1 and write nothing.
set -u
build=${1:?usage: synth_cli.sh BUILD_DIR SOURCE_DIR}
src=${2:?usage: synth_cli.sh BUILD_DIR SOURCE_DIR}
build=$(cd "$build" && pwd) && src=$(cd "$src" && pwd) || exit 1
opt=$build/gos-opt
ev=$build/gos-eval
model=$src/examples/fashion/resnet.onnx
norm="--mean 0.2860 --std 0.3530"
calib="--calib fashion-mnist:train:128 $norm"
node=/layers/layers.2/c1/c1.0/Conv_output_0
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] ||
	{ echo "FAIL: no Fashion-MNIST (apt-get install dataset-fashion-mnist)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# listing: three fitted ranks of the node, each with a finite error in (0, 1)
if "$opt" "$model" --synth --node "$node" $calib >"$tmp/list" 2>"$tmp/err"; then
	n=$(grep -c "^$node/lowrank:r=[0-9]* *lowrank *fitted" "$tmp/list")
	[ "$n" = 3 ] || fail "--synth listed $n fitted low-rank candidates of $node (want 3): $(cat "$tmp/list")"
	awk 'NR > 1 && $NF != "-" && !($NF > 0 && $NF < 1) { bad = 1 } END { exit bad }' "$tmp/list" ||
		fail "--synth: a reconstruction error outside (0, 1): $(cat "$tmp/list")"
else
	fail "--synth: $(head -3 "$tmp/err")"
fi

# applying: half the FLOPs of one layer, accuracy kept
if "$opt" "$model" --apply="$node/lowrank:r=13" $calib -o "$tmp/lr.gos" 2>"$tmp/err" &&
	"$opt" "$model" --apply="$node/lowrank:r=13" $calib -o "$tmp/lr.gir" 2>>"$tmp/err"; then
	[ -f "$tmp/lr.safetensors" ] || fail "--apply -o lr.gos wrote no lr.safetensors"
	"$ev" "$model" --data fashion-mnist:test $norm --limit 2000 --json >"$tmp/orig.json" &&
		"$ev" "$tmp/lr.gos" --data fashion-mnist:test $norm --limit 2000 --compare "$tmp/lr.gir" \
			--json >"$tmp/lr.json" || fail "gos-eval of the rewritten model failed"
	/usr/bin/python3 - "$tmp" <<'EOF' || fail "accuracy after the low-rank layer (see above)"
import json, sys
t = sys.argv[1]
a, b = json.load(open(f"{t}/orig.json")), json.load(open(f"{t}/lr.json"))
print(f"synth_cli: lowrank r=13 on one layer: top-1 {b['top1']*100:.2f}% (original {a['top1']*100:.2f}%), "
      f".gos vs .gir: {b['compare']['differ']} differ")
assert b["compare"]["differ"] == 0, "the .gos and .gir forms disagree"
assert a["top1"] - b["top1"] <= 0.01, "more than 1 point lost"
EOF
else
	fail "--apply: $(head -3 "$tmp/err")"
fi

# gosc -apply compiles the same rewritten module gos-opt --apply writes
if "$build/gosc" "$model" -apply="$node/lowrank:r=13" -calib=fashion-mnist:train:128 \
	-mean=0.2860 -std=0.3530 -emit=ir -o "$tmp/gosc.gir" 2>"$tmp/err"; then
	cmp -s "$tmp/gosc.gir" "$tmp/lr.gir" || fail "gosc -apply -emit=ir differs from gos-opt --apply"
else
	fail "gosc -apply: $(head -3 "$tmp/err")"
fi
rm -f "$tmp/none.o"
"$build/gosc" "$model" -apply="$node/lowrank:r=13" -target=host -o "$tmp/none.o" 2>"$tmp/err" &&
	fail "gosc -apply of a fitted rule without -calib succeeded"
grep -q "calibration data" "$tmp/err" || fail "gosc -apply without -calib: $(head -2 "$tmp/err")"
[ ! -e "$tmp/none.o" ] || fail "gosc -apply without -calib wrote an object"

# bad requests: exit 1, a clear message, no output file
expect_error() { # message args...
	local msg=$1
	shift
	rm -f "$tmp/out.gir"
	"$opt" "$model" "$@" -o "$tmp/out.gir" >/dev/null 2>"$tmp/err"
	local rc=$?
	[ $rc = 1 ] || fail "gos-opt $*: exit $rc, want 1"
	grep -q -- "$msg" "$tmp/err" || fail "gos-opt $*: no '$msg' in: $(head -3 "$tmp/err")"
	[ ! -e "$tmp/out.gir" ] || fail "gos-opt $*: wrote an output file"
}
expect_error "did you mean" --apply="${node}x/lowrank:r=4"
expect_error "unknown rule 'lowrnk'" --apply="$node/lowrnk:r=4"
expect_error "calibration data" --apply="$node/lowrank:r=4"
expect_error "must be from 1 to" --apply="$node/lowrank:r=99" $calib
expect_error "does not apply" --apply="/layers/layers.2/Relu_output_0/lowrank:r=4"
expect_error "fashion-mnist" --apply="$node/lowrank:r=4" --calib fashion-mnist:nope
[ $fails -eq 0 ] || { echo "synth_cli: $fails failure(s)"; exit 1; }
echo "synth_cli: ok"
