#!/bin/sh
# deps.sh -- install the Debian 12 packages gosc needs, if any is missing.
# Runs as root (CI and fresh machines) or through sudo.
set -eu
PKGS="cmake make gcc flex bison llvm-14-dev libcmocka-dev
      protobuf-c-compiler libprotobuf-c-dev libonnx-dev libonnx-testdata
      libopenblas-dev liblapacke-dev openmpi-bin libopenmpi-dev
      gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf
      libc6-dev-arm64-cross libc6-dev-armhf-cross qemu-user
      python3 python3-numpy python3-onnx zlib1g-dev libzstd-dev libtinfo-dev libxml2-dev
      dataset-fashion-mnist"
# Node.js may come from elsewhere (e.g. a NodeSource build that bundles npm):
# Debian's packages only when the commands are missing.
command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs"
command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "deps: installing$missing"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# ONNX Runtime (the reference runtime of the whole-network tests and the
# benchmarks) from the npm registry; the package ships its native library,
# so its install scripts (which would download binaries) are not run.
here=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -f "$here/bench/ort/node_modules/onnxruntime-node/package.json" ]; then
  echo "deps: npm install onnxruntime-node (bench/ort)"
  (cd "$here/bench/ort" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null) ||
    echo "deps: warning: could not install onnxruntime-node; tests against ONNX Runtime will be skipped"
fi
