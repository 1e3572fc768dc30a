"""Physician fee schedule relative value file (PPRRVU, e.g. `PPRRVU2026_Jul_nonQPP.csv`, .xlsx, or
inside the `RVU26C.zip` release archive).

About ten title/notice rows come first, then a header spread over several rows whose last row
starts with `HCPCS, MOD` (`GLOB` above `DAYS`, `MULT` above `PROC`, …). The release month in the
name (Jan/Apr/Jul/Oct, or release letter A/B/C/D in RVUyyX) is when it takes effect.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pandas as pd

from auditor.errors import InputError
from auditor.refdata._io import Grid, Source, check_codes, norm, pick, read_grid
from auditor.refdata.importers._base import Options, chosen, default_version_id, month_number, names_of
from auditor.refdata.store import Imported

GLOB_VALUES = ("000", "010", "090", "XXX", "YYY", "ZZZ", "MMM")
_TARGETS = {
    "code": ("HCPCS",),
    "modifier": ("MOD",),
    "status": ("STATUSCODE", "STATUS"),
    "glob_days": ("GLOBDAYS",),
    "mult_proc": ("MULTPROC",),
    "bilat_surg": ("BILATSURG",),
    "asst_surg": ("ASSTSURG",),
    "co_surg": ("COSURG",),
    "team_surg": ("TEAMSURG",),
}
_LABELS = {"status": "STATUS CODE", "glob_days": "GLOB DAYS", "mult_proc": "MULT PROC", "bilat_surg": "BILAT SURG",
           "asst_surg": "ASST SURG", "co_surg": "CO- SURG", "team_surg": "TEAM SURG"}


def release_from_name(*names: str) -> date | None:
    """`PPRRVU2026_Jul…` / `PPRRVU26_JUL` -> 2026-07-01; `RVU26C.zip` -> 2026-07-01."""
    for n in names:
        m = re.search(r"PPRRVU(\d{2}|\d{4})[ _-]*(JAN|APR|JUL|OCT)", n, re.I)
        if m:
            y = int(m.group(1))
            return date(y + 2000 if y < 100 else y, month_number(m.group(2)), 1)
        m = re.search(r"RVU(\d{2})([ABCD])(?![A-Z])", n, re.I)
        if m:
            return date(2000 + int(m.group(1)), 1 + 3 * "ABCD".index(m.group(2).upper()), 1)
    return None


def _is_header(r: list[str]) -> bool:
    return len(r) > 15 and norm(r[0]) == "HCPCS" and norm(r[1]) in ("MOD", "MODIFIER")


def _columns(src: Source, grid: Grid) -> dict[str, int]:
    above = grid.above[-1] if grid.above else []
    names = []
    for j, h in enumerate(grid.header):
        a = above[j] if j < len(above) else ""
        names.append((norm(h), norm(f"{a} {h}")))
    cols: dict[str, int] = {}
    for key, targets in _TARGETS.items():
        pos = next((j for t in targets for j, (one, two) in enumerate(names) if t in (one, two)), None)
        if pos is None:
            raise src.error(f"missing column {_LABELS.get(key, key.upper())} in the header row starting 'HCPCS, MOD'")
        cols[key] = pos
    return cols


def read_source(src: Source, opts: Options) -> Imported:
    grid = read_grid(src, _is_header, what="'HCPCS, MOD' header row")
    cols = _columns(src, grid)
    d = grid.data
    code = d[cols["code"]].str.strip().str.upper()
    d, code = d[code != ""], code[code != ""]
    check_codes(src, grid, code, "HCPCS")
    val = lambda k: d[cols[k]].str.strip().str.upper()  # noqa: E731
    glob = val("glob_days")
    glob = glob.where(~glob.str.fullmatch(r"\d{1,2}"), glob.str.zfill(3))  # 10 -> 010 after a spreadsheet
    bad = (glob != "") & ~glob.isin(GLOB_VALUES)
    if bad.any():
        i = bad.index[bad][0]
        raise src.error(f"unknown GLOB DAYS value {glob[i]!r} (expected {', '.join(GLOB_VALUES)})", line=grid.line(i), column="GLOB DAYS")
    blank_na = lambda s: s.where(s != "")  # noqa: E731
    frame = pd.DataFrame(
        {
            "code": code,
            "modifier": blank_na(val("modifier")),
            "status": blank_na(val("status")),
            "glob_days": blank_na(glob),
            **{k: blank_na(val(k)) for k in ("mult_proc", "bilat_surg", "asst_surg", "co_surg", "team_surg")},
        }
    )
    valid_from = opts.effective or release_from_name(*names_of(src))
    if valid_from is None:
        raise InputError(
            f"{src.label}: no release in the file name (PPRRVU2026_Jul… or RVU26C); pass --effective YYYY-MM-DD"
        )
    return Imported("mpfs", default_version_id(opts, valid_from, ""), valid_from, None, frame, src.name, src.sha256)


def _wanted(src: Source) -> bool:
    n = src.name.lower()
    return n.startswith("pprrvu") and n.endswith((".csv", ".xlsx"))


def _choose(srcs: list[Source], path: Path) -> list[Source]:
    srcs = pick(srcs, _wanted, "PPRRVU file (.csv or .xlsx)", path)
    # The QPP and non-QPP files carry the same indicators; read one, CSV first.
    return [min(srcs, key=lambda s: ("nonqpp" not in s.name.lower(), s.is_xlsx, s.name))]


def read(paths: list[Path], opts: Options) -> list[Imported]:
    return [read_source(s, opts) for s in chosen(paths, _choose)]
