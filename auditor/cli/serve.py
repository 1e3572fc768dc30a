"""`auditor serve`: the scrub service (HTTP, FastAPI + uvicorn)."""

from __future__ import annotations

import click

from auditor.cli.options import parse_date


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535), help="Port.")
@click.option("--refdata", envvar="AUDITOR_REFDATA", type=click.Path(file_okay=False),
              help="Reference data folder (auditor refdata import ...). Env: AUDITOR_REFDATA.")
@click.option("--rules", "rule_dirs", multiple=True, type=click.Path(file_okay=False),
              help="Extra rule folder (repeatable); a rule with the same id replaces the shipped one.")
@click.option("--no-default-rules", is_flag=True, help="Run only the --rules folders.")
@click.option("--select", multiple=True, help="Only these rule ids, id prefixes or categories.")
@click.option("--ignore", multiple=True, help="Skip these rule ids, id prefixes or categories.")
@click.option("--engine", type=click.Choice(["python", "durable", "batch"]), default="durable", show_default=True,
              help="python: fastest; durable: durable_rules decides the conditions; batch: the pandas engine "
                   "on each request (slow, for comparison).")
@click.option("--dispositions", type=click.Path(dir_okay=False),
              help="Disposition rules (default: dispositions.yaml of the rule folders).")
@click.option("--as-of", callback=parse_date, help="Fixed audit date for 'in the future' checks (default: each day's date).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes (each loads the rules and reference data).")
def serve(host, port, refdata, rule_dirs, no_default_rules, select, ignore, engine, dispositions, as_of, workers):
    """Serve POST /scrub (lines as JSON, or an 837 body) and GET /health; OpenAPI at /docs."""
    import uvicorn

    from auditor.service.app import create_app, settings_env

    opts = dict(rule_dirs=list(rule_dirs), refdata=refdata, default_rules=not no_default_rules,
                select=list(select), ignore=list(ignore), engine=engine, dispositions=dispositions, as_of=as_of)
    if workers > 1:
        # each worker process builds its own app from the settings in its environment
        import os

        os.environ.update(settings_env(**opts))
        uvicorn.run("auditor.service.app:app_from_env", factory=True, host=host, port=port, workers=workers,
                    log_level="info")
        return
    app = create_app(**opts)   # rules and reference data load here, before the port opens
    click.echo(f"auditor: scrub service ready ({app.state.scrubber.engine_name} engine, "
               f"{len({r.id for r in app.state.scrubber.rules})} rules) on http://{host}:{port}", err=True)
    uvicorn.run(app, host=host, port=port, log_level="info")
