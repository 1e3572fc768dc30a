"""Every published sample in ../shared/real-samples/x12 must read (skipped when absent)."""

from __future__ import annotations

import os
import re

import pytest

from auditor.x12 import is_x12, read_837, write_837

_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SAMPLES = os.environ.get("AUDITOR_X12_SAMPLES", os.path.join(_REPO, "..", "shared", "real-samples", "x12"))
FILES = sorted(
    os.path.join(SAMPLES, f) for f in (os.listdir(SAMPLES) if os.path.isdir(SAMPLES) else [])
    if not f.upper().startswith(("LICENSE", "README", "NOTICE")) and not f.startswith(".")
)
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
NUM = re.compile(r"^-?\d+(\.\d+)?$")

pytestmark = pytest.mark.skipif(not FILES, reason=f"no X12 samples in {SAMPLES}")


@pytest.mark.parametrize("path", FILES, ids=[os.path.basename(f) for f in FILES])
def test_sample_reads_with_sane_values(path, tmp_path):
    assert is_x12(path)
    res = read_837(path, os.path.basename(path))
    lines = res.lines
    assert len(lines) >= 1 and len(res.claims) >= 1
    expected = "institutional" if "X223" in os.path.basename(path) or path.endswith("837i") else "professional"
    assert set(lines.claim_type) == {expected}
    assert lines.claim_id.notna().all() and lines.member_id.notna().all()
    assert lines.billing_npi.str.fullmatch(r"\d{10}").all()
    assert lines.rendering_npi.str.fullmatch(r"\d{10}").all()
    assert lines.charge.str.match(NUM).all() and lines.units.str.match(NUM).all()
    assert lines.procedure_code.str.fullmatch(r"[A-Z0-9]{5}").all()
    for col in ("service_date", "received_date", "member_birth_date"):
        assert lines[col].str.match(DATE).all(), col
    assert lines.dx_1.str.fullmatch(r"[A-Z0-9]{3,7}").all()
    assert lines.member_sex.isin(["M", "F", "U"]).all()
    if expected == "institutional":
        assert lines.type_of_bill.str.fullmatch(r"0\d{3}").all()
        assert lines.revenue_code.str.fullmatch(r"\d{4}").all()
    else:
        assert lines.place_of_service.str.fullmatch(r"\d{2}").all()
        assert lines.dx_pointers.str.fullmatch(r"\d{1,2}(,\d{1,2})*").all()
    # claims are not broken by the reader: no claim-level errors in the published samples
    assert [i for i in res.issues if i["claim_id"] and i["severity"] == "error"] == []
    # and they survive a write/read round trip
    write_837(res.claims, tmp_path / "rt.837")
    again = read_837(tmp_path / "rt.837")
    assert again.lines.drop(columns="source_row").equals(lines.drop(columns="source_row"))
