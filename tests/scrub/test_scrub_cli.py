"""`auditor scrub`: verdicts, reports, clean/held 837 files with correct envelopes, exit codes."""

import csv
import json

import pytest
from scrub_data import CLAIMS, EXPECTED

from auditor.cli import main
from auditor.engine.perclaim import durable_available
from auditor.rules.examples import DEFAULT_LINE

ENGINES = ["batch", "python"] + (["durable"] if durable_available()[0] else [])


def run(argv, capsys):
    with pytest.raises(SystemExit) as ex:
        main(argv)
    out = capsys.readouterr()
    return ex.value.code, out.out, out.err


def scrub_args(inputs, out, refdata, *extra):
    return ["scrub", *map(str, inputs), "--out", str(out), "--refdata", str(refdata), "--as-of", "2026-11-26", *extra]


def segments(data: bytes) -> list[list[str]]:
    text = data.decode("latin-1")
    e, term = text[3], text[105]
    return [s.strip().split(e) for s in text.split(term) if s.strip()]


def check_envelopes(data: bytes) -> None:
    """Control numbers and counts of every ISA/GS/ST envelope (independent of the writer)."""
    segs = segments(data)
    stack = []
    for i, s in enumerate(segs):
        if s[0] in ("ISA", "GS", "ST"):
            stack.append((s, i, []))
            if len(stack) > 1:
                stack[-2][2].append(s)
        elif s[0] in ("IEA", "GE", "SE"):
            head, start, inner = stack.pop()
            if s[0] == "IEA":
                assert head[13] == s[2] and int(s[1]) == len(inner), "ISA13 = IEA02, IEA01 = groups"
            elif s[0] == "GE":
                assert head[6] == s[2] and int(s[1]) == len(inner), "GS06 = GE02, GE01 = transactions"
            else:
                assert head[2] == s[2] and int(s[1]) == i - start + 1, "ST02 = SE02, SE01 = segments"
    assert not stack, "every envelope is closed"


def test_mixed_claims(claims_837, sample_refdata, tmp_path, capsys):
    out, clean, held = tmp_path / "out", tmp_path / "clean.837", tmp_path / "held.837"
    code, stdout, _ = run(scrub_args([claims_837], out, sample_refdata, "--clean", clean, "--held", held), capsys)
    assert code == 1  # some claims are held or rejected
    with open(out / "verdicts.csv", newline="", encoding="utf-8") as fh:
        got = {r["claim_id"]: r for r in csv.DictReader(fh)}
    assert {k: r["verdict"] for k, r in got.items()} == EXPECTED
    assert got["HOLD1"]["rule_ids"] == "NCCI001" and got["HOLD1"]["error"] == "1"
    assert got["WARN1"]["warning"] == "1" and got["CLEAN1"]["findings"] == "0"
    doc = json.loads((out / "verdicts.json").read_text(encoding="utf-8"))
    assert doc["summary"] == {"pass": 1, "warn": 1, "hold": 2, "reject": 2}
    reject2 = next(c for c in doc["claims"] if c["claim_id"] == "REJECT2")
    assert reject2["reasons"][0]["rule_ids"] == ["X12002"] and reject2["findings"][0]["disposition"] == "reject"
    for name in ("findings.csv", "findings.json", "report.html", "report.xlsx"):
        assert (out / name).stat().st_size > 0
    assert "Scrub verdicts" in (out / "report.html").read_text(encoding="utf-8")
    assert "1 pass, 1 warn, 2 hold, 2 reject" in stdout

    from auditor.x12 import read_837, validate_837

    for path, want in ((clean, {"CLEAN1", "WARN1"}), (held, {"HOLD1", "REJECT1", "REJECT2", "HIGH1"})):
        data = path.read_bytes()
        check_envelopes(data)
        back = read_837(data, path.name)
        assert {c.claim_id for c in back.claims} == want
        assert sorted(back.lines["claim_id"]) == sorted(
            c["id"] for c in CLAIMS if c["id"] in want for _ in c["lines"])  # every line kept
    assert not [i for i in validate_837(clean.read_bytes(), "clean.837") if i["severity"] == "error"]
    assert not [i for i in read_837(clean.read_bytes(), "clean.837").issues if i["severity"] == "error"]


def test_all_pass_or_warn_exits_0(clean_837, sample_refdata, tmp_path, capsys):
    code, _, _ = run(scrub_args([clean_837], tmp_path / "o", sample_refdata, "--format", "csv"), capsys)
    assert code == 0


@pytest.fixture(scope="module")
def by_engine(claims_837, sample_refdata, tmp_path_factory):
    out = {}
    for engine in ENGINES:
        d = tmp_path_factory.mktemp(engine)
        with pytest.raises(SystemExit):
            main(scrub_args([claims_837], d, sample_refdata, "--engine", engine, "--format", "csv", "-q"))
        out[engine] = json.loads((d / "verdicts.json").read_text(encoding="utf-8"))
    return out


@pytest.mark.parametrize("engine", ENGINES[1:])
def test_engines_give_the_same_verdicts(by_engine, engine):
    assert by_engine[engine]["engine"] == engine
    assert by_engine[engine]["claims"] == by_engine["batch"]["claims"]


def test_tabular_input(sample_refdata, tmp_path, capsys):
    rows = [{**DEFAULT_LINE, "claim_id": "A", "line_number": "1"},
            {**DEFAULT_LINE, "claim_id": "B", "line_number": "1", "procedure_code": "36415"},
            {**DEFAULT_LINE, "claim_id": "B", "line_number": "2", "procedure_code": "36416"}]
    p = tmp_path / "claims.csv"
    with open(p, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    code, _, _ = run(scrub_args([p], tmp_path / "o", sample_refdata, "--format", "csv", "-q"), capsys)
    assert code == 1
    doc = json.loads((tmp_path / "o" / "verdicts.json").read_text(encoding="utf-8"))
    assert {c["claim_id"]: c["verdict"] for c in doc["claims"]} == {"A": "pass", "B": "hold"}
    code, _, err = run(scrub_args([p], tmp_path / "o2", sample_refdata, "--clean", tmp_path / "c.837"), capsys)
    assert code == 2 and "837" in err


@pytest.mark.parametrize("argv,message", [
    (["scrub", "x.837"], "--out"),
    (["scrub", "x.837", "--out", "o", "--engine", "rete"], "--engine"),
    (["scrub", "/no/such/file.837", "--out", "o"], "no such file"),
])
def test_usage_and_input_errors_exit_2(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(argv, capsys)
    assert code == 2 and message in out + err


def test_broken_dispositions_exit_2(clean_837, tmp_path, capsys):
    bad = tmp_path / "d.yaml"
    bad.write_text("findings:\n  - when: nonsense(\n    verdict: hold\n", encoding="utf-8")
    code, _, err = run(["scrub", str(clean_837), "--out", str(tmp_path / "o"), "--dispositions", str(bad)], capsys)
    assert code == 2 and "d.yaml" in err


def test_durable_missing_is_a_notice(clean_837, sample_refdata, tmp_path, capsys, monkeypatch):
    import auditor.engine.perclaim as perclaim

    monkeypatch.setattr(perclaim, "durable_available", lambda: (False, "durable_rules is not available (test)"))
    code, _, err = run(scrub_args([clean_837], tmp_path / "o", sample_refdata, "--engine", "durable",
                                  "--format", "csv"), capsys)
    assert code == 0 and "notice" in err and "python" in err
    assert json.loads((tmp_path / "o" / "verdicts.json").read_text(encoding="utf-8"))["engine"] == "python"
