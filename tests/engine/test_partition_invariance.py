"""Scale-out: the batch engine on claims partitioned by member gives the findings of one run.

A later step runs ``evaluate`` per partition (Spark applyInPandas by hash(member) % N); this
checks on a small generated data set (every kind of injected error, default rule pack, synthetic
NCCI/MUE tables) that the union of the partitions' findings is the single run's, column for column.
"""

from __future__ import annotations

import importlib.util
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from auditor.audit import read_claims
from auditor.engine.batch import evaluate
from auditor.refdata.store import RefStore
from auditor.rules.loader import load_rules

ROOT = Path(__file__).resolve().parents[2]


def _bench_module(name: str):
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


generate = _bench_module("generate")
partitions = _bench_module("bench_partitions")


@pytest.fixture(scope="module")
def audit_input(tmp_path_factory):
    out = tmp_path_factory.mktemp("partitions")
    generate.write_refdata(out, seed=11, ptp_pairs=20_000)
    table, manifest = generate.generate(5_000, seed=11)
    pq.write_table(table, out / "claims.parquet")
    lines, _, _ = read_claims([out / "claims.parquet"])
    store = RefStore(out / "refdata", builtin=True)
    return lines, load_rules([], include_default=True), store, date.fromisoformat(manifest["as_of"])


def test_union_of_partitions_equals_the_single_run(audit_input):
    lines, rules, store, as_of = audit_input
    single, _, _ = evaluate(lines, rules, store, as_of=as_of)
    union, _ = partitions.split_evaluate(lines, rules, store, 4, as_of)
    # The data has findings of the member-scoped kinds that partitioning could break.
    found = set(single["rule_id"])
    assert {"DUP001", "MUE002", "NCCI001", "IC001", "DQ003", "TF001"} <= found, sorted(found)
    assert partitions.compare(single, union) == []


def test_every_claim_stays_in_one_partition(audit_input):
    lines = audit_input[0]
    part = partitions.partition_ids(lines, 4)
    per_claim = lines.assign(_p=part).groupby("claim_id")["_p"].nunique()
    assert (per_claim == 1).all()
    assert (np.bincount(part, minlength=4) > 0).all()
