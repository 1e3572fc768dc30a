"""The `auditor` command line: one module per command group, registered here."""

from __future__ import annotations

import importlib
import sys

import click

from auditor import __version__
from auditor.errors import AuditorError

# (module, attribute) of each command; a module that is missing is skipped so that
# optional parts (the scrub service, the history store) never break the core commands.
_COMMANDS = [
    ("auditor.cli.audit", "audit"),
    ("auditor.cli.rules", "rules"),
    ("auditor.cli.refdata", "refdata"),
    ("auditor.cli.scrub", "scrub"),
    ("auditor.cli.serve", "serve"),
    ("auditor.cli.review", "review"),
    ("auditor.cli.history", "history"),
]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="auditor")
def cli() -> None:
    """auditor: rules-based compliance auditing for medical claims."""


for _mod, _attr in _COMMANDS:
    try:
        cli.add_command(getattr(importlib.import_module(_mod), _attr))
    except ModuleNotFoundError as exc:  # only a missing optional module itself is tolerated
        if exc.name != _mod:
            raise


def main(argv: list[str] | None = None) -> None:
    """Entry point: usage and input errors exit 2 with one message, never a traceback."""
    from auditor.engine import allocator

    allocator.tune()  # before reading claims: reading and normalizing allocate million-row arrays too
    try:
        cli.main(args=argv, prog_name="auditor", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(2)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    except AuditorError as exc:
        click.echo(f"auditor: error: {exc}", err=True)
        sys.exit(2)
    except (OSError, ValueError) as exc:
        click.echo(f"auditor: error: {exc}", err=True)
        sys.exit(2)
    sys.exit(0)
