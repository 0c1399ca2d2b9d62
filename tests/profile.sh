#!/bin/bash
# profile.sh BUILD SRC -- per-node profiles (issue 12, item 1): the
# runner's and gos-run's --profile[=FILE.csv] on a small model, on host
# and under qemu for armv8 and pi3-armv7 (each skipped without its cross
# compiler and qemu):
# one row per node of `gos-opt` (same names, in order), the CSV columns
# of `gos-cost fit --profile`, which reads it back; the sum of node
# medians near the whole-run median (host only: qemu times mean nothing);
# outputs of a profiled run equal a plain run's; node names with commas,
# quotes and line breaks are quoted (RFC 4180); the plain entry point
# has no profiling calls. Bad --profile / --runs arguments exit 1 and
# leave no file behind.
set -u
B=$1
S=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
M=$S/examples/tiny.gos
COLS="model,node,op,kind,runs,median_ms,min_ms,flops,gflops,share"

# the node names gos-opt prints, one a line, in order
"$B/gos-opt" "$M" -o "$T/tiny.gir" || fail "gos-opt"
sed -n 's/^node \([^ ]*\) = .*/\1/p' "$T/tiny.gir" > "$T/nodes"
nn=$(wc -l < "$T/nodes")
[ "$nn" -ge 4 ] || fail "gos-opt printed $nn nodes"

# check_csv FILE RUNS [ratio]: header, one row per node in order, a
# (total) row; with `ratio`, sum of node medians within [0.5, 2] x whole
check_csv() {
	[ "$(head -1 "$1")" = "$COLS" ] || fail "$1: header '$(head -1 "$1")'"
	awk -F, 'NR > 1 && $2 != "(total)" { print $2 }' "$1" | cmp -s - "$T/nodes" ||
		fail "$1: node rows differ from gos-opt's nodes: $(cut -d, -f2 "$1" | tr '\n' ' ')"
	[ "$(tail -1 "$1" | cut -d, -f2)" = "(total)" ] || fail "$1: no (total) row last"
	awk -F, -v R="$2" 'NR > 1 { if (NF != 10 || $1 != "tiny" || $5 != R || $6 < 0 || $7 < 0 ||
		$7 > $6 + 1e-9 || $8 < 0) { print "bad row " NR ": " $0; exit 1 } }' "$1" || fail "$1: rows"
	awk -F, 'NR > 1 && $2 != "(total)" && $4 !~ /^(contraction|depthwise|pooling|elementwise|datamove)$/ {
		exit 1 }' "$1" || fail "$1: unknown kind"
	if [ "${3:-}" = ratio ]; then
		awk -F, 'NR > 1 && $2 != "(total)" { s += $6 } $2 == "(total)" { w = $6 }
			END { r = s / w; printf "  sum of node medians %.4f ms, whole run %.4f ms (%.3f)\n", s, w, r
			      exit !(r > 0.5 && r < 2) }' "$1" || fail "$1: node sum far from the whole run"
	fi
	"$B/gos-cost" fit -target=host --profile "$1" -o "$T/fit.model" "$M" 2> "$T/fit.err" ||
		fail "gos-cost fit --profile $1: $(cat "$T/fit.err")"
	grep -q "$nn nodes" "$T/fit.err" || fail "fit did not read $nn nodes: $(cat "$T/fit.err")"
}

# ---- the runner, host -------------------------------------------------------
"$B/gosc" "$M" -O1 -emit=exe -o "$T/tiny" || fail "gosc -emit=exe"
"$T/tiny" --random-inputs --seed 3 --profile="$T/host.csv" --runs 40 --output-dir "$T/o1" \
	> "$T/host.txt" || fail "runner --profile exited $?"
check_csv "$T/host.csv" 40 ratio
grep -q "^sum_of_node_medians_ms=.* whole_run_median_ms=" "$T/host.txt" || fail "no summary line"
[ "$(grep -c -F -f "$T/nodes" "$T/host.txt")" -ge "$nn" ] || fail "table lacks node rows"
"$T/tiny" --random-inputs --seed 3 --output-dir "$T/o2" || fail "plain run"
for f in "$T"/o2/*.npy; do cmp -s "$f" "$T/o1/${f##*/}" || fail "profiled run changed ${f##*/}"; done
"$T/tiny" --random-inputs --profile > "$T/t2.txt" || fail "--profile without a file"
grep -q "20 timed runs" "$T/t2.txt" || fail "default run count: $(head -1 "$T/t2.txt")"

# the plain entry calls node functions only; the profiling one also the tick
"$B/gosc" "$M" -O1 -emit=ll -o "$T/tiny.ll" || fail "gosc -emit=ll"
awk '/^define .*@tiny_run\(/ { on = 1 } on && /call / && !/@gos\.node\./ { bad = 1 } on && /^}/ { on = 0 }
	END { exit bad }' "$T/tiny.ll" || fail "the plain entry calls something else than nodes"
ticks=$(awk '/^define .*@tiny_run_profile\(/ { on = 1 } on && /call void %/ { n++ } on && /^}/ { on = 0 }
	END { print n + 0 }' "$T/tiny.ll")
[ "$ticks" = $((nn + 1)) ] || fail "profiling entry has $ticks tick calls, want $((nn + 1))"

# ---- gos-run (in process) --------------------------------------------------
"$B/gos-run" "$M" --random-inputs --seed 3 --profile="$T/run.csv" --runs 40 --output-dir "$T/o3" \
	> "$T/run.txt" || fail "gos-run --profile exited $?"
check_csv "$T/run.csv" 40 ratio
"$B/gos-run" "$M" --random-inputs --seed 3 --output-dir "$T/o4" || fail "gos-run plain"
for f in "$T"/o4/*.npy; do [ -e "$T/o3/${f##*/}" ] || fail "gos-run --profile wrote no ${f##*/}"; done

# external weights, and kernels on two threads
"$B/gosc" "$M" -O1 -weights=external -threads=2 -emit=exe -o "$T/tinyx" || fail "gosc -weights=external"
"$T/tinyx" --random-inputs --profile="$T/x.csv" --runs 5 > /dev/null || fail "external weights --profile"
check_csv "$T/x.csv" 5

# ---- names that need CSV quoting (ONNX node names may hold anything) ---------
# node c2 renamed to `c2, "odd"` + line break + `line`: the CSV quotes it
# (RFC 4180), gos-cost fit --profile reads it back
sed 's/^node c2 = /node "c2, \\"odd\\"\\nline" = /' "$T/tiny.gir" > "$T/odd.gir"
grep -q '^node "c2, ' "$T/odd.gir" || fail "sed did not rename c2"
oddcheck() { # CSV
	grep -q "^tiny,$(printf '"c2, ""odd""')\$" "$1" && grep -q '^line",conv2d+relu,' "$1" ||
		fail "$1: the odd name is not quoted: $(cat "$1")"
	"$B/gos-cost" fit -target=host --profile "$1" -o "$T/odd.model" "$T/odd.gir" 2> "$T/fit.err" ||
		fail "gos-cost fit --profile $1 (quoted name): $(cat "$T/fit.err")"
	grep -q "$nn nodes" "$T/fit.err" || fail "fit did not read $nn nodes of $1: $(cat "$T/fit.err")"
}
"$B/gosc" "$T/odd.gir" -O1 -emit=exe -o "$T/odd" || fail "gosc odd.gir"
"$T/odd" --random-inputs --profile="$T/odd.csv" --runs 3 > /dev/null || fail "runner --profile, odd name"
oddcheck "$T/odd.csv"
"$B/gos-run" "$T/odd.gir" --random-inputs --profile="$T/odd2.csv" --runs 3 > /dev/null ||
	fail "gos-run --profile, odd name"
oddcheck "$T/odd2.csv"

# ---- the runner under qemu (armv8, pi3-armv7) -------------------------------
for tg in armv8:aarch64-linux-gnu-gcc:qemu-aarch64 pi3-armv7:arm-linux-gnueabihf-gcc:qemu-arm; do
	IFS=: read -r tgt cc qm <<< "$tg"
	if command -v "$cc" >/dev/null && command -v "$qm" >/dev/null; then
		q=$(sed -n 's/^[[:space:]]*qemu[[:space:]]*=[[:space:]]*//p' "$S/targets/$tgt.target" | head -1)
		"$B/gosc" "$M" -O1 -target="$tgt" -emit=exe -o "$T/tiny-$tgt" || fail "gosc $tgt"
		$q "$T/tiny-$tgt" --random-inputs --profile="$T/$tgt.csv" --runs 3 > /dev/null ||
			fail "$tgt runner --profile under qemu"
		check_csv "$T/$tgt.csv" 3
	else
		echo "SKIP $tgt (no $cc or $qm)"
	fi
done

# ---- bad arguments: exit 1, no file ----------------------------------------
bad() { # WHAT REGEX CMD...
	what=$1 re=$2
	shift 2
	"$@" > "$T/out" 2> "$T/err"
	rc=$?
	[ $rc = 1 ] || fail "$what: exit $rc, expected 1"
	grep -Eq -- "$re" "$T/err" || fail "$what: message '$(cat "$T/err")' lacks /$re/"
}
bad "runner, no such dir" "cannot write '$T/nodir/p.csv'" "$T/tiny" --random-inputs --profile="$T/nodir/p.csv"
bad "runner, empty name" "wants a file name" "$T/tiny" --random-inputs --profile=
bad "runner, --runs 0" "--runs wants a count" "$T/tiny" --random-inputs --profile --runs 0
bad "runner, no inputs" "missing input" "$T/tiny" --profile="$T/p1.csv"
bad "runner, --samples" "--samples takes" "$T/tiny" --samples 2 --profile="$T/p2.csv"
bad "gos-run, no such dir" "cannot write '$T/nodir/p.csv'" "$B/gos-run" "$M" --random-inputs --profile="$T/nodir/p.csv"
bad "gos-run, interp" "times compiled code" "$B/gos-run" "$M" --random-inputs --profile="$T/p3.csv" -target=interp
bad "gos-run, ARM target" "not this machine" "$B/gos-run" "$M" --random-inputs --profile="$T/p4.csv" -target=armv8
bad "gos-run, --runs x" "--runs wants a count" "$B/gos-run" "$M" --random-inputs --profile --runs x
bad "gos-run, no inputs" "missing input" "$B/gos-run" "$M" --profile="$T/p5.csv"
: > "$T/afile"
bad "runner, outputs fail" "cannot create" "$T/tiny" --random-inputs --profile="$T/p6.csv" --output-dir "$T/afile/o"
bad "gos-run, outputs fail" "cannot create" "$B/gos-run" "$M" --random-inputs --profile="$T/p7.csv" --output-dir "$T/afile/o"
ls "$T"/p[0-9].csv "$T"/p[0-9].csv.tmp "$T"/nodir 2>/dev/null && fail "a failed run left a file"
echo "profile: ok"
