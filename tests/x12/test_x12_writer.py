"""write_837: subsets, round trips, envelopes, delimiters, pyx12 validation of written files."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from auditor.x12 import Delimiters, read_837, validate_837, write_837

from .envelope_check import check_envelopes, parse

FIX = os.path.join(os.path.dirname(__file__), "fixtures")
NOW = dt.datetime(2025, 3, 15, 9, 30)


def fx(name):
    return os.path.join(FIX, name)


def same_lines(a, b):
    a = a.drop(columns="source_row").reset_index(drop=True)
    b = b.drop(columns="source_row").reset_index(drop=True)
    assert a.equals(b)


def claim_messages(res):
    return sorted((i["claim_id"], i["element"] or "", i["message"]) for i in res.issues if i["claim_id"])


@pytest.mark.parametrize("name", ["p_x222a1_multi.837", "p_x222a2.837", "i_x223a2.837", "i_x223a3.837"])
def test_round_trip_all_claims(tmp_path, name):
    res = read_837(fx(name))
    out = tmp_path / "all.837"
    summary = write_837(res.claims, out, now=NOW)
    again = read_837(out)
    same_lines(res.lines, again.lines)
    assert claim_messages(again) == claim_messages(res)
    counts = check_envelopes(out.read_bytes())
    assert counts["claims"] == summary.claims == len(res.claims)
    assert (counts["interchanges"], counts["groups"], counts["transactions"]) == \
        (summary.interchanges, summary.groups, summary.transactions)


def test_clean_and_held_subsets(tmp_path):
    res = read_837(fx("p_x222a1_multi.837"))
    clean = [c for c in res.claims if not c.has_errors]
    held = [c for c in res.claims if c.has_errors]
    assert {c.claim_id for c in held} == {"PCLM2001", "PCLM4002", "PCLM4003", "PCLM4004"}
    write_837(clean, tmp_path / "clean.837", now=NOW, control_number=41)
    write_837(held, tmp_path / "held.837", now=NOW, control_number=51, line_breaks=True)
    rc, rh = read_837(tmp_path / "clean.837"), read_837(tmp_path / "held.837")
    assert rc.issues == []
    same_lines(res.lines[res.lines.claim_id.isin([c.claim_id for c in clean])], rc.lines)
    same_lines(res.lines[res.lines.claim_id.isin([c.claim_id for c in held])], rh.lines)
    assert claim_messages(rh) == [m for m in claim_messages(res) if m[0] in {c.claim_id for c in held}]
    c1 = check_envelopes((tmp_path / "clean.837").read_bytes())
    c2 = check_envelopes((tmp_path / "held.837").read_bytes())
    assert c1["claims"] == 7 and c2["claims"] == 4
    # the two source interchanges had different delimiters: each keeps its own
    assert c1["interchanges"] == 2 and c2["interchanges"] == 2
    ics = parse((tmp_path / "clean.837").read_bytes())
    assert ics[0][0][13] == "000000041" and ics[1][0][13] == "000000042"
    assert ics[0][0][9:11] == ["250315", "0930"]


def test_hierarchy_is_rebuilt(tmp_path):
    res = read_837(fx("p_x222a1_multi.837"))
    # a dependent's claim alone: billing HL, subscriber HL (HL04=1), patient HL
    only = [c for c in res.claims if c.claim_id == "PCLM1003"]
    write_837(only, tmp_path / "one.837", now=NOW)
    segs = parse((tmp_path / "one.837").read_bytes())[0]
    hls = [s for s in segs if s[0] == "HL"]
    assert [s[1:] for s in hls] == [["1", "", "20", "1"], ["2", "1", "22", "1"], ["3", "2", "23", "0"]]
    # two claims of the same subscriber share one subscriber HL
    two = [c for c in res.claims if c.claim_id in ("PCLM1001", "PCLM1002")]
    write_837(two, tmp_path / "two.837", now=NOW)
    segs = parse((tmp_path / "two.837").read_bytes())[0]
    assert [s[1:] for s in segs if s[0] == "HL"] == [["1", "", "20", "1"], ["2", "1", "22", "0"]]
    assert [s[1] for s in segs if s[0] == "CLM"] == ["PCLM1001", "PCLM1002"]


def test_professional_and_institutional_go_to_separate_groups(tmp_path):
    p = read_837(fx("p_x222a2.837"))
    i = read_837(fx("i_x223a2.837"))
    out = tmp_path / "mixed.837"
    write_837(i.claims[:1] + p.claims + i.claims[1:], out, now=NOW,
              sender=("ZZ", "AUDITOR"), receiver=("ZZ", "ACMEHP"))
    counts = check_envelopes(out.read_bytes())
    assert counts["interchanges"] == 1 and counts["groups"] == 2
    assert sorted(counts["versions"]) == ["005010X222A2", "005010X223A2"]
    back = read_837(out)
    assert back.issues == []
    assert sorted(back.lines.claim_id.unique()) == sorted({c.claim_id for c in p.claims + i.claims})
    gs = [s for s in parse(out.read_bytes())[0] if s[0] == "GS"]
    assert {g[2] for g in gs} == {"AUDITOR"}


def test_other_output_delimiters(tmp_path):
    res = read_837(fx("p_x222a1_multi.837"))
    d = Delimiters(element="|", component="^", repetition="{", segment="\n")
    write_837(res.claims, tmp_path / "pipes.837", delimiters=d, now=NOW)
    data = (tmp_path / "pipes.837").read_bytes()
    assert data.startswith(b"ISA|00|") and b"~" not in data
    back = read_837(tmp_path / "pipes.837")
    same_lines(res.lines, back.lines)
    assert check_envelopes(data)["interchanges"] == 1  # same output delimiters: one interchange


def test_delimiter_clash_is_refused(tmp_path):
    from .test_x12_tokens import BODY, build

    body = [s.replace("NM1*85*2*CLINIC", "NM1*85*2*CLINIC|EAST") for s in BODY]
    res = read_837(build(body))
    with pytest.raises(ValueError, match="delimiter"):
        write_837(res.claims, tmp_path / "x.837", delimiters=Delimiters("|", ":", "^", "~"))
    assert not (tmp_path / "x.837").exists()


def test_atomic_overwrite_and_no_temp_left(tmp_path):
    res = read_837(fx("p_x222a2.837"))
    out = tmp_path / "o.837"
    out.write_text("old")
    write_837(res.claims, out, now=NOW)
    assert out.read_bytes().startswith(b"ISA")
    assert [p.name for p in tmp_path.iterdir()] == ["o.837"]


def test_empty_and_unwritable_claims(tmp_path):
    s = write_837([], tmp_path / "none.837")
    assert s.claims == 0 and (tmp_path / "none.837").read_bytes() == b""
    res = read_837(fx("p_x222a2.837"))
    broken = res.claims[0]
    broken.subscriber = None
    s = write_837(res.claims, tmp_path / "some.837", now=NOW)
    assert s.skipped == ["PCLM5001"] and s.claims == 1


def test_written_files_validate_with_pyx12(tmp_path):
    res = read_837(fx("p_x222a1_multi.837"))
    clean = [c for c in res.claims if not c.has_errors]
    write_837(clean, tmp_path / "clean.837", now=NOW)
    errors = [i for i in validate_837(tmp_path / "clean.837") if i["severity"] == "error"]
    assert errors == []
    inst = read_837(fx("i_x223a2.837"))
    write_837(inst.claims, tmp_path / "inst.837", now=NOW)
    assert [i for i in validate_837(tmp_path / "inst.837") if i["severity"] == "error"] == []
