import datetime as dt

import pandas as pd
import pytest
from report_fixtures import EXTRA, make_result

from auditor.engine.result import AuditResult
from auditor.findings import empty_findings
from auditor.report.model import build_model

PLAIN = (type(None), str, int, float, bool, dt.date, dt.datetime)


def _walk(v, path="model"):
    if isinstance(v, dict):
        for k, x in v.items():
            assert isinstance(k, str), path
            _walk(x, f"{path}.{k}")
    elif isinstance(v, (list, tuple)):
        for i, x in enumerate(v):
            _walk(x, f"{path}[{i}]")
    else:
        assert type(v) in PLAIN or isinstance(v, str), f"{path}: {type(v)}"


def _expected_dollars(f: pd.DataFrame) -> float:
    """Reference computation, written plainly: each line once, a claim-level amount once per claim."""
    total = 0.0
    for _claim, g in f.groupby(f["claim_id"].fillna("")):
        lines = {}
        claim_level = 0.0
        for _, r in g.iterrows():
            amt = 0.0 if pd.isna(r["amount_at_risk"]) else r["amount_at_risk"]
            if pd.isna(r["line_number"]):
                claim_level = max(claim_level, amt)
            else:
                lines[r["line_number"]] = max(lines.get(r["line_number"], 0.0), amt)
        total += max(sum(lines.values()), claim_level)
    return round(total, 2)


@pytest.fixture(scope="module")
def model(result):
    return build_model(result, title="March audit", extra_sections=EXTRA)


def test_model_is_plain_data(model):
    _walk(model)


def test_summary_figures(model, result):
    s, f = model["summary"], result.findings
    assert s["findings"] == len(f)
    assert s["claims"] == result.lines["claim_id"].nunique()
    assert s["lines_read"] == s["lines_audited"] == len(result.lines)
    assert s["claims_with_findings"] == f["claim_id"].nunique()
    assert s["findings_by_severity"] == {k: int((f["severity"] == k).sum()) for k in ("error", "warning", "info")}
    line_level = f[f["line_number"].notna()]
    assert s["lines_with_findings"] == len(line_level.drop_duplicates(["claim_id", "line_number"]))
    assert (s["rules_checked"], s["rules_partial"], s["rules_not_checked"]) == (6, 1, 2)


def test_dollars_count_each_line_once(model, result):
    f = result.findings
    assert f.duplicated(["claim_id", "line_number"]).any(), "fixture must flag some line twice"
    assert model["summary"]["dollars_at_risk"] == pytest.approx(_expected_dollars(f))
    naive = f["amount_at_risk"].sum()
    assert model["summary"]["dollars_at_risk"] < naive


def test_claim_level_finding_counts_the_claim_once(result):
    f = result.findings
    claim = result.lines[result.lines["claim_id"] == "CLM00010"]
    m = build_model(result)
    row = next(r for r in m["claims"]["rows"] if r[0] == "CLM00010")
    assert row[m["claims"]["columns"].index("dollars_at_risk")] == pytest.approx(claim["charge"].sum())
    # Same claim, claim level only: the claim total, not total + lines.
    only = f[f["claim_id"] == "CLM00010"]
    assert _expected_dollars(only) == pytest.approx(claim["charge"].sum())


def test_group_tables_reconcile(model, result):
    f = result.findings
    cols = model["by_category"]["columns"]
    assert sum(r[cols.index("Findings")] for r in model["by_category"]["rows"]) == len(f)
    cols = model["by_rule"]["columns"]
    by_rule = {r[0]: r for r in model["by_rule"]["rows"]}
    assert {k: v[cols.index("Findings")] for k, v in by_rule.items()} == f["rule_id"].value_counts().to_dict()
    assert by_rule["PTP-001"][cols.index("Coverage")] == "partial"
    assert by_rule["DQ-001"][cols.index("Title")] == "NPI fails the check digit"
    for r in model["by_rule"]["rows"]:
        sub = f[f["rule_id"] == r[0]]
        assert r[cols.index("Dollars at risk")] == pytest.approx(_expected_dollars(sub))
    cols = model["by_provider"]["columns"]
    prov = {r[0]: r for r in model["by_provider"]["rows"]}
    assert "(none)" in prov                      # the finding without a rendering NPI is not dropped
    assert sum(r[cols.index("Findings")] for r in prov.values()) == len(f)
    assert "data_quality" in prov["1234567893"][cols.index("Top categories")]


def test_claim_slices_cover_every_finding(model):
    rows, cols = model["findings"]["rows"], model["findings"]["columns"]
    ci = cols.index("claim_id")
    ccols = model["claims"]["columns"]
    seen = 0
    for c in model["claims"]["rows"]:
        start, stop = c[ccols.index("start")], c[ccols.index("stop")]
        assert start == seen and stop - start == c[ccols.index("findings")]
        assert {r[ci] for r in rows[start:stop]} == {c[0]}
        seen = stop
    assert seen == len(rows)
    # Worst claims first: every error claim before any claim whose worst finding is a warning.
    worst = [c[ccols.index("worst_severity")] for c in model["claims"]["rows"]]
    assert worst == sorted(worst, key=["error", "warning", "info"].index)


def test_findings_rows_have_plain_values(model):
    cols = model["findings"]["columns"]
    rows = model["findings"]["rows"]
    dates = [r[cols.index("service_date")] for r in rows]
    assert all(d is None or type(d) is dt.date for d in dates) and None in dates
    assert any(r[cols.index("line_number")] is None for r in rows)          # claim-level
    assert any(r[cols.index("amount_at_risk")] is None for r in rows)
    assert all(r[cols.index("related_line")] is None for r in rows)


def test_coverage_not_checked_first(model):
    statuses = [r[3] for r in model["coverage"]["rows"]]
    assert statuses[:3] == ["not checked", "not checked", "partial"]
    assert model["coverage"]["counts"] == {"not checked": 2, "partial": 1, "checked": 6}


def test_provenance(model):
    p = model["provenance"]
    assert p["rule_pack_hash"] == "ab" * 32 and p["inputs"][0]["sha256"] == "ef" * 32
    assert p["options"]["select"] == ["ncci_ptp", "mue"]


def test_extra_sections_validated_and_plain():
    r = make_result(n_claims=40)
    sec = {"id": "t", "title": "T", "kind": "table", "columns": ["a", "b"],
           "rows": [[pd.Timestamp("2026-01-02"), pd.NA], [float("nan"), 3]]}
    m = build_model(r, extra_sections=[sec])
    assert m["extra_sections"][0]["rows"] == [[dt.date(2026, 1, 2), None], [None, 3]]
    with pytest.raises(ValueError, match="kind"):
        build_model(r, extra_sections=[{"id": "x", "title": "X", "kind": "pie"}])
    with pytest.raises(ValueError, match="title"):
        build_model(r, extra_sections=[{"id": "x", "kind": "text"}])


def test_empty_run():
    r = AuditResult(findings=empty_findings(), lines=pd.DataFrame({"claim_id": ["A", "B"]}),
                    coverage=pd.DataFrame())
    m = build_model(r)
    _walk(m)
    assert m["summary"]["findings"] == 0 and m["summary"]["dollars_at_risk"] == 0
    assert m["summary"]["claims"] == 2 and m["findings"]["rows"] == [] and m["claims"]["rows"] == []
    assert m["coverage"]["rows"] == []
