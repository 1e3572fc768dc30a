"""Realistic synthetic claims and a matching synthetic reference set (NCCI PTP, MUE), for benchmarks.

    python benchmarks/generate.py --lines 1000000 --out benchmarks/data

writes, into --out:

    claims_<lines>.csv, claims_<lines>.parquet   the same lines in both formats (every column as text,
                                                 so unparseable values survive in both)
    claims_<lines>.json                          what was generated: seed, as-of date, injected errors
    refdata/                                     a reference-data store (catalog.json + parquet tables):
                                                 ptp_practitioner, ptp_hospital (~1 M pairs each by
                                                 default, the real files' scale), mue_practitioner and
                                                 mue_hospital (four quarterly versions) for every code
    refdata.json                                 how the store was made (skipped when it matches)

Everything is drawn with numpy from one seed, so a (seed, lines) pair always gives the same bytes.
Text columns are built as Arrow dictionary lookups (`values.take(indices)`), never per row in Python:
1 M lines take a few seconds, most of it writing the files.

The data is SYNTHETIC: codes are real CPT/HCPCS/ICD-10-CM codes, but the PTP pairs, MUE values,
members, providers (NPIs pass the Luhn check, they are not real providers) and charges are made up.

Audit date: use --as-of from the manifest (default 2026-10-31); dates of service fall in FY2026
(2025-10-01 .. 2026-09-30), the fiscal year of the built-in ICD-10-CM code set.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

WINDOW = (date(2025, 10, 1), date(2026, 9, 30))
AS_OF = date(2026, 10, 31)
EPOCH = np.datetime64("1970-01-01", "D")

# ---------------------------------------------------------------------------------------------
# Code lists. (code, base charge $, MUE value, MAI, typical max units). Order = how common the code
# is within its group (Zipf-like weights follow the order).

EM_OFFICE = [("99213", 110, 1, 2, 1), ("99214", 165, 1, 2, 1), ("99212", 75, 1, 2, 1), ("99215", 230, 1, 2, 1),
             ("99203", 115, 1, 2, 1), ("99204", 175, 1, 2, 1), ("99211", 25, 1, 2, 1), ("99202", 75, 1, 2, 1),
             ("99205", 230, 1, 2, 1), ("99396", 170, 1, 2, 1), ("99397", 180, 1, 2, 1), ("G0439", 130, 1, 2, 1),
             ("99395", 160, 1, 2, 1), ("G0438", 175, 1, 2, 1), ("99232", 100, 1, 2, 1), ("99231", 65, 1, 2, 1),
             ("99233", 150, 1, 2, 1), ("99223", 270, 1, 2, 1), ("99222", 200, 1, 2, 1), ("99308", 90, 1, 2, 1),
             ("99309", 125, 1, 2, 1), ("99214", 165, 1, 2, 1)]
EM_ED = [("99284", 260, 1, 2, 1), ("99283", 160, 1, 2, 1), ("99285", 390, 1, 2, 1), ("99282", 90, 1, 2, 1),
         ("99281", 45, 1, 2, 1), ("99291", 560, 1, 2, 1)]
LAB = [("36415", 10, 2, 2, 1), ("80053", 25, 1, 2, 1), ("85025", 18, 1, 2, 1), ("80061", 30, 1, 2, 1),
       ("83036", 22, 1, 2, 1), ("84443", 35, 1, 2, 1), ("80048", 20, 1, 2, 1), ("81003", 8, 2, 2, 1),
       ("82306", 70, 1, 2, 1), ("82570", 12, 2, 3, 1), ("82043", 14, 1, 2, 1), ("87086", 20, 3, 1, 1),
       ("85610", 10, 2, 3, 1), ("84439", 22, 1, 2, 1), ("82947", 9, 3, 3, 1), ("87880", 30, 2, 3, 1),
       ("87804", 32, 3, 3, 1), ("81001", 10, 2, 2, 1), ("83540", 18, 2, 3, 1), ("82728", 33, 1, 2, 1),
       ("84153", 45, 1, 2, 1), ("85027", 15, 1, 2, 1), ("87491", 85, 1, 2, 1), ("87591", 85, 1, 2, 1),
       ("86580", 15, 1, 2, 1), ("80076", 20, 1, 2, 1), ("82565", 12, 2, 3, 1), ("87635", 90, 1, 2, 1)]
THERAPY = [("97110", 45, 6, 2, 4), ("97140", 40, 4, 2, 3), ("97530", 48, 6, 2, 3), ("97112", 46, 4, 2, 3),
           ("97116", 42, 4, 2, 2), ("97161", 110, 1, 2, 1), ("97162", 115, 1, 2, 1), ("97164", 80, 1, 2, 1),
           ("97535", 45, 6, 2, 3), ("G0283", 18, 1, 2, 1), ("97035", 20, 2, 1, 1), ("97163", 120, 1, 2, 1),
           ("92507", 95, 1, 2, 1), ("97165", 110, 1, 2, 1), ("97750", 50, 8, 2, 4), ("97010", 8, 1, 2, 1)]
IMAGING = [("71046", 60, 2, 3, 1), ("93000", 30, 3, 3, 1), ("73562", 55, 2, 3, 1), ("72100", 60, 2, 3, 1),
           ("71045", 45, 4, 3, 1), ("73030", 50, 2, 3, 1), ("73610", 50, 2, 3, 1), ("93306", 300, 1, 2, 1),
           ("77067", 180, 1, 2, 1), ("74177", 520, 1, 3, 1), ("70450", 240, 2, 3, 1), ("72148", 600, 2, 3, 1),
           ("76700", 190, 1, 3, 1), ("70551", 590, 1, 3, 1), ("73721", 620, 3, 3, 1), ("76856", 180, 1, 3, 1),
           ("93005", 15, 3, 3, 1), ("93010", 12, 5, 1, 1), ("78452", 950, 1, 2, 1), ("76536", 160, 2, 3, 1)]
INJECTION = [("96372", 25, 4, 1, 1), ("J1100", 2, 120, 3, 10), ("90471", 25, 1, 2, 1), ("20610", 90, 2, 1, 1),
             ("90686", 30, 1, 2, 1), ("J3301", 3, 24, 3, 8), ("90472", 15, 4, 2, 2), ("G0008", 30, 1, 2, 1),
             ("J1030", 8, 8, 3, 2), ("96374", 70, 1, 2, 1), ("J0696", 2, 40, 3, 4), ("90732", 120, 1, 2, 1),
             ("96365", 150, 1, 2, 1), ("96375", 40, 6, 3, 2), ("J7030", 6, 10, 3, 2), ("J2001", 3, 40, 3, 10),
             ("20611", 120, 2, 1, 1), ("J1885", 2, 8, 3, 4), ("20552", 80, 1, 1, 1), ("90670", 260, 1, 2, 1),
             ("J0897", 1200, 120, 3, 60), ("96366", 40, 8, 3, 2), ("J1745", 90, 150, 3, 40), ("90662", 70, 1, 2, 1)]
SURGERY = [("11721", 55, 1, 2, 1), ("17000", 70, 1, 2, 1), ("17003", 12, 13, 2, 6), ("11042", 140, 1, 1, 1),
           ("11055", 40, 1, 2, 1), ("17110", 110, 1, 2, 1), ("45378", 650, 1, 2, 1), ("45385", 820, 1, 2, 1),
           ("45380", 760, 1, 2, 1), ("43239", 700, 1, 2, 1), ("66984", 1650, 1, 2, 1), ("64483", 500, 1, 1, 1),
           ("64493", 420, 1, 1, 1), ("29881", 1900, 1, 2, 1), ("11102", 120, 1, 2, 1), ("11104", 130, 1, 2, 1),
           ("10060", 150, 1, 2, 1), ("12001", 140, 1, 2, 1), ("69210", 60, 1, 2, 1), ("20550", 80, 2, 1, 1),
           ("11056", 45, 1, 2, 1), ("52000", 400, 1, 2, 1), ("31231", 260, 1, 2, 1), ("27447", 3600, 1, 2, 1),
           ("62323", 450, 1, 2, 1), ("36556", 500, 2, 3, 1), ("11200", 90, 1, 2, 1), ("29125", 120, 1, 1, 1),
           ("47562", 2400, 1, 2, 1), ("28285", 900, 4, 2, 1)]

GROUPS = {"em": EM_OFFICE, "ed": EM_ED, "lab": LAB, "ther": THERAPY, "img": IMAGING, "inj": INJECTION,
          "surg": SURGERY}
GROUP_NAMES = list(GROUPS)

# Specialties: share of providers, lines-per-claim weights (1..6), first-line and other-line
# category weights (in GROUP_NAMES order: em ed lab ther img inj surg).
SPECIALTIES = {
    "primary_care": (0.42, [.30, .25, .19, .13, .08, .05], [.93, 0, .03, 0, 0, .04, 0], [.03, 0, .56, .02, .1, .24, .05]),
    "surgery":      (0.12, [.45, .30, .13, .07, .03, .02], [.45, 0, 0, 0, 0, .05, .5], [.05, 0, .05, 0, .15, .25, .5]),
    "therapy":      (0.12, [.10, .25, .35, .2, .07, .03], [0, 0, 0, 1, 0, 0, 0], [0, 0, 0, 1, 0, 0, 0]),
    "radiology":    (0.10, [.65, .22, .08, .03, .01, .01], [0, 0, 0, 0, 1, 0, 0], [0, 0, 0, 0, .9, .1, 0]),
    "laboratory":   (0.06, [.20, .20, .20, .18, .12, .10], [0, 0, 1, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0, 0]),
    "emergency":    (0.08, [.20, .25, .2, .15, .12, .08], [0, 1, 0, 0, 0, 0, 0], [0, 0, .38, 0, .32, .25, .05]),
    "facility":     (0.10, [.15, .20, .20, .20, .15, .10], [.3, .1, .15, 0, .25, .05, .15], [.05, 0, .4, .05, .2, .2, .1]),
}

THERAPY_MODS = ["GP", "GO", "GN"]
SIDE_CODES = {"73030", "73562", "73610", "73721", "20610", "20611", "29881", "27447", "64483", "28285", "66984"}
WAIVED = {"87804", "87880", "82947", "85610", "81003"}
PRIMARY_DX = ["I10", "E119", "E785", "Z0000", "M5450", "J069", "Z23", "R051", "E039", "K219", "F329", "F419",
              "N390", "R109", "M1711", "G4733", "Z1231", "E1165", "I2510", "J449", "N183", "E6601", "R739",
              "Z79899", "D649", "E559", "R079", "M25561", "J029", "H6690", "R42", "R0602", "I4891", "M170",
              "Z1211", "E782", "M545", "E11", "Z7901", "M810", "R5383", "G8929", "Z01419", "B349", "L03116",
              "S8001XA", "M79604", "R197", "K5900", "N400"]

# PTP pairs among codes that appear on claims (column 1, column 2, modifier indicator): the
# realistic ones; plus every E/M code as column 2 of the minor procedures (indicator 1).
CURATED_PAIRS = [
    ("80053", "80048", 0), ("80053", "82947", 0), ("80053", "82565", 0), ("80048", "82947", 0),
    ("80048", "82565", 0), ("85025", "85027", 0), ("81001", "81003", 0), ("93000", "93005", 0),
    ("93000", "93010", 0), ("71046", "71045", 0), ("20611", "20610", 0), ("45385", "45380", 1),
    ("45385", "45378", 1), ("45380", "45378", 1), ("97140", "97530", 1), ("97530", "97116", 1),
    ("97161", "97110", 1), ("97162", "97140", 1), ("97163", "97530", 1), ("97164", "97110", 1),
    ("96365", "96374", 1), ("96365", "96372", 1), ("96374", "96372", 1), ("96365", "96375", 1),
    ("11042", "11721", 1), ("11042", "11055", 1), ("17110", "17000", 1), ("11102", "11200", 1),
    ("29881", "20610", 1), ("64483", "62323", 1), ("64493", "20552", 1), ("66984", "69210", 1),
    ("43239", "45378", 9), ("36556", "96374", 1), ("31231", "69210", 1), ("52000", "81003", 1),
    ("93306", "93000", 1), ("78452", "93000", 1), ("74177", "76700", 1), ("72148", "72100", 1),
    ("77067", "76536", 9), ("99291", "36556", 1), ("99291", "93010", 1), ("99291", "71045", 1),
    ("G0439", "99397", 0), ("G0438", "99397", 0), ("99397", "99213", 1), ("99396", "99213", 1),
    ("90471", "96372", 1), ("90686", "90662", 0),
]
MINOR_PROCEDURES = ["20610", "20611", "20552", "20550", "11721", "11055", "11056", "17000", "17110", "11042",
                    "10060", "12001", "69210", "11102", "11104", "11200", "96372"]
RATIONALES = ["Misuse of column two code with column one code", "Standards of medical / surgical practice",
              "CPT Manual or CMS manual coding instructions", "Mutually exclusive procedures",
              "HCPCS/CPT procedure code definition", "More extensive procedure", "Sequential procedure",
              "Laboratory panel"]
MUE_RATIONALES = ["Clinical: Data", "CMS Policy", "Anatomic Consideration", "Nature of Service/Procedure",
                  "Code Descriptor / CPT Instruction", "Prescribing Information", "Nature of Equipment"]
MAI_TEXT = {1: "1 Line Edit", 2: "2 Date of Service Edit: Policy", 3: "3 Date of Service Edit: Clinical"}
NCCI_BYPASS = {"59", "XE", "XS", "XP", "XU", "24", "25", "57", "58", "78", "79", "27", "91", "E1", "E2", "E3",
               "E4", "FA", "F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9", "TA", "T1", "T2", "T3", "T4",
               "T5", "T6", "T7", "T8", "T9", "LT", "RT", "LC", "LD", "RC", "LM", "RI"}

# Error kinds injected into the claims, as a rate per claim (c) or per line (l). Each is counted in
# the manifest; the default rule pack raises a finding for every one of them.
INJECT = {
    "duplicate_claim": ("c", 0.004),       # DUP001: the whole claim submitted again, later
    "duplicate_line": ("c", 0.002),        # DUP001: a line repeated within its claim
    "ncci_pair": ("c", 0.004),             # NCCI001/2: column 1 + column 2 code, no bypass modifier
    "mue_excess": ("l", 0.0015),           # MUE001-4: units above the MUE value
    "invalid_dx": ("c", 0.0015),           # IC001: a code not in ICD-10-CM
    "header_dx": ("c", 0.0015),            # IC002: a category header (E11, I25, ...)
    "bad_billing_npi": ("c", 0.001),       # DQ003
    "bad_rendering_npi": ("c", 0.0005),    # DQ009
    "late_filing": ("c", 0.002),           # TF001: received > 365 days after service
    "future_date": ("c", 0.0005),          # DQ007 (+DQ006): year typo, service next year
    "service_after_received": ("c", 0.0005),  # DQ006
    "date_range": ("l", 0.0002),           # DQ008: service_date_to before service_date
    "unparseable": ("l", 0.001),           # DQ002: units, charge, dates, sex, line number as bad text
    "missing_required": ("l", 0.0005),     # DQ001: empty dx_1 / units / procedure code / charge
    "bad_code_form": ("l", 0.0002),        # IC003 / IC004
    "zero_units": ("l", 0.0002),           # DQ004
    "negative_charge": ("l", 0.0001),      # DQ005
    "sex_conflict": ("c", 0.0008),         # SEX001: a Female_Only diagnosis for a man, Male_Only for a woman
    "age_conflict": ("c", 0.0008),         # AGE001: a Pediatric_Only diagnosis for an adult
}


# ---------------------------------------------------------------------------------------------
# helpers

def zipf_weights(n: int, s: float = 1.1) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** s
    return w / w.sum()


def pick(rng: np.random.Generator, weights: np.ndarray, size: int) -> np.ndarray:
    """Indices drawn with the given weights (inverse CDF, vectorized)."""
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    return np.minimum(np.searchsorted(cdf, rng.random(size), side="right"), len(weights) - 1)


def isin(values: np.ndarray, items) -> np.ndarray:
    """Membership test by hashing (numpy's isin on object arrays compares every pair)."""
    return pd.Series(values).isin(list(items)).to_numpy()


def luhn_npi(body9: np.ndarray) -> np.ndarray:
    """9-digit bodies (int) -> full 10-digit NPIs (int) with the Luhn check digit over 80840 + body."""
    digits = (body9[:, None] // 10 ** np.arange(8, -1, -1)) % 10
    doubled = digits[:, ::2] * 2
    doubled = doubled - 9 * (doubled > 9)
    total = 24 + doubled.sum(axis=1) + digits[:, 1::2].sum(axis=1)
    return body9 * 10 + (10 - total % 10) % 10


def strings(values) -> pa.Array:
    return pa.array(list(values), type=pa.string())


def take(dictionary: pa.Array, idx: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """dictionary[idx] as an Arrow string array; null where `null` (or idx < 0)."""
    idx = np.asarray(idx)
    mask = idx < 0 if null is None else (null | (idx < 0))
    return dictionary.take(pa.array(np.where(mask, 0, idx), mask=mask))


def put(arr: pa.Array, where: np.ndarray, values) -> pa.Array:
    """arr with the positions `where` replaced by `values` (strings or None)."""
    if len(where) == 0:
        return arr
    mask = np.zeros(len(arr), dtype=bool)
    mask[where] = True
    order = np.argsort(where, kind="stable")
    vals = np.asarray(values, dtype=object)
    vals = np.broadcast_to(vals, (len(where),)) if vals.ndim == 0 else vals
    return pc.replace_with_mask(arr, pa.array(mask), pa.array(list(vals[order]), type=arr.type))


def day_strings(days: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    a = pa.array((EPOCH + days.astype("timedelta64[D]")), type=pa.date32(), mask=null)
    return a.cast(pa.string())


# ---------------------------------------------------------------------------------------------
# code universe (shared by claims and reference data)

class Codes:
    def __init__(self):
        rows = []
        for g, lst in GROUPS.items():
            seen = set()
            for rank, (code, charge, mue, mai, umax) in enumerate(lst):
                if code in seen:
                    continue
                seen.add(code)
                rows.append((g, code, charge, mue, mai, umax, rank))
        self.table = pd.DataFrame(rows, columns=["group", "code", "charge", "mue", "mai", "umax", "rank"])
        # A code may sit in two groups (never here); the claim-code index is per unique code.
        self.claim_codes = list(dict.fromkeys(self.table["code"]))
        self.index = {c: i for i, c in enumerate(self.claim_codes)}
        self.by_group = {g: self.table[self.table["group"] == g].reset_index(drop=True) for g in GROUP_NAMES}


def background_codes(rng: np.random.Generator, claim_codes: set[str], n_numeric: int = 11000,
                     n_hcpcs: int = 2600) -> list[str]:
    """CPT/HCPCS-form codes that no generated claim uses: the bulk of the PTP and MUE tables."""
    nums = rng.choice(np.arange(10004, 69991), size=n_numeric + 200, replace=False)
    letters = np.array(list("ACEGJKLQ"))
    hc = [f"{letters[i % len(letters)]}{n:04d}" for i, n in
          enumerate(rng.choice(np.arange(1, 9999), size=n_hcpcs + 200, replace=False))]
    out = [f"{n:05d}" for n in nums] + hc
    out = [c for c in dict.fromkeys(out) if c not in claim_codes]
    return out[: n_numeric + n_hcpcs]


# ---------------------------------------------------------------------------------------------
# reference data

def curated_pairs(codes: Codes, setting: str) -> list[tuple[str, str, int]]:
    """PTP edits among codes that claims use: the realistic list plus E/M as column 2 of minor procedures."""
    cur = [(a, b, i) for a, b, i in CURATED_PAIRS]
    em = codes.by_group["em"]["code"].tolist() + codes.by_group["ed"]["code"].tolist()
    cur += [(p, e, 1) for p in MINOR_PROCEDURES for e in em]
    if setting == "hospital":
        cur = [(a, b, i) for a, b, i in cur if not (a in MINOR_PROCEDURES and b.startswith("992"))] + \
              [(p, "99213", 1) for p in MINOR_PROCEDURES[:6]]
    return list({(a, b): (a, b, i) for a, b, i in cur}.values())


def make_ptp(rng: np.random.Generator, codes: Codes, universe: list[str], n_pairs: int, setting: str) -> pd.DataFrame:
    claim = codes.claim_codes
    nclaim = len(claim)
    u = np.array(claim + universe, dtype=object)
    nu = len(u)
    # Column 1: background codes (surgical ranges weighted up); column 2: anything, Zipf-like so
    # common codes (E/M, venipuncture, injections, anesthesia-like) are column 2 of many edits.
    c1_w = np.ones(nu - nclaim)
    c1 = nclaim + pick(rng, c1_w, int(n_pairs * 1.25))
    col2_pool = rng.permutation(nu)
    c2 = col2_pool[pick(rng, zipf_weights(nu, 0.75), len(c1))]
    ok = c1 != c2
    key = np.unique(c1[ok].astype(np.int64) * nu + c2[ok])
    key = rng.permutation(key)[: max(n_pairs - 2000, 0)]
    c1, c2 = key // nu, key % nu
    n = len(c1)
    ind = rng.choice(np.array([0, 1, 9], dtype=np.int8), size=n, p=[0.09, 0.87, 0.04])
    prior = rng.random(n) < 0.25
    eff_days = np.where(prior, (np.datetime64("1996-01-01") - EPOCH).astype(int),
                        rng.integers((np.datetime64("1997-01-01") - EPOCH).astype(int),
                                     (np.datetime64("2026-04-01") - EPOCH).astype(int), n))
    deleted = (rng.random(n) < 0.10) | (ind == 9)
    del_days = eff_days + rng.integers(90, 6000, n)
    del_days = np.minimum(del_days, (np.datetime64("2026-03-31") - EPOCH).astype(int))
    del_days = np.maximum(del_days, eff_days)
    df = pd.DataFrame({
        "column_1": u[c1], "column_2": u[c2], "prior_1996": prior,
        "effective_date": EPOCH + eff_days.astype("timedelta64[D]"),
        "deletion_date": np.where(deleted, EPOCH + del_days.astype("timedelta64[D]"), np.datetime64("NaT")),
        "modifier_indicator": ind, "rationale": np.array(RATIONALES, dtype=object)[rng.integers(0, len(RATIONALES), n)],
    })
    # Curated pairs among claim codes, with a few of them dated inside the claims' window.
    cur = curated_pairs(codes, setting)
    m = len(cur)
    eff = np.full(m, np.datetime64("2008-01-01"), dtype="datetime64[D]")
    dele = np.full(m, np.datetime64("NaT"), dtype="datetime64[D]")
    eff[::11] = np.datetime64("2026-01-01")      # added during the window
    dele[5::13] = np.datetime64("2026-03-31")    # deleted during the window
    cdf = pd.DataFrame({
        "column_1": [a for a, _, _ in cur], "column_2": [b for _, b, _ in cur],
        "prior_1996": False, "effective_date": eff.astype("datetime64[ns]"), "deletion_date": dele.astype("datetime64[ns]"),
        "modifier_indicator": np.array([i for _, _, i in cur], dtype=np.int8),
        "rationale": np.array(RATIONALES, dtype=object)[rng.integers(0, len(RATIONALES), m)],
    })
    df["effective_date"] = df["effective_date"].astype("datetime64[ns]")
    df["deletion_date"] = pd.to_datetime(df["deletion_date"]).astype("datetime64[ns]")
    out = pd.concat([df, cdf], ignore_index=True)
    out = out.drop_duplicates(["column_1", "column_2"], keep="last")
    return out.sort_values(["column_1", "column_2"], kind="stable").reset_index(drop=True)


def make_mue(rng: np.random.Generator, codes: Codes, universe: list[str], quarter: int, setting: str) -> pd.DataFrame:
    t = codes.table.drop_duplicates("code")
    val = t["mue"].to_numpy().copy()
    mai = t["mai"].to_numpy().copy()
    if setting == "hospital":  # facility values are a little higher for some codes
        val = np.where(np.arange(len(val)) % 4 == 0, val + 1, val)
    # Each quarter a few claim codes change value (the way CMS revises MUEs).
    if quarter:
        qr = np.random.default_rng(1000 + quarter)
        ch = qr.random(len(val)) < 0.04
        val = np.where(ch, np.maximum(val + qr.choice([-1, 1, 2], len(val)), 1), val)
    n = len(universe)
    bval = rng.choice([1, 1, 1, 2, 2, 3, 4, 6, 10, 20, 50], size=n)
    bmai = rng.choice(np.array([1, 2, 3], dtype=np.int8), size=n, p=[0.3, 0.35, 0.35])
    code = np.concatenate([t["code"].to_numpy(dtype=object), np.array(universe, dtype=object)])
    mais = np.concatenate([mai, bmai]).astype(np.int8)
    return pd.DataFrame({
        "code": code, "mue_value": np.concatenate([val, bval]).astype(np.int64), "mai": mais,
        "mai_text": pd.Series(mais).map(MAI_TEXT).to_numpy(dtype=object),
        "rationale": np.array(MUE_RATIONALES, dtype=object)[rng.integers(0, len(MUE_RATIONALES), len(code))],
    }).sort_values("code", kind="stable").reset_index(drop=True)


# Global surgery days (MPFS) of the claim codes that are procedures; everything else is XXX.
GLOBAL_DAYS = {"11721": "000", "17000": "010", "17003": "ZZZ", "11042": "000", "11055": "000", "11056": "000",
               "17110": "010", "45378": "000", "45385": "000", "45380": "000", "43239": "000", "66984": "090",
               "64483": "000", "64493": "000", "29881": "090", "11102": "000", "11104": "000", "10060": "010",
               "12001": "000", "69210": "000", "20550": "000", "20552": "000", "20610": "000", "20611": "000",
               "52000": "000", "31231": "000", "27447": "090", "62323": "000", "36556": "000", "11200": "010",
               "29125": "000", "47562": "090", "28285": "090"}
BILATERAL = {"20610", "20611", "27447", "29881", "73562", "73030", "73610", "73721", "28285", "64483", "64493",
             "66984", "69210", "77067"}
# Add-on codes of the claim codes and their primaries (NCCI add-on code edits, type 1).
ADD_ONS = {"90472": ["90471", "90460", "90473"], "96375": ["96365", "96374", "96409", "96413"],
           "96366": ["96365"], "17003": ["17000"], "11104": ["11102", "11105"]}
LETTER_MODIFIERS = ["GP", "GO", "GN", "XE", "XS", "XP", "XU", "LT", "RT", "TC", "QW", "JZ", "KX", "GT", "AI", "FS",
                    "FA", "F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9", "TA", "T1", "T2", "T3", "T4", "T5",
                    "T6", "T7", "T8", "T9", "LC", "LD", "RC", "LM", "RI", "E1", "E2", "E3", "E4", "GA", "GY", "GZ",
                    "JW", "PO", "PN", "CR", "CS", "SA", "SB", "QK", "QX", "QZ", "AS", "CQ", "CO"]


def other_tables(codes: Codes, universe: list[str]) -> list[tuple[str, str, date, pd.DataFrame]]:
    """HCPCS Level II (letter codes and modifiers), MPFS indicators and NCCI add-on edits for the claim codes."""
    claim = codes.claim_codes
    letters = [c for c in dict.fromkeys(claim + universe) if c[0].isalpha()]
    n = len(letters) + len(LETTER_MODIFIERS)
    hcpcs = pd.DataFrame({
        "code": letters + LETTER_MODIFIERS,
        "record_type": ["procedure"] * len(letters) + ["modifier"] * len(LETTER_MODIFIERS),
        "add_date": pd.Timestamp("2005-01-01"), "effective_date": pd.Timestamp("2025-01-01"),
        "term_date": pd.Series([pd.NaT] * n, dtype="datetime64[ns]"), "action_code": "N",
        "description": ["SYNTHETIC HCPCS entry"] * n,
    })
    mpfs = pd.DataFrame({
        "code": claim, "modifier": None, "status": "A",
        "glob_days": [GLOBAL_DAYS.get(c, "XXX") for c in claim],
        "mult_proc": ["2" if c in GLOBAL_DAYS else "0" for c in claim],
        "bilat_surg": ["1" if c in BILATERAL else "0" for c in claim],
        "asst_surg": "0", "co_surg": "0", "team_surg": "0",
    })
    aoc = pd.DataFrame([{"addon_code": a, "primary_code": p, "aoc_type": 1,
                         "addon_effective": pd.Timestamp("2010-01-01"), "addon_deletion": pd.NaT,
                         "primary_effective": pd.Timestamp("2010-01-01"), "primary_deletion": pd.NaT}
                        for a, ps in ADD_ONS.items() for p in ps])
    return [("hcpcs", "2026-jan", date(2026, 1, 1), hcpcs), ("mpfs", "2025-oct", date(2025, 10, 1), mpfs),
            ("aoc", "2026q1", date(2026, 1, 1), aoc)]


MUE_QUARTERS = [date(2025, 10, 1), date(2026, 1, 1), date(2026, 4, 1), date(2026, 7, 1)]
PTP_VERSION = ("v321r0", date(2026, 4, 1))  # NCCI 32.1 = April 2026; rows carry their own dates


def write_refdata(out: Path, seed: int, ptp_pairs: int, force: bool = False) -> dict:
    from auditor.refdata.store import Imported, RefStore

    root = out / "refdata"
    meta_path = out / "refdata.json"
    want = {"seed": seed, "ptp_pairs": ptp_pairs, "format": 2}
    if not force and meta_path.exists() and (root / "catalog.json").exists():
        have = json.loads(meta_path.read_text())
        if {k: have.get(k) for k in want} == want:
            return have
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    rng = np.random.default_rng(seed + 7919)
    codes = Codes()
    universe = background_codes(rng, set(codes.claim_codes))
    store = RefStore(root, builtin=False)
    rows = {}
    for setting in ("practitioner", "hospital"):
        ptp = make_ptp(rng, codes, universe, ptp_pairs, setting)
        kind = f"ptp_{setting}"
        store.add(Imported(kind, PTP_VERSION[0], PTP_VERSION[1], None, ptp,
                           f"SYNTHETIC cci{'pra' if setting == 'practitioner' else 'oph'}-{PTP_VERSION[0]}", f"synthetic-{seed}-{kind}"))
        rows[kind] = len(ptp)
        for q, start in enumerate(MUE_QUARTERS):
            mue = make_mue(rng, codes, universe, q, setting)
            kind = f"mue_{setting}"
            vid = f"{start.year}q{(start.month - 1) // 3 + 1}"
            store.add(Imported(kind, vid, start, None, mue, f"SYNTHETIC MCR_MUE_{setting}_Eff_{start:%m-%d-%Y}",
                               f"synthetic-{seed}-{kind}-{vid}"))
            rows[f"{kind}/{vid}"] = len(mue)
    for kind, vid, start, frame in other_tables(codes, universe):
        store.add(Imported(kind, vid, start, None, frame, f"SYNTHETIC {kind} {vid}", f"synthetic-{seed}-{kind}-{vid}"))
        rows[kind] = len(frame)
    freq = Path(__file__).resolve().parent.parent / "rules" / "tables" / "frequency_limits.csv"
    if freq.exists():  # the example table shipped with the rule pack (Medicare preventive services)
        from auditor.refdata.importers import import_into

        for imp, _ in import_into(store, "frequency", [freq]):
            rows["frequency_limits"] = len(imp.frame)
    meta = {**want, "rows": rows, "ptp_version": PTP_VERSION[0], "mue_versions": [d.isoformat() for d in MUE_QUARTERS],
            "note": "SYNTHETIC reference data for benchmarks: real code numbers, made-up pairs and values"}
    meta_path.write_text(json.dumps(meta, indent=1) + "\n")
    return meta


# ---------------------------------------------------------------------------------------------
# claims

def icd_codes(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Diagnosis code pools from the built-in FY2026 ICD-10-CM set and MCE lists.

    bill: billable codes by frequency rank, none on an MCE age/sex/sequencing list and no external
    cause codes (so clean claims raise no age, sex or sequencing finding); headers: category headers;
    bad: codes not in the set; female/male/pediatric: codes for injected sex and age conflicts.
    """
    from auditor.refdata import builtin as B

    t = B.table("icd10cm")
    code = t["code"].to_numpy(dtype=object)
    billable = t["billable"].to_numpy(dtype=bool)
    mce = B.table("mce")
    mce = mce[mce["code_type"] == "D"]
    listed = set(mce["code"].astype(object))
    by_edit = {k: np.array(sorted(set(v.astype(object)) & set(code[billable])), dtype=object)
               for k, v in mce.groupby("edit_type")["code"]}
    valid = set(code[billable])
    head = [c for c in PRIMARY_DX if c in valid and c not in listed]
    tail = code[billable]
    keep = ~isin(tail, head) & ~isin(tail, listed) & ~isin(tail.astype("U1"), ["V", "W", "X", "Y"])
    tail = tail[keep]
    tail = rng.choice(tail, size=min(9000, len(tail)), replace=False)
    bill = np.array(head + list(tail), dtype=object)
    headers = code[~billable]
    headers = headers[[len(h) == 3 for h in headers]]  # category headers: E11, I25, J45 ...
    common_headers = np.array([h for h in ["E11", "I25", "J45", "M54", "N18", "E78", "I48", "M17", "K21", "F32"]
                               if h in set(headers)] + list(rng.choice(headers, 40, replace=False)), dtype=object)
    # Invalid: a valid code with a wrong last character, kept only if not in the code set.
    cand = rng.choice(bill[:3000], size=400)
    allc = set(code)
    bad = []
    for c in cand:
        for ch in "XZ9Q":
            x = c[:-1] + ch if len(c) > 3 else c + "Q"
            if x not in allc:
                bad.append(x)
                break
    bad += ["R6889", "Z0000X", "I100", "E1190", "M5455"]
    bad = np.array([b for b in dict.fromkeys(bad) if b not in allc], dtype=object)
    return {"bill": bill, "headers": common_headers, "bad": bad,
            "female": by_edit.get("Female_Only", np.array(["N952"], dtype=object)),
            "male": by_edit.get("Male_Only", np.array(["N400"], dtype=object)),
            "pediatric": by_edit.get("Pediatric_Only", np.array(["R6251"], dtype=object))}


def generate(lines: int, seed: int = 20260401) -> tuple[pa.Table, dict]:
    rng = np.random.default_rng(seed)
    codes = Codes()
    t0 = time.perf_counter()

    # --- providers: individuals (rendering) in groups (billing); facilities bill for themselves
    n_prov = max(40, lines // 250)
    spec_names = list(SPECIALTIES)
    spec_share = np.array([SPECIALTIES[s][0] for s in spec_names])
    prov_spec = pick(rng, spec_share, n_prov)
    bodies = 100_000_000 + rng.choice(199_999_999, size=n_prov * 2, replace=False)
    npis = luhn_npi(bodies.astype(np.int64))
    npi_txt = strings(npis.astype(str))
    indiv = np.arange(n_prov)
    n_groups = max(10, n_prov // 6)
    group_of = rng.integers(0, n_groups, n_prov)
    group_npi = n_prov + group_of                      # billing NPI index of the provider's group
    facility = prov_spec == spec_names.index("facility")
    billing_of = np.where(facility, indiv, group_npi)  # facilities bill under their own NPI
    prov_w = zipf_weights(n_prov, 0.6)[rng.permutation(n_prov)]

    # --- members
    n_mem = max(50, lines // 11)
    mem_ids = 10_000_000 + rng.choice(89_999_999, size=n_mem, replace=False)
    mem_txt = strings(np.char.add("M", mem_ids.astype(str)))
    age = np.where(rng.random(n_mem) < 0.72, rng.integers(65, 96, n_mem), rng.integers(0, 65, n_mem))
    win0 = (np.datetime64(WINDOW[0]) - EPOCH).astype(int)
    win1 = (np.datetime64(WINDOW[1]) - EPOCH).astype(int)
    birth = win0 - age * 365 - rng.integers(0, 365, n_mem)
    sex = pick(rng, np.array([0.55, 0.445, 0.005]), n_mem)
    mem_w = rng.pareto(1.6, n_mem) + 1
    mem_w /= mem_w.sum()

    # --- claims
    mean_lines = 2.5
    n_claims = int(lines / mean_lines * 1.1) + 10
    c_prov = pick(rng, prov_w, n_claims)
    c_spec = prov_spec[c_prov]
    c_nlines = np.empty(n_claims, dtype=np.int64)
    for s, name in enumerate(spec_names):
        sel = np.flatnonzero(c_spec == s)
        c_nlines[sel] = 1 + pick(rng, np.array(SPECIALTIES[name][1]), len(sel))
    c_mem = pick(rng, mem_w, n_claims)
    c_day = rng.integers(win0, win1 + 1, n_claims)
    c_recv = c_day + 1 + np.minimum(rng.exponential(11, n_claims).astype(np.int64), 300)
    c_inst = facility[c_prov]

    injected: dict[str, int] = {}
    # Whole-claim resubmissions: claim k repeats claim k-1 (same member, provider, date, lines).
    dup_c = np.flatnonzero(rng.random(n_claims) < INJECT["duplicate_claim"][1])
    dup_c = dup_c[(dup_c > 0)]
    dup_c = dup_c[~np.isin(dup_c - 1, dup_c)]
    src = dup_c - 1
    for arr in (c_prov, c_spec, c_nlines, c_mem, c_day, c_inst):
        arr[dup_c] = arr[src]
    c_recv[dup_c] = c_recv[src] + rng.integers(5, 40, len(dup_c))

    # Cut to exactly `lines` lines.
    ends = np.cumsum(c_nlines)
    n_claims = int(np.searchsorted(ends, lines) + 1)
    c_nlines = c_nlines[:n_claims].copy()
    c_nlines[-1] -= int(ends[n_claims - 1] - lines)
    c_prov, c_spec, c_mem, c_day, c_recv, c_inst = (a[:n_claims] for a in (c_prov, c_spec, c_mem, c_day, c_recv, c_inst))
    dup_c = dup_c[dup_c < n_claims]
    dup_c = dup_c[c_nlines[dup_c] == c_nlines[dup_c - 1]]
    injected["duplicate_claim"] = int(c_nlines[dup_c].sum())

    claim_of = np.repeat(np.arange(n_claims), c_nlines)
    start = np.concatenate([[0], np.cumsum(c_nlines)[:-1]])
    line_no = np.arange(lines) - start[claim_of] + 1
    l_spec = c_spec[claim_of]
    first = line_no == 1

    # --- procedure codes: category by specialty and position, code by Zipf within category
    cat = np.empty(lines, dtype=np.int64)
    for s, name in enumerate(spec_names):
        _, _, w_first, w_other = SPECIALTIES[name]
        for is_first, w in ((True, w_first), (False, w_other)):
            sel = np.flatnonzero((l_spec == s) & (first == is_first))
            cat[sel] = pick(rng, np.array(w, dtype=float), len(sel))
    code_idx = np.empty(lines, dtype=np.int64)
    umax = np.empty(lines, dtype=np.int64)
    charge_base = np.empty(lines, dtype=float)
    gtabs = []
    for g, name in enumerate(GROUP_NAMES):
        tab = codes.by_group[name]
        gtabs.append(tab)
        sel = np.flatnonzero(cat == g)
        k = pick(rng, zipf_weights(len(tab), 1.05), len(sel))
        code_idx[sel] = np.array([codes.index[c] for c in tab["code"]])[k]
        umax[sel] = tab["umax"].to_numpy()[k]
        charge_base[sel] = tab["charge"].to_numpy()[k]
    # The same code twice on one claim is rare in real data: redraw, else mark it as a repeat.
    for _ in range(4):
        key = claim_of * 1000 + code_idx
        dup = pd.Series(key).duplicated().to_numpy()
        if not dup.any():
            break
        sel = np.flatnonzero(dup)
        for g, name in enumerate(GROUP_NAMES):
            s2 = sel[cat[sel] == g]
            tab = gtabs[g]
            k = rng.integers(0, len(tab), len(s2))
            code_idx[s2] = np.array([codes.index[c] for c in tab["code"]])[k]
            umax[s2] = tab["umax"].to_numpy()[k]
            charge_base[s2] = tab["charge"].to_numpy()[k]
    repeat = pd.Series(claim_of * 1000 + code_idx).duplicated().to_numpy()

    units = 1 + (rng.random(lines) * umax).astype(np.int64)
    units = np.minimum(units, umax)
    charge = np.round(charge_base * units * rng.lognormal(0, 0.12, lines), 2)

    # --- modifiers (realistic use: 25 on E/M with a procedure, GP on therapy, 59 on 97140, sides...)
    mods = np.full((lines, 4), -1, dtype=np.int64)
    mod_names = ["25", "GP", "GO", "GN", "59", "XU", "LT", "RT", "26", "TC", "QW", "91", "76", "JZ", "50",
                 "KX", "95", "GT", "AI", "FS", "79"]
    mi = {m: i for i, m in enumerate(mod_names)}
    cc = np.array(codes.claim_codes, dtype=object)
    lcode = cc[code_idx]
    is_em = (cat == 0) | (cat == 1)
    has_proc = np.zeros(n_claims, dtype=bool)
    np.logical_or.at(has_proc, claim_of, (cat == 5) | (cat == 6))
    r = rng.random(lines)
    mods[is_em & has_proc[claim_of] & (r < 0.88), 0] = mi["25"]
    ther = cat == 3
    mods[ther, 0] = np.array([mi["GP"], mi["GO"], mi["GN"]])[pick(rng, np.array([.85, .1, .05]), int(ther.sum()))]
    sel = ther & (lcode == "97140") & (rng.random(lines) < 0.7)
    mods[sel, 1] = np.where(rng.random(int(sel.sum())) < 0.35, mi["59"], mi["XU"])
    side = isin(lcode, SIDE_CODES) & (rng.random(lines) < 0.8)
    mods[side, 0] = np.where(rng.random(int(side.sum())) < 0.5, mi["LT"], mi["RT"])
    rad = (l_spec == spec_names.index("radiology")) & (cat == 4) & ~side
    mods[rad & (rng.random(lines) < 0.55), 0] = mi["26"]
    mods[isin(lcode, WAIVED) & (rng.random(lines) < 0.5), 0] = mi["QW"]
    jcode = np.char.startswith(lcode.astype(str), "J")
    mods[jcode & (rng.random(lines) < 0.6), 0] = mi["JZ"]
    mods[repeat, 1] = np.where(cat[repeat] == 2, mi["91"], mi["76"])
    mods[is_em & (mods[:, 0] < 0) & (rng.random(lines) < 0.04), 0] = mi["95"]
    mods[(mods[:, 0] >= 0) & (mods[:, 1] < 0) & (rng.random(lines) < 0.02), 1] = mi["KX"]

    # Where a claim naturally holds both codes of a PTP edit, coders mostly do the right thing:
    # append 59/XU (25 on an E/M) to the column 2 line, or not bill a mutually exclusive code.
    K = len(codes.claim_codes)
    cp = curated_pairs(codes, "practitioner")
    pkeys = {i: np.array([codes.index[a] * K + codes.index[b] for a, b, ind in cp if ind == i], dtype=np.int64)
             for i in (0, 1)}
    col2 = {0: np.zeros(lines, dtype=bool), 1: np.zeros(lines, dtype=bool)}
    for d in range(1, 6):
        i = np.arange(lines - d)
        j = i + d
        same = claim_of[i] == claim_of[j]
        for ind in (0, 1):
            col2[ind][j[same & np.isin(code_idx[i] * K + code_idx[j], pkeys[ind])]] = True
            col2[ind][i[same & np.isin(code_idx[j] * K + code_idx[i], pkeys[ind])]] = True
    fix = col2[1] & (rng.random(lines) < 0.93)
    slot = np.argmax(mods[:, :3] < 0, axis=1)
    bypass = np.where(is_em, mi["25"], np.where(rng.random(lines) < 0.35, mi["59"], mi["XU"]))
    sel = np.flatnonzero(fix & ~(mods == mi["25"]).any(axis=1))
    mods[sel, slot[sel]] = bypass[sel]
    drop = np.flatnonzero(col2[0] & (rng.random(lines) < 0.9))
    for g, name in enumerate(GROUP_NAMES):  # replace with another code of the same group
        s2 = drop[cat[drop] == g]
        tab = gtabs[g]
        k = rng.integers(0, len(tab), len(s2))
        code_idx[s2] = np.array([codes.index[c] for c in tab["code"]])[k]
        charge[s2] = np.round(tab["charge"].to_numpy()[k] * units[s2], 2)
    lcode = cc[code_idx]

    # An add-on code is billed with its primary: where a claim has the add-on alone, it was the primary.
    for addon, primaries in ADD_ONS.items():
        if addon not in codes.index:
            continue
        prim = [codes.index[p] for p in primaries if p in codes.index]
        has_primary = np.zeros(n_claims, dtype=bool)
        np.logical_or.at(has_primary, claim_of, isin(code_idx, prim))
        alone = np.flatnonzero((code_idx == codes.index[addon]) & ~has_primary[claim_of])
        if len(alone) and prim:
            first = alone[~pd.Series(claim_of[alone]).duplicated().to_numpy()]  # one primary per claim
            code_idx[first] = prim[0]
            units[first] = 1
            charge[first] = np.round(codes.table.drop_duplicates("code").set_index("code").loc[primaries[0], "charge"]
                                     * rng.lognormal(0, 0.12, len(first)), 2) if primaries[0] in codes.index else charge[first]
    lcode = cc[code_idx]

    # --- diagnoses: 1-4 per claim, the same on every line of the claim (as on an 837)
    pools = icd_codes(rng)
    bill, headers, badcodes = pools["bill"], pools["headers"], pools["bad"]
    c_ndx = 1 + pick(rng, np.array([.32, .30, .22, .16]), n_claims)
    dxw = zipf_weights(len(bill), 1.0)
    dx_idx = pick(rng, dxw, n_claims * 4).reshape(n_claims, 4)
    for _ in range(6):  # a code listed twice on one claim is a (DX003) error: redraw repeats
        rep = np.zeros_like(dx_idx, dtype=bool)
        for j in range(1, 4):
            rep[:, j] = (dx_idx[:, :j] == dx_idx[:, j:j + 1]).any(axis=1)
        if not rep.any():
            break
        dx_idx[rep] = pick(rng, dxw, int(rep.sum()))
    dx_idx[np.arange(4)[None, :] >= c_ndx[:, None]] = -1

    # --- other fields
    pos_codes = strings(["11", "22", "23", "21", "12", "02", "10", "19", "31", "81"])
    c_pos = np.where(c_inst, 1, 0)
    c_pos[c_spec == spec_names.index("emergency")] = 2
    c_pos[c_spec == spec_names.index("laboratory")] = 7
    tele = (c_spec == spec_names.index("primary_care")) & (rng.random(n_claims) < 0.06)
    c_pos[tele] = 5
    c_pos[(c_spec == spec_names.index("primary_care")) & (rng.random(n_claims) < 0.04)] = 8
    c_pos[(c_spec == spec_names.index("therapy")) & (rng.random(n_claims) < 0.1)] = 4
    payer_txt = strings(["MEDICARE", "MCR-ADV-HUMANA", "MCR-ADV-UHC", "MEDICAID", "BCBS"])
    c_payer = pick(rng, np.array([.62, .14, .12, .07, .05]), n_claims)
    rev_by_cat = np.array([5, 4, 0, 3, 1, 6, 2])  # em ed lab ther img inj surg -> revenue codes below
    rev_txt = strings(["0300", "0320", "0360", "0420", "0450", "0510", "0636"])

    # ----------------------------------------------------------------------------------------
    # error injection (every kind the default pack checks), recorded in `injected`
    l_day = c_day[claim_of].copy()
    l_recv = c_recv[claim_of].copy()
    l_day_to = np.full(lines, -1, dtype=np.int64)
    inst_l = c_inst[claim_of]
    l_day_to[inst_l] = l_day[inst_l]
    bill_npi = billing_of[c_prov][claim_of].copy()
    rend_npi = np.where(c_inst, -1, c_prov)[claim_of].copy()
    rend_npi[(rng.random(lines) < 0.03)[claim_of] & ~inst_l] = -1  # some claims omit the rendering provider
    if len(dup_c):
        # Every line of the source claim copied onto the duplicate claim (vectorized).
        cnt = c_nlines[dup_c]
        within = np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        tgt = np.repeat(start[dup_c], cnt) + within
        src_l = np.repeat(start[dup_c - 1], cnt) + within
        for a in (code_idx, units, mods, cat, charge, rend_npi, bill_npi):
            a[tgt] = a[src_l]
        dx_idx[dup_c] = dx_idx[dup_c - 1]

    claims_rng = rng.random((n_claims, len(INJECT)))
    lines_rng = rng.random((lines, len(INJECT)))
    names = list(INJECT)

    def chosen_claims(kind: str, ok: np.ndarray | None = None) -> np.ndarray:
        sel = claims_rng[:, names.index(kind)] < INJECT[kind][1]
        if ok is not None:
            sel &= ok
        return np.flatnonzero(sel)

    def chosen_lines(kind: str, ok: np.ndarray | None = None) -> np.ndarray:
        sel = lines_rng[:, names.index(kind)] < INJECT[kind][1]
        if ok is not None:
            sel &= ok
        return np.flatnonzero(sel)

    not_dup = np.ones(n_claims, dtype=bool)
    not_dup[dup_c] = False
    not_dup[dup_c - 1] = False

    # duplicate line within a claim: line 2 becomes a copy of line 1
    dl = chosen_claims("duplicate_line", (c_nlines >= 2) & not_dup)
    a, b = start[dl], start[dl] + 1
    code_idx[b], units[b], charge[b], mods[b], cat[b] = code_idx[a], units[a], charge[a], mods[a], cat[a]
    injected["duplicate_line"] = len(dl)

    # NCCI: a curated pair on lines 1 and 2 of the claim, without any bypass modifier
    pairs = [(a_, b_, i) for a_, b_, i in CURATED_PAIRS if i in (0, 1)]
    pairs = [p for p in pairs if p[0] in codes.index and p[1] in codes.index]
    nc = chosen_claims("ncci_pair", (c_nlines >= 2) & not_dup)
    which = rng.integers(0, len(pairs), len(nc))
    a, b = start[nc], start[nc] + 1
    code_idx[a] = np.array([codes.index[pairs[k][0]] for k in which], dtype=np.int64)
    code_idx[b] = np.array([codes.index[pairs[k][1]] for k in which], dtype=np.int64)
    mods[a] = -1
    mods[b] = -1
    units[a] = 1
    units[b] = 1
    injected["ncci_pair"] = len(nc)

    # MUE: units above the code's MUE value
    mue_of = codes.table.drop_duplicates("code").set_index("code")["mue"]
    mue_val = np.array([mue_of[c] for c in codes.claim_codes])
    ml = chosen_lines("mue_excess")
    units[ml] = mue_val[code_idx[ml]] + rng.integers(1, 4, len(ml))
    injected["mue_excess"] = len(ml)

    # diagnosis errors
    inv = chosen_claims("invalid_dx")
    hdr = chosen_claims("header_dx")
    dx_pos_inv = rng.integers(0, 4, len(inv)) % c_ndx[inv]
    dx_pos_hdr = rng.integers(0, 4, len(hdr)) % c_ndx[hdr]
    m_sex = sex[c_mem]  # 0 F, 1 M, 2 U
    m_age = (c_day - birth[c_mem]) // 365
    sx = chosen_claims("sex_conflict", m_sex < 2)
    ag = chosen_claims("age_conflict", m_age >= 19)
    pools["sex_pick"] = np.where(m_sex[sx] == 1, 0, 1)  # a man gets a female-only code and vice versa
    injected["sex_conflict"], injected["age_conflict"] = len(sx), len(ag)
    injected["invalid_dx"] = len(inv)
    injected["header_dx"] = len(hdr)

    # NPIs
    bnpi = chosen_claims("bad_billing_npi")
    rnpi = chosen_claims("bad_rendering_npi", ~c_inst)
    injected["bad_billing_npi"] = len(bnpi)
    injected["bad_rendering_npi"] = len(rnpi)

    # dates
    late = chosen_claims("late_filing", not_dup)
    late_day = win0 + rng.integers(0, 25, len(late))
    fut = chosen_claims("future_date", not_dup & (c_day >= (np.datetime64("2026-01-01") - EPOCH).astype(int)))
    sar = chosen_claims("service_after_received", not_dup)
    for cl, newday, newrecv in ((late, late_day, late_day + 366 + rng.integers(0, 6, len(late))),
                                (fut, c_day[fut] + 365, c_recv[fut]),
                                (sar, c_day[sar], c_day[sar] - rng.integers(1, 12, len(sar)))):
        ln = np.isin(claim_of, cl)
        pos = np.searchsorted(cl, claim_of[ln])
        l_day[ln] = newday[pos]
        l_recv[ln] = newrecv[pos]
        l_day_to[ln & (l_day_to >= 0)] = l_day[ln & (l_day_to >= 0)]
    injected["late_filing"], injected["future_date"], injected["service_after_received"] = len(late), len(fut), len(sar)
    dr = chosen_lines("date_range")
    l_day_to[dr] = l_day[dr] - rng.integers(1, 20, len(dr))
    injected["date_range"] = len(dr)

    zl = chosen_lines("zero_units")
    units[zl] = 0
    injected["zero_units"] = len(zl)
    nl = chosen_lines("negative_charge")
    charge[nl] = -charge[nl]
    injected["negative_charge"] = len(nl)

    # ----------------------------------------------------------------------------------------
    # assemble text columns (Arrow)
    cols: dict[str, pa.Array] = {}
    claim_ids = np.char.add("C", (2_600_000_000 + np.arange(n_claims) * 7 + rng.integers(0, 7, n_claims)).astype(str))
    claim_txt = strings(claim_ids)
    cols["claim_id"] = take(claim_txt, claim_of)
    cols["line_number"] = pa.array(line_no).cast(pa.string())
    cols["claim_type"] = take(strings(["professional", "institutional"]), c_inst[claim_of].astype(np.int64))
    cols["member_id"] = take(mem_txt, c_mem[claim_of])
    cols["member_birth_date"] = day_strings(birth[c_mem[claim_of]])
    cols["member_sex"] = take(strings(["F", "M", "U"]), sex[c_mem[claim_of]])
    npi_all = npi_txt
    bad_b = np.isin(claim_of, bnpi)
    bad_r = np.isin(claim_of, rnpi)
    cols["billing_npi"] = take(npi_all, bill_npi)
    cols["rendering_npi"] = take(npi_all, rend_npi)
    cols["place_of_service"] = take(pos_codes, c_pos[claim_of])
    cols["service_date"] = day_strings(l_day)
    cols["service_date_to"] = day_strings(l_day_to, l_day_to < 0)
    cols["received_date"] = day_strings(l_recv)
    cols["procedure_code"] = take(strings(codes.claim_codes), code_idx)
    mod_txt = strings(mod_names)
    for i in range(4):
        cols[f"modifier_{i + 1}"] = take(mod_txt, mods[:, i])
    cols["units"] = pa.array(units).cast(pa.string())
    cols["charge"] = pa.array(charge).cast(pa.string())
    bill_txt = strings(bill)
    dx = dx_idx[claim_of]
    for i in range(12):
        cols[f"dx_{i + 1}"] = take(bill_txt, dx[:, i]) if i < 4 else pa.nulls(lines, pa.string())
    ptr = np.minimum(c_ndx, 3)[claim_of] - 1
    cols["dx_pointers"] = take(strings(["1", "1,2", "1,2,3"]), ptr)
    cols["payer"] = take(payer_txt, c_payer[claim_of])
    cols["type_of_bill"] = take(strings(["0131"]), np.where(inst_l, 0, -1))
    cols["revenue_code"] = take(rev_txt, np.where(inst_l, rev_by_cat[cat], -1))

    # text-level injections
    if len(inv) or len(hdr):
        for cl, pos, pool in ((inv, dx_pos_inv, badcodes), (hdr, dx_pos_hdr, headers)):
            vals = pool[rng.integers(0, len(pool), len(cl))]
            ln = np.flatnonzero(np.isin(claim_of, cl))
            k = np.searchsorted(cl, claim_of[ln])
            for p in range(4):
                sel = pos[k] == p
                cols[f"dx_{p + 1}"] = put(cols[f"dx_{p + 1}"], ln[sel], vals[k[sel]])
    # sex and age conflicts: the claim's last diagnosis becomes a code of the wrong group
    for cl, vals in ((sx, np.where(pools["sex_pick"] == 0,
                                   pools["female"][rng.integers(0, len(pools["female"]), len(sx))],
                                   pools["male"][rng.integers(0, len(pools["male"]), len(sx))])),
                     (ag, pools["pediatric"][rng.integers(0, len(pools["pediatric"]), len(ag))])):
        ln = np.flatnonzero(np.isin(claim_of, cl))
        k = np.searchsorted(cl, claim_of[ln])
        last = c_ndx[cl][k] - 1
        for p in range(4):
            sel = last == p
            cols[f"dx_{p + 1}"] = put(cols[f"dx_{p + 1}"], ln[sel], vals[k[sel]])
    if len(bnpi):
        ln = np.flatnonzero(bad_b)
        good = npis[bill_npi[ln]]
        wrong = (good // 10) * 10 + (good % 10 + 1) % 10  # wrong check digit
        cols["billing_npi"] = put(cols["billing_npi"], ln, wrong.astype(str).astype(object))
    if len(rnpi):
        ln = np.flatnonzero(bad_r & (rend_npi >= 0))
        good = npis[rend_npi[ln]]
        wrong = np.where(np.arange(len(ln)) % 3 == 0, (good // 10).astype(str), ((good // 10) * 10 + (good % 10 + 3) % 10).astype(str))
        cols["rendering_npi"] = put(cols["rendering_npi"], ln, wrong.astype(object))
    up = chosen_lines("unparseable")
    up_col = rng.integers(0, 7, len(up))
    bad_text = {
        0: ("units", ["1O", "one", "2 units", "1..0"]),
        1: ("charge", ["N/A", "$12O.00", "100-", "1,2,3"]),
        2: ("service_date", ["2026-02-30", "13/45/2026", "20261399", "2026-1-5x"]),
        3: ("received_date", ["2026-02-30", "00/00/0000", "TBD"]),
        4: ("member_birth_date", ["00/00/0000", "1955-02-29", "unknown"]),
        5: ("member_sex", ["X", "FEM", "9"]),
        6: ("line_number", ["0", "1.5", "A"]),
    }
    for k, (col, vals) in bad_text.items():
        where = up[up_col == k]
        cols[col] = put(cols[col], where, np.array(vals, dtype=object)[rng.integers(0, len(vals), len(where))])
    injected["unparseable"] = len(up)
    mr = chosen_lines("missing_required")
    mr_col = np.array(["dx_1", "units", "procedure_code", "charge", "member_id"], dtype=object)[rng.integers(0, 5, len(mr))]
    for col in np.unique(mr_col):
        cols[col] = put(cols[col], mr[mr_col == col], None)
    injected["missing_required"] = len(mr)
    bc = chosen_lines("bad_code_form")
    half = len(bc) // 2
    cols["procedure_code"] = put(cols["procedure_code"], bc[:half],
                                 np.array(["9921", "99213A", "0-123", "ABCDE"], dtype=object)[rng.integers(0, 4, half)])
    cols["modifier_2"] = put(cols["modifier_2"], bc[half:],
                             np.array(["5", "XXX", "2-"], dtype=object)[rng.integers(0, 3, len(bc) - half)])
    injected["bad_code_form"] = len(bc)

    table = pa.table(cols)
    manifest = {
        "lines": lines, "claims": n_claims, "members": n_mem, "providers": n_prov, "seed": seed,
        "as_of": AS_OF.isoformat(), "service_window": [WINDOW[0].isoformat(), WINDOW[1].isoformat()],
        "injected": injected, "generated_in_s": round(time.perf_counter() - t0, 2),
        "note": "SYNTHETIC claims for benchmarks; not real patients or providers",
    }
    return table, manifest


def write_claims(table: pa.Table, out: Path, stem: str) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    csv_path, pq_path = out / f"{stem}.csv", out / f"{stem}.parquet"
    tmp = csv_path.with_suffix(".csv.tmp")
    pacsv.write_csv(table, tmp, write_options=pacsv.WriteOptions(quoting_style="needed"))
    tmp.replace(csv_path)
    t1 = time.perf_counter()
    tmp = pq_path.with_suffix(".parquet.tmp")
    pq.write_table(table, tmp, compression="snappy")
    tmp.replace(pq_path)
    t2 = time.perf_counter()
    return {"csv": str(csv_path), "parquet": str(pq_path), "csv_write_s": round(t1 - t0, 2),
            "parquet_write_s": round(t2 - t1, 2)}


def stem_for(lines: int) -> str:
    return f"claims_{lines}"


def ensure(lines: int, out: Path, seed: int = 20260401, ptp_pairs: int = 1_000_000, quiet: bool = True) -> dict:
    """Generate the data set unless it is already there (same seed); returns its manifest."""
    out = Path(out)
    man_path = out / f"{stem_for(lines)}.json"
    if man_path.exists():
        man = json.loads(man_path.read_text())
        if man.get("seed") == seed and Path(man["files"]["parquet"]).exists() and Path(man["files"]["csv"]).exists():
            ref = write_refdata(out, seed, ptp_pairs)
            man["refdata"] = ref
            return man
    return main_generate(lines, out, seed, ptp_pairs, quiet=quiet)


def main_generate(lines: int, out: Path, seed: int, ptp_pairs: int, quiet: bool = False, force_ref: bool = False) -> dict:
    t0 = time.perf_counter()
    ref = write_refdata(out, seed, ptp_pairs, force=force_ref)
    t1 = time.perf_counter()
    table, man = generate(lines, seed)
    t2 = time.perf_counter()
    files = write_claims(table, out, stem_for(lines))
    man["files"] = files
    man["refdata_dir"] = str(out / "refdata")
    (out / f"{stem_for(lines)}.json").write_text(json.dumps(man, indent=1) + "\n")
    man["refdata"] = ref
    if not quiet:
        print(f"reference data: {out / 'refdata'} ({', '.join(f'{k} {v:,}' for k, v in ref['rows'].items() if '/' not in k or k.endswith('q4'))}) "
              f"in {t1 - t0:.1f} s")
        print(f"claims: {lines:,} lines, {man['claims']:,} claims, {man['members']:,} members, "
              f"{man['providers']:,} providers generated in {t2 - t1:.1f} s; written in "
              f"{files['csv_write_s'] + files['parquet_write_s']:.1f} s -> {files['csv']}, {files['parquet']}")
        print("injected errors: " + ", ".join(f"{k} {v}" for k, v in man["injected"].items()))
        print(f"audit with: auditor audit {files['parquet']} --refdata {out / 'refdata'} --as-of {man['as_of']}")
    return man


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lines", type=lambda s: int(s.replace("_", "")), default=100_000)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "data")
    ap.add_argument("--seed", type=int, default=20260401)
    ap.add_argument("--ptp-pairs", type=lambda s: int(s.replace("_", "")), default=1_000_000,
                    help="rows per PTP table (practitioner and hospital); the real files hold ~1 M+")
    ap.add_argument("--force-refdata", action="store_true", help="rewrite the reference data even if it matches")
    a = ap.parse_args(argv)
    main_generate(a.lines, a.out, a.seed, a.ptp_pairs, force_ref=a.force_refdata)
    return 0


if __name__ == "__main__":
    sys.exit(main())
