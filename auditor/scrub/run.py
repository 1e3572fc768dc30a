"""``auditor scrub`` on files: the audit pipeline, then a verdict per claim, then clean/held 837s."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable, Iterable

import pandas as pd

from auditor.engine.result import AuditResult
from auditor.errors import InputError
from auditor.scrub.core import ENGINES, split_file_findings
from auditor.scrub.dispositions import Dispositions, load
from auditor.scrub.verdicts import Verdict, decide, finding_dicts

log = logging.getLogger("auditor")


@dataclass
class ScrubResult:
    audit: AuditResult
    verdicts: list[Verdict]
    engine: str
    dispositions: Dispositions
    file_findings: list[dict] = field(default_factory=list)
    notice: str | None = None

    @property
    def exit_code(self) -> int:
        """0 when every claim may go (pass or warn), 1 when any is held or rejected."""
        return int(any(v.held for v in self.verdicts))


def claim_facts_frame(lines: pd.DataFrame) -> dict:
    """claim id -> the fields claim disposition rules see (as verdicts.claim_facts), from a line frame."""
    if not len(lines):
        return {}
    cols = ["claim_id", "member_id", "claim_type", "payer", "type_of_bill", "place_of_service"]
    first = lines.drop_duplicates("claim_id")[cols].astype(object)
    key = lines["claim_id"].astype(object).fillna("\0")  # group the lines without a claim id together
    size = key.value_counts(sort=False)
    total = lines["charge"].groupby(key, sort=False).sum()
    out = {}
    for rec in first.to_dict("records"):
        rec = {c: (None if pd.isna(v) else v) for c, v in rec.items()}
        k = "\0" if rec["claim_id"] is None else rec["claim_id"]
        out[rec["claim_id"]] = {**rec, "lines": int(size[k]), "total_charge": float(total[k])}
    return out


def run_scrub(inputs: Iterable[str | Path], *, engine: str = "batch", mapping=None, rule_dirs=(),
              select=None, ignore=None, refdata=None, as_of: date | None = None, default_rules: bool = True,
              dispositions: str | Path | None = None, step: Callable[[str], None] | None = None) -> ScrubResult:
    """Audit the files with the chosen engine and decide a verdict per claim (nothing is written)."""
    from auditor.audit import open_store, run_audit
    from auditor.rules.loader import load_rules, select_rules

    if engine not in ENGINES:
        raise InputError(f"unknown engine {engine!r} (choose from {', '.join(ENGINES)})")
    disp = load(dispositions, rule_dirs, default_rules)  # a broken dispositions file fails before any work
    rules = select_rules(load_rules([Path(d) for d in rule_dirs], include_default=default_rules), select, ignore)
    store = open_store(refdata)
    evaluator, notice, name = None, None, "batch"
    per_claim = None
    if engine != "batch":
        from auditor.engine.perclaim import make_engine

        per_claim = make_engine(engine, rules, store, as_of)
        evaluator, name = per_claim.evaluate, per_claim.name
        notice = getattr(per_claim, "notice", None)
    try:
        # provider utilization statistics (review-time input rules) say nothing about single claims
        result = run_audit(inputs, mapping=mapping, rules=rules, store=store, as_of=as_of, step=step,
                           refdata=refdata, select=select, ignore=ignore, producers=(), evaluator=evaluator)
    finally:
        if per_claim is not None:
            per_claim.close()
    result.provenance["engine"] = name
    findings = finding_dicts(result.findings)
    claims = claim_facts_frame(result.lines)
    own, loose = split_file_findings(findings, [{"claim_id": c} for c in claims])
    verdicts = decide(own, claims, disp)
    return ScrubResult(result, verdicts, name, disp, loose, notice)


def write_clean_held(inputs: Iterable[str | Path], verdicts: list[Verdict], clean: str | None,
                     held: str | None) -> dict:
    """Split the claims of the 837 inputs into a clean file (pass, warn) and a held file (hold, reject).

    Each claim is written with its original loops under new, correct envelopes (auditor.x12.write_837).
    A claim without a verdict (no claim id) is held. Returns what was written.
    """
    from auditor.x12 import is_x12, read_837, write_837

    x12_inputs = [Path(p) for p in inputs if is_x12(p)]
    if not x12_inputs:
        raise InputError("--clean/--held write 837 files: give at least one X12 837 input")
    verdict_of = {v.claim_id: v.verdict for v in verdicts}
    go, stop = [], []
    for p in x12_inputs:
        for env in read_837(p).claims:
            v = verdict_of.get(env.claim_id) if env.claim_id is not None else None
            (go if v in ("pass", "warn") else stop).append(env)
    out = {}
    for path, envs, what in ((clean, go, "clean"), (held, stop, "held")):
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            s = write_837(envs, path)
            out[what] = {"path": str(path), "claims": s.claims, "interchanges": s.interchanges,
                         "transactions": s.transactions, "skipped": s.skipped}
            log.info("wrote %d %s claims to %s", s.claims, what, Path(path).name)
    return out
