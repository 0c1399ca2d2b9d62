#!/usr/bin/python3
"""nb201.py -- validation of the gosc cost models on the 1999 NAS-Bench-201
networks measured on three devices (shared/data/latency/nb201_devices_dev.csv).

  nb201.py gen      --work W [--subset N]   write W/nb201/<idx>.gos (nb201-gen)
  nb201.py features --work W --gos-cost G   gos-cost features per device target
  nb201.py proxy    --work W --gos-cost G [--limit K] [--runs R]
                    measure the host proxy (median and min of R runs, default
                    50) of the first K networks of a fixed random order that
                    are not yet in the cache bench/cost/data/nb201_host_proxy.csv
                    (at nice 19; about 10 s per network, mostly compiling)
  nb201.py study    --work W --gos-cost G [--splits S]
                    FLOPs / analytic / proxy / adapted (10, 20, 60 samples:
                    random, chosen by gos-cost select, or random with the
                    proxy prior) Spearman on the held-out networks, and what
                    the data allow (data_analysis); writes
                    bench/cost/results/nb201.json and the SVG plots.
Environment: GOS_LATENCY_DATA (the latency data), GOS_COST_RESULTS and
GOS_COST_DATA (other results / proxy cache directories, for trials).
Python 3 + numpy only.
"""
import argparse
import importlib.machinery
import json
import math
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import costlib  # noqa: E402

DATA = os.environ.get("GOS_LATENCY_DATA", "/work/shared/data/latency")
CSV = os.path.join(DATA, "nb201_devices_dev.csv")
PROXY_CACHE = os.path.join(os.environ.get("GOS_COST_DATA", os.path.join(HERE, "data")), "nb201_host_proxy.csv")
RESULTS = os.environ.get("GOS_COST_RESULTS", os.path.join(HERE, "results"))
DEVICES = [  # (CSV column, target file, label)
    ("a76_pixel4_cpu", "a76_pixel4_cpu", "Cortex-A76 (Pixel 4)"),
    ("pixel3_cpu", "pixel3_cpu", "Pixel 3 CPU"),
    ("sd855_gpu", "sd855_gpu", "Snapdragon 855 GPU"),
]
SAMPLE_SIZES = (10, 20, 60)


def target_path(name):
    return os.path.join(HERE, "targets", name + ".target")


def load_rows(subset=None):
    rows = costlib.read_csv(CSV)
    if subset:
        perm = np.random.default_rng(12345).permutation(len(rows))
        rows = [rows[i] for i in sorted(perm[:subset])]
    return rows


def model_name(row):
    return "nb201/%05d.gos" % int(row["nb201_idx"])


def cmd_gen(a):
    gen = importlib.machinery.SourceFileLoader(
        "nb201gen", os.path.join(SRC, "examples", "nb201", "nb201-gen")).load_module()
    rows = load_rows(a.subset)
    os.makedirs(os.path.join(a.work, "nb201"), exist_ok=True)
    n = 0
    for r in rows:
        path = os.path.join(a.work, model_name(r))
        text = gen.generate(r["arch_str"])
        if os.path.exists(path) and open(path).read() == text:
            continue
        with open(path, "w") as f:
            f.write(text)
        n += 1
    with open(os.path.join(a.work, "nb201_rows.json"), "w") as f:
        json.dump({"subset": a.subset, "idx": [int(r["nb201_idx"]) for r in rows]}, f)
    print("nb201: %d networks (%d written) in %s" % (len(rows), n, a.work))


def work_rows(work):
    with open(os.path.join(work, "nb201_rows.json")) as f:
        meta = json.load(f)
    keep = set(meta["idx"])
    return [r for r in costlib.read_csv(CSV) if int(r["nb201_idx"]) in keep], meta


def cmd_features(a):
    rows, _ = work_rows(a.work)
    models = [model_name(r) for r in rows]
    cwd = os.getcwd()
    os.chdir(a.work)
    try:
        for col, tgt, _ in DEVICES:
            out = "feat_%s.csv" % tgt
            t0 = time.time()
            costlib.features(a.gos_cost, target_path(tgt), models, out)
            print("features %s: %d models in %.0f s" % (tgt, len(models), time.time() - t0))
    finally:
        os.chdir(cwd)


def read_proxy_cache():
    """{nb201_idx: (median ms, min ms)} of the networks measured so far."""
    if not os.path.exists(PROXY_CACHE):
        return {}
    return {int(r["nb201_idx"]): (float(r["host_ms"]), float(r["host_min_ms"]))
            for r in costlib.read_csv(PROXY_CACHE)}


def cmd_proxy(a):
    """Measures networks in a fixed random order (so --limit K measures the
    same K networks on every machine, and a larger K extends them)."""
    rows, _ = work_rows(a.work)
    cache = read_proxy_cache()
    order = np.random.default_rng(201).permutation(len(rows))
    todo = [rows[i] for i in order]
    if a.limit is not None:
        todo = todo[:a.limit]
    todo = [r for r in todo if int(r["nb201_idx"]) not in cache]
    os.makedirs(os.path.dirname(PROXY_CACHE), exist_ok=True)
    new = not os.path.exists(PROXY_CACHE)
    f = open(PROXY_CACHE, "a")
    if new:
        f.write("nb201_idx,host_ms,host_min_ms\n")
    t0 = time.time()
    for k, r in enumerate(todo):
        path = os.path.join(a.work, model_name(r))
        out = costlib.run([a.gos_cost, "predict", "--proxy", "--with-min", "--runs", str(a.runs),
                           path], check=False, nice=True)
        line = out.strip().split("\n")[-1] if out.strip() else ""
        if line.count(",") != 2:
            sys.stderr.write("proxy: %s failed\n" % path)
            continue
        f.write("%s,%s\n" % (r["nb201_idx"], line.split(",", 1)[1]))
        f.flush()
        if (k + 1) % 25 == 0:
            el = time.time() - t0
            print("proxy: %d/%d, %.0f s, about %.0f s left" % (k + 1, len(todo), el,
                                                               el / (k + 1) * (len(todo) - k - 1)))
            sys.stdout.flush()
    f.close()
    print("proxy: cache has %d networks" % len(read_proxy_cache()))


# ---- what the data allow: noise and the reach of operator-count models ----------

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
STAGES = ((16, 32), (32, 16), (64, 8))  # (channels, resolution) of the 3 stages


def parse_arch(arch):
    return [[(e.split("~")[0], int(e.split("~")[1])) for e in g.strip("|").split("|")]
            for g in arch.split("+")]


def live_cell(arch, fold):
    """The computation of a cell: for every cell node that reaches the
    output, the sorted (op, input) edges it sums ('none' edges dropped).
    A node whose edges are all 'none' is a zero node; with fold, zero nodes
    and every edge reading one are dropped too (a runtime that folds
    constants), else they stay (computed like any other node)."""
    nodes = parse_arch(arch)
    zero = [False] * 4
    for j, nd in enumerate(nodes, 1):
        zero[j] = all(op == "none" or (fold and zero[i]) for op, i in nd)
    used = [False] * 4
    used[3] = True
    for j in (3, 2, 1):
        if used[j] and not (fold and zero[j]):
            for op, i in nodes[j - 1]:
                if op != "none" and not (fold and zero[i]):
                    used[i] = True
    cell = []
    for j, nd in enumerate(nodes, 1):
        if not used[j] or (fold and zero[j]):
            continue
        e = tuple(sorted((op, i) for op, i in nd if op != "none" and not (fold and zero[i])))
        cell.append((j, e if e else (("zero", -1),)))
    return tuple(cell)


def op_counts(cell):
    return [sum(1 for _, e in cell for op, _ in e if op == o) for o in OPS[1:]]


def cell_flops_all_edges(arch):
    """Multiply-accumulates of the convolution edges, dead or not (the
    usual 'FLOPs of the architecture')."""
    c = {o: 0 for o in OPS}
    for nd in parse_arch(arch):
        for op, _ in nd:
            c[op] += 1
    return sum(5 * (9 * c["nor_conv_3x3"] + c["nor_conv_1x1"]) * ch * ch * h * h
               for ch, h in STAGES)


def data_analysis(rows):
    """Properties of the measurements that bound what any predictor can do,
    computed from the architecture strings and the latencies only:
    - groups of networks with identical computation (same live cell), the
      pooled standard deviation of their latencies (measurement noise), and
      how well a network's latency is predicted by the mean of its
      duplicates (Spearman over the networks that have one);
    - lag-1 autocorrelation, in nb201_idx order, of the residuals of a
      least-squares fit of latency on the live operator counts (drift
      during measurement);
    - that fit's own (in-sample) Spearman, with and without folding zero
      nodes: the reach of a linear model of operator counts;
    - Spearman of the FLOPs of all convolution edges, dead ones included."""
    idx = np.array([int(r["nb201_idx"]) for r in rows])
    order = np.argsort(idx)
    out = {}
    for col, _, label in DEVICES:
        y = np.array([float(r[col]) for r in rows])
        d = {"label": label,
             "flops_all_edges": costlib.spearman([cell_flops_all_edges(r["arch_str"]) for r in rows], y)}
        for fold in (0, 1):
            cells = [live_cell(r["arch_str"], fold) for r in rows]
            X = np.array([op_counts(c) + [1] for c in cells], float)
            w = np.linalg.lstsq(X, y, rcond=None)[0]
            res = (y - X @ w)[order]
            groups = {}
            for i, c in enumerate(cells):
                groups.setdefault(c, []).append(i)
            multi = [g for g in groups.values() if len(g) > 1]
            ss = sum(float(((y[g] - y[g].mean()) ** 2).sum()) for g in multi)
            dof = sum(len(g) - 1 for g in multi)
            dup_pred, dup_y = [], []
            for g in multi:
                for i in g:
                    dup_pred.append((y[g].sum() - y[i]) / (len(g) - 1))
                    dup_y.append(y[i])
            d["fold" if fold else "nofold"] = {
                "linear_counts_spearman": costlib.spearman(X @ w, y),
                "residual_lag1": float(np.corrcoef(res[:-1], res[1:])[0, 1]),
                "dup_groups": len(multi), "dup_networks": int(sum(len(g) for g in multi)),
                "dup_sd_ms": math.sqrt(ss / dof) if dof else float("nan"),
                "dup_spearman": costlib.spearman(dup_pred, dup_y) if len(dup_y) > 2 else float("nan"),
                "latency_sd_ms": float(y.std())}
        out[col] = d
    return out


def summary(v):
    v = np.asarray(v, float)
    return {"mean": float(v.mean()), "sd": float(v.std()), "min": float(v.min()),
            "max": float(v.max()), "n": int(len(v))}


def fit_eval(a, tgt, feat_csv, names, y, tr, te, tag, extra=(), proxy_csv=None):
    """Fits the adapted model on networks tr (gos-cost fit), predicts with
    the written model file (gos-cost predict --model-file) and returns
    (Spearman on te, predictions of te, fit summary, {name: prediction})."""
    fitdir = os.path.join(a.work, "fits")
    os.makedirs(fitdir, exist_ok=True)
    pred, info, model = costlib.fit_predict(
        a.gos_cost, target_path(tgt), feat_csv, [names[i] for i in tr], [y[i] for i in tr],
        fitdir, tag, list(extra), proxy_csv=proxy_csv,
        models=[names[i] for i in np.concatenate([tr, te])] if proxy_csv else None)
    p = np.array([pred[names[i]] for i in te])
    return costlib.spearman(p, y[te]), p, info, pred


def select(a, tgt, feat_csv, names, pool, n):
    """Indices of the n networks `gos-cost select` picks from pool."""
    index = {nm: i for i, nm in enumerate(names)}
    out = costlib.run([a.gos_cost, "select", "-target=" + target_path(tgt), "-n", str(n),
                       "--features-csv", feat_csv] + [names[i] for i in pool])
    return np.array([index[l] for l in out.split()])


def cmd_study(a):
    rows, meta = work_rows(a.work)
    names = [model_name(r) for r in rows]
    N = len(rows)
    cache = read_proxy_cache()
    proxy = np.array([cache.get(int(r["nb201_idx"]), (np.nan, np.nan))[0] for r in rows])
    proxy_min = np.array([cache.get(int(r["nb201_idx"]), (np.nan, np.nan))[1] for r in rows])
    have_proxy = ~np.isnan(proxy)
    proxied = np.where(have_proxy)[0]
    proxy_csv = os.path.join(a.work, "proxy.csv")
    # the prior of the proxy-prior fits: the fastest run (robust on a loaded
    # machine; the median is reported too)
    costlib.write_rows(proxy_csv, ["model", "host_min_ms"],
                       [(n, p) for n, p in zip(names, proxy_min) if not np.isnan(p)])
    os.makedirs(RESULTS, exist_ok=True)
    res = {"subset": meta["subset"], "networks": N, "splits": a.splits,
           "proxy_networks": int(have_proxy.sum()), "devices": {}}
    colours = ["#1f77b4", "#d62728", "#2ca02c"]
    for k, (col, tgt, label) in enumerate(DEVICES):
        t0 = time.time()
        y = np.array([float(r[col]) for r in rows])
        feat_csv = os.path.join(a.work, "feat_%s.csv" % tgt)
        feat = {r["model"]: r for r in costlib.read_csv(feat_csv)}
        flops = np.array([float(feat[n]["flops"]) for n in names])
        analytic = np.array([float(feat[n]["analytic_ms"]) for n in names])
        d = {"label": label,
             "flops": costlib.spearman(flops, y),
             "analytic": costlib.spearman(analytic, y),
             "analytic_kendall": costlib.kendall(analytic, y)}
        if have_proxy.sum() >= 3:
            d["proxy"] = costlib.spearman(proxy[have_proxy], y[have_proxy])
            d["proxy_min"] = costlib.spearman(proxy_min[have_proxy], y[have_proxy])
            d["proxy_n"] = int(have_proxy.sum())
            # the other predictors on the same networks, for comparison
            d["flops_on_proxied"] = costlib.spearman(flops[have_proxy], y[have_proxy])
            d["analytic_on_proxied"] = costlib.spearman(analytic[have_proxy], y[have_proxy])
        # (variant, n, split) -> (train, test) indices
        def splits(variant, n):
            for s in range(a.splits):
                rng = np.random.default_rng(1000 * n + s)
                if variant == "adapted":      # n random networks
                    perm = rng.permutation(N)
                    yield perm[:n], perm[n:]
                elif variant == "selected":   # n chosen from a random half
                    pool = np.sort(rng.permutation(N)[:N // 2])
                    tr = select(a, tgt, feat_csv, names, pool, n)
                    yield tr, np.setdiff1d(np.arange(N), tr)
                else:                         # among the proxied networks
                    perm = proxied[rng.permutation(len(proxied))]
                    yield perm[:n], perm[n:]
        variants = ["adapted", "selected"]
        if len(proxied) >= 100:
            variants.append("adapted_proxy_prior")
        for variant in variants:
            d[variant] = {}
            for n in SAMPLE_SIZES:
                if n >= (len(proxied) if variant == "adapted_proxy_prior" else N) - 10:
                    continue
                extra, pcsv = [], None
                if variant == "adapted_proxy_prior":
                    extra, pcsv = ["--prior=proxy", "--proxy-csv", proxy_csv], proxy_csv
                sp, kt, choices = [], [], []
                for s, (tr, te) in enumerate(splits(variant, n)):
                    rho, p, info, pred = fit_eval(a, tgt, feat_csv, names, y, tr, te,
                                            "%s_%s_%d_%d" % (variant, tgt, n, s), extra, pcsv)
                    sp.append(rho)
                    if s < 3:
                        kt.append(costlib.kendall(p, y[te]))
                    choices.append(info)
                    if variant in ("adapted", "selected") and n == 20 and s == 0:
                        how = "20 random" if variant == "adapted" else "20 selected"
                        costlib.svg_scatter(
                            os.path.join(RESULTS, "nb201_%s_%s.svg" % (tgt, variant)),
                            [("held-out networks", y[te], p, colours[k]),
                             ("fitted on", y[tr], [pred[names[i]] for i in tr], "#000", 3.5)],
                            "%s: fitted on %s networks" % (label, how),
                            "measured latency (ms)", "predicted latency (ms)",
                            "Spearman %.3f on %d held-out networks" % (rho, len(te)), diagonal=True)
                        costlib.write_rows(os.path.join(a.work, "nb201_%s_%s_pred.csv" % (tgt, variant)),
                                           ["model", "measured_ms", "predicted_ms", "analytic_ms"],
                                           [(names[i], y[i], v, analytic[i]) for i, v in zip(te, p)])
                d[variant][str(n)] = {"spearman": summary(sp), "kendall": summary(kt),
                                      "example_fit": choices[0]}
        res["devices"][tgt] = d
        print("%s: flops %.3f analytic %.3f proxy %s adapted-20 %.3f selected-20 %.3f (%.0f s)" % (
            tgt, d["flops"], d["analytic"], "%.3f" % d["proxy"] if "proxy" in d else "-",
            d["adapted"]["20"]["spearman"]["mean"], d["selected"]["20"]["spearman"]["mean"],
            time.time() - t0))
        sys.stdout.flush()
    res["data"] = data_analysis(rows)
    # device-to-device rank correlation (OneProxy's latency monotonicity)
    ys = {col: np.array([float(r[col]) for r in rows]) for col, _, _ in DEVICES}
    res["device_pairs"] = {"%s~%s" % (c1, c2): costlib.spearman(ys[c1], ys[c2])
                           for i, (c1, _, _) in enumerate(DEVICES)
                           for (c2, _, _) in DEVICES[i + 1:]}
    if have_proxy.sum() >= 3:
        costlib.svg_scatter(
            os.path.join(RESULTS, "nb201_host_proxy.svg"),
            [(label, proxy_min[have_proxy], ys[col][have_proxy], colours[k])
             for k, (col, _, label) in enumerate(DEVICES)],
            "host proxy measurement vs device latency", "host, fastest of 50 runs (ms)",
            "device (ms)")
    out = os.path.join(RESULTS, "nb201.json")
    with open(out, "w") as f:
        json.dump(res, f, indent=1, sort_keys=True)
    print("wrote", out)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("cmd", choices=["gen", "features", "proxy", "study"])
    p.add_argument("--work", required=True)
    p.add_argument("--gos-cost")
    p.add_argument("--subset", type=int)
    p.add_argument("--limit", type=int)
    p.add_argument("--runs", type=int, default=50)
    p.add_argument("--splits", type=int, default=20)
    a = p.parse_args()
    if a.cmd != "gen" and not a.gos_cost:
        p.error("--gos-cost is needed")
    if a.gos_cost:
        a.gos_cost = os.path.abspath(a.gos_cost)
    a.work = os.path.abspath(a.work)
    {"gen": cmd_gen, "features": cmd_features, "proxy": cmd_proxy, "study": cmd_study}[a.cmd](a)


if __name__ == "__main__":
    main()
