"""A verdict per claim from its findings and the disposition rules; verdicts.csv / verdicts.json."""

from __future__ import annotations

import csv
import json
import math
import os
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from auditor.findings import FINDING_COLUMNS, SEVERITIES
from auditor.scrub.dispositions import RANK, VERDICTS, Dispositions

VERDICT_COLUMNS = ["claim_id", "verdict", "lines", "total_charge", "findings", "error", "warning", "info",
                   "rule_ids", "reasons"]


@dataclass
class Verdict:
    claim_id: str | None
    verdict: str
    lines: int
    total_charge: float
    counts: dict[str, int]
    rule_ids: list[str]
    reasons: list[dict]                       # the dispositions that gave the verdict: {verdict, reason, rule_ids}
    findings: list[dict] = field(default_factory=list)   # the claim's findings, each with its `disposition`

    @property
    def held(self) -> bool:
        return self.verdict in ("hold", "reject")

    def as_dict(self, with_findings: bool = True) -> dict:
        out = {"claim_id": self.claim_id, "verdict": self.verdict, "lines": self.lines,
               "total_charge": _finite(round(self.total_charge, 2)), "counts": dict(self.counts),
               "rule_ids": list(self.rule_ids), "reasons": [dict(r) for r in self.reasons]}
        if with_findings:
            out["findings"] = [jsonable(f) for f in self.findings]
        return out


def claim_facts(lines: list[dict]) -> dict[str | None, dict]:
    """claim id -> the fields the claim rules see (lines, total charge, type, payer ...), from line rows."""
    claims: dict = {}
    for r in lines:
        c = claims.get(r["claim_id"])
        if c is None:
            c = claims[r["claim_id"]] = {
                "claim_id": r["claim_id"], "member_id": r.get("member_id"), "claim_type": r.get("claim_type"),
                "payer": r.get("payer"), "type_of_bill": r.get("type_of_bill"),
                "place_of_service": r.get("place_of_service"), "lines": 0, "_charges": []}
        c["lines"] += 1
        if r.get("charge") is not None:
            c["_charges"].append(r["charge"])
    for c in claims.values():
        c["total_charge"] = math.fsum(c.pop("_charges"))
    return claims


def decide(findings: list[dict], claims: dict[str | None, dict], dispositions: Dispositions) -> list[Verdict]:
    """One verdict per claim (claims with lines, and claims only findings name), in claim order."""
    by_claim: dict = {}
    for f in findings:
        by_claim.setdefault(f.get("claim_id"), []).append(f)
    ids = list(claims) + [c for c in by_claim if c not in claims and c is not None]
    out = []
    for cid in ids:
        facts = dict(claims.get(cid) or {"claim_id": cid, "member_id": None, "claim_type": None, "payer": None,
                                         "type_of_bill": None, "place_of_service": None, "lines": 0,
                                         "total_charge": 0.0})
        mine = by_claim.get(cid, [])
        counts = {s: 0 for s in SEVERITIES}
        at_risk = 0.0
        for f in mine:
            if f.get("severity") in counts:
                counts[f["severity"]] += 1
            if f.get("amount_at_risk") is not None and f["amount_at_risk"] == f["amount_at_risk"]:
                at_risk += f["amount_at_risk"]
        facts.update(counts, findings=len(mine), amount_at_risk=at_risk)
        verdict, reasons = "pass", {}
        annotated = []
        for f in mine:
            v, rule = dispositions.finding_verdict(f, facts)
            name = rule.reason if rule is not None else f"no disposition rule matched: default {v}"
            annotated.append({**f, "disposition": v})
            verdict = max(verdict, v, key=RANK.__getitem__)
            reasons.setdefault((v, name), []).append(f.get("rule_id"))
        for rule in dispositions.claim_rules(facts):
            verdict = max(verdict, rule.verdict, key=RANK.__getitem__)
            reasons.setdefault((rule.verdict, rule.reason), [])
        led = [{"verdict": v, "reason": why, "rule_ids": sorted(set(filter(None, rids)))}
               for (v, why), rids in reasons.items() if v == verdict and v != "pass"]
        out.append(Verdict(cid, verdict, int(facts["lines"]), float(facts["total_charge"]), counts,
                           sorted({f.get("rule_id") for f in mine if f.get("rule_id")}), led, annotated))
    return out


def summary(verdicts: list[Verdict]) -> dict[str, int]:
    counts = {v: 0 for v in VERDICTS}
    for v in verdicts:
        counts[v.verdict] += 1
    return counts


def _finite(v):
    """JSON has no NaN or infinity: such a number (e.g. a charge of 'inf' in the file) is null."""
    return v if not isinstance(v, float) or math.isfinite(v) else None


def jsonable(f: dict) -> dict:
    """A finding dict with plain JSON values (dates as YYYY-MM-DD, NaN and infinity as null)."""
    out = {}
    for k, v in f.items():
        if isinstance(v, (datetime, date)):
            v = v.strftime("%Y-%m-%d")
        elif hasattr(v, "item") and not isinstance(v, (str, bytes)):
            v = v.item()
        out[k] = _finite(v)
    return out


def _atomic_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8", newline="")
    os.replace(tmp, path)


def write_verdicts(verdicts: list[Verdict], out_dir: str | os.PathLike, extra: dict | None = None) -> dict[str, Path]:
    """verdicts.csv (one row per claim) and verdicts.json (with each claim's findings and reasons)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    import io

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(VERDICT_COLUMNS)
    for v in verdicts:
        w.writerow([v.claim_id or "", v.verdict, v.lines, f"{v.total_charge:.2f}", sum(v.counts.values()),
                    v.counts["error"], v.counts["warning"], v.counts["info"], ";".join(v.rule_ids),
                    "; ".join(f"{r['verdict']}: {r['reason']}" + (f" ({', '.join(r['rule_ids'])})" if r["rule_ids"]
                                                                   else "") for r in v.reasons)])
    csv_path, json_path = out / "verdicts.csv", out / "verdicts.json"
    _atomic_text(csv_path, buf.getvalue())
    doc = {"summary": summary(verdicts), **(extra or {}), "claims": [v.as_dict() for v in verdicts]}
    _atomic_text(json_path, json.dumps(doc, indent=1, ensure_ascii=False, default=str, allow_nan=False) + "\n")
    return {"csv": csv_path, "json": json_path}


def report_section(verdicts: list[Verdict]) -> dict:
    """The verdicts as an extra section of the HTML/Excel reports (auditor.report.writer)."""
    rows = [[v.claim_id or "", v.verdict, v.lines, round(v.total_charge, 2), v.counts["error"], v.counts["warning"],
             v.counts["info"], ", ".join(v.rule_ids), "; ".join(r["reason"] for r in v.reasons)]
            for v in sorted(verdicts, key=lambda v: (-RANK[v.verdict], v.claim_id or ""))]
    s = summary(verdicts)
    return {"id": "verdicts", "title": "Scrub verdicts", "kind": "table", "position": "top",
            "text": ", ".join(f"{n} {k}" for k, n in s.items()),
            "columns": ["claim_id", "verdict", "lines", "total_charge", "error", "warning", "info", "rule_ids",
                        "reasons"],
            "rows": rows, "formats": {"total_charge": "money", "lines": "int", "error": "int", "warning": "int",
                                      "info": "int"}}


def finding_dicts(findings) -> list[dict]:
    """The findings table (DataFrame) as finding dicts with plain Python values."""
    from auditor.engine.perclaim.rows import rows_from_frame

    if findings is None or not len(findings):
        return []
    return rows_from_frame(findings[FINDING_COLUMNS].reset_index(drop=True))
