"""In-memory reference data with the RefStore interface (rule examples, tests, the scrub service)."""

from __future__ import annotations

from datetime import date

import pandas as pd


class FrameStore:
    """Tables given as frames, each one version in effect on every date; other kinds come from ``base``."""

    def __init__(self, frames: dict[str, pd.DataFrame], base=None, version_id: str = "example"):
        self.frames = {k: v.reset_index(drop=True) for k, v in frames.items()}
        self.base, self.version_id = base, version_id

    def kinds(self) -> list[str]:
        base = self.base.kinds() if self.base is not None else []
        return sorted(set(base) | set(self.frames))

    def versions(self, kind: str) -> list:
        if kind in self.frames:
            from types import SimpleNamespace

            return [SimpleNamespace(kind=kind, version_id=self.version_id, valid_from=None, valid_to=None,
                                    rows=len(self.frames[kind]), source="inline", sha256="", imported_at="",
                                    builtin=False, row_dated=False)]
        return self.base.versions(kind) if self.base is not None else []

    def table(self, kind: str, version_id: str) -> pd.DataFrame:
        if kind in self.frames:
            return self.frames[kind]
        return self.base.table(kind, version_id)

    def version_for_dates(self, kind: str, dates: pd.Series) -> pd.Series:
        if kind in self.frames:
            return pd.Series(self.version_id, index=dates.index, dtype=object).where(dates.notna(), None)
        if self.base is None:
            return pd.Series(None, index=dates.index, dtype=object)
        return self.base.version_for_dates(kind, dates)


def coerce_table(kind: str, rows: list[dict]) -> pd.DataFrame:
    """Example reference rows (YAML) -> a typed table: *_date / effective / deletion columns become dates."""
    df = pd.DataFrame(rows)
    for c in df.columns:
        if c.endswith(("_date", "_effective", "_deletion")) or c in ("effective_date", "deletion_date", "term_date", "add_date"):
            df[c] = pd.to_datetime(df[c].astype(object).where(df[c].notna() & (df[c].astype(str) != "*"), None))
        elif df[c].map(lambda v: isinstance(v, date)).any():
            df[c] = pd.to_datetime(df[c])
        elif df[c].map(lambda v: isinstance(v, str)).any():
            df[c] = df[c].astype(object).where(df[c].notna(), None).map(lambda v: v if v is None else str(v))
    return df
