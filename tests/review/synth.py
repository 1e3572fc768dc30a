"""Synthetic, labelled-as-fake claim data for the history and review tests (no real patients)."""

from __future__ import annotations

import os
import uuid
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest


def npi(n: int) -> str:
    """A valid (check-digit) NPI made from a small number: 1 followed by 8 digits + Luhn digit."""
    base = f"1{n:08d}"
    digits = [int(c) for c in "80840" + base]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return base + str((10 - total % 10) % 10)


EM_CHARGE = {"99202": 80, "99203": 120, "99204": 180, "99205": 240, "99211": 30, "99212": 60, "99213": 95,
             "99214": 140, "99215": 200}


def claims(month: str, providers: dict[str, dict], seed: int = 0, prefix: str = "") -> pd.DataFrame:
    """Claim lines of one month. providers: {npi: spec}; spec keys (all optional):
    visits (E/M claims, default 40), high (share at 99204/5 or 99214/5, default 0.2), new (share of new
    patients, 0.2), mod25 (0.05), therapy (visits with 97110/97140, 0), units (mean units per therapy
    visit, 2.0), bad_units (claims whose line has units 0 -> DQ004 finding, 0)."""
    rng = np.random.default_rng(seed)
    y, m = (int(x) for x in month.split("-"))
    start = date(y, m, 1)
    days = ((date(y + m // 12, m % 12 + 1, 1)) - start).days
    rows = []
    for p, spec in providers.items():
        tag = f"{prefix}{month.replace('-', '')}{p[-4:]}"
        n_bad = int(spec.get("bad_units", 0))
        for i in range(int(spec.get("visits", 40))):
            new = rng.random() < spec.get("new", 0.2)
            high = rng.random() < spec.get("high", 0.2)
            fam = ["99202", "99203", "99204", "99205"] if new else ["99211", "99212", "99213", "99214", "99215"]
            code = rng.choice(fam[-2:]) if high else rng.choice(fam[:-2])
            d = start + timedelta(days=int(rng.integers(0, days)))
            rows.append({"claim_id": f"E{tag}{i:04d}", "line_number": 1, "procedure_code": code,
                         "modifier_1": "25" if rng.random() < spec.get("mod25", 0.05) else "",
                         "units": 0 if i < n_bad else 1, "charge": EM_CHARGE[code], "service_date": d,
                         "rendering_npi": p})
        for i in range(int(spec.get("therapy", 0))):
            d = start + timedelta(days=int(rng.integers(0, days)))
            u = max(1, int(round(rng.normal(spec.get("units", 2.0), 0.7))))
            rows.append({"claim_id": f"T{tag}{i:04d}", "line_number": 1, "procedure_code": "97110", "modifier_1": "",
                         "units": u, "charge": 35.0 * u, "service_date": d, "rendering_npi": p})
    df = pd.DataFrame(rows)
    df["member_id"] = ["M" + c[1:] for c in df["claim_id"]]
    df["member_birth_date"] = "1970-01-15"
    df["member_sex"] = "F"
    df["billing_npi"] = npi(99999)
    df["place_of_service"] = "11"
    df["received_date"] = [d + timedelta(days=7) for d in df["service_date"]]
    df["dx_1"] = "I10"
    df["claim_type"] = "professional"
    df["service_date"] = pd.to_datetime(df["service_date"]).dt.strftime("%Y-%m-%d")
    df["received_date"] = pd.to_datetime(df["received_date"]).dt.strftime("%Y-%m-%d")
    return df


def write(df: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False)
    return path


def peers(n: int, **spec) -> dict[str, dict]:
    """n ordinary providers with the same spec."""
    return {npi(100 + i): dict(spec) for i in range(n)}


# --- history backends ---------------------------------------------------------------------------

PG_ENV = "AUDITOR_TEST_PG_URL"


def _pg_schema_url(base: str):
    """A fresh schema per test on the shared PostgreSQL database (search_path set in the URL)."""
    import sqlalchemy as sa

    schema = "t_" + uuid.uuid4().hex[:12]
    eng = sa.create_engine(base)
    with eng.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.engine.make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), eng, schema


@pytest.fixture(params=["sqlite", "postgresql"])
def history_url(request, tmp_path):
    """A history store URL on each backend: an SQLite file, and a fresh schema on the PostgreSQL
    server named by AUDITOR_TEST_PG_URL (skipped when unset)."""
    if request.param == "sqlite":
        yield str(tmp_path / "history.sqlite")
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set (start one with: export {PG_ENV}=$(bash .ci/postgres.sh))")
    import sqlalchemy as sa

    url, eng, schema = _pg_schema_url(base)
    try:
        yield url
    finally:
        with eng.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        eng.dispose()
