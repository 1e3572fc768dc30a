"""report.xlsx: Summary, Findings, By rule, By provider, Coverage, Provenance (+ one sheet per extra section).

openpyxl writes every cell, in write-only mode (`Workbook(write_only=True)`) for all sheets: each row is
streamed to the sheet's temporary file as it is appended, so memory stays flat however many findings
there are. A write-only sheet takes its settings before its first row: column widths, frozen header
row, dimension. Its tables and charts are written when the workbook is saved.

Formula neutralisation: every text cell goes through `excel_text`, which prefixes a single quote to
text starting with = + - @ tab or CR. The cell is a string (t="inlineStr"), never a formula; the quote
stays visible, marking the value as neutralised (and keeps it text if re-entered). Text that openpyxl
would type as an error value ("#N/A", "#REF!", ...) is kept a string too.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import numbers
import os
import re
import warnings

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

from auditor.report._io import atomic_path, excel_text

MAX_SHEET_ROWS = 1_048_576   # Excel's limit per sheet, header row included
NUMBER_FORMATS = {"money": '"$"#,##0.00', "int": "#,##0", "percent": "0.0%", "date": "yyyy-mm-dd",
                  "datetime": "yyyy-mm-dd hh:mm:ss"}
BOLD = Font(bold=True)
HEAD_FILL = PatternFill("solid", fgColor="DCE6F1")
TITLE = Font(bold=True, size=14, color="1F4E79")
ALERT = Font(bold=True, color="B42318")


def write_xlsx(model_or_result, path: str | os.PathLike, *, max_sheet_rows: int = MAX_SHEET_ROWS) -> None:
    """Write report.xlsx from a content model (or an AuditResult, modelled first)."""
    if max_sheet_rows < 2:
        raise ValueError("max_sheet_rows must leave room for a header and one row")
    model = model_or_result
    if not isinstance(model, dict):
        from auditor.report.model import build_model
        model = build_model(model_or_result)
    wb = Workbook(write_only=True)
    extras = [s for s in model.get("extra_sections", []) if s["kind"] != "text" and s["columns"]]
    try:
        _summary_sheet(wb, model, _pages(len(model["findings"]["rows"]), max_sheet_rows), max_sheet_rows)
        for s in extras:
            if s["position"] == "top":
                _table_sheet(wb, s["title"], s, max_sheet_rows, chart=_chart_of(s))
        _table_sheet(wb, "Findings", model["findings"], max_sheet_rows)
        _table_sheet(wb, "By rule", model["by_rule"], max_sheet_rows)
        _table_sheet(wb, "By provider", model["by_provider"], max_sheet_rows)
        _table_sheet(wb, "Coverage", model["coverage"], max_sheet_rows)
        _provenance_sheet(wb, model)
        for s in extras:
            if s["position"] != "top":
                _table_sheet(wb, s["title"], s, max_sheet_rows, chart=_chart_of(s))
        with atomic_path(path) as tmp:
            wb.save(tmp)
    except BaseException:
        _discard(wb)
        raise


def _discard(wb) -> None:
    """Close the write-only sheets of a workbook that will not be saved and delete their temporary
    files: openpyxl deletes them on save or at exit only (a long-running server would collect them)."""
    for ws in wb.worksheets:
        writer = ws._writer   # created at the sheet's first row
        if writer is None:
            continue
        try:
            if not ws.closed:
                ws.close()
            if os.path.exists(writer.out):
                writer.cleanup()
        except Exception:   # deleted at exit then
            pass


# --- cells ---------------------------------------------------------------------------------------

def _text(ws, s: str):
    """A text cell's value: formula neutralised (excel_text), line breaks as LF. Text openpyxl would
    type as an error value ("#N/A") becomes an explicit string cell."""
    s = excel_text(s)
    if "\r" in s:   # openpyxl writes a CR bare, and XML reads a bare CR as LF: store what is read
        s = s.replace("\r\n", "\n").replace("\r", "\n")
    if s[:1] == "#" and s in ERROR_CODES:
        c = WriteOnlyCell(ws, s)
        c.data_type = "s"
        return c
    return s


def _value(ws, v):
    """A model value as openpyxl takes it: safe text, finite numbers, naive dates; None for NA."""
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, str):
        return _text(ws, v)
    if isinstance(v, numbers.Real):
        return v if math.isfinite(v) else None
    if isinstance(v, (dt.date, dt.time)):
        if v != v:   # NaT
            return None
        return v.replace(tzinfo=None) if getattr(v, "tzinfo", None) else v   # Excel has no time zones
    return _text(ws, str(v))


def _is_number(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _cell(ws, v, font=None, fmt: str | None = None, fill=None):
    """One cell: a plain value, or a WriteOnlyCell when it takes a font, a fill or a number format.
    Dates always get the date format; `fmt` (money, int, percent) applies to numbers only."""
    v = _value(ws, v)
    if v is None:
        return None
    if isinstance(v, dt.date):
        fmt = NUMBER_FORMATS["datetime" if isinstance(v, dt.datetime) else "date"]
    elif fmt and not _is_number(v):
        fmt = None
    if not (font or fmt or fill):
        return v
    c = v if isinstance(v, Cell) else WriteOnlyCell(ws, v)
    if font:
        c.font = font
    if fill:
        c.fill = fill
    if fmt:
        c.number_format = fmt
    return c


def _write(ws, rows: list, widths: dict | None = None) -> None:
    """Append `rows` (lists of values or cells) to a write-only sheet, after its column widths."""
    for col, w in (widths or {}).items():
        ws.column_dimensions[col].width = w
    _dimension(ws, len(rows), max((len(r) for r in rows), default=1))
    for r in rows:
        ws.append(r)


def _dimension(ws, n_rows: int, n_cols: int) -> None:
    """Give a write-only sheet its <dimension>: readers in read-only mode take the sheet's size from
    it. openpyxl writes it from `calculate_dimension()`, which only normal sheets have; set it before
    the first row."""
    ref = f"A1:{get_column_letter(max(n_cols, 1))}{max(n_rows, 1)}"
    ws.calculate_dimension = lambda: ref


# --- small sheets ---------------------------------------------------------------------------------

def _line(ws, values: list, font=None, fmt: str | None = None) -> list:
    """One row of a small sheet; `fmt` applies to the value columns (all but the first)."""
    return [_cell(ws, v, font, fmt if col else None) for col, v in enumerate(values)]


def _small_table(ws, t: dict, title: str) -> list:
    """The rows of a small model table: title, header, rows, a blank line."""
    out = [_line(ws, [title], BOLD), [_cell(ws, c, BOLD, fill=HEAD_FILL) for c in t["columns"]]]
    fmts = [NUMBER_FORMATS.get(t["formats"].get(c)) for c in t["columns"]]
    out += [[_cell(ws, v, fmt=f) for v, f in zip(r, fmts)] for r in t["rows"]]
    return out + [[]]


def _summary_sheet(wb, model: dict, pages: int, max_rows: int) -> None:
    ws = wb.create_sheet("Summary")
    s, cov = model["summary"], model["coverage"]
    rows = [_line(ws, [model["title"]], TITLE), _line(ws, ["Report generated", model["generated_at"]]), []]
    figures = [("Claims audited", s["claims"], "int"), ("Lines read", s["lines_read"], "int"),
               ("Lines audited", s["lines_audited"], "int"),
               ("Claims with findings", s["claims_with_findings"], "int"),
               ("Lines with findings", s["lines_with_findings"], "int"), ("Findings", s["findings"], "int")]
    figures += [(f"Findings: {k}", v, "int") for k, v in s["findings_by_severity"].items()]
    figures += [("Dollars at risk (each line once)", s["dollars_at_risk"], "money"),
                ("Rules checked", s["rules_checked"], "int"), ("Rules partially checked", s["rules_partial"], "int"),
                ("Rules NOT checked", s["rules_not_checked"], "int")]
    rows += [_line(ws, [label, value], fmt=NUMBER_FORMATS[kind]) for label, value, kind in figures]
    rows.append([])
    gaps = [r for r in cov["rows"] if r[3] != "checked"]
    if gaps:
        rows.append(_line(ws, [f"{len(gaps)} rules were not checked on every line. No finding from them means "
                               "NOT CHECKED, not passed. See the Coverage sheet."], ALERT))
        rows.append(_line(ws, ["Rule", "Status", "Reason"], BOLD))
        rows += [_line(ws, [r[0], r[3], r[6]]) for r in gaps]
        rows.append([])
    elif not cov["rows"]:
        rows += [_line(ws, ["No coverage information was recorded for this run."], ALERT), []]
    if pages > 1:
        rows += [_line(ws, [f"Findings are split over {pages} sheets (Excel holds {max_rows - 1:,} rows "
                            "per sheet): Findings, Findings (2), ..."], ALERT), []]
    rows += _small_table(ws, model["by_severity"], "Findings by severity")
    rows += _small_table(ws, model["by_category"], "Findings by category")
    for sec in model.get("extra_sections", []):
        if sec["kind"] == "text":
            rows.append(_line(ws, [sec["title"]], BOLD))
            rows += [_line(ws, [line]) for line in str(sec.get("text") or "").splitlines()]
            rows.append([])
    _write(ws, rows, {"A": 38, "B": 18, "C": 18, "D": 18, "E": 18})


def _provenance_sheet(wb, model: dict) -> None:
    ws = wb.create_sheet("Provenance")
    p = model["provenance"]
    rows = [_line(ws, ["Provenance"], TITLE), []]
    known = ("inputs", "refdata_versions", "options")
    for k, v in [("report_generated_at", model["generated_at"])] + [(k, v) for k, v in p.items() if k not in known]:
        rows.append(_line(ws, [k, _scalar(v)]))
    rows.append([])
    for title, key, cols in (("Input files", "inputs", ["file", "lines", "sha256"]),
                             ("Reference data versions", "refdata_versions", ["kind", "version_id", "source", "sha256"])):
        data = [[(d or {}).get(c) for c in cols] for d in p.get(key) or []]
        rows += _small_table(ws, {"columns": cols, "rows": data, "formats": {}}, title)
    rows.append(_line(ws, ["Options"], BOLD))
    rows += [_line(ws, [k, _scalar(v)]) for k, v in (p.get("options") or {}).items()]
    _write(ws, rows, {"A": 28, "B": 40, "C": 66, "D": 66})


def _scalar(v):
    return v if isinstance(v, (str, int, float)) or v is None else json.dumps(v, default=str)


# --- table sheets ---------------------------------------------------------------------------------

def _pages(n_rows: int, max_rows: int) -> int:
    return max(1, -(-n_rows // (max_rows - 1)))


def _sheet_title(wb, title: str) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "_", str(title)).strip("'")[:31] or "Sheet"
    name, n = base, 2
    taken = {t.lower() for t in wb.sheetnames}
    while name.lower() in taken:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    return name


def _table_name(wb, title: str) -> str:
    # "tbl_" keeps the name from looking like a cell reference (e.g. "ABC1") or starting with a digit.
    base = "tbl_" + re.sub(r"\W", "_", title, flags=re.ASCII)[:200]
    taken = {t.lower() for ws in wb.worksheets for t in ws.tables}
    name, n = base, 2
    while name.lower() in taken:
        name, n = f"{base}_{n}", n + 1
    return name


def _headers(columns: list) -> list[str]:
    """Unique, non-empty, one-line header texts (an Excel table requires them)."""
    out, seen = [], set()
    for i, c in enumerate(columns, 1):
        h = excel_text(re.sub(r"[\r\n]+", " ", str(c)))[:255] or f"Column{i}"   # Excel's limit for names
        base, n = h, 2
        while h.lower() in seen:
            h, n = f"{base}_{n}", n + 1
        seen.add(h.lower())
        out.append(h)
    return out


def _width(header: str, values) -> float:
    longest = max([len(header) + 3] + [len(str(v)) for v in values if v is not None])
    return float(min(max(longest + 2, 9), 60))


def _table_sheet(wb, title: str, t: dict, max_rows: int, chart: dict | None = None) -> None:
    """One sheet per page of `t` (max_rows rows a sheet, header included): an Excel table with filter
    buttons, bold header, frozen header row, column widths from the first 500 rows."""
    rows, per_page = t["rows"], max_rows - 1
    headers = _headers(t["columns"])
    formats = t.get("formats", {})
    fmts = [NUMBER_FORMATS.get(formats.get(c)) for c in t["columns"]]
    last = get_column_letter(max(len(headers), 1))
    for page in range(_pages(len(rows), max_rows)):
        ws = wb.create_sheet(_sheet_title(wb, title if page == 0 else f"{title} ({page + 1})"))
        chunk = rows[page * per_page:(page + 1) * per_page]
        for i, h in enumerate(headers):   # widths, frozen pane, dimension: before the first row
            ws.column_dimensions[get_column_letter(i + 1)].width = _width(
                h, (r[i] for r in itertools.islice(chunk, 500) if i < len(r)))
        ws.freeze_panes = "A2"
        header = [_cell(ws, h, BOLD) for h in headers]
        if not chunk:
            _write(ws, [header, ["No rows."]])
            continue
        ref = f"A1:{last}{len(chunk) + 1}"
        table = Table(displayName=_table_name(wb, ws.title), ref=ref,
                      tableStyleInfo=TableStyleInfo(name="TableStyleMedium2", showRowStripes=True))
        # A write-only sheet cannot read its header back, so the table columns are named here.
        table.tableColumns = [TableColumn(id=i + 1, name=h) for i, h in enumerate(headers)]
        table.autoFilter = AutoFilter(ref=ref)
        with warnings.catch_warnings():   # openpyxl's reminder to do just that
            warnings.filterwarnings("ignore", "In write-only mode you must add table columns manually")
            ws.add_table(table)
        if chart:
            _add_chart(ws, chart, len(chunk), len(headers))
        _dimension(ws, len(chunk) + 1, len(headers))
        ws.append(header)
        for r in chunk:
            ws.append([_cell(ws, v, fmt=f) for v, f in zip(r, fmts)])


def _chart_of(section: dict) -> dict | None:
    """The section, if Excel should draw it: a chart drawn from its rows (as the HTML does), not a
    producer's own SVG, with numbers in the value columns."""
    if section["kind"] != "chart" or section.get("svg") is not None or len(section["columns"]) < 2:
        return None
    last = len(section["columns"]) if section.get("chart") == "line" else 2
    values = [v for r in section["rows"][:100] for v in r[1:last]]
    numeric = values and all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in values)
    return section if numeric else None


def _add_chart(ws, section: dict, n: int, ncols: int) -> None:
    line = section.get("chart") == "line"
    ch = LineChart() if line else BarChart()
    if not line:
        ch.type = "bar"
    ch.title = section["title"][:200]
    ch.add_data(Reference(ws, min_col=2, max_col=ncols if line else 2, min_row=1, max_row=n + 1),
                titles_from_data=True)
    ch.set_categories(Reference(ws, min_col=1, min_row=2, max_row=n + 1))
    ch.width, ch.height = 20, 10
    ws.add_chart(ch, f"{get_column_letter(ncols + 2)}2")
