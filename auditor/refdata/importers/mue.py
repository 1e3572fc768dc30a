"""NCCI Medically Unlikely Edits (MUE): practitioner, outpatient hospital and DME supplier files.

CSV layout (the .xlsx has the same columns): the first cell is a multi-line quoted copyright
notice; the header cell is `HCPCS/\\nCPT Code` (with a newline), then `<Setting> MUE Values`,
`MUE Adjudication Indicator` given as text (`2 Date of Service Edit: Policy`), `MUE Rationale`.
A file is in effect from the date in its name (`…_Eff_07-01-2026.csv`) or --effective.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from auditor.errors import InputError
from auditor.refdata._io import Source, check_codes, norm, parse_int, pick, prefer_text, read_grid
from auditor.refdata.importers._base import Options, chosen, default_version_id, eff_from_name, names_of
from auditor.refdata.store import Imported

MAI_TEXT = {1: "1 Line Edit", 2: "2 Date of Service Edit: Policy", 3: "3 Date of Service Edit: Clinical"}


def _is_header(r: list[str]) -> bool:
    return len(r) >= 3 and norm(r[0]).startswith("HCPCS") and "MUE" in norm(" ".join(r[1:]))


def _setting(src: Source, opts: Options, header: list[str]) -> str:
    s = opts.norm_setting()
    if s is None:
        for text in [*names_of(src), header[1] if len(header) > 1 else ""]:
            n = norm(text)
            if "PRACTITIONER" in n:
                s = "practitioner"
            elif "OUTPATIENTHOSPITAL" in n or "FACILITY" in n or "HOSPITAL" in n:
                s = "hospital"
            elif "DME" in n:
                s = "dme"
            if s:
                break
    if s is None:
        raise InputError(
            f"{src.label}: cannot tell the MUE table (practitioner, outpatient hospital, DME) from the "
            "file name or header; pass --setting practitioner|hospital|dme"
        )
    return f"mue_{s}"


def read_source(src: Source, opts: Options) -> Imported:
    grid = read_grid(src, _is_header, what="'HCPCS/CPT Code' header")
    kind = _setting(src, opts, grid.header)
    d = grid.data
    if d.shape[1] < 3:
        raise src.error(f"expected 4 columns (code, MUE value, adjudication indicator, rationale), found {d.shape[1]}")
    d = d[d[0].str.strip() != ""]
    code = d[0].str.strip().str.upper()
    check_codes(src, grid, code, "HCPCS/CPT Code")
    mai_text = d[2].str.strip()
    mai = parse_int(src, grid, mai_text.str.extract(r"^\s*(\d)", expand=False).fillna(mai_text), "MUE Adjudication Indicator", allowed=(1, 2, 3), dtype="int8")
    # A bare digit (older files, hand-made tables) gets CMS's wording so messages read the same.
    mai_text = mai_text.where(~mai_text.str.fullmatch(r"\d"), mai.map(MAI_TEXT))
    frame = pd.DataFrame(
        {
            "code": code,
            "mue_value": parse_int(src, grid, d[1], grid.header[1].replace("\n", " ") if len(grid.header) > 1 else "MUE Values"),
            "mai": mai,
            "mai_text": mai_text,
            "rationale": d[3].str.strip() if 3 in d.columns else pd.Series("", index=d.index, dtype="str"),
        }
    )
    if (frame["mue_value"] < 0).any():
        i = frame.index[frame["mue_value"] < 0][0]
        raise src.error("negative MUE value", line=grid.line(i), column="MUE Values")
    valid_from = opts.effective or eff_from_name(*names_of(src))
    if valid_from is None:
        raise InputError(
            f"{src.label}: no effective date in the file name (CMS names end in _Eff_MM-DD-YYYY); pass --effective YYYY-MM-DD"
        )
    return Imported(kind, default_version_id(opts, valid_from, ""), valid_from, None, frame, src.name, src.sha256)


def _wanted(src: Source) -> bool:
    n = src.name.lower()
    return n.endswith((".csv", ".xlsx")) and "readme" not in n


def read(paths: list[Path], opts: Options) -> list[Imported]:
    return [read_source(s, opts) for s in chosen(
        paths, lambda srcs, path: prefer_text(pick(srcs, _wanted, "MUE table (.csv or .xlsx)", path)))]
