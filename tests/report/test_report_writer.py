import io

import pytest
from rich.console import Console

from auditor.report import excel, print_summary, write_reports
from auditor.report._io import atomic_path


def _leftovers(folder):
    return [p.name for p in folder.iterdir() if p.name.startswith(".") or p.name.endswith(".tmp")]


def test_writes_all_reports_and_no_temp_files(reports):
    out = reports["html"].parent
    assert {k: p.name for k, p in reports.items()} == {
        "csv": "findings.csv", "json": "findings.json", "html": "report.html", "xlsx": "report.xlsx"}
    assert all(p.stat().st_size > 0 for p in reports.values())
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in reports.values())
    assert _leftovers(out.parent) == [] and _leftovers(out) == []


def test_creates_nested_out_dir_and_subset_of_formats(result, tmp_path):
    out = tmp_path / "reports" / "2026-04"
    written = write_reports(result, out, formats=("csv", "html"))
    assert set(written) == {"csv", "html"} and sorted(p.name for p in out.iterdir()) == ["findings.csv",
                                                                                          "report.html"]
    with pytest.raises(ValueError, match="pdf"):
        write_reports(result, out, formats=("pdf",))


def test_failure_leaves_out_dir_untouched(result, tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "findings.csv").write_text("old run\n")

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(excel, "write_xlsx", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        write_reports(result, out)
    assert sorted(p.name for p in out.iterdir()) == ["findings.csv"]
    assert (out / "findings.csv").read_text() == "old run\n"          # not replaced by a partial run
    assert _leftovers(tmp_path) == [] and _leftovers(out) == []


def test_atomic_path_cleans_up_on_error(tmp_path):
    target = tmp_path / "x.txt"
    with pytest.raises(ZeroDivisionError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            1 / 0
    assert list(tmp_path.iterdir()) == []
    with atomic_path(target) as tmp:
        tmp.write_text("whole")
    assert target.read_text() == "whole" and [p.name for p in tmp_path.iterdir()] == ["x.txt"]


def test_terminal_summary_has_counts_and_gaps_but_no_patient_data(result, reports):
    buf = io.StringIO()
    print_summary(result, reports["html"].parent, console=Console(file=buf, width=200, color_system=None))
    text = buf.getvalue()
    n = len(result.findings)
    assert f"{n:,}" in text and "160 claims" in text and f"{len(result.lines):,} lines" in text
    for rule, reason in (("AGE-001", "no member_birth_date"), ("PTP-001", "no NCCI PTP data for 2026-03-14")):
        assert rule in text and reason in text
    assert "report.html" in text and "report.xlsx" in text and "findings.csv" in text
    assert "MBR" not in text                                          # no member ids
    birth_years = {str(d.year) for d in result.lines["member_birth_date"]} - {"2026"}
    assert not any(f"{y}-" in text for y in birth_years)              # no birth dates
    assert "CLM0" not in text                                         # no claim rows at all
