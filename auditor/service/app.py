"""The scrub service: ``POST /scrub`` answers a verdict per claim, ``GET /health`` says it is ready.

Rules, reference data (as dict indexes) and dispositions load once, in :func:`create_app`; a request
only normalizes its lines and runs the per-claim engine. A malformed request gets a 4xx with the
reason (400 unreadable body, 413 too large, 415 unknown content type, 422 invalid lines), never a
500. Logs carry counts and timings, never claim data.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import time
from datetime import date
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import (BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, StringConstraints,
                      ValidationError, create_model)

from auditor import __version__
from auditor.claims.columns import CANONICAL, COMBINED
from auditor.findings import FINDING_COLUMNS
from auditor.scrub.core import Outcome, Scrubber
from auditor.scrub.verdicts import jsonable

log = logging.getLogger("auditor.service")

MAX_BODY = 16 * 1024 * 1024   # bytes
MAX_LINES = 20_000            # per request: one request is one unit, evaluated together
JSON_TYPES = ("application/json",)
X12_TYPES = ("application/edi-x12", "application/x12")

Scalar = StrictStr | StrictInt | StrictFloat | None
ClaimId = Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1)] | StrictInt
_fields: dict[str, Any] = {c: (Scalar, None) for c in CANONICAL if c != "claim_id"}
_fields["claim_id"] = (ClaimId, Field(..., description="Claim identifier (CLM01); lines with the same one form a claim"))
for _c in COMBINED:  # "59,RT" or ["59", "RT"] instead of modifier_1..4 / dx_1..12
    _fields[_c] = (StrictStr | list[StrictStr | None] | None, None)
Line = create_model("Line", __config__=ConfigDict(extra="forbid"), **_fields)
Line.__doc__ = ("One service line in the canonical columns (docs/DESIGN.md). Values are given as a claim file "
                "holds them; a value that does not parse becomes a data-quality finding, not an error.")


class ScrubRequest(BaseModel):
    """One request: the lines of one or more claims, evaluated together."""

    model_config = ConfigDict(extra="forbid")
    lines: list[Line] = Field(..., min_length=1, max_length=MAX_LINES)  # type: ignore[valid-type]


Finding = create_model("Finding", disposition=(str, ...), **{c: (Any, None) for c in FINDING_COLUMNS})


class Reason(BaseModel):
    verdict: str
    reason: str
    rule_ids: list[str]


class ClaimResult(BaseModel):
    claim_id: str | None
    verdict: str = Field(..., description="pass | warn | hold | reject")
    lines: int
    total_charge: float
    counts: dict[str, int]
    rule_ids: list[str]
    reasons: list[Reason]
    findings: list[Finding]  # type: ignore[valid-type]


class ScrubResponse(BaseModel):
    engine: str
    claims: list[ClaimResult]
    file_findings: list[dict] = Field(default_factory=list, description="findings not tied to a claim (X12 envelope)")


class Health(BaseModel):
    status: str
    engine: str
    notice: str | None = None
    rules: int
    rule_pack_hash: str
    dispositions: str
    refdata: dict[str, list[str]]


def build_scrubber(*, rule_dirs=(), refdata=None, default_rules: bool = True, select=None, ignore=None,
                   engine: str = "python", dispositions=None, as_of: date | None = None, rules=None,
                   store=None) -> Scrubber:
    """Load rules, reference data and dispositions, and build the engine's indexes (once)."""
    from pathlib import Path

    from auditor.audit import open_store
    from auditor.rules.loader import load_rules, select_rules
    from auditor.scrub.dispositions import load

    disp = load(dispositions, rule_dirs, default_rules)
    if rules is None:
        rules = select_rules(load_rules([Path(d) for d in rule_dirs], include_default=default_rules), select, ignore)
    store = store if store is not None else open_store(refdata)
    return Scrubber(rules, store, disp, engine=engine, as_of=as_of)


def _inline_defs(schema: dict) -> dict:
    """A pydantic JSON schema with its $defs inlined (OpenAPI resolves '#/...' from the document root)."""
    defs = schema.pop("$defs", {})

    def walk(x):
        if isinstance(x, dict):
            ref = x.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return walk(dict(defs[ref.split("/")[-1]]))
            return {k: walk(v) for k, v in x.items()}
        if isinstance(x, list):
            return [walk(v) for v in x]
        return x
    return walk(schema)


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def _body(request: Request) -> bytes:
    size = int(request.headers.get("content-length") or 0)
    if size > MAX_BODY:
        raise HTTPException(413, f"request body of {size:,} bytes is over the limit of {MAX_BODY:,}")
    chunks, total = [], 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > MAX_BODY:
            raise HTTPException(413, f"request body is over the limit of {MAX_BODY:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _validation_detail(exc: ValidationError) -> list[dict]:
    # no `input` in the answer or the logs: it would echo claim data
    return [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]}
            for e in exc.errors(include_url=False, include_context=False, include_input=False)]


def _answer(scrubber: Scrubber, outcome: Outcome) -> dict:
    return {"engine": scrubber.engine_name,
            "claims": [v.as_dict() for v in outcome.verdicts],
            "file_findings": [jsonable(f) for f in outcome.file_findings]}


def create_app(*, scrubber: Scrubber | None = None, **settings) -> FastAPI:
    """The FastAPI app; everything loads here, before the first request (settings: see build_scrubber)."""
    scrubber = scrubber or build_scrubber(**settings)
    from auditor.rules.loader import rule_pack_hash

    # The loaded rules and indexes live as long as the service: move them out of the garbage
    # collector's full scans (with a large PTP table those scans would be the p99 latency).
    gc.collect()
    gc.freeze()

    app = FastAPI(
        title="auditor scrub service", version=__version__,
        description="Pre-submission claim scrubbing: the auditor rule pack and reference data, one request at a "
                    "time. A request is one unit: claims sent together are checked against each other (duplicates, "
                    "NCCI pairs and MUE units across claims of a member); a claim cannot be checked against claims "
                    "that are not in the request.")
    app.state.scrubber = scrubber
    versions = {k: [v.version_id for v in scrubber.store.versions(k)] for k in sorted(scrubber.store.kinds())}
    health_doc = {"status": "ready", "engine": scrubber.engine_name, "notice": scrubber.notice,
                  "rules": len({r.id for r in scrubber.rules}), "rule_pack_hash": rule_pack_hash(scrubber.rules),
                  "dispositions": scrubber.dispositions.source, "refdata": versions}

    @app.get("/health", response_model=Health, summary="Ready: rules and reference data are loaded")
    def health() -> dict:
        return health_doc

    request_schema = _inline_defs(ScrubRequest.model_json_schema())

    @app.post(
        "/scrub", summary="Scrub claims: a verdict per claim with its findings",
        response_model=ScrubResponse,
        responses={400: {"description": "unreadable body (not JSON, not X12)"},
                   413: {"description": "body too large"}, 415: {"description": "unsupported content type"},
                   422: {"description": "the lines are not valid (field, reason)"}},
        openapi_extra={"requestBody": {"required": True, "content": {
            "application/json": {"schema": request_schema},
            "application/edi-x12": {"schema": {"type": "string", "description": "an ASC X12 5010 837P/837I"}}}}})
    async def scrub(request: Request):
        started = time.perf_counter()
        media = _media_type(request)
        if media not in JSON_TYPES + X12_TYPES:
            raise HTTPException(415, f"content type {media or '(none)'!r} is not accepted: send application/json "
                                     "({\"lines\": [...]}) or application/edi-x12 (an 837)")
        body = await _body(request)
        if not body.strip():
            raise HTTPException(400, "the request body is empty")
        if media in X12_TYPES:
            from auditor.errors import InputError
            from auditor.x12 import is_x12

            if not is_x12(body):
                raise HTTPException(400, "the body is not an ASC X12 interchange (it does not start with ISA)")
            try:
                outcome = await run_in_threadpool(scrubber.scrub_x12, body)
            except InputError as exc:
                raise HTTPException(400, str(exc)) from None
        else:
            try:
                doc = json.loads(body)
            except (ValueError, RecursionError) as exc:
                raise HTTPException(400, f"the body is not valid JSON: {str(exc)[:200]}") from None
            if not isinstance(doc, dict):
                raise HTTPException(422, 'the body must be a JSON object: {"lines": [{...}, ...]}')
            try:
                req = ScrubRequest.model_validate(doc)
            except ValidationError as exc:
                raise HTTPException(422, _validation_detail(exc)) from None
            except RecursionError:
                raise HTTPException(400, "the JSON body is nested too deeply") from None
            lines = [line.model_dump(exclude_unset=True) for line in req.lines]
            try:
                outcome = await run_in_threadpool(scrubber.scrub_lines, lines)
            except (OverflowError, ValueError) as exc:
                if scrubber.engine is not None:  # the per-claim path reads any value; this would be a bug
                    raise
                # the batch path's pandas normalizer refuses some values (e.g. dates beyond 2262)
                raise HTTPException(422, f"a value could not be read: {type(exc).__name__}") from None
        answer = _answer(scrubber, outcome)
        log.info("scrub: %d claims, %d lines, %s in %.1f ms", len(outcome.verdicts), outcome.lines,
                 ", ".join(f"{n} {k}" for k, n in _tally(outcome).items()), (time.perf_counter() - started) * 1e3)
        return JSONResponse(answer)

    return app


def _tally(outcome: Outcome) -> dict:
    out: dict[str, int] = {}
    for v in outcome.verdicts:
        out[v.verdict] = out.get(v.verdict, 0) + 1
    return out


SETTINGS_ENV = "AUDITOR_SERVE_SETTINGS"


def settings_env(**settings) -> dict[str, str]:
    """Settings for worker processes, passed in the environment (see app_from_env)."""
    return {SETTINGS_ENV: json.dumps({k: (v.isoformat() if isinstance(v, date) else v) for k, v in settings.items()})}


def app_from_env() -> FastAPI:
    """App factory for `uvicorn --factory` (several workers): settings from AUDITOR_SERVE_SETTINGS."""
    settings = json.loads(os.environ.get(SETTINGS_ENV, "{}"))
    if settings.get("as_of"):
        settings["as_of"] = date.fromisoformat(settings["as_of"])
    return create_app(**settings)
