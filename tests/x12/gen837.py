"""Synthetic 837P/837I generator for tests and speed measurements (invented sample data only).

``python -m tests.x12.gen837 OUT.837 --claims 50000 [--institutional]`` writes one file;
``make_837(...)`` returns the bytes. Claims are spread over several interchanges and
transactions; a share of claims sits under a patient HL (2000C) and has line-level rendering.
"""

from __future__ import annotations

import argparse
import random

_CPT = ["99212", "99213", "99214", "99215", "36415", "80053", "85025", "93000", "97110", "97140",
        "71046", "20610", "J1885", "G0439", "90471", "90686"]
_REV = ["0300", "0301", "0305", "0320", "0450", "0636", "0730", "0420", "0250"]
_DX = ["E119", "I10", "J069", "M545", "R0789", "Z0000", "E785", "K219", "N390", "F419", "M170", "R51"]
_MODS = ["", "", "", "25", "59", "LT", "RT", "GP", "XS", "26"]


def npi(base9: int) -> str:
    """A 10-digit NPI with a valid Luhn check digit (prefix 80840), from a 9-digit base."""
    s = "80840" + f"{base9:09d}"
    total = 0
    for i, ch in enumerate(reversed(s)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return f"{base9:09d}{(10 - total % 10) % 10}"


def make_837(claims: int = 1000, institutional: bool = False, seed: int = 7,
             claims_per_transaction: int = 5000, transactions_per_interchange: int = 4) -> bytes:
    rnd = random.Random(seed)
    version = "005010X223A3" if institutional else "005010X222A1"
    out: list[str] = []
    ic_no = 0
    made = 0
    while made < claims:
        ic_no += 1
        ctl = f"{ic_no:09d}"
        out.append(f"ISA*00*          *00*          *ZZ*SYNTHSUBMIT    *ZZ*SYNTHPAYER     *250310*1015*^*00501*{ctl}*0*T*:")
        out.append(f"GS*HC*SYNTHSUBMIT*SYNTHPAYER*20250310*1015*{ic_no}*X*{version}")
        n_st = 0
        while n_st < transactions_per_interchange and made < claims:
            n_st += 1
            st_ctl = f"{n_st:04d}"
            body = [f"ST*837*{st_ctl}*{version}", f"BHT*0019*00*SYN{ic_no}{n_st}*20250310*1015*CH",
                    "NM1*41*2*SYNTHETIC SUBMITTER*****46*SYN01", "PER*IC*DESK*TE*5555550100",
                    "NM1*40*2*SYNTHETIC PAYER*****46*SYNPAY"]
            hl = 0
            in_tx = 0
            while in_tx < claims_per_transaction and made < claims:
                hl += 1
                bill_hl = hl
                bnpi = npi(100000000 + rnd.randrange(500))
                body += [f"HL*{hl}**20*1", f"NM1*85*2*SYNTHETIC PROVIDER {bnpi[-3:]}*****XX*{bnpi}",
                         "N3*1 TEST ST", "N4*SPRINGFIELD*IL*627010000", "REF*EI*370000000"]
                for _sub in range(rnd.randint(5, 40)):
                    if in_tx >= claims_per_transaction or made >= claims:
                        break
                    hl += 1
                    sub_hl = hl
                    with_patient = rnd.random() < 0.25
                    mid = f"SYN{rnd.randrange(10**8):08d}"
                    body += [f"HL*{hl}*{bill_hl}*22*{1 if with_patient else 0}",
                             f"SBR*P*{'' if with_patient else '18'}*GRP1******CI",
                             f"NM1*IL*1*TESTPERSON*SUB****MI*{mid}",
                             f"DMG*D8*19{rnd.randint(30, 99)}0{rnd.randint(1, 9)}1{rnd.randint(0, 9)}*{rnd.choice('MF')}",
                             "NM1*PR*2*SYNTHETIC PAYER*****PI*SYNPAY"]
                    if with_patient:
                        hl += 1
                        body += [f"HL*{hl}*{sub_hl}*23*0", "PAT*19", "NM1*QC*1*TESTPERSON*DEP",
                                 "N3*1 TEST ST", "N4*SPRINGFIELD*IL*627010000",
                                 f"DMG*D8*20{rnd.randint(0, 20):02d}0{rnd.randint(1, 9)}15*{rnd.choice('MF')}"]
                    for _c in range(rnd.randint(1, 3)):
                        if in_tx >= claims_per_transaction or made >= claims:
                            break
                        made += 1
                        in_tx += 1
                        body += _claim(rnd, made, institutional)
            body.append(f"SE*{len(body) + 1}*{st_ctl}")
            out += body
        out.append(f"GE*{n_st}*{ic_no}")
        out.append(f"IEA*1*{ctl}")
    return ("~\n".join(out) + "~\n").encode("ascii")


def _claim(rnd: random.Random, n: int, institutional: bool) -> list[str]:
    nlines = rnd.choice((1, 1, 2, 3, 4, 5, 8))
    day = rnd.randint(1, 28)
    charges = [rnd.randint(20, 900) + rnd.choice((0, 0.5, 0.25)) for _ in range(nlines)]
    total = f"{sum(charges):.2f}"
    dx = rnd.sample(_DX, rnd.randint(1, 4))
    hi = "HI*" + "*".join(("ABK:" if i == 0 else "ABF:") + d for i, d in enumerate(dx))
    segs: list[str] = []
    if institutional:
        segs += [f"CLM*SYNI{n:08d}*{total}***13:A:1**A*Y*Y", f"DTP*434*RD8*202503{day:02d}-202503{day:02d}",
                 "CL1*2*1*01", hi, f"NM1*71*1*ATTENDING*DOC****XX*{npi(200000000 + rnd.randrange(300))}"]
    else:
        segs += [f"CLM*SYNP{n:08d}*{total}***11:B:1*Y*A*Y*Y", hi]
        if rnd.random() < 0.5:
            segs.append(f"NM1*82*1*RENDERING*DOC****XX*{npi(300000000 + rnd.randrange(300))}")
    for i, ch in enumerate(charges, 1):
        segs.append(f"LX*{i}")
        code = rnd.choice(_CPT)
        mod = rnd.choice(_MODS)
        proc = f"HC:{code}" + (f":{mod}" if mod else "")
        units = rnd.choice((1, 1, 1, 2, 3))
        if institutional:
            segs.append(f"SV2*{rnd.choice(_REV)}*{proc}*{ch:.2f}*UN*{units}")
        else:
            ptr = ":".join(str(k) for k in range(1, min(len(dx), 4) + 1))
            segs.append(f"SV1*{proc}*{ch:.2f}*UN*{units}***{ptr}")
        segs.append(f"DTP*472*D8*202503{day:02d}")
        if not institutional and rnd.random() < 0.1:
            segs.append(f"NM1*82*1*LINEREND*DOC****XX*{npi(400000000 + rnd.randrange(300))}")
    return segs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out")
    ap.add_argument("--claims", type=int, default=50000)
    ap.add_argument("--institutional", action="store_true")
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    data = make_837(a.claims, a.institutional, a.seed)
    with open(a.out, "wb") as fh:
        fh.write(data)
    print(f"{a.out}: {a.claims} claims, {len(data):,} bytes")


if __name__ == "__main__":
    main()
