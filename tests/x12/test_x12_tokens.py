"""Delimiters, envelopes and odd-but-legal layouts."""

from __future__ import annotations

from auditor.x12 import read_837

ISA = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *250310*1015*^*00501*000000007*0*T*:~"

BODY = [
    "GS*HC*SENDER*RECEIVER*20250310*1015*7*X*005010X222A1",
    "ST*837*0001*005010X222A1",
    "BHT*0019*00*B1*20250310*1015*CH",
    "NM1*41*2*SUBMITTER*****46*S1",
    "NM1*40*2*PAYER*****46*P1",
    "HL*1**20*1",
    "NM1*85*2*CLINIC*****XX*1234567893",
    "HL*2*1*22*0",
    "SBR*P*18*******CI",
    "NM1*IL*1*SAMPLE*PAT****MI*M1",
    "DMG*D8*19800101*F",
    "NM1*PR*2*PAYER*****PI*P1",
    "CLM*C1*100***11:B:1*Y*A*Y*Y",
    "HI*ABK:R51",
    "LX*1",
    "SV1*HC:99213:25*100*UN*1***1",
    "DTP*472*D8*20250301",
    "SE*17*0001",
    "GE*1*7",
    "IEA*1*000000007",
]


def build(body=None, isa=ISA, e="*", c=":", t="~", sep=""):
    body = body if body is not None else BODY
    segs = [s.replace("*", "\x00").replace(":", c).replace("\x00", e) for s in body]
    head = isa.replace("*", "\x00").replace("~", "").replace("\x00", e)
    head = head[:-1] + c  # ISA16
    return (head + t + sep + (t + sep).join(segs) + t).encode("latin-1")


def test_baseline_reads_clean():
    res = read_837(build())
    assert res.issues == []
    row = res.lines.iloc[0]
    assert (row.claim_id, row.procedure_code, row.modifier_1, row.charge) == ("C1", "99213", "25", "100")


def test_any_declared_delimiters():
    for e, c, t, sep in [("|", ">", "\n", ""), ("^", "\\", "'", "\r\n"), ("!", "@", "~", "\n")]:
        isa = ISA.replace("*^*", "*{*")  # repetition separator must differ from the element separator
        res = read_837(build(isa=isa, e=e, c=c, t=t, sep=sep))
        assert res.issues == [], (e, c, t)
        row = res.lines.iloc[0]
        assert (row.procedure_code, row.modifier_1, row.dx_1) == ("99213", "25", "R51")


def test_component_separator_not_as_declared_is_a_warning():
    body = [s.replace(":", ">") for s in BODY]
    data = build(body)  # ISA16 still ':'
    res = read_837(data)
    assert [(i["element"], i["severity"]) for i in res.issues] == [("ISA16", "warning")]
    assert res.lines.iloc[0].modifier_1 == "25"


def test_non_fixed_length_isa_is_tolerated():
    isa = ISA.replace("SENDER         ", "SENDER")
    res = read_837(build(isa=isa))
    assert len(res.lines) == 1 and res.issues == []


def test_envelope_count_and_control_number_mismatches():
    body = list(BODY)
    body[-3] = "SE*16*0002"
    body[-2] = "GE*2*8"
    body[-1] = "IEA*3*000000009"
    res = read_837(build(body))
    got = {i["element"] for i in res.issues}
    assert got == {"SE01", "SE02", "GE01", "GE02", "IEA01", "IEA02"}
    assert all(i["claim_id"] is None for i in res.issues)
    assert len(res.lines) == 1  # the claim itself is fine


def test_two_interchanges_back_to_back_with_whitespace():
    one = build()
    two = build(isa=ISA.replace("000000007", "000000008"), e="|", c=">", t="\n").replace(
        b"000000007", b"000000008").replace(b"C1|", b"C2|")
    res = read_837(one + b"\r\n\r\n" + two)
    assert list(res.lines.claim_id) == ["C1", "C2"]
    assert res.interchanges == 2
    assert res.issues == []


def test_interchange_without_iea_followed_by_another():
    first = build(BODY[:-1])
    res = read_837(first + build())
    assert list(res.lines.claim_id) == ["C1", "C1"]
    assert any("not closed by an IEA" in i["message"] for i in res.issues)


def test_non_837_transaction_is_skipped_with_warning():
    body = list(BODY)
    body[1] = "ST*835*0001*005010X221A1"
    res = read_837(build(body))
    assert len(res.lines) == 0
    assert any(i["element"] == "ST01" for i in res.issues)


def test_lx_restart_means_missing_clm():
    body = BODY[:17] + ["LX*1", "SV1*HC:99214*150*UN*1***1", "DTP*472*D8*20250302"] + BODY[17:]
    body[-3] = "SE*20*0001"
    res = read_837(build(body))
    assert list(res.lines.procedure_code) == ["99213"]
    assert [i["element"] for i in res.issues] == ["LX01"]
    assert res.issues[0]["claim_id"] is None


def test_damaged_files_never_crash_the_reader_or_writer(tmp_path, caplog):
    import logging
    import os
    import random

    from auditor.errors import InputError
    from auditor.x12 import write_837

    caplog.set_level(logging.ERROR, logger="auditor.x12")
    here = os.path.join(os.path.dirname(__file__), "fixtures")
    data = open(os.path.join(here, "p_x222a1_multi.837"), "rb").read() + \
        open(os.path.join(here, "i_x223a2.837"), "rb").read()
    rnd = random.Random(11)
    for k in range(300):
        b = bytearray(data)
        if k % 3 == 0:
            b = b[:rnd.randrange(len(b))]
        elif k % 3 == 1:
            for _ in range(rnd.randint(1, 20)):
                b[rnd.randrange(len(b))] = rnd.choice(b"*~:|>\n0A ^")
        else:
            i = rnd.randrange(len(b))
            del b[i:i + rnd.randint(1, 200)]
        try:
            res = read_837(bytes(b), "damaged.837")
        except InputError:
            continue
        assert len(res.lines) == len(res.lines.source_row.unique())
        write_837(res.claims, tmp_path / "out.837")
        if any(c.billing and c.subscriber for c in res.claims):
            again = read_837(tmp_path / "out.837")
            assert len(again.claims) <= len(res.claims)
