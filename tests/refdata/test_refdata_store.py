"""RefStore: versions on disk, version selection by date, re-import, multi-part PTP versions."""

from __future__ import annotations

import json
import time
from datetime import date

import numpy as np
import pandas as pd
import pytest

from auditor.errors import InputError
from auditor.refdata.importers import import_into
from auditor.refdata.store import Imported, RefStore, Version, in_effect


def mue_frame(value: int) -> pd.DataFrame:
    return pd.DataFrame({"code": ["99213"], "mue_value": [value], "mai": [3], "mai_text": ["3 x"], "rationale": ["r"]})


def add_mue(store, vid, valid_from, value=1, sha=None, valid_to=None):
    return store.add(Imported("mue_practitioner", vid, valid_from, valid_to, mue_frame(value), f"{vid}.csv", sha or f"sha-{vid}"))


def pick(store, kind, *days):
    return store.version_for_dates(kind, pd.Series(pd.to_datetime(list(days)))).tolist()


def test_version_roundtrip():
    v = Version("mue_practitioner", "2026-07-01", date(2026, 7, 1), None, 3, "f.csv", "ab", "t", False, False)
    assert Version.from_dict(json.loads(json.dumps(v.to_dict()))) == v
    assert v.period() == "2026-07-01 .. open"


def test_empty_store_has_no_versions(tmp_path):
    s = RefStore(tmp_path / "none", builtin=False)
    assert s.kinds() == []
    assert s.versions("mue_practitioner") == []
    out = s.version_for_dates("mue_practitioner", pd.Series(pd.to_datetime(["2026-01-01"])))
    assert out.tolist() == [None]


def test_add_writes_catalog_and_parquet(store):
    v = add_mue(store, "2026-04-01", date(2026, 4, 1))
    assert v.rows == 1 and v.valid_from == date(2026, 4, 1) and v.valid_to is None and not v.builtin
    cat = json.loads((store.root / "catalog.json").read_text())
    assert isinstance(cat, list) and cat[0]["version_id"] == "2026-04-01"
    assert (store.root / "mue_practitioner" / "2026-04-01.parquet").exists()
    assert not list(store.root.rglob("*.tmp"))  # atomic writes leave no temp files
    # a fresh store reads the same thing back, with the normalized dtypes
    t = RefStore(store.root, builtin=False).table("mue_practitioner", "2026-04-01")
    assert list(t.columns) == ["code", "mue_value", "mai", "mai_text", "rationale"]
    assert t["mai"].dtype == "int8" and t["mue_value"].dtype == "int64"


def test_table_is_cached(store):
    add_mue(store, "2026-04-01", date(2026, 4, 1))
    assert store.table("mue_practitioner", "2026-04-01") is store.table("mue_practitioner", "2026-04-01")
    with pytest.raises(KeyError):
        store.table("mue_practitioner", "nope")


def test_selection_by_date_open_ended(store):
    add_mue(store, "2026-04-01", date(2026, 4, 1), 1)
    add_mue(store, "2026-07-01", date(2026, 7, 1), 2)
    got = pick(store, "mue_practitioner", "2026-03-31", "2026-04-01", "2026-06-30", "2026-07-01", "2031-01-01")
    assert got == [None, "2026-04-01", "2026-04-01", "2026-07-01", "2026-07-01"]


def test_selection_missing_dates_and_plain_inputs(store):
    add_mue(store, "2026-04-01", date(2026, 4, 1))
    s = pd.Series(["2026-05-01", None, "not a date"], index=[10, 11, 12])
    out = store.version_for_dates("mue_practitioner", s)
    assert out.index.tolist() == [10, 11, 12]
    assert out.tolist() == ["2026-04-01", None, None]
    assert out.dtype == object


def test_fixed_end_fiscal_year(store):
    icd = pd.DataFrame({"code": ["A000"], "billable": [True], "description": ["x"]})
    for fy in (2025, 2026):
        store.add(Imported("icd10cm", f"FY{fy}", date(fy - 1, 10, 1), date(fy, 9, 30), icd, f"o{fy}", f"s{fy}"))
    got = pick(store, "icd10cm", "2024-09-30", "2024-10-01", "2025-09-30", "2025-10-01", "2026-09-30", "2026-10-01")
    assert got == [None, "FY2025", "FY2025", "FY2026", "FY2026", None]


def test_row_dated_history_before_first_version(store, fx):
    import_into(store, "ncci-ptp", [fx("ccipra-v321r0-f1.txt")])
    import_into(store, "ncci-ptp", [fx("ccipra-v322r0-f1.txt")])
    got = pick(store, "ptp_practitioner", "2015-06-01", "2026-03-31", "2026-04-01", "2026-06-30", "2026-07-01", "2030-01-01")
    assert got == ["v321r0", "v321r0", "v321r0", "v321r0", "v322r0", "v322r0"]
    # a non row-dated kind does not reach back
    add_mue(store, "2026-04-01", date(2026, 4, 1))
    assert pick(store, "mue_practitioner", "2015-06-01") == [None]


def test_edit_start_and_deletion_days(store, fx):
    """The day an edit starts and the day it is deleted both count; the day after deletion not."""
    import_into(store, "ncci-ptp", [fx("ccipra-v321r0-f1.txt")])
    t = store.table("ptp_practitioner", "v321r0")

    def active(c1, c2, day):
        row = t[(t.column_1 == c1) & (t.column_2 == c2)]
        return bool(in_effect(pd.Series([pd.Timestamp(day)] * len(row)), row.effective_date, row.deletion_date).any())

    assert not active("12002", "12001", "2026-03-31")
    assert active("12002", "12001", "2026-04-01")  # effective date
    assert active("17110", "17000", "2026-03-31")  # deletion date is still in effect
    assert not active("17110", "17000", "2026-04-01")
    assert active("20610", "99213", "2099-01-01")  # '*' = still active


def test_in_effect_vectorized():
    d = pd.Series(pd.to_datetime(["2026-01-01", "2026-06-30", None]))
    s = pd.Series(pd.to_datetime(["2026-01-01", "2026-01-01", "2026-01-01"]))
    e = pd.Series(pd.to_datetime([None, "2026-06-29", None]))
    assert in_effect(d, s, e).tolist() == [True, False, False]


def test_reimport_same_file_replaces(store, fx):
    f = fx("MCR_MUE_PractitionerServices_Eff_04-01-2026.csv")
    import_into(store, "mue", [f])
    import_into(store, "mue", [f])
    (v,) = store.versions("mue_practitioner")
    assert v.rows == 4
    assert len(store.table("mue_practitioner", v.version_id)) == 4
    # the same file under another version id moves rather than duplicates
    import_into(store, "mue", [f], effective=date(2026, 5, 1))
    assert [v.version_id for v in store.versions("mue_practitioner")] == ["2026-05-01"]


def test_ptp_parts_combine_in_one_command(store, fx):
    res = import_into(store, "ncci-ptp", [fx("ccipra-v321r0-f1.txt"), fx("ccipra-v321r0-f2.txt")])
    assert [imp.part for imp, _ in res] == ["f1", "f2"]
    (v,) = store.versions("ptp_practitioner")
    assert v.version_id == "v321r0" and v.rows == 7 + 4
    assert len(store.table("ptp_practitioner", "v321r0")) == 11
    assert "_part" not in store.table("ptp_practitioner", "v321r0").columns
    assert [p["part"] for p in store.info("ptp_practitioner", "v321r0")["parts"]] == ["f1", "f2"]


def test_ptp_parts_combine_across_commands_and_reimport(store, fx):
    import_into(store, "ncci-ptp", [fx("ccipra-v321r0-f1.txt")])
    import_into(store, "ncci-ptp", [fx("ccipra-v321r0-f2.txt")])
    import_into(store, "ncci-ptp", [fx("ccipra-v321r0-f1.txt")])  # again: replaces part f1 only
    (v,) = RefStore(store.root, builtin=False).versions("ptp_practitioner")
    assert v.rows == 11
    t = RefStore(store.root, builtin=False).table("ptp_practitioner", "v321r0")
    assert t.duplicated(["column_1", "column_2"]).sum() == 0
    assert set(t.column_1) >= {"11042", "93000"}
    assert "; " in v.source and len(v.sha256) == 64


def test_precedence_imported_over_builtin_same_period(store, fx):
    s = RefStore(store.root, builtin=True)
    assert pick(s, "icd10cm", "2026-01-15") == ["FY2026-builtin"]
    import_into(s, "icd10cm", [fx("icd10cm_order_2026.txt")])
    s = RefStore(store.root, builtin=True)
    assert pick(s, "icd10cm", "2026-01-15") == ["FY2026"]
    assert [v.version_id for v in s.versions("icd10cm")] == ["FY2026-builtin", "FY2026"]


def test_fy_boundary_with_builtin(store, fx):
    import_into(store, "icd10cm", [fx("icd10cm_order_2025.txt")])
    s = RefStore(store.root, builtin=True)
    got = pick(s, "icd10cm", "2025-09-30", "2025-10-01", "2026-09-30", "2026-10-01")
    assert got == ["FY2025", "FY2026-builtin", "FY2026-builtin", None]
    fy25 = s.table("icd10cm", "FY2025")
    assert "R68A9" in set(fy25.code)  # valid before October 1 ...
    assert "R68A9" not in set(s.table("icd10cm", "FY2026-builtin").code)  # ... and not after


def test_revision_tie_break(store):
    a = pd.DataFrame({"column_1": ["11111"], "column_2": ["22222"], "prior_1996": [False],
                      "effective_date": [pd.Timestamp("2026-01-01")], "deletion_date": [pd.NaT],
                      "modifier_indicator": [1], "rationale": ["r"]})
    store.add(Imported("ptp_practitioner", "v322r1", date(2026, 7, 1), None, a, "r1", "s1", part="f1"))
    store.add(Imported("ptp_practitioner", "v322r0", date(2026, 7, 1), None, a, "r0", "s0", part="f1"))
    assert pick(store, "ptp_practitioner", "2026-08-01") == ["v322r1"]


def test_remove(store):
    add_mue(store, "2026-04-01", date(2026, 4, 1))
    store.remove("mue_practitioner", "2026-04-01")
    assert store.versions("mue_practitioner") == []
    assert not (store.root / "mue_practitioner" / "2026-04-01.parquet").exists()
    with pytest.raises(KeyError):
        store.remove("mue_practitioner", "2026-04-01")


def test_add_needs_a_directory_and_a_sane_version_id(store):
    with pytest.raises(InputError):
        RefStore(None, builtin=False).add(Imported("mue_practitioner", "x", None, None, mue_frame(1), "s", "h"))
    with pytest.raises(InputError, match="invalid version id"):
        add_mue(store, "../evil", date(2026, 1, 1))


def test_damaged_catalog_is_an_input_error(tmp_path):
    (tmp_path / "catalog.json").write_text("{not json")
    with pytest.raises(InputError, match="catalog"):
        RefStore(tmp_path, builtin=False).kinds()


def test_from_frames():
    ptp = pd.DataFrame({"column_1": ["20610"], "column_2": ["99213"], "effective_date": ["2010-01-01"],
                        "deletion_date": [None], "modifier_indicator": [1]})
    s = RefStore.from_frames({"ptp_practitioner": ptp, "custom": pd.DataFrame({"x": [1]})})
    assert s.kinds() == ["custom", "ptp_practitioner"]
    (v,) = s.versions("ptp_practitioner")
    assert v.valid_from is None and v.valid_to is None and v.row_dated
    assert pick(s, "ptp_practitioner", "1990-01-01", "2099-12-31") == [v.version_id] * 2
    t = s.table("ptp_practitioner", v.version_id)
    assert t["effective_date"].dtype == "datetime64[ns]" and t["modifier_indicator"].dtype == "int8"
    assert "icd10cm" not in s.kinds()
    assert "icd10cm" in RefStore.from_frames({}, builtin=True).kinds()


def test_version_for_dates_is_vectorized_and_fast(store):
    for i, vf in enumerate([date(2025, 1, 1), date(2025, 7, 1), date(2026, 1, 1), date(2026, 7, 1)]):
        add_mue(store, vf.isoformat(), vf, i + 1)
    rng = np.random.default_rng(0)
    days = pd.Series(pd.Timestamp("2024-06-01") + pd.to_timedelta(rng.integers(0, 900, 1_000_000), unit="D"))
    store.versions("mue_practitioner")  # catalog read outside the timing
    t0 = time.perf_counter()
    out = store.version_for_dates("mue_practitioner", days)
    elapsed = time.perf_counter() - t0
    assert elapsed < 1.0, elapsed
    # spot-check against a plain Python answer
    sample = days.sample(500, random_state=1)
    starts = [pd.Timestamp(d) for d in ("2025-01-01", "2025-07-01", "2026-01-01", "2026-07-01")]
    for idx, d in sample.items():
        exp = max((s for s in starts if s <= d), default=None)
        assert out[idx] == (exp.date().isoformat() if exp is not None else None)
