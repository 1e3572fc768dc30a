"""Options shared by the commands that run rules (audit, scrub, review)."""

from __future__ import annotations

from datetime import date

import click

from auditor.findings import SEVERITY_RANK


def parse_date(_ctx, _param, value):
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date (YYYY-MM-DD)") from None


def rule_options(f):
    """--rules/--select/--ignore/--refdata/--mapping/--as-of, as every rule-running command takes them."""
    for opt in reversed([
        click.option("--rules", "rule_dirs", multiple=True, type=click.Path(file_okay=False),
                     help="Extra rule folder (repeatable); a rule with the same id replaces the shipped one."),
        click.option("--no-default-rules", is_flag=True, help="Run only the --rules folders."),
        click.option("--select", multiple=True, help="Only these rule ids, id prefixes or categories (comma-separated)."),
        click.option("--ignore", multiple=True, help="Skip these rule ids, id prefixes or categories."),
        click.option("--refdata", envvar="AUDITOR_REFDATA", type=click.Path(file_okay=False),
                     help="Reference data folder (auditor refdata import ...). Env: AUDITOR_REFDATA."),
        click.option("--mapping", type=click.Path(dir_okay=False), help="YAML column mapping for the input files."),
        click.option("--as-of", callback=parse_date, help="Audit date for 'in the future' checks (default: today)."),
    ]):
        f = opt(f)
    return f


def exit_code_for(findings, fail_on: str) -> int:
    """Linter-style: 1 when any finding is at or above --fail-on, else 0."""
    if fail_on == "never" or findings is None or not len(findings):
        return 0
    threshold = SEVERITY_RANK[fail_on]
    return int(findings["severity"].map(SEVERITY_RANK).ge(threshold).any())
