#!/bin/bash
# cost_cli.sh BUILD SRC -- gos-cost on textual-IR models (no frontend or
# backend needed): predict, --per-op, rank-corr against hand-computed
# values, fit + predict --model-file recovering a known latency law,
# select, and the error paths (exit status 1 with a message).
set -u
B=$1
S=$2
GC="$B/gos-cost"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cat > "$T/board.target" <<'EOF'
name = board
clock_ghz = 1.0
vector_bits = 128
l1_kb = 32
l2_kb = 256
bandwidth_gbs = 4
overhead_us = 3
EOF

# A dense layer y = x W^T (K inputs, M outputs) followed by a relu.
dense_gir() { # K M
	cat <<EOF
gir 1
model dense_$1_$2
input %x : f32[1,$1]
weight %w : f32[$2,$1] = fill(0.5)
node fc = dense(X=%x, Wt=%w) -> (Y=%fc : f32[1,$2]) {
  Y[n:1, k:$2] = sum(c:$1) {
    %0 = load X[n, c]
    %1 = load Wt[k, c]
    %2 = mul %0, %1
  } -> %2
}
node act = relu(X=%fc) -> (Y=%act : f32[1,$2]) {
  Y[n:1, c:$2] = {
    %0 = load X[n, c]
    %1 = const 0
    %2 = max %0, %1
  } -> %2
}
output %act
EOF
}

# ---- predict: one line per model -----------------------------------------
mkdir -p "$T/m"
i=0
for K in 16 32 48 64 96 128 160 192 256 320 384 448 512 640 768 1024; do
	for M in 8 24 40; do
		dense_gir $K $M > "$T/m/d_${K}_${M}.gir"
	done
done
out=$("$GC" predict -target="$T/board.target" "$T/m/d_16_8.gir" "$T/m/d_64_24.gir") ||
	fail "predict exited $?"
[ "$(echo "$out" | wc -l)" = 2 ] || fail "predict: expected 2 lines, got: $out"
echo "$out" | grep -Eq "^$T/m/d_16_8.gir,[0-9.e+-]+$" || fail "predict line format: $out"
a=$(echo "$out" | sed -n 1p | cut -d, -f2)
b=$(echo "$out" | sed -n 2p | cut -d, -f2)
awk -v a="$a" -v b="$b" 'BEGIN { exit !(a > 0 && b > a) }' ||
	fail "bigger layer should cost more: $a vs $b"

# ---- --per-op: a row per node, shares sum to 100 ----------------------------
t=$("$GC" predict -target="$T/board.target" --per-op "$T/m/d_64_24.gir") || fail "per-op exited $?"
echo "$t" | grep -q '^fc  *dense  *depthwise  *3072 ' || fail "per-op fc row (64*24*2 FLOPs): $t"
echo "$t" | grep -q '^act  *relu  *elementwise  *24 ' || fail "per-op act row: $t"
sum=$(echo "$t" | awk '$1 == "fc" || $1 == "act" { s += $7 } END { print s }')
awk -v s="$sum" 'BEGIN { exit !(s > 99.9 && s < 100.1) }' || fail "shares sum to $sum"

# ---- an ONNX model (Debian's ONNX test data, when installed) ------------------
# 1x1x7x5 input, 3x3 kernel, stride 2, pad 1: 4 x 3 outputs x 9 taps x 2
onnx=/usr/share/libonnx-testdata/data/node/test_conv_with_strides_padding/model.onnx
if [ -f "$onnx" ]; then
	t=$("$GC" predict -target="$T/board.target" --per-op "$onnx") || fail "per-op on ONNX exited $?"
	echo "$t" | grep -q '^y  *conv2d  *[a-z]*  *216 ' || fail "ONNX conv row: $t"
fi

# ---- rank-corr: hand-computed values ------------------------------------------
printf 'key,v\na,1\nb,2\nc,3\nd,4\ne,5\n' > "$T/a.csv"
printf 'key,v\ne,5\nd,3\nc,4\nb,1\na,2\nzz,9\n' > "$T/b.csv"
r=$("$GC" rank-corr "$T/a.csv" "$T/b.csv") || fail "rank-corr exited $?"
[ "$r" = "n=5 spearman=0.800000 kendall=0.600000" ] || fail "rank-corr: $r"

# ---- fit: latency = 0.02 + 3e-6 * FLOPs + 0.001 * M ms (known law) ----------
law() { awk -v k="$1" -v m="$2" 'BEGIN { printf "%.6f", 0.02 + 3e-6 * 2 * k * m + 0.001 * m }'; }
echo "model_path,latency_ms" > "$T/samples.csv"
n=0
for f in "$T"/m/d_*.gir; do
	base=$(basename "$f" .gir)
	K=$(echo "$base" | cut -d_ -f2); M=$(echo "$base" | cut -d_ -f3)
	n=$((n + 1))
	if [ $((n % 2)) = 1 ]; then
		echo "m/$base.gir,$(law "$K" "$M")" >> "$T/samples.csv" # relative to the CSV
	else
		echo "$f,$(law "$K" "$M")" >> "$T/truth.csv"
	fi
done
"$GC" fit -target="$T/board.target" --samples "$T/samples.csv" -o "$T/fitted.txt" 2> "$T/fit.err" ||
	{ cat "$T/fit.err"; fail "fit exited $?"; }
grep -q '^gos-cost-model 1$' "$T/fitted.txt" || fail "model file header"
grep -q 'leave-one-out spearman' "$T/fit.err" || fail "fit summary: $(cat "$T/fit.err")"
"$GC" predict -target="$T/board.target" --model-file "$T/fitted.txt" $(cut -d, -f1 "$T/truth.csv") \
	> "$T/pred.csv" || fail "predict --model-file exited $?"
r=$("$GC" rank-corr "$T/pred.csv" "$T/truth.csv")
echo "$r" | grep -q 'spearman=1.000000' || fail "fitted model on held-out models: $r"
# and the absolute values: within 2% of the law
paste -d, "$T/pred.csv" "$T/truth.csv" | awk -F, '{ e = ($2 - $4) / $4; if (e < 0) e = -e; if (e > 0.02) bad++ }
	END { exit bad > 0 }' || fail "fitted predictions off by more than 2%: $(paste -d, "$T/pred.csv" "$T/truth.csv" | head -3)"
# features CSV route gives the same predictions
"$GC" features -target="$T/board.target" $(cut -d, -f1 "$T/truth.csv") > "$T/feat.csv" || fail "features"
"$GC" predict -target="$T/board.target" --model-file "$T/fitted.txt" --features-csv "$T/feat.csv" \
	> "$T/pred2.csv" || fail "predict --features-csv"
cmp -s "$T/pred.csv" "$T/pred2.csv" || fail "features-csv predictions differ"

# ---- select: K distinct models of those given, same from a features CSV -------
sel=$("$GC" select -target="$T/board.target" -n 5 "$T"/m/d_*.gir) || fail "select exited $?"
[ "$(echo "$sel" | sort -u | wc -l)" = 5 ] || fail "select: expected 5 distinct models: $sel"
for f in $sel; do [ -f "$f" ] || fail "select printed '$f'"; done
"$GC" features -target="$T/board.target" "$T"/m/d_*.gir > "$T/featall.csv" || fail "features"
sel2=$("$GC" select -target="$T/board.target" -n 5 --features-csv "$T/featall.csv") ||
	fail "select --features-csv"
[ "$sel" = "$sel2" ] || fail "select from the features CSV differs: $sel2"
"$GC" select -target="$T/board.target" -n 99 "$T"/m/d_*.gir 2> "$T/e5" && fail "select -n 99 of 48"
grep -q "only 48 models" "$T/e5" || fail "message: $(cat "$T/e5")"

# ---- errors ----------------------------------------------------------------------
"$GC" predict "$T/m/d_16_8.gir" 2> "$T/e1" && fail "predict without -target succeeded"
grep -q -- "-target=T is required" "$T/e1" || fail "message: $(cat "$T/e1")"
"$GC" predict -target=no_such_board "$T/m/d_16_8.gir" 2> "$T/e2" && fail "unknown target accepted"
grep -q "unknown target" "$T/e2" || fail "message: $(cat "$T/e2")"
printf 'model_path,latency_ms\n%s,fast\n' "$T/m/d_16_8.gir" > "$T/bad.csv"
"$GC" fit -target="$T/board.target" --samples "$T/bad.csv" -o "$T/x.txt" 2> "$T/e3" && fail "bad CSV accepted"
grep -q "is not a number" "$T/e3" || fail "message: $(cat "$T/e3")"
[ ! -e "$T/x.txt" ] || fail "fit wrote a model file on error"
echo "gos-cost-model 1" > "$T/broken.txt"
"$GC" predict -target="$T/board.target" --model-file "$T/broken.txt" "$T/m/d_16_8.gir" 2> "$T/e4" &&
	fail "model file without intercept accepted"
grep -q "no intercept" "$T/e4" || fail "message: $(cat "$T/e4")"
"$GC" frobnicate 2> /dev/null && fail "unknown command accepted"
echo "cost_cli: ok"
