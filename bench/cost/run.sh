#!/bin/sh
# bench/cost/run.sh [--subset N] [--measure-proxy] [--proxy-networks K]
#                   [--splits S]
# The cost-model validation study of docs/cost-models.md, end to end:
#   1. NAS-Bench-201: write the 1999 networks' .gos (nb201-gen), compute
#      their features for the three device targets; Spearman correlation of
#      FLOPs / analytic model / host proxy / adapted model (10, 20, 60
#      samples, random or chosen by `gos-cost select`; S splits each) with
#      the measured latencies of the held-out networks;
#   2. Once-for-All MobileNetV3 on the Note10: every lookup-table layer as a
#      one-layer .gos, per layer and summed over random subnets;
#   3. the tables of docs/cost-models.md (between the results markers) and
#      the SVG plots in bench/cost/results/.
# The host proxy measurements are cached in bench/cost/data/*_host_proxy.csv
# and reused. --measure-proxy measures what is missing there: the first K
# NAS-Bench-201 networks of a fixed random order (K = --proxy-networks,
# default 200; about 10 s each, mostly compiling) and every OFA layer
# (about 1 s each), at nice 19.
# Environment: BUILD (build dir with gos-cost and gosc, default build),
# WORK (scratch, default $BUILD/cost-study), PYTHON (default /usr/bin/python3).
set -eu
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${BUILD:-$SRC/build}" && pwd) || exit 1
WORK=${WORK:-$BUILD/cost-study}
PY=${PYTHON:-/usr/bin/python3}
GC=$BUILD/gos-cost
subset=""
measure=0
proxy_networks=200
splits=20
while [ $# -gt 0 ]; do
	case $1 in
	--subset) subset="--subset $2"; shift 2 ;;
	--measure-proxy) measure=1; shift ;;
	--proxy-networks) proxy_networks=$2; shift 2 ;;
	--splits) splits=$2; shift 2 ;;
	-h|--help) sed -n '2,23p' "$0"; exit 0 ;;
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
	$PY nb201.py proxy --work "$WORK" --gos-cost "$GC" --limit "$proxy_networks"
fi
$PY nb201.py study --work "$WORK" --gos-cost "$GC" --splits "$splits"
$PY ofa.py gen --work "$WORK"
$PY ofa.py features --work "$WORK" --gos-cost "$GC"
if [ $measure = 1 ]; then
	$PY ofa.py proxy --work "$WORK" --gos-cost "$GC"
fi
$PY ofa.py study --work "$WORK" --gos-cost "$GC" --splits "$splits"
$PY report.py --doc "$SRC/docs/cost-models.md"
