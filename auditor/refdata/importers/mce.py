"""Medicare Code Editor (MCE) code lists as one flat file -> kinds `mce` and `mce_age_groups`.

Layout (tab-delimited; comma also accepted): MCE_Version, ICD_Version, MCE_Section,
MCE_Subsection, MCE_Edit_Type (Newborn_Only, Pediatric_Only, Maternity_Only, Adult_Only,
Female_Only, Male_Only, Principal_Manifestation, Principal_Unacceptable,
Principal_Questionable_Admit, …), ICD_Code_Type (D diagnosis, P procedure), ICD_Code (no dot),
ICD_Desc. MCE version N belongs to fiscal year N + 1983 (v37 = FY2020) and is in effect from
that year's October 1 (open-ended).

Age groups are not in the file: they are the version's defaults (v37: newborn 0-0, pediatric
0-17, maternity 12-55, adult 15-124; v38 and later: maternity 9-64) unless --age-groups
(`maternity=9-64,adult=15-124`) says otherwise.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pandas as pd

from auditor.errors import InputError
from auditor.refdata import kinds as K
from auditor.refdata._io import Source, column_map, norm, pick, read_grid
from auditor.refdata.builtin import fiscal_year_period, mce_age_groups
from auditor.refdata.importers._base import Options, chosen, sources
from auditor.refdata.store import Imported

_WANTED = {
    "version": ("MCEVERSION",),
    "edit_type": ("MCEEDITTYPE", "EDITTYPE"),
    "code_type": ("ICDCODETYPE", "CODETYPE"),
    "code": ("ICDCODE", "CODE"),
}
FY_OFFSET = 1983  # MCE v37 = FY2020


def parse_age_groups(text: str | None) -> dict[str, tuple[int, int]]:
    """'maternity=9-64, adult=15-124' -> {'maternity': (9, 64), 'adult': (15, 124)}."""
    out: dict[str, tuple[int, int]] = {}
    for item in filter(None, (t.strip() for t in (text or "").split(","))):
        m = re.fullmatch(r"([a-z_]+)\s*[=:]\s*(\d{1,3})\s*-\s*(\d{1,3})", item, re.I)
        if not m or int(m.group(2)) > int(m.group(3)):
            raise InputError(f"--age-groups: cannot read {item!r} (write e.g. maternity=9-64,adult=15-124)")
        out[m.group(1).lower()] = (int(m.group(2)), int(m.group(3)))
    return out


def _is_header(r: list[str]) -> bool:
    n = {norm(c) for c in r}
    return "MCEVERSION" in n and ("ICDCODE" in n or "MCEEDITTYPE" in n)


def read_table(src: Source) -> tuple[pd.DataFrame, int]:
    """The code lists of one MCE flat file, and its MCE version."""
    head = src.data[:4096].decode("latin-1")
    tab = head.count("\t") >= head.count(",")
    grid = read_grid(src, _is_header, sep="\t" if tab else ",", quoting=not tab, max_scan=20, what="MCE_Version header")
    cols = column_map(src, grid.header, _WANTED, tuple(_WANTED))
    d = grid.data
    d = d[d[cols["code"]].str.strip() != ""]
    versions = d[cols["version"]].str.strip().unique()
    if len(versions) != 1 or not versions[0].isdigit():
        raise src.error(f"expected one MCE_Version in the file, found {', '.join(map(str, versions[:5])) or 'none'}")
    code_type = d[cols["code_type"]].str.strip().str.upper()
    bad = ~code_type.isin(["D", "P"])
    if bad.any():
        i = bad.index[bad][0]
        raise src.error(f"ICD_Code_Type must be D or P, found {code_type[i]!r}", line=grid.line(i), column="ICD_Code_Type")
    frame = pd.DataFrame(
        {
            "edit_type": d[cols["edit_type"]].str.strip(),
            "code_type": code_type,
            "code": d[cols["code"]].str.strip().str.upper().str.replace(".", "", regex=False),
        }
    ).drop_duplicates()
    return K.conform("mce", frame), int(versions[0])


def read_source(src: Source, opts: Options) -> list[Imported]:
    frame, version = read_table(src)
    fy = opts.fiscal_year or version + FY_OFFSET
    valid_from = opts.effective or fiscal_year_period(fy)[0]
    vid = opts.version_id or f"v{version}"
    ages = mce_age_groups(version, parse_age_groups(opts.age_groups))
    note = "age groups: " + ", ".join(f"{g} {a}-{b}" for g, a, b in zip(ages["group"], ages["min_age"], ages["max_age"]))
    return [
        Imported("mce", vid, valid_from, None, frame, src.name, src.sha256, note=f"MCE v{version} = FY{fy}"),
        Imported("mce_age_groups", vid, valid_from, None, ages, src.name, src.sha256, note=note),
    ]


def read(paths: list[Path], opts: Options) -> list[Imported]:
    srcs = chosen(paths, lambda srcs, path: pick(srcs, lambda s: s.name.lower().endswith((".txt", ".csv", ".tsv")),
                                                 "MCE flat file (.txt)", path))
    return [imported for s in srcs for imported in read_source(s, opts)]


def write_builtin(src_path: str | Path, out_path: str | Path) -> int:
    """Derive the compact built-in table (edit_type, code_type, code) from an MCE flat file.

    Used to produce auditor/data/mce_v37.csv.gz from the MCE v37 extraction; returns rows written.
    """
    (src,) = [s for p, ss in sources([src_path]) for s in ss]
    frame, version = read_table(src)
    header = (
        f"# CMS Medicare Code Editor (MCE) v{version} (FY{version + FY_OFFSET}) code lists: edit_type, code_type (D/P), code.\n"
        "# Derived facts from the CMS MCE documentation via an MIT-licensed extraction\n"
        "# (MCE_Simple_Code_Edits_v37.txt, Copyright (c) 2018 nlindner, MIT License; see README_mce.md).\n"
        "# Rebuild: python -c \"from auditor.refdata.importers.mce import write_builtin; write_builtin(SRC, OUT)\"\n"
    )
    body = frame.sort_values(["edit_type", "code_type", "code"]).to_csv(index=False, lineterminator="\n")
    # mtime=0: the same input gives byte-identical output, so rebuilding does not churn git
    with open(out_path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
        gz.write((header + body).encode("utf-8"))
    return len(frame)
