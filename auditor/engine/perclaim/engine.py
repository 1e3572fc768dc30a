"""The per-claim engine: a few lines at a time, reference data from indexes built once.

``PythonEngine`` decides each rule's condition with the compiled IR; ``DurableEngine``
(:mod:`auditor.engine.perclaim.durable`) hands the same candidates to durable_rules. Both
return exactly the batch engine's findings for the same lines.

A *unit* is the set of lines evaluated together: one service request, or in file mode the
lines of one member (claims linked by member id). Scopes that reach other claims (duplicates,
NCCI pairs and MUE per date of service across claims) see only the claims of the same unit.
"""

from __future__ import annotations

import threading
from datetime import date
from types import SimpleNamespace

import pandas as pd

from auditor.engine.batch import _version_text, coverage_row, version_sources
from auditor.engine.perclaim.index import RefIndex
from auditor.engine.perclaim.kinds import PLANNERS, CompiledRule, Hit, Plan, Unit
from auditor.engine.perclaim.rows import rows_from_frame
from auditor.engine.perclaim.values import fingerprint, subject_text
from auditor.engine.result import COVERAGE_COLUMNS
from auditor.findings import FINDING_COLUMNS, conform, empty_findings
from auditor.rules.model import Rule


def _sort_key(f: dict):
    cid, ln = f["claim_id"], f["line_number"]
    return (cid is not None, cid or "", ln is not None, ln or 0, f["rule_id"])


def member_units(rows: list[dict]) -> list[list[dict]]:
    """Split lines into units: lines sharing a claim id or a member id stay together."""
    parent: dict = {}

    def find(x):
        while parent.get(x, x) != x:
            parent[x] = parent.get(parent[x], parent[x])
            x = parent[x]
        return x

    def union(a, b):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[rb] = ra

    for i, r in enumerate(rows):
        keys = [("c", r["claim_id"])] if r["claim_id"] is not None else []
        if r["member_id"] is not None:
            keys.append(("m", r["member_id"]))
        for k in keys or [("none",)]:
            union(("r", i), k)
    units: dict = {}
    for i, r in enumerate(rows):
        units.setdefault(find(("r", i)), []).append(r)
    return list(units.values())


class Coverage:
    """What each rule checked (the coverage table of the reports), summed over units.

    Counts add up per rule *variant* across units; variants of one rule are then combined with
    max (for_each variants check the same lines), as the batch engine does over the whole file.
    """

    def __init__(self):
        self.acc: dict[tuple, list] = {}   # (rule id, variant) -> [rule, applicable, not checked, missing, inputs]

    def add_unit(self, plans: list[Plan]) -> None:
        for p in plans:
            rule = p.rule.rule
            acc = self.acc.setdefault((rule.id, rule.variant), [rule, 0, 0, {}, {}])
            # rows left out for an empty required input were not checked: they count as applicable
            extra = p.inputs.get("_rows", 0)
            acc[1] += p.applicable + extra
            acc[2] += p.not_checked + extra
            for k, v in p.missing.items():
                acc[3].setdefault(k, []).extend(v)
            for k, v in p.inputs.items():
                acc[4][k] = (acc[4].get(k, set()) | v) if k == "_claim_ids" else acc[4].get(k, 0) + v

    def add_input(self, rule: Rule, lines: int) -> None:
        self.acc.setdefault((rule.id, rule.variant), [rule, 0, 0, {}, {}])[1] += lines

    def frame(self, store, rules: list[Rule]) -> pd.DataFrame:
        by_id: dict[str, list] = {}
        for (rid, _variant), (rule, a, nc, miss, inputs) in self.acc.items():
            c = by_id.setdefault(rid, [rule, 0, 0, {}, {}])
            c[1], c[2] = max(c[1], a), max(c[2], nc)
            for k, v in miss.items():
                c[3].setdefault(k, []).extend(v)
            for k, v in inputs.items():
                c[4][k] = (c[4].get(k, set()) | v) if k == "_claim_ids" else max(c[4].get(k, 0), v)
        rows = []
        for r in rules:
            if r.id in {row["rule_id"] for row in rows}:
                continue
            rule, a, nc, miss, inputs = by_id.get(r.id, [r, 0, 0, {}, {}])
            missing = {k: pd.Series(pd.to_datetime(v)) for k, v in miss.items()}
            lacking = {k: v for k, v in inputs.items() if k != "_claim_ids"}
            if lacking:
                lacking["_claims"] = len(inputs.get("_claim_ids", ()))
            rows.append(coverage_row(rule, a, nc, missing, store, lacking))
        return pd.DataFrame(rows, columns=COVERAGE_COLUMNS)


class PythonEngine:
    """Per-claim evaluation in plain Python over dict rows and dict indexes."""

    name = "python"

    def __init__(self, rules: list[Rule], store, as_of: date | None = None):
        self.rules = list(rules)
        self.store, self.as_of = store, as_of
        self.refs = RefIndex(store, self.rules)
        self.compiled = [CompiledRule(r, self.refs) for r in self.rules if r.kind != "input"]
        self.input_rules = [r for r in self.rules if r.kind == "input"]
        self.versions_used: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()  # guards versions_used only; evaluation itself is thread-safe

    # -- deciding conditions (the part the durable engine replaces) --------------------------------
    def decide(self, plans: list[Plan]) -> list[list[bool]]:
        return [[p.rule.when(env) for env in p.envs] for p in plans]

    # -- one unit ----------------------------------------------------------------------------------
    def _run_unit(self, rows: list[dict], today: date) -> tuple[list[dict], list[Plan], dict]:
        unit = Unit(rows, today, self.refs)
        plans = [PLANNERS[cr.rule.kind](cr, unit) for cr in self.compiled]
        decided = self.decide(plans)
        findings = []
        for plan, d in zip(plans, decided):
            findings.extend(self._findings(plan, plan.finish(d)))
        return findings, plans, unit.versions_used

    def _findings(self, plan: Plan, hits: list[Hit]) -> list[dict]:
        cr = plan.rule
        rule = cr.rule
        claim_level = plan.claim_level
        over = rule.over
        out = []
        for h in hits:
            base, env = h.row, h.env
            reference = rule.reference
            if cr.evidence is not None:
                reference += " | " + cr.evidence(env)
            ref, kind = _versioned_ref(rule, env)
            if ref is not None:
                v = ref["_version"]
                reference += " | " + ("" if v is None else _version_text(kind, v))
            own = env.get(None)
            if rule.subject and own is not None and rule.subject in own:
                subject = subject_text(own[rule.subject])
            elif rule.subject:
                subject = rule.subject
            else:
                subject = subject_text(base.get("code") if over == "diagnoses" else base.get("procedure_code"))
            if rule.variant:
                subject = rule.variant + ":" + subject
            line = None if claim_level else base["line_number"]
            related = h.related["line_number"] if h.related is not None else None
            out.append({
                "rule_id": rule.id, "category": rule.category, "severity": rule.severity,
                "claim_id": base["claim_id"], "line_number": line, "related_line": related,
                "member_id": base["member_id"], "billing_npi": base["billing_npi"],
                "rendering_npi": base["rendering_npi"], "service_date": base["service_date"],
                "procedure_code": None if claim_level else base["procedure_code"],
                "message": cr.message(env), "reference": reference,
                "amount_at_risk": None if base["charge"] is None else max(base["charge"], 0.0),
                "fingerprint": fingerprint(rule.id, base["claim_id"], line, related, subject),
                "source_file": base["source_file"],
            })
        return out

    def input_findings(self, found: list[dict], rows: list[dict], coverage: Coverage | None = None) -> list[dict]:
        """Reader findings of ``input`` rules, filled from each claim's first line (batch.input_findings)."""
        firsts: dict = {}
        for r in rows:
            firsts.setdefault(r["claim_id"], r)
        out = []
        for rule in self.input_rules:
            if coverage is not None:
                coverage.add_input(rule, len(rows))
            mine = [f for f in found if f.get("rule_id") == rule.id]
            if not mine:
                continue
            fill = [c for c in ("member_id", "billing_npi", "rendering_npi", "service_date")
                    if all(_missing(f.get(c)) for f in mine)]
            has_subject = any("subject" in f for f in mine)
            for f in mine:
                rec = {c: f.get(c) for c in FINDING_COLUMNS}
                rec["category"], rec["severity"] = rule.category, rule.severity
                rec["reference"] = f.get("reference") if not _missing(f.get("reference")) else rule.reference
                first = firsts.get(f.get("claim_id"))
                for c in fill:
                    rec[c] = first[c] if first is not None else None
                subject = (f.get("subject") if not _missing(f.get("subject")) else "") if has_subject \
                    else f.get("message")
                rec["fingerprint"] = fingerprint(rule.id, f.get("claim_id"), f.get("line_number"),
                                                 f.get("related_line"), "" if subject is None else str(subject))
                out.append(rec)
        return out

    # -- public API --------------------------------------------------------------------------------
    def evaluate_rows(self, rows: list[dict], reader_findings: list[dict] | None = None,
                      as_of: date | None = None) -> list[dict]:
        """Findings (dicts with FINDING_COLUMNS) for one request: its lines are one unit."""
        today = as_of or self.as_of or date.today()
        findings, _plans, used = self._run_unit(rows, today)
        self._note(used)
        findings.extend(self.input_findings(reader_findings or [], rows))
        findings.sort(key=_sort_key)
        return findings

    def evaluate(self, lines: pd.DataFrame, rules=None, store=None, as_of: date | None = None,
                 reader_findings: list[dict] | None = None):
        """Same signature and result as :func:`auditor.engine.batch.evaluate`, one member at a time."""
        today = as_of or self.as_of or date.today()
        rows = rows_from_frame(lines.reset_index(drop=True))
        coverage = Coverage()
        findings: list[dict] = []
        used: dict = {}
        for unit_rows in member_units(rows):
            f, plans, u = self._run_unit(unit_rows, today)
            findings.extend(f)
            coverage.add_unit(plans)
            for k, n in u.items():
                used[k] = used.get(k, 0) + n
        self._note(used)
        findings.extend(self.input_findings(reader_findings or [], rows, coverage))
        findings.sort(key=_sort_key)
        frame = to_frame(findings)
        return frame, coverage.frame(self.refs.store, self.rules), SimpleNamespace(versions_used=used, lines=lines)

    def _note(self, used: dict) -> None:
        with self._lock:
            for k, n in used.items():
                self.versions_used[k] = self.versions_used.get(k, 0) + n

    def close(self) -> None:
        """Release engine resources (nothing to release for the Python engine)."""


def _versioned_ref(rule: Rule, env: dict):
    """The namespace whose table row explains the finding, and its table kind (as the batch engine)."""
    for alias, kind in version_sources(rule):
        row = env.get(alias)
        if row is not None and "_version" in row:
            return row, kind
    return None, None


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and v != v)


def to_frame(findings: list[dict]) -> pd.DataFrame:
    """Finding dicts -> the findings table (auditor.findings columns and dtypes)."""
    if not findings:
        return empty_findings()
    return conform(pd.DataFrame(findings, columns=FINDING_COLUMNS))
