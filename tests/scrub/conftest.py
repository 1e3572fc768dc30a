import pytest
from scrub_data import CLAIMS, EXPECTED, build_837


@pytest.fixture(scope="session")
def sample_refdata(tmp_path_factory):
    """examples/refdata's SAMPLE files imported into a reference-data folder (as import.sh does)."""
    from auditor.engine.perclaim.samples import import_example_refdata

    return import_example_refdata(tmp_path_factory.mktemp("sample-refdata"))


@pytest.fixture(scope="session")
def claims_837(tmp_path_factory):
    """An 837P with one claim per verdict (CLAIMS / EXPECTED)."""
    p = tmp_path_factory.mktemp("x12") / "mixed.837"
    p.write_bytes(build_837(CLAIMS))
    return p


@pytest.fixture(scope="session")
def clean_837(tmp_path_factory):
    """An 837P whose claims all pass or only warn."""
    p = tmp_path_factory.mktemp("x12") / "clean.837"
    p.write_bytes(build_837([c for c in CLAIMS if EXPECTED[c["id"]] in ("pass", "warn")]))
    return p
