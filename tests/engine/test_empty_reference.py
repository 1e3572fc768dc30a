"""A reference table version whose rows a rule's `where` filters all out: nothing matches, no crash."""

from __future__ import annotations

from datetime import date

import pandas as pd

from auditor.claims.normalize import combine, normalize
from auditor.engine.batch import evaluate
from auditor.engine.refview import FrameStore, coerce_table
from auditor.rules.loader import load_rules, select_rules


def _lines(n: int) -> pd.DataFrame:
    raw = pd.DataFrame([{"claim_id": f"C{i}", "line_number": "1", "member_id": "M1", "member_sex": "M",
                         "billing_npi": "1234567893", "service_date": "2026-01-05", "procedure_code": "99213",
                         "units": "1", "charge": "10", "dx_1": "N400"} for i in range(n)], dtype=object)
    return combine([normalize(raw, "x.csv")])


def test_lookup_of_a_version_without_rows_in_scope():
    # An MCE list without any Female_Only/Male_Only code: SEX001's lookup keeps no table row.
    mce = coerce_table("mce", [{"edit_type": "Newborn_Only", "code": "Z3800", "code_type": "D"}])
    rules = select_rules(load_rules(), ["SEX001"])
    for n in (3, 5000):  # (small frames and the per-distinct-key join)
        findings, coverage, _ = evaluate(_lines(n), rules, FrameStore({"mce": mce}), as_of=date(2026, 10, 31))
        assert findings.empty
        row = coverage.set_index("rule_id").loc["SEX001"]
        assert row["status"] == "checked" and row["lines_not_checked"] == 0


def test_every_rule_with_empty_reference_tables():
    """Every table the rule examples use, present but without a row: no rule fails, none flags a
    line for a table row it does not have (coverage still counts the lines as checked)."""
    from auditor.engine.perclaim.samples import example_store, random_lines

    rules = load_rules()
    full = example_store(rules)
    empty = FrameStore({k: v.iloc[:0] for k, v in full.frames.items()}, base=full.base)
    small = combine([normalize(pd.DataFrame(random_lines(rules, 1, claims=60), dtype=object), "x.csv")])
    big = pd.concat([small] * (5000 // len(small) + 1), ignore_index=True)  # (the per-distinct-key paths)
    big["claim_id"] = big["claim_id"].astype(str) + "-" + (big.index // len(small)).astype(str)
    big["_row"] = range(len(big))
    for lines in (small, big):
        findings, coverage, _ = evaluate(lines, rules, empty, as_of=date(2026, 10, 31))
        assert set(coverage["rule_id"]) == {r.id for r in rules}
        # Add-on codes need a listed primary: with no AOC row, no add-on line can be flagged.
        assert not findings["rule_id"].isin(["AOC001", "AOC002", "NCCI001", "NCCI002"]).any()
