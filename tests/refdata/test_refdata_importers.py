"""Each importer on files in the CMS layouts: plain, zipped and .xlsx variants."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from auditor.errors import InputError
from auditor.refdata.importers import import_files, import_into
from auditor.refdata.importers.frequency import parse_period
from auditor.refdata.importers.hcpcs import version_from_name as hcpcs_release
from auditor.refdata.importers.mpfs import release_from_name
from auditor.refdata.importers.ptp import ncci_version

# ------------------------------------------------------------------------------------------ PTP


@pytest.mark.parametrize(
    "name, vid, start",
    [
        ("ccipra-v322r0-f1.txt", "v322r0", date(2026, 7, 1)),
        ("ccipra-v320r0-f4.zip", "v320r0", date(2026, 1, 1)),
        ("ccioph-v313r1-f2.TXT", "v313r1", date(2025, 10, 1)),
        ("ccipra-v271r0-f1.txt", "v271r0", date(2021, 4, 1)),
    ],
)
def test_ncci_version_from_name(name, vid, start):
    assert ncci_version(name) == (vid, start)


def test_ncci_version_absent_or_invalid():
    assert ncci_version("edits.txt") is None
    assert ncci_version("ccipra-v325r0.txt") is None  # quarter 5 does not exist


def test_ptp_practitioner_text(fx):
    (imp,) = import_files("ncci-ptp", [fx("ccipra-v321r0-f1.txt")])
    assert (imp.kind, imp.version_id, imp.valid_from, imp.part) == ("ptp_practitioner", "v321r0", date(2026, 4, 1), "f1")
    t = imp.frame
    assert len(t) == 7 and list(t.columns)[:2] == ["column_1", "column_2"]
    row = t.set_index(["column_1", "column_2"]).loc[("17110", "17000")]
    assert row.effective_date == pd.Timestamp("2020-01-01") and row.deletion_date == pd.Timestamp("2026-03-31")
    assert pd.isna(t.set_index(["column_1", "column_2"]).loc[("20610", "99213"), "deletion_date"])
    assert t.modifier_indicator.dtype == "int8" and set(t.modifier_indicator) == {0, 1, 9}
    assert t.rationale.iloc[0] == "CPT Manual or CMS manual coding instruction"


def test_ptp_prior_1996_and_hospital_crlf(fx):
    (imp,) = import_files("ptp", [fx("ccioph-v322r0-f1.txt")])
    assert imp.kind == "ptp_hospital" and imp.valid_from == date(2026, 7, 1)
    t = imp.frame.set_index("column_2")
    assert t.loc["45378", "prior_1996"] and not t.loc["96361", "prior_1996"]
    assert not t.rationale.str.endswith("\r").any()


def test_ptp_zip_with_parts_and_readme(fx, zipper, store):
    z = zipper(
        "ccipra-v321r0.zip",
        {
            "ccipra-v321r0-f1.txt": fx("ccipra-v321r0-f1.txt"),
            "ccipra-v321r0-f2.txt": fx("ccipra-v321r0-f2.txt"),
            "NCCI_PTP_README.pdf": b"%PDF-1.4 not a table",
        },
    )
    res = import_into(store, "ncci-ptp", [z])
    assert [i.part for i, _ in res] == ["f1", "f2"]
    (v,) = store.versions("ptp_practitioner")
    assert v.rows == 11 and v.version_id == "v321r0"


def test_ptp_zip_prefers_text_over_xlsx(fx, zipper, xlsx):
    x = xlsx("ccipra-v321r0-f1.xlsx", [["notice"], ["Column 1", "Column 2"]])
    z = zipper("ccipra-v321r0-f1.zip", {"ccipra-v321r0-f1.txt": fx("ccipra-v321r0-f1.txt"), "ccipra-v321r0-f1.xlsx": x})
    (imp,) = import_files("ncci-ptp", [z])
    assert imp.source == "ccipra-v321r0-f1.txt" and len(imp.frame) == 7


def test_ptp_xlsx(xlsx):
    rows = [
        ["CPT only copyright 2025 American Medical Association.  All rights reserved."],
        ["Column1/Column2 Edits"],
        ["Column 1", "Column 2", "*=in existence\nprior to 1996", "Effective\nDate", "Deletion\nDate\n*=no data",
         "Modifier\n0=not allowed\n1=allowed\n9=not applicable", "PTP Edit Rationale"],
        ["45380", "45378", "*", 19960101, "*", 1, "Standards of medical / surgical practice"],
        ["93000", "93010", None, "20100101", 20251231, "0", "CPT Manual or CMS manual coding instruction"],
        [None, None, None, None, None, None, None],
    ]
    (imp,) = import_files("ncci-ptp", [xlsx("ccioph-v320r0-f3.xlsx", rows, sheets_before=1)])
    assert imp.kind == "ptp_hospital" and imp.part == "f3" and imp.version_id == "v320r0"
    t = imp.frame
    assert len(t) == 2 and t.prior_1996.tolist() == [True, False]
    assert t.deletion_date.tolist()[1] == pd.Timestamp("2025-12-31")
    assert t.effective_date.tolist()[0] == pd.Timestamp("1996-01-01")


def test_ptp_setting_option_and_effective(fx, tmp_path):
    p = tmp_path / "edits.txt"
    p.write_bytes(fx("ccipra-v321r0-f1.txt").read_bytes())
    with pytest.raises(InputError, match="--setting"):
        import_files("ncci-ptp", [p])
    (imp,) = import_files("ncci-ptp", [p], setting="outpatient", effective=date(2026, 4, 1))
    assert imp.kind == "ptp_hospital" and imp.version_id == "2026-04-01" and imp.valid_from == date(2026, 4, 1)
    (imp,) = import_files("ncci-ptp", [p], setting="practitioner")
    assert imp.valid_from == date(2026, 4, 1) and "newest effective date" in imp.note


# ------------------------------------------------------------------------------------------ MUE


def test_mue_practitioner_csv(fx):
    (imp,) = import_files("mue", [fx("MCR_MUE_PractitionerServices_Eff_04-01-2026.csv")])
    assert (imp.kind, imp.version_id, imp.valid_from) == ("mue_practitioner", "2026-04-01", date(2026, 4, 1))
    t = imp.frame.set_index("code")
    assert t.loc["17003", "mue_value"] == 13 and t.loc["17003", "mai"] == 2
    assert t.loc["17003", "mai_text"] == "2 Date of Service Edit: Policy"
    assert t.loc["20610", "mai"] == 1 and t.loc["99213", "mai"] == 3
    assert t.loc["99213", "rationale"] == "Clinical: Data"


@pytest.mark.parametrize(
    "name, kind",
    [("MCR_MUE_OutpatientHospitalServices_Eff_04-01-2026.csv", "mue_hospital"), ("MCR_MUE_DMESupplierServices_Eff_04-01-2026.csv", "mue_dme")],
)
def test_mue_settings(fx, name, kind):
    (imp,) = import_files("mue", [fx(name)])
    assert imp.kind == kind and imp.valid_from == date(2026, 4, 1)


def test_mue_setting_from_header_and_effective_option(fx, tmp_path):
    p = tmp_path / "mue.csv"
    p.write_bytes(fx("MCR_MUE_OutpatientHospitalServices_Eff_04-01-2026.csv").read_bytes())
    with pytest.raises(InputError, match="--effective"):
        import_files("mue", [p])
    (imp,) = import_files("mue", [p], effective=date(2026, 10, 1))
    assert imp.kind == "mue_hospital" and imp.version_id == "2026-10-01"


def test_mue_zip_and_xlsx(fx, zipper, xlsx):
    z = zipper("MCR_MUE_PractitionerServices_Eff_07-01-2026.zip",
               {"MCR_MUE_PractitionerServices_Eff_07-01-2026.csv": fx("MCR_MUE_PractitionerServices_Eff_07-01-2026.csv")})
    (imp,) = import_files("mue", [z])
    assert imp.valid_from == date(2026, 7, 1) and len(imp.frame) == 5
    x = xlsx("MCR_MUE_DMESupplierServices_Eff_01-01-2026.xlsx", [
        ["Current Procedural Terminology (CPT) codes ...\n\nApplicable FARS/DFARS Restrictions Apply"],
        ["HCPCS/\nCPT Code", "DME Supplier Services MUE Values", "MUE Adjudication Indicator", "MUE Rationale"],
        ["E0110", 1, "3 Date of Service Edit: Clinical", "Clinical: Data"],
        ["A4253", 4.0, "3", "Clinical: Data"],
    ])
    (imp,) = import_files("mue", [x])
    assert imp.kind == "mue_dme" and imp.frame.mue_value.tolist() == [1, 4]
    assert imp.frame.mai_text.tolist()[1] == "3 Date of Service Edit: Clinical"


# ------------------------------------------------------------------------------------ ICD-10-CM


def test_icd10cm_order_file(fx):
    (imp,) = import_files("icd10cm", [fx("icd10cm_order_2026.txt")])
    assert (imp.version_id, imp.valid_from, imp.valid_to) == ("FY2026", date(2025, 10, 1), date(2026, 9, 30))
    t = imp.frame.set_index("code")
    assert not t.loc["E11", "billable"] and t.loc["E119", "billable"]
    assert t.loc["E119", "description"] == "Type 2 diabetes mellitus without complications"


def test_icd10cm_zip_and_fiscal_year_option(fx, zipper, tmp_path):
    z = zipper("2021-code-descriptions-tabular-order.zip", {
        "icd10cm_order_2021.txt": fx("icd10cm_order_2025.txt"),
        "icd10cm_codes_2021.txt": b"A000    Cholera due to Vibrio cholerae 01, biovar cholerae\n",
        "icd10cm_order_addenda_2021.txt": b"whatever\n",
    })
    (imp,) = import_files("icd10cm", [z])
    assert imp.version_id == "FY2021" and (imp.valid_from, imp.valid_to) == (date(2020, 10, 1), date(2021, 9, 30))
    p = tmp_path / "order.txt"
    p.write_bytes(fx("icd10cm_order_2025.txt").read_bytes())
    with pytest.raises(InputError, match="--fiscal-year"):
        import_files("icd10cm", [p])
    (imp,) = import_files("icd10cm", [p], fiscal_year=2024)
    assert imp.valid_to == date(2024, 9, 30)


def test_icd10cm_april_update(fx, tmp_path):
    p = tmp_path / "icd10cm-order-April-2025.txt"
    p.write_bytes(fx("icd10cm_order_2025.txt").read_bytes())
    (imp,) = import_files("icd10cm", [p])
    assert imp.version_id == "FY2025-apr" and (imp.valid_from, imp.valid_to) == (date(2025, 4, 1), date(2025, 9, 30))


# ---------------------------------------------------------------------------------------- HCPCS


def test_hcpcs_csv(fx):
    (imp,) = import_files("hcpcs", [fx("HCPC2026_APR_ANWEB.csv")])
    assert imp.kind == "hcpcs" and imp.valid_from == date(2026, 4, 1)
    t = imp.frame.set_index("code")
    assert set(t.record_type) == {"procedure", "modifier"}
    assert t.loc["25", "record_type"] == "modifier"  # "   25" padded in the file
    assert t.loc["G0202", "term_date"] == pd.Timestamp("2017-12-31") and pd.isna(t.loc["G0439", "term_date"])
    assert t.loc["G9999", "add_date"] == pd.Timestamp("2026-04-01") and t.loc["G9999", "action_code"] == "A"
    assert t.loc["G0438", "description"].endswith("visit (test continuation)")  # RECID 4 appended
    assert len(t) == 7 and t.index.is_unique


def test_hcpcs_fixed_width_matches_csv(fx):
    (a,) = import_files("hcpcs", [fx("HCPC2026_APR_ANWEB.csv")])
    (b,) = import_files("hcpcs", [fx("HCPC2026_APR_ANWEB_v2.txt")])
    cols = ["code", "record_type", "add_date", "effective_date", "term_date", "action_code"]
    pd.testing.assert_frame_equal(a.frame[cols].reset_index(drop=True), b.frame[cols].reset_index(drop=True))


def test_hcpcs_zip_picks_one_format_and_xlsx(fx, zipper, xlsx):
    z = zipper("2026-april-alpha-numeric-hcpcs-file.zip", {
        "HCPC2026_APR_ANWEB_v2.txt": fx("HCPC2026_APR_ANWEB_v2.txt"),
        "HCPC2026_APR_ANWEB.csv": fx("HCPC2026_APR_ANWEB.csv"),
        "HCPC2026_recordlayout.txt": b"layout",
        "HCPC2026_APR_TRANS_ALL.xlsx": b"PK not really",
    })
    (imp,) = import_files("hcpcs", [z])
    assert imp.source == "HCPC2026_APR_ANWEB.csv"
    rows = [["HCPC", "SEQNUM", "RECID", "LONG DESCRIPTION", "SHORT DESCRIPTION", "ADD DT", "ACT EFF DT", "TERM DT", "ACTION CD"],
            ["G0439", "0010", 3, "Annual wellness visit", "AWV", 20110101, 20110101, None, "N"],
            ["   XS", "0010", 7, "Separate structure", "Separate structure", "20150101", "20150101", "", "N"]]
    (imp,) = import_files("hcpcs", [xlsx("HCPC2026_JUL_ANWEB.xlsx", rows)])
    assert imp.valid_from == date(2026, 7, 1) and imp.frame.code.tolist() == ["G0439", "XS"]


def test_hcpcs_release_from_name():
    assert hcpcs_release("HCPC2026_OCT_ANWEB.csv") == date(2026, 10, 1)
    assert hcpcs_release("january-2026-alpha-numeric-hcpcs-file.zip") == date(2026, 1, 1)
    assert hcpcs_release("hcpcs.csv") is None


# ------------------------------------------------------------------------------------------ AOC


def test_aoc_tab_text_with_notice(fx):
    (imp,) = import_files("aoc", [fx("AOC_V2026Q2.txt")])
    assert imp.kind == "aoc" and imp.valid_from == date(2026, 4, 1) and imp.version_id == "2026-04-01"
    t = imp.frame.set_index("addon_code")
    assert t.loc["17003", "primary_code"] == "17000" and t.loc["17003", "aoc_type"] == 1
    assert t.loc["99354", "addon_deletion"] == pd.Timestamp("2022-12-31")  # Julian 2022365
    assert t.loc["96375", "primary_effective"] == pd.Timestamp("2024-12-31")  # Julian 2024366 (leap year)
    assert t.loc["20985", "primary_code"] == "CCCCC" and t.loc["20985", "aoc_type"] == 2
    assert pd.isna(t.loc["17003", "addon_deletion"])


def test_aoc_csv_zip_and_xlsx(fx, zipper, xlsx):
    z = zipper("AOC_V2026Q3.zip", {"AOC_V2026Q3.csv": fx("AOC_V2026Q3.csv"), "AOC_V2026Q3_ReadMe.pdf": b"%PDF"})
    (imp,) = import_files("aoc", [z])
    assert imp.valid_from == date(2026, 7, 1) and len(imp.frame) == 7
    rows = [["Add-On Code", "Primary Code", "AOC Edit Type", "AOC Effective Date", "AOC Deletion Date",
             "Primary Code Effective Date", "Primary Code Deletion Date"],
            ["17003", "17000", 1, 2013001, "*", 2013001, "*"]]
    (imp,) = import_files("aoc", [xlsx("aoc.xlsx", rows)], effective=date(2026, 10, 1))
    assert imp.frame.addon_effective.tolist() == [pd.Timestamp("2013-01-01")] and imp.version_id == "2026-10-01"


# ----------------------------------------------------------------------------------------- MPFS


def test_mpfs_csv(fx):
    (imp,) = import_files("mpfs", [fx("PPRRVU2026_Apr_nonQPP.csv")])
    assert imp.kind == "mpfs" and imp.valid_from == date(2026, 4, 1)
    t = imp.frame
    assert set(t.glob_days) == {"000", "010", "090", "XXX", "YYY", "ZZZ", "MMM"}
    r = t[(t.code == "27447")].iloc[0]
    assert (r.glob_days, r.mult_proc, r.bilat_surg, r.asst_surg, r.co_surg, r.team_surg) == ("090", "2", "1", "2", "1", "0")
    assert t[t.code == "71046"].modifier.tolist() == ["26", "TC"]
    assert t[t.code == "20610"].modifier.isna().all()


def test_mpfs_release_names():
    assert release_from_name("PPRRVU2026_Jul_nonQPP.csv") == date(2026, 7, 1)
    assert release_from_name("PPRRVU26_OCT.csv") == date(2026, 10, 1)
    assert release_from_name("x.csv", "RVU26B.zip") == date(2026, 4, 1)
    assert release_from_name("x.csv") is None


def test_mpfs_zip_and_xlsx(fx, zipper, xlsx):
    data = fx("PPRRVU2026_Apr_nonQPP.csv")
    z = zipper("RVU26B.zip", {"PPRRVU2026_Apr_QPP.csv": data, "PPRRVU2026_Apr_nonQPP.csv": data,
                              "GPCI2026.csv": b"x", "RVU26B.pdf": b"%PDF"})
    (imp,) = import_files("mpfs", [z])
    assert imp.source == "PPRRVU2026_Apr_nonQPP.csv"
    import csv as _csv

    rows = list(_csv.reader(data.read_text().splitlines()))
    for r in rows[10:]:
        r[14] = int(r[14]) if r[14].isdigit() else r[14]  # a spreadsheet turns 010 into 10
    (imp,) = import_files("mpfs", [xlsx("PPRRVU2026_Oct_nonQPP.xlsx", rows)])
    assert imp.valid_from == date(2026, 10, 1)
    assert imp.frame.set_index("code").loc["10060", "glob_days"] == "010"


# ------------------------------------------------------------------------------------------ MCE


def test_mce_newer_version(fx):
    mce, ages = import_files("mce", [fx("MCE_Simple_Code_Edits_v38.txt")])
    assert (mce.kind, mce.version_id, mce.valid_from) == ("mce", "v38", date(2020, 10, 1))
    assert ("Female_Only", "P", "0UT90ZZ") in set(zip(mce.frame.edit_type, mce.frame.code_type, mce.frame.code))
    g = ages.frame.set_index("group")
    assert g.loc["maternity", ["min_age", "max_age"]].tolist() == [9, 64]
    _, ages = import_files("mce", [fx("MCE_Simple_Code_Edits_v38.txt")], age_groups="maternity=12-55, adult=14-124")
    g = ages.frame.set_index("group")
    assert g.loc["maternity", "max_age"] == 55 and g.loc["adult", "min_age"] == 14


def test_mce_imported_takes_over_from_builtin(fx, store):
    from auditor.refdata.store import RefStore

    import_into(store, "mce", [fx("MCE_Simple_Code_Edits_v38.txt")])
    s = RefStore(store.root, builtin=True)
    got = s.version_for_dates("mce_age_groups", pd.Series(pd.to_datetime(["2020-09-30", "2020-10-01"]))).tolist()
    assert got == ["v37-builtin", "v38"]


def test_mce_bad_age_groups(fx):
    with pytest.raises(InputError, match="age-groups"):
        import_files("mce", [fx("MCE_Simple_Code_Edits_v38.txt")], age_groups="maternity=60-9")


# ------------------------------------------------------------------------------------------ LCD


def test_lcd_files(fx):
    imps = import_files("lcd", [fx("lcd/article_x_hcpc_code.csv"), fx("lcd/article_x_icd10_covered.csv"),
                                fx("lcd/article_x_icd10_noncovered.csv")])
    by = {i.kind: i for i in imps}
    assert set(by) == {"lcd_hcpc", "lcd_icd10_covered", "lcd_icd10_noncovered"}
    # only the latest version of article 1001 counts: 82652 was dropped in version 2
    assert set(zip(by["lcd_hcpc"].frame.article_id, by["lcd_hcpc"].frame.code)) == {("A1001", "82306"), ("A1002", "93000")}
    assert set(by["lcd_icd10_covered"].frame.code) == {"E559", "M810", "I4891", "R002"}
    assert by["lcd_icd10_noncovered"].frame.code.tolist() == ["Z0000"]
    assert all(i.version_id == "current" and i.valid_from is None for i in imps)


def test_lcd_nested_mcd_zip(fx, zipper):
    inner = zipper("current_article_csv.zip", {
        "article_x_hcpc_code.csv": fx("lcd/article_x_hcpc_code.csv"),
        "article_x_icd10_covered.csv": fx("lcd/article_x_icd10_covered.csv"),
        "article_x_icd10_noncovered.csv": fx("lcd/article_x_icd10_noncovered.csv"),
        "article.csv": b"article_id,title\n1001,x\n",
        "article_x_contractor.csv": b"article_id,contractor_id\n1001,1\n",
    })
    outer = zipper("current_article.zip", {"current_article_csv.zip": inner, "README.txt": b"readme"})
    imps = import_files("lcd", [outer], effective=date(2026, 1, 1))
    assert sorted(i.kind for i in imps) == ["lcd_hcpc", "lcd_icd10_covered", "lcd_icd10_noncovered"]
    assert all(i.version_id == "2026-01-01" for i in imps)


# ------------------------------------------------------------------------------------ frequency


@pytest.mark.parametrize(
    "text, expected",
    [("1 per 365 days", (1, 365)), ("2 per 1 year", (2, 365)), ("1 per lifetime", (1, None)), ("90 days", (None, 90)),
     ("1 per 12 months", (1, 365)), ("3 / week", (3, 7)), ("1 per 10 years", (1, 3650)), ("year", (None, 365))],
)
def test_parse_period(text, expected):
    assert parse_period(text) == expected


def test_frequency_csv_and_yaml(fx, store):
    (imp,) = import_files("frequency", [fx("frequency.csv"), fx("frequency.yaml")])
    t = imp.frame.set_index("code")
    assert imp.kind == "frequency_limits" and t.period_days.dtype == "Int64"
    assert pd.isna(t.loc["G0438", "period_days"]) and t.loc["G0438", "max_count"] == 1
    assert t.loc["G0439", "max_count"] == 1 and t.loc["G0439", "period_days"] == 365
    assert t.loc["97110", "max_count"] == 2 and t.loc["97110", "period_days"] == 7
    assert t.loc["82270", "period_days"] == 365 and t.loc["G0402", "description"] == "IPPE"
    import_into(store, "frequency", [fx("frequency.csv")])
    import_into(store, "frequency", [fx("frequency.csv")])
    (v,) = store.versions("frequency_limits")
    assert v.rows == 5 and v.valid_from is None


def test_unknown_kind():
    with pytest.raises(InputError, match="unknown reference kind"):
        import_files("nope", ["x"])


# ------------------------------------------------------------------------------- xlsx reader


def test_xlsx_reader_cell_types(tmp_path):
    """Shared and inline strings, date-formatted cells, gaps, floats; same as openpyxl sees."""
    from datetime import datetime

    from openpyxl import Workbook

    from auditor.refdata import _io

    wb = Workbook()
    ws = wb.active
    ws["A1"] = "notice & more"
    ws["A3"], ws["B3"], ws["C3"], ws["E3"] = "17003", 2013001, datetime(2026, 7, 1), 2.5
    ws["A4"], ws["B4"] = "x", True
    other = wb.create_sheet("small")
    other["A1"] = "tiny"
    p = tmp_path / "t.xlsx"
    wb.save(p)
    src = _io.Source(p, None, p.read_bytes(), "")

    def trim(r):
        while r and r[-1] == "":
            r = r[:-1]
        return r

    rows = [trim(r) for r in _io._xlsx_rows(src)]
    assert rows[0] == ["notice & more"] and rows[1] == []
    assert rows[2] == ["17003", "2013001", "20260701", "", "2.5"]
    assert rows[3] == ["x", "True"]

    assert [trim(r) for r in _io._xlsx_rows_openpyxl(src)[:4]] == rows[:4]
