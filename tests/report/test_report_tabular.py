import csv
import json
import math

from report_fixtures import HOSTILE

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_csv_neutralises_formulas(reports):
    rows = _csv_rows(reports["csv"])
    for r in rows:
        for k, v in r.items():
            assert not v.startswith(FORMULA_START), (k, v)
    messages = {r["message"] for r in rows}
    for name in ("hyperlink", "plus", "minus", "at", "tab", "cr"):
        assert "'" + HOSTILE[name] in messages, name
    assert HOSTILE["script"] in messages and HOSTILE["quotes"] in messages


def test_csv_numbers_and_dates(reports, result):
    rows = _csv_rows(reports["csv"])
    assert len(rows) == len(result.findings)
    assert list(rows[0]) == list(result.findings.columns)
    assert all(r["service_date"] == "" or len(r["service_date"]) == 10 for r in rows)
    assert any(r["line_number"] == "" for r in rows)                       # claim-level: empty, not "<NA>"
    assert all(r["amount_at_risk"] == "" or float(r["amount_at_risk"]) >= 0 for r in rows)


def test_json_shape_and_nulls(reports, result):
    doc = json.loads(reports["json"].read_text("utf-8"))
    assert set(doc) == {"summary", "findings"}
    assert doc["summary"]["findings"] == len(result.findings)
    f = doc["findings"]
    assert len(f) == len(result.findings) and list(f[0]) == list(result.findings.columns)
    assert any(r["line_number"] is None for r in f) and any(r["service_date"] is None for r in f)
    assert any(r["amount_at_risk"] is None for r in f) and any(r["rendering_npi"] is None for r in f)
    assert all(r["service_date"] is None or len(r["service_date"]) == 10 for r in f)
    assert HOSTILE["hyperlink"] in {r["message"] for r in f}                # JSON keeps text as is


def test_json_reconciles_with_csv(reports):
    doc = json.loads(reports["json"].read_text("utf-8"))["findings"]
    rows = _csv_rows(reports["csv"])

    def from_json(r):
        return tuple("" if v is None else (f"{v:g}" if isinstance(v, float) else str(v)) for v in r.values())

    def from_csv(r):
        out = []
        for v in r.values():
            if v[:2] in {"'" + c for c in FORMULA_START}:
                v = v[1:]
            out.append(f"{float(v):g}" if v.replace(".", "", 1).isdigit() and "." in v else v)
        return tuple(out)

    assert sorted(map(from_json, doc)) == sorted(map(from_csv, rows))
    total_json = sum(r["amount_at_risk"] or 0 for r in doc)
    total_csv = sum(float(r["amount_at_risk"] or 0) for r in rows)
    assert math.isclose(total_json, total_csv)
