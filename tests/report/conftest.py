"""Session fixtures of the report tests: the AuditResult, and its reports written to disk once."""

import pytest
from report_fixtures import EXTRA, make_result


@pytest.fixture(scope="session")
def result():
    return make_result()


@pytest.fixture(scope="session")
def reports(result, tmp_path_factory):
    """All four reports of `result` (with extra sections), written once."""
    from auditor.report import write_reports

    out = tmp_path_factory.mktemp("run") / "out"
    return write_reports(result, out, extra_sections=EXTRA)
