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
    N = r["networks"]
    devs = list(r["devices"].values())
    out.append("### NAS-Bench-201 on three devices%s\n" % sub)
    out.append("Spearman rank correlation with the latencies measured on the devices "
               "(`nb201_devices_dev.csv`, %d networks).\n" % N)
    out.append("**Without any measurement on the device**: the IR's FLOPs, the analytic "
               "model of the device's target file (`bench/cost/targets/`), and the host "
               "proxy (median and fastest of 50 runs of gosc's code on this machine; "
               "measured for %d networks, FLOPs and analytic on the same networks in "
               "brackets):\n" % r["proxy_networks"])
    hdr = ["device", "FLOPs", "analytic", "host proxy (median)", "host proxy (min)"]
    out.append("| " + " | ".join(hdr) + " |")
    out.append("|" + "---|" * len(hdr))
    for d in devs:
        px = "–"
        pm = "–"
        if "proxy" in d:
            px = "%s (FLOPs %s, analytic %s)" % (f3(d["proxy"]), f3(d["flops_on_proxied"]),
                                                 f3(d["analytic_on_proxied"]))
            pm = f3(d.get("proxy_min"))
        out.append("| %s | %s | %s | %s | %s |" % (d["label"], f3(d["flops"]),
                                                  f3(d["analytic"]), px, pm))
    out.append("")
    out.append("**Adapted to the device** from n measured networks, evaluated on every "
               "network not used for fitting (%d splits per cell: mean ± standard "
               "deviation, and the worst split). *random*: n networks drawn at random; "
               "*selected*: n chosen by `gos-cost select` from a random half of the "
               "networks; *proxy prior*: random, with the host measurement as the prior "
               "column (`fit --prior=proxy`), among the proxied networks only.\n" % r["splits"])
    hdr = ["device", "samples", "n = 10", "n = 20", "n = 60"]
    out.append("| " + " | ".join(hdr) + " |")
    out.append("|" + "---|" * len(hdr))
    for d in devs:
        for key, how in (("adapted", "random"), ("selected", "selected"),
                         ("adapted_proxy_prior", "proxy prior")):
            if key not in d:
                continue
            out.append("| %s | %s | %s |" % (d["label"], how, " | ".join(
                ms(d[key][n]["spearman"]) if n in d[key] else "–" for n in ("10", "20", "60"))))
    out.append("")
    out.append("Kendall's tau (n = 20, first 3 splits), random / selected: " + ", ".join(
        "%s %.3f / %.3f" % (d["label"], d["adapted"]["20"]["kendall"]["mean"],
                            d["selected"]["20"]["kendall"]["mean"])
        for d in devs if "20" in d["adapted"] and "20" in d.get("selected", {})) + ".\n")
    out.append("What the fits chose (first split, n = 20, random): " + "; ".join(
        "%s: `%s`" % (d["label"], d["adapted"]["20"]["example_fit"].replace("gos-cost: ", ""))
        for d in devs if "20" in d["adapted"]) + ".\n")
    out.append("Device-to-device rank correlation of the measured latencies (OneProxy's "
               "latency monotonicity): " + ", ".join(
                   "%s %.3f" % (k.replace("~", " vs "), v) for k, v in r["device_pairs"].items()) + ".\n")
    if "data" in r:
        out += data_section(r["data"])
    out.append("Predicted against measured latency, one split with n = 20 (black: the "
               "networks fitted on; colour: held out; dashed: y = x):\n")
    for tgt, d in r["devices"].items():
        for key in ("adapted", "selected"):
            out.append("![%s, %s: predicted vs measured](%s/nb201_%s_%s.svg)"
                       % (d["label"], key, relimg, tgt, key))
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
    pl, nw = r["per_layer"], r["networks"]
    out.append("%d lookup-table entries (%d distinct layers, resolutions 160..192), each "
               "built as a one-layer .gos (`bench/cost/ofa.py`: the table key gives input "
               "and output shape, expansion, kernel, stride, squeeze-excite and "
               "hard-swish); %d random OFA subnets whose latency is the sum of their "
               "layers' entries (%s ms). Spearman correlation with the table; the adapted "
               "model is fitted on n random layers and evaluated on the other layers, and "
               "on all networks as the sum of its per-layer predictions (%d random "
               "splits: mean ± sd, and the worst split). FLOPs, analytic and proxy "
               "use no Note10 measurement and are scored on all entries.\n"
               % (r["layers"], r["distinct_layers"], nw["n"],
                  "%.1f to %.1f" % (nw["latency_ms"]["min"], nw["latency_ms"]["max"])
                  if "latency_ms" in nw else "?", pl["adapted"]["20"]["n"]))
    out.append("| | FLOPs | analytic | host proxy | adapted, n = 10 | n = 20 | n = 60 |")
    out.append("|---|---|---|---|---|---|---|")
    for d, label in ((pl, "layers"), (nw, "whole networks")):
        out.append("| %s | %s | %s | %s | %s |" % (
            label, f3(d["flops"]), f3(d["analytic"]), f3(d.get("proxy")),
            " | ".join(ms(d["adapted"][n]) for n in ("10", "20", "60"))))
    out.append("")
    if "proxy_n" in pl:
        out.append("Host proxy: fastest of 50 runs on this machine, %d of the %d entries "
                   "measured (with the median of the runs instead: %s).\n"
                   % (pl["proxy_n"], r["layers"], f3(pl.get("proxy_median"))))
    if "analytic_mdape" in pl:
        out.append("Absolute accuracy (median absolute percentage error; the analytic "
                   "model's median ratio predicted / table in brackets): analytic model "
                   "%.0f%% per layer (ratio %.2f), %.0f%% per network (ratio %.2f); adapted "
                   "on 20 layers %.0f%% per held-out layer, %.0f%% per network. Over the "
                   "bottleneck (`expanded_conv`) entries alone the analytic model's "
                   "Spearman is %s.\n" % (
                       pl["analytic_mdape"], pl["analytic_ratio"], nw["analytic_mdape"],
                       nw["analytic_ratio"], pl["adapted_mdape"]["20"]["mean"],
                       nw["adapted_mdape"]["20"]["mean"], f3(pl["analytic_blocks_only"])))
    out.append("![Note10 layers](%s/ofa_note10_layers.svg) "
               "![Note10 networks](%s/ofa_note10_networks.svg)\n" % (relimg, relimg))
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
