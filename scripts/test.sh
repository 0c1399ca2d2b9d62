#!/bin/sh
# test.sh -- install what is missing, build, run every test; then build
# with AddressSanitizer + UndefinedBehaviorSanitizer and run the tests
# that do not need qemu again. Exit status 0 only if everything passed.
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh
sh scripts/build.sh build
(cd build && ctest --output-on-failure -j "$(nproc)")
sh scripts/build.sh build-san -DGOS_SANITIZE=ON
(cd build-san && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
   ctest --output-on-failure -j "$(nproc)" -LE slow)
echo "test.sh: all tests passed (normal and sanitizer builds)"
