"""The rule intermediate form: what a YAML rule compiles to, and what both engines evaluate.

A rule is metadata plus one *kind* of check. Every condition is an IR tree from
:mod:`auditor.rules.expr`; every join names a reference-data kind. Nothing here is
pandas-specific, so the per-claim engine evaluates the same objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from auditor.rules.expr import Node

KINDS = ("line", "pair", "aggregate", "claim", "duplicate", "requires", "frequency", "input")
OVER = ("lines", "diagnoses")


def date_windows(dated_by) -> tuple[tuple[str, str], ...]:
    """``dated_by`` as a tuple of (effective, deletion) column pairs: one pair or several."""
    if not dated_by:
        return ()
    if all(isinstance(x, str) for x in dated_by):
        return (tuple(dated_by),)
    return tuple(tuple(w) for w in dated_by)


@dataclass(frozen=True)
class Lookup:
    """Join each row with a reference table (left join; ``<as>.found`` tells whether a row matched).

    ``on`` maps row columns to table columns. ``dated_by`` names the table's own effective and
    deletion date columns: only table rows in effect on the row's date of service match.
    """

    table: str
    alias: str
    on: tuple[tuple[str, str], ...]
    dated_by: tuple | None = None  # (from, to) or ((from, to), (from, to), ...): every window must hold
    optional: bool = False  # a table the user may not have: no data means "use the defaults", not "not checked"
    where: Node | None = None  # condition on the table rows alone (ref namespace), applied before joining
    side: str | None = None    # pair rules: join the 'a' or the 'b' row of each pair

    @property
    def windows(self) -> tuple[tuple[str, str], ...]:
        return date_windows(self.dated_by)


@dataclass(frozen=True)
class PairJoin:
    """Pairs (a, b) whose keys appear together in a reference table (e.g. NCCI column 1 / column 2)."""

    table: str
    left: str           # table column matched by a's key
    right: str          # table column matched by b's key
    dated_by: tuple | None = None  # (from, to) or ((from, to), (from, to), ...): every window must hold
    match: str = "exact"  # or "prefix" (ICD-10-CM notes name categories and subcategories)
    where: Node | None = None  # condition on the table rows alone (ref namespace)

    @property
    def windows(self) -> tuple[tuple[str, str], ...]:
        return date_windows(self.dated_by)


@dataclass
class Example:
    name: str
    lines: list[dict]
    expect_fail: bool
    flags: list | None = None  # expected flagged line numbers; "claim" for a claim-level finding


@dataclass
class Rule:
    id: str
    title: str
    category: str
    severity: str
    description: str
    reference: str
    fix: str
    message: str
    kind: str
    over: str = "lines"
    applies_to: str = "all"            # professional | institutional | all
    effective_from: date | None = None
    effective_to: date | None = None
    evidence: str = ""                 # template for the finding's reference detail (the ref row)
    message_parts: tuple = ()          # parsed message template
    evidence_parts: tuple = ()
    subject: str | None = None         # column the finding is about (fingerprint)
    where: Node | None = None          # row filter (line/diagnosis), before anything else
    requires_columns: tuple[str, ...] = ()  # rows with any of these empty are "not checked", not passed
    when: Node | None = None           # the failing condition
    lookups: tuple[Lookup, ...] = ()
    # pair / requires
    scope: tuple[str, ...] = ()
    left: Node | None = None
    right: Node | None = None
    join: PairJoin | None = None
    flag: str = "b"                    # pair: a|b ; aggregate: all|first|last|group
    unordered: bool = False            # pair: (a, b) and (b, a) are one pair, reported once
    flag_where: Node | None = None     # aggregate: flag only the rows of a failing group where this holds
    flag_when: str = "none_listed"     # requires: none_listed | all_listed (every partner in scope is listed)
    key: str | None = None             # column holding the code joined on (default per `over`)
    partner_over: str = "lines"
    partner_where: Node | None = None
    # aggregate / claim
    group_by: tuple[str, ...] = ()
    measures: dict[str, Node] = field(default_factory=dict)
    # duplicate
    keys: tuple[str, ...] = ()
    # frequency
    table: str | None = None
    # for_each expansion value (e.g. the column a data-quality rule checks)
    variant: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    examples: list[Example] = field(default_factory=list)
    example_refdata: dict[str, list[dict]] = field(default_factory=dict)
    example_as_of: date | None = None
    path: str = ""
    needs: tuple[str, ...] = ()        # reference-data kinds the rule reads
    source_text: str = ""              # the YAML, for the rule-pack hash

    @property
    def default_key(self) -> str:
        return self.key or ("code" if self.over == "diagnoses" else "procedure_code")
