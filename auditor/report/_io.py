"""Shared helpers of the writers: atomic file replacement and spreadsheet-safe text."""

from __future__ import annotations

import os
import re
import secrets
from contextlib import contextmanager
from pathlib import Path

# Text starting with one of these is read as a formula by Excel/LibreOffice (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 cannot hold at all; openpyxl refuses them, so they become U+FFFD.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
EXCEL_MAX_TEXT = 32767


def neutralise(text: str) -> str:
    """Prefix a single quote to text that a spreadsheet would run as a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


def excel_text(text: str) -> str:
    """Text made safe for an Excel cell: formula neutralised, illegal XML characters replaced, length capped."""
    text = neutralise(text)
    if _ILLEGAL_XML.search(text):
        text = _ILLEGAL_XML.sub("\ufffd", text)
    if len(text) > EXCEL_MAX_TEXT:   # Excel's cell limit; longer text makes Excel "repair" the file
        text = text[: EXCEL_MAX_TEXT - 12] + " [truncated]"
    return text


@contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path beside `path`; on success it replaces `path` in one os.replace.

    Readers never see a half-written file, and a failed write leaves no temporary file behind.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
