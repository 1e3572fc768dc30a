"""Speed of read_837 / write_837 on generated files (not a test): ``python -m tests.x12.bench_read_837``.

Also times pyx12's own tokenizer on the same text, which is why the reader tokenizes itself.
"""

from __future__ import annotations

import argparse
import io
import os
import tempfile
import time

from auditor.x12 import read_837, write_837

from .gen837 import make_837


def best_of(n, fn):
    best = float("inf")
    out = None
    for _ in range(n):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--claims", type=int, default=50000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--pyx12", action="store_true", help="also time pyx12.x12file.X12Reader")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for inst in (False, True):
            kind = "837I" if inst else "837P"
            path = os.path.join(tmp, f"{kind}.837")
            data = make_837(a.claims, institutional=inst)
            with open(path, "wb") as fh:
                fh.write(data)
            segs = data.count(b"~")
            dt, res = best_of(a.repeat, lambda: read_837(path, kind))
            n_c, n_l = len(res.claims), len(res.lines)
            print(f"{kind} read : {n_c:,} claims, {n_l:,} lines, {segs:,} segments, {len(data) / 1e6:.1f} MB "
                  f"in {dt:.2f} s = {n_c / dt:,.0f} claims/s, {n_l / dt:,.0f} lines/s, {segs / dt:,.0f} segments/s")
            half = res.claims[::2]
            wt, _ = best_of(a.repeat, lambda: write_837(half, os.path.join(tmp, "out.837")))
            print(f"{kind} write: {len(half):,} claims in {wt:.2f} s = {len(half) / wt:,.0f} claims/s")
            if a.pyx12:
                import pyx12.x12file

                def tokenize():
                    n = 0
                    for seg in pyx12.x12file.X12Reader(io.StringIO(data.decode("latin-1"))):
                        seg.get_seg_id()
                        n += 1
                    return n

                pt, n = best_of(1, tokenize)
                print(f"{kind} pyx12 X12Reader tokenizing only: {n:,} segments in {pt:.2f} s = {n / pt:,.0f} segments/s")


if __name__ == "__main__":
    main()
