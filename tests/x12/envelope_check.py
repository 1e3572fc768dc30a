"""Independent envelope/hierarchy checker for written 837 files (does not use the reader)."""

from __future__ import annotations

import re


def parse(data: bytes) -> list[list[list[str]]]:
    """File bytes -> interchanges -> segments -> elements, using each ISA's own delimiters."""
    text = data.decode("latin-1").lstrip("\ufeff")
    out = []
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            break
        assert text.startswith("ISA", pos), text[pos:pos + 20]
        e, term = text[pos + 3], text[pos + 105]
        m = re.compile(re.escape(term) + r"\s*IEA" + re.escape(e)).search(text, pos)
        end = text.index(term, m.end()) + 1
        segs = [s.strip() for s in text[pos:end].split(term) if s.strip()]
        out.append([s.split(e) for s in segs])
        pos = end
    return out


def check_envelopes(data: bytes) -> dict:
    """Assert every control number/count rule; return counts {interchanges, groups, transactions, claims}."""
    counts = {"interchanges": 0, "groups": 0, "transactions": 0, "claims": 0, "versions": []}
    for ic in parse(data):
        counts["interchanges"] += 1
        isa, iea = ic[0], ic[-1]
        assert isa[0] == "ISA" and iea[0] == "IEA"
        assert len("*".join(isa)) == 105, "ISA must be fixed length"
        assert isa[13] == iea[2], "ISA13 = IEA02"
        groups = [s for s in ic if s[0] == "GS"]
        assert int(iea[1]) == len(groups), "IEA01 = number of GS"
        i = 1
        while i < len(ic) - 1:
            gs = ic[i]
            assert gs[0] == "GS"
            counts["groups"] += 1
            j = i + 1
            n_st = 0
            while ic[j][0] != "GE":
                st = ic[j]
                assert st[0] == "ST" and st[1] == "837"
                assert st[3] == gs[8], "ST03 = GS08"
                counts["versions"].append(st[3])
                k = j
                while ic[k][0] != "SE":
                    k += 1
                se = ic[k]
                assert se[2] == st[2], "ST02 = SE02"
                assert int(se[1]) == k - j + 1, "SE01 = segment count"
                _check_hl(ic[j:k + 1])
                counts["claims"] += sum(1 for s in ic[j:k + 1] if s[0] == "CLM")
                n_st += 1
                j = k + 1
            ge = ic[j]
            assert int(ge[1]) == n_st, "GE01 = number of ST"
            assert ge[2] == gs[6], "GS06 = GE02"
            counts["transactions"] += n_st
            i = j + 1
    return counts


def _check_hl(tx: list[list[str]]) -> None:
    hls = [(k, s) for k, s in enumerate(tx) if s[0] == "HL"]
    levels = {}
    children = {}
    for n, (_k, s) in enumerate(hls, 1):
        assert s[1] == str(n), "HL01 numbered 1..n"
        level = s[3]
        levels[s[1]] = level
        if level == "20":
            assert s[2] == ""
        else:
            assert levels.get(s[2]) == {"22": "20", "23": "22"}[level], "HL02 points at the right level"
            children[s[2]] = children.get(s[2], 0) + 1
    for _k, s in hls:
        assert s[4] == ("1" if children.get(s[1]) else "0"), "HL04 child code"
