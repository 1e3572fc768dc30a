"""The durable_rules engine around its known pitfalls, and the fallback where durable_rules is missing."""

import threading
from datetime import date
from pathlib import Path

import pytest

from auditor.engine.perclaim import PythonEngine, durable_available, make_engine, normalize_rows
from auditor.engine.perclaim.samples import example_store
from auditor.rules.examples import DEFAULT_LINE
from auditor.rules.loader import load_rules

needs_durable = pytest.mark.skipif(not durable_available()[0], reason="durable_rules is not installed here")
AS_OF = date(2026, 11, 26)


def _lines(*specs, claim="C1"):
    return normalize_rows([{**DEFAULT_LINE, "claim_id": claim, "line_number": str(i + 1), **s}
                           for i, s in enumerate(specs)], "req")


def _rules(tmp_path: Path, **bodies) -> list:
    """A small rule pack: {id: yaml body (kind, when ...)}."""
    for rid, body in bodies.items():
        (tmp_path / f"{rid}-t.yaml").write_text(
            f"id: {rid}\ntitle: t\ncategory: data_quality\nseverity: error\ndescription: d\nreference: r\n"
            f"fix: f\nmessage: \"{rid} {{procedure_code}}\"\n{body}\n", encoding="utf-8")
    return load_rules([tmp_path], include_default=False)


def _ids(findings):
    return sorted((f["rule_id"], f["line_number"]) for f in findings)


@needs_durable
def test_more_units_than_live_states(tmp_path):
    """Each unit's state is deleted: 1,200 units pass the 1,024-live-states limit without loss."""
    rules = _rules(tmp_path, TST001="kind: line\nwhen: units > 2")
    engine = make_engine("durable", rules, example_store(rules))
    lines = _lines({"units": "3"}, {"units": "1"}, {"units": "5"})
    for _ in range(1200):
        assert _ids(engine.evaluate_rows(lines, as_of=AS_OF)) == [("TST001", 1), ("TST001", 3)]
    engine.close()


@needs_durable
def test_text_is_not_coerced_to_numbers(tmp_path):
    """durable_rules compares "11" equal to 11; the batch engine does not: typed values keep them apart."""
    rules = _rules(tmp_path, TST001="kind: line\nwhen: place_of_service == 11",
                   TST002="kind: line\nwhen: place_of_service == '11'",
                   TST003="kind: line\nwhen: place_of_service in [11, 22]",
                   TST004="kind: line\nwhen: units in ['2']")
    lines = _lines({"place_of_service": "11", "units": "2"})
    py, du = (make_engine(n, rules, example_store(rules)) for n in ("python", "durable"))
    want = _ids(py.evaluate_rows(lines, as_of=AS_OF))
    assert want == [("TST002", 1), ("TST003", 1)]
    assert _ids(du.evaluate_rows(lines, as_of=AS_OF)) == want
    du.close()


@needs_durable
def test_numbers_durable_rules_cannot_parse(tmp_path):
    """An exponent (1e-05) crashes durable_rules' JSON parser: values go in fixed notation."""
    rules = _rules(tmp_path, TST001="kind: line\nwhen: units > 0.000001 and charge < 1e-4",
                   TST002="kind: line\nwhen: units > 1000000000000000000")
    lines = _lines({"units": "0.00001", "charge": "0.0000001"}, {"units": "1e20", "charge": "1e25"},
                   {"units": "inf"})
    py, du = (make_engine(n, rules, example_store(rules)) for n in ("python", "durable"))
    want = _ids(py.evaluate_rows(lines, as_of=AS_OF))
    assert want == [("TST001", 1), ("TST002", 2), ("TST002", 3)]
    assert _ids(du.evaluate_rows(lines, as_of=AS_OF)) == want
    du.close()


@needs_durable
def test_clean_lines_do_not_drop_findings():
    """Facts that match no rule meet the catch-all rule: the findings of the others are kept."""
    rules = load_rules()
    store = example_store(rules)
    lines = _lines({"procedure_code": "99213"}, {"procedure_code": "99213", "billing_npi": "1234567890"},
                   {"procedure_code": "36415", "units": "3"}, {"procedure_code": "J1100"})
    py, du = (make_engine(n, rules, store) for n in ("python", "durable"))
    want = py.evaluate_rows(lines, as_of=AS_OF)
    assert {f["rule_id"] for f in want} >= {"DQ003", "MUE001"}
    assert du.evaluate_rows(lines, as_of=AS_OF) == want
    assert du.fallbacks == 0
    du.close()


@needs_durable
def test_concurrent_requests():
    """The service runs requests on threads: one durable engine, many threads, the same answers."""
    rules = load_rules()
    engine = make_engine("durable", rules, example_store(rules))
    requests = [_lines({"procedure_code": "36415"}, {"procedure_code": "36416"}, claim=f"T{i}") for i in range(8)]
    want = [engine.evaluate_rows(r, as_of=AS_OF) for r in requests]
    got: dict = {}

    def work(i):
        got[i] = [engine.evaluate_rows(requests[i], as_of=AS_OF) for _ in range(15)]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(answer == want[i] for i in range(8) for answer in got[i])
    engine.close()


def test_durable_missing_falls_back_with_a_notice(monkeypatch):
    import auditor.engine.perclaim as perclaim

    monkeypatch.setattr(perclaim, "durable_available", lambda: (False, "durable_rules is not available (test)"))
    rules = load_rules()
    engine = perclaim.make_engine("durable", rules, example_store(rules))
    assert isinstance(engine, PythonEngine) and engine.name == "python"
    assert "durable_rules is not available" in engine.notice and "python" in engine.notice
