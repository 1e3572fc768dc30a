"""`auditor review` settings: a TOML file (tomllib) whose every key is also a command-line flag.

Relative paths in the file are taken from the file's folder. Input patterns may name the period:
``{period}`` (2026-10), ``{year}``, ``{month}``, ``{start:%Y%m%d}``/``{end:...}``, or strftime
codes such as ``%Y-%m`` (of the period's first day); globs (``*``, ``?``, ``[...]``, ``**``) expand.
"""

from __future__ import annotations

import glob
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

from auditor.errors import AuditorError
from auditor.review.period import BASES, Period

FORMATS = ("csv", "json", "html", "xlsx")


@dataclass
class ReviewConfig:
    inputs: list[str] = field(default_factory=list)
    name: str = "default"
    rules: list[str] = field(default_factory=list)
    no_default_rules: bool = False
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    refdata: str | None = None
    mapping: str | None = None
    history: str | None = None
    out: str | None = None
    period_basis: str = "service"
    waivers: list[str] = field(default_factory=list)
    providers: str | None = None
    fail_on: str = "error"
    formats: list[str] = field(default_factory=lambda: list(FORMATS))
    trend_periods: int = 12

    def check(self) -> "ReviewConfig":
        if self.period_basis not in BASES:
            raise AuditorError(f"period_basis: '{self.period_basis}' must be service or received")
        if self.fail_on not in ("error", "warning", "info", "never"):
            raise AuditorError(f"fail_on: '{self.fail_on}' must be error, warning, info or never")
        bad = [f for f in self.formats if f not in FORMATS]
        if bad:
            raise AuditorError(f"formats: unknown format(s) {', '.join(bad)} (csv, json, html, xlsx)")
        if not self.inputs:
            raise AuditorError("no inputs: give INPUT files or patterns, or `inputs = [...]` in the config")
        if not self.history:
            raise AuditorError("no history store: give --history URL (or `history = ...` in the config); "
                               "a plain path means an SQLite file")
        if not str(self.name).strip():
            raise AuditorError("name: must not be empty")
        if not 1 <= int(self.trend_periods) <= 120:
            raise AuditorError("trend_periods: must be between 1 and 120")
        return self


_LISTS = {"inputs", "rules", "select", "ignore", "waivers", "formats"}
_PATHS = {"inputs", "rules", "refdata", "mapping", "out", "waivers", "providers"}


def _is_url(text: str) -> bool:
    return "://" in text


def load_config(path: str | Path) -> dict:
    """The TOML file as ReviewConfig keyword values (types checked, paths made absolute)."""
    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AuditorError(f"{p}: config file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise AuditorError(f"{p}: not valid TOML: {exc}") from None
    known = {f.name: f for f in fields(ReviewConfig)}
    out = {}
    for key, value in raw.items():
        k = key.replace("-", "_")
        if k not in known:
            raise AuditorError(f"{p}: unknown key '{key}' (known: {', '.join(sorted(known))})")
        if k in _LISTS:
            value = [value] if isinstance(value, str) else value
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise AuditorError(f"{p}: '{key}' must be a string or a list of strings")
        elif k in ("no_default_rules",):
            if not isinstance(value, bool):
                raise AuditorError(f"{p}: '{key}' must be true or false")
        elif k == "trend_periods":
            if not isinstance(value, int) or isinstance(value, bool):
                raise AuditorError(f"{p}: '{key}' must be a whole number")
        elif not isinstance(value, str):
            raise AuditorError(f"{p}: '{key}' must be a string")
        if k in _PATHS:
            base = p.resolve().parent
            fix = lambda v: v if _is_url(v) or Path(v).expanduser().is_absolute() else str(base / v)  # noqa: E731
            value = [fix(v) for v in value] if isinstance(value, list) else fix(value)
        if k == "history" and not _is_url(value) and not Path(value).expanduser().is_absolute():
            value = str(p.resolve().parent / value)
        out[k] = value
    return out


def build_config(config_file: str | None, flags: dict) -> ReviewConfig:
    """Config file values overridden by the flags that were given (None / empty = not given)."""
    values = load_config(config_file) if config_file else {}
    for k, v in flags.items():
        if v is None or (isinstance(v, (list, tuple)) and not v) or (k == "no_default_rules" and v is False):
            continue
        values[k] = list(v) if isinstance(v, tuple) else v
    if isinstance(values.get("formats"), str):
        values["formats"] = [f.strip() for f in values["formats"].split(",") if f.strip()]
    return ReviewConfig(**values).check()


def render(pattern: str, period: Period) -> str:
    """A path pattern with the period filled in."""
    try:
        text = pattern.format(period=period.label, year=f"{period.start.year:04d}",
                              month=f"{period.start.month:02d}", start=period.start, end=period.end)
    except (KeyError, IndexError, ValueError) as exc:
        raise AuditorError(f"input pattern '{pattern}': {exc} (placeholders: {{period}}, {{year}}, "
                           "{month}, {start:%Y%m%d}, {end:%Y%m%d})") from None
    return period.start.strftime(text) if "%" in text else text


def expand_inputs(patterns: list[str], period: Period) -> list[Path]:
    """The input files of a period: each pattern rendered, globbed, sorted, de-duplicated."""
    files: list[Path] = []
    for pat in patterns:
        text = render(pat, period)
        if glob.has_magic(text):
            hits = sorted(Path(h) for h in glob.glob(str(Path(text).expanduser()), recursive=True))
            hits = [h for h in hits if h.is_file()]
            if not hits:
                raise AuditorError(f"no input files match '{text}' for period {period.label}")
            files.extend(hits)
        else:
            f = Path(text).expanduser()
            if not f.exists():
                raise AuditorError(f"{f}: input file not found (period {period.label})")
            files.append(f)
    seen, out = set(), []
    for f in files:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out
