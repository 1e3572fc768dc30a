"""Reports of an audit run: a content model (model.py) rendered as HTML, Excel, CSV/JSON and a
terminal summary. See docs/reports.md."""

from auditor.report.excel import write_xlsx
from auditor.report.html import write_html
from auditor.report.model import build_model
from auditor.report.tabular import write_findings_csv, write_findings_json
from auditor.report.terminal import print_summary
from auditor.report.writer import REPORT_FILES, write_reports

__all__ = ["build_model", "write_html", "write_xlsx", "write_findings_csv", "write_findings_json",
           "print_summary", "write_reports", "REPORT_FILES"]
