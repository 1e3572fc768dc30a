"""Built-in reference data: ICD-10-CM and Excludes1 from simple-icd-10-cm, MCE v37 from auditor/data.

The ICD-10-CM tables are derived from the data files that ship inside the `simple_icd_10_cm`
package (its code list and the CMS tabular XML), without importing the package itself: importing
it builds a Python object per code, which takes seconds, while reading its files directly takes
well under a second. The derived tables are built once per package version and cached as parquet
under $AUDITOR_CACHE (default ~/.cache/auditor); within a process they are kept in memory.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.metadata
import importlib.util
import io
import json
import os
import re
import threading
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from auditor.errors import InputError
from auditor.refdata import kinds as K

BUILTIN_KINDS = ("icd10cm", "excludes1", "mce", "mce_age_groups")
_FORMAT = 2  # bump when the derivation below changes, so stale caches are rebuilt
_DATA_DIR = Path(__file__).resolve().parent.parent / "data"
MCE_FILE = _DATA_DIR / "mce_v37.csv.gz"
MCE_VERSION, MCE_FISCAL_YEAR = 37, 2020

_lock = threading.Lock()
_tables: dict[str, pd.DataFrame] = {}
_meta: dict[str, dict] = {}


def cache_dir() -> Path:
    """$AUDITOR_CACHE, else $XDG_CACHE_HOME/auditor, else ~/.cache/auditor."""
    if os.environ.get("AUDITOR_CACHE"):
        return Path(os.environ["AUDITOR_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or (Path.home() / ".cache")
    return Path(base) / "auditor"


def _package() -> tuple[str, Path]:
    spec = importlib.util.find_spec("simple_icd_10_cm")  # locates it without running its import
    if spec is None or not spec.submodule_search_locations:
        raise InputError("the simple-icd-10-cm package is not installed (pip install simple-icd-10-cm)")
    try:
        ver = importlib.metadata.version("simple_icd_10_cm")
    except importlib.metadata.PackageNotFoundError:
        ver = "unknown"
    return ver, Path(list(spec.submodule_search_locations)[0]) / "data"


def _data_files(d: Path) -> tuple[Path, Path]:
    codes = sorted(d.glob("code-list-*.txt"))
    xml = sorted(d.glob("icd10c-tabular-*.xml"))
    if not codes or not xml:
        raise InputError(f"{d}: simple-icd-10-cm data files not found (code-list-*.txt, icd10c-tabular-*.xml)")
    return codes[-1], xml[-1]


def fiscal_year_period(fy: int) -> tuple[date, date]:
    """FY N runs from N-1-10-01 to N-09-30."""
    return date(fy - 1, 10, 1), date(fy, 9, 30)


# ---------------------------------------------------------------------------------------------
# ICD-10-CM + Excludes1 build

_CODE_RE = r"[A-Z][0-9][0-9A-Z]{1,5}"


def _leaf_flags(codes: np.ndarray) -> np.ndarray:
    """codes sorted: a code is a header when the next code in order starts with it."""
    s = pd.Series(codes, dtype="str")
    nxt = s.shift(-1).fillna("")
    lens = s.str.len()
    parent = np.zeros(len(s), dtype=bool)
    for n in range(3, 8):  # 5 vectorized passes instead of one Python test per code
        m = (lens == n).to_numpy()
        parent[m] = (nxt[m].str.slice(0, n) == s[m]).to_numpy()
    return ~parent


def _walk(root: ET.Element):
    """One pass over the tabular XML: descriptions, 7th-character tables, Excludes1 notes."""
    desc: dict[str, str] = {}
    seventh: dict[str, dict[str, str]] = {}  # code -> its own or inherited 7th-character table
    notes: list[tuple[str, list[str], str]] = []  # (owner, codes the note applies to, text)

    def categories(node: ET.Element) -> list[str]:
        return [n.findtext("name", "").replace(".", "") for n in node.iter("diag") if len(n.findtext("name", "")) == 3]

    def diag(node: ET.Element, inherited: dict[str, str] | None) -> None:
        name = (node.findtext("name") or "").replace(".", "").strip()
        desc[name] = (node.findtext("desc") or "").strip()
        own = node.find("sevenChrDef")
        table = inherited
        if own is not None:
            table = {e.get("char"): (e.text or "").strip() for e in own.findall("extension")}
        if table:
            seventh[name] = table
        ex = node.find("excludes1")
        if ex is not None:
            notes.extend((name, [name], (n.text or "").strip()) for n in ex.findall("note"))
        for child in node.findall("diag"):
            diag(child, table)

    for chapter in root.findall("chapter"):
        ex = chapter.find("excludes1")
        if ex is not None:
            cats = categories(chapter)
            notes.extend((f"chapter {chapter.findtext('name')}", cats, (n.text or "").strip()) for n in ex.findall("note"))
        for section in chapter.findall("section"):
            ex = section.find("excludes1")
            if ex is not None:
                cats = categories(section)
                notes.extend((f"block {section.get('id')}", cats, (n.text or "").strip()) for n in ex.findall("note"))
            for d in section.findall("diag"):
                diag(d, None)
    return desc, seventh, notes


def _descriptions(codes: pd.Series, desc: dict[str, str], seventh: dict[str, dict[str, str]]) -> pd.Series:
    out = codes.map(desc)
    miss = out.isna()
    if miss.any():
        # 7th-character codes are not in the XML: "<base description>, <7th character meaning>",
        # the base being the code without its 7th character and X placeholders (W19XXXA -> W19).
        c = codes[miss]
        ext = c.str[-1]
        base1 = c.str[:-1]
        base = base1.str.rstrip("X")
        base = base.where(base.isin(desc.keys()), base1)
        bd = base.map(desc)
        table = base.map(seventh)
        meaning = pd.Series([t.get(e) if isinstance(t, dict) else None for t, e in zip(table, ext)], index=c.index)
        out[miss] = (bd + ", " + meaning).where(bd.notna() & meaning.notna(), bd)
    return out


_PAREN = re.compile(r"\(([^()]*)\)")
_SINGLE = re.compile(rf"({_CODE_RE})-?")
_RANGE = re.compile(rf"({_CODE_RE})-({_CODE_RE})-?")


def _excludes1(notes, code_arr: np.ndarray) -> tuple[pd.DataFrame, dict]:
    """Excludes1 notes -> (code prefix, excluded prefix, note) rows plus parse statistics."""
    cs = pd.Series(code_arr, dtype="str")
    lens = cs.str.len()
    prefixes = {n: np.unique(cs[lens >= n].str.slice(0, n).to_numpy(dtype=object).astype(str)) for n in range(3, 8)}

    def exists(p: str) -> bool:
        arr = prefixes.get(len(p))
        if arr is None:
            return False
        i = np.searchsorted(arr, p)
        return i < len(arr) and arr[i] == p

    def expand(a: str, b: str) -> list[str]:
        n = len(a)
        arr = prefixes.get(n)
        if arr is None:
            return []
        b = b[:n] if len(b) >= n else b
        lo, hi = np.searchsorted(arr, a, "left"), np.searchsorted(arr, b, "right")
        return arr[lo:hi].tolist()

    rows: list[tuple[str, str, str]] = []
    stats = {"notes": 0, "parsed": 0, "unparsed": 0, "refs_skipped": 0, "refs_unknown": 0, "unparsed_examples": []}
    for owner, codes, text in notes:
        stats["notes"] += 1
        refs: list[str] = []
        for group in _PAREN.findall(text):
            for piece in group.split(","):
                p = piece.strip().upper().replace(".", "")
                if not p:
                    continue
                if m := _SINGLE.fullmatch(p):
                    got = [m.group(1)] if exists(m.group(1)) else []
                elif m := _RANGE.fullmatch(p):
                    got = expand(m.group(1), m.group(2))
                else:
                    # "E08-E13 with .21", "A15 with 9th character": a qualified reference that a
                    # prefix cannot express; skipping it avoids false findings.
                    if re.search(_CODE_RE, p):
                        stats["refs_skipped"] += 1
                    continue
                if not got:
                    stats["refs_unknown"] += 1
                refs.extend(got)
        if refs:
            stats["parsed"] += 1
            for c in codes:
                # a note that names a code under its own owner is not an exclusion pair
                rows.extend((c, r, text) for r in refs if not (r.startswith(c) or c.startswith(r)))
        else:
            stats["unparsed"] += 1
            if len(stats["unparsed_examples"]) < 25:
                stats["unparsed_examples"].append(f"{owner}: {text}")
    df = pd.DataFrame(rows, columns=["code", "excluded", "note"]).drop_duplicates(["code", "excluded"])
    stats["pairs"] = int(len(df))
    return K.conform("excludes1", df), stats


def _build_icd() -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    ver, d = _package()
    codes_file, xml_file = _data_files(d)
    raw = codes_file.read_text(encoding="utf-8").split()
    codes = pd.Series(raw, dtype="str").str.strip().str.upper().str.replace(".", "", regex=False)
    codes = codes[codes.str.fullmatch(_CODE_RE)].drop_duplicates()  # drops chapters and blocks
    arr = np.sort(codes.to_numpy(dtype=object).astype(str))
    try:
        root = ET.parse(xml_file).getroot()
    except ET.ParseError as exc:
        raise InputError(f"{xml_file}: cannot parse the ICD-10-CM tabular XML ({exc})") from None
    fy = int(root.findtext("version") or 2026)
    desc, seventh, notes = _walk(root)
    s = pd.Series(arr, dtype="str")
    icd = K.conform(
        "icd10cm",
        pd.DataFrame({"code": s, "billable": _leaf_flags(arr), "description": _descriptions(s, desc, seventh)}),
    )
    ex, stats = _excludes1(notes, arr)
    release = re.search(r"tabular-(.+)\.xml$", xml_file.name)
    h = hashlib.sha256()
    for f in (codes_file, xml_file):  # provenance: the exact data the tables came from
        h.update(f.read_bytes())
    meta = {
        "sha256": h.hexdigest(),
        "package_version": ver,
        "fiscal_year": fy,
        "release": release.group(1) if release else xml_file.name,
        "icd10cm_rows": int(len(icd)),
        "excludes1_rows": int(len(ex)),
        "notes": stats,
    }
    return icd, ex, meta


def _cache_files(ver: str) -> dict[str, Path]:
    tag = f"sicd{re.sub(r'[^0-9A-Za-z.]', '_', ver)}-f{_FORMAT}"
    base = cache_dir()
    return {
        "icd10cm": base / f"icd10cm-{tag}.parquet",
        "excludes1": base / f"excludes1-{tag}.parquet",
        "meta": base / f"icd10cm-{tag}.json",
    }


def _ensure_icd_meta() -> dict:
    """Metadata of the ICD build (building and caching it the first time)."""
    with _lock:
        if "icd10cm" in _meta:
            return _meta["icd10cm"]
        ver, _ = _package()
        files = _cache_files(ver)
        meta = None
        if files["meta"].exists() and files["icd10cm"].exists() and files["excludes1"].exists():
            try:
                meta = json.loads(files["meta"].read_text(encoding="utf-8"))
            except (OSError, ValueError):
                meta = None
        if meta is None:
            icd, ex, meta = _build_icd()
            _tables["icd10cm"], _tables["excludes1"] = icd, ex
            try:
                from auditor.refdata.store import _atomic_write_bytes, atomic_write_parquet

                atomic_write_parquet(icd, files["icd10cm"])
                atomic_write_parquet(ex, files["excludes1"])
                _atomic_write_bytes(files["meta"], json.dumps(meta, indent=1).encode())
            except OSError:
                pass  # a read-only home: keep the tables in memory for this process only
        meta["files"] = {k: str(v) for k, v in files.items()}
        _meta["icd10cm"] = _meta["excludes1"] = meta
        return meta


def _load_icd(kind: str) -> pd.DataFrame:
    meta = _ensure_icd_meta()
    with _lock:
        if kind not in _tables:
            try:
                _tables[kind] = K.conform(kind, pd.read_parquet(meta["files"][kind]))
            except (OSError, ValueError):  # cache deleted or damaged meanwhile: rebuild
                icd, ex, _ = _build_icd()
                _tables["icd10cm"], _tables["excludes1"] = icd, ex
        return _tables[kind]


# ---------------------------------------------------------------------------------------------
# MCE v37


def mce_age_groups(version: int, overrides: dict[str, tuple[int, int]] | None = None) -> pd.DataFrame:
    """Age groups of an MCE version: v37 newborn 0-0, pediatric 0-17, maternity 12-55,
    adult 15-124; from v38 on maternity is 9-64. `overrides` replaces single groups."""
    groups = {"newborn": (0, 0), "pediatric": (0, 17), "maternity": (12, 55), "adult": (15, 124)}
    if version >= 38:
        groups["maternity"] = (9, 64)
    groups.update(overrides or {})
    edit = {"newborn": "Newborn_Only", "pediatric": "Pediatric_Only", "maternity": "Maternity_Only", "adult": "Adult_Only"}
    df = pd.DataFrame(
        [(g, a, b, edit.get(g, f"{g.capitalize()}_Only")) for g, (a, b) in groups.items()],
        columns=["group", "min_age", "max_age", "edit_type"],
    )
    return K.conform("mce_age_groups", df)


def _mce_sha() -> str:
    if "mce_sha" not in _meta:
        _meta["mce_sha"] = {"sha256": hashlib.sha256(MCE_FILE.read_bytes()).hexdigest() if MCE_FILE.exists() else ""}
    return _meta["mce_sha"]["sha256"]


def _load_mce() -> pd.DataFrame:
    with _lock:
        if "mce" not in _tables:
            try:
                with gzip.open(MCE_FILE, "rt", encoding="utf-8") as fh:
                    text = fh.read()
            except OSError as exc:
                raise InputError(f"{MCE_FILE}: built-in MCE table missing or unreadable ({exc})") from None
            df = pd.read_csv(io.StringIO(text), comment="#", dtype="str", keep_default_na=False)
            _tables["mce"] = K.conform("mce", df)
        return _tables["mce"]


# ---------------------------------------------------------------------------------------------
# What the store asks for


def version(kind: str):
    """The built-in Version of a kind (the ICD kinds are built on first use)."""
    from auditor.refdata.store import Version

    if kind in ("icd10cm", "excludes1"):
        m = _ensure_icd_meta()
        fy = m["fiscal_year"]
        src = f"simple-icd-10-cm {m['package_version']} (ICD-10-CM tabular {m['release']})"
        if kind == "icd10cm":
            a, b = fiscal_year_period(fy)
            return Version("icd10cm", f"FY{fy}-builtin", a, b, m["icd10cm_rows"], src, m["sha256"], "", True, False)
        n = m["notes"]
        src += f"; Excludes1 notes {n['notes']}: {n['parsed']} parsed, {n['unparsed']} without a code reference"
        # Excludes1 pairs change little between years and no importable CMS file carries them:
        # they apply to every date of service.
        return Version("excludes1", f"FY{fy}-builtin", None, None, m["excludes1_rows"], src, m["sha256"], "", True, False)
    if kind in ("mce", "mce_age_groups"):
        rows = len(_load_mce()) if kind == "mce" else 4
        a, _ = fiscal_year_period(MCE_FISCAL_YEAR)
        src = f"CMS MCE v{MCE_VERSION} (FY{MCE_FISCAL_YEAR}) code lists, {MCE_FILE.name}"
        return Version(kind, f"v{MCE_VERSION}-builtin", a, None, rows, src, _mce_sha(), "", True, False)
    raise KeyError(kind)


def table(kind: str) -> pd.DataFrame:
    if kind in ("icd10cm", "excludes1"):
        return _load_icd(kind)
    if kind == "mce":
        return _load_mce()
    if kind == "mce_age_groups":
        return mce_age_groups(MCE_VERSION)
    raise KeyError(kind)


def info(kind: str) -> dict:
    if kind in ("icd10cm", "excludes1"):
        m = _ensure_icd_meta()
        return {k: v for k, v in m.items() if k != "files"} | {"builtin": True}
    return {"builtin": True}
