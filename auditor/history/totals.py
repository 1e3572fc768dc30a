"""Per-run aggregates of open findings: by category, by rendering provider, and by pattern
(rule x rendering provider). Stored with each run (table run_totals) for trends and patterns.

Dollars follow the report's rule (auditor.report.model): within a group each flagged line's
charge counts once, a claim-level finding puts its claim at risk once, and per claim the amount is
max(sum of its flagged lines, largest claim-level amount).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TOTALS_COLUMNS = ["dimension", "rule_id", "category", "rendering_npi", "findings", "dollars"]
_KEYS = {"category": ["category"], "provider": ["rendering_npi"], "pattern": ["rule_id", "category", "rendering_npi"]}
_NONE = "\x00"   # stands for a missing key while grouping (groupby drops NaN keys otherwise)


def dollars_by(f: pd.DataFrame, by: list[str]) -> pd.Series:
    """Dollars at risk per value of the `by` columns (a MultiIndex, or a scalar total when by is empty)."""
    if not len(f):
        return pd.Series(dtype="float64") if by else 0.0
    w = pd.DataFrame({b: f[b].astype(object).where(f[b].notna(), _NONE) for b in by})
    w["_c"] = f["claim_id"].astype(object).where(f["claim_id"].notna(), "").to_numpy()
    w["_l"] = pd.to_numeric(f["line_number"], errors="coerce").astype("float64").fillna(-1.0).to_numpy()
    w["_a"] = pd.to_numeric(f["amount_at_risk"], errors="coerce").fillna(0.0).to_numpy()
    u = w.groupby(by + ["_c", "_l"], sort=False)["_a"].max().reset_index()
    level = u["_l"] < 0
    u["line"] = u["_a"].where(~level, 0.0)
    u["claim"] = u["_a"].where(level, 0.0)
    c = u.groupby(by + ["_c"], sort=False).agg(line=("line", "sum"), claim=("claim", "max"))
    per_claim = pd.Series(np.maximum(c["line"].to_numpy(), c["claim"].to_numpy()), index=c.index)
    if not by:
        return round(float(per_claim.sum()), 2)
    return per_claim.groupby(level=list(range(len(by))), sort=False).sum().round(2)


def run_totals(open_findings: pd.DataFrame) -> pd.DataFrame:
    """The run_totals rows of one run: findings and dollars per category, provider and pattern."""
    parts = []
    f = open_findings
    for dim, keys in _KEYS.items():
        if not len(f):
            continue
        w = pd.DataFrame({k: f[k].astype(object).where(f[k].notna(), _NONE) for k in keys})
        counts = w.groupby(keys, sort=False).size()
        dollars = dollars_by(f, keys).reindex(counts.index).fillna(0.0)
        t = counts.rename("findings").to_frame()
        t["dollars"] = dollars.to_numpy()
        t = t.reset_index()
        for k in keys:
            t[k] = t[k].where(t[k] != _NONE, None)
        t["dimension"] = dim
        parts.append(t)
    if not parts:
        return pd.DataFrame(columns=TOTALS_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    for c in TOTALS_COLUMNS:
        if c not in out:
            out[c] = None
    out["findings"] = out["findings"].astype("int64")
    out["dollars"] = out["dollars"].astype("float64").round(2)
    return out[TOTALS_COLUMNS]
