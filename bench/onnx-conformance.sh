#!/bin/bash
# bench/onnx-conformance.sh [BUILD_DIR] -- the full ONNX conformance runs
# over Debian's libonnx-testdata, written to docs/onnx-conformance.md:
#   1. the conformance goal (gos-onnx-test --scope=issue4: graphs of the 31
#      goal operators with float inputs and outputs) on the interpreter,
#      compiled for host, and compiled for armv8 and run under qemu-aarch64;
#   2. every case of the four suites on the interpreter and host, each
#      listed as passed, failed or skipped with the reason.
# About 20 minutes on two cores. Not part of the default tests (those run
# the goal on the interpreter and a sample compiled: tests/onnx_conformance.sh).
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src/build}" && pwd) || exit 1
D=${GOS_ONNX_TESTDATA:-/usr/share/libonnx-testdata/data}
dirs=("$D/node" "$D/pytorch-converted" "$D/pytorch-operator" "$D/simple")
runner=$build/gos-onnx-test
[ -x "$runner" ] || { echo "onnx-conformance: no gos-onnx-test in $build" >&2; exit 1; }
[ -d "$D/node" ] || { echo "onnx-conformance: no test data in $D (apt-get install libonnx-testdata)" >&2; exit 1; }
command -v qemu-aarch64 >/dev/null || { echo "onnx-conformance: qemu-aarch64 is needed for armv8" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# summary FILE: the runner's count lines (per backend, then the cases)
summary() { grep -E '^([a-z0-9]+: )?[0-9]+ passed, ' "$1"; }
start=$(date +%s)
"$runner" --markdown --backends=interp,host,armv8 --scope=issue4 "${dirs[@]}" >"$tmp/goal.md" 2>"$tmp/goal.err"
goal_status=$?
"$runner" --markdown --backends=interp,host "${dirs[@]}" >"$tmp/all.md" 2>"$tmp/all.err"
all_status=$?
mins=$(( ($(date +%s) - start + 59) / 60 ))
out=$src/docs/onnx-conformance.md
{
	echo "# ONNX conformance (Debian 12 libonnx-testdata)"
	echo
	echo "Written by \`bash bench/onnx-conformance.sh\` on $(date -u +%Y-%m-%d) ($mins min;"
	echo "gosc $(git -C "$src" describe --always --dirty 2>/dev/null || echo unknown)). Data: \`$D/{node,pytorch-converted,pytorch-operator,simple}\`."
	echo "A case passes when every listed backend matches the expected outputs of its"
	echo "\`test_data_set_*\` within |y - ref| <= 1e-5 + 1e-3 |ref|. *interp* is the reference"
	echo "interpreter, *host* the code gosc compiles for this machine, *armv8* the code"
	echo "compiled for \`-target=armv8\` run under qemu-aarch64."
	echo
	echo "## The conformance goal"
	echo
	echo "Graphs using only Conv, Gemm, MatMul, Relu, Clip, Sigmoid, Tanh, HardSwish,"
	echo "HardSigmoid, LeakyRelu, Add, Sub, Mul, Div, BatchNormalization, MaxPool,"
	echo "AveragePool, GlobalAveragePool, GlobalMaxPool, Concat, Reshape, Flatten,"
	echo "Transpose, Softmax, Pad, Identity, Constant, ReduceMean, Squeeze, Unsqueeze and"
	echo "Dropout with float inputs and outputs (\`gos-onnx-test --scope=issue4\`):"
	echo
	echo '```'
	summary "$tmp/goal.md"
	echo '```'
	echo
	cat "$tmp/goal.md"
	echo
	echo "## Every case"
	echo
	echo "All cases of the four suites, interpreter and host (skipped: the reason the"
	echo "importer gives, e.g. an operator or data type gosc does not support):"
	echo
	echo '```'
	summary "$tmp/all.md"
	echo '```'
	echo
	cat "$tmp/all.md"
} >"$out.tmp" && mv "$out.tmp" "$out"
echo "onnx-conformance: goal: $(tail -1 "$tmp/goal.md"); all: $(tail -1 "$tmp/all.md"); wrote $out"
[ $goal_status = 0 ]
