"""Time the report writers on large synthetic runs (a benchmark, not a test).

    python benchmarks/bench_reports.py            # 100k and 500k findings
    python benchmarks/bench_reports.py 200000     # chosen sizes

Prints wall and CPU seconds per step (CPU time is the steadier figure on a busy machine) and the
peak resident memory of the process (resource.getrusage), which includes the synthetic data itself.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from auditor.engine.result import AuditResult
from auditor.findings import CATEGORIES, SEVERITIES, conform
from auditor.report.excel import write_xlsx
from auditor.report.html import write_html
from auditor.report.model import build_model
from auditor.report.tabular import write_findings_csv, write_findings_json


def synthetic(n: int, seed: int = 1) -> AuditResult:
    """n findings over ~n/2.5 claims, 2,000 providers, 60 rules; lines ~2x findings."""
    rng = np.random.default_rng(seed)
    claims = max(n * 2 // 5, 1)
    claim_no = rng.integers(0, claims, n)
    line_no = rng.integers(1, 7, n)
    rule_no = rng.zipf(1.6, n) % 60
    npi = (1_000_000_000 + rng.integers(0, 2000, n) * 7).astype(str)
    f = pd.DataFrame({
        "rule_id": pd.Series(rule_no).map(lambda i: f"R{i:03d}").to_numpy(),
        "category": np.array(CATEGORIES)[rule_no % len(CATEGORIES)],
        "severity": np.array(SEVERITIES)[rule_no % 3],
        "claim_id": np.char.add("CLM", claim_no.astype(str)),
        "line_number": pd.array(np.where(rng.random(n) < 0.02, 0, line_no), dtype="Int64"),
        "related_line": pd.array([None] * n, dtype="Int64"),
        "member_id": np.char.add("M", (claim_no % 50_000).astype(str)),
        "billing_npi": npi, "rendering_npi": npi,
        "service_date": pd.Timestamp("2026-03-01") + pd.to_timedelta(rng.integers(0, 30, n), unit="D"),
        "procedure_code": np.array(["99213", "99214", "20610", "36415", "97110"])[rng.integers(0, 5, n)],
        "message": [f"Code {i % 977:05d} conflicts with line {i % 5 + 1}; edit in effect since 2026-01-01"
                    for i in range(n)],
        "amount_at_risk": np.round(rng.uniform(10, 900, n), 2),
        "reference": "ccipra-v321r0.txt row 1234 eff 2024-01-01 ind 1",
        "fingerprint": [f"{i:016x}" for i in range(n)],
        "source_file": "claims.csv",
    })
    f.loc[f["line_number"] == 0, "line_number"] = pd.NA   # ~2% claim-level findings
    f = conform(f)
    lines = pd.DataFrame({"claim_id": np.char.add("CLM", rng.integers(0, claims, 2 * n).astype(str))})
    cov = pd.DataFrame({"rule_id": [f"R{i:03d}" for i in range(60)], "title": "rule", "category": "mue",
                        "status": ["not checked" if i == 59 else "checked" for i in range(60)],
                        "lines_checked": 2 * n, "lines_not_checked": 0, "reason": None})
    return AuditResult(findings=f, lines=lines, coverage=cov, provenance={"inputs": []},
                       summary={"lines_read": 2 * n})


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # KiB on Linux


def bench(n: int, out: Path) -> None:
    result = synthetic(n)
    print(f"\n{n:,} findings (peak RSS after generating data: {peak_mb():,.0f} MB)")
    t, c = time.perf_counter(), time.process_time()
    model = build_model(result)
    print(f"  {'build_model':<14}{time.perf_counter() - t:7.1f} s  (cpu {time.process_time() - c:5.1f} s)"
          f"   peak {peak_mb():,.0f} MB")
    for name, fn in [("findings.csv", lambda p: write_findings_csv(result.findings, p)),
                     ("findings.json", lambda p: write_findings_json(result.findings, p, model["summary"])),
                     ("report.html", lambda p: write_html(model, p)),
                     ("report.xlsx", lambda p: write_xlsx(model, p))]:
        t, c = time.perf_counter(), time.process_time()
        fn(out / name)
        size = (out / name).stat().st_size / 1e6
        print(f"  {name:<14}{time.perf_counter() - t:7.1f} s  (cpu {time.process_time() - c:5.1f} s)"
              f"   peak {peak_mb():,.0f} MB   {size:,.0f} MB on disk")


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [100_000, 500_000]
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            bench(n, Path(tmp))


if __name__ == "__main__":
    main(sys.argv[1:])
