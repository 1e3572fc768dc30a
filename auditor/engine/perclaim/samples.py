"""Sample inputs for tests, demos and benchmarks of the per-claim engines (never for real audits).

* :func:`example_store` - every rule example's reference rows in one in-memory store;
* :func:`import_example_refdata` - the SAMPLE files of ``examples/refdata`` imported into a folder,
  as ``examples/refdata/import.sh`` does;
* :func:`random_lines` - seeded random claim lines built from the values the rule examples use.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from auditor.rules.model import Rule

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
_IMPORTS = [  # (kind, files, extra options): the commands of examples/refdata/import.sh
    ("ncci-ptp", ["ccipra-v320r0-f1.SAMPLE.txt"], []),
    ("mue", ["MCR_MUE_PractitionerServices_Eff_01-01-2026.SAMPLE.csv"], []),
    ("aoc", ["AOC_V2026Q1.SAMPLE.csv"], []),
    ("mpfs", ["PPRRVU2026_Jan_nonQPP.SAMPLE.csv"], []),
    ("hcpcs", ["HCPC2026_JAN_ANWEB.SAMPLE.csv"], []),
    ("lcd", ["lcd/article_x_hcpc_code.csv", "lcd/article_x_icd10_covered.csv", "lcd/article_x_icd10_noncovered.csv"],
     ["--effective", "2025-10-01"]),
    ("frequency", ["frequency_limits.SAMPLE.csv"], []),
]


def example_store(rules: list[Rule], base=None):
    """One store holding the reference rows of every rule's examples (same table: rows appended)."""
    from auditor.engine.refview import FrameStore, coerce_table
    from auditor.rules.examples import base_store

    tables: dict[str, list[dict]] = {}
    for r in rules:
        for kind, rows in r.example_refdata.items():
            tables.setdefault(kind, []).extend(rows)
    return FrameStore({k: coerce_table(k, v) for k, v in tables.items()}, base=base or base_store())


def import_example_refdata(target: str | Path) -> Path:
    """Import examples/refdata's SAMPLE files into `target` (a reference-data folder); returns it."""
    from click.testing import CliRunner

    from auditor.cli import cli

    folder = EXAMPLES / "refdata"
    runner = CliRunner()
    for kind, files, extra in _IMPORTS:
        paths = [str(folder / f) for f in files]
        if not all(Path(p).exists() for p in paths):
            continue
        res = runner.invoke(cli, ["refdata", "import", kind, *paths, "--refdata", str(target), *extra])
        if res.exit_code != 0:
            raise RuntimeError(f"importing the sample {kind} data failed: {res.output[-500:]}")
    return Path(target)


def random_lines(rules: list[Rule], seed: int, claims: int = 30, members: int = 6) -> list[dict]:
    """Raw claim lines (text values) mixing the codes, modifiers, diagnoses and dates of the rule examples.

    Few members and dates, so claims of one member collide: duplicates, pairs and units across claims.
    """
    rnd = random.Random(seed)
    pool: dict[str, set] = {}
    for r in rules:
        for ex in r.examples:
            for line in ex.lines:
                for k, v in line.items():
                    if v is not None and not isinstance(v, (list, dict)):
                        pool.setdefault(k, set()).add(v if isinstance(v, str) else
                                                      v.isoformat() if isinstance(v, date) else str(v))
    values = {k: sorted(v) for k, v in pool.items()}

    def pick(col, default, p=0.5):
        return rnd.choice(values[col]) if col in values and rnd.random() < p else default

    out = []
    base = date(2026, 3, 2)
    for c in range(claims):
        member = f"M{rnd.randrange(members)}"
        ctype = pick("claim_type", "professional", 0.2)
        npi = pick("rendering_npi", "1234567893", 0.2)
        day = (base + timedelta(days=rnd.choice([0, 0, 0, 1, 30, -400]))).isoformat()
        dx = [pick(f"dx_{i}", None, 0.6 if i == 1 else 0.3) for i in range(1, 5)]
        for n in range(rnd.randint(1, 5)):
            out.append({
                "claim_id": f"R{seed}-{c}", "line_number": str(n + 1), "claim_type": ctype,
                "member_id": member, "member_birth_date": pick("member_birth_date", "1960-05-15", 0.3),
                "member_sex": pick("member_sex", "F", 0.4), "billing_npi": pick("billing_npi", "1234567893", 0.1),
                "rendering_npi": npi, "place_of_service": pick("place_of_service", "11", 0.2),
                "service_date": pick("service_date", day, 0.2), "received_date": pick("received_date", "2026-03-10", 0.2),
                "procedure_code": pick("procedure_code", "99213", 0.9),
                "modifier_1": pick("modifier_1", None, 0.3), "modifier_2": pick("modifier_2", None, 0.1),
                "units": pick("units", "1", 0.4), "charge": pick("charge", "100.00", 0.3),
                "dx_1": dx[0] or "I10", "dx_2": dx[1], "dx_3": dx[2], "dx_4": dx[3],
                "payer": pick("payer", None, 0.2), "type_of_bill": pick("type_of_bill", None, 0.3 if ctype != "professional" else 0.0),
                "revenue_code": pick("revenue_code", None, 0.2),
            })
    rnd.shuffle(out)  # claims interleaved, as files often are
    return out
