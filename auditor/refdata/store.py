"""The reference-data store: versioned tables on disk, chosen per date of service.

Layout of a store directory (``--refdata DIR``)::

    DIR/catalog.json                  list of Version dicts (+ "parts", "row_dates")
    DIR/<kind>/<version_id>.parquet   one normalized table per version

Built-in versions (ICD-10-CM FY2026, Excludes1, MCE v37) come from `auditor.refdata.builtin`
and are never written to DIR.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from auditor.errors import InputError
from auditor.refdata import kinds as K

_PART = "_part"  # hidden column: which imported file part a row came from (PTP f1..f4)
_VERSION_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,80}$")


@dataclass(frozen=True)
class Version:
    """One version of one kind of reference table."""

    kind: str
    version_id: str
    valid_from: date | None  # None = from the beginning of time
    valid_to: date | None  # None = open (until a later version starts)
    rows: int
    source: str
    sha256: str
    imported_at: str
    builtin: bool = False
    row_dated: bool = False  # rows carry their own dates: also covers history before valid_from

    def to_dict(self) -> dict:
        d = asdict(self)
        for k in ("valid_from", "valid_to"):
            d[k] = d[k].isoformat() if d[k] else None
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Version:
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        for k in ("valid_from", "valid_to"):
            kw[k] = date.fromisoformat(kw[k]) if kw.get(k) else None
        return cls(**kw)

    def period(self) -> str:
        """'2025-10-01 .. 2026-09-30', '2026-07-01 .. open', 'all dates'."""
        if self.valid_from is None and self.valid_to is None:
            return "all dates"
        a = self.valid_from.isoformat() if self.valid_from else "start"
        b = self.valid_to.isoformat() if self.valid_to else "open"
        return f"{a} .. {b}"


@dataclass
class Imported:
    """What an importer hands to `RefStore.add`: one table for one version of one kind.

    part: for kinds that CMS splits into several files per version (NCCI PTP f1..f4), the part
    name; importing another part of the same version adds to it, re-importing a part replaces
    that part only. None: the table is the whole version.
    """

    kind: str
    version_id: str
    valid_from: date | None
    valid_to: date | None
    frame: pd.DataFrame
    source: str
    sha256: str
    part: str | None = None
    row_dated: bool | None = None  # None: from the kind
    note: str = ""  # shown by the CLI, e.g. how the effective date was chosen
    extra: dict = field(default_factory=dict)  # stored in the catalog entry (e.g. parse stats)


def _file_mode() -> int:
    # mkstemp creates 0600 files; shared refdata directories need the usual umask-based mode.
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_MODE = _file_mode()


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, _MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Write a parquet file so that readers never see half of it (temp file + os.replace)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        df.to_parquet(tmp, index=False)
        os.chmod(tmp, _MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _sort_key(v: Version) -> tuple:
    # Later valid_from wins; on the same date an imported version beats a built-in one, then the
    # higher version id (v322r1 over v322r0), then the later import.
    return (v.valid_from or date.min, not v.builtin, v.version_id, v.imported_at)


def _to_days(dates: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Dates -> (int64 days since epoch, valid mask); anything unparseable counts as missing."""
    if not pd.api.types.is_datetime64_any_dtype(dates):
        dates = pd.to_datetime(dates, errors="coerce")
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_localize(None)
    arr = dates.to_numpy().astype("datetime64[D]")  # any unit; no overflow for far dates
    ok = ~np.isnat(arr)
    return arr.astype("int64"), ok


def _day(d: date) -> int:
    return int(np.datetime64(d, "D").astype("int64"))


def in_effect(dates: pd.Series, start: pd.Series, end: pd.Series) -> np.ndarray:
    """Row-dated tables, elementwise: start <= date and (end is NaT or date <= end).

    Both bounds are inclusive: an NCCI edit applies on its effective date and on its deletion
    date; a missing start (NaT) never matches, a missing date never matches.
    """
    d = pd.to_datetime(pd.Series(dates), errors="coerce").to_numpy(dtype="datetime64[ns]")
    s = pd.to_datetime(pd.Series(start), errors="coerce").to_numpy(dtype="datetime64[ns]")
    e = pd.to_datetime(pd.Series(end), errors="coerce").to_numpy(dtype="datetime64[ns]")
    return (~np.isnat(d)) & (s <= d) & (np.isnat(e) | (d <= e))


class RefStore:
    """Versioned reference tables; see docs/DESIGN.md for the contract.

    store = RefStore(Path("refdata"))          # imported data + built-ins
    store.version_for_dates("mue_practitioner", lines["service_date"])
    """

    def __init__(self, root: Path | str | None, builtin: bool = True):
        self.root = Path(root) if root is not None else None
        self.builtin = builtin
        self._frames: dict[tuple[str, str], pd.DataFrame] = {}  # in-memory versions (from_frames)
        self._mem_versions: dict[str, list[Version]] = {}
        self._cache: dict[tuple[str, str], pd.DataFrame] = {}
        self._catalog: list[dict] | None = None

    # -- construction ---------------------------------------------------------------------------

    @classmethod
    def from_frames(cls, frames: dict[str, pd.DataFrame], builtin: bool = False) -> RefStore:
        """An in-memory store with one version ("frames") per kind covering all dates.

        Used by rule examples and tests; columns the kind knows are coerced to its dtypes.
        """
        store = cls(None, builtin=builtin)
        for kind, df in frames.items():
            t = K.conform(kind, pd.DataFrame(df), strict=False)
            sha = hashlib.sha256(pd.util.hash_pandas_object(t, index=False).to_numpy().tobytes()).hexdigest()
            v = Version(kind, "frames", None, None, len(t), "in-memory table", sha, _now(), False, kind in K.ROW_DATED)
            store._mem_versions[kind] = [v]
            store._frames[(kind, "frames")] = t
        return store

    # -- catalog --------------------------------------------------------------------------------

    @property
    def catalog_path(self) -> Path | None:
        return self.root / "catalog.json" if self.root else None

    def _entries(self) -> list[dict]:
        if self._catalog is None:
            self._catalog = []
            p = self.catalog_path
            if p is not None and p.exists():
                try:
                    data = json.loads(p.read_text(encoding="utf-8"))
                except (OSError, ValueError) as exc:
                    raise InputError(f"{p}: cannot read the reference-data catalog ({exc})") from None
                if not isinstance(data, list):
                    raise InputError(f"{p}: not a reference-data catalog (expected a JSON list)")
                self._catalog = data
        return self._catalog

    def _save(self, entries: list[dict]) -> None:
        assert self.catalog_path is not None
        entries = sorted(entries, key=lambda e: (e["kind"], e.get("valid_from") or "", e["version_id"]))
        _atomic_write_bytes(self.catalog_path, (json.dumps(entries, indent=1) + "\n").encode())
        self._catalog = entries

    def _table_path(self, kind: str, version_id: str) -> Path:
        assert self.root is not None
        return self.root / kind / f"{version_id}.parquet"

    # -- reading --------------------------------------------------------------------------------

    def kinds(self) -> list[str]:
        """Kinds that have at least one version (built-ins included when enabled)."""
        from auditor.refdata import builtin as B

        ks = {e["kind"] for e in self._entries()} | set(self._mem_versions)
        if self.builtin:
            ks |= set(B.BUILTIN_KINDS)
        return sorted(ks)

    def versions(self, kind: str) -> list[Version]:
        """Versions of a kind, sorted by valid_from (ties: the one that wins comes last)."""
        from auditor.refdata import builtin as B

        vs = [Version.from_dict(e) for e in self._entries() if e["kind"] == kind]
        vs += self._mem_versions.get(kind, [])
        if self.builtin and kind in B.BUILTIN_KINDS:
            vs.append(B.version(kind))
        return sorted(vs, key=_sort_key)

    def version(self, kind: str, version_id: str) -> Version:
        for v in self.versions(kind):
            if v.version_id == version_id:
                return v
        raise KeyError(f"no {kind} version {version_id!r}")

    def info(self, kind: str, version_id: str) -> dict:
        """The catalog entry of an imported version: parts, row_dates, parse notes."""
        for e in self._entries():
            if e["kind"] == kind and e["version_id"] == version_id:
                return dict(e)
        if self.builtin:
            from auditor.refdata import builtin as B

            if kind in B.BUILTIN_KINDS and B.version(kind).version_id == version_id:
                return B.info(kind)
        return {}

    @property
    def notes(self) -> dict[str, dict]:
        """Parse notes per kind, e.g. notes["excludes1"]["unparsed"] = Excludes1 notes with no code."""
        out: dict[str, dict] = {}
        if self.builtin:
            from auditor.refdata import builtin as B

            out["excludes1"] = B.info("excludes1").get("notes", {})
        for e in self._entries():
            if e.get("notes"):
                out.setdefault(e["kind"], {})[e["version_id"]] = e["notes"]
        return out

    def table(self, kind: str, version_id: str) -> pd.DataFrame:
        """The normalized table of one version (cached; treat it as read-only)."""
        key = (kind, version_id)
        if key in self._frames:
            return self._frames[key]
        if key in self._cache:
            return self._cache[key]
        if self.builtin:
            from auditor.refdata import builtin as B

            if kind in B.BUILTIN_KINDS and B.version(kind).version_id == version_id:
                df = B.table(kind)
                self._cache[key] = df
                return df
        if not any(e["kind"] == kind and e["version_id"] == version_id for e in self._entries()):
            raise KeyError(f"no {kind} version {version_id!r}")
        path = self._table_path(kind, version_id)
        try:
            df = pd.read_parquet(path)
        except (OSError, ValueError) as exc:
            raise InputError(f"{path}: cannot read reference table ({exc})") from None
        if _PART in df.columns:
            df = df.drop(columns=[_PART])
        df = K.conform(kind, df, strict=False)
        self._cache[key] = df
        return df

    def version_for_dates(self, kind: str, dates: pd.Series) -> pd.Series:
        """version_id in effect on each date (object Series, None where no version applies).

        Vectorized: the versions cut the time line into a few intervals, each with one winner;
        every date is placed with one searchsorted, so a million dates take milliseconds.
        """
        dates = pd.Series(dates) if not isinstance(dates, pd.Series) else dates
        vs = self.versions(kind)
        if not vs or len(dates) == 0:
            return pd.Series([None] * len(dates), index=dates.index, dtype=object)
        ids, winners, bounds = self._segments(kind, vs)
        days, ok = _to_days(dates)
        seg = np.searchsorted(bounds, days, side="right")  # 0 = before every boundary
        pick = winners[seg]
        pick[~ok] = len(vs)  # missing date -> None
        return pd.Series(ids[pick], index=dates.index, dtype=object)

    def _segments(self, kind: str, vs: list[Version]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # Boundaries are the days on which the answer can change: each valid_from and the day
        # after each valid_to. Few versions -> a handful of segments, resolved in Python once.
        lo = np.iinfo(np.int64).min
        starts = [(_day(v.valid_from) if v.valid_from else lo) for v in vs]
        ends = [(_day(v.valid_to) if v.valid_to else None) for v in vs]
        bset = {s for s in starts if s != lo} | {e + 1 for e in ends if e is not None}
        bounds = np.array(sorted(bset), dtype="int64")
        rank = {id(v): i for i, v in enumerate(sorted(vs, key=_sort_key))}
        none = len(vs)

        def winner(day: int) -> int:
            best, best_rank = none, -1
            for i, v in enumerate(vs):
                if starts[i] <= day and (ends[i] is None or day <= ends[i]) and rank[id(v)] > best_rank:
                    best, best_rank = i, rank[id(v)]
            return best

        reps = [lo] + bounds.tolist()  # a representative day of each segment
        winners = np.array([winner(d) for d in reps], dtype="int64")
        if any(v.row_dated for v in vs):
            # Row-dated tables hold their own history: dates before every version use the earliest.
            first = min(starts)
            if first != lo:
                earliest = max((i for i in range(len(vs)) if starts[i] == first), key=lambda i: rank[id(vs[i])])
                winners[0] = earliest
        ids = np.array([v.version_id for v in vs] + [None], dtype=object)
        return ids, winners, bounds

    # -- writing --------------------------------------------------------------------------------

    def add(self, imp: Imported) -> Version:
        """Store an imported table: a new version, a new part of one, or a replacement.

        The same file (same sha256 and part) imported earlier under another version id is removed,
        so re-importing never duplicates rows.
        """
        if self.root is None:
            raise InputError("no reference-data directory given (use --refdata DIR)")
        if not _VERSION_ID_RE.match(imp.version_id):
            raise InputError(f"invalid version id {imp.version_id!r}: use letters, digits, '.', '-', '_'")
        if imp.kind not in K.SCHEMAS:
            raise InputError(f"unknown reference kind {imp.kind!r}")
        frame = K.conform(imp.kind, imp.frame)
        part = imp.part or ""
        entries = [dict(e) for e in self._entries()]
        keep: list[dict] = []
        target: dict | None = None
        for e in entries:
            if e["kind"] != imp.kind:
                keep.append(e)
                continue
            if e["version_id"] == imp.version_id:
                target = e
                continue
            same = [p for p in e.get("parts", []) if p["sha256"] == imp.sha256 and p["part"] == part]
            if not same:
                keep.append(e)
                continue
            rest = [p for p in e.get("parts", []) if p not in same]
            if not rest:
                self._table_path(e["kind"], e["version_id"]).unlink(missing_ok=True)
                continue
            df = pd.read_parquet(self._table_path(e["kind"], e["version_id"]))
            df = df[~df[_PART].isin([p["part"] for p in same])]
            atomic_write_parquet(df.reset_index(drop=True), self._table_path(e["kind"], e["version_id"]))
            keep.append(self._entry(e, rest, df))

        parts: list[dict] = []
        old = None
        if target is not None and imp.part is not None:
            parts = [p for p in target.get("parts", []) if p["part"] != part and p["part"] != ""]
            if parts:
                old = pd.read_parquet(self._table_path(imp.kind, imp.version_id))
                old = old[old[_PART].isin([p["part"] for p in parts])]
        new = frame.copy()
        new[_PART] = part
        df = pd.concat([old, new], ignore_index=True) if old is not None and len(old) else new
        parts.append({"part": part, "source": imp.source, "sha256": imp.sha256, "rows": len(frame), "imported_at": _now()})
        parts.sort(key=lambda p: p["part"])
        atomic_write_parquet(df, self._table_path(imp.kind, imp.version_id))

        row_dated = imp.row_dated if imp.row_dated is not None else imp.kind in K.ROW_DATED
        base = {
            "kind": imp.kind,
            "version_id": imp.version_id,
            "valid_from": imp.valid_from.isoformat() if imp.valid_from else None,
            "valid_to": imp.valid_to.isoformat() if imp.valid_to else None,
            "builtin": False,
            "row_dated": row_dated,
        }
        if imp.note:
            base["note"] = imp.note
        base.update(imp.extra)
        entry = self._entry(base, parts, df)
        keep.append(entry)
        self._save(keep)
        self._cache = {k: v for k, v in self._cache.items() if k[0] != imp.kind}
        return Version.from_dict(entry)

    def _entry(self, base: dict, parts: list[dict], df: pd.DataFrame) -> dict:
        e = dict(base)
        e["parts"] = parts
        e["rows"] = int(len(df))
        e["source"] = "; ".join(p["source"] for p in parts)
        e["sha256"] = (
            parts[0]["sha256"]
            if len(parts) == 1
            else hashlib.sha256("".join(f"{p['part']}:{p['sha256']}\n" for p in parts).encode()).hexdigest()
        )
        e["imported_at"] = max(p["imported_at"] for p in parts)
        cols = K.ROW_DATE_COLUMNS.get(e["kind"])
        if cols and len(df):
            a, b = df[cols[0]], df[cols[1]]
            e["row_dates"] = [
                a.min().date().isoformat() if a.notna().any() else None,
                b.max().date().isoformat() if b.notna().any() else None,
                int(b.isna().sum()),  # rows still active (no deletion / termination date)
            ]
        return e

    def remove(self, kind: str, version_id: str) -> None:
        """Delete an imported version (built-ins cannot be removed)."""
        entries = self._entries()
        left = [e for e in entries if not (e["kind"] == kind and e["version_id"] == version_id)]
        if len(left) == len(entries):
            raise KeyError(f"no imported {kind} version {version_id!r}")
        self._table_path(kind, version_id).unlink(missing_ok=True)
        self._save(left)
        self._cache.pop((kind, version_id), None)
