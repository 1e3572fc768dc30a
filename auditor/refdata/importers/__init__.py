"""Importers: read reference files as CMS publishes them into normalized tables.

Each module has ``read(paths, opts) -> list[Imported]``; `import_files` dispatches on the
command-line kind and `import_into` also writes the result into a `RefStore`.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from auditor.errors import InputError
from auditor.refdata.importers._base import Options
from auditor.refdata.store import Imported, RefStore, Version

# command-line kind -> module
IMPORTERS: dict[str, str] = {
    "ncci-ptp": "ptp",
    "ptp": "ptp",
    "mue": "mue",
    "icd10cm": "icd10cm",
    "hcpcs": "hcpcs",
    "aoc": "aoc",
    "mpfs": "mpfs",
    "mce": "mce",
    "lcd": "lcd",
    "frequency": "frequency",
}

__all__ = ["IMPORTERS", "Options", "import_files", "import_into"]


def import_files(kind: str, paths: list[str | Path], opts: Options | None = None, **options) -> list[Imported]:
    """Read `paths` as reference files of `kind` (e.g. "ncci-ptp"); nothing is written."""
    mod = IMPORTERS.get(kind.lower())
    if mod is None:
        raise InputError(f"unknown reference kind {kind!r}: use one of {', '.join(IMPORTERS)}")
    opts = opts or Options(**options)
    return importlib.import_module(f"auditor.refdata.importers.{mod}").read([Path(p) for p in paths], opts)


def import_into(store: RefStore, kind: str, paths: list[str | Path], opts: Options | None = None, **options) -> list[tuple[Imported, Version]]:
    """Read the files and add every table to the store; returns what was stored."""
    out = []
    for imp in import_files(kind, paths, opts, **options):
        out.append((imp, store.add(imp)))
    return out
