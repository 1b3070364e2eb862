"""Quarantine reasons in Vietnamese, for the people who read them on the admin page.

A reason is written once, in English, into `quarantine.jsonl` (the file operators grep and the tests
read); `reason_vi` says it in Vietnamese when shown. A reason has the shape
`[value dropped: |warning: ][field: ]problem[ (value '…')]`; the field is the source's column or the
record's path (`ngay_sinh`, `identifiers.0`) and stays as written, the problem is matched against the
patterns below, one for each problem the readers and the record model report. A problem that matches
none keeps its English text, so nothing is hidden; `tests/test_reasons.py` checks that every reason the
bad-input corpus and the synthetic sources produce is translated.
"""

from __future__ import annotations

import re

# (pattern of the English problem, its Vietnamese wording with the pattern's groups)
_PROBLEMS: list[tuple[str, str]] = [
    (r"missing required field: (?P<f>.+)", "thiếu trường bắt buộc: {f}"),
    (r"Field required", "thiếu trường bắt buộc"),
    (r"more fields than the header names", "nhiều trường hơn số cột của dòng tiêu đề"),
    (r"encoding: bytes that are not valid in the file's encoding",
     "mã hóa: có byte không hợp lệ trong bảng mã của tệp"),
    (r"contains a control character", "chứa ký tự điều khiển"),
    (r"String should have at most (?P<n>\d+) characters?", "dài quá {n} ký tự"),
    (r"String should have at least (?P<n>\d+) characters?", "cần ít nhất {n} ký tự"),
    (r"String should match pattern '(?P<p>.*)'", "không đúng dạng {p}"),
    (r"Input should be a valid date.*", "không phải ngày hợp lệ"),
    (r"Input should be a valid (?:integer|number).*", "phải là số"),
    (r"Input should be (?P<v>'.+')", "phải là {v}"),
    (r"List should have at least (?P<n>\d+) items?.*", "cần ít nhất {n} mục"),
    (r"date (?P<v>'.*') is not a date \(day is out of range for month\)",
     "ngày {v} không phải ngày hợp lệ (tháng không có ngày này)"),
    (r"date (?P<v>'.*') is not a date \(month must be in 1\.\.12\)",
     "ngày {v} không phải ngày hợp lệ (tháng phải từ 1 đến 12)"),
    (r"date (?P<v>'.*') is not a date \(year (?P<y>-?\d+) is out of range\)",
     "ngày {v} không phải ngày hợp lệ (năm {y} nằm ngoài khoảng cho phép)"),
    (r"date (?P<v>'.*') is not a date \((?P<why>.*)\)", "ngày {v} không phải ngày hợp lệ ({why})"),
    (r"date (?P<v>'.*') is not a date", "ngày {v} không phải ngày hợp lệ"),
    (r"date (?P<v>'.*') is not yyyymmdd or yyyymmddHHMM", "ngày {v} không có dạng yyyymmdd hay yyyymmddHHMM"),
    (r"date (?P<v>'.*') has a day but no month", "ngày {v} có ngày mà không có tháng"),
    (r"time (?P<v>'.*') is not yyyymmddHHMM", "thời điểm {v} không có dạng yyyymmddHHMM"),
    (r"birth date (?P<v>\S+) is in the future", "ngày sinh {v} ở tương lai"),
    (r"birth date (?P<v>\S+) is before 1890", "ngày sinh {v} trước năm 1890"),
    (r"zone offset (?P<v>\S+) is beyond the ±18 hours a time can have", "múi giờ {v} vượt quá ±18 giờ"),
    (r"unknown sex code (?P<v>'.*')", "mã giới tính không xác định {v}"),
    (r"unknown ICD-10 code (?P<v>'.*')", "mã ICD-10 không tồn tại {v}"),
    (r"unknown disease type LOAIBENH (?P<v>'.*')", "loại bệnh LOAIBENH không xác định {v}"),
    (r"unknown KET_QUA_DTRI code (?P<v>'.*')", "mã KET_QUA_DTRI không xác định {v}"),
    (r"unknown encoding (?P<v>'.*')", "bảng mã không xác định {v}"),
    (r"(?P<kind>\w+) (?P<v>'.*') has the wrong shape", "{kind} {v} sai định dạng"),
    (r"a facility patient code needs its facility", "mã bệnh nhân của cơ sở cần kèm mã cơ sở"),
    (r"administrative codes need their code list \(pre2025 or post2025\)",
     "mã đơn vị hành chính cần kèm danh mục (pre2025 hoặc post2025)"),
    (r"post-2025 codes have no district level", "mã sau 2025 không có cấp huyện"),
    (r"discharge before admission", "ngày ra viện trước ngày vào viện"),
    (r"a visit without MA_LK", "lượt khám không có MA_LK"),
    (r"an immunization without NGAYTIEM", "mũi tiêm không có NGAYTIEM"),
    (r"(?P<kind>\w+) has no NOIDUNGFILE", "{kind} không có NOIDUNGFILE"),
    (r"(?P<kind>\w+): NOIDUNGFILE is not base64: (?P<why>.*)", "{kind}: NOIDUNGFILE không phải base64: {why}"),
    (r"(?P<kind>\w+): embedded XML is not well-formed: (?P<why>.*)",
     "{kind}: XML nhúng không đúng cấu trúc: {why}"),
    (r"identifier column (?P<v>'.*') of kind other needs its system",
     "cột định danh {v} loại other cần kèm hệ mã"),
    (r"not a FHIR resource", "không phải tài nguyên FHIR"),
    (r"empty entry", "mục rỗng"),
    (r"unsupported resource type (?P<v>'.*')", "loại tài nguyên không được hỗ trợ {v}"),
    (r"Patient without id", "Patient không có id"),
    (r"(?P<kind>\w+) refers to (?P<v>'.*'), not a Patient before it in this file",
     "{kind} trỏ tới {v}, không phải một Patient đứng trước nó trong tệp này"),
    (r"Bundle entry (?P<i>\d+) has no fullUrl \(FHIR requires one outside transactions and batches\)",
     "mục {i} của Bundle không có fullUrl (FHIR bắt buộc, trừ giao dịch và lô)"),
    (r"Bundle entry (?P<i>\d+) has a relative fullUrl (?P<v>'.*') \(FHIR requires an absolute one\)",
     "mục {i} của Bundle có fullUrl tương đối {v} (FHIR yêu cầu địa chỉ tuyệt đối)"),
    (r"Observation (?P<id>\S+) names (?P<v>'.*'), a Device not in the Bundle",
     "Observation {id} nêu {v}, một Device không có trong Bundle"),
    (r"(?P<what>.+) \(LOINC (?P<code>[\d-]+)\) in unit (?P<unit>'.*'): (?P<why>.*)",
     "{what} (LOINC {code}) với đơn vị {unit}: {why}"),
]
_COMPILED = [(re.compile(rf"^{pattern}$"), wording) for pattern, wording in _PROBLEMS]
_PREFIXES = {"value dropped: ": "bỏ giá trị: ", "warning: ": "cảnh báo: "}
_FIELD = re.compile(r"^(?P<field>[^\s:']+): (?P<rest>.+)$", re.DOTALL)  # a column, a path, a file's entry
_VALUE = re.compile(r"^(?P<rest>.+) \(value (?P<v>'.*')\)$", re.DOTALL)


def _problem_vi(problem: str) -> str | None:
    for pattern, wording in _COMPILED:
        found = pattern.match(problem)
        if found is not None:
            return wording.format(**found.groupdict())
    return None


def reason_vi(reason: str) -> str | None:
    """`reason` in Vietnamese, or None when its problem is not one HoSo knows how to say."""
    head = ""
    for english, vietnamese in _PREFIXES.items():
        if reason.startswith(english):
            head, reason = vietnamese, reason.removeprefix(english)
            break
    tail = ""
    if (valued := _VALUE.match(reason)) is not None:
        reason, tail = valued["rest"], f" (giá trị {valued['v']})"
    said = _problem_vi(reason)
    if said is None and (fielded := _FIELD.match(reason)) is not None:
        # The problem may itself name a field ("encounters.0.main_icd10: unknown ICD-10 code 'X'"), once or twice.
        inner = fielded["rest"]
        said_inner = _problem_vi(inner)
        if said_inner is None and (nested := _FIELD.match(inner)) is not None:
            deeper = _problem_vi(nested["rest"])
            said_inner = f"{nested['field']}: {deeper}" if deeper is not None else None
        said = f"{fielded['field']}: {said_inner}" if said_inner is not None else None
    return f"{head}{said}{tail}" if said is not None else None
