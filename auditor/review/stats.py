"""Small statistics for provider patterns, without scipy: exact binomial tails in log space, the
normal tail, and Benjamini-Hochberg adjusted p-values."""

from __future__ import annotations

import math

import numpy as np


def binom_sf(x: int, n: int, p: float) -> float:
    """P(X >= x) for X ~ Binomial(n, p), summed exactly in log space (no overflow for large n)."""
    if x <= 0:
        return 1.0
    if x > n or p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    k = np.arange(x, n + 1, dtype=np.float64)
    log_fact = np.concatenate(([0.0], np.cumsum(np.log(np.arange(1, n + 1, dtype=np.float64)))))
    ki = k.astype(np.int64)
    logpmf = log_fact[n] - log_fact[ki] - log_fact[n - ki] + k * math.log(p) + (n - k) * math.log1p(-p)
    top = float(logpmf.max())
    return float(min(1.0, math.exp(top) * float(np.exp(logpmf - top).sum())))


def normal_sf(z: float) -> float:
    """P(Z >= z) for a standard normal Z."""
    if math.isinf(z):
        return 0.0 if z > 0 else 1.0
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def bh_adjust(pvalues) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values), in the input order."""
    p = np.asarray(pvalues, dtype=np.float64)
    m = len(p)
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    ranked = p[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.clip(q, 0.0, 1.0)
    return out
