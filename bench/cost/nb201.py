#!/usr/bin/python3
"""nb201.py -- validation of the gosc cost models on the 1999 NAS-Bench-201
networks measured on three devices (shared/data/latency/nb201_devices_dev.csv).

  nb201.py gen      --work W [--subset N]   write W/nb201/<idx>.gos (nb201-gen)
  nb201.py features --work W --gos-cost G   gos-cost features per device target
  nb201.py proxy    --work W --gos-cost G [--limit K] [--runs R]
                    measure the host proxy of networks not yet in the cache
                    bench/cost/data/nb201_host_proxy.csv (nice -n 19)
  nb201.py study    --work W --gos-cost G [--splits S]
                    FLOPs / analytic / proxy / adapted (10, 20, 60 samples)
                    Spearman on the held-out networks; writes
                    bench/cost/results/nb201.json and the SVG plots.
Python 3 + numpy only.
"""
import argparse
import importlib.machinery
import json
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
PROXY_CACHE = os.path.join(HERE, "data", "nb201_host_proxy.csv")
RESULTS = os.path.join(HERE, "results")
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
    if not os.path.exists(PROXY_CACHE):
        return {}
    return {int(r["nb201_idx"]): float(r["host_ms"]) for r in costlib.read_csv(PROXY_CACHE)}


def cmd_proxy(a):
    rows, _ = work_rows(a.work)
    cache = read_proxy_cache()
    todo = [r for r in rows if int(r["nb201_idx"]) not in cache]
    if a.limit is not None:
        todo = todo[:a.limit]
    os.makedirs(os.path.dirname(PROXY_CACHE), exist_ok=True)
    new = not os.path.exists(PROXY_CACHE)
    f = open(PROXY_CACHE, "a")
    if new:
        f.write("nb201_idx,host_ms\n")
    t0 = time.time()
    for k, r in enumerate(todo):
        path = os.path.join(a.work, model_name(r))
        out = costlib.run([a.gos_cost, "predict", "--proxy", "--runs", str(a.runs), path],
                          check=False, nice=True)
        line = out.strip().split("\n")[-1] if out.strip() else ""
        if "," not in line:
            sys.stderr.write("proxy: %s failed\n" % path)
            continue
        f.write("%s,%s\n" % (r["nb201_idx"], line.rsplit(",", 1)[1]))
        f.flush()
        if (k + 1) % 25 == 0:
            el = time.time() - t0
            print("proxy: %d/%d, %.0f s, about %.0f s left" % (k + 1, len(todo), el,
                                                               el / (k + 1) * (len(todo) - k - 1)))
            sys.stdout.flush()
    f.close()
    print("proxy: cache has %d networks" % len(read_proxy_cache()))


def summary(v):
    v = np.asarray(v, float)
    return {"mean": float(v.mean()), "sd": float(v.std()), "min": float(v.min()),
            "max": float(v.max()), "n": int(len(v))}


def cmd_study(a):
    rows, meta = work_rows(a.work)
    names = [model_name(r) for r in rows]
    cache = read_proxy_cache()
    proxy = np.array([cache.get(int(r["nb201_idx"]), np.nan) for r in rows])
    have_proxy = ~np.isnan(proxy)
    proxy_csv = os.path.join(a.work, "proxy.csv")
    costlib.write_rows(proxy_csv, ["model", "host_ms"],
                       [(n, p) for n, p in zip(names, proxy) if not np.isnan(p)])
    fitdir = os.path.join(a.work, "fits")
    os.makedirs(fitdir, exist_ok=True)
    os.makedirs(RESULTS, exist_ok=True)
    res = {"subset": meta["subset"], "networks": len(rows), "splits": a.splits,
           "proxy_networks": int(have_proxy.sum()), "devices": {}}
    colours = ["#1f77b4", "#d62728", "#2ca02c"]
    for col, tgt, label in DEVICES:
        t0 = time.time()
        y = np.array([float(r[col]) for r in rows])
        feat = {r["model"]: r for r in costlib.read_csv(os.path.join(a.work, "feat_%s.csv" % tgt))}
        flops = np.array([float(feat[n]["flops"]) for n in names])
        analytic = np.array([float(feat[n]["analytic_ms"]) for n in names])
        d = {"label": label,
             "flops": costlib.spearman(flops, y),
             "analytic": costlib.spearman(analytic, y),
             "analytic_kendall": costlib.kendall(analytic, y)}
        if have_proxy.sum() >= 3:
            d["proxy"] = costlib.spearman(proxy[have_proxy], y[have_proxy])
            d["proxy_n"] = int(have_proxy.sum())
        variants = [("adapted", [])]
        if have_proxy.all():
            variants.append(("adapted_proxy_prior", ["--prior=proxy", "--proxy-csv", proxy_csv]))
        for vname, extra in variants:
            d[vname] = {}
            for n in SAMPLE_SIZES:
                if n >= len(rows) - 10:
                    continue
                sp, kt, choices = [], [], []
                for s in range(a.splits):
                    rng = np.random.default_rng(1000 * n + s)
                    perm = rng.permutation(len(rows))
                    tr, te = perm[:n], perm[n:]
                    pextra = list(extra)
                    pred, info, model = costlib.fit_predict(
                        a.gos_cost, target_path(tgt), os.path.join(a.work, "feat_%s.csv" % tgt),
                        [names[i] for i in tr], [y[i] for i in tr], fitdir,
                        "%s_%s_%d_%d" % (vname, tgt, n, s), pextra)
                    if extra:
                        out = costlib.run([a.gos_cost, "predict", "-target=" + target_path(tgt),
                                           "--features-csv", os.path.join(a.work, "feat_%s.csv" % tgt),
                                           "--model-file", model, "--proxy-csv", proxy_csv])
                        pred = {l.rsplit(",", 1)[0]: float(l.rsplit(",", 1)[1])
                                for l in out.strip().split("\n")}
                    p = np.array([pred[names[i]] for i in te])
                    sp.append(costlib.spearman(p, y[te]))
                    if s < 3:
                        kt.append(costlib.kendall(p, y[te]))
                    choices.append(info)
                    if vname == "adapted" and n == 20 and s == 0:
                        costlib.svg_scatter(
                            os.path.join(RESULTS, "nb201_%s.svg" % tgt),
                            [("held-out networks", y[te], p, colours[DEVICES.index((col, tgt, label))])],
                            "%s: fitted on 20, predicted vs measured" % label,
                            "measured latency (ms)", "predicted latency (ms)",
                            "Spearman %.3f on %d networks" % (sp[-1], len(te)), diagonal=True)
                        costlib.write_rows(os.path.join(RESULTS, "nb201_%s_pred.csv" % tgt),
                                           ["model", "measured_ms", "predicted_ms", "analytic_ms"],
                                           [(names[i], y[i], pred[names[i]], analytic[i]) for i in te])
                d[vname][str(n)] = {"spearman": summary(sp), "kendall": summary(kt),
                                    "example_fit": choices[0]}
        res["devices"][tgt] = d
        print("%s: flops %.3f analytic %.3f proxy %s adapted-20 %s (%.0f s)" % (
            tgt, d["flops"], d["analytic"], "%.3f" % d["proxy"] if "proxy" in d else "-",
            "%.3f" % d["adapted"]["20"]["spearman"]["mean"] if "20" in d["adapted"] else "-",
            time.time() - t0))
        sys.stdout.flush()
    # device-to-device rank correlation (OneProxy's latency monotonicity)
    ys = {col: np.array([float(r[col]) for r in rows]) for col, _, _ in DEVICES}
    res["device_pairs"] = {"%s~%s" % (c1, c2): costlib.spearman(ys[c1], ys[c2])
                           for i, (c1, _, _) in enumerate(DEVICES)
                           for (c2, _, _) in DEVICES[i + 1:]}
    if have_proxy.sum() >= 3:
        costlib.svg_scatter(
            os.path.join(RESULTS, "nb201_host_proxy.svg"),
            [(label, proxy[have_proxy], ys[col][have_proxy], colours[k])
             for k, (col, _, label) in enumerate(DEVICES)],
            "host proxy measurement vs device latency", "host (ms, gosc -emit=exe)",
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
    p.add_argument("--runs", type=int, default=20)
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
