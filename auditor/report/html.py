"""report.html: one self-contained page (inline CSS, JS and SVG; no network) rendered from the model."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
from importlib import resources

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from auditor.findings import SEVERITY_RANK
from auditor.report._io import atomic_path
from auditor.report.charts import SEVERITY_COLOURS, bar_chart, line_chart

MAX_ROWS = 50_000     # findings table rows; beyond this the page gets slow in a browser
MAX_CLAIMS = 5_000    # claims in the per-claim view

# (model column, header, sort as number)
TABLE_COLUMNS = [("severity", "Severity", True), ("rule_id", "Rule", False), ("category", "Category", False),
                 ("claim_id", "Claim", False), ("line_number", "Line", True),
                 ("service_date", "Service date", False), ("procedure_code", "Procedure", False),
                 ("rendering_npi", "Rendering NPI", False), ("amount_at_risk", "At risk", True),
                 ("message", "Message", False), ("reference", "Reference", False)]


def _money(v) -> str:
    return "" if v is None else f"${v:,.2f}"


def fmt(value, kind: str | None = None) -> str:
    """Display text of one cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        if kind == "money":
            return _money(value)
        if kind == "percent":
            return f"{value:.1%}"
        return f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str)
    return str(value)


def _env() -> Environment:
    env = Environment(loader=PackageLoader("auditor.report", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["fmt"] = fmt
    env.filters["money"] = _money
    env.globals["numcols"] = _numeric_columns
    return env


def _numeric_columns(t: dict) -> set[int]:
    """Column positions to right-align and sort as numbers: a numeric format, or only numbers in it."""
    out = set()
    for i, c in enumerate(t["columns"]):
        kind = t.get("formats", {}).get(c)
        vals = [r[i] for r in t["rows"][:200] if i < len(r) and r[i] is not None]
        if kind in ("money", "int", "percent") or (kind is None and vals and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals)):
            out.add(i)
    return out


def _section_chart(s: dict) -> Markup:
    """A chart section's SVG: the producer's own only if it is Markup (they vouch for escaping)."""
    if isinstance(s.get("svg"), Markup):
        return s["svg"]
    rows, cols = s["rows"], s["columns"]
    kind = s["formats"].get(cols[1]) if len(cols) > 1 else None
    value_format = (lambda v: fmt(v, kind)) if kind else None
    if s.get("chart") == "line":
        series = {c: [r[j] if j < len(r) else None for r in rows] for j, c in enumerate(cols[1:], 1)}
        return line_chart([r[0] for r in rows], series, title=s["title"], value_format=value_format)
    return bar_chart([r[0] for r in rows], [r[1] if len(r) > 1 else 0 for r in rows], title=s["title"],
                     value_format=value_format)


def _charts(model: dict) -> dict:
    sev, cat, rule, prov = (model[k]["rows"] for k in ("by_severity", "by_category", "by_rule", "by_provider"))
    return {
        "severity": bar_chart([r[0] for r in sev], [r[1] for r in sev], title="Findings by severity",
                              colours=[SEVERITY_COLOURS.get(r[0]) for r in sev]),
        "category": bar_chart([r[0] for r in cat], [r[1] for r in cat], title="Findings by category"),
        "category_dollars": bar_chart([r[0] for r in cat], [r[4] for r in cat], value_format=_money,
                                      title="Dollars at risk by category"),
        "rule": bar_chart([r[0] for r in rule], [r[5] for r in rule], title="Findings by rule (top 25)"),
        "provider": bar_chart([r[0] for r in prov], [r[4] for r in prov], value_format=_money,
                              title="Dollars at risk by rendering provider (top 25)"),
    }


def write_html(model: dict, path: str | os.PathLike, *, max_rows: int = MAX_ROWS,
               max_claims: int = MAX_CLAIMS) -> None:
    """Render the model to one self-contained HTML file (every value escaped by Jinja's autoescape)."""
    findings = model["findings"]
    idx = {c: i for i, c in enumerate(findings["columns"])}
    picks = [idx[c] for c, _, _ in TABLE_COLUMNS]
    rows = [[r[i] for i in picks] for r in findings["rows"][:max_rows]]
    claims = [dict(zip(model["claims"]["columns"], r)) for r in model["claims"]["rows"][:max_claims]]
    for c in claims:
        c["findings_rows"] = [[r[i] for i in picks] for r in findings["rows"][c["start"]:c["stop"]]]
    sections = [dict(s, chart_svg=_section_chart(s) if s["kind"] == "chart" else None)
                for s in model["extra_sections"]]
    script = resources.files("auditor.report").joinpath("templates/report.js").read_text("utf-8")
    # CSP: no network at all, and only our own script (by hash) may run, whatever a value contains.
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    css = resources.files("auditor.report").joinpath("templates/report.css").read_text("utf-8")
    html = _env().get_template("report.html.j2").render(
        m=model, s=model["summary"], charts=_charts(model), sections=sections,
        gaps=[r for r in model["coverage"]["rows"] if r[3] != "checked"],
        rows=rows, total_rows=len(findings["rows"]), columns=TABLE_COLUMNS, severity_rank=SEVERITY_RANK,
        claims=claims, total_claims=len(model["claims"]["rows"]), max_section_rows=max_rows,
        script=Markup(script), css=Markup(css),
        csp=f"default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'sha256-{digest}'",
    )
    with atomic_path(path) as tmp:
        tmp.write_text(html, encoding="utf-8")
