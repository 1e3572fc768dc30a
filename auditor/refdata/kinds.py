"""Reference-data kinds: the normalized columns and dtypes of each table (see docs/DESIGN.md)."""

from __future__ import annotations

import pandas as pd

from auditor.errors import InputError

STR, BOOL, DATE, INT8, INT64, NINT64 = "str", "bool", "date", "int8", "int64", "Int64"

_PTP = {
    "column_1": STR,
    "column_2": STR,
    "prior_1996": BOOL,
    "effective_date": DATE,
    "deletion_date": DATE,
    "modifier_indicator": INT8,
    "rationale": STR,
}
_MUE = {"code": STR, "mue_value": INT64, "mai": INT8, "mai_text": STR, "rationale": STR}
_LCD = {"article_id": STR, "code": STR}

SCHEMAS: dict[str, dict[str, str]] = {
    "icd10cm": {"code": STR, "billable": BOOL, "description": STR},
    "ptp_practitioner": _PTP,
    "ptp_hospital": _PTP,
    "mue_practitioner": _MUE,
    "mue_hospital": _MUE,
    "mue_dme": _MUE,
    "hcpcs": {
        "code": STR,
        "record_type": STR,
        "add_date": DATE,
        "effective_date": DATE,
        "term_date": DATE,
        "action_code": STR,
        "description": STR,
    },
    "aoc": {
        "addon_code": STR,
        "primary_code": STR,
        "aoc_type": INT8,
        "addon_effective": DATE,
        "addon_deletion": DATE,
        "primary_effective": DATE,
        "primary_deletion": DATE,
    },
    "mpfs": {
        "code": STR,
        "modifier": STR,
        "status": STR,
        "glob_days": STR,
        "mult_proc": STR,
        "bilat_surg": STR,
        "asst_surg": STR,
        "co_surg": STR,
        "team_surg": STR,
    },
    "mce": {"edit_type": STR, "code_type": STR, "code": STR},
    "mce_age_groups": {"group": STR, "min_age": INT64, "max_age": INT64, "edit_type": STR},
    "excludes1": {"code": STR, "excluded": STR, "note": STR},
    "lcd_hcpc": _LCD,
    "lcd_icd10_covered": _LCD,
    "lcd_icd10_noncovered": _LCD,
    "frequency_limits": {"code": STR, "max_count": INT64, "period_days": NINT64, "description": STR},
}

# Kinds whose rows carry their own effective/deletion dates: the file is a history, so a date
# before the first imported version is still judged by the earliest version.
ROW_DATED = frozenset({"ptp_practitioner", "ptp_hospital", "hcpcs", "aoc"})

# The date columns that bound each row of a row-dated kind (start, end) - used for `refdata list`.
ROW_DATE_COLUMNS = {
    "ptp_practitioner": ("effective_date", "deletion_date"),
    "ptp_hospital": ("effective_date", "deletion_date"),
    "hcpcs": ("add_date", "term_date"),  # ACT EFF DT dates the last action, not the code's start
    "aoc": ("addon_effective", "addon_deletion"),
}


def _coerce(s: pd.Series, dtype: str) -> pd.Series:
    if dtype == STR:
        return s if s.dtype == "str" else s.astype("str")
    if dtype == DATE:
        return pd.to_datetime(s, errors="coerce").astype("datetime64[ns]")
    if dtype == BOOL:
        return s.fillna(False).astype(bool)
    if dtype == NINT64:
        return pd.to_numeric(s, errors="coerce").astype("Int64")
    return pd.to_numeric(s).astype(dtype)


def conform(kind: str, df: pd.DataFrame, strict: bool = True) -> pd.DataFrame:
    """Return `df` with the kind's columns in order and dtypes.

    strict (importers): every column must be there, others are dropped.
    not strict (RefStore.from_frames, hand-made example tables): known columns present are
    coerced, missing ones are left out and extra columns are kept.
    """
    schema = SCHEMAS.get(kind)
    if schema is None:
        return df.reset_index(drop=True)
    if strict:
        missing = [c for c in schema if c not in df.columns]
        if missing:
            raise InputError(f"{kind} table is missing column(s) {', '.join(missing)}")
        cols = list(schema)
    else:
        cols = [c for c in schema if c in df.columns] + [c for c in df.columns if c not in schema]
    out = {c: (_coerce(df[c], schema[c]) if c in schema else df[c]).reset_index(drop=True) for c in cols}
    return pd.DataFrame(out, columns=cols)


def empty(kind: str) -> pd.DataFrame:
    """An empty table of the kind, with the right dtypes."""
    return conform(kind, pd.DataFrame({c: pd.Series([], dtype=object) for c in SCHEMAS[kind]}))
