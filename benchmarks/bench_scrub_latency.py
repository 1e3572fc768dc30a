"""Per-claim scrub latency: one 10-line claim per request, the full default rule pack.

    python benchmarks/bench_scrub_latency.py [--refdata DIR] [--requests 2000] [--batch-requests 60]

Measures, for each engine (python, durable, and the batch engine on one claim for contrast):

* in-process  - ``Scrubber.scrub_lines`` (normalize, evaluate, verdict): what a request costs the server;
* ASGI        - the FastAPI app called directly (JSON body in, JSON answer out), no network;
* TestClient  - the same through fastapi's TestClient (httpx + a thread portal: client-side overhead included).

Reference data: --refdata DIR, or the SAMPLE files of examples/refdata imported into a temporary
folder. Not a test: numbers depend on the machine (and on what else runs on it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from datetime import date

LINES = [  # one professional claim, 10 lines (invented values)
    ("99214", "25", None, 1, 180.0), ("20610", "RT", None, 1, 250.0), ("20604", "LT", None, 1, 200.0),
    ("36415", None, None, 1, 15.0), ("80053", None, None, 1, 40.0), ("85025", None, None, 1, 25.0),
    ("93000", None, None, 1, 60.0), ("97110", "GP", None, 3, 90.0), ("97140", "GP", "59", 2, 70.0),
    ("J1100", None, None, 4, 20.0),
]


def claim(n: int) -> list[dict]:
    return [{"claim_id": f"BENCH{n}", "line_number": i + 1, "claim_type": "professional", "member_id": f"M{n % 50}",
             "member_birth_date": "1958-07-04", "member_sex": "F", "billing_npi": "1234567893",
             "rendering_npi": "1912301953", "place_of_service": "11", "service_date": "2026-03-02",
             "received_date": "2026-03-10", "procedure_code": code, "modifier_1": m1, "modifier_2": m2,
             "units": units, "charge": charge, "dx_1": "M17.11", "dx_2": "E11.9", "dx_3": "I10", "dx_4": "Z79.4",
             "payer": "MEDICARE"} for i, (code, m1, m2, units, charge) in enumerate(LINES)]


def pct(samples: list[float], q: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, int(q * len(s)))] * 1e3


def timed(fn, n: int, warmup: int) -> dict:
    """Wall-clock and CPU time of this process per call (all its threads: the app's thread pool and
    TestClient's portal included). CPU time is not inflated by other processes on the machine."""
    for i in range(warmup):
        fn(i)
    wall, cpu = [], []
    for i in range(n):
        t, c = time.perf_counter(), time.process_time()
        fn(warmup + i)
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - t)
    return summary(wall, cpu)


def summary(wall: list[float], cpu: list[float]) -> dict:
    return {"n": len(wall), "p50": pct(wall, 0.5), "p99": pct(wall, 0.99), "mean": statistics.fmean(wall) * 1e3,
            "cpu50": pct(cpu, 0.5), "cpu99": pct(cpu, 0.99)}


def asgi_timed(app, bodies: list[bytes], n: int, warmup: int) -> dict:
    """POST /scrub straight into the ASGI app (as uvicorn hands it a request), timed inside one
    running event loop so the app's thread pool stays warm, as in a server."""

    async def call(body: bytes):
        sent = []

        async def receive():
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                 "scheme": "http", "path": "/scrub", "raw_path": b"/scrub", "query_string": b"", "root_path": "",
                 "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
                 "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 8080), "state": {}}
        await app(scope, receive, send)
        assert sent[0]["status"] == 200, sent
        return json.loads(b"".join(m.get("body", b"") for m in sent[1:]))

    async def run():
        for i in range(warmup):
            await call(bodies[i])
        wall, cpu = [], []
        for i in range(n):
            t, c = time.perf_counter(), time.process_time()
            await call(bodies[warmup + i])
            cpu.append(time.process_time() - c)
            wall.append(time.perf_counter() - t)
        return wall, cpu

    wall, cpu = asyncio.run(run())
    return summary(wall, cpu)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--refdata", help="reference-data folder (default: the imported SAMPLE files)")
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--batch-requests", type=int, default=60)
    ap.add_argument("--engines", default="python,durable,batch")
    args = ap.parse_args()

    from fastapi.testclient import TestClient

    from auditor.engine.perclaim import durable_available
    from auditor.engine.perclaim.samples import import_example_refdata
    from auditor.service.app import create_app

    refdata = args.refdata or str(import_example_refdata(tempfile.mkdtemp(prefix="bench-refdata-")))
    engines = [e for e in args.engines.split(",") if e != "durable" or durable_available()[0]]
    rows = []
    for engine in engines:
        t = time.perf_counter()
        app = create_app(refdata=refdata, engine=engine, as_of=date(2026, 11, 26))
        startup = time.perf_counter() - t
        scrubber = app.state.scrubber
        n = args.requests if engine != "batch" else args.batch_requests
        warm = max(20, n // 10)
        bodies = [json.dumps({"lines": claim(i)}).encode() for i in range(n + warm)]
        answer = scrubber.scrub_lines(claim(0))
        findings = sum(sum(v.counts.values()) for v in answer.verdicts)
        rows.append((engine, "in-process", startup, findings, timed(lambda i: scrubber.scrub_lines(claim(i)), n, warm)))
        rows.append((engine, "ASGI app", startup, findings, asgi_timed(app, bodies, n, warm)))
        client = TestClient(app)
        rows.append((engine, "TestClient", startup, findings,
                     timed(lambda i: client.post("/scrub", content=bodies[i],
                                                 headers={"content-type": "application/json"}), n, warm)))
        scrubber.close()
    print(f"\n10-line claim, {len({r.id for r in scrubber.rules})} rules, reference data: {refdata}")
    print(f"{'engine':<8} {'path':<11} {'startup s':>9} {'findings':>8} {'requests':>8} {'p50 ms':>8} "
          f"{'p99 ms':>8} {'mean ms':>8} {'cpu p50':>8} {'cpu p99':>8}")
    for engine, path, startup, findings, s in rows:
        cpu = f"{s['cpu50']:>8.3f} {s['cpu99']:>8.3f}"
        print(f"{engine:<8} {path:<11} {startup:>9.2f} {findings:>8} {s['n']:>8} {s['p50']:>8.3f} {s['p99']:>8.3f} "
              f"{s['mean']:>8.3f} {cpu}")


if __name__ == "__main__":
    main()
