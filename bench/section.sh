#!/bin/bash
# section.sh NAME FILE DOC -- puts FILE (a section that starts with
# "<!-- NAME:begin" and ends with "<!-- NAME:end -->") into DOC in place of
# DOC's own NAME section, or at its end when DOC has none. The benchmark
# scripts write their part of a shared document this way.
set -eu
name=${1:?usage: section.sh NAME FILE DOC} file=${2:?} doc=${3:?}
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
if grep -q "^<!-- $name:begin" "$doc"; then
	awk -v f="$file" -v b="^<!-- $name:begin" -v e="^<!-- $name:end" \
		'$0 ~ b { while ((getline l < f) > 0) print l; skip = 1; next }
		 $0 ~ e { skip = 0; next } !skip' "$doc" > "$tmp"
else
	{ cat "$doc"; echo; cat "$file"; } > "$tmp"
fi
cp "$tmp" "$doc"
