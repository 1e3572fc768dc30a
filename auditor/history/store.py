"""The audit history store: runs and their findings in SQLite (a file) or PostgreSQL (a URL).

The schema is created and upgraded by Alembic (``migrations/``, run programmatically on open).
Recording a run is one transaction: the previous run of the same (scope, period) is deleted and
the new one inserted together, so a re-run replaces instead of double counting, and a failure
anywhere leaves the store as it was.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from auditor.errors import AuditorError
from auditor.history import models as m
from auditor.history.totals import TOTALS_COLUMNS, run_totals

log = logging.getLogger("auditor.history")

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
CHUNK = 20_000   # rows per executemany batch: bounded memory, few round trips

STORED_FINDING_COLUMNS = [
    "fingerprint", "rule_id", "category", "severity", "claim_id", "line_number", "related_line", "member_id",
    "billing_npi", "rendering_npi", "service_date", "procedure_code", "message", "amount_at_risk", "reference",
    "source_file",
]


class HistoryError(AuditorError):
    """The history store cannot be opened or used (bad URL, unreachable server, bad schema)."""


def normalize_url(target: str | os.PathLike) -> str:
    """A SQLAlchemy URL: URLs pass through (postgresql:// gets the psycopg 3 driver), a plain path
    becomes an SQLite file URL (its folder is created)."""
    text = str(target).strip()
    if not text:
        raise HistoryError("empty history URL")
    if "://" not in text:
        p = Path(text).expanduser().resolve()
        p.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{p}"
    if text.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + text.split("://", 1)[1]
    if text.startswith("sqlite:///") and text not in ("sqlite:///", "sqlite:///:memory:"):
        Path(text[len("sqlite:///"):]).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
    return text


def display_url(url: str) -> str:
    """The URL without its password (for messages and provenance)."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:   # not a URL we can parse: show nothing of it rather than a secret
        return "(history URL)"


@dataclass
class RunRecord:
    """What is stored about one run besides its findings."""

    scope: str
    period: str
    command: str
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    period_basis: str | None = None
    as_of: dt.date | None = None
    provenance: dict = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
    lines_outside_period: int | None = None


def _py(values: list) -> list:
    """Plain Python values for the DB driver: NaN/NaT/NA -> None, numpy scalars -> Python."""
    out = []
    for v in values:
        if v is None or v is pd.NA or v is pd.NaT:
            out.append(None)
        elif isinstance(v, float) and math.isnan(v):
            out.append(None)
        elif isinstance(v, np.generic):
            out.append(v.item())
        else:
            out.append(v)
    return out


def _column(s: pd.Series) -> list:
    if pd.api.types.is_datetime64_any_dtype(s):
        d = s.dt.date
        return d.astype(object).where(s.notna(), None).tolist()
    if isinstance(s.dtype, pd.Int64Dtype) or pd.api.types.is_integer_dtype(s):
        return s.astype(object).where(s.notna(), None).tolist()
    if pd.api.types.is_float_dtype(s):
        return [None if v != v else v for v in s.tolist()]   # v != v: NaN
    return _py(s.astype(object).where(s.notna(), None).tolist())


def _records(df: pd.DataFrame, columns: list[str], extra: dict | None = None) -> list[dict]:
    cols = [_column(df[c]) if c in df.columns else [None] * len(df) for c in columns]
    keys = list(columns) + list(extra or {})
    tail = list((extra or {}).values())
    return [dict(zip(keys, list(row) + tail)) for row in zip(*cols)] if len(df) else []


def _plain(v):
    """JSON-safe copy of provenance/summary values."""
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class HistoryStore:
    """One history database. ``HistoryStore(url)`` opens it and brings the schema up to date."""

    def __init__(self, target: str | os.PathLike, *, migrate: bool = True, echo: bool = False):
        self.url = normalize_url(target)
        try:
            self.engine = sa.create_engine(self.url, echo=echo, future=True)
        except Exception as exc:   # bad URL or a driver that is not installed
            raise HistoryError(f"history store {display_url(self.url)}: {exc}") from None
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        if migrate:
            self.migrate()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def __repr__(self) -> str:
        return f"HistoryStore({display_url(self.url)})"

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- schema -----------------------------------------------------------------------------

    def _alembic_config(self):
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        return cfg

    def migrate(self, revision: str = "head") -> None:
        """Create or upgrade the schema with the packaged Alembic migrations."""
        from alembic import command

        cfg = self._alembic_config()
        try:
            with self.engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
        except sa.exc.OperationalError as exc:
            raise HistoryError(f"history store {display_url(self.url)}: cannot connect or migrate: "
                               f"{str(exc.orig).strip().splitlines()[0] if exc.orig else exc}") from None

    def revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def head_revision(self) -> str | None:
        from alembic.script import ScriptDirectory

        return ScriptDirectory.from_config(self._alembic_config()).get_current_head()

    # --- recording ----------------------------------------------------------------------------

    def record(self, run: RunRecord, open_findings: pd.DataFrame, waived: pd.DataFrame | None = None) -> int:
        """Store one run with its findings (replacing the run of the same scope and period); returns its id.

        `waived` holds the waived findings with a ``waiver_id`` column; they are stored flagged
        and left out of the counts and totals.
        """
        waived = waived if waived is not None else pd.DataFrame(columns=STORED_FINDING_COLUMNS + ["waiver_id"])
        s = run.summary or {}
        p = run.provenance or {}
        totals = run_totals(open_findings)
        from auditor.history.totals import dollars_by

        row = {
            "scope": run.scope, "period": run.period, "period_start": run.period_start,
            "period_end": run.period_end, "period_basis": run.period_basis, "command": run.command,
            "started_at": p.get("started_at"), "finished_at": p.get("finished_at"), "recorded_at": _now(),
            "as_of": run.as_of, "auditor_version": p.get("auditor_version"),
            "rule_pack_hash": p.get("rule_pack_hash"), "lines_read": s.get("lines_read"),
            "lines_audited": s.get("lines_audited"), "lines_outside_period": run.lines_outside_period,
            "claims": s.get("claims"), "findings_open": int(len(open_findings)),
            "findings_waived": int(len(waived)), "dollars_at_risk": dollars_by(open_findings, []),
            "summary": _plain(s), "provenance": _plain(p),
        }
        with self.engine.begin() as conn:   # one transaction: all of it or nothing
            old = conn.execute(sa.select(m.runs.c.id).where(m.runs.c.scope == run.scope,
                                                            m.runs.c.period == run.period)).scalar()
            if old is not None:
                self._delete_run(conn, old)
            run_id = conn.execute(m.runs.insert().values(**row)).inserted_primary_key[0]
            inputs = [{"run_id": run_id, "file": str(i.get("file") or i.get("name") or ""),
                       "sha256": i.get("sha256"), "lines": i.get("lines")} for i in p.get("inputs") or []]
            if inputs:
                conn.execute(m.run_inputs.insert(), inputs)
            refs = [{"run_id": run_id, "kind": r.get("kind"), "version_id": r.get("version_id"),
                     "source": r.get("source"), "sha256": r.get("sha256"), "rows_checked": r.get("rows_checked")}
                    for r in p.get("refdata_versions") or []]
            if refs:
                conn.execute(m.run_refdata.insert(), refs)
            self._insert_findings(conn, run_id, open_findings, waived=False)
            self._insert_findings(conn, run_id, waived, waived=True)
            tot = _records(totals, TOTALS_COLUMNS, {"run_id": run_id})
            if tot:
                conn.execute(m.run_totals.insert(), tot)
        log.info("recorded run %s (%s %s): %d open findings, %d waived", run_id, run.scope, run.period,
                 len(open_findings), len(waived))
        return int(run_id)

    def _insert_findings(self, conn, run_id: int, f: pd.DataFrame, *, waived: bool) -> None:
        cols = STORED_FINDING_COLUMNS + (["waiver_id"] if waived else [])
        extra = {"run_id": run_id, "waived": waived}
        if not waived:
            extra["waiver_id"] = None
        if conn.dialect.name == "postgresql":
            # psycopg's own executemany (pipelined) takes half the time of SQLAlchemy's parameter
            # processing; every value is already a plain Python date/str/int/float/bool/None.
            keys = cols + list(extra)
            sql = f"INSERT INTO {m.findings.name} ({', '.join(keys)}) VALUES ({', '.join(['%s'] * len(keys))})"
            for start in range(0, len(f), CHUNK):
                rows = [tuple(r.values()) for r in _records(f.iloc[start:start + CHUNK], cols, extra)]
                conn.exec_driver_sql(sql, rows)
            return
        stmt = m.findings.insert()
        for start in range(0, len(f), CHUNK):
            conn.execute(stmt, _records(f.iloc[start:start + CHUNK], cols, extra))

    @staticmethod
    def _delete_run(conn, run_id: int) -> None:
        # Children first: SQLite enforces ON DELETE CASCADE only with the pragma, and explicit is clearer.
        for t in (m.findings, m.run_totals, m.run_inputs, m.run_refdata):
            conn.execute(t.delete().where(t.c.run_id == run_id))
        conn.execute(m.runs.delete().where(m.runs.c.id == run_id))

    def delete_run(self, scope: str, period: str) -> bool:
        """Remove one run and its findings; False when there was none."""
        with self.engine.begin() as conn:
            old = conn.execute(sa.select(m.runs.c.id).where(m.runs.c.scope == scope,
                                                            m.runs.c.period == period)).scalar()
            if old is None:
                return False
            self._delete_run(conn, old)
            return True

    # --- reading ------------------------------------------------------------------------------

    def runs(self, scope: str | None = None, *, before: dt.date | None = None,
             limit: int | None = None) -> list[dict]:
        """Runs, newest period first (optionally of one scope, and starting before a date)."""
        q = sa.select(m.runs).order_by(m.runs.c.period_start.desc().nulls_last(), m.runs.c.id.desc())
        if scope is not None:
            q = q.where(m.runs.c.scope == scope)
        if before is not None:
            q = q.where(m.runs.c.period_start < before)
        if limit:
            q = q.limit(limit)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def run(self, scope: str, period: str) -> dict | None:
        with self.engine.connect() as conn:
            r = conn.execute(sa.select(m.runs).where(m.runs.c.scope == scope, m.runs.c.period == period)).first()
        return dict(r._mapping) if r else None

    def previous_run(self, scope: str, period_start: dt.date) -> dict | None:
        """The latest run of `scope` whose period starts before `period_start`."""
        got = self.runs(scope, before=period_start, limit=1)
        return got[0] if got else None

    def findings(self, run_id: int, *, include_waived: bool = False) -> pd.DataFrame:
        q = sa.select(*[m.findings.c[c] for c in STORED_FINDING_COLUMNS + ["waived", "waiver_id"]]) \
            .where(m.findings.c.run_id == run_id)
        if not include_waived:
            q = q.where(m.findings.c.waived.is_(False))
        with self.engine.connect() as conn:
            df = pd.DataFrame(conn.execute(q).fetchall(), columns=STORED_FINDING_COLUMNS + ["waived", "waiver_id"])
        df["line_number"] = pd.array(df["line_number"], dtype="Int64")
        df["related_line"] = pd.array(df["related_line"], dtype="Int64")
        df["service_date"] = pd.to_datetime(df["service_date"])
        df["amount_at_risk"] = pd.to_numeric(df["amount_at_risk"], errors="coerce").astype("float64")
        return df

    def totals(self, run_ids: list[int], dimension: str | None = None) -> pd.DataFrame:
        """run_totals rows of the given runs (with run_id)."""
        cols = ["run_id"] + TOTALS_COLUMNS
        if not run_ids:
            return pd.DataFrame(columns=cols)
        q = sa.select(*[m.run_totals.c[c] for c in cols]).where(m.run_totals.c.run_id.in_(list(run_ids)))
        if dimension:
            q = q.where(m.run_totals.c.dimension == dimension)
        with self.engine.connect() as conn:
            df = pd.DataFrame(conn.execute(q).fetchall(), columns=cols)
        df["findings"] = pd.to_numeric(df["findings"]).astype("int64")
        df["dollars"] = pd.to_numeric(df["dollars"]).astype("float64")
        return df

    def counts(self) -> dict[str, int]:
        """Rows per table (for tests and `auditor history runs`)."""
        with self.engine.connect() as conn:
            return {t.name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar())
                    for t in (m.runs, m.run_inputs, m.run_refdata, m.findings, m.run_totals, m.waivers)}

    # --- waivers ------------------------------------------------------------------------------

    def add_waiver(self, *, reason: str, approved_by: str, expires: dt.date, fingerprint: str | None = None,
                   rule_id: str | None = None, claim_id: str | None = None, rendering_npi: str | None = None,
                   date_from: dt.date | None = None, date_to: dt.date | None = None,
                   scope: str | None = None) -> int:
        from auditor.review.waivers import Waiver

        w = Waiver(id="new", fingerprint=fingerprint, rule_id=rule_id, claim_id=claim_id,
                   rendering_npi=rendering_npi, date_from=date_from, date_to=date_to, reason=reason,
                   approved_by=approved_by, expires=expires, source="store").validated()
        row = {"scope": scope, "fingerprint": w.fingerprint, "rule_id": w.rule_id, "claim_id": w.claim_id,
               "rendering_npi": w.rendering_npi, "date_from": w.date_from, "date_to": w.date_to,
               "reason": w.reason, "approved_by": w.approved_by, "expires": w.expires, "created_at": _now()}
        with self.engine.begin() as conn:
            return int(conn.execute(m.waivers.insert().values(**row)).inserted_primary_key[0])

    def waivers(self, scope: str | None = None, *, include_revoked: bool = False) -> list[dict]:
        q = sa.select(m.waivers).order_by(m.waivers.c.id)
        if scope is not None:
            q = q.where(sa.or_(m.waivers.c.scope.is_(None), m.waivers.c.scope == scope))
        if not include_revoked:
            q = q.where(m.waivers.c.revoked_at.is_(None))
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def revoke_waiver(self, waiver_id: int) -> bool:
        with self.engine.begin() as conn:
            n = conn.execute(m.waivers.update().where(m.waivers.c.id == waiver_id, m.waivers.c.revoked_at.is_(None))
                             .values(revoked_at=_now())).rowcount
        return bool(n)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")   # a second writer waits instead of failing at once
    cur.close()
