#!/bin/bash
# cost_forms.sh BUILD SRC -- the analytic model orders the operator forms
# of the synthesis rules plausibly (pi3): grouped g=2 costs about half a
# dense conv, g=32 less than dense but more per FLOP than dense, depthwise
# is depthwise, 9x1 costs like a 3x3 of the same FLOPs, a low-rank pair
# (3x3 to 8 channels, then 1x1) less than the dense 3x3.
set -u
B=$1
GC="$B/gos-cost"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
m() { # NAME BODY
	printf 'model %s {\n  input x: f32[1, 64, 28, 28];\n  weights seed 1;\n%s\n}\n' "$1" "$2" > "$T/$1.gos"
}
m dense '  output y = conv2d(x, param[64, 64, 3, 3]; pad = 1);'
m g2 '  output y = conv2d(x, param[64, 32, 3, 3]; pad = 1, groups = 2);'
m g32 '  output y = conv2d(x, param[64, 2, 3, 3]; pad = 1, groups = 32);'
m dw '  output y = conv2d(x, param[64, 1, 3, 3]; pad = 1, groups = 64);'
m k9x1 '  output y = conv2d(x, param[64, 64, 9, 1]; pad = [4, 0, 4, 0]);'
m lowrank '  a = conv2d(x, param[8, 64, 3, 3]; pad = 1);
  output y = conv2d(a, param[64, 8, 1, 1]);'
for n in dense g2 g32 dw k9x1 lowrank; do
	"$GC" predict -target=pi3 "$T/$n.gos" > "$T/$n.ms" || fail "predict $n"
	eval "$n=\$(cut -d, -f2 "$T/$n.ms")"
	"$GC" predict -target=pi3 --per-op "$T/$n.gos" | sed -n 3p | awk '{ print $3 }' > "$T/$n.kind"
done
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
# shellcheck disable=SC2154
{
lt "$g2" "$dense" || fail "g=2 ($g2 ms) not below dense ($dense ms)"
lt "$g2" "$(awk -v d="$dense" 'BEGIN { print 0.6 * d }')" || fail "g=2 ($g2) not about half of dense ($dense)"
lt "$g32" "$g2" || fail "g=32 ($g32) not below g=2 ($g2)"
# g=32 has 1/32 of the FLOPs of dense but a 2-fold reuse: slower per FLOP
lt "$(awk -v d="$dense" 'BEGIN { print d / 32 }')" "$g32" || fail "g=32 ($g32) as efficient as dense"
lt "$dw" "$g32" || fail "depthwise ($dw) not below g=32 ($g32)"
[ "$(cat "$T/g2.kind")" = contraction ] || fail "g=2 kind $(cat "$T/g2.kind")"
[ "$(cat "$T/dw.kind")" = depthwise ] || fail "depthwise kind $(cat "$T/dw.kind")"
awk -v a="$k9x1" -v b="$dense" 'BEGIN { r = a / b; exit !(r > 0.9 && r < 1.1) }' ||
	fail "9x1 ($k9x1) and 3x3 ($dense) of the same FLOPs differ"
lt "$lowrank" "$dense" || fail "low-rank pair ($lowrank) not below dense ($dense)"
}
echo "cost_forms: ok"
