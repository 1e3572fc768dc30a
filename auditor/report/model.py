"""The report content model: everything a report shows, as plain Python data (no pandas objects).

Renderers (html.py, excel.py, terminal.py) only lay this model out; they compute nothing.
A *table* is ``{"columns": [...], "rows": [(...), ...], "formats": {column: kind}}`` with kind
``money``, ``int``, ``date`` or ``percent``. ``build_model`` returns::

    title, generated_at            str
    summary                        dict of figures (claims, lines_read, lines_audited, findings,
                                   findings_by_severity, dollars_at_risk, rules_not_checked, ...)
    by_severity, by_category, by_rule, by_provider      tables
    findings                       table with FINDING_COLUMNS, ordered claim by claim, worst claims first
    claims                         table (CLAIM_COLUMNS); findings.rows[start:stop] are the claim's findings
    coverage                       table, "not checked" first, plus counts {status: n}
    provenance                     dict (auditor_version, rule_pack_hash, refdata_versions, inputs, ...)
    extra_sections                 list of {id, title, kind: table|chart|text, columns, rows, formats,
                                   position: top|bottom, text?, chart?: bar|line, svg?: Markup}

Dollars at risk never double count: a line's charge counts once however many findings flag it,
and a claim-level finding (line_number NA) puts the claim at risk once. Per claim the amount is
``max(sum of its flagged lines' charges, largest claim-level amount)``: a claim-level finding
normally carries the claim total, which already contains every line.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

import auditor
from auditor.findings import CATEGORIES, FINDING_COLUMNS, SEVERITIES, SEVERITY_RANK, conform

STATUS_ORDER = {"not checked": 0, "partial": 1, "checked": 2}
SECTION_KINDS = ("table", "chart", "text")
CLAIM_COLUMNS = ["claim_id", "rendering_npi", "findings", "error", "warning", "info", "worst_severity",
                 "dollars_at_risk", "lines_in_claim", "lines_flagged", "start", "stop"]


def build_model(result, title: str | None = None, extra_sections: list | None = None) -> dict:
    """Build the content model of one AuditResult (see the module docstring for its shape)."""
    sections = [_section(s) for s in (extra_sections or [])]   # fail before the heavy work
    f = _work_frame(result.findings)
    summary = _summary(result, f)
    claims, order = _claims(f, result.lines)
    f = f.iloc[order].reset_index(drop=True)   # claim by claim, worst claims first
    claims = _claim_slices(claims, f)
    return {
        "title": title or "Claims compliance audit",
        "generated_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "summary": summary,
        "by_severity": _by_severity(f),
        "by_category": _by_category(f),
        "by_rule": _by_rule(f, result),
        "by_provider": _by_provider(f),
        "findings": {"columns": list(FINDING_COLUMNS), "rows": _rows(f[FINDING_COLUMNS]),
                     "formats": {"service_date": "date", "amount_at_risk": "money"}},
        "claims": claims,
        "coverage": _coverage(result.coverage),
        "provenance": _provenance(result.provenance),
        "extra_sections": sections,
    }


# --- findings frame helpers -------------------------------------------------------------------

def _work_frame(findings: pd.DataFrame) -> pd.DataFrame:
    """Conformed findings plus the helper columns the aggregations group by."""
    f = conform(findings.copy()) if findings is not None else conform(pd.DataFrame())
    f["_claim"] = pd.factorize(f["claim_id"], use_na_sentinel=False)[0]   # int codes group ~3x faster
    f["_line"] = f["line_number"].astype("float64").fillna(-1.0)   # -1 = claim-level
    f["_amt"] = f["amount_at_risk"].fillna(0.0)
    f["_rank"] = f["severity"].map(SEVERITY_RANK).fillna(0).astype("int64")
    # Categoricals: factorised once instead of in every groupby (they dominate on large runs).
    for col, src in (("_npi", "rendering_npi"), ("_cat", "category"), ("_rule", "rule_id"), ("_sev", "severity")):
        f[col] = pd.Categorical(f[src].fillna("(none)"))
    return f


def _claim_dollars(f: pd.DataFrame, by: list[str]) -> pd.Series:
    """Dollars at risk per (*by, claim), each line's charge and each claim-level amount counted once."""
    u = f.groupby(by + ["_claim", "_line"], sort=False, observed=True)["_amt"].max().reset_index()
    level = u["_line"] < 0
    u["line_amt"] = u["_amt"].where(~level, 0.0)
    u["claim_amt"] = u["_amt"].where(level, 0.0)
    c = u.groupby(by + ["_claim"], sort=False, observed=True).agg(line=("line_amt", "sum"),
                                                                   claim=("claim_amt", "max"))
    return pd.Series(np.maximum(c["line"].to_numpy(), c["claim"].to_numpy()), index=c.index)


def _dollars(f: pd.DataFrame, by: str | None = None):
    """Total dollars at risk, or per value of column `by`."""
    if by is None:
        return round(float(_claim_dollars(f, []).sum()), 2) if len(f) else 0.0
    return _claim_dollars(f, [by]).groupby(level=by, sort=False, observed=True).sum().round(2)


def _group_table(f: pd.DataFrame, by: str) -> pd.DataFrame:
    """Findings, claims, lines and dollars per value of `by`."""
    keys = f.loc[f["_line"] >= 0, [by, "_claim", "_line"]]
    lines = keys.drop_duplicates().groupby(by, sort=False, observed=True).size()
    g = f.groupby(by, sort=False, observed=True)
    t = pd.DataFrame({"findings": g.size(), "claims": g["_claim"].nunique()})
    t["lines"] = lines.reindex(t.index).fillna(0).astype("int64")
    t["dollars"] = _dollars(f, by).reindex(t.index).fillna(0.0) if len(f) else 0.0
    return t


def _rows(df: pd.DataFrame) -> list[tuple]:
    """DataFrame -> list of rows of plain Python values (None for NA, date for whole-day datetimes)."""
    cols = [_plain_column(df[c]) for c in df.columns]
    return list(zip(*cols)) if cols else []   # tuples: half the time and memory of lists


def _plain_column(s: pd.Series) -> list:
    if pd.api.types.is_datetime64_any_dtype(s):
        whole_days = bool((s.dropna() == s.dropna().dt.normalize()).all())
        vals = s.dt.date if whole_days else s.dt.to_pydatetime()
        return [None if v is pd.NaT or v is None else v for v in vals]
    vals = s.astype(object).where(s.notna(), None).tolist()
    if pd.api.types.is_float_dtype(s.dtype):   # inf is not representable in JSON or Excel
        vals = [None if v is not None and not math.isfinite(v) else v for v in vals]
    return vals


def _table(columns: list[str], df: pd.DataFrame, formats: dict | None = None) -> dict:
    return {"columns": columns, "rows": _rows(df), "formats": formats or {}}


# --- sections ---------------------------------------------------------------------------------

def _summary(result, f: pd.DataFrame) -> dict:
    given = result.summary or {}
    lines = result.lines if result.lines is not None else pd.DataFrame()
    cov = result.coverage if result.coverage is not None else pd.DataFrame()
    status = cov["status"].value_counts() if "status" in cov else pd.Series(dtype="int64")
    claims = int(lines["claim_id"].nunique()) if "claim_id" in lines else given.get("claims")
    sev = f["severity"].value_counts()
    return {
        "files": len((result.provenance or {}).get("inputs") or []) or given.get("files"),
        "claims": claims,
        "lines_read": int(given["lines_read"]) if given.get("lines_read") is not None else len(lines),
        "lines_audited": int(len(lines)) if len(lines.columns) else given.get("lines_audited"),
        "claims_with_findings": int(f["claim_id"].nunique()),
        "lines_with_findings": int(len(f.loc[f["_line"] >= 0, ["_claim", "_line"]].drop_duplicates())),
        "findings": int(len(f)),
        "findings_by_severity": {s: int(sev.get(s, 0)) for s in SEVERITIES},
        "findings_by_category": {str(k): int(v) for k, v in f["_cat"].value_counts().items()},
        "dollars_at_risk": _dollars(f),
        "rules_run": int(len(cov)) or len(result.rules or []),
        "rules_checked": int(status.get("checked", 0)),
        "rules_partial": int(status.get("partial", 0)),
        "rules_not_checked": int(status.get("not checked", 0)),
    }


def _by_severity(f: pd.DataFrame) -> dict:
    t = _group_table(f, "_sev")
    t = t.set_axis(t.index.astype(str)).reindex(SEVERITIES).fillna(0)
    t = t.assign(severity=t.index)[["severity", "findings", "claims", "lines", "dollars"]]
    t[["findings", "claims", "lines"]] = t[["findings", "claims", "lines"]].astype("int64")
    return _table(["Severity", "Findings", "Claims", "Lines", "Dollars at risk"], t,
                  {"Findings": "int", "Claims": "int", "Lines": "int", "Dollars at risk": "money"})


def _by_category(f: pd.DataFrame) -> dict:
    t = _group_table(f, "_cat")
    order = {c: i for i, c in enumerate(CATEGORIES)}
    t = t.assign(category=t.index, _o=[order.get(c, 99) for c in t.index])
    t = t.sort_values(["findings", "_o"], ascending=[False, True])
    return _table(["Category", "Findings", "Claims", "Lines", "Dollars at risk"],
                  t[["category", "findings", "claims", "lines", "dollars"]],
                  {"Findings": "int", "Claims": "int", "Lines": "int", "Dollars at risk": "money"})


def _by_rule(f: pd.DataFrame, result) -> dict:
    meta = {}
    for r in result.rules or []:
        meta[str(getattr(r, "id", ""))] = {"title": getattr(r, "title", None),
                                          "severity": getattr(r, "severity", None)}
    cov = result.coverage if result.coverage is not None else pd.DataFrame()
    status = {}
    for rec in cov.to_dict("records") if len(cov) else []:
        meta.setdefault(str(rec.get("rule_id")), {}).setdefault("title", rec.get("title"))
        status[str(rec.get("rule_id"))] = rec.get("status")
    t = _group_table(f, "_rule")
    first = f.groupby("_rule", sort=False, observed=True)[["category", "severity"]].first()
    t = t.join(first).assign(rule=t.index)
    t["title"] = [(meta.get(r) or {}).get("title") for r in t.index]
    t["coverage"] = [status.get(r) for r in t.index]
    t = t.sort_values(["findings", "rule"], ascending=[False, True])
    return _table(["Rule", "Title", "Category", "Severity", "Coverage", "Findings", "Claims", "Lines",
                   "Dollars at risk"],
                  t[["rule", "title", "category", "severity", "coverage", "findings", "claims", "lines",
                     "dollars"]],
                  {"Findings": "int", "Claims": "int", "Lines": "int", "Dollars at risk": "money"})


def _by_provider(f: pd.DataFrame, top: int = 3) -> dict:
    t = _group_table(f, "_npi")
    cats = f.groupby(["_npi", "_cat"], sort=False, observed=True).size().sort_values(ascending=False)
    tops: dict[str, list[str]] = {}
    for (npi, cat), n in cats.items():
        if len(tops.setdefault(npi, [])) < top:
            tops[npi].append(f"{cat} ({n})")
    t = t.assign(npi=t.index, top=[", ".join(tops.get(n, [])) for n in t.index])
    t = t.sort_values(["dollars", "findings", "npi"], ascending=[False, False, True])
    return _table(["Rendering NPI", "Findings", "Claims", "Lines", "Dollars at risk", "Top categories"],
                  t[["npi", "findings", "claims", "lines", "dollars", "top"]],
                  {"Findings": "int", "Claims": "int", "Lines": "int", "Dollars at risk": "money"})


def _claims(f: pd.DataFrame, lines) -> tuple[pd.DataFrame, np.ndarray]:
    """Per-claim figures and the row order that puts each claim's findings together, worst first."""
    g = f.groupby("_claim", sort=False)
    c = pd.DataFrame({
        "claim_id": g["claim_id"].first(),
        "rendering_npi": g["rendering_npi"].first(),
        "findings": g.size(),
        "worst": g["_rank"].max(),
    })
    for s in SEVERITIES:
        c[s] = (f["severity"] == s).groupby(f["_claim"], sort=False).sum()
    c["dollars_at_risk"] = _claim_dollars(f, []).round(2).reindex(c.index).fillna(0.0) if len(f) else 0.0
    c["lines_flagged"] = f[f["_line"] >= 0].groupby("_claim", sort=False)["_line"].nunique() \
        .reindex(c.index).fillna(0).astype("int64")
    if lines is not None and "claim_id" in getattr(lines, "columns", []) and len(f):
        per_claim = lines.groupby("claim_id", sort=False).size()
        c["lines_in_claim"] = per_claim.reindex(c["claim_id"]).to_numpy()
        c["lines_in_claim"] = c["lines_in_claim"].astype("Int64")
    else:
        c["lines_in_claim"] = pd.array([pd.NA] * len(c), dtype="Int64")
    rank = {r: s for s, r in SEVERITY_RANK.items()}
    c["worst_severity"] = c["worst"].map(rank)
    c = c.sort_values(["worst", "dollars_at_risk", "claim_id"], ascending=[False, False, True],
                      na_position="last")
    pos = pd.Series(np.arange(len(c)), index=c.index)
    key = pd.DataFrame({"c": f["_claim"].map(pos).to_numpy(), "l": f["_line"].to_numpy(),
                        "s": -f["_rank"].to_numpy(), "r": f["_rule"].to_numpy()})
    order = key.sort_values(["c", "l", "s", "r"], kind="stable").index.to_numpy()
    return c, order


def _claim_slices(c: pd.DataFrame, f: pd.DataFrame) -> dict:
    """Claims table; start/stop index the (claim-ordered) findings rows of each claim."""
    stop = np.cumsum(c["findings"].to_numpy())
    c = c.assign(start=stop - c["findings"].to_numpy(), stop=stop)
    return _table(CLAIM_COLUMNS, c[CLAIM_COLUMNS], {"dollars_at_risk": "money"})


def _coverage(cov) -> dict:
    cols = ["rule_id", "title", "category", "status", "lines_checked", "lines_not_checked", "reason"]
    cov = cov if cov is not None else pd.DataFrame()
    for c in cols:
        if c not in cov:
            cov = cov.assign(**{c: None})
    cov = cov[cols].copy()
    cov["_o"] = cov["status"].map(STATUS_ORDER).fillna(0)   # unknown status sorts with "not checked"
    cov = cov.sort_values(["_o", "rule_id"], kind="stable")[cols]
    status = cov["status"].value_counts()
    t = _table(["Rule", "Title", "Category", "Status", "Lines checked", "Lines not checked", "Reason"], cov,
               {"Lines checked": "int", "Lines not checked": "int"})
    t["counts"] = {s: int(status.get(s, 0)) for s in STATUS_ORDER}
    return t


def _provenance(p: dict | None) -> dict:
    p = _plain(dict(p or {}))
    p.setdefault("auditor_version", auditor.__version__)
    for key in ("refdata_versions", "inputs"):
        p[key] = p.get(key) or []
    p["options"] = p.get("options") or {}
    return p


def _section(s: dict) -> dict:
    """Validate and normalise one extra section (see build_model)."""
    s = _plain(dict(s))
    for key in ("id", "title", "kind"):
        if not s.get(key):
            raise ValueError(f"extra section needs {key!r}: {s!r:.200}")
    if s["kind"] not in SECTION_KINDS:
        raise ValueError(f"extra section {s['id']!r}: kind must be one of {SECTION_KINDS}")
    s["columns"] = [str(c) for c in s.get("columns") or []]
    s["rows"] = [list(r) for r in s.get("rows") or []]
    s.setdefault("formats", {})
    s.setdefault("position", "bottom")
    return s


def _plain(v):
    """Recursively turn pandas/numpy values into plain Python (None for NA)."""
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, pd.DataFrame):
        return _plain(v.to_dict("records"))
    if isinstance(v, pd.Timestamp):
        return None if pd.isna(v) else (v.date() if v == v.normalize() else v.to_pydatetime())
    if isinstance(v, np.generic):
        v = v.item()
    if v is pd.NA or v is pd.NaT or (isinstance(v, float) and not math.isfinite(v)):
        return None
    return v
