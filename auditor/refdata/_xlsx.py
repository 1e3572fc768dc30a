"""A streaming .xlsx reader for big CMS workbooks (a PTP part has ~500k rows).

openpyxl reads such a sheet at a few thousand rows per second; parsing the sheet XML with the
standard library's expat-based iterparse is an order of magnitude faster. Only what the importers
need: the biggest worksheet, as rows of cell text (numbers as the CSV variant would print them,
date-formatted cells as YYYYMMDD). The importers fall back to openpyxl if this raises.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile
from datetime import date, timedelta

_DATE_FMT_IDS = set(range(14, 23)) | {45, 46, 47}
_EPOCH = date(1899, 12, 30)  # Excel's day 0 (1900 date system, leap-year bug included)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _col_index(ref: str) -> int:
    n = 0
    for ch in ref:
        if "A" <= ch <= "Z":
            n = n * 26 + ord(ch) - 64
        else:
            break
    return n - 1


def _shared_strings(zf: zipfile.ZipFile) -> list[str]:
    out: list[str] = []
    with zf.open("xl/sharedStrings.xml") as fh:
        for _, el in ET.iterparse(fh, events=("end",)):
            if _local(el.tag) == "si":
                # rich text runs (<r><t>) and phonetic hints (<rPh>, skipped) can split one string
                out.append("".join(t.text or "" for t in el.iter() if _local(t.tag) == "t" and not _in_rph(el, t)))
                el.clear()
    return out


def _in_rph(si: ET.Element, t: ET.Element) -> bool:
    for rph in si:
        if _local(rph.tag) == "rPh" and any(x is t for x in rph.iter()):
            return True
    return False


def _date_styles(zf: zipfile.ZipFile) -> set[int]:
    root = ET.fromstring(zf.read("xl/styles.xml"))
    custom: dict[int, str] = {}
    xfs: list[int] = []
    for el in root:
        name = _local(el.tag)
        if name == "numFmts":
            for f in el:
                custom[int(f.get("numFmtId", "0"))] = f.get("formatCode", "")
        elif name == "cellXfs":
            xfs = [int(x.get("numFmtId", "0")) for x in el]
    out = set()
    for i, fid in enumerate(xfs):
        code = re.sub(r'"[^"]*"|\[[^\]]*\]|\\.', "", custom.get(fid, ""))
        if fid in _DATE_FMT_IDS or (fid in custom and re.search(r"[dy]", code, re.I)):
            out.add(i)
    return out


def _number_text(v: str, is_date: bool) -> str:
    try:
        f = float(v)
    except ValueError:
        return v
    if is_date and 0 < f < 2958466:
        return (_EPOCH + timedelta(days=int(f))).strftime("%Y%m%d")
    if f.is_integer() and "e" not in v.lower():
        return str(int(f))
    return v


def read_rows(data: bytes) -> list[list[str]]:
    """Rows of the biggest worksheet as lists of cell text; row i of the list is sheet row i+1."""
    zf = zipfile.ZipFile(io.BytesIO(data))
    names = zf.namelist()
    sheets = [n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml")]
    if not sheets:
        raise ValueError("no worksheet in the workbook")
    sheet = max(sheets, key=lambda n: zf.getinfo(n).file_size)
    shared = _shared_strings(zf) if "xl/sharedStrings.xml" in names else []
    dates = _date_styles(zf) if "xl/styles.xml" in names else set()
    rows: list[list[str]] = []
    parent = None
    with zf.open(sheet) as fh:
        for ev, el in ET.iterparse(fh, events=("start", "end")):
            name = _local(el.tag)
            if ev == "start":
                if name == "sheetData":
                    parent = el
                continue
            if name != "row":
                continue
            r = el.get("r")
            target = int(r) - 1 if r else len(rows)
            while len(rows) < target:  # rows that have no cells are not written at all
                rows.append([])
            cells: list[str] = []
            for c in el:
                if _local(c.tag) != "c":
                    continue
                ref = c.get("r")
                idx = _col_index(ref) if ref else len(cells)
                t = c.get("t", "n")
                text = ""
                if t == "inlineStr":
                    text = "".join(x.text or "" for x in c.iter() if _local(x.tag) == "t")
                else:
                    v = next((x.text for x in c if _local(x.tag) == "v"), None)
                    if v is not None:
                        if t == "s":
                            text = shared[int(v)]
                        elif t == "n":
                            text = _number_text(v, int(c.get("s", "0")) in dates)
                        elif t == "b":
                            text = "True" if v == "1" else "False"
                        else:  # str (formula result), e (error), d (ISO date)
                            text = v
                if idx >= len(cells):
                    cells.extend([""] * (idx - len(cells) + 1))
                cells[idx] = text
            rows.append(cells)
            el.clear()
            if parent is not None:
                parent.clear()  # keep memory flat on half a million rows
    while rows and not any(rows[-1]):
        rows.pop()
    return rows
