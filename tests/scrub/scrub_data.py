"""Invented 837 claims for the scrub tests (one per verdict) and a small 837P builder."""

from datetime import date

AS_OF = date(2026, 11, 26)


def _isa(control: int) -> str:
    f = ["00", "", "00", "", "ZZ", "SUBMITTER", "ZZ", "RECEIVER", "260310", "1015", "^", "00501",
         f"{control:09d}", "0", "T", ":"]
    widths = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
    return "*".join(["ISA", *(v.ljust(w) for v, w in zip(f, widths))])


def build_837(claims: list[dict]) -> bytes:
    """A small 837P (005010X222A1, invented data): one billing provider and subscriber loop per claim.

    claim = {id, npi, member, lines: [(code, modifiers, units, charge, date)], dx: [...], total (default:
    the sum of the line charges)}.
    """
    st = ["ST*837*0001*005010X222A1", "BHT*0019*00*TEST1*20260310*1015*CH",
          "NM1*41*2*TEST SUBMITTER*****46*SUB01", "PER*IC*DESK*TE*5555550100",
          "NM1*40*2*TEST PAYER*****46*PAY01"]
    hl = 0
    for c in claims:
        hl += 1
        bill = hl
        st += [f"HL*{bill}**20*1", f"NM1*85*2*TEST CLINIC*****XX*{c.get('npi', '1234567893')}",
               "N3*1 MAIN ST", "N4*SPRINGFIELD*IL*627010000", "REF*EI*371234567"]
        hl += 1
        st += [f"HL*{hl}*{bill}*22*0", "SBR*P*18*GRP1******CI", f"NM1*IL*1*SAMPLE*ALEX****MI*{c.get('member', 'MBR1')}",
               "N3*12 ELM ST", "N4*SPRINGFIELD*IL*627010000", f"DMG*D8*{c.get('birth', '19600515')}*{c.get('sex', 'F')}",
               "NM1*PR*2*TEST PAYER*****PI*PAY01"]
        total = c.get("total", sum(line[3] for line in c["lines"]))
        dx = c.get("dx", ["I10"])
        st += [f"CLM*{c['id']}*{total:.2f}***11:B:1*Y*A*Y*Y", "DTP*050*D8*20260310",
               "HI*" + "*".join(("ABK:" if i == 0 else "ABF:") + d for i, d in enumerate(dx))]
        for n, (code, mods, units, charge, day) in enumerate(c["lines"], 1):
            proc = ":".join(["HC", code, *mods])
            st += [f"LX*{n}", f"SV1*{proc}*{charge:.2f}*UN*{units}***1", f"DTP*472*D8*{day}"]
    st.append(f"SE*{len(st) + 1}*0001")
    segs = [_isa(1), "GS*HC*SUBMITTER*RECEIVER*20260310*1015*1*X*005010X222A1", *st, "GE*1*1", "IEA*1*000000001"]
    return ("~\n".join(segs) + "~\n").encode("latin-1")


DAY = "20260302"
# verdicts with the sample reference data and the default dispositions
CLAIMS = [
    {"id": "CLEAN1", "lines": [("99213", [], 1, 100.0, DAY)]},
    {"id": "WARN1", "member": "MBR2", "dx": ["I10", "I10"], "lines": [("99213", [], 1, 100.0, DAY)]},
    {"id": "HOLD1", "member": "MBR3", "lines": [("36415", [], 1, 10.0, DAY), ("36416", [], 1, 10.0, DAY)]},
    {"id": "REJECT1", "member": "MBR4", "npi": "1234567890", "lines": [("99213", [], 1, 100.0, DAY)]},
    {"id": "REJECT2", "member": "MBR5", "total": 500.0, "lines": [("99213", [], 1, 100.0, DAY)]},
    {"id": "HIGH1", "member": "MBR6", "dx": ["I10", "I10"], "lines": [("99213", [], 1, 12000.0, DAY)]},
]
EXPECTED = {"CLEAN1": "pass", "WARN1": "warn", "HOLD1": "hold", "REJECT1": "reject", "REJECT2": "reject",
            "HIGH1": "hold"}
