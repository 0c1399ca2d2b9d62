#!/bin/bash
# dataset_errors.sh BUILD_DIR SOURCE_DIR -- bad datasets given to gos-eval
# (eval/dataset.c) give one clear error, never a crash:
#   - truncated IDX files, trailing bytes, bad magic, absurd dims, an empty
#     file, corrupt and truncated gzip, mismatched image / label counts,
#     labels out of range, zero images, a Fortran-ordered .npy, an .npz
#     with a bad CRC or a missing member, a missing file, an unknown
#     dataset form, an unknown Fashion-MNIST split and a missing
#     Fashion-MNIST directory: each makes gos-eval exit with status 1 and an
#     error naming the file (when there is one) and saying what is wrong;
#   - every tested truncation of a valid IDX.gz pair and of valid .npz
#     archives (written by numpy, stored and deflated), and random byte
#     changes, exit with status 0 or 1 (then with an "error:" line), never
#     with a signal or a sanitizer report (ASan exits with 99 here);
#   - a valid IDX pair of 10 Fashion-MNIST-shaped images is accepted
#     (status 0), so the failures above are the data's.
# Deterministic (bash's RANDOM is seeded). Skipped until gos-eval and the
# example model exist; needs /usr/bin/python3 (numpy for the .npz cases).
set -u
build=${1:?usage: dataset_errors.sh BUILD_DIR SOURCE_DIR}
src=${2:?usage: dataset_errors.sh BUILD_DIR SOURCE_DIR}
eval=$build/gos-eval
model=$src/examples/fashion/resnet.onnx
if [ ! -x "$eval" ]; then
	echo "skip: no $eval yet"
	exit 0
fi
if [ ! -f "$model" ]; then
	echo "skip: no $model yet"
	exit 0
fi
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3) || { echo "skip: no python3"; exit 0; }
have_numpy=0
"$py" -c 'import numpy' 2>/dev/null && have_numpy=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-exitcode=99}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 failed=0
fail() {
	echo "FAIL: $*"
	failed=$((failed + 1))
}

run_eval() { # DATA [env...]: runs gos-eval on DATA, stderr in $tmp/err
	"$eval" "$model" --data "$1" -target=interp --limit 10 >"$tmp/out" 2>"$tmp/err"
}

# bad NAME SPEC WORD...: status 1, an error line containing NAME (the file
# the error is about; "" for none) and every WORD
bad() {
	local name=$1 spec=$2
	shift 2
	run_eval "$spec"
	local rc=$? ok=1
	[ $rc -eq 1 ] || ok=0
	grep -q "error:" "$tmp/err" || ok=0
	[ -z "$name" ] || grep -qF -- "$name" "$tmp/err" || ok=0
	for w in "$@"; do
		grep -qF -- "$w" "$tmp/err" || ok=0
	done
	if [ $ok -eq 1 ]; then
		pass=$((pass + 1))
	else
		fail "$spec: want status 1, '$name' and '$*'; got status $rc:"
		head -20 "$tmp/err"
	fi
}

# robust WHAT SPEC: status 0, or 1 with an error line
robust() {
	run_eval "$2"
	local rc=$?
	if [ $rc -eq 0 ] || { [ $rc -eq 1 ] && grep -q "error:" "$tmp/err"; }; then
		pass=$((pass + 1))
	else
		fail "$1: gos-eval exited with status $rc:"
		head -20 "$tmp/err"
	fi
}

# mk FILE PYTHON: writes FILE with the bytes the python expression gives
# (struct is imported; idx(type, dims, data) builds an IDX file)
mk() {
	"$py" -c "
import struct, sys
def idx(t, dims, data):
    return bytes([0, 0, t, len(dims)]) + struct.pack('>%dI' % len(dims), *dims) + bytes(data)
sys.stdout.buffer.write($2)
" >"$1" || { echo "dataset_errors: cannot write $1"; exit 1; }
}
mkgz() { # FILE PYTHON: the same, gzipped
	mk "$1.raw" "$2" && gzip -9nc "$1.raw" >"$1" && rm -f "$1.raw"
}

t=$tmp
pix='[(i * 7) % 256 for i in range(10 * 28 * 28)]'
mk "$t/ok-images.idx" "idx(8, [10, 28, 28], $pix)"
mk "$t/ok-labels.idx" "idx(8, [10], [i % 10 for i in range(10)])"
labels=$t/ok-labels.idx

# the control: a valid pair, plain and gzipped
run_eval "$t/ok-images.idx,$labels"
rc=$?
if [ $rc -eq 0 ]; then pass=$((pass + 1)); else fail "a valid IDX pair: status $rc:"; head -20 "$tmp/err"; fi
mkgz "$t/ok-images.idx.gz" "idx(8, [10, 28, 28], $pix)"
mkgz "$t/ok-labels.idx.gz" "idx(8, [10], [i % 10 for i in range(10)])"
run_eval "$t/ok-images.idx.gz,$t/ok-labels.idx.gz"
rc=$?
if [ $rc -eq 0 ]; then pass=$((pass + 1)); else fail "a valid IDX.gz pair: status $rc:"; head -20 "$tmp/err"; fi

# IDX files
mk "$t/cut.idx" "idx(8, [10, 28, 28], $pix)[:-1]"
bad cut.idx "$t/cut.idx,$labels" truncated
mk "$t/long.idx" "idx(8, [10, 28, 28], $pix) + b'x'"
bad long.idx "$t/long.idx,$labels" "trailing bytes"
mk "$t/magic.idx" "b'\\x01\\x02\\x08\\x03' + bytes(100)"
bad magic.idx "$t/magic.idx,$labels" "bad magic"
mk "$t/huge.idx" "idx(8, [0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF], [])"
bad huge.idx "$t/huge.idx,$labels" "too large"
mkgz "$t/big.idx.gz" "idx(8, [1 << 20, 32, 32], range(100))"
bad big.idx.gz "$t/big.idx.gz,$labels" truncated
: >"$t/empty.idx"
bad empty.idx "$t/empty.idx,$labels" "empty file"
mk "$t/zero.idx" "idx(8, [0, 28, 28], [])"
bad zero.idx "$t/zero.idx,$labels" "no images"
mk "$t/rank2.idx" "idx(8, [10, 784], $pix)"
bad rank2.idx "$t/rank2.idx,$labels" "rank 2"
mk "$t/nine.idx" "idx(8, [9], range(9))"
bad nine.idx "$t/ok-images.idx,$t/nine.idx" "9 labels for 10 images"
mk "$t/range.idx" "idx(0x0C, [10], []) + struct.pack('>10i', 0, 1, 2, 70000, 4, 5, 6, 7, 8, 9)"
bad range.idx "$t/ok-images.idx,$t/range.idx" "out of range"
mk "$t/neg.idx" "idx(0x0C, [10], []) + struct.pack('>10i', 0, 1, 2, 3, -4, 5, 6, 7, 8, 9)"
bad neg.idx "$t/ok-images.idx,$t/neg.idx" "out of range"
bad no-such.idx "$t/ok-images.idx,$t/no-such.idx" "cannot open"

# gzip
cp "$t/ok-images.idx.gz" "$t/corrupt.idx.gz"
printf '\xde\xad\xbe\xef\xde\xad\xbe\xef' | dd of="$t/corrupt.idx.gz" bs=1 seek=40 conv=notrunc status=none
bad corrupt.idx.gz "$t/corrupt.idx.gz,$labels" "gzip"
size=$(stat -c %s "$t/ok-images.idx.gz")
head -c $((size / 2)) "$t/ok-images.idx.gz" >"$t/half.idx.gz"
bad half.idx.gz "$t/half.idx.gz,$labels" truncated
head -c $((size - 4)) "$t/ok-images.idx.gz" >"$t/notrailer.idx.gz"
bad notrailer.idx.gz "$t/notrailer.idx.gz,$labels" truncated

# .npy and .npz
if [ $have_numpy -eq 1 ]; then
	"$py" -c "
import numpy as np
x = ((np.arange(10 * 28 * 28) * 7) % 256).astype(np.uint8).reshape(10, 28, 28)
y = np.arange(10) % 10
np.save('$t/fortran.npy', np.asfortranarray(x.reshape(10, 1, 28, 28).transpose(0, 1, 3, 2)))
np.save('$t/y.npy', y)
np.savez('$t/ok.npz', x=x, y=y)
np.savez_compressed('$t/okz.npz', images=x, labels=y)
np.savez('$t/nolabels.npz', x=x, targets=y)
" || { echo "dataset_errors: numpy failed"; exit 1; }
	bad fortran.npy "$t/fortran.npy,$t/y.npy" Fortran
	bad nolabels.npz "$t/nolabels.npz" "no label array" "'targets.npy'"
	cp "$t/ok.npz" "$t/crc.npz"
	printf '\x55' | dd of="$t/crc.npz" bs=1 seek=200 conv=notrunc status=none
	bad crc.npz "$t/crc.npz" "CRC mismatch"
	robust "a valid .npz" "$t/ok.npz"
	robust "a valid compressed .npz" "$t/okz.npz"
fi

# dataset names
bad "" "$t/images.bin" "expected fashion-mnist:train"
bad "" "fashion-mnist:valid" "train or test"
GOS_FASHION_MNIST_DIR=$t/no-fashion bad no-fashion "fashion-mnist:test" "dataset-fashion-mnist"

# truncations and byte changes never crash
RANDOM=4242
files="$t/ok-images.idx.gz"
[ $have_numpy -eq 1 ] && files="$files $t/ok.npz $t/okz.npz"
for f in $files; do
	size=$(stat -c %s "$f")
	step=$((size / 29 + 1))
	case $f in
	*.npz) cut=$t/cut.npz spec=$t/cut.npz ;;
	*) cut=$t/cut.idx.gz spec=$t/cut.idx.gz,$labels ;;
	esac
	for ((len = 0; len < size; len += step)); do
		head -c $len "$f" >"$cut"
		robust "$(basename "$f") truncated to $len bytes" "$spec"
	done
	for ((round = 0; round < 20; round++)); do
		cp "$f" "$cut"
		for ((c = 0; c <= round % 3; c++)); do
			pos=$(((RANDOM * 32768 + RANDOM) % size))
			printf "$(printf '\\x%02x' $((RANDOM % 256)))" |
				dd of="$cut" bs=1 seek=$pos conv=notrunc status=none
		done
		robust "$(basename "$f") with bytes changed (round $round)" "$spec"
	done
done
echo "dataset_errors: $pass passed, $failed failed"
[ $failed -eq 0 ]
