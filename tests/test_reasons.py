"""Quarantine reasons in Vietnamese: every reason the bad-input corpus and the synthetic sources produce is said
in Vietnamese, its field and value kept as written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_bad_input import GOOD, HEADER, ROWS

from linkage import SourceKind, ingest, reason_vi
from linkage.intake import synthetic_inputs
from linkage.synth import SynthConfig, generate


def _reasons(data: Path) -> set[str]:
    return {json.loads(line)["reason"] for q in data.rglob("quarantine.jsonl")
            for line in q.read_text(encoding="utf-8").splitlines()}


@pytest.fixture(scope="module")
def produced(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    root = tmp_path_factory.mktemp("reasons")
    for n, (row, _) in enumerate(ROWS):
        path = root / f"row{n}.csv"
        path.write_text(HEADER + GOOD + "\n" + row + "\n", encoding="utf-8")
        ingest(SourceKind.POPULATION, [path], root / "data")
    world = generate(SynthConfig(persons=300, seed=3, profile="hard"), root / "world")
    del world
    for kind, paths, mapping in synthetic_inputs(root / "world"):
        ingest(kind, paths, root / "data", mapping=mapping)
    return _reasons(root / "data")


def test_every_reason_produced_is_said_in_vietnamese(produced: set[str]) -> None:
    assert len(produced) >= 20
    untranslated = sorted(r for r in produced if reason_vi(r) is None)
    assert not untranslated, untranslated


@pytest.mark.parametrize(("english", "vietnamese"), [
    ("missing required field: ho_ten", "thiếu trường bắt buộc: ho_ten"),
    ("ngay_sinh: date '1990-02-29' is not a date (day is out of range for month)",
     "ngay_sinh: ngày '1990-02-29' không phải ngày hợp lệ (tháng không có ngày này)"),
    ("identifiers.0: personal_id '123' has the wrong shape", "identifiers.0: personal_id '123' sai định dạng"),
    ("encounters.0.main_icd10: unknown ICD-10 code 'Q99.99X'",
     "encounters.0.main_icd10: mã ICD-10 không tồn tại 'Q99.99X'"),
    ("value dropped: birth_date: birth date 2999-01-01 is in the future (value '2999-01-01')",
     "bỏ giá trị: birth_date: ngày sinh 2999-01-01 ở tương lai (giá trị '2999-01-01')"),
    ("warning: b.json/entry[3]: Observation o1 names 'Device/x', a Device not in the Bundle",
     "cảnh báo: b.json/entry[3]: Observation o1 nêu 'Device/x', một Device không có trong Bundle"),
    ("b.json/entry[0]: Bundle entry 0 has no fullUrl (FHIR requires one outside transactions and batches)",
     "b.json/entry[0]: mục 0 của Bundle không có fullUrl (FHIR bắt buộc, trừ giao dịch và lô)"),
    ("addresses.0.text: String should have at most 1000 characters", "addresses.0.text: dài quá 1000 ký tự"),
])
def test_a_reason_keeps_its_field_and_value(english: str, vietnamese: str) -> None:
    assert reason_vi(english) == vietnamese


def test_an_unknown_problem_is_not_guessed() -> None:
    assert reason_vi("something nobody wrote yet") is None
    assert reason_vi("field: something nobody wrote yet") is None
