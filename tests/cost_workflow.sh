#!/bin/bash
# cost_workflow.sh BUILD SRC -- the user workflow of docs/cost-models.md
# ("Adapting to a new board") end to end, with qemu-aarch64 standing in
# for the board:
#   1. describe the board in a target file;
#   2. build a runner per sample model: gosc -target=board.target -emit=exe;
#   3. "copy" the runners to the board and time them: runner --bench N
#      (under qemu-aarch64);
#   4. collect model_path,latency_ms rows into samples.csv;
#   5. gos-cost fit -target=board.target --samples samples.csv -o board.model;
#   6. gos-cost predict --model-file board.model on models the fit has not
#      seen, checked against their own measurements on the board.
# The check: the fitted model ranks the held-out models like the board does
# (Spearman >= 0.8; their latencies span ~30x, qemu noise is 10-20%) and its
# median absolute error is well below that of the analytic model (which
# knows nothing of qemu being ~50x slower than the board it describes) --
# so predict really uses the fitted model.
# Skipped (prints SKIP, exits 0) while gosc --help does not offer
# -emit=exe (the LLVM backend) or qemu-aarch64 is not installed.
set -u
B=$1
S=$2
GC="$B/gos-cost"
GOSC="$B/gosc"
if ! "$GOSC" --help 2>&1 | grep -qw exe; then
	echo "SKIP: cost_workflow needs the LLVM backend (gosc -emit=exe)"
	exit 0
fi
QEMU=$(command -v qemu-aarch64 || true)
if [ -z "$QEMU" ]; then
	echo "SKIP: cost_workflow needs qemu-aarch64"
	exit 0
fi
T=$(mktemp -d)
if [ -n "${KEEP:-}" ]; then # KEEP=1: leave the files for a look
	echo "cost_workflow: files in $T"
else
	trap 'rm -rf "$T"' EXIT
fi
fail() { echo "FAIL: $*"; exit 1; }

# ---- 1. the board ------------------------------------------------------------
# A made-up aarch64 board: code generation keys (docs/backends.md) and the
# cost-model keys (docs/cost-models.md).
cat > "$T/board.target" <<'EOF'
name = qboard
triple = aarch64-unknown-linux-gnu
cpu = cortex-a53
features = +neon,+fp-armv8
cc = aarch64-linux-gnu-gcc
ldflags = -static
vector_bits = 128
cores = 1
clock_ghz = 1.2
fma_units = 1
l1_kb = 32
l2_kb = 512
bandwidth_gbs = 2
overhead_us = 4
EOF

# ---- the models: small CNNs of different widths, kernels and operators ---------
# conv_net NAME C H K WIDTH DW: input C x H x H, conv KxK to WIDTH, relu,
# (DW=1: a depthwise 3x3), conv 3x3 stride 2, pool, dense.
conv_net() {
	local name=$1 c=$2 h=$3 k=$4 w=$5 dw=$6
	{
		echo "model $name {"
		echo "  input x: f32[1, $c, $h, $h];"
		echo "  weights seed 3;"
		echo "  h = relu(conv2d(x, param[$w, $c, $k, $k]; pad = $((k / 2))));"
		if [ "$dw" = 1 ]; then
			echo "  h = relu(conv2d(h, param[$w, 1, 3, 3]; pad = 1, groups = $w));"
		fi
		echo "  h = relu(conv2d(h, param[$((2 * w)), $w, 3, 3]; stride = 2, pad = 1));"
		echo "  h = maxpool2d(h; kernel = 2);"
		echo "  h = flatten(global_avgpool(h));"
		echo "  output y = dense(h, param[10, $((2 * w))], param[10] init zeros);"
		echo "}"
	} > "$T/models/$name.gos"
}
mkdir -p "$T/models" "$T/board"
i=0
# 16 samples to fit on, 8 held out (every third model)
for spec in "3 16 3 8 0" "3 16 3 16 1" "3 24 3 8 1" "3 24 5 16 0" "8 16 1 16 0" \
            "8 16 3 32 0" "3 32 3 8 0" "3 32 3 16 1" "8 24 3 16 1" "3 32 5 16 0" \
            "8 32 1 32 1" "16 16 3 32 0" "3 40 3 16 0" "8 32 3 32 0" "16 24 3 32 1" \
            "3 48 3 16 1" "16 32 1 48 0" "8 40 3 24 0" "3 48 5 16 0" "16 32 3 32 1" \
            "8 48 3 24 1" "16 40 3 32 0" "3 64 3 16 0" "16 48 3 32 0"; do
	i=$((i + 1))
	# shellcheck disable=SC2086
	conv_net "m$i" $spec
done

# ---- 2.-4. build, run on the board, collect -------------------------------------
measure() { # model.gos -> prints min_ms on the board (the least disturbed by
	# other tests sharing the cores; ctest runs this test alone, RUN_SERIAL)
	local m=$1 base
	base=$(basename "$m" .gos)
	"$GOSC" "$m" -target="$T/board.target" -emit=exe -o "$T/board/$base.run" \
		2> "$T/gosc.err" || { cat "$T/gosc.err"; fail "gosc -emit=exe $base"; }
	file "$T/board/$base.run" | grep -q "aarch64" || fail "$base.run is not an aarch64 executable"
	"$QEMU" "$T/board/$base.run" --random-inputs --bench 7 > "$T/bench.out" 2>&1 ||
		{ cat "$T/bench.out"; fail "$base.run --bench"; }
	local ms
	ms=$(sed -n 's/.*min_ms=\([0-9.e+-]*\).*/\1/p' "$T/bench.out" | tail -1)
	[ -n "$ms" ] || fail "$base.run printed no min_ms: $(cat "$T/bench.out")"
	echo "$ms"
}
echo "model_path,latency_ms" > "$T/samples.csv"
echo "model_path,latency_ms" > "$T/heldout.csv"
for n in $(seq 1 $i); do
	ms=$(measure "$T/models/m$n.gos") || exit 1
	if [ $((n % 3)) = 0 ]; then
		echo "$T/models/m$n.gos,$ms" >> "$T/heldout.csv"
	else
		echo "models/m$n.gos,$ms" >> "$T/samples.csv" # relative to the CSV
	fi
done

# ---- 5. fit --------------------------------------------------------------------
"$GC" fit -target="$T/board.target" --samples "$T/samples.csv" -o "$T/board.model" \
	2> "$T/fit.err" || { cat "$T/fit.err"; fail "gos-cost fit"; }
grep -q '^target qboard$' "$T/board.model" || fail "model file: $(head -3 "$T/board.model")"

# ---- 6. use it -----------------------------------------------------------------
held=$(tail -n +2 "$T/heldout.csv" | cut -d, -f1)
# shellcheck disable=SC2086
"$GC" predict -target="$T/board.target" --model-file "$T/board.model" $held > "$T/pred.csv" ||
	fail "predict --model-file"
# shellcheck disable=SC2086
"$GC" predict -target="$T/board.target" $held > "$T/analytic.csv" || fail "predict (analytic)"
r=$("$GC" rank-corr "$T/pred.csv" "$T/heldout.csv") || fail "rank-corr"
echo "held-out: fitted model vs board: $r"
echo "$r" | awk '{ split($2, a, "="); exit !(a[2] >= 0.8) }' ||
	fail "fitted model ranks the held-out models poorly: $r ($(cat "$T/fit.err"))"
mdape() { # predictions.csv -> median absolute percentage error vs heldout.csv
	tail -n +2 "$T/heldout.csv" | sort > "$T/h.sorted"
	sort "$1" | join -t, - "$T/h.sorted" |
		awk -F, '{ e = ($2 - $3) / $3; print (e < 0 ? -e : e) * 100 }' | sort -g |
		awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
fitted=$(mdape "$T/pred.csv")
analytic=$(mdape "$T/analytic.csv")
echo "held-out median abs. error: fitted ${fitted}%, analytic ${analytic}%"
awk -v f="$fitted" -v a="$analytic" 'BEGIN { exit !(f < 0.6 * a) }' ||
	fail "fitted model off by ${fitted}% (median), hardly better than the analytic ${analytic}%"
echo "cost_workflow: ok"
