import pytest


@pytest.fixture(scope="session")
def sample_refdata(tmp_path_factory):
    """examples/refdata's SAMPLE files imported into a reference-data folder (as import.sh does)."""
    from auditor.engine.perclaim.samples import import_example_refdata

    return import_example_refdata(tmp_path_factory.mktemp("sample-refdata"))
