"""History store on SQLite and PostgreSQL: migrations, recording, replacement, rollback, speed."""

from __future__ import annotations

import time
from datetime import date

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from auditor.findings import conform
from auditor.history import HistoryStore, RunRecord, normalize_url
from auditor.history import models as m


def findings(n: int, *, rule="DQ004", npi="1000000012", seed=0, claim_prefix="C") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "rule_id": rule, "category": "data_quality", "severity": "error",
        "claim_id": [f"{claim_prefix}{i:07d}" for i in range(n)], "line_number": 1, "related_line": None,
        "member_id": "M1", "billing_npi": npi, "rendering_npi": npi,
        "service_date": pd.Timestamp("2026-10-05"), "procedure_code": "99213",
        "message": "units 0", "amount_at_risk": rng.integers(10, 200, n).astype(float), "reference": "ref",
        "fingerprint": [f"{seed:04x}{i:012x}" for i in range(n)], "source_file": "f.csv",
    })
    return conform(df)


def record(store, period="2026-10", f=None, scope="default"):
    f = findings(10) if f is None else f
    y, mo = map(int, period.split("-"))
    return store.record(RunRecord(scope=scope, period=period, command="review", period_start=date(y, mo, 1),
                                  period_end=date(y, mo, 28), period_basis="service", as_of=date(2026, 11, 26),
                                  provenance={"inputs": [{"file": "a.csv", "sha256": "ab" * 32, "lines": 100}],
                                              "refdata_versions": [{"kind": "icd10cm", "version_id": "2026",
                                                                    "source": "builtin", "sha256": "cd" * 32}],
                                              "rule_pack_hash": "ef" * 32, "started_at": "2026-11-26T00:00:00+00:00"},
                                  summary={"lines_read": 100, "lines_audited": 100, "claims": 50}), f)


def test_migrations_from_empty(history_url):
    store = HistoryStore(history_url)
    assert store.revision() == store.head_revision() == "0001"
    insp = sa.inspect(store.engine)
    assert {"runs", "run_inputs", "run_refdata", "findings", "run_totals", "waivers", "alembic_version"} <= set(
        insp.get_table_names())
    # the models the code writes with match what the migrations created
    for table in m.metadata.sorted_tables:
        assert {c["name"] for c in insp.get_columns(table.name)} == {c.name for c in table.columns}, table.name
    store.migrate()  # idempotent
    assert store.counts()["runs"] == 0
    store.close()


def test_sqlite_path_and_url(tmp_path):
    p = tmp_path / "sub" / "h.sqlite"
    assert normalize_url(str(p)) == f"sqlite:///{p}"
    assert normalize_url("postgresql://u@h/db").startswith("postgresql+psycopg://")
    HistoryStore(f"sqlite:///{p}").close()
    assert p.exists()


def test_record_run_and_provenance(history_url):
    store = HistoryStore(history_url)
    run_id = record(store)
    runs = store.runs("default")
    assert len(runs) == 1 and runs[0]["id"] == run_id
    r = runs[0]
    assert r["findings_open"] == 10 and r["findings_waived"] == 0 and r["rule_pack_hash"] == "ef" * 32
    assert r["dollars_at_risk"] == pytest.approx(findings(10)["amount_at_risk"].sum())
    c = store.counts()
    assert c["run_inputs"] == 1 and c["run_refdata"] == 1 and c["findings"] == 10
    got = store.findings(run_id)
    assert sorted(got["fingerprint"]) == sorted(findings(10)["fingerprint"])
    assert got["service_date"].iloc[0] == pd.Timestamp("2026-10-05")
    t = store.totals([run_id])
    assert set(t["dimension"]) == {"category", "provider", "pattern"}


def test_rerun_same_period_replaces(history_url):
    store = HistoryStore(history_url)
    record(store, "2026-09", findings(5, seed=1))
    first = record(store, "2026-10", findings(10))
    second = record(store, "2026-10", findings(7, seed=2))
    assert second != first
    assert [r["period"] for r in store.runs("default")] == ["2026-10", "2026-09"]
    assert store.counts()["findings"] == 5 + 7            # no double counting
    assert len(store.findings(second)) == 7 and len(store.findings(first)) == 0
    assert store.totals([first]).empty
    # another review name keeps its own run of the same period
    record(store, "2026-10", findings(3, seed=3), scope="other")
    assert store.counts()["runs"] == 3


def test_failed_run_leaves_store_unchanged(history_url, monkeypatch):
    store = HistoryStore(history_url)
    good = record(store, "2026-10", findings(10))
    before = store.counts()
    real = HistoryStore._insert_findings

    def failing(self, conn, run_id, f, *, waived):
        real(self, conn, run_id, f, waived=waived)      # the rows go in, then the run fails halfway
        raise RuntimeError("injected failure")

    monkeypatch.setattr(HistoryStore, "_insert_findings", failing)
    with pytest.raises(RuntimeError, match="injected"):
        record(store, "2026-10", findings(20, seed=5))
    monkeypatch.undo()
    assert store.counts() == before
    assert [r["id"] for r in store.runs()] == [good]
    assert len(store.findings(good)) == 10


def test_waiver_records(history_url):
    store = HistoryStore(history_url)
    a = store.add_waiver(rule_id="dq004", claim_id="c1", reason="r", approved_by="me", expires=date(2027, 1, 1))
    store.add_waiver(fingerprint="ABC", reason="r", approved_by="me", expires=date(2027, 1, 1), scope="clinic")
    assert [w["rule_id"] for w in store.waivers("default")] == ["DQ004"]       # normalised, scope-filtered
    assert len(store.waivers("clinic")) == 2
    assert store.revoke_waiver(a) and not store.revoke_waiver(a)
    assert len(store.waivers()) == 1 and len(store.waivers(include_revoked=True)) == 2
    from auditor.review.waivers import WaiverError
    with pytest.raises(WaiverError):
        store.add_waiver(rule_id="DQ004", reason="r", approved_by="me", expires=date(2027, 1, 1))


def test_bulk_insert_is_fast(history_url):
    """50k findings in one run: bulk executemany inserts keep this to seconds (see docs/review.md)."""
    store = HistoryStore(history_url)
    f = findings(50_000)
    t0 = time.perf_counter()
    record(store, "2026-10", f)
    took = time.perf_counter() - t0
    print(f"\n{store.dialect}: 50,000 findings recorded in {took:.2f} s ({50_000 / took:,.0f}/s)")
    assert store.counts()["findings"] == 50_000
    assert took < 30
