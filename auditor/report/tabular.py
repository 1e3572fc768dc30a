"""findings.csv and findings.json: the full findings table for other tools."""

from __future__ import annotations

import json
import os

import pandas as pd

from auditor.findings import conform
from auditor.report._io import FORMULA_START, atomic_path

_JSON_CHUNK = 50_000


def write_findings_csv(findings: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write every finding to CSV (UTF-8, CRLF, ISO dates, empty cell for NA).

    Text cells that would start a formula when the CSV is opened in a spreadsheet are prefixed
    with a single quote (``=SUM(A1)`` -> ``'=SUM(A1)``); numbers are written as numbers.
    """
    df = conform(findings.copy())
    for col in df.columns:
        if df[col].dtype == object:
            s = df[col]
            hit = s.str.startswith(FORMULA_START).fillna(False).astype(bool)
            if hit.any():
                df[col] = s.where(~hit, "'" + s.where(hit, ""))
    with atomic_path(path) as tmp:
        # CRLF as RFC 4180 says; it also makes the csv module quote fields holding a bare CR.
        df.to_csv(tmp, index=False, date_format="%Y-%m-%d", lineterminator="\r\n", encoding="utf-8")


def write_findings_json(findings: pd.DataFrame, path: str | os.PathLike, summary: dict | None = None) -> None:
    """Write ``{"summary": {...}, "findings": [{...}, ...]}``: ISO dates, null for NA, text unchanged.

    JSON is data for programs, so text is not formula-neutralised here.
    """
    df = conform(findings.copy())
    df["service_date"] = df["service_date"].dt.strftime("%Y-%m-%d")
    head = json.dumps(summary or {}, ensure_ascii=False, default=str)
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(f'{{"summary": {head}, "findings": [')
            # pandas' C encoder is ~10x faster than json.dumps of dicts; chunks keep memory flat.
            for start in range(0, len(df), _JSON_CHUNK):
                part = df.iloc[start:start + _JSON_CHUNK].to_json(orient="records", double_precision=15,
                                                                  force_ascii=False)
                fh.write(("," if start else "") + part[1:-1])
            fh.write("]}\n")
