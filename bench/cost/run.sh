#!/bin/sh
# bench/cost/run.sh [--subset N] [--measure-proxy] [--splits S] -- the
# cost-model validation study of docs/cost-models.md, end to end:
#   1. NAS-Bench-201: write the 1999 networks' .gos (nb201-gen), compute
#      their features for the three device targets, Spearman correlation of
#      FLOPs / analytic model / host proxy / adapted model (10, 20, 60
#      samples, S random splits) with the measured latencies;
#   2. Once-for-All MobileNetV3 on the Note10: every lookup-table layer as a
#      small .gos, per layer and summed over random subnets;
#   3. the tables of docs/cost-models.md (between the results markers) and
#      the SVG plots in bench/cost/results/.
# The host proxy measurements are cached in bench/cost/data/*_host_proxy.csv
# and reused; only --measure-proxy measures the networks missing there
# (CPU-heavy: run at nice 19, about 1-2 s per network).
# Environment: BUILD (build dir with gos-cost and gosc, default build),
# WORK (scratch, default $BUILD/cost-study), PYTHON (default /usr/bin/python3).
set -eu
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$SRC/build}
WORK=${WORK:-$BUILD/cost-study}
PY=${PYTHON:-/usr/bin/python3}
GC=$BUILD/gos-cost
subset=""
measure=0
splits=20
while [ $# -gt 0 ]; do
	case $1 in
	--subset) subset="--subset $2"; shift 2 ;;
	--measure-proxy) measure=1; shift ;;
	--splits) splits=$2; shift 2 ;;
	-h|--help) sed -n '2,18p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown argument '$1'" >&2; exit 1 ;;
	esac
done
[ -x "$GC" ] || { echo "run.sh: $GC not built (set BUILD)" >&2; exit 1; }
mkdir -p "$WORK"
cd "$SRC/bench/cost"
# shellcheck disable=SC2086
$PY nb201.py gen --work "$WORK" $subset
$PY nb201.py features --work "$WORK" --gos-cost "$GC"
if [ $measure = 1 ]; then
	$PY nb201.py proxy --work "$WORK" --gos-cost "$GC"
fi
$PY nb201.py study --work "$WORK" --gos-cost "$GC" --splits "$splits"
$PY ofa.py gen --work "$WORK"
$PY ofa.py features --work "$WORK" --gos-cost "$GC"
if [ $measure = 1 ]; then
	$PY ofa.py proxy --work "$WORK" --gos-cost "$GC"
fi
$PY ofa.py study --work "$WORK" --gos-cost "$GC" --splits "$splits"
$PY report.py --doc "$SRC/docs/cost-models.md"
