#!/bin/bash
# bench/cost/forms.sh [RUNS] -- per operator form of the synthesis
# (docs/synthesis.md), the host cost model's prediction against a host
# profile, node by node. One command; writes its section of
# docs/cost-models.md (between the forms:begin / forms:end markers).
#
# Layers (seeded weights): 3x3 convolutions of ResNet-18 shapes and a
# strided transposed convolution (ONNX ConvTranspose). For each layer the
# candidates of `gos-opt --synth` (8 random calibration inputs for the
# fitted rules): every exact one (Winograd m=2, m=4; phase), and per
# fitted rule the one whose FLOPs are nearest half the layer's (the
# choice of bench/synth_layers.sh). Each form, and the original layer, is
# compiled with `gosc -O1 -target=host -emit=exe` (so the node names are
# those of `gos-opt`) and profiled with `--random-inputs --profile=F.csv
# --runs RUNS` (default 30); the prediction per node is `gos-cost predict
# -target=host --per-op` of the same -O1 module. Calibrated column: per
# layer, `gos-cost fit -target=host --profile` on the other layers'
# profiles (leave one layer out; the masked-sum transposed convolution
# as imported is left out of every fit), predicting this layer's forms.
set -eu
cd "$(dirname "$0")/../.."
runs=${1:-30}
build=${GOS_BUILD:-build}
[ -x "$build/gosc" ] || sh scripts/build.sh "$build"
py=/usr/bin/python3
[ -x "$py" ] || py=python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')

# profile LAYER CAND MODEL [CALIB]: $tmp/res/LAYER@CAND.{csv,perop}
profile() {
	local l=$1 c=$2 f=$3 out
	out="$tmp/res/$l@$c"
	"$build/gos-opt" "$f" -o "$out.gir" </dev/null
	"$build/gos-cost" predict -target=host --per-op "$out.gir" > "$out.perop" </dev/null
	"$build/gosc" "$f" -O1 -target=host -emit=exe -o "$tmp/exe" </dev/null
	"$tmp/exe" --random-inputs --profile="$out.csv" --runs "$runs" > /dev/null </dev/null
	echo "  $l $c: $(tail -1 "$out.csv" | cut -d, -f6) ms"
}

# forms LAYER MODEL CALIB OUTVALUE: the original and its synthesised forms
forms() {
	local l=$1 f=$2 calib=$3 cand rule kind flops err
	profile "$l" original "$f"
	"$build/gos-opt" "$f" --synth ${calib:+--calib "$calib:8"} > "$tmp/list"
	tail -n +2 "$tmp/list" | grep -v '^(' | awk '
		$3 == "exact" { print; next }
		{ r = $2; x = $4 + 0; d = x - 0.5; if (d < 0) d = -d
		  if (!(r in best) || d < bd[r]) { best[r] = $0; bd[r] = d } }
		END { for (r in best) print best[r] }' | sort > "$tmp/chosen"
	while read -r cand rule kind flops err; do
		"$build/gos-opt" "$f" --apply="$cand" ${calib:+--calib "$calib:8"} -o "$tmp/c.gir" </dev/null
		profile "$l" "${cand#*/}" "$tmp/c.gir"
	done < "$tmp/chosen"
}

mkdir -p "$tmp/res"
for spec in "64 28" "128 14"; do
	set -- $spec
	C=$1 H=$2
	l="conv3x3_${C}x${H}"
	cat > "$tmp/$l.gos" <<EOF
model $l {
  input x: f32[1, $C, $H, $H];
  weights seed 1;
  h = conv2d(x, param[$C, $C, 3, 3], param[$C]; pad = 1);
  output y = relu(h);
}
EOF
	"$py" -c "
import numpy as np
r = np.random.RandomState(0)
np.savez('$tmp/$l.npz', x=r.rand(8, $C, $H, $H).astype(np.float32), y=np.zeros(8, np.int64))"
	forms "$l" "$tmp/$l.gos" "$tmp/$l.npz"
done
# a strided transposed convolution: 64 -> 32 channels, 20x20 -> 40x40, k4 s2 p1
l=convT4x4_s2_64x20
"$py" - "$tmp/$l.onnx" <<'EOF'
import sys, numpy as np, onnx
from onnx import helper, TensorProto, numpy_helper
r = np.random.RandomState(0)
W = (r.randn(64, 32, 4, 4) * 0.1).astype(np.float32)
B = r.randn(32).astype(np.float32)
n = helper.make_node("ConvTranspose", ["x", "W", "B"], ["y"], strides=[2, 2], pads=[1] * 4)
g = helper.make_graph([n], "convT4x4_s2_64x20",
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64, 20, 20])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 32, 40, 40])],
                      [numpy_helper.from_array(W, "W"), numpy_helper.from_array(B, "B")])
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), sys.argv[1])
EOF
forms "$l" "$tmp/$l.onnx" ""

# calibrated from host profiles: per layer, `gos-cost fit --profile` on
# the profiles of the other layers' forms, then predict this layer's forms
layers=$(ls "$tmp/res" | sed -n 's/@.*\.csv$//p' | sort -u)
for l in $layers; do
	args=() models=()
	for f in "$tmp"/res/*.csv; do
		# not this layer; nor the masked-sum transposed convolution, which
		# no synthesis produces and which runs 20x off any per-kind scale
		case ${f##*/} in "$l@"* | convT*@original.csv) continue ;; esac
		args+=(--profile "$f")
		models+=("${f%.csv}.gir")
	done
	"$build/gos-cost" fit -target=host "${args[@]}" -o "$tmp/fit-$l.model" "${models[@]}" \
		2> "$tmp/fit-$l.err" || { cat "$tmp/fit-$l.err"; exit 1; }
	for g in "$tmp/res/$l@"*.gir; do
		"$build/gos-cost" predict -target=host --model-file "$tmp/fit-$l.model" "$g" | cut -d, -f2 \
			> "${g%.gir}.fit"
	done
done

"$py" - "$tmp/res" "$runs" "$cpu" "$(date -u +%Y-%m-%d)" > "$tmp/section" <<'EOF'
import csv, glob, math, os, sys
res, runs, cpu, day = sys.argv[1:]
FORM = {"original": "as written (dense; masked sum for ConvTranspose)", "winograd": "Winograd stages", "separable": "kx1 then 1xk pair",
        "shrinkkx1": "kx1", "shrink1xk": "1xk", "shrink1x1": "1x1", "lowrank": "low-rank pair",
        "grouped": "grouped", "dwsep": "depthwise-separable", "prune": "pruned",
        "phase": "phase-decomposed transposed conv"}
def form(c):
    return FORM.get(c.split(":")[0], c.split(":")[0])
def spearman(a, b):
    def rk(v):
        o = sorted(range(len(v)), key=lambda i: v[i]); r = [0.0] * len(v)
        for k, i in enumerate(o): r[i] = k
        return r
    ra, rb = rk(a), rk(b); n = len(a)
    ma, mb = sum(ra) / n, sum(rb) / n
    num = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    den = math.sqrt(sum((x - ma) ** 2 for x in ra) * sum((y - mb) ** 2 for y in rb))
    return num / den if den else float("nan")
rows, totals, perkind = [], {}, {}
for f in sorted(glob.glob(os.path.join(res, "*.csv"))):
    layer, cand = os.path.basename(f)[:-4].split("@")
    pred = {}
    for line in open(f[:-4] + ".perop"):
        p = line.split()
        if len(p) >= 6 and p[0] not in ("#", "node", "total"):
            pred[p[0]] = (float(p[5]), p[2])
    whole = None
    psum = msum = 0.0
    for r in csv.DictReader(open(f)):
        if r["node"] == "(total)":
            whole = float(r["median_ms"]); continue
        pm, kind = pred[r["node"]]
        mm = float(r["median_ms"])
        psum += pm; msum += mm
        rows.append((layer, cand, r["node"], r["op"], kind, pm, mm))
        perkind.setdefault(kind, []).append(mm / pm if pm > 0 else float("nan"))
    fitted = float(open(f[:-4] + ".fit").read())
    totals.setdefault(layer, []).append((cand, psum, msum, whole, fitted))
out = []
w = out.append
w("<!-- forms:begin (written by bench/cost/forms.sh; do not edit by hand) -->")
w("")
w("### Per form: predicted vs measured on host (`bash bench/cost/forms.sh`)")
w("")
w(f"Produced by `bash bench/cost/forms.sh {runs}` on {day} ({cpu}, one thread, machine shared")
w("with other jobs). Per layer, the original and the forms the synthesis produces (every exact")
w("candidate; per fitted rule the one with FLOPs nearest half the layer's), each compiled with")
w("`gosc -O1 -target=host -emit=exe` and profiled with `--profile` "
  f"({runs} runs, node medians); predicted: `gos-cost predict -target=host --per-op` (the analytic")
w("host model, no fit). Ratio = measured / predicted. Calibrated: the `profile` model of")
w("`gos-cost fit -target=host --profile` (per-kind scales) fitted on the profiles of the *other*")
w("layers' forms (the masked-sum transposed convolution as imported, not a synthesis form,")
w("is left out of every fit), predicting this layer's forms.")
w("")
w("Per form (sum over its nodes; whole run = the plain entry's median):")
w("")
w("| layer | candidate | form | nodes | predicted ms | measured ms (nodes) | whole run ms | measured / predicted | measured vs original | predicted vs original | calibrated ms | whole / calibrated |")
w("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for layer, ts in totals.items():
    ts.sort(key=lambda t: (t[0] != "original", t[0]))
    o = ts[0] if ts[0][0] == "original" else None
    for cand, ps, ms, wh, ft in ts:
        nn = sum(1 for r in rows if r[0] == layer and r[1] == cand)
        rel_m = f"{ms / o[2]:.2f}x" if o else "-"
        rel_p = f"{ps / o[1]:.2f}x" if o else "-"
        w(f"| {layer} | `{cand}` | {form(cand)} | {nn} | {ps:.4f} | {ms:.4f} | {wh:.4f} | {ms / ps:.2f} | {rel_m} | {rel_p} | {ft:.4f} | {wh / ft:.2f} |")
w("")
w("Ranking of the forms of each layer (Spearman against the measured totals, original included):")
w("")
w("| layer | forms | analytic | calibrated (other layers) |")
w("|---|---:|---:|---:|")
for layer, ts in totals.items():
    w(f"| {layer} | {len(ts)} | {spearman([t[1] for t in ts], [t[2] for t in ts]):.3f} | "
      f"{spearman([t[4] for t in ts], [t[2] for t in ts]):.3f} |")
w("")
w("Measured / predicted per operator kind over all profiled nodes (geometric mean, range):")
w("")
w("| kind | nodes | geo-mean ratio | min | max |")
w("|---|---:|---:|---:|---:|")
for k, v in sorted(perkind.items()):
    v = [x for x in v if x > 0 and math.isfinite(x)]
    if v:
        g = math.exp(sum(math.log(x) for x in v) / len(v))
        w(f"| {k} | {len(v)} | {g:.2f} | {min(v):.2f} | {max(v):.2f} |")
w("")
w("<details><summary>Every node</summary>")
w("")
w("| layer | candidate | node | op | kind | predicted ms | measured ms | measured / predicted |")
w("|---|---|---|---|---|---:|---:|---:|")
for layer, cand, node, op, kind, pm, mm in rows:
    w(f"| {layer} | `{cand}` | {node} | {op} | {kind} | {pm:.4f} | {mm:.4f} | {mm / pm if pm > 0 else float('nan'):.2f} |")
w("")
w("</details>")
w("")
w("<!-- forms:end -->")
print("\n".join(out))
EOF
grep -v '^<' "$tmp/section" | grep -v '^$' | sed -n '/^| layer | candidate | form/,/^Ranking/p'
doc=docs/cost-models.md
if grep -q '^<!-- forms:begin' "$doc"; then
	awk -v f="$tmp/section" '/^<!-- forms:begin/ { while ((getline l < f) > 0) print l; skip = 1; next }
		/^<!-- forms:end/ { skip = 0; next } !skip' "$doc" > "$tmp/doc"
else # after the section on grouped and factorised forms
	awk -v f="$tmp/section" '/^### Against the FLOPs count/ && !done { while ((getline l < f) > 0) print l
		print ""; done = 1 } { print }' "$doc" > "$tmp/doc"
fi
cp "$tmp/doc" "$doc"
echo "wrote its section of $doc"
