"""The per-claim engines give exactly the batch engine's findings.

Every rule of the default pack (new rules are picked up: one test per rule id) on each of its
examples; the example claim files of examples/ with the sample reference data; and seeded random
claims that collide across claims of a member (duplicates, pairs, units per date).
"""

import math
from datetime import date
from itertools import groupby
from pathlib import Path

import pandas as pd
import pytest

from auditor.claims.normalize import normalize
from auditor.engine.batch import evaluate
from auditor.engine.perclaim import durable_available, make_engine, rows_from_frame, to_frame
from auditor.engine.perclaim.samples import EXAMPLES, example_store, random_lines
from auditor.engine.refview import FrameStore, coerce_table
from auditor.findings import FINDING_COLUMNS
from auditor.rules.examples import EXAMPLE_AS_OF, base_store, example_frame
from auditor.rules.loader import load_rules

RULES = load_rules()
BY_ID = {rid: list(g) for rid, g in groupby(sorted(RULES, key=lambda r: r.id), key=lambda r: r.id)}
IDS = sorted(rid for rid, rs in BY_ID.items() if any(r.kind != "input" for r in rs))
ENGINES = ["python"] + (["durable"] if durable_available()[0] else [])
AS_OF = date(2026, 11, 26)
EXAMPLE_FILES = sorted(EXAMPLES.glob("claims*.csv")) + sorted(
    p for ext in ("837", "x12", "edi") for p in (EXAMPLES / "x12").glob(f"*.{ext}"))


def rows(findings: pd.DataFrame) -> list[tuple]:
    """Findings as comparable tuples of every finding column (missing = None, dates as text)."""
    out = []
    for rec in findings[FINDING_COLUMNS].astype(object).to_dict("records"):
        t = []
        for c in FINDING_COLUMNS:
            v = rec[c]
            if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
                v = None
            elif isinstance(v, pd.Timestamp):
                v = v.date().isoformat()
            elif isinstance(v, float):
                v = round(v, 6)
            t.append(v)
        out.append(tuple(t))
    return sorted(out, key=repr)


def explain(want: list[tuple], got: list[tuple]) -> str:
    lines = [f"batch {len(want)} finding(s), per-claim {len(got)}"]
    for t in sorted(set(want) ^ set(got), key=repr)[:6]:
        lines.append(("  only batch:     " if t in want else "  only per-claim: ")
                     + repr(dict(zip(FINDING_COLUMNS, t))))
    return "\n".join(lines)


@pytest.fixture(scope="module")
def base():
    return base_store()


@pytest.mark.parametrize("rule_id", IDS)
def test_rule_examples_agree(rule_id, base):
    variants = BY_ID[rule_id]
    owner = next((r for r in variants if r.examples), variants[0])
    store = FrameStore({k: coerce_table(k, v) for k, v in owner.example_refdata.items()}, base=base)
    engines = [make_engine(name, variants, store) for name in ENGINES]
    try:
        for ex in owner.examples:
            frame = example_frame(ex.lines)
            as_of = owner.example_as_of or EXAMPLE_AS_OF
            want = rows(evaluate(frame, variants, store, as_of=as_of)[0])
            lines = rows_from_frame(frame)
            for engine in engines:
                got = rows(to_frame(engine.evaluate_rows(lines, as_of=as_of)))
                assert got == want, f"{engine.name} engine, example {ex.name!r}: " + explain(want, got)
    finally:
        for e in engines:
            e.close()


@pytest.fixture(scope="module")
def sample_store(sample_refdata):
    from auditor.refdata.store import RefStore

    return RefStore(sample_refdata)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_example_files_agree(path: Path, sample_store):
    from auditor.audit import read_claims

    lines, found, _ = read_claims([path])
    want = rows(evaluate(lines, RULES, sample_store, as_of=AS_OF, reader_findings=found)[0])
    assert want, "the example file raises findings (a sample that shows nothing tests nothing)"
    for name in ENGINES:
        engine = make_engine(name, RULES, sample_store)
        try:
            got = rows(engine.evaluate(lines, as_of=AS_OF, reader_findings=found)[0])
        finally:
            engine.close()
        assert got == want, f"{name} engine on {path.name}: " + explain(want, got)


@pytest.fixture(scope="module")
def merged_store():
    return example_store(RULES)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_claims_agree(seed, merged_store):
    """Many claims of few members: file mode (one member at a time) and one request (all lines)."""
    frame = normalize(pd.DataFrame(random_lines(RULES, seed)), "random.csv")
    want = rows(evaluate(frame, RULES, merged_store, as_of=AS_OF)[0])
    assert len({t[0] for t in want}) >= 10, "the random claims exercise many rules"
    for name in ENGINES:
        engine = make_engine(name, RULES, merged_store)
        try:
            by_member = rows(engine.evaluate(frame, as_of=AS_OF)[0])
            one_request = rows(to_frame(engine.evaluate_rows(rows_from_frame(frame), as_of=AS_OF)))
        finally:
            engine.close()
        assert by_member == want, f"{name} engine, member by member: " + explain(want, by_member)
        assert one_request == want, f"{name} engine, one request: " + explain(want, one_request)


def test_coverage_agrees(merged_store):
    """The coverage table (what each rule checked) is the batch engine's, too."""
    frame = normalize(pd.DataFrame(random_lines(RULES, 7)), "random.csv")
    frame.loc[frame.index[:5], "service_date"] = pd.Timestamp("2019-01-02")  # before some tables' versions
    _f, want, _ = evaluate(frame, RULES, merged_store, as_of=AS_OF)
    engine = make_engine("python", RULES, merged_store)
    _f, got, _ = engine.evaluate(frame, as_of=AS_OF)
    key = ["rule_id", "status", "lines_checked", "lines_not_checked"]
    pd.testing.assert_frame_equal(got[key].sort_values("rule_id").reset_index(drop=True),
                                  want[key].sort_values("rule_id").reset_index(drop=True))
