#!/bin/bash
# onnx_models.sh BUILD_DIR SOURCE_DIR -- ONNX models built by
# tests/onnx/gen_models.py (onnx helper API, seeded random weights) with
# reference outputs from ONNX Runtime (tests/onnx/ort_run.js), checked on
# the reference interpreter and as code compiled by gosc:
#   - sem_* (attribute semantics) and ext_data, interpreter and host:
#     |y - ref| <= 1e-5 + 1e-3 |ref|
#   - mobilenet_v2, resnet18 (224x224), interpreter, host and armv8 (under
#     qemu-aarch64, when installed): |y - ref| <= 1e-3 max |ref|
#   - gos-import: the written .gos + .safetensors give bit-identical
#     outputs to the .onnx (gos-run with the same random inputs), for both
#     networks and cases using the importer's own operators.
# Needs /usr/bin/python3 with onnx and numpy (python3-onnx), node, and
# onnxruntime-node in bench/ort (scripts/deps.sh: npm ci
# --ignore-scripts); skipped without them. The generated cases are cached
# in BUILD_DIR/onnx-models (regenerated when the generator changes).
set -u
build=${1:?usage: onnx_models.sh BUILD_DIR SOURCE_DIR}
src=${2:?usage: onnx_models.sh BUILD_DIR SOURCE_DIR}
build=$(cd "$build" && pwd) && src=$(cd "$src" && pwd) || exit 1
runner=$build/gos-onnx-test
[ -x "$runner" ] || { echo "onnx_models: no gos-onnx-test in $build"; exit 1; }
py=/usr/bin/python3
if ! "$py" -c 'import onnx, numpy' 2>/dev/null; then
	echo "onnx_models: skipped: $py cannot import onnx and numpy (apt-get install python3-onnx)"
	exit 0
fi
if ! command -v node >/dev/null || [ ! -d "$src/bench/ort/node_modules/onnxruntime-node" ]; then
	echo "onnx_models: skipped: no node or no onnxruntime-node" \
		"(sh scripts/deps.sh installs it in bench/ort)"
	exit 0
fi
gen=$build/onnx-models
stamp=$(cat "$src/tests/onnx/gen_models.py" "$src/tests/onnx/ort_run.js" | sha256sum | cut -c1-16)
if [ "$(cat "$gen/.stamp" 2>/dev/null)" != "$stamp" ]; then
	rm -rf "$gen"
	echo "onnx_models: generating the models and their ONNX Runtime outputs in $gen"
	"$py" "$src/tests/onnx/gen_models.py" "$gen" || { echo "FAIL: gen_models.py"; exit 1; }
	node "$src/tests/onnx/ort_run.js" "$gen"/*/ 2>"$gen/ort.log" ||
		{ echo "FAIL: ort_run.js:"; grep -v "opset version\|legacy" "$gen/ort.log"; exit 1; }
	echo "$stamp" >"$gen/.stamp"
fi
failed=0
small=()
for d in "$gen"/*/; do
	case $(basename "$d") in mobilenet_v2 | resnet18) ;; *) small+=("$d") ;; esac
done
backends=interp,host,armv8
command -v qemu-aarch64 >/dev/null || { backends=interp,host; echo "onnx_models: no qemu-aarch64: armv8 not run"; }
# every case must run: an unsupported one is a failure here
"$runner" --backends=interp,host "${small[@]}" >"$gen/small.log" 2>&1 || failed=1
cat "$gen/small.log"
if ! tail -1 "$gen/small.log" | grep -q " 0 skipped"; then
	echo "FAIL: cases skipped (unsupported)"; failed=1
fi
if [ "$(grep -c ' passed ' "$gen/small.log")" -ne ${#small[@]} ]; then
	echo "FAIL: $(grep -c ' passed ' "$gen/small.log") of ${#small[@]} cases passed"; failed=1
fi
"$runner" --backends=$backends --scale-tol=1e-3 "$gen/mobilenet_v2" "$gen/resnet18" || failed=1

# gos-import: .gos + weights == .onnx, bit for bit
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for c in mobilenet_v2 resnet18 sem_conv3d_pads sem_pad_reflect_opset11 sem_gemm_ta1_tb0_a0p5_b2_c4x5 \
	sem_resize_linear_half_pixel_up sem_resize_nearest_half_pixel_round_prefer_ceil; do
	mkdir -p "$tmp/$c"
	if ! "$build/gos-import" "$gen/$c/model.onnx" -o "$tmp/$c/$c.gos" 2>"$tmp/err"; then
		echo "FAIL: gos-import $c:"; cat "$tmp/err"; failed=1; continue
	fi
	rm -rf "$tmp/a" "$tmp/b"
	if ! "$build/gos-run" "$gen/$c/model.onnx" --random-inputs --seed 5 --output-dir "$tmp/a" >/dev/null 2>"$tmp/err" ||
		! "$build/gos-run" "$tmp/$c/$c.gos" --random-inputs --seed 5 --output-dir "$tmp/b" >/dev/null 2>>"$tmp/err"; then
		echo "FAIL: gos-run of $c (.onnx or imported .gos):"; cat "$tmp/err"; failed=1; continue
	fi
	for f in "$tmp/a"/*.npy; do
		[[ $f == *.input.npy ]] && continue
		if ! cmp -s "$f" "$tmp/b/$(basename "$f")"; then
			echo "FAIL: $c: output $(basename "$f") of the imported .gos differs from the .onnx"
			failed=1
		fi
	done
	echo "ok gos-import $c: identical outputs"
done
[ $failed -eq 0 ]
