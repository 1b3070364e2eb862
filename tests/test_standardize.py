"""Vietnamese standardisation: pure functions on tiny inline data."""

from __future__ import annotations

import unicodedata
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import MappedCsv

from linkage.intake import synthetic_inputs
from linkage.intake.batches import ingest
from linkage.standardize import load_admin_units
from linkage.standardize.addresses import address_key, postcode
from linkage.standardize.dates import parse_birth_date, parse_compact, parse_compact_datetime
from linkage.standardize.icd10 import _names_vi, icd10_name_vi, is_known_icd10, normalise_icd10
from linkage.standardize.names import clean_name, family_key, split_name
from linkage.standardize.phones import normalise_phone, old_form
from linkage.standardize.table import (
    LINKAGE_COLUMNS,
    ROW_BY_ROW,
    _by_columns,
    _by_rows,
    place_newborns,
    standardise,
    standardise_one,
)
from linkage.standardize.text import EncodingProblem, fold, nfc, repair_text, unify_tones
from linkage.synth import SynthConfig, generate
from linkage.synth.vocab import ACUTE
from linkage.vocab import DatePrecision, SourceKind


def test_nfc_joins_decomposed_text() -> None:
    decomposed = "Nguye\u0302\u0303n  Va\u0306n"
    assert nfc(decomposed) == "Nguyễn Văn"


def test_fold_maps_d_stroke_explicitly() -> None:
    assert fold("Đoàn Thị Thuý") == "doan thi thuy"
    assert fold("Doãn") == fold("Đoàn") == "doan"


@pytest.mark.parametrize(("old", "new"), [("hòa", "hoà"), ("Thúy", "Thuý"), ("khỏe", "khoẻ"), ("quý", "quý"),
                                          ("giữa", "giữa"), ("Nguyễn", "Nguyễn"), ("hoàng", "hoàng")])
def test_tone_marks_are_placed_by_one_rule(old: str, new: str) -> None:
    assert unify_tones(old) == new
    assert unify_tones(new) == new


def test_split_name_handles_compound_family_names() -> None:
    assert split_name("nguyễn thị  minh khai") == ("Nguyễn", "Thị Minh", "Khai")
    assert split_name("Tôn Nữ Minh Khai") == ("Tôn Nữ", "Minh", "Khai")
    assert split_name("Lê An") == ("Lê", None, "An")
    assert split_name("An") == (None, None, "An")
    assert clean_name("NGUYỄN THỊ THÚY") == "Nguyễn Thị Thuý"


def test_family_name_equivalences() -> None:
    assert family_key("Huỳnh") == family_key("Hoàng") == "hoang"
    assert family_key("Võ") == family_key("Vũ") == "vu"
    assert family_key("Đoàn") != family_key("Đinh")


def test_phones_move_to_ten_digits() -> None:
    assert normalise_phone("01234567890") == "0834567890"
    assert normalise_phone("0168 123 4567") == "0381234567"
    assert normalise_phone("+84 912 345 678") == "0912345678"
    assert normalise_phone("12345") is None
    assert old_form("0381234567") == "01681234567"


def test_compact_dates_with_unknown_parts() -> None:
    assert parse_compact("198500000000") == (date(1985, 1, 1), DatePrecision.YEAR)
    assert parse_compact("198507000000") == (date(1985, 7, 1), DatePrecision.MONTH)
    assert parse_compact("19850712") == (date(1985, 7, 12), DatePrecision.DAY)
    assert parse_compact_datetime("202403011530").hour == 15
    with pytest.raises(ValueError, match=r"not a date|day is out of range"):
        parse_compact("198502310000")


def test_birth_dates_in_common_forms() -> None:
    assert parse_birth_date("1990") == (date(1990, 1, 1), DatePrecision.YEAR)
    assert parse_birth_date("1990-05") == (date(1990, 5, 1), DatePrecision.MONTH)
    assert parse_birth_date("05/03/1990") == (date(1990, 3, 5), DatePrecision.DAY)
    assert parse_birth_date("1990-03-05") == (date(1990, 3, 5), DatePrecision.DAY)
    with pytest.raises(ValueError, match="is not a date"):
        parse_birth_date("31/02/1990")


def test_icd10_forms_and_existence() -> None:
    assert normalise_icd10("e119") == "E11.9"
    assert is_known_icd10("I10") and is_known_icd10("E11.9") and is_known_icd10("A90")
    assert not is_known_icd10("Q99.99X") and not is_known_icd10("XYZ")


def test_icd10_codes_have_vietnamese_names_from_the_shipped_list() -> None:
    assert icd10_name_vi("I10") == "Tăng huyết áp vô căn (nguyên phát)"
    assert icd10_name_vi("E11.9") == "Bệnh đái tháo đường không phụ thuộc insulin, không có biến chứng"
    assert icd10_name_vi("E11.5") == icd10_name_vi("E11")  # a subcategory not in the list: its category
    assert icd10_name_vi("IX") == "Bệnh của hệ tuần hoàn"
    assert icd10_name_vi("Q87") is None
    roman = {"I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV", "XV", "XVI",
             "XVII", "XVIII", "XIX", "XX", "XXI", "XXII"}
    names = _names_vi()
    # A typo in the data file would name a code that does not exist: every row is a chapter or a known code.
    assert {code for code in names if not code[1:2].isdigit()} == roman
    assert all(is_known_icd10(code) for code in names if code not in roman)
    assert all(name == name.strip() and unicodedata.is_normalized("NFC", name) for name in names.values())
    # Everything the synthetic sources diagnose is named.
    assert all(icd10_name_vi(code) for code, _, _ in ACUTE)
    assert all(icd10_name_vi(code) for code in ("I10", "E11.9", "J44.9", "J45.9", "A15.0"))


def test_utf8_mojibake_is_repaired_and_legacy_encodings_refused() -> None:
    assert repair_text("Nguyá»…n VÄƒn An") == ("Nguyễn Văn An", True)
    assert repair_text("Phạm Thị Hoài") == ("Phạm Thị Hoài", False)
    for legacy in ("NguyÔn V¨n An", "Nguyeãn Vaên Hoøa"):
        with pytest.raises(EncodingProblem, match="TCVN3 or VNI"):
            repair_text(legacy)


def test_row_and_table_standardisation_agree(tmp_path) -> None:  # type: ignore[no-untyped-def]

    generate(SynthConfig(persons=600, seed=5, profile="hard"), tmp_path / "s")
    kinds = (SourceKind.POPULATION, SourceKind.HOSPITAL130, SourceKind.COMMUNE831, SourceKind.IMMUNIZATION)
    for kind, files, _ in synthetic_inputs(tmp_path / "s", kinds):
        ingest(kind, files, tmp_path / "d")
    raw = duckdb.sql(f"SELECT * EXCLUDE (payload) FROM read_parquet('{tmp_path}/d/batches/*/records.parquet')").df()
    table = standardise(raw)
    for fields, expected in zip(raw.to_dict("records"), table.to_dict("records"), strict=True):
        lists = ("insurance_cards", "phones", "facility_patient_ids", "other_ids")
        clean = {k: (list(v) if v is not None else []) if k in lists else (None if pd.isna(v) else v)
                 for k, v in fields.items()}
        row = standardise_one(clean)
        for column in LINKAGE_COLUMNS:
            if column in ("commune", "province", "household_code", "address_key", "postcode") \
                    and expected["placeholder_name"]:
                continue  # newborns take the mother's residence only in the table path
            got, want = row[column], expected[column]
            if isinstance(want, float) and pd.isna(want):
                want = None
            assert got == want, (column, got, want, fields["record_id"])


def test_a_small_batch_standardised_row_by_row_equals_the_column_wise_table(tmp_path: Path) -> None:
    """A self-report takes the row path; every value and type is the column-wise path's, a newborn's
    place from its mother's record of the same certificate included."""
    generate(SynthConfig(persons=600, seed=5, profile="hard"), tmp_path / "s")
    kinds = (SourceKind.HOSPITAL130, SourceKind.COMMUNE831)
    for kind, files, _ in synthetic_inputs(tmp_path / "s", kinds):
        ingest(kind, files, tmp_path / "d")
    raw = duckdb.sql(f"SELECT * EXCLUDE (payload) FROM read_parquet('{tmp_path}/d/batches/*/records.parquet') "
                     "ORDER BY source, record_id").df()
    child = raw.index[raw["record_id"].str.endswith(":con1")][0]
    mother = raw.index[raw["record_id"] == raw.loc[child, "record_id"].removesuffix("con1") + "me"][0]
    units = load_admin_units()
    for rows in ([child, mother], [child], list(range(ROW_BY_ROW)), list(range(300, 300 + ROW_BY_ROW))):
        part = raw.loc[rows]
        by_rows, by_columns = _by_rows(part, units), _by_columns(part, units)
        assert len(standardise(part)) == len(rows)
        pd.testing.assert_frame_equal(by_rows, by_columns)
        assert [type(v) for v in by_rows.iloc[0]] == [type(v) for v in by_columns.iloc[0]]


def ingested(tmp_path: Path, files: tuple[Path, Path]) -> pd.DataFrame:
    """The flat records of a CSV ingested through its mapping (`files`: the CSV and the mapping)."""
    ingest(SourceKind.CSV, [files[0]], tmp_path / "d", mapping=files[1])
    return duckdb.sql(f"SELECT * EXCLUDE (payload) FROM read_parquet('{tmp_path}/d/batches/*/records.parquet')").df()


def test_a_province_code_alone_places_the_record_in_its_post_2025_province(tmp_path: Path,
                                                                          mapped_csv: MappedCsv) -> None:
    # Bà Rịa - Vũng Tàu (77) and Bình Dương (74) joined Hồ Chí Minh City (79) on 1 July 2025.
    raw = ingested(tmp_path, mapped_csv(
        '[source]\nsystem = "pk"\n[columns]\nrecord_id = "id"\nfull_name = "ten"\nprovince_code = "tinh"\n'
        'code_list = "pre2025"\n', "id,ten,tinh\n1,Lê Văn Tám,77\n2,Lê Văn Tám,74\n3,Lê Văn Tám,01\n4,Lê Văn Tám,\n"))
    table = standardise(raw)
    assert table["province"].tolist() == ["79", "79", "01", None]
    assert table["commune"].tolist() == [None] * 4
    rows = raw.astype(object).where(raw.notna(), None).to_dict("records")
    assert [standardise_one({**r, "phones": [], "insurance_cards": []})["province"] for r in rows] == [
        "79", "79", "01", None]


def test_a_newborn_without_its_mothers_id_is_placed_through_her_record_of_the_same_certificate() -> None:
    def row(uid: str, **values: object) -> dict[str, object]:
        source, record_id = uid.split("|")
        return {**dict.fromkeys(LINKAGE_COLUMNS), "unique_id": uid, "source": source, "record_id": record_id,
                "placeholder_name": False, **values}

    mother = {"family_fold": "tran", "middle_fold": "thi", "given_fold": "lan", "birth_date": "1995-04-02"}
    table = pd.DataFrame([
        row("hospital130|79002:25010100001:con1", placeholder_name=True, birth_date="2025-01-01"),
        row("hospital130|79002:25010100001:me", **mother),
        row("commune831|T26734:HS1", **mother, commune="26734", province="79", household_code="HGD1"),
        row("hospital130|79002:25010100002:con1", placeholder_name=True, birth_date="2025-01-02"),
        row("hospital130|79002:25010100002:me", **{**mother, "given_fold": "mai"}),
        row("commune831|T26734:HS2", **{**mother, "given_fold": "mai"}, commune="26734", province="79"),
        row("commune831|T00004:HS3", **{**mother, "given_fold": "mai"}, commune="00004", province="01"),
    ])
    placed = place_newborns(table, table).set_index("unique_id")
    assert placed.loc["hospital130|79002:25010100001:con1", ["commune", "province", "household_code"]].tolist() == [
        "26734", "79", "HGD1"]
    # Two women of that name born that day live in two communes: the child is left unplaced.
    assert pd.isna(placed.loc["hospital130|79002:25010100002:con1", "commune"])


def test_a_newborn_whose_mother_is_nowhere_else_takes_the_residence_she_gave_on_the_certificate() -> None:
    rows = [{**dict.fromkeys(LINKAGE_COLUMNS), "unique_id": f"hospital130|{rid}", "source": "hospital130",
             "record_id": rid, **values} for rid, values in [
        ("79002:25010100001:con1", {"placeholder_name": True, "birth_date": "2025-01-01"}),
        ("79002:25010100001:me", {"placeholder_name": False, "given_fold": "lan", "birth_date": "1995-04-02",
                                  "commune": "26734", "province": "79", "address_key": "12 5 lang",
                                  "postcode": "70000"})]]
    table = pd.DataFrame(rows)
    child = place_newborns(table, table).set_index("unique_id").loc["hospital130|79002:25010100001:con1"]
    assert child[["commune", "province", "address_key", "postcode"]].tolist() == ["26734", "79", "12 5 lang",
                                                                                  "70000"]


@pytest.mark.parametrize(("written", "key"), [
    ("Số 12, ngõ 5, đường Láng, Phường Láng, Thành phố Hà Nội", "12 5 lang"),
    ("12 Ngo 5 Duong Lang, P. Lang, Ha Noi", "12 5 lang"),  # no accents, abbreviations, other order of words
    ("Số 12, Xã Tân Hòa, Huyện Châu Thành, Tỉnh An Giang, Việt Nam", "12"),  # the units and the country cut off
    ("Thôn 3, Xã Tân Hòa", "3"),
    ("Xóm 3, Tân Hòa", "3"),  # thôn and xóm say the same: what kind of place, not which
    ("Số 7, Phường 12, Quận 10", "7"),  # a ward's number is cut off, a house's is kept
    ("12, Lê Lợi", "12"),  # a street written last without "đường", named like a ward: less evidence, not wrong
    ("Số 3 Phường Bến Nghé Quận 1 TP HCM", "1 3 ben hcm nghe"),  # no commas: the unit types are left out
    ("Xã Tân Hòa, Huyện Châu Thành", None),
    ("", None),
    (None, None),
])
def test_an_address_is_reduced_to_the_part_below_the_commune(written: str | None, key: str | None) -> None:
    assert address_key(written) == key


def test_a_postcode_is_its_digits_or_nothing() -> None:
    assert [postcode(v) for v in ("100000", " 10 000 ", "700000", "HN-1", "1234", "", None)] == [
        "100000", "10000", "700000", None, None, None, None]


def test_the_address_and_postcode_of_a_mapped_csv_reach_the_model(tmp_path: Path, mapped_csv: MappedCsv) -> None:
    table = standardise(ingested(tmp_path, mapped_csv(
        '[source]\nsystem = "pk"\n[columns]\nrecord_id = "id"\nfull_name = "ten"\naddress = "dia_chi"\n'
        'postcode = "ma_bc"\n',
        'id,ten,dia_chi,ma_bc\n1,Lê Văn Tám,"Số 12, ngõ 5, Phường Láng, Hà Nội",10000\n2,Võ Thị Sáu,,\n')))
    assert table[["address_key", "postcode"]].to_dict("records") == [
        {"address_key": "12 5", "postcode": "10000"}, {"address_key": None, "postcode": None}]


def test_an_identifier_of_another_system_reaches_the_model_with_its_system(tmp_path: Path,
                                                                          mapped_csv: MappedCsv) -> None:
    table = standardise(ingested(tmp_path, mapped_csv(
        '[source]\nsystem = "pk"\n[columns]\nrecord_id = "id"\nfull_name = "ten"\n'
        '[[identifiers]]\ncolumn = "ma_yte"\nkind = "other"\nsystem = "urn:oid:2.16.704.1"\n'
        '[[identifiers]]\ncolumn = "id"\nkind = "facility_patient"\n',
        "id,ten,ma_yte\n1,Lê Văn Tám,YT-1\n2,Võ Thị Sáu,\n")))
    # The other system's identifier first; else the facility's own patient code.
    assert table["other_id"].tolist() == ["urn:oid:2.16.704.1|YT-1", "pk|2"]
    assert table["other_system"].tolist() == ["urn:oid:2.16.704.1", "pk"]
