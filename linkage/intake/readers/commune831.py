"""Commune health station records: the XML of Decision 831/QĐ-BYT, one <HOSOSUCKHOE> per person.

Blocks read: THONGTINCHUNG (identity), TIENSU (birth, risk factors, disabilities, allergies, diseases,
family history), TIEMCHUNG (immunizations), HOSOKHAMCHUABENH (visits with vitals and ICD-10).
Codes with a district (MAHUYEN_*) are from the pre-2025 list; without one, from the post-2025 list.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

from linkage.intake.readers.base import ReadItem, Rejected, build_record, parse_sex
from linkage.intake.readers.xmlsafe import child_text, iter_elements
from linkage.standardize import parse_birth_date, parse_compact_datetime
from linkage.vocab import CodeList, IdKind, SourceKind

RISK_FACTORS = {"1": "smoking", "2": "alcohol", "3": "drugs", "4": "physical_activity"}
DISABILITIES = {"1": "hearing", "2": "sight", "3": "hands", "4": "legs", "5": "spine", "6": "cleft_lip_palate",
                "7": "other"}
ALLERGIES = {"1": "drug", "2": "chemical", "3": "food", "4": "other"}
DISEASES = {"1": "cardiovascular", "2": "hypertension", "3": "diabetes", "4": "stomach", "5": "chronic_lung",
            "6": "asthma", "7": "goitre", "8": "hepatitis", "9": "congenital_heart", "10": "mental_illness",
            "11": "autism", "12": "epilepsy", "13": "cancer", "14": "tuberculosis", "15": "other"}
VITALS = {"MACH": ("pulse", "/min"), "NHIETDO": ("temperature", "Cel"), "HUYETAP_TAMTHU": ("systolic_bp", "mm[Hg]"),
          "HUYETAP_TAMTRUONG": ("diastolic_bp", "mm[Hg]"), "CHIEUCAO": ("height", "cm"), "CANNANG": ("weight", "kg"),
          "BMI": ("bmi", "kg/m2"), "VONGBUNG": ("waist", "cm")}


def _address(info: Element, use: str, suffix: str) -> dict[str, Any] | None:
    text = child_text(info, f"DIACHI_{suffix}")
    province = child_text(info, f"MATINH_{suffix}")
    district = child_text(info, f"MAHUYEN_{suffix}")
    commune = child_text(info, f"MAXA_{suffix}")
    if not (text or province or commune):
        return None
    code_list = CodeList.PRE_2025 if district else CodeList.POST_2025
    return {"use": use, "text": text, "province_code": province, "district_code": district,
            "commune_code": commune, "code_list": code_list if (province or commune) else None}


def _date(value: str | None) -> Any:
    return parse_birth_date(value)[0] if value else None


def _history(tiensu: Element | None) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    conditions: list[dict[str, Any]] = []
    if tiensu is None:
        return conditions, None
    birth = None
    ls = tiensu.find("TINHTRANG_LUCSINH")
    if ls is not None:
        weight = child_text(ls, "CANNANG")
        length = child_text(ls, "CHIEUDAI")
        birth = {"delivery": child_text(ls, "DE"), "premature": child_text(ls, "DENON") == "1",
                 "asphyxia": child_text(ls, "NGATKHI") == "1", "congenital_defect": child_text(ls, "DITAT"),
                 "weight_g": int(weight) if weight else None, "length_cm": float(length) if length else None}
    for item in tiensu.iterfind("YEUTO_SUCKHOE/YEUTO"):
        kind = child_text(item, "LOAI") or ""
        conditions.append({"category": "risk_factor", "code": RISK_FACTORS.get(kind, f"unknown:{kind}"),
                           "text": child_text(item, "MOTA")})
    for item in tiensu.iterfind("KHUYETTAT/KT"):
        kind = child_text(item, "LOAI") or ""
        conditions.append({"category": "disability", "code": DISABILITIES.get(kind, f"unknown:{kind}"),
                           "text": child_text(item, "MOTA")})
    for item in tiensu.iterfind("DIUNG/DU"):
        kind = child_text(item, "LOAI") or ""
        conditions.append({"category": "allergy", "code": ALLERGIES.get(kind, f"unknown:{kind}"),
                           "text": child_text(item, "MOTA")})
    for path, category in (("BENHTAT/BENH", "chronic"), ("TIENSU_GIADINH/BENH", "family_history")):
        for item in tiensu.iterfind(path):
            kind = child_text(item, "LOAIBENH") or ""
            if kind not in DISEASES:
                raise ValueError(f"unknown disease type LOAIBENH {kind!r}")
            conditions.append({"category": category, "code": DISEASES[kind], "icd10": child_text(item, "MABENH"),
                               "text": child_text(item, "MOTA"), "relative": child_text(item, "NGUOIMAC")})
    return conditions, birth


def _visits(person: Element, station: str | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    encounters, observations = [], []
    for visit in person.iterfind("HOSOKHAMCHUABENH"):
        ma_lk = child_text(visit, "MA_LK")
        if not ma_lk:
            raise ValueError("a visit without MA_LK")
        when = child_text(visit, "NGAYKHAM")
        at = parse_compact_datetime(when) if when else None
        codes = [c.text.strip() for c in visit.iterfind("CHANDOANBENH/MABENH") if c.text and c.text.strip()]
        encounters.append({"encounter_id": ma_lk, "facility_code": child_text(visit, "MA_CSKCB") or station,
                           "admitted_at": at, "discharged_at": at, "main_icd10": codes[0] if codes else None,
                           "secondary_icd10": codes[1:], "reason": child_text(visit, "LYDO"),
                           "visit_type": "commune_visit"})
        for tag, (code, unit) in VITALS.items():
            value = child_text(visit, tag)
            if value is not None:
                observations.append({"code": code, "value": float(value), "unit": unit, "observed_at": at,
                                     "encounter_id": ma_lk})
    return encounters, observations


def _record(path: Path, n: int, person: Element) -> ReadItem:
    position = f"{path.name}:HOSOSUCKHOE[{n}]"
    info = person.find("THONGTINCHUNG")
    if info is None:
        return Rejected(position, "missing required block: THONGTINCHUNG", "")
    raw = f"HOTEN={child_text(info, 'HOTEN')!r}"
    station = child_text(info, "MA_TRAM")
    try:
        ngaysinh = child_text(info, "NGAYSINH")
        birth, precision = parse_birth_date(ngaysinh) if ngaysinh else (None, None)
        identifiers = []
        for tag, kind in (("MADINHDANH", IdKind.PERSONAL_ID), ("SOCMND", IdKind.CMND), ("MABHXH", IdKind.BHXH),
                          ("MATHE", IdKind.INSURANCE_CARD)):
            value = child_text(info, tag)
            if value:
                identifiers.append({"kind": kind, "value": value})
        conditions, birth_facts = _history(person.find("TIENSU"))
        immunizations = []
        for dose in person.iterfind("TIEMCHUNG/THONGTINMUITIEM"):
            given = child_text(dose, "NGAYTIEM")
            if not given:
                raise ValueError("an immunization without NGAYTIEM")
            mui = child_text(dose, "MUI")
            month = child_text(dose, "THANGTHAI")
            immunizations.append({
                "vaccine_code": (child_text(dose, "MAVACXIN") or "").upper(),
                "vaccine_name": child_text(dose, "TENVACXIN"),
                "date": parse_birth_date(given)[0], "dose": int(mui) if mui else None,
                "reaction": child_text(dose, "PHANUNGSAUTIEM"), "facility_code": station,
                "pregnancy_month": int(month) if month else None, "next_due": _date(child_text(dose, "NGAYHENTIEM")),
            })
        encounters, observations = _visits(person, station)
        fields: dict[str, Any] = {
            "source": SourceKind.COMMUNE831,
            "source_system": station,
            "record_id": f"{station}:{child_text(info, 'MA_HOSO') or child_text(info, 'MADINHDANH') or n}",
            "raw_ref": position,
            "identifiers": identifiers,
            "name_as_written": child_text(info, "HOTEN"),
            "birth_date": birth,
            "birth_precision": precision,
            "sex": parse_sex(child_text(info, "GIOITINH")),
            "phones": [p] if (p := child_text(info, "DIENTHOAI_DD")) else [],
            "addresses": [a for a in (_address(info, "permanent", "THUONGTRU"), _address(info, "current", "HIENTAI"))
                          if a],
            "household_code": child_text(info, "MAHO_GIADINH"),
            "household_relation": child_text(info, "QUANHE_CHUHO"),
            "ethnicity": child_text(info, "MADANTOC"),
            "nationality": child_text(info, "MAQUOCTICH"),
            "occupation": child_text(info, "MANGHENGHIEP"),
            "blood_group": child_text(info, "NHOMMAU_HEABO"),
            "conditions": conditions,
            "birth": birth_facts,
            "immunizations": immunizations,
            "encounters": encounters,
            "observations": observations,
        }
    except ValueError as exc:
        return Rejected(position, str(exc), raw)
    return build_record(fields, position, raw)


def read(path: Path, **_: Any) -> Iterator[ReadItem]:
    """Stream the persons of an 831 export file."""
    for n, person in iter_elements(path, "HOSOSUCKHOE"):
        yield _record(path, n, person)
