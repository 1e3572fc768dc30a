"""The batch engine: evaluate a rule pack over a whole line frame, vectorized.

Every line-level scope is within one member, so ``evaluate`` gives the same findings on any
partition of the lines grouped by member_id (the basis for running it on Spark partitions).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from auditor.engine import allocator
from auditor.engine.context import Context, take_rows
from auditor.engine.kinds import EVALUATORS, Hits, missing_inputs
from auditor.engine.result import COVERAGE_COLUMNS
from auditor.engine.vector import Env, render, value_cache
from auditor.engine.views import VIEWS, sources, split_version
from auditor.findings import conform, empty_findings, fingerprints
from auditor.rules.model import Rule

TABLE_LABELS = {
    "icd10cm": "ICD-10-CM code set", "ptp_practitioner": "NCCI PTP (practitioner)",
    "ptp_hospital": "NCCI PTP (outpatient hospital)", "mue_practitioner": "MUE (practitioner)",
    "mue_hospital": "MUE (outpatient hospital)", "mue_dme": "MUE (DME supplier)", "hcpcs": "HCPCS Level II file",
    "aoc": "NCCI add-on code edits", "mpfs": "physician fee schedule (PPRRVU)", "mce": "Medicare Code Editor lists",
    "mce_age_groups": "MCE age groups", "excludes1": "ICD-10-CM Excludes1 notes", "lcd_hcpc": "LCD article HCPCS codes",
    "lcd_icd10_covered": "LCD article covered ICD-10 codes", "frequency_limits": "frequency limits table",
    "timely_filing_limits": "timely filing limits table", "lcd_icd10_noncovered": "LCD article non-covered ICD-10 codes",
}


def table_label(kind: str) -> str:
    if kind in VIEWS:
        return VIEWS[kind].label or kind
    return TABLE_LABELS.get(kind, kind)


def _not_imported(kind: str) -> str:
    label = table_label(kind)
    # "no HCPCS Level II file imported", "no MUE (practitioner) data imported"
    noun = label.endswith(("file", "table", "lists", "notes", "edits", "groups", "codes", "set"))
    return f"no {label} imported" if noun else f"no {label} data imported"


def _dates_text(dates: pd.Series, limit: int = 3) -> str:
    dates = pd.to_datetime(dates.dropna())
    uniq = sorted(pd.Series(pd.unique(dates), dtype=dates.dtype).dt.strftime("%Y-%m-%d").unique())
    if not uniq:
        return "lines without a date of service"
    text = ", ".join(uniq[:limit])
    return text + (f" and {len(uniq) - limit} more dates" if len(uniq) > limit else "")


def version_sources(rule: Rule) -> list[tuple[str, str]]:
    """(namespace, table kind) pairs whose row can explain a finding, most specific first."""
    cands = []
    if rule.join is not None:
        cands.append(("ref", rule.join.table))
    if rule.kind == "frequency" and rule.table:
        cands.append(("ref", rule.table))
    return cands + [(lk.alias, lk.table) for lk in rule.lookups]


def _versioned_ref(rule: Rule, hits: Hits):
    """The namespace whose table row explains the finding, and that table's kind."""
    for alias, kind in version_sources(rule):
        frame = hits.env.get(alias)
        if frame is not None and "_version" in getattr(frame, "columns", []):
            return frame, kind
    return None, None


def _version_text(kind: str, version_id: str) -> str:
    """'NCCI PTP (practitioner) version v322r0'; a view names the versions it was built from."""
    return ", ".join(f"{table_label(k)} version {v}" for k, v in split_version(kind, str(version_id)))


def _na_ints(n: int) -> pd.arrays.IntegerArray:
    """n empty values as Int64 (as pd.array([pd.NA] * n, dtype="Int64"), without the list)."""
    return pd.arrays.IntegerArray(np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool))


# The flagged rows' columns a finding copies (only these are taken from the frame).
_BASE_COLUMNS = ("claim_id", "line_number", "member_id", "billing_npi", "rendering_npi", "service_date",
                 "procedure_code", "charge", "source_file")


_NONE = pd.DataFrame()


def _findings(rule: Rule, hits: Hits, ctx: Context) -> pd.DataFrame:
    n = len(hits.rows)
    if n == 0:
        return _NONE  # (evaluate drops empty pieces: no copy of an empty table per rule)
    frame = ctx.frame(hits.over)
    cols = [c for c in _BASE_COLUMNS + (("code",) if hits.over == "diagnoses" else ()) if c in frame.columns]
    base = take_rows(frame, np.asarray(hits.rows), cols if len(cols) == len(set(cols)) else None)
    env = Env(hits.env, n, ctx.as_of, rule.id)
    message = render(rule.message_parts, env)
    reference = pd.Series(np.full(n, rule.reference, dtype=object), dtype=object)
    if rule.evidence:
        reference = reference + " | " + render(rule.evidence_parts, env)
    ref, kind = _versioned_ref(rule, hits)
    if ref is not None:
        vids = ref["_version"].astype(object)
        text = {v: _version_text(kind, v) for v in pd.unique(vids.dropna())}
        reference = reference + " | " + vids.map(text).astype(object).where(vids.notna(), "")  # (text)
    related = _na_ints(n)
    if hits.related is not None:
        rel = np.asarray(hits.related)
        has = rel >= 0
        related = pd.array(ctx.lines["line_number"].array, dtype="Int64").take(np.where(has, rel, -1), allow_fill=True)
    if rule.subject and rule.subject in hits.env[None].columns:
        subject = hits.env[None][rule.subject]
    elif rule.subject:
        subject = pd.Series([rule.subject] * n)
    else:
        subject = base["code"] if hits.over == "diagnoses" else base["procedure_code"]
    line_number = _na_ints(n) if hits.claim_level else base["line_number"].array
    out = pd.DataFrame({
        "rule_id": rule.id, "category": rule.category, "severity": rule.severity,
        "claim_id": base["claim_id"], "line_number": line_number, "related_line": related,
        "member_id": base["member_id"], "billing_npi": base["billing_npi"],
        "rendering_npi": base["rendering_npi"], "service_date": base["service_date"],
        "procedure_code": None if hits.claim_level else base["procedure_code"],
        "message": message, "amount_at_risk": base["charge"].clip(lower=0), "reference": reference,
        "source_file": base["source_file"].astype(object),
    })
    subj = subject.astype(object).where(subject.notna(), "").astype(str).to_numpy()
    if rule.variant:
        subj = np.char.add(rule.variant + ":", subj.astype(str))
    out["_subject"] = subj  # fingerprinted with every rule's findings at once (see evaluate)
    return out


def _fingerprinted(found: pd.DataFrame) -> pd.DataFrame:
    """Fill the fingerprints of the rules' findings (rows with a ``_subject``) in one call: the same
    values as per rule, without its fixed cost for every rule."""
    if "_subject" not in found.columns:
        return found
    mine = found["_subject"].notna().to_numpy()
    if mine.any():
        sub = found[mine]
        fp = fingerprints(sub["rule_id"], sub["claim_id"], sub["line_number"], sub["related_line"], sub["_subject"])
        if "fingerprint" not in found.columns:
            found["fingerprint"] = None
        found.loc[mine, "fingerprint"] = fp.to_numpy()
    return found.drop(columns="_subject")


def input_findings(rule: Rule, found: list[dict], lines: pd.DataFrame) -> pd.DataFrame:
    """Findings a reader raised (e.g. X12 structure) for an ``input`` rule, filled from the claim's lines."""
    rows = [f for f in found if f.get("rule_id") == rule.id]
    if not rows:
        return empty_findings()
    df = pd.DataFrame(rows)
    df["category"], df["severity"] = rule.category, rule.severity
    df["reference"] = df.get("reference", pd.Series([None] * len(df))).fillna(rule.reference)
    if len(lines):
        firsts = lines.drop_duplicates("claim_id").set_index("claim_id")
        for c in ("member_id", "billing_npi", "rendering_npi", "service_date"):
            if c not in df or df[c].isna().all():
                df[c] = df["claim_id"].map(firsts[c]) if "claim_id" in df else None
    for c in ("line_number", "related_line"):
        if c not in df:
            df[c] = None
    df["fingerprint"] = fingerprints(df["rule_id"], df["claim_id"].astype(object), df["line_number"],
                                     df["related_line"], df.get("subject", df["message"]))
    return conform(df.drop(columns=[c for c in ("subject",) if c in df]))


def coverage_row(rule: Rule, applicable: int, not_checked: int, missing: dict, store,
                 inputs: dict | None = None) -> dict:
    """One coverage line; `inputs` = `missing_inputs()` of the rule (required columns left empty)."""
    if applicable == 0:
        status, reason = "checked", "no lines this rule applies to"
    elif not_checked == 0:
        status, reason = "checked", ""
    else:
        status = "not checked" if not_checked >= applicable else "partial"
        parts = []
        for kind, dates in missing.items():
            absent = [k for k in sources(kind) if not store.versions(k)]
            if absent:
                parts.extend(_not_imported(k) for k in absent)
            elif kind in VIEWS and dates.notna().any():  # name the source without a version on those dates
                dated = dates[dates.notna().to_numpy()]
                for k in sources(kind):
                    gap = store.version_for_dates(k, dated).isna().to_numpy()
                    if gap.any():
                        parts.append(f"no {table_label(k)} data for {_dates_text(dated[gap])}")
            else:
                parts.append(f"no {table_label(kind)} data for {_dates_text(dates)}")
        for col, n in (inputs or {}).items():
            if col.startswith("_"):
                continue
            where = f"{n} line(s)" if rule.over == "lines" else f"{inputs['_claims']} claim(s) ({n} diagnosis rows)"
            parts.append(f"no {col} on {where}")
        reason = "; ".join(dict.fromkeys(parts)) or "reference data missing"
    return {"rule_id": rule.id, "title": rule.title, "category": rule.category, "status": status,
            "lines_checked": int(applicable - not_checked), "lines_not_checked": int(not_checked), "reason": reason}


def evaluate(lines: pd.DataFrame, rules: list[Rule], store, as_of: date | None = None,
             reader_findings: list[dict] | None = None) -> tuple[pd.DataFrame, pd.DataFrame, Context]:
    """Run the rules over the canonical line frame; return (findings, coverage, context)."""
    as_of = as_of or date.today()
    allocator.tune()
    ctx = Context(lines, store, as_of)
    pieces, cov = [], {}
    with value_cache():  # columns' encodings shared by the rules of this run, dropped after it
        for rule in rules:
            if rule.kind == "input":
                pieces.append(input_findings(rule, reader_findings or [], ctx.lines))
                cov.setdefault(rule.id, [rule, 0, 0, {}, {}])[1] += len(ctx.lines)
                continue
            hits = EVALUATORS[rule.kind](rule, ctx)
            pieces.append(_findings(rule, hits, ctx))
            acc = cov.setdefault(rule.id, [rule, 0, 0, {}, {}])
            # Rows left out for an empty required input were not checked: they count as applicable.
            lacking = missing_inputs(rule, ctx)
            extra = lacking.get("_rows", 0)
            # for_each variants check the same lines: count them once.
            acc[1] = max(acc[1], hits.applicable + extra)
            acc[2] = max(acc[2], hits.not_checked + extra)
            for k, v in hits.missing.items():
                acc[3][k] = pd.concat([acc[3][k], v]) if k in acc[3] else v
            for k, v in lacking.items():
                acc[4][k] = max(acc[4].get(k, 0), v)
    pieces = [p for p in pieces if len(p)]
    findings = conform(_fingerprinted(pd.concat(pieces, ignore_index=True))) if pieces else empty_findings()
    if len(findings):
        findings = findings.sort_values(["claim_id", "line_number", "rule_id"], na_position="first",
                                        kind="stable").reset_index(drop=True)
    coverage = pd.DataFrame([coverage_row(r, a, nc, m, ctx.store, inp) for r, a, nc, m, inp in cov.values()],
                            columns=COVERAGE_COLUMNS)
    return findings, coverage, ctx
