"""ASC X12 5010 837P/837I: read into canonical claim lines, write clean/held 837 files, validate.

    read_837(path_or_bytes, source_name) -> X12Result(lines, issues, claims)
    write_837(claim_envelopes, out_path, ...) -> WriteSummary
    is_x12(path_or_bytes) -> bool
    validate_837(path_or_bytes, source_name) -> list[issue]      (pyx12, optional)
    write_999(path_or_bytes, out_path, source_name) -> list[issue]  (pyx12 999 acknowledgement)
"""

from __future__ import annotations

import os

from auditor.x12.model import RAW_COLUMNS, ClaimEnvelope, X12Result
from auditor.x12.reader import read_837
from auditor.x12.tokens import Delimiters
from auditor.x12.validate import validate_837, write_999
from auditor.x12.writer import WriteSummary, write_837

__all__ = [
    "RAW_COLUMNS", "ClaimEnvelope", "Delimiters", "WriteSummary", "X12Result",
    "is_x12", "read_837", "validate_837", "write_837", "write_999",
]


def is_x12(path_or_bytes) -> bool:
    """True when the content starts with ``ISA`` after an optional UTF-8 BOM and whitespace."""
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        head = bytes(path_or_bytes[:4096])
    else:
        try:
            with open(os.fspath(path_or_bytes), "rb") as fh:
                head = fh.read(4096)
        except OSError:
            return False
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    return head.lstrip().startswith(b"ISA")
