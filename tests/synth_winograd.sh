#!/bin/bash
# synth_winograd.sh BUILD_DIR SOURCE_DIR -- the exact `winograd` rule end
# to end: a .gos layer (batch 2, 13 -> 11 channels, 11x9 output with pad
# 1, bias, ReLU) and an ONNX-shaped pad-0 one are rewritten with
# `gos-opt --apply=h/winograd:m=2` and `m=4`; each candidate equals the
# direct layer on the interpreter (gos-run, |y - y0| <= 1e-4 max |y0|),
# and its compiled code (gosc -emit=exe) for host, armv8 and pi3-armv7
# (under qemu with the target's sysroot) gives the interpreter's outputs
# (tests/e2e/lib.sh). The host compile must use the Winograd kernels.
set -u
build=${1:?usage: synth_winograd.sh BUILD_DIR SOURCE_DIR}
src=${2:?usage: synth_winograd.sh BUILD_DIR SOURCE_DIR}
build=$(cd "$build" && pwd) && src=$(cd "$src" && pwd) || exit 1
. "$src/tests/e2e/lib.sh"

cat >"$tmp/a.gos" <<'EOG'
model a {
  input x: f32[2, 13, 11, 9];
  weights seed 3;
  h = conv2d(x, param[11, 13, 3, 3], param[11]; pad = 1);
  output y = relu(h);
}
EOG
cat >"$tmp/b.gos" <<'EOG'
model b {
  input x: f32[1, 8, 10, 12];
  weights seed 4;
  h = conv2d(x, param[16, 8, 3, 3]);
  output y = h;
}
EOG
models=
for g in a b; do
	"$gosrun" "$tmp/$g.gos" --random-inputs --seed "$seed" --output-dir "$tmp/$g.direct" >/dev/null 2>&1 ||
		fail "$g: gos-run of the direct layer failed"
	for mt in 2 4; do
		mkdir -p "$tmp/cand"
		c=$tmp/cand/$g.wino$mt.gir
		if ! "$build/gos-opt" "$tmp/$g.gos" --apply=h/winograd:m=$mt -o "$c" 2>"$tmp/err"; then
			fail "$g m=$mt: --apply: $(head -3 "$tmp/err")"
			continue
		fi
		models="$models $c"
		check_interp() {
			"$gosrun" "$1" --random-inputs --seed "$seed" --output-dir "$2" >/dev/null &&
				"$python" -c "
import numpy as np, sys
a, b = np.load('$3/y.npy'), np.load('$2/y.npy')
sys.exit(0 if a.shape == b.shape and np.abs(a - b).max() <= 1e-4 * np.abs(a).max() else 1)"
		}
		e2e_check "$g m=$mt: winograd equals the direct layer (interpreter)" \
			check_interp "$c" "$tmp/$g.wino$mt.interp" "$tmp/$g.direct"
		uses_kernels() {
			"$gosc" "$1" -target=host -stats -o "$tmp/k.o" 2>&1 | grep -q "kwino: input" &&
				"$gosc" "$1" -target=host -stats -o "$tmp/k.o" 2>&1 | grep -q "kwino: output" &&
				"$gosc" "$1" -target=host -stats -o "$tmp/k.o" 2>&1 | grep -q "kconv: matmul"
		}
		e2e_check "$g m=$mt: host code takes the transform and matmul kernels" uses_kernels "$c"
	done
done
e2e_run_matrix "$models" random
e2e_finish
