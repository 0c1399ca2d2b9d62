#!/bin/bash
# synth_algebra.sh BUILD_DIR SOURCE_DIR -- golden tests of the algebraic
# exact rules: `gos-opt tests/synth_algebra/X.gos -O2 -passes=dce` (the
# exact synthesis rules gos_synth_exact applies, without fusion) must
# print exactly tests/synth_algebra/X.gir. GOS_UPDATE_GOLDEN=1 rewrites
# the expectations (read them before keeping them).
set -u
build=${1:?usage: synth_algebra.sh BUILD_DIR SOURCE_DIR}
src=${2:?usage: synth_algebra.sh BUILD_DIR SOURCE_DIR}
build=$(cd "$build" && pwd) && src=$(cd "$src" && pwd) || exit 1
opt=$build/gos-opt
[ -x "$opt" ] || { echo "synth_algebra: no gos-opt in $build"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$src" || exit 1
pass=0 failed=0
for f in tests/synth_algebra/*.gos; do
	want=${f%.gos}.gir
	if ! "$opt" "$f" -O2 -passes=dce -o "$tmp/out" 2>"$tmp/err"; then
		echo "FAIL: $f: gos-opt failed:"; cat "$tmp/err"; failed=$((failed + 1)); continue
	fi
	if [ "${GOS_UPDATE_GOLDEN:-0}" = 1 ]; then
		cmp -s "$tmp/out" "$want" 2>/dev/null || { cp "$tmp/out" "$want"; echo "updated $want"; }
	elif ! cmp -s "$tmp/out" "$want"; then
		echo "FAIL: $f: the IR after -O2 differs from $want:"
		diff "$want" "$tmp/out" | head -20
		failed=$((failed + 1)); continue
	fi
	pass=$((pass + 1))
done
echo "synth_algebra: $pass passed, $failed failed"
[ $failed -eq 0 ]
