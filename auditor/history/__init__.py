"""Audit history: every recorded run and its findings in SQLite or PostgreSQL (see docs/review.md)."""

from auditor.history.store import HistoryError, HistoryStore, RunRecord, display_url, normalize_url

__all__ = ["HistoryStore", "HistoryError", "RunRecord", "normalize_url", "display_url"]
