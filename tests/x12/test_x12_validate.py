"""pyx12 validation and 999 acknowledgements."""

from __future__ import annotations

import logging
import os

import pytest

from auditor.errors import InputError
from auditor.x12 import read_837, validate_837, write_999

FIX = os.path.join(os.path.dirname(__file__), "fixtures")


def fx(name):
    return os.path.join(FIX, name)


def errors(issues):
    return [i for i in issues if i["severity"] == "error"]


def test_valid_a2_file_validates_against_the_a1_map():
    issues = validate_837(fx("p_x222a2.837"))
    assert errors(issues) == []
    assert [i["element"] for i in issues] == ["GS08"]  # the substitution notice


def test_errors_are_tied_to_claims_and_positions():
    issues = errors(validate_837(fx("i_x223a3.837")))
    assert len(issues) == 1
    (bad,) = issues
    env = {c.claim_id: c for c in read_837(fx("i_x223a3.837")).claims}
    assert (bad["claim_id"], bad["segment_id"], bad["element"]) == ("ICLM7002", "CLM", "CLM02")
    assert bad["segment_index"] == env["ICLM7002"].segment_index


def test_every_interchange_is_validated_with_its_delimiters():
    issues = errors(validate_837(fx("p_x222a1_multi.837")))
    # the broken claims live in the second ('|'-delimited) interchange
    assert {"PCLM4002", "PCLM4003"} <= {i["claim_id"] for i in issues}
    assert "PCLM4001" not in {i["claim_id"] for i in issues}


def test_999_is_written(tmp_path):
    out = tmp_path / "ack.999"
    issues = write_999(fx("i_x223a3.837"), out)
    text = out.read_text()
    assert text.startswith("ISA") and "ST*999*" in text
    assert "AK2*837*51001*005010X223A3" in text  # echoes the file's own version
    assert "IK3*CLM*" in text and errors(issues)
    ok = tmp_path / "ok.999"
    write_999(fx("p_x222a2.837"), ok)
    assert "IK5*A" in ok.read_text()


def test_no_patient_data_on_stdout_or_logs(capsys, caplog):
    caplog.set_level(logging.DEBUG)
    validate_837(fx("p_x222a1_multi.837"))
    out, err = capsys.readouterr()
    assert out == "" and err == ""
    assert not any("SAMPLE" in r.getMessage() or "MBR" in r.getMessage() for r in caplog.records)


def test_not_x12():
    with pytest.raises(InputError, match="not_x12.837"):
        validate_837(fx("not_x12.837"))
