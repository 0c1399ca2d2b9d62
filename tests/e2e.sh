#!/bin/bash
# e2e.sh BUILD_DIR SOURCE_DIR -- the LLVM backend end to end: every model
# below is compiled with `gosc -emit=exe` for each target, run (ARM under
# qemu-user, static binaries), and its outputs are compared with the
# reference interpreter's on the same inputs:
#
#   gos-run X --random-inputs --seed S --output-dir ref
#   gosc X -target=T -emit=exe -o r && [qemu] r <inputs> --output-dir out
#   every ref/<output>.npy == out/<output>.npy within 1e-4 * max(1, max|ref|)
#   (infinities and NaN must match exactly)
#
# Inputs reach the runner both ways: `--random-inputs --seed S` (the .gir
# models; the runner must draw exactly the inputs gos-run drew, and the
# input files both write are compared bit for bit) and `--input
# NAME=ref/NAME.input.npy` (the examples).
# Models: tests/e2e/*.gir (every instruction, every reduction kind, padded
# loads of every shape, data movement), tests/ir/small_cnn.gir and the
# quick examples (tiny, ppg_cnn). The large examples are in e2e_slow.sh.
# Targets: host always; armv8 and pi3-armv7 when their cross compiler and
# qemu are installed (otherwise reported as skipped).
set -u
build=${1:?usage: e2e.sh BUILD_DIR SOURCE_DIR}
src=${2:?usage: e2e.sh BUILD_DIR SOURCE_DIR}
build=$(cd "$build" && pwd) && src=$(cd "$src" && pwd) || exit 1
. "$src/tests/e2e/lib.sh"

models="$src/tests/e2e/ops.gir $src/tests/e2e/reduce.gir $src/tests/e2e/pad.gir
        $src/tests/e2e/dense.gir $src/tests/ir/small_cnn.gir"
examples="$src/examples/tiny.gos $src/examples/ppg_cnn.gos"
e2e_run_matrix "$models" random
e2e_run_matrix "$examples" given
e2e_finish
