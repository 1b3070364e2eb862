"""The API's error texts in Vietnamese, and in English for a client that asks for it.

HoSo answers in Vietnamese unless the request's `Accept-Language` prefers English. A route refuses with
`Refusal(status, "English text with {names}", names=...)`: the English template is the key of its
Vietnamese wording in `VIETNAMESE`, the way gettext keys a catalogue by its source text, so a new message
without a translation is caught by a test that reads every `Refusal` in the routes. Errors of the
framework (an unknown path, a field that fails validation) are translated by their kind. An error relayed
from the engine below (an ingestion or graph error) keeps the engine's English text; its `code` is stable
in both languages.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any, Literal

from starlette.exceptions import HTTPException
from starlette.requests import Request

Language = Literal["vi", "en"]

VIETNAMESE: dict[str, str] = {
    # access and sign-in
    "person_id: {value!r} is not a person id (HS, ten characters and a check character, as HS2WYNSFH8JJB)":
        "person_id: {value!r} không phải mã người (HS, mười ký tự và một ký tự kiểm tra, như HS2WYNSFH8JJB)",
    "no person {person_id} in your record or your children's":
        "không có người {person_id} trong hồ sơ của bạn hay của con bạn",
    "the {role} role may not read this person": "vai trò {role} không được xem người này",
    "no person {person_id}": "không có người {person_id}",
    "the citizen role may not read {what}": "vai trò người dân không được xem {what}",
    "sign in: send a bearer token from POST /auth/token": "hãy đăng nhập: gửi mã bearer lấy từ POST /auth/token",
    "the token is invalid or expired: sign in again": "mã đăng nhập không hợp lệ hoặc đã hết hạn: hãy đăng nhập lại",
    "the {role} role may not {action}": "vai trò {role} không được {action}",
    "too many failed sign-ins: try again later": "đăng nhập sai quá nhiều lần: hãy thử lại sau",
    "wrong username or password": "sai tên đăng nhập hoặc mật khẩu",
    "this province is outside your own": "tỉnh này nằm ngoài tỉnh của bạn",
    "this person is outside your province": "người này ở ngoài tỉnh của bạn",
    "this commune is outside your province": "xã này nằm ngoài tỉnh của bạn",
    "the change feed is read by an account with a province":
        "luồng thay đổi chỉ dành cho tài khoản gắn với một tỉnh",
    # uploads and jobs
    "kind: a {kind} record cannot be uploaded: use one of {kinds}":
        "kind: không tải lên được bản ghi loại {kind}: dùng một trong {kinds}",
    "send the upload with its Content-Length": "hãy gửi tệp tải lên kèm Content-Length",
    "the file is larger than the {limit} MB limit": "tệp lớn hơn giới hạn {limit} MB",
    "file: send the source file as the multipart/form-data part `file`":
        "file: hãy gửi tệp nguồn trong phần `file` của multipart/form-data",
    "a {kind} file cannot be {declared}: send {accepted}": "tệp {kind} không thể là {declared}: hãy gửi {accepted}",
    "kind {kind} needs its column mapping: add a `mapping` part":
        "loại {kind} cần tệp ánh xạ cột: hãy thêm phần `mapping`",
    "no job {job_id}": "không có tác vụ {job_id}",
    "the file is empty": "tệp rỗng",
    # the reviewers' desk and persons
    "item: {value!r} is not a review item id (pm- or pd- and a UUID, as the queue gives them)":
        "item: {value!r} không phải mã mục rà soát (pm- hoặc pd- và một UUID, như hàng đợi trả về)",
    "no open review item {item} (decided already?)": "không có mục rà soát đang mở {item} (đã được quyết định?)",
    "this item has conflicts ({conflicts}): a MATCH or MERGE across them needs override=true and a written reason":
        "mục này có xung đột ({conflicts}): MATCH hoặc MERGE qua chúng cần override=true và lý do viết rõ",
    "note: an override needs a written reason of {length} characters or more":
        "note: quyết định vượt xung đột cần lý do dài từ {length} ký tự trở lên",
    "a second reviewer must confirm your override": "cần người rà soát thứ hai xác nhận quyết định vượt xung đột",
    "a record is decided with MATCH or NO_MATCH": "một bản ghi được quyết định bằng MATCH hoặc NO_MATCH",
    "two persons are decided with MERGE or NOT_DUPLICATE": "hai người được quyết định bằng MERGE hoặc NOT_DUPLICATE",
    "version: a duplicate item's version has two parts": "version: phiên bản của mục trùng lặp gồm hai phần",
    "the item changed since you read it: reload it and decide again":
        "mục đã thay đổi từ khi bạn mở: hãy tải lại và quyết định lại",
    "{reason}: reload the item and decide again": "{reason}: hãy tải lại mục và quyết định lại",
    "{reason}: reload the person and try again": "{reason}: hãy tải lại hồ sơ người và thử lại",
    "{reason}: reload and decide again": "{reason}: hãy tải lại và quyết định lại",
    "give at least one of personal_id, bhxh, name, birth_date, commune":
        "hãy cho ít nhất một trong personal_id, bhxh, name, birth_date, commune",
    "no trained model yet: run `hoso train`": "chưa có mô hình đã huấn luyện: hãy chạy `hoso train`",
    "no active person {person_id}": "không có người đang hoạt động {person_id}",
    # FHIR
    "identifier must be system|value with the cccd, bhxh or cmnd system of https://hoso.gov.vn/fhir/sid/":
        "identifier phải có dạng system|value với hệ cccd, bhxh hoặc cmnd của https://hoso.gov.vn/fhir/sid/",
    "send a FHIR Parameters resource with a 'resource' parameter holding a Patient":
        "hãy gửi tài nguyên FHIR Parameters có tham số 'resource' chứa một Patient",
    "the 'resource' parameter must hold a Patient": "tham số 'resource' phải chứa một Patient",
    "the Patient needs a name": "Patient cần có tên",
    # the citizen portal and accounts
    "only the citizen (or their parent) can ask this": "chỉ chính người dân (hoặc cha mẹ của họ) được yêu cầu việc này",
    "at most {limit} reports an hour: try again later": "tối đa {limit} lần tự khai báo mỗi giờ: hãy thử lại sau",
    "nothing to report: give smoking, allergies or a reading":
        "không có gì để khai báo: hãy cho biết hút thuốc, dị ứng hoặc một chỉ số đo",
    "no correction request {task_id}": "không có yêu cầu sửa thông tin {task_id}",
    "the request {task_id} is {state} already": "yêu cầu {task_id} đã ở trạng thái {state}",
    "no account {username!r}": "không có tài khoản {username!r}",
    # self-registration and password reset
    "too many codes asked for: try again later": "đã yêu cầu quá nhiều mã: hãy thử lại sau",
    "the code is wrong or no longer valid: ask for a new one":
        "mã không đúng hoặc đã hết hiệu lực: hãy yêu cầu mã mới",
    "password: {problem}": "mật khẩu: {problem}",
    "a password needs at least 10 characters": "mật khẩu cần ít nhất 10 ký tự",
    "a password needs at least 5 different characters other than spaces":
        "mật khẩu cần ít nhất 5 ký tự khác nhau, không kể dấu cách",
    "a password must not be the account's name": "mật khẩu không được trùng tên tài khoản",
    "the username {username!r} is taken: choose another":
        "tên đăng nhập {username!r} đã có người dùng: hãy chọn tên khác",
    # citizens' view of who read their record
    "no access {entry_id} to your record or your children's":
        "không có lượt truy cập {entry_id} vào hồ sơ của bạn hay của con bạn",
    "no open flag {flag_id}": "không có báo cáo truy cập đang mở {flag_id}",
    "no SMS gateway is configured: set HOSO_SMS_GATEWAY":
        "chưa cấu hình cổng tin nhắn SMS: hãy đặt HOSO_SMS_GATEWAY",
    # closures and relatives
    "no visit {visit} in this record": "không có lượt khám {visit} trong hồ sơ này",
    "no closure {closure_id} of yours": "bạn không có yêu cầu đóng {closure_id}",
    "no delegation {grant_id} of yours": "bạn không có ủy quyền {grant_id}",
    "no citizen account {username!r}": "không có tài khoản người dân {username!r}",
    # consent at the point of care and break-the-glass
    "too many codes tried: try again later": "đã thử quá nhiều mã: hãy thử lại sau",
    "the consent code is wrong, used or expired": "mã đồng ý không đúng, đã dùng hoặc đã hết hạn",
    "no person with personal id {personal_id}": "không có người mang số định danh {personal_id}",
    # analytics and the change feed
    "no analysis {name!r}: see GET /analytics": "không có phân tích {name!r}: xem GET /analytics",
    "no webhook {webhook_id}": "không có webhook {webhook_id}",
    # what every request may meet
    "the graph database is not reachable: try again shortly":
        "không kết nối được cơ sở dữ liệu đồ thị: hãy thử lại sau ít phút",
    "the request body is nested too deeply": "nội dung yêu cầu lồng nhau quá sâu",
    "HoSo failed on this request; the error is logged for its operators":
        "HoSo gặp lỗi khi xử lý yêu cầu này; lỗi đã được ghi lại cho người vận hành",
    "{where}: {reason}": "{where}: {reason}",
    # Starlette's own texts (an unknown path or method)
    "Not Found": "Không tìm thấy",
    "Method Not Allowed": "Phương thức không được phép",
}

# Pydantic's error kinds (https://docs.pydantic.dev/latest/errors/validation_errors/) in Vietnamese, with the
# names of their context values.
VALIDATION_VI: dict[str, str] = {
    "missing": "bắt buộc nhưng chưa có",
    "string_pattern_mismatch": "không đúng dạng {pattern}",
    "string_too_short": "cần ít nhất {min_length} ký tự",
    "string_too_long": "dài quá {max_length} ký tự",
    "string_type": "phải là chuỗi ký tự",
    "int_parsing": "phải là số nguyên",
    "int_type": "phải là số nguyên",
    "float_parsing": "phải là số",
    "float_type": "phải là số",
    "bool_parsing": "phải là true hoặc false",
    "greater_than": "phải lớn hơn {gt}",
    "greater_than_equal": "phải lớn hơn hoặc bằng {ge}",
    "less_than": "phải nhỏ hơn {lt}",
    "less_than_equal": "phải nhỏ hơn hoặc bằng {le}",
    "too_short": "cần ít nhất {min_length} phần tử",
    "too_long": "nhiều nhất {max_length} phần tử",
    "enum": "phải là một trong {expected}",
    "literal_error": "phải là một trong {expected}",
    "date_parsing": "không phải ngày hợp lệ (YYYY-MM-DD)",
    "date_from_datetime_parsing": "không phải ngày hợp lệ (YYYY-MM-DD)",
    "datetime_parsing": "không phải thời điểm hợp lệ (ISO 8601)",
    "datetime_from_date_parsing": "không phải thời điểm hợp lệ (ISO 8601)",
    "json_invalid": "không phải JSON hợp lệ",
    "model_attributes_type": "phải là một đối tượng JSON",
    "dict_type": "phải là một đối tượng JSON",
    "list_type": "phải là một danh sách",
    "extra_forbidden": "không được phép có trường này",
    "uuid_parsing": "không phải UUID hợp lệ",
}
_LANGUAGE_RANGE = re.compile(  # a language range and its quality value: "en-GB;q=0.8"
    r"^\s*([A-Za-z]{1,8}|\*)(?:-[A-Za-z0-9]{1,8})*\s*(?:;\s*q\s*=\s*([01](?:\.\d{0,3})?))?\s*$")


class Refusal(HTTPException):
    """An HTTP error with a text in both languages: `template` is the English text, with `{names}` filled
    from `params`; its Vietnamese wording is `VIETNAMESE[template]`."""

    def __init__(self, status_code: int, template: str, *, headers: dict[str, str] | None = None,
                 **params: Any) -> None:
        super().__init__(status_code, template.format(**params), headers)
        self.template, self.params = template, params


def language(request: Request | None) -> Language:
    """English when `Accept-Language` ranks English above Vietnamese (RFC 9110 quality values), else
    Vietnamese; a header that cannot be read counts as none."""
    header = request.headers.get("accept-language", "") if request is not None else ""
    best: dict[str, float] = {}
    for part in header.split(",")[:20]:
        found = _LANGUAGE_RANGE.match(part)
        if found is None:
            continue
        tag, quality = found.group(1).lower(), float(found.group(2) or 1)
        for lang in (("vi", "en") if tag == "*" else (tag,)):
            best[lang] = max(best.get(lang, 0.0), quality)
    return "en" if best.get("en", 0.0) > best.get("vi", 0.0) else "vi"


def say(template: str, params: dict[str, Any], lang: Language) -> str:
    """`template` filled with `params`, in Vietnamese when `lang` is vi and a wording exists (a parameter
    that is itself a known text, as a password rule, is said in Vietnamese too)."""
    if lang == "en":
        return template.format(**params)
    said = {k: VIETNAMESE.get(v, v) if isinstance(v, str) else v for k, v in params.items()}
    return VIETNAMESE.get(template, template).format(**said)


def validation_text(error: dict[str, Any], lang: Language) -> str:
    """One field's validation error: where it is and what is wrong, in `lang`."""
    where = ".".join(str(p) for p in error.get("loc", ()))
    reason = str(error.get("msg", "invalid"))
    wording = VALIDATION_VI.get(str(error.get("type"))) if lang == "vi" else None
    # A context value the wording names but pydantic left out keeps pydantic's English.
    with contextlib.suppress(KeyError, IndexError):
        if wording is not None:
            reason = wording.format(**{k: str(v) for k, v in (error.get("ctx") or {}).items()})
    return f"{where}: {reason}" if where else reason
