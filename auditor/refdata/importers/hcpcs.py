"""HCPCS Level II annual/quarterly file (`HCPC2026_OCT_ANWEB…`): CSV, .xlsx or fixed-width text.

Record ids (RECID): 3 = procedure, 4 = continuation of its long description, 7 = modifier,
8 = continuation of a modifier. Codes come padded with spaces (modifiers as `   25`); dates are
YYYYMMDD; TERM DT is empty while the code is active. Only 3 and 7 records become rows; the
continuation text is appended to their description.

Fixed-width text (CMS record layout, 1-based positions): HCPC 1-5, SEQNUM 6-10, RECID 11,
long description 12-91, short description 92-119, …, code added date 269-276, action effective
date 277-284, termination date 285-292, action code 293. The three dates are located by checking
those positions (and, should a layout year shift them, the nearby ones) on the data itself.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from auditor.errors import InputError
from auditor.refdata._io import Grid, Source, column_map, encoding_of, norm, parse_dates, pick, read_grid
from auditor.refdata.importers._base import Options, chosen, default_version_id, month_number, names_of
from auditor.refdata.store import Imported

_WANTED = {
    "code": ("HCPC", "HCPCS", "HCPCSCODE"),
    "seq": ("SEQNUM", "SEQ"),
    "recid": ("RECID",),
    "long": ("LONGDESCRIPTION",),
    "short": ("SHORTDESCRIPTION",),
    "add": ("ADDDT", "ADDDATE"),
    "eff": ("ACTEFFDT", "ACTEFFDATE"),
    "term": ("TERMDT", "TERMDATE"),
    "action": ("ACTIONCD", "ACTIONCODE"),
}
_REQUIRED = ("code", "recid", "long", "add", "eff", "term")
_DATES_AT = 268  # 0-based start of the code added date in the CMS record layout


def version_from_name(*names: str) -> date | None:
    """`HCPC2026_OCT_ANWEB` -> 2026-10-01; `2026_JAN` style quarters too."""
    for n in names:
        m = re.search(r"(20\d\d)[ _-]?(JAN|APR|JUL|OCT)", n, re.I) or re.search(r"(JAN|APR|JUL|OCT)\w*[ _-]?(20\d\d)", n, re.I)
        if m:
            a, b = m.groups()
            year, mon = (a, b) if a.isdigit() else (b, a)
            return date(int(year), month_number(mon), 1)
    return None


def _is_header(r: list[str]) -> bool:
    n = [norm(c) for c in r]
    return bool(n) and n[0] in ("HCPC", "HCPCS", "HCPCSCODE") and "RECID" in n


def _from_grid(src: Source, grid: Grid) -> pd.DataFrame:
    cols = column_map(src, grid.header, _WANTED, _REQUIRED)
    d = grid.data
    get = lambda k: d[cols[k]] if k in cols else pd.Series("", index=d.index, dtype="str")  # noqa: E731
    return pd.DataFrame(
        {k: get(k).astype("str") for k in ("code", "seq", "recid", "long", "short", "add", "eff", "term", "action")}
    )


def _fixed_width(src: Source) -> tuple[pd.DataFrame, Grid]:
    text = src.data.decode(encoding_of(src.data), errors="replace")
    lines = pd.Series(text.splitlines(), dtype="str")
    lines.index = pd.RangeIndex(0, len(lines))
    lines = lines[lines.str.strip() != ""]
    grid = Grid([], [], pd.DataFrame(index=lines.index), 1)
    recid = lines.str.slice(10, 11)
    first = lines[recid.isin(["3", "7"])]
    if first.empty:
        raise src.error("no HCPCS records found (RECID 3 or 7 in column 11); is this the HCPCS fixed-width file?")
    # Find where the three dates sit: the documented position first, then +-8 characters.
    best, best_score = None, 0.0
    for off in [_DATES_AT] + [o for k in range(1, 9) for o in (_DATES_AT - k, _DATES_AT + k)]:
        add, eff = first.str.slice(off, off + 8), first.str.slice(off + 8, off + 16)
        term = first.str.slice(off + 16, off + 24)
        score = (add.str.fullmatch(r"\d{8}") & eff.str.fullmatch(r"\d{8}") & term.str.fullmatch(r"\d{8}| {8}|")).mean()
        if score > best_score:
            best, best_score = off, score
        if score > 0.99:
            break
    if best is None or best_score < 0.9:
        raise src.error(
            "cannot find the ADD DT / ACT EFF DT / TERM DT columns of the fixed-width HCPCS layout "
            f"(expected at positions {_DATES_AT + 1}-{_DATES_AT + 24}); import the CSV or .xlsx variant of the same release"
        )
    o = best
    df = pd.DataFrame(
        {
            "code": lines.str.slice(0, 5),
            "seq": lines.str.slice(5, 10),
            "recid": recid,
            "long": lines.str.slice(11, 91),
            "short": lines.str.slice(91, 119),
            "add": lines.str.slice(o, o + 8),
            "eff": lines.str.slice(o + 8, o + 16),
            "term": lines.str.slice(o + 16, o + 24),
            "action": lines.str.slice(o + 24, o + 25),
        }
    )
    return df, grid


def _normalize(src: Source, raw: pd.DataFrame, grid: Grid) -> pd.DataFrame:
    raw = raw[raw["code"].str.strip() != ""]
    code = raw["code"].str.strip().str.upper()
    recid = raw["recid"].str.strip().str.replace(r"\.0$", "", regex=True)
    bad = ~recid.isin(["3", "4", "7", "8"])
    if bad.any():
        i = bad.index[bad][0]
        raise src.error(f"unknown RECID {recid[i]!r} (expected 3, 4, 7 or 8)", line=grid.line(i), column="RECID")
    first = recid.isin(["3", "7"])
    desc = raw["long"].str.strip()
    desc = desc.where(desc != "", raw["short"].str.strip())
    # Continuation records extend the description of the record they follow (same code, family).
    family = np.where(recid.isin(["3", "4"]), "procedure", "modifier")
    seq = pd.to_numeric(raw["seq"].str.strip(), errors="coerce").fillna(0)
    parts = pd.DataFrame({"code": code, "family": family, "seq": seq, "desc": desc, "first": first})
    if (~first).any():
        parts = parts.sort_values(["code", "family", "first", "seq"], ascending=[True, True, False, True], kind="stable")
        full = parts.groupby(["code", "family"], sort=False)["desc"].agg(lambda s: " ".join(x for x in s if x))
        desc = pd.Series(list(zip(code, family)), index=code.index).map(full).astype("str")
    keep = first
    sel = raw[keep]
    dates = {
        k: parse_dates(src, grid, sel[c], label, none_values=("",))
        for k, c, label in (("add_date", "add", "ADD DT"), ("effective_date", "eff", "ACT EFF DT"), ("term_date", "term", "TERM DT"))
    }
    out = pd.DataFrame(
        {
            "code": code[keep],
            "record_type": pd.Series(family, index=code.index)[keep],
            **dates,
            "action_code": sel["action"].str.strip().where(sel["action"].str.strip() != ""),
            "description": desc[keep],
        }
    )
    if out.empty:
        raise src.error("no procedure (RECID 3) or modifier (RECID 7) records in it")
    return out


def read_source(src: Source, opts: Options) -> Imported:
    head = src.data[:4096].decode("latin-1")
    if src.is_xlsx or _is_header(re.split(r"[,\t]", head.splitlines()[0] if head else "")):
        sep = "\t" if "\t" in head.splitlines()[0] else ","
        grid = read_grid(src, _is_header, sep=sep, max_scan=20, what="'HCPC … RECID' header")
        raw = _from_grid(src, grid)
    else:
        raw, grid = _fixed_width(src)
    frame = _normalize(src, raw, grid)
    note = ""
    valid_from = opts.effective or version_from_name(*names_of(src))
    if valid_from is None:
        valid_from = frame["effective_date"].max().date()
        note = f"no release (e.g. HCPC2026_OCT) in the file name: version starts {valid_from} (newest action date; use --effective)"
    return Imported("hcpcs", default_version_id(opts, valid_from, ""), valid_from, None, frame, src.name, src.sha256, note=note)


def _wanted(src: Source) -> bool:
    n = src.name.lower()
    return "anweb" in n and n.endswith((".csv", ".txt", ".xlsx")) and "trans" not in n and "layout" not in n


def _choose(srcs: list[Source], path: Path) -> list[Source]:
    srcs = pick(srcs, _wanted, "HCPCS ANWEB file", path)
    # CMS ships one release in several formats: read one, preferring CSV, then text.
    rank = {".csv": 0, ".txt": 1, ".xlsx": 2}
    return [min(srcs, key=lambda s: (rank.get(Path(s.name).suffix.lower(), 3), "contr" in s.name.lower()))]


def read(paths: list[Path], opts: Options) -> list[Imported]:
    out = [read_source(s, opts) for s in chosen(paths, _choose)]
    if not out:
        raise InputError("no HCPCS file read")
    return out
