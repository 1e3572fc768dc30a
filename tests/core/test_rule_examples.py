"""Every rule's examples are its tests (one parametrized test, as sqlfluff does)."""

import pytest

from auditor.rules.examples import run_examples
from auditor.rules.loader import load_rules

RULES = load_rules()
IDS = sorted({r.id for r in RULES})


@pytest.fixture(scope="module")
def store():
    from auditor.rules.examples import base_store

    return base_store()


@pytest.mark.parametrize("rule_id", IDS)
def test_rule_examples(rule_id, store):
    rules = [r for r in RULES if r.id == rule_id]
    if rules[0].kind == "input":
        pytest.skip("input rules are raised by readers; tested with the readers")
    results = run_examples(rules, store=store)
    assert results, f"{rule_id} has no examples"
    assert any(r.expect_fail for r in results), f"{rule_id} needs at least one failing example"
    assert any(not r.expect_fail for r in results), f"{rule_id} needs at least one passing example"
    bad = [f"{r.name}: {r.detail}" for r in results if not r.passed]
    assert not bad, "\n".join(bad)


def test_every_rule_documents_itself():
    for r in RULES:
        for field in ("title", "description", "reference", "fix", "message"):
            assert getattr(r, field).strip(), f"{r.id} lacks {field}"
