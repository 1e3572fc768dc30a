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
