"""Load YAML rule files into :class:`Rule` objects; every problem names the file and line."""

from __future__ import annotations

import hashlib
import os
import re
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from auditor.errors import RuleError
from auditor.findings import CATEGORIES, SEVERITIES
from auditor.rules import expr
from auditor.rules.model import KINDS, OVER, Example, Lookup, PairJoin, Rule

# A family prefix (letters; digits allowed after the first letter, as in X12001) then 3-4 digits.
ID_RE = re.compile(r"^(?:[A-Z]{2,8}|[A-Z][A-Z0-9]{1,7}?)[0-9]{3,4}$")
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
_RANGE = re.compile(r"^([A-Z]?)(\d+)([A-Z]?)-([A-Z]?)(\d+)([A-Z]?)$")

META = {"id", "title", "category", "severity", "description", "reference", "fix", "message"}
KNOWN = META | {
    "kind", "over", "applies_to", "effective", "evidence", "subject", "where", "when", "lookup",
    "scope", "left", "right", "join", "flag", "key", "partner", "group_by", "measures", "keys",
    "table", "for_each", "params", "examples", "tags", "requires_columns", "unordered", "flag_where",
    "flag_when",
}
# Columns the engine provides besides the canonical ones (see docs/DESIGN.md).
LINE_NAMESPACES = {"line"}


def default_rules_dir() -> Path:
    """The shipped rule pack: $AUDITOR_RULES, else the package copy, else the repository's rules/."""
    env = os.environ.get("AUDITOR_RULES")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent.parent
    for cand in (here / "default_rules", here.parent / "rules"):
        if cand.is_dir():
            return cand
    raise RuleError("the default rule pack was not found (set AUDITOR_RULES to its folder)")


class _LineLoader(yaml.SafeLoader):
    """A safe loader that remembers the line of every mapping key (for error messages)."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    mapping = yaml.SafeLoader.construct_mapping(loader, node, deep=deep)
    lines = {}
    for key_node, _ in node.value:
        lines[key_node.value] = key_node.start_mark.line + 1
    return _Map(mapping, lines, node.start_mark.line + 1)


class _Map(dict):
    def __init__(self, data: dict, lines: dict, line: int):
        super().__init__(data)
        self.lines, self.line = lines, line

    def line_of(self, key: str) -> int:
        return self.lines.get(key, self.line)


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _expand(item: str) -> list[str]:
    """``99202-99205`` -> the five codes; other items stay as they are."""
    m = _RANGE.match(item)
    if not m or m.group(1) != m.group(4) or m.group(3) != m.group(6) or len(m.group(2)) != len(m.group(5)):
        return [item]
    lo, hi, width = int(m.group(2)), int(m.group(5)), len(m.group(2))
    if hi < lo or hi - lo > 100000:
        return [item]
    return [f"{m.group(1)}{i:0{width}d}{m.group(3)}" for i in range(lo, hi + 1)]


def load_lists(dirs: list[Path]) -> dict[str, frozenset]:
    """Named code lists from ``<rules dir>/lists/*.yaml`` (NAME: [codes or ranges like 99202-99205])."""
    lists: dict[str, frozenset] = {}
    for d in dirs:
        for p in sorted((d / "lists").glob("*.y*ml")) if (d / "lists").is_dir() else []:
            try:
                data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
            except yaml.YAMLError as exc:
                raise RuleError(f"not valid YAML: {exc}", str(p)) from None
            if not isinstance(data, dict):
                raise RuleError("a list file maps NAMES to lists of codes", str(p))
            for name, values in data.items():
                if not re.match(r"^[A-Z][A-Z0-9_]*$", str(name)) or not isinstance(values, list):
                    raise RuleError(f"list '{name}': names are UPPER_CASE and values are lists", str(p))
                codes: list = []
                for v in values:
                    codes.extend(_expand(str(v).strip().upper()) if isinstance(v, str) else [v])
                lists[str(name)] = frozenset(codes)
    return lists


def _date(value: Any, path: str, line: int, what: str) -> date | None:
    if value in (None, "", "*"):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise RuleError(f"{what}: '{value}' is not a date (YYYY-MM-DD)", path, line) from None


def _dated_by(value: Any, path: str, line: int, what: str) -> tuple | None:
    """``[from, to]`` or ``[[from, to], [from, to], ...]`` (every window must hold)."""
    if value is None:
        return None
    if isinstance(value, list) and len(value) == 2 and all(isinstance(x, str) for x in value):
        return tuple(value)
    if isinstance(value, list) and value and all(
            isinstance(w, list) and len(w) == 2 and all(isinstance(x, str) for x in w) for w in value):
        return tuple(tuple(w) for w in value)
    raise RuleError(f"{what}: expected [effective_column, deletion_column] or a list of such pairs", path, line)


def _names(value: Any, path: str, line: int, what: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(x, str) and _IDENT.match(x) for x in items):
        raise RuleError(f"{what}: expected a list of column names", path, line)
    return tuple(items)


class _RuleBuilder:
    def __init__(self, doc: _Map, path: str, lists: dict[str, frozenset], text: str):
        self.doc, self.path, self.lists, self.text = doc, path, lists, text
        self.params = dict(doc.get("params") or {})

    def err(self, key: str, msg: str) -> RuleError:
        return RuleError(f"{key}: {msg}", self.path, self.doc.line_of(key) if key in self.doc else self.doc.line)

    def expr(self, text: Any, key: str, namespaces: set[str], line: int | None = None,
             aggregates: bool = False) -> expr.Node:
        return expr.parse(text, path=self.path, line=line or self.doc.line_of(key), namespaces=namespaces,
                          lists=self.lists, params=self.params, aggregates=aggregates)

    def build(self) -> Rule:
        d = self.doc
        unknown = sorted(set(d) - KNOWN)
        if unknown:
            raise self.err(unknown[0], f"unknown key (known keys: {', '.join(sorted(KNOWN))})")
        for key in sorted(META):
            if not isinstance(d.get(key), str) or not d.get(key).strip():
                raise RuleError(f"missing or empty required field '{key}'", self.path, d.line_of(key))
        rid = d["id"].strip()
        if not ID_RE.match(rid):
            raise self.err("id", f"'{rid}' is not a rule code (letters then 3-4 digits, e.g. MUE001)")
        if d["category"] not in CATEGORIES:
            raise self.err("category", f"'{d['category']}' is not a category ({', '.join(CATEGORIES)})")
        if d["severity"] not in SEVERITIES:
            raise self.err("severity", f"'{d['severity']}' is not one of {', '.join(SEVERITIES)}")
        kind = d.get("kind", "line")
        if kind not in KINDS:
            raise self.err("kind", f"'{kind}' is not a rule kind ({', '.join(KINDS)})")
        over = d.get("over", "lines")
        if over not in OVER:
            raise self.err("over", f"'{over}' must be one of {', '.join(OVER)}")
        applies = d.get("applies_to", "all")
        if applies not in ("all", "professional", "institutional"):
            raise self.err("applies_to", "must be all, professional or institutional")
        eff = d.get("effective") or {}
        if not isinstance(eff, dict):
            raise self.err("effective", "expected {from: YYYY-MM-DD, to: YYYY-MM-DD}")
        rule = Rule(
            id=rid, title=d["title"].strip(), category=d["category"], severity=d["severity"],
            description=d["description"].strip(), reference=d["reference"].strip(), fix=d["fix"].strip(),
            message=d["message"].strip(), kind=kind, over=over, applies_to=applies,
            effective_from=_date(eff.get("from"), self.path, d.line_of("effective"), "effective.from"),
            effective_to=_date(eff.get("to"), self.path, d.line_of("effective"), "effective.to"),
            evidence=str(d.get("evidence") or "").strip(), subject=d.get("subject"),
            params=self.params, path=self.path, source_text=self.text,
        )
        lookups = self.lookups()
        ns = {"ref"} if lookups else set()
        ns |= {lk.alias for lk in lookups}
        rule.lookups = lookups
        if kind in ("pair", "requires"):
            for lk in lookups:
                if lk.alias in ("ref", "a", "b", "first"):
                    raise self.err("lookup", f"a {kind} rule's lookup needs its own name ('as:'), not '{lk.alias}'")
            if kind == "pair" and any(lk.side not in ("a", "b") for lk in lookups):
                raise self.err("lookup", "a pair rule's lookup says which row it joins: side: a or side: b")
        elif any(lk.side is not None for lk in lookups):
            raise self.err("lookup", "'side' is for pair rules only")
        if "where" in d:
            rule.where = self.expr(d["where"], "where", set())
        if "requires_columns" in d:
            rule.requires_columns = _names(d["requires_columns"], self.path, d.line_of("requires_columns"),
                                           "requires_columns")
        if kind in ("line", "input"):
            if kind == "line":
                if "when" not in d:
                    raise self.err("id", "a line rule needs 'when'")
                rule.when = self.expr(d["when"], "when", ns)
        elif kind == "pair":
            self.pair(rule)
        elif kind in ("aggregate", "claim"):
            self.aggregate(rule, ns)
        elif kind == "duplicate":
            rule.keys = _names(d.get("keys"), self.path, d.line_of("keys"), "keys")
            if "when" in d:
                rule.when = self.expr(d["when"], "when", {"first"})
        elif kind == "requires":
            self.requires(rule)
        elif kind == "frequency":
            rule.table = str(d.get("table") or "frequency_limits")
            rule.group_by = _names(d.get("group_by", ["member_id", "procedure_code"]), self.path,
                                   d.line_of("group_by"), "group_by")
        for k, kinds in (("unordered", ("pair",)), ("flag_where", ("aggregate", "claim")),
                         ("flag_when", ("requires",))):
            if k in d and kind not in kinds:
                raise self.err(k, f"'{k}' is for {' and '.join(kinds)} rules")
        if "key" in d:
            rule.key = _names(d["key"], self.path, d.line_of("key"), "key")[0]
        rule.needs = tuple(sorted({lk.table for lk in rule.lookups}
                                  | ({rule.join.table} if rule.join else set())
                                  | ({rule.table} if rule.table else set())))
        aliases = {lk.alias for lk in rule.lookups}
        ns_all = {"line": ns, "input": ns, "pair": {"a", "b", "ref"} | aliases, "aggregate": ns, "claim": ns,
                  "duplicate": {"first"}, "requires": {"ref"} | aliases, "frequency": {"ref"}}[kind]
        rule.message_parts = expr.parse_template(rule.message, path=self.path, line=d.line_of("message"),
                                                 namespaces=ns_all, lists=self.lists, params=self.params)
        if rule.evidence:
            rule.evidence_parts = expr.parse_template(rule.evidence, path=self.path, line=d.line_of("evidence"),
                                                      namespaces=ns_all, lists=self.lists, params=self.params)
        self.examples(rule)
        return rule

    def lookups(self) -> tuple[Lookup, ...]:
        raw = self.doc.get("lookup")
        if raw is None:
            return ()
        items = raw if isinstance(raw, list) else [raw]
        out = []
        for i, item in enumerate(items):
            line = getattr(item, "line", self.doc.line_of("lookup"))
            if isinstance(item, dict) and True in item and "on" not in item:
                item = {**item, "on": item[True]}  # YAML 1.1 reads a bare `on:` key as the boolean true
            if not isinstance(item, dict) or "table" not in item or "on" not in item:
                raise RuleError("lookup: each lookup needs 'table' and 'on'", self.path, line)
            on = item["on"]
            if isinstance(on, str):
                on = {on: on}
            if not isinstance(on, dict) or not all(_IDENT.match(str(k)) and _IDENT.match(str(v)) for k, v in on.items()):
                raise RuleError("lookup.on: expected {row_column: table_column}", self.path, line)
            alias = item.get("as", "ref" if i == 0 else f"ref{i + 1}")
            if not _IDENT.match(str(alias)):
                raise RuleError(f"lookup.as: '{alias}' is not a name", self.path, line)
            dated = _dated_by(item.get("dated_by"), self.path, line, "lookup.dated_by")
            where = self.expr(item["where"], "lookup", {"ref"}, line=line) if "where" in item else None
            side = item.get("side")
            if side is not None and side not in ("a", "b"):
                raise RuleError("lookup.side: expected a or b", self.path, line)
            out.append(Lookup(str(item["table"]), str(alias), tuple((str(k), str(v)) for k, v in on.items()),
                              dated, bool(item.get("optional", False)), where, side))
        return tuple(out)

    def pair_join(self, key: str) -> PairJoin | None:
        j = self.doc.get(key)
        if j is None:
            return None
        line = getattr(j, "line", self.doc.line_of(key))
        if not isinstance(j, dict) or not {"table", "left", "right"} <= set(j):
            raise RuleError(f"{key}: needs table, left and right", self.path, line)
        dated = _dated_by(j.get("dated_by"), self.path, line, f"{key}.dated_by")
        where = self.expr(j["where"], key, {"ref"}, line=line) if "where" in j else None
        if j.get("match", "exact") not in ("exact", "prefix"):
            raise RuleError(f"{key}.match: expected exact or prefix", self.path, line)
        return PairJoin(str(j["table"]), str(j["left"]), str(j["right"]), dated, j.get("match", "exact"), where)

    def pair(self, rule: Rule) -> None:
        d = self.doc
        rule.scope = _names(d.get("scope", ["claim_id"]), self.path, d.line_of("scope"), "scope")
        rule.join = self.pair_join("join")
        side = {s: {lk.alias for lk in rule.lookups if lk.side == s} for s in ("a", "b")}
        ns = {"a", "b"} | ({"ref"} if rule.join else set()) | side["a"] | side["b"]
        if "left" in d:
            rule.left = self.expr(d["left"], "left", side["a"])
        if "right" in d:
            rule.right = self.expr(d["right"], "right", side["b"])
        rule.when = self.expr(d["when"], "when", ns) if "when" in d else expr.Lit(True)
        rule.flag = d.get("flag", "b")
        if rule.flag not in ("a", "b"):
            raise self.err("flag", "a pair rule flags 'a' or 'b'")
        rule.unordered = bool(d.get("unordered", False))

    def aggregate(self, rule: Rule, ns: set[str]) -> None:
        d = self.doc
        if rule.kind == "claim":
            rule.group_by = ("claim_id",)
            rule.flag = d.get("flag", "group")
        else:
            rule.group_by = _names(d.get("group_by"), self.path, d.line_of("group_by"), "group_by")
            rule.flag = d.get("flag", "all")
        if rule.flag not in ("all", "first", "last", "group"):
            raise self.err("flag", "an aggregate rule flags all, first, last or group")
        measures = d.get("measures") or {}
        if not isinstance(measures, dict):
            raise self.err("measures", "expected {name: aggregate expression}")
        for name, text in measures.items():
            if not _IDENT.match(str(name)):
                raise self.err("measures", f"bad measure name '{name}'")
            node = self.expr(text, "measures", ns, aggregates=True)
            if not (isinstance(node, expr.Func) and node.name.startswith("agg:")):
                raise self.err("measures", f"measure '{name}' must be an aggregate such as sum(units) or count()")
            rule.measures[str(name)] = node
        if "when" not in d:
            raise self.err("id", "an aggregate rule needs 'when'")
        rule.when = self.expr(d["when"], "when", ns)
        if "flag_where" in d:
            if rule.flag == "group":
                raise self.err("flag_where", "flag_where picks rows; it does not apply to flag: group")
            rule.flag_where = self.expr(d["flag_where"], "flag_where", ns)

    def requires(self, rule: Rule) -> None:
        d = self.doc
        rule.join = self.pair_join("join")
        partner = d.get("partner") or {}
        if not rule.join or not isinstance(partner, dict):
            raise self.err("join", "a requires rule needs 'join' (table, left, right) and 'partner'")
        rule.partner_over = partner.get("over", "lines")
        if rule.partner_over not in OVER:
            raise self.err("partner", "partner.over must be lines or diagnoses")
        rule.scope = _names(partner.get("scope", ["claim_id"]), self.path, d.line_of("partner"), "partner.scope")
        if "where" in partner:
            rule.partner_where = self.expr(partner["where"], "partner", set())
        rule.when = self.expr(d["when"], "when", {"ref"} | {lk.alias for lk in rule.lookups}) if "when" in d else None
        rule.flag_when = d.get("flag_when", "none_listed")
        if rule.flag_when not in ("none_listed", "all_listed"):
            raise self.err("flag_when", "a requires rule flags when none_listed or all_listed")

    def examples(self, rule: Rule) -> None:
        ex = self.doc.get("examples")
        if ex is None:
            return
        if not isinstance(ex, dict):
            raise self.err("examples", "expected {fail: [...], pass: [...]}")
        defaults = dict(ex.get("defaults") or {})
        rule.example_refdata = {str(k): list(v or []) for k, v in (ex.get("refdata") or {}).items()}
        rule.example_as_of = _date(ex.get("as_of"), self.path, self.doc.line_of("examples"), "examples.as_of")
        for expect_fail, key in ((True, "fail"), (False, "pass")):
            for i, item in enumerate(ex.get(key) or []):
                if not isinstance(item, dict) or not isinstance(item.get("lines"), list):
                    raise RuleError(f"examples.{key}[{i}]: needs 'lines' (a list of claim lines)", self.path,
                                    getattr(item, "line", self.doc.line_of("examples")))
                lines = [{**defaults, **dict(line)} for line in item["lines"]]
                rule.examples.append(Example(str(item.get("name") or f"{key} {i + 1}"), lines, expect_fail,
                                             item.get("flags")))


def _variants(doc: _Map, path: str) -> list[tuple[str | None, _Map]]:
    """``for_each: {column: [a, b]}`` -> one copy of the rule per value, ``{column}`` substituted."""
    fe = doc.get("for_each")
    if fe is None:
        return [(None, doc)]
    if not isinstance(fe, dict) or len(fe) != 1:
        raise RuleError("for_each: expected one {name: [values]}", path, doc.line_of("for_each"))
    (name, values), = fe.items()
    if not isinstance(values, list) or not all(isinstance(v, str) and _IDENT.match(v) for v in values):
        raise RuleError("for_each: values must be column names", path, doc.line_of("for_each"))
    out = []
    for v in values:
        def sub(x: Any) -> Any:
            if isinstance(x, str):
                return x.replace("{" + name + "}", v)
            if isinstance(x, _Map):
                return _Map({sub(k): sub(val) for k, val in x.items()}, x.lines, x.line)
            if isinstance(x, list):
                return [sub(i) for i in x]
            return x
        copy = _Map({k: (sub(val) if k not in ("examples", "for_each") else val) for k, val in doc.items()},
                    doc.lines, doc.line)
        out.append((v, copy))
    return out


def parse_yaml(text: str, path: str):
    """Safe-load YAML whose mappings remember their keys' lines; a syntax error names file and line."""
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise RuleError(f"not valid YAML: {getattr(exc, 'problem', exc)}", path,
                        mark.line + 1 if mark else None) from None


def load_rule_file(path: Path, lists: dict[str, frozenset]) -> list[Rule]:
    text = path.read_text(encoding="utf-8")
    doc = parse_yaml(text, str(path))
    if not isinstance(doc, dict):
        raise RuleError("a rule file holds one mapping (id, title, ...)", str(path))
    rules = []
    for variant, d in _variants(doc, str(path)):
        rule = _RuleBuilder(d, str(path), lists, text).build()
        rule.variant = variant
        if variant and not rule.subject:
            rule.subject = variant
        rules.append(rule)
    # Examples of a for_each rule belong to the rule as a whole: keep them on the first copy only.
    for r in rules[1:]:
        r.examples = []
    return rules


def load_rules(dirs: list[Path] | None = None, include_default: bool = True) -> list[Rule]:
    """Load the default pack and the given folders; a later folder's rule replaces one with the same id."""
    folders = ([default_rules_dir()] if include_default else []) + [Path(d) for d in (dirs or [])]
    for d in folders:
        if not d.is_dir():
            raise RuleError("rule folder not found", str(d))
    try:  # the shipped pack's named lists are available to every rule folder; a folder may redefine them
        base = [] if include_default else [default_rules_dir()]
    except RuleError:
        base = []
    lists = load_lists(base + folders)
    by_id: dict[str, list[Rule]] = {}
    origin: dict[str, Path] = {}
    for folder in folders:
        seen_here: dict[str, str] = {}
        for p in sorted(folder.rglob("*.y*ml")):
            rel = p.relative_to(folder)
            if rel.parts[0] in ("lists", "tables") or p.name.startswith("_") or rel.parts[0].startswith("."):
                continue
            if p.name in ("dispositions.yaml", "dispositions.yml"):
                continue
            rules = load_rule_file(p, lists)
            rid = rules[0].id
            if rid in seen_here:
                raise RuleError(f"rule id {rid} is also defined in {seen_here[rid]}", str(p))
            seen_here[rid] = str(p)
            by_id[rid] = rules
            origin[rid] = folder
    return [r for rid in sorted(by_id) for r in by_id[rid]]


def rule_pack_hash(rules: list[Rule]) -> str:
    """sha256 over the rule files' text, in id order: identifies the rule pack a run used."""
    h = hashlib.sha256()
    seen = set()
    for r in sorted(rules, key=lambda r: r.id):
        if r.id in seen:
            continue
        seen.add(r.id)
        h.update(r.id.encode())
        h.update(r.source_text.encode())
    return h.hexdigest()


def select_rules(rules: list[Rule], select: list[str] | None = None, ignore: list[str] | None = None) -> list[Rule]:
    """ruff-style selection: by rule id, id prefix (e.g. ``NCCI``) or category."""

    def hit(rule: Rule, pats: list[str]) -> bool:
        return any(p == rule.category or rule.id.startswith(p.upper()) for p in pats)

    sel = [p.strip() for s in (select or []) for p in s.split(",") if p.strip()]
    ign = [p.strip() for s in (ignore or []) for p in s.split(",") if p.strip()]
    known = {r.id for r in rules} | {r.category for r in rules} | set(CATEGORIES)
    for p in sel + ign:
        if p not in known and not any(r.id.startswith(p.upper()) for r in rules):
            raise RuleError(f"--select/--ignore: '{p}' matches no rule id, prefix or category")
    out = [r for r in rules if (not sel or hit(r, sel)) and not hit(r, ign)]
    return out
