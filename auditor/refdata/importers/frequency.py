"""Frequency limits: a user-editable table (CSV or YAML) of code, max_count, period, description.

period: `1 per 365 days`, `2 per 1 year`, `1 per 10 years`, `1 per lifetime`, or just `365 days`
/ `year` / `lifetime` with max_count in its own column. Units: day, week (7), month (365/12,
rounded), year (365). CSV lines starting with `#` are comments. YAML: a list of mappings, or
`{limits: [...]}`.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd
import yaml

from auditor.errors import InputError
from auditor.refdata._io import Source, encoding_of, sha256_bytes
from auditor.refdata.importers._base import Options, default_version_id, sources
from auditor.refdata.store import Imported

_UNITS = {"day": 1, "week": 7, "month": None, "year": 365}
_PERIOD_RE = re.compile(
    r"^\s*(?:(\d+)\s*(?:per|/|every|in)\s*)?(?:(\d+)\s*)?(days?|weeks?|months?|years?|lifetime)\s*$", re.I
)


def parse_period(text: str) -> tuple[int | None, int | None]:
    """'2 per 1 year' -> (2, 365); '1 per lifetime' -> (1, None); '90 days' -> (None, 90).

    Raises ValueError when the text is not a period.
    """
    m = _PERIOD_RE.match(str(text))
    if not m:
        raise ValueError(text)
    count = int(m.group(1)) if m.group(1) else None
    unit = m.group(3).lower().rstrip("s")
    if unit == "lifetime":
        if m.group(2):
            raise ValueError(text)
        return count, None
    n = int(m.group(2)) if m.group(2) else 1
    if n <= 0:
        raise ValueError(text)
    days = round(n * 365 / 12) if unit == "month" else n * _UNITS[unit]
    return count, days


def _rows(src: Source) -> tuple[list[dict], int]:
    text = src.data.decode(encoding_of(src.data), errors="replace")
    if src.name.lower().endswith((".yaml", ".yml")):
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise src.error(f"not valid YAML ({str(exc).splitlines()[0]})") from None
        if isinstance(data, dict):
            data = data.get("limits", data.get("frequency_limits"))
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise src.error("expected a list of {code, max_count, period, description} mappings (or limits: [...])")
        rows = [{str(k).strip().lower().replace(" ", "_"): ("" if v is None else str(v)) for k, v in r.items()} for r in data]
        return rows, 1
    try:
        df = pd.read_csv(io.StringIO(text), dtype="str", keep_default_na=False, comment="#", skip_blank_lines=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise src.error(f"cannot parse as CSV ({str(exc).strip().splitlines()[0]})") from None
    first = next((i for i, ln in enumerate(text.splitlines(), 1) if ln.strip() and not ln.lstrip().startswith("#")), 1)
    df.columns = [str(c).strip().lower().replace(" ", "_") for c in df.columns]
    if "code" not in df.columns or "period" not in df.columns:
        raise src.error(f"needs columns code, period (and max_count, description); found {', '.join(df.columns)}")
    return df.to_dict("records"), first + 1


def read_source(src: Source, opts: Options) -> pd.DataFrame:
    records, first_line = _rows(src)
    rows = []
    for i, r in enumerate(records):
        where = f"{'item' if first_line == 1 else 'line'} {first_line + i}"
        code = str(r.get("code", "")).strip().upper()
        if not code:
            raise InputError(f"{src.label}, {where}: empty code")
        try:
            count, days = parse_period(r.get("period", ""))
        except ValueError:
            raise InputError(
                f"{src.label}, {where}, column 'period': cannot read {r.get('period')!r} "
                "(write e.g. '1 per 365 days', '2 per 1 year', '1 per lifetime')"
            ) from None
        mc = str(r.get("max_count", "") or "").strip()
        if mc:
            if not re.fullmatch(r"\d+(\.0)?", mc) or int(float(mc)) < 1:
                raise InputError(f"{src.label}, {where}, column 'max_count': not a positive whole number: {mc!r}")
            if count is not None and count != int(float(mc)):
                raise InputError(f"{src.label}, {where}: max_count {mc} contradicts period {r.get('period')!r}")
            count = int(float(mc))
        if count is None:
            raise InputError(f"{src.label}, {where}: no max_count (give a max_count column or write '1 per 365 days')")
        rows.append((code, count, days, str(r.get("description", "") or "").strip()))
    out = pd.DataFrame(rows, columns=["code", "max_count", "period_days", "description"])
    out["period_days"] = out["period_days"].astype("Int64")
    return out


def read(paths: list[Path], opts: Options) -> list[Imported]:
    frames, names, shas = [], [], []
    for _path, srcs in sources(paths):
        for s in srcs:
            if s.member and not s.name.lower().endswith((".csv", ".yaml", ".yml")):
                continue
            frames.append(read_source(s, opts))
            names.append(s.name)
            shas.append(s.sha256)
    if not frames:
        raise InputError(f"{paths[0]}: no .csv/.yaml frequency table in it")
    df = pd.concat(frames, ignore_index=True)
    dup = df["code"].duplicated(keep=False) & df.duplicated(["code", "period_days"], keep=False)
    if dup.any():
        raise InputError(f"{', '.join(names)}: code {df['code'][dup].iloc[0]} has the same period twice")
    sha = shas[0] if len(shas) == 1 else sha256_bytes("\n".join(shas).encode())
    vf = opts.effective
    return [Imported("frequency_limits", default_version_id(opts, vf, "current"), vf, None, df, ", ".join(names), sha)]
