#!/usr/bin/env python3
"""bench_baseline.py: a straightforward arPLS (Baek et al., Analyst 2015,
140, 250-257) on scipy.sparse, timed on the spectra bench_baseline.c writes.

usage: bench_baseline.py SPECTRA.csv [LAM] [MAX_ITER] [TOL]
SPECTRA.csv: one spectrum per line, comma-separated y values.
Prints "arpls_python_us <microseconds per spectrum> <spectra> <reps>" and
"arpls_python_iters <mean solves per spectrum>".
The stopping rule is pybaselines' (relative change of the weights < tol, at
most max_iter + 1 solves), so both sides do the same number of solves.
"""
import sys
import time

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import spsolve
from scipy.special import expit


def arpls(y, lam=1e5, max_iter=50, tol=1e-3):
    n = y.size
    d = sparse.diags([1.0, -2.0, 1.0], [0, 1, 2], shape=(n - 2, n))
    h = lam * (d.T @ d)
    w = np.ones(n)
    solves = 0
    for _ in range(max_iter + 1):
        z = spsolve(sparse.csc_matrix(sparse.diags(w) + h), w * y)
        solves += 1
        r = y - z
        neg = r[r < 0]
        if neg.size < 2:
            break
        m, s = neg.mean(), neg.std(ddof=1)
        wn = expit(-2.0 * (r - (2.0 * s - m)) / s)
        if np.linalg.norm(wn - w) / np.linalg.norm(w) < tol:
            break
        w = wn
    return z, solves


def main():
    spectra = np.loadtxt(sys.argv[1], delimiter=",", ndmin=2)
    lam = float(sys.argv[2]) if len(sys.argv) > 2 else 1e5
    max_iter = int(sys.argv[3]) if len(sys.argv) > 3 else 50
    tol = float(sys.argv[4]) if len(sys.argv) > 4 else 1e-3
    arpls(spectra[0], lam, max_iter, tol)  # warm up imports and caches
    reps, solves = 0, 0
    t0 = time.perf_counter()
    while True:
        for y in spectra:
            solves += arpls(y, lam, max_iter, tol)[1]
        reps += 1
        if time.perf_counter() - t0 > 2.0:
            break
    dt = time.perf_counter() - t0
    count = reps * spectra.shape[0]
    print("arpls_python_us %.1f %d %d" % (dt / count * 1e6, spectra.shape[0], reps))
    print("arpls_python_iters %.2f" % (solves / count))


if __name__ == "__main__":
    main()
