"""Bad files end in one InputError that names the file (and the line / column) - never a traceback."""

from __future__ import annotations

import re

import pytest

from auditor.errors import InputError
from auditor.refdata.importers import import_files


def bad_copy(fx, tmp_path, name, old, new, as_name=None):
    """A copy of fixture `name` with the first `old` replaced by `new`."""
    text = fx(name).read_text()
    assert old in text, old
    p = tmp_path / (as_name or name.split("/")[-1])
    p.write_text(text.replace(old, new, 1))
    return p


def expect(kind, path, *patterns, **opts):
    with pytest.raises(InputError) as ei:
        import_files(kind, [path], **opts)
    msg = str(ei.value)
    assert path.name in msg, msg
    for p in patterns:
        assert re.search(p, msg), f"{p!r} not in {msg!r}"
    return msg


# --- generic file problems ----------------------------------------------------------------------


def test_missing_file(tmp_path):
    expect("mue", tmp_path / "MCR_MUE_PractitionerServices_Eff_01-01-2026.csv", "not found")


def test_directory(tmp_path):
    d = tmp_path / "dir.csv"
    d.mkdir()
    expect("mue", d, "directory")


def test_empty_file(tmp_path):
    p = tmp_path / "ccipra-v321r0-f1.txt"
    p.write_text("")
    expect("ptp", p, "header")


def test_corrupt_zip(tmp_path):
    p = tmp_path / "ccipra-v321r0-f1.zip"
    p.write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    expect("ptp", p, "zip")


def test_zip_without_the_table(zipper):
    z = zipper("ccipra-v321r0.zip", {"readme.pdf": b"%PDF"})
    expect("ptp", z, "no NCCI PTP file", "readme.pdf")


def test_corrupt_xlsx(tmp_path):
    p = tmp_path / "MCR_MUE_PractitionerServices_Eff_01-01-2026.xlsx"
    p.write_bytes(b"this is not a workbook")
    expect("mue", p, "xlsx")


def test_wrong_kind_of_file(fx, tmp_path):
    p = tmp_path / "ccipra-v321r0-f1.txt"
    p.write_bytes(fx("MCR_MUE_PractitionerServices_Eff_04-01-2026.csv").read_bytes())
    expect("ptp", p, "Column 1")


# --- PTP ----------------------------------------------------------------------------------------


def test_ptp_bad_date_names_line_and_column(fx, tmp_path):
    p = bad_copy(fx, tmp_path, "ccipra-v321r0-f1.txt", "12002\t12001\t\t20260401", "12002\t12001\t\t2026-13-45")
    expect("ptp", p, r"line 8\b", "Effective Date", "2026-13-45")


def test_ptp_bad_modifier_indicator(fx, tmp_path):
    p = bad_copy(fx, tmp_path, "ccipra-v321r0-f1.txt", "20260331\t1", "20260331\t5")
    expect("ptp", p, r"line 9\b", "Modifier", "'5'")


def test_ptp_bad_code(fx, tmp_path):
    p = bad_copy(fx, tmp_path, "ccipra-v321r0-f2.txt", "93000\t93010", "93000\t9301")
    expect("ptp", p, "Column 2", "'9301'")


def test_ptp_row_with_extra_fields(fx, tmp_path):
    p = bad_copy(fx, tmp_path, "ccipra-v321r0-f2.txt", "Mutually exclusive procedures", "Mutually\texclusive\tprocedures")
    expect("ptp", p, "expected 7 tab-separated fields", r"line 10\b")


# --- MUE ----------------------------------------------------------------------------------------


def test_mue_bad_value(fx, tmp_path):
    name = "MCR_MUE_PractitionerServices_Eff_04-01-2026.csv"
    p = bad_copy(fx, tmp_path, name, "17003,13,", "17003,thirteen,")
    expect("mue", p, "Practitioner Services MUE Values", "'thirteen'", r"line \d+")


def test_mue_bad_indicator(fx, tmp_path):
    name = "MCR_MUE_PractitionerServices_Eff_04-01-2026.csv"
    p = bad_copy(fx, tmp_path, name, "1 Line Edit", "4 Something Else")
    expect("mue", p, "Adjudication Indicator")


def test_mue_no_header(tmp_path):
    p = tmp_path / "MCR_MUE_PractitionerServices_Eff_04-01-2026.csv"
    p.write_text("a,b,c\n1,2,3\n")
    expect("mue", p, "HCPCS/CPT Code")


# --- ICD-10-CM ----------------------------------------------------------------------------------


def test_icd10cm_bad_line(fx, tmp_path):
    p = bad_copy(fx, tmp_path, "icd10cm_order_2026.txt", "00004 E119    1", "00004 E119    X")
    expect("icd10cm", p, r"line 4\b", "order file")


# --- HCPCS --------------------------------------------------------------------------------------


def test_hcpcs_bad_date(fx, tmp_path):
    p = bad_copy(fx, tmp_path, "HCPC2026_APR_ANWEB.csv", "20260401,20260401", "2026041,20260401")
    expect("hcpcs", p, "ADD DT", "'2026041'", r"line \d+")


def test_hcpcs_unknown_recid(fx, tmp_path):
    p = bad_copy(fx, tmp_path, "HCPC2026_APR_ANWEB.csv", "G9999,0100,3", "G9999,0100,5")
    expect("hcpcs", p, "RECID", "'5'")


def test_hcpcs_missing_column(fx, tmp_path):
    p = bad_copy(fx, tmp_path, "HCPC2026_APR_ANWEB.csv", "TERM DT", "TERMINATED")
    expect("hcpcs", p, "missing column", "term")


def test_hcpcs_fixed_width_unrecognised(tmp_path):
    p = tmp_path / "HCPC2026_APR_ANWEB_v2.txt"
    p.write_text("G0439001003" + "x" * 300 + "\n")
    expect("hcpcs", p, "ADD DT", "CSV or .xlsx")


# --- AOC ----------------------------------------------------------------------------------------


def test_aoc_bad_julian_date(fx, tmp_path):
    p = bad_copy(fx, tmp_path, "AOC_V2026Q3.csv", "2022365", "2023366")  # 2023 has 365 days
    expect("aoc", p, "AOC Deletion Date", "'2023366'", r"line 5\b")


def test_aoc_bad_type(fx, tmp_path):
    p = bad_copy(fx, tmp_path, "AOC_V2026Q3.csv", "11045,11042,1", "11045,11042,4")
    expect("aoc", p, "AOC Edit Type")


def test_aoc_missing_column(fx, tmp_path):
    p = bad_copy(fx, tmp_path, "AOC_V2026Q3.csv", "Primary Code Deletion Date", "Something")
    expect("aoc", p, "primary_deletion")


# --- MPFS ---------------------------------------------------------------------------------------


def test_mpfs_bad_global_days(fx, tmp_path):
    p = bad_copy(fx, tmp_path, "PPRRVU2026_Apr_nonQPP.csv", ",MMM,", ",QQQ,")
    expect("mpfs", p, "GLOB DAYS", "'QQQ'", r"line 14\b")


def test_mpfs_no_header(tmp_path):
    p = tmp_path / "PPRRVU2026_Apr_nonQPP.csv"
    p.write_text("x,y\n1,2\n")
    expect("mpfs", p, "HCPCS, MOD")


def test_mpfs_no_release(fx, tmp_path):
    p = tmp_path / "rvu.csv"
    p.write_bytes(fx("PPRRVU2026_Apr_nonQPP.csv").read_bytes())
    expect("mpfs", p, "--effective")


# --- MCE, LCD, frequency ------------------------------------------------------------------------


def test_mce_bad_code_type(fx, tmp_path):
    p = bad_copy(fx, tmp_path, "MCE_Simple_Code_Edits_v38.txt", "\tD\tO80", "\tX\tO80")
    expect("mce", p, "ICD_Code_Type", "'X'")


def test_mce_two_versions(fx, tmp_path):
    p = bad_copy(fx, tmp_path, "MCE_Simple_Code_Edits_v38.txt", "38\t10\t4\tC", "39\t10\t4\tC")
    expect("mce", p, "one MCE_Version")


def test_lcd_without_code_column(tmp_path):
    p = tmp_path / "article_x_hcpc_code.csv"
    p.write_text("article_id,article_version,something\n1,1,x\n")
    expect("lcd", p, "code column")


def test_frequency_bad_period(fx, tmp_path):
    p = bad_copy(fx, tmp_path, "frequency.csv", "1 per 10 years", "once in a blue moon")
    expect("frequency", p, "period", "blue moon", r"line 6\b")


def test_frequency_contradiction_and_missing_columns(fx, tmp_path):
    p = bad_copy(fx, tmp_path, "frequency.csv", "97110,2,2 per", "97110,3,2 per")
    expect("frequency", p, "contradicts")
    q = tmp_path / "limits.csv"
    q.write_text("code,count\nG0439,1\n")
    expect("frequency", q, "needs columns")


def test_frequency_bad_yaml(tmp_path):
    p = tmp_path / "limits.yaml"
    p.write_text("limits: [unclosed\n")
    expect("frequency", p, "YAML")


def test_header_without_rows(fx, tmp_path):
    p = tmp_path / "MCR_MUE_PractitionerServices_Eff_04-01-2026.csv"
    text = fx("MCR_MUE_PractitionerServices_Eff_04-01-2026.csv").read_text()
    p.write_text(text[: text.index("17003")])
    expect("mue", p, "no data rows")
