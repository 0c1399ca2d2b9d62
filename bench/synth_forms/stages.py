#!/usr/bin/python3
"""stages.py MODEL.onnx ACTS LAYER INPUT -- bench/synth_forms/run.sh's
check of gosc's fitted first stage (passes/synth/stages.c) on one 3x3
convolution: relative error of `separable:m` with the k x 1 stage from the
weight's SVD, from the SVD whitened by the column patches' moment, and
after 1, 3 and 6 rounds of alternating least squares, each fitted on the
first recorded images and measured on others (before / behind the relu).
A study in numpy, not gosc's code."""
import sys

import numpy as np

import forms


def columns(x, R, S):
    """Rows (positions) x C R: the k x 1 column of tap s, for each s."""
    n, C, h, wd = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (R // 2, R // 2), (S // 2, S // 2)))
    out = []
    for s in range(S):
        st = np.stack([xp[:, :, r:r + h, s:s + wd] for r in range(R)], 2)
        out.append(st.transpose(0, 3, 4, 1, 2).reshape(-1, C * R))
    return out


def main():
    w, xf, yf, xt, yt = forms.load(*sys.argv[1:5])
    layer = sys.argv[3]
    K, C, R, S = w.shape
    M = w.transpose(1, 2, 0, 3).reshape(C * R, K * S)
    xs = columns(xf, R, S)
    yr = yf.transpose(0, 2, 3, 1).reshape(-1, K)
    xs = [v - v.mean(0) for v in xs]
    yr = yr - yr.mean(0)
    cc = [[xs[s].T @ xs[t] for t in range(S)] for s in range(S)]
    xy = [xs[s].T @ yr for s in range(S)]
    sig = sum(cc[s][s] for s in range(S)) / S
    sig += 1e-6 * np.trace(sig) / len(sig) * np.eye(len(sig))
    L = np.linalg.cholesky(sig)
    u0 = np.linalg.svd(M, full_matrices=False)[0]
    uw = np.linalg.svd(L.T @ M, full_matrices=False)[0]

    def measure(a):
        p = forms.fit(forms.stage_features(w, xf, a), yf, forms.stage_features(w, xt, a))
        return '%.4f / %.4f' % (forms.err(p, yt, 0), forms.err(p, yt, 1))

    print('\n%s (%d -> %d channels): separable:m, k x 1 stage from' % (layer, C, K))
    print('| m | SVD | whitened SVD | 1 round | 3 rounds | 6 rounds |')
    print('|---|---|---|---|---|---|')
    for mm in (4, 8, 12, 16, 24, 32):
        if mm >= min(C * R, K * S):
            continue
        a = np.linalg.solve(L.T, uw[:, :mm])
        row = [measure(u0[:, :mm]), measure(a)]
        for it in range(6):
            # the 1 x k stage by least squares (centred), then the k x 1
            # stage from the normal equations of the E x m system
            f = np.hstack([v @ a for v in xs])
            g = np.linalg.lstsq(f, yr, rcond=None)[0].reshape(S, mm, K)
            n = sum(np.kron(g[s] @ g[t].T, cc[s][t]) for s in range(S) for t in range(S))
            rhs = sum((xy[s] @ g[s].T).T.reshape(-1) for s in range(S))
            n += 1e-10 * np.trace(n) / len(n) * np.eye(len(n))
            a = np.linalg.solve(n, rhs).reshape(mm, C * R).T
            if it in (0, 2, 5):
                row.append(measure(a))
        print('| %d | %s |' % (mm, ' | '.join(row)))


if __name__ == '__main__':
    main()
