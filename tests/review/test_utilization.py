"""Provider pattern statistics on synthetic peers."""

from __future__ import annotations

import math

import pytest

from auditor.claims.normalize import normalize
from auditor.review.stats import bh_adjust, binom_sf, normal_sf
from auditor.review.utilization import UtilizationProducer, expand_codes
from auditor.rules.loader import load_rules
from review.synth import claims, npi, peers

OUTLIER, SMALL = npi(1), npi(2)


@pytest.fixture(scope="module")
def util_rules():
    return [r for r in load_rules([], include_default=True) if r.category == "utilization"]


@pytest.fixture(scope="module")
def lines():
    p = peers(10, visits=60, therapy=40, high=0.2, mod25=0.05)
    p[OUTLIER] = {"visits": 90, "high": 0.65, "mod25": 0.45, "therapy": 45, "units": 4.0}
    p[SMALL] = {"visits": 12, "high": 1.0, "mod25": 1.0, "therapy": 8, "units": 6.0}   # extreme but tiny
    return normalize(claims("2026-10", p, seed=7), "synthetic.csv")


def test_binomial_tail_is_exact():
    for n, p in ((10, 0.3), (57, 0.12), (200, 0.5)):
        for x in (0, 1, n // 3, n // 2, n):
            exact = sum(math.comb(n, k) * p ** k * (1 - p) ** (n - k) for k in range(x, n + 1))
            assert binom_sf(x, n, p) == pytest.approx(exact, rel=1e-9, abs=1e-300)
    assert binom_sf(5000, 10000, 0.3) < 1e-300 or binom_sf(5000, 10000, 0.3) == pytest.approx(0, abs=1e-300)
    assert binom_sf(3, 2, 0.5) == 0.0 and binom_sf(0, 5, 0.1) == 1.0
    assert normal_sf(0) == pytest.approx(0.5) and normal_sf(3) == pytest.approx(0.0013499, rel=1e-4)


def test_benjamini_hochberg():
    q = bh_adjust([0.01, 0.04, 0.03, 0.5])
    # sorted p 0.01, 0.03, 0.04, 0.5 -> p*m/rank 0.04, 0.06, 0.0533, 0.5 -> running minimum from the top
    assert q.tolist() == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.5])


def test_expand_codes():
    assert expand_codes(["99211-99213", "g0283"]) == {"99211", "99212", "99213", "G0283"}


def test_outlier_flagged_small_volume_not(lines, util_rules):
    prod = UtilizationProducer("2026-10")
    found = prod(lines, util_rules)
    flagged = {(f["rule_id"], f["rendering_npi"]) for f in found}
    assert ("UTIL001", OUTLIER) in flagged and ("UTIL002", OUTLIER) in flagged and ("UTIL004", OUTLIER) in flagged
    assert not any(n == SMALL for _, n in flagged)           # extreme rates, but under 30 visits
    assert {n for _, n in flagged} == {OUTLIER}               # ordinary peers are not flagged
    em = prod.results["UTIL001"].table.set_index("rendering_npi")
    assert em.loc[SMALL, "note"].startswith("fewer than 30") and not em.loc[SMALL, "tested"]
    assert em.loc[OUTLIER, "q"] < 1e-6 and em.loc[OUTLIER, "rate"] > em.loc[OUTLIER, "expected_rate"] + 0.3
    # the numbers are in the message, and the fingerprint subject is provider + period
    msg = next(f["message"] for f in found if f["rule_id"] == "UTIL001")
    assert f"of {int(em.loc[OUTLIER, 'volume'])} office/outpatient E/M visits" in msg and "BH q" in msg
    assert next(f["subject"] for f in found if f["rule_id"] == "UTIL001") == f"{OUTLIER}|2026-10"


def test_peer_rate_leaves_the_provider_out(lines, util_rules):
    prod = UtilizationProducer("2026-10")
    prod(lines, util_rules)
    t = prod.results["UTIL002"].table.set_index("rendering_npi")
    others = t.drop(index=OUTLIER)
    assert t.loc[OUTLIER, "peer_rate"] == pytest.approx(others["events"].sum() / others["volume"].sum())
    assert t.loc[OUTLIER, "peer_providers"] == len(t) - 1


def test_taxonomy_peer_groups(util_rules):
    """Surgeons bill high levels among themselves: against everyone they stand out, against their
    own taxonomy they do not."""
    p = peers(8, visits=60, high=0.15)
    surgeons = {npi(500 + i): {"visits": 60, "high": 0.6} for i in range(4)}
    df = normalize(claims("2026-10", {**p, **surgeons}, seed=3), "synthetic.csv")
    everyone = UtilizationProducer("2026-10")
    flagged_all = {f["rendering_npi"] for f in everyone(df, util_rules) if f["rule_id"] == "UTIL001"}
    assert set(surgeons) <= flagged_all
    table = {n: "207X00000X" for n in surgeons} | {n: "207Q00000X" for n in p}
    grouped = UtilizationProducer("2026-10", providers=table)
    assert not [f for f in grouped(df, util_rules) if f["rule_id"] == "UTIL001"]
    t = grouped.results["UTIL001"].table.set_index("rendering_npi")
    assert t.loc[npi(500), "peer_group"] == "207X00000X" and t.loc[npi(500), "peer_providers"] == 3


def test_runs_inside_an_audit(tmp_path):
    """Through run_audit the UTIL findings get the standard finding columns and coverage rows."""
    from auditor.audit import run_audit
    from review.synth import write

    p = peers(6, visits=50)
    p[OUTLIER] = {"visits": 80, "high": 0.7}
    path = write(claims("2026-10", p, seed=2), tmp_path / "c.csv")
    res = run_audit([path], select=["UTIL"])
    f = res.findings
    assert f["rule_id"].tolist() == ["UTIL001"] and f["category"].tolist() == ["utilization"]
    assert f["rendering_npi"].tolist() == [OUTLIER] and f["severity"].tolist() == ["warning"]
    assert f["fingerprint"].str.fullmatch(r"[0-9a-f]{16}").all() and f["amount_at_risk"].isna().all()
    assert set(res.coverage["rule_id"]) == {"UTIL001", "UTIL002", "UTIL003", "UTIL004"}
    # the same provider in the same period keeps its fingerprint
    assert run_audit([path], select=["UTIL001"]).findings["fingerprint"].tolist() == f["fingerprint"].tolist()


def test_input_rules_skipped_by_example_runner(util_rules):
    from auditor.rules.examples import run_examples

    res = run_examples(util_rules)
    assert all(r.passed and "skipped" in r.detail for r in res) and len(res) == 4


def test_charts_escape_labels():
    from auditor.review.svg import paired_bars, strip_plot

    evil = '<script>alert("x")</script>&'
    svg = strip_plot([{"label": evil, "value": 0.9, "volume": 50, "tested": True, "flagged": True},
                      {"label": "1234567893", "value": 0.2, "volume": 50, "tested": True, "flagged": False}],
                     title=evil, value_format=lambda v: f"{v:.0%}", peer_value=0.3)
    bars = paired_bars([evil, "99215"], [0.5, 0.2], [0.1, 0.3], title=evil, names=(evil, "peers"))
    for out in (str(svg), str(bars)):
        assert "<script" not in out and "&lt;script&gt;" in out and out.startswith("<svg")
