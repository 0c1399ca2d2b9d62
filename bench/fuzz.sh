#!/bin/bash
# bench/fuzz.sh [SECONDS_PER_TARGET] -- builds the libFuzzer targets of
# fuzz/ (clang-14, ASan + UBSan, GOS_FUZZ=ON) in their own build directory
# ($GOS_FUZZ_BUILD, default build-fuzz), runs each target for the given
# time (default 60 s; $GOS_FUZZ_TARGETS, default all, picks which to run, and
# the table keeps the last row of the others), $GOS_FUZZ_PAR targets at a time (default: the
# number of cores; one libFuzzer process each), on seeds gathered by
# scripts/fuzz-corpus.sh, and rewrites the "Last run" section of
# docs/fuzzing.md (between its fuzz.sh markers): per target the
# executions, the edges covered (libFuzzer's cov:) and features (ft:),
# the corpus size, and the crashes found (sanitizer reports, timeouts of
# more than 10 s, more than 2 GB of memory). A target that crashes is
# restarted for the rest of its time (at most 5 times); crashing inputs
# are kept in BUILD/fuzz-crashes/<target>/ (copy them to
# tests/fuzz/<target>/ with a fix). The corpora grow in
# BUILD/fuzz-corpus/<target>/ across runs. Needs: clang-14, cmake.
# Exit 0 when no target crashed, 1 otherwise.
set -u
SECS=${1:-60}
SRC=$(cd "$(dirname "$0")/.." && pwd)
B=${GOS_FUZZ_BUILD:-$SRC/build-fuzz}
TARGETS="gos gir onnx onnx_struct safetensors npy npz idx target costmodel profile"
RUN=${GOS_FUZZ_TARGETS:-$TARGETS} # the ones to run now; the table keeps the others' last rows
JOBS=${GOS_FUZZ_JOBS:-2}
PAR=${GOS_FUZZ_PAR:-$(nproc)}

mkdir -p "$B"
cmake -S "$SRC" -B "$B" -DCMAKE_C_COMPILER=clang-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DGOS_FUZZ=ON > "$B/fuzz-cmake.log" 2>&1 || { cat "$B/fuzz-cmake.log"; exit 1; }
make -C "$B" -j"$JOBS" fuzz_all > "$B/fuzz-make.log" 2>&1 || { tail -30 "$B/fuzz-make.log"; exit 1; }

SEEDS="$B/fuzz-seeds"
rm -rf "$SEEDS"
bash "$SRC/scripts/fuzz-corpus.sh" "$SEEDS" > /dev/null || exit 1

dict_of() { # TARGET -> dictionary file or nothing
	case $1 in
	gos | gir | target | costmodel | profile | safetensors | npy) echo "$SRC/fuzz/dict/$1.dict" ;;
	esac
}

# fuzz_one TARGET -- runs it for $SECS seconds (restarted after a crash);
# writes its table row to $B/fuzz-logs/TARGET/row and the crash count to
# $B/fuzz-logs/TARGET/crashes.
fuzz_one() {
	local t=$1
	local corpus="$B/fuzz-corpus/$t" crashes="$B/fuzz-crashes/$t" logs="$B/fuzz-logs/$t"
	mkdir -p "$corpus" "$crashes" "$logs"
	rm -f "$logs/row" "$logs/crashes"
	local d
	d=$(dict_of "$t")
	local execs=0 runs=0 ncrash=0 cov=0 ft=0 left=$SECS kinds="" t0 log rc e c k
	t0=$(date +%s)
	while [ "$left" -gt 0 ] && [ $runs -lt 6 ]; do
		log="$logs/run$runs.log"
		"$B/fuzz/fuzz_$t" -max_total_time="$left" -timeout=10 -rss_limit_mb=2048 \
			-print_final_stats=1 -artifact_prefix="$crashes/" ${d:+-dict="$d"} \
			"$corpus" "$SEEDS/$t" > "$log" 2>&1
		rc=$?
		runs=$((runs + 1))
		e=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}' | tail -1)
		[ -n "$e" ] || e=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
		execs=$((execs + ${e:-0}))
		c=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
		if [ -n "$c" ]; then
			set -- $c
			[ "$2" -gt "$cov" ] && cov=$2
			[ "$4" -gt "$ft" ] && ft=$4
		fi
		if [ $rc != 0 ]; then
			ncrash=$((ncrash + 1))
			k=$(grep -oE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer|UndefinedBehaviorSanitizer): [a-z-]+|runtime error: [^:]*|ERROR: libFuzzer: [a-z-]+|SUMMARY: [A-Za-z]+: [a-z-]+' "$log" | head -1)
			kinds="$kinds${kinds:+; }${k:-exit $rc}"
			echo "fuzz_$t: crash ($k), log $log" >&2
		fi
		left=$((SECS - ($(date +%s) - t0)))
	done
	local ncorp
	ncorp=$(ls "$corpus" | wc -l)
	echo "fuzz_$t: $execs executions, cov $cov, ft $ft, corpus $ncorp, crashes $ncrash" >&2
	echo "| $t | $SECS | $execs | $cov | $ft | $ncorp | $ncrash${kinds:+ ($kinds)} |" > "$logs/row"
	echo $ncrash > "$logs/crashes"
}

START=$(date -u '+%Y-%m-%d %H:%M UTC')
T0=$(date +%s)
for t in $RUN; do
	case " $TARGETS " in *" $t "*) ;; *) echo "fuzz.sh: no target '$t' (of: $TARGETS)" >&2; exit 1 ;; esac
done
for t in $RUN; do
	while [ "$(jobs -rp | wc -l)" -ge "$PAR" ]; do
		wait -n
	done
	fuzz_one "$t" &
done
wait
WALL=$(( ($(date +%s) - T0 + 30) / 60 ))

ROWS="" TOTAL_CRASH=0
for t in $TARGETS; do
	logs="$B/fuzz-logs/$t"
	when=$(date -u -r "$logs/row" '+%Y-%m-%d %H:%M' 2>/dev/null || echo -)
	ROWS="$ROWS$(cat "$logs/row" 2>/dev/null || echo "| $t | $SECS | - | - | - | - | did not finish |") $when |
"
	TOTAL_CRASH=$((TOTAL_CRASH + $(cat "$logs/crashes" 2>/dev/null || echo 1)))
done

DOC="$SRC/docs/fuzzing.md"
SECTION="$B/fuzz-last-run.md"
cat > "$SECTION" <<SEC
<!-- fuzz.sh: begin (bench/fuzz.sh rewrites this section) -->
\`bench/fuzz.sh $SECS\`${GOS_FUZZ_TARGETS:+ (GOS_FUZZ_TARGETS=\"$RUN\"; the other rows are from their last run)}, started $START, $WALL minutes on $(nproc) cores
($PAR targets at a time, one libFuzzer process each). Executions are
summed over restarts after a crash; cov (edges) and ft (features) are
libFuzzer's last figures; corpus is the number of inputs kept
(the corpora of earlier runs in $(basename "$B")/fuzz-corpus/ carry over).

| target | seconds | executions | edges (cov) | features (ft) | corpus | crashes | finished (UTC) |
|---|---|---|---|---|---|---|---|
$ROWS<!-- fuzz.sh: end -->
SEC
if grep -q '<!-- fuzz.sh: begin' "$DOC" && grep -q '<!-- fuzz.sh: end' "$DOC"; then
	awk -v sec="$SECTION" '
		/<!-- fuzz.sh: begin/ { while ((getline l < sec) > 0) print l; skip = 1; next }
		/<!-- fuzz.sh: end/ { skip = 0; next }
		!skip' "$DOC" > "$DOC.tmp" && mv "$DOC.tmp" "$DOC"
else
	{ echo; echo "## Last run"; echo; cat "$SECTION"; } >> "$DOC"
fi
echo "docs/fuzzing.md written; $TOTAL_CRASH crashes" >&2
[ $TOTAL_CRASH = 0 ]
