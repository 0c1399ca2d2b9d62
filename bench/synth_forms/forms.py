#!/usr/bin/python3
"""forms.py MODEL.onnx ACTS LAYER INPUT -- bench/synth_forms/run.sh's study
of one 3x3 convolution: relative error of each low-cost form against its
FLOPs (as a share of the convolution's), fitted on the first recorded
images and measured on others."""
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def conv(x, w):
    K, C, R, S = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (R // 2, R // 2), (S // 2, S // 2)))
    n, _, h, wd = x.shape
    y = np.zeros((n, K, h, wd))
    for r in range(R):
        for s in range(S):
            y += np.einsum('nchw,kc->nkhw', xp[:, :, r:r + h, s:s + wd], w[:, :, r, s], optimize=True)
    return y


def rows(f):
    a = f.transpose(0, 2, 3, 1).reshape(-1, f.shape[1])
    return np.hstack([a, np.ones((len(a), 1))])


def stage_features(w, x, a):
    """The features the 1xk stage of `separable` fits on, with the kx1
    stage a ((C k) x m), at each of the 1xk taps."""
    K, C, R, S = w.shape
    m = a.shape[1]
    a = a.reshape(C, R, m)
    xp = np.pad(x, ((0, 0), (0, 0), (R // 2, R // 2), (0, 0)))
    n, _, h, wd = x.shape
    z = np.zeros((n, m, h, wd))
    for r in range(R):
        z += np.einsum('nchw,cm->nmhw', xp[:, :, r:r + h, :], a[:, r, :], optimize=True)
    zp = np.pad(z, ((0, 0), (0, 0), (0, 0), (S // 2, S // 2)))
    return np.concatenate([zp[:, :, :, s:s + wd] for s in range(S)], 1)


def separable(w, x, m):
    """stage_features with the kx1 stage of `separable:m` from the SVD of
    the (C k) x (K k) reshape of w."""
    K, C, R, S = w.shape
    a = np.linalg.svd(w.transpose(1, 2, 0, 3).reshape(C * R, K * S), full_matrices=False)[0]
    return stage_features(w, x, a[:, :m])


def load(model, acts, layer, xin):
    """Layer's c1 weight, and its recorded input and output: the fit
    images and as many others to measure on."""
    m = onnx.load(model)
    wts = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    out = '/layers/%s/c1/c1.0/Conv_output_0' % layer
    node = [n for n in m.graph.node if n.output[0] == out][0]
    w = wts[node.input[1]].astype(np.float64)
    x = np.load('%s/%s.npy' % (acts, xin)).astype(np.float64)
    y = np.load('%s/_layers_%s_c1_c1.0_Conv_output_0.npy' % (acts, layer)).astype(np.float64)
    nf = 200 if x.shape[2] == 28 else 400
    return w, x[:nf], y[:nf], x[512:512 + nf], y[512:512 + nf]


def fit(ff, yf, ft):
    t = yf.transpose(0, 2, 3, 1).reshape(-1, yf.shape[1])
    return rows(ft) @ np.linalg.lstsq(rows(ff), t, rcond=None)[0]


def err(p, y, relu):
    t = y.transpose(0, 2, 3, 1).reshape(-1, y.shape[1])
    if relu:
        p, t = np.maximum(p, 0), np.maximum(t, 0)
    return ((p - t) ** 2).sum() / ((t - t.mean(0)) ** 2).sum()


def main():
    w, xf, yf, xt, yt = load(*sys.argv[1:5])
    layer = sys.argv[3]
    K, C, R, S = w.shape
    full = C * R * S * K
    res = []

    def add(name, m, flops, ff, ft):
        p = fit(ff, yf, ft)
        res.append((name, m, flops / full, err(p, yt, 0), err(p, yt, 1)))

    # kx1 first as gos's rule; 1xk first: the same with both images'
    # spatial axes swapped (the features swapped back onto Y's positions)
    sep = lambda x, m: separable(w, x, m)  # noqa: E731
    sep_t = lambda x, m: separable(w.swapaxes(2, 3), x.swapaxes(2, 3), m).swapaxes(2, 3)  # noqa: E731

    for m in (4, 8, 12, 16, 24, 32, 48):
        if m <= min(C * R, K * S):
            add('separable', m, 3 * m * (C + K), sep(xf, m), sep(xt, m))
            add('separable 1xk first', m, 3 * m * (C + K), sep_t(xf, m), sep_t(xt, m))
            add('sep+1x1', m, 3 * m * (C + K) + C * K, np.concatenate([sep(xf, m), xf], 1),
                np.concatenate([sep(xt, m), xt], 1))
    v = np.linalg.svd(w.reshape(K, -1), full_matrices=False)[2]
    for r in (4, 8, 12, 16, 24, 32, 48):
        if r < K:
            w1 = v[:r].reshape(r, C, R, S)
            add('lowrank', r, C * 9 * r + r * K, conv(xf, w1), conv(xt, w1))
    uc = np.linalg.svd(w.transpose(1, 0, 2, 3).reshape(C, -1), full_matrices=False)[0]
    uk = np.linalg.svd(w.reshape(K, -1), full_matrices=False)[0]
    for r1, r2 in ((4, 4), (8, 8), (8, 16), (12, 12), (16, 16), (24, 24), (32, 32)):
        if r1 <= C and r2 <= K:
            core = np.einsum('kcrs,kj,ci->jirs', w, uk[:, :r2], uc[:, :r1])
            t = lambda x: conv(np.einsum('nchw,ci->nihw', x, uc[:, :r1]), core)  # noqa: E731
            add('tucker2', '%d,%d' % (r1, r2), C * r1 + r1 * 9 * r2 + r2 * K, t(xf), t(xt))
    print('\n%s (%d -> %d channels, %dx%d)' % (layer, C, K, xf.shape[2], xf.shape[3]))
    print('| form | setting | FLOPs share | error | error behind the relu |')
    print('|---|---|---|---|---|')
    for r in sorted(res, key=lambda t: t[2]):
        if r[2] <= 1:
            print('| %s | %s | %.3f | %.4f | %.4f |' % r)


if __name__ == '__main__':
    main()
