"""One audit run: read claims -> load rules -> evaluate -> findings, coverage, provenance, summary."""

from __future__ import annotations

import logging
import platform
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from auditor import __version__
from auditor.claims.mapping import load_mapping
from auditor.claims.normalize import combine, normalize
from auditor.claims.readers import read_file
from auditor.engine.batch import evaluate
from auditor.engine.result import AuditResult
from auditor.errors import InputError
from auditor.findings import CATEGORIES, SEVERITIES
from auditor.rules.loader import load_rules, rule_pack_hash, select_rules

log = logging.getLogger("auditor")


def open_store(refdata: str | Path | None):
    """The reference-data store for a run: imported data under `refdata` plus the built-in sets."""
    from auditor.refdata.store import RefStore

    root = Path(refdata) if refdata else None
    if root is not None and not root.exists():
        raise InputError(f"{root}: reference data folder not found (import data with 'auditor refdata import')")
    return RefStore(root, builtin=True)


def read_claims(inputs: Iterable[str | Path], mapping: str | Path | None = None):
    """Read and normalize every input file; returns (lines, reader findings, input descriptions)."""
    mp = load_mapping(mapping)
    frames, found, described = [], [], []
    start = 0
    paths = [Path(p) for p in inputs]
    if not paths:
        raise InputError("no input files given")
    for p in paths:
        res = read_file(p, mp)
        source_rows = res.frame.pop("source_row") if "source_row" in res.frame.columns else None
        if source_rows is not None:
            source_rows = pd.to_numeric(source_rows, errors="coerce").fillna(0).astype("int64")
        frame = normalize(res.frame, p.name, start_row=start, source_rows=source_rows)
        start += len(frame)
        frames.append(frame)
        for f in res.input_findings:
            found.append({**f, "source_file": p.name})
        described.append({"file": str(p), "name": p.name, "sha256": res.sha256, "lines": len(frame),
                          "rows_rejected": res.rows_rejected})
        log.info("read %s: %d lines", p.name, len(frame))
    return combine(frames), found, described


def summarize(lines: pd.DataFrame, findings: pd.DataFrame, inputs: list[dict], coverage: pd.DataFrame) -> dict:
    by_sev = findings["severity"].value_counts().reindex(SEVERITIES, fill_value=0)
    by_cat = findings["category"].value_counts()
    # Dollars at risk: each flagged line's charge once; a claim-level finding counts the claim once.
    line_level = findings[findings["line_number"].notna()].drop_duplicates(["claim_id", "line_number"])
    claim_level = findings[findings["line_number"].isna()].drop_duplicates("claim_id")
    claim_level = claim_level[~claim_level["claim_id"].isin(line_level["claim_id"])]
    at_risk = float(line_level["amount_at_risk"].sum() + claim_level["amount_at_risk"].sum())
    return {
        "files": len(inputs),
        "claims": int(lines["claim_id"].nunique()) + int(lines["claim_id"].isna().any()),
        "lines_read": int(sum(i["lines"] + i.get("rows_rejected", 0) for i in inputs)),
        "lines_audited": int(len(lines)),
        "rows_rejected": int(sum(i.get("rows_rejected", 0) for i in inputs)),
        "claims_with_findings": int(findings["claim_id"].nunique()),
        "lines_with_findings": int(len(line_level)),
        "findings": int(len(findings)),
        "findings_by_severity": {k: int(v) for k, v in by_sev.items()},
        "findings_by_category": {k: int(by_cat.get(k, 0)) for k in CATEGORIES if by_cat.get(k, 0)},
        "amount_at_risk": round(at_risk, 2),
        "total_charges": round(float(lines["charge"].sum()), 2),
        "rules_run": int(coverage["rule_id"].nunique()) if len(coverage) else 0,
        "rules_not_checked": int((coverage["status"] == "not checked").sum()) if len(coverage) else 0,
        "rules_partial": int((coverage["status"] == "partial").sum()) if len(coverage) else 0,
    }


def default_producers() -> list[Callable]:
    """Findings of kind ``input`` rules computed from the lines: provider utilization (UTIL*)."""
    try:
        from auditor.review.utilization import producer
    except ModuleNotFoundError as exc:   # the review package is optional
        if exc.name and exc.name.startswith("auditor.review"):
            return []
        raise
    return [producer()]


def _filter_lines(lines: pd.DataFrame, reader_findings: list[dict], line_filter: Callable):
    """Keep the lines `line_filter` selects (renumbering `_row`) and the reader findings of their claims."""
    keep = np.asarray(line_filter(lines), dtype=bool)
    if len(keep) != len(lines):
        raise ValueError("line_filter must return one boolean per line")
    left_out = int((~keep).sum())
    if not left_out:
        return lines, reader_findings, 0
    gone = set(lines.loc[~keep, "claim_id"].dropna()) - set(lines.loc[keep, "claim_id"].dropna())
    lines = lines[keep].reset_index(drop=True)
    lines["_row"] = np.arange(len(lines), dtype=np.int64)   # the engine's line identity is 0..n-1
    reader_findings = [f for f in reader_findings if f.get("claim_id") is None or f.get("claim_id") not in gone]
    return lines, reader_findings, left_out


def run_audit(inputs: Iterable[str | Path], *, mapping: str | Path | None = None,
              rule_dirs: Iterable[str | Path] = (), select: list[str] | None = None,
              ignore: list[str] | None = None, refdata: str | Path | None = None,
              as_of: date | None = None, default_rules: bool = True, store=None, rules=None,
              step: Callable[[str], None] | None = None,
              line_filter: Callable[[pd.DataFrame], "pd.Series"] | None = None,
              producers: Iterable[Callable] | None = None,
              evaluator: Callable | None = None) -> AuditResult:
    """Audit claim files with a rule pack and reference data; nothing is written here.

    `line_filter(lines)` returns a boolean mask of the canonical lines to audit (e.g. one review
    period); the others are left out and counted in ``summary["lines_left_out"]``.
    `producers` are callables ``(lines, rules) -> [finding dicts]`` raising the findings of kind
    ``input`` rules besides the readers' (default: `default_producers()`).
    `evaluator` replaces the batch engine's ``evaluate`` (same signature), e.g. a per-claim engine's.
    """
    started = datetime.now(timezone.utc)
    step = step or (lambda _msg: None)
    step("reading claims")
    lines, reader_findings, inputs_desc = read_claims(inputs, mapping)
    left_out = 0
    if line_filter is not None:
        lines, reader_findings, left_out = _filter_lines(lines, reader_findings, line_filter)
    step("loading rules")
    if rules is None:
        rules = select_rules(load_rules([Path(d) for d in rule_dirs], include_default=default_rules),
                             select, ignore)
    store = store if store is not None else open_store(refdata)
    for produce in default_producers() if producers is None else producers:
        reader_findings = reader_findings + list(produce(lines, rules))
    step(f"evaluating {len({r.id for r in rules})} rules over {len(lines):,} lines")
    findings, coverage, ctx = (evaluator or evaluate)(lines, rules, store, as_of=as_of,
                                                      reader_findings=reader_findings)
    if len(lines) + left_out != sum(i["lines"] for i in inputs_desc):  # nothing may be lost between reading and audit
        raise RuntimeError("line count mismatch between files read and lines audited")
    refdata_versions = []
    for (kind, vid), n in sorted(ctx.versions_used.items()):
        v = next((x for x in store.versions(kind) if x.version_id == vid), None)
        refdata_versions.append({"kind": kind, "version_id": vid, "source": getattr(v, "source", ""),
                                 "sha256": getattr(v, "sha256", ""), "builtin": bool(getattr(v, "builtin", False)),
                                 "rows_checked": n})
    provenance = {
        "auditor_version": __version__,
        "python": platform.python_version(),
        "rule_pack_hash": rule_pack_hash(rules),
        "rules": len({r.id for r in rules}),
        "refdata_dir": str(refdata) if refdata else None,
        "refdata_versions": refdata_versions,
        "inputs": [{k: v for k, v in i.items() if k != "name"} for i in inputs_desc],
        "as_of": (as_of or date.today()).isoformat(),
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "select": select or [], "ignore": ignore or [],
    }
    summary = summarize(lines, findings, inputs_desc, coverage)
    summary["lines_left_out"] = left_out
    return AuditResult(findings=findings, lines=lines, coverage=coverage, rules=rules,
                       provenance=provenance, summary=summary)
