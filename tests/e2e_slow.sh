#!/bin/bash
# e2e_slow.sh BUILD_DIR SOURCE_DIR -- as e2e.sh, for the large example
# networks (MobileNetV2/V3, ResNet-18, the NAS-Bench-201 network): each is
# compiled for every available target (host, armv8, pi3-armv7), run (ARM
# under qemu-user) on the inputs gos-run drew, and compared with the
# interpreter within 1e-4 of each output's scale. Takes a few minutes
# (ResNet-18 runs ~30 s under qemu-arm); meant to carry the ctest label
# `slow`.
set -u
build=${1:?usage: e2e_slow.sh BUILD_DIR SOURCE_DIR}
src=${2:?usage: e2e_slow.sh BUILD_DIR SOURCE_DIR}
build=$(cd "$build" && pwd) && src=$(cd "$src" && pwd) || exit 1
. "$src/tests/e2e/lib.sh"

models="$src/examples/nb201/nb201_example.gos $src/examples/mobilenet_v3.gos
        $src/examples/mobilenet_v2.gos $src/examples/resnet18.gos"
e2e_run_matrix "$models" given
e2e_finish
