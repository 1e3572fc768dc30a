"""Read claim files (CSV, Parquet, Excel, X12 837) into frames with canonical column names.

Values stay as the file gave them (mostly text); :mod:`auditor.claims.normalize` types them.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from auditor.claims.columns import CANONICAL, COMBINED, REQUIRED
from auditor.claims.mapping import Mapping
from auditor.errors import InputError

TABULAR = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".parquet": "parquet", ".pq": "parquet",
           ".xlsx": "excel", ".xlsm": "excel"}
X12_SUFFIXES = {".837", ".837p", ".837i", ".x12", ".edi", ".txt"}


@dataclass
class ReadResult:
    """One file's lines (canonical names) and the findings its reader raised (e.g. X12 structure)."""

    path: Path
    frame: pd.DataFrame
    sha256: str
    input_findings: list[dict] = field(default_factory=list)
    rows_rejected: int = 0  # rows that could not become lines (each is a DQ010 finding)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _looks_like_x12(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(512).lstrip(b"\xef\xbb\xbf \r\n\t")
    return head[:3] == b"ISA"


def _number_rows(path: Path, rejected: list[dict]) -> None:
    """Find the data-row numbers of rejected rows (pyarrow does not always report them); rare, so a scan is fine."""
    wanted = {}
    for r in rejected:
        wanted.setdefault((r["text"] or "").rstrip("\r\n"), []).append(r)
    with open(path, encoding="utf-8-sig", errors="replace") as fh:
        for i, line in enumerate(fh):
            rows = wanted.get(line.rstrip("\r\n"))
            if rows and i > 0:
                rows.pop(0)["row"] = i
                if not rows:
                    del wanted[line.rstrip("\r\n")]


def _read_csv(path: Path, rejected: list[dict]) -> pd.DataFrame:
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as fh:
        sample = fh.read(65536)
    if not sample.strip():
        raise InputError(f"{path}: the file is empty")
    try:
        dialect = csv.Sniffer().sniff(sample.splitlines()[0], delimiters=",;|\t")
        sep = dialect.delimiter
    except csv.Error:
        sep = ","
    try:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        header = next(csv.reader([sample.splitlines()[0]], delimiter=sep))
        header = [h.strip() for h in header]

        def bad_row(row) -> str:
            # A row with the wrong number of fields cannot be split into columns: it is kept as a
            # data-quality finding (DQ010) instead of failing the file or vanishing.
            rejected.append({"row": (row.number - 1) if row.number is not None else None, "text": row.text,
                             "fields": row.actual_columns, "expected": row.expected_columns,
                             "first_field": (row.text or "").split(sep)[0].strip().strip('"')})
            return "skip"

        # Everything as text: the normalizer decides what a bad value is and reports it per cell.
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=header, skip_rows=1, encoding="utf8"),
            parse_options=pacsv.ParseOptions(delimiter=sep, invalid_row_handler=bad_row),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pa.string() for h in header}, strings_can_be_null=True,
                null_values=[""], quoted_strings_can_be_null=True),
        )
        if any(r["row"] is None for r in rejected):
            _number_rows(path, rejected)
        return table.to_pandas()
    except Exception as exc:  # pyarrow's messages name the row; fall back to pandas for odd files
        try:
            return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, na_values=[""],
                               encoding="utf-8-sig", skipinitialspace=True)
        except Exception:
            raise InputError(f"{path}: cannot read as CSV: {str(exc).splitlines()[0]}") from None


def _read_excel(path: Path) -> pd.DataFrame:
    try:
        df = pd.read_excel(path, dtype=object, engine="openpyxl")
    except Exception as exc:
        raise InputError(f"{path}: cannot read as an Excel workbook: {exc}") from None
    df.columns = [str(c).strip() for c in df.columns]
    return df


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as exc:
        raise InputError(f"{path}: cannot read as Parquet: {exc}") from None


def _apply_mapping(df: pd.DataFrame, mapping: Mapping, path: Path) -> pd.DataFrame:
    rename = {}
    lower = {str(c).strip().lower(): c for c in df.columns}
    for src, dst in mapping.columns.items():
        col = src if src in df.columns else lower.get(src.strip().lower())
        if col is not None:
            rename[col] = dst
    df = df.rename(columns=rename)
    # Canonical names are matched case-insensitively so "Claim_ID" works without a mapping.
    canon = set(CANONICAL) | set(COMBINED)
    df = df.rename(columns={c: str(c).strip().lower() for c in df.columns
                            if str(c).strip().lower() in canon and c not in canon})
    if df.columns.duplicated().any():
        dup = sorted(set(df.columns[df.columns.duplicated()]))
        raise InputError(f"{path}: column(s) {', '.join(map(str, dup))} appear more than once (check the mapping)")
    for col, value in mapping.defaults.items():
        if col not in df.columns:
            df[col] = value
    return df


def check_required(df: pd.DataFrame, path: Path) -> None:
    """A missing required column is an input error naming the file and the column."""
    present = set(df.columns)
    missing = [c for c in REQUIRED if c not in present
               and not (c == "dx_1" and "diagnosis_codes" in present)]
    if missing:
        raise InputError(
            f"{path}: missing required column(s): {', '.join(missing)} "
            f"(found: {', '.join(map(str, df.columns[:30]))}; use --mapping to rename columns)")


def read_file(path: str | Path, mapping: Mapping | None = None) -> ReadResult:
    """Read one claim file of any supported format."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file")
    if p.is_dir():
        raise InputError(f"{p}: is a folder, not a claim file")
    mapping = mapping or Mapping()
    digest = sha256_of(p)
    suffix = p.suffix.lower()
    if suffix in X12_SUFFIXES and _looks_like_x12(p):
        from auditor.claims.edi import read_x12

        frame, findings = read_x12(p)
        return ReadResult(p, frame, digest, findings)
    kind = TABULAR.get(suffix)
    if kind is None:
        raise InputError(f"{p}: unknown file format '{suffix or '(none)'}'; "
                         "expected .csv, .parquet, .xlsx or an X12 837 file (.837, .x12, .edi, .txt)")
    rejected: list[dict] = []
    frame = _read_csv(p, rejected) if kind == "csv" else {"excel": _read_excel, "parquet": _read_parquet}[kind](p)
    frame = _apply_mapping(frame, mapping, p)
    check_required(frame, p)
    findings = [{"rule_id": "DQ010", "claim_id": r["first_field"] or None, "line_number": None,
                 "message": f"Row {r['row']} of {p.name} has {r['fields']} fields, expected {r['expected']}; "
                            "it could not be split into columns and was not audited",
                 "subject": f"row {r['row']}"} for r in rejected]
    return ReadResult(p, frame, digest, findings, rows_rejected=len(rejected))
