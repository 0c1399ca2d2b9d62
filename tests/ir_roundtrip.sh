#!/bin/bash
# ir_roundtrip.sh BUILD_DIR SOURCE_DIR -- the textual IR round-trips
# through gosc: for every tests/ir/*.gir and examples/**/*.gos
#     gosc X -emit=ir -o a.gir && gosc a.gir -emit=ir -o b.gir && cmp a.gir b.gir
# .gos files are skipped only while gosc reports that the .gos frontend is
# not built yet; once it is, every failure fails the test.
# Every tests/ir/bad/*.gir must make gosc fail with exit status 1 and
# print the diagnostic given on its first line ("// expect: TEXT").
set -u
build=${1:?usage: ir_roundtrip.sh BUILD_DIR SOURCE_DIR}
src=${2:?usage: ir_roundtrip.sh BUILD_DIR SOURCE_DIR}
build=$(cd "$build" && pwd) && src=$(cd "$src" && pwd) || exit 1
gosc=$build/gosc
[ -x "$gosc" ] || { echo "ir_roundtrip: no gosc in $build"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pass=0 failed=0 skipped=0

# roundtrip FILE: the two-step check above.
roundtrip() {
	local f=$1
	if ! "$gosc" "$f" -emit=ir -o "$tmp/a.gir" 2>"$tmp/err"; then
		case $f in
		*.gos)
			if grep -q "frontend is not built yet" "$tmp/err"; then
				skipped=$((skipped + 1))
				return
			fi ;;
		esac
		echo "FAIL: gosc $f -emit=ir"
		cat "$tmp/err"
		failed=$((failed + 1))
		return
	fi
	if ! "$gosc" "$tmp/a.gir" -emit=ir -o "$tmp/b.gir" 2>"$tmp/err"; then
		echo "FAIL: the IR printed for $f does not read back:"
		cat "$tmp/err"
		failed=$((failed + 1))
		return
	fi
	if ! cmp -s "$tmp/a.gir" "$tmp/b.gir"; then
		echo "FAIL: $f: print(parse(print)) differs from print:"
		diff "$tmp/a.gir" "$tmp/b.gir" | head -20
		failed=$((failed + 1))
		return
	fi
	pass=$((pass + 1))
}

shopt -s nullglob
for f in "$src"/tests/ir/*.gir; do
	roundtrip "$f"
done
while IFS= read -r -d '' f; do
	roundtrip "$f"
done < <(find "$src/examples" -name '*.gos' -print0 2>/dev/null | sort -z)

# Bad inputs: run from their directory so diagnostics name the bare file.
for f in "$src"/tests/ir/bad/*.gir; do
	want=$(sed -n '1s|^// expect: ||p' "$f")
	if [ -z "$want" ]; then
		echo "FAIL: $f has no '// expect: ' first line"
		failed=$((failed + 1))
		continue
	fi
	(cd "$(dirname "$f")" && "$gosc" "$(basename "$f")" -emit=ir -o "$tmp/bad.gir") \
		>"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -ne 1 ] || ! grep -qF -- "$want" "$tmp/err"; then
		echo "FAIL: $f: want exit status 1 and"
		echo "  $want"
		echo "got exit status $rc and:"
		cat "$tmp/err"
		failed=$((failed + 1))
		continue
	fi
	if [ -e "$tmp/bad.gir" ]; then
		echo "FAIL: $f: gosc failed but wrote its output file"
		failed=$((failed + 1))
		continue
	fi
	pass=$((pass + 1))
done

echo "ir_roundtrip: $pass passed, $failed failed, $skipped skipped (.gos frontend not built)"
[ $failed -eq 0 ] && [ $pass -gt 0 ]
