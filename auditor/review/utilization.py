"""Provider patterns (category ``utilization``): how each rendering provider bills compared with
its peers, one finding per provider, rule and period.

Metrics (chosen by a rule's ``params.metric``; the UTIL rules under rules/utilization/ set them):

* ``em_level_mix`` - share of office/outpatient E/M visits billed at the highest levels
  (99204-99205 of new-patient visits 99202-99205, 99214-99215 of established 99211-99215).
* ``modifier_rate`` - share of lines carrying given modifiers (25 on E/M lines; 59/XE/XS/XP/XU on
  procedure lines).
* ``units_per_visit`` - units of timed therapy codes per visit (claim x date of service).

Peers are all other providers in the data, or, with a provider table (npi, taxonomy), the other
providers of the same taxonomy; a provider missing from the table is compared with everyone.
The provider itself is left out of its peer figures. The statistic (see docs/review.md):

* rates: a one-sided exact binomial test of the provider's count against the peers' pooled rate
  (for the E/M mix the expected rate follows the provider's own new/established mix: a binomial
  with the mixed mean, which is conservative next to the exact two-binomial sum);
* units per visit: a one-sided z-test of the provider's mean against the peers' visit-level mean
  and standard deviation (normal approximation, fine for the 30+ visits required);
* Benjamini-Hochberg adjustment over all providers tested for the rule; a provider is flagged when
  it has at least ``min_volume`` visits/lines, at least ``min_peers`` peers, q <= ``fdr`` and the
  excess is material: rate - expected >= ``min_excess`` (units: mean - peer mean >= ``min_excess``).

Findings carry no dollar amount (amount_at_risk empty): a statistical outlier is a reason to
sample records, not a line-level overpayment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from auditor.claims.columns import MODIFIER_COLUMNS
from auditor.errors import InputError
from auditor.review.stats import binom_sf, bh_adjust, normal_sf

METRICS = ("em_level_mix", "modifier_rate", "units_per_visit")
DEFAULTS = {"min_volume": 30, "min_peers": 3, "fdr": 0.05}
NEW_VISITS = [f"{c}" for c in range(99202, 99206)]
ESTABLISHED_VISITS = [f"{c}" for c in range(99211, 99216)]
HIGH_LEVELS = ["99204", "99205", "99214", "99215"]
TABLE_COLUMNS = ["rendering_npi", "peer_group", "volume", "events", "rate", "expected_rate", "peer_rate",
                 "peer_providers", "peer_volume", "z", "p", "q", "tested", "flagged", "note"]


def expand_codes(items) -> set[str]:
    """Codes from a list such as ["99202-99205", "G0283"] (numeric ranges expanded)."""
    out: set[str] = set()
    for item in items or []:
        text = str(item).strip().upper()
        lo, sep, hi = text.partition("-")
        if sep and lo.isdigit() and hi.isdigit() and len(lo) == len(hi) and int(lo) <= int(hi):
            out.update(f"{i:0{len(lo)}d}" for i in range(int(lo), int(hi) + 1))
        elif text:
            out.add(text)
    return out


def load_providers(path: str | Path) -> dict[str, str]:
    """Provider table CSV with columns npi and taxonomy (or specialty) -> {npi: taxonomy}."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: provider table not found")
    df = pd.read_csv(p, dtype=str, keep_default_na=False)
    cols = {c.strip().lower(): c for c in df.columns}
    group_col = cols.get("taxonomy") or cols.get("specialty")
    if "npi" not in cols or not group_col:
        raise InputError(f"{p}: the provider table needs columns npi and taxonomy (or specialty)")
    npi = df[cols["npi"]].str.strip()
    grp = df[group_col].str.strip().str.upper()
    keep = (npi != "") & (grp != "")
    return dict(zip(npi[keep], grp[keep]))


def provider_of(lines: pd.DataFrame) -> pd.Series:
    """The provider a line counts for: its rendering NPI, else the billing NPI (837P omits the
    rendering provider when it is the billing provider)."""
    r = lines["rendering_npi"].astype(object)
    b = lines["billing_npi"].astype(object) if "billing_npi" in lines else pd.Series(None, index=lines.index)
    return r.where(r.notna() & (r.astype(str) != ""), b)


def period_label(lines: pd.DataFrame) -> str:
    """The month of the lines' service dates ("2026-10"), or their date range when they span months."""
    d = lines["service_date"].dropna() if "service_date" in lines else pd.Series(dtype="datetime64[ns]")
    if not len(d):
        return "all"
    lo, hi = d.min(), d.max()
    if (lo.year, lo.month) == (hi.year, hi.month):
        return f"{lo:%Y-%m}"
    return f"{lo:%Y-%m-%d}..{hi:%Y-%m-%d}"


@dataclass
class MetricResult:
    """One rule's statistics: a row per provider (TABLE_COLUMNS) plus metric-specific detail."""

    rule_id: str
    title: str
    metric: str
    table: pd.DataFrame
    params: dict
    detail: dict = field(default_factory=dict)


def _params(rule) -> dict:
    return {**DEFAULTS, **(rule.params or {})}


def _groups(npis: pd.Index, providers: dict | None) -> pd.Series:
    if not providers:
        return pd.Series("all", index=npis, dtype=object)
    return pd.Series([providers.get(str(n)) for n in npis], index=npis, dtype=object)


def _leave_one_out(per: pd.DataFrame, cols: list[str], groups: pd.Series) -> pd.DataFrame:
    """Peer sums of `cols` (the provider's group without the provider) and the number of peers."""
    per = per.assign(_g=groups.reindex(per.index).to_numpy())
    totals = per[cols].sum()
    out = pd.DataFrame(index=per.index)
    known = per["_g"].notna()
    gsum = per[known].groupby("_g")[cols].transform("sum")
    gcount = per[known].groupby("_g")[cols[0]].transform("size")
    for c in cols:
        base = pd.Series(totals[c], index=per.index, dtype="float64")
        base[known] = gsum[c]
        out[c] = base - per[c]
    n = pd.Series(float(len(per)), index=per.index)
    n[known] = gcount.astype("float64")
    out["peer_providers"] = (n - 1).astype("int64")
    out["peer_group"] = per["_g"].fillna("all (not in provider table)" if known.any() else "all")
    return out


def _finish(t: pd.DataFrame, params: dict, excess: pd.Series) -> pd.DataFrame:
    """Test eligibility, BH q-values and the flag."""
    min_volume, min_peers = int(params["min_volume"]), int(params["min_peers"])
    t["tested"] = (t["volume"] >= min_volume) & (t["peer_providers"] >= min_peers) & (t["peer_volume"] > 0)
    t["note"] = np.where(t["volume"] < min_volume, f"fewer than {min_volume} (not tested)",
                         np.where(t["peer_providers"] < min_peers, f"fewer than {min_peers} peers (not tested)",
                                  np.where(t["peer_volume"] <= 0, "no peer volume (not tested)", "")))
    t["q"] = np.nan
    tested = t["tested"].to_numpy()
    if tested.any():
        t.loc[tested, "q"] = bh_adjust(t.loc[tested, "p"].to_numpy())
    t["flagged"] = tested & (t["q"].fillna(1.0) <= float(params["fdr"])) & (excess >= float(params["min_excess"]))
    t.index.name = "rendering_npi"
    t = t.reset_index()
    t = t.sort_values(["flagged", "q", "rendering_npi"], ascending=[False, True, True], na_position="last")
    return t[TABLE_COLUMNS].reset_index(drop=True)


def em_level_mix(lines: pd.DataFrame, params: dict, providers: dict | None) -> tuple[pd.DataFrame, dict]:
    new = expand_codes(params.get("new_visit_codes")) or set(NEW_VISITS)
    est = expand_codes(params.get("established_visit_codes")) or set(ESTABLISHED_VISITS)
    high = expand_codes(params.get("high_levels")) or set(HIGH_LEVELS)
    code = lines["procedure_code"].astype(object)
    em = code.isin(new | est)
    df = pd.DataFrame({"npi": provider_of(lines)[em], "code": code[em]})
    df = df[df["npi"].notna()]
    df["new"] = df["code"].isin(new)
    df["high"] = df["code"].isin(high)
    if not len(df):
        return pd.DataFrame(columns=TABLE_COLUMNS), {"levels": pd.DataFrame()}
    g = df.groupby("npi")
    per = pd.DataFrame({
        "n_new": g["new"].sum(), "x_new": (df["high"] & df["new"]).groupby(df["npi"]).sum(),
        "n_est": (~df["new"]).groupby(df["npi"]).sum(), "x_est": (df["high"] & ~df["new"]).groupby(df["npi"]).sum(),
    }).astype("float64")
    per.index = per.index.astype(str)
    peers = _leave_one_out(per, ["n_new", "x_new", "n_est", "x_est"], _groups(per.index, providers))
    pn, pe = peers["n_new"], peers["n_est"]
    pooled = (peers["x_new"] + peers["x_est"]) / (pn + pe).where(pn + pe > 0)
    p_new = (peers["x_new"] / pn.where(pn > 0)).fillna(pooled).fillna(0.0)
    p_est = (peers["x_est"] / pe.where(pe > 0)).fillna(pooled).fillna(0.0)
    n = per["n_new"] + per["n_est"]
    x = per["x_new"] + per["x_est"]
    expected = per["n_new"] * p_new + per["n_est"] * p_est
    var = per["n_new"] * p_new * (1 - p_new) + per["n_est"] * p_est * (1 - p_est)
    t = pd.DataFrame(index=per.index)
    t["peer_group"], t["peer_providers"] = peers["peer_group"], peers["peer_providers"]
    t["volume"], t["events"] = n.astype("int64"), x.astype("int64")
    t["rate"] = x / n
    t["expected_rate"] = (expected / n).fillna(0.0)
    t["peer_rate"] = pooled
    t["peer_volume"] = (pn + pe).astype("int64")
    t["z"] = [(xi - e) / math.sqrt(v) if v > 0 else (math.inf if xi > e else 0.0)
              for xi, e, v in zip(x, expected, var)]
    t["p"] = [binom_sf(int(xi), int(ni), float(pb)) for xi, ni, pb in zip(x, n, t["expected_rate"])]
    t = _finish(t, params, (t["rate"] - t["expected_rate"]).reindex(t.index))
    levels = df.groupby(["npi", "code"]).size().unstack(fill_value=0)
    levels = levels.reindex(columns=sorted(new | est), fill_value=0)
    levels.index = levels.index.astype(str)
    return t, {"levels": levels, "new": sorted(new), "established": sorted(est), "high": sorted(high)}


def _has_modifier(lines: pd.DataFrame, mods: set[str]) -> pd.Series:
    hit = pd.Series(False, index=lines.index)
    for c in MODIFIER_COLUMNS:
        if c in lines:
            hit |= lines[c].astype(object).isin(mods)
    return hit


def modifier_rate(lines: pd.DataFrame, params: dict, providers: dict | None) -> tuple[pd.DataFrame, dict]:
    mods = expand_codes(params.get("modifiers"))
    if not mods:
        raise ValueError("modifier_rate needs params.modifiers")
    code = lines["procedure_code"].astype(object)
    base = code.notna()
    if params.get("codes"):
        base &= code.isin(expand_codes(params["codes"]))
    if params.get("exclude_codes"):
        base &= ~code.isin(expand_codes(params["exclude_codes"]))
    df = pd.DataFrame({"npi": provider_of(lines)[base], "hit": _has_modifier(lines, mods)[base]})
    df = df[df["npi"].notna()]
    if not len(df):
        return pd.DataFrame(columns=TABLE_COLUMNS), {}
    g = df.groupby("npi")["hit"]
    per = pd.DataFrame({"n": g.size(), "x": g.sum()}).astype("float64")
    per.index = per.index.astype(str)
    peers = _leave_one_out(per, ["n", "x"], _groups(per.index, providers))
    rate = (peers["x"] / peers["n"].where(peers["n"] > 0)).fillna(0.0)
    t = pd.DataFrame(index=per.index)
    t["peer_group"], t["peer_providers"] = peers["peer_group"], peers["peer_providers"]
    t["volume"], t["events"] = per["n"].astype("int64"), per["x"].astype("int64")
    t["rate"] = per["x"] / per["n"]
    t["expected_rate"] = rate
    t["peer_rate"] = rate
    t["peer_volume"] = peers["n"].astype("int64")
    var = per["n"] * rate * (1 - rate)
    t["z"] = [(xi - ni * r) / math.sqrt(v) if v > 0 else (math.inf if xi > ni * r else 0.0)
              for xi, ni, r, v in zip(per["x"], per["n"], rate, var)]
    t["p"] = [binom_sf(int(xi), int(ni), float(r)) for xi, ni, r in zip(per["x"], per["n"], rate)]
    return _finish(t, params, t["rate"] - t["expected_rate"]), {"modifiers": sorted(mods)}


def units_per_visit(lines: pd.DataFrame, params: dict, providers: dict | None) -> tuple[pd.DataFrame, dict]:
    codes = expand_codes(params.get("timed_codes"))
    if not codes:
        raise ValueError("units_per_visit needs params.timed_codes")
    sel = lines["procedure_code"].astype(object).isin(codes) & lines["units"].notna()
    df = pd.DataFrame({"npi": provider_of(lines)[sel], "claim": lines["claim_id"][sel].astype(object).fillna(""),
                       "date": lines["service_date"][sel], "units": lines["units"][sel].astype("float64")})
    df = df[df["npi"].notna()]
    if not len(df):
        return pd.DataFrame(columns=TABLE_COLUMNS), {}
    visits = df.groupby(["npi", "claim", "date"], dropna=False)["units"].sum().reset_index()
    g = visits.groupby("npi")["units"]
    per = pd.DataFrame({"n": g.size(), "s": g.sum(), "s2": (visits["units"] ** 2).groupby(visits["npi"]).sum()})
    per = per.astype("float64")
    per.index = per.index.astype(str)
    peers = _leave_one_out(per, ["n", "s", "s2"], _groups(per.index, providers))
    pn = peers["n"].where(peers["n"] > 0)
    mu = peers["s"] / pn
    var = ((peers["s2"] - peers["s"] ** 2 / pn) / (pn - 1).where(pn > 1)).clip(lower=0.0)
    mean = per["s"] / per["n"]
    t = pd.DataFrame(index=per.index)
    t["peer_group"], t["peer_providers"] = peers["peer_group"], peers["peer_providers"]
    t["volume"], t["events"] = per["n"].astype("int64"), per["s"].round(0).astype("int64")
    t["rate"], t["expected_rate"], t["peer_rate"] = mean, mu.fillna(0.0), mu.fillna(0.0)
    t["peer_volume"] = peers["n"].astype("int64")
    se = np.sqrt(var.fillna(0.0) / per["n"])
    diff = mean - mu.fillna(0.0)
    t["z"] = [d / s if s > 0 else (math.inf if d > 0 else 0.0) for d, s in zip(diff, se)]
    t["p"] = [normal_sf(z) for z in t["z"]]
    res = _finish(t, params, diff)
    return res, {"timed_codes": sorted(codes), "visit_units": visits.rename(columns={"npi": "rendering_npi"})}


_COMPUTE = {"em_level_mix": em_level_mix, "modifier_rate": modifier_rate, "units_per_visit": units_per_visit}


def _pct(v) -> str:
    return f"{v:.1%}"


def _pval(v) -> str:
    return "<1e-300" if v == 0 else f"{v:.2g}"


def _message(metric: str, r, params: dict, detail: dict) -> str:
    peers = f"peer group {r.peer_group}: {int(r.peer_providers)} providers"
    stat = f"z = {r.z:.1f}, one-sided p = {_pval(r.p)}, BH q = {_pval(r.q)}"
    if metric == "em_level_mix":
        high = "/".join(detail.get("high", HIGH_LEVELS))
        return (f"E/M level mix: {r.events} of {r.volume} office/outpatient E/M visits ({_pct(r.rate)}) at the "
                f"highest levels ({high}); peers {_pct(r.peer_rate)} of {int(r.peer_volume):,} visits, expected "
                f"{_pct(r.expected_rate)} for this provider's new/established mix ({peers}; {stat}, binomial test)")
    if metric == "modifier_rate":
        mods = "/".join(detail.get("modifiers", []))
        return (f"Modifier {mods} on {r.events} of {r.volume} lines ({_pct(r.rate)}); peers {_pct(r.peer_rate)} "
                f"of {int(r.peer_volume):,} lines ({peers}; {stat}, binomial test)")
    return (f"Timed therapy codes: {r.rate:.2f} units per visit over {r.volume} visits; peers "
            f"{r.peer_rate:.2f} over {int(r.peer_volume):,} visits ({peers}; {stat}, z-test)")


class UtilizationProducer:
    """Raises the findings of the utilization rules (kind ``input`` with ``params.metric``) for
    run_audit's `producers`; keeps each rule's statistics in ``results`` for the report charts."""

    def __init__(self, period: str | None = None, providers: dict | None = None):
        self.period, self.providers = period, providers
        self.results: dict[str, MetricResult] = {}

    def __call__(self, lines: pd.DataFrame, rules) -> list[dict]:
        out, seen = [], set()
        period = self.period or period_label(lines)
        # A provider finding is dated by the provider's last visit in the data, so date-range
        # waivers and date filters work on it as on line findings.
        last_visit = lines["service_date"].groupby(provider_of(lines).astype(str)).max() \
            if len(lines) else pd.Series(dtype="datetime64[ns]")
        for rule in rules:
            metric = (rule.params or {}).get("metric")
            if rule.kind != "input" or metric not in _COMPUTE or rule.id in seen:
                continue
            seen.add(rule.id)
            params = _params(rule)
            table, detail = _COMPUTE[metric](lines, params, self.providers)
            self.results[rule.id] = MetricResult(rule.id, rule.title, metric, table, params, detail)
            for r in table[table["flagged"]].itertuples(index=False):
                out.append({"rule_id": rule.id, "claim_id": None, "line_number": None,
                            "rendering_npi": r.rendering_npi, "service_date": last_visit.get(r.rendering_npi),
                            "message": _message(metric, r, params, detail), "amount_at_risk": None,
                            "subject": f"{r.rendering_npi}|{period}", "source_file": None})
        return out


def producer(period: str | None = None, providers: dict | None = None) -> UtilizationProducer:
    return UtilizationProducer(period, providers)
