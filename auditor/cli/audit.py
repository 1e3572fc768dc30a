"""`auditor audit`: audit claim files and write the findings and reports."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import click

from auditor.cli.options import exit_code_for, rule_options


@contextmanager
def progress(enabled: bool):
    """A spinner with the current step on an interactive terminal (runs over a few seconds show it)."""
    if not enabled:
        yield lambda _msg: None
        return
    from rich.console import Console

    console = Console(stderr=True)
    with console.status("starting") as status:
        yield lambda msg: status.update(msg)


def default_out_dir() -> Path:
    return Path("reports") / datetime.now().strftime("%Y%m%d-%H%M%S")


@click.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path())
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Output folder (default reports/<timestamp>/).")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info", "never"]), default="error",
              show_default=True, help="Exit 1 when a finding at or above this severity exists.")
@click.option("--format", "formats", default="csv,json,html,xlsx", show_default=True,
              help="Comma-separated outputs: csv, json, html, xlsx.")
@click.option("--quiet", "-q", is_flag=True, help="No terminal summary.")
@click.option("--history", envvar="AUDITOR_HISTORY",
              help="Record the run in this history store (SQLite file path or database URL). Env: AUDITOR_HISTORY.")
@click.option("--period", help="Period the run is recorded under (YYYY-MM; default: the month of its service dates).")
@click.option("--waivers", multiple=True, type=click.Path(dir_okay=False),
              help="Waiver file (YAML or CSV, repeatable); waived findings are reported apart, not counted.")
@rule_options
def audit(inputs, out_dir, fail_on, formats, quiet, history, period, waivers, rule_dirs, no_default_rules, select,
          ignore, refdata, mapping, as_of):
    """Audit claim files (CSV, Parquet, Excel, X12 837) and write findings and reports."""
    from auditor.audit import run_audit
    from auditor.report.terminal import print_summary
    from auditor.report.writer import write_reports

    fmts = tuple(f.strip() for f in formats.split(",") if f.strip())
    bad = [f for f in fmts if f not in ("csv", "json", "html", "xlsx")]
    if bad:
        raise click.BadParameter(f"unknown format(s): {', '.join(bad)}", param_hint="--format")
    hooks = extra = None
    if history or waivers:   # waivers and the history store live in auditor.review (docs/review.md)
        from auditor.review.run import AuditHooks

        hooks = AuditHooks(history=history, waiver_files=list(waivers), period=period)
    with progress(sys.stderr.isatty() and not quiet) as step:
        result = run_audit(inputs, mapping=mapping, rule_dirs=rule_dirs, select=list(select), ignore=list(ignore),
                           refdata=refdata, as_of=as_of, default_rules=not no_default_rules, step=step)
        if hooks is not None:
            result, extra = hooks.apply(result)
        out = Path(out_dir) if out_dir else default_out_dir()
        step("writing reports")
        write_reports(result, out, formats=fmts, extra_sections=extra)
        if hooks is not None:   # only a run whose reports were written is recorded
            step("recording the run in the history")
            hooks.record()
    if not quiet:
        print_summary(result, out)
    sys.exit(exit_code_for(result.findings, fail_on))
