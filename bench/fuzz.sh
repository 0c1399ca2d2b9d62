#!/bin/bash
# bench/fuzz.sh [SECONDS_PER_TARGET] -- builds the libFuzzer targets of
# fuzz/ (clang-14, ASan + UBSan, GOS_FUZZ=ON) in their own build directory
# ($GOS_FUZZ_BUILD, default build-fuzz), runs each target for the given
# time (default 60 s) one after another on seeds gathered by
# scripts/fuzz-corpus.sh, and writes docs/fuzzing.md: per target the
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
JOBS=${GOS_FUZZ_JOBS:-2}

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

ROWS=""
TOTAL_CRASH=0
START=$(date -u '+%Y-%m-%d %H:%M UTC')
for t in $TARGETS; do
	corpus="$B/fuzz-corpus/$t" crashes="$B/fuzz-crashes/$t" logs="$B/fuzz-logs/$t"
	mkdir -p "$corpus" "$crashes" "$logs"
	d=$(dict_of "$t")
	execs=0 runs=0 ncrash=0 cov=0 ft=0 left=$SECS kinds=""
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
	ncorp=$(ls "$corpus" | wc -l)
	TOTAL_CRASH=$((TOTAL_CRASH + ncrash))
	echo "fuzz_$t: $execs executions, cov $cov, ft $ft, corpus $ncorp, crashes $ncrash" >&2
	ROWS="$ROWS| $t | $SECS | $execs | $cov | $ft | $ncorp | $ncrash${kinds:+ ($kinds)} |
"
done

cat > "$SRC/docs/fuzzing.md" <<DOC
# Fuzzing

Every reader of an input file has a libFuzzer target in \`fuzz/\` (issue 15).
A target feeds the fuzzer's bytes to one reader of libgos; the reader must
either succeed or return an error in \`gos_diags\` -- a crash, a sanitizer
report (ASan, UBSan, LeakSanitizer), a hang of more than 10 s or more than
2 GB of memory is a finding.

| target | reader |
|---|---|
| gos | \`.gos\` text through parsing and elaboration (\`gos_gos_load_text\`), then \`gos_verify\` |
| gir | textual IR: \`gos_ir_parse\` + \`gos_verify\` |
| onnx | ONNX protobuf bytes: \`gos_onnx_load\` (symbolic dimensions = 2), \`gos_onnx_info_read\`, \`gos_onnx_tensor_read\` |
| onnx_struct | the same, with a structure-aware mutator (\`LLVMFuzzerCustomMutator\`): decodes a valid ModelProto, changes input dimensions (0, 1, -1, 2^40, INT64_MAX, symbolic), ranks, attributes and their types, makes node inputs dangling, cyclic or empty, swaps, drops and renames nodes, breaks initializer dimensions and the opset, re-encodes |
| safetensors | \`gos_safetensors_read\` of tensor \`w\` [2, 3] |
| npy | \`gos_npy_read\` and the dataset reader (as images and as labels of a pair) |
| npz | the dataset reader's ZIP archive path |
| idx | the dataset reader on IDX files, plain or gzipped (as images and as labels) |
| target | \`gos_target_parse\` (backend) and \`gos_cost_target_parse\` |
| costmodel | \`gos_cost_model_load\`, then the model applied to a feature row |
| profile | \`gos_cost_profile_parse\` against a fixed small model |

## Running

    cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang-14 -DGOS_FUZZ=ON && make -C build-fuzz -j2 fuzz_all
    bash scripts/fuzz-corpus.sh build-fuzz/fuzz-seeds      # seeds from examples/, tests/, libonnx-testdata
    build-fuzz/fuzz/fuzz_gos -dict=fuzz/dict/gos.dict build-fuzz/fuzz-seeds/gos
    bench/fuzz.sh 600                                      # every target for 10 minutes; rewrites this file

Seeds are gathered, not committed (\`scripts/fuzz-corpus.sh\`; small
binary seeds are generated by \`scripts/fuzz-seeds.py\`). Dictionaries for
the text formats are in \`fuzz/dict/\`. Inputs that once crashed a reader
are committed in \`tests/fuzz/<target>/\` and replayed in the default test
run by \`fuzz_regress_<target>\` (ctest \`fuzz.<target>\`; the same target
source linked with \`fuzz/regress.c\` instead of libFuzzer).

## Limits and findings

The readers check what a file says against the file and against sane
maxima before they allocate or recurse (each with an error and a
regression input under \`tests/fuzz/\`):

- .gos: expressions nest at most 500 deep, statements 100, blocks 200;
  a tensor has at most 2^31-1 elements (inputs, parameters, results).
- .gir: index expressions nest at most 1000 deep; a shape has at most
  2^31-1 elements (\`huge_shape.gir\`); index arithmetic that overflows
  64 bits is a verifier error (\`index_overflow.gir\`).
- ONNX: messages nest at most 100 deep, checked on the wire format before
  protobuf-c decodes (\`nested_graph_attributes.onnx\`: 30000 levels of
  graph attributes in 354 KB overflowed the stack); a tensor's data is
  allocated only after the file is known to hold it
  (\`tensor_dims_without_data.pb\`: 11 bytes made it calloc 16 GB); a
  constant computed at import has at most 2^26 elements and its element
  count cannot overflow (\`constant_of_shape_*.onnx\`: the count was a
  signed overflow).
- safetensors, .npy, .npz, IDX: header sizes are checked against the
  file length (data buffers grow as bytes arrive), JSON nests at most 64.

- ONNX DepthToSpace / SpaceToDepth: blocksize at most 65536
  (\`tests/fuzz/onnx_struct/depthtospace_blocksize_overflow.onnx\`: blocksize
  INT64_MAX overflowed b * b; found by fuzz_onnx_struct in a 9-minute run).
- ONNX window operators (Conv, pools): kernel sizes, strides, dilations and
  pads at most 2^30 (\`window_stride_overflow.onnx\`: stride INT64_MAX
  overflowed the SAME padding arithmetic; found by fuzz_onnx_struct).
- ONNX ConvTranspose: strides, dilations, output padding at most 2^30,
  output_shape values at most 2^31 (\`convtranspose_stride_overflow.onnx\`:
  stride INT64_MAX overflowed the output size; found by fuzz_onnx_struct).

All but the last three were found by reading the readers and writing hostile
inputs.

## Last run

\`bench/fuzz.sh $SECS\`, started $START, on $(nproc) cores shared with
other work (targets run one after another, one process each). Executions
are summed over restarts after a crash; cov (edges) and ft (features) are
libFuzzer's last figures; corpus is the number of inputs kept.

| target | seconds | executions | edges (cov) | features (ft) | corpus | crashes |
|---|---|---|---|---|---|---|
$ROWS
DOC
echo "docs/fuzzing.md written; $TOTAL_CRASH crashes" >&2
[ $TOTAL_CRASH = 0 ]
