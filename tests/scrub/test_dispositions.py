"""Disposition rules: the shipped file's verdicts, and errors in a dispositions file."""

import pytest

from auditor.errors import RuleError
from auditor.scrub.dispositions import load
from auditor.scrub.verdicts import decide


def finding(rule_id="DQ003", category="data_quality", severity="error", claim="C1", line=1, amount=100.0):
    return {"rule_id": rule_id, "category": category, "severity": severity, "claim_id": claim, "line_number": line,
            "amount_at_risk": amount, "message": "m"}


def claim(cid="C1", total=100.0, lines=1):
    return {cid: {"claim_id": cid, "member_id": "M1", "claim_type": "professional", "payer": None,
                  "type_of_bill": None, "place_of_service": "11", "lines": lines, "total_charge": total}}


@pytest.fixture(scope="module")
def shipped():
    return load()


@pytest.mark.parametrize("findings,verdict", [
    ([], "pass"),
    ([finding("MOD005", "modifier", "info")], "pass"),                       # info never holds
    ([finding("DX003", "dx_sequencing", "warning")], "warn"),
    ([finding("NCCI001", "ncci_ptp")], "hold"),                               # a coder can fix it
    ([finding("DQ003")], "reject"),                                          # front-end rejection
    ([finding("X12002")], "reject"),
    ([finding("DUP001", "duplicate")], "reject"),
    ([finding("DX003", "dx_sequencing", "warning"), finding("NCCI001", "ncci_ptp")], "hold"),  # the worst wins
    ([finding("MUE001", "mue"), finding("IC001", "invalid_code")], "reject"),
])
def test_shipped_verdicts(shipped, findings, verdict):
    (v,) = decide(findings, claim(), shipped)
    assert v.verdict == verdict
    assert v.counts == {s: sum(f["severity"] == s for f in findings) for s in ("error", "warning", "info")}
    assert v.rule_ids == sorted({f["rule_id"] for f in findings})


def test_charge_threshold_routes_warnings_to_review(shipped):
    (low,) = decide([finding("DX003", "dx_sequencing", "warning")], claim(total=9999.99), shipped)
    (high,) = decide([finding("DX003", "dx_sequencing", "warning")], claim(total=10000), shipped)
    assert (low.verdict, high.verdict) == ("warn", "hold")
    assert any("10,000" in r["reason"] for r in high.reasons)


def test_reasons_name_the_findings_that_led(shipped):
    (v,) = decide([finding("DX003", "dx_sequencing", "warning"), finding("NCCI001", "ncci_ptp"),
                   finding("NCCI002", "ncci_ptp")], claim(), shipped)
    assert v.verdict == "hold"
    assert [r["rule_ids"] for r in v.reasons] == [["NCCI001", "NCCI002"]]
    assert {f["rule_id"]: f["disposition"] for f in v.findings} == {"DX003": "warn", "NCCI001": "hold",
                                                                     "NCCI002": "hold"}


def test_claims_named_only_by_findings_get_a_verdict(shipped):
    vs = decide([finding(claim="NOLINES")], claim(), shipped)
    assert [(v.claim_id, v.verdict, v.lines) for v in vs] == [("C1", "pass", 1), ("NOLINES", "reject", 0)]


def test_default_for_unmatched_findings(tmp_path):
    p = tmp_path / "d.yaml"
    p.write_text("default: warn\nfindings:\n  - when: severity == 'error'\n    verdict: reject\n", encoding="utf-8")
    (v,) = decide([finding("X", "modifier", "info")], claim(), load(p))
    assert v.verdict == "warn"


@pytest.mark.parametrize("text,problem", [
    ("findings:\n  - when: severity == 'error'\n    verdict: block\n", "verdict 'block'"),
    ("findings:\n  - when: colour == 'red'\n    verdict: hold\n", "unknown field 'colour'"),
    ("claims:\n  - when: claim.total > 5\n    verdict: hold\n", "unknown field 'claim.total'"),
    ("findings:\n  - when: __import__('os')\n    verdict: hold\n", "'__import__' is not allowed"),
    ("findings:\n  - when: severity.lower() == 'error'\n    verdict: hold\n", "no methods"),
    ("findings:\n  - when: severity == \n    verdict: hold\n", "syntax error"),
    ("findings:\n  - verdict: hold\n", "needs 'when'"),
    ("rules: []\n", "unknown key 'rules'"),
    ("findings: [\n", "not valid YAML"),
])
def test_bad_dispositions_are_reported_with_file_and_line(tmp_path, text, problem):
    p = tmp_path / "dispositions.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(RuleError) as err:
        load(p)
    assert problem in str(err.value) and "dispositions.yaml" in str(err.value)


def test_a_rule_folder_can_bring_its_own(tmp_path):
    (tmp_path / "dispositions.yaml").write_text("findings:\n  - when: true\n    verdict: reject\n", encoding="utf-8")
    d = load(rule_dirs=[tmp_path])
    assert d.source.endswith(str(tmp_path / "dispositions.yaml"))
