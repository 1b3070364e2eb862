"""The statistical report as a statistics officer files it: Vietnamese headings, units by name, the title
block, formats, a frozen header, marks with their footnotes and the signature block."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import pandas as pd

from analytics import Level, Scope, suppress_report, write_statistics
from analytics.filed import FOOTNOTES, LEGAL_BASIS, NOT_COMPUTABLE, WITHHELD, filed_table
from analytics.scope import parse_period


def _report() -> pd.DataFrame:
    """A province's report as `statistical_report` gives it: the province, then two communes."""
    rows = []
    for unit, level, parent, pop, births, fic, children, detected in (
            ("01", "province", "VN", 12_000, 150, 120, 150, 900),
            ("00097", "commune", "01", 7_000, 147, 118, 147, 600),
            ("00004", "commune", "01", 5_000, 3, 2, 3, 300)):
        rows += [("POP", "Population (registry)", level, unit, parent, pop, pop, pop),
                 ("BIRTHS", "Live births in the period", level, unit, parent, births, pop, births),
                 ("FIC", "Children under 1 fully immunized (%)", level, unit, parent, fic, children,
                  round(100 * fic / children, 1)),
                 ("HTN_DET", "Hypertension detected (% of population)", level, unit, parent, detected, pop,
                  round(100 * detected / pop, 1)),
                 ("DENGUE", "Dengue incidence per 100,000", level, unit, parent, 0, 0, float("nan"))]
    frame = pd.DataFrame(rows, columns=["indicator", "name", "level", "unit", "parent", "numerator", "denominator",
                                        "value"])
    return frame.assign(period="2025")[["period", "indicator", "name", "level", "unit", "parent", "numerator",
                                        "denominator", "value"]]


SCOPE = Scope(Level.PROVINCE, "01", province="01", name="Thành phố Hà Nội")


def test_the_table_has_vietnamese_headings_unit_names_and_marks() -> None:
    table = filed_table(suppress_report(_report()))
    assert list(table.columns) == ["STT", "Mã chỉ số", "Chỉ số", "Đơn vị tính", "Cấp", "Mã đơn vị", "Tên đơn vị",
                                   "Tử số", "Mẫu số", "Giá trị"]
    assert set(table["Tên đơn vị"]) == {"Thành phố Hà Nội", "Phường Hồng Hà", "Phường Ba Đình"}
    births = table[table["Mã chỉ số"] == "BIRTHS"]
    assert (births["Mẫu số"] == "").all() and births["Chỉ số"].iloc[0] == "Số trẻ đẻ ra sống trong kỳ"  # a count
    small = table[(table["Mã chỉ số"] == "FIC") & (table["Mã đơn vị"] == "00004")].iloc[0]
    assert small["Tử số"] == WITHHELD and small["Giá trị"] == WITHHELD  # 2 of 3 children: withheld
    dengue = table[(table["Mã chỉ số"] == "DENGUE") & (table["Mã đơn vị"] == "01")].iloc[0]
    assert dengue["Giá trị"] in (WITHHELD, NOT_COMPUTABLE)
    assert table[table["Mã chỉ số"] == "HTN_DET"]["Đơn vị tính"].iloc[0] == "%"


def test_the_xlsx_is_filed_with_its_title_block_formats_and_frozen_header() -> None:
    data = write_statistics(suppress_report(_report()), "xlsx", SCOPE, parse_period("2025"), "2026-01-05T08:00:00Z")
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.active
    assert sheet is not None and sheet.title == "Báo cáo"
    cells = [str(c.value) for row in sheet.iter_rows(max_row=8) for c in row if c.value]
    assert "BÁO CÁO THỐNG KÊ Y TẾ" in cells and LEGAL_BASIS in cells
    assert any(c.startswith("Đơn vị báo cáo: Thành phố Hà Nội") for c in cells)
    assert any("từ ngày 01/01/2025 đến ngày 31/12/2025" in c for c in cells)
    assert any(c == "Số liệu tính đến: 2026-01-05T08:00:00Z" for c in cells)
    assert sheet["A2"].font.bold
    header_row = next(r for r in range(1, 12) if sheet.cell(row=r, column=1).value == "STT")
    assert all(sheet.cell(row=header_row, column=c).font.bold for c in range(1, 11))
    assert sheet.freeze_panes == f"A{header_row + 1}"  # the header stays when scrolling
    assert sheet.column_dimensions["C"].width >= 40  # the indicator's name is readable
    first = header_row + 1
    assert sheet.cell(row=first, column=7).value == "Thành phố Hà Nội"
    assert sheet.cell(row=first, column=8).number_format == "#,##0"
    values = [sheet.cell(row=r, column=10) for r in range(first, sheet.max_row + 1)
              if isinstance(sheet.cell(row=r, column=10).value, float)]
    assert values and all(c.number_format == "#,##0.0" for c in values)
    text = [str(c.value) for row in sheet.iter_rows(min_row=first) for c in row if c.value]
    assert FOOTNOTES[0] in text and "Người lập biểu" in text and "Thủ trưởng đơn vị" in text


def test_csv_and_html_are_in_vietnamese_without_internal_columns() -> None:
    report = suppress_report(_report())
    csv = write_statistics(report, "csv", SCOPE, parse_period("2025")).decode("utf-8-sig")
    assert csv.splitlines()[0] == "STT,Mã chỉ số,Chỉ số,Đơn vị tính,Cấp,Mã đơn vị,Tên đơn vị,Tử số,Mẫu số,Giá trị"
    assert "family" not in csv and "Phường Hồng Hà" in csv
    page = write_statistics(report, "html", SCOPE, parse_period("2025")).decode()
    assert "<NA>" not in page and "nan" not in page and "BÁO CÁO THỐNG KÊ Y TẾ" in page and "Người lập biểu" in page
    assert "12.000" in page and "80,0" in page  # numbers written the Vietnamese way


def test_the_title_block_names_the_whole_period() -> None:
    data = write_statistics(suppress_report(_report()), "html", SCOPE, parse_period("2025-Q3")).decode()
    assert f"từ ngày {date(2025, 7, 1):%d/%m/%Y} đến ngày {date(2025, 9, 30):%d/%m/%Y}" in data
