# shellcheck shell=bash disable=SC2154
# lib.sh -- shared by tests/e2e*.sh (sourced; needs $build and $src).
# Provides: $python (a python3 with numpy), $gosc, $gosrun, $tmp (removed
# on exit), e2e_targets, e2e_qemu TARGET, e2e_compare REF OUT,
# e2e_run_matrix "MODELS" random|given, e2e_check NAME CMD..., e2e_finish.

gosc=$build/gosc
gosrun=$build/gos-run
[ -x "$gosc" ] || { echo "e2e: no gosc in $build"; exit 1; }
[ -x "$gosrun" ] || { echo "e2e: no gos-run in $build"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 failed=0 skipped=0
seed=${GOS_E2E_SEED:-5}

# A python3 that has numpy (Debian's, when a pyenv one comes first in PATH).
python=
for p in python3 /usr/bin/python3; do
	if command -v "$p" >/dev/null && "$p" -c 'import numpy' 2>/dev/null; then
		python=$p
		break
	fi
done
if [ -z "$python" ]; then
	echo "e2e: SKIP: no python3 with numpy to compare outputs"
	exit 0
fi

fail() {
	echo "FAIL: $*"
	failed=$((failed + 1))
}

# The targets this machine can build and run.
e2e_targets() {
	echo host
	if command -v aarch64-linux-gnu-gcc >/dev/null && command -v qemu-aarch64 >/dev/null; then
		echo armv8
	else
		echo "SKIP armv8 (no aarch64-linux-gnu-gcc or qemu-aarch64)" >&2
	fi
	if command -v arm-linux-gnueabihf-gcc >/dev/null && command -v qemu-arm >/dev/null; then
		echo pi3-armv7
	else
		echo "SKIP pi3-armv7 (no arm-linux-gnueabihf-gcc or qemu-arm)" >&2
	fi
}
targets=$(e2e_targets 2>"$tmp/skips")
skipped=$(wc -l <"$tmp/skips")
cat "$tmp/skips"

# The command prefix that runs binaries of target T here (its file's `qemu`).
e2e_qemu() {
	sed -n 's/^[[:space:]]*qemu[[:space:]]*=[[:space:]]*//p' "$src/targets/$1.target" | head -1
}

# e2e_compare REF OUT: every output .npy of REF (not *.input.npy) matches
# OUT's within 1e-4 of the output's scale; infinities and NaN exactly.
e2e_compare() {
	"$python" - "$1" "$2" <<'PY'
import glob, os, sys
import numpy as np
ref, out = sys.argv[1], sys.argv[2]
files = sorted(f for f in glob.glob(os.path.join(ref, "*.npy")) if not f.endswith(".input.npy"))
if not files:
    sys.exit("no outputs in " + ref)
bad = 0
for f in files:
    g = os.path.join(out, os.path.basename(f))
    if not os.path.exists(g):
        print("  missing", os.path.basename(f)); bad += 1; continue
    a = np.load(f).astype(np.float64); b = np.load(g).astype(np.float64)
    if a.shape != b.shape:
        print("  shape", os.path.basename(f), a.shape, b.shape); bad += 1; continue
    fin = np.isfinite(a)
    special = bool(np.all((a[~fin] == b[~fin]) | (np.isnan(a[~fin]) & np.isnan(b[~fin]))))
    scale = max(1.0, float(np.max(np.abs(a[fin]))) if fin.any() else 1.0)
    err = float(np.max(np.abs(a[fin] - b[fin]))) if fin.any() else 0.0
    if not (special and err <= 1e-4 * scale):
        print(f"  {os.path.basename(f)}: max_abs_err={err:.3g} scale={scale:.3g} specials_match={special}")
        bad += 1
sys.exit(1 if bad else 0)
PY
}

# e2e_run_matrix "MODEL..." MODE: MODE random passes --random-inputs to the
# runner, given passes gos-run's input files with --input.
e2e_run_matrix() {
	local mode=$2 m t name ref r out q args f start mid end
	for m in $1; do
		name=$(basename "$m")
		ref=$tmp/$name/ref
		if ! "$gosrun" "$m" --random-inputs --seed "$seed" --output-dir "$ref" >"$tmp/log" 2>&1; then
			fail "$name: gos-run failed: $(head -3 "$tmp/log")"
			continue
		fi
		for t in $targets; do
			r=$tmp/$name/r.$t
			out=$tmp/$name/$t
			q=$(e2e_qemu "$t")
			start=$(date +%s.%N)
			if ! "$gosc" "$m" -target="$t" -emit=exe -o "$r" >"$tmp/log" 2>&1; then
				fail "$name $t: gosc -emit=exe failed: $(head -5 "$tmp/log")"
				continue
			fi
			mid=$(date +%s.%N)
			args=(--output-dir "$out")
			if [ "$mode" = random ]; then
				args+=(--random-inputs --seed "$seed")
			else
				for f in "$ref"/*.input.npy; do
					args+=(--input "$(basename "$f" .input.npy)=$f")
				done
			fi
			# shellcheck disable=SC2086
			if ! $q "$r" "${args[@]}" >"$tmp/log" 2>&1; then
				fail "$name $t: the runner failed: $(head -5 "$tmp/log")"
				continue
			fi
			end=$(date +%s.%N)
			if [ "$mode" = random ]; then
				for f in "$ref"/*.input.npy; do
					if ! cmp -s "$f" "$out/$(basename "$f")"; then
						fail "$name $t: random input $(basename "$f") differs from gos-run's"
						continue 2
					fi
				done
			fi
			if e2e_compare "$ref" "$out" >"$tmp/log" 2>&1; then
				pass=$((pass + 1))
				printf 'ok   %-22s %-10s compile %5.2fs run %5.2fs\n' "$name" "$t" \
					"$(echo "$mid - $start" | bc)" "$(echo "$end - $mid" | bc)"
			else
				fail "$name $t: outputs differ from the interpreter's"
				cat "$tmp/log"
			fi
		done
	done
}

# e2e_check NAME CMD...: runs CMD (a shell function or command); counts
# it as passed when it succeeds.
e2e_check() {
	local name=$1
	shift
	if "$@" >"$tmp/checklog" 2>&1; then
		pass=$((pass + 1))
		echo "ok   $name"
	else
		fail "$name"
		sed 's/^/  /' "$tmp/checklog" | head -20
	fi
}

e2e_finish() {
	echo "e2e: $pass passed, $failed failed, $skipped targets skipped"
	[ "$failed" -eq 0 ]
	exit $?
}
