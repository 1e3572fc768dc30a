"""The scrub service through FastAPI's TestClient: answers, engines, and 4xx for every malformed body."""

import json
import random

import pytest
from scrub_data import AS_OF, EXPECTED
from fastapi.testclient import TestClient

from auditor.engine.perclaim import durable_available
from auditor.findings import FINDING_COLUMNS
from auditor.rules.examples import DEFAULT_LINE

ENGINES = ["python", "batch"] + (["durable"] if durable_available()[0] else [])


@pytest.fixture(scope="module")
def clients(sample_refdata):
    from auditor.service.app import create_app

    return {e: TestClient(create_app(refdata=sample_refdata, engine=e, as_of=AS_OF)) for e in ENGINES}


@pytest.fixture(scope="module")
def client(clients):
    return clients["python"]


def line(claim="A", n=1, **kw):
    return {**DEFAULT_LINE, "claim_id": claim, "line_number": n, **kw}


def verdicts(resp) -> dict:
    assert resp.status_code == 200, resp.text
    return {c["claim_id"]: c["verdict"] for c in resp.json()["claims"]}


def test_health(clients):
    for engine, c in clients.items():
        doc = c.get("/health").json()
        assert doc["status"] == "ready" and doc["engine"] == engine
        assert doc["rules"] > 30 and "ptp_practitioner" in doc["refdata"] and doc["dispositions"]


def test_json_lines(client):
    body = {"lines": [line("A", 1), line("B", 1, procedure_code="36415", units=1, charge=10.0),
                      line("B", 2, procedure_code="36416", modifiers=["59"], charge="10.00")]}
    r = client.post("/scrub", json=body)
    assert verdicts(r) == {"A": "pass", "B": "hold"}
    b = next(c for c in r.json()["claims"] if c["claim_id"] == "B")
    # (modifier 59 cannot bypass an indicator-0 pair; MOD005 notes that XS/XE/XP/XU is more specific)
    assert b["counts"] == {"error": 1, "warning": 0, "info": 1} and b["rule_ids"] == ["MOD005", "NCCI001"]
    assert b["lines"] == 2 and b["total_charge"] == 20.0
    assert b["reasons"][0]["rule_ids"] == ["NCCI001"]
    f = next(x for x in b["findings"] if x["rule_id"] == "NCCI001")
    assert set(FINDING_COLUMNS) | {"disposition"} == set(f)
    assert f["line_number"] == 2 and f["related_line"] == 1 and f["service_date"] == "2026-03-02"
    assert f["disposition"] == "hold" and len(f["fingerprint"]) == 16


def test_one_request_is_the_scope(client):
    """Claims sent together are checked against each other; a claim alone cannot be."""
    a, b = line("X", 1, procedure_code="36415"), line("Y", 1, procedure_code="36416")
    assert verdicts(client.post("/scrub", json={"lines": [a, b]})) == {"X": "pass", "Y": "hold"}
    assert verdicts(client.post("/scrub", json={"lines": [b]})) == {"Y": "pass"}


def test_837_body(client, claims_837):
    r = client.post("/scrub", content=claims_837.read_bytes(), headers={"content-type": "application/edi-x12"})
    assert verdicts(r) == EXPECTED


@pytest.mark.parametrize("engine", ENGINES[1:])
def test_engines_answer_alike(clients, claims_837, engine):
    body = {"lines": [line("A", 1), line("A", 2, units="two"), line("B", 1, procedure_code="36415"),
                      line("B", 2, procedure_code="36416"), line("C", 1, dx_1="E11", dx_2="E11")]}
    for kw in ({"json": body},
               {"content": claims_837.read_bytes(), "headers": {"content-type": "application/edi-x12"}}):
        want, got = clients["python"].post("/scrub", **kw), clients[engine].post("/scrub", **kw)
        assert got.status_code == want.status_code == 200
        assert got.json()["claims"] == want.json()["claims"] and got.json()["engine"] == engine


@pytest.mark.parametrize("body,ctype,status,reason", [
    (b"{bad json", "application/json", 400, "not valid JSON"),
    (b"", "application/json", 400, "empty"),
    (b"[" * 5000 + b"]" * 5000, "application/json", 400, "JSON"),
    (b'[{"claim_id": "A"}]', "application/json", 422, "lines"),
    (b'{"lines": []}', "application/json", 422, "at least 1"),
    (b'{"lines": {"claim_id": "A"}}', "application/json", 422, "list"),
    (b'{"lines": [{"line_number": 1}]}', "application/json", 422, "claim_id"),
    (b'{"lines": [{"claim_id": "  "}]}', "application/json", 422, "claim_id"),
    (b'{"lines": [{"claim_id": true}]}', "application/json", 422, "claim_id"),
    (b'{"lines": [{"claim_id": "A", "units": {"n": 1}}]}', "application/json", 422, "units"),
    (b'{"lines": [{"claim_id": "A", "dx_1": ["I10"]}]}', "application/json", 422, "dx_1"),
    (b'{"lines": [{"claim_id": "A", "colour": "red"}]}', "application/json", 422, "colour"),
    (b'{"lines": [{"claim_id": "A"}], "extra": 1}', "application/json", 422, "extra"),
    (b"UNB+UNOA:1+SENDER+RECEIVER'", "application/edi-x12", 400, "ISA"),
    (b"ISA*00*short", "application/edi-x12", 400, "X12"),
    (b"claim_id,units\nA,1\n", "text/csv", 415, "application/json"),
    (b'{"lines": [{"claim_id": "A"}]}', "", 415, "content type"),
])
def test_malformed_bodies_get_4xx_with_the_reason(client, body, ctype, status, reason):
    r = client.post("/scrub", content=body, headers={"content-type": ctype} if ctype else {})
    assert r.status_code == status, r.text
    assert reason in json.dumps(r.json()["detail"])


def test_validation_errors_do_not_echo_claim_data(client):
    r = client.post("/scrub", json={"lines": [{"claim_id": "A", "member_id": {"ssn": "123-45-6789"}}]})
    assert r.status_code == 422 and "123-45-6789" not in r.text


def test_values_that_do_not_parse_are_findings_not_errors(clients):
    body = json.dumps({"lines": [line("A", 1, service_date="9999-12-31", units=float("nan"), charge=float("inf"))]})
    for engine in ("python",) + (("durable",) if "durable" in clients else ()):
        r = clients[engine].post("/scrub", content=body, headers={"content-type": "application/json"})
        assert verdicts(r) == {"A": "reject"}
        assert "DQ002" in r.json()["claims"][0]["rule_ids"]


def test_too_large(client, monkeypatch):
    import auditor.service.app as app

    monkeypatch.setattr(app, "MAX_BODY", 100)
    r = client.post("/scrub", json={"lines": [line("A", n) for n in range(1, 5)]})
    assert r.status_code == 413


def test_fuzzed_bodies_never_get_a_500(client, claims_837):
    rnd = random.Random(11)
    good_json = json.dumps({"lines": [line("A", 1), line("B", 2, procedure_code="36415")]}).encode()
    good_x12 = claims_837.read_bytes()
    for _ in range(120):
        base, ctype = rnd.choice([(good_json, "application/json"), (good_x12, "application/edi-x12")])
        data = bytearray(base)
        for _ in range(rnd.randint(1, 6)):
            i = rnd.randrange(len(data))
            op = rnd.random()
            if op < 0.4:
                data[i] = rnd.randrange(256)
            elif op < 0.7:
                del data[i:i + rnd.randint(1, 40)]
            else:
                data[i:i] = bytes(rnd.choice([b"*", b"~", b":", b"\"", b"{", b"]", b"ISA", b"\x00", b"9" * 30]))
        r = client.post("/scrub", content=bytes(data), headers={"content-type": ctype})
        assert r.status_code < 500, (r.status_code, r.text[:300])


def test_openapi(client):
    doc = client.get("/openapi.json").json()
    post = doc["paths"]["/scrub"]["post"]
    assert set(post["requestBody"]["content"]) == {"application/json", "application/edi-x12"}
    schema = post["requestBody"]["content"]["application/json"]["schema"]
    assert "$defs" not in json.dumps(schema) and "claim_id" in json.dumps(schema)
    assert "ScrubResponse" in doc["components"]["schemas"] and "/health" in doc["paths"]
    assert {"400", "413", "415", "422"} <= set(post["responses"])


def test_worker_processes_build_the_same_app(sample_refdata, monkeypatch):
    """`auditor serve --workers N`: each worker builds its app from settings in the environment."""
    from auditor.service.app import app_from_env, settings_env

    for k, v in settings_env(refdata=str(sample_refdata), engine="python", as_of=AS_OF, select=["NCCI"]).items():
        monkeypatch.setenv(k, v)
    c = TestClient(app_from_env())
    doc = c.get("/health").json()
    assert doc["engine"] == "python" and doc["rules"] == 2  # NCCI001, NCCI002
    body = {"lines": [line("A", 1, procedure_code="36415"), line("A", 2, procedure_code="36416")]}
    assert verdicts(c.post("/scrub", json=body)) == {"A": "hold"}


def test_serve_command_is_registered():
    from click.testing import CliRunner

    from auditor.cli import cli

    res = CliRunner().invoke(cli, ["serve", "--help"])
    assert res.exit_code == 0 and "--refdata" in res.output and "--engine" in res.output
