"""The rule condition language: a whitelisted subset of Python expression syntax, parsed to a small IR.

Rule text is parsed with :func:`ast.parse` (which builds a syntax tree and runs nothing) and every
node is checked against a whitelist; the result is a tree of :class:`Col`, :class:`Lit`, :class:`Op`
and :class:`Func`. Both engines (vectorized batch and per-claim) evaluate this IR; nothing is ever
passed to eval/exec/DataFrame.query/pandas.eval.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any

from auditor.errors import RuleError


@dataclass(frozen=True)
class Col:
    """A column: ``units`` (ns None = the rule's own row) or ``ref.mue_value`` / ``a.procedure_code``."""

    ns: str | None
    name: str


@dataclass(frozen=True)
class Lit:
    value: Any


@dataclass(frozen=True)
class Op:
    op: str
    args: tuple


@dataclass(frozen=True)
class Func:
    name: str
    args: tuple


Node = Col | Lit | Op | Func

# name -> (min args, max args or None); the whole vocabulary of functions a rule may call.
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "missing": (1, 1),        # value is empty (and was not an unparseable value)
    "present": (1, 1),        # value is not empty
    "invalid": (1, 1),        # a value was given but could not be parsed (data quality)
    "npi_valid": (1, 1),      # 10 digits, first 1 or 2, Luhn check digit over 80840 + NPI
    "matches": (2, 2),        # full regular-expression match against a literal pattern
    "startswith": (2, None),  # starts with any of the literal prefixes
    "length": (1, 1),
    "days_between": (2, 2),   # days from the first date to the second
    "age_on": (2, 2),         # whole years of age of a birth date on a date
    "any_in": (2, 2),         # any of a multi-valued field (modifiers) is in a list
    "count_in": (2, 2),       # how many of a multi-valued field are in a list
    "coalesce": (2, None),
    "between": (3, 3),        # lo <= x <= hi
    "in_effect": (3, 3),      # in_effect(date, from, to): from <= date and (to empty or date <= to)
    "today": (0, 0),          # the run's as-of date
    "upper": (1, 1),
    "substr": (3, 3),         # substr(x, start, length), 0-based start
    "iif": (3, 3),            # iif(condition, then, else): `then` where the condition is true, else `else`
}
AGGREGATES: dict[str, tuple[int, int]] = {
    "sum": (1, 1), "count": (0, 1), "min": (1, 1), "max": (1, 1), "nunique": (1, 1),
    "any": (1, 1), "all": (1, 1),
}
# Multi-valued pseudo-columns: `modifiers` is modifier_1..modifier_4 of a line.
MULTI_COLUMNS = {"modifiers": [f"modifier_{i}" for i in range(1, 5)],
                 "diagnoses": [f"dx_{i}" for i in range(1, 13)]}

_CMP = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
        ast.In: "in", ast.NotIn: "not in"}
_BIN = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
_LIST_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")


class _Parser:
    def __init__(self, text: str, path: str | None, line: int | None, namespaces: set[str],
                 lists: dict[str, frozenset], params: dict[str, Any], aggregates: bool):
        self.text, self.path, self.line = text, path, line
        self.namespaces, self.lists, self.params = namespaces, lists, params
        self.aggregates = aggregates

    def fail(self, node: ast.AST | None, what: str) -> RuleError:
        line = self.line
        col = ""
        if node is not None and hasattr(node, "col_offset"):
            col = f" (column {node.col_offset + 1} of the expression)"
        return RuleError(f"{what}{col} in expression: {self.text.strip()!r}", self.path, line)

    def parse(self) -> Node:
        try:
            tree = ast.parse(self.text.strip(), mode="eval")
        except SyntaxError as exc:
            raise RuleError(f"syntax error in expression {self.text.strip()!r}: {exc.msg}",
                            self.path, self.line) from None
        return self.visit(tree.body)

    def visit(self, n: ast.AST) -> Node:
        if isinstance(n, ast.BoolOp):
            op = "and" if isinstance(n.op, ast.And) else "or"
            return Op(op, tuple(self.visit(v) for v in n.values))
        if isinstance(n, ast.UnaryOp):
            if isinstance(n.op, ast.Not):
                return Op("not", (self.visit(n.operand),))
            if isinstance(n.op, ast.USub):
                inner = self.visit(n.operand)
                if isinstance(inner, Lit) and isinstance(inner.value, (int, float)):
                    return Lit(-inner.value)
                return Op("neg", (inner,))
            raise self.fail(n, f"operator {type(n.op).__name__} is not allowed")
        if isinstance(n, ast.Compare):
            parts = []
            left = self.visit(n.left)
            for op, comp in zip(n.ops, n.comparators):
                if type(op) not in _CMP:
                    raise self.fail(n, f"comparison {type(op).__name__} is not allowed")
                right = self.visit(comp)
                sym = _CMP[type(op)]
                if sym in ("in", "not in") and not (isinstance(right, Lit) and isinstance(right.value, frozenset)):
                    raise self.fail(comp, "'in' needs a literal list or a named list on its right")
                parts.append(Op(sym, (left, right)))
                left = right
            return parts[0] if len(parts) == 1 else Op("and", tuple(parts))
        if isinstance(n, ast.BinOp):
            if type(n.op) not in _BIN:
                raise self.fail(n, f"operator {type(n.op).__name__} is not allowed")
            return Op(_BIN[type(n.op)], (self.visit(n.left), self.visit(n.right)))
        if isinstance(n, ast.Constant):
            if n.value is None or isinstance(n.value, (bool, int, float, str)):
                return Lit(n.value)
            raise self.fail(n, f"constant of type {type(n.value).__name__} is not allowed")
        if isinstance(n, (ast.List, ast.Tuple, ast.Set)):
            values = []
            for e in n.elts:
                v = self.visit(e)
                if not isinstance(v, Lit) or isinstance(v.value, frozenset):
                    raise self.fail(e, "lists may only hold literal values")
                values.append(v.value)
            return Lit(frozenset(values))
        if isinstance(n, ast.Name):
            return self.name(n)
        if isinstance(n, ast.Attribute):
            if not isinstance(n.value, ast.Name):
                raise self.fail(n, "only one level of attribute (ns.column) is allowed")
            ns = n.value.id
            if ns == "param":
                if n.attr not in self.params:
                    raise self.fail(n, f"unknown parameter 'param.{n.attr}'")
                return Lit(self.params[n.attr])
            if ns not in self.namespaces:
                raise self.fail(n, f"unknown namespace '{ns}' (allowed here: {', '.join(sorted(self.namespaces)) or 'none'})")
            if not _IDENT.match(n.attr):
                raise self.fail(n, f"bad column name '{n.attr}'")
            return Col(ns, n.attr)
        if isinstance(n, ast.Call):
            if not isinstance(n.func, ast.Name):
                raise self.fail(n, "only calls of named functions are allowed (no methods)")
            if n.keywords:
                raise self.fail(n, "keyword arguments are not allowed")
            name = n.func.id
            if name in AGGREGATES and self.aggregates:
                lo, hi = AGGREGATES[name]
                table = AGGREGATES
            elif name in FUNCTIONS:
                lo, hi = FUNCTIONS[name]
                table = FUNCTIONS
            else:
                raise self.fail(n, f"function '{name}' is not allowed (allowed: {', '.join(sorted(FUNCTIONS))})")
            if len(n.args) < lo or (hi is not None and len(n.args) > hi):
                raise self.fail(n, f"function '{name}' takes {lo}{'' if hi == lo else '+' if hi is None else f'-{hi}'} argument(s)")
            args = tuple(self.visit(a) for a in n.args)
            self.check_call(n, name, args, table is AGGREGATES)
            return Func(("agg:" if table is AGGREGATES else "") + name, args)
        raise self.fail(n, f"construct '{type(n).__name__}' is not allowed")

    def name(self, n: ast.Name) -> Node:
        ident = n.id
        if ident in ("True", "False", "None"):
            return Lit({"True": True, "False": False, "None": None}[ident])
        if _LIST_NAME.match(ident):
            if ident not in self.lists:
                raise self.fail(n, f"unknown named list '{ident}'")
            return Lit(self.lists[ident])
        if not _IDENT.match(ident):
            raise self.fail(n, f"bad name '{ident}'")
        if ident in self.namespaces:
            raise self.fail(n, f"'{ident}' is a namespace; name a column as {ident}.column")
        return Col(None, ident)

    def check_call(self, n: ast.Call, name: str, args: tuple, is_agg: bool) -> None:
        if name == "matches":
            if not (isinstance(args[1], Lit) and isinstance(args[1].value, str)):
                raise self.fail(n, "matches() needs a literal pattern")
            try:
                re.compile(args[1].value)
            except re.error as exc:
                raise self.fail(n, f"bad regular expression: {exc}") from None
        if name == "startswith" and not all(isinstance(a, Lit) for a in args[1:]):
            raise self.fail(n, "startswith() needs literal prefixes")
        if name in ("any_in", "count_in"):
            if not (isinstance(args[1], Lit) and isinstance(args[1].value, frozenset)):
                raise self.fail(n, f"{name}() needs a literal or named list as second argument")
        if name == "invalid" and not isinstance(args[0], Col):
            raise self.fail(n, "invalid() takes a column")
        if name == "substr" and not all(isinstance(a, Lit) and isinstance(a.value, int) for a in args[1:]):
            raise self.fail(n, "substr() needs literal integer start and length")


def parse(text: Any, *, path: str | None = None, line: int | None = None,
          namespaces: set[str] | frozenset = frozenset(), lists: dict[str, frozenset] | None = None,
          params: dict[str, Any] | None = None, aggregates: bool = False) -> Node:
    """Parse one condition; raise :class:`RuleError` naming file, line and the offending construct."""
    if isinstance(text, bool):
        return Lit(text)
    if not isinstance(text, str) or not text.strip():
        raise RuleError("expected an expression (a non-empty string)", path, line)
    # YAML block scalars keep line breaks; an expression is one logical line.
    text = " ".join(text.splitlines())
    return _Parser(text, path, line, set(namespaces), lists or {}, params or {}, aggregates).parse()


def columns_used(node: Node) -> set[tuple[str | None, str]]:
    """Every (namespace, column) the expression reads."""
    out: set[tuple[str | None, str]] = set()

    def walk(x: Node) -> None:
        if isinstance(x, Col):
            out.add((x.ns, x.name))
        elif isinstance(x, (Op, Func)):
            for a in x.args:
                walk(a)

    walk(node)
    return out


def to_json(node: Node) -> Any:
    """A JSON-able form of the IR (for the per-claim compiler and for hashing the rule pack)."""
    if isinstance(node, Col):
        return {"col": node.name, "ns": node.ns}
    if isinstance(node, Lit):
        v = node.value
        return {"lit": sorted(v, key=str) if isinstance(v, frozenset) else v, "set": isinstance(v, frozenset)}
    if isinstance(node, Op):
        return {"op": node.op, "args": [to_json(a) for a in node.args]}
    return {"fn": node.name, "args": [to_json(a) for a in node.args]}


_TEMPLATE_FIELD = re.compile(r"\{([^{}]+)\}")


def parse_template(text: str, **kwargs: Any) -> tuple:
    """A message template: literal text with ``{expression}`` fields (same whitelist as conditions)."""
    parts: list = []
    pos = 0
    for m in _TEMPLATE_FIELD.finditer(text):
        if m.start() > pos:
            parts.append(text[pos:m.start()])
        parts.append(parse(m.group(1), **kwargs))
        pos = m.end()
    if pos < len(text):
        parts.append(text[pos:])
    return tuple(parts)
