#!/bin/bash
# cost_profile.sh BUILD SRC -- gos-cost fit --profile: per-kind scales
# fitted on per-node profile CSVs recover a known per-node law, apply to a
# model not profiled, compete with whole-network samples; and bad profile
# CSVs (another model, unknown nodes, missing columns, negative or NaN
# times, empty file, no total row, an unterminated quote) fail with
# file:line and exit 1; RFC 4180 quoted fields read as plain ones.
# The profiles are synthetic (tests/profile.sh reads back real ones of the
# runner): nodes and kinds from gos-opt -O1 + predict --per-op, times
# from the law median = a_kind * analytic_ms + b_kind, which the fit must
# recover.
set -u
B=$1
GC="$B/gos-cost"
GO="$B/gos-opt"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
TGT=pi3

net() { # NAME CIN COUT HW
	cat <<EOF
model $1 {
  input x: f32[1, $2, $4, $4];
  weights seed 1;
  c1 = conv2d(x, param[$3, $2, 3, 3]; pad = 1);
  r1 = relu(c1);
  c2 = conv2d(r1, param[$3, $3, 1, 1]);
  p = avgpool2d(c2; kernel = 2, stride = 2);
  output p;
}
EOF
}

# profile CSV of model NAME (file $T/NAME.gos) under the synthetic law
profile() { # NAME
	"$GO" "$T/$1.gos" -o "$T/$1.opt.gir" || fail "gos-opt $1"
	"$GC" predict -target=$TGT --per-op "$T/$1.opt.gir" > "$T/$1.perop" || fail "per-op $1"
	awk -v M="$1" 'BEGIN { print "model,node,op,kind,runs,median_ms,min_ms,flops,gflops,share" }
		NR > 2 && $1 != "total" {
			a = 1.5; b = 0.001
			if ($3 == "contraction") { a = 2; b = 0.005 }
			if ($3 == "pooling") { a = 3; b = 0.002 }
			t = a * $6 + b; tot += t
			printf "%s,%s,%s,%s,20,%.9g,%.9g,%s,%.4g,0\n", M, $1, $2, $3, t, 0.9 * t, $4, $4 / t / 1e6
		}
		END { printf "%s,(total),-,-,20,%.9g,%.9g,0,0,100\n", M, tot * 1.02, tot }' \
		"$T/$1.perop" > "$T/$1.prof.csv"
}

net net_a 8 16 32 > "$T/net_a.gos"
net net_b 16 32 48 > "$T/net_b.gos"
net net_c 4 8 64 > "$T/net_c.gos"
net net_d 12 24 24 > "$T/net_d.gos"   # held out
for n in net_a net_b net_c net_d; do profile $n; done

# ---- fit from profiles alone ---------------------------------------------------
"$GC" fit -target=$TGT --profile "$T/net_a.prof.csv" --profile "$T/net_b.prof.csv" \
	--profile "$T/net_c.prof.csv" -o "$T/p.model" "$T/net_a.gos" "$T/net_b.gos" "$T/net_c.gos" \
	2> "$T/err" || { cat "$T/err"; fail "fit --profile exited $?"; }
grep -q "family=profile" "$T/err" || fail "fit --profile does not say family=profile: $(cat "$T/err")"
grep -q "^family profile" "$T/p.model" || fail "model file lacks 'family profile'"
w=$(awk '$1 == "col" && $2 == "contraction_ms" { print $5 }' "$T/p.model")
awk -v w="$w" 'BEGIN { exit !(w > 1.98 && w < 2.02) }' || fail "contraction scale $w, law 2"
w=$(awk '$1 == "col" && $2 == "pooling_ms" { print $5 }' "$T/p.model")
awk -v w="$w" 'BEGIN { exit !(w > 2.95 && w < 3.05) }' || fail "pooling scale $w, law 3 (per-op ms are printed to 4 decimals)"
# held-out model: the prediction is the law summed over its nodes
want=$(awk -F, '$2 != "(total)" && NR > 1 { s += $6 } END { print s }' "$T/net_d.prof.csv")
got=$("$GC" predict -target=$TGT --model-file "$T/p.model" "$T/net_d.opt.gir" | cut -d, -f2)
awk -v a="$got" -v b="$want" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d < 0.01 * b) }' ||
	fail "held-out prediction $got, law $want"

# ---- with whole-network samples: the profile model competes --------------------
for k in 1 2 3 4 5 6 7 8 9 10 11 12; do
	c=$((4 * k)); net "w$k" $c $((2 * c)) 16 > "$T/w$k.gos"
	"$GO" "$T/w$k.gos" -o "$T/w$k.opt.gir" || fail "gos-opt w$k"
done
# samples measured under the same law (as the profiles), by the profile model itself
"$GC" predict -target=$TGT --model-file "$T/p.model" "$T"/w*.opt.gir > "$T/samples.csv" ||
	fail "predict samples"
"$GC" fit -target=$TGT --samples "$T/samples.csv" --profile "$T/net_a.prof.csv" \
	-o "$T/c.model" "$T/net_a.gos" 2> "$T/err" || { cat "$T/err"; fail "fit --samples --profile"; }
grep -q "profile model on the 12 samples" "$T/err" || fail "no profile-vs-samples line: $(cat "$T/err")"
grep -q "^family " "$T/c.model" || fail "combined model lacks family"

# ---- bad profiles ----------------------------------------------------------------
bad() { # WHAT EXPECTED-REGEX CSV-FILE [MODEL]
	"$GC" fit -target=$TGT --profile "$3" -o "$T/bad.model" "${4:-$T/net_a.gos}" 2> "$T/err"
	rc=$?
	[ $rc = 1 ] || fail "$1: exit $rc, expected 1"
	grep -Eq "$2" "$T/err" || fail "$1: message '$(cat "$T/err")' lacks /$2/"
}
P="$T/net_a.prof.csv"
bad "profile of another model" "net_b.prof.csv:2:1: error: profile of model 'net_b'" "$T/net_b.prof.csv"
sed 's/^net_a,c2,/net_a,nosuchnode,/' "$P" > "$T/x1.csv"
bad "unknown node" "x1.csv:[0-9]+:1: error: no node 'nosuchnode'" "$T/x1.csv"
sed '1s/,median_ms//' "$P" | cut -d, -f1-5,7- > "$T/x2.csv"
bad "missing column" "x2.csv:1:1: error: profile header lacks column 'median_ms'" "$T/x2.csv"
awk -F, -v OFS=, 'NR == 2 { $6 = "-0.5" } { print }' "$P" > "$T/x3.csv"
bad "negative time" "x3.csv:2:1: .*non-negative" "$T/x3.csv"
awk -F, -v OFS=, 'NR == 3 { $7 = "nan" } { print }' "$P" > "$T/x4.csv"
bad "NaN time" "x4.csv:3:1: .*non-negative" "$T/x4.csv"
: > "$T/x5.csv"
bad "empty file" "x5.csv: error: empty profile" "$T/x5.csv"
grep -v '(total)' "$P" > "$T/x6.csv"
bad "no total row" "x6.csv:[0-9]+:1: error: no \\(total\\) row" "$T/x6.csv"
# RFC 4180 quoting: quoted fields (a "" quote in a field the fit ignores,
# a comma and a line break inside one, blanks around fields) read as the
# plain file; an unterminated quote or text after a closing quote fails
# at file:line:col
awk -F, -v OFS=, 'NR == 1 { print; next }
	{ for (i = 1; i <= NF; i++) $i = " \"" $i "\" " } NR == 2 { $3 = "\"conv, \"\"fused\"\"\n(3x3)\"" }
	{ print }' "$P" > "$T/q1.csv"
"$GC" fit -target=$TGT --profile "$T/q1.csv" -o "$T/q1.model" "$T/net_a.gos" 2> "$T/err" ||
	fail "quoted profile: $(cat "$T/err")"
"$GC" fit -target=$TGT --profile "$P" -o "$T/q0.model" "$T/net_a.gos" 2> /dev/null || fail "plain profile"
cmp -s "$T/q0.model" "$T/q1.model" || fail "quoted profile fits another model than the plain one"
awk -F, -v OFS=, 'NR == 3 { $2 = "\"c2" } { print }' "$P" > "$T/x7.csv"
bad "unterminated quote" "x7.csv:3:7: error: unterminated quoted field" "$T/x7.csv"
awk -F, -v OFS=, 'NR == 2 { $2 = "\"c1\"x" } { print }' "$P" > "$T/x8.csv"
bad "text after a quote" "x8.csv:2:11: error: text after the closing quote" "$T/x8.csv"
# the quoted row 2 spans two lines: the unknown node of the next row is on line 4
awk -F, -v OFS=, 'NR == 2 { $3 = "\"conv\n2d\"" } NR == 3 { $2 = "nosuchnode" } { print }' "$P" > "$T/x9.csv"
bad "line after a two-line row" "x9.csv:4:1: error: no node 'nosuchnode'" "$T/x9.csv"
"$GC" fit -target=$TGT --profile "$P" --profile "$P" -o "$T/bad.model" "$T/net_a.gos" 2> "$T/err"
[ $? = 1 ] && grep -q "2 --profile files but 1 MODELs" "$T/err" || fail "profile/model count: $(cat "$T/err")"
[ ! -e "$T/bad.model" ] || fail "a failed fit wrote its model file"
echo "cost_profile: ok"
