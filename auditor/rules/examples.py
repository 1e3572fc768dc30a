"""Run a rule's own examples: claims that must raise its finding and claims that must not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from itertools import groupby

import pandas as pd

from auditor.claims.normalize import normalize
from auditor.engine.batch import evaluate
from auditor.engine.refview import FrameStore, coerce_table
from auditor.rules.model import Rule

# What an example line holds unless it says otherwise: a clean office visit.
DEFAULT_LINE = {
    "claim_id": "C1", "member_id": "M1", "member_birth_date": "1960-05-15", "member_sex": "F",
    "billing_npi": "1234567893", "place_of_service": "11", "service_date": "2026-03-02",
    "received_date": "2026-03-10", "procedure_code": "99213", "units": "1", "charge": "100.00",
    "dx_1": "I10", "claim_type": "professional",
}
EXAMPLE_AS_OF = date(2026, 11, 26)


@dataclass
class ExampleResult:
    rule_id: str
    name: str
    expect_fail: bool
    passed: bool
    detail: str


def example_frame(lines: list[dict]) -> pd.DataFrame:
    rows = []
    counters: dict[str, int] = {}
    for line in lines:
        row = {**DEFAULT_LINE, **{k: v for k, v in line.items()}}
        if "line_number" not in line:
            counters[row["claim_id"]] = counters.get(row["claim_id"], 0) + 1
            row["line_number"] = counters[row["claim_id"]]
        rows.append({k: (None if v is None else v if isinstance(v, str) else
                         v.isoformat() if isinstance(v, date) else str(v)) for k, v in row.items()})
    return normalize(pd.DataFrame(rows), "example")


def base_store():
    """The built-in reference data (ICD-10-CM FY2026, MCE, Excludes1), when available."""
    try:
        from auditor.refdata.store import RefStore
    except ImportError:  # the store is optional for examples that bring their own tables
        return None
    return RefStore(None, builtin=True)


def run_examples(rules: list[Rule], store=None) -> list[ExampleResult]:
    """Run each rule id's examples against that rule alone; every for_each variant takes part."""
    base = store if store is not None else base_store()
    results = []
    for rid, group in groupby(sorted(rules, key=lambda r: r.id), key=lambda r: r.id):
        variants = list(group)
        if all(r.kind == "input" for r in variants):
            # Findings of input rules come from code (readers, provider statistics), not from the
            # rule engine, so claim examples cannot exercise them here; pytest tests that code.
            results.append(ExampleResult(rid, "(input rule)", False, True,
                                         "skipped: findings are produced by code, tested by pytest"))
            continue
        owner = next((r for r in variants if r.examples), variants[0])
        frames = {k: coerce_table(k, rows) for k, rows in owner.example_refdata.items()}
        ex_store = FrameStore(frames, base=base)
        for ex in owner.examples:
            frame = example_frame(ex.lines)
            findings, _, _ = evaluate(frame, variants, ex_store, as_of=owner.example_as_of or EXAMPLE_AS_OF)
            got = findings[findings["rule_id"] == rid]
            if ex.expect_fail:
                ok = len(got) > 0
                detail = f"{len(got)} finding(s)" if ok else "expected a finding, got none"
                if ok and ex.flags is not None:
                    want = sorted(str(x) for x in ex.flags)
                    have = sorted("claim" if pd.isna(x) else str(int(x)) for x in got["line_number"])
                    ok = sorted(set(have)) == sorted(set(want))
                    detail = f"flagged {have}, expected {want}"
            else:
                ok = len(got) == 0
                detail = "no finding" if ok else "unexpected: " + "; ".join(got["message"].astype(str).head(3))
            results.append(ExampleResult(rid, ex.name, ex.expect_fail, ok, detail))
        if not owner.examples:
            results.append(ExampleResult(rid, "(no examples)", False, False, "every rule needs examples"))
    return results
