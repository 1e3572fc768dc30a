"""The engine's numpy fast paths give what the plain pandas operations give."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from auditor.distinct import dense_ids
from auditor.engine import vector
from auditor.engine.vector import Env, evaluate, value_cache
from auditor.rules.expr import parse


def _dates(rng, start: str, days: int, n: int, na: float = 0.05) -> pd.Series:
    s = pd.Series(pd.Timestamp(start) + pd.to_timedelta(rng.integers(0, days, n), unit="D")).astype("datetime64[ns]")
    s[rng.random(n) < na] = pd.NaT
    return s


def test_year_month_day_every_day_of_the_datetime_range():
    d = pd.date_range("1677-09-22", "2262-04-10", freq="D").as_unit("ns")
    y, m, day = vector._ymd(d.to_numpy())  # (a span of days: one conversion per day, looked up)
    assert (y == d.year).all() and (m == d.month).all() and (day == d.day).all()
    y, m, day = vector._civil(d.to_numpy().view(np.int64) // 86_400_000_000_000)  # (row by row)
    assert (y == d.year).all() and (m == d.month).all() and (day == d.day).all()
    sparse = d[[0, len(d) - 1]].to_numpy()  # two dates far apart: converted row by row
    assert vector._ymd(sparse)[0].tolist() == [1677, 2262]


def test_age_and_days_match_pandas():
    rng = np.random.default_rng(7)
    birth, when = _dates(rng, "1900-01-01", 45_000, 50_000), _dates(rng, "1950-01-01", 30_000, 50_000)
    birth.iloc[:4] = pd.Timestamp("2000-02-29")  # leap-day birthday: not yet 1 on Feb 28, 1 on Mar 1
    when.iloc[:4] = [pd.Timestamp("2001-02-28"), pd.Timestamp("2001-03-01"), pd.Timestamp("2004-02-28"),
                     pd.Timestamp("2004-02-29")]
    age = vector._age_on(birth, when)
    assert age.iloc[:4].tolist() == [0, 1, 3, 4]
    b, w = birth.astype(object), when.astype(object)  # object dtype: the general (pandas) path
    pd.testing.assert_series_equal(age, vector._age_on(b, w), check_names=False)
    pd.testing.assert_series_equal(vector._days(birth, when), vector._days(b, w), check_names=False)
    assert vector._age_on(birth, when)[birth.isna() | when.isna()].isna().all()


def _run(expr: str, frame: pd.DataFrame) -> list:
    node = parse(expr)
    with value_cache():
        out = evaluate(node, Env({None: frame}, len(frame), pd.Timestamp("2026-01-01").date()))
    return pd.array(out).tolist() if not isinstance(out, pd.Series) else out.tolist()


@pytest.mark.parametrize("n", [10, 10_000])  # below and above the size where encodings are cached
def test_text_column_equality_in_code_space(n):
    rng = np.random.default_rng(3)
    pool = np.array(["1234567893", "1245319599", "1679576722", None], dtype=object)
    # object columns, as in the canonical frame (pandas 3 would infer its "str" dtype otherwise)
    frame = pd.DataFrame({"a": pool[rng.integers(0, 4, n)], "b": pool[rng.integers(0, 4, n)]}, dtype=object)
    frame.loc[0, ["a", "b"]] = ["1234567893", "9999999999"]  # a value only one side has
    for op in ("==", "!="):
        got = _run(f"a {op} b", frame)
        want = [None if pd.isna(a) or pd.isna(b) else (a == b if op == "==" else a != b)
                for a, b in zip(frame["a"], frame["b"])]
        assert [None if v is pd.NA else v for v in got] == want


@pytest.mark.parametrize("op", ["==", "!=", "<", ">="])
def test_text_column_against_a_literal_once_per_distinct_value(op):
    rng = np.random.default_rng(11)
    pool = np.array(["99202", "99213", "J1100", "0001U", None], dtype=object)
    frame = pd.DataFrame({"a": pool[rng.integers(0, 5, 10_000)]}, dtype=object)
    got = _run(f'a {op} "99213"', frame) + _run(f'"99213" {op} a', frame)
    import operator
    f = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, ">=": operator.ge}[op]
    want = [None if pd.isna(a) else f(a, "99213") for a in frame["a"]] + \
        [None if pd.isna(a) else f("99213", a) for a in frame["a"]]
    assert [None if v is pd.NA else v for v in got] == want


def test_coalesce_of_an_empty_column_takes_the_next_value():
    frame = pd.DataFrame({"x": pd.Series(np.full(5000, None, dtype=object), dtype=object),
                          "y": np.arange(5000, dtype=float)})
    frame.loc[3, "x"] = 7.0
    got = _run("coalesce(x, y)", frame)
    assert got[3] == 7.0 and got[4] == 4.0
    frame["x"] = None
    assert _run("coalesce(x, 365) > 364", frame) == [True] * 5000


def test_dense_ids_match_factorize():
    rng = np.random.default_rng(5)
    for n in (0, 1, 17, 100_000):
        key = rng.integers(-3, 1000, n) * 1_000_003
        assert (dense_ids(key) == pd.factorize(key)[0]).all()


def test_allocator_tuning_runs_once_and_can_be_turned_off(monkeypatch):
    from auditor.engine import allocator

    monkeypatch.setattr(allocator, "_done", False)
    monkeypatch.setenv("AUDITOR_MALLOC_TUNING", "0")
    assert allocator.tune() is False  # turned off
    assert allocator.tune() is False  # and only ever tried once
    monkeypatch.setattr(allocator, "_done", False)
    monkeypatch.delenv("AUDITOR_MALLOC_TUNING")
    first = allocator.tune()
    import platform
    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        assert first is True
    assert allocator.tune() is False
