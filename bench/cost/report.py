#!/usr/bin/python3
"""report.py --doc docs/cost-models.md -- writes the measured tables of the
cost-model study (bench/cost/results/*.json) into the section of the doc
between the `results:begin` and `results:end` markers."""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.environ.get("GOS_COST_RESULTS", os.path.join(HERE, "results"))
BEGIN = "<!-- results:begin (written by bench/cost/run.sh; do not edit by hand) -->"
END = "<!-- results:end -->"


def f3(x):
    return "–" if x is None else "%.3f" % x


def ms(s):
    return "%.3f ± %.3f (min %.3f)" % (s["mean"], s["sd"], s["min"])


def nb201_section(r, relimg):
    out = []
    sub = " (subset of %d networks)" % r["networks"] if r.get("subset") else ""
    out.append("### NAS-Bench-201 on three devices%s\n" % sub)
    out.append("Spearman rank correlation with the measured latency of %d networks. "
               "FLOPs, analytic and proxy use no device measurement; the adapted model "
               "is fitted on n random networks and evaluated on the other %d - n "
               "(%d random splits: mean ± standard deviation, and the worst split). "
               "Host proxy: %d networks measured on this machine.\n"
               % (r["networks"], r["networks"], r["splits"], r["proxy_networks"]))
    hdr = ["device", "FLOPs", "analytic", "host proxy"] + ["adapted, n = %s" % n for n in ("10", "20", "60")]
    out.append("| " + " | ".join(hdr) + " |")
    out.append("|" + "---|" * len(hdr))
    for tgt, d in r["devices"].items():
        row = [d["label"], f3(d["flops"]), f3(d["analytic"]), f3(d.get("proxy"))]
        for n in ("10", "20", "60"):
            a = d["adapted"].get(n)
            row.append(ms(a["spearman"]) if a else "–")
        out.append("| " + " | ".join(row) + " |")
    out.append("")
    if any("adapted_proxy_prior" in d for d in r["devices"].values()):
        out.append("With the host proxy measurement as the prior column (`fit --prior=proxy`):\n")
        out.append("| device | n = 10 | n = 20 | n = 60 |")
        out.append("|---|---|---|---|")
        for tgt, d in r["devices"].items():
            if "adapted_proxy_prior" in d:
                out.append("| %s | %s |" % (d["label"], " | ".join(
                    ms(d["adapted_proxy_prior"][n]["spearman"]) if n in d["adapted_proxy_prior"] else "–"
                    for n in ("10", "20", "60"))))
        out.append("")
    out.append("Kendall's tau of the adapted model (n = 20, first 3 splits): " + ", ".join(
        "%s %.3f" % (d["label"], d["adapted"]["20"]["kendall"]["mean"])
        for d in r["devices"].values() if "20" in d["adapted"]) + ".\n")
    out.append("What the fits chose (first split, n = 20): " + "; ".join(
        "%s: `%s`" % (d["label"], d["adapted"]["20"]["example_fit"].replace("gos-cost: ", ""))
        for d in r["devices"].values() if "20" in d["adapted"]) + ".\n")
    out.append("Device-to-device rank correlation of the measured latencies (OneProxy's "
               "latency monotonicity): " + ", ".join(
                   "%s %.3f" % (k.replace("~", " vs "), v) for k, v in r["device_pairs"].items()) + ".\n")
    if "data" in r:
        out += data_section(r["data"])
    for tgt, d in r["devices"].items():
        out.append("![%s: predicted vs measured](%s/nb201_%s.svg)" % (d["label"], relimg, tgt))
    if os.path.exists(os.path.join(RESULTS, "nb201_host_proxy.svg")):
        out.append("![host proxy vs devices](%s/nb201_host_proxy.svg)" % relimg)
    out.append("")
    return out


def data_section(data):
    """What the measurements themselves allow (nb201.py data_analysis)."""
    out = ["What the measurements allow (no gosc model involved; computed from the "
           "architecture strings and the latencies). *Duplicates*: networks whose cells "
           "compute the same thing once dead edges are removed (`fold`: also dropping "
           "zero nodes, as a runtime that folds constants would); *noise sd* is the pooled "
           "standard deviation of latency within such groups; *duplicate Spearman* "
           "predicts each duplicate by the mean of the others in its group. *Linear "
           "counts*: least squares of latency on the live operator counts, fitted and "
           "evaluated on all networks. *Lag-1*: autocorrelation of that fit's residuals "
           "in `nb201_idx` order (drift while measuring).\n"]
    hdr = ["device", "latency sd (ms)", "duplicates: groups / networks", "noise sd (ms)",
           "duplicate Spearman", "linear counts (no fold / fold)", "lag-1 (no fold)",
           "FLOPs of all edges"]
    out.append("| " + " | ".join(hdr) + " |")
    out.append("|" + "---|" * len(hdr))
    for col, d in data.items():
        a, b = d["nofold"], d["fold"]
        out.append("| %s | %.3f | %d / %d | %.3f | %s | %s / %s | %.2f | %s |" % (
            d["label"], a["latency_sd_ms"], a["dup_groups"], a["dup_networks"], a["dup_sd_ms"],
            f3(a["dup_spearman"]), f3(a["linear_counts_spearman"]),
            f3(b["linear_counts_spearman"]), a["residual_lag1"], f3(d["flops_all_edges"])))
    out.append("")
    return out


def ofa_section(r, relimg):
    out = ["### Once-for-All MobileNetV3 layers on the Note10\n"]
    out.append("%d lookup-table entries (%d distinct layers, resolutions 160..192), each "
               "built as a one-layer .gos; %d random OFA subnets whose latency is the sum "
               "of their layers' entries. Spearman correlation; the adapted model is fitted "
               "on n random layers and evaluated on the other layers and on all networks "
               "(sum of the predicted layers).\n" % (r["layers"], r["distinct_layers"], r["networks"]["n"]))
    out.append("| | FLOPs | analytic | host proxy | adapted, n = 10 | n = 20 | n = 60 |")
    out.append("|---|---|---|---|---|---|---|")
    for key, label in (("per_layer", "layers (held out)"), ("networks", "whole networks")):
        d = r[key]
        out.append("| %s | %s | %s | %s | %s |" % (
            label, f3(d["flops"]), f3(d["analytic"]), f3(d.get("proxy")),
            " | ".join(ms(d["adapted"][n]) for n in ("10", "20", "60"))))
    out.append("")
    out.append("![Note10 layers](%s/ofa_note10_layers.svg) ![Note10 networks](%s/ofa_note10_networks.svg)\n"
               % (relimg, relimg))
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--doc", required=True)
    a = p.parse_args()
    doc = open(a.doc).read()
    if BEGIN not in doc or END not in doc:
        sys.exit("report.py: %s lacks the results markers" % a.doc)
    relimg = os.path.relpath(RESULTS, os.path.dirname(os.path.abspath(a.doc)))
    body = []
    nb = os.path.join(RESULTS, "nb201.json")
    if os.path.exists(nb):
        body += nb201_section(json.load(open(nb)), relimg)
    of = os.path.join(RESULTS, "ofa.json")
    if os.path.exists(of):
        body += ofa_section(json.load(open(of)), relimg)
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    new = head + BEGIN + "\n\n" + "\n".join(body) + "\n" + END + tail
    with open(a.doc + ".tmp", "w") as f:
        f.write(new)
    os.replace(a.doc + ".tmp", a.doc)
    print("report: updated", a.doc)


if __name__ == "__main__":
    main()
