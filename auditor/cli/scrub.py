"""`auditor scrub`: a verdict per claim before submission; clean and held 837 files."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from auditor.cli.options import rule_options


@click.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path())
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Output folder: verdicts.csv, verdicts.json and the reports.")
@click.option("--clean", type=click.Path(dir_okay=False),
              help="837 inputs: write the claims that pass (or only warn) to this 837 file.")
@click.option("--held", type=click.Path(dir_okay=False),
              help="837 inputs: write the claims held or rejected to this 837 file.")
@click.option("--engine", type=click.Choice(["batch", "python", "durable"]), default="batch", show_default=True,
              help="batch: vectorized, for files; python/durable: the scrub service's per-claim engines "
                   "(one member's claims at a time).")
@click.option("--dispositions", type=click.Path(dir_okay=False),
              help="Disposition rules (default: dispositions.yaml of the rule folders).")
@click.option("--format", "formats", default="csv,json,html,xlsx", show_default=True,
              help="Comma-separated reports besides the verdicts: csv, json, html, xlsx.")
@click.option("--quiet", "-q", is_flag=True, help="No terminal summary.")
@rule_options
def scrub(inputs, out_dir, clean, held, engine, dispositions, formats, quiet, rule_dirs, no_default_rules, select,
          ignore, refdata, mapping, as_of):
    """Scrub claim files (X12 837, CSV, Parquet, Excel) before submission: pass, warn, hold or reject per claim.

    Exit status: 0 every claim may go (pass or warn), 1 some claim is held or rejected, 2 usage or input error.
    """
    from auditor.report.writer import write_reports
    from auditor.scrub.run import run_scrub, write_clean_held
    from auditor.scrub.verdicts import jsonable, report_section, summary, write_verdicts

    fmts = tuple(f.strip() for f in formats.split(",") if f.strip())
    bad = [f for f in fmts if f not in ("csv", "json", "html", "xlsx")]
    if bad:
        raise click.BadParameter(f"unknown format(s): {', '.join(bad)}", param_hint="--format")
    if clean or held:
        from auditor.x12 import is_x12

        if not any(Path(p).is_file() and is_x12(p) for p in inputs):
            raise click.UsageError("--clean/--held split 837 files: give at least one X12 837 input")
    from auditor.cli.audit import progress

    with progress(sys.stderr.isatty() and not quiet) as step:
        res = run_scrub(inputs, engine=engine, mapping=mapping, rule_dirs=rule_dirs, select=list(select),
                        ignore=list(ignore), refdata=refdata, as_of=as_of, default_rules=not no_default_rules,
                        dispositions=dispositions, step=step)
        if res.notice:
            click.echo(f"auditor: notice: {res.notice}", err=True)
        out = Path(out_dir)
        step("writing verdicts and reports")
        written = write_clean_held(inputs, res.verdicts, clean, held) if (clean or held) else {}
        write_verdicts(res.verdicts, out, extra={
            "engine": res.engine, "dispositions": res.dispositions.source,
            "file_findings": [jsonable(f) for f in res.file_findings], "written": written})
        if fmts:
            write_reports(res.audit, out, formats=fmts, extra_sections=[report_section(res.verdicts)],
                          title="Claims scrub before submission")
    if not quiet:
        counts = summary(res.verdicts)
        click.echo(f"Scrubbed {len(res.verdicts):,} claims ({res.engine} engine): "
                   + ", ".join(f"{n:,} {k}" for k, n in counts.items()) + f"; verdicts and reports in {out}")
        for what, info in written.items():
            click.echo(f"  {what}: {info['claims']:,} claims -> {info['path']}")
        if res.file_findings:
            click.echo(f"  {len(res.file_findings)} finding(s) concern a file, not a claim (see verdicts.json)")
    sys.exit(res.exit_code)
