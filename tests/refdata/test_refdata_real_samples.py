"""The importers on excerpts of the real CMS files (../shared/real-samples); skipped without them.

Set AUDITOR_REAL_SAMPLES to point elsewhere.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from auditor.refdata.importers import import_files, import_into
from auditor.refdata.store import RefStore

REAL = Path(os.environ.get("AUDITOR_REAL_SAMPLES") or Path(__file__).resolve().parents[3] / "shared" / "real-samples")
pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason=f"real CMS samples not found at {REAL}")


def one(pattern: str) -> Path:
    found = sorted(REAL.glob(pattern))
    if not found:
        pytest.skip(f"{pattern} not in {REAL}")
    return found[0]


def test_real_ptp():
    (imp,) = import_files("ncci-ptp", [one("ncci_ptp/ccipra-v322r0-f1*.txt")])
    assert (imp.kind, imp.version_id, imp.valid_from, imp.part) == ("ptp_practitioner", "v322r0", date(2026, 7, 1), "f1")
    t = imp.frame
    assert len(t) > 20 and t.column_1.str.fullmatch(r"[0-9A-Z]{5}").all()
    assert set(t.modifier_indicator) <= {0, 1, 9}
    assert t.deletion_date.isna().any() and t.deletion_date.notna().any()  # '*' and real dates
    r = t[(t.column_1 == "0001A") & (t.column_2 == "90473")].iloc[0]
    assert r.modifier_indicator == 9 and r.effective_date == r.deletion_date  # deleted: same day


def test_real_mue():
    (imp,) = import_files("mue", [one("ncci_mue/MCR_MUE_PractitionerServices_Eff_*.csv")])
    assert imp.kind == "mue_practitioner" and imp.valid_from == date(2026, 7, 1)
    t = imp.frame
    assert set(t.mai) <= {1, 2, 3} and (t.mue_value >= 0).all()
    assert t.mai_text.str.match(r"[123] ").all()


def test_real_icd10cm():
    (imp,) = import_files("icd10cm", [one("icd10cm/icd10cm_order_2026*.txt")])
    assert imp.version_id == "FY2026" and (imp.valid_from, imp.valid_to) == (date(2025, 10, 1), date(2026, 9, 30))
    t = imp.frame.set_index("code")
    assert not t.loc["M545", "billable"] and t.loc["M5450", "billable"]
    # the imported rows agree with the built-in FY2026 list from simple-icd-10-cm
    builtin = RefStore(None).table("icd10cm", "FY2026-builtin").set_index("code")
    common = t.index.intersection(builtin.index)
    assert len(common) == len(t)
    assert (t.loc[common, "billable"] == builtin.loc[common, "billable"]).all()


def test_real_hcpcs():
    (imp,) = import_files("hcpcs", [one("hcpcs/HCPC2026_OCT_ANWEB*.csv")])
    assert imp.valid_from == date(2026, 10, 1)
    t = imp.frame.set_index("code")
    assert (t.record_type == "modifier").all() and "A1" in t.index  # "   A1" stripped
    assert t.loc["CP", "term_date"] == pd.Timestamp("2017-12-31") and pd.isna(t.loc["A1", "term_date"])


def test_real_mpfs():
    (imp,) = import_files("mpfs", [one("mpfs/PPRRVU2026_Jul*.csv")])
    assert imp.valid_from == date(2026, 7, 1)
    t = imp.frame
    assert len(t) >= 4 and set(t.glob_days) <= {"000", "010", "090", "XXX", "YYY", "ZZZ", "MMM"}
    assert t.code.iloc[0] == "0001F" and t.status.iloc[0] == "I"


def test_real_mce_matches_builtin(tmp_path):
    src = one("mce/MCE_Simple_Code_Edits_v37.txt")
    mce, ages = import_files("mce", [src])
    assert mce.version_id == "v37" and mce.valid_from == date(2019, 10, 1)
    builtin = RefStore(None).table("mce", "v37-builtin")
    key = ["edit_type", "code_type", "code"]
    pd.testing.assert_frame_equal(
        mce.frame.sort_values(key).reset_index(drop=True), builtin.sort_values(key).reset_index(drop=True)
    )
    assert ages.frame.set_index("group").loc["maternity", "max_age"] == 55


def test_real_samples_into_one_store(tmp_path):
    s = RefStore(tmp_path / "rd")
    import_into(s, "ncci-ptp", [one("ncci_ptp/ccipra-v322r0-f1*.txt")])
    import_into(s, "mue", [one("ncci_mue/MCR_MUE_PractitionerServices_Eff_*.csv")])
    days = pd.Series(pd.to_datetime(["2026-06-30", "2026-07-01"]))
    assert s.version_for_dates("ptp_practitioner", days).tolist() == ["v322r0", "v322r0"]  # row-dated
    assert s.version_for_dates("mue_practitioner", days).tolist() == [None, "2026-07-01"]
