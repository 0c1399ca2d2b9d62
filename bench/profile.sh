#!/bin/bash
# bench/profile.sh [RUNS] [ROUNDS] -- per-node profiles of MobileNetV2 and
# ResNet-18 on this machine (issue 12): each network is compiled with
# `gosc -target=host -emit=exe` (-O2, one thread, seeded random weights)
# and run with `--random-inputs --profile=FILE.csv --runs RUNS` (default
# 30): after warm-up, RUNS runs of the plain entry point interleaved with
# RUNS runs of the profiling entry point; ROUNDS (default 3) such
# profiles, of which the one with the smallest whole-run median is kept
# (the round least disturbed by other processes, as in bench/run.sh).
# Prints the per-node tables and,
# per network, the sum of node medians against the whole-run median (the
# plain entry's); writes its section of docs/benchmarks.md (between the
# profile:begin / profile:end markers, the rest of the file untouched).
# Done when every sum is within 10% of its whole-run median.
set -eu
cd "$(dirname "$0")/.."
runs=${1:-30}
rounds=${2:-3}
build=${GOS_BUILD:-build}
[ -x "$build/gosc" ] || sh scripts/build.sh "$build"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
nets="examples/mobilenet_v2.gos examples/resnet18.gos"

summary="" details="" ok=1
for m in $nets; do
	n=$(basename "$m" .gos)
	"$build/gosc" "$m" -target=host -emit=exe -o "$tmp/$n"
	best=1e30
	for r in $(seq "$rounds"); do
		"$tmp/$n" --random-inputs --profile="$tmp/$n.$r.csv" --runs "$runs" > "$tmp/$n.$r.txt"
		w=$(tail -1 "$tmp/$n.$r.csv" | cut -d, -f6)
		echo "$n round $r: $(tail -1 "$tmp/$n.$r.txt")"
		if awk -v a="$w" -v b="$best" 'BEGIN { exit !(a < b) }'; then
			best=$w
			cp "$tmp/$n.$r.csv" "$tmp/$n.csv"
			cp "$tmp/$n.$r.txt" "$tmp/$n.txt"
		fi
	done
	cat "$tmp/$n.txt"
	echo
	line=$(awk -F, -v n="$n" 'NR > 1 && $2 != "(total)" { s += $6; k++; f += $8 }
		$2 == "(total)" { w = $6; wl = $7 }
		END { r = s / w; d = r - 1; if (d < 0) d = -d
		      printf "| %s | %d | %.3f | %.3f | %.3f | %+.1f%% | %.1f | %s |", n, k, s, w, wl,
		             100 * (r - 1), f / 1e9 / (w / 1e3), d <= 0.10 ? "yes" : "NO" }' "$tmp/$n.csv")
	case $line in *"| NO |") ok=0 ;; esac
	summary="$summary$line"$'\n'
	# per kind: nodes, summed median, share
	kinds=$(awk -F, 'NR > 1 && $2 != "(total)" { t[$4] += $6; c[$4]++; s += $6 }
		END { for (k in t) printf "%s %d %.3f %.1f\n", k, c[k], t[k], 100 * t[k] / s }' "$tmp/$n.csv" |
		sort -k3 -rn | awk '{ printf "| %s | %d | %.3f | %.1f%% |\n", $1, $2, $3, $4 }')
	nodes=$(awk -F, 'NR > 1 && $2 != "(total)" {
		printf "| %s | %s | %s | %.4f | %.4f | %.3f | %.1f | %.2f%% |\n", $2, $3, $4, $6, $7, $8 / 1e6, $9, $10 }' \
		"$tmp/$n.csv")
	details="$details"$'\n'"### $n"$'\n\n'"| kind | nodes | sum of medians ms | share |"$'\n'"|---|---:|---:|---:|"$'\n'"$kinds"$'\n\n'
	details="$details<details><summary>$n: every node</summary>"$'\n\n'
	details="$details| node | op | kind | median ms | min ms | MFLOP | GFLOP/s | share |"$'\n'"|---|---|---|---:|---:|---:|---:|---:|"$'\n'"$nodes"$'\n\n'"</details>"$'\n'
done
echo "sum of node medians vs whole-run median:"
printf '%s' "$summary"

{
	echo "<!-- profile:begin (written by bench/profile.sh; do not edit by hand) -->"
	echo
	echo "## Per-node profiles (\`--profile\`)"
	echo
	echo "Produced by \`bash bench/profile.sh $runs $rounds\` on $(date -u +%Y-%m-%d) ($cpu, one thread,"
	echo "machine shared with other jobs). Each network is compiled with \`gosc -target=host"
	echo "-emit=exe\` (-O2, seeded random weights; at -O2 the 3x3 convolutions of ResNet-18 become"
	echo "Winograd stages) and run with \`--random-inputs --profile=FILE.csv --runs $runs\`: after"
	echo "warm-up, $runs runs of the plain entry point interleaved with $runs runs of the profiling"
	echo "entry point (\`<prefix>_run_profile\`, a clock read between nodes); of $rounds such"
	echo "profiles the one with the smallest whole-run median is shown. Node times are medians"
	echo "over the profiled runs; the whole run is the plain entry's median (and min). GFLOP/s"
	echo "is of the whole run."
	echo
	echo "| network | nodes | sum of node medians ms | whole-run median ms | whole-run min ms | sum vs whole | GFLOP/s | within 10% |"
	echo "|---|---:|---:|---:|---:|---:|---:|---|"
	printf '%s' "$summary"
	printf '%s' "$details"
	echo
	echo "<!-- profile:end -->"
} > "$tmp/section"
doc=docs/benchmarks.md
bash bench/section.sh profile "$tmp/section" "$doc"
echo "wrote its section of $doc"
[ "$ok" = 1 ] || { echo "bench/profile.sh: a sum of node medians is more than 10% off the whole run"; exit 1; }
