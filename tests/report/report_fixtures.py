"""A realistic, hand-built AuditResult for the report tests (a unique module name, so that it
cannot clash with other test folders' helpers)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from auditor.engine.result import AuditResult
from auditor.findings import conform, fingerprints

HOSTILE = {
    "script": "<script>alert(1)</script>",
    "quotes": "\"&'",
    "hyperlink": '=HYPERLINK("x")',
    "plus": "+1",
    "minus": "-2",
    "at": "@SUM(A1)",
    "tab": "\tX",
    "cr": "\rY",
}

RULES = [  # id, title, category, severity
    ("DQ-001", "NPI fails the check digit", "data_quality", "error"),
    ("DQ-004", "Service date after received date", "data_quality", "warning"),
    ("ICD-001", "Diagnosis not billable on the date of service", "invalid_code", "error"),
    ("PTP-001", "NCCI PTP column-2 code without an allowed modifier", "ncci_ptp", "error"),
    ("MUE-001", "Units above the MUE value", "mue", "error"),
    ("DUP-001", "Duplicate line", "duplicate", "warning"),
    ("TF-001", "Claim received after the timely filing limit", "timely_filing", "info"),
    ("AGE-001", "Procedure inconsistent with member age", "age_conflict", "warning"),
]
COVERAGE = [  # rule_id, status, lines_checked, lines_not_checked, reason
    ("DQ-001", "checked", 500, 0, None),
    ("DQ-004", "checked", 500, 0, None),
    ("ICD-001", "checked", 500, 0, None),
    ("PTP-001", "partial", 420, 80, "no NCCI PTP data for 2026-03-14"),
    ("MUE-001", "checked", 500, 0, None),
    ("DUP-001", "checked", 500, 0, None),
    ("TF-001", "checked", 500, 0, None),
    ("AGE-001", "not checked", 0, 500, "no member_birth_date in the input"),
    ("SEX-001", "not checked", 0, 500, "no member_sex in the input"),
]
NPIS = ["1234567893", "1245319599", "1003000126", "1538149542", "1679576722"]
CODES = ["99213", "99214", "20610", "36415", "81001", "97110", "G0439", "J1100"]


def make_result(n_claims: int = 160, seed: int = 7) -> AuditResult:
    rng = np.random.default_rng(seed)
    lines = []
    for c in range(n_claims):
        claim_id = f"CLM{c:05d}"
        if c == 3:
            claim_id = HOSTILE["script"]
        elif c == 4:
            claim_id = HOSTILE["quotes"]
        npi = NPIS[c % len(NPIS)]
        for ln in range(1, int(rng.integers(1, 7)) + 1):
            lines.append({
                "claim_id": claim_id, "line_number": ln, "member_id": f"MBR{c % 60:05d}",
                "member_birth_date": pd.Timestamp("1950-01-01") + pd.Timedelta(days=int(rng.integers(0, 20000))),
                "billing_npi": npi, "rendering_npi": npi, "procedure_code": CODES[int(rng.integers(len(CODES)))],
                "service_date": pd.Timestamp("2026-03-01") + pd.Timedelta(days=int(rng.integers(0, 28))),
                "units": 1.0, "charge": float(rng.integers(20, 900)) + 0.25, "source_file": "claims.csv",
            })
    lines = pd.DataFrame(lines)
    lines["line_number"] = lines["line_number"].astype("Int64")
    lines["source_row"] = np.arange(1, len(lines) + 1)
    lines["_row"] = np.arange(len(lines))

    picks = rng.choice(len(lines), size=300, replace=True)   # replace=True: some lines flagged twice
    recs = []
    for k, i in enumerate(picks):
        line = lines.iloc[int(i)]
        rule_id, _title, category, severity = RULES[k % 7]   # AGE-001 is not checked: never a finding
        recs.append({
            "rule_id": rule_id, "category": category, "severity": severity, "claim_id": line["claim_id"],
            "line_number": line["line_number"], "related_line": None, "member_id": line["member_id"],
            "billing_npi": line["billing_npi"], "rendering_npi": line["rendering_npi"],
            "service_date": line["service_date"], "procedure_code": line["procedure_code"],
            "message": f"{rule_id}: {line['procedure_code']} on line {line['line_number']}",
            "amount_at_risk": line["charge"], "reference": "sample reference v1", "source_file": "claims.csv",
        })
    # Hostile text in every kind of text column.
    hostile_lines = lines[lines["claim_id"].isin([HOSTILE["script"], HOSTILE["quotes"]])]
    for k, (name, text) in enumerate(HOSTILE.items()):
        line = hostile_lines.iloc[k % len(hostile_lines)]
        recs.append({**recs[k], "claim_id": line["claim_id"], "line_number": line["line_number"],
                     "amount_at_risk": line["charge"], "message": text, "reference": text,
                     "procedure_code": text if name in ("plus", "minus") else line["procedure_code"],
                     "rule_id": "DQ-001", "category": "data_quality", "severity": "error"})
    # A claim-level finding (line_number NA) carrying the claim total.
    claim = lines[lines["claim_id"] == "CLM00010"]
    recs.append({"rule_id": "TF-001", "category": "timely_filing", "severity": "info", "claim_id": "CLM00010",
                 "line_number": None, "member_id": claim["member_id"].iloc[0], "billing_npi": NPIS[0],
                 "rendering_npi": NPIS[0], "service_date": claim["service_date"].min(), "procedure_code": None,
                 "message": "received 400 days after the date of service",
                 "amount_at_risk": float(claim["charge"].sum()), "reference": "timely filing 365 days",
                 "source_file": "claims.csv"})
    # NA values: no rendering NPI, no service date, no amount.
    recs.append({**recs[0], "rendering_npi": None, "service_date": None, "amount_at_risk": None,
                 "claim_id": "CLM00020", "line_number": 1, "message": "missing values"})
    f = pd.DataFrame(recs)
    f["fingerprint"] = fingerprints(f["rule_id"], f["claim_id"], f["line_number"], f["related_line"],
                                    f["message"])
    f = conform(f.drop_duplicates("fingerprint"))   # a rule flags a line once; other rules may flag it too

    titles = {r[0]: r for r in RULES}
    titles["SEX-001"] = ("SEX-001", "Procedure inconsistent with member sex", "sex_conflict", "warning")
    cov = pd.DataFrame([{"rule_id": r, "title": titles[r][1], "category": titles[r][2], "status": st,
                         "lines_checked": lc, "lines_not_checked": lnc, "reason": why}
                        for r, st, lc, lnc, why in COVERAGE])
    rules = [SimpleNamespace(id=r, title=t, category=c, severity=s) for r, t, c, s in RULES]
    provenance = {
        "auditor_version": "0.1.0", "rule_pack_hash": "ab" * 32,
        "refdata_versions": [{"kind": "ptp_practitioner", "version_id": "2026Q1", "source": "ccipra-v321r0.txt",
                              "sha256": "cd" * 32}],
        "inputs": [{"file": "claims.csv", "sha256": "ef" * 32, "lines": len(lines)}],
        "started_at": "2026-04-01T09:00:00+00:00", "finished_at": "2026-04-01T09:00:02+00:00",
        "options": {"fail_on": "error", "select": ["ncci_ptp", "mue"], "timely_filing_days": 365},
    }
    summary = {"files": 1, "claims": int(lines["claim_id"].nunique()), "lines_read": len(lines),
               "lines_audited": len(lines)}
    return AuditResult(findings=f, lines=lines, coverage=cov, rules=rules, provenance=provenance, summary=summary)


EXTRA = [
    {"id": "comparison", "title": "Compared with last month", "kind": "table", "position": "top",
     "columns": ["Rule", "Provider", "Status", "Findings"], "formats": {"Findings": "int"},
     "rows": [["PTP-001", "1234567893", "new", 4], ["MUE-001", "=cmd|' /C calc'!A0", "recurring", 2]]},
    {"id": "trend", "title": "Findings over 12 periods", "kind": "chart", "chart": "line",
     "columns": ["Period", "ncci_ptp", "mue"], "rows": [[f"2025-{m:02d}", m * 3, 20 - m] for m in range(1, 13)]},
    {"id": "bars", "title": "Modifier 25 rate", "kind": "chart", "columns": ["Provider", "Rate"],
     "formats": {"Rate": "percent"}, "rows": [["<b>evil</b>", 0.4], ["1245319599", 0.1]],
     "svg": "<svg><script>alert(2)</script></svg>"},
    {"id": "note", "title": "Waivers", "kind": "text", "text": "Two waivers expired.\n\n<i>Stale</i>: W-7."},
]
