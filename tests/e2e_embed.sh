#!/bin/bash
# e2e_embed.sh BUILD_DIR SOURCE_DIR -- models used the way an application
# uses them: the examples/embed program built with its Makefile and gos.mk
# (out of the source tree) for the host and, cross-compiled, for armv8
# under qemu, its logits compared with the interpreter's on the same input;
# and a C program linking two models at once (no symbol clashes), built
# with -Wall -Wextra -pedantic -Werror.
set -u
build=${1:?usage: e2e_embed.sh BUILD_DIR SOURCE_DIR}
src=${2:?usage: e2e_embed.sh BUILD_DIR SOURCE_DIR}
build=$(cd "$build" && pwd) && src=$(cd "$src" && pwd) || exit 1
. "$src/tests/e2e/lib.sh"
command -v make >/dev/null || { echo "e2e_embed: SKIP: no make"; exit 0; }

# ref: the interpreter on tiny.gos with random inputs, and the input as
# raw floats for classify
"$gosrun" "$src/examples/tiny.gos" --random-inputs --seed 11 --output-dir "$tmp/ref" >/dev/null ||
	{ echo "gos-run failed"; exit 1; }
"$python" -c "import numpy as np, sys; np.load(sys.argv[1]).astype('<f4').tofile(sys.argv[2])" \
	"$tmp/ref/x.input.npy" "$tmp/x.f32" || exit 1

# classify_matches DIR RUN...: DIR/classify's logits equal the reference
classify_matches() {
	local dir=$1
	shift
	"$@" "$dir/classify" "$tmp/x.f32" >"$dir/out.txt" || return 1
	head -10 "$dir/out.txt" >"$dir/logits.txt"
	"$python" - "$tmp/ref/logits.npy" "$dir/logits.txt" <<'PY'
import sys
import numpy as np
ref = np.load(sys.argv[1]).ravel().astype(np.float64)
got = np.loadtxt(sys.argv[2])
scale = max(1.0, float(np.max(np.abs(ref))))
err = float(np.max(np.abs(ref - got)))
print("max_abs_err", err)
sys.exit(0 if got.shape == ref.shape and err <= 1e-4 * scale else 1)
PY
}

embed_host() {
	local d=$tmp/embed-host
	mkdir -p "$d" && cd "$d" || return 1
	make -f "$src/examples/embed/Makefile" GOSC="$gosc" || return 1
	[ -s tiny.h ] && [ -s tiny.o ] || return 1
	classify_matches "$d"
}

embed_armv8() {
	local d=$tmp/embed-armv8
	mkdir -p "$d" && cd "$d" || return 1
	make -f "$src/examples/embed/Makefile" GOSC="$gosc" TARGET=armv8 \
		CC=aarch64-linux-gnu-gcc LDFLAGS=-static || return 1
	# shellcheck disable=SC2046
	classify_matches "$d" $(e2e_qemu armv8)
}

two_models() {
	local d=$tmp/two
	mkdir -p "$d" && cd "$d" || return 1
	cp "$src/examples/tiny.gos" "$src/examples/ppg_cnn.gos" . || return 1
	cat >Makefile <<EOF
GOSC = $gosc
GOSFLAGS = -target=host
include $src/gos.mk
both: both.o tiny.o ppg_cnn.o
	cc -o both both.o tiny.o ppg_cnn.o -lm
both.o: both.c tiny.h ppg_cnn.h
	cc -std=c11 -Wall -Wextra -pedantic -Werror -c both.c
EOF
	cat >both.c <<'EOF'
#include <stdio.h>
#include "tiny.h"
#include "ppg_cnn.h"
static float a[TINY_INPUT_X_NUMEL], b[PPG_CNN_INPUT_PPG_NUMEL];
static float ya[TINY_OUTPUT_LOGITS_NUMEL], yb[PPG_CNN_OUTPUT_RATE_NUMEL];
static _Alignas(64) unsigned char s1[TINY_SCRATCH_BYTES + 1], s2[PPG_CNN_SCRATCH_BYTES + 1];
int main(void)
{
	const float *ia[] = {a}, *ib[] = {b};
	float *oa[] = {ya}, *ob[] = {yb};
	for (int i = 0; i < TINY_INPUT_X_NUMEL; i++)
		a[i] = (float)(i % 7) * 0.1f;
	for (int i = 0; i < PPG_CNN_INPUT_PPG_NUMEL; i++)
		b[i] = (float)(i % 5) * 0.2f;
	if (tiny_run(ia, oa, s1) || ppg_cnn_run(ib, ob, s2))
		return 1;
	printf("%g %g\n", ya[0], yb[0]);
	return 0;
}
EOF
	make both && ./both
}

e2e_check "examples/embed with gos.mk (host)" embed_host
case " $(echo $targets) " in
*" armv8 "*) e2e_check "examples/embed with gos.mk (armv8, qemu)" embed_armv8 ;;
esac
e2e_check "two models in one C program" two_models
e2e_finish
