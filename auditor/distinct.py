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


def by_code(per_value: np.ndarray, codes: np.ndarray, empty) -> np.ndarray:
    """A value per distinct value spread to the rows by their codes; `empty` where the code is -1.

    One gather: the -1 code takes the value appended after the last distinct value.
    """
    return np.append(per_value, empty)[codes]


def dense_ids(key: np.ndarray) -> np.ndarray:
    """Integer keys -> 0..k-1 in order of first appearance (``pd.factorize(key)[0]``), for int64 keys.

    pandas' own hash table, sized for every key up front: ``pd.factorize`` starts it small and
    rehashes as it grows, which costs it about two thirds of its time on a million distinct keys.
    Falls back to ``pd.factorize`` where that internal class is not available.
    """
    key = np.ascontiguousarray(key, dtype=np.int64)
    try:
        from pandas._libs import hashtable

        table = hashtable.Int64HashTable(max(len(key), 1))
        return np.asarray(table.get_labels(key, hashtable.Int64Vector(), 0, -1), dtype=np.int64)
    except (ImportError, AttributeError, TypeError):
        import pandas as pd

        return pd.factorize(key)[0].astype(np.int64, copy=False)
