"""Partition invariance: the batch engine gives the same findings on any partition of claims by member.

    python benchmarks/bench_partitions.py                 # 100k lines, 8 partitions
    python benchmarks/bench_partitions.py --lines 1000000 --partitions 16

A scale-out run (Spark ``groupBy(key).applyInPandas``, Dask, one process per shard) evaluates
each partition on its own and concatenates the findings. That is only correct when every scope a
rule looks across (claim, member + provider + date, member history) lies inside one partition.
This script splits the generated data by ``hash(member) % N``, runs ``evaluate`` on every part
and checks that the union of the findings equals the single-run findings, fingerprint for
fingerprint and column for column; it also prints the time per partition.

The partition key is the claim's member (the first non-empty member_id on the claim), not each
line's own member_id: a line whose member_id is empty or wrong stays with its claim, so
claim-level rules still see the whole claim. Lines without a claim id go by their member_id.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def partition_key(lines: pd.DataFrame) -> pd.Series:
    """The member that owns each line's claim (first non-empty member_id of the claim), as text."""
    claim_member = lines.groupby("claim_id", sort=False, dropna=True)["member_id"].transform("first")
    key = claim_member.where(lines["claim_id"].notna(), lines["member_id"])
    return key.where(key.notna(), lines["member_id"]).astype(object)


def partition_ids(lines: pd.DataFrame, n: int) -> np.ndarray:
    """hash(key) % n with a hash that is the same on every machine and run (pandas' fixed-key siphash)."""
    key = partition_key(lines).fillna("\x00<no member>")
    h = pd.util.hash_pandas_object(key, index=False).to_numpy(dtype=np.uint64)
    return (h % np.uint64(n)).astype(np.int64)


def split_evaluate(lines: pd.DataFrame, rules, store, n: int, as_of: date) -> tuple[pd.DataFrame, list[float]]:
    from auditor.engine.batch import evaluate

    part = partition_ids(lines, n)
    pieces, times = [], []
    for i in range(n):
        sub = lines[part == i]
        t0 = time.perf_counter()
        f, _, _ = evaluate(sub, rules, store, as_of=as_of)
        times.append(time.perf_counter() - t0)
        pieces.append(f)
    return pd.concat(pieces, ignore_index=True), times


def canonical(findings: pd.DataFrame) -> pd.DataFrame:
    """Findings in an order that does not depend on how the run was split."""
    keys = ["fingerprint", "rule_id", "claim_id", "line_number", "related_line", "message"]
    return findings.sort_values(keys, na_position="first", kind="stable").reset_index(drop=True)


def compare(single: pd.DataFrame, union: pd.DataFrame) -> list[str]:
    """Differences between the single run and the union of the partitions (empty = identical)."""
    problems = []
    a, b = single["fingerprint"].value_counts(), union["fingerprint"].value_counts()
    diff = a.sub(b, fill_value=0)
    diff = diff[diff != 0]
    if len(diff):
        only_single = single[single["fingerprint"].isin(diff[diff > 0].index)]
        only_union = union[union["fingerprint"].isin(diff[diff < 0].index)]
        problems.append(f"{len(diff)} fingerprints differ: single-run only {only_single['rule_id'].value_counts().to_dict()}, "
                        f"partitions only {only_union['rule_id'].value_counts().to_dict()}")
        return problems
    try:
        pd.testing.assert_frame_equal(canonical(single), canonical(union))
    except AssertionError as exc:
        problems.append(f"same fingerprints but different rows: {str(exc).splitlines()[0]}")
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lines", type=lambda s: int(s.replace("_", "")), default=100_000)
    ap.add_argument("--partitions", type=int, default=8)
    ap.add_argument("--data", type=Path, default=HERE / "data")
    a = ap.parse_args(argv)

    import generate
    from auditor.audit import read_claims
    from auditor.engine.batch import evaluate
    from auditor.refdata.store import RefStore
    from auditor.rules.loader import load_rules

    man = generate.ensure(a.lines, a.data)
    lines, _, _ = read_claims([man["files"]["parquet"]])
    rules = load_rules([], include_default=True)
    store = RefStore(Path(man["refdata_dir"]), builtin=True)
    as_of = date.fromisoformat(man["as_of"])
    evaluate(lines.head(1000), rules, store, as_of=as_of)  # reference tables read once
    t0 = time.perf_counter()
    single, _, _ = evaluate(lines, rules, store, as_of=as_of)
    t_single = time.perf_counter() - t0
    union, times = split_evaluate(lines, rules, store, a.partitions, as_of)
    sizes = np.bincount(partition_ids(lines, a.partitions), minlength=a.partitions)
    print(f"{len(lines):,} lines, {len({r.id for r in rules})} rules: single run {t_single:.2f} s, "
          f"{len(single):,} findings")
    print(f"{a.partitions} partitions by hash(claim member) % {a.partitions}: lines per partition "
          f"{sizes.min():,}-{sizes.max():,}; {sum(times):.2f} s in all ({', '.join(f'{t:.2f}' for t in times)}), "
          f"{len(union):,} findings")
    problems = compare(single, union)
    if problems:
        print("NOT partition invariant:")
        for p in problems:
            print("  " + p)
        return 1
    print("partition invariant: the union of the partitions' findings equals the single run "
          "(every fingerprint, every column)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
