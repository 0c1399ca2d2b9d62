#!/bin/bash
# golden.sh BUILD_DIR SOURCE_DIR -- golden tests of the .gos frontend.
#
#   tests/ir/X.gos    `gosc tests/ir/X.gos -emit=ir` must exit 0 and print
#                     exactly tests/ir/X.gir;
#   tests/diag/X.gos  `gosc tests/diag/X.gos -emit=ir -o OUT` must exit 1,
#                     print exactly tests/diag/X.err on stderr, nothing on
#                     stdout, and not create OUT.
#
# gosc runs in SOURCE_DIR with relative paths, so the file names in the
# expected diagnostics are stable. Helper files (imports) live in
# subdirectories and are not tests themselves.
#
# GOS_UPDATE_GOLDEN=1 rewrites the expectations from what gosc prints (the
# exit status and output-file rules are still checked): read the new files
# before keeping them.
set -u
build=${1:?usage: golden.sh BUILD_DIR SOURCE_DIR}
src=${2:?usage: golden.sh BUILD_DIR SOURCE_DIR}
build=$(cd "$build" && pwd) && src=$(cd "$src" && pwd) || exit 1
gosc=$build/gosc
[ -x "$gosc" ] || { echo "golden: no gosc in $build"; exit 1; }
update=${GOS_UPDATE_GOLDEN:-0}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$src" || exit 1

# While the .gos frontend is still the placeholder there is nothing to test.
printf 'model m { input x: f32[1]; output y = relu(x); }\n' >"$tmp/probe.gos"
if ! "$gosc" "$tmp/probe.gos" -emit=ir >/dev/null 2>"$tmp/err" &&
	grep -q "frontend is not built yet" "$tmp/err"; then
	echo "golden: skipped (the .gos frontend is not built yet)"
	exit 0
fi

pass=0 failed=0 updated=0
fail() {
	echo "FAIL: $*"
	failed=$((failed + 1))
}

shopt -s nullglob

# Golden IR.
for f in tests/ir/*.gos; do
	want=${f%.gos}.gir
	"$gosc" "$f" -emit=ir >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -ne 0 ]; then
		fail "$f: gosc exited with status $rc:"
		cat "$tmp/err"
		continue
	fi
	if [ "$update" = 1 ]; then
		cmp -s "$tmp/out" "$want" 2>/dev/null || { cp "$tmp/out" "$want"; updated=$((updated + 1)); echo "updated $want"; }
		pass=$((pass + 1))
		continue
	fi
	if [ ! -f "$want" ]; then
		fail "$f: no expected output $want (run with GOS_UPDATE_GOLDEN=1)"
		continue
	fi
	if ! cmp -s "$tmp/out" "$want"; then
		fail "$f: the IR differs from $want:"
		diff -u "$want" "$tmp/out" | head -40
		continue
	fi
	pass=$((pass + 1))
done

# Diagnostics.
for f in tests/diag/*.gos; do
	want=${f%.gos}.err
	rm -f "$tmp/out.gir"
	"$gosc" "$f" -emit=ir -o "$tmp/out.gir" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -ne 1 ]; then
		fail "$f: want exit status 1, got $rc; stderr:"
		cat "$tmp/err"
		continue
	fi
	if [ -e "$tmp/out.gir" ]; then
		fail "$f: gosc failed but created its output file"
		continue
	fi
	if [ -s "$tmp/out" ]; then
		fail "$f: gosc printed on stdout:"
		head -5 "$tmp/out"
		continue
	fi
	if [ ! -s "$tmp/err" ]; then
		fail "$f: gosc failed without a message"
		continue
	fi
	if [ "$update" = 1 ]; then
		cmp -s "$tmp/err" "$want" 2>/dev/null || { cp "$tmp/err" "$want"; updated=$((updated + 1)); echo "updated $want"; }
		pass=$((pass + 1))
		continue
	fi
	if [ ! -f "$want" ]; then
		fail "$f: no expected diagnostics $want (run with GOS_UPDATE_GOLDEN=1)"
		continue
	fi
	if ! cmp -s "$tmp/err" "$want"; then
		fail "$f: the diagnostics differ from $want:"
		diff -u "$want" "$tmp/err" | head -40
		continue
	fi
	pass=$((pass + 1))
done

# Every expectation belongs to a test (a leftover means a renamed test).
for f in tests/diag/*.err; do
	[ -f "${f%.err}.gos" ] || fail "$f has no tests/diag/$(basename "${f%.err}").gos"
done

msg="golden: $pass passed, $failed failed"
[ "$update" = 1 ] && msg="$msg, $updated expectation files rewritten"
echo "$msg"
[ $failed -eq 0 ] && [ $pass -gt 0 ]
