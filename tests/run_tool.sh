#!/bin/bash
# run_tool.sh BUILD_DIR SOURCE_DIR -- command-line behaviour of gosc and
# gos-run (issue 2, items 5 and "Done when"):
#   - --help prints the usage on stdout and exits 0;
#   - user errors exit 1 with a diagnostic on stderr, no sanitizer report,
#     and leave no output file: garbage bytes, an empty file, a truncated
#     or unbalanced file, a negative shape, an undefined name, a missing
#     file, a directory, bad options, bad --input values, bad .npy files;
#   - gos-run X --random-inputs --output-dir D writes finite outputs of the
#     declared shapes, plus each input as D/<name>.input.npy, for every
#     examples/**/*.gos (GOS_RUN_TOOL_EXAMPLES=0 skips this part);
#   - runs are repeatable: the same seed gives the same bytes, and
#     --input NAME=D/NAME.input.npy reproduces a random run exactly;
#   - values: a model fed .npy files made by numpy (float32 and float64)
#     gives the outputs numpy computes;
#   - names: characters outside [A-Za-z0-9_.-] become '_' in file names,
#     and two outputs that would share a file are an error;
#   - -model=NAME selects a model in both tools; gosc -o - is stdout.
# Needs a python3 with numpy (Debian's /usr/bin/python3 is tried first).
set -u
build=${1:?usage: run_tool.sh BUILD_DIR SOURCE_DIR}
src=${2:?usage: run_tool.sh BUILD_DIR SOURCE_DIR}
build=$(cd "$build" && pwd) && src=$(cd "$src" && pwd) || exit 1
gosc=$build/gosc
gosrun=$build/gos-run
for t in "$gosc" "$gosrun"; do
	[ -x "$t" ] || { echo "run_tool: no $t"; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pass=0 failed=0
ok() { pass=$((pass + 1)); }
fail() {
	echo "FAIL: $*"
	failed=$((failed + 1))
}

python=
for p in /usr/bin/python3 python3; do
	if command -v "$p" >/dev/null && "$p" -c 'import numpy' 2>/dev/null; then
		python=$p
		break
	fi
done
[ -n "$python" ] || { echo "run_tool: needs python3 with numpy (python3-numpy)"; exit 1; }

# A sanitizer or crash report in FILE?
sanitizer_report() {
	grep -qE 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:|Segmentation fault|core dumped' "$1"
}

# user_error NAME WANT -- TOOL ARGS...: exit status 1, stderr contains
# "error" and the extended regexp WANT, no sanitizer report, and nothing
# on stdout. Output files are checked by the callers.
user_error() {
	local name=$1 want=$2
	shift 3
	"$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	if [ $rc -ne 1 ]; then
		fail "$name: exit status $rc, want 1 ($*)"
		head -20 "$tmp/err"
	elif sanitizer_report "$tmp/err"; then
		fail "$name: sanitizer report"
		head -40 "$tmp/err"
	elif ! grep -q "error" "$tmp/err"; then
		fail "$name: no diagnostic on stderr"
	elif [ -n "$want" ] && ! grep -qE -- "$want" "$tmp/err"; then
		fail "$name: diagnostic lacks /$want/:"
		head -20 "$tmp/err"
	elif [ -s "$tmp/out" ]; then
		fail "$name: wrote to stdout on error"
		head -5 "$tmp/out"
	else
		ok
		return 0
	fi
	return 1
}

# no_files DIR NAME: DIR is missing or empty.
no_files() {
	if [ -e "$1" ] && [ -n "$(ls -A "$1" 2>/dev/null)" ]; then
		fail "$2: left files behind: $(ls -A "$1" | tr '\n' ' ')"
	else
		ok
	fi
}

# ---- --help and usage ------------------------------------------------------
for t in gosc gos-run; do
	if "$build/$t" --help >"$tmp/out" 2>"$tmp/err" && grep -q "usage" "$tmp/out" &&
		! [ -s "$tmp/err" ]; then
		ok
	else
		fail "$t --help: want exit 0 and the usage on stdout"
	fi
	user_error "$t without arguments" "" -- "$build/$t"
	user_error "$t unknown option" "unknown option" -- "$build/$t" --bogus "$src/examples/tiny.gos"
done

# ---- bad model files: both tools ----------------------------------------------
mkdir -p "$tmp/bad"
printf '\x00\xff\xfe\x01garbage{{{ ]] \x7f\x80\n' >"$tmp/bad/garbage.gos"
: >"$tmp/bad/empty.gos"
head -c 300 "$src/examples/tiny.gos" >"$tmp/bad/truncated.gos"
{ cat "$src/examples/tiny.gos"; echo "}"; } >"$tmp/bad/unbalanced_close.gos"
sed '$d' "$src/examples/tiny.gos" >"$tmp/bad/unbalanced_open.gos" # drops the final '}'
cat >"$tmp/bad/negative_shape.gos" <<'EOF'
model m {
  input x: f32[1, -3, 8];
  output y = relu(x);
}
EOF
cat >"$tmp/bad/undefined_name.gos" <<'EOF'
model m {
  input image: f32[1, 3];
  output y = relu(imagee);
}
EOF
cat >"$tmp/bad/shape_mismatch.gos" <<'EOF'
model m {
  input x: f32[2, 3];
  output y = dense(x, param[4, 5]);
}
EOF
printf 'gir 1\nmodel m\ninput %%x : f32[2\n' >"$tmp/bad/truncated.gir"
printf '\x89PNG\r\n\x1a\n\x00\x00' >"$tmp/bad/garbage.gir"
"$gosc" "$src/examples/tiny.gos" -o "$tmp/tiny.gir" 2>"$tmp/err" || fail "gosc tiny.gos: $(cat "$tmp/err")"
sed 's/%c1 : f32\[1,16,32,32\]/%c1 : f32[1,-16,32,32]/' "$tmp/tiny.gir" >"$tmp/bad/negative_shape.gir"
mkdir -p "$tmp/bad/dir.gos"

# name | file | diagnostic (ERE; file:line:col where the error has a place)
while IFS='|' read -r name file want; do
	f=$tmp/bad/$file
	[ "$file" = missing ] && f=$tmp/bad/does_not_exist.gos
	rm -f "$tmp/o.gir"
	user_error "gosc $name" "$want" -- "$gosc" "$f" -emit=ir -o "$tmp/o.gir"
	[ -e "$tmp/o.gir" ] && fail "gosc $name: wrote $tmp/o.gir" || ok
	user_error "gosc $name (stdout)" "$want" -- "$gosc" "$f"
	rm -rf "$tmp/D"
	user_error "gos-run $name" "$want" -- "$gosrun" "$f" --random-inputs --output-dir "$tmp/D"
	no_files "$tmp/D" "gos-run $name"
done <<'EOF'
garbage bytes|garbage.gos|garbage.gos:1:[0-9]+: error
empty file|empty.gos|empty.gos.*error.*model
truncated file|truncated.gos|truncated.gos:[0-9]+:[0-9]+: error
unbalanced (extra close)|unbalanced_close.gos|unbalanced_close.gos:[0-9]+:[0-9]+: error
unbalanced (missing close)|unbalanced_open.gos|unbalanced_open.gos:[0-9]+:[0-9]+: error
negative shape|negative_shape.gos|negative_shape.gos:2:[0-9]+: error
undefined name|undefined_name.gos|undefined_name.gos:3:[0-9]+: error: .*imagee
shape mismatch|shape_mismatch.gos|shape_mismatch.gos:3:[0-9]+: error: .*\[4, 5\]
missing file|missing|does_not_exist.gos
directory|dir.gos|dir.gos
truncated gir|truncated.gir|truncated.gir:[0-9]+:[0-9]+: error
garbage gir|garbage.gir|garbage.gir:[0-9]+:[0-9]+: error
negative shape gir|negative_shape.gir|negative_shape.gir:[0-9]+:[0-9]+: error
EOF

# the diagnostic shows the source line and a caret
"$gosc" "$tmp/bad/undefined_name.gos" 2>"$tmp/err" >/dev/null
if grep -q "relu(imagee)" "$tmp/err" && grep -qE '^ *\^' "$tmp/err" && grep -q "did you mean 'image'" "$tmp/err"; then
	ok
else
	fail "undefined name: want the source line, a caret and a suggestion:"
	cat "$tmp/err"
fi

# ---- gosc options ----------------------------------------------------------------
user_error "gosc two input files" "more than one" -- "$gosc" "$src/examples/tiny.gos" "$src/examples/tiny.gos"
user_error "gosc unknown emit kind" "emit" -- "$gosc" "$src/examples/tiny.gos" -emit=llvm-bitcode-please
rm -f "$tmp/nodir/x.gir"
user_error "gosc -o into a missing directory" "" -- "$gosc" "$src/examples/tiny.gos" -o "$tmp/nodir/x.gir"
"$gosc" "$src/examples/tiny.gos" -o - >"$tmp/stdout.gir" 2>"$tmp/err" &&
	"$gosc" "$src/examples/tiny.gos" >"$tmp/stdout2.gir" 2>>"$tmp/err" &&
	cmp -s "$tmp/stdout.gir" "$tmp/tiny.gir" && cmp -s "$tmp/stdout2.gir" "$tmp/tiny.gir" &&
	ok || fail "gosc -o - / no -o: want the same text as -o FILE"
"$gosc" "$tmp/tiny.gir" -emit=ir -o "$tmp/tiny2.gir" 2>"$tmp/err" && cmp -s "$tmp/tiny.gir" "$tmp/tiny2.gir" &&
	ok || fail "gosc tiny.gir: does not read back identically"
# a failing compile keeps an existing output file as it was
echo "keep me" >"$tmp/keep.gir"
"$gosc" "$tmp/bad/negative_shape.gos" -o "$tmp/keep.gir" 2>/dev/null
[ "$(cat "$tmp/keep.gir")" = "keep me" ] && ok || fail "gosc: a failed compile clobbered the existing -o file"

# ---- several models: -model= ------------------------------------------------------
cat >"$tmp/two.gos" <<'EOF'
model first { input x: f32[4]; output y = relu(x); }
model second { input x: f32[2, 3]; output y = sigmoid(x); }
EOF
"$gosc" "$tmp/two.gos" -o "$tmp/two.gir" && grep -q "^model second" "$tmp/two.gir" && ok ||
	fail "gosc two.gos: want the last model"
"$gosc" "$tmp/two.gos" -model=first -o "$tmp/two1.gir" && grep -q "^model first" "$tmp/two1.gir" && ok ||
	fail "gosc -model=first"
user_error "gosc -model=unknown" "thrid|third" -- "$gosc" "$tmp/two.gos" -model=thrid
rm -rf "$tmp/D"
"$gosrun" "$tmp/two.gos" -model=first --random-inputs --output-dir "$tmp/D" 2>"$tmp/err" &&
	"$python" -c "import numpy as np,sys; a=np.load(sys.argv[1]); assert a.shape==(4,), a.shape" "$tmp/D/y.npy" &&
	ok || { fail "gos-run -model=first"; cat "$tmp/err"; }
rm -rf "$tmp/D"
user_error "gos-run -model=unknown" "thrid|third" -- "$gosrun" "$tmp/two.gos" -model=thrid --random-inputs --output-dir "$tmp/D"
no_files "$tmp/D" "gos-run -model=unknown"

# ---- gos-run input handling ---------------------------------------------------------
tiny=$src/examples/tiny.gos
rm -rf "$tmp/R"
if "$gosrun" "$tiny" --random-inputs --seed 3 --output-dir "$tmp/R" >"$tmp/out" 2>"$tmp/err"; then
	ok
else
	fail "gos-run tiny --random-inputs"
	cat "$tmp/err"
fi
[ -s "$tmp/out" ] && fail "gos-run without --print wrote to stdout" || ok
"$python" - "$tmp/bad/npy" <<'PY'
import numpy as np, sys, os
d = sys.argv[1]
os.makedirs(d, exist_ok=True)
np.save(os.path.join(d, "wrong_shape.npy"), np.zeros((1, 3, 16, 16), np.float32))
np.save(os.path.join(d, "wrong_rank.npy"), np.zeros((3, 32, 32), np.float32))
open(os.path.join(d, "garbage.npy"), "wb").write(b"\x93NUMPY\x01\x00\xff\xff{'descr'")
open(os.path.join(d, "text.npy"), "w").write("not an npy file\n")
good = np.zeros((1, 3, 32, 32), np.float32)
np.save(os.path.join(d, "good.npy"), good)
raw = open(os.path.join(d, "good.npy"), "rb").read()
open(os.path.join(d, "truncated.npy"), "wb").write(raw[: len(raw) // 2])
np.save(os.path.join(d, "fortran.npy"), np.asfortranarray(np.arange(3 * 32 * 32, dtype=np.float32).reshape(1, 3, 32, 32)))
PY
while IFS='|' read -r name want args; do
	rm -rf "$tmp/D"
	# shellcheck disable=SC2086
	user_error "gos-run $name" "$want" -- "$gosrun" "$tiny" $args --output-dir "$tmp/D"
	no_files "$tmp/D" "gos-run $name"
done <<EOF
missing input|missing input 'x'|
input without =|NAME=FILE|--input x
input with empty file name|NAME=FILE|--input x=
unknown input|did you mean 'x'|--input xx=$tmp/bad/npy/good.npy
not an input|not an input|--input c1.Wt=$tmp/bad/npy/good.npy
input given twice|twice|--input x=$tmp/bad/npy/good.npy --input x=$tmp/bad/npy/good.npy
input of another shape|\[1,3,16,16\].*\[1,3,32,32\]|--input x=$tmp/bad/npy/wrong_shape.npy
input of another rank|\[3,32,32\]|--input x=$tmp/bad/npy/wrong_rank.npy
missing npy file|nothere.npy|--input x=$tmp/bad/npy/nothere.npy
garbage npy file|garbage.npy|--input x=$tmp/bad/npy/garbage.npy
text file as npy|text.npy|--input x=$tmp/bad/npy/text.npy
truncated npy file|truncated.npy|--input x=$tmp/bad/npy/truncated.npy
bad seed|seed|--random-inputs --seed banana
negative seed|seed|--random-inputs --seed -4
EOF
rm -rf "$tmp/D"
user_error "gos-run without --output-dir" "output-dir" -- "$gosrun" "$tiny" --random-inputs
echo "a file" >"$tmp/afile"
user_error "gos-run --output-dir is a file" "afile" -- "$gosrun" "$tiny" --random-inputs --output-dir "$tmp/afile"
[ "$(cat "$tmp/afile")" = "a file" ] && ok || fail "gos-run: clobbered the file given as --output-dir"
# Fortran-order arrays: either read correctly or refused, never misread
rm -rf "$tmp/F"
if "$gosrun" "$tiny" --input x="$tmp/bad/npy/fortran.npy" --output-dir "$tmp/F" 2>"$tmp/err"; then
	"$python" -c "import numpy as np, sys; np.save(sys.argv[2], np.ascontiguousarray(np.load(sys.argv[1])))" \
		"$tmp/bad/npy/fortran.npy" "$tmp/corder.npy"
	rm -rf "$tmp/C"
	"$gosrun" "$tiny" --input x="$tmp/corder.npy" --output-dir "$tmp/C" 2>/dev/null
	cmp -s "$tmp/C/logits.npy" "$tmp/F/logits.npy" && ok ||
		fail "gos-run: a Fortran-order input gives other results than the same values in C order"
elif sanitizer_report "$tmp/err"; then
	fail "gos-run fortran.npy: sanitizer report"
else
	no_files "$tmp/F" "gos-run fortran.npy refused"
fi

# ---- repeatability and the --input round trip ---------------------------------------
if [ -f "$tmp/R/logits.npy" ] && [ -f "$tmp/R/x.input.npy" ]; then
	rm -rf "$tmp/R2" "$tmp/R3" "$tmp/R4"
	"$gosrun" "$tiny" --random-inputs --seed 3 --output-dir "$tmp/R2" 2>/dev/null
	cmp -s "$tmp/R/logits.npy" "$tmp/R2/logits.npy" && cmp -s "$tmp/R/x.input.npy" "$tmp/R2/x.input.npy" &&
		ok || fail "gos-run --seed 3 twice: outputs differ"
	"$gosrun" "$tiny" --input "x=$tmp/R/x.input.npy" --output-dir "$tmp/R3" 2>"$tmp/err" &&
		cmp -s "$tmp/R/logits.npy" "$tmp/R3/logits.npy" && ok ||
		{ fail "gos-run --input x=R/x.input.npy does not reproduce the random run"; cat "$tmp/err"; }
	[ -e "$tmp/R3/x.input.npy" ] && fail "gos-run wrote x.input.npy for a given input" || ok
	"$gosrun" "$tiny" --random-inputs --seed 4 --output-dir "$tmp/R4" 2>/dev/null
	cmp -s "$tmp/R/x.input.npy" "$tmp/R4/x.input.npy" && fail "gos-run: seeds 3 and 4 gave the same inputs" || ok
	# the random inputs are uniform in [-1, 1) with the declared shape
	"$python" - "$tmp/R/x.input.npy" <<'PY' && ok || fail "random inputs: wrong shape, dtype or range"
import numpy as np, sys
a = np.load(sys.argv[1])
assert a.dtype == np.float32 and a.shape == (1, 3, 32, 32), (a.dtype, a.shape)
assert a.min() >= -1 and a.max() < 1 and a.std() > 0.4, (a.min(), a.max(), a.std())
PY
	# --print summarises each output on stdout
	"$gosrun" "$tiny" --input "x=$tmp/R/x.input.npy" --print >"$tmp/out" 2>/dev/null &&
		grep -q "^logits f32\[1,10\]" "$tmp/out" && ok || { fail "gos-run --print"; cat "$tmp/out"; }
else
	fail "gos-run tiny: no logits.npy / x.input.npy in the output directory"
fi

# ---- values against numpy ----------------------------------------------------------------
cat >"$tmp/np.gos" <<'EOF'
model np {
  input x: f32[2, 3, 4];
  input b: f32[4];
  output y = add(relu(x), mul(x, b));
  output s = softmax(x; axis = 1);
}
EOF
"$python" - "$tmp" <<'PY'
import numpy as np, sys, os
d = sys.argv[1]
rng = np.random.default_rng(5)
np.save(os.path.join(d, "x64.npy"), rng.standard_normal((2, 3, 4)))          # float64
np.save(os.path.join(d, "b32.npy"), rng.standard_normal(4).astype(np.float32))
PY
rm -rf "$tmp/N"
if "$gosrun" "$tmp/np.gos" --input "x=$tmp/x64.npy" --input "b=$tmp/b32.npy" --output-dir "$tmp/N" 2>"$tmp/err"; then
	"$python" - "$tmp" <<'PY' && ok || fail "gos-run values differ from numpy"
import numpy as np, sys, os
d = sys.argv[1]
x = np.load(os.path.join(d, "x64.npy")).astype(np.float32).astype(np.float64)
b = np.load(os.path.join(d, "b32.npy")).astype(np.float64)
y = np.load(os.path.join(d, "N", "y.npy"))
s = np.load(os.path.join(d, "N", "s.npy"))
assert y.dtype == np.float32 and y.shape == (2, 3, 4)
assert np.allclose(y, np.maximum(x, 0) + x * b, rtol=1e-6, atol=1e-6), (y, np.maximum(x, 0) + x * b)
e = np.exp(x - x.max(axis=1, keepdims=True))
assert np.allclose(s, e / e.sum(axis=1, keepdims=True), rtol=1e-5, atol=1e-6)
PY
else
	fail "gos-run np.gos"
	cat "$tmp/err"
fi

# ---- names -----------------------------------------------------------------------------------
cat >"$tmp/names.gir" <<'EOF'
gir 1
model names

input %"in put" : f32[2]
input %"x/y" : f32[2]

node n = f(A=%"in put", B=%"x/y") -> (Y=%"out:1" : f32[2], Z=%"a b" : f32[2], W=%"../up" : f32[2]) {
  Y[i:2] = {
    %0 = load A[i]
    %1 = load B[i]
    %2 = add %0, %1
  } -> %2
  Z[i:2] = {
    %0 = load A[i]
  } -> %0
  W[i:2] = {
    %0 = load B[i]
  } -> %0
}

output %"out:1"
output %"a b"
output %"../up"
EOF
rm -rf "$tmp/S"
mkdir -p "$tmp/S"
if "$gosrun" "$tmp/names.gir" --random-inputs --output-dir "$tmp/S/d" 2>"$tmp/err"; then
	got=$(cd "$tmp/S/d" && ls -A | sort | tr '\n' ' ')
	want=".._up.npy a_b.npy in_put.input.npy out_1.npy x_y.input.npy "
	[ "$got" = "$want" ] && ok || fail "sanitised names: got '$got', want '$want'"
	[ -z "$(ls -A "$tmp/S" | grep -v '^d$')" ] && ok || fail "gos-run wrote outside the output directory"
	# the inputs are named by their real names on the command line
	rm -rf "$tmp/S2"
	"$gosrun" "$tmp/names.gir" --input "in put=$tmp/S/d/in_put.input.npy" \
		--input "x/y=$tmp/S/d/x_y.input.npy" --output-dir "$tmp/S2" 2>"$tmp/err" &&
		cmp -s "$tmp/S/d/out_1.npy" "$tmp/S2/out_1.npy" && ok ||
		{ fail "gos-run --input with quoted names"; cat "$tmp/err"; }
else
	fail "gos-run names.gir"
	cat "$tmp/err"
fi
sed -e 's/%"out:1"/%"a_b"/g' "$tmp/names.gir" >"$tmp/clash.gir"
rm -rf "$tmp/D"
user_error "gos-run outputs sharing a file" "a_b" -- "$gosrun" "$tmp/clash.gir" --random-inputs --output-dir "$tmp/D"
no_files "$tmp/D" "gos-run outputs sharing a file"

# ---- every example: finite outputs of the declared shapes ---------------------------------
# check_run GIR DIR: every output of GIR is DIR/NAME.npy (sanitised name),
# f32, finite, with the declared shape; every input is DIR/NAME.input.npy.
check_run() {
	"$python" - "$1" "$2" <<'PY'
import os, re, sys
import numpy as np
gir, d = sys.argv[1], sys.argv[2]
text = open(gir).read()
name_re = r'%([A-Za-z0-9_.]+|"(?:[^"\\]|\\.)*")'
shapes = {m.group(1): tuple(int(v) for v in m.group(2).split(",") if v)
          for m in re.finditer(name_re + r'\s*:\s*f32\[([0-9,]*)\]', text)}
outs = re.findall(r'^output\s+' + name_re, text, re.M)
ins = re.findall(r'^input\s+' + name_re, text, re.M)
safe = lambda n: re.sub(r'[^A-Za-z0-9_.-]', '_', n.strip('"'))
bad = 0
for kind, names, suffix in (("output", outs, ".npy"), ("input", ins, ".input.npy")):
    for o in names:
        f = os.path.join(d, safe(o) + suffix)
        if not os.path.exists(f):
            print("  missing %s file %s" % (kind, f)); bad += 1; continue
        a = np.load(f)
        if a.dtype != np.float32 or a.shape != shapes.get(o):
            print("  %s %s: %s %s, declared %s" % (kind, o, a.dtype, a.shape, shapes.get(o))); bad += 1
        elif not np.all(np.isfinite(a)):
            print("  %s %s has %d non-finite values" % (kind, o, int(np.sum(~np.isfinite(a))))); bad += 1
if not outs:
    print("  no outputs"); bad += 1
n_files = len(os.listdir(d))
if n_files != len(set(outs)) + len(ins):
    print("  %d files in %s, want %d" % (n_files, d, len(set(outs)) + len(ins))); bad += 1
sys.exit(1 if bad else 0)
PY
}
if [ "${GOS_RUN_TOOL_EXAMPLES:-1}" = 1 ]; then
	while IFS= read -r -d '' f; do
		rel=${f#"$src"/}
		rm -rf "$tmp/E" && mkdir "$tmp/E"
		if ! "$gosc" "$f" -o "$tmp/e.gir" 2>"$tmp/err"; then
			fail "gosc $rel"
			cat "$tmp/err"
			continue
		fi
		start=$(date +%s)
		if ! "$gosrun" "$f" --random-inputs --output-dir "$tmp/E/out" >"$tmp/out" 2>"$tmp/err"; then
			fail "gos-run $rel --random-inputs"
			head -20 "$tmp/err"
			continue
		fi
		if sanitizer_report "$tmp/err"; then
			fail "gos-run $rel: sanitizer report"
			continue
		fi
		if check_run "$tmp/e.gir" "$tmp/E/out"; then
			echo "ok $rel ($(($(date +%s) - start)) s)"
			ok
		else
			fail "gos-run $rel: bad output files"
		fi
	done < <(find "$src/examples" -name '*.gos' -print0 | sort -z)
	# the same through the printed IR: identical outputs
	rm -rf "$tmp/T1" "$tmp/T2"
	"$gosrun" "$tiny" --random-inputs --output-dir "$tmp/T1" 2>/dev/null
	"$gosrun" "$tmp/tiny.gir" --random-inputs --output-dir "$tmp/T2" 2>/dev/null
	cmp -s "$tmp/T1/logits.npy" "$tmp/T2/logits.npy" && ok || fail "tiny.gos and its .gir give different outputs"
fi

echo "run_tool: $pass passed, $failed failed"
[ $failed -eq 0 ]
