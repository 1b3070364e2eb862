"""The merged record as an 831 XML document (HOSOSUCKHOE), so HoSo feeds other systems too."""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

RISK_CODES = {"smoking": "1", "alcohol": "2", "drugs": "3", "physical_activity": "4"}
DISEASE_CODES = {"cardiovascular": "1", "hypertension": "2", "diabetes": "3", "stomach": "4", "chronic_lung": "5",
                 "asthma": "6", "goitre": "7", "hepatitis": "8", "congenital_heart": "9", "mental_illness": "10",
                 "autism": "11", "epilepsy": "12", "cancer": "13", "tuberculosis": "14", "other": "15"}


def _text(parent: Element, tag: str, value: Any) -> None:
    if value is not None and value != "":
        SubElement(parent, tag).text = str(value)


def _date(value: str | None) -> str | None:
    """yyyy-mm-dd[...] as the 831 form's dd/mm/yyyy."""
    if not value or len(value) < 10:
        return value
    return f"{value[8:10]}/{value[5:7]}/{value[0:4]}"


def record_831(profile: dict[str, Any]) -> bytes:
    """UTF-8 XML of one person in the four blocks of the 831 record."""
    admin = profile["administrative"]
    root = Element("HOSOSUCKHOE")
    info = SubElement(root, "THONGTINCHUNG")
    _text(info, "MA_HOSO", profile["person_id"])
    _text(info, "MADINHDANH", admin.get("personal_id"))
    _text(info, "MABHXH", admin.get("bhxh"))
    _text(info, "SOCMND", admin.get("cmnd"))
    _text(info, "MAHO_GIADINH", admin.get("household_code"))
    _text(info, "HOTEN", admin.get("name"))
    _text(info, "QUANHE_CHUHO", admin.get("household_relation"))
    _text(info, "GIOITINH", {"male": "1", "female": "2"}.get(admin.get("sex") or ""))
    birth = admin.get("birth_date")
    _text(info, "NGAYSINH", _date(birth) if birth else admin.get("birth_year"))
    _text(info, "DIACHI_HIENTAI", admin.get("address_text"))
    _text(info, "MATINH_HIENTAI", admin.get("province"))
    _text(info, "MAXA_HIENTAI", admin.get("commune"))
    _text(info, "DIENTHOAI_DD", admin.get("phone"))
    history = SubElement(root, "TIENSU")
    risks = [h for h in profile["history"] if h.get("category") == "risk_factor" and h.get("code") in RISK_CODES]
    if risks:
        block = SubElement(history, "YEUTO_SUCKHOE")
        for item in risks:
            entry = SubElement(block, "YEUTO")
            _text(entry, "LOAI", RISK_CODES[item["code"]])
            _text(entry, "MOTA", item.get("text"))
    diseases = [h for h in profile["history"] if h.get("category") == "chronic"]
    if diseases:
        block = SubElement(history, "BENHTAT")
        for item in diseases:
            entry = SubElement(block, "BENH")
            _text(entry, "LOAIBENH", DISEASE_CODES.get(item.get("code") or "", "15"))
            _text(entry, "MABENH", item.get("icd10"))
            _text(entry, "MOTA", item.get("disease") or item.get("text"))
    doses = SubElement(root, "TIEMCHUNG")
    for dose in profile["immunizations"]:
        entry = SubElement(doses, "THONGTINMUITIEM")
        _text(entry, "MAVACXIN", dose.get("vaccine"))
        _text(entry, "TENVACXIN", dose.get("vaccine_name"))
        _text(entry, "MUI", dose.get("dose"))
        _text(entry, "NGAYTIEM", _date(dose.get("date")))
        _text(entry, "PHANUNGSAUTIEM", dose.get("reaction"))
    for visit in profile["visits"]:
        entry = SubElement(root, "HOSOKHAMCHUABENH")
        _text(entry, "MA_LK", visit.get("encounter_id"))
        admitted = visit.get("admitted_at") or ""
        _text(entry, "NGAYKHAM", admitted[:16].replace("-", "").replace("T", "").replace(":", "") or None)
        _text(entry, "MA_CSKCB", visit.get("facility"))
        diagnoses = SubElement(entry, "CHANDOANBENH")
        for dx in visit.get("diagnoses") or []:
            _text(diagnoses, "MABENH", dx.get("icd10"))
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root, encoding="utf-8")
