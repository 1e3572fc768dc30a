"""The history store's tables (SQLAlchemy Core). The schema itself is created by the Alembic
migrations under ``migrations/``; these definitions are what the code reads and writes with and
must match the latest migration (tests/history check that they do)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# 64-bit keys on PostgreSQL; on SQLite only INTEGER PRIMARY KEY is the auto-incrementing rowid.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Money = sa.Numeric(14, 2, asdecimal=False)

runs = sa.Table(
    "runs", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("scope", sa.String(200), nullable=False),          # which review (config `name`), default "default"
    sa.Column("period", sa.String(64), nullable=False),          # "2026-10", or a date range for ad-hoc audits
    sa.Column("period_start", sa.Date),
    sa.Column("period_end", sa.Date),
    sa.Column("period_basis", sa.String(16)),                     # service | received
    sa.Column("command", sa.String(16), nullable=False),          # audit | review
    sa.Column("started_at", sa.String(40)),                       # ISO 8601 with offset, as in provenance
    sa.Column("finished_at", sa.String(40)),
    sa.Column("recorded_at", sa.String(40), nullable=False),
    sa.Column("as_of", sa.Date),
    sa.Column("auditor_version", sa.String(40)),
    sa.Column("rule_pack_hash", sa.String(64)),
    sa.Column("lines_read", sa.Integer),
    sa.Column("lines_audited", sa.Integer),
    sa.Column("lines_outside_period", sa.Integer),
    sa.Column("claims", sa.Integer),
    sa.Column("findings_open", sa.Integer, nullable=False),
    sa.Column("findings_waived", sa.Integer, nullable=False),
    sa.Column("dollars_at_risk", Money),
    sa.Column("summary", sa.JSON),
    sa.Column("provenance", sa.JSON),
    sa.UniqueConstraint("scope", "period", name="uq_runs_scope_period"),
    sqlite_autoincrement=True,   # a replaced run never hands its id to the next one
)

run_inputs = sa.Table(
    "run_inputs", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("run_id", BigId, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("file", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64)),
    sa.Column("lines", sa.Integer),
)

run_refdata = sa.Table(
    "run_refdata", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("run_id", BigId, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("version_id", sa.String(200)),
    sa.Column("source", sa.Text),
    sa.Column("sha256", sa.String(64)),
    sa.Column("rows_checked", sa.BigInteger),
)

findings = sa.Table(
    "findings", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("run_id", BigId, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("fingerprint", sa.String(64), nullable=False, index=True),
    sa.Column("rule_id", sa.String(40), nullable=False),
    sa.Column("category", sa.String(40)),
    sa.Column("severity", sa.String(16)),
    sa.Column("claim_id", sa.String(100)),
    sa.Column("line_number", sa.Integer),
    sa.Column("related_line", sa.Integer),
    sa.Column("member_id", sa.String(100)),
    sa.Column("billing_npi", sa.String(20)),
    sa.Column("rendering_npi", sa.String(20)),
    sa.Column("service_date", sa.Date),
    sa.Column("procedure_code", sa.String(20)),
    sa.Column("message", sa.Text),
    sa.Column("amount_at_risk", Money),
    sa.Column("reference", sa.Text),
    sa.Column("source_file", sa.Text),
    sa.Column("waived", sa.Boolean, nullable=False),
    sa.Column("waiver_id", sa.String(200)),
)

# Per-run aggregates of the open findings, written with the run: trends and patterns read these
# instead of re-aggregating every stored finding. dimension: category | provider | pattern.
run_totals = sa.Table(
    "run_totals", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("run_id", BigId, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("dimension", sa.String(16), nullable=False),
    sa.Column("rule_id", sa.String(40)),
    sa.Column("category", sa.String(40)),
    sa.Column("rendering_npi", sa.String(20)),
    sa.Column("findings", sa.Integer, nullable=False),
    sa.Column("dollars", Money, nullable=False),
)

waivers = sa.Table(
    "waivers", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("scope", sa.String(200)),                           # NULL: applies to every scope
    sa.Column("fingerprint", sa.String(64)),
    sa.Column("rule_id", sa.String(40)),
    sa.Column("claim_id", sa.String(100)),
    sa.Column("rendering_npi", sa.String(20)),
    sa.Column("date_from", sa.Date),
    sa.Column("date_to", sa.Date),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("approved_by", sa.String(200), nullable=False),
    sa.Column("expires", sa.Date, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("revoked_at", sa.String(40)),
)
