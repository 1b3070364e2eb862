"""The statistical report as a statistics officer files it: in Vietnamese, with its title block.

The figures are `reports.statistical_report`'s (small cells already withheld by `suppress_report`); this
module only presents them, the way the reporting regime of Circular 37/2019/TT-BYT lays a report out:
the reporting unit and the period at the top with the legal basis, indicators by their Vietnamese names
(Circular 20/2019/TT-BYT) with their unit of measure, units by name, a footnote for every mark, and the
signature block. The form number is not claimed: HoSo's data fills only part of any one form.

    write_filed(report, "xlsx", FiledHeader(unit_name="Tỉnh Bắc Ninh", level="province", ...))

Marks in the table: "x" a figure withheld (fewer than 5 persons, or a figure that would reveal one),
"–" a value that cannot be computed (its denominator is 0); a count has no denominator.
"""

from __future__ import annotations

import csv
import html
import io
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from analytics.reports import INDICATORS, inert, write
from analytics.scope import Period, Scope
from linkage import CodeList, load_admin_units

WITHHELD = "x"
NOT_COMPUTABLE = "–"
LEGAL_BASIS = ("Căn cứ Thông tư 37/2019/TT-BYT quy định chế độ báo cáo thống kê ngành y tế và "
               "Thông tư 20/2019/TT-BYT quy định bộ chỉ số thống kê ngành y tế")
FOOTNOTES = (f"{WITHHELD}: số liệu không công bố vì dưới 5 người hoặc có thể suy ra số liệu dưới 5 người "
             "(bảo vệ bí mật thông tin cá nhân).",
             f"{NOT_COMPUTABLE}: không tính được (mẫu số bằng 0).",
             "Mẫu số: dân số theo cơ sở dữ liệu dân cư, số trẻ sinh ra hoặc số người được phát hiện, tùy chỉ số.")
LEVELS = {"national": "Toàn quốc", "province": "Tỉnh, thành phố", "district": "Quận, huyện (trước 1/7/2025)",
          "commune": "Xã, phường, đặc khu", "facility": "Cơ sở y tế"}
INDICATOR_COLUMNS = ["STT", "Mã chỉ số", "Chỉ số", "Đơn vị tính", "Cấp", "Mã đơn vị", "Tên đơn vị", "Tử số",
                     "Mẫu số", "Giá trị"]
FACILITY_COLUMNS = ["STT", "Mã cơ sở", "Tên cơ sở", "Loại hình", "Tuyến", "Tỉnh", "Lượt khám chữa bệnh",
                    "Mũi tiêm chủng"]
OWNERSHIP = {"public": "Công lập", "private": "Tư nhân"}


@dataclass(frozen=True)
class FiledHeader:
    """What the title block says: who reports, for which period, on which data."""

    unit_name: str
    level: str
    period: str
    start: date
    end: date  # the day after the period's last day
    as_of: str | None = None


def unit_name(level: str, code: str | None) -> str:
    """A unit's name from the code lists HoSo ships (post-2025 provinces and communes, pre-2025 districts)."""
    if level == "national" or not code:
        return "Toàn quốc"
    code_list = CodeList.PRE_2025 if level == "district" else CodeList.POST_2025
    found = load_admin_units().get(code_list, level, str(code))
    return found.name if found is not None else str(code)


def _mark(value: Any) -> object:
    """A count, or the mark saying why there is none."""
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return WITHHELD
    return int(value)


def filed_table(report: pd.DataFrame) -> pd.DataFrame:
    """The report's rows under the form's Vietnamese headings, units by name and every gap marked."""
    if "indicator" not in report:  # a facility's activity
        rows = [[n, r["facility"], r.get("name") or r["facility"], OWNERSHIP.get(r["ownership"], r["ownership"]),
                 r.get("level") or "", unit_name("province", r.get("province")), _mark(r["encounters"]),
                 _mark(r["doses"])] for n, r in enumerate(report.to_dict("records"), start=1)]
        return pd.DataFrame(rows, columns=FACILITY_COLUMNS)
    meta = {i.code: i for i in INDICATORS}
    rows = []
    for n, r in enumerate(report.to_dict("records"), start=1):
        indicator = meta[r["indicator"]]
        numerator = _mark(r["numerator"])
        if indicator.count:
            denominator: object = ""
            value = numerator
        else:
            denominator = _mark(r["denominator"])
            if WITHHELD in (numerator, denominator):
                value = WITHHELD
            elif pd.isna(r["value"]):
                value = NOT_COMPUTABLE
            else:
                value = round(float(r["value"]), 1)
        rows.append([n, indicator.code, indicator.name_vi, indicator.unit_vi, LEVELS.get(r["level"], r["level"]),
                     r["unit"], unit_name(r["level"], r["unit"]), numerator, denominator, value])
    return pd.DataFrame(rows, columns=INDICATOR_COLUMNS)


def _title(header: FiledHeader) -> list[str]:
    last = date.fromordinal(header.end.toordinal() - 1)
    lines = ["BÁO CÁO THỐNG KÊ Y TẾ",
             f"Đơn vị báo cáo: {header.unit_name} ({LEVELS.get(header.level, header.level).lower()})",
             f"Kỳ báo cáo: {header.period} (từ ngày {header.start:%d/%m/%Y} đến ngày {last:%d/%m/%Y})",
             LEGAL_BASIS]
    if header.as_of:
        lines.append(f"Số liệu tính đến: {header.as_of}")
    return lines


SIGNATURES = (("Người lập biểu", "(Ký, ghi rõ họ tên)"), ("Thủ trưởng đơn vị", "(Ký, ghi rõ họ tên, đóng dấu)"))


def write_filed(report: pd.DataFrame, fmt: str, header: FiledHeader) -> bytes:
    """The report as filed, in CSV (the table under its Vietnamese headings), XLSX or HTML (with the
    title block, footnotes and signature block)."""
    table = filed_table(report)
    if fmt == "csv":
        out = io.StringIO()
        inert(table).to_csv(out, index=False, quoting=csv.QUOTE_MINIMAL)
        return out.getvalue().encode("utf-8-sig")
    if fmt == "html":
        return _html(table, header).encode("utf-8")
    if fmt == "xlsx":
        return _xlsx(inert(table), header)
    raise ValueError(f"format {fmt!r} is not a filed format: use csv, xlsx or html")


def _html(table: pd.DataFrame, header: FiledHeader) -> str:
    title, *lines = _title(header)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    numeric = {"Tử số", "Mẫu số", "Giá trị", "Lượt khám chữa bệnh", "Mũi tiêm chủng", "STT"}

    def cell(column: str, value: object) -> str:
        if isinstance(value, int | float) and not isinstance(value, bool):
            text = f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"
            text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")  # Vietnamese: 1.234,5
        else:
            text = str(value)
        align = ' class="num"' if column in numeric else ""
        return f"<td{align}>{html.escape(text)}</td>"

    body = "".join("<tr>" + "".join(cell(c, v) for c, v in zip(table.columns, row, strict=True)) + "</tr>"
                   for row in table.itertuples(index=False))
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in FOOTNOTES)
    signs = "".join(f"<div><strong>{html.escape(a)}</strong><br><em>{html.escape(b)}</em></div>" for a, b in SIGNATURES)
    style = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}th,td{border:1px solid #999;"
             "padding:.25em .5em}th{background:#eee}td.num{text-align:right}.signatures{display:flex;"
             "justify-content:space-around;margin-top:2em;text-align:center}")
    return (f"<!doctype html><html lang='vi'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{style}</style></head><body><h1>{html.escape(title)}</h1>"
            + "".join(f"<p>{html.escape(line)}</p>" for line in lines)
            + f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table><ul class='notes'>{notes}</ul>"
            f"<p>…, ngày … tháng … năm …</p><div class='signatures'>{signs}</div></body></html>")


def _xlsx(table: pd.DataFrame, header: FiledHeader) -> bytes:
    # openpyxl is imported when a workbook is asked for, not by every command.
    from openpyxl import Workbook  # noqa: PLC0415
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side  # noqa: PLC0415
    from openpyxl.utils import get_column_letter  # noqa: PLC0415

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Báo cáo"
    columns = len(table.columns)
    last = get_column_letter(columns)
    title, *lines = _title(header)
    sheet["A1"] = "HoSo – Hồ sơ sức khỏe điện tử"
    sheet["A1"].font = Font(italic=True)
    sheet["A2"] = title
    sheet.merge_cells(f"A2:{last}2")
    sheet["A2"].font = Font(bold=True, size=14)
    sheet["A2"].alignment = Alignment(horizontal="center")
    for n, line in enumerate(lines, start=3):
        sheet.cell(row=n, column=1, value=line)
        sheet.merge_cells(start_row=n, start_column=1, end_row=n, end_column=columns)
        if line == LEGAL_BASIS:
            sheet.cell(row=n, column=1).font = Font(italic=True)
    top = 3 + len(lines) + 1  # a blank row, then the header
    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for c, name in enumerate(table.columns, start=1):
        cell = sheet.cell(row=top, column=c, value=name)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDDDDD")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = border
    for r, values in enumerate(table.itertuples(index=False), start=top + 1):
        for c, value in enumerate(values, start=1):
            cell = sheet.cell(row=r, column=c, value=value)
            cell.border = border
            if isinstance(value, float):
                cell.number_format = "#,##0.0"
            elif isinstance(value, int) and c > 1:
                cell.number_format = "#,##0"
            elif value in (WITHHELD, NOT_COMPUTABLE):
                cell.alignment = Alignment(horizontal="right")
    widths = {"STT": 5, "Mã chỉ số": 10, "Chỉ số": 48, "Đơn vị tính": 12, "Cấp": 18, "Mã đơn vị": 10,
              "Tên đơn vị": 28, "Tử số": 12, "Mẫu số": 12, "Giá trị": 10, "Mã cơ sở": 10, "Tên cơ sở": 36,
              "Loại hình": 12, "Tuyến": 10, "Tỉnh": 24, "Lượt khám chữa bệnh": 14, "Mũi tiêm chủng": 12}
    for c, name in enumerate(table.columns, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = widths.get(name, 14)
    sheet.freeze_panes = sheet.cell(row=top + 1, column=1)
    sheet.print_title_rows = f"{top}:{top}"
    sheet.auto_filter.ref = f"A{top}:{last}{top + len(table)}"
    row = top + len(table) + 2
    for note in FOOTNOTES:
        sheet.cell(row=row, column=1, value=note).font = Font(italic=True, size=9)
        row += 1
    row += 1
    sheet.cell(row=row, column=columns - 2, value="…, ngày … tháng … năm …").font = Font(italic=True)
    row += 1
    for column, (role, hint) in zip((2, columns - 2), SIGNATURES, strict=True):
        sheet.cell(row=row, column=column, value=role).font = Font(bold=True)
        sheet.cell(row=row + 1, column=column, value=hint).font = Font(italic=True)
    book.properties.title = f"{title} – {header.unit_name} – {header.period}"
    book.properties.creator = "HoSo"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write_statistics(report: pd.DataFrame, fmt: str, scope: Scope, period: Period, as_of: str | None = None
                     ) -> bytes:
    """The statistical report of `scope` and `period` as filed (CSV, XLSX, HTML), or as data (JSON)."""
    if fmt == "json":
        return write(report, "json", f"Báo cáo thống kê y tế – {scope.name or 'Toàn quốc'} – {period.label}")
    header = FiledHeader(unit_name=scope.name or unit_name(scope.level.value, scope.unit), level=scope.level.value,
                         period=period.label, start=period.start, end=period.end, as_of=as_of)
    return write_filed(report, fmt, header)
