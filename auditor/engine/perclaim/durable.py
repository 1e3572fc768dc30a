"""The per-claim engine on durable_rules: rule conditions compiled to durable_rules JSON rulesets.

What durable_rules decides is each rule's failing condition (``when``). Everything around it is
prepared in Python by :mod:`auditor.engine.perclaim.kinds` from the indexes built once: the
candidates (lines, pairs, groups ...) with their reference rows joined in, so facts carry the
fields a condition reads. The IR compiles as follows:

* logic is three-valued: each boolean node becomes two durable conditions, "known true" and
  "known false" (``not x`` is true where x is known false); a comparison is known only where both
  fields exist (``$ex``), so an empty value never fires a rule;
* comparisons, ``in`` lists and ``present()`` are durable operators; functions (``npi_valid``,
  ``matches``, ``days_between`` ...), arithmetic and list look-ups too large for an ``$or`` are
  precomputed in Python into fact fields (``p<rule>_<n>``);
* values are typed so durable_rules cannot coerce them: text is ``"s:<text>"`` (it compares text
  "11" equal to the number 11 otherwise), dates ``"d:YYYY-MM-DD"`` (ordered as text), numbers are
  written in fixed notation (an exponent such as ``1e-05`` crashes its JSON parser).

Pitfalls it is built around (docs, /work/shared/domain/engine-measurements.md): facts, not events
(an event is consumed by the first matching rule); a unique ``id`` on every fact; a catch-all rule
on a field other than ``id`` so no fact raises MessageNotHandledException and drops the findings of
the batch; one state per unit, every fact retracted and the state deleted after it (fact identity is
a 32-bit hash; at most 1,024 live states). The C engine is not thread-safe: calls hold a lock.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import threading
from datetime import date
from decimal import Decimal

from auditor.engine.perclaim.engine import PythonEngine
from auditor.engine.perclaim.kinds import Plan
from auditor.engine.perclaim.values import truth
from auditor.rules.expr import MULTI_COLUMNS, Col, Func, Lit, Node, Op

log = logging.getLogger("auditor")

_TRUE, _FALSE = "TRUE", "FALSE"  # constant conditions, folded away before they reach durable_rules
_NEG = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
_FLIP = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_OP = {"!=": "$neq", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}
_LOOKS_LIKE_DATE = re.compile(r"^\s*\d{4}-\d{2}-\d{2}")
MAX_IN = 64          # longer `in` lists are looked up in Python (a set) rather than an $or
MAX_FIELDS = 200     # durable_rules holds at most 255 properties per fact
_RUN_IDS = itertools.count(1)


# -- values as durable_rules sees them --------------------------------------------------------------

def encode(v):
    """A Python value -> its typed JSON value (None = the field is left out)."""
    if v is None or v is True or v is False:
        return v
    if isinstance(v, str):
        return "s:" + v
    if isinstance(v, date):
        return "d:" + v.isoformat()
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        if v != v:
            return None
        if v in (float("inf"), float("-inf")):
            v = 1e300 if v > 0 else -1e300  # beyond any real value, still orderable
        text = repr(v)
        if "e" in text or "E" in text:  # durable_rules' parser cannot read exponents: see facts_json
            return _FIXED + format(Decimal(text), "f") + _FIXED
        return v
    return "s:" + str(v)


_FIXED = "\x00"  # marks a number written out in full; no text value can hold it (text starts with "s:")
_FIXED_JSON = re.compile(r'"\\u0000([-0-9.]+)\\u0000"')


def facts_json(facts: list[dict]) -> str:
    """The facts as JSON (the C encoder), numbers never in exponent notation."""
    text = json.dumps(facts, ensure_ascii=False, separators=(",", ":"))
    return _FIXED_JSON.sub(r"\1", text) if "\\u0000" in text else text


def literal(v):
    """A rule literal as durable JSON (the definition is written by `dumps`, which fixes floats itself)."""
    if isinstance(v, float) and v == v:
        return max(min(v, 1e300), -1e300)
    return encode(v)


def _number(v: float) -> str:
    text = repr(v)
    if "e" in text or "E" in text:  # durable_rules' parser cannot read exponents
        text = format(Decimal(text), "f")
    return text


def dumps(obj) -> str:
    """JSON for durable_rules: like json.dumps, but numbers never in exponent notation."""
    if obj is None:
        return "null"
    if obj is True:
        return "true"
    if obj is False:
        return "false"
    if isinstance(obj, int):
        return str(obj)
    if isinstance(obj, float):
        return _number(obj)
    if isinstance(obj, str):
        return json.dumps(obj, ensure_ascii=False)
    if isinstance(obj, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{dumps(v)}" for k, v in obj.items()) + "}"
    if isinstance(obj, (list, tuple)):
        return "[" + ",".join(dumps(v) for v in obj) + "]"
    raise TypeError(f"cannot encode {type(obj).__name__} for durable_rules")


# -- compiling a condition ----------------------------------------------------------------------

def _conj(parts):
    out = []
    for p in parts:
        if p == _FALSE:
            return _FALSE
        if p != _TRUE:
            out.extend(p["$and"] if isinstance(p, dict) and set(p) == {"$and"} else [p])
    return _TRUE if not out else out[0] if len(out) == 1 else {"$and": out}


def _disj(parts):
    out = []
    for p in parts:
        if p == _TRUE:
            return _TRUE
        if p != _FALSE:
            out.extend(p["$or"] if isinstance(p, dict) and set(p) == {"$or"} else [p])
    return _FALSE if not out else out[0] if len(out) == 1 else {"$or": out}


def _cmp_json(op: str, field: str, other) -> dict:
    """``field op other`` where other is a literal or ("field", name)."""
    right = {"$m": other[1]} if isinstance(other, tuple) else other
    if op == "==":
        return {field: right}
    return {_OP[op]: {field: right}}


class CompiledCondition:
    """One rule's condition as durable JSON, plus how to fill the fact fields it reads."""

    def __init__(self, k: int, node: Node | None, prefix: dict, compiler):
        self.k, self.prefix, self.c = k, prefix, compiler
        self.gate = f"g{k}"
        self.cols: dict[str, object] = {}      # field -> reader of the column (values.Compiler.column)
        self.pre: list[tuple[str, object, bool]] = []  # (field, closure, as boolean)
        true, _false = self.tf(node) if node is not None else (_TRUE, _FALSE)
        self.json = _FALSE if true == _FALSE else _conj([{self.gate: True}, true])

    @property
    def fields(self) -> set[str]:
        return {self.gate, *self.cols, *(f for f, _, _ in self.pre)}

    def _precompute(self, node: Node, as_bool: bool) -> str:
        name = f"p{self.k}_{len(self.pre)}"
        self.pre.append((name, self.c.compile(node), as_bool))
        return name

    def _bool_field(self, node: Node) -> tuple:
        f = self._precompute(node, True)
        return {f: True}, {f: False}

    def operand(self, node: Node):
        """("field", name) or ("lit", value) or None (not expressible as an operand)."""
        if isinstance(node, Lit):
            v = node.value
            if isinstance(v, frozenset):
                return None
            return ("lit", v)
        if isinstance(node, Col) and node.name not in MULTI_COLUMNS and node.ns in self.prefix:
            f = self.prefix[node.ns] + node.name
            self.cols[f] = self.c.column(node.ns, node.name)
            return ("field", f)
        return ("field", self._precompute(node, False))

    def tf(self, node: Node) -> tuple:
        """(known-true condition, known-false condition)."""
        if isinstance(node, Op) and node.op in ("and", "or"):
            parts = [self.tf(a) for a in node.args]
            if node.op == "and":
                return _conj([t for t, _ in parts]), _disj([f for _, f in parts])
            return _disj([t for t, _ in parts]), _conj([f for _, f in parts])
        if isinstance(node, Op) and node.op == "not":
            t, f = self.tf(node.args[0])
            return f, t
        if isinstance(node, Op) and node.op in _NEG:
            return self.compare(node)
        if isinstance(node, Op) and node.op in ("in", "not in"):
            t, f = self.member(node)
            return (t, f) if node.op == "in" else (f, t)
        if isinstance(node, Lit):
            v = truth(node.value) if not isinstance(node.value, frozenset) else bool(node.value)
            return (_TRUE, _FALSE) if v is True else (_FALSE, _TRUE) if v is False else (_FALSE, _FALSE)
        if isinstance(node, Func) and node.name == "present" and isinstance(node.args[0], Col) \
                and node.args[0].ns in self.prefix and node.args[0].name not in MULTI_COLUMNS:
            _, f = self.operand(node.args[0])
            return {"$ex": {f: 1}}, {"$nex": {f: 1}}
        if isinstance(node, Func) and node.name == "between":
            x, lo, hi = node.args
            return self.tf(Op("and", (Op(">=", (x, lo)), Op("<=", (x, hi)))))
        return self._bool_field(node)

    def compare(self, node: Op) -> tuple:
        op, (x, y) = node.op, node.args
        # text that reads as a date compares as a date where the other side is one: decided in Python
        for side in (x, y):
            if isinstance(side, Lit) and isinstance(side.value, str) and _LOOKS_LIKE_DATE.match(side.value):
                return self._bool_field(node)
        ox, oy = self.operand(x), self.operand(y)
        if ox is None or oy is None or (ox[0] == "lit" and oy[0] == "lit"):
            return self._bool_field(node)
        if (ox[0] == "lit" and ox[1] is None) or (oy[0] == "lit" and oy[1] is None):
            return _FALSE, _FALSE  # a comparison with an empty value is never known
        if ox[0] == "lit":  # keep the field on the left
            ox, oy, op = oy, ox, _FLIP[op]
        field = ox[1]
        exists = [{"$ex": {field: 1}}]
        if oy[0] == "field":
            exists.append({"$ex": {oy[1]: 1}})
            other = ("field", oy[1])
        else:
            other = literal(oy[1])
        return _conj(exists + [_cmp_json(op, field, other)]), _conj(exists + [_cmp_json(_NEG[op], field, other)])

    def member(self, node: Op) -> tuple:
        x, values = node.args[0], node.args[1].value
        if len(values) > MAX_IN or any(isinstance(v, str) and _LOOKS_LIKE_DATE.match(v) for v in values):
            return self._bool_field(Op("in", node.args))
        ox = self.operand(x)
        if ox is None or ox[0] == "lit":
            return self._bool_field(Op("in", node.args))
        field = ox[1]
        # numbers match numeric literals, text matches each literal's text (vector._isin)
        alts = []
        for v in sorted(values, key=repr):
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                alts.append(literal(v))
            alts.append("s:" + (v if isinstance(v, str) else str(v)))
        alts = list(dict.fromkeys(alts))
        exists = {"$ex": {field: 1}}
        true = _conj([exists, _disj([{field: a} for a in alts])])
        false = _conj([exists] + [{"$neq": {field: a}} for a in alts])
        return true, false


class _Ruleset:
    """A durable_rules ruleset driven through its C API, synchronously.

    durable.engine's Python driver builds a Closure and round-trips the state as JSON for every
    action; here the action queue is read directly: each action names the rule that fired and
    carries the fact, and nothing else is needed.
    """

    def __init__(self, name: str, definition: dict):
        import durable_rules_engine

        self._engine = durable_rules_engine
        self.handle = durable_rules_engine.create_ruleset(name, dumps(definition))

    def run(self, facts_json: str) -> list[tuple[str, str]]:
        """Assert the facts; return (rule name, fact id) of every action, in the order they fired."""
        engine = self._engine
        result = engine.assert_facts(self.handle, facts_json)
        if result[0] in (1, 2):  # (never the fact text in messages: it holds claim data)
            raise RuntimeError("durable_rules did not take the facts: "
                               + ("a fact matched no rule" if result[0] == 1 else "a fact was already observed"))
        state = result[1]
        fired = []
        action = engine.start_action_for_state(self.handle, state)
        message = action[1] if action else None
        while message:
            name, body = next(iter(json.loads(message).items()))
            fired.append((name, body["m"]["id"]))
            message = engine.complete_and_start_action(self.handle, state)
        return fired

    def clear(self, sid: str, facts_json: str) -> None:
        try:
            self._engine.retract_facts(self.handle, facts_json)
        finally:
            self._engine.delete_state(self.handle, sid)

    def close(self) -> None:
        try:
            self._engine.delete_ruleset(self.handle)
        except Exception:  # pragma: no cover - best effort at shutdown
            pass


class DurableEngine(PythonEngine):
    """Per-claim evaluation where durable_rules decides every rule's condition."""

    name = "durable"

    def __init__(self, rules, store, as_of=None):
        super().__init__(rules, store, as_of)
        self._dlock = threading.Lock()
        self._sids = itertools.count(1)
        self.fallbacks = 0  # units decided in Python because durable_rules refused the facts
        self.conditions: list[CompiledCondition | None] = []
        self.python_only: set[int] = set()  # rules durable cannot take (too many fields): decided in Python
        self.fact_group: dict[int, int] = {}  # line rules sharing one fact per row: rule -> group
        lookup_ids: dict = {}                 # (over, lookup) -> n: the fact fields of its rows are l<n>_...
        definition: dict = {}
        groups: list[set] = []
        for k, cr in enumerate(self.compiled):
            kind = cr.rule.kind
            if kind == "line":
                lookups = {lk.alias: f"l{lookup_ids.setdefault((cr.rule.over, lk), len(lookup_ids))}_"
                           for lk in cr.rule.lookups}
                prefix = {None: "c_", **lookups}
            else:
                prefix = {None: "c_", "a": "a_", "b": "b_", "ref": "r_", "first": "f_"}
                for i, lk in enumerate(cr.rule.lookups):
                    prefix.setdefault(lk.alias, f"n{i}_")
            cond = CompiledCondition(k, cr.cond_node, prefix, cr.compiler)
            if len(cond.fields) > MAX_FIELDS:
                self.python_only.add(k)
                self.conditions.append(None)
                continue
            self.conditions.append(cond)
            if kind == "line":
                # pack line rules into as few per-row facts as the property limit allows
                for gi, fields in enumerate(groups):
                    if len(fields | cond.fields) <= MAX_FIELDS:
                        fields |= cond.fields
                        self.fact_group[k] = gi
                        break
                else:
                    groups.append(set(cond.fields))
                    self.fact_group[k] = len(groups) - 1
            if cond.json != _FALSE:
                definition[f"r{k}"] = {"all": [{"m": cond.json}]}
        # every fact matches this rule (on `_c`, never on `id`), so none is "not handled"
        definition["catch_all"] = {"all": [{"m": {"$ex": {"_c": 1}}}]}
        self._ruleset = _Ruleset(f"auditor_scrub_{next(_RUN_IDS)}", definition)

    def decide(self, plans: list[Plan]) -> list[list[bool]]:
        decided = [[False] * len(p.envs) for p in plans]
        facts: list[dict] = []
        owners: dict[str, dict[int, int]] = {}   # fact id -> {rule k: candidate index}
        shared: dict = {}                         # (group, over, row) -> fact
        sid = f"u{next(self._sids)}"
        for k, plan in enumerate(plans):
            cond = self.conditions[k]
            if cond is None:  # decided in Python
                decided[k] = [plan.rule.when(env) for env in plan.envs]
                continue
            if cond.json == _FALSE:
                continue
            for i, env in enumerate(plan.envs):
                if plan.shared is not None:
                    key = (self.fact_group[k], *plan.shared[i])
                    fact = shared.get(key)
                    if fact is None:
                        fact = shared[key] = self._new_fact(sid, len(facts))
                        facts.append(fact)
                else:
                    fact = self._new_fact(sid, len(facts))
                    facts.append(fact)
                fact[cond.gate] = True
                for f, read in cond.cols.items():
                    if f in fact:  # a row's column, already set by another rule sharing the fact
                        continue
                    v = encode(read(env))
                    if v is not None:
                        fact[f] = v
                for f, fn, as_bool in cond.pre:
                    v = fn(env)
                    v = truth(v) if as_bool else encode(v)
                    if v is not None:
                        fact[f] = v
                owners.setdefault(fact["id"], {})[k] = i
        if not facts:
            return decided
        text = facts_json(facts)
        with self._dlock:  # the C engine is not thread-safe; one unit at a time
            try:
                fired = self._ruleset.run(text)
            except RuntimeError as exc:  # should not happen; never lose findings over it
                log.warning("durable engine: %s; this request was decided by the python engine", exc)
                self.fallbacks += 1
                return super().decide(plans)
            finally:
                self._ruleset.clear(sid, text)
        for name, fid in fired:
            if name != "catch_all":
                k = int(name[1:])
                i = owners.get(fid, {}).get(k)
                if i is not None:
                    decided[k][i] = True
        return decided

    @staticmethod
    def _new_fact(sid: str, n: int) -> dict:
        return {"sid": sid, "id": f"{sid}.{n}", "_c": 1}

    def close(self) -> None:
        self._ruleset.close()
