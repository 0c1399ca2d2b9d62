#!/usr/bin/python3
"""baseline.py -- does the cost model beat the FLOPs count?  (issue 12)

  baseline.py --work W --gos-cost G [--splits S] [--n N] [--doc docs/cost-models.md]

For every device column of the NAS-Bench-201 latencies
(shared/data/latency/nb201_devices_dev.csv): Spearman correlation with the
measured latencies of the IR's FLOPs, of the analytic models of targets/pi3
and targets/redmi-note7s (no measurement), and of `gos-cost fit` on N random
networks (default 20; S random splits, default 10) evaluated on all other
networks, with the pi3 and the redmi-note7s target as the prior; reports the
median and worst split and which model family fit chose. Writes
bench/cost/results/baseline.json and, with --doc, the table between the
`baseline:begin/end` markers of that file. Needs W/nb201/*.gos
(nb201.py gen). Python 3 + numpy.
"""
import argparse
import collections
import json
import os
import re
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import costlib  # noqa: E402
import nb201  # noqa: E402

TARGETS = ("pi3", "redmi-note7s")
COLUMNS = ("a76_pixel4_cpu", "pixel3_cpu", "sd855_gpu")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", required=True)
    p.add_argument("--gos-cost", required=True)
    p.add_argument("--splits", type=int, default=10)
    p.add_argument("--n", type=int, default=20)
    p.add_argument("--doc")
    a = p.parse_args()
    a.work = os.path.abspath(a.work)
    a.gos_cost = os.path.abspath(a.gos_cost)
    rows, _ = nb201.work_rows(a.work)
    names = [nb201.model_name(r) for r in rows]
    N = len(names)
    cwd = os.getcwd()
    feat = {}
    os.chdir(a.work)
    try:
        for t in TARGETS:
            out = os.path.join(a.work, "feat_%s.csv" % t)
            costlib.features(a.gos_cost, os.path.join(SRC, "targets", t + ".target"), names, out)
            feat[t] = {r["model"]: r for r in costlib.read_csv(out)}
    finally:
        os.chdir(cwd)
    fitdir = os.path.join(a.work, "baseline_fits")
    os.makedirs(fitdir, exist_ok=True)
    res = {"networks": N, "n": a.n, "splits": a.splits, "columns": {}}
    for col in COLUMNS:
        y = np.array([float(r[col]) for r in rows])
        flops = np.array([float(feat[TARGETS[0]][n]["flops"]) for n in names])
        d = {"flops": costlib.spearman(flops, y)}
        for t in TARGETS:
            an = np.array([float(feat[t][n]["analytic_ms"]) for n in names])
            d["analytic_" + t] = costlib.spearman(an, y)
            sp, fam, flops_te = [], collections.Counter(), []
            for s in range(a.splits):
                perm = np.random.default_rng(7000 + s).permutation(N)
                tr, te = perm[:a.n], perm[a.n:]
                pred, info, _ = costlib.fit_predict(
                    a.gos_cost, os.path.join(SRC, "targets", t + ".target"),
                    os.path.join(a.work, "feat_%s.csv" % t), [names[i] for i in tr],
                    [y[i] for i in tr], fitdir, "%s_%s_%d" % (col, t, s))
                sp.append(costlib.spearman([pred[names[i]] for i in te], y[te]))
                flops_te.append(costlib.spearman(flops[te], y[te]))
                m = re.search(r"family=(\S+)", info)
                fam[m.group(1) if m else "?"] += 1
            d["fit_" + t] = {"median": float(np.median(sp)), "worst": float(np.min(sp)),
                             "all": [float(v) for v in sp], "families": dict(fam),
                             "flops_on_test_worst": float(np.min(flops_te)),
                             "margin_worst": float(np.min(np.array(sp) - np.array(flops_te)))}
        res["columns"][col] = d
        print("%s: flops %.3f | %s" % (col, d["flops"], " | ".join(
            "%s analytic %.3f fit median %.3f worst %.3f %s" % (
                t, d["analytic_" + t], d["fit_" + t]["median"], d["fit_" + t]["worst"],
                d["fit_" + t]["families"]) for t in TARGETS)))
        sys.stdout.flush()
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "baseline.json"), "w") as f:
        json.dump(res, f, indent=1, sort_keys=True)
    if a.doc:
        write_doc(a.doc, res)


def write_doc(path, res):
    lines = ["", "Spearman correlation with the measured latencies of all %d NAS-Bench-201 networks "
             "(FLOPs, analytic: no measurement) or of the %d networks not fitted on "
             "(fit: `gos-cost fit` on %d random networks, %d random splits: median / worst split; "
             "the family `fit` chose, with the number of splits it chose it).  Written by "
             "`sh bench/cost/baseline.sh`." % (res["networks"], res["networks"] - res["n"], res["n"],
                                               res["splits"]), "",
             "| device column | FLOPs | analytic pi3 | analytic redmi-note7s | fit pi3 (median / worst) "
             "| fit redmi-note7s (median / worst) | family chosen (pi3; redmi) |",
             "|---|---|---|---|---|---|---|"]
    for col, d in res["columns"].items():
        fams = "; ".join(", ".join("%s %d" % kv for kv in sorted(d["fit_" + t]["families"].items()))
                         for t in TARGETS)
        lines.append("| %s | %.3f | %.3f | %.3f | %.3f / %.3f | %.3f / %.3f | %s |" % (
            col, d["flops"], d["analytic_pi3"], d["analytic_redmi-note7s"],
            d["fit_pi3"]["median"], d["fit_pi3"]["worst"],
            d["fit_redmi-note7s"]["median"], d["fit_redmi-note7s"]["worst"], fams))
    lines.append("")
    text = open(path).read()
    b, e = "<!-- baseline:begin", "<!-- baseline:end -->"
    i, j = text.find(b), text.find(e)
    if i < 0 or j < 0:
        raise SystemExit("baseline.py: no baseline markers in %s" % path)
    i = text.index("\n", i) + 1
    text = text[:i] + "\n".join(lines) + "\n" + text[j:]
    with open(path, "w") as f:
        f.write(text)
    print("wrote", path)


if __name__ == "__main__":
    main()
