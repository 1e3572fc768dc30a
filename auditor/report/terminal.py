"""The short terminal summary after a run. It prints counts only: no claim rows and no patient data
(no member ids, names or birth dates), because terminals and CI logs are widely readable."""

from __future__ import annotations

import os
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from auditor.report.writer import REPORT_FILES

_SEV_STYLE = {"error": "bold red", "warning": "yellow", "info": "blue"}


def print_summary(result_or_model, out_dir: str | os.PathLike | None, console: Console | None = None) -> None:
    """Print claims and lines read, findings by severity and category, what was not checked, and
    where the reports are."""
    model = result_or_model
    if not isinstance(model, dict):
        from auditor.report.model import build_model
        model = build_model(result_or_model)
    con = console or Console(stderr=False, highlight=False)
    s = model["summary"]

    def n(v):
        return "?" if v is None else f"{v:,}"

    con.print(f"[bold]Audited[/] {n(s['claims'])} claims, {n(s['lines_audited'])} lines "
              f"({n(s['lines_read'])} read"
              f"{', from ' + n(s['files']) + (' file' if s['files'] == 1 else ' files') if s.get('files') else ''}).")
    if s["lines_read"] is not None and s["lines_audited"] is not None and s["lines_read"] != s["lines_audited"]:
        con.print(f"[bold red]{n(s['lines_read'] - s['lines_audited'])} lines read were not audited.[/]")
    sev = ", ".join(f"[{_SEV_STYLE.get(k, '')}]{n(v)} {escape(k)}[/]" for k, v in s["findings_by_severity"].items())
    con.print(f"[bold]Findings[/] {n(s['findings'])} ({sev}) on {n(s['claims_with_findings'])} claims; "
              f"dollars at risk ${s['dollars_at_risk']:,.2f}.")

    if model["by_category"]["rows"]:
        t = Table(title="Findings by category", title_justify="left", show_edge=False)
        for c in ("Category", "Findings", "Claims", "Dollars at risk"):
            t.add_column(c, justify="left" if c == "Category" else "right")
        for cat, findings, claims, _lines, dollars in model["by_category"]["rows"]:
            t.add_row(escape(str(cat)), n(findings), n(claims), f"${dollars:,.2f}")
        con.print(t)

    cov = model["coverage"]
    gaps = [r for r in cov["rows"] if r[3] != "checked"]
    if gaps:
        t = Table(title=f"NOT fully checked: {len(gaps)} rules (no finding here is not a pass)",
                  title_justify="left", title_style="bold red", show_edge=False)
        for c in ("Rule", "Status", "Reason"):
            t.add_column(c)
        for r in gaps:
            t.add_row(escape(str(r[0])), escape(str(r[3])), escape(str(r[6] or "")))
        con.print(t)
    elif not cov["rows"]:
        con.print("[yellow]No coverage information: cannot tell which rules were checked.[/]")
    else:
        con.print(f"All {len(cov['rows'])} rules were checked on every line they apply to.")

    if out_dir is not None:
        out = Path(out_dir)
        found = [out / f for f in REPORT_FILES.values() if (out / f).exists()]
        if found:
            con.print("[bold]Reports[/] " + ", ".join(escape(str(p)) for p in found))
