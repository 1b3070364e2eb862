"""Every reader: good records come through; each kind of bad input is rejected with its reason."""

from __future__ import annotations

import base64
import codecs
import json
import unicodedata
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import MappedCsv

from linkage import SourceError, ingest
from linkage.intake import SOURCES
from linkage.intake.readers import Rejected
from linkage.intake.records import SourceRecord
from linkage.vocab import CodeList, DatePrecision, IdKind, Sex, SourceKind

POP_HEADER = ("so_dinh_danh,ho_ten,ngay_sinh,gioi_tinh,dia_chi_thuong_tru,ma_tinh_thuong_tru,ma_xa_thuong_tru,"
              "dia_chi_hien_tai,ma_tinh_hien_tai,ma_xa_hien_tai,ma_ho,quan_he_chu_ho\n")


def read_all(kind: SourceKind, path: Path, **kw: object) -> tuple[list[SourceRecord], list[Rejected]]:
    items = list(SOURCES[kind].read(path, **kw))
    return [i for i in items if isinstance(i, SourceRecord)], [i for i in items if isinstance(i, Rejected)]


def test_population_reader_good_and_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "pop.csv"
    rows = [
        "001090012345,Nguyễn Văn An,05/03/1990,Nam,\"Số 1, Phường Ba Đình, Hà Nội\",01,00004,,,,HGD1,Chủ hộ",
        "001190012346,Trần Thị Bình,1992,Nữ,,,,,,,HGD1,Vợ",
        "00109001234,Lê Văn Cường,05/03/1990,Nam,,,,,,,,",  # id of the wrong shape
        "001090012347,Phạm Văn Dũng,31/02/1990,Nam,,,,,,,,",  # impossible date
        "001090012348,,05/03/1990,Nam,,,,,,,,",  # missing name
        "001090012349,Hồ Văn Em,05/03/1990,X,,,,,,,,",  # unknown sex code
        "001090012350,NguyÔn V¨n Giang,05/03/1990,Nam,,,,,,,,",  # TCVN3 mojibake
        "001090012351," + "Nguyễn Văn Hải".encode().decode("cp1252") + ",05/03/1990,Nam,,,,,,,,",  # repaired
    ]
    path.write_text("\ufeff" + POP_HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    good, bad = read_all(SourceKind.POPULATION, path)
    assert [r.record_id for r in good] == ["001090012345", "001190012346", "001090012351"]
    first = good[0]
    assert (first.family_name, first.middle_name, first.given_name) == ("Nguyễn", "Văn", "An")
    assert first.birth_date == date(1990, 3, 5) and first.birth_precision is DatePrecision.DAY
    assert first.sex is Sex.MALE and first.identifier(IdKind.PERSONAL_ID) == "001090012345"
    permanent = first.address("permanent")
    assert permanent is not None and permanent.code_list is CodeList.POST_2025 and permanent.commune_code == "00004"
    assert good[1].birth_precision is DatePrecision.YEAR
    assert good[2].name_as_written == "Nguyễn Văn Hải"
    reasons = {r.position: r.reason for r in bad}
    assert "wrong shape" in reasons["pop.csv:4"]
    assert "is not a date" in reasons["pop.csv:5"]
    assert reasons["pop.csv:6"] == "missing required field: ho_ten"
    assert "unknown sex code" in reasons["pop.csv:7"]
    assert "TCVN3 or VNI" in reasons["pop.csv:8"]


def to_cp1258(text: str) -> bytes:
    """Windows-1258 keeps tone marks as combining characters after a precomposed base letter."""
    tones = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
    out = []
    for ch in text:
        parts = unicodedata.normalize("NFD", ch)
        out.append(unicodedata.normalize("NFC", "".join(c for c in parts if c not in tones)))
        out.extend(c for c in parts if c in tones)
    return "".join(out).encode("cp1258")


def test_windows_1258_file_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "pop1258.csv"
    text = POP_HEADER + "001090012345,Nguyễn Văn Đức,05/03/1990,Nam,,,,,,,,\n"
    path.write_bytes(to_cp1258(text))
    good, bad = read_all(SourceKind.POPULATION, path)
    assert bad == [] and good[0].name_as_written == "Nguyễn Văn Đức"


def test_unreadable_csv_is_a_whole_file_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(SourceError, match="empty file or no header row"):
        read_all(SourceKind.POPULATION, path)


def commune831_xml(persons: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?><DANHSACHHOSO>{persons}</DANHSACHHOSO>'


GOOD_831 = """<HOSOSUCKHOE><THONGTINCHUNG><MA_TRAM>T00004</MA_TRAM><MA_HOSO>HS1</MA_HOSO>
<MADINHDANH>001090012345</MADINHDANH><MABHXH>0123456789</MABHXH><MATHE>DN4010123456789</MATHE>
<MAHO_GIADINH>HGD1</MAHO_GIADINH><HOTEN>Nguyễn Văn An</HOTEN><GIOITINH>1</GIOITINH><NGAYSINH>05/03/1990</NGAYSINH>
<DIACHI_THUONGTRU>Phúc Xá, Ba Đình</DIACHI_THUONGTRU><MATINH_THUONGTRU>01</MATINH_THUONGTRU>
<MAHUYEN_THUONGTRU>001</MAHUYEN_THUONGTRU><MAXA_THUONGTRU>00001</MAXA_THUONGTRU><DIENTHOAI_DD>01681234567</DIENTHOAI_DD>
</THONGTINCHUNG><TIENSU><YEUTO_SUCKHOE><YEUTO><LOAI>1</LOAI></YEUTO></YEUTO_SUCKHOE>
<BENHTAT><BENH><LOAIBENH>2</LOAIBENH><MABENH>I10</MABENH></BENH></BENHTAT></TIENSU>
<TIEMCHUNG><THONGTINMUITIEM><MAVACXIN>VNNB</MAVACXIN><MUI>1</MUI><NGAYTIEM>01/06/2020</NGAYTIEM></THONGTINMUITIEM>
</TIEMCHUNG><HOSOKHAMCHUABENH><MA_LK>K1</MA_LK><NGAYKHAM>202401020800</NGAYKHAM><HUYETAP_TAMTHU>150</HUYETAP_TAMTHU>
<HUYETAP_TAMTRUONG>95</HUYETAP_TAMTRUONG><CHANDOANBENH><MABENH>I10</MABENH></CHANDOANBENH></HOSOKHAMCHUABENH>
</HOSOSUCKHOE>"""


def test_commune831_reader(tmp_path: Path) -> None:
    bad_icd = GOOD_831.replace("<MA_HOSO>HS1", "<MA_HOSO>HS2").replace(
        "<CHANDOANBENH><MABENH>I10", "<CHANDOANBENH><MABENH>Q99.99X")
    path = tmp_path / "tram.xml"
    path.write_text(commune831_xml(GOOD_831 + bad_icd), encoding="utf-8")
    good, bad = read_all(SourceKind.COMMUNE831, path)
    assert len(good) == 1
    rec = good[0]
    assert rec.record_id == "T00004:HS1"
    assert rec.addresses[0].code_list is CodeList.PRE_2025 and rec.addresses[0].district_code == "001"
    assert rec.identifier(IdKind.BHXH) == "0123456789"
    assert {(c.category, c.code) for c in rec.conditions} == {("risk_factor", "smoking"), ("chronic", "hypertension")}
    assert rec.immunizations[0].vaccine_code == "VNNB"
    assert rec.encounters[0].main_icd10 == "I10"
    assert {o.code: o.value for o in rec.observations} == {"systolic_bp": 150.0, "diastolic_bp": 95.0}
    assert len(bad) == 1 and "unknown ICD-10 code 'Q99.99X'" in bad[0].reason


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
         "<DANHSACHHOSO>&lol2;</DANHSACHHOSO>", "unsafe XML refused"),
        ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
         "<DANHSACHHOSO>&xxe;</DANHSACHHOSO>", "unsafe XML refused"),
        ("this is not xml", "not well-formed XML"),
    ],
)
def test_unsafe_or_broken_xml_is_refused_whole(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "evil.xml"
    path.write_text(text)
    with pytest.raises(SourceError, match=message):
        read_all(SourceKind.COMMUNE831, path)


def envelope(*hoso: list[tuple[str, str]]) -> str:
    body = ""
    for tables in hoso:
        files = "".join(f"<FILEHOSO><LOAIHOSO>{k}</LOAIHOSO><NOIDUNGFILE>{base64.b64encode(v.encode()).decode()}"
                        f"</NOIDUNGFILE></FILEHOSO>" for k, v in tables)
        body += f"<HOSO>{files}</HOSO>"
    return (f"<GIAMDINHHS><THONGTINHOSO><NGAYLAP>20260101</NGAYLAP><DANHSACHHOSO>{body}</DANHSACHHOSO>"
            "</THONGTINHOSO></GIAMDINHHS>")


XML1 = ("<TONG_HOP><MA_LK>LK1</MA_LK><MA_BN>BN9</MA_BN><HO_TEN>NGUYEN VAN AN</HO_TEN><SO_CCCD>001090012345</SO_CCCD>"
        "<NGAY_SINH>198500000000</NGAY_SINH><GIOI_TINH>1</GIOI_TINH><MA_THE_BHYT>DN4010123456789;HT3020123456789"
        "</MA_THE_BHYT><MA_BENH_CHINH>J18.9</MA_BENH_CHINH><MA_BENH_KT>I10;E11.9</MA_BENH_KT>"
        "<NGAY_VAO>202403010800</NGAY_VAO><NGAY_RA>202403051000</NGAY_RA><KET_QUA_DTRI>2</KET_QUA_DTRI>"
        "<MA_CSKCB>01001</MA_CSKCB><MATINH_CU_TRU>01</MATINH_CU_TRU><MAHUYEN_CU_TRU>001</MAHUYEN_CU_TRU>"
        "<MAXA_CU_TRU>00001</MAXA_CU_TRU></TONG_HOP>")
XML9 = ("<CHI_TIEU_DU_LIEU_GIAY_CHUNG_SINH><DSACH_GIAYCHUNGSINH><DU_LIEU_GIAY_CHUNG_SINH><MA_LK>LK2</MA_LK>"
        "<MA_CSKCB>01002</MA_CSKCB><HO_TEN_NND>Trần Thị Bình</HO_TEN_NND><NGAYSINH_NND>199201010000</NGAYSINH_NND>"
        "<SO_CCCD_NND>001192012345</SO_CCCD_NND><HO_TEN_CON/><GIOI_TINH_CON>2</GIOI_TINH_CON>"
        "<NGAY_SINH_CON>202605010930</NGAY_SINH_CON><CAN_NANG_CON>3100</CAN_NANG_CON>"
        "<NOI_CU_TRU_NND>Số 5, Phường Phúc Xá, Quận Ba Đình, Hà Nội</NOI_CU_TRU_NND><MATINH_CU_TRU>01</MATINH_CU_TRU>"
        "<MAHUYEN_CU_TRU>001</MAHUYEN_CU_TRU><MAXA_CU_TRU>00001</MAXA_CU_TRU>"
        "</DU_LIEU_GIAY_CHUNG_SINH></DSACH_GIAYCHUNGSINH></CHI_TIEU_DU_LIEU_GIAY_CHUNG_SINH>")
XML1_4210 = ("<TONG_HOP><MA_LK>LK3</MA_LK><HO_TEN>LÊ THỊ CÚC</HO_TEN><NGAY_SINH>19700215</NGAY_SINH>"
             "<GIOI_TINH>2</GIOI_TINH><MA_THE>HT3010987654321</MA_THE><MA_BENH>I10</MA_BENH>"
             "<NGAY_VAO>202201020800</NGAY_VAO><NGAY_RA>202201030800</NGAY_RA><MA_CSKCB>01001</MA_CSKCB></TONG_HOP>")


def test_hospital130_reader(tmp_path: Path) -> None:
    broken = [("XML1", XML1.replace("<NGAY_VAO>202403010800", "<NGAY_VAO>202403090800"))]
    path = tmp_path / "xml130.xml"
    path.write_text(envelope([("XML1", XML1)], [("XML9", XML9)], [("XML1", XML1_4210)], broken))
    good, bad = read_all(SourceKind.HOSPITAL130, path)
    by_id = {r.record_id: r for r in good}
    patient = by_id["01001:LK1"]
    assert patient.birth_precision is DatePrecision.YEAR and patient.birth_date == date(1985, 1, 1)
    assert [i.value for i in patient.identifiers if i.kind is IdKind.INSURANCE_CARD] == [
        "DN4010123456789", "HT3020123456789"]
    assert patient.identifier(IdKind.FACILITY_PATIENT) == "BN9"
    enc = patient.encounters[0]
    assert (enc.main_icd10, enc.secondary_icd10, enc.outcome) == ("J18.9", ["I10", "E11.9"], "improved")
    child, mother = by_id["01002:LK2:con1"], by_id["01002:LK2:me"]
    assert child.name_as_written == "Con Trần Thị Bình" and child.birth is not None and child.birth.weight_g == 3100
    assert child.related[0].role == "mother" and child.related[0].identifiers[0].value == "001192012345"
    assert mother.identifier(IdKind.PERSONAL_ID) == "001192012345" and mother.sex is Sex.FEMALE
    # the certificate's residence (the mother's) is the child's too: without it a nameless newborn
    # meets its later records on nothing but the birth date
    for record in (child, mother):
        units = [(a.province_code, a.district_code, a.commune_code) for a in record.addresses]
        assert units == [("01", "001", "00001")]
        assert record.addresses[0].text.startswith("Số 5, Phường Phúc Xá")
    legacy = by_id["01001:LK3"]
    assert legacy.birth_date == date(1970, 2, 15) and legacy.encounters[0].main_icd10 == "I10"
    assert len(bad) == 1 and "discharge before admission" in bad[0].reason


def test_hospital130_bad_base64_is_rejected_alone(tmp_path: Path) -> None:
    path = tmp_path / "x.xml"
    good_env = envelope([("XML1", XML1)])
    path.write_text(good_env.replace("<DANHSACHHOSO>", "<DANHSACHHOSO><HOSO><FILEHOSO><LOAIHOSO>XML1</LOAIHOSO>"
                                     "<NOIDUNGFILE>@@not base64@@</NOIDUNGFILE></FILEHOSO></HOSO>"))
    good, bad = read_all(SourceKind.HOSPITAL130, path)
    assert len(good) == 1 and "not base64" in bad[0].reason


def test_immunization_reader_groups_doses_of_a_child(tmp_path: Path) -> None:
    path = tmp_path / "tc.csv"
    path.write_text(
        "ma_tre,ho_ten_tre,ngay_sinh,gioi_tinh,so_dinh_danh,ho_ten_nguoi_cham_soc,dien_thoai,ma_vac_xin,ten_vac_xin,"
        "mui_thu,ngay_tiem,ma_co_so,phan_ung\n"
        "TC1,Nguyễn Minh Khôi,01/01/2025,Nam,,Trần Thị Bình,0912345678,BCG,BCG,1,08/01/2025,T00004,\n"
        "TC1,Nguyễn Minh Khôi,01/01/2025,Nam,,Trần Thị Bình,0912345678,DPT-VGB-HIB,5in1,1,01/03/2025,T00004,\n"
        "TC1,Nguyễn Minh Khôi,01/01/2025,Nam,,Trần Thị Bình,0912345678,DPT-VGB-HIB,5in1,2,30/02/2025,T00004,\n"
        "TC2,Lê Thu Hà,01/02/2025,Nữ,,,,BCG,BCG,1,,T00004,\n"
    )
    good, bad = read_all(SourceKind.IMMUNIZATION, path)
    assert [r.record_id for r in good] == ["TC1"]
    assert [(i.vaccine_code, i.dose) for i in good[0].immunizations] == [("BCG", 1), ("DPT-VGB-HIB", 1)]
    assert good[0].related[0].name == "Trần Thị Bình"
    assert sorted(r.reason for r in bad) == ["date '30/02/2025' is not a date", "missing required field: ngay_tiem"]


def test_fhir_reader(tmp_path: Path) -> None:
    patient = {"resourceType": "Patient", "id": "p1", "meta": {"source": "his-a"},
               "identifier": [{"system": "https://hoso.gov.vn/fhir/sid/cccd", "value": "001090012345"}],
               "name": [{"family": "Nguyễn", "given": ["Văn", "An"]}], "gender": "male", "birthDate": "1990-03",
               "telecom": [{"system": "phone", "value": "0912345678"}]}
    encounter = {"resourceType": "Encounter", "id": "e1", "status": "finished",
                 "class": {"code": "AMB"}, "subject": {"reference": "Patient/p1"},
                 "period": {"start": "2024-01-02T08:00:00+07:00"}}
    condition = {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"},
                 "encounter": {"reference": "Encounter/e1"},
                 "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "I10"}]}}
    bp = {"resourceType": "Observation", "id": "o1", "status": "final", "subject": {"reference": "Patient/p1"},
          "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
          "effectiveDateTime": "2024-01-03T07:00:00+07:00", "device": {"reference": "Device/bpm1"},
          "component": [{"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
                         "valueQuantity": {"value": 150, "unit": "mm[Hg]"}}]}
    orphan = {"resourceType": "Condition", "id": "c2", "subject": {"reference": "Patient/zz"},
              "code": {"text": "x"}}
    invalid = {"resourceType": "Patient", "id": "p2", "birthDate": "1990-13-45"}
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"resource": r} for r in (patient, encounter, condition, bp, orphan)]}
    path = tmp_path / "fhir.ndjson"
    path.write_text(json.dumps(bundle) + "\n{not json\n" + json.dumps(invalid) + "\n")
    good, bad = read_all(SourceKind.FHIR, path)
    assert len(good) == 1
    rec = good[0]
    assert rec.record_id == "his-a:p1" and rec.birth_precision is DatePrecision.MONTH
    assert (rec.middle_name, rec.given_name) == ("Văn", "An")
    assert rec.encounters[0].main_icd10 == "I10"
    assert rec.observations[0].code == "systolic_bp" and rec.observations[0].device == "Device/bpm1"
    reasons = " | ".join(r.reason for r in bad)
    assert "refers to 'Patient/zz'" in reasons and "malformed JSON" in reasons and "birthDate" in reasons


def test_fhir_reader_resolves_full_urls_and_says_what_a_validator_would_refuse(tmp_path: Path) -> None:
    """References by `urn:uuid:` fullUrl resolve; units are read as UCUM; an Observation in a unit HoSo does
    not keep is quarantined alone; what a strict receiver refuses but HoSo can read is kept with a warning."""
    urn = "urn:uuid:0b6f7a4e-0000-4000-8000-00000000000{}".format
    patient = {"resourceType": "Patient", "id": "p1", "name": [{"family": "Lê", "given": ["Thị", "Hoa"]}],
               "birthDate": "1970-05-01"}
    device = {"resourceType": "Device", "id": "d1"}
    encounter = {"resourceType": "Encounter", "id": "e1", "status": "finished", "class": {"code": "IMP"},
                 "subject": {"reference": urn(1)}, "period": {"start": "2024-01-02T08:00:00+07:00"}}
    condition = {"resourceType": "Condition", "id": "c1", "subject": {"reference": urn(1)},
                 "encounter": {"reference": urn(3)},
                 "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "I10"}]}}

    def reading(rid: str, value: float, quantity: dict[str, Any], device_ref: str) -> dict[str, Any]:
        return {"resourceType": "Observation", "id": rid, "status": "final", "subject": {"reference": urn(1)},
                "code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
                "effectiveDateTime": "2024-01-03T07:00:00+07:00", "device": {"reference": device_ref},
                "valueQuantity": {"value": value, **quantity}}

    ucum = reading("o1", 150, {"unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}, urn(2))
    spelled = reading("o2", 140, {"unit": "mmHg"}, "Device/elsewhere")
    kilopascal = reading("o3", 20, {"unit": "kPa", "system": "http://unitsofmeasure.org", "code": "kPa"}, urn(2))
    entries = [{"fullUrl": urn(1), "resource": patient}, {"fullUrl": urn(2), "resource": device},
               {"fullUrl": urn(3), "resource": encounter}, {"fullUrl": urn(4), "resource": condition},
               {"fullUrl": urn(5), "resource": ucum}, {"resource": spelled},
               {"fullUrl": urn(7), "resource": kilopascal}]
    path = tmp_path / "clinic.json"
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}))
    good, bad = read_all(SourceKind.FHIR, path)
    assert len(good) == 1
    record = good[0]
    assert record.encounters[0].main_icd10 == "I10" and record.encounters[0].visit_type == "IMP"
    assert [(o.value, o.unit, o.device) for o in record.observations] == [(150, "mm[Hg]", "Device/d1"),
                                                                          (140, "mm[Hg]", "Device/elsewhere")]
    assert [r.reason for r in bad] == ["Observation: systolic_bp (LOINC 8480-6) in unit 'kPa': HoSo keeps it in "
                                       "UCUM 'mm[Hg]'"]
    assert record.warnings == [
        "clinic.json/entry[6]: Bundle entry 6 has no fullUrl (FHIR requires one outside transactions and batches)",
        "clinic.json/entry[6]: Observation o2 names 'Device/elsewhere', a Device not in the Bundle"]
    summary = ingest(SourceKind.FHIR, [path], tmp_path / "data")  # the warnings reach the quarantine log
    assert (summary.accepted, summary.quarantined, summary.warnings) == (1, 1, 2)
    log = (tmp_path / "data" / "batches" / summary.batch_id / "quarantine.jsonl").read_text()
    assert log.count('"reason": "warning: ') == 2


def test_csv_reader_with_a_mapping(mapped_csv: MappedCsv) -> None:
    path, mapping = mapped_csv(
        '[source]\nsystem = "pk1"\n[columns]\nrecord_id = "id"\nfull_name = "ten"\n'
        'birth_date = "dob"\nbirth_date_format = "%d-%m-%Y"\nsex = "gt"\nphone = "sdt"\n'
        '[sex_codes]\nA = "male"\nB = "female"\n[[identifiers]]\ncolumn = "cccd"\nkind = "personal_id"\n',
        "id,ten,dob,gt,sdt,cccd\n1,Lê Văn Tám,02-09-1945,A,01681234567,\n2,Võ Thị Sáu,1933-02-30,B,,\n"
        "3,Ngô Quyền,01-01-1990,Z,,\n4,Bà Triệu,01-01-1990,B,,12345\n")
    good, bad = read_all(SourceKind.CSV, path, mapping=mapping)
    # A bad value costs that value, not the record: the field and value are named for the quarantine.
    assert [r.record_id for r in good] == ["pk1:1", "pk1:2", "pk1:3", "pk1:4"] and bad == []
    assert good[0].birth_date == date(1945, 9, 2) and good[0].phones == ["01681234567"] and good[0].dropped == []
    assert good[1].birth_date is None and good[1].dropped == [
        "birth_date (dob): time data '1933-02-30' does not match format '%d-%m-%Y'"]
    assert good[2].sex is None and good[2].dropped == ["sex (gt): unknown sex code 'Z'"]
    assert good[3].identifiers == [] and good[3].dropped == ["identifiers.0: personal_id '12345' has the wrong shape"]


def test_csv_mapping_fallbacks_joins_and_other_identifiers(tmp_path: Path, mapped_csv: MappedCsv) -> None:
    path, mapping = mapped_csv(
        '[source]\nsystem = "pk2"\n[columns]\nrecord_id = "id"\nfamily_name = "ho"\n'
        'given_name = "ten"\nmiddle_name = "dem"\nbirth_date = ["ngay_sinh", "nam_sinh"]\n'
        'address = { join = ["so_nha", "duong", "phuong"], sep = ", " }\n'
        '[[identifiers]]\ncolumn = "ma_yte"\nkind = "other"\nsystem = "urn:oid:2.16.704.1"\n',
        "id,ho,dem,ten,ngay_sinh,nam_sinh,so_nha,duong,phuong,ma_yte\n"
        "1,Lê,Văn,Tám,02/09/1945,,12,Lê Lợi,Bến Nghé,YT-1\n2,Võ,Thị,Sáu,,1933,,Hàng Bài,,\n")
    good, bad = read_all(SourceKind.CSV, path, mapping=mapping)
    assert bad == []
    assert (good[0].birth_date, good[0].birth_precision) == (date(1945, 9, 2), DatePrecision.DAY)
    assert (good[1].birth_date, good[1].birth_precision) == (date(1933, 1, 1), DatePrecision.YEAR)
    assert [a.text for a in good[0].addresses] == ["12, Lê Lợi, Bến Nghé"]
    assert [a.text for a in good[1].addresses] == ["Hàng Bài"]
    assert [(i.kind, i.value, i.scope) for i in good[0].identifiers] == [(IdKind.OTHER, "YT-1", "urn:oid:2.16.704.1")]
    other = tmp_path / "bad.toml"
    other.write_text('[source]\nsystem = "pk2"\n[columns]\nrecord_id = "id"\nfull_name = "ten"\n'
                     '[[identifiers]]\ncolumn = "ma_yte"\nkind = "other"\n')
    with pytest.raises(SourceError, match="of kind other needs its system"):
        read_all(SourceKind.CSV, path, mapping=other)


def test_csv_mapping_naming_absent_columns_is_an_error(mapped_csv: MappedCsv) -> None:
    path, mapping = mapped_csv('[source]\nsystem = "pk1"\n[columns]\nrecord_id = "id"\nfull_name = "hoten"\n',
                               "id,ten\n1,Lê Văn Tám\n")
    with pytest.raises(SourceError, match="columns named by the mapping are missing: hoten"):
        read_all(SourceKind.CSV, path, mapping=mapping)
    with pytest.raises(SourceError, match="needs --mapping"):
        read_all(SourceKind.CSV, path)


def test_one_bad_byte_costs_one_row_not_the_files_encoding(tmp_path: Path) -> None:
    rows = [f"0010900123{n:02d},Nguyễn Văn Đức {n},05/03/1990,Nữ,,,,,,,," for n in range(3)]
    body = (POP_HEADER + "\n".join(rows) + "\n").encode("utf-8").replace("Đức 1".encode(), b"\xff\xfe 1")
    path = tmp_path / "stray.csv"
    path.write_bytes(body)
    good, bad = read_all(SourceKind.POPULATION, path)
    assert [r.name_as_written for r in good] == ["Nguyễn Văn Đức 0", "Nguyễn Văn Đức 2"]
    assert len(bad) == 1 and bad[0].reason.startswith("encoding")


def test_windows_1258_sex_code_and_utf16_files_are_read(tmp_path: Path) -> None:
    text = POP_HEADER + "001090012345,Trần Thị Lụa,05/03/1990,Nữ,,,,,,,,\n"
    cp1258 = tmp_path / "pop1258.csv"
    cp1258.write_bytes(to_cp1258(text))
    utf16 = tmp_path / "pop16.csv"
    utf16.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    for path in (cp1258, utf16):
        good, bad = read_all(SourceKind.POPULATION, path)
        assert bad == [] and good[0].name_as_written == "Trần Thị Lụa" and good[0].sex == "female", path.name
