"""What one audit run produces: the findings table plus what a report needs around it."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

COVERAGE_COLUMNS = ["rule_id", "title", "category", "status", "lines_checked", "lines_not_checked", "reason"]


@dataclass
class AuditResult:
    findings: pd.DataFrame
    lines: pd.DataFrame
    coverage: pd.DataFrame
    rules: list = field(default_factory=list)
    provenance: dict = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
