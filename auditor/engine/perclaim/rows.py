"""Claim lines as plain dicts: raw text -> canonical rows, without pandas.

:func:`normalize_rows` gives, value for value, what :func:`auditor.claims.normalize.normalize`
gives (tests/perclaim check this), but for a few lines it takes microseconds instead of ~30 ms:
the scrub service normalizes every request with it. :func:`rows_from_frame` turns an already
normalized frame into the same dicts (file mode, tests).

A canonical row holds every canonical column (``None`` = empty; dates are ``datetime.date``;
``units``/``charge`` float; ``line_number`` int) plus ``source_file``, ``source_row``, ``_row``
and, only where a value did not parse, ``<column>__raw`` with the text.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime

import numpy as np
import pandas as pd

from auditor.claims.columns import (CANONICAL, CODE_COLUMNS, COMBINED, DATE_COLUMNS, DX_COLUMNS,
                                    MODIFIER_COLUMNS, NUMBER_COLUMNS)

_SPLIT = re.compile(r"[,;|]")
_SEX = {"M": "M", "F": "F", "U": "U", "MALE": "M", "FEMALE": "F", "UNKNOWN": "U"}
_CLAIM_TYPE = {"PROFESSIONAL": "professional", "P": "professional", "837P": "professional",
               "INSTITUTIONAL": "institutional", "I": "institutional", "837I": "institutional"}
_UPPER = set(MODIFIER_COLUMNS) | set(DX_COLUMNS) | {"procedure_code", "type_of_bill", "revenue_code"}
_MONEY_CHARS = re.compile(r"[$,\s]")
# commas only as thousands separators ("1,250.00"); "125,00" is ambiguous and reported, not guessed
_THOUSANDS = re.compile(r"[-+]?\$?[-+]?(\d{1,3}(,\d{3})+|\d*)(\.\d*)?")
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_INF = {"inf": math.inf, "+inf": math.inf, "-inf": -math.inf, "infinity": math.inf,
        "+infinity": math.inf, "-infinity": -math.inf}
_ISO = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_ISO_MIDNIGHT = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]00:00(:00)?$")
# datetime64[ns] can hold these dates only; anything outside is treated as a value that did not parse
_MIN_DATE, _MAX_DATE = date(1677, 9, 22), date(2262, 4, 11)
_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%m/%d/%Y")


def text(v) -> str | None:
    """Stripped text, empty as None (``_text`` of the normalizer)."""
    if v is None:
        return None
    if isinstance(v, float) and v != v:
        return None
    s = (v if isinstance(v, str) else str(v)).strip()
    return s or None


def parse_number(t: str | None) -> float | None:
    """Text -> float as ``pd.to_numeric`` reads it after removing '$', ',' and blanks; None if it does not."""
    if t is None or ("," in t and not _THOUSANDS.fullmatch(t)):
        return None
    s = _MONEY_CHARS.sub("", t)
    if _NUMBER.fullmatch(s):
        return float(s)
    return _INF.get(s.lower())


def parse_date(t: str | None) -> date | None:
    """YYYY-MM-DD, YYYYMMDD or MM/DD/YYYY (as the normalizer tries them) -> date, else None."""
    if t is None:
        return None
    m = _ISO.fullmatch(t)
    if m:  # the common case, without strptime
        try:
            d = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            d = None
        if d is not None:
            return d if _MIN_DATE <= d <= _MAX_DATE else None
    for fmt in _FORMATS:
        cand = t
        if fmt == "%Y-%m-%d" and _ISO_MIDNIGHT.match(cand):
            cand = cand[:10]
        try:
            d = datetime.strptime(cand, fmt).date()
        except ValueError:
            continue
        return d if _MIN_DATE <= d <= _MAX_DATE else None
    return None


def _split(v) -> list[str | None]:
    s = "" if v is None or (isinstance(v, float) and v != v) else (v if isinstance(v, str) else str(v))
    return [p.strip() or None for p in _SPLIT.split(s)]


def normalize_rows(raw: list[dict], source_file: str, start_row: int = 0,
                   source_rows: list[int] | None = None) -> list[dict]:
    """Raw line dicts (canonical names, text values) -> canonical rows, as ``normalize`` would."""
    out = []
    for i, r in enumerate(raw):
        r = dict(r)
        bad: dict[str, str] = {}
        for combined, cols in COMBINED.items():
            if combined in r:
                parts = _split(r[combined])
                if all(text(r.get(c)) is None for c in cols if c in r):
                    for k, c in enumerate(cols):
                        r[c] = parts[k] if k < len(parts) else None
                if any(p is not None for p in parts[len(cols):]):
                    bad[combined + "__raw"] = text(r[combined])
        row: dict = {}
        for col in CODE_COLUMNS:
            s = text(r.get(col))
            if s is not None and col in _UPPER:
                s = s.upper()
                if col in DX_COLUMNS:
                    s = s.replace(".", "")
            row[col] = s
        pos = row["place_of_service"]
        if pos is not None and re.fullmatch(r"\d", pos):
            row["place_of_service"] = "0" + pos

        t = text(r.get("line_number"))
        ln = parse_number(t)
        if t is not None and (ln is None or math.isinf(ln) or ln % 1 != 0 or ln < 1):
            bad["line_number__raw"] = t
            ln = None
        row["line_number"] = None if ln is None else int(ln)
        for cols, parse in ((NUMBER_COLUMNS, parse_number), (DATE_COLUMNS, parse_date)):
            for col in cols:
                t = text(r.get(col))
                v = parse(t)
                if t is not None and v is None:
                    bad[col + "__raw"] = t
                row[col] = v
        t = text(r.get("member_sex"))
        t = t.upper() if t is not None else None
        row["member_sex"] = _SEX.get(t) if t is not None else None
        if t is not None and row["member_sex"] is None:
            bad["member_sex__raw"] = t
        t = text(r.get("claim_type"))
        t = t.upper() if t is not None else None
        ct = _CLAIM_TYPE.get(t) if t is not None else None
        if t is not None and ct is None:
            bad["claim_type__raw"] = t
        row["claim_type"] = ct or "professional"
        row["dx_pointers"] = text(r.get("dx_pointers"))
        if row["rendering_npi"] is None:  # as on a claim without loop 2310B
            row["rendering_npi"] = row["billing_npi"]
        row = {c: row[c] for c in CANONICAL}
        row.update(bad)
        row["source_file"] = source_file
        row["source_row"] = int(source_rows[i]) if source_rows is not None else i + 1
        row["_row"] = start_row + i
        out.append(row)
    return out


def _py(v):
    """A pandas/numpy cell -> a plain Python value (None for any missing value, dates as date)."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float):
        return None if v != v else v
    if isinstance(v, str):
        return v
    if isinstance(v, datetime):  # pd.Timestamp is a datetime
        return v.date()
    if isinstance(v, np.datetime64):
        return None if np.isnat(v) else v.astype("datetime64[D]").item()
    if isinstance(v, np.generic):
        return _py(v.item())
    return v


def rows_from_frame(frame) -> list[dict]:
    """A canonical line frame -> row dicts; ``__raw`` keys only where the value failed to parse."""
    cols = list(frame.columns)
    raw_cols = [c for c in cols if c.endswith("__raw")]
    plain = [c for c in cols if c not in raw_cols]
    data = {c: [_py(x) for x in frame[c].astype(object).tolist()] for c in plain}
    raws = {c: [_py(x) for x in frame[c].astype(object).tolist()] for c in raw_cols}
    out = []
    for i in range(len(frame)):
        row = {c: data[c][i] for c in plain}
        for c, vals in raws.items():
            if vals[i] is not None:
                row[c] = vals[i]
        out.append(row)
    return out
