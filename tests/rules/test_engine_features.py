"""The general engine features the edit families use: unordered pairs, per-side and filtered
lookups, several date windows, derived tables (views), requires flag_when, aggregate flag_where,
requires_columns, iif()."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from auditor.engine.batch import evaluate
from auditor.engine.views import VIEWS, ViewStore
from auditor.errors import RuleError
from auditor.rules.examples import example_frame
from auditor.rules.loader import load_lists, load_rule_file

RULES_DIR = Path(__file__).resolve().parents[2] / "rules"


def _rule(tmp_path, text: str):
    p = tmp_path / "XT001-test.yaml"
    p.write_text(text, encoding="utf-8")
    return load_rule_file(p, load_lists([RULES_DIR]))


HEAD = """id: XT001
title: t
category: modifier
severity: info
description: d
reference: r
fix: f
"""

# -- Excludes1: a pair is reported once ----------------------------------------------------------

EX = [{"code": "E10", "excluded": "E11", "note": "type 2 diabetes mellitus (E11.-)"},
      {"code": "E11", "excluded": "E10", "note": "type 1 diabetes mellitus (E10.-)"},
      {"code": "J45", "excluded": "R062", "note": "wheezing NOS (R06.2)"}]


@pytest.mark.parametrize("dx", [["E11.9", "E10.9"], ["E10.9", "E11.9"], ["R06.2", "J45.909"], ["J45.909", "R06.2"]])
def test_excludes1_pair_reported_once(audit, single, dx):
    f, _, _ = audit("EX001", [{"dx_1": dx[0], "dx_2": dx[1]}], single({"excludes1": EX}))
    assert len(f) == 1
    assert f["line_number"].isna().all()  # a claim-level finding
    assert f["message"].iloc[0].startswith(f"Diagnoses {dx[0].replace('.', '')} (position 1)")


def test_excludes1_three_codes_two_pairs(audit, single):
    f, _, _ = audit("EX001", [{"dx_1": "E11.9", "dx_2": "E10.9", "dx_3": "J45.909", "dx_4": "R06.2"}],
                    single({"excludes1": EX}))
    assert len(f) == 2
    assert len(set(f["fingerprint"])) == 2


def test_excludes1_with_the_builtin_notes(audit, builtin_store):
    if "excludes1" not in builtin_store.kinds():
        pytest.skip("built-in Excludes1 table not available")
    f, _, _ = audit("EX001", [{"dx_1": "E11.9", "dx_2": "E10.9", "dx_3": "I10"}], builtin_store)
    assert len(f) == 1


def test_fingerprint_does_not_depend_on_the_notes_direction(audit, single):
    one_way = single({"excludes1": [EX[0]]})
    other_way = single({"excludes1": [EX[1]]})
    lines = [{"dx_1": "E11.9", "dx_2": "E10.9"}]
    fa, _, _ = audit("EX001", lines, one_way)
    fb, _, _ = audit("EX001", lines, other_way)
    assert fa["fingerprint"].tolist() == fb["fingerprint"].tolist()


# -- filtered and per-side lookups -------------------------------------------------------------------

MPFS = [
    {"code": "73560", "modifier": None, "status": "A", "glob_days": "XXX", "mult_proc": "0", "bilat_surg": "1",
     "asst_surg": "0", "co_surg": "0", "team_surg": "0"},
    # a payment-modifier row with other indicators must not be the one looked up
    {"code": "73560", "modifier": "TC", "status": "A", "glob_days": "XXX", "mult_proc": "0", "bilat_surg": "3",
     "asst_surg": "0", "co_surg": "0", "team_surg": "0"},
]


def test_lookup_where_filters_the_table_before_joining(audit, single):
    f, _, _ = audit("MOD004", [{"procedure_code": "73560", "modifier_1": "50"}], single({"mpfs": MPFS}))
    assert f.empty


def test_pair_lookup_joins_its_own_side(tmp_path, single):
    (rule,) = _rule(tmp_path, HEAD + """message: "{a.procedure_code} before {b.procedure_code} ({bx.glob_days})"
kind: pair
scope: [member_id]
lookup: {table: mpfs, on: {procedure_code: code}, as: bx, side: b, where: "coalesce(ref.modifier, '') == ''"}
left: procedure_code == '99213'
right: bx.glob_days == '090'
flag: a
examples: {fail: [{lines: [{}]}]}
""")
    mpfs = [dict(MPFS[0], code="27447", glob_days="090"), dict(MPFS[0], code="99213", glob_days="XXX")]
    lines = [{"procedure_code": "99213"}, {"procedure_code": "27447"}]
    f, _, _ = evaluate(example_frame(lines), [rule], single({"mpfs": mpfs}), as_of=date(2026, 11, 26))
    assert f["message"].tolist() == ["99213 before 27447 (090)"]
    assert f["line_number"].tolist() == [1] and f["related_line"].tolist() == [2]


@pytest.mark.parametrize("text, error", [
    ("kind: line\nwhen: 'true'\nlookup: {table: mpfs, on: {procedure_code: code}, side: a}\n", "pair rules only"),
    ("kind: pair\nlookup: {table: mpfs, on: {procedure_code: code}, as: x}\n", "side: a or side: b"),
    ("kind: pair\nlookup: {table: mpfs, on: {procedure_code: code}, side: a}\n", "its own name"),
    ("kind: line\nwhen: 'true'\nunordered: true\n", "'unordered' is for pair"),
    ("kind: line\nwhen: 'true'\nflag_when: all_listed\n", "'flag_when' is for requires"),
    ("kind: requires\njoin: {table: aoc, left: addon_code, right: primary_code}\nflag_when: sometimes\n",
     "none_listed or all_listed"),
    ("kind: line\nwhen: 'true'\nrequires_columns: [Member]\n", "column names"),
    ("kind: line\nwhen: 'true'\nlookup: {table: aoc, on: {procedure_code: addon_code}, dated_by: [a]}\n",
     "dated_by"),
])
def test_loader_rejects_misused_keys(tmp_path, text, error):
    with pytest.raises(RuleError, match=error):
        _rule(tmp_path, HEAD + 'message: "m"\n' + text)


# -- several date windows -----------------------------------------------------------------------------

def test_lookup_with_two_date_windows(tmp_path, single):
    (rule,) = _rule(tmp_path, HEAD + """message: "{procedure_code}"
kind: line
lookup:
  table: aoc
  on: {procedure_code: addon_code}
  dated_by: [[addon_effective, addon_deletion], [primary_effective, primary_deletion]]
when: ref.found
examples: {fail: [{lines: [{}]}]}
""")
    aoc = [{"addon_code": "99417", "primary_code": "99215", "aoc_type": 1, "addon_effective": "2021-01-01",
            "addon_deletion": None, "primary_effective": "2023-01-01", "primary_deletion": "2025-12-31"}]
    lines = [{"claim_id": c, "procedure_code": "99417", "service_date": d}
             for c, d in (("A", "2022-12-31"), ("B", "2023-01-01"), ("C", "2025-12-31"), ("D", "2026-01-01"))]
    f, _, _ = evaluate(example_frame(lines), [rule], single({"aoc": aoc}), as_of=date(2026, 11, 26))
    assert f["claim_id"].tolist() == ["B", "C"]


# -- views ----------------------------------------------------------------------------------------

def test_view_joins_version_matched_sources(versioned):
    hcpc = [{"article_id": "A1", "code": "82306"}]
    v1 = [{"article_id": "A1", "code": "E559"}]
    v2 = [{"article_id": "A1", "code": "E559"}, {"article_id": "A1", "code": "M810"}]
    store = ViewStore(versioned({"lcd_hcpc": [("h1", None, None, hcpc)],
                                 "lcd_icd10_covered": [("c1", None, date(2025, 12, 31), v1),
                                                       ("c2", date(2026, 1, 1), None, v2)]}))
    dates = pd.Series(pd.to_datetime(["2025-06-01", "2026-06-01", None]))
    vids = store.version_for_dates("lcd_covered_pairs", dates)
    assert vids.tolist() == ["h1+c1", "h1+c2", None]
    t = store.table("lcd_covered_pairs", "h1+c2")
    assert list(t.columns) == ["article_id", "hcpc_code", "icd10_code"]
    assert sorted(t["icd10_code"]) == ["E559", "M810"]
    assert "lcd_covered_pairs" in store.kinds() and "lcd_noncovered_pairs" not in store.kinds()
    assert store.versions("lcd_noncovered_pairs") == []


def test_view_versions_follow_the_date_of_service(audit, versioned):
    hcpc = [{"article_id": "A1", "code": "82306"}]
    v1 = [{"article_id": "A1", "code": "E559"}]
    v2 = [{"article_id": "A1", "code": "M810"}]
    store = versioned({"lcd_hcpc": [("h1", None, None, hcpc)],
                       "lcd_icd10_covered": [("c1", None, date(2025, 12, 31), v1), ("c2", date(2026, 1, 1), None, v2)]})
    lines = [{"claim_id": "A", "procedure_code": "82306", "dx_1": "E55.9", "service_date": "2025-12-31"},
             {"claim_id": "B", "procedure_code": "82306", "dx_1": "E55.9", "service_date": "2026-01-01"}]
    f, _, ctx = audit("MN001", lines, store)
    assert f["claim_id"].tolist() == ["B"]  # E55.9 left the covered list on 2026-01-01
    assert "LCD article covered ICD-10 codes version c2" in f["reference"].iloc[0]
    # provenance names the stored versions the view was built from, never the view itself
    assert {k for k, _ in ctx.versions_used} == {"lcd_hcpc", "lcd_icd10_covered"}


def test_views_are_declared_over_known_kinds():
    from auditor.refdata.kinds import SCHEMAS

    for name, v in VIEWS.items():
        assert name not in SCHEMAS
        for src, cols in ((v.left, v.left_columns), (v.right, v.right_columns)):
            assert src in SCHEMAS, src
            assert set(v.on) | {c for c, _ in cols} <= set(SCHEMAS[src]), (name, src)


# -- requires: flag_when all_listed ---------------------------------------------------------------

NONCOV = {"lcd_hcpc": [{"article_id": "A3", "code": "G0103"}],
          "lcd_icd10_noncovered": [{"article_id": "A3", "code": "Z0000"}, {"article_id": "A3", "code": "Z125"}]}


@pytest.mark.parametrize("dx, flagged", [(["Z00.00"], True), (["Z00.00", "Z12.5"], True),
                                         (["Z00.00", "R97.20"], False), (["R97.20"], False)])
def test_requires_all_listed(audit, single, dx, flagged):
    line = {"procedure_code": "G0103", **{f"dx_{i + 1}": d for i, d in enumerate(dx)}}
    f, cov, _ = audit("MN002", [line], single(NONCOV))
    assert (len(f) == 1) == flagged
    assert cov["status"].tolist() == ["checked"]  # the optional covered-pairs lookup may be absent


# -- aggregate flag_where (AOC002) ---------------------------------------------------------------------

AOC2 = [{"addon_code": "20985", "primary_code": "CCCCC", "aoc_type": 2, "addon_effective": "2008-01-01",
         "addon_deletion": None, "primary_effective": "2008-01-01", "primary_deletion": None},
        {"addon_code": "99417", "primary_code": "99215", "aoc_type": 1, "addon_effective": "2021-01-01",
         "addon_deletion": None, "primary_effective": "2021-01-01", "primary_deletion": None}]


@pytest.mark.parametrize("codes, flagged", [(["20985"], [1]), (["20985", "99417"], [1]), (["99417", "20985"], [2]),
                                            (["27447", "20985"], []), (["99417"], [])])
def test_aggregate_flag_where(audit, single, codes, flagged):
    f, _, _ = audit("AOC002", [{"procedure_code": c} for c in codes], single({"aoc": AOC2}))
    assert sorted(int(x) for x in f["line_number"]) == flagged


# -- iif ---------------------------------------------------------------------------------------------

def test_iif_in_conditions_and_messages(tmp_path, single):
    (rule,) = _rule(tmp_path, HEAD + """message: "{iif(units > 1, 'many', iif(units == 1, 'one', 'none'))} {iif(units > 1, units, 'x')}"
kind: line
when: iif(units > 0, True, False)
examples: {fail: [{lines: [{}]}]}
""")
    lines = [{"units": "3"}, {"units": "1"}, {"units": "0"}]
    f, _, _ = evaluate(example_frame(lines), [rule], single({}), as_of=date(2026, 11, 26))
    assert f["message"].tolist() == ["many 3", "one x"]
