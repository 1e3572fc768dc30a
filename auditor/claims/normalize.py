"""Type and clean raw claim frames into the canonical line frame.

Nothing is dropped: a cell that does not parse becomes empty and its text is kept in a sparse
``<column>__raw`` column, so the data-quality rules can name the column and the value.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from auditor.claims.columns import (CANONICAL, CODE_COLUMNS, COMBINED, DATE_COLUMNS, DX_COLUMNS,
                                    MODIFIER_COLUMNS, NUMBER_COLUMNS)
from auditor.distinct import representatives

_SPLIT = re.compile(r"[,;|]")
_SEX = {"M": "M", "F": "F", "U": "U", "MALE": "M", "FEMALE": "F", "UNKNOWN": "U"}
_CLAIM_TYPE = {"PROFESSIONAL": "professional", "P": "professional", "837P": "professional",
               "INSTITUTIONAL": "institutional", "I": "institutional", "837I": "institutional"}


def _text(s: pd.Series) -> pd.Series:
    """Stripped text with empty cells as missing (object dtype: fast joins via categoricals later)."""
    if s.dtype.kind in "iuf":
        # Numeric cells from Parquet/Excel (e.g. an NPI stored as a number) back to text without ".0".
        out = s.astype("Int64").astype(object) if (s.dropna() % 1 == 0).all() else s.astype(object)
        out = out.astype(str).where(s.notna(), None)
    else:
        out = s.astype(object).where(s.notna(), None)
        out = out.map(lambda v: v if v is None or isinstance(v, str) else str(v), na_action="ignore") \
            if out.map(type, na_action="ignore").ne(str).any() else out
        out = out.str.strip()
    return out.where(out.ne("") & out.notna(), None).astype(object)


def _by_unique(s: pd.Series, fn, min_rows: int = 4096):
    """``fn(s)`` for an elementwise ``fn``, computed once per distinct value and spread to the rows.

    Claim columns repeat a few values (codes, NPIs, dates) over many rows, so this turns a
    million Python-level string operations into a few thousand. ``fn`` gets one representative
    row of each distinct value (its first occurrence, so the dtype and the value are the
    original's) and returns a Series or a tuple of Series; the result equals ``fn(s)``.
    """
    n = len(s)
    if n < min_rows:
        return fn(s)
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    k = len(uniques)
    if k > n // 2:
        return fn(s)
    first, codes = representatives(codes, k)
    res = fn(s.iloc[first].reset_index(drop=True))

    def spread(r: pd.Series) -> pd.Series:
        return r.iloc[codes].set_axis(s.index)

    return tuple(spread(r) for r in res) if isinstance(res, tuple) else spread(res)


def _split(s: pd.Series, n: int) -> pd.DataFrame:
    lists = s.astype(object).where(s.notna(), "").astype(str).str.split(_SPLIT, regex=True)
    width = max(n, int(lists.str.len().max() or 0))
    cols = {}
    for i in range(width):
        part = lists.str.get(i).astype("string").str.strip()
        cols[i] = part.astype(object).where(part.notna() & part.ne(""), None)
    return pd.DataFrame(cols, index=s.index)


_DATE_FORMATS = [("%Y-%m-%d", 10), ("%Y%m%d", 8), ("%m/%d/%Y", None)]


def parse_dates(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse YYYY-MM-DD, YYYYMMDD or MM/DD/YYYY (Excel datetimes too); return (dates, failed mask)."""
    if pd.api.types.is_datetime64_any_dtype(s):
        out = pd.to_datetime(s).dt.tz_localize(None) if getattr(s.dt, "tz", None) else pd.to_datetime(s)
        return out.astype("datetime64[ns]").dt.normalize(), pd.Series(False, index=s.index)
    txt = _text(s)
    given = txt.notna()
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    todo = given.copy()
    for fmt, width in _DATE_FORMATS:
        if not todo.any():
            break
        cand = txt[todo]
        if width == 10:  # Excel/Parquet datetimes arrive as "YYYY-MM-DD 00:00:00"
            cand = cand.where(~cand.str.match(r"^\d{4}-\d{2}-\d{2}[ T]00:00(:00)?$"), cand.str.slice(0, 10))
        parsed = pd.to_datetime(cand, format=fmt, errors="coerce")
        # Years outside 1677-2262 (e.g. 9999-12-31) do not fit the engine's dates: reported as unreadable.
        ok = parsed.notna() & (parsed >= pd.Timestamp.min) & (parsed <= pd.Timestamp.max)
        out.loc[ok[ok].index] = parsed[ok].astype("datetime64[ns]")
        todo.loc[ok[ok].index] = False
    return out, given & out.isna()


def parse_numbers(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    if s.dtype.kind in "iuf":
        return s.astype("float64"), pd.Series(False, index=s.index)
    txt = _text(s)
    # Commas only as thousands separators ("1,250.00"); "125,00" is ambiguous and reported, not guessed.
    shape_ok = txt.str.fullmatch(r"[-+]?\$?[-+]?(\d{1,3}(,\d{3})+|\d*)(\.\d*)?").fillna(False).astype(bool)
    clean = txt.where(~txt.str.contains(",", regex=False).fillna(False).astype(bool) | shape_ok, "x")
    clean = clean.str.replace(r"[$,\s]", "", regex=True)
    out = pd.to_numeric(clean, errors="coerce").astype("float64")
    return out, txt.notna() & out.isna()


def _pad_pos(pos: pd.Series) -> pd.Series:
    return pos.where(~pos.str.fullmatch(r"\d").fillna(False).astype(bool), "0" + pos)


def _code_text(s: pd.Series, col: str) -> pd.Series:
    """A code column's cleaning: stripped text, upper-cased codes, dx without the dot, POS 2 digits."""
    s = _text(s)
    if col in MODIFIER_COLUMNS or col in DX_COLUMNS or col in ("procedure_code", "type_of_bill", "revenue_code"):
        s = s.str.upper()
    if col in DX_COLUMNS:
        s = s.str.replace(".", "", regex=False)
    if col == "place_of_service":
        s = _pad_pos(s)
    return s.astype(object)


def normalize(raw: pd.DataFrame, source_file: str, start_row: int = 0,
              source_rows: pd.Series | None = None) -> pd.DataFrame:
    """One file's raw frame (canonical names) -> the canonical line frame (see docs/DESIGN.md)."""
    n = len(raw)
    raw = raw.reset_index(drop=True)
    out: dict[str, pd.Series] = {}
    bad: dict[str, pd.Series] = {}

    def keep_bad(col: str, mask: pd.Series, text: pd.Series) -> None:
        if mask.any():
            bad[col + "__raw"] = text.where(mask, None).astype(object)

    for combined, cols in COMBINED.items():
        if combined in raw.columns:
            parts = _split(raw[combined], len(cols))
            # Rows whose numbered columns are all empty take their values from the combined column.
            use = pd.Series(True, index=raw.index)
            for c in cols:
                if c in raw.columns:
                    use &= _text(raw[c]).isna()
            for i, c in enumerate(cols):
                current = raw[c].astype(object) if c in raw.columns else pd.Series([None] * n, dtype=object)
                raw[c] = current.where(~use, parts[i] if i in parts.columns else None)
            if parts.shape[1] > len(cols):
                extra = parts.iloc[:, len(cols):].notna().any(axis=1)
                keep_bad(combined, extra, _text(raw[combined]))

    empty = pd.Series([None] * n, index=raw.index, dtype=object)
    texts: dict[str, pd.Series] = {}

    def text(col: str) -> pd.Series:  # _text of a raw column, once per column and per distinct value
        if col not in texts:
            texts[col] = _by_unique(raw[col], _text)
        return texts[col]

    for col in CODE_COLUMNS:
        s = _by_unique(raw[col], lambda v, col=col: _code_text(v, col)) if col in raw.columns else empty
        if col == "place_of_service" and col not in raw.columns:
            s = _pad_pos(s)
        out[col] = s.astype(object)

    ln_text = text("line_number") if "line_number" in raw.columns else empty
    ln, ln_bad = _by_unique(raw["line_number"], parse_numbers) if "line_number" in raw.columns else (empty.astype(float), empty.notna())
    ln_bad = ln_bad | (ln.notna() & ((ln % 1 != 0) | (ln < 1)))
    out["line_number"] = pd.array(ln.where(~ln_bad), dtype="Int64") if n else pd.array([], dtype="Int64")
    keep_bad("line_number", ln_bad, ln_text)

    for col in NUMBER_COLUMNS:
        if col in raw.columns:
            val, failed = _by_unique(raw[col], parse_numbers)
            keep_bad(col, failed, text(col))
        else:
            val = pd.Series(np.nan, index=raw.index)
        out[col] = val
    for col in DATE_COLUMNS:
        if col in raw.columns:
            val, failed = _by_unique(raw[col], parse_dates)
            keep_bad(col, failed, text(col))
        else:
            val = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
        out[col] = val

    sex_text = _by_unique(raw["member_sex"], lambda v: _text(v).str.upper()) if "member_sex" in raw.columns else empty
    sex = _by_unique(sex_text, lambda v: v.map(_SEX))
    keep_bad("member_sex", sex_text.notna() & sex.isna(), sex_text)
    out["member_sex"] = sex.astype(object).where(sex.notna(), None)

    ct_text = _by_unique(raw["claim_type"], lambda v: _text(v).str.upper()) if "claim_type" in raw.columns else empty
    ct = _by_unique(ct_text, lambda v: v.map(_CLAIM_TYPE))
    keep_bad("claim_type", ct_text.notna() & ct.isna(), ct_text)
    out["claim_type"] = ct.fillna("professional").astype(object)

    out["dx_pointers"] = (text("dx_pointers") if "dx_pointers" in raw.columns else empty).astype(object)
    # The rendering provider defaults to the billing provider (as on a claim without loop 2310B).
    out["rendering_npi"] = out["rendering_npi"].where(out["rendering_npi"].notna(), out["billing_npi"])

    frame = pd.DataFrame({c: out[c] for c in CANONICAL})
    for c, v in bad.items():
        frame[c] = v
    frame["source_file"] = source_file
    frame["source_row"] = (source_rows.to_numpy() if source_rows is not None
                           else np.arange(1, n + 1, dtype=np.int64)) + 0
    frame["_row"] = np.arange(start_row, start_row + n, dtype=np.int64)
    return frame


def combine(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate per-file canonical frames; sparse ``__raw`` columns are filled where absent."""
    if not frames:
        return normalize(pd.DataFrame(columns=CANONICAL), "")
    df = pd.concat(frames, ignore_index=True, sort=False)
    df["source_file"] = df["source_file"].astype("category")
    df["_row"] = np.arange(len(df), dtype=np.int64)
    return df
