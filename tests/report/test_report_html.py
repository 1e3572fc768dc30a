import base64
import hashlib

import pytest
from bs4 import BeautifulSoup
from markupsafe import Markup
from report_fixtures import HOSTILE, make_result

from auditor.report.charts import bar_chart, line_chart
from auditor.report.html import write_html
from auditor.report.model import build_model


@pytest.fixture(scope="module")
def page(reports):
    raw = reports["html"].read_text("utf-8")
    return raw, BeautifulSoup(raw, "html.parser")


def _num(text: str) -> float:
    return float(text.replace("$", "").replace(",", ""))


def test_summary_cards_match_the_model(page, result):
    _, soup = page
    s = build_model(result)["summary"]
    card = {el["data-k"]: el.get_text(strip=True) for el in soup.select("#summary .card .value")}
    for key in ("claims", "lines_audited", "claims_with_findings", "findings", "rules_not_checked"):
        assert _num(card[key]) == s[key], key
    for sev, n in s["findings_by_severity"].items():
        assert _num(card[sev]) == n
    assert _num(card["dollars_at_risk"]) == pytest.approx(s["dollars_at_risk"])


def test_every_finding_row_is_present(page, result):
    _, soup = page
    rows = soup.select("#findings-table tbody tr")
    assert len(rows) == len(result.findings)
    claims_in_table = {tr.find_all("td")[3].get_text() for tr in rows}
    assert claims_in_table == set(result.findings["claim_id"])
    fingerprints = result.findings
    assert not soup.select("#truncated")
    # Category and severity data attributes drive the filters.
    assert {tr["data-cat"] for tr in rows} == set(fingerprints["category"])
    assert {tr["data-sev"] for tr in rows} == set(fingerprints["severity"])


def test_hostile_text_is_escaped(page):
    raw, soup = page
    assert "<script>alert" not in raw
    assert "<b>evil</b>" not in raw and "<i>Stale</i>" not in raw
    assert len(soup.find_all("script")) == 1                    # only our own script
    assert soup.find(string=HOSTILE["script"]) is not None      # shown as text
    assert soup.find(string=HOSTILE["quotes"]) is not None
    cells = {td.get_text() for td in soup.select("#findings-table td")}
    assert {'=HYPERLINK("x")', "@SUM(A1)", "\tX"} <= cells      # HTML shows text unchanged


def test_self_contained_and_script_pinned_by_csp(page):
    raw, soup = page
    assert not soup.find_all(["link", "img", "iframe", "object", "embed"])
    assert not [t for t in soup.find_all(src=True)]
    assert not [a for a in soup.find_all("a", href=True) if not a["href"].startswith("#")]
    assert "http://" not in raw.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in raw
    csp = soup.find("meta", attrs={"http-equiv": "Content-Security-Policy"})["content"]
    assert "default-src 'none'" in csp
    script = soup.find("script").string
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    assert f"'sha256-{digest}'" in csp


def test_coverage_lists_not_checked_rules(page):
    _, soup = page
    box = soup.select_one("#not-checked")
    assert box is not None
    text = box.get_text(" ")
    for rule, reason in (("AGE-001", "no member_birth_date in the input"), ("SEX-001", "no member_sex in the input"),
                         ("PTP-001", "no NCCI PTP data for 2026-03-14")):
        assert rule in text and reason in text
    assert "DQ-001" not in text
    cov = soup.select_one("#coverage")
    statuses = [span.get_text() for span in cov.select("tbody .badge")]
    assert statuses.count("not checked") == 2 and statuses.count("partial") == 1
    assert "passed" not in cov.get_text().replace("not passed", "")


def test_charts_are_inline_svg(page):
    _, soup = page
    for section in ("summary", "by-category", "by-rule", "by-provider", "x-trend", "x-bars"):
        svg = soup.select_one(f"#{section} svg")
        assert svg is not None, section
        assert svg.find_all(["rect", "polyline"]), section


def test_extra_sections(page):
    raw, soup = page
    nav = [a.get_text() for a in soup.select("nav.toc a")]
    assert nav.index("Compared with last month") < nav.index("By category")   # position: top
    assert nav.index("Waivers") > nav.index("Claims")
    assert "Two waivers expired." in soup.select_one("#x-note").get_text()
    # A plain-string svg is not trusted: the chart is drawn from the rows instead, labels escaped.
    bars = soup.select_one("#x-bars svg")
    assert "<b>evil</b>" in bars.get_text() and "alert(2)" not in raw
    assert "40.0%" in bars.get_text()                             # value labels use the column format
    assert soup.select_one("#x-comparison table.sortable") is not None


def test_per_claim_view(page, result):
    _, soup = page
    details = soup.select("#claims details.claim")
    assert len(details) == result.findings["claim_id"].nunique()
    clm10 = next(d for d in details if d.summary.select_one(".cid").get_text() == "CLM00010")
    first_line = clm10.select("tbody tr td")[0].get_text()
    assert first_line == "claim"                                  # claim-level finding listed first
    total = sum(len(d.select("tbody tr")) for d in details)
    assert total == len(result.findings)


def test_large_run_is_truncated_with_a_note(tmp_path):
    model = build_model(make_result(n_claims=60), title="<img src=x onerror=alert(3)>")
    n = len(model["findings"]["rows"])
    write_html(model, tmp_path / "r.html", max_rows=25, max_claims=5)
    raw = (tmp_path / "r.html").read_text("utf-8")
    assert "<img" not in raw
    soup = BeautifulSoup(raw, "html.parser")
    assert soup.title.string == "<img src=x onerror=alert(3)>"
    assert len(soup.select("#findings-table tbody tr")) == 25
    note = soup.select_one("#truncated").get_text(" ")
    assert f"{n:,}" in note and "25" in note and "findings.csv" in note and "report.xlsx" in note
    assert len(soup.select("#claims details.claim")) == 5
    assert "first 5 of" in soup.select_one("#claims").get_text()


def test_chart_helpers_escape_and_accept_markup():
    svg = bar_chart(['<script>x</script>', "a&b"], [3, 1], title='"t"')
    assert isinstance(svg, Markup) and "<script>" not in svg and "&lt;script&gt;" in svg
    assert "a&amp;b" in svg
    line = line_chart(["2026-01", "2026-02"], {"<x>": [1, 2]}, title="t")
    assert "&lt;x&gt;" in line and "<polyline" in line
    assert "No data" in bar_chart([], [])
