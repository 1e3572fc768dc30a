"""Waivers: each way of matching, expiry, stale waivers, files."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from auditor.findings import conform
from auditor.review.waivers import Waiver, WaiverError, apply_waivers, load_waiver_file

AS_OF = date(2026, 11, 26)
FUTURE = date(2027, 12, 31)


@pytest.fixture
def f() -> pd.DataFrame:
    rows = [
        ("DQ004", "C1", 1, "1111111111", "2026-10-02", "fp01"),
        ("DQ004", "C2", 1, "1111111111", "2026-10-10", "fp02"),
        ("DQ004", "C3", 1, "2222222222", "2026-10-20", "fp03"),
        ("MUE001", "C1", 2, "1111111111", "2026-10-02", "fp04"),
        ("MUE001", "C4", 1, "2222222222", "2026-10-25", "fp05"),
    ]
    df = pd.DataFrame(rows, columns=["rule_id", "claim_id", "line_number", "rendering_npi", "service_date",
                                     "fingerprint"])
    df["category"], df["severity"], df["amount_at_risk"] = "data_quality", "error", 10.0
    return conform(df)


def w(wid, **kw) -> Waiver:
    base = {"reason": "agreed with payer", "approved_by": "compliance", "expires": FUTURE}
    return Waiver(id=wid, **{**base, **kw}).validated()


def test_match_by_fingerprint(f):
    out = apply_waivers(f, [w("A", fingerprint="FP03")], AS_OF)
    assert list(out.waived["fingerprint"]) == ["fp03"] and len(out.open) == 4
    assert out.waived["waiver_id"].tolist() == ["A"] and out.waived["waiver_reason"].iloc[0] == "agreed with payer"


def test_match_by_rule_and_claim(f):
    out = apply_waivers(f, [w("A", rule_id="dq004", claim_id="c1")], AS_OF)
    assert out.waived[["rule_id", "claim_id"]].values.tolist() == [["DQ004", "C1"]]


def test_match_by_rule_and_provider(f):
    out = apply_waivers(f, [w("A", rule_id="DQ004", rendering_npi="1111111111")], AS_OF)
    assert sorted(out.waived["claim_id"]) == ["C1", "C2"]
    assert set(out.open["fingerprint"]) == {"fp03", "fp04", "fp05"}


def test_match_by_rule_and_date_range(f):
    out = apply_waivers(f, [w("A", rule_id="MUE001", date_from="2026-10-20", date_to="2026-10-31")], AS_OF)
    assert list(out.waived["fingerprint"]) == ["fp05"]
    open_ended = apply_waivers(f, [w("B", rule_id="DQ004", date_from="2026-10-10")], AS_OF)
    assert sorted(open_ended.waived["fingerprint"]) == ["fp02", "fp03"]


def test_expired_waiver_stops_applying(f):
    out = apply_waivers(f, [w("A", rule_id="DQ004", rendering_npi="1111111111", expires=date(2026, 11, 25))], AS_OF)
    assert out.waived.empty and len(out.open) == 5
    assert out.status["status"].tolist() == ["expired"] and out.expired_matches == 2
    # on its last day it still applies
    assert len(apply_waivers(f, [w("A", rule_id="DQ004", rendering_npi="1111111111", expires=AS_OF)], AS_OF).waived) == 2


def test_stale_waiver_reported(f):
    out = apply_waivers(f, [w("A", fingerprint="fp01"), w("B", rule_id="DQ004", claim_id="NOPE")], AS_OF)
    st = out.status.set_index("waiver_id")
    assert st.loc["A", "status"] == "applied" and st.loc["B", "status"] == "stale"
    assert st.loc["B", "findings_matched"] == 0
    assert out.counts() == {"applied": 1, "stale": 1, "expired": 0}


def test_first_matching_waiver_wins(f):
    out = apply_waivers(f, [w("A", fingerprint="fp01"), w("B", rule_id="DQ004", claim_id="C1")], AS_OF)
    assert out.waived["waiver_id"].tolist() == ["A"]
    assert out.status.set_index("waiver_id").loc["B", "findings_matched"] == 1   # matched, but already waived


@pytest.mark.parametrize("kw, msg", [
    ({"rule_id": "DQ004"}, "fingerprint, or a rule plus"),
    ({"fingerprint": "x", "reason": ""}, "missing reason"),
    ({"fingerprint": "x", "expires": None}, "missing expires"),
    ({"rule_id": "X", "date_from": "2026-13-01"}, "not a date"),
])
def test_incomplete_waivers_rejected(kw, msg):
    with pytest.raises(WaiverError, match=msg):
        w("A", **kw)


def test_yaml_and_csv_files(tmp_path, f):
    y = tmp_path / "w.yaml"
    y.write_text("waivers:\n"
                 "  - {id: W1, rule: DQ004, provider: '1111111111', reason: r, approved_by: me, expires: 2027-01-31}\n"
                 "  - {fingerprint: fp05, reason: r, approved_by: me, expires: 2020-01-01}\n", encoding="utf-8")
    c = tmp_path / "w.csv"
    c.write_text("id,rule_id,claim_id,reason,approved_by,expires\nW9,MUE001,C1,r,me,2027-01-31\n", encoding="utf-8")
    ws = load_waiver_file(y) + load_waiver_file(c)
    assert [x.id for x in ws] == ["W1", "w.yaml#2", "W9"]
    out = apply_waivers(f, ws, AS_OF)
    assert out.counts() == {"applied": 2, "stale": 0, "expired": 1}
    assert sorted(out.waived["fingerprint"]) == ["fp01", "fp02", "fp04"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("- {rule: DQ004, claim: C1, reason: r, approved_by: me, expires: 2027-01-01, colour: red}\n")
    with pytest.raises(WaiverError, match="unknown field 'colour'"):
        load_waiver_file(bad)
