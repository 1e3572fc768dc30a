"""A generated multi-interchange file reads completely (a small version of the speed run)."""

from __future__ import annotations

from auditor.x12 import read_837, write_837

from .envelope_check import check_envelopes
from .gen837 import make_837


def test_generated_professional_and_institutional(tmp_path):
    for inst in (False, True):
        data = make_837(claims=1500, institutional=inst, claims_per_transaction=400,
                        transactions_per_interchange=2)
        counts = check_envelopes(data)
        assert counts["claims"] == 1500 and counts["interchanges"] == 2
        res = read_837(data, "gen.837")
        assert res.issues == []
        assert res.lines.claim_id.nunique() == 1500
        assert len(res.lines) == data.count(b"\nLX*")
        half = res.claims[::2]
        write_837(half, tmp_path / "half.837")
        again = read_837(tmp_path / "half.837")
        assert again.lines.claim_id.nunique() == 750 and again.issues == []
