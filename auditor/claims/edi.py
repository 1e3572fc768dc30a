"""X12 837 files for the claim readers: canonical raw lines, and the reader's structural issues as findings.

``auditor.x12.read_837`` reports what is structurally wrong as issues (segment index, element,
message, severity). Here each becomes a finding of an ``input`` rule, tied to its claim and, where
the segment belongs to a service line, to that line:

* X12001 - a structural error (missing or malformed segment/element);
* X12002 - the claim total (CLM02) does not equal the sum of the line charges;
* X12003 - a structural warning (the claim is still read).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from pathlib import Path

import pandas as pd

STRUCTURE, TOTALS, STRUCTURE_WARNING = "X12001", "X12002", "X12003"


def read_x12(path: str | Path) -> tuple[pd.DataFrame, list[dict]]:
    """Read an 837 file: (lines with the canonical raw columns incl. source_row, input findings)."""
    frame, findings, _result = read_x12_result(path)
    return frame, findings


def read_x12_result(path_or_bytes, source_name: str | None = None):
    """Like :func:`read_x12`, for a path or bytes, also returning the reader's X12Result (envelopes)."""
    from auditor.x12 import read_837

    result = read_837(path_or_bytes, source_name)
    return result.lines, issue_findings(result), result


def _rule_of(issue: dict) -> str:
    if issue.get("element") == "CLM02" and "does not equal" in (issue.get("message") or ""):
        return TOTALS
    return STRUCTURE_WARNING if issue.get("severity") == "warning" else STRUCTURE


def issue_findings(result) -> list[dict]:
    """The reader's issues as input findings {rule_id, claim_id, line_number, message, subject}."""
    lines = result.lines
    # each claim's segment range, with its service lines' segment indexes (source_row) in order
    ranges = []
    if len(lines):
        rows = sorted(zip(lines["source_row"].astype("int64").tolist(), lines["line_number"].tolist()))
    else:
        rows = []
    starts = [r for r, _ in rows]
    for env in result.claims:
        first, last = env.segment_index, env.segment_index + len(env.segments) - 1
        lo, hi = bisect_left(starts, first), bisect_right(starts, last)
        ranges.append((env.claim_id, first, last, rows[lo:hi]))
    out = []
    for issue in result.issues:
        cid, idx = issue.get("claim_id"), issue.get("segment_index")
        line = None
        if cid is not None and idx is not None:
            claim = next((c for c in ranges if c[0] == cid and c[1] <= idx <= c[2]), None)
            if claim is not None:
                line = _line_at(claim[3], idx, issue.get("segment_id"))
        where = " ".join(str(x) for x in (issue.get("segment_id"), "segment", idx) if x is not None)
        if issue.get("element"):
            where += f", element {issue['element']}"
        text = issue.get("message") or "structural problem"
        out.append({
            "rule_id": _rule_of(issue), "claim_id": cid, "line_number": line,
            "message": f"{text} ({where})" if idx is not None else text,
            # stable across files: no segment position in the subject (fingerprints)
            "subject": f"{issue.get('element') or issue.get('segment_id') or ''}: {text}",
        })
    return out


def _line_at(claim_lines: list[tuple[int, str]], idx: int, segment_id: str | None) -> int | None:
    """The service line a segment belongs to: an LX opens the next line, other segments follow one."""
    if not claim_lines:
        return None
    starts = [r for r, _ in claim_lines]
    if segment_id == "LX":
        k = bisect_left(starts, idx)
    else:
        k = bisect_right(starts, idx) - 1
    if k < 0 or k >= len(claim_lines):
        return None
    number = claim_lines[k][1]
    return int(number) if number is not None and str(number).isdigit() else None
