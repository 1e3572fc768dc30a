"""Scrubbing one request: lines (or an 837) in, a verdict per claim with its findings out.

:class:`Scrubber` holds what loads once - rules, reference data, the engine with its indexes, the
dispositions - and answers requests without rebuilding any of it. It is what ``auditor serve``
runs, and what the latency benchmark measures.

One request is one unit: claims sent together see each other (a duplicate line on another claim,
an NCCI pair or MUE units across two claims of the same member and date); a claim sent alone
cannot be checked against claims that are not in the request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from auditor.engine.perclaim import make_engine, normalize_rows, rows_from_frame
from auditor.scrub.dispositions import Dispositions
from auditor.scrub.verdicts import Verdict, claim_facts, decide, finding_dicts

ENGINES = ("python", "durable", "batch")


def as_text(v):
    """A JSON value -> the text a claim file would hold (numbers without a spurious '.0')."""
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, (list, tuple)):
        return ",".join("" if x is None else str(as_text(x)) for x in v)
    return str(v)


@dataclass
class Outcome:
    verdicts: list[Verdict]
    file_findings: list[dict] = field(default_factory=list)   # findings not tied to a claim (X12 envelope)
    lines: int = 0


def split_file_findings(findings: list[dict], rows: list[dict]) -> tuple[list[dict], list[dict]]:
    """(findings of claims, findings of the file): without a claim id and no such line, a finding is the file's."""
    if any(r["claim_id"] is None for r in rows):  # lines without a claim id form a claim of their own
        return findings, []
    return ([f for f in findings if f.get("claim_id") is not None],
            [f for f in findings if f.get("claim_id") is None])


class Scrubber:
    """Rules, reference data, engine and dispositions, loaded once; :meth:`scrub_lines` per request."""

    def __init__(self, rules, store, dispositions: Dispositions, engine: str = "python",
                 as_of: date | None = None):
        if engine not in ENGINES:
            raise ValueError(f"unknown engine {engine!r} (choose from {', '.join(ENGINES)})")
        self.rules, self.store, self.dispositions, self.as_of = rules, store, dispositions, as_of
        self.notice = None
        if engine == "batch":
            self.engine, self.engine_name = None, "batch"
        else:
            self.engine = make_engine(engine, rules, store, as_of)
            self.engine_name = self.engine.name
            self.notice = getattr(self.engine, "notice", None)

    def scrub_lines(self, lines: list[dict], source: str = "request", reader_findings: list[dict] | None = None,
                    source_rows: list[int] | None = None) -> Outcome:
        """Raw lines (canonical column names; any JSON scalars) -> verdicts. The lines are one unit."""
        raw = [{k: as_text(v) for k, v in line.items()} for line in lines]
        found = reader_findings or []
        if self.engine is not None:
            rows = normalize_rows(raw, source, source_rows=source_rows)
            findings = self.engine.evaluate_rows(rows, found, as_of=self.as_of)
        else:
            rows, findings = self._batch(raw, source, found, source_rows)
        own, loose = split_file_findings(findings, rows)
        verdicts = decide(own, claim_facts(rows), self.dispositions)
        return Outcome(verdicts, loose, len(rows))

    def _batch(self, raw, source, found, source_rows):
        """The batch engine on the request's lines (slow per claim; for comparison and fallback)."""
        import pandas as pd

        from auditor.claims.normalize import normalize
        from auditor.engine.batch import evaluate

        frame = normalize(pd.DataFrame(raw, columns=list(dict.fromkeys(k for r in raw for k in r))), source,
                          source_rows=pd.Series(source_rows) if source_rows is not None else None)
        findings, _cov, _ctx = evaluate(frame, self.rules, self.store, as_of=self.as_of, reader_findings=found)
        return rows_from_frame(frame), finding_dicts(findings)

    def scrub_x12(self, data: bytes, source: str = "request.837") -> Outcome:
        """An 837 (bytes) -> verdicts; the reader's structural issues are findings (X12001-X12003)."""
        from auditor.claims.edi import read_x12_result

        frame, found, _result = read_x12_result(data, source)
        for f in found:
            f["source_file"] = source
        source_rows = [int(x) for x in frame["source_row"].tolist()]
        raw = frame.drop(columns=["source_row"]).to_dict("records")
        return self.scrub_lines(raw, source, found, source_rows)

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()
