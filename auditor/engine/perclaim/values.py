"""The rule IR evaluated over plain dict rows, with the batch engine's exact semantics.

Each expression is compiled once into a tree of closures (no interpretation per call). An
environment is a dict ``{namespace: row}`` (``None`` = the rule's own row, ``"ref"``, ``"a"`` ...)
plus ``TODAY`` -> the run's as-of date. Missing values are ``None``; dates are ``datetime.date``.

Logic is three-valued as in :mod:`auditor.engine.vector`: ``None`` is unknown, a comparison with an
empty value is unknown, and a rule fires only where its condition is ``True``.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from typing import Any, Callable

import numpy as np
import pandas as pd
from pandas._libs.hashing import hash_object_array  # the C string hash behind auditor.findings.fingerprints

from auditor.errors import RuleError
from auditor.rules.expr import MULTI_COLUMNS, Col, Func, Lit, Node, Op

TODAY = "$today"  # env key of the as-of date (never a namespace name)
Fn = Callable[[dict], Any]


# -- three-valued helpers ---------------------------------------------------------------------------

def truth(v) -> bool | None:
    """Any value -> True/False/None (as vector.to_bool: None stays unknown)."""
    if v is None or v is True or v is False:
        return v
    return bool(v)


def and3(a, b):
    if a is False or b is False:
        return False
    if a is None or b is None:
        return None
    return True


def or3(a, b):
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return False


def not3(a):
    return None if a is None else not a


def _as_date(v, rule_id: str):
    """A value used as a date (pandas parses text given where a date is expected)."""
    if v is None or isinstance(v, date):
        return v.date() if isinstance(v, datetime) else v
    if isinstance(v, str):
        try:
            return date.fromisoformat(v.strip()[:10])
        except ValueError:  # (the value itself stays out of the message: it is claim data)
            raise RuleError(f"rule {rule_id}: a text value used as a date is not one") from None
    raise RuleError(f"rule {rule_id}: a {type(v).__name__} value used as a date")


def _is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


_CMP = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


def compare(op: str, a, b, rule_id: str = ""):
    """``a op b`` with None = unknown; text compared with a date is read as a date (as pandas does)."""
    if a is None or b is None:
        return None
    if isinstance(a, date) != isinstance(b, date):
        other = b if isinstance(a, date) else a
        if isinstance(other, str):
            try:
                parsed = date.fromisoformat(other.strip()[:10])
            except ValueError:
                parsed = None
            if parsed is not None:
                a, b = (a, parsed) if isinstance(a, date) else (parsed, b)
            elif op in ("==", "!="):
                return op == "!="
    try:
        return bool(_CMP[op](a, b))
    except TypeError as exc:
        raise RuleError(f"rule {rule_id}: cannot compare values ({exc})") from None


class LiteralSet:
    """A literal list prepared for ``in``: numbers match numeric literals, anything else their text."""

    __slots__ = ("numbers", "texts")

    def __init__(self, values: frozenset):
        self.numbers = frozenset(x for x in values if _is_num(x))
        self.texts = frozenset(x if isinstance(x, str) else str(x) for x in values)


def isin(v, values: LiteralSet):
    """``v in values`` as vector._isin: numbers match numeric literals, anything else their text."""
    if v is None:
        return None
    if isinstance(v, (int, float)):  # bools too: the batch engine reads a bool column as numeric
        return v in values.numbers
    return (v.isoformat() if isinstance(v, date) else v) in values.texts


def npi_valid(v) -> bool | None:
    """10 digits, first 1 or 2, Luhn check digit over 80840 + the first nine digits."""
    if v is None:
        return None
    s = str(v)
    if not _NPI.fullmatch(s):
        return False
    d = [ord(c) - 48 for c in s]
    total = 24
    for i in range(9):
        if i % 2 == 0:
            x = d[i] * 2
            total += x - 9 if x > 9 else x
        else:
            total += d[i]
    return (10 - total % 10) % 10 == d[9]


_NPI = re.compile(r"[12]\d{9}")


def age_on(birth: date, when: date) -> float:
    years = when.year - birth.year
    return float(years - (1 if (when.month, when.day) < (birth.month, birth.day) else 0))


# -- compiling the IR -------------------------------------------------------------------------------

class Compiler:
    """Turns IR nodes of one rule into closures over an environment dict."""

    def __init__(self, rule_id: str):
        self.rule_id = rule_id

    def column(self, ns: str | None, name: str) -> Fn:
        rid = self.rule_id
        where = f"{ns}.{name}" if ns else name
        if name in MULTI_COLUMNS:
            def multi(env):
                raise RuleError(f"rule {rid}: '{name}' holds several values; use any_in()")
            return multi
        raw = name.endswith("__raw")

        def col(env):
            row = env.get(ns)
            if row is None:
                raise RuleError(f"rule {rid}: namespace '{ns}' is not available here")
            try:
                return row[name]
            except KeyError:
                if raw:  # sparse: only present where a value failed to parse
                    return None
                raise RuleError(f"rule {rid}: unknown column '{where}'") from None
        return col

    def multi(self, node: Node) -> Callable[[dict], list]:
        """The values of a multi-valued field (modifier_1..4) or a single expression's value."""
        if isinstance(node, Col) and node.name in MULTI_COLUMNS:
            ns, cols = node.ns, MULTI_COLUMNS[node.name]
            diag = node.name == "diagnoses"

            def values(env):
                row = env.get(ns)
                if row is None:
                    return []
                have = [row[c] for c in cols if c in row]
                if diag and not have and "code" in row:
                    return [row["code"]]
                return have
            return values
        f = self.compile(node)
        return lambda env: [f(env)]

    def compile(self, node: Node) -> Fn:
        if isinstance(node, Lit):
            v = node.value
            return lambda env: v
        if isinstance(node, Col):
            return self.column(node.ns, node.name)
        if isinstance(node, Func):
            return self.func(node)
        return self.op(node)

    def op(self, node: Op) -> Fn:
        op, args, rid = node.op, node.args, self.rule_id
        fs = [self.compile(a) for a in args] if op not in ("in", "not in") else None
        if op == "and":
            def f_and(env):
                out = True
                for f in fs:
                    out = and3(out, truth(f(env)))
                    if out is False:
                        return False
                return out
            return f_and
        if op == "or":
            def f_or(env):
                out = False
                for f in fs:
                    out = or3(out, truth(f(env)))
                    if out is True:
                        return True
                return out
            return f_or
        if op == "not":
            f0 = fs[0]
            return lambda env: not3(truth(f0(env)))
        if op in _CMP:
            fa, fb = fs
            return lambda env: compare(op, fa(env), fb(env), rid)
        if op in ("in", "not in"):
            fa = self.compile(args[0])
            values = LiteralSet(args[1].value)
            if op == "in":
                return lambda env: isin(fa(env), values)
            return lambda env: not3(isin(fa(env), values))
        if op == "neg":
            f0 = fs[0]

            def neg(env):
                v = f0(env)
                return None if v is None else -float(v)
            return neg
        if op in ("+", "-", "*", "/"):
            fa, fb = fs

            def arith(env):
                a, b = fa(env), fb(env)
                if a is None or b is None:
                    return None
                if _is_num(a) and _is_num(b):
                    a, b = float(a), float(b)  # the batch engine computes in Float64
                    if op == "/" and b == 0:
                        return None if a == 0 else math.copysign(math.inf, a)
                try:
                    return a + b if op == "+" else a - b if op == "-" else a * b if op == "*" else a / b
                except TypeError as exc:
                    raise RuleError(f"rule {rid}: cannot compute '{op}' ({exc})") from None
            return arith
        raise RuleError(f"rule {rid}: operator {op} is not supported")

    def func(self, node: Func) -> Fn:
        name, args, rid = node.name, node.args, self.rule_id
        if name.startswith("agg:"):
            raise RuleError(f"rule {rid}: aggregate {name[4:]}() is only allowed in measures")
        if name in ("missing", "present"):
            f0 = self.compile(args[0])
            if name == "present":
                return lambda env: f0(env) is not None
            if isinstance(args[0], Col):
                raw = self.column(args[0].ns, args[0].name + "__raw")
                return lambda env: f0(env) is None and raw(env) is None
            return lambda env: f0(env) is None
        if name == "invalid":
            raw = self.column(args[0].ns, args[0].name + "__raw")
            return lambda env: raw(env) is not None
        if name == "npi_valid":
            f0 = self.compile(args[0])
            return lambda env: npi_valid(f0(env))
        if name == "matches":
            f0, pat = self.compile(args[0]), re.compile(args[1].value)

            def matches(env):
                v = f0(env)
                return None if v is None else pat.fullmatch(str(v)) is not None
            return matches
        if name == "startswith":
            f0 = self.compile(args[0])
            prefixes: list = []
            for a in args[1:]:
                prefixes.extend(sorted(a.value) if isinstance(a.value, frozenset) else [a.value])
            pre = tuple(str(p) for p in prefixes)

            def startswith(env):
                v = f0(env)
                return None if v is None else str(v).startswith(pre)
            return startswith
        if name in ("length", "upper", "substr"):
            f0 = self.compile(args[0])
            if name == "length":
                return lambda env: (lambda v: float(len(v)) if isinstance(v, str) else None)(f0(env))
            if name == "upper":
                return lambda env: (lambda v: v.upper() if isinstance(v, str) else None)(f0(env))
            start, length = args[1].value, args[2].value
            return lambda env: (lambda v: v[start:start + length] if isinstance(v, str) else None)(f0(env))
        if name in ("days_between", "age_on"):
            f0, f1 = self.compile(args[0]), self.compile(args[1])

            def dates(env):
                a, b = _as_date(f0(env), rid), _as_date(f1(env), rid)
                if a is None or b is None:
                    return None
                return float((b - a).days) if name == "days_between" else age_on(a, b)
            return dates
        if name in ("any_in", "count_in"):
            fm, values = self.multi(args[0]), LiteralSet(args[1].value)

            def count(env):
                return sum(1 for v in fm(env) if isin(v, values) is True)
            if name == "count_in":
                return lambda env: float(count(env))
            return lambda env: count(env) > 0
        if name == "coalesce":
            fs = [self.compile(a) for a in args]

            def coalesce(env):
                for f in fs:
                    v = f(env)
                    if v is not None:
                        return v
                return None
            return coalesce
        if name == "between":
            fx, flo, fhi = (self.compile(a) for a in args)

            def between(env):
                x = fx(env)
                return and3(compare(">=", x, flo(env), rid), compare("<=", x, fhi(env), rid))
            return between
        if name == "in_effect":
            fd, fs_, fe = (self.compile(a) for a in args)

            def in_effect(env):
                d, start, end = fd(env), fs_(env), fe(env)
                ok_start = compare("<=", start, d, rid)
                if d is None:
                    ok_end = None
                else:
                    ok_end = end is None or compare("<=", d, end, rid) is True
                return and3(ok_start, ok_end)
            return in_effect
        if name == "today":
            return lambda env: env[TODAY]
        if name == "iif":
            fc, ft, fe = (self.compile(a) for a in args)
            return lambda env: ft(env) if truth(fc(env)) is True else fe(env)
        raise RuleError(f"rule {rid}: function {name}() is not available in this context")

    def condition(self, node: Node | None) -> Callable[[dict], bool]:
        """A condition as 'known to be true' (no node = always)."""
        if node is None:
            return lambda env: True
        f = self.compile(node)
        return lambda env: truth(f(env)) is True

    def template(self, parts: tuple) -> Callable[[dict], str]:
        """A parsed message template -> a function filling it from an environment."""
        compiled = [p if isinstance(p, str) else self.compile(p) for p in parts]

        def render(env):
            return "".join(p if isinstance(p, str) else format_value(p(env)) for p in compiled)
        return render


# -- output text ------------------------------------------------------------------------------------

def format_value(v) -> str:
    """One value as message text: dates YYYY-MM-DD, whole numbers without '.0', yes/no, empty ''."""
    if v is None or v is _NA or v is _NAT:
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (float, np.floating)):
        if v != v:
            return ""
        return str(int(v)) if float(v).is_integer() else f"{v:.2f}"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (datetime, date)):
        return v.strftime("%Y-%m-%d")
    return str(v)


def subject_text(v) -> str:
    """A finding's subject as the batch engine renders it (``astype(str)`` of the column value)."""
    if v is None:
        return ""
    if isinstance(v, datetime):
        return str(v)
    if isinstance(v, date):
        return f"{v.isoformat()} 00:00:00"
    return str(v)


_NA, _NAT = pd.NA, pd.NaT  # (pandas values never reach the engines; a message value might be one)


# -- fingerprints -----------------------------------------------------------------------------------

_M64 = (1 << 64) - 1
_HASH_KEY = "0123456789123456"  # pandas' default hash key: values match auditor.findings.fingerprints


def _mix(v: int) -> int:
    v ^= v >> 30
    v = (v * 0xBF58476D1CE4E5B9) & _M64
    v ^= v >> 27
    v = (v * 0x94D049BB133111EB) & _M64
    return v ^ (v >> 31)


def fingerprint(rule_id, claim_id, line_number, related_line, subject: str) -> str:
    """The same 16 hex digits as :func:`auditor.findings.fingerprints`, for one finding.

    pandas hashes each text column with SipHash (``hash_object_array``), mixes it, hashes missing
    values as 2**64-1 and combines the columns like CPython's tuple hash; done here for one row.
    """
    parts = (rule_id, claim_id, None if line_number is None else str(line_number),
             None if related_line is None else str(related_line), subject or "")
    parts = tuple(None if p is None else str(p) for p in parts)
    present = [p for p in parts if p is not None]
    hashed = iter(hash_object_array(np.array(present, dtype=object), _HASH_KEY, "utf8").tolist()) \
        if present else iter(())
    out, mult, n = 0x345678, 1000003, len(parts)
    for i, p in enumerate(parts):
        h = _M64 if p is None else _mix(next(hashed))
        out = ((out ^ h) * mult) & _M64
        mult = (mult + 82520 + 2 * (n - i)) & _M64
    return f"{(out + 97531) & _M64:016x}"
