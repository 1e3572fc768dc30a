"""`auditor review` end to end over three periods, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from bs4 import BeautifulSoup

from auditor.cli import main
from auditor.review.config import expand_inputs
from auditor.review.period import Period, PeriodFilter
from review.synth import claims, npi, peers, write

A, B, C, OUT = npi(101), npi(102), npi(103), npi(1)
# DQ004 (units 0, severity error) findings per provider and month: A every month, B stops, C starts.
BAD = {"2026-08": {A: 2, B: 1}, "2026-09": {A: 2, B: 2}, "2026-10": {A: 3, C: 1}}
PATTERN_CSV_COLUMNS = ["rule_id", "category", "rendering_npi", "status", "periods_in_a_row", "findings_this_period",
                       "findings_previous_period", "dollars_this_period", "dollars_previous_period"]


def month_claims(month: str, seed: int) -> pd.DataFrame:
    p = peers(6, visits=40)
    for who, n in BAD[month].items():
        p[who]["bad_units"] = n
    p[OUT] = {"visits": 60, "high": 0.75}
    return claims(month, p, seed=seed)


def run(*argv) -> int:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    return exc.value.code


@pytest.fixture
def data(tmp_path) -> Path:
    for i, month in enumerate(BAD):
        df = month_claims(month, seed=i)
        if month == "2026-10":   # late claims of September in October's file: outside the period
            late = claims("2026-09", {npi(900): {"visits": 5}}, seed=9, prefix="L")
            df = pd.concat([df, late], ignore_index=True)
        write(df, tmp_path / "claims" / month / "claims.csv")
    return tmp_path


def config(tmp: Path, history: str, **extra) -> Path:
    lines = ['name = "clinic"', 'inputs = ["claims/{period}/*.csv"]', f'history = "{history}"',
             'out = "out/{period}"', 'select = ["DQ004", "UTIL"]']
    lines += [f"{k} = {v!r}".replace("'", '"') for k, v in extra.items()]
    p = tmp / "review.toml"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def test_three_periods(data, history_url):
    cfg = config(data, history_url)
    for month in BAD:
        assert run("review", "--config", str(cfg), "--period", month, "-q") == 1    # DQ004 errors are open
    out = data / "out" / "2026-10"
    pat = pd.read_csv(out / "patterns.csv", dtype={"rendering_npi": str})
    assert list(pat.columns) == PATTERN_CSV_COLUMNS
    p = pat.set_index(["rule_id", "rendering_npi"])
    assert p.loc[("DQ004", A), ["status", "periods_in_a_row", "findings_this_period",
                                "findings_previous_period"]].tolist() == ["recurring", 3, 3, 2]
    assert p.loc[("DQ004", B), ["status", "periods_in_a_row", "findings_this_period",
                                "findings_previous_period"]].tolist() == ["resolved", 0, 0, 2]
    assert p.loc[("DQ004", C), ["status", "periods_in_a_row", "findings_this_period"]].tolist() == ["new", 1, 1]
    assert p.loc[("UTIL001", OUT), ["status", "periods_in_a_row"]].tolist() == ["recurring", 3]
    assert p.loc[("DQ004", A), "dollars_this_period"] > 0
    assert pat["status"].tolist() == sorted(pat["status"], key=["new", "recurring", "resolved"].index)

    html = BeautifulSoup((out / "report.html").read_text(encoding="utf-8"), "html.parser")
    ids = [s.get("id") for s in html.find_all("section")]
    assert ids[:4] == ["summary", "x-review", "x-comparison", "x-patterns"]     # opens with the comparison
    assert ids.index("x-findings-by-category") < ids.index("by-category")       # then the trends
    review = html.find("section", id="x-review").get_text(" ", strip=True)
    assert "compared with 2026-09" in review and "1 new, 2 recurring, 1 resolved" in review
    assert "5 lines of 5 claims outside the period were left out" in review
    trend = html.find("section", id="x-findings-by-category")
    assert trend.find("svg") is not None and "2026-08" in trend.get_text()
    util = html.find("section", id="x-util-util001")
    assert util.find("svg") is not None and OUT in util.get_text()
    assert html.find("section", id="x-util-util001-levels").find("svg") is not None

    wb = openpyxl.load_workbook(out / "report.xlsx", read_only=True)
    assert wb.sheetnames[0] == "Summary" and wb.sheetnames[1].startswith("Comparison 2026-10 vs 2026-09")
    assert wb.sheetnames[2].startswith("Patterns")
    rows = list(wb[wb.sheetnames[1]].iter_rows(values_only=True))
    assert rows[1][:3] == ("Open findings", 5, 5)                               # 4 DQ004 + 1 UTIL001, both months
    summary_text = [r[0] for r in wb["Summary"].iter_rows(values_only=True) if r and r[0]]
    assert any(str(t).startswith("Review of 2026-10") for t in summary_text)

    # re-audit of October after one of A's claims was corrected: fixed vs still open by fingerprint
    df = pd.read_csv(data / "claims" / "2026-10" / "claims.csv", dtype=str)
    bad = df.index[(df["rendering_npi"] == A) & (df["units"] == "0")][0]
    df.loc[bad, "units"] = "1"
    df.to_csv(data / "claims" / "2026-10" / "claims.csv", index=False)
    assert run("review", "--config", str(cfg), "--period", "2026-10", "-q") == 1
    ch = pd.read_csv(out / "finding_changes.csv")
    assert (ch["status"] == "fixed").sum() == 1 and (ch["status"] == "still open").sum() == 4
    assert (ch["status"] == "new").sum() == 0
    from auditor.history import HistoryStore
    with HistoryStore(history_url) as store:
        assert [r["period"] for r in store.runs("clinic")] == ["2026-10", "2026-09", "2026-08"]   # replaced


def test_flags_without_config_and_waivers(data, tmp_path):
    hist = str(tmp_path / "h.sqlite")
    common = ["--history", hist, "--select", "DQ004,UTIL", "--fail-on", "never", "-q"]
    assert run("review", str(data / "claims/2026-09/claims.csv"), "--period", "2026-09",
               "--out", str(tmp_path / "o9"), *common) == 0
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(f"""waivers:
  - {{id: W-A, rule: DQ004, provider: "{A}", reason: extract defect, approved_by: compliance, expires: 2099-01-01}}
  - {{id: W-OLD, rule: UTIL001, provider: "{OUT}", reason: old, approved_by: compliance, expires: 2020-01-01}}
  - {{id: W-NONE, rule: DQ004, claim: NO-SUCH-CLAIM, reason: r, approved_by: compliance, expires: 2099-01-01}}
""", encoding="utf-8")
    out = tmp_path / "o10"
    assert run("review", str(data / "claims/{period}/*.csv"), "--period", "2026-10", "--out", str(out),
               "--waivers", str(waivers), *common) == 0
    pat = pd.read_csv(out / "patterns.csv", dtype={"rendering_npi": str}).set_index(["rule_id", "rendering_npi"])
    assert ("DQ004", A) in pat.index and pat.loc[("DQ004", A), "status"] == "resolved"   # waived: not open
    st = pd.read_csv(out / "waivers.csv").set_index("waiver_id")
    assert st.loc["W-A", "status"] == "applied" and st.loc["W-A", "findings_matched"] == 3
    assert st.loc["W-OLD", "status"] == "expired" and st.loc["W-NONE", "status"] == "stale"
    html = BeautifulSoup((out / "report.html").read_text(encoding="utf-8"), "html.parser")
    waived = html.find("section", id="x-waived")
    assert waived is not None and "W-A" in waived.get_text() and "extract defect" in waived.get_text()
    text = html.find("section", id="x-waivers").get_text(" ", strip=True)
    assert "stale" in text and "expired" in text and "open again" in text
    found = pd.read_csv(out / "findings.csv", dtype=str)
    assert not ((found["rule_id"] == "DQ004") & (found["rendering_npi"] == A)).any()
    wb = openpyxl.load_workbook(out / "report.xlsx", read_only=True)
    sheet = [r for r in wb["Waived findings"].iter_rows(values_only=True)]
    assert len(sheet) == 4 and all("W-A" in r for r in sheet[1:])


def test_audit_records_history_and_waivers(data, tmp_path):
    hist = str(tmp_path / "h.sqlite")
    waivers = tmp_path / "w.csv"
    waivers.write_text(f"rule,provider,reason,approved_by,expires\nDQ004,{A},r,me,2099-01-01\n", encoding="utf-8")
    f = str(data / "claims/2026-09/claims.csv")
    assert run("audit", f, "--select", "DQ004", "--history", hist, "--waivers", str(waivers),
               "--out", str(tmp_path / "a"), "-q") == 1              # B's DQ004 errors stay open
    assert run("audit", f, "--select", "DQ004", "--history", hist, "--out", str(tmp_path / "a"), "-q") == 1
    from auditor.history import HistoryStore
    with HistoryStore(hist) as store:
        runs = store.runs()
        assert [(r["period"], r["command"], r["findings_open"]) for r in runs] == [("2026-09", "audit", 4)]


def test_usage_errors_exit_2(data, tmp_path, capsys):
    cfg = config(data, str(tmp_path / "h.sqlite"))
    assert run("review", "--config", str(cfg), "--period", "2026-13") == 2
    assert run("review", "--config", str(cfg), "--period", "2025-01") == 2      # no files for that month
    assert "no input files match" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text('inputs = ["x"]\ncolour = "red"\n')
    assert run("review", "--config", str(bad)) == 2
    assert run("review", str(data / "claims/2026-10/claims.csv"), "--period", "2026-10") == 2   # no --history


def test_period_filter_and_inputs(tmp_path):
    lines = pd.DataFrame({"claim_id": ["A", "A", "B", "C", "D"],
                          "service_date": pd.to_datetime(["2026-09-30", "2026-10-01", "2026-10-05", "2026-11-01", None]),
                          "received_date": pd.to_datetime(["2026-10-03", "2026-10-03", "2026-10-09", "2026-11-04", None])})
    oct_ = Period.parse("2026-10")
    pf = PeriodFilter(oct_, "service")
    assert pf(lines).tolist() == [False, False, True, False, True]      # claim A starts in September
    assert (pf.lines_out, pf.claims_out, pf.undated_lines) == (3, 2, 1)
    assert PeriodFilter(oct_, "received")(lines).tolist() == [True, True, True, False, True]
    assert Period.parse("last-month", today=date(2026, 1, 15)).label == "2025-12"
    assert oct_.previous().label == "2026-09" and oct_.end == date(2026, 10, 31)
    (tmp_path / "2026-10").mkdir()
    for n in ("b.csv", "a.csv"):
        (tmp_path / "2026-10" / n).write_text("x")
    (tmp_path / "claims_202610.csv").write_text("x")
    got = expand_inputs([str(tmp_path / "{period}" / "*.csv"), str(tmp_path / "claims_%Y%m.csv")], oct_)
    assert [p.name for p in got] == ["a.csv", "b.csv", "claims_202610.csv"]
