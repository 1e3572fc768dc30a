"""Shared state of one batch evaluation: the frames rules run over, group ids and reference joins.

Everything here is computed once per run and reused by every rule that needs it (scope group
ids, the diagnosis frame, reference lookups), so a rule pack costs little more than its joins.
"""

from __future__ import annotations

from datetime import date

import weakref

import numpy as np
import pandas as pd

from auditor.claims.columns import DX_COLUMNS
from auditor.distinct import by_code, dense_ids
from auditor.engine.views import ViewStore, split_version
from auditor.engine.vector import Env, factorize, mask
from auditor.errors import RuleError
from auditor.rules.model import Lookup

DX_FRAME_COLUMNS = [
    "claim_id", "member_id", "member_birth_date", "member_sex", "billing_npi", "rendering_npi",
    "service_date", "received_date", "claim_type", "type_of_bill", "place_of_service", "payer",
    "procedure_code", "charge", "source_file", "_row",
]


class Joined:
    """A reference join aligned with a frame: ``ref`` rows (NaN where none), which rows had data.

    ``checked``: a version of the table is in effect on the row's date; ``missing_dates``: dates of
    rows that could not be checked. The join may be held per distinct key (``spread`` maps each
    frame row to its key's row): ``ref`` is then built on first use, and ``take`` picks rows and
    columns without building it. Other DataFrame attributes are those of ``ref``.
    """

    def __init__(self, ref: pd.DataFrame, checked: np.ndarray, missing_dates: pd.Series,
                 spread: np.ndarray | None = None):
        self._base, self._spread = ref, spread
        self._ref = ref if spread is None else None
        self._cols: dict[str, pd.Series] = {}
        self.checked, self.missing_dates = checked, missing_dates

    @property
    def ref(self) -> pd.DataFrame:
        if self._ref is None:
            self._ref = self._base.iloc[self._spread].reset_index(drop=True)
        return self._ref

    @property
    def columns(self) -> pd.Index:
        return self._base.columns

    def take(self, rows: np.ndarray, columns: list[str] | None = None) -> pd.DataFrame:
        """``ref`` rows `rows` (positions in the frame), only `columns`, with a fresh RangeIndex."""
        if self._ref is not None:
            base, pick = self._ref, rows
        else:
            base, pick = self._base, self._spread[rows]
        if columns is not None:
            base = base[columns]
        return base.iloc[pick].reset_index(drop=True)

    def __len__(self) -> int:
        return len(self._spread) if self._spread is not None else len(self._base)

    def __getitem__(self, key):
        if self._ref is None and isinstance(key, str) and key in self._base.columns \
                and not self._base.columns.has_duplicates:
            # One column, spread to the rows (kept: a condition may read it again).
            if key not in self._cols:
                self._cols[key] = self._base[key].iloc[self._spread].reset_index(drop=True)
            return self._cols[key]
        return self.ref[key]

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.ref, name)


def take_rows(frame: pd.DataFrame, rows: np.ndarray, columns: list[str] | None = None) -> pd.DataFrame:
    """Rows of a frame (or of a Joined) with a fresh RangeIndex; only `columns`, if given."""
    if isinstance(frame, Joined):  # a reference join held per distinct key: pick without building it
        return frame.take(rows, columns)
    n = len(frame)
    if len(rows) == n and n and isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0 \
            and frame.index.step == 1 and rows[0] == 0 and rows[-1] == n - 1 and (np.diff(rows) == 1).all():
        # Every row in order: the frame itself (no copy; selecting columns would copy them).
        return frame.reset_index(drop=True)
    if columns is None or frame.columns.has_duplicates:
        return (frame if columns is None else frame[columns]).iloc[rows].reset_index(drop=True)
    # Column by column: taking a few columns out of a wide frame's 2-D blocks copies them whole.
    if not columns:
        out = pd.DataFrame(index=pd.RangeIndex(len(rows)))
    else:  # (concat keeps one block per column: no copy into 2-D blocks)
        out = pd.concat([frame[c].iloc[rows].reset_index(drop=True) for c in columns], axis=1)
        out.columns = frame.columns[frame.columns.get_indexer(columns)]
    out.attrs = dict(frame.attrs)
    return out


class Context:
    def __init__(self, lines: pd.DataFrame, store, as_of: date):
        self.lines = lines.reset_index(drop=True)
        # Derived tables (auditor.engine.views) are read through the store like stored kinds.
        self.store = store if isinstance(store, ViewStore) else ViewStore(store)
        self.as_of = as_of
        self._dx: pd.DataFrame | None = None
        self._gids: dict = {}
        self._codes: dict = {}
        self.scopes: dict = {}  # (id(rule), over) -> (rule, rows in scope), see kinds.in_scope
        self._joins: dict = {}
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
            self._dx = self._build_diagnoses()
        return self._dx

    def _build_diagnoses(self) -> pd.DataFrame:
        # Integer work only: claims as codes, the first line per claim by one lexsort, the claim's
        # date and total by grouped min/sum, then one take of the claim fields per diagnosis row.
        ln = self.lines
        cc, cu = self.codes("lines", "claim_id")
        idx = np.flatnonzero(cc >= 0)
        lnum = ln["line_number"].to_numpy(dtype="float64", na_value=np.inf)  # empty line numbers last
        rowv = ln["_row"].to_numpy()
        first = _first_line_per_claim(cc, len(cu), idx, lnum, rowv)
        if first is None:  # general case: sort by claim, line number, row
            order = idx[np.lexsort((rowv[idx], lnum[idx], cc[idx]))]
            cs = cc[order]
            first = order[np.r_[True, cs[1:] != cs[:-1]]] if len(order) else order
        by_claim = pd.DataFrame({"_c": cc[idx], "_date": ln["service_date"].to_numpy()[idx],
                                 "_charge": ln["charge"].to_numpy()[idx]}).groupby("_c", sort=True)
        min_date = by_claim["_date"].min().to_numpy()  # indexed by claim code (0..k-1, all present)
        total = by_claim["_charge"].sum().to_numpy()
        rows, pos, codes = [], [], []
        by_row = first[np.argsort(rowv[first], kind="stable")]
        if len(by_row) < 2 or (np.diff(rowv[by_row]) > 0).all():
            # Claims in the order of their first line's _row, diagnoses by position: row-major
            # order of the (claims x 12) matrix is already the frame's order (_row, position).
            mat = np.empty((len(by_row), len(DX_COLUMNS)), dtype=object)
            for j, col in enumerate(DX_COLUMNS):
                mat[:, j] = ln[col].to_numpy(dtype=object)[by_row]
            i, j = np.nonzero(~pd.isna(mat))
            if len(i):
                rows, pos, codes = [by_row[i]], [(j + 1).astype(np.int64)], [mat[i, j]]
        else:  # repeated _row values: gather by position, then sort
            for i, col in enumerate(DX_COLUMNS, start=1):
                vals = ln[col].to_numpy(dtype=object)[first]
                keep = ~pd.isna(vals)
                if keep.any():
                    rows.append(first[keep])
                    pos.append(np.full(int(keep.sum()), i, dtype=np.int64))
                    codes.append(vals[keep])
        base_cols = [c for c in DX_FRAME_COLUMNS if c not in ("service_date", "charge")]
        if not rows:
            dx = ln[base_cols].iloc[:0].copy()
            dx["service_date"] = ln["service_date"].iloc[:0].to_numpy()
            dx["charge"] = ln["charge"].iloc[:0].to_numpy()
            dx["code"] = pd.Series(dtype=object)
            dx["position"] = pd.Series(dtype=np.int64)
        else:
            r, p, code = np.concatenate(rows), np.concatenate(pos), np.concatenate(codes)
            if len(rows) > 1:
                o = np.lexsort((p, rowv[r]))
                r, p, code = r[o], p[o], code[o]
            if ln.columns.has_duplicates:
                dx = ln[base_cols].iloc[r].reset_index(drop=True)
            else:  # column by column (selecting columns of a wide frame copies its blocks)
                dx = pd.concat([ln[c].iloc[r].reset_index(drop=True) for c in base_cols], axis=1)
                dx.columns = ln.columns[ln.columns.get_indexer(base_cols)]
            dx["service_date"] = min_date[cc[r]]
            dx["charge"] = total[cc[r]]
            dx["code"] = pd.Series(code, dtype=object)  # (pandas 3 would infer its "str" dtype)
            dx["position"] = p
        if rows:
            # The claim fields are the first line's: their codes are the lines' codes at those rows,
            # in the same code space (so lines and diagnoses share group ids without re-encoding).
            for c in base_cols:
                if ("lines", c) in self._codes:
                    lc, lu = self._codes[("lines", c)]
                    self._codes[("diagnoses", c)] = (lc[r], lu)
        dx = dx.reset_index(drop=True)
        dx["line_number"] = pd.arrays.IntegerArray(np.zeros(len(dx), dtype=np.int64), np.ones(len(dx), dtype=bool))
        dx["procedure_code"] = None
        return dx

    def modifier_set_ids(self, over: str) -> np.ndarray:
        """One integer per row for the set of its modifiers in any order (equal ids = equal sorted modifiers).

        Modifiers are compared as text with empty as ""; the four columns are encoded in one shared
        code space from their distinct values, sorted per row and combined.
        """
        key = (over, "_modifier_set")
        if key not in self._gids:
            cols = [f"modifier_{i}" for i in range(1, 5)]
            enc = [self.codes(over, c) for c in cols]
            texts = [pd.Series(u, dtype=object).astype(str).to_numpy(dtype=object) for _, u in enc]
            joint = pd.Index(pd.unique(np.concatenate([np.array([""], dtype=object), *texts])), dtype=object)
            empty = int(joint.get_loc(""))
            m = []
            for (codes, _), txt in zip(enc, texts):
                pos = joint.get_indexer(pd.Index(txt, dtype=object)).astype(np.int64)
                m.append(by_code(pos, codes, empty))  # (an empty modifier is "")
            # Sort each row's four codes with a five-step sorting network (column-wise min/max):
            # the same order as sorting every row, without a per-row sort.
            for i, j in ((0, 1), (2, 3), (0, 2), (1, 3), (1, 2)):
                m[i], m[j] = np.minimum(m[i], m[j]), np.maximum(m[i], m[j])
            self._gids[key] = combine_codes([(c, len(joint)) for c in m])
        return self._gids[key]

    def codes(self, over: str, col: str) -> tuple[np.ndarray, np.ndarray]:
        """A column encoded once per run: (int64 code per row, -1 where empty; the distinct values)."""
        key = (over, col)
        if key not in self._codes:
            frame = self.frame(over)
            if col not in frame.columns:
                raise RuleError(f"no column '{col}' over {over}")
            codes, uniques = factorize(frame[col])  # shared with the expression evaluator's cache
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
                if ua is ub:  # already one code space (diagnoses' claim fields come from the lines)
                    parts.append((np.concatenate([ca, cb]), len(ua)))
                    continue
                both = pd.Index(pd.concat([pd.Series(ua, dtype=a[c].dtype), pd.Series(ub, dtype=b[c].dtype)],
                                          ignore_index=True))
                inv, uniq = pd.factorize(both)  # (codes, distinct values)
                inv = inv.astype(np.int64)
                ma, mb = by_code(inv[:len(ua)], ca, -1), by_code(inv[len(ua):], cb, -1)
                parts.append((np.concatenate([ma, mb]), len(uniq)))
            g = combine_codes(parts)
            self._gids[key] = (g[: len(a)], g[len(a):])
        return self._gids[key]

    # -- reference data -------------------------------------------------------------------------
    def version_codes(self, over: str, kind: str) -> tuple[pd.Series, np.ndarray, np.ndarray]:
        """Version in effect on each row's date of service: (version ids, code per row with -1 = none,
        the versions in order of first appearance). Resolved once per distinct date."""
        key = (over, "_versions", kind)
        if key not in self._gids:
            dates = self.frame(over)["service_date"]
            dcodes, duniq = self.codes(over, "service_date")
            first = np.full(len(duniq), len(dates), dtype=np.int64)
            np.minimum.at(first, dcodes[dcodes >= 0], np.flatnonzero(dcodes >= 0))
            na_rows = np.flatnonzero(dcodes < 0)
            reps = np.append(first, na_rows[:1])  # each distinct date once, and one empty date
            per_date = self.version_ids(kind, dates.iloc[reps].reset_index(drop=True))
            pcodes, vuniq = pd.factorize(per_date)  # (a few thousand distinct dates at most)
            row_rep = np.where(dcodes < 0, len(first), dcodes)
            vids = (per_date.iloc[row_rep] if len(reps) else per_date).set_axis(dates.index)
            vcodes = pcodes.astype(np.int64)[row_rep] if len(reps) else np.zeros(0, dtype=np.int64)
            self._gids[key] = (vids, vcodes, vuniq)
        return self._gids[key]

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
        """Left-join every row of a frame with the table version in effect on its date.

        A row's result depends only on its key values, its date (for ``dated_by``) and the
        version in effect; claim lines repeat a few hundred codes, so the join runs once per
        distinct (keys, date, version) and is spread to the rows with one take.
        """
        key = (over, lk)
        if key in self._joins:
            return self._joins[key]
        frame = self.frame(over)
        n = len(frame)
        dates = frame["service_date"]
        vids, vcodes, vuniq = self.version_codes(over, lk.table)
        checked = vcodes >= 0
        if lk.optional and not checked.any():
            checked = np.ones(n, dtype=bool)  # no such table: every row uses the rule's defaults
        counts = np.bincount(vcodes[vcodes >= 0], minlength=len(vuniq))
        for vid, cnt in zip(vuniq, counts):
            self.note_version(lk.table, vid, int(cnt))
        reps, spread = self._lookup_classes(over, lk, vids, vcodes, vuniq)
        if reps is None:
            joined = Joined(self._lookup_rows(frame, lk, vids, checked), checked, dates[~checked])
        else:
            # (the join reads the key columns and the date only: not the whole wide frame)
            need = [c for c in dict.fromkeys([a for a, _ in lk.on] + ["service_date"]) if c in frame.columns]
            sub = take_rows(frame, reps, need)
            ref = self._lookup_rows(sub, lk, vids.iloc[reps].reset_index(drop=True), checked[reps])
            joined = Joined(ref, checked, dates[~checked], spread)
        self._joins[key] = joined
        return joined

    def _lookup_classes(self, over: str, lk: Lookup, vids: pd.Series, vcodes: np.ndarray, vuniq):
        """Rows that share keys, version (and date, for dated tables): (representative rows, row -> class).

        (None, None) when the rows are too varied to gain, or a table key is empty (a join could
        then match empty keys, which this grouping would not tell apart).
        """
        frame = self.frame(over)
        n = len(frame)
        if n < 1024 or not len(vuniq):
            return None, None
        left_cols = [a for a, _ in lk.on]
        right_cols = [b for _, b in lk.on]
        if any(c not in frame.columns for c in left_cols):
            return None, None  # _lookup_rows raises the error
        for vid in vuniq:
            table = self.filtered_table(lk.table, vid, lk.where, f"lookup of {lk.table}")
            if any(c not in table.columns for c in right_cols):
                return None, None
            if table[right_cols].isna().to_numpy().any():
                return None, None
        key = (over, "_lookup_classes", tuple(left_cols), lk.dated_by is not None, lk.table)
        if key not in self._gids:  # the same for every lookup of this table on these columns
            self._gids[key] = self._classes(over, left_cols + (["service_date"] if lk.dated_by is not None else []),
                                            vcodes, len(vuniq))
        return self._gids[key]

    def _classes(self, over: str, cols: list[str], vcodes: np.ndarray, nversions: int):
        n = len(self.frame(over))
        parts = []
        for c in cols:
            codes, uniques = self.codes(over, c)
            parts.append((np.where(codes < 0, len(uniques), codes), len(uniques) + 1))  # empty = one more value
        parts.append((np.where(vcodes < 0, nversions, vcodes), nversions + 1))  # no version: one more value
        span = 1
        for _, card in parts:
            span *= card
        if span <= max(4 * n, 1 << 20):  # small key space: the mixed-radix key is the class
            cls = np.zeros(n, dtype=np.int64)
            for codes, card in parts:
                cls = cls * card + codes
            k = span
        else:
            cls = combine_codes(parts)
            k = int(cls.max()) + 1
        first = np.full(k, n, dtype=np.int64)
        np.minimum.at(first, cls, np.arange(n))
        present = np.flatnonzero(first < n)
        if len(present) > n // 2:
            return None, None
        fr = first[present]
        order = np.argsort(fr, kind="stable")  # classes in order of their first row
        where = np.empty(k, dtype=np.int64)
        where[present[order]] = np.arange(len(present))
        return fr[order], where[cls]

    def _lookup_rows(self, frame: pd.DataFrame, lk: Lookup, vids: pd.Series, checked: np.ndarray) -> pd.DataFrame:
        n = len(frame)
        pieces: list[pd.DataFrame] = []
        for vid in pd.unique(vids[checked & vids.notna().to_numpy()]):  # optional table absent: no versions
            rows = np.flatnonzero((vids == vid).to_numpy())
            table = self.filtered_table(lk.table, vid, lk.where, f"lookup of {lk.table}")
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
        return ref


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
        tab, index = table_index(table, right_cols)
        if len(right_cols) == 1:
            pos = index.get_indexer(sub[left_cols[0]].astype(object))
        else:
            pos = index.get_indexer(pd.MultiIndex.from_frame(sub[left_cols].astype(object)))
        hit = pos >= 0
        if len(tab):
            out = tab.iloc[np.where(hit, pos, 0)].reset_index(drop=True)
            out = out.astype({c: object for c in out.columns if out[c].dtype == bool})
            out.loc[~hit] = np.nan
        else:  # a version with no row left (e.g. its `where` keeps none): nothing matches
            out = tab.reset_index(drop=True).reindex(pd.RangeIndex(len(sub)))
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


def _first_line_per_claim(cc: np.ndarray, nclaims: int, idx: np.ndarray, lnum: np.ndarray,
                          rowv: np.ndarray) -> np.ndarray | None:
    """Each claim's first line (lowest line number, then lowest _row), ordered by claim code.

    One pass (a minimum per claim of an integer key) instead of sorting every line; None when
    the key does not fit (line numbers or _row values out of range, _row not increasing).
    """
    if not len(idx):
        return idx
    if len(rowv) > 1 and not (np.diff(rowv) > 0).all():
        return None  # the key below orders rows by position, which must be the order of _row
    ln = lnum[idx]
    finite = np.isfinite(ln)
    top = ln[finite].max() if finite.any() else 0.0
    if top >= 2 ** 31 or (finite.any() and (ln[finite].min() < 0 or (ln[finite] % 1 != 0).any())):
        return None
    rank = np.where(finite, ln, top + 1).astype(np.int64)
    key = rank * len(cc) + idx  # line number first, then position
    best = np.full(nclaims, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(best, cc[idx], key)
    return best % len(cc)


_TABLE_CODES: dict[int, tuple] = {}  # id(table) -> (weak reference to the table, {column: codes})


def _table_cache(table: pd.DataFrame) -> dict:
    """What is derived from a reference table, kept as long as the table object lives."""
    entry = _TABLE_CODES.get(id(table))
    if entry is None or entry[0]() is not table:
        key = id(table)
        entry = (weakref.ref(table, lambda _ref, key=key: _TABLE_CODES.pop(key, None)), {})
        _TABLE_CODES[key] = entry
    return entry[1]


def table_index(table: pd.DataFrame, cols: list[str]) -> tuple[pd.DataFrame, pd.Index]:
    """The table with one row per key (the last), and an index of its keys (cached with the table)."""
    cache = _table_cache(table)
    key = ("index", tuple(cols))
    if key not in cache:
        tab = table.drop_duplicates(cols, keep="last")
        if len(cols) == 1:
            index = pd.Index(tab[cols[0]].astype(object))
        else:
            index = pd.MultiIndex.from_frame(tab[cols].astype(object))
        cache[key] = (tab, index)
    return cache[key]


def table_codes(table: pd.DataFrame, col: str) -> tuple[np.ndarray, np.ndarray]:
    """A reference table's column as (int64 code per row, -1 = empty; distinct values as objects).

    Cached with the table object, so a store's cached table (a 1M-row PTP file) is encoded once
    per process, not once per run or per rule.
    """
    cache = _table_cache(table)
    if col not in cache:
        codes, uniques = pd.factorize(table[col])
        cache[col] = (codes.astype(np.int64, copy=False), np.asarray(uniques, dtype=object))
    return cache[col]


def table_keys(table: pd.DataFrame, col: str, universe: pd.Index) -> np.ndarray:
    """Position of each table row's `col` value in `universe` (object Index), -1 where absent."""
    codes, uniques = table_codes(table, col)
    pos = universe.get_indexer(pd.Index(uniques, dtype=object)).astype(np.int64)
    return by_code(pos, codes, -1)


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
            key[~bad] = dense_ids(key[~bad])
            span = int(key.max()) + 1 if n else 1
        key = key * card + np.maximum(codes, 0)
        span *= card
    out = np.full(n, -1, dtype=np.int64)
    ok = ~bad
    if ok.any():
        out[ok] = dense_ids(key[ok])
    return out
