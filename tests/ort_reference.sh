#!/bin/bash
# ort_reference.sh BUILD_DIR SOURCE_DIR -- the reference interpreter
# against ONNX Runtime, an implementation nobody on the team wrote: every
# example network and every golden-IR model that uses only prelude
# operators is exported with `gosc -emit=onnx`, run by ONNX Runtime
# (bench/ort, npm onnxruntime-node) and by `gos-run` on the same random
# inputs, and the outputs must agree within 1e-4 of the output's scale.
# Skipped (exit 0, says so) when ONNX Runtime is not installed.
set -u
build=$(cd "${1:?}" && pwd) src=$(cd "${2:?}" && pwd) || exit 1
ort="$src/bench/ort"
if [ ! -f "$ort/node_modules/onnxruntime-node/package.json" ] || ! command -v node >/dev/null; then
	echo "ort_reference: skipped (ONNX Runtime not installed: run scripts/deps.sh)"
	exit 0
fi
py=/usr/bin/python3
[ -x "$py" ] || py=python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$src" || exit 1
pass=0 fail=0 skip=0
for f in examples/*.gos examples/*/*.gos tests/ir/*.gos; do
	[ -f "$f" ] || continue
	n=$(echo "${f%.gos}" | tr '/' '_')
	if ! "$build/gosc" "$f" -emit=onnx -o "$tmp/$n.onnx" 2>"$tmp/$n.err"; then
		if grep -q "has no ONNX equivalent" "$tmp/$n.err"; then
			echo "skip $f: $(grep -o "operator '[^']*'" "$tmp/$n.err" | head -1) has no ONNX equivalent"
			skip=$((skip + 1))
			continue
		fi
		echo "FAIL $f: export failed"; cat "$tmp/$n.err"; fail=$((fail + 1)); continue
	fi
	if ! "$build/gos-run" "$f" --random-inputs --seed 7 --output-dir "$tmp/$n.ref" >/dev/null 2>"$tmp/$n.err"; then
		echo "FAIL $f: gos-run failed"; cat "$tmp/$n.err"; fail=$((fail + 1)); continue
	fi
	if ! node "$ort/ort-run.js" "$tmp/$n.onnx" --input-dir "$tmp/$n.ref" --output-dir "$tmp/$n.ort" 2>"$tmp/$n.err"; then
		echo "FAIL $f: onnxruntime failed"; cat "$tmp/$n.err"; fail=$((fail + 1)); continue
	fi
	if out=$("$py" "$src/scripts/npycmp.py" "$tmp/$n.ort" "$tmp/$n.ref" 1e-4); then
		pass=$((pass + 1))
		echo "ok   $f"
	else
		echo "FAIL $f"; echo "$out"; fail=$((fail + 1))
	fi
done
echo "ort_reference: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
