"""Review periods (calendar months) and the claim filter that keeps one period's claims."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from auditor.errors import AuditorError

BASES = {"service": "service_date", "received": "received_date"}


@dataclass(frozen=True)
class Period:
    label: str
    start: date
    end: date      # inclusive

    @classmethod
    def month(cls, year: int, month: int) -> "Period":
        return cls(f"{year:04d}-{month:02d}", date(year, month, 1),
                   date(year, month, calendar.monthrange(year, month)[1]))

    @classmethod
    def parse(cls, text: str, today: date | None = None) -> "Period":
        """``YYYY-MM``, ``last-month`` or ``this-month`` (relative to `today`)."""
        t = (text or "").strip().lower()
        today = today or date.today()
        if t in ("last-month", "previous-month"):
            return cls.month(today.year, today.month).previous()
        if t in ("this-month", "current-month"):
            return cls.month(today.year, today.month)
        m = re.fullmatch(r"(\d{4})-(\d{2})", t)
        if not m or not 1 <= int(m.group(2)) <= 12:
            raise AuditorError(f"--period: '{text}' is not a month (YYYY-MM, last-month or this-month)")
        return cls.month(int(m.group(1)), int(m.group(2)))

    def previous(self) -> "Period":
        d = self.start - timedelta(days=1)
        return Period.month(d.year, d.month)

    def __str__(self) -> str:
        return self.label


class PeriodFilter:
    """A run_audit `line_filter` keeping the claims of one period.

    A claim belongs to the period of its earliest date on the basis (service: the earliest line
    service date, i.e. the claim's from-date; received: the received date), so a claim is never
    split across periods. Claims with no date on the basis are kept (they are in this period's
    files) and counted in `undated_lines`.
    """

    def __init__(self, period: Period, basis: str = "service"):
        if basis not in BASES:
            raise AuditorError(f"period_basis: '{basis}' must be service or received")
        self.period, self.basis = period, basis
        self.lines_in = self.lines_out = self.claims_out = self.undated_lines = 0

    def __call__(self, lines: pd.DataFrame) -> np.ndarray:
        col = BASES[self.basis]
        d = pd.to_datetime(lines[col]) if col in lines else pd.Series(pd.NaT, index=lines.index)
        claim = lines["claim_id"].astype(object)
        key = claim.where(claim.notna(), pd.Series(np.arange(len(lines)), index=lines.index).astype(str) + "\x00")
        first = d.groupby(key.to_numpy(), sort=False).transform("min")
        lo, hi = pd.Timestamp(self.period.start), pd.Timestamp(self.period.end)
        undated = first.isna().to_numpy()
        keep = undated | ((first >= lo) & (first <= hi)).to_numpy()
        self.lines_in = int(keep.sum())
        self.lines_out = int((~keep).sum())
        self.claims_out = int(pd.Series(key.to_numpy()[~keep]).nunique())
        self.undated_lines = int(undated.sum())
        return keep
