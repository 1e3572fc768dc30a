"""ICD-10-CM code set from the CMS order file (`icd10cm_order_2026.txt`, also `icd10cm-order-2026.txt`).

Fixed width: order number (5), space, code without dot (7, left-justified), space, header flag
(0 = header, not billable; 1 = billable), space, short description (60), space, long description.
FY N is in effect from N-1-10-01 to N-09-30 (an April release of FY N from N-04-01).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pandas as pd

from auditor.errors import InputError
from auditor.refdata._io import Source, encoding_of, pick
from auditor.refdata.builtin import fiscal_year_period
from auditor.refdata.importers._base import Options, chosen, names_of
from auditor.refdata.store import Imported

_NAME_RE = re.compile(r"icd10cm[ _-]*order", re.I)
_LINE_RE = r"\d{5} [A-Z][0-9A-Z ]{6} [01] .*"


def fiscal_year_from_name(*names: str) -> int | None:
    for n in names:
        m = re.search(r"(?<!\d)(20\d\d)(?!\d)", n)
        if m:
            return int(m.group(1))
    return None


def read_source(src: Source, opts: Options) -> Imported:
    text = src.data.decode(encoding_of(src.data), errors="replace")
    lines = pd.Series(text.splitlines(), dtype="str")
    lineno = pd.RangeIndex(1, len(lines) + 1)
    lines.index = lineno
    lines = lines[lines.str.strip() != ""]
    if lines.empty:
        raise src.error("empty file")
    ok = lines.str.fullmatch(_LINE_RE)
    if not ok.all():
        i = ok.index[~ok][0]
        raise src.error(
            f"not an ICD-10-CM order file line (order 5 digits, code 7, header flag 0/1, descriptions): {lines[i][:60]!r}",
            line=int(i),
        )
    code = lines.str.slice(6, 13).str.strip()
    short = lines.str.slice(16, 76).str.strip()
    long = lines.str.slice(77).str.strip()
    frame = pd.DataFrame(
        {
            "code": code,
            "billable": lines.str.slice(14, 15) == "1",
            "description": long.where(long != "", short),
        }
    )
    dup = frame["code"].duplicated()
    if dup.any():
        raise src.error(f"code {frame['code'][dup].iloc[0]} listed twice", line=int(dup.index[dup][0]))
    names = names_of(src)
    fy = opts.fiscal_year or fiscal_year_from_name(*names)
    if fy is None:
        raise InputError(f"{src.label}: no fiscal year in the file name (icd10cm_order_2026.txt); pass --fiscal-year N")
    valid_from, valid_to = fiscal_year_period(fy)
    suffix = ""
    if any(re.search(r"apr", n, re.I) for n in names):
        valid_from, suffix = date(fy, 4, 1), "-apr"  # the April 1 update of the same fiscal year
    if opts.effective:
        valid_from = opts.effective
        suffix = "" if opts.effective == fiscal_year_period(fy)[0] else f"-{opts.effective.isoformat()}"
    if not valid_from <= valid_to:
        raise InputError(f"{src.label}: --effective {valid_from} is after the end of FY{fy} ({valid_to})")
    vid = opts.version_id or f"FY{fy}{suffix}"
    return Imported("icd10cm", vid, valid_from, valid_to, frame, src.name, src.sha256)


def _wanted(src: Source) -> bool:
    return bool(_NAME_RE.search(src.name)) and src.name.lower().endswith(".txt") and "addend" not in src.name.lower()


def read(paths: list[Path], opts: Options) -> list[Imported]:
    return [read_source(s, opts) for s in chosen(
        paths, lambda srcs, path: pick(srcs, _wanted, "ICD-10-CM order file (icd10cm_order_YYYY.txt)", path))]
