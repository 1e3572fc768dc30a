"""read_837 on the hand-made fixtures (see fixtures/build_fixtures.py for their content)."""

from __future__ import annotations

import os

import pytest

from auditor.errors import InputError
from auditor.x12 import RAW_COLUMNS, is_x12, read_837

FIX = os.path.join(os.path.dirname(__file__), "fixtures")


def fx(name: str) -> str:
    return os.path.join(FIX, name)


def line(res, claim_id, n=1):
    rows = res.lines[(res.lines.claim_id == claim_id) & (res.lines.line_number == str(n))]
    assert len(rows) == 1, (claim_id, n)
    return rows.iloc[0]


def claim_issues(res, claim_id):
    return [i for i in res.issues if i["claim_id"] == claim_id]


@pytest.fixture(scope="module")
def multi():
    return read_837(fx("p_x222a1_multi.837"), "p_x222a1_multi.837")


# ------------------------------------------------------------------------------ shape
def test_columns_and_types(multi):
    assert list(multi.lines.columns) == RAW_COLUMNS
    assert str(multi.lines["source_row"].dtype) == "int64"
    for col in RAW_COLUMNS[:-1]:
        vals = multi.lines[col].dropna()
        assert all(isinstance(v, str) for v in vals), col
    for i in multi.issues:
        assert set(i) >= {"claim_id", "segment_index", "segment_id", "element", "message"}


def test_several_interchanges_groups_transactions(multi):
    assert multi.interchanges == 2
    assert multi.transactions == 4
    assert sorted(multi.lines.claim_id.unique()) == [
        "PCLM1001", "PCLM1002", "PCLM1003", "PCLM2001", "PCLM2002", "PCLM3001",
        "PCLM4001", "PCLM4002", "PCLM4003", "PCLM4004", "PCLM4005"]
    assert len(multi.claims) == 11
    assert set(multi.lines.claim_type) == {"professional"}
    assert set(multi.lines.received_date) == {"2025-03-10"}  # BHT04 of every transaction


def test_source_row_is_the_sv1_segment_index(multi):
    data = open(fx("p_x222a1_multi.837"), "rb").read().decode("latin-1")
    # both interchanges: '~' terminated, then '\n' terminated with '|' elements
    first, second = data.split("IEA*2*000000101~\n")
    segs = [s.strip() for s in first.split("~") if s.strip()] + ["IEA"]
    segs += [s.strip() for s in second.split("\n") if s.strip()]
    for row in multi.lines.itertuples():
        assert segs[row.source_row - 1].startswith(("SV1*", "SV1|")), row.source_row


# ------------------------------------------------------------------------------ mapping
def test_rendering_claim_level_line_level_and_default(multi):
    assert line(multi, "PCLM1001", 1).rendering_npi == "2345678900"   # 2310B
    assert line(multi, "PCLM1001", 2).rendering_npi == "3456789015"   # 2420A overrides
    assert line(multi, "PCLM1002", 1).rendering_npi == "1234567893"   # default: billing 2010AA
    assert line(multi, "PCLM1002", 1).billing_npi == "1234567893"


def test_subscriber_is_patient_vs_patient_loop(multi):
    own = line(multi, "PCLM1001")
    assert (own.member_id, own.member_birth_date, own.member_sex) == ("MBR10001", "1980-01-15", "F")
    dep = line(multi, "PCLM1003")
    # member id is the subscriber's (2010BA); birth date and sex the patient's (2010CA DMG)
    assert (dep.member_id, dep.member_birth_date, dep.member_sex) == ("MBR20002", "2015-08-09", "F")


def test_modifiers_rd8_pointers_dx(multi):
    ln = line(multi, "PCLM1003", 2)
    assert (ln.procedure_code, ln.modifier_1, ln.modifier_2, ln.modifier_3, ln.modifier_4) == \
        ("E0114", "RR", "KX", "NU", "LT")
    assert (ln.service_date, ln.service_date_to) == ("2025-03-05", "2025-04-04")
    first = line(multi, "PCLM1001", 1)
    assert (first.service_date, first.service_date_to) == ("2025-03-03", "2025-03-03")
    assert first.dx_pointers == "1,2"
    assert (first.dx_1, first.dx_2, first.dx_3) == ("J069", "E119", None)  # dot stripped
    assert (first.units, first.charge, first.place_of_service) == ("1", "180.00", "11")
    assert first.payer == "ACME HEALTH PLAN"
    assert first.type_of_bill is None and first.revenue_code is None


def test_twelve_diagnoses_and_other_payer_loop_is_ignored(multi):
    ln = line(multi, "PCLM3001", 3)
    assert ln.dx_1 == "E1122" and ln.dx_12 == "Z87891"
    assert ln.dx_pointers == "4,11,12"
    # 2320/2330x (other subscriber, other payer, other payer rendering) must not leak in
    assert ln.rendering_npi == "2345678900"
    assert ln.payer == "ACME HEALTH PLAN"
    assert ln.member_id == "MBR40004"


def test_anesthesia_minutes_and_pos_override(multi):
    ln = line(multi, "PCLM2002")
    assert (ln.units, ln.place_of_service, ln.modifier_1, ln.modifier_2) == ("95", "22", "AA", "QZ")


def test_other_delimiters_in_second_interchange(multi):
    ln = line(multi, "PCLM4005")
    assert (ln.procedure_code, ln.modifier_1, ln.modifier_2, ln.charge) == ("97530", "GP", "59", "60.00")


# ------------------------------------------------------------------------------ issues
def test_bad_total_is_an_issue_of_that_claim_only(multi):
    iss = claim_issues(multi, "PCLM2001")
    assert [(i["segment_id"], i["element"]) for i in iss] == [("CLM", "CLM02")]
    assert "450.00" in iss[0]["message"]
    assert iss[0]["segment_index"] == multi.claims[3].segment_index
    assert len(multi.lines[multi.lines.claim_id == "PCLM2001"]) == 2  # still read
    assert claim_issues(multi, "PCLM2002") == []


def test_bad_claims_do_not_fail_their_neighbours(multi):
    bad = claim_issues(multi, "PCLM4002")
    assert ("SV1", "SV102") in {(i["segment_id"], i["element"]) for i in bad}
    assert all(i["segment_index"] for i in bad)
    assert claim_issues(multi, "PCLM4001") == []
    assert claim_issues(multi, "PCLM4005") == []
    # CLM02 not numeric
    assert [(i["element"]) for i in claim_issues(multi, "PCLM4004")] == ["CLM02"]
    assert line(multi, "PCLM4004").charge == "120.00"
    # SV1 without LX: reported, line still read
    assert [i["message"] for i in claim_issues(multi, "PCLM4003")] == ["SV1 without a preceding LX segment"]
    assert line(multi, "PCLM4003").procedure_code == "97161"


def test_lines_without_clm(multi):
    orphan = [i for i in multi.issues if i["claim_id"] is None and i["segment_id"] == "LX"]
    assert len(orphan) == 1 and "without a CLM" in orphan[0]["message"]
    assert "MBR60006" not in set(multi.lines.member_id)
    # the fixture's envelopes are right: no envelope issues
    assert [i for i in multi.issues if i["claim_id"] is None and i["segment_id"] != "LX"] == []


def test_envelope_flags(multi):
    env = {c.claim_id: c for c in multi.claims}
    assert env["PCLM2001"].has_errors and not env["PCLM2002"].has_errors
    assert env["PCLM1003"].patient is not None and env["PCLM1001"].patient is None
    assert env["PCLM1001"].version == "005010X222A1"


# ------------------------------------------------------------------------------ other fixtures
def test_x222a2_bom_crlf_patient_and_received_date():
    res = read_837(fx("p_x222a2.837"), "p_x222a2.837")
    assert res.issues == []
    a = line(res, "PCLM5001", 1)
    assert (a.member_id, a.member_birth_date, a.member_sex) == ("MBR80008", "1984-03-03", "F")
    assert a.received_date == "2025-03-12"  # DTP*050 wins over BHT04
    assert (a.service_date, a.service_date_to) == ("2025-01-01", "2025-02-28")
    assert a.rendering_npi == "8901234566"
    b = line(res, "PCLM5002", 1)
    assert (b.place_of_service, b.modifier_1, b.modifier_2, b.member_sex) == ("10", "95", "GT", "U")
    assert b.received_date == "2025-03-10"
    assert res.claims[0].version == "005010X222A2"


def test_x223a2_institutional():
    res = read_837(fx("i_x223a2.837"), "i_x223a2.837")
    assert res.issues == []
    assert set(res.lines.claim_type) == {"institutional"}
    l1, l3 = line(res, "ICLM6001", 1), line(res, "ICLM6001", 3)
    assert (l1.type_of_bill, l1.revenue_code, l1.procedure_code, l1.units) == ("0111", "0120", None, "4")
    # no DTP*472 on the line: statement dates (DTP*434) apply
    assert (l1.service_date, l1.service_date_to) == ("2025-03-01", "2025-03-05")
    assert (l3.service_date, l3.procedure_code) == ("2025-03-01", "93010")
    assert l1.rendering_npi == "1111111112" and l3.rendering_npi == "2222222228"  # 2310D / 2420C
    assert [l1.dx_1, l1.dx_2, l1.dx_3, l1.dx_4, l1.dx_5] == ["I214", "I110", "E785", "Z87891", None]
    assert l1.dx_pointers is None and l1.place_of_service is None
    env = {c.claim_id: c for c in res.claims}
    assert env["ICLM6001"].extra_dx == {"admitting": ["R079"], "external_cause": ["W010XXA"]}
    assert env["ICLM6002"].extra_dx == {"reason_for_visit": ["R1031"]}
    p = line(res, "ICLM6002", 2)
    assert (p.member_id, p.member_birth_date, p.member_sex, p.type_of_bill) == ("MBR22222", "2010-02-02", "M", "0131")
    assert p.rendering_npi == "9012345671"
    assert p.charge == "75.50"


def test_x223a3_received_frequency_and_issues():
    res = read_837(fx("i_x223a3.837"), "i_x223a3.837")
    l1 = line(res, "ICLM7001", 1)
    assert (l1.type_of_bill, l1.received_date) == ("0137", "2025-03-14")
    assert l1.dx_12 == "M810"
    assert line(res, "ICLM7001", 2).service_date_to == "2025-03-12"
    env = {c.claim_id: c for c in res.claims}
    assert env["ICLM7001"].extra_dx["other_beyond_12"] == ["H269", "J449", "D649"]
    assert [i["severity"] for i in claim_issues(res, "ICLM7001")] == ["warning"]
    assert not env["ICLM7001"].has_errors
    assert [i["element"] for i in claim_issues(res, "ICLM7002")] == ["CLM02"]
    assert claim_issues(res, "ICLM7003") == []
    assert line(res, "ICLM7003", 3).received_date == "2025-03-10"


def test_truncated_file():
    res = read_837(fx("p_truncated.837"))
    assert claim_issues(res, "PCLM8001") == []
    assert len(res.lines[res.lines.claim_id == "PCLM8001"]) == 2
    bad = claim_issues(res, "PCLM8002")
    assert {i["element"] for i in bad} >= {"SV102", "SV104"}
    env_msgs = " ".join(i["message"] for i in res.issues if i["claim_id"] is None)
    assert "IEA" in env_msgs and "SE" in env_msgs and "GE" in env_msgs


def test_not_x12_raises_input_error_naming_the_file():
    with pytest.raises(InputError, match="not_x12.837"):
        read_837(fx("not_x12.837"), "not_x12.837")
    with pytest.raises(InputError, match="missing.837"):
        read_837(fx("missing.837"), "missing.837")
    with pytest.raises(InputError, match="empty"):
        read_837(b"   \n", "blank.837")


def test_is_x12():
    assert is_x12(fx("p_x222a1_multi.837"))
    assert is_x12(fx("p_x222a2.837"))  # BOM + CRLF
    assert not is_x12(fx("not_x12.837"))
    assert not is_x12(fx("does-not-exist.837"))
    assert is_x12(b"\xef\xbb\xbf \r\nISA*00*")
    assert not is_x12(b"claim_id,line\n")


def test_bytes_input_and_default_source_name():
    data = open(fx("p_x222a2.837"), "rb").read()
    res = read_837(data)
    assert res.source_name == "<bytes>" and len(res.lines) == 3
    assert read_837(fx("p_x222a2.837")).source_name == "p_x222a2.837"
