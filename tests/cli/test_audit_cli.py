"""`auditor audit` end to end: exit codes 0/1/2, outputs written, clear errors, no traceback."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditor.cli import cli

ROOT = Path(__file__).resolve().parents[2]
HEADER = "claim_id,line_number,member_id,member_birth_date,member_sex,billing_npi,service_date,received_date,procedure_code,units,charge,dx_1\n"
CLEAN = "C1,1,M1,1960-05-15,F,1234567893,2026-03-02,2026-03-10,99213,1,100,I10\n"


def run(args):
    return CliRunner().invoke(cli, args, catch_exceptions=False)


def test_clean_claims_exit_0_and_write_all_outputs(tmp_path):
    claims = tmp_path / "c.csv"
    claims.write_text(HEADER + CLEAN)
    out = tmp_path / "out"
    res = run(["audit", str(claims), "--out", str(out), "--as-of", "2026-11-26", "-q"])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == ["findings.csv", "findings.json", "report.html", "report.xlsx"]
    data = json.loads((out / "findings.json").read_text())
    assert data["findings"] == [] and data["summary"]["lines_read"] == data["summary"]["lines_audited"] == 1


def test_error_finding_exit_1_and_fail_on(tmp_path):
    claims = tmp_path / "c.csv"
    claims.write_text(HEADER + CLEAN.replace(",1,100,", ",0,100,"))  # zero units: DQ004 error
    res = run(["audit", str(claims), "--out", str(tmp_path / "o"), "--as-of", "2026-11-26", "-q"])
    assert res.exit_code == 1
    res = run(["audit", str(claims), "--out", str(tmp_path / "o2"), "--as-of", "2026-11-26", "-q", "--fail-on", "never"])
    assert res.exit_code == 0


def test_select_and_ignore(tmp_path):
    claims = tmp_path / "c.csv"
    claims.write_text(HEADER + CLEAN.replace(",1,100,", ",0,-5,"))  # DQ004 and DQ005
    out = tmp_path / "o"
    run(["audit", str(claims), "--out", str(out), "--as-of", "2026-11-26", "-q", "--select", "data_quality",
         "--ignore", "DQ005"])
    rules = {f["rule_id"] for f in json.loads((out / "findings.json").read_text())["findings"]}
    assert rules == {"DQ004"}


@pytest.mark.parametrize("args,needle", [
    (["audit", "nope.csv"], "nope.csv: no such file"),
    (["audit", "{claims}", "--select", "NOPE999"], "NOPE999"),
    (["audit", "{claims}", "--rules", "no/such/folder"], "no/such/folder"),
    (["audit", "{claims}", "--format", "pdf"], "pdf"),
    (["audit", "{bad}"], "missing required column(s): dx_1"),
])
def test_usage_and_input_errors_exit_2_with_a_message(tmp_path, args, needle):
    claims = tmp_path / "c.csv"
    claims.write_text(HEADER + CLEAN)
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER.replace(",dx_1", "") + CLEAN.rsplit(",", 1)[0] + "\n")
    argv = [a.format(claims=claims, bad=bad) for a in args] + ["--out", str(tmp_path / "o")]
    proc = subprocess.run([sys.executable, "-m", "auditor", *argv], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert needle in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_bad_rule_file_exit_2_names_file_and_line(tmp_path):
    folder = tmp_path / "myrules" / "x"
    folder.mkdir(parents=True)
    (folder / "ZZ001-bad.yaml").write_text(
        "id: ZZ001\ntitle: t\ncategory: modifier\nseverity: error\ndescription: d\nreference: r\nfix: f\n"
        "message: m\nkind: line\nwhen: __import__('os').system('id')\n")
    claims = tmp_path / "c.csv"
    claims.write_text(HEADER + CLEAN)
    proc = subprocess.run([sys.executable, "-m", "auditor", "audit", str(claims), "--rules", str(tmp_path / "myrules"),
                           "--out", str(tmp_path / "o")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "ZZ001-bad.yaml:10" in proc.stderr and "__import__" in proc.stderr


def test_shipped_example_runs(tmp_path):
    """The README's demo: sample reference data imported, sample claims audited, findings of many categories."""
    refdata = tmp_path / "refdata"
    proc = subprocess.run(["sh", str(ROOT / "examples" / "refdata" / "import.sh"), str(refdata)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out"
    res = run(["audit", str(ROOT / "examples" / "claims" / "sample_claims.csv"), "--refdata", str(refdata),
               "--out", str(out), "--as-of", "2026-11-26", "-q"])
    assert res.exit_code == 1
    data = json.loads((out / "findings.json").read_text())
    cats = {f["category"] for f in data["findings"]}
    assert {"data_quality", "invalid_code", "ncci_ptp", "mue", "duplicate", "timely_filing", "add_on",
            "age_conflict", "sex_conflict", "dx_sequencing", "excludes1", "modifier", "global_surgery",
            "frequency", "medical_necessity"} <= cats
    s = data["summary"]
    assert s["lines_read"] == s["lines_audited"] == 47


def test_rules_commands(tmp_path):
    res = run(["rules", "list"])
    assert res.exit_code == 0 and "NCCI001" in res.output
    out = tmp_path / "rules.md"
    res = run(["rules", "docs", "--out", str(out)])
    assert res.exit_code == 0
    text = out.read_text()
    assert "### MUE001" in text and "## ncci_ptp" in text
    res = CliRunner().invoke(cli, ["rules", "test", str(ROOT / "rules" / "mue")])
    assert res.exit_code == 0 and "PASS  MUE001" in res.output


def test_rules_test_reports_a_failing_example(tmp_path):
    folder = tmp_path / "myrules" / "x"
    folder.mkdir(parents=True)
    (folder / "ZZ002-units.yaml").write_text(
        "id: ZZ002\ntitle: t\ncategory: data_quality\nseverity: error\ndescription: d\nreference: r\nfix: f\n"
        "message: m\nkind: line\nwhen: units > 5\nexamples:\n  fail:\n    - name: wrong on purpose\n"
        "      lines: [{units: 2}]\n  pass:\n    - name: ok\n      lines: [{units: 1}]\n")
    res = CliRunner().invoke(cli, ["rules", "test", str(tmp_path / "myrules")])
    assert res.exit_code == 1
    assert "FAIL  ZZ002" in res.output and "expected a finding, got none" in res.output


def test_committed_rule_docs_are_current():
    """docs/rules.md is generated from the rules; regenerate with `auditor rules docs` after a rule change."""
    from auditor.rules.docs import rules_markdown
    from auditor.rules.loader import load_rules

    committed = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert committed == rules_markdown(load_rules()), "run: auditor rules docs"
