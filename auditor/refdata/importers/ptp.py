"""NCCI procedure-to-procedure (PTP) edits: practitioner `ccipra…` and outpatient hospital `ccioph…`.

Layout (tab-delimited .txt; the .xlsx has the same columns): a copyright line and a title line,
then a column header wrapped over four rows, then one edit per row:
Column 1, Column 2, `*` = in existence prior to 1996, effective date YYYYMMDD, deletion date
YYYYMMDD or `*` (still active), modifier indicator 0/1/9, PTP edit rationale.
CMS splits a quarter into parts (…-f1 … -f4); parts of one version combine into one version.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pandas as pd

from auditor.errors import InputError
from auditor.refdata._io import Source, check_codes, norm, parse_dates, parse_int, pick, prefer_text, read_grid
from auditor.refdata.importers._base import Options, chosen, names_of
from auditor.refdata.store import Imported

_VERSION_RE = re.compile(r"v(\d{2})(\d)r(\d+)", re.I)
_PART_RE = re.compile(r"[-_ ]f(\d+)(?=[-_. ]|$)", re.I)
_CODE = re.compile(r"^[0-9A-Z]{5}$")
_DATE = re.compile(r"^\d{8}$")


def ncci_version(name: str) -> tuple[str, date] | None:
    """`ccipra-v322r0-f1.txt` -> ("v322r0", 2026-07-01): NCCI version 32.2 = 3rd quarter of 2026.

    NCCI version NN.Q starts on the first day of quarter Q+1 of year 1994+NN (v32.0 = Jan 2026).
    """
    m = _VERSION_RE.search(name)
    if not m:
        return None
    major, minor = int(m.group(1)), int(m.group(2))
    if minor > 3:
        return None
    return m.group(0).lower(), date(1994 + major, 1 + 3 * minor, 1)


def _setting(src: Source, opts: Options) -> str:
    s = opts.norm_setting()
    if s is None:
        n = " ".join(names_of(src)).lower()
        if "ccipra" in n or "practitioner" in n:
            s = "practitioner"
        elif "ccioph" in n or "hospital" in n:
            s = "hospital"
    if s not in ("practitioner", "hospital"):
        raise InputError(
            f"{src.label}: cannot tell practitioner (ccipra) from outpatient hospital (ccioph) edits "
            "from the file name; pass --setting practitioner or --setting hospital"
        )
    return f"ptp_{s}"


def _is_header(r: list[str]) -> bool:
    return bool(r) and norm(r[0]) in ("COLUMN1", "COLUMNI") and len(r) > 1 and norm(r[1]).startswith("COLUMN2")


def _is_data(r: list[str]) -> bool:
    return len(r) >= 6 and bool(_CODE.match(r[0].strip())) and bool(_CODE.match(r[1].strip())) and bool(_DATE.match(r[3].strip()))


def _wanted(src: Source) -> bool:
    n = src.name.lower()
    return n.endswith((".txt", ".xlsx", ".csv")) and "readme" not in n and not n.startswith("ncci")


def read_source(src: Source, opts: Options) -> Imported:
    kind = _setting(src, opts)
    sep = "\t"
    if not src.is_xlsx and src.name.lower().endswith(".csv"):
        sep = ","
    grid = read_grid(src, _is_header, _is_data, sep=sep, quoting=sep != "\t", what="'Column 1 / Column 2' header")
    d = grid.data
    if d.shape[1] < 6:
        raise src.error(f"expected 7 columns (Column 1 … PTP Edit Rationale), found {d.shape[1]}")
    d = d[(d[0].str.strip() != "") | (d[1].str.strip() != "")]
    c1, c2 = d[0].str.strip().str.upper(), d[1].str.strip().str.upper()
    check_codes(src, grid, c1, "Column 1")
    check_codes(src, grid, c2, "Column 2")
    frame = pd.DataFrame(
        {
            "column_1": c1,
            "column_2": c2,
            "prior_1996": d[2].str.strip() == "*",
            "effective_date": parse_dates(src, grid, d[3], "Effective Date", none_values=()),
            "deletion_date": parse_dates(src, grid, d[4], "Deletion Date", none_values=("*", "")),
            "modifier_indicator": parse_int(src, grid, d[5], "Modifier", allowed=(0, 1, 9), dtype="int8"),
            "rationale": d[6].str.strip() if 6 in d.columns else pd.Series("", index=d.index, dtype="str"),
        }
    )
    note = ""
    ver = next((v for v in map(ncci_version, names_of(src)) if v), None)
    valid_from = opts.effective or (ver[1] if ver else None)
    if valid_from is None:
        # Rows carry their own dates; the version only orders files. The newest edit date is the
        # best guess of the quarter the file belongs to.
        valid_from = frame["effective_date"].max().date() if len(frame) else date.today()
        note = f"no NCCI version in the file name: version starts {valid_from} (newest effective date; use --effective)"
    version_id = opts.version_id or (ver[0] if ver else valid_from.isoformat())
    m = next((m for m in (_PART_RE.search(Path(n).stem) for n in names_of(src)) if m), None)
    part = f"f{int(m.group(1))}" if m else Path(src.name).stem.lower()
    return Imported(kind, version_id, valid_from, None, frame, src.name, src.sha256, part=part, note=note)


def read(paths: list[Path], opts: Options) -> list[Imported]:
    return [read_source(s, opts) for s in chosen(
        paths, lambda srcs, path: prefer_text(pick(srcs, _wanted, "NCCI PTP file (.txt or .xlsx)", path)))]
