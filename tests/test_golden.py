"""Survivorship rules of the golden record, on inline records."""

from __future__ import annotations

from linkage.mpi.golden import _of_many, _of_one, golden_record

REGISTRY = {"uid": "population|001090012345", "source": "population", "name": "Nguyễn Văn An",
            "birth_date": "1990-03-05", "birth_precision": "day", "personal_id": "001090012345", "pid_ok": True,
            "sex": "male", "recorded_at": "2024-01-01", "household_code": "HGD1", "commune": "00004"}
HOSPITAL_OLD = {"uid": "hospital130|a", "source": "hospital130", "name": "Nguyen Van An", "birth_date": None,
                "birth_precision": "year", "birth_year": 1990, "phone": "0912000001", "recorded_at": "2023-05-01",
                "bhxh": "0123456789", "commune": "00001"}
HOSPITAL_NEW = {"uid": "hospital130|b", "source": "hospital130", "name": "Nguyễn Văn Ân", "birth_date": "1990-05-03",
                "birth_precision": "day", "phone": "0912000002", "recorded_at": "2026-02-01", "bhxh": "0123456789",
                "commune": "00007"}


def test_registry_wins_for_legal_fields_and_newest_for_contact() -> None:
    golden = golden_record([HOSPITAL_OLD, REGISTRY, HOSPITAL_NEW])
    assert (golden["name"], golden["name_source"]) == ("Nguyễn Văn An", REGISTRY["uid"])
    assert (golden["birth_date"], golden["birth_date_source"]) == ("1990-03-05", REGISTRY["uid"])
    assert golden["personal_id_source"] == REGISTRY["uid"]
    assert (golden["phone"], golden["phone_source"]) == ("0912000002", HOSPITAL_NEW["uid"])
    assert (golden["commune"], golden["commune_source"]) == ("00007", HOSPITAL_NEW["uid"])
    assert (golden["bhxh"], golden["bhxh_source"]) == ("0123456789", HOSPITAL_NEW["uid"])
    assert golden["record_count"] == 3 and golden["sources"] == ["hospital130", "population"]


def test_without_the_registry_the_most_frequent_spelling_wins() -> None:
    other = {**HOSPITAL_OLD, "uid": "fhir|c", "source": "fhir", "recorded_at": "2022-01-01"}
    golden = golden_record([HOSPITAL_OLD, other, HOSPITAL_NEW])
    assert golden["name"] == "Nguyen Van An"
    assert golden["birth_date"] == "1990-05-03" and golden["birth_precision"] == "day"
    assert golden["name_fold"] == "nguyen van an"


def test_a_person_of_one_record_takes_what_the_rules_would_take() -> None:
    """One record skips the rules (a first link makes hundreds of thousands such persons): the same
    fields and sources as the rules give, whatever the record lacks."""
    bad_id = {**REGISTRY, "pid_ok": False}
    month = {**HOSPITAL_OLD, "birth_precision": "month", "birth_date": "1990-05-01", "birth_year": 1990}
    bare = {"uid": "csv|x", "source": "csv"}
    for record in (REGISTRY, HOSPITAL_OLD, HOSPITAL_NEW, bad_id, month, bare):
        assert _of_one(record) == _of_many([record]) == golden_record([record])
        assert golden_record([record])["record_count"] == 1
