"""Disposition rules: how a claim's findings decide its verdict before submission.

``rules/dispositions.yaml`` (the last ``dispositions.yaml`` found in the rule folders wins, or
``--dispositions FILE``) holds two lists of ``{name, when, verdict, reason}``:

* ``findings`` - each finding takes the verdict of the *first* rule whose ``when`` holds for it
  (``default`` when none does);
* ``claims`` - every rule whose ``when`` holds for the claim applies.

A claim's verdict is the most severe of its findings' and its claim rules' verdicts
(pass < warn < hold < reject); a claim without findings passes. ``when`` is an expression of the
rule language (parsed with :mod:`auditor.rules.expr`, never evaluated by Python) over the finding's
columns (``severity``, ``category``, ``rule_id``, ``amount_at_risk`` ...) and the claim's fields
(``claim.total_charge``, ``claim.error`` ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from auditor.engine.perclaim.values import Compiler
from auditor.errors import RuleError
from auditor.findings import FINDING_COLUMNS, SEVERITIES
from auditor.rules import expr

VERDICTS = ("pass", "warn", "hold", "reject")
RANK = {v: i for i, v in enumerate(VERDICTS)}
# what `claim.<field>` offers
CLAIM_FIELDS = ("claim_id", "member_id", "claim_type", "payer", "type_of_bill", "place_of_service", "lines",
                "total_charge", "findings", "amount_at_risk", *SEVERITIES)
FILE_NAME = "dispositions.yaml"


@dataclass
class Disposition:
    name: str
    verdict: str
    reason: str
    when_text: str
    test: Callable[[dict], bool]


@dataclass
class Dispositions:
    findings: list[Disposition]
    claims: list[Disposition]
    default: str = "hold"
    source: str = ""
    text: str = field(default="", repr=False)

    def finding_verdict(self, finding: dict, claim: dict) -> tuple[str, Disposition | None]:
        env = {None: finding, "claim": claim}
        for d in self.findings:
            if d.test(env):
                return d.verdict, d
        return self.default, None

    def claim_rules(self, claim: dict) -> list[Disposition]:
        env = {None: claim, "claim": claim}
        return [d for d in self.claims if d.test(env)]


def find_file(rule_dirs=(), default_rules: bool = True) -> Path | None:
    """The dispositions file of a rule pack: the last rule folder that has one."""
    from auditor.rules.loader import default_rules_dir

    folders = ([default_rules_dir()] if default_rules else []) + [Path(d) for d in rule_dirs]
    found = None
    for d in folders:
        for name in (FILE_NAME, "dispositions.yml"):
            if (d / name).is_file():
                found = d / name
    return found


def load(path: str | Path | None = None, rule_dirs=(), default_rules: bool = True) -> Dispositions:
    """Load and check a dispositions file (named, or the rule pack's); every problem names file and line."""
    if path is None:
        path = find_file(rule_dirs, default_rules)
    if path is None:
        raise RuleError(f"no {FILE_NAME} in the rule folders (give one with --dispositions FILE)")
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise RuleError(f"cannot read the dispositions file ({exc.strerror or exc})", str(p)) from None
    from auditor.rules.loader import load_lists, parse_yaml

    doc = parse_yaml(text, str(p))
    if not isinstance(doc, dict):
        raise RuleError("expected a mapping with 'findings' and 'claims' lists", str(p))
    unknown = sorted(set(doc) - {"findings", "claims", "default"})
    if unknown:
        raise RuleError(f"unknown key '{unknown[0]}' (known: findings, claims, default)", str(p),
                        doc.line_of(unknown[0]))
    default = doc.get("default", "hold")
    if default not in VERDICTS:
        raise RuleError(f"default: '{default}' is not a verdict ({', '.join(VERDICTS)})", str(p),
                        doc.line_of("default"))
    dirs = [p.parent] if (p.parent / "lists").is_dir() else []
    from auditor.rules.loader import default_rules_dir

    try:
        dirs = [default_rules_dir(), *dirs]
    except RuleError:
        pass
    lists = load_lists(dirs)
    out = {}
    for section, allowed in (("findings", set(FINDING_COLUMNS)), ("claims", set())):
        items = doc.get(section) or []
        if not isinstance(items, list):
            raise RuleError(f"{section}: expected a list of rules", str(p), doc.line_of(section))
        out[section] = [_rule(item, section, allowed, lists, p, doc.line_of(section)) for item in items]
    return Dispositions(out["findings"], out["claims"], default, str(p), text)


def _rule(item: Any, section: str, allowed: set, lists: dict, path: Path, line: int) -> Disposition:
    line = getattr(item, "line", line)
    if not isinstance(item, dict):
        raise RuleError(f"{section}: each rule is a mapping with when, verdict, reason", str(path), line)
    bad = sorted(set(item) - {"name", "when", "verdict", "reason"})
    if bad:
        raise RuleError(f"{section}: unknown key '{bad[0]}' (known: name, when, verdict, reason)", str(path), line)
    verdict = item.get("verdict")
    if verdict not in VERDICTS:
        raise RuleError(f"{section}: verdict '{verdict}' is not one of {', '.join(VERDICTS)}", str(path), line)
    if "when" not in item:
        raise RuleError(f"{section}: a rule needs 'when'", str(path), line)
    node = expr.parse(item["when"], path=str(path), line=line, namespaces={"claim"}, lists=lists)
    for ns, col in expr.columns_used(node):
        ok = col in CLAIM_FIELDS if ns == "claim" else col in allowed
        if not ok:
            where = f"{ns}.{col}" if ns else col
            known = ", ".join(sorted(allowed)) + "; " if allowed else ""
            raise RuleError(f"{section}: unknown field '{where}' in {item['when']!r} "
                            f"(known: {known}claim.{', claim.'.join(CLAIM_FIELDS)})", str(path), line)
    name = str(item.get("name") or item["when"])
    test = Compiler(f"dispositions:{name}").condition(node)
    return Disposition(name, verdict, str(item.get("reason") or name), str(item["when"]), test)
