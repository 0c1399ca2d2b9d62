#!/bin/bash
# threads.sh BUILD_DIR SOURCE_DIR -- `gosc -threads=N`: the outputs of
# models compiled for 1, 2, 3 and 5 threads are byte-identical and equal
# the reference interpreter's (host; armv8 under qemu when available).
set -u
build=$(cd "${1:?}" && pwd) src=$(cd "${2:?}" && pwd) || exit 1
py=/usr/bin/python3
[ -x "$py" ] || py=python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$src" || exit 1
fail=0 pass=0
for m in bench/layers/conv3x3_64x56.gos bench/layers/gemm_256x512x512.gos examples/ppg_cnn.gos tests/ir/grouped_conv.gos; do
	n=$(basename "$m" .gos)
	"$build/gos-run" "$m" --random-inputs --seed 3 --output-dir "$tmp/$n.ref" >/dev/null || { echo "FAIL $m: gos-run"; fail=$((fail + 1)); continue; }
	args=""
	for f in "$tmp/$n.ref"/*.input.npy; do args="$args --input $(basename "$f" .input.npy)=$f"; done
	for t in host armv8; do
		run=""
		if [ $t = armv8 ]; then
			command -v qemu-aarch64 >/dev/null || continue
			run="qemu-aarch64 -L /usr/aarch64-linux-gnu"
		fi
		for th in 1 2 3 5; do
			if ! "$build/gosc" "$m" -target=$t -threads=$th -emit=exe -o "$tmp/$n.$t.$th" 2>"$tmp/err" ||
				! $run "$tmp/$n.$t.$th" $args --output-dir "$tmp/$n.$t.$th.out" >/dev/null 2>>"$tmp/err"; then
				echo "FAIL $m $t -threads=$th"; cat "$tmp/err"; fail=$((fail + 1)); continue
			fi
			if [ $th = 1 ]; then
				"$py" scripts/npycmp.py "$tmp/$n.ref" "$tmp/$n.$t.1.out" 1e-4 >/dev/null ||
					{ echo "FAIL $m $t: differs from the interpreter"; fail=$((fail + 1)); }
			else
				for f in "$tmp/$n.$t.1.out"/*.npy; do
					cmp -s "$f" "$tmp/$n.$t.$th.out/$(basename "$f")" ||
						{ echo "FAIL $m $t -threads=$th: $(basename "$f") differs from 1 thread"; fail=$((fail + 1)); }
				done
			fi
			pass=$((pass + 1))
		done
	done
done
echo "threads: $pass runs, $fail failures"
[ $fail -eq 0 ]
