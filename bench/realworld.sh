#!/bin/bash
# realworld.sh [ROUNDS] [RUNS] -- the models users bring from other
# frameworks' converters (examples/realworld/make_models.py: a
# paddle2onnx-style text detector at 1x3x640x640 and an SVTR-style
# recogniser at 1x3x48x192, symbolic input dimensions set with
# -input-shape) against ONNX Runtime on this machine, side by side, single
# thread: accuracy on one random input (|y - ort| / max |ort|), then ROUNDS
# rounds (default 5) alternating the gosc runner and ONNX Runtime, each the
# median of RUNS runs (default 30); each side's latency is its smallest
# round median. Prints a table and writes its section of docs/benchmarks.md
# (between <!-- realworld:begin --> and <!-- realworld:end -->).
set -eu
cd "$(dirname "$0")/.."
rounds=${1:-5}
runs=${2:-30}
build=${GOS_BUILD:-build}
[ -x "$build/gosc" ] || sh scripts/build.sh "$build"
if [ ! -f bench/ort/node_modules/onnxruntime-node/package.json ]; then
	(cd bench/ort && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$py" examples/realworld/make_models.py "$tmp"
median() { sed -n 's/.*median_ms=\([0-9.]*\).*/\1/p'; }
rows=""
for c in "detector 1,3,640,640" "recogniser 1,3,48,192"; do
	set -- $c
	m=$1 shape=$2
	"$build/gosc" "$tmp/$m.onnx" -input-shape x=$shape -target=host -emit=exe -o "$tmp/$m.run"
	"$py" -c "
import numpy as np, os
os.makedirs('$tmp/$m.in', exist_ok=True)
np.save('$tmp/$m.in/x.input.npy', np.random.default_rng(7).normal(0, 1, [int(v) for v in '$shape'.split(',')]).astype(np.float32))"
	node bench/ort/ort-run.js "$tmp/$m.onnx" --input-dir "$tmp/$m.in" --output-dir "$tmp/$m.ort"
	"$tmp/$m.run" --input x="$tmp/$m.in/x.input.npy" --output-dir "$tmp/$m.gos" >/dev/null
	err=$("$py" scripts/npycmp.py "$tmp/$m.ort" "$tmp/$m.gos" | sed -n 's/.*max_abs_err=\([^ ]*\) scale=\([^ ]*\).*/\1 \2/p')
	g=1e9 o=1e9
	for r in $(seq "$rounds"); do
		gr=$("$tmp/$m.run" --input x="$tmp/$m.in/x.input.npy" --bench "$runs" 2>&1 | median)
		or=$(node bench/ort/ort-run.js "$tmp/$m.onnx" --input-dir "$tmp/$m.in" --bench "$runs" | median)
		g=$("$py" -c "print(min($g, $gr))")
		o=$("$py" -c "print(min($o, $or))")
	done
	row=$("$py" -c "
e, s = map(float, '$err'.split())
g, o = $g, $o
print(f'| $m | x={\"x\".join(\"$shape\".split(\",\"))} | {e / s:.1e} | {g:.3f} | {o:.3f} | {o / g:.2f}x |')")
	echo "$row"
	rows="$rows$row
"
done
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
{
	echo "<!-- realworld:begin (bench/realworld.sh writes this section) -->"
	echo "## Models from other frameworks' converters"
	echo
	echo "\`bash bench/realworld.sh $rounds $runs\` on $cpu, one thread, $(date -u +%Y-%m-%d)."
	echo "The models come from examples/realworld/make_models.py (random weights, symbolic"
	echo "input dimensions set with \`-input-shape\`). Error: max |gosc - ONNX Runtime| / max"
	echo "|ONNX Runtime| on one random input. Latency: the smallest of $rounds round medians of"
	echo "$runs runs, the two alternating."
	echo
	echo "| model | input | error | gosc (ms) | ONNX Runtime (ms) | gosc speedup |"
	echo "|---|---|---:|---:|---:|---:|"
	printf '%s' "$rows"
	echo
	echo "<!-- realworld:end -->"
} > "$tmp/section"
doc=docs/benchmarks.md
bash bench/section.sh realworld "$tmp/section" "$doc"
echo "wrote its section of $doc"
