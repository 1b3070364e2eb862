"""The API's error texts: every refusal has its Vietnamese wording, and the language a request asks for wins."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest
from starlette.requests import Request

from api.messages import VIETNAMESE, language, say, validation_text

API = Path(__file__).resolve().parent.parent / "api"


def _refusal_templates() -> list[str]:
    """The English template of every `Refusal(...)` in the API's source."""
    found = []
    for path in API.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Refusal":
                template = node.args[1]
                assert isinstance(template, ast.Constant), f"{path.name}:{node.lineno}: the template must be a literal"
                found.append(template.value)
    return found


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_refusal_has_a_vietnamese_wording_with_the_same_fields() -> None:
    templates = _refusal_templates()
    assert len(templates) > 40
    missing = [t for t in templates if t not in VIETNAMESE]
    assert not missing, missing
    assert all(_fields(VIETNAMESE[t]) == _fields(t) for t in templates)


def _request(accept: str | None) -> Request:
    headers = [(b"accept-language", accept.encode())] if accept is not None else []
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers})


@pytest.mark.parametrize(("accept", "expected"), [
    (None, "vi"), ("", "vi"), ("vi", "vi"), ("en", "en"), ("en-US,en;q=0.9", "en"), ("vi-VN,vi;q=0.9,en;q=0.8", "vi"),
    ("en;q=0.5,vi;q=0.6", "vi"), ("fr, en;q=0.4", "en"), ("fr", "vi"), ("*", "vi"), ("en;q=abc", "vi"),
    ("x" * 5000, "vi"),
])
def test_the_language_of_a_request(accept: str | None, expected: str) -> None:
    assert language(_request(accept)) == expected


def test_a_text_is_filled_in_either_language() -> None:
    assert say("no person {person_id}", {"person_id": "HS1"}, "vi") == "không có người HS1"
    assert say("no person {person_id}", {"person_id": "HS1"}, "en") == "no person HS1"
    assert say("{reason}", {"reason": "a {brace} stays"}, "vi") == "a {brace} stays"


def test_validation_errors_by_their_kind() -> None:
    pattern = {"type": "string_pattern_mismatch", "loc": ("query", "province"), "msg": "String should match pattern",
               "ctx": {"pattern": "^\\d{2}$"}}
    assert validation_text(pattern, "vi") == "query.province: không đúng dạng ^\\d{2}$"
    assert validation_text(pattern, "en") == "query.province: String should match pattern"
    unknown = {"type": "value_error", "loc": ("body", "phone"), "msg": "Value error, 'abc' is not a phone number"}
    assert validation_text(unknown, "vi") == "body.phone: Value error, 'abc' is not a phone number"
    assert validation_text({"type": "greater_than_equal", "loc": ("q",), "msg": "m"}, "vi") == "q: m"  # no ctx
