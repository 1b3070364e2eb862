"""Hospital visit files of Decision 130/QĐ-BYT (and the older 4210 layout).

A GIAMDINHHS envelope holds one HOSO per treatment episode; each HOSO holds FILEHOSO tables whose
NOIDUNGFILE is a base64-encoded XML document. XML1 (visit summary) gives the patient's record; XML9
(birth certificate) gives a record for each newborn and one for the mother, both at the mother's
residence (NOI_CU_TRU_NND and the unit codes MATINH/MAHUYEN/MAXA_CU_TRU). The 4210 layout differs in
8-digit birth dates and a few tag names (MA_THE, MA_BENH, MA_BENHKHAC).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from linkage.intake.readers.base import ReadItem, Rejected, build_record, parse_sex
from linkage.intake.readers.xmlsafe import child_text, iter_elements, parse_fragment
from linkage.standardize import parse_compact, parse_compact_datetime
from linkage.vocab import CodeList, IdKind, SourceKind

OUTCOMES = {"1": "cured", "2": "improved", "3": "unchanged", "4": "worse", "5": "died",
            "6": "discharged_poor_prognosis", "7": "undetermined", "8": "died_outside"}


def _text(elem: Element, *tags: str) -> str | None:
    for tag in tags:
        value = child_text(elem, tag)
        if value is not None:
            return value
    return None


def _person_ids(cccd: str | None, cards: str | None, bhxh: str | None = None) -> list[dict[str, Any]]:
    ids: list[dict[str, Any]] = []
    if cccd:
        ids.append({"kind": IdKind.PERSONAL_ID if len(cccd) == 12 else IdKind.CMND, "value": cccd})
    if bhxh:
        ids.append({"kind": IdKind.BHXH, "value": bhxh})
    for card in (cards or "").split(";"):
        if card.strip():
            ids.append({"kind": IdKind.INSURANCE_CARD, "value": card.strip()})
    return ids


def _residence(table: Element, text_tag: str) -> list[dict[str, Any]]:
    """The residence a table gives (the address text and the unit codes MATINH/MAHUYEN/MAXA_CU_TRU), as
    a record's addresses: none when the table gives none. A district code marks the pre-2025 units."""
    province, district, commune = (_text(table, t) for t in ("MATINH_CU_TRU", "MAHUYEN_CU_TRU", "MAXA_CU_TRU"))
    text = _text(table, text_tag)
    if not (text or province or commune):
        return []
    return [{"use": "current", "text": text, "province_code": province, "district_code": district,
             "commune_code": commune,
             "code_list": (CodeList.PRE_2025 if district else CodeList.POST_2025) if (province or commune) else None}]


def _xml1(table: Element, position: str) -> dict[str, Any]:
    facility = _text(table, "MA_CSKCB")
    ma_lk = _text(table, "MA_LK")
    if not facility or not ma_lk:
        raise ValueError("missing required field: MA_LK or MA_CSKCB")
    raw_birth = _text(table, "NGAY_SINH")
    birth, precision = parse_compact(raw_birth) if raw_birth else (None, None)
    ids = _person_ids(_text(table, "SO_CCCD"), _text(table, "MA_THE_BHYT", "MA_THE"))
    if (ma_bn := _text(table, "MA_BN")) is not None:
        ids.append({"kind": IdKind.FACILITY_PATIENT, "value": ma_bn, "scope": facility})
    address = _residence(table, "DIA_CHI")
    admitted, discharged = _text(table, "NGAY_VAO"), _text(table, "NGAY_RA")
    outcome = _text(table, "KET_QUA_DTRI")
    if outcome is not None and outcome not in OUTCOMES:
        raise ValueError(f"unknown KET_QUA_DTRI code {outcome!r}")
    weight = _text(table, "CAN_NANG")
    at = parse_compact_datetime(admitted) if admitted else None
    return {
        "source": SourceKind.HOSPITAL130,
        "source_system": facility,
        "record_id": f"{facility}:{ma_lk}",
        "raw_ref": position,
        "identifiers": ids,
        "name_as_written": _text(table, "HO_TEN"),
        "birth_date": birth,
        "birth_precision": precision,
        "sex": parse_sex(_text(table, "GIOI_TINH")),
        "phones": [p] if (p := _text(table, "DIEN_THOAI")) else [],
        "addresses": address,
        "ethnicity": _text(table, "MA_DANTOC"),
        "nationality": _text(table, "MA_QUOCTICH"),
        "occupation": _text(table, "MA_NGHE_NGHIEP"),
        "encounters": [{
            "encounter_id": ma_lk, "facility_code": facility, "admitted_at": at,
            "discharged_at": parse_compact_datetime(discharged) if discharged else None,
            "main_icd10": _text(table, "MA_BENH_CHINH", "MA_BENH"),
            "secondary_icd10": _text(table, "MA_BENH_KT", "MA_BENHKHAC") or [],
            "outcome": OUTCOMES.get(outcome) if outcome else None,
            "visit_type": _text(table, "MA_LOAI_KCB"),
        }],
        "observations": [{"code": "weight", "value": float(weight), "unit": "kg", "observed_at": at,
                          "encounter_id": ma_lk}] if weight else [],
    }


def _xml9(cert: Element, facility: str, ma_lk: str, n: int, position: str) -> list[dict[str, Any]]:
    mother_name = _text(cert, "HO_TEN_NND")
    mother_birth = _text(cert, "NGAYSINH_NND")
    m_birth, m_precision = parse_compact(mother_birth) if mother_birth else (None, None)
    mother_ids = _person_ids(_text(cert, "SO_CCCD_NND"), _text(cert, "MA_THE_NND"), _text(cert, "MA_BHXH_NND"))
    child_birth = _text(cert, "NGAY_SINH_CON")
    if not child_birth:
        raise ValueError("missing required field: NGAY_SINH_CON")
    c_birth, c_precision = parse_compact(child_birth)
    weight = _text(cert, "CAN_NANG_CON")
    child_name = _text(cert, "HO_TEN_CON") or (f"Con {mother_name}" if mother_name else None)
    child_ids = _person_ids(None, _text(cert, "MA_THE_TAM"))
    related = [{"role": "mother", "name": mother_name, "birth_date": m_birth, "identifiers": mother_ids}]
    if (father := _text(cert, "HO_TEN_CHA")) is not None:
        related.append({"role": "father", "name": father})
    born_at = parse_compact_datetime(child_birth) if len(child_birth) == 12 else None
    residence = _residence(cert, "NOI_CU_TRU_NND")  # the mother's, where the child will live and be seen
    child = {
        "source": SourceKind.HOSPITAL130, "source_system": facility, "record_id": f"{facility}:{ma_lk}:con{n}",
        "raw_ref": position, "identifiers": child_ids, "name_as_written": child_name, "birth_date": c_birth,
        "birth_precision": c_precision, "sex": parse_sex(_text(cert, "GIOI_TINH_CON")), "related": related,
        "addresses": residence,
        "birth": {"weight_g": int(float(weight)) if weight else None, "birth_order": None},
        "recorded_at": born_at,
    }
    records = [child]
    if n == 1 and mother_name:
        records.append({
            "source": SourceKind.HOSPITAL130, "source_system": facility, "record_id": f"{facility}:{ma_lk}:me",
            "raw_ref": position, "identifiers": mother_ids, "name_as_written": mother_name, "birth_date": m_birth,
            "birth_precision": m_precision, "sex": "female", "addresses": residence,
        })
    return records


def _tables(hoso: Element) -> Iterator[tuple[str, Element]]:
    for file in hoso.iterfind("FILEHOSO"):
        kind = (child_text(file, "LOAIHOSO") or "").upper()
        if kind not in ("XML1", "XML9"):
            continue
        content = child_text(file, "NOIDUNGFILE")
        if not content:
            raise ValueError(f"{kind} has no NOIDUNGFILE")
        try:
            yield kind, parse_fragment(base64.b64decode(content, validate=True))
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f"{kind}: NOIDUNGFILE is not base64: {exc}") from exc
        except ParseError as exc:
            raise ValueError(f"{kind}: embedded XML is not well-formed: {exc}") from exc


def read(path: Path, **_: Any) -> Iterator[ReadItem]:
    """Stream the patients (XML1) and births (XML9) of a 130 or 4210 file."""
    for n, hoso in iter_elements(path, "HOSO"):
        position = f"{path.name}:HOSO[{n}]"
        try:
            tables = list(_tables(hoso))
        except ValueError as exc:
            yield Rejected(position, str(exc), "")
            continue
        facility, ma_lk = "", ""
        for kind, table in tables:
            if kind != "XML1":
                continue
            try:
                fields = _xml1(table, position)
                facility, ma_lk = fields["source_system"], fields["encounters"][0]["encounter_id"]
            except ValueError as exc:
                yield Rejected(position, f"XML1: {exc}", f"HO_TEN={_text(table, 'HO_TEN')!r}")
                continue
            yield build_record(fields, position, f"HO_TEN={fields['name_as_written']!r}")
        for kind, table in tables:
            if kind != "XML9":
                continue
            certs = list(table.iter("DU_LIEU_GIAY_CHUNG_SINH"))
            for i, cert in enumerate(certs, start=1):
                cert_facility = _text(cert, "MA_CSKCB") or facility
                cert_lk = _text(cert, "MA_LK") or ma_lk
                pos = f"{position}/XML9[{i}]"
                try:
                    for fields in _xml9(cert, cert_facility, cert_lk, i, pos):
                        yield build_record(fields, pos, f"HO_TEN_NND={fields['name_as_written']!r}")
                except ValueError as exc:
                    yield Rejected(pos, f"XML9: {exc}", f"HO_TEN_NND={_text(cert, 'HO_TEN_NND')!r}")
