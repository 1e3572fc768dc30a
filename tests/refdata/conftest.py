"""Fixtures for the reference-data tests.

The files in fixtures/ were written for these tests in the CMS layouts (not CMS data); zip and
.xlsx variants are built from them at test time so that the repository holds text only.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

FIX = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    """Build the ICD-10-CM tables into a per-session cache, not the user's ~/.cache."""
    mp = pytest.MonkeyPatch()
    mp.setenv("AUDITOR_CACHE", str(tmp_path_factory.mktemp("auditor-cache")))
    yield
    mp.undo()


@pytest.fixture
def fx():
    """Path of a fixture file."""

    def get(name: str) -> Path:
        p = FIX / name
        assert p.exists(), p
        return p

    return get


@pytest.fixture
def store(tmp_path):
    from auditor.refdata.store import RefStore

    return RefStore(tmp_path / "refdata", builtin=False)


def make_zip(path: Path, members: dict[str, bytes | Path]) -> Path:
    """A zip holding `members` (name -> bytes or file to copy)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data.read_bytes() if isinstance(data, Path) else data)
    return path


def make_xlsx(path: Path, rows: list[list], sheets_before: int = 0) -> Path:
    """A workbook whose biggest sheet holds `rows` (extra small sheets mimic CMS notice tabs)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    if sheets_before:
        ws.title = "Notice"
        ws.append(["This workbook is a test fixture"])
        ws = wb.create_sheet("Data")
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


@pytest.fixture
def zipper(tmp_path):
    return lambda name, members: make_zip(tmp_path / name, members)


@pytest.fixture
def xlsx(tmp_path):
    return lambda name, rows, sheets_before=0: make_xlsx(tmp_path / name, rows, sheets_before)
