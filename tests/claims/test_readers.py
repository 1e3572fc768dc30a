"""Claim readers: formats, mapping, dates, bad values kept as data-quality findings, clear input errors."""

import pandas as pd
import pytest

from auditor.audit import read_claims
from auditor.claims.mapping import load_mapping
from auditor.claims.readers import read_file
from auditor.errors import InputError

HEADER = "claim_id,line_number,member_id,billing_npi,service_date,procedure_code,units,charge,dx_1"


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_csv_dates_in_three_forms_and_codes_normalized(tmp_path):
    p = write(tmp_path, "c.csv", HEADER + ",modifiers,diagnosis_codes\n"
              "C1,1,M1,1234567893,2026-03-02,99213,1,100,,25|59,e11.9;I10\n"
              "C1,2,M1,1234567893,20260302,j1100,2,\"$1,250.00\",,,\n"
              "C2,1,M2,1234567893,03/04/2026,36415,1,10,z00.00,,\n")
    lines, found, inputs = read_claims([p])
    assert len(lines) == 3 and inputs[0]["lines"] == 3
    assert list(lines["service_date"].dt.strftime("%Y-%m-%d")) == ["2026-03-02", "2026-03-02", "2026-03-04"]
    assert lines.loc[0, "modifier_1"] == "25" and lines.loc[0, "modifier_2"] == "59"
    assert lines.loc[0, "dx_1"] == "E119" and lines.loc[0, "dx_2"] == "I10"
    assert lines.loc[1, "procedure_code"] == "J1100"
    assert lines.loc[2, "dx_1"] == "Z0000"
    assert lines.loc[0, "rendering_npi"] == "1234567893"  # defaults to billing
    assert lines.loc[0, "claim_type"] == "professional"


def test_quoted_charge_with_thousands_separator(tmp_path):
    p = write(tmp_path, "c.csv", HEADER + "\nC1,1,M1,1234567893,2026-03-02,99213,1,\"1,250.50\",I10\n")
    lines, _, _ = read_claims([p])
    assert lines.loc[0, "charge"] == 1250.50


def test_bad_values_are_kept_and_flagged_not_dropped(tmp_path):
    p = write(tmp_path, "c.csv", HEADER + "\nC1,1,M1,1234567893,2026-13-45,99213,two,100,I10\n"
              "C1,x,M1,1234567893,2026-03-02,99213,1,100,I10\n")
    lines, _, _ = read_claims([p])
    assert len(lines) == 2
    assert lines.loc[0, "service_date__raw"] == "2026-13-45" and pd.isna(lines.loc[0, "service_date"])
    assert lines.loc[0, "units__raw"] == "two"
    assert lines.loc[1, "line_number__raw"] == "x"


def test_missing_required_column_names_file_and_column(tmp_path):
    p = write(tmp_path, "nodx.csv", "claim_id,line_number,member_id,billing_npi,service_date,procedure_code,units,charge\n"
              "C1,1,M1,1234567893,2026-03-02,99213,1,100\n")
    with pytest.raises(InputError) as err:
        read_file(p)
    assert "nodx.csv" in str(err.value) and "dx_1" in str(err.value)


def test_unknown_format_and_missing_file(tmp_path):
    p = write(tmp_path, "claims.json", "{}")
    with pytest.raises(InputError, match="unknown file format"):
        read_file(p)
    with pytest.raises(InputError, match="no such file"):
        read_file(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="empty"):
        read_file(write(tmp_path, "empty.csv", ""))


def test_corrupt_excel_and_parquet(tmp_path):
    with pytest.raises(InputError, match="Excel"):
        read_file(write(tmp_path, "bad.xlsx", "not a workbook"))
    with pytest.raises(InputError, match="Parquet"):
        read_file(write(tmp_path, "bad.parquet", "not parquet"))


def test_parquet_and_excel_round_trip(tmp_path):
    df = pd.DataFrame({"claim_id": ["C1", "C1"], "line_number": [1, 2], "member_id": ["M1", "M1"],
                       "billing_npi": [1234567893, 1234567893], "service_date": pd.to_datetime(["2026-03-02"] * 2),
                       "procedure_code": ["99213", "36415"], "units": [1, 1], "charge": [100.0, 12.5],
                       "dx_1": ["I10", "I10"]})
    df.to_parquet(tmp_path / "c.parquet")
    df.to_excel(tmp_path / "c.xlsx", index=False)
    for name in ("c.parquet", "c.xlsx"):
        lines, _, _ = read_claims([tmp_path / name])
        assert len(lines) == 2
        assert lines.loc[0, "billing_npi"] == "1234567893"
        assert lines.loc[1, "service_date"] == pd.Timestamp("2026-03-02")
        assert lines.loc[1, "charge"] == 12.5


def test_mapping_renames_columns(tmp_path):
    m = write(tmp_path, "map.yaml", "columns:\n  Claim Number: claim_id\n  Line: line_number\n  Patient: member_id\n"
              "  NPI: billing_npi\n  DOS: service_date\n  CPT: procedure_code\n  Qty: units\n  Amount: charge\n"
              "  Dx1: dx_1\ndefaults:\n  payer: MEDICARE\n")
    p = write(tmp_path, "theirs.csv", "Claim Number,Line,Patient,NPI,DOS,CPT,Qty,Amount,Dx1\n"
              "A-1,1,P9,1234567893,2026-03-02,99214,1,150,I10\n")
    lines, _, _ = read_claims([p], mapping=m)
    assert lines.loc[0, "claim_id"] == "A-1" and lines.loc[0, "payer"] == "MEDICARE"


def test_bad_mapping_file(tmp_path):
    m = write(tmp_path, "map.yaml", "columns:\n  X: not_a_column\n")
    with pytest.raises(InputError, match="not_a_column"):
        load_mapping(m)


def test_several_files_in_one_run_keep_source(tmp_path):
    a = write(tmp_path, "a.csv", HEADER + "\nC1,1,M1,1234567893,2026-03-02,99213,1,100,I10\n")
    b = write(tmp_path, "b.csv", HEADER + "\nC2,1,M2,1234567893,2026-03-02,99213,1,100,I10\n"
              "C2,2,M2,1234567893,2026-03-02,36415,1,10,I10\n")
    lines, _, inputs = read_claims([a, b])
    assert len(lines) == 3 and [i["lines"] for i in inputs] == [1, 2]
    assert list(lines["source_file"].astype(str)) == ["a.csv", "b.csv", "b.csv"]
    assert list(lines["source_row"]) == [1, 1, 2]
    assert list(lines["_row"]) == [0, 1, 2]


def test_ragged_row_becomes_a_finding_and_counts_reconcile(tmp_path):
    from auditor.audit import run_audit

    p = write(tmp_path, "c.csv", HEADER + "\nC1,1,M1,1234567893,2026-03-02,99213,1,100,I10\n"
              "C2,1,M2,1234567893,2026-03-02,99213,1,$1,250.00,I10\n"
              "C3,1,M3,1234567893,2026-03-02,99213,1,100,I10\n")
    res = run_audit([p], select=["DQ010"], as_of=None)
    assert res.summary["lines_read"] == 3 and res.summary["lines_audited"] == 2
    assert res.summary["rows_rejected"] == 1
    f = res.findings
    assert list(f["rule_id"]) == ["DQ010"] and f.loc[0, "claim_id"] == "C2"
    assert "Row 2 of c.csv has 10 fields, expected 9" in f.loc[0, "message"]


def test_dates_out_of_range_are_unreadable_not_a_crash(tmp_path):
    p = write(tmp_path, "c.csv", HEADER + ",service_date_to\nC1,1,M1,1234567893,2026-03-02,99213,1,100,I10,9999-12-31\n")
    lines, _, _ = read_claims([p])
    assert pd.isna(lines.loc[0, "service_date_to"]) and lines.loc[0, "service_date_to__raw"] == "9999-12-31"
