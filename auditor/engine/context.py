"""Shared state of one batch evaluation: the frames rules run over, group ids and reference joins.

Everything here is computed once per run and reused by every rule that needs it (scope group
ids, the diagnosis frame, reference lookups), so a rule pack costs little more than its joins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from auditor.claims.columns import DX_COLUMNS
from auditor.engine.views import ViewStore, split_version
from auditor.engine.vector import Env, mask
from auditor.errors import RuleError
from auditor.rules.model import Lookup

DX_FRAME_COLUMNS = [
    "claim_id", "member_id", "member_birth_date", "member_sex", "billing_npi", "rendering_npi",
    "service_date", "received_date", "claim_type", "type_of_bill", "place_of_service", "payer",
    "procedure_code", "charge", "source_file", "_row",
]


@dataclass
class Joined:
    """A reference join aligned with a frame: ``ref`` rows (NaN where none), which rows had data."""

    ref: pd.DataFrame
    checked: np.ndarray        # a version of the table is in effect on the row's date
    missing_dates: pd.Series   # dates of rows that could not be checked


class Context:
    def __init__(self, lines: pd.DataFrame, store, as_of: date):
        self.lines = lines.reset_index(drop=True)
        # Derived tables (auditor.engine.views) are read through the store like stored kinds.
        self.store = store if isinstance(store, ViewStore) else ViewStore(store)
        self.as_of = as_of
        self._dx: pd.DataFrame | None = None
        self._gids: dict = {}
        self._codes: dict = {}
        self._joins: dict = {}
        self._modkey: pd.Series | None = None
        self.versions_used: dict[tuple[str, str], int] = {}

    def frame(self, over: str) -> pd.DataFrame:
        return self.lines if over == "lines" else self.diagnoses

    @property
    def diagnoses(self) -> pd.DataFrame:
        """One row per (claim, diagnosis position): dx_1..dx_12 of the claim's first line, with claim fields.

        The claim's date is its earliest line date and ``charge`` its total, so a claim-level
        finding carries the claim's dollars once.
        """
        if self._dx is None:
            ln = self.lines
            valid = ln["claim_id"].notna()
            order = ln[valid].sort_values(["claim_id", "line_number", "_row"], na_position="last")
            first = order.drop_duplicates("claim_id", keep="first")
            agg = ln[valid].groupby("claim_id", sort=False).agg(
                _date=("service_date", "min"), _charge=("charge", "sum"))
            first = first.join(agg, on="claim_id")
            base = first[[c for c in DX_FRAME_COLUMNS if c not in ("service_date", "charge")]].copy()
            base["service_date"] = first["_date"].to_numpy()
            base["charge"] = first["_charge"].to_numpy()
            parts = []
            for i, col in enumerate(DX_COLUMNS, start=1):
                codes = first[col]
                keep = codes.notna().to_numpy()
                if keep.any():
                    part = base[keep].copy()
                    part["code"] = codes[keep].to_numpy()
                    part["position"] = i
                    parts.append(part)
            if parts:
                dx = pd.concat(parts, ignore_index=True)
            else:
                dx = base.iloc[:0].copy()
                dx["code"] = pd.Series(dtype=object)
                dx["position"] = pd.Series(dtype=np.int64)
            dx = dx.sort_values(["_row", "position"], kind="stable").reset_index(drop=True)
            dx["line_number"] = pd.array([pd.NA] * len(dx), dtype="Int64")
            dx["procedure_code"] = None
            self._dx = dx
        return self._dx

    def sorted_modifiers(self, over: str) -> pd.DataFrame:
        """Modifiers of each row in sorted order (_m1.._m4): the same set in any order compares equal."""
        if self._modkey is None:
            frame = self.frame(over)
            mods = frame[[f"modifier_{i}" for i in range(1, 5)]].astype(object)
            arr = np.where(mods.isna().to_numpy(), "", mods.to_numpy().astype(str))
            arr.sort(axis=1)
            self._modkey = pd.DataFrame(arr, columns=["_m1", "_m2", "_m3", "_m4"])
        return self._modkey

    def codes(self, over: str, col: str) -> tuple[np.ndarray, np.ndarray]:
        """A column encoded once per run: (int64 code per row, -1 where empty; the distinct values)."""
        key = (over, col)
        if key not in self._codes:
            frame = self.frame(over)
            if col not in frame.columns:
                raise RuleError(f"no column '{col}' over {over}")
            codes, uniques = pd.factorize(frame[col])
            self._codes[key] = (codes.astype(np.int64, copy=False), np.asarray(uniques))
        return self._codes[key]

    def group_ids(self, over: str, cols, rows: np.ndarray | None = None) -> np.ndarray:
        """Integer id per row (of `rows`, default all) for the combination of `cols`; -1 where a key is empty.

        Ids number the combinations in order of first appearance, as ``groupby(sort=False).ngroup()``,
        but are computed from per-column integer codes cached for the whole run.
        """
        parts = []
        for c in cols:
            codes, uniques = self.codes(over, c)
            parts.append((codes if rows is None else codes[rows], len(uniques)))
        return combine_codes(parts)

    def gids(self, over: str, scope: tuple[str, ...]) -> np.ndarray:
        """Integer group id per row for a scope (e.g. member + provider + date); -1 where a key is empty."""
        key = (over, scope)
        if key not in self._gids:
            frame = self.frame(over)
            missing = [c for c in scope if c not in frame.columns]
            if missing:
                raise RuleError(f"scope column(s) {', '.join(missing)} are not available over {over}")
            self._gids[key] = self.group_ids(over, scope)
        return self._gids[key]

    def shared_gids(self, over_a: str, over_b: str, scope: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Group ids that agree between two frames (lines and diagnoses)."""
        if over_a == over_b:
            g = self.gids(over_a, scope)
            return g, g
        key = (over_a, over_b, scope)
        if key not in self._gids:
            a, b = self.frame(over_a), self.frame(over_b)
            missing = [c for c in scope if c not in a.columns or c not in b.columns]
            if missing:
                raise RuleError(f"scope column(s) {', '.join(missing)} are not available over {over_a}/{over_b}")
            parts = []
            for c in scope:
                # Encode both frames' values in one code space (concatenate the two columns' distinct values).
                ca, ua = self.codes(over_a, c)
                cb, ub = self.codes(over_b, c)
                both = pd.Index(pd.concat([pd.Series(ua, dtype=a[c].dtype), pd.Series(ub, dtype=b[c].dtype)],
                                          ignore_index=True))
                inv, uniq = pd.factorize(both)  # (codes, distinct values)
                inv = inv.astype(np.int64)
                ma = np.where(ca >= 0, inv[:len(ua)][np.maximum(ca, 0)], -1) if len(ua) else ca
                mb = np.where(cb >= 0, inv[len(ua):][np.maximum(cb, 0)], -1) if len(ub) else cb
                parts.append((np.concatenate([ma, mb]), len(uniq)))
            g = combine_codes(parts)
            self._gids[key] = (g[: len(a)], g[len(a):])
        return self._gids[key]

    # -- reference data -------------------------------------------------------------------------
    def version_ids(self, kind: str, dates: pd.Series) -> pd.Series:
        return self.store.version_for_dates(kind, dates)

    def table(self, kind: str, version_id: str) -> pd.DataFrame:
        return self.store.table(kind, version_id)

    def note_version(self, kind: str, version_id: str, rows: int) -> None:
        for k, vid in split_version(kind, version_id):  # a view records the versions it was built from
            self.versions_used[(k, vid)] = self.versions_used.get((k, vid), 0) + rows

    def filtered_table(self, kind: str, version_id: str, where, rule_id: str = "") -> pd.DataFrame:
        """A table version, restricted to the rows where a condition on the table alone holds (cached)."""
        table = self.table(kind, version_id)
        if where is None:
            return table
        key = ("filtered", kind, version_id, where)
        if key not in self._joins:
            t = table.reset_index(drop=True)
            self._joins[key] = t[mask(where, Env({"ref": t}, len(t), self.as_of, rule_id))].reset_index(drop=True)
        return self._joins[key]

    def lookup(self, over: str, lk: Lookup) -> Joined:
        """Left-join every row of a frame with the table version in effect on its date."""
        key = (over, lk)
        if key in self._joins:
            return self._joins[key]
        frame = self.frame(over)
        n = len(frame)
        dates = frame["service_date"]
        vids = self.version_ids(lk.table, dates)
        checked = vids.notna().to_numpy()
        if lk.optional and not checked.any():
            checked = np.ones(n, dtype=bool)  # no such table: every row uses the rule's defaults
        pieces: list[pd.DataFrame] = []
        for vid in pd.unique(vids[checked & vids.notna().to_numpy()]):  # optional table absent: no versions
            rows = np.flatnonzero((vids == vid).to_numpy())
            table = self.filtered_table(lk.table, vid, lk.where, f"lookup of {lk.table}")
            self.note_version(lk.table, vid, len(rows))
            pieces.append(_join_rows(frame, rows, table, lk, vid))
        cols = None
        if pieces:
            ref = pd.concat(pieces)
            cols = list(ref.columns)
            ref = ref.reindex(pd.RangeIndex(n))
        else:
            ref = pd.DataFrame(index=pd.RangeIndex(n))
            for kind_version in self.store.versions(lk.table)[:1]:
                cols = list(self.table(lk.table, kind_version.version_id).columns)
            for c in cols or []:
                ref[c] = np.nan
            ref["_version"] = None
            if cols is None:
                # A table that was never imported: every ref.<column> reads as empty (an optional
                # table's rows use the defaults; a required one's rows are not checked at all).
                ref.attrs["absent_optional"] = True
        ref["found"] = pd.array(ref.get("found", pd.Series(False, index=ref.index)).fillna(False).astype(bool),
                                dtype="boolean")
        ref.loc[~checked, "found"] = pd.NA
        joined = Joined(ref, checked, dates[~checked])
        self._joins[key] = joined
        return joined


def _join_rows(frame: pd.DataFrame, rows: np.ndarray, table: pd.DataFrame, lk: Lookup, vid: str) -> pd.DataFrame:
    """Match the given rows of a frame to a table version; at most one table row per frame row."""
    left_cols = [a for a, _ in lk.on]
    right_cols = [b for _, b in lk.on]
    for c in right_cols:
        if c not in table.columns:
            raise RuleError(f"lookup: table '{lk.table}' has no column '{c}' (columns: {', '.join(table.columns)})")
    for c in left_cols:
        if c not in frame.columns:
            raise RuleError(f"lookup: no column '{c}' to join '{lk.table}' on")
    sub = frame.iloc[rows]
    if lk.dated_by is None:
        tab = table.drop_duplicates(right_cols, keep="last")
        if len(right_cols) == 1:
            index = pd.Index(tab[right_cols[0]].astype(object))
            pos = index.get_indexer(sub[left_cols[0]].astype(object))
        else:
            index = pd.MultiIndex.from_frame(tab[right_cols].astype(object))
            pos = index.get_indexer(pd.MultiIndex.from_frame(sub[left_cols].astype(object)))
        hit = pos >= 0
        out = tab.iloc[np.where(hit, pos, 0)].reset_index(drop=True)
        out = out.astype({c: object for c in out.columns if out[c].dtype == bool})
        out.loc[~hit] = np.nan
        out["found"] = hit
    else:
        left = pd.DataFrame({f"_k{i}": sub[c].astype(object).to_numpy() for i, c in enumerate(left_cols)})
        left["_pos"] = np.arange(len(sub))
        left["_d"] = sub["service_date"].to_numpy()
        right = table.rename(columns={c: f"_k{i}" for i, c in enumerate(right_cols)})
        keep_right = table[right_cols].rename(columns={c: f"_k{i}" for i, c in enumerate(right_cols)})
        m = left.merge(pd.concat([right, keep_right.add_prefix("_orig")], axis=1),
                       on=[f"_k{i}" for i in range(len(right_cols))], how="inner")
        m = m[in_windows(m, m["_d"], lk.windows)].drop_duplicates("_pos", keep="last")
        for i, c in enumerate(right_cols):
            m[c] = m[f"_orig_k{i}"]
        out = pd.DataFrame(index=pd.RangeIndex(len(sub)))
        for c in table.columns:
            out[c] = pd.Series(m[c].to_numpy(), index=m["_pos"].to_numpy()).reindex(out.index) \
                if len(m) else pd.Series(np.nan, index=out.index)
        out["found"] = out.index.isin(m["_pos"].to_numpy())
    out["_version"] = vid
    out.index = rows
    return out


def in_windows(rows: pd.DataFrame, dates, windows) -> np.ndarray:
    """Rows whose date lies in every (effective, deletion) window of the row; empty bounds are open."""
    d = np.asarray(dates)
    ok = np.ones(len(rows), dtype=bool)
    for eff, dele in windows:
        for c in (eff, dele):
            if c not in rows.columns:
                raise RuleError(f"dated_by: the table has no column '{c}'")
        e, x = rows[eff].to_numpy(), rows[dele].to_numpy()
        ok &= np.asarray((pd.isna(e) | (e <= d)) & (pd.isna(x) | (d <= x)), dtype=bool)
    return ok


def combine_codes(parts: list[tuple[np.ndarray, int]]) -> np.ndarray:
    """Per-column codes (-1 = empty) and their cardinalities -> one id per distinct combination.

    Ids follow the order of first appearance (like ``groupby(sort=False, dropna=True).ngroup()``);
    -1 where any column is empty.
    """
    if not parts:
        return np.zeros(0, dtype=np.int64)
    n = len(parts[0][0])
    bad = np.zeros(n, dtype=bool)
    key = np.zeros(n, dtype=np.int64)
    span = 1
    for codes, card in parts:
        bad |= codes < 0
        card = max(int(card), 1)
        if span * card >= 2 ** 62:  # keep the mixed-radix key inside int64: renumber first
            key[~bad] = pd.factorize(key[~bad])[0]
            span = int(key.max()) + 1 if n else 1
        key = key * card + np.maximum(codes, 0)
        span *= card
    out = np.full(n, -1, dtype=np.int64)
    ok = ~bad
    if ok.any():
        out[ok] = pd.factorize(key[ok])[0]
    return out
