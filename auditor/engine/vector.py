"""Evaluate condition IR over whole columns (the batch engine's expression evaluator).

Logic is three-valued, as in SQL: a comparison with an empty value is unknown (NA), ``not``
of unknown is unknown, and a row fails a rule only when its condition is known to be true.
So an empty cell never makes a rule fire by accident.
"""

from __future__ import annotations

import operator
import threading
from contextlib import contextmanager
from datetime import date

import numpy as np
import pandas as pd

from auditor.distinct import by_code, representatives
from auditor.errors import RuleError
from auditor.rules.expr import MULTI_COLUMNS, Col, Func, Lit, Node

_CMP = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
        ">=": operator.ge}
_ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}


class Env:
    """Named frames, all of the same length and row order: ``None`` is the rule's own rows."""

    def __init__(self, frames: dict[str | None, pd.DataFrame], n: int, as_of: date, rule_id: str = ""):
        self.frames, self.n, self.as_of, self.rule_id = frames, n, as_of, rule_id
        self.memo: dict = {}  # function calls already evaluated here (a condition may repeat one)

    def column(self, ns: str | None, name: str) -> pd.Series:
        frame = self.frames.get(ns)
        if frame is None:
            raise RuleError(f"rule {self.rule_id}: namespace '{ns}' is not available here")
        if name not in frame.columns:
            if name.endswith("__raw") or frame.attrs.get("absent_optional"):
                return pd.Series(np.full(self.n, None, dtype=object), dtype=object)
            where = f"{ns}.{name}" if ns else name
            raise RuleError(f"rule {self.rule_id}: unknown column '{where}'")
        s = frame[name]
        return s.reset_index(drop=True) if not isinstance(s.index, pd.RangeIndex) or s.index.start != 0 else s

    def has(self, ns: str | None, name: str) -> bool:
        frame = self.frames.get(ns)
        return frame is not None and name in frame.columns

    def multi(self, node: Node) -> list[pd.Series]:
        if isinstance(node, Col) and node.name in MULTI_COLUMNS:
            frame = self.frames.get(node.ns)
            cols = [c for c in MULTI_COLUMNS[node.name] if frame is not None and c in frame.columns]
            if node.name == "diagnoses" and frame is not None and "code" in frame.columns and not cols:
                cols = ["code"]
            return [self.column(node.ns, c) for c in cols]
        return [as_series(evaluate(node, self), self.n)]


def as_series(v, n: int) -> pd.Series:
    if isinstance(v, pd.Series):
        return v
    if isinstance(v, (pd.api.extensions.ExtensionArray, np.ndarray)):
        return pd.Series(v)
    if n and (v is None or type(v) is str):  # a literal repeated: fill an array rather than build a list
        return pd.Series(np.full(n, v, dtype=object), dtype=object)
    if n and (type(v) in (bool, float) or (type(v) is int and abs(v) < 2 ** 62)):
        return pd.Series(np.full(n, v))
    if n:  # one value inferred as for a list of n copies, then repeated
        return pd.Series([v], dtype=object if v is None or isinstance(v, str) else None).repeat(n) \
            .reset_index(drop=True)
    return pd.Series([v] * n, dtype=object if v is None or isinstance(v, str) else None)


def to_bool(v, n: int) -> pd.arrays.BooleanArray:
    """Any value -> nullable boolean (NA stays NA)."""
    s = as_series(v, n)
    if s.dtype == "boolean":
        return s.array
    if s.dtype == bool:
        return pd.array(s.to_numpy(), dtype="boolean")
    na = s.isna().to_numpy()
    vals = np.zeros(n, dtype=bool)
    ok = ~na
    if ok.any():
        vals[ok] = s[ok].astype(bool).to_numpy()
    return pd.arrays.BooleanArray(vals, na)


_local = threading.local()


@contextmanager
def value_cache():
    """Within one evaluation: each text column's factorization and empty-mask are computed once.

    Rules read the same columns (NPIs, codes, modifiers) over and over, mostly as views of the
    same arrays. Entries are keyed by the array's memory (address, length, stride) and keep the
    array alive, so a key cannot be reused by other data while the cache exists.
    """
    prev = getattr(_local, "cache", None)
    _local.cache = {}
    try:
        yield
    finally:
        _local.cache = prev


def _cached(s: pd.Series, what: str, compute):
    cache = getattr(_local, "cache", None)
    if cache is None or s.dtype != object or len(s) < 4096:
        return compute()
    arr = np.asarray(s)
    if arr.dtype != object or arr.ndim != 1:
        return compute()
    key = (what, arr.__array_interface__["data"][0], arr.shape, arr.strides)
    hit = cache.get(key)
    if hit is None:
        value = compute()
        for a in value if isinstance(value, tuple) else (value,):
            if isinstance(a, np.ndarray):
                a.setflags(write=False)  # shared between rules: never changed in place
        hit = cache[key] = (arr, value)
    return hit[1]


def factorize(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """pd.factorize(s) (codes, -1 = empty; distinct values), cached for text columns within value_cache()."""
    return _cached(s, "factorize", lambda: pd.factorize(s, use_na_sentinel=True))


def per_value(s: pd.Series, fn, min_rows: int = 4096, any_dtype: bool = False):
    """``fn(s)`` for an elementwise ``fn`` over text, computed once per distinct value.

    Claim columns repeat few values (NPIs, codes, modifiers), so a regular expression or a
    check digit runs over thousands of values instead of a million rows. ``fn`` receives one
    representative row per distinct value (and one empty row if any) and returns a Series or
    an ExtensionArray; the result is spread back and equals ``fn(s)``.
    """
    n = len(s)
    if n < min_rows or (s.dtype.kind in "iufbmM" and not any_dtype) or s.dtype == "category":
        return fn(s)
    codes, uniques = factorize(s)
    k = len(uniques)
    if k > n // 2:
        return fn(s)
    first, codes = _cached(s, "representatives", lambda: representatives(codes, k))
    res = fn(s.iloc[first].reset_index(drop=True))
    if isinstance(res, pd.Series):
        return res.iloc[codes].set_axis(s.index)
    return res.take(codes)


def _coded(s: pd.Series) -> bool:
    """A text column whose factorization is cached for the run (see value_cache)."""
    return getattr(_local, "cache", None) is not None and s.dtype == object and len(s) >= 4096


def _na_mask(s: pd.Series) -> np.ndarray:
    """Where s is empty (read-only: copy before changing it)."""
    # From the column's (cached) encoding: most text columns a rule tests for empty cells are
    # also joined or grouped on, and the encoding costs little more than one isna pass.
    return _cached(s, "isna", lambda: factorize(s)[0] < 0 if _coded(s) else s.isna().to_numpy())


def _scalar_side(s, v) -> bool:
    """A column compared with a literal that compares the same way without repeating it n times."""
    if not isinstance(s, pd.Series) or isinstance(v, (pd.Series, np.ndarray, pd.api.extensions.ExtensionArray)):
        return False
    masked = isinstance(s.dtype, (pd.Float64Dtype, pd.Float32Dtype, pd.Int64Dtype, pd.Int32Dtype,
                                  pd.Int16Dtype, pd.Int8Dtype))
    if type(v) in (int, float) and s.dtype.kind in "iuf" and (isinstance(s.dtype, np.dtype) or masked):
        return True
    if type(v) is str and (s.dtype == object or isinstance(s.dtype, pd.StringDtype)):
        return True
    return isinstance(v, pd.Timestamp) and s.dtype.kind == "M" and isinstance(s.dtype, np.dtype)


def _compare(op: str, a, b, n: int, env: Env) -> pd.arrays.BooleanArray:
    if _scalar_side(a, b) or _scalar_side(b, a):
        col, lit = (a, b) if isinstance(a, pd.Series) else (b, a)
        if _coded(col) and type(lit) is str:
            # A text column and a text literal: compare each distinct value once, spread by the codes.
            codes, uniq = factorize(col)
            vals = pd.Series(np.asarray(uniq, dtype=object), dtype=object)
            try:
                per = _CMP[op](vals, lit) if col is a else _CMP[op](lit, vals)
            except TypeError as exc:
                raise RuleError(f"rule {env.rule_id}: cannot compare values ({exc})") from None
            na = _na_mask(col).copy()
            hit = by_code(per.to_numpy(dtype=bool, na_value=False), codes, False)
            return pd.arrays.BooleanArray(hit & ~na, na)
        na = _na_mask(col) | bool(pd.isna(lit))
        try:
            with np.errstate(invalid="ignore"):
                res = _CMP[op](a, b)
        except TypeError as exc:
            raise RuleError(f"rule {env.rule_id}: cannot compare values ({exc})") from None
        vals = res.to_numpy(dtype=bool, na_value=False)
        return pd.arrays.BooleanArray(vals & ~na, na)
    sa, sb = as_series(a, n), as_series(b, n)
    na = _na_mask(sa) | _na_mask(sb)
    if op in ("==", "!=") and _coded(sa) and _coded(sb):
        # Two text columns (e.g. rendering_npi != billing_npi): compare their cached integer codes,
        # with b's distinct values placed in a's code space, instead of a million string comparisons.
        ca, ua = factorize(sa)
        cb, ub = factorize(sb)
        pos = pd.Index(ua, dtype=object).get_indexer(pd.Index(ub, dtype=object)) if len(ub) else np.zeros(0, np.intp)
        same = by_code(pos, cb, -2) == ca  # (an empty b: -2, never a code)
        return pd.arrays.BooleanArray((same if op == "==" else ~same) & ~na, na)
    try:
        with np.errstate(invalid="ignore"):
            res = _CMP[op](sa, sb)
    except TypeError as exc:
        raise RuleError(f"rule {env.rule_id}: cannot compare values ({exc})") from None
    vals = res.to_numpy(dtype=bool, na_value=False) if hasattr(res, "to_numpy") else np.asarray(res, dtype=bool)
    return pd.arrays.BooleanArray(vals & ~na, na)


def _isin(a, values: frozenset, n: int) -> pd.arrays.BooleanArray:
    s = as_series(a, n)
    na = _na_mask(s)
    vals = list(values)
    if s.dtype.kind in "iufb" or s.dtype == "Int64" or s.dtype == "Int8":
        nums = [v for v in vals if isinstance(v, (int, float)) and not isinstance(v, bool)]
        res = s.isin(nums).to_numpy(dtype=bool, na_value=False)
    else:
        strs = [str(v) if not isinstance(v, str) else v for v in vals]
        res = per_value(s, lambda x: x.isin(strs).to_numpy(dtype=bool, na_value=False))
        res = np.asarray(res, dtype=bool)
    return pd.arrays.BooleanArray(res & ~na, na.copy())


def _luhn_npi(s: pd.Series) -> pd.arrays.BooleanArray:
    """NPI check: 10 digits, first 1 or 2, Luhn check digit over the prefix 80840 + first 9 digits."""
    return per_value(s, _luhn_npi_values)


def _luhn_npi_values(s: pd.Series) -> pd.arrays.BooleanArray:
    na = _na_mask(s)
    txt = s.astype(object).where(~na, "").astype(str)
    shape_ok = txt.str.fullmatch(r"[12]\d{9}").to_numpy(dtype=bool, na_value=False)
    out = np.zeros(len(s), dtype=bool)
    if shape_ok.any():
        digits = np.frombuffer("".join(txt[shape_ok]).encode("ascii"), dtype=np.uint8).reshape(-1, 10) - 48
        body = digits[:, :9].astype(np.int64)
        # Luhn from the right of the 9 digits: double positions 9,7,5,3,1 (1-based from left).
        doubled = body[:, ::2] * 2
        doubled = doubled - 9 * (doubled > 9)
        total = 24 + doubled.sum(axis=1) + body[:, 1::2].sum(axis=1)
        check = (10 - total % 10) % 10
        out[shape_ok] = check == digits[:, 9]
    return pd.arrays.BooleanArray(out, na.copy())


def _days(d1: pd.Series, d2: pd.Series) -> pd.Series:
    if d1.dtype == "datetime64[ns]" and d2.dtype == "datetime64[ns]":  # the canonical dates: numpy only
        diff = d2.to_numpy() - d1.to_numpy()
        na = np.isnat(diff)
        days = np.floor_divide(diff.view(np.int64), 86_400 * 10 ** 9)  # whole days, as Timedelta.days
        return pd.Series(pd.arrays.FloatingArray(np.where(na, 0, days).astype(np.float64), na))
    return (pd.to_datetime(d2) - pd.to_datetime(d1)).dt.days.astype("Float64")


def _ymd(d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month (1-12) and day of datetime64[ns] values (NaT gives garbage: mask it).

    Dates span a few thousand days: each day in the span is converted once and looked up,
    because numpy's datetime64 unit conversions (and 64-bit integer division) are slow per row.
    """
    days = np.floor_divide(d.view(np.int64), 86_400 * 10 ** 9)
    valid = ~np.isnat(d)
    if not valid.any():
        return _civil(days)
    lo, hi = int(days[valid].min()), int(days[valid].max())
    if hi - lo > len(d):
        return _civil(days)
    y, m, day = _civil(np.arange(lo, hi + 1, dtype=np.int64))
    at = np.clip(days - lo, 0, hi - lo)
    return y[at], m[at], day[at]


def _civil(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Days since 1970-01-01 -> (year, month, day): the proleptic Gregorian civil-from-days conversion."""
    z = days + 719_468  # days since 0000-03-01
    era = np.floor_divide(z, 146_097)
    doe = z - era * 146_097                                              # day of the 400-year era
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365   # year of the era
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)                      # day of the March-based year
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    return yoe + era * 400 + (month <= 2), month, day


def _age_on(birth: pd.Series, when: pd.Series) -> pd.Series:
    """Whole years of age on a date (a birthday counts on the day itself)."""
    if birth.dtype == "datetime64[ns]" and when.dtype == "datetime64[ns]":  # canonical dates: numpy only
        b, w = birth.to_numpy(), when.to_numpy()
        na = np.isnat(b) | np.isnat(w)
        (by, bm, bd), (wy, wm, wd) = _ymd(np.where(na, w, b)), _ymd(np.where(na, b, w))
        age = wy - by - ((wm < bm) | ((wm == bm) & (wd < bd)))
        return pd.Series(pd.arrays.FloatingArray(np.where(na, 0, age).astype(np.float64), na))
    b, w = pd.to_datetime(birth), pd.to_datetime(when)
    years = w.dt.year - b.dt.year
    before = (w.dt.month < b.dt.month) | ((w.dt.month == b.dt.month) & (w.dt.day < b.dt.day))
    return (years - before.astype("Int64")).astype("Float64")


def _func(node: Func, env: Env):
    n = env.n
    name, args = node.name, node.args
    if name == "missing":
        s = as_series(evaluate(args[0], env), n)
        miss = _na_mask(s).copy()
        # No `__raw` column means no cell of that column failed to parse (it is sparse).
        if isinstance(args[0], Col) and env.has(args[0].ns, args[0].name + "__raw"):
            miss &= _na_mask(env.column(args[0].ns, args[0].name + "__raw"))
        return pd.arrays.BooleanArray(miss, np.zeros(n, dtype=bool))
    if name == "present":
        s = as_series(evaluate(args[0], env), n)
        return pd.arrays.BooleanArray(~_na_mask(s), np.zeros(n, dtype=bool))
    if name == "invalid":
        if not env.has(args[0].ns, args[0].name + "__raw"):
            return pd.arrays.BooleanArray(np.zeros(n, dtype=bool), np.zeros(n, dtype=bool))
        raw = env.column(args[0].ns, args[0].name + "__raw")
        return pd.arrays.BooleanArray(~_na_mask(raw), np.zeros(n, dtype=bool))
    if name == "npi_valid":
        return _luhn_npi(as_series(evaluate(args[0], env), n))
    if name == "matches":
        s = as_series(evaluate(args[0], env), n)
        pattern = args[1].value

        def _matches(s: pd.Series) -> pd.arrays.BooleanArray:
            na = _na_mask(s)
            res = s.astype(object).where(~na, "").astype(str).str.fullmatch(pattern)
            return pd.arrays.BooleanArray(res.to_numpy(dtype=bool, na_value=False) & ~na, na.copy())

        return per_value(s, _matches)
    if name == "startswith":
        s = as_series(evaluate(args[0], env), n)
        prefixes = []
        for a in args[1:]:
            prefixes.extend(sorted(a.value) if isinstance(a.value, frozenset) else [a.value])
        prefixes = tuple(str(p) for p in prefixes)

        def _startswith(s: pd.Series) -> pd.arrays.BooleanArray:
            na = _na_mask(s)
            res = s.astype(object).where(~na, "").astype(str).str.startswith(prefixes)
            return pd.arrays.BooleanArray(res.to_numpy(dtype=bool, na_value=False) & ~na, na.copy())

        return per_value(s, _startswith)
    if name == "length":
        s = as_series(evaluate(args[0], env), n)
        return per_value(s, lambda s: s.astype(object).where(s.notna(), None).str.len().astype("Float64"))
    if name == "upper":
        s = as_series(evaluate(args[0], env), n)
        return per_value(s, lambda s: s.astype(object).where(s.notna(), None).str.upper())
    if name == "substr":
        s = as_series(evaluate(args[0], env), n)
        start, length = args[1].value, args[2].value
        return per_value(s, lambda s: s.astype(object).where(s.notna(), None).str.slice(start, start + length))
    if name == "days_between":
        return _days(as_series(evaluate(args[0], env), n), as_series(evaluate(args[1], env), n))
    if name == "age_on":
        return _age_on(as_series(evaluate(args[0], env), n), as_series(evaluate(args[1], env), n))
    if name in ("any_in", "count_in"):
        cols = env.multi(args[0])
        values = args[1].value
        hits = [_isin(c, values, n).to_numpy(dtype=bool, na_value=False) for c in cols]
        total = np.sum(hits, axis=0) if hits else np.zeros(n, dtype=np.int64)
        if name == "count_in":
            return pd.Series(total.astype("float64"))
        return pd.arrays.BooleanArray(total > 0, np.zeros(n, dtype=bool))
    if name == "coalesce":
        out = as_series(evaluate(args[0], env), n)
        for a in args[1:]:
            nxt = as_series(evaluate(a, env), n)
            empty = _na_mask(out)
            if empty.all():  # nothing to keep (e.g. an optional table that is absent): the next value
                out = nxt
            elif empty.any():
                out = out.where(~empty, nxt)
        return out
    if name == "between":
        x = evaluate(args[0], env)
        return to_bool(_compare(">=", x, evaluate(args[1], env), n, env), n) & \
            to_bool(_compare("<=", x, evaluate(args[2], env), n, env), n)
    if name == "in_effect":
        d = as_series(evaluate(args[0], env), n)
        start = as_series(evaluate(args[1], env), n)
        end = as_series(evaluate(args[2], env), n)
        ok_start = _compare("<=", start, d, n, env)
        ok_end = _compare("<=", d, end, n, env)
        ok_end = pd.arrays.BooleanArray(ok_end.to_numpy(dtype=bool, na_value=False) | _na_mask(end),
                                        _na_mask(d).copy())
        return ok_start & ok_end
    if name == "today":
        return pd.Timestamp(env.as_of)
    if name == "iif":
        cond = to_bool(evaluate(args[0], env), n).to_numpy(dtype=bool, na_value=False)
        then = as_series(evaluate(args[1], env), n).astype(object)
        other = as_series(evaluate(args[2], env), n).astype(object)
        return other.where(~cond, then)
    raise RuleError(f"rule {env.rule_id}: function {name}() is not available in this context")


def evaluate(node: Node, env: Env):
    """Evaluate to a Series/array of length env.n, or a scalar for literals."""
    if isinstance(node, Lit):
        return node.value
    if isinstance(node, Col):
        if node.name in MULTI_COLUMNS:
            raise RuleError(f"rule {env.rule_id}: '{node.name}' holds several values; use any_in()")
        return env.column(node.ns, node.name)
    if isinstance(node, Func):
        try:
            return env.memo[node]
        except KeyError:
            env.memo[node] = out = _func(node, env)
            return out
        except TypeError:  # (a node that cannot be a key)
            return _func(node, env)
    op, args, n = node.op, node.args, env.n
    if op == "and":
        out = to_bool(evaluate(args[0], env), n)
        for a in args[1:]:
            out = out & to_bool(evaluate(a, env), n)
        return out
    if op == "or":
        out = to_bool(evaluate(args[0], env), n)
        for a in args[1:]:
            out = out | to_bool(evaluate(a, env), n)
        return out
    if op == "not":
        return ~to_bool(evaluate(args[0], env), n)
    if op in _CMP:
        return _compare(op, evaluate(args[0], env), evaluate(args[1], env), n, env)
    if op == "in":
        return _isin(evaluate(args[0], env), args[1].value, n)
    if op == "not in":
        return ~_isin(evaluate(args[0], env), args[1].value, n)
    if op == "neg":
        return -as_series(evaluate(args[0], env), n).astype("Float64")
    if op in _ARITH:
        a, b = evaluate(args[0], env), evaluate(args[1], env)
        try:
            a = a.astype("Float64") if isinstance(a, pd.Series) and a.dtype.kind in "iuf" else a
            b = b.astype("Float64") if isinstance(b, pd.Series) and b.dtype.kind in "iuf" else b
            return _ARITH[op](a, b)
        except TypeError as exc:
            raise RuleError(f"rule {env.rule_id}: cannot compute '{op}' ({exc})") from None
    raise RuleError(f"rule {env.rule_id}: operator {op} is not supported")


def mask(node: Node | None, env: Env) -> np.ndarray:
    """A condition as a plain numpy mask: true only where the condition is known to be true."""
    if node is None:
        return np.ones(env.n, dtype=bool)
    return to_bool(evaluate(node, env), env.n).to_numpy(dtype=bool, na_value=False)


def format_values(s: pd.Series) -> pd.Series:
    """Values as message text: dates as YYYY-MM-DD, whole numbers without '.0', empty as ''."""
    return per_value(s, _format_values, any_dtype=True)


def _format_values(s: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s):
        return s.dt.strftime("%Y-%m-%d").astype(object).where(s.notna(), "")
    if s.dtype.kind == "f" or str(s.dtype) in ("Float64", "Int64", "Int8", "Int16", "Int32"):
        f = s.astype("Float64").astype(object)
        return f.map(lambda v: "" if pd.isna(v) else (str(int(v)) if float(v).is_integer() else f"{v:.2f}"))
    if s.dtype == bool or str(s.dtype) == "boolean":
        return s.astype(object).map({True: "yes", False: "no"}).where(s.notna(), "")
    obj = s.astype(object)
    # mixed values (e.g. from iif): whole floats as integers, dates as YYYY-MM-DD
    kind = pd.api.types.infer_dtype(obj, skipna=True)
    if kind in ("string", "empty"):  # text already (no conversion to pandas' string dtype and back)
        return obj.where(s.notna(), "")
    if kind in ("integer", "boolean"):
        return obj.where(s.notna(), "").astype(str)
    fix = obj.map(lambda v: isinstance(v, (float, np.floating, pd.Timestamp)) and not pd.isna(v))
    if fix.any():
        obj = obj.copy()
        obj[fix] = obj[fix].map(lambda v: v.strftime("%Y-%m-%d") if isinstance(v, pd.Timestamp)
                                else str(int(v)) if float(v).is_integer() else f"{v:.2f}")
    return obj.where(s.notna(), "").astype(str)


def render(parts: tuple, env: Env) -> pd.Series:
    """Fill a parsed message template column-wise (no str.format on rule text)."""
    out = pd.Series([""] * env.n, dtype=object)
    for part in parts:
        if isinstance(part, str):
            out = out + part
        else:
            out = out + format_values(as_series(evaluate(part, env), env.n)).to_numpy()
    return out
