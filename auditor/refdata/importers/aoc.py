"""NCCI add-on code (AOC) edits: CSV, tab-delimited text or .xlsx, usually inside a zip.

Columns (found by name, any order, notice rows above the header allowed): Add-on Code, Primary
Code, AOC Edit Type (1, 2, 3), AOC Effective Date, AOC Deletion Date, Primary Code Effective Date,
Primary Code Deletion Date. Dates are Julian `YYYYDDD` (2024001 = 2024-01-01), `*` = none.
Primary code `CCCCC` means the contractor defines the primaries (type 2).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from auditor.refdata._io import Source, check_codes, column_map, norm, parse_dates, parse_int, pick, prefer_text, read_grid
from auditor.refdata.importers._base import Options, chosen, default_version_id, names_of, quarter_from_name
from auditor.refdata.store import Imported

_WANTED = {
    "addon_code": ("ADDONCODE", "AOC", "ADDON"),
    "primary_code": ("PRIMARYCODE", "PRIMARY"),
    "aoc_type": ("AOCEDITTYPE", "EDITTYPE", "AOCTYPE"),
    "addon_effective": ("AOCEFFECTIVEDATE", "ADDONCODEEFFECTIVEDATE", "AOCEFFDATE"),
    "addon_deletion": ("AOCDELETIONDATE", "ADDONCODEDELETIONDATE", "AOCDELDATE"),
    "primary_effective": ("PRIMARYCODEEFFECTIVEDATE", "PRIMARYEFFECTIVEDATE"),
    "primary_deletion": ("PRIMARYCODEDELETIONDATE", "PRIMARYDELETIONDATE"),
}
_LABELS = {
    "addon_code": "Add-on Code",
    "primary_code": "Primary Code",
    "aoc_type": "AOC Edit Type",
    "addon_effective": "AOC Effective Date",
    "addon_deletion": "AOC Deletion Date",
    "primary_effective": "Primary Code Effective Date",
    "primary_deletion": "Primary Code Deletion Date",
}


def _is_header(r: list[str]) -> bool:
    n = [norm(c) for c in r]
    return any(c.startswith("ADDONCODE") for c in n) and any(c.startswith("PRIMARYCODE") for c in n)


def _sep(src: Source) -> str:
    head = src.data[:20000].decode("latin-1")
    return "\t" if head.count("\t") > head.count(",") else ","


def read_source(src: Source, opts: Options) -> Imported:
    grid = read_grid(src, _is_header, sep=_sep(src), what="'Add-on Code / Primary Code' header")
    # exact header names only here: "Add-on Code" must not grab "Add-on Code Effective Date"
    cols = column_map(src, grid.header, _WANTED, tuple(_WANTED))
    d = grid.data
    d = d[d[cols["addon_code"]].str.strip() != ""]
    get = {k: d[i] for k, i in cols.items()}
    addon = get["addon_code"].str.strip().str.upper()
    primary = get["primary_code"].str.strip().str.upper()
    check_codes(src, grid, addon, _LABELS["addon_code"])
    check_codes(src, grid, primary[primary != ""], _LABELS["primary_code"])
    frame = pd.DataFrame(
        {
            "addon_code": addon,
            "primary_code": primary.where(primary != ""),
            "aoc_type": parse_int(src, grid, get["aoc_type"], _LABELS["aoc_type"], allowed=(1, 2, 3), dtype="int8"),
            **{
                k: parse_dates(src, grid, get[k], _LABELS[k], none_values=("*", ""), julian=True)
                for k in ("addon_effective", "addon_deletion", "primary_effective", "primary_deletion")
            },
        }
    )
    note = ""
    valid_from = opts.effective or quarter_from_name(*names_of(src))
    if valid_from is None:
        latest = pd.concat([frame["addon_effective"], frame["primary_effective"]]).max()
        valid_from = latest.date()
        note = f"no quarter (e.g. 2026Q3) in the file name: version starts {valid_from} (newest effective date; use --effective)"
    return Imported("aoc", default_version_id(opts, valid_from, ""), valid_from, None, frame, src.name, src.sha256, note=note)


def _wanted(src: Source) -> bool:
    n = src.name.lower()
    return n.endswith((".csv", ".txt", ".xlsx")) and "readme" not in n and "change" not in n


def _choose(srcs: list[Source], path: Path) -> list[Source]:
    srcs = prefer_text(pick(srcs, _wanted, "AOC edit table (.csv, .txt or .xlsx)", path))
    return srcs[:1] if len({Path(s.name).stem.lower() for s in srcs}) == 1 else srcs


def read(paths: list[Path], opts: Options) -> list[Imported]:
    return [read_source(s, opts) for s in chosen(paths, _choose)]
