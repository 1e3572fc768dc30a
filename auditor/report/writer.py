"""Write all report files of a run into one folder, atomically."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

REPORT_FILES = {"csv": "findings.csv", "json": "findings.json", "html": "report.html", "xlsx": "report.xlsx"}


def write_reports(result, out_dir: str | os.PathLike, formats=("csv", "json", "html", "xlsx"),
                  extra_sections: list | None = None, title: str | None = None) -> dict[str, Path]:
    """Write findings.csv, findings.json, report.html and report.xlsx into `out_dir` (created).

    Every file is first written into a temporary folder beside `out_dir`; only when all are
    complete is each moved into place with os.replace. A reader never sees a half-written file,
    and a failure leaves `out_dir` as it was (and no temporary files).
    Returns {format: final path}.
    """
    from auditor.report.excel import write_xlsx
    from auditor.report.html import write_html
    from auditor.report.model import build_model
    from auditor.report.tabular import write_findings_csv, write_findings_json

    unknown = set(formats) - set(REPORT_FILES)
    if unknown:
        raise ValueError(f"unknown report format(s): {', '.join(sorted(unknown))}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model = build_model(result, title=title, extra_sections=extra_sections) \
        if {"html", "xlsx", "json"} & set(formats) else None
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        staged = {}
        for fmt in formats:
            target = stage / REPORT_FILES[fmt]
            if fmt == "csv":
                write_findings_csv(result.findings, target)
            elif fmt == "json":
                write_findings_json(result.findings, target, summary=model["summary"])
            elif fmt == "html":
                write_html(model, target)
            else:
                write_xlsx(model, target)
            staged[fmt] = target
        written = {}
        for fmt, src in staged.items():
            dst = out / REPORT_FILES[fmt]
            os.replace(src, dst)
            written[fmt] = dst
        return written
    finally:
        shutil.rmtree(stage, ignore_errors=True)
