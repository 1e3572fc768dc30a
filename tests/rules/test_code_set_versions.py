"""Code validity judged by the code-set version in effect on the date of service."""

from __future__ import annotations

from datetime import date

import pytest

# FY2021 -> FY2022: on 2021-10-01 M54.5 (low back pain) became a header and M54.50/.51/.59 were added.
FY2021 = [{"code": "M545", "billable": True, "description": "Low back pain"},
          {"code": "I10", "billable": True, "description": "Essential (primary) hypertension"}]
FY2022 = [{"code": "M545", "billable": False, "description": "Low back pain"},
          {"code": "M5450", "billable": True, "description": "Low back pain, unspecified"},
          {"code": "I10", "billable": True, "description": "Essential (primary) hypertension"}]


@pytest.fixture
def icd_store(versioned):
    return versioned({"icd10cm": [("FY2021", date(2020, 10, 1), date(2021, 9, 30), FY2021),
                                  ("FY2022", date(2021, 10, 1), date(2022, 9, 30), FY2022)]})


def _ids(findings):
    return sorted(findings["rule_id"])


@pytest.mark.parametrize("dx, day, expected", [
    ("M54.5", "2021-09-30", []),              # billable in FY2021
    ("M54.5", "2021-10-01", ["IC002"]),       # a header from FY2022 on
    ("M54.50", "2021-09-30", ["IC001"]),      # did not exist yet
    ("M54.50", "2021-10-01", []),             # new on October 1
])
def test_code_valid_before_october_1_and_not_after(audit, icd_store, dx, day, expected):
    f, cov, ctx = audit(["IC001", "IC002"], [{"dx_1": dx, "service_date": day, "received_date": "2021-10-20"}],
                        icd_store)
    assert _ids(f) == expected
    assert set(cov["status"]) == {"checked"}
    fy = "FY2021" if day < "2021-10-01" else "FY2022"
    assert ("icd10cm", fy) in ctx.versions_used
    if expected:
        assert f"version {fy}" in f["reference"].iloc[0]


def test_claims_on_both_sides_of_october_1_in_one_run(audit, icd_store):
    lines = [{"claim_id": "A", "dx_1": "M54.5", "service_date": "2021-09-30"},
             {"claim_id": "B", "dx_1": "M54.5", "service_date": "2021-10-01"},
             {"claim_id": "C", "dx_1": "M54.50", "service_date": "2021-09-30"},
             {"claim_id": "D", "dx_1": "M54.50", "service_date": "2021-10-01"}]
    f, _, ctx = audit(["IC001", "IC002"], lines, icd_store)
    assert sorted(zip(f["claim_id"], f["rule_id"])) == [("B", "IC002"), ("C", "IC001")]
    assert {k for k, _ in ctx.versions_used} == {"icd10cm"}
    assert {v for _, v in ctx.versions_used} == {"FY2021", "FY2022"}


def test_date_without_a_code_set_version_is_not_checked(audit, icd_store):
    lines = [{"claim_id": "A", "dx_1": "Z99.999", "service_date": "2022-10-01"},   # no FY2023 imported
             {"claim_id": "B", "dx_1": "I10", "service_date": "2022-09-30"}]
    f, cov, _ = audit("IC001", lines, icd_store)
    assert f.empty  # never a finding where the code set is unknown
    row = cov.set_index("rule_id").loc["IC001"]
    assert row["status"] == "partial"
    assert row["lines_not_checked"] == 1
    assert "2022-10-01" in row["reason"] and "ICD-10-CM" in row["reason"]


HCPCS = [
    {"code": "G0365", "record_type": "procedure", "add_date": "2003-01-01", "effective_date": "2020-01-01",
     "term_date": "2019-12-31", "action_code": "D", "description": "Vessel mapping for hemodialysis access"},
    {"code": "G0136", "record_type": "procedure", "add_date": "2024-01-01", "effective_date": "2024-01-01",
     "term_date": None, "action_code": "N", "description": "SDOH risk assessment"},
    {"code": "GD", "record_type": "modifier", "add_date": "2008-01-01", "effective_date": "2020-01-01",
     "term_date": "2019-12-31", "action_code": "N", "description": "Units of service > MUE value"},
]


@pytest.mark.parametrize("code, day, flagged", [
    ("G0365", "2019-12-31", False),   # the termination date is the code's last valid day
    ("G0365", "2020-01-01", True),
    ("G0136", "2023-12-31", True),    # the day before the code was added
    ("G0136", "2024-01-01", False),
])
def test_hcpcs_code_validity_by_date(audit, single, code, day, flagged):
    f, _, _ = audit("IC005", [{"procedure_code": code, "service_date": day}], single({"hcpcs": HCPCS}))
    assert (len(f) == 1) == flagged


@pytest.mark.parametrize("day, flagged", [("2019-12-31", False), ("2020-01-01", True)])
def test_hcpcs_modifier_validity_by_date(audit, single, day, flagged):
    f, _, _ = audit("IC006", [{"procedure_code": "97110", "modifier_2": "GD", "service_date": day}],
                    single({"hcpcs": HCPCS}))
    assert (len(f) == 1) == flagged
    if flagged:
        assert "modifier_2" in f["message"].iloc[0]


def test_without_a_hcpcs_file_the_form_checks_still_run(audit, versioned):
    empty = versioned({})
    lines = [{"procedure_code": "W1234"}, {"procedure_code": "J9999", "modifier_1": "259"},
             {"procedure_code": "J1100", "modifier_1": "LT"}]
    f, cov, _ = audit(["IC003", "IC004", "IC005", "IC006"], lines, empty)
    cov = cov.set_index("rule_id")
    assert sorted(f["rule_id"]) == ["IC003", "IC004"]
    for rid in ("IC003", "IC004"):
        assert cov.loc[rid, "status"] == "checked"
    for rid in ("IC005", "IC006"):
        assert cov.loc[rid, "status"] == "not checked"
        assert cov.loc[rid, "reason"] == "no HCPCS Level II file imported"
    # IC005 applies to the two Level II lines only (CPT lines are not checked against the file)
    assert cov.loc["IC005", "lines_not_checked"] == 2
