"""costlib -- helpers shared by the cost-model validation scripts
(bench/cost/*.py): rank correlation, CSV files, calling gos-cost, SVG
scatter plots. Python 3 with numpy only."""
import csv
import math
import os
import subprocess
import sys

import numpy as np


def rankdata(v):
    """Mid-ranks (0-based) of v; ties get their average rank."""
    v = np.asarray(v, float)
    order = np.argsort(v, kind="mergesort")
    s = v[order]
    r = np.empty(len(v))
    i = 0
    while i < len(v):
        j = i
        while j + 1 < len(v) and s[j + 1] == s[i]:
            j += 1
        r[order[i:j + 1]] = (i + j) / 2.0
        i = j + 1
    return r


def spearman(a, b):
    ra, rb = rankdata(a), rankdata(b)
    if ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def kendall(a, b):
    """Kendall tau-b, O(n^2) (vectorised per row)."""
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    n = len(a)
    s = n1 = n2 = 0.0
    for i in range(n - 1):
        da = np.sign(a[i] - a[i + 1:])
        db = np.sign(b[i] - b[i + 1:])
        s += float(np.sum(da * db))
        n1 += float(np.sum(da == 0))
        n2 += float(np.sum(db == 0))
    n0 = n * (n - 1) / 2.0
    den = math.sqrt((n0 - n1) * (n0 - n2))
    return s / den if den > 0 else float("nan")


def read_csv(path):
    with open(path, newline="") as f:
        return [r for r in csv.DictReader(f)]


def write_rows(path, header, rows):
    tmp = path + ".tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        if header:
            w.writerow(header)
        for r in rows:
            w.writerow(r)
    os.replace(tmp, path)


def run(cmd, check=True, nice=False, **kw):
    """Runs cmd (list); returns stdout. Raises with stderr on failure."""
    if nice:
        cmd = ["nice", "-n", "19"] + cmd
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, **kw)
    if check and p.returncode != 0:
        sys.stderr.write(p.stderr)
        raise RuntimeError("command failed (%d): %s" % (p.returncode, " ".join(cmd)))
    return p.stdout


def features(gos_cost, target, models, out_csv, chunk=200):
    """gos-cost features for models (in chunks, appended to out_csv)."""
    header = None
    rows = []
    for i in range(0, len(models), chunk):
        text = run([gos_cost, "features", "-target=" + target] + models[i:i + chunk])
        lines = text.strip().split("\n")
        header = lines[0]
        rows.extend(lines[1:])
    with open(out_csv + ".tmp", "w") as f:
        f.write(header + "\n")
        for r in rows:
            f.write(r + "\n")
    os.replace(out_csv + ".tmp", out_csv)


def fit_predict(gos_cost, target, feat_csv, train, ys, workdir, tag, extra=(), proxy_csv=None,
                models=None):
    """Fits on rows `train` (model names) with latencies ys via gos-cost
    fit --features-csv and predicts `models` (default: every row of
    feat_csv) with the model file it wrote (predict --model-file;
    --proxy-csv for a model with the proxy prior). Returns
    ({model: predicted ms}, fit stderr line, model file)."""
    samples = os.path.join(workdir, "samples_%s.csv" % tag)
    model = os.path.join(workdir, "model_%s.txt" % tag)
    write_rows(samples, ["model_path", "latency_ms"], zip(train, ys))
    p = subprocess.run([gos_cost, "fit", "-target=" + target, "--features-csv", feat_csv,
                        "--samples", samples, "-o", model] + list(extra),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    if p.returncode != 0:
        sys.stderr.write(p.stderr)
        raise RuntimeError("gos-cost fit failed")
    out = run([gos_cost, "predict", "-target=" + target, "--features-csv", feat_csv,
               "--model-file", model] + (["--proxy-csv", proxy_csv] if proxy_csv else []) +
              list(models or []))
    pred = {}
    for line in out.strip().split("\n"):
        name, v = line.rsplit(",", 1)
        pred[name] = float(v)
    return pred, p.stderr.strip().split("\n")[-1], model


# ---- SVG scatter plot ------------------------------------------------------------

def _nice_ticks(lo, hi, n=5):
    span = hi - lo if hi > lo else 1.0
    step = 10 ** math.floor(math.log10(span / n))
    for m in (1, 2, 5, 10):
        if span / (step * m) <= n:
            step *= m
            break
    t = math.ceil(lo / step) * step
    out = []
    while t <= hi + 1e-9 * span:
        out.append(t)
        t += step
    return out


def svg_scatter(path, series, title, xlabel, ylabel, note="", diagonal=False):
    """series: list of (label, xs, ys, colour[, radius]). Writes an SVG
    file; with diagonal, the line y = x is drawn."""
    W, H, L, R, T, B = 560, 420, 70, 20, 40, 55
    xs_all = np.concatenate([np.asarray(s[1], float) for s in series])
    ys_all = np.concatenate([np.asarray(s[2], float) for s in series])
    x0, x1 = float(xs_all.min()), float(xs_all.max())
    y0, y1 = float(ys_all.min()), float(ys_all.max())
    px = (x1 - x0) * 0.05 or 1.0
    py = (y1 - y0) * 0.05 or 1.0
    x0, x1, y0, y1 = x0 - px, x1 + px, y0 - py, y1 + py

    def X(v):
        return L + (v - x0) / (x1 - x0) * (W - L - R)

    def Y(v):
        return H - B - (v - y0) / (y1 - y0) * (H - T - B)

    o = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
         'viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">' % (W, H, W, H),
         '<rect width="100%" height="100%" fill="white"/>',
         '<text x="%d" y="22" font-size="14" text-anchor="middle">%s</text>' % (W // 2, title)]
    o.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#444"/>'
             % (L, T, W - L - R, H - T - B))
    for t in _nice_ticks(x0, x1):
        o.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>' % (X(t), T, X(t), H - B))
        o.append('<text x="%.1f" y="%d" text-anchor="middle">%g</text>' % (X(t), H - B + 16, round(t, 6)))
    for t in _nice_ticks(y0, y1):
        o.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>' % (L, Y(t), W - R, Y(t)))
        o.append('<text x="%d" y="%.1f" text-anchor="end">%g</text>' % (L - 6, Y(t) + 4, round(t, 6)))
    o.append('<text x="%d" y="%d" text-anchor="middle">%s</text>' % ((L + W - R) // 2, H - 12, xlabel))
    o.append('<text x="16" y="%d" text-anchor="middle" transform="rotate(-90 16 %d)">%s</text>'
             % ((T + H - B) // 2, (T + H - B) // 2, ylabel))
    if diagonal:
        lo, hi = max(x0, y0), min(x1, y1)
        if hi > lo:
            o.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#888" '
                     'stroke-dasharray="4 3"/>' % (X(lo), Y(lo), X(hi), Y(hi)))
    for k, ser in enumerate(series):
        label, xs, ys, colour = ser[:4]
        radius = ser[4] if len(ser) > 4 else 2
        for a, b in zip(xs, ys):
            o.append('<circle cx="%.1f" cy="%.1f" r="%g" fill="%s" fill-opacity="0.55"/>'
                     % (X(a), Y(b), radius, colour))
        o.append('<circle cx="%d" cy="%d" r="4" fill="%s"/>' % (L + 12, T + 14 + 16 * k, colour))
        o.append('<text x="%d" y="%d">%s</text>' % (L + 22, T + 18 + 16 * k, label))
    if note:
        o.append('<text x="%d" y="%d" text-anchor="end" fill="#333">%s</text>'
                 % (W - R - 8, H - B - 10, note))
    o.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(o) + "\n")


def fmt_ms(mean, sd, lo=None):
    s = "%.3f ± %.3f" % (mean, sd)
    if lo is not None:
        s += " (min %.3f)" % lo
    return s
