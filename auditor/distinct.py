"""Work once per distinct value: claim columns repeat a few thousand values over a million rows."""

from __future__ import annotations

import numpy as np


def representatives(codes: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """For factorized ``codes`` (-1 = empty) with ``k`` distinct values: the row of each value's first
    occurrence (plus one empty row if there is any) and the codes re-pointed at those rows."""
    n = len(codes)
    na = codes < 0
    at = np.flatnonzero(~na)
    first = np.full(k, n, dtype=np.int64)
    np.minimum.at(first, codes[at], at)
    if na.any():
        first = np.append(first, int(np.argmax(na)))
        codes = np.where(na, k, codes)
    return first, codes
