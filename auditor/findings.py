"""The findings table: one row per finding, the single error report of a run (as pandera's failure cases)."""

from __future__ import annotations

import numpy as np
import pandas as pd

FINDING_COLUMNS = [
    "rule_id",
    "category",
    "severity",
    "claim_id",
    "line_number",
    "related_line",
    "member_id",
    "billing_npi",
    "rendering_npi",
    "service_date",
    "procedure_code",
    "message",
    "amount_at_risk",
    "reference",
    "fingerprint",
    "source_file",
]

CATEGORIES = [
    "data_quality",
    "invalid_code",
    "ncci_ptp",
    "mue",
    "add_on",
    "age_conflict",
    "sex_conflict",
    "dx_sequencing",
    "excludes1",
    "modifier",
    "duplicate",
    "global_surgery",
    "frequency",
    "medical_necessity",
    "timely_filing",
    "utilization",
]

SEVERITIES = ["error", "warning", "info"]
SEVERITY_RANK = {"error": 3, "warning": 2, "info": 1}

_STR_COLS = [
    "rule_id", "category", "severity", "claim_id", "member_id", "billing_npi", "rendering_npi",
    "procedure_code", "message", "reference", "fingerprint", "source_file",
]


_EMPTY: pd.DataFrame | None = None


def empty_findings() -> pd.DataFrame:
    """An empty findings table with the right dtypes."""
    global _EMPTY
    if _EMPTY is None:  # built once: every rule without findings asks for one
        _EMPTY = conform(pd.DataFrame({c: pd.Series(dtype=object) for c in FINDING_COLUMNS}))
    return _EMPTY.copy()


def conform(df: pd.DataFrame) -> pd.DataFrame:
    """Order and type the finding columns (missing ones are added empty)."""
    for c in FINDING_COLUMNS:
        if c not in df.columns:
            df[c] = None
    df = df[FINDING_COLUMNS].copy()
    for c in _STR_COLS:
        df[c] = df[c].astype(object).where(df[c].notna(), None)
    df["line_number"] = pd.array(df["line_number"], dtype="Int64")
    df["related_line"] = pd.array(df["related_line"], dtype="Int64")
    df["service_date"] = pd.to_datetime(df["service_date"])
    df["amount_at_risk"] = pd.to_numeric(df["amount_at_risk"], errors="coerce").astype("float64")
    return df.reset_index(drop=True)


def fingerprints(rule_id: pd.Series, claim_id: pd.Series, line_number: pd.Series,
                 related_line: pd.Series, subject: pd.Series) -> pd.Series:
    """Stable 16-hex-digit fingerprints: the same finding gets the same value in every run."""
    key = pd.DataFrame({
        "r": rule_id.astype(str).to_numpy(),
        "c": claim_id.astype(str).to_numpy(),
        "l": pd.Series(line_number).astype("Int64").astype(str).to_numpy(),
        "p": pd.Series(related_line).astype("Int64").astype(str).to_numpy(),
        "s": pd.Series(subject).fillna("").astype(str).to_numpy(),
    })
    # hash_pandas_object uses a fixed default key, so values are stable across runs and machines.
    h = pd.util.hash_pandas_object(key, index=False).to_numpy(dtype=np.uint64)
    return pd.Series(hex16(h), index=rule_id.index, dtype=object)


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_NIBBLES = np.arange(60, -4, -4, dtype=np.uint64)


def hex16(h: np.ndarray) -> np.ndarray:
    """uint64 values as 16 lower-case hex digits each (f"{x:016x}"), as an object array of str."""
    h = np.asarray(h, dtype=np.uint64)
    digits = _HEX[((h[:, None] >> _NIBBLES) & np.uint64(0xF)).astype(np.intp)]
    return np.ascontiguousarray(digits).view("S16").ravel().astype("U16").astype(object)
