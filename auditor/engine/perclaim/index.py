"""Reference data as dict indexes, built once when an engine starts.

Everything a rule joins (``lookup``, pair ``join``, ``requires`` join, ``frequency`` table) gets one
index per table version. Which version is in effect on a date is resolved with a bisect over the
store's version boundaries. Table rows are materialized as dicts only when they match.
"""

from __future__ import annotations

import weakref
from bisect import bisect_right
from datetime import date, timedelta

import numpy as np
import pandas as pd

from auditor.engine.vector import Env, mask
from auditor.engine.views import ViewStore, sources
from auditor.errors import RuleError
from auditor.rules.model import Lookup, PairJoin, Rule

_EARLIEST, _LATEST = date(1677, 9, 22), date(2262, 4, 11)  # the dates a datetime64[ns] frame can hold
_NEVER_LO, _NEVER_HI = -(1 << 62), 1 << 62


class NullRow(dict):
    """The row of a table that has no data at all: every column reads as empty."""

    def __missing__(self, key):
        return None


def _converter(s: pd.Series):
    """(array, scalar -> Python value) for one table column."""
    kind = s.dtype.kind
    if kind == "M":
        arr = s.to_numpy()
        return arr, lambda x: None if np.isnat(x) else x.astype("datetime64[D]").item()
    if kind == "f" and isinstance(s.dtype, np.dtype):
        return s.to_numpy(), lambda x: None if x != x else float(x)
    if kind in "iu" and isinstance(s.dtype, np.dtype):
        return s.to_numpy(), int
    if kind == "b" and isinstance(s.dtype, np.dtype):
        return s.to_numpy(), bool
    from auditor.engine.perclaim.rows import _py

    return s.astype(object).to_numpy(), _py


class Table:
    """One table version: column arrays, rows materialized on demand."""

    def __init__(self, df: pd.DataFrame):
        self.columns = list(df.columns)
        self.n = len(df)
        self._cols = [(c, *_converter(df[c])) for c in self.columns]

    def row(self, t: int) -> dict:
        return {c: conv(arr[t]) for c, arr, conv in self._cols}

    def values(self, col: str) -> list:
        for c, arr, conv in self._cols:
            if c == col:
                return [conv(x) for x in arr]
        raise KeyError(col)


def _day_bounds(df: pd.DataFrame, eff: str, dele: str) -> tuple[np.ndarray, np.ndarray]:
    """Effective / deletion dates of table rows as int days; an empty date means open-ended."""
    lo = pd.to_datetime(df[eff]).to_numpy(dtype="datetime64[D]")
    hi = pd.to_datetime(df[dele]).to_numpy(dtype="datetime64[D]")
    lo_i = np.where(np.isnat(lo), _NEVER_LO, lo.astype("int64"))
    hi_i = np.where(np.isnat(hi), _NEVER_HI, hi.astype("int64"))
    return lo_i, hi_i


def day(d: date) -> int:
    return d.toordinal() - 719163  # days since 1970-01-01, as datetime64[D]


def _windows(df: pd.DataFrame, windows) -> list[tuple[np.ndarray, np.ndarray]]:
    for eff, dele in windows:
        for c in (eff, dele):
            if c not in df.columns:
                raise RuleError(f"dated_by: the table has no column '{c}'")
    return [_day_bounds(df, eff, dele) for eff, dele in windows]


def _kept(df: pd.DataFrame, where) -> list[int]:
    """Positions of the table rows a ``where`` on the table alone keeps (all rows without one)."""
    if where is None or not len(df):
        return list(range(len(df)))
    t = df.reset_index(drop=True)
    return np.flatnonzero(mask(where, Env({"ref": t}, len(t), date.today()))).tolist()


class _Dated:
    """Rows with (effective, deletion) windows: a row applies on a date inside every window."""

    windows: list

    def in_effect(self, t: int, d: date | None) -> bool:
        if d is None:  # only a row without any bound applies to an unknown date
            return all(lo[t] == _NEVER_LO and hi[t] == _NEVER_HI for lo, hi in self.windows)
        x = day(d)
        return all(lo[t] <= x <= hi[t] for lo, hi in self.windows)


class LookupIndex(_Dated):
    """``lookup`` join of one table version: key -> the table row (dated: the last one in effect)."""

    def __init__(self, df: pd.DataFrame, lk: Lookup):
        self.table = Table(df)
        self._rows: dict[int, dict] = {}
        right = [b for _, b in lk.on]
        for c in right:
            if c not in df.columns:
                raise RuleError(f"lookup: table '{lk.table}' has no column '{c}' "
                                f"(columns: {', '.join(df.columns)})")
        cols = [self.table.values(c) for c in right]
        single = len(right) == 1
        self.windows = _windows(df, lk.windows)
        self.dated = bool(self.windows)
        self.keys: dict = {}
        for t in _kept(df, lk.where):
            k = tuple(col[t] for col in cols)
            if None in k:
                continue
            k = k[0] if single else k
            if self.dated:
                self.keys.setdefault(k, []).append(t)
            else:  # the last row of a key wins (drop_duplicates keep="last")
                self.keys[k] = t

    def ref_row(self, t: int, version: str) -> dict:
        """The matched table row with ``found`` and ``_version`` (built once per row; read-only)."""
        row = self._rows.get(t)
        if row is None:
            row = self._rows[t] = {**self.table.row(t), "found": True, "_version": version}
        return row

    def find(self, key, d: date | None) -> int | None:
        hit = self.keys.get(key)
        if hit is None or not self.dated:
            return hit
        return next((t for t in reversed(hit) if self.in_effect(t, d)), None)


class PairIndex(_Dated):
    """Pair / requires join of one table version (after ``join.where``): left key -> right key -> rows."""

    def __init__(self, df: pd.DataFrame, join: PairJoin):
        self.table = Table(df)
        for c in (join.left, join.right):
            if c not in df.columns:
                raise RuleError(f"table '{join.table}' has no column '{c}'")
        lefts, rights = self.table.values(join.left), self.table.values(join.right)
        self.right_of = rights
        self.by_left: dict = {}
        for t in _kept(df, join.where):
            if lefts[t] is not None:
                self.by_left.setdefault(lefts[t], {}).setdefault(rights[t], []).append(t)
        self.windows = _windows(df, join.windows)


class Clock:
    """The version of a table in effect on a date: the store answers once per boundary segment."""

    def __init__(self, store, kind: str):
        vs = store.versions(kind)
        for k in sources(kind):  # a view changes version whenever one of its sources does
            if k != kind:
                vs = vs + list(store.versions(k))
        cuts = set()
        for v in vs:
            if getattr(v, "valid_from", None):
                cuts.add(v.valid_from)
            if getattr(v, "valid_to", None) and v.valid_to < _LATEST:
                cuts.add(v.valid_to + timedelta(days=1))
        self.bounds = sorted(d for d in cuts if _EARLIEST < d <= _LATEST)
        reps = [_EARLIEST] + self.bounds
        if vs:
            ids = store.version_for_dates(kind, pd.Series(pd.to_datetime(reps)))
            self.ids = [None if v is None or v != v else str(v) for v in ids.tolist()]
        else:
            self.ids = [None] * len(reps)

    def __call__(self, d: date | None) -> str | None:
        if d is None:
            return None
        return self.ids[bisect_right(self.bounds, d)]


_CACHE: dict = {}  # (id(table frame), spec) -> (weakref to the frame, index): shared between engines


def _cached(df: pd.DataFrame, spec, build):
    key = (id(df), spec)
    hit = _CACHE.get(key)
    if hit is not None and hit[0]() is df:
        return hit[1]
    index = build()
    try:
        ref = weakref.ref(df, lambda _r, k=key: _CACHE.pop(k, None))
    except TypeError:  # not weak-referenceable: do not cache
        return index
    _CACHE[key] = (ref, index)
    return index


class RefIndex:
    """Every index the rules need, for every version of every table they read."""

    def __init__(self, store, rules: list[Rule]):
        # derived tables (auditor.engine.views) are read through the store like stored kinds
        self.store = store if isinstance(store, ViewStore) else ViewStore(store)
        self.clocks: dict[str, Clock] = {}
        # indexes are keyed by small ids: hashing a Lookup (a dataclass holding IR) per row is slow
        self.ids: dict = {}
        self.lookups: dict[tuple[int, str], LookupIndex] = {}
        self.pairs: dict[tuple[int, str], PairIndex] = {}
        self.columns: dict[str, list[str]] = {}
        self._null_rows: dict[tuple, dict] = {}
        for rule in rules:
            for lk in rule.lookups:
                self._build_lookup(lk)
            if rule.kind == "frequency":
                self._build_lookup(frequency_lookup(rule))
            if rule.join is not None:
                self._build_pair(rule.join)

    def clock(self, kind: str) -> Clock:
        c = self.clocks.get(kind)
        if c is None:
            c = self.clocks[kind] = Clock(self.store, kind)
            versions = self.store.versions(kind)
            if versions:
                self.columns[kind] = list(self.store.table(kind, versions[0].version_id).columns)
        return c

    def versions(self, kind: str) -> list[str]:
        return [v.version_id for v in self.store.versions(kind)]

    def id_of(self, spec: Lookup | PairJoin) -> int:
        """The id a lookup or join is indexed under (the same spec shares one index)."""
        return self.ids.setdefault(spec, len(self.ids))

    def _build_lookup(self, lk: Lookup) -> None:
        self.clock(lk.table)
        lid = self.id_of(lk)
        for vid in self.versions(lk.table):
            if (lid, vid) not in self.lookups:
                df = self.store.table(lk.table, vid)
                from auditor.rules.expr import to_json

                spec = ("lookup", lk.on, lk.windows, repr(to_json(lk.where)) if lk.where is not None else None)
                self.lookups[(lid, vid)] = _cached(df, spec, lambda: LookupIndex(df, lk))

    def _build_pair(self, join: PairJoin) -> None:
        self.clock(join.table)
        jid = self.id_of(join)
        for vid in self.versions(join.table):
            if (jid, vid) not in self.pairs:
                df = self.store.table(join.table, vid)
                from auditor.rules.expr import to_json

                spec = ("pair", join.left, join.right, join.windows,
                        repr(to_json(join.where)) if join.where is not None else None)
                self.pairs[(jid, vid)] = _cached(df, spec, lambda: PairIndex(df, join))

    def null_row(self, kind: str, version: str | None, found) -> dict:
        """A lookup row without a match: the table's columns empty (lenient if the kind has no data).

        Shared by every row without a match (engines only read reference rows).
        """
        key = (kind, version, found)
        row = self._null_rows.get(key)
        if row is None:
            cols = self.columns.get(kind)
            row = NullRow() if cols is None else dict.fromkeys(cols)
            row["found"] = found
            row["_version"] = version
            self._null_rows[key] = row
        return row


def frequency_lookup(rule: Rule) -> Lookup:
    """The lookup a frequency rule makes (as the batch engine builds it)."""
    return Lookup(rule.table, "ref", ((rule.default_key, "code"),))
