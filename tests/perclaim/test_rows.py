"""The pandas-free pieces of the per-claim path equal their pandas counterparts, value for value."""

import random
from datetime import date

import numpy as np
import pandas as pd
import pytest

from auditor.claims.normalize import normalize
from auditor.engine.perclaim.rows import normalize_rows, rows_from_frame
from auditor.engine.perclaim.values import fingerprint, format_value
from auditor.engine.vector import format_values
from auditor.findings import fingerprints
from auditor.rules.examples import DEFAULT_LINE
from auditor.rules.loader import load_rules

ODD = {
    "units": ["1", "1.5", " 2 ", "+3", "-4", ".5", "5.", "1e3", "1_000", "0x10", "inf", "nan", "1,5", "$10", "1 000",
              "\u0661\u0662", "abc", None, "", "0.00001"],
    "charge": ["$1,250.00", "100", "-25", "12.345", "", None, "ten"],
    "service_date": ["2026-03-02", "2026-3-2", "20260302", "2026032", "03/02/2026", "3/2/2026", "2026-02-30",
                     "2026-03-02 00:00:00", "2026-03-02T00:00", "2026-03-02 10:00:00", " 2026-03-02", "2026/03/02",
                     "x", None, "  "],
    "received_date": ["2026-03-10", "03/10/2026", "2026-13-01", None],
    "member_birth_date": ["1960-05-15", "19600515", "15/05/1960"],
    "line_number": ["1", "0", "1.5", "2.0", "-1", "x", None, "inf", "3"],
    "member_sex": ["m", "Female", "x", None, " u "],
    "claim_type": ["P", "837i", "dental", None, "Institutional"],
    "place_of_service": ["1", "11", "\u0663", None],
    "dx_1": ["e11.9", " i10 ", None, "Z00.00"],
    "dx_2": ["E11.9", None],
    "modifiers": ["59,RT", "a;b|c,d,e", None, "25", " lt , rt "],
    "modifier_1": [None, "lt", "25"],
    "diagnosis_codes": ["I10,E11.9", None, "I10;Z0000|E119"],
    "rendering_npi": [None, "1234567893", ""],
    "procedure_code": ["99213", " j1100 ", "", None],
    "payer": ["ACME HEALTH", None],
}


def _frame_rows(raw: list[dict]) -> list[dict]:
    return rows_from_frame(normalize(pd.DataFrame(raw), "f.csv", start_row=3))


def test_rule_example_lines_normalize_alike():
    # normalizing is row by row: all example lines go through both normalizers at once
    raw = [{**DEFAULT_LINE, **{k: (v.isoformat() if isinstance(v, date) else None if v is None else str(v))
                               for k, v in line.items()}}
           for rule in load_rules() for ex in rule.examples for line in ex.lines]
    got, want = normalize_rows(raw, "f.csv", start_row=3), _frame_rows(raw)
    bad = [(r, g, w) for r, g, w in zip(raw, got, want) if g != w]
    assert not bad, bad[:2]


@pytest.mark.parametrize("seed", range(4))
def test_odd_values_normalize_alike(seed):
    rnd = random.Random(seed)
    raw = []
    for i in range(300):
        r = {**DEFAULT_LINE, "line_number": str(i % 5 + 1)}
        for col, values in ODD.items():
            if rnd.random() < 0.4:
                r[col] = rnd.choice(values)
        raw.append(r)
    got, want = normalize_rows(raw, "f.csv", start_row=3), _frame_rows(raw)
    bad = [(r, {k: (g.get(k), w.get(k)) for k in set(g) | set(w) if g.get(k) != w.get(k)})
           for r, g, w in zip(raw, got, want) if g != w]
    assert not bad, bad[:2]


def test_dates_pandas_cannot_hold_are_unreadable_values():
    # (the pandas normalizer raises on these; the row normalizer reports them as DQ002 values)
    row = normalize_rows([{**DEFAULT_LINE, "service_date": "9999-12-31"}], "f.csv")[0]
    assert row["service_date"] is None and row["service_date__raw"] == "9999-12-31"


def test_fingerprints_match_the_findings_table():
    rnd = random.Random(5)
    cases = [("DQ001", None, None, None, ""), ("NCCI001", "C1", 2, 1, "20604"), ("X12001", "Ü-claim", 1, None, "é")]
    for _ in range(200):
        cases.append((rnd.choice(["IC001", "MUE002", "DUP001"]), rnd.choice([None, "C1", "A-77", ""]),
                      rnd.choice([None, 1, 12]), rnd.choice([None, 3]), rnd.choice(["", "99213", "x" * 40])))
    want = fingerprints(pd.Series([c[0] for c in cases]), pd.Series([c[1] for c in cases], dtype=object),
                        pd.Series([c[2] for c in cases], dtype="Int64"), pd.Series([c[3] for c in cases], dtype="Int64"),
                        pd.Series([c[4] for c in cases], dtype=object))
    assert [fingerprint(*c) for c in cases] == list(want)


@pytest.mark.parametrize("values", [
    [1.0, 2.5, None, -3.0, 1234567.0],
    [pd.Timestamp("2026-03-02"), None],
    [True, False],
    ["a", None, "b"],
])
def test_message_values_format_alike(values):
    s = pd.Series(values)
    py = [None if v is None else (v.date() if isinstance(v, pd.Timestamp) else v) for v in values]
    assert [format_value(v) for v in py] == list(format_values(s))


def test_int_columns_format_alike():
    assert [format_value(v) for v in (1, 20)] == list(format_values(pd.Series(np.array([1, 20]))))
