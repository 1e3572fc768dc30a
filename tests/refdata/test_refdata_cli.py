"""`auditor refdata import / list / remove` through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditor.cli.refdata import refdata

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "refdata"


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(refdata, [str(a) for a in args], catch_exceptions=False)

    return invoke


def test_import_ptp_parts_and_list(run, fx, tmp_path):
    rd = tmp_path / "rd"
    r = run("import", "ncci-ptp", fx("ccipra-v321r0-f1.txt"), fx("ccipra-v321r0-f2.txt"), "--refdata", rd)
    assert r.exit_code == 0, r.output
    assert "imported ptp_practitioner v321r0 part f1: 7 rows" in r.output
    assert "ptp_practitioner v321r0: 11 rows in 2 parts, in effect 2026-04-01 .. open" in r.output
    assert "rows dated 1996-01-01 .. open" in r.output
    r = run("list", "--refdata", rd)
    assert r.exit_code == 0, r.output
    assert "ptp_practitioner" in r.output and "v321r0" in r.output and "11" in r.output
    assert "icd10cm" in r.output and "FY2026-builtin" in r.output and "yes" in r.output  # built-ins marked
    assert "2025-10-01 .. 2026-09-30" in r.output
    assert "Excludes1" in r.output


def test_import_options(run, fx, tmp_path):
    rd = tmp_path / "rd"
    src = tmp_path / "mue.csv"
    src.write_bytes(fx("MCR_MUE_DMESupplierServices_Eff_04-01-2026.csv").read_bytes())
    r = run("import", "mue", src, "--refdata", rd, "--effective", "2026-10-01", "--setting", "dme", "--version-id", "q4")
    assert r.exit_code == 0, r.output
    assert "mue_dme q4: 2 rows, in effect 2026-10-01 .. open" in r.output
    cat = json.loads((rd / "catalog.json").read_text())
    assert [(e["kind"], e["version_id"], e["valid_from"]) for e in cat] == [("mue_dme", "q4", "2026-10-01")]


def test_import_icd_fiscal_year_and_mce_age_groups(run, fx, tmp_path):
    rd = tmp_path / "rd"
    p = tmp_path / "order.txt"
    p.write_bytes(fx("icd10cm_order_2025.txt").read_bytes())
    r = run("import", "icd10cm", p, "--fiscal-year", "2025", "--refdata", rd)
    assert r.exit_code == 0 and "icd10cm FY2025: 7 rows, in effect 2024-10-01 .. 2025-09-30" in r.output, r.output
    r = run("import", "mce", fx("MCE_Simple_Code_Edits_v38.txt"), "--refdata", rd, "--age-groups", "maternity=12-55")
    assert r.exit_code == 0 and "maternity 12-55" in r.output, r.output


def test_bad_file_exit_code_2_one_message(run, fx, tmp_path):
    bad = tmp_path / "ccipra-v321r0-f1.txt"
    bad.write_text(fx("ccipra-v321r0-f1.txt").read_text().replace("20260331\t1", "20260331\t7"))
    r = run("import", "ncci-ptp", bad, "--refdata", tmp_path / "rd")
    assert r.exit_code == 2
    assert str(bad) in r.output and "Modifier" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "rd" / "catalog.json").exists()


def test_missing_file_and_unknown_kind(run, tmp_path):
    r = run("import", "mue", tmp_path / "nope.csv", "--refdata", tmp_path / "rd")
    assert r.exit_code == 2 and "nope.csv: file not found" in r.output
    r = run("import", "ncci", tmp_path / "x", "--refdata", tmp_path / "rd")
    assert r.exit_code == 2 and "ncci-ptp" in r.output


def test_default_dir_from_env(run, fx, tmp_path, monkeypatch):
    monkeypatch.setenv("AUDITOR_REFDATA", str(tmp_path / "envrd"))
    r = run("import", "aoc", fx("AOC_V2026Q2.txt"))
    assert r.exit_code == 0, r.output
    assert (tmp_path / "envrd" / "catalog.json").exists()
    monkeypatch.delenv("AUDITOR_REFDATA")
    monkeypatch.chdir(tmp_path)
    r = run("import", "aoc", fx("AOC_V2026Q3.csv"))
    assert r.exit_code == 0 and (tmp_path / "refdata" / "catalog.json").exists()


def test_list_empty_and_remove(run, fx, tmp_path):
    rd = tmp_path / "rd"
    r = run("list", "--refdata", rd, "--no-builtin")
    assert r.exit_code == 0 and "No reference data" in r.output
    run("import", "frequency", fx("frequency.csv"), "--refdata", rd)
    r = run("remove", "frequency_limits", "current", "--refdata", rd)
    assert r.exit_code == 0, r.output
    r = run("remove", "frequency_limits", "current", "--refdata", rd)
    assert r.exit_code == 2


def test_main_cli_registers_refdata():
    from auditor.cli import cli

    r = CliRunner().invoke(cli, ["refdata", "--help"])
    assert r.exit_code == 0 and "import" in r.output and "list" in r.output


@pytest.mark.skipif(not EXAMPLES.exists(), reason="examples/refdata not present")
def test_examples_import(run, tmp_path):
    """The shipped sample data imports cleanly (what examples/refdata/import.sh does)."""
    rd = tmp_path / "rd"
    cmds = [
        ("ncci-ptp", "ccipra-v320r0-f1.SAMPLE.txt"),
        ("mue", "MCR_MUE_PractitionerServices_Eff_01-01-2026.SAMPLE.csv"),
        ("aoc", "AOC_V2026Q1.SAMPLE.csv"),
        ("mpfs", "PPRRVU2026_Jan_nonQPP.SAMPLE.csv"),
        ("hcpcs", "HCPC2026_JAN_ANWEB.SAMPLE.csv"),
        ("frequency", "frequency_limits.SAMPLE.csv"),
    ]
    for kind, name in cmds:
        r = run("import", kind, EXAMPLES / name, "--refdata", rd)
        assert r.exit_code == 0, r.output
    r = run("import", "lcd", *sorted((EXAMPLES / "lcd").glob("article_x_*.csv")), "--refdata", rd, "--effective", "2025-10-01")
    assert r.exit_code == 0, r.output
    from auditor.refdata.store import RefStore

    s = RefStore(rd, builtin=False)
    assert {"ptp_practitioner", "mue_practitioner", "aoc", "mpfs", "hcpcs", "frequency_limits", "lcd_hcpc"} <= set(s.kinds())
    import pandas as pd

    day = pd.Series(pd.to_datetime(["2026-03-02"]))
    for kind in s.kinds():
        assert s.version_for_dates(kind, day).iloc[0] is not None, kind  # every sample table covers 2026
