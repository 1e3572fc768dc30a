"""Medicare Coverage Database (MCD) billing-and-coding article extracts.

`article_x_hcpc_code.csv` -> lcd_hcpc, `article_x_icd10_covered.csv` -> lcd_icd10_covered,
`article_x_icd10_noncovered.csv` -> lcd_icd10_noncovered; as single CSV files or inside the MCD
download zip (which holds zips of CSVs). Columns are taken loosely by name: `article_id` and a
code column (`hcpc_code_id`, `icd10_code_id`, …); when `article_version` is there, only each
article's latest version is kept. Codes are stored upper case without dots; a numeric article id
gets the `A` prefix CMS shows (52458 -> A52458).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from auditor.errors import InputError
from auditor.refdata._io import Source, norm, pick, read_grid
from auditor.refdata.importers._base import Options, chosen, default_version_id
from auditor.refdata.store import Imported

_FILES = {
    "articlexhcpccode": "lcd_hcpc",
    "articlexicd10covered": "lcd_icd10_covered",
    "articlexicd10noncovered": "lcd_icd10_noncovered",
}
_CODE_COLS = ("HCPCCODEID", "HCPCSCODEID", "HCPCCODE", "HCPCSCODE", "ICD10CODEID", "ICD10CODE", "CODE")


def _kind_of(src: Source, header: list[str] | None = None) -> str | None:
    stem = norm(Path(src.name).stem).lower()
    for key, kind in _FILES.items():
        if stem.startswith(key):
            return kind
    if header is not None:
        h = [norm(c) for c in header]
        if any(c.startswith("HCPC") for c in h):
            return "lcd_hcpc"
        if any("NONCOVERED" in c for c in h) or "noncovered" in stem:
            return "lcd_icd10_noncovered"
        if any(c.startswith("ICD10") for c in h):
            return "lcd_icd10_covered"
    return None


def _is_header(r: list[str]) -> bool:
    return "ARTICLEID" in {norm(c) for c in r}


def read_source(src: Source, opts: Options) -> Imported:
    grid = read_grid(src, _is_header, max_scan=20, what="header with article_id")
    kind = _kind_of(src, grid.header)
    if kind is None:
        raise InputError(f"{src.label}: cannot tell whether it lists HCPCS codes or covered/non-covered ICD-10 codes")
    h = [norm(c) for c in grid.header]
    aid = h.index("ARTICLEID")
    code_col = next((h.index(c) for c in _CODE_COLS if c in h), None)
    if code_col is None:
        raise src.error(f"no code column (expected one of hcpc_code_id, icd10_code_id) in header: {', '.join(grid.header)}")
    d = grid.data
    df = pd.DataFrame(
        {
            "article_id": d[aid].str.strip(),
            "code": d[code_col].str.strip().str.upper().str.replace(".", "", regex=False),
        }
    )
    # MCD extracts hold the number (52458); people and CMS pages know the article as A52458.
    digits = df["article_id"].str.fullmatch(r"\d+").fillna(False).astype(bool)
    df.loc[digits, "article_id"] = "A" + df.loc[digits, "article_id"]
    if "ARTICLEVERSION" in h:
        ver = pd.to_numeric(d[h.index("ARTICLEVERSION")], errors="coerce")
        latest = ver.groupby(df["article_id"]).transform("max")
        df = df[(ver == latest) | latest.isna()]
    df = df[(df["article_id"] != "") & (df["code"] != "")].drop_duplicates()
    bad = ~df["code"].str.fullmatch(r"[0-9A-Z]{3,7}")
    if bad.any():
        i = bad.index[bad][0]
        raise src.error(f"not a code: {df['code'][i]!r}", line=grid.line(i), column=grid.header[code_col])
    vf = opts.effective
    return Imported(kind, default_version_id(opts, vf, "current"), vf, None, df, src.name, src.sha256)


def read(paths: list[Path], opts: Options) -> list[Imported]:
    return [read_source(s, opts) for s in chosen(paths, lambda srcs, path: pick(
        srcs, lambda s: s.name.lower().endswith(".csv") and _kind_of(s) is not None,
        "article_x_hcpc_code.csv / article_x_icd10_covered.csv / article_x_icd10_noncovered.csv", path))]
