import datetime as dt
import zipfile
import xml.etree.ElementTree as ET

import openpyxl
import pytest
from report_fixtures import HOSTILE, make_result

from auditor.report.excel import write_xlsx
from auditor.report.model import build_model

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(scope="module")
def wb(reports):
    return openpyxl.load_workbook(reports["xlsx"])


def _findings(ws):
    rows = list(ws.iter_rows(values_only=True))
    return rows[0], rows[1:]


def test_sheets(wb):
    assert wb.sheetnames == ["Summary", "Compared with last month", "Findings", "By rule", "By provider",
                             "Coverage", "Provenance", "Findings over 12 periods", "Modifier 25 rate"]


def test_findings_sheet_is_a_filterable_table(wb, result):
    ws = wb["Findings"]
    header, rows = _findings(ws)
    assert list(header) == list(result.findings.columns)
    assert len(rows) == len(result.findings)
    assert ws.freeze_panes == "A2"
    (name, ref), = ws.tables.items()
    table = ws.tables[name]
    assert ref == f"A1:P{len(rows) + 1}" and table.autoFilter.ref == ref
    assert [c.name for c in table.tableColumns] == list(header)
    widths = [ws.column_dimensions[c].width for c in "ABCDEFGHIJKLMNOP"]
    assert all(9 <= w <= 60 for w in widths)
    assert ws.column_dimensions["L"].width > ws.column_dimensions["C"].width   # message wider than severity


def test_dates_and_money_are_typed(wb, result):
    ws = wb["Findings"]
    header, _ = _findings(ws)
    date_col, money_col = header.index("service_date") + 1, header.index("amount_at_risk") + 1
    dates = [ws.cell(row=r, column=date_col) for r in range(2, ws.max_row + 1)]
    money = [ws.cell(row=r, column=money_col) for r in range(2, ws.max_row + 1)]
    assert all(isinstance(c.value, dt.datetime) and c.number_format == "yyyy-mm-dd" for c in dates if c.value)
    assert any(c.value is None for c in dates)                        # NaT stays empty
    assert all(isinstance(c.value, float) and "$" in c.number_format for c in money if c.value is not None)
    assert any(c.value is None for c in money)
    line_col = header.index("line_number") + 1
    lines = [ws.cell(row=r, column=line_col).value for r in range(2, ws.max_row + 1)]
    assert None in lines and all(v is None or isinstance(v, int) for v in lines)
    # The values themselves survive: compare with the findings frame (order differs).
    got = sorted((r[header.index("fingerprint")], r[money_col - 1]) for r in _findings(ws)[1])
    exp = sorted((fp, None if a != a else a) for fp, a in zip(result.findings["fingerprint"],
                                                             result.findings["amount_at_risk"]))
    assert got == exp


def test_formula_like_text_is_never_a_formula(wb):
    seen = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", f"{ws.title}!{c.coordinate}"
                if isinstance(c.value, str):
                    assert not c.value.startswith(FORMULA_START), f"{ws.title}!{c.coordinate}: {c.value!r}"
                    if c.value.startswith("'"):
                        seen.add(c.value[1:])
    for name in ("hyperlink", "plus", "minus", "at", "tab", "cr"):
        # A line break is stored as LF: openpyxl's XML writer leaves a CR bare, which XML reads as LF.
        assert HOSTILE[name].replace("\r", "\n") in seen, name
    assert "=cmd|' /C calc'!A0" in seen                               # extra sections too


def test_hostile_text_kept_as_text(wb):
    values = {c.value for row in wb["Findings"].iter_rows() for c in row}
    assert HOSTILE["script"] in values and HOSTILE["quotes"] in values


def test_summary_sheet(wb, result):
    ws = wb["Summary"]
    figures = {r[0]: r[1] for r in ws.iter_rows(values_only=True) if r and r[0]}
    s = build_model(result)["summary"]
    assert figures["Findings"] == len(result.findings)
    assert figures["Claims audited"] == s["claims"]
    assert figures["Dollars at risk (each line once)"] == pytest.approx(s["dollars_at_risk"])
    assert figures["Rules NOT checked"] == 2
    text = " ".join(str(v) for r in ws.iter_rows(values_only=True) for v in r if v)
    assert "NOT CHECKED, not passed" in text and "no member_sex in the input" in text
    assert "Two waivers expired." in text                            # text section


def test_other_sheets(wb):
    cov = list(wb["Coverage"].iter_rows(values_only=True))
    assert cov[0][:4] == ("Rule", "Title", "Category", "Status")
    assert [r[3] for r in cov[1:4]] == ["not checked", "not checked", "partial"]
    assert wb["Coverage"].tables and wb["By rule"].tables and wb["By provider"].tables
    rule = list(wb["By rule"].iter_rows(values_only=True))
    assert rule[0][0] == "Rule" and isinstance(rule[1][-1], float)
    prov = " ".join(str(v) for r in wb["Provenance"].iter_rows(values_only=True) for v in r if v)
    assert "ab" * 32 in prov and "ef" * 32 in prov and "ccipra-v321r0.txt" in prov
    trend = wb["Findings over 12 periods"]
    assert trend._charts and trend.max_row == 13
    names = [t for ws in wb.worksheets for t in ws.tables]
    assert len(names) == len(set(names))


def test_zip_parts_are_well_formed_xml(reports):
    with zipfile.ZipFile(reports["xlsx"]) as z:
        assert z.testzip() is None
        for name in z.namelist():
            if name.endswith((".xml", ".rels")):
                ET.fromstring(z.read(name))


def test_read_only_mode_sees_the_right_dimensions(reports, result):
    wb = openpyxl.load_workbook(reports["xlsx"], read_only=True)
    assert wb["Findings"].max_row == len(result.findings) + 1
    assert wb["Findings"].max_column == 16
    wb.close()


def test_findings_split_over_sheets(tmp_path):
    model = build_model(make_result(n_claims=40))
    n = len(model["findings"]["rows"])
    write_xlsx(model, tmp_path / "r.xlsx", max_sheet_rows=21)          # 20 data rows per sheet
    wb = openpyxl.load_workbook(tmp_path / "r.xlsx")
    pages = [ws for ws in wb.worksheets if ws.title.startswith("Findings")]
    assert [p.title for p in pages][:3] == ["Findings", "Findings (2)", "Findings (3)"]
    assert len(pages) == -(-n // 20)
    assert sum(p.max_row - 1 for p in pages) == n
    assert all(p.tables and p.freeze_panes == "A2" for p in pages)
    fps = [r[14] for p in pages for r in p.iter_rows(min_row=2, values_only=True)]
    assert len(set(fps)) == n
    assert "split over" in " ".join(str(v) for r in wb["Summary"].iter_rows(values_only=True) for v in r if v)


def test_accepts_a_result_and_an_empty_run(tmp_path):
    from auditor.engine.result import AuditResult
    from auditor.findings import empty_findings
    import pandas as pd

    write_xlsx(make_result(n_claims=40), tmp_path / "a.xlsx")
    assert "Findings" in openpyxl.load_workbook(tmp_path / "a.xlsx").sheetnames
    empty = AuditResult(findings=empty_findings(), lines=pd.DataFrame(), coverage=pd.DataFrame())
    write_xlsx(empty, tmp_path / "e.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "e.xlsx")
    assert wb["Findings"]["A2"].value == "No rows." and not wb["Findings"].tables


def test_sheet_past_the_zip64_limit(tmp_path, monkeypatch):
    # Pretend the ZIP64 limit is tiny, as a > 2 GiB sheet would hit it, instead of writing 2 GiB:
    # openpyxl's zip writing must still give a readable workbook.
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 20_000)
    model = build_model(make_result(n_claims=40))
    write_xlsx(model, tmp_path / "big.xlsx")
    with zipfile.ZipFile(tmp_path / "big.xlsx") as z:
        assert max(i.file_size for i in z.infolist()) > 20_000 and z.testzip() is None
    wb = openpyxl.load_workbook(tmp_path / "big.xlsx")
    assert wb["Findings"].max_row == len(model["findings"]["rows"]) + 1


def test_odd_values(tmp_path):
    """Text openpyxl would take for an error value stays text; line breaks, NaN, infinity, time zones,
    numpy numbers and unknown objects get a cell Excel can hold; no warnings."""
    import warnings

    import numpy as np
    import pandas as pd

    tz = dt.datetime(2026, 3, 14, 9, 30, tzinfo=dt.timezone.utc)
    rows = [["#N/A", "a\r\nb\rc", float("nan"), float("inf"), tz, np.int64(7), pd.NaT, {"k": 1}],
            ["#REF!", "=1+1", -1.5, np.float64(2.25), dt.date(2026, 3, 1), 3, None, True]]
    section = {"id": "odd", "title": "Odd", "kind": "table", "columns": list("ABCDEFGH"), "rows": rows,
               "formats": {"C": "money", "D": "money", "F": "int"}}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        write_xlsx(build_model(make_result(n_claims=40), extra_sections=[section]), tmp_path / "o.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "o.xlsx")["Odd"]
    r2, r3 = ([c for c in row] for row in ws.iter_rows(min_row=2, max_row=3))
    assert [c.value for c in r2] == ["#N/A", "a\nb\nc", None, None, dt.datetime(2026, 3, 14, 9, 30), 7, None, "{'k': 1}"]
    assert r2[0].data_type == "s" and r3[0].data_type == "s" and r3[0].value == "#REF!"
    assert r2[4].number_format == "yyyy-mm-dd hh:mm:ss" and r2[5].number_format == "#,##0"
    assert r3[1].value == "'=1+1" and r3[1].data_type == "s"
    assert r3[2].value == -1.5 and "$" in r3[2].number_format and r3[3].value == 2.25
    assert r3[4].value == dt.datetime(2026, 3, 1) and r3[4].number_format == "yyyy-mm-dd"
    assert r3[7].value is True
    assert all(c.font.b for c in ws[1])                                # bold header


def test_failed_write_leaves_no_files(tmp_path, monkeypatch):
    import os

    from openpyxl.worksheet import _writer

    from auditor.report import excel

    made = []                                                         # openpyxl's files of the sheets
    real = _writer.create_temporary_file
    monkeypatch.setattr(_writer, "create_temporary_file", lambda *a: made.append(real(*a)) or made[-1])

    def fail(*a, **k):
        raise RuntimeError("boom")

    monkeypatch.setattr(excel, "_provenance_sheet", fail)             # after the table sheets
    with pytest.raises(RuntimeError):
        write_xlsx(build_model(make_result(n_claims=40)), tmp_path / "f.xlsx")
    assert list(tmp_path.iterdir()) == []
    assert made and not any(os.path.exists(p) for p in made)


def test_extra_chart_sheets(tmp_path):
    from markupsafe import Markup

    sections = [
        {"id": "own", "title": "Own svg", "kind": "chart", "svg": Markup("<svg></svg>"),
         "columns": ["Provider", "Rate"], "rows": [["A", 0.5]]},
        {"id": "nodata", "title": "Picture only", "kind": "chart", "svg": Markup("<svg></svg>")},
        {"id": "text", "title": "Text values", "kind": "chart", "columns": ["A", "B"], "rows": [["x", "y"]]},
        {"id": "bars", "title": "Bars", "kind": "chart", "columns": ["A", "B"], "rows": [["x", 2], ["y", 3]]},
    ]
    write_xlsx(build_model(make_result(n_claims=40), extra_sections=sections), tmp_path / "c.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "c.xlsx")
    assert "Picture only" not in wb.sheetnames                     # nothing to put in a sheet
    assert not wb["Own svg"]._charts and not wb["Text values"]._charts
    assert wb["Bars"]._charts and wb["Own svg"]["B2"].value == 0.5
