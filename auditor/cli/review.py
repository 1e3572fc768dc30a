"""`auditor review`: audit one period, compare it with the previous periods, record it in the history."""

from __future__ import annotations

import sys

import click

from auditor.cli.options import rule_options


@click.command()
@click.argument("inputs", nargs=-1, type=click.Path())
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help="TOML file with any of the settings below (flags given here win).")
@click.option("--period", default="last-month", show_default=True,
              help="Month to review: YYYY-MM, last-month or this-month.")
@click.option("--name", help="Review name: runs of different names are kept apart in the history [default].")
@click.option("--history", envvar="AUDITOR_HISTORY",
              help="History store: an SQLite file path or sqlite:///, postgresql://user@host/db URL. Env: AUDITOR_HISTORY.")
@click.option("--out", help="Output folder; may hold {period} (default reports/review-<period>/).")
@click.option("--period-basis", type=click.Choice(["service", "received"]),
              help="Which date puts a claim in the period [service].")
@click.option("--waivers", multiple=True, type=click.Path(dir_okay=False), help="Waiver file, YAML or CSV (repeatable).")
@click.option("--providers", type=click.Path(dir_okay=False),
              help="Provider table CSV (npi,taxonomy): peers are providers of the same taxonomy.")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info", "never"]),
              help="Exit 1 when an open finding at or above this severity exists [error].")
@click.option("--format", "formats", help="Comma-separated outputs: csv, json, html, xlsx [all].")
@click.option("--trend-periods", type=click.IntRange(1, 120), help="Periods in the trend charts [12].")
@click.option("--quiet", "-q", is_flag=True, help="No terminal summary.")
@rule_options
def review(inputs, config_file, period, name, history, out, period_basis, waivers, providers, fail_on, formats,
           trend_periods, quiet, rule_dirs, no_default_rules, select, ignore, refdata, mapping, as_of):
    """Review one period: audit its claims, record the run in the history and report what is new,
    recurring or resolved since the previous period, with trends, waivers and provider patterns.

    INPUTS are files or patterns ({period}, {year}, {month}, %Y-%m, globs); or `inputs` in --config.
    """
    from auditor.cli.audit import progress
    from auditor.review.config import build_config
    from auditor.review.period import Period
    from auditor.review.run import run_review

    flags = {"inputs": list(inputs), "name": name, "history": history, "out": out, "period_basis": period_basis,
             "waivers": list(waivers), "providers": providers, "fail_on": fail_on, "formats": formats,
             "trend_periods": trend_periods, "rules": list(rule_dirs), "no_default_rules": no_default_rules,
             "select": list(select), "ignore": list(ignore), "refdata": refdata, "mapping": mapping}
    cfg = build_config(config_file, flags)
    per = Period.parse(period)
    with progress(sys.stderr.isatty() and not quiet) as step:
        outcome = run_review(cfg, per, as_of=as_of, step=step)
    if not quiet:
        f = outcome.figures
        pc = f["patterns"]
        click.echo(f"Review {per.label}: {len(f['files'])} file(s), {f['lines_audited']:,} lines audited, "
                   f"{f['lines_outside']:,} outside the period left out")
        click.echo(f"  open findings {f['open']:,} (${f['dollars']:,.2f} at risk), waived {f['waived']:,}")
        click.echo(f"  patterns: {pc.get('new', 0)} new, {pc.get('recurring', 0)} recurring, "
                   f"{pc.get('resolved', 0)} resolved")
        w = f["waivers"]
        if sum(w.values()):
            click.echo(f"  waivers: {w['applied']} applied, {w['stale']} stale, {w['expired']} expired")
        if f.get("utilization_flagged"):
            click.echo(f"  provider patterns: {f['utilization_flagged']} providers flagged")
        click.echo(f"  reports in {outcome.out_dir}/ (report.html, report.xlsx, patterns.csv); run #{outcome.run_id} "
                   "recorded")
    sys.exit(outcome.figures["exit_code"])
