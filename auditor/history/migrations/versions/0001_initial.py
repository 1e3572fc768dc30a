"""History store: runs, their inputs, reference data versions, findings, totals; waivers.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Money = sa.Numeric(14, 2, asdecimal=False)


def _run_fk():
    return sa.Column("run_id", BigId, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("scope", sa.String(200), nullable=False),
        sa.Column("period", sa.String(64), nullable=False),
        sa.Column("period_start", sa.Date),
        sa.Column("period_end", sa.Date),
        sa.Column("period_basis", sa.String(16)),
        sa.Column("command", sa.String(16), nullable=False),
        sa.Column("started_at", sa.String(40)),
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
        sqlite_autoincrement=True,
    )
    op.create_table(
        "run_inputs",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        _run_fk(),
        sa.Column("file", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64)),
        sa.Column("lines", sa.Integer),
    )
    op.create_index("ix_run_inputs_run_id", "run_inputs", ["run_id"])
    op.create_table(
        "run_refdata",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        _run_fk(),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("version_id", sa.String(200)),
        sa.Column("source", sa.Text),
        sa.Column("sha256", sa.String(64)),
        sa.Column("rows_checked", sa.BigInteger),
    )
    op.create_index("ix_run_refdata_run_id", "run_refdata", ["run_id"])
    op.create_table(
        "findings",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        _run_fk(),
        sa.Column("fingerprint", sa.String(64), nullable=False),
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
    op.create_index("ix_findings_run_id", "findings", ["run_id"])
    op.create_index("ix_findings_fingerprint", "findings", ["fingerprint"])
    op.create_table(
        "run_totals",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        _run_fk(),
        sa.Column("dimension", sa.String(16), nullable=False),
        sa.Column("rule_id", sa.String(40)),
        sa.Column("category", sa.String(40)),
        sa.Column("rendering_npi", sa.String(20)),
        sa.Column("findings", sa.Integer, nullable=False),
        sa.Column("dollars", Money, nullable=False),
    )
    op.create_index("ix_run_totals_run_id", "run_totals", ["run_id"])
    op.create_table(
        "waivers",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("scope", sa.String(200)),
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


def downgrade() -> None:
    for name in ("waivers", "run_totals", "findings", "run_refdata", "run_inputs", "runs"):
        op.drop_table(name)
