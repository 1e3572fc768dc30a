"""`auditor refdata`: import CMS reference files into a store directory and list what is there."""

from __future__ import annotations

import os
import time
from pathlib import Path

import click

from auditor.errors import AuditorError


class _Fail(click.ClickException):
    """An input error: one message, exit code 2 (also under CliRunner)."""

    exit_code = 2


def default_refdata_dir() -> Path:
    """$AUDITOR_REFDATA, else ./refdata."""
    return Path(os.environ.get("AUDITOR_REFDATA") or "refdata")


_refdata_option = click.option(
    "--refdata",
    "refdata_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Reference-data directory (default: $AUDITOR_REFDATA or ./refdata).",
)


@click.group("refdata")
def refdata() -> None:
    """Import CMS reference files (NCCI, MUE, ICD-10-CM, HCPCS, …) and list the versions held."""


def _row_dates(v, info: dict) -> str:
    """'2013-01-01 .. open (10 active)' for row-dated kinds, else ''."""
    rd = info.get("row_dates")
    if not (v.row_dated and rd):
        return ""
    end = f"open ({rd[2]:,} active)" if rd[2] else (rd[1] or "?")
    return f"{rd[0] or '?'} .. {end}"


def _period_text(v, info: dict) -> str:
    rows = _row_dates(v, info)
    return v.period() + (f"; rows dated {rows}" if rows else "")


@refdata.command("import")
@click.argument("kind", type=click.Choice(["ncci-ptp", "ptp", "mue", "icd10cm", "hcpcs", "aoc", "mpfs", "mce", "lcd", "frequency"], case_sensitive=False))
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@_refdata_option
@click.option("--effective", type=click.DateTime(formats=["%Y-%m-%d"]), help="In effect from this date (overrides the file name).")
@click.option("--fiscal-year", type=int, help="ICD-10-CM / MCE fiscal year (overrides the file name).")
@click.option(
    "--setting",
    type=click.Choice(["practitioner", "hospital", "outpatient", "dme"], case_sensitive=False),
    help="PTP/MUE table when the file name does not say (ccipra/ccioph, PractitionerServices/…).",
)
@click.option("--version-id", help="Name the version (default: from the file name or the effective date).")
@click.option("--age-groups", help="MCE age ranges, e.g. 'maternity=9-64,adult=15-124' (default: the MCE version's).")
def import_cmd(kind, files, refdata_dir, effective, fiscal_year, setting, version_id, age_groups) -> None:
    """Import reference FILE(s) of KIND (plain or zipped, as CMS publishes them).

    Several parts of one NCCI PTP version (…-f1 … -f4) combine into one version; importing the
    same file again replaces it.
    """
    from auditor.refdata.importers import Options, import_files
    from auditor.refdata.store import RefStore

    root = refdata_dir or default_refdata_dir()
    opts = Options(
        effective=effective.date() if effective else None,
        fiscal_year=fiscal_year,
        setting=setting,
        version_id=version_id,
        age_groups=age_groups,
    )
    t0 = time.perf_counter()
    try:
        store = RefStore(root, builtin=False)
        done = []
        for imp in import_files(kind, list(files), opts):
            v = store.add(imp)
            done.append((imp, v))
    except AuditorError as exc:
        raise _Fail(str(exc)) from None
    last = {}
    for imp, v in done:
        part = f" part {imp.part}" if imp.part and imp.part.startswith("f") else ""
        click.echo(f"imported {imp.kind} {imp.version_id}{part}: {len(imp.frame):,} rows from {imp.source}")
        if imp.note:
            click.echo(f"  note: {imp.note}")
        last[(v.kind, v.version_id)] = v
    for (kind_, vid), v in last.items():
        info = store.info(kind_, vid)
        parts = info.get("parts", [])
        extra = f" in {len(parts)} parts" if len(parts) > 1 else ""
        click.echo(f"  {kind_} {vid}: {v.rows:,} rows{extra}, in effect {_period_text(v, info)}")
    click.echo(f"into {root} ({time.perf_counter() - t0:.1f} s)")


@refdata.command("list")
@_refdata_option
@click.option("--builtin/--no-builtin", default=True, show_default=True, help="Show the built-in versions too.")
def list_cmd(refdata_dir, builtin) -> None:
    """Show each kind with its versions, row counts and the dates they cover."""
    from rich.console import Console
    from rich.table import Table

    from auditor.refdata.store import RefStore

    root = refdata_dir or default_refdata_dir()
    try:
        store = RefStore(root, builtin=builtin)
        kinds = store.kinds()
        rows = []
        for kind in kinds:
            for v in store.versions(kind):
                rows.append((v, store.info(kind, v.version_id)))
        notes = store.notes if builtin else {}
    except AuditorError as exc:
        raise _Fail(str(exc)) from None
    console = Console(width=max(170, Console().width), soft_wrap=False)
    if not rows:
        console.print(f"No reference data in {root}. Import some with: auditor refdata import KIND FILE…")
        return
    table = Table(title=f"Reference data in {root}" + (" (+ built-in)" if builtin else ""), show_lines=False)
    table.add_column("kind", no_wrap=True)
    table.add_column("version", no_wrap=True)
    table.add_column("built-in", no_wrap=True)
    table.add_column("in effect", no_wrap=True)
    table.add_column("rows", justify="right", no_wrap=True)
    table.add_column("row dates", no_wrap=True)
    table.add_column("source", overflow="fold", min_width=24)
    for v, info in rows:
        src = v.source.split(";")[0] if v.builtin else v.source
        src = src if len(src) <= 80 else src[:77] + "…"
        table.add_row(v.kind, v.version_id, "yes" if v.builtin else "", v.period(), f"{v.rows:,}", _row_dates(v, info), src)
    console.print(table)
    ex = notes.get("excludes1")
    if ex and "notes" in ex:
        console.print(
            f"Excludes1 (built-in): {ex['notes']:,} notes, {ex['parsed']:,} with code references, "
            f"{ex['unparsed']:,} without (not used), {ex.get('refs_skipped', 0)} qualified references skipped."
        )


@refdata.command("remove")
@click.argument("kind")
@click.argument("version_id")
@_refdata_option
def remove_cmd(kind, version_id, refdata_dir) -> None:
    """Delete one imported version of KIND (see `auditor refdata list`)."""
    from auditor.refdata.store import RefStore

    root = refdata_dir or default_refdata_dir()
    try:
        RefStore(root, builtin=False).remove(kind, version_id)
    except KeyError as exc:
        raise _Fail(str(exc.args[0])) from None
    except AuditorError as exc:
        raise _Fail(str(exc)) from None
    click.echo(f"removed {kind} {version_id} from {root}")
