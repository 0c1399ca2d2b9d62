#!/bin/bash
# e2e_driver.sh BUILD_DIR SOURCE_DIR -- gosc's backend options and the
# properties of what it emits:
# - -emit=ll|asm|obj|exe (and from -o's extension), -o - to stdout, the
#   header written next to the object, -weights=external (object + blob,
#   runner + blob: same outputs as embedded weights), -O0..-O3 correct;
# - targets: unknown names list the known ones; a user's target file in
#   $GOS_TARGET_DIR or by path works without rebuilding; -mcpu/-mattr;
# - code quality: NEON fmla on .4s vectors (armv8, pi3) and vfma on q
#   registers (pi3-armv7) in the contraction loops; no libm calls; no
#   mutable global data in objects; hard-float build attributes on
#   pi3-armv7 objects;
# - the runner: --bench prints `median_ms=<x> min_ms=<y>`, bad arguments
#   and inputs fail with a message.
set -u
build=${1:?usage: e2e_driver.sh BUILD_DIR SOURCE_DIR}
src=${2:?usage: e2e_driver.sh BUILD_DIR SOURCE_DIR}
build=$(cd "$build" && pwd) && src=$(cd "$src" && pwd) || exit 1
. "$src/tests/e2e/lib.sh"
cnn=$src/tests/ir/small_cnn.gir
ops=$src/tests/e2e/ops.gir
has() { case " $(echo $targets) " in *" $1 "*) return 0 ;; esac; return 1; }

emit_kinds() {
	cd "$tmp" || return 1
	"$gosc" "$cnn" -target=armv8 -emit=ll -o a.ll && grep -q 'define i32 @small_cnn_run' a.ll || return 1
	"$gosc" "$cnn" -target=armv8 -emit=asm -o - | grep -q 'small_cnn_run:' || return 1
	"$gosc" "$cnn" -target=armv8 -o b.s && grep -q 'small_cnn_run:' b.s || return 1
	"$gosc" "$cnn" -target=armv8 -o c.ll && grep -q 'define i32 @small_cnn_run' c.ll || return 1
	"$gosc" "$cnn" -target=armv8 -o d.gir && head -1 d.gir | grep -q '^gir 1' || return 1
	"$gosc" "$cnn" -target=armv8 -o m.o && [ -s m.o ] && [ -s m.h ] || return 1
	[ "$(head -c 4 m.o | od -An -c | tr -d ' ')" = '177ELF' ] || return 1
	grep -q 'int small_cnn_run(const float \*const \*inputs, float \*const \*outputs, void \*scratch);' m.h
}

header_compiles() {
	cd "$tmp" || return 1
	"$gosc" "$cnn" -target=host -emit=obj -o h.o || return 1
	printf '#include "h.h"\nint main(void){static const long long s[] = SMALL_CNN_INPUT_X_SHAPE;\n' >u.c
	printf 'return (int)s[0] - 1 + SMALL_CNN_NUM_OUTPUTS - 2;}\n' >>u.c
	cc -std=c99 -Wall -Wextra -pedantic -Werror -c u.c -o u.o || return 1
	if command -v c++ >/dev/null; then
		printf '#include "h.h"\nint f(const float *const *i, float *const *o, void *s) { return small_cnn_run(i, o, s); }\n' >v.cc
		c++ -Wall -Werror -c v.cc -o v.o || return 1
	fi
}

external_weights() {
	cd "$tmp" || return 1
	"$gosc" "$cnn" -target=armv8 -weights=external -o w.o || return 1
	[ -s w.weights ] && grep -q 'const void \*weights' w.h || return 1
	"$gosc" "$cnn" -target=host -emit=exe -o emb || return 1
	"$gosc" "$cnn" -target=host -weights=external -emit=exe -o ext || return 1
	[ -s ext.weights ] || return 1
	./emb --random-inputs --output-dir o_emb && ./ext --random-inputs --output-dir o_ext || return 1
	e2e_compare o_emb o_ext || return 1
	# a missing or wrong blob is an error
	cp ext ext2 && ! ./ext2 --random-inputs --print 2>/dev/null || return 1
	head -c 100 ext.weights >bad.w && ! ./ext --weights bad.w --random-inputs --print 2>/dev/null
}

opt_levels() {
	cd "$tmp" || return 1
	"$gosrun" "$ops" --random-inputs --output-dir oref || return 1
	for o in -O0 -O1 -O3; do
		"$gosc" "$ops" -target=host $o -emit=exe -o "r$o" || return 1
		"./r$o" --random-inputs --output-dir "o$o" || return 1
		e2e_compare oref "o$o" || return 1
	done
}

target_errors() {
	cd "$tmp" || return 1
	! "$gosc" "$cnn" -target=nosuch -emit=obj -o x.o 2>err || return 1
	grep -q "unknown target 'nosuch'" err && grep -q 'pi3-armv7' err && grep -q 'redmi-note7s' err || return 1
	! "$gosc" "$cnn" -emit=bogus 2>err && grep -q "unknown -emit kind" err || return 1
	"$gosc" --list-targets | grep -q 'armv8, host, pi3, pi3-armv7, redmi-note7s'
}

user_target() {
	cd "$tmp" || return 1
	mkdir -p mytargets
	sed -e 's/^name = .*/name = myboard/' -e 's/^cpu = .*/cpu = cortex-a55/' \
		"$src/targets/armv8.target" >mytargets/myboard.target
	GOS_TARGET_DIR=$tmp/mytargets "$gosc" "$cnn" -target=myboard -emit=ll -o u.ll || return 1
	grep -q '"target-cpu"="cortex-a55"' u.ll || return 1
	"$gosc" "$cnn" -target="$tmp/mytargets/myboard.target" -emit=obj -o u.o || return 1
	grep -q "for target 'myboard'" u.h || return 1
	"$gosc" "$cnn" -target=armv8 -mcpu=cortex-a72 -mattr=+crc -emit=ll -o v.ll || return 1
	grep -q '"target-cpu"="cortex-a72"' v.ll && grep -q '"target-features"="[^"]*+crc' v.ll
}

# No calls into libm (or anything but memcpy/memset) in generated code.
no_calls() {
	local s=$1
	! grep -E '^\s+(bl|blx|b)\s+[a-z_]*(exp|log|tanh|erf|pow|floor|fmax|fmin|sqrt|sin|cos)f?(@plt)?\s*$' "$s"
}

neon_armv8() {
	cd "$tmp" || return 1
	for t in armv8 pi3; do
		"$gosc" "$cnn" -target=$t -emit=asm -o n.s || return 1
		grep -Eq 'fmla\s+v[0-9]+\.4s' n.s || { echo "$t: no fmla .4s"; return 1; }
		no_calls n.s || return 1
		"$gosc" "$ops" -target=$t -emit=asm -o o.s || return 1
		no_calls o.s || return 1
	done
	"$gosc" "$src/examples/tiny.gos" -target=pi3 -emit=asm -o t.s || return 1
	grep -Eq 'fmla\s+v[0-9]+\.4s' t.s
}

neon_armv7() {
	cd "$tmp" || return 1
	"$gosc" "$cnn" -target=pi3-armv7 -emit=asm -o a7.s || return 1
	grep -Eq 'vfma\.f32\s+q[0-9]+' a7.s || { echo "no vfma.f32 on q registers"; return 1; }
	no_calls a7.s || return 1
	"$gosc" "$ops" -target=pi3-armv7 -emit=asm -o o7.s || return 1
	no_calls o7.s || return 1
	"$gosc" "$cnn" -target=pi3-armv7 -emit=obj -o a7.o || return 1
	local re=readelf
	command -v arm-linux-gnueabihf-readelf >/dev/null && re=arm-linux-gnueabihf-readelf
	$re -A a7.o | grep -q 'Tag_ABI_VFP_args: VFP registers' || { $re -A a7.o; return 1; }
	# links with hard-float C code that passes floats in registers
	printf '#include "a7.h"\nfloat scale(float a, float b) { return a * b; }\n' >hf.c
	printf 'int main(void) { return scale(1.0f, 2.0f) == 2.0f ? 0 : 1; }\n' >>hf.c
	arm-linux-gnueabihf-gcc -O1 -static hf.c a7.o -o hf 2>err && ! grep -q 'VFP register' err || return 1
	$(e2e_qemu pi3-armv7) ./hf
}

no_mutable_globals() {
	cd "$tmp" || return 1
	"$gosc" "$src/examples/tiny.gos" -target=host -emit=obj -o g.o || return 1
	# defined symbols: only the run functions (plain and profiling) in
	# text; no data/bss at all
	nm --defined-only g.o >syms || return 1
	! grep -E ' [DdBbCGgSs] ' syms || return 1
	grep -qE ' T tiny_run$' syms || return 1
	grep -qE ' T tiny_run_profile$' syms || return 1
	[ "$(grep -cE ' [A-Z] ' syms)" -eq 2 ] || { cat syms; return 1; }
	! size -A g.o | grep -E '^\.(data|bss)\s+[1-9]'
}

runner_cli() {
	cd "$tmp" || return 1
	"$gosc" "$cnn" -target=host -emit=exe -o run || return 1
	./run --random-inputs --bench 5 >b.txt || return 1
	grep -Eq '^median_ms=[0-9]+\.[0-9]+ min_ms=[0-9]+\.[0-9]+$' b.txt || { cat b.txt; return 1; }
	! ./run --output-dir x 2>err && grep -q "missing input 'x'" err || return 1
	! ./run --input nosuch=f.npy --print 2>err && grep -q "no input 'nosuch'" err || return 1
	! ./run --frobnicate 2>/dev/null || return 1
	"$python" -c "import numpy as np; np.save('wrong.npy', np.zeros((1,3,8,7), np.float32))" || return 1
	! ./run --input x=wrong.npy --print 2>err && grep -q 'shape' err || return 1
	"$python" -c "import numpy as np; np.save('ok64.npy', np.ones((1,3,8,8)))" || return 1
	./run --input x=ok64.npy --print >p.txt && grep -q '^prob:' p.txt
}

stats() {
	"$gosc" "$cnn" -target=armv8 -emit=obj -o "$tmp/s.o" -stats 2>"$tmp/st" || return 1
	grep -q 'scratch_bytes=' "$tmp/st" && grep -q -- '-lane' "$tmp/st"
}

e2e_check "emit kinds and outputs" emit_kinds
e2e_check "the header compiles as C99 and C++" header_compiles
e2e_check "-weights=external" external_weights
e2e_check "-O0 -O1 -O3 match the interpreter" opt_levels
e2e_check "target errors" target_errors
e2e_check "user target files, -mcpu, -mattr" user_target
e2e_check "no mutable globals in objects" no_mutable_globals
e2e_check "runner command line" runner_cli
e2e_check "-stats" stats
if has armv8; then
	e2e_check "armv8/pi3: fmla .4s, no libm calls" neon_armv8
fi
if has pi3-armv7; then
	e2e_check "pi3-armv7: vfma q, hard-float ABI, no libm calls" neon_armv7
fi
e2e_finish
