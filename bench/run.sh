#!/bin/bash
# bench/run.sh [ROUNDS] [RUNS] -- gosc against ONNX Runtime on this
# machine, side by side in one run, single thread.
#
# For every network (the five examples) and single layer (bench/layers):
# the model is exported with `gosc -emit=onnx` (same weights), compiled
# with `gosc -target=host -emit=exe`, checked against the reference
# interpreter, then timed: ROUNDS rounds (default 5) alternate the gosc
# runner (`--bench RUNS`) and ONNX Runtime (bench/ort/ort-run.js, one
# intra-op thread, `--bench RUNS`), each printing the median of RUNS runs
# after warm-up; the reported latency of each is the smallest of its
# round medians (the round least disturbed by other processes). GFLOP
# counts 2 flops per multiply-add (`gos-opt --flops`); the peak is
# measured by bench/peak.c (independent vector FMA chains).
# Prints a table and writes docs/benchmarks.md; then runs bench/realworld.sh
# (models from other frameworks' converters, symbolic input shapes).
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
[ -x "$py" ] || py=python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cc -O2 -march=native -ffp-contract=fast -o "$tmp/peak" bench/peak.c
peak=$("$tmp/peak" | sed -n 's/.*peak_gflops=\([0-9.]*\).*/\1/p')
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')

nets="examples/mobilenet_v2.gos examples/resnet18.gos examples/mobilenet_v3.gos examples/nb201/nb201_example.gos examples/ppg_cnn.gos"
layers=$(ls bench/layers/*.gos bench/layers/resnet18/*.gos)

median() { sed -n 's/.*median_ms=\([0-9.]*\).*/\1/p'; }

rows=""
geo=0 ngeo=0 worst=0
printf '%-22s %9s %10s %10s %7s %9s %7s %6s\n' model GFLOP gosc_ms ort_ms ratio GFLOP/s peak% match
for m in $nets $layers; do
	n=$(basename "$m" .gos)
	gflop=$("$build/gos-opt" "$m" --flops | awk -F= '{ printf "%.4f", $2 / 1e9 }')
	"$build/gosc" "$m" -emit=onnx -o "$tmp/$n.onnx"
	"$build/gosc" "$m" -target=host -emit=exe -o "$tmp/$n.exe"
	"$build/gos-run" "$m" --random-inputs --seed 1 --output-dir "$tmp/$n.ref" >/dev/null
	args=""
	for f in "$tmp/$n.ref"/*.input.npy; do
		args="$args --input $(basename "$f" .input.npy)=$f"
	done
	"$tmp/$n.exe" $args --output-dir "$tmp/$n.out" >/dev/null
	match=yes
	"$py" scripts/npycmp.py "$tmp/$n.ref" "$tmp/$n.out" 1e-4 >/dev/null || match=NO
	g=1e30 o=1e30
	for r in $(seq "$rounds"); do
		t=$("$tmp/$n.exe" $args --bench "$runs" | median)
		g=$(awk -v a="$g" -v b="$t" 'BEGIN { print (b < a) ? b : a }')
		t=$(node bench/ort/ort-run.js "$tmp/$n.onnx" --input-dir "$tmp/$n.ref" --bench "$runs" | median)
		o=$(awk -v a="$o" -v b="$t" 'BEGIN { print (b < a) ? b : a }')
	done
	line=$(awk -v n="$n" -v gf="$gflop" -v g="$g" -v o="$o" -v p="$peak" -v mt="$match" 'BEGIN {
		r = g / o; rate = gf / (g / 1000);
		printf "%-22s %9.4f %10.3f %10.3f %7.2f %9.1f %6.0f%% %6s", n, gf, g, o, r, rate, 100 * rate / p, mt }')
	echo "$line"
	rows="$rows$line"$'\n'
	case " $nets " in *" $m "*)
		geo=$(awk -v s="$geo" -v g="$g" -v o="$o" 'BEGIN { print s + log(g / o) }')
		worst=$(awk -v w="$worst" -v g="$g" -v o="$o" 'BEGIN { r = g / o; print (r > w) ? r : w }')
		ngeo=$((ngeo + 1)) ;;
	esac
done
gm=$(awk -v s="$geo" -v n="$ngeo" 'BEGIN { printf "%.3f", exp(s / n) }')

# compile time: wall seconds of `gosc X -target=armv8 -o X.o` (best of 3)
ctimes=""
for m in $nets; do
	best=1e30
	for r in 1 2 3; do
		t0=$(date +%s.%N)
		"$build/gosc" "$m" -target=armv8 -o "$tmp/compile.o"
		t=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
		best=$(awk -v a="$best" -v b="$t" 'BEGIN { print (b < a) ? b : a }')
	done
	echo "compile $(basename "$m" .gos) -target=armv8: $best s"
	ctimes="$ctimes| $(basename "$m" .gos) | $best |"$'\n'
done
echo "networks: geometric-mean ratio gosc/ORT = $gm, worst = $worst; peak = $peak GFLOP/s ($cpu)"

# sections other scripts write (bench/profile.sh, bench/realworld.sh) are
# kept, at the end
{ sed -n '/^<!-- profile:begin/,/^<!-- profile:end/p' docs/benchmarks.md
  sed -n '/^<!-- realworld:begin/,/^<!-- realworld:end/p' docs/benchmarks.md; } > "$tmp/keep"
{
	echo "# Benchmarks: gosc against ONNX Runtime on the build machine"
	echo
	echo "Produced by \`bash bench/run.sh $rounds $runs\` on $(date -u +%Y-%m-%d) ($cpu, single thread;"
	echo "ONNX Runtime $(node -e 'console.log(require("./bench/ort/node_modules/onnxruntime-node/package.json").version)') CPU via npm onnxruntime-node, one intra-op thread)."
	echo "Each latency is the smallest of $rounds round medians of $runs timed runs; the rounds"
	echo "alternate gosc and ORT so both see the same machine load. \`match\`: the compiled"
	echo "code's outputs equal the reference interpreter's within 1e-4 of the output scale."
	echo "GFLOP counts 2 flops per multiply-add; peak = $peak GFLOP/s is the measured"
	echo "throughput of independent vector FMA chains (bench/peak.c)."
	echo
	echo "| model | GFLOP | gosc ms | ORT ms | gosc/ORT | gosc GFLOP/s | % of peak | match |"
	echo "|---|---:|---:|---:|---:|---:|---:|---|"
	printf '%s' "$rows" | awk '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8 }'
	echo
	echo "Networks (first five rows): geometric-mean ratio gosc/ORT **$gm**, worst **$worst**."
	echo
	echo "## Compile time"
	echo
	echo 'Wall time of `gosc X -target=armv8 -o X.o` (parse, passes, LLVM -O2, object and header;'
	echo 'seeded weights generated and embedded), best of 3, single process:'
	echo
	echo "| network | seconds |"
	echo "|---|---:|"
	printf '%s' "$ctimes"
	echo
	echo "## ARM: the same kernels on NEON (Cortex-A53)"
	echo
	echo 'Static hot-loop analysis of the code gosc emits for the Raspberry Pi 3 (`-target=pi3`,'
	echo 'aarch64, `-mcpu=cortex-a53`): the basic block with the most vector multiply-adds, its'
	echo "instruction count, and llvm-mca's cycle estimate for the Cortex-A53, for the"
	echo 'register-blocked kernel (`kconv`) against the generic loop-nest lowering'
	echo '(`GOS_KCONV=off`). Produced by `bench/arm_mca.py`.'
	echo
	"$py" bench/arm_mca.py "$build/gosc" bench/layers/conv3x3_64x56.gos bench/layers/conv1x1_128x28.gos \
		bench/layers/dwconv3x3_144x56.gos bench/layers/gemm_256x512x512.gos
	if [ -s "$tmp/keep" ]; then
		echo
		cat "$tmp/keep"
	fi
} > docs/benchmarks.md
echo "wrote docs/benchmarks.md"
GOS_BUILD=$build bash bench/realworld.sh "$rounds" "$runs"
