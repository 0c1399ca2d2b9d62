#!/bin/sh
# bench/cost/baseline.sh [--splits S] [--n N]
# The FLOPs-baseline table of docs/cost-models.md (issue 12): writes the
# NAS-Bench-201 networks, then baseline.py (analytic pi3 / redmi-note7s and
# `gos-cost fit` on N random networks, S splits, against the FLOPs count on
# every device column). About a minute on two cores.
# Environment: BUILD (default build), WORK (default $BUILD/cost-study).
set -eu
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${BUILD:-$SRC/build}" && pwd) || exit 1
WORK=${WORK:-$BUILD/cost-study}
PY=${PYTHON:-/usr/bin/python3}
[ -x "$BUILD/gos-cost" ] || { echo "baseline.sh: $BUILD/gos-cost not built" >&2; exit 1; }
mkdir -p "$WORK"
cd "$SRC/bench/cost"
$PY nb201.py gen --work "$WORK"
$PY baseline.py --work "$WORK" --gos-cost "$BUILD/gos-cost" --doc "$SRC/docs/cost-models.md" "$@"
