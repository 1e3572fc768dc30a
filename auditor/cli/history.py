"""`auditor history`: the audit history store (runs, schema, waivers)."""

from __future__ import annotations

from datetime import date

import click

from auditor.cli.options import parse_date

_history_opt = click.option("--history", envvar="AUDITOR_HISTORY", required=True,
                            help="History store: SQLite file path or database URL. Env: AUDITOR_HISTORY.")


def _open(url: str):
    from auditor.history import HistoryStore

    return HistoryStore(url)


@click.group()
def history():
    """Inspect and maintain the audit history store; manage waivers."""


@history.command("migrate")
@_history_opt
def migrate(history):
    """Create the schema or bring it up to date (every command does this on open)."""
    with _open(history) as store:
        click.echo(f"{store!r}: schema at revision {store.revision()}")


@history.command("runs")
@_history_opt
@click.option("--name", help="Only runs of this review name.")
@click.option("--limit", type=int, default=24, show_default=True)
def runs(history, name, limit):
    """List recorded runs, newest period first."""
    from rich.console import Console
    from rich.table import Table

    with _open(history) as store:
        rows = store.runs(name, limit=limit)
    table = Table("id", "name", "period", "command", "recorded", "lines", "open", "waived", "dollars at risk",
                  "rule pack")
    for r in rows:
        table.add_row(str(r["id"]), r["scope"], r["period"], r["command"], str(r["recorded_at"])[:19],
                      f"{r['lines_audited'] or 0:,}", f"{r['findings_open']:,}", f"{r['findings_waived']:,}",
                      f"${(r['dollars_at_risk'] or 0):,.2f}", (r["rule_pack_hash"] or "")[:12])
    Console().print(table)
    click.echo(f"{len(rows)} runs")


@history.command("delete")
@_history_opt
@click.option("--period", required=True, help="Period label of the run, e.g. 2026-10.")
@click.option("--name", default="default", show_default=True)
def delete(history, period, name):
    """Delete one recorded run and its findings."""
    with _open(history) as store:
        ok = store.delete_run(name, period)
    click.echo(f"deleted the run of {name} {period}" if ok else f"no run of {name} {period}")


@history.group("waiver")
def waiver():
    """Waiver records kept in the store (in addition to waiver files)."""


@waiver.command("add")
@_history_opt
@click.option("--fingerprint", help="Waive exactly this finding.")
@click.option("--rule", "rule_id", help="Rule id (with --claim, --provider or --from/--to).")
@click.option("--claim", "claim_id", help="Claim id.")
@click.option("--provider", "rendering_npi", help="Rendering NPI.")
@click.option("--from", "date_from", callback=parse_date, help="First service date covered (YYYY-MM-DD).")
@click.option("--to", "date_to", callback=parse_date, help="Last service date covered (YYYY-MM-DD).")
@click.option("--reason", required=True)
@click.option("--approved-by", required=True)
@click.option("--expires", required=True, callback=parse_date, help="Last day the waiver applies (YYYY-MM-DD).")
@click.option("--name", help="Only for this review name (default: every review and audit).")
def waiver_add(history, fingerprint, rule_id, claim_id, rendering_npi, date_from, date_to, reason, approved_by,
               expires, name):
    """Record a waiver."""
    with _open(history) as store:
        wid = store.add_waiver(fingerprint=fingerprint, rule_id=rule_id, claim_id=claim_id,
                               rendering_npi=rendering_npi, date_from=date_from, date_to=date_to, reason=reason,
                               approved_by=approved_by, expires=expires, scope=name)
    if expires < date.today():
        click.echo(f"warning: the waiver expired on {expires} and will not apply", err=True)
    click.echo(f"waiver db-{wid} recorded")


@waiver.command("list")
@_history_opt
@click.option("--all", "show_all", is_flag=True, help="Include revoked waivers.")
def waiver_list(history, show_all):
    """List the store's waivers."""
    from rich.console import Console
    from rich.table import Table

    from auditor.review.waivers import from_store

    with _open(history) as store:
        rows = store.waivers(include_revoked=show_all)
    today = date.today()
    table = Table("id", "matches", "reason", "approved by", "expires", "state", "name")
    for r, w in zip(rows, from_store(rows)):
        state = "revoked" if r.get("revoked_at") else ("expired" if w.expires < today else "active")
        table.add_row(w.id, w.describe(), w.reason, w.approved_by, str(w.expires), state, r.get("scope") or "(all)")
    Console().print(table)
    click.echo(f"{len(rows)} waivers")


@waiver.command("revoke")
@_history_opt
@click.argument("waiver_id")
def waiver_revoke(history, waiver_id):
    """Revoke a waiver (it stays in the store, marked revoked)."""
    num = waiver_id[3:] if waiver_id.startswith("db-") else waiver_id
    if not num.isdigit():
        raise click.BadParameter(f"'{waiver_id}' is not a waiver id (db-N)", param_hint="WAIVER_ID")
    with _open(history) as store:
        ok = store.revoke_waiver(int(num))
    click.echo(f"waiver db-{num} revoked" if ok else f"no active waiver db-{num}")
