#!/usr/bin/python3
"""ceiling.py -- how well can *any* model of a network's structure rank a
device column of the NAS-Bench-201 latencies?  (issue 12)

  ceiling.py

For every device column of shared/data/latency/nb201_devices_dev.csv
($GOS_LATENCY_DATA): fits, by least squares on all 1999 networks at once,
two structural models and reports their Spearman correlation with the
measured latencies *in sample* (an upper bound for any model that sees the
network only, let alone one fitted on 20 of them):
  - edges: one indicator per (cell edge, operation), 30 columns;
  - pairs: those and every product of two of them, 466 columns.
Then it asks whether what the pairs model leaves over depends on the
network or on when it was measured: the share of networks measured below
0.9x the pairs model, per decile of nb201_idx, and the in-sample Spearman
with one more indicator per decile. Python 3 + numpy, about 2 seconds.
"""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import costlib  # noqa: E402
import nb201  # noqa: E402

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
COLUMNS = ("a76_pixel4_cpu", "pixel3_cpu", "sd855_gpu")


def edges(arch):
    """30 indicators: edge e (in arch_str order) carries operation o."""
    ops = [t.split("~")[0] for node in arch.strip("|").split("|+|") for t in node.split("|")]
    x = np.zeros(len(ops) * len(OPS))
    for e, o in enumerate(ops):
        x[e * len(OPS) + OPS.index(o)] = 1
    return x


def fitted(a, y):
    return a @ np.linalg.lstsq(a, y, rcond=None)[0]


def main():
    rows = costlib.read_csv(nb201.CSV)
    x = np.array([edges(r["arch_str"]) for r in rows])
    one = np.ones((len(rows), 1))
    single = np.hstack([one, x])
    pairs = np.hstack([single] + [x[:, i:i + 1] * x[:, j:j + 1]
                                  for i in range(x.shape[1]) for j in range(i + 1, x.shape[1])])
    idx = np.array([int(r["nb201_idx"]) for r in rows])
    cut = np.quantile(idx, np.linspace(0, 1, 11))
    decile = np.clip(np.searchsorted(cut, idx, side="right") - 1, 0, 9)
    dec = np.stack([decile == k for k in range(1, 10)], 1).astype(float)
    print("| device column | edges (30) | pairs (466) | pairs + idx decile | "
          "networks below 0.9x the pairs model, per idx decile |")
    print("|---|---|---|---|---|")
    for col in COLUMNS:
        y = np.array([float(r[col]) for r in rows])
        p = fitted(pairs, y)
        low = [np.mean(y[decile == k] < 0.9 * p[decile == k]) for k in range(10)]
        print("| %s | %.4f | %.4f | %.4f | %s |" % (
            col, costlib.spearman(fitted(single, y), y), costlib.spearman(p, y),
            costlib.spearman(fitted(np.hstack([pairs, dec]), y), y),
            " ".join("%.2f" % v for v in low)))


if __name__ == "__main__":
    main()
