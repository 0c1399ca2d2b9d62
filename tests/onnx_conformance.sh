#!/bin/bash
# onnx_conformance.sh BUILD_DIR SOURCE_DIR -- the ONNX conformance goal:
#   1. on the reference interpreter, of the test cases in Debian's
#      libonnx-testdata (/usr/share/libonnx-testdata/data/{node,
#      pytorch-converted,pytorch-operator,simple}) whose graphs use only the
#      31 operators of the goal with float inputs and outputs
#      (gos-onnx-test --scope=issue4; 209 cases in Debian 12), none may fail
#      and at least 200 must pass (a few seconds);
#   2. a quick sample of them (every 12th) compiled by gosc for host and
#      for armv8 (run under qemu-aarch64) must pass too (about 30 s;
#      GOS_ONNX_COMPILED=0 skips it, as does a missing qemu-aarch64 for armv8).
#
# The full runs (bash bench/onnx-conformance.sh writes their tables to
# docs/onnx-conformance.md) are:
#   D=/usr/share/libonnx-testdata/data
#   gos-onnx-test --backends=interp,host,armv8 --scope=issue4 $D/{node,pytorch-converted,pytorch-operator,simple}
#   gos-onnx-test --backends=interp,host $D/{node,pytorch-converted,pytorch-operator,simple}
set -u
build=${1:?usage: onnx_conformance.sh BUILD_DIR SOURCE_DIR}
data=${GOS_ONNX_TESTDATA:-/usr/share/libonnx-testdata/data}
runner=$build/gos-onnx-test
[ -x "$runner" ] || { echo "onnx_conformance: no gos-onnx-test in $build"; exit 1; }
if [ ! -d "$data/node" ]; then
	echo "onnx_conformance: skipped: no ONNX test data in $data (apt-get install libonnx-testdata)"
	exit 0
fi
dirs=("$data/node" "$data/pytorch-converted" "$data/pytorch-operator" "$data/simple")
out=$(mktemp)
trap 'rm -f "$out"' EXIT
failed_any=0

# check LABEL MIN_PASSED: the runner's output in $out has 0 failed cases
# and at least MIN_PASSED passed ones
check() {
	grep -v -e ' passed ' -e '^[0-9]* passed, ' -e '^[a-z0-9]*: [0-9]* passed, ' "$out"
	local summary
	summary=$(tail -1 "$out")
	echo "onnx_conformance ($1): $summary"
	local passed failed
	read -r passed _ failed _ <<<"$summary"
	if [ "${failed:-1}" != 0 ] || [ "${passed:-0}" -lt "$2" ]; then
		echo "FAIL: want 0 failed and at least $2 passed"
		failed_any=1
	fi
}

"$runner" --scope=issue4 "${dirs[@]}" >"$out" 2>&1
check "interpreter, --scope=issue4" 200

if [ "${GOS_ONNX_COMPILED:-1}" != 0 ]; then
	backends=host
	if command -v qemu-aarch64 >/dev/null; then
		backends=host,armv8
	else
		echo "onnx_conformance: no qemu-aarch64: armv8 not run"
	fi
	"$runner" --backends=$backends --scope=issue4 --sample=12 "${dirs[@]}" >"$out" 2>&1
	check "compiled for $backends, every 12th case of --scope=issue4" 15
fi
exit $failed_any
