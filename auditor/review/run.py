"""`auditor review`: one period's audit, recorded in the history and compared with the previous
period; also the --history/--waivers steps of `auditor audit`."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Callable

import pandas as pd

from auditor.audit import run_audit, summarize
from auditor.history.store import HistoryStore, RunRecord, display_url
from auditor.history.totals import dollars_by, run_totals
from auditor.review.compare import fingerprint_changes, pattern_table, trend_frames
from auditor.review.config import ReviewConfig, render
from auditor.review.period import Period, PeriodFilter
from auditor.review.sections import (comparison_sections, trend_sections, utilization_sections,
                                     waiver_sections)
from auditor.review.utilization import UtilizationProducer, load_providers, period_label
from auditor.review.waivers import WaiverOutcome, apply_waivers, from_store, load_waiver_file

log = logging.getLogger("auditor.review")
HISTORY_DEPTH = 120   # previous runs read for periods_in_a_row


@dataclass
class ReviewOutcome:
    result: object
    period: Period
    out_dir: Path
    written: dict
    run_id: int
    patterns: pd.DataFrame
    waivers: WaiverOutcome
    figures: dict = field(default_factory=dict)


def load_waivers(files: list[str], store: HistoryStore | None, scope: str | None):
    ws = [w for f in files for w in load_waiver_file(f)]
    if store is not None:
        ws += from_store(store.waivers(scope))
    return ws


def _open_summary(result, open_findings: pd.DataFrame, waived: int) -> dict:
    """The run summary recomputed over the open findings (waived ones are not counted)."""
    s = summarize(result.lines, open_findings, result.provenance.get("inputs") or [], result.coverage)
    s["lines_left_out"] = (result.summary or {}).get("lines_left_out", 0)
    s["findings_waived"] = waived
    return s


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")   # as findings.csv: spreadsheet formula starts


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    """CSV like findings.csv (UTF-8, CRLF, ISO dates, formula-like text quoted), written beside
    and moved into place so a reader never sees half a file."""
    safe = df.copy()
    for c in safe.columns:
        if safe[c].dtype == object:
            safe[c] = safe[c].map(lambda v: "'" + v if isinstance(v, str) and v.startswith(_FORMULA_START) else v)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        safe.to_csv(tmp, index=False, date_format="%Y-%m-%d", lineterminator="\r\n", encoding="utf-8")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def run_review(cfg: ReviewConfig, period: Period, *, as_of: date | None = None,
               step: Callable[[str], None] | None = None) -> ReviewOutcome:
    """Audit one period, compare it with the history, write the reports and record the run."""
    from auditor.cli.options import exit_code_for
    from auditor.report.writer import write_reports
    from auditor.review.config import expand_inputs

    step = step or (lambda _m: None)
    t0 = time.perf_counter()
    files = expand_inputs(cfg.inputs, period)
    step("opening the history store")
    store = HistoryStore(cfg.history)          # migrate before auditing: a bad URL fails fast
    providers = load_providers(cfg.providers) if cfg.providers else None
    waivers = load_waivers(cfg.waivers, store, cfg.name)
    pf = PeriodFilter(period, cfg.period_basis)
    util = UtilizationProducer(period.label, providers)
    result = run_audit(files, mapping=cfg.mapping, rule_dirs=cfg.rules, select=list(cfg.select),
                       ignore=list(cfg.ignore), refdata=cfg.refdata, as_of=as_of,
                       default_rules=not cfg.no_default_rules, step=step, line_filter=pf, producers=[util])
    t_audit = time.perf_counter()
    run_as_of = date.fromisoformat(result.provenance["as_of"])
    wo = apply_waivers(result.findings, waivers, run_as_of)
    result.findings = wo.open
    result.summary = _open_summary(result, wo.open, len(wo.waived))

    step("comparing with the history")
    current_totals = run_totals(wo.open)
    same = store.run(cfg.name, period.label)
    earlier = store.runs(cfg.name, before=period.start, limit=HISTORY_DEPTH)
    prev = earlier[0] if earlier else None
    totals = store.totals([r["id"] for r in earlier])
    per_run = [totals[totals["run_id"] == r["id"]] for r in earlier]
    patterns = pattern_table(current_totals, per_run)
    baseline = same or prev
    base_f = store.findings(baseline["id"]) if baseline else wo.open.iloc[0:0]
    changes, change_counts = fingerprint_changes(wo.open, base_f, set(result.lines["claim_id"].dropna()))
    trend_runs = list(reversed(earlier[: cfg.trend_periods - 1]))
    periods = [r["period"] for r in trend_runs] + [period.label]
    trends = trend_frames(periods, [totals[totals["run_id"] == r["id"]] for r in trend_runs] + [current_totals])

    dollars = dollars_by(wo.open, [])
    gap = None
    if prev and prev.get("period_end") and prev["period_end"] + timedelta(days=1) < period.start:
        gap = period.previous().label
    util_flagged = sum(int(r.table["flagged"].sum()) for r in util.results.values() if len(r.table)) \
        if util.results else None
    ctx = {
        "period": period, "scope": cfg.name, "previous": prev, "baseline": baseline, "gap": gap,
        "stats": {"basis": cfg.period_basis, "lines_read": int(result.summary.get("lines_read", 0)),
                  "lines_audited": int(len(result.lines)), "lines_outside": pf.lines_out,
                  "claims_outside": pf.claims_out, "undated": pf.undated_lines, "open": int(len(wo.open)),
                  "dollars": dollars, "waived": int(len(wo.waived))},
        "pattern_counts": patterns["status"].value_counts().to_dict() if len(patterns) else {},
        "change_counts": change_counts, "waiver_counts": wo.counts(), "expired_matches": wo.expired_matches,
        "utilization_flagged": util_flagged, "claims": int(result.summary.get("claims", 0)),
        "claims_with_findings": int(result.summary.get("claims_with_findings", 0)),
    }
    result.provenance["review"] = {
        "scope": cfg.name, "period": period.label, "period_start": period.start.isoformat(),
        "period_end": period.end.isoformat(), "period_basis": cfg.period_basis,
        "lines_outside_period": pf.lines_out, "claims_outside_period": pf.claims_out,
        "undated_lines_kept": pf.undated_lines, "history": display_url(store.url),
        "compared_with": prev["period"] if prev else None, "waiver_files": list(cfg.waivers),
        "providers": cfg.providers,
    }
    sections = (comparison_sections(ctx, patterns, changes) + trend_sections(trends, periods)
                + (waiver_sections(wo) if waivers else []) + utilization_sections(util.results))

    step("writing reports")
    out = Path(render(cfg.out, period)) if cfg.out else Path("reports") / f"review-{period.label}"
    title = f"Monthly review {period.label}" + (f" ({cfg.name})" if cfg.name != "default" else "")
    written = write_reports(result, out, formats=tuple(cfg.formats), extra_sections=sections, title=title)
    _write_csv(patterns, out / "patterns.csv")
    written["patterns"] = out / "patterns.csv"
    _write_csv(changes, out / "finding_changes.csv")
    written["finding_changes"] = out / "finding_changes.csv"
    if len(wo.status):
        _write_csv(wo.status, out / "waivers.csv")
        written["waivers"] = out / "waivers.csv"
    t_reports = time.perf_counter()

    step("recording the run in the history")
    run_id = store.record(RunRecord(scope=cfg.name, period=period.label, command="review",
                                    period_start=period.start, period_end=period.end,
                                    period_basis=cfg.period_basis, as_of=run_as_of, provenance=result.provenance,
                                    summary=result.summary, lines_outside_period=pf.lines_out),
                          wo.open, wo.waived)
    store.close()
    t_end = time.perf_counter()
    figures = {**ctx["stats"], "patterns": ctx["pattern_counts"], "changes": change_counts,
               "waivers": ctx["waiver_counts"], "utilization_flagged": util_flagged,
               "exit_code": exit_code_for(wo.open, cfg.fail_on), "files": [str(f) for f in files],
               "seconds": {"audit": round(t_audit - t0, 2), "compare_and_report": round(t_reports - t_audit, 2),
                           "record": round(t_end - t_reports, 2), "total": round(t_end - t0, 2)}}
    return ReviewOutcome(result, period, out, written, run_id, patterns, wo, figures)


# --- `auditor audit --history/--waivers` -------------------------------------------------------

def audit_period(result, period: str | None) -> tuple[str, date | None, date | None]:
    """The period an ad-hoc audit is recorded under: --period (YYYY-MM), else the month of its
    service dates, else their date range."""
    if period:
        p = Period.parse(period)
        return p.label, p.start, p.end
    label = period_label(result.lines)
    d = result.lines["service_date"].dropna()
    if not len(d):
        return label, None, None
    if len(label) == 7:
        p = Period.parse(label)
        return label, p.start, p.end
    return label, d.min().date(), d.max().date()


class AuditHooks:
    """`auditor audit --history/--waivers`: opened before the audit (a bad URL or waiver file fails
    fast), applied to the result before the reports are written, and recorded after them, so a
    failed run records nothing."""

    def __init__(self, *, history: str | None, waiver_files: list[str], period: str | None,
                 scope: str = "default"):
        self.store = HistoryStore(history) if history else None
        self.waivers = load_waivers(list(waiver_files), self.store, scope)
        self.period, self.scope = period, scope
        if period:
            Period.parse(period)
        self.result = self.outcome = None

    def apply(self, result):
        """Waivers applied; returns (result with open findings only, extra report sections)."""
        as_of = date.fromisoformat(result.provenance["as_of"])
        wo = apply_waivers(result.findings, self.waivers, as_of)
        result.findings = wo.open
        result.summary = _open_summary(result, wo.open, len(wo.waived))
        if self.store is not None:
            label, _, _ = audit_period(result, self.period)
            result.provenance["history"] = {"url": display_url(self.store.url), "scope": self.scope,
                                            "period": label}
        self.result, self.outcome = result, wo
        return result, (waiver_sections(wo) if self.waivers else [])

    def record(self) -> int | None:
        if self.store is None or self.result is None:
            return None
        label, start, end = audit_period(self.result, self.period)
        as_of = date.fromisoformat(self.result.provenance["as_of"])
        try:
            return self.store.record(RunRecord(scope=self.scope, period=label, command="audit", period_start=start,
                                               period_end=end, period_basis="service", as_of=as_of,
                                               provenance=self.result.provenance, summary=self.result.summary,
                                               lines_outside_period=0), self.outcome.open, self.outcome.waived)
        finally:
            self.store.close()
