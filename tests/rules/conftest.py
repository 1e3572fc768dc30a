"""Helpers for the edit-family accuracy tests: run chosen rules of the default pack over claim lines
against reference data with several versions (a small store with the RefStore interface)."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pandas as pd
import pytest

from auditor.engine.batch import evaluate
from auditor.engine.refview import coerce_table
from auditor.rules.examples import example_frame
from auditor.rules.loader import load_rules

AS_OF = date(2026, 11, 26)


class VersionedStore:
    """Reference tables with explicit versions: {kind: [(version_id, valid_from, valid_to, rows)]}.

    A date picks the version whose [valid_from, valid_to] holds it (None = open), the latest
    valid_from winning, as RefStore does; kinds not given come from `base` (e.g. the built-ins).
    """

    def __init__(self, tables: dict, base=None):
        self.base = base
        self.tables = {}
        for kind, versions in tables.items():
            self.tables[kind] = [(vid, vf, vt, rows if isinstance(rows, pd.DataFrame) else coerce_table(kind, rows))
                                 for vid, vf, vt, rows in versions]

    def kinds(self):
        return sorted(set(self.tables) | set(self.base.kinds() if self.base else []))

    def versions(self, kind):
        if kind not in self.tables:
            return self.base.versions(kind) if self.base else []
        return [SimpleNamespace(kind=kind, version_id=vid, valid_from=vf, valid_to=vt, rows=len(t), source="test",
                                sha256="", imported_at="", builtin=False, row_dated=False)
                for vid, vf, vt, t in self.tables[kind]]

    def table(self, kind, version_id):
        if kind not in self.tables:
            return self.base.table(kind, version_id)
        return next(t for vid, _, _, t in self.tables[kind] if vid == version_id)

    def version_for_dates(self, kind, dates):
        if kind not in self.tables:
            if self.base is None:
                return pd.Series([None] * len(dates), index=dates.index, dtype=object)
            return self.base.version_for_dates(kind, dates)
        out = pd.Series([None] * len(dates), index=dates.index, dtype=object)
        d = pd.to_datetime(dates)
        for vid, vf, vt, _ in sorted(self.tables[kind], key=lambda v: v[1] or date.min):
            ok = d.notna()
            if vf is not None:
                ok &= d >= pd.Timestamp(vf)
            if vt is not None:
                ok &= d <= pd.Timestamp(vt)
            out[ok.to_numpy()] = vid
        return out


@pytest.fixture(scope="session")
def pack():
    """The default rule pack, by id."""
    by_id: dict[str, list] = {}
    for r in load_rules():
        by_id.setdefault(r.id, []).append(r)
    return by_id


@pytest.fixture(scope="session")
def builtin_store():
    from auditor.rules.examples import base_store

    return base_store()


@pytest.fixture
def audit(pack):
    """audit(rule_ids, lines, store) -> (findings, coverage, context) for those rules of the pack."""

    def run(ids, lines, store):
        ids = [ids] if isinstance(ids, str) else list(ids)
        rules = [r for i in ids for r in pack[i]]
        return evaluate(example_frame(lines), rules, store, as_of=AS_OF)

    return run


def one_version(tables: dict, base=None) -> VersionedStore:
    """Each given table as a single version in effect on every date."""
    return VersionedStore({k: [("v1", None, None, rows)] for k, rows in tables.items()}, base=base)


@pytest.fixture
def single():
    return one_version


@pytest.fixture
def versioned():
    return VersionedStore
