"""What changed since the previous period: patterns (rule x rendering provider), findings by
fingerprint, and the trends over the last periods."""

from __future__ import annotations

import pandas as pd

PATTERN_COLUMNS = ["rule_id", "category", "rendering_npi", "status", "periods_in_a_row",
                   "findings_this_period", "findings_previous_period", "dollars_this_period",
                   "dollars_previous_period"]
PATTERN_STATUS_ORDER = {"new": 0, "recurring": 1, "resolved": 2}
CHANGE_COLUMNS = ["status", "fingerprint", "rule_id", "category", "severity", "claim_id", "line_number",
                  "rendering_npi", "service_date", "procedure_code", "amount_at_risk", "message"]
_NONE = "\x00"


def _key(df: pd.DataFrame) -> pd.Series:
    npi = df["rendering_npi"].astype(object).where(df["rendering_npi"].notna(), _NONE)
    return df["rule_id"].astype(str) + "|" + npi.astype(str)


def _patterns_of(totals: pd.DataFrame) -> pd.DataFrame:
    """Pattern rows of run_totals, indexed by 'rule|npi'."""
    t = totals[totals["dimension"] == "pattern"] if "dimension" in totals else totals
    t = t.assign(_k=_key(t)) if len(t) else t.assign(_k=pd.Series(dtype=object))
    return t.groupby("_k").agg(rule_id=("rule_id", "first"), category=("category", "first"),
                              rendering_npi=("rendering_npi", "first"), findings=("findings", "sum"),
                              dollars=("dollars", "sum"))


def pattern_table(current: pd.DataFrame, history: list[pd.DataFrame]) -> pd.DataFrame:
    """Patterns of this period against the previous recorded periods.

    `current`: this run's totals (run_totals rows); `history`: the totals of the previous runs,
    newest first (history[0] is the previous period). A pattern present now and in the previous
    period is `recurring` (periods_in_a_row counts the consecutive recorded periods, this one
    included), present now only `new`, present in the previous period only `resolved`.
    """
    cur = _patterns_of(current)
    prev = _patterns_of(history[0]) if history else _patterns_of(current.iloc[0:0])
    older = [set(_patterns_of(h).index) for h in history]
    keys = list(cur.index) + [k for k in prev.index if k not in cur.index]
    rows = []
    for k in keys:
        now, before = k in cur.index, k in prev.index
        src = cur.loc[k] if now else prev.loc[k]
        if now:
            streak = 1
            for seen in older:
                if k not in seen:
                    break
                streak += 1
        else:
            streak = 0
        rows.append({
            "rule_id": src["rule_id"], "category": src["category"], "rendering_npi": src["rendering_npi"],
            "status": ("recurring" if before else "new") if now else "resolved", "periods_in_a_row": streak,
            "findings_this_period": int(cur.loc[k, "findings"]) if now else 0,
            "findings_previous_period": int(prev.loc[k, "findings"]) if before else 0,
            "dollars_this_period": round(float(cur.loc[k, "dollars"]), 2) if now else 0.0,
            "dollars_previous_period": round(float(prev.loc[k, "dollars"]), 2) if before else 0.0,
        })
    t = pd.DataFrame(rows, columns=PATTERN_COLUMNS)
    if len(t):
        t["_o"] = t["status"].map(PATTERN_STATUS_ORDER)
        t["_d"] = t[["dollars_this_period", "dollars_previous_period"]].max(axis=1)
        t = t.sort_values(["_o", "_d", "findings_this_period", "findings_previous_period", "rule_id"],
                          ascending=[True, False, False, False, True], kind="stable").drop(columns=["_o", "_d"])
    return t.reset_index(drop=True)


def fingerprint_changes(current: pd.DataFrame, baseline: pd.DataFrame, audited_claims: set) -> tuple[pd.DataFrame, dict]:
    """Open findings now against the baseline run's open findings, by fingerprint.

    still open: in both; new: only now; fixed: only in the baseline, and its claim was audited
    again now (so the finding is really gone); not re-audited: only in the baseline, claim absent now.
    Returns (a row per still-open, new and fixed finding, counts).
    """
    cur_fp = set(current["fingerprint"].dropna())
    base_fp = set(baseline["fingerprint"].dropna())
    now = current.assign(status=current["fingerprint"].map(lambda f: "still open" if f in base_fp else "new"))
    gone = baseline[~baseline["fingerprint"].isin(cur_fp)]
    re_audited = gone["claim_id"].isin(audited_claims) & gone["claim_id"].notna()
    fixed = gone[re_audited].assign(status="fixed")
    counts = {"still_open": int((now["status"] == "still open").sum()), "new": int((now["status"] == "new").sum()),
              "fixed": int(len(fixed)), "not_reaudited": int((~re_audited).sum())}
    rows = pd.concat([now, fixed], ignore_index=True) if len(fixed) else now
    for c in CHANGE_COLUMNS:
        if c not in rows:
            rows[c] = None
    order = {"fixed": 0, "still open": 1, "new": 2}
    rows = rows.assign(_o=rows["status"].map(order)).sort_values(["_o", "claim_id", "line_number", "rule_id"],
                                                                  kind="stable", na_position="first")
    return rows[CHANGE_COLUMNS].reset_index(drop=True), counts


def trend_frames(periods: list[str], totals: list[pd.DataFrame], top: int = 8) -> dict:
    """Per-period series (oldest first) of findings and dollars by category and by provider.

    Categories and providers beyond the `top` of the latest period are summed as "other".
    Returns {"findings_by_category": DataFrame(period x category), "dollars_by_category": ...,
    "findings_by_provider": ..., "dollars_by_provider": ...}.
    """
    out = {}
    for dim, col in (("category", "category"), ("provider", "rendering_npi")):
        frames = []
        for label, t in zip(periods, totals):
            d = t[t["dimension"] == dim] if len(t) else t
            if len(d):
                d = d.assign(_k=d[col].astype(object).where(d[col].notna(), "(none)"), period=label)
                frames.append(d[["period", "_k", "findings", "dollars"]])
        if frames:
            all_ = pd.concat(frames, ignore_index=True)
        else:
            all_ = pd.DataFrame(columns=["period", "_k", "findings", "dollars"])
        latest = all_[all_["period"] == periods[-1]] if periods else all_
        rank = latest.groupby("_k")["dollars"].sum().sort_values(ascending=False)
        if dim == "category":   # categories: rank by findings, most categories carry no dollars
            rank = latest.groupby("_k")["findings"].sum().sort_values(ascending=False)
        keep = list(rank.index[:top])
        if len(keep) < top:   # fill with the largest of earlier periods
            more = all_.groupby("_k")["findings"].sum().sort_values(ascending=False)
            keep += [k for k in more.index if k not in keep][: top - len(keep)]
        all_ = all_.assign(_k=all_["_k"].where(all_["_k"].isin(keep), "other"))
        for measure in ("findings", "dollars"):
            p = all_.pivot_table(index="period", columns="_k", values=measure, aggfunc="sum", fill_value=0)
            p = p.reindex(index=periods, fill_value=0)
            cols = [k for k in keep if k in p.columns] + (["other"] if "other" in p.columns else [])
            p = p.reindex(columns=cols, fill_value=0)
            p = p.astype("int64") if measure == "findings" else p.astype("float64").round(2)
            out[f"{measure}_by_{dim}"] = p
    return out
