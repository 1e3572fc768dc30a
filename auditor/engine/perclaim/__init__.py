"""Per-claim evaluation of the rule pack: one request (a few claims) at a time, in microseconds.

    engine = make_engine("python" | "durable", rules, store)    # indexes are built here, once
    engine.evaluate_rows(rows)            # rows from rows.normalize_rows: finding dicts
    engine.evaluate(lines_frame, ...)     # batch.evaluate's signature, one member at a time

``durable`` needs durable_rules (installed where it works: Python < 3.13); where it is missing,
:func:`make_engine` falls back to the Python engine and says so (``engine.notice``).
"""

from __future__ import annotations

import logging

from auditor.engine.perclaim.engine import PythonEngine, member_units, to_frame
from auditor.engine.perclaim.rows import normalize_rows, rows_from_frame

log = logging.getLogger("auditor")

ENGINES = ("python", "durable")

__all__ = ["ENGINES", "PythonEngine", "durable_available", "make_engine", "member_units", "normalize_rows",
           "rows_from_frame", "to_frame"]


def durable_available() -> tuple[bool, str]:
    """(True, "") when durable_rules imports here, else (False, why)."""
    try:
        import durable.engine  # noqa: F401
        import durable_rules_engine  # noqa: F401
    except Exception as exc:  # ImportError, or the C extension failing to load (Python 3.13)
        return False, f"durable_rules is not available ({type(exc).__name__}: {exc})"
    return True, ""


def make_engine(name: str, rules, store, as_of=None):
    """Build a per-claim engine; ``durable`` falls back to ``python`` with a notice where missing."""
    if name not in ENGINES:
        raise ValueError(f"unknown per-claim engine {name!r} (choose from {', '.join(ENGINES)})")
    if name == "durable":
        ok, why = durable_available()
        if ok:
            from auditor.engine.perclaim.durable import DurableEngine

            return DurableEngine(rules, store, as_of)
        engine = PythonEngine(rules, store, as_of)
        engine.notice = f"{why}; using the python per-claim engine instead"
        log.warning("%s", engine.notice)
        return engine
    return PythonEngine(rules, store, as_of)
