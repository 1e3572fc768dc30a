"""The review's extra report sections (auditor.report build_model `extra_sections`): the
comparison with the previous period first, then trends, waivers and provider patterns."""

from __future__ import annotations

import math

import pandas as pd
from markupsafe import Markup

from auditor.report.charts import line_chart
from auditor.review.compare import CHANGE_COLUMNS, PATTERN_COLUMNS
from auditor.review.svg import paired_bars, strip_plot
from auditor.review.waivers import STATUS_COLUMNS, WAIVER_COLUMNS

MAX_TABLE_ROWS = 20_000
PATTERN_HEADERS = ["Rule", "Category", "Rendering NPI", "Status", "Periods in a row", "Findings this period",
                   "Findings previous period", "Dollars this period", "Dollars previous period"]
PATTERN_FORMATS = {"Periods in a row": "int", "Findings this period": "int", "Findings previous period": "int",
                   "Dollars this period": "money", "Dollars previous period": "money"}


def _money(v) -> str:
    return f"${v:,.2f}"


def _rows(df: pd.DataFrame, limit: int = MAX_TABLE_ROWS) -> list[list]:
    df = df.head(limit)
    out = []
    for rec in df.itertuples(index=False):
        row = []
        for v in rec:
            if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and not math.isfinite(v)):
                row.append(None)
            elif isinstance(v, pd.Timestamp):
                row.append(v.date())
            elif hasattr(v, "item"):
                row.append(v.item())
            else:
                row.append(v)
        out.append(row)
    return out


def summary_text(ctx: dict) -> str:
    """The opening paragraph(s): what changed since the previous period, in figures."""
    p, prev, base = ctx["period"], ctx.get("previous"), ctx.get("baseline")
    s = ctx["stats"]
    paras = []
    head = f"Review of {p.label} ({s['basis']} dates {p.start} to {p.end})"
    if ctx.get("scope") and ctx["scope"] != "default":
        head += f", review '{ctx['scope']}'"
    if prev:
        head += f", compared with {prev['period']}."
        if ctx.get("gap"):
            head += f" Note: {ctx['gap']} is not in the history; the comparison is with the latest recorded period."
    else:
        head += ". No earlier period is recorded in the history, so every pattern is new."
    paras.append(head)
    paras.append(
        f"Lines read {s['lines_read']:,}; audited {s['lines_audited']:,}; {s['lines_outside']:,} lines of "
        f"{s['claims_outside']:,} claims outside the period were left out"
        + (f"; {s['undated']:,} lines without a {s['basis']} date were kept" if s["undated"] else "") + ".")
    prev_txt = (f" (previous period: {prev['findings_open']:,} open, {_money(prev['dollars_at_risk'] or 0)})"
                if prev else "")
    paras.append(f"Open findings {s['open']:,}, dollars at risk {_money(s['dollars'])}{prev_txt}; "
                 f"waived {s['waived']:,}.")
    pc = ctx["pattern_counts"]
    paras.append(f"Patterns (rule x rendering provider): {pc.get('new', 0):,} new, {pc.get('recurring', 0):,} "
                 f"recurring, {pc.get('resolved', 0):,} resolved. patterns.csv has them all.")
    if base:
        c = ctx["change_counts"]
        what = "the earlier run of this period (re-audit)" if base["period"] == p.label else f"{base['period']}"
        paras.append(f"Findings by fingerprint against {what}: {c['still_open']:,} still open, {c['fixed']:,} fixed "
                     f"(claim audited again, finding gone), {c['new']:,} new; {c['not_reaudited']:,} earlier "
                     "findings belong to claims not in this period's data.")
    wc = ctx["waiver_counts"]
    if sum(wc.values()):
        txt = (f"Waivers: {wc['applied']:,} applied ({s['waived']:,} findings waived), {wc['stale']:,} stale "
               f"(matched nothing), {wc['expired']:,} expired")
        if ctx.get("expired_matches"):
            txt += f"; expired waivers no longer cover {ctx['expired_matches']:,} findings, which are open again"
        paras.append(txt + ".")
    if ctx.get("utilization_flagged") is not None:
        n = ctx["utilization_flagged"]
        paras.append(f"Provider patterns (utilization): {n:,} provider-rule pair{'' if n == 1 else 's'} flagged "
                     "against peers; see the provider pattern sections.")
    return "\n\n".join(paras)


def comparison_table(ctx: dict) -> tuple[list[str], list[list]]:
    """Headline figures of this period next to the previous period's."""
    p, prev, s = ctx["period"], ctx.get("previous"), ctx["stats"]
    pc = ctx["pattern_counts"]
    cols = ["Measure", f"This period ({p.label})", f"Previous period ({prev['period']})" if prev else
            "Previous period (none recorded)", "Change"]

    def row(label, now, before):
        change = None if before is None or now is None else round(now - before, 2)
        return [label, now, before, change]

    prev_s = (prev or {}).get("summary") or {}
    rows = [
        row("Open findings", s["open"], prev["findings_open"] if prev else None),
        row("Dollars at risk", s["dollars"], round(float(prev["dollars_at_risk"] or 0), 2) if prev else None),
        row("Waived findings", s["waived"], prev["findings_waived"] if prev else None),
        row("Claims audited", ctx.get("claims"), prev.get("claims") if prev else None),
        row("Lines audited", s["lines_audited"], prev.get("lines_audited") if prev else None),
        row("Lines outside the period (left out)", s["lines_outside"],
            prev.get("lines_outside_period") if prev else None),
        row("Claims with findings", ctx.get("claims_with_findings"), prev_s.get("claims_with_findings") if prev else None),
        ["Patterns new", pc.get("new", 0), None, None],
        ["Patterns recurring", pc.get("recurring", 0), None, None],
        ["Patterns resolved", pc.get("resolved", 0), None, None],
    ]
    if ctx.get("baseline") is not None:
        c = ctx["change_counts"]
        rows += [["Findings still open (same fingerprint)", c["still_open"], None, None],
                 ["Findings fixed (claim re-audited, finding gone)", c["fixed"], None, None]]
    return cols, rows


def comparison_sections(ctx: dict, patterns: pd.DataFrame, changes: pd.DataFrame) -> list[dict]:
    prev = ctx.get("previous")
    vs = f" vs {prev['period']}" if prev else ""
    cols, rows = comparison_table(ctx)
    # The text first (in Excel it lands on the Summary sheet), then the figures (the first sheet after it).
    out = [{"id": "review", "title": f"Review {ctx['period'].label}{vs}", "kind": "text", "position": "top",
            "text": summary_text(ctx), "columns": [], "rows": []},
           {"id": "comparison", "title": f"Comparison {ctx['period'].label}{vs}", "kind": "table", "position": "top",
            "columns": cols, "rows": rows},
           {"id": "patterns", "title": f"Patterns{vs}", "kind": "table", "position": "top",
            "text": "New, recurring and resolved patterns (rule x rendering provider), with the findings and "
                    "dollars at risk of both periods. Periods in a row counts consecutive recorded periods.",
            "columns": PATTERN_HEADERS, "rows": _rows(patterns[PATTERN_COLUMNS]), "formats": PATTERN_FORMATS}]
    if ctx.get("baseline") is not None:
        shown = changes[changes["status"] != "new"]
        out.append({"id": "finding-changes", "title": "Findings by fingerprint", "kind": "table", "position": "top",
                    "text": "Findings of the comparison run that are fixed (their claim was audited again and is "
                            "no longer flagged) or still open. New findings are in the findings table.",
                    "columns": CHANGE_COLUMNS, "rows": _rows(shown[CHANGE_COLUMNS]),
                    "formats": {"amount_at_risk": "money", "line_number": "int", "service_date": "date"}})
    return out


def trend_sections(trends: dict, periods: list[str]) -> list[dict]:
    titles = {"findings_by_category": "Trend - findings by category", "dollars_by_category": "Trend - dollars by category",
              "findings_by_provider": "Trend - findings by provider", "dollars_by_provider": "Trend - dollars by provider"}
    out = []
    for key, title in titles.items():
        df = trends[key]
        money = key.startswith("dollars")
        cols = [str(c) for c in df.columns]
        rows = [[per] + [v.item() if hasattr(v, "item") else v for v in df.loc[per].tolist()] for per in df.index]
        svg = line_chart(list(df.index), {c: df[c].tolist() for c in df.columns}, title=f"{title} (last {len(periods)} periods)",
                         value_format=_money if money else None)
        out.append({"id": key.replace("_", "-"), "title": title, "kind": "chart", "chart": "line", "position": "top",
                    "columns": ["Period"] + cols, "rows": rows, "svg": svg,
                    "formats": {c: ("money" if money else "int") for c in cols}})
    return out


def waiver_sections(outcome) -> list[dict]:
    out = []
    w = outcome.waived
    cols = ["rule_id", "category", "severity", "claim_id", "line_number", "rendering_npi", "service_date",
            "procedure_code", "amount_at_risk", "fingerprint", "message"] + WAIVER_COLUMNS
    out.append({"id": "waived", "title": "Waived findings", "kind": "table",
                "text": f"{len(w):,} findings are covered by an active waiver and not counted as open.",
                "columns": cols, "rows": _rows(w[cols]) if len(w) else [],
                "formats": {"amount_at_risk": "money", "line_number": "int", "service_date": "date",
                            "waiver_expires": "date"}})
    st = outcome.status
    notes = []
    c = outcome.counts()
    if c["stale"]:
        notes.append(f"{c['stale']} waiver(s) are stale: they matched no finding in this run.")
    if c["expired"]:
        notes.append(f"{c['expired']} waiver(s) have expired and no longer apply"
                     + (f"; {outcome.expired_matches:,} findings they covered are open again." if outcome.expired_matches else "."))
    out.append({"id": "waivers", "title": "Waivers", "kind": "table", "text": " ".join(notes) or None,
                "columns": STATUS_COLUMNS, "rows": _rows(st[STATUS_COLUMNS]) if len(st) else [],
                "formats": {"findings_matched": "int", "expires": "date"}})
    return out


_UTIL_HEADERS = ["Rendering NPI", "Rate", "Volume", "Events", "Expected rate", "Peer rate", "Peer group",
                 "Peer providers", "Peer volume", "z", "p", "q (BH)", "Flagged", "Note"]
_UTIL_COLS = ["rendering_npi", "rate", "volume", "events", "expected_rate", "peer_rate", "peer_group",
              "peer_providers", "peer_volume", "z", "p", "q", "flagged", "note"]


def utilization_sections(results: dict) -> list[dict]:
    """Per utilization rule: every provider against the peer distribution (SVG) and the numbers."""
    out = []
    for rule_id, r in sorted(results.items()):
        t = r.table
        units = r.metric == "units_per_visit"
        fmt = (lambda v: f"{v:.2f}") if units else (lambda v: f"{v:.0%}")
        pooled = None
        if len(t):
            if units:
                pooled = float((t["rate"] * t["volume"]).sum() / max(t["volume"].sum(), 1))
            else:
                pooled = float(t["events"].sum() / max(t["volume"].sum(), 1))
        points = [{"label": n, "value": v, "volume": vol, "tested": bool(te), "flagged": bool(fl)}
                  for n, v, vol, te, fl in zip(t["rendering_npi"], t["rate"], t["volume"], t["tested"], t["flagged"])]
        what = "units per visit" if units else "rate"
        svg = strip_plot(points, title=f"{rule_id} {r.title}: {what} per provider", value_format=fmt,
                         peer_value=pooled, peer_label="all providers pooled")
        flagged = int(t["flagged"].sum()) if len(t) else 0
        excess = f"{r.params['min_excess']} units" if units else f"{float(r.params['min_excess']):.0%} points"
        unit = "lines" if r.metric == "modifier_rate" else "visits"
        tested = int(t["tested"].sum()) if len(t) else 0
        text = (f"{r.title}. {len(t):,} providers, {tested:,} tested (at least {r.params['min_volume']} {unit} and "
                f"{r.params['min_peers']} peers), {flagged} flagged (BH q <= {r.params['fdr']} and at least {excess} "
                "above expected). Dots: providers; box: middle half of the tested providers; line: their median; "
                "dashed: all providers pooled; red: flagged; hollow: not tested.")
        rows = t[_UTIL_COLS] if len(t) else pd.DataFrame(columns=_UTIL_COLS)
        fmts = {"Volume": "int", "Events": "int", "Peer providers": "int", "Peer volume": "int"}
        if not units:
            fmts.update({"Rate": "percent", "Expected rate": "percent", "Peer rate": "percent"})
        out.append({"id": f"util-{rule_id.lower()}", "title": f"Provider pattern {rule_id}", "kind": "chart",
                    "text": text, "columns": _UTIL_HEADERS, "rows": _rows(rows), "svg": svg, "formats": fmts})
        if r.metric == "em_level_mix" and flagged:
            out.append(_em_levels_section(rule_id, r))
    return out


def _em_levels_section(rule_id: str, r) -> dict:
    """E/M level distribution of each flagged provider next to its peers' (new and established separately)."""
    levels: pd.DataFrame = r.detail["levels"]
    t = r.table.set_index("rendering_npi")
    new, est = r.detail["new"], r.detail["established"]
    svgs, rows = [], []
    for npi in list(t.index[t["flagged"]])[:20]:
        group = t.loc[npi, "peer_group"]
        peers_idx = [n for n in t.index if n != npi and t.loc[n, "peer_group"] == group and n in levels.index]
        mine = levels.loc[npi] if npi in levels.index else pd.Series(0, index=levels.columns)
        peer = levels.loc[peers_idx].sum() if peers_idx else pd.Series(0, index=levels.columns)
        cats, pv, qv = [], [], []
        for fam in (new, est):
            m_tot, p_tot = float(mine[fam].sum()), float(peer[fam].sum())
            for code in fam:
                cats.append(code)
                pv.append(float(mine[code]) / m_tot if m_tot else 0.0)
                qv.append(float(peer[code]) / p_tot if p_tot else 0.0)
                rows.append([f"{npi} {code}", pv[-1], qv[-1], int(mine[code]), int(peer[code])])
        svgs.append(paired_bars(cats, pv, qv, title=f"{npi}: E/M levels (share within new / established visits)",
                                names=(f"NPI {npi}", f"peers ({group})")))
    return {"id": f"util-{rule_id.lower()}-levels", "title": f"{rule_id} levels of flagged providers",
            "kind": "chart", "svg": Markup("".join(svgs)),
            "text": "Each flagged provider's E/M level distribution (share of its new-patient and established-patient "
                    "visits at each level) next to its peers'.",
            "columns": ["Rendering NPI and code", "Provider share", "Peer share", "Provider visits", "Peer visits"],
            "rows": rows, "formats": {"Provider visits": "int", "Peer visits": "int", "Provider share": "percent",
                                      "Peer share": "percent"}}
