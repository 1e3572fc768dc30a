"""Boundaries the edit families must get right: edit start and deletion days, MAI 1 versus 2/3 on
split lines, modifier bypass on either line, birthdays at an age boundary, global-period windows."""

from __future__ import annotations

from datetime import date

import pytest

# -- add-on code edits: the day an edit starts and the day it is deleted ---------------------------

AOC = [
    {"addon_code": "99417", "primary_code": "99215", "aoc_type": 1, "addon_effective": "2021-01-01",
     "addon_deletion": None, "primary_effective": "2021-01-01", "primary_deletion": None},
    {"addon_code": "99354", "primary_code": "99215", "aoc_type": 1, "addon_effective": "1994-01-01",
     "addon_deletion": "2022-12-31", "primary_effective": "1994-01-01", "primary_deletion": "2022-12-31"},
    {"addon_code": "22552", "primary_code": "22551", "aoc_type": 1, "addon_effective": "2011-01-01",
     "addon_deletion": None, "primary_effective": "2011-01-01", "primary_deletion": "2024-06-30"},
    {"addon_code": "22552", "primary_code": "22554", "aoc_type": 1, "addon_effective": "2011-01-01",
     "addon_deletion": None, "primary_effective": "2024-07-01", "primary_deletion": None},
]


@pytest.mark.parametrize("code, day, flagged", [
    ("99417", "2020-12-31", False),  # the day before the edit starts
    ("99417", "2021-01-01", True),   # the day it starts
    ("99354", "2022-12-31", True),   # its deletion date is its last day
    ("99354", "2023-01-01", False),  # the day after
])
def test_add_on_edit_start_and_deletion_day(audit, single, code, day, flagged):
    f, cov, _ = audit("AOC001", [{"procedure_code": code, "service_date": day}], single({"aoc": AOC}))
    assert (len(f) == 1) == flagged
    assert cov["status"].tolist() == ["checked"]


@pytest.mark.parametrize("primary, day, flagged", [
    ("22551", "2024-06-30", False),  # the primary's last day as a listed primary
    ("22551", "2024-07-01", True),   # its row was deleted: no longer an acceptable primary
    ("22554", "2024-06-30", True),   # not yet a listed primary
    ("22554", "2024-07-01", False),
])
def test_primary_codes_have_their_own_dates(audit, single, primary, day, flagged):
    lines = [{"procedure_code": primary, "service_date": day}, {"procedure_code": "22552", "service_date": day}]
    f, _, _ = audit("AOC001", lines, single({"aoc": AOC}))
    assert (len(f) == 1) == flagged
    if flagged:
        assert f["line_number"].tolist() == [2]


def test_add_on_edit_versions_row_dated_history(audit, versioned):
    """Two imported versions of the AOC file: each date is judged by the rows' own dates."""
    old = [dict(AOC[0], addon_deletion=None)]
    new = [dict(AOC[0], primary_code="99205")]
    store = versioned({"aoc": [("2025Q4", None, date(2025, 12, 31), old), ("2026Q1", date(2026, 1, 1), None, new)]})
    lines = [{"claim_id": "A", "procedure_code": "99215", "service_date": "2025-12-31"},
             {"claim_id": "A", "procedure_code": "99417", "service_date": "2025-12-31"},
             {"claim_id": "B", "procedure_code": "99215", "service_date": "2026-01-02"},
             {"claim_id": "B", "procedure_code": "99417", "service_date": "2026-01-02"}]
    f, _, ctx = audit("AOC001", lines, store)
    assert f["claim_id"].tolist() == ["B"]  # the 2026 version lists only 99205
    assert "99205" in f["message"].iloc[0]
    assert {("aoc", "2025Q4"), ("aoc", "2026Q1")} <= set(ctx.versions_used)


# -- MUE: MAI 1 (line edit) versus MAI 2/3 (date-of-service edit) on split lines --------------------

MUE = [
    {"code": "36415", "mue_value": 2, "mai": 1, "mai_text": "1 Line Edit"},
    {"code": "97110", "mue_value": 4, "mai": 3, "mai_text": "3 Date of Service Edit: Clinical"},
    {"code": "17003", "mue_value": 13, "mai": 2, "mai_text": "2 Date of Service Edit: Policy"},
]


@pytest.mark.parametrize("code, units, line_edit, dos_edit", [
    ("36415", [2, 2], [], []),              # MAI 1: each line within the value; not summed
    ("36415", [3], [1], []),                # MAI 1: one line over the value
    ("97110", [3, 2], [], [1, 2]),          # MAI 3: the split lines are summed (5 > 4)
    ("97110", [2, 2], [], []),              # MAI 3: at the value
    ("17003", [10, 4], [], [1, 2]),         # MAI 2: summed
])
def test_mai_1_versus_2_and_3_on_split_lines(audit, single, code, units, line_edit, dos_edit):
    lines = [{"procedure_code": code, "units": str(u), "modifier_1": "59" if i else None} for i, u in enumerate(units)]
    f, _, _ = audit(["MUE001", "MUE002"], lines, single({"mue_practitioner": MUE}))
    got = {rid: sorted(int(x) for x in f.loc[f["rule_id"] == rid, "line_number"]) for rid in ("MUE001", "MUE002")}
    assert got == {"MUE001": line_edit, "MUE002": dos_edit}


# -- NCCI PTP: an indicator-1 edit is bypassed by a modifier on either line -------------------------

PTP = [{"column_1": "20610", "column_2": "20604", "prior_1996": False, "effective_date": "2016-01-01",
        "deletion_date": None, "modifier_indicator": 1, "rationale": "Misuse of column two code"},
       {"column_1": "36415", "column_2": "36416", "prior_1996": False, "effective_date": "2010-01-01",
        "deletion_date": None, "modifier_indicator": 0, "rationale": "Mutually exclusive"}]


@pytest.mark.parametrize("mod_col1, mod_col2, flagged", [
    (None, None, True),
    ("59", None, False),   # on the column 1 line
    (None, "59", False),   # on the column 2 line
    ("XS", None, False),
    (None, "RT", False),   # anatomic modifiers are NCCI-associated too
    ("25", None, False),
    ("GT", None, True),    # not an NCCI-associated modifier
])
def test_modifier_bypass_on_either_line(audit, single, mod_col1, mod_col2, flagged):
    lines = [{"procedure_code": "20610", "modifier_1": mod_col1}, {"procedure_code": "20604", "modifier_1": mod_col2}]
    f, _, _ = audit("NCCI001", lines, single({"ptp_practitioner": PTP}))
    assert (len(f) == 1) == flagged
    if flagged:
        assert f["line_number"].tolist() == [2] and f["related_line"].tolist() == [1]


@pytest.mark.parametrize("mod_a, mod_b", [("59", None), (None, "59")])
def test_indicator_0_is_never_bypassed(audit, single, mod_a, mod_b):
    lines = [{"procedure_code": "36415", "modifier_1": mod_a}, {"procedure_code": "36416", "modifier_1": mod_b}]
    f, _, _ = audit("NCCI001", lines, single({"ptp_practitioner": PTP}))
    assert len(f) == 1


# -- age: the member's birthday at an age boundary ---------------------------------------------------

MCE = [{"edit_type": "Pediatric_Only", "code_type": "D", "code": "R6251"},
       {"edit_type": "Adult_Only", "code_type": "D", "code": "Z0000"},
       {"edit_type": "Maternity_Only", "code_type": "D", "code": "Z3400"},
       {"edit_type": "Newborn_Only", "code_type": "D", "code": "Z3800"}]
GROUPS = [{"group": "newborn", "min_age": 0, "max_age": 0, "edit_type": "Newborn_Only"},
          {"group": "pediatric", "min_age": 0, "max_age": 17, "edit_type": "Pediatric_Only"},
          {"group": "maternity", "min_age": 12, "max_age": 55, "edit_type": "Maternity_Only"},
          {"group": "adult", "min_age": 15, "max_age": 124, "edit_type": "Adult_Only"}]


@pytest.mark.parametrize("dx, born, day, flagged", [
    ("R62.51", "2008-03-02", "2026-03-01", False),  # 17 the day before the 18th birthday
    ("R62.51", "2008-03-02", "2026-03-02", True),   # 18 on the birthday itself
    ("Z00.00", "2011-03-02", "2026-03-01", True),   # 14 the day before the 15th birthday
    ("Z00.00", "2011-03-02", "2026-03-02", False),  # 15 on the birthday
    ("Z34.00", "1970-03-02", "2026-03-01", False),  # 55: the maternity range's last year
    ("Z34.00", "1970-03-02", "2026-03-02", True),   # 56
    ("Z34.00", "2014-03-02", "2026-03-01", True),   # 11
    ("Z34.00", "2014-03-02", "2026-03-02", False),  # 12
    ("Z38.00", "2025-03-02", "2026-03-01", False),  # newborn: age 0
    ("Z38.00", "2025-03-02", "2026-03-02", True),   # 1
    # born on February 29: in a common year the birthday counts from March 1
    ("R62.51", "2008-02-29", "2026-02-28", False),
    ("R62.51", "2008-02-29", "2026-03-01", True),
])
def test_birthday_at_an_age_boundary(audit, single, dx, born, day, flagged):
    store = single({"mce": MCE, "mce_age_groups": GROUPS})
    f, _, _ = audit("AGE001", [{"dx_1": dx, "member_birth_date": born, "service_date": day}], store)
    assert (len(f) == 1) == flagged


def test_age_groups_of_the_mce_version_in_use(audit, versioned):
    """MCE v38 widened maternity to 9-64: the same claim is judged by the version of its date."""
    v38 = [dict(g, min_age=9, max_age=64) if g["group"] == "maternity" else g for g in GROUPS]
    store = versioned({"mce": [("v37", date(2019, 10, 1), date(2020, 9, 30), MCE), ("v38", date(2020, 10, 1), None, MCE)],
                       "mce_age_groups": [("v37", date(2019, 10, 1), date(2020, 9, 30), GROUPS),
                                          ("v38", date(2020, 10, 1), None, v38)]})
    lines = [{"claim_id": "A", "dx_1": "Z34.00", "member_birth_date": "1962-01-01", "service_date": "2020-09-30"},
             {"claim_id": "B", "dx_1": "Z34.00", "member_birth_date": "1962-01-01", "service_date": "2020-10-01"}]
    f, _, ctx = audit("AGE001", lines, store)
    assert f["claim_id"].tolist() == ["A"]  # 58: outside 12-55 (v37), inside 9-64 (v38)
    assert "ages 12-55" in f["message"].iloc[0]
    assert {("mce", "v37"), ("mce_age_groups", "v37"), ("mce", "v38"), ("mce_age_groups", "v38")} <= set(ctx.versions_used)


def test_age_and_sex_with_the_builtin_mce(audit, builtin_store):
    if "mce" not in builtin_store.kinds():
        pytest.skip("built-in MCE tables not available")
    lines = [{"claim_id": "A", "dx_1": "Z00.00", "member_birth_date": "2016-01-01"},
             {"claim_id": "B", "dx_1": "C61", "member_sex": "F"},
             {"claim_id": "C", "dx_1": "Z00.00", "dx_2": "C61", "member_sex": "M", "member_birth_date": "1960-01-01"}]
    f, _, _ = audit(["AGE001", "SEX001"], lines, builtin_store)
    assert sorted(zip(f["claim_id"], f["rule_id"])) == [("A", "AGE001"), ("B", "SEX001")]
    assert "adult" in f.loc[f["rule_id"] == "AGE001", "message"].iloc[0]


# -- global surgery windows ------------------------------------------------------------------------

MPFS = [{"code": c, "modifier": None, "status": "A", "glob_days": g, "mult_proc": "2", "bilat_surg": "1",
         "asst_surg": "1", "co_surg": "0", "team_surg": "0"}
        for c, g in (("17110", "010"), ("27447", "090"), ("20610", "000"))]


@pytest.mark.parametrize("surgery, offset, modifier, flagged", [
    ("17110", -1, None, False), ("17110", 0, None, True), ("17110", 0, "25", False), ("17110", 0, "24", True),
    ("17110", 1, None, True), ("17110", 10, None, True), ("17110", 10, "24", False), ("17110", 11, None, False),
    ("27447", -2, None, False), ("27447", -1, None, True), ("27447", -1, "57", False), ("27447", -1, "25", True),
    ("27447", 0, "57", False), ("27447", 0, "24", True), ("27447", 1, "57", True), ("27447", 1, "24", False),
    ("27447", 90, None, True), ("27447", 90, "79", True), ("27447", 91, None, False),
    ("20610", 1, None, False),
])
def test_global_period_windows_and_modifiers(audit, single, surgery, offset, modifier, flagged):
    day = date(2026, 3, 2)
    em_day = date.fromordinal(day.toordinal() + offset)
    lines = [{"claim_id": "S", "procedure_code": surgery, "service_date": day.isoformat(), "received_date": "2026-09-01"},
             {"claim_id": "E", "procedure_code": "99213", "modifier_1": modifier, "service_date": em_day.isoformat(),
              "received_date": "2026-09-01"}]
    f, _, _ = audit("GS001", lines, single({"mpfs": MPFS}))
    assert (len(f) == 1) == flagged
    if flagged:
        assert f["claim_id"].tolist() == ["E"]
