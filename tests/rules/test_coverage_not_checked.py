"""A rule whose reference data (or required input) is missing never passes silently: the coverage
section lists it as not checked, with the reason."""

from __future__ import annotations

from datetime import date

import pytest

LINES = [
    {"claim_id": "A", "procedure_code": "99213", "modifier_1": "25", "dx_1": "Z00.00", "dx_2": "C61"},
    {"claim_id": "A", "procedure_code": "20610", "modifier_1": "50", "modifier_2": "LT"},
    {"claim_id": "A", "procedure_code": "99417"},
    {"claim_id": "A", "procedure_code": "G0439"},
    {"claim_id": "A", "procedure_code": "82306"},
]

# rule -> the words its coverage reason must contain when nothing is imported
NEEDS = {
    "IC005": ["no HCPCS Level II file imported"],
    "IC006": ["no HCPCS Level II file imported"],
    "AOC001": ["no NCCI add-on code edits imported"],
    "AOC002": ["no NCCI add-on code edits imported"],
    "AGE001": ["no Medicare Code Editor lists imported", "no MCE age groups imported"],
    "SEX001": ["no Medicare Code Editor lists imported"],
    "DX001": ["no Medicare Code Editor lists imported"],
    "EX001": ["no ICD-10-CM Excludes1 notes imported"],
    "MOD002": ["no physician fee schedule (PPRRVU) data imported"],
    "MOD004": ["no physician fee schedule (PPRRVU) data imported"],
    "GS001": ["no physician fee schedule (PPRRVU) data imported"],
    "FREQ001": ["no frequency limits table imported"],
    "MN001": ["no LCD article HCPCS codes imported", "no LCD article covered ICD-10 codes imported"],
    "MN002": ["no LCD article HCPCS codes imported", "no LCD article non-covered ICD-10 codes imported"],
}


@pytest.mark.parametrize("rule_id", sorted(NEEDS))
def test_rule_without_its_reference_data_is_not_checked(audit, versioned, rule_id):
    lines = LINES if rule_id != "IC006" else [dict(LINES[0], modifier_1="GT")]
    f, cov, _ = audit(rule_id, lines, versioned({}))
    assert f.empty
    row = cov.set_index("rule_id").loc[rule_id]
    assert row["status"] == "not checked", row.to_dict()
    assert row["lines_checked"] == 0 and row["lines_not_checked"] > 0
    for words in NEEDS[rule_id]:
        assert words in row["reason"], row["reason"]


def test_rules_without_reference_data_still_run(audit, versioned):
    f, cov, _ = audit(["MOD001", "MOD003", "DX002", "DX003"],
                      [{"procedure_code": "20610", "modifier_1": "25", "modifier_2": "50", "modifier_3": "RT",
                        "dx_1": "W19.XXXA", "dx_2": "S52.501A", "dx_3": "S52.501A"}], versioned({}))
    assert sorted(f["rule_id"]) == ["DX002", "DX003", "MOD001", "MOD003"]
    assert set(cov["status"]) == {"checked"}


def test_partial_coverage_names_the_dates_without_data(audit, versioned):
    mpfs = [{"code": "20610", "modifier": None, "status": "A", "glob_days": "000", "mult_proc": "2",
             "bilat_surg": "0", "asst_surg": "1", "co_surg": "0", "team_surg": "0"}]
    store = versioned({"mpfs": [("2026_Jan", date(2026, 1, 1), None, mpfs)]})
    lines = [{"claim_id": "A", "procedure_code": "20610", "modifier_1": "50", "service_date": "2025-12-31"},
             {"claim_id": "B", "procedure_code": "20610", "modifier_1": "50", "service_date": "2026-01-02"}]
    f, cov, _ = audit("MOD004", lines, store)
    assert f["claim_id"].tolist() == ["B"]
    row = cov.set_index("rule_id").loc["MOD004"]
    assert row["status"] == "partial"
    assert (row["lines_checked"], row["lines_not_checked"]) == (1, 1)
    assert "2025-12-31" in row["reason"]


def test_missing_birth_date_is_not_checked_not_passed(audit, single):
    mce = [{"edit_type": "Adult_Only", "code_type": "D", "code": "Z0000"}]
    groups = [{"group": "adult", "min_age": 15, "max_age": 124, "edit_type": "Adult_Only"}]
    lines = [{"claim_id": "A", "dx_1": "Z00.00", "dx_2": "I10", "member_birth_date": None},
             {"claim_id": "B", "dx_1": "Z00.00", "member_birth_date": "2016-05-01"},
             {"claim_id": "C", "dx_1": "Z00.00", "member_birth_date": "1950-05-01"}]
    f, cov, _ = audit("AGE001", lines, single({"mce": mce, "mce_age_groups": groups}))
    assert f["claim_id"].tolist() == ["B"]
    row = cov.set_index("rule_id").loc["AGE001"]
    assert row["status"] == "partial"
    assert (row["lines_checked"], row["lines_not_checked"]) == (2, 2)  # diagnosis rows
    assert row["reason"] == "no member_birth_date on 1 claim(s) (2 diagnosis rows)"


def test_every_claim_without_birth_date_means_not_checked(audit, single):
    mce = [{"edit_type": "Adult_Only", "code_type": "D", "code": "Z0000"}]
    groups = [{"group": "adult", "min_age": 15, "max_age": 124, "edit_type": "Adult_Only"}]
    f, cov, _ = audit("AGE001", [{"dx_1": "Z00.00", "member_birth_date": None}],
                      single({"mce": mce, "mce_age_groups": groups}))
    assert f.empty
    assert cov.set_index("rule_id").loc["AGE001", "status"] == "not checked"


@pytest.mark.parametrize("sex, status, findings", [("F", "checked", 1), ("M", "checked", 0), ("U", "checked", 0),
                                                  (None, "not checked", 0)])
def test_member_sex_unknown_or_missing(audit, single, sex, status, findings):
    mce = [{"edit_type": "Male_Only", "code_type": "D", "code": "C61"}]
    f, cov, _ = audit("SEX001", [{"dx_1": "C61", "member_sex": sex}], single({"mce": mce}))
    assert len(f) == findings
    assert cov.set_index("rule_id").loc["SEX001", "status"] == status


def test_coverage_reaches_the_report_model(audit, versioned):
    """The reports read the coverage frame: the not-checked rows and reasons are in it."""
    from auditor.report.model import _coverage

    _, cov, _ = audit(["IC003", "IC005"], [{"procedure_code": "J1100"}], versioned({}))
    model = _coverage(cov)
    text = repr(model)
    assert "IC005" in text and "no HCPCS Level II file imported" in text
