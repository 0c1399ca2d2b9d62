#!/bin/bash
# install.sh BUILD_DIR SOURCE_DIR -- `cmake --install` into a temporary
# prefix gives a working toolchain:
# - the installed gosc finds its targets and runner relative to itself
#   (a target that exists only in the prefix is found, also after the
#   prefix is moved; the build tree's gosc does not know it);
# - examples/embed builds against the installed copy with gos.mk (gosc
#   from PATH) and with find_package(gosc) + gosc_add_model, and both
#   programs print the same logits as the build tree's gosc gives;
# - a C program using libgos through gosc::gos loads and verifies a model;
# - with an aarch64 cross compiler and qemu, gosc_add_model(... TARGET
#   armv8) builds an ARM program that prints the same class.
set -u
build=${1:?usage: install.sh BUILD_DIR SOURCE_DIR}
src=${2:?usage: install.sh BUILD_DIR SOURCE_DIR}
build=$(cd "$build" && pwd) && src=$(cd "$src" && pwd) || exit 1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cmake --install "$build" --prefix "$tmp/p" >"$tmp/log" 2>&1 ||
	{ echo "FAIL: cmake --install: $(tail -5 "$tmp/log")"; exit 1; }
for f in bin/gosc bin/gos-opt bin/gos-run bin/gos-eval bin/gos-cost bin/gos-import lib/libgos.a \
	include/gosc/ir/ir.h include/gosc/passes/synth/synth.h share/gosc/gos.mk \
	share/gosc/runtime/runner.c share/gosc/targets/armv8.target share/gosc/targets/pi3.target \
	lib/cmake/gosc/goscConfig.cmake lib/cmake/gosc/goscModel.cmake; do
	[ -e "$tmp/p/$f" ] || fail "the install has no $f"
done

# targets relative to the installed program, wherever the prefix is
cp "$src/targets/host.target" "$tmp/p/share/gosc/targets/only-installed.target"
mv "$tmp/p" "$tmp/moved"
prefix=$tmp/moved
if env -u GOS_TARGET_DIR "$prefix/bin/gosc" "$src/examples/tiny.gos" -target=only-installed \
	-emit=exe -o "$tmp/t.exe" 2>"$tmp/err" && "$tmp/t.exe" --random-inputs --print >/dev/null; then
	echo "install: the moved install finds its own targets and runner"
else
	fail "installed gosc -target=only-installed: $(head -3 "$tmp/err")"
fi
env -u GOS_TARGET_DIR "$build/gosc" "$src/examples/tiny.gos" -target=only-installed \
	-o "$tmp/no.o" 2>/dev/null && fail "the build tree's gosc found a target of the install"

# the build tree's own result, for comparison
make -s -C "$tmp" -f "$src/examples/embed/Makefile" GOSC="$build/gosc" classify >"$tmp/log" 2>&1 &&
	"$tmp/classify" >"$tmp/ref.txt" || fail "examples/embed with the build tree: $(tail -3 "$tmp/log")"

# gos.mk with gosc from PATH
mkdir "$tmp/mk"
if PATH="$prefix/bin:$PATH" make -s -C "$tmp/mk" -f "$src/examples/embed/Makefile" GOSC=gosc \
	GOSMK="$prefix/share/gosc/gos.mk" classify >"$tmp/log" 2>&1 && "$tmp/mk/classify" >"$tmp/mk.txt"; then
	cmp -s "$tmp/ref.txt" "$tmp/mk.txt" && echo "install: gos.mk build prints the build tree's logits" ||
		fail "gos.mk build: output differs from the build tree's"
else
	fail "examples/embed with the installed gos.mk: $(tail -5 "$tmp/log")"
fi

# find_package(gosc) + gosc_add_model
if cmake -S "$src/examples/embed" -B "$tmp/cm" -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/log" 2>&1 &&
	cmake --build "$tmp/cm" >>"$tmp/log" 2>&1 && "$tmp/cm/classify" >"$tmp/cm.txt"; then
	cmp -s "$tmp/ref.txt" "$tmp/cm.txt" && echo "install: gosc_add_model build prints the build tree's logits" ||
		fail "CMake build: output differs from the build tree's"
else
	fail "examples/embed with find_package(gosc): $(tail -8 "$tmp/log")"
fi

# libgos through gosc::gos
mkdir "$tmp/lib"
cat >"$tmp/lib/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.20)
project(uselib C)
find_package(gosc REQUIRED)
add_executable(uselib uselib.c)
target_link_libraries(uselib PRIVATE gosc::gos)
EOF
cat >"$tmp/lib/uselib.c" <<'EOF'
#include <stdio.h>
#include "frontend/frontend.h"
#include "ir/ir.h"
int main(int argc, char **argv)
{
	gos_diags d;
	gos_diags_init(&d);
	gos_module *m = argc > 1 ? gos_load(argv[1], NULL, &d) : NULL;
	int ok = m && gos_verify(m, &d) == 0;
	if (ok)
		printf("nodes=%d\n", m->n_node);
	gos_diags_render(&d, stderr);
	gos_module_free(m);
	gos_diags_free(&d);
	return ok ? 0 : 1;
}
EOF
if cmake -S "$tmp/lib" -B "$tmp/lib/b" -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/log" 2>&1 &&
	cmake --build "$tmp/lib/b" >>"$tmp/log" 2>&1 &&
	"$tmp/lib/b/uselib" "$src/examples/tiny.gos" >"$tmp/lib.txt" 2>&1 && grep -q '^nodes=[1-9]' "$tmp/lib.txt"; then
	echo "install: a program linked with gosc::gos loads examples/tiny.gos ($(cat "$tmp/lib.txt"))"
else
	fail "libgos through find_package: $(tail -8 "$tmp/log" "$tmp/lib.txt" 2>/dev/null)"
fi

# an ARM program through gosc_add_model(TARGET armv8)
if command -v aarch64-linux-gnu-gcc >/dev/null && command -v qemu-aarch64 >/dev/null; then
	if cmake -S "$src/examples/embed" -B "$tmp/arm" -DCMAKE_PREFIX_PATH="$prefix" -DGOSC_TARGET=armv8 \
		-DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=aarch64 \
		-DCMAKE_C_COMPILER=aarch64-linux-gnu-gcc -DCMAKE_EXE_LINKER_FLAGS=-static \
		-DCMAKE_FIND_ROOT_PATH_MODE_PACKAGE=NEVER >"$tmp/log" 2>&1 &&
		cmake --build "$tmp/arm" >>"$tmp/log" 2>&1 &&
		qemu-aarch64 "$tmp/arm/classify" >"$tmp/arm.txt" 2>&1; then
		[ "$(tail -1 "$tmp/arm.txt")" = "$(tail -1 "$tmp/ref.txt")" ] &&
			echo "install: gosc_add_model(TARGET armv8) program under qemu: $(tail -1 "$tmp/arm.txt")" ||
			fail "armv8 program: '$(tail -1 "$tmp/arm.txt")', host '$(tail -1 "$tmp/ref.txt")'"
	else
		fail "examples/embed for armv8 with find_package(gosc): $(tail -8 "$tmp/log")"
	fi
else
	echo "install: SKIP the armv8 build (no aarch64-linux-gnu-gcc or qemu-aarch64)"
fi

[ "$fails" -eq 0 ] || { echo "install: $fails failure(s)"; exit 1; }
echo "install: ok"
