"""Options and helpers shared by the importers."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from auditor.errors import InputError
from auditor.refdata._io import Source, expand

SETTINGS = {
    "practitioner": "practitioner",
    "professional": "practitioner",
    "physician": "practitioner",
    "hospital": "hospital",
    "outpatient": "hospital",
    "outpatient-hospital": "hospital",
    "facility": "hospital",
    "dme": "dme",
}


@dataclass
class Options:
    """Command-line options that override what the file names say."""

    effective: date | None = None  # valid_from
    fiscal_year: int | None = None  # icd10cm, mce
    setting: str | None = None  # practitioner | hospital | dme (ptp, mue)
    version_id: str | None = None
    age_groups: str | None = None  # mce: "maternity=9-64,adult=15-124"

    def norm_setting(self) -> str | None:
        if self.setting is None:
            return None
        s = SETTINGS.get(self.setting.strip().lower())
        if s is None:
            raise InputError(f"unknown --setting {self.setting!r}: use practitioner, hospital or dme")
        return s


def sources(paths: list[str | Path]) -> list[tuple[Path, list[Source]]]:
    """Each path with its readable sources (the file, or its zip members)."""
    if not paths:
        raise InputError("no file given")
    return [(Path(p), expand(p)) for p in paths]


def chosen(paths: list[str | Path],
           choose: Callable[[list[Source], Path], list[Source]]) -> list[Source]:
    """The sources to read, path by path: a plain file as it is; of a zip archive, the members
    ``choose(members, path)`` keeps (it names the file it wants when there is none)."""
    out: list[Source] = []
    for path, srcs in sources(paths):
        out.extend(choose(srcs, path) if len(srcs) > 1 or srcs[0].member else srcs)
    return out


_MONTHS = {m: i for i, m in enumerate(["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1)}


def month_number(text: str) -> int | None:
    return _MONTHS.get(text[:3].upper())


_EFF_RE = re.compile(r"eff(?:ective)?[ _-]*(\d{1,2})[-_.](\d{1,2})[-_.](\d{4})", re.I)


def eff_from_name(*names: str) -> date | None:
    """`..._Eff_07-01-2026...` (CMS MUE file names) -> 2026-07-01."""
    for n in names:
        m = _EFF_RE.search(n)
        if m:
            try:
                return date(int(m.group(3)), int(m.group(1)), int(m.group(2)))
            except ValueError:
                continue
    return None


def quarter_from_name(*names: str) -> date | None:
    """`2026Q3`, `V2026Q3`, `2026_Q3` -> first day of the quarter."""
    for n in names:
        m = re.search(r"(20\d\d)[ _-]?Q([1-4])", n, re.I)
        if m:
            return date(int(m.group(1)), 3 * int(m.group(2)) - 2, 1)
    return None


def names_of(src: Source) -> list[str]:
    """Names to look for version hints in: the member first, then the archive it came from."""
    out = [src.name]
    if src.member:
        out += [Path(p).name for p in src.member.split("!")[:-1]]
        out.append(src.path.name)
    return out


def default_version_id(opts: Options, valid_from: date | None, fallback: str) -> str:
    if opts.version_id:
        return opts.version_id
    if valid_from is not None:
        return valid_from.isoformat()
    return fallback
