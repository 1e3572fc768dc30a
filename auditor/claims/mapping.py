"""Column mapping files: rename a user's columns to the canonical ones.

A mapping file is YAML::

    columns:            # their column -> canonical column
      Claim Number: claim_id
      Line: line_number
      DOS: service_date
    defaults:           # value for a canonical column the file does not have
      claim_type: professional
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from auditor.claims.columns import CANONICAL, COMBINED
from auditor.errors import InputError


@dataclass
class Mapping:
    columns: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)


def load_mapping(path: str | Path | None) -> Mapping:
    """Read and check a mapping file; unknown target columns are an error naming the entry."""
    if path is None:
        return Mapping()
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise InputError(f"{p}: cannot read mapping file: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{p}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(f"{p}: a mapping file holds 'columns:' and optionally 'defaults:'")
    unknown_keys = set(data) - {"columns", "defaults"}
    if unknown_keys:
        raise InputError(f"{p}: unknown key(s) {', '.join(sorted(unknown_keys))}; expected 'columns' and 'defaults'")
    allowed = set(CANONICAL) | set(COMBINED)
    cols = {str(k): str(v) for k, v in (data.get("columns") or {}).items()}
    for src, dst in cols.items():
        if dst not in allowed:
            raise InputError(f"{p}: columns: '{src}' maps to unknown canonical column '{dst}'")
    defaults = {str(k): "" if v is None else str(v) for k, v in (data.get("defaults") or {}).items()}
    for dst in defaults:
        if dst not in allowed:
            raise InputError(f"{p}: defaults: unknown canonical column '{dst}'")
    return Mapping(cols, defaults)
