#!/bin/bash
# fuzz-corpus.sh OUT -- gathers the seed corpora of the fuzz targets
# (fuzz/, docs/fuzzing.md) into OUT/<target>/ from the repository's
# examples and tests, libonnx-testdata's node models (when installed) and
# the small generated files of scripts/fuzz-seeds.py, plus the committed
# regression inputs of tests/fuzz/<target>/. Nothing here is committed:
# OUT lives in a build directory.
set -eu
OUT=$1
SRC=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$OUT"
cp_into() { # TARGET FILE...
	local t=$1; shift
	mkdir -p "$OUT/$t"
	local f
	for f in "$@"; do
		[ -f "$f" ] || continue
		# flatten the path into a unique name
		cp "$f" "$OUT/$t/$(echo "${f#$SRC/}" | tr '/' '_')"
	done
}
cd "$SRC"
cp_into gos $(git ls-files '*.gos' | sed "s|^|$SRC/|")
cp_into gir $(git ls-files '*.gir' | sed "s|^|$SRC/|")
cp_into target $(git ls-files '*.target' | sed "s|^|$SRC/|")
cp_into npy $(git ls-files '*.npy' | sed "s|^|$SRC/|")
cp_into npz $(git ls-files '*.npz' | sed "s|^|$SRC/|")
# ONNX: the small node models of libonnx-testdata (every 4th, at most 64 KB)
# and the repository's own models when small
ND=/usr/share/libonnx-testdata/data/node
if [ -d "$ND" ]; then
	i=0
	for f in "$ND"/*/model.onnx; do
		i=$((i + 1))
		[ $((i % 4)) = 0 ] || continue
		[ "$(stat -c %s "$f")" -le 65536 ] || continue
		d=$(basename "$(dirname "$f")")
		mkdir -p "$OUT/onnx"
		cp "$f" "$OUT/onnx/$d.onnx"
	done
fi
python3 "$SRC/scripts/fuzz-seeds.py" "$OUT"
for t in "$SRC"/tests/fuzz/*/; do
	t=$(basename "$t")
	mkdir -p "$OUT/$t"
	cp "$SRC/tests/fuzz/$t"/* "$OUT/$t/" 2>/dev/null || true
done
mkdir -p "$OUT/onnx_struct"
cp "$OUT/onnx"/* "$OUT/onnx_struct/" 2>/dev/null || true
for t in "$OUT"/*/; do
	echo "$(basename "$t"): $(ls "$t" | wc -l) seeds"
done
