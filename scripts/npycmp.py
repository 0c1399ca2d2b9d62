#!/usr/bin/env python3
"""npycmp.py REF_DIR OUT_DIR [TOL] -- compare every output .npy of REF_DIR
(ignoring *.input.npy) with the same file in OUT_DIR. Passes when
max|a-b| <= TOL * max|ref| (the output's scale; 1 when ref is all zeros;
TOL default 1e-4)."""
import glob, os, sys
import numpy as np

ref, out = sys.argv[1], sys.argv[2]
tol = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-4
bad = 0
files = sorted(f for f in glob.glob(os.path.join(ref, "*.npy")) if not f.endswith(".input.npy"))
if not files:
    sys.exit(f"npycmp: no outputs in {ref}")
for f in files:
    g = os.path.join(out, os.path.basename(f))
    a = np.load(f)
    if not os.path.exists(g):
        print(f"MISSING {g}"); bad += 1; continue
    b = np.load(g)
    if a.shape != b.shape:
        print(f"SHAPE {os.path.basename(f)}: {a.shape} vs {b.shape}"); bad += 1; continue
    scale = float(np.max(np.abs(a))) if a.size else 0.0
    scale = scale if scale > 0 else 1.0
    err = float(np.max(np.abs(a.astype(np.float64) - b))) if a.size else 0.0
    ok = np.all(np.isfinite(b)) and err <= tol * scale
    print(f"{'ok  ' if ok else 'FAIL'} {os.path.basename(f)} shape={a.shape} max_abs_err={err:.3g} scale={scale:.3g}")
    bad += not ok
sys.exit(1 if bad else 0)
