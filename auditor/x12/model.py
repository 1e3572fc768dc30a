"""Data shapes shared by the 837 reader and writer."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from auditor.x12.tokens import Delimiters

MODIFIER_COLUMNS = [f"modifier_{i}" for i in range(1, 5)]
DX_COLUMNS = [f"dx_{i}" for i in range(1, 13)]

#: Columns of ``X12Result.lines`` -- the canonical raw claim-line columns (see docs/DESIGN.md);
#: every value is a ``str`` or ``None`` except ``source_row`` (int, segment index of SV1/SV2).
RAW_COLUMNS = [
    "claim_id", "line_number", "claim_type", "member_id", "member_birth_date", "member_sex",
    "billing_npi", "rendering_npi", "place_of_service", "service_date", "service_date_to",
    "received_date", "procedure_code", *MODIFIER_COLUMNS, "units", "charge", *DX_COLUMNS,
    "dx_pointers", "payer", "type_of_bill", "revenue_code", "source_row",
]

PROFESSIONAL, INSTITUTIONAL = "professional", "institutional"


@dataclass
class ClaimEnvelope:
    """One claim as read from an 837, with the raw segments needed to write it again.

    Segments are kept as raw text (without terminator) in the source's delimiters, HL segments
    excluded: the writer renumbers the hierarchy. ``billing``/``subscriber``/``patient`` are the
    2000A/2000B/2000C loops (2010xx included), ``segments`` is CLM through the last 2400 segment.
    """

    claim_id: str | None
    claim_type: str | None            # 'professional' | 'institutional'
    version: str                      # ST03 (or GS08), e.g. '005010X222A1'
    source_name: str
    segment_index: int                # 1-based index of the CLM segment in the file
    delimiters: Delimiters
    isa: tuple[str, ...]              # ISA elements (ISA00 = 'ISA')
    gs: tuple[str, ...]               # GS elements
    header: tuple[str, ...]           # BHT and the 1000A/1000B loops
    billing: tuple[str, ...] | None   # 2000A without its HL
    subscriber: tuple[str, ...] | None  # 2000B without its HL
    patient: tuple[str, ...] | None   # 2000C without its HL; None when the subscriber is the patient
    segments: tuple[str, ...]         # 2300 (CLM ...) through the end of its 2400 loops
    line_count: int = 0
    issues: list[dict] = field(default_factory=list)
    #: diagnoses that have no canonical line column (837I): admitting (ABJ), patient reason for
    #: visit (APR), external cause (ABN), and other diagnoses beyond dx_12
    extra_dx: dict[str, list[str]] = field(default_factory=dict)

    @property
    def has_errors(self) -> bool:
        """True when the reader reported an error-severity structural issue for this claim."""
        return any(i.get("severity", "error") == "error" for i in self.issues)


@dataclass
class X12Result:
    """What ``read_837`` returns."""

    lines: pd.DataFrame               # RAW_COLUMNS, one row per SV1/SV2
    issues: list[dict]                # structural problems (claim_id None = not tied to one claim)
    claims: list[ClaimEnvelope]
    source_name: str = ""
    interchanges: int = 0
    transactions: int = 0

    def claim_issues(self, claim_id: str) -> list[dict]:
        return [i for i in self.issues if i["claim_id"] == claim_id]
