"""report.xlsx: Summary, Findings, By rule, By provider, Coverage, Provenance (+ one sheet per extra section).

openpyxl writes the workbook: styles, header rows, Excel tables, frozen panes, widths, charts. The data
rows of the table sheets are then streamed straight into those sheets' XML (see `_splice`): openpyxl
spends ~6 us per cell even in write-only mode (10 s per 100k findings), the streamed rows ~0.5 us,
and memory stays flat. Cells are the same as openpyxl's own (inline strings, numbers with styles).

Formula neutralisation: every text cell goes through `excel_text`, which prefixes a single quote to
text starting with = + - @ tab or CR. The cell is stored as a string (t="inlineStr"), never a
formula; the quote stays visible, marking the value as neutralised (and keeps it text if re-entered).
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import os
import re
import zipfile

from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

from auditor.report._io import atomic_path, excel_text

MAX_SHEET_ROWS = 1_048_576   # Excel's limit per sheet, header row included
NUMBER_FORMATS = {"money": '"$"#,##0.00', "int": "#,##0", "percent": "0.0%", "date": "yyyy-mm-dd",
                  "datetime": "yyyy-mm-dd hh:mm:ss"}
_EXCEL_EPOCH = dt.date(1899, 12, 30).toordinal()
BOLD = Font(bold=True)
HEAD_FILL = PatternFill("solid", fgColor="DCE6F1")
TITLE = Font(bold=True, size=14, color="1F4E79")
ALERT = Font(bold=True, color="B42318")


def write_xlsx(model_or_result, path: str | os.PathLike, *, max_sheet_rows: int = MAX_SHEET_ROWS) -> None:
    """Write report.xlsx from a content model (or an AuditResult, modelled first)."""
    model = model_or_result
    if not isinstance(model, dict):
        from auditor.report.model import build_model
        model = build_model(model_or_result)
    wb = Workbook()
    streams: list = []
    extras = model.get("extra_sections", [])
    _summary_sheet(wb.active, model)
    for s in extras:
        if s["position"] == "top" and s["kind"] != "text":
            _table_sheet(wb, s["title"], s, streams, max_sheet_rows, chart=s if s["kind"] == "chart" else None)
    pages = _table_sheet(wb, "Findings", model["findings"], streams, max_sheet_rows)
    if pages > 1:
        wb["Summary"].append([])
        wb["Summary"].append([f"Findings are split over {pages} sheets (Excel holds {max_sheet_rows - 1:,} "
                              "rows per sheet): Findings, Findings (2), ..."])
    _table_sheet(wb, "By rule", model["by_rule"], streams, max_sheet_rows)
    _table_sheet(wb, "By provider", model["by_provider"], streams, max_sheet_rows)
    _table_sheet(wb, "Coverage", model["coverage"], streams, max_sheet_rows)
    _provenance_sheet(wb.create_sheet("Provenance"), model)
    for s in extras:
        if s["position"] != "top" and s["kind"] != "text":
            _table_sheet(wb, s["title"], s, streams, max_sheet_rows, chart=s if s["kind"] == "chart" else None)
    buf = io.BytesIO()
    wb.save(buf)
    with atomic_path(path) as tmp:
        _splice(buf, tmp, streams)


# --- small sheets, written by openpyxl ----------------------------------------------------------

def _cell(v):
    return excel_text(v) if isinstance(v, str) else v


def _put(ws, row: int, values: list, font=None, fmt=None) -> None:
    for col, v in enumerate(values, 1):
        c = ws.cell(row=row, column=col, value=_cell(v))
        if font:
            c.font = font
        if fmt and col > 1:
            c.number_format = fmt


def _put_table(ws, row: int, t: dict, title: str) -> int:
    """Write a small model table at `row`; return the next free row."""
    _put(ws, row, [title], BOLD)
    _put(ws, row + 1, t["columns"], BOLD)
    for c in range(1, len(t["columns"]) + 1):
        ws.cell(row=row + 1, column=c).fill = HEAD_FILL
    for i, r in enumerate(t["rows"], row + 2):
        for j, v in enumerate(r, 1):
            c = ws.cell(row=i, column=j, value=_cell(v))
            kind = t["formats"].get(t["columns"][j - 1])
            if kind in NUMBER_FORMATS:
                c.number_format = NUMBER_FORMATS[kind]
    return row + len(t["rows"]) + 3


def _summary_sheet(ws, model: dict) -> None:
    ws.title = "Summary"
    s, cov = model["summary"], model["coverage"]
    _put(ws, 1, [model["title"]], TITLE)
    _put(ws, 2, ["Report generated", model["generated_at"]])
    figures = [("Claims audited", s["claims"], "int"), ("Lines read", s["lines_read"], "int"),
               ("Lines audited", s["lines_audited"], "int"),
               ("Claims with findings", s["claims_with_findings"], "int"),
               ("Lines with findings", s["lines_with_findings"], "int"), ("Findings", s["findings"], "int")]
    figures += [(f"Findings: {k}", v, "int") for k, v in s["findings_by_severity"].items()]
    figures += [("Dollars at risk (each line once)", s["dollars_at_risk"], "money"),
                ("Rules checked", s["rules_checked"], "int"), ("Rules partially checked", s["rules_partial"], "int"),
                ("Rules NOT checked", s["rules_not_checked"], "int")]
    row = 4
    for label, value, kind in figures:
        _put(ws, row, [label, value], fmt=NUMBER_FORMATS[kind])
        row += 1
    gaps = [r for r in cov["rows"] if r[3] != "checked"]
    row += 1
    if gaps:
        _put(ws, row, [f"{len(gaps)} rules were not checked on every line. No finding from them means "
                       "NOT CHECKED, not passed. See the Coverage sheet."], ALERT)
        row += 1
        _put(ws, row, ["Rule", "Status", "Reason"], BOLD)
        for r in gaps:
            row += 1
            _put(ws, row, [r[0], r[3], r[6]])
        row += 2
    elif not cov["rows"]:
        _put(ws, row, ["No coverage information was recorded for this run."], ALERT)
        row += 2
    row = _put_table(ws, row, model["by_severity"], "Findings by severity")
    row = _put_table(ws, row, model["by_category"], "Findings by category")
    for sec in model.get("extra_sections", []):
        if sec["kind"] == "text":
            _put(ws, row, [sec["title"]], BOLD)
            for line in str(sec.get("text") or "").splitlines():
                row += 1
                _put(ws, row, [line])
            row += 2
    ws.column_dimensions["A"].width = 38
    for col in "BCDE":
        ws.column_dimensions[col].width = 18


def _provenance_sheet(ws, model: dict) -> None:
    p = model["provenance"]
    _put(ws, 1, ["Provenance"], TITLE)
    row = 3
    known = ("inputs", "refdata_versions", "options")
    for k, v in [("report_generated_at", model["generated_at"])] + [(k, v) for k, v in p.items() if k not in known]:
        _put(ws, row, [k, v if isinstance(v, (str, int, float)) or v is None else json.dumps(v, default=str)])
        row += 1
    row += 1
    for title, key, cols in (("Input files", "inputs", ["file", "lines", "sha256"]),
                             ("Reference data versions", "refdata_versions", ["kind", "version_id", "source", "sha256"])):
        rows = [[(d or {}).get(c) for c in cols] for d in p.get(key) or []]
        row = _put_table(ws, row, {"columns": cols, "rows": rows, "formats": {}}, title)
    _put(ws, row, ["Options"], BOLD)
    for k, v in (p.get("options") or {}).items():
        row += 1
        _put(ws, row, [k, v if isinstance(v, (str, int, float)) or v is None else json.dumps(v, default=str)])
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 40
    ws.column_dimensions["C"].width = 66
    ws.column_dimensions["D"].width = 66


# --- table sheets: header by openpyxl, rows streamed ------------------------------------------

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


def _style_ids(wb, ws, kinds: list) -> list[str]:
    """The ' s="N"' attribute per column (registered with openpyxl so styles.xml holds it)."""
    out = []
    for kind in kinds:
        fmt = NUMBER_FORMATS.get(kind)
        if fmt is None:
            out.append("")
            continue
        c = Cell(ws)
        c.number_format = fmt
        out.append(f' s="{c.style_id}"')
    return out


def _table_sheet(wb, title: str, t: dict, streams: list, max_rows: int, chart: dict | None = None) -> int:
    """Header, table, frozen pane and widths for each page of `t`; rows are queued for _splice."""
    rows, per_page = t["rows"], max_rows - 1
    pages = max(1, -(-len(rows) // per_page))
    headers = _headers(t["columns"])
    kinds = [t.get("formats", {}).get(c) for c in t["columns"]]
    last = get_column_letter(max(len(headers), 1))
    for page in range(pages):
        ws = wb.create_sheet(_sheet_title(wb, title if page == 0 else f"{title} ({page + 1})"))
        ws.append(headers)
        ws.freeze_panes = "A2"
        chunk = rows[page * per_page:(page + 1) * per_page]
        for i, h in enumerate(headers):
            ws.column_dimensions[get_column_letter(i + 1)].width = _width(
                h, (r[i] for r in itertools.islice(chunk, 500) if i < len(r)))
            ws.cell(row=1, column=i + 1).alignment = Alignment(vertical="top")
        if not chunk:
            ws.cell(row=2, column=1, value="No rows.")
            continue
        ref = f"A1:{last}{len(chunk) + 1}"
        table = Table(displayName=_table_name(wb, ws.title), ref=ref,
                      tableStyleInfo=TableStyleInfo(name="TableStyleMedium2", showRowStripes=True))
        # Columns are set by hand: openpyxl would otherwise read the header by materialising every cell in ref.
        table.tableColumns = [TableColumn(id=i + 1, name=h) for i, h in enumerate(headers)]
        table.autoFilter = AutoFilter(ref=ref)
        ws.add_table(table)
        if chart and len(headers) > 1:
            _add_chart(ws, chart, len(chunk), len(headers))
        extra_style = {k: s for k, s in zip(("date", "datetime"), _style_ids(wb, ws, ["date", "datetime"]))}
        streams.append((ws, chunk, _style_ids(wb, ws, kinds), extra_style))
    return pages


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


def _xml_text(s: str) -> str:
    """The <is> element of one inline-string cell."""
    s = excel_text(s)
    if "&" in s or "<" in s or ">" in s:
        s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if "\r" in s:   # XML parsers turn a literal CR into LF; the character reference keeps it
        s = s.replace("\r", "&#13;")
    if s[:1].isspace() or s[-1:].isspace():
        return f'<is><t xml:space="preserve">{s}</t></is>'
    return f"<is><t>{s}</t></is>"


def _xml_rows(rows, styles: list[str], extra: dict, first_row: int = 2, batch: int = 2000):
    """SpreadsheetML <row> elements for `rows`, in UTF-8 chunks."""
    letters = [get_column_letter(i + 1) for i in range(len(styles))]
    date_s, datetime_s = extra["date"], extra["datetime"]
    cache: dict[str, str] = {}   # codes, NPIs, rule ids repeat: escape each distinct text once
    out = []
    for r, row in enumerate(rows, first_row):
        cells = [f'<row r="{r}">']
        for col, style, v in zip(letters, styles, row):
            if v is None:
                continue
            t = type(v)
            if t is str:
                text = cache.get(v)
                if text is None:
                    text = _xml_text(v)
                    if len(cache) < 100_000:
                        cache[v] = text
                cells.append(f'<c r="{col}{r}" t="inlineStr">{text}</c>')
            elif t is float or t is int:
                if t is float and (v != v or v in (float("inf"), float("-inf"))):
                    continue
                cells.append(f'<c r="{col}{r}"{style}><v>{v!r}</v></c>')
            elif t is bool:
                cells.append(f'<c r="{col}{r}" t="b"><v>{int(v)}</v></c>')
            elif t is dt.date:
                cells.append(f'<c r="{col}{r}"{date_s}><v>{v.toordinal() - _EXCEL_EPOCH}</v></c>')
            elif t is dt.datetime:
                serial = v.toordinal() - _EXCEL_EPOCH + (v.hour * 3600 + v.minute * 60 + v.second) / 86400
                cells.append(f'<c r="{col}{r}"{datetime_s}><v>{serial!r}</v></c>')
            else:
                cells.append(f'<c r="{col}{r}" t="inlineStr">{_xml_text(str(v))}</c>')
        cells.append("</row>")
        out.append("".join(cells))
        if len(out) >= batch:
            yield "".join(out).encode("utf-8")
            out = []
    if out:
        yield "".join(out).encode("utf-8")


def _splice(buf: io.BytesIO, path, streams: list) -> None:
    """Copy openpyxl's workbook to `path`, inserting the queued data rows into each table sheet."""
    try:
        _copy_zip(buf, path, streams, force_zip64=False)
    except RuntimeError as exc:   # a sheet grew past 2 GiB: redo it with ZIP64 headers
        if "force_zip64" not in str(exc):
            raise
        _copy_zip(buf, path, streams, force_zip64=True)


def _copy_zip(buf: io.BytesIO, path, streams: list, force_zip64: bool) -> None:
    targets = {ws.path.lstrip("/"): (ws, rows, styles, extra) for ws, rows, styles, extra in streams}
    buf.seek(0)
    with zipfile.ZipFile(buf) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename not in targets:
                zout.writestr(info, data)
                continue
            ws, rows, styles, extra = targets[info.filename]
            xml = data.decode("utf-8")
            cut = xml.rindex("</sheetData>")
            head, tail = xml[:cut], xml[cut:]
            dim = f"A1:{get_column_letter(len(styles))}{len(rows) + 1}"
            head = re.sub(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{dim}"/>', head, count=1)
            # ZIP64 headers only when needed: some spreadsheet apps warn about them on small files.
            with zout.open(info.filename, "w", force_zip64=force_zip64) as fh:
                fh.write(head.encode("utf-8"))
                for chunk in _xml_rows(rows, styles, extra):
                    fh.write(chunk)
                fh.write(tail.encode("utf-8"))
