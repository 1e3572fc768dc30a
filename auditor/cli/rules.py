"""`auditor rules list|test|docs`."""

from __future__ import annotations

import sys
from pathlib import Path

import click


def _load(paths, rule_dirs=(), no_default=False):
    from auditor.rules.loader import load_rule_file, load_lists, load_rules

    if not paths:
        return load_rules([Path(d) for d in rule_dirs], include_default=not no_default)
    rules = []
    dirs = [Path(p) for p in paths if Path(p).is_dir()]
    files = [Path(p) for p in paths if Path(p).is_file()]
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        raise click.BadParameter(f"no such rule file or folder: {missing[0]}")
    if dirs:
        rules += load_rules(dirs, include_default=False)
    if files:
        from auditor.rules.loader import default_rules_dir

        lists = load_lists([default_rules_dir(), *{f.parent.parent for f in files}])
        for f in files:
            rules += load_rule_file(f, lists)
    return rules


@click.group()
def rules():
    """List, test and document rules."""


@rules.command("list")
@click.option("--rules", "rule_dirs", multiple=True, type=click.Path(file_okay=False))
@click.option("--select", multiple=True)
@click.option("--ignore", multiple=True)
def list_rules(rule_dirs, select, ignore):
    """List the rules: id, category, severity, kind, reference data, title."""
    from rich.console import Console
    from rich.table import Table

    from auditor.rules.loader import select_rules

    rs = select_rules(_load((), rule_dirs), list(select), list(ignore))
    table = Table("id", "category", "severity", "kind", "needs", "title")
    seen = set()
    for r in rs:
        if r.id in seen:
            continue
        seen.add(r.id)
        table.add_row(r.id, r.category, r.severity, r.kind, ", ".join(r.needs), r.title)
    Console().print(table)
    click.echo(f"{len(seen)} rules")


@rules.command("test")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--rules", "rule_dirs", multiple=True, type=click.Path(file_okay=False))
@click.option("--verbose", "-v", is_flag=True, help="Print every example, not only failures.")
def test_rules(paths, rule_dirs, verbose):
    """Run every rule's examples (default: the shipped pack plus --rules folders)."""
    from auditor.rules.examples import run_examples

    results = run_examples(_load(paths, rule_dirs))
    by_rule: dict[str, list] = {}
    for r in results:
        by_rule.setdefault(r.rule_id, []).append(r)
    failed = 0
    for rid, rs in by_rule.items():
        ok = all(r.passed for r in rs)
        failed += not ok
        click.echo(f"{'PASS' if ok else 'FAIL'}  {rid}  ({len(rs)} examples)")
        for r in rs:
            if verbose or not r.passed:
                click.echo(f"      {'ok ' if r.passed else 'BAD'} [{'fail' if r.expect_fail else 'pass'}] {r.name}: {r.detail}")
    click.echo(f"{len(by_rule) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


@rules.command("docs")
@click.option("--out", type=click.Path(dir_okay=False), default="docs/rules.md", show_default=True)
@click.option("--rules", "rule_dirs", multiple=True, type=click.Path(file_okay=False))
def docs_rules(out, rule_dirs):
    """Write Markdown documentation of every rule from its metadata."""
    from auditor.rules.docs import rules_markdown

    text = rules_markdown(_load((), rule_dirs))
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(text, encoding="utf-8")
    click.echo(f"wrote {out}")
