"""Immunization registry export (CSV): one row per dose, rows of one child together.

Columns: ma_tre, ho_ten_tre, ngay_sinh, gioi_tinh, so_dinh_danh, ho_ten_nguoi_cham_soc,
dien_thoai, dia_chi, ma_tinh, ma_xa (residence, post-2025 codes; optional), ma_vac_xin, ten_vac_xin,
mui_thu, ngay_tiem, ma_co_so, phan_ung. Consecutive rows of
the same child form one record; a bad dose row is quarantined alone, the child keeps its other doses.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from linkage.intake.readers.base import ReadItem, Rejected, build_record, none_if_blank, open_csv, parse_sex, reject_row
from linkage.standardize import parse_birth_date
from linkage.vocab import CodeList, IdKind, SourceKind

REQUIRED = ("ma_tre", "ho_ten_tre", "ma_vac_xin", "ngay_tiem")


def _child(row: dict[str, str], position: str) -> dict[str, Any]:
    birth, precision = parse_birth_date(row["ngay_sinh"]) if row.get("ngay_sinh") else (None, None)
    identifiers = [{"kind": IdKind.FACILITY_PATIENT, "value": row["ma_tre"], "scope": "immunization-registry"}]
    if row.get("so_dinh_danh"):
        identifiers.append({"kind": IdKind.PERSONAL_ID, "value": row["so_dinh_danh"]})
    related = []
    if row.get("ho_ten_nguoi_cham_soc") or row.get("dien_thoai"):
        related.append({"role": "caregiver", "name": none_if_blank(row.get("ho_ten_nguoi_cham_soc")),
                        "phone": none_if_blank(row.get("dien_thoai"))})
    return {
        "source": SourceKind.IMMUNIZATION,
        "source_system": "immunization-registry",
        "record_id": row["ma_tre"],
        "raw_ref": position,
        "identifiers": identifiers,
        "name_as_written": row["ho_ten_tre"],
        "birth_date": birth,
        "birth_precision": precision,
        "sex": parse_sex(row.get("gioi_tinh")),
        "related": related,
        "addresses": [_address(row)] if row.get("dia_chi") or row.get("ma_xa") else [],
        "immunizations": [],
    }


def _address(row: dict[str, str]) -> dict[str, Any]:
    province, commune = none_if_blank(row.get("ma_tinh")), none_if_blank(row.get("ma_xa"))
    return {"use": "current", "text": none_if_blank(row.get("dia_chi")), "province_code": province,
            "commune_code": commune, "code_list": CodeList.POST_2025 if province or commune else None}


def _dose(row: dict[str, str]) -> dict[str, Any]:
    given, _ = parse_birth_date(row["ngay_tiem"])
    return {
        "vaccine_code": row["ma_vac_xin"].upper(),
        "vaccine_name": none_if_blank(row.get("ten_vac_xin")),
        "dose": int(row["mui_thu"]) if row.get("mui_thu") else None,
        "date": given,
        "facility_code": none_if_blank(row.get("ma_co_so")),
        "reaction": none_if_blank(row.get("phan_ung")),
    }


def read(path: Path, **_: Any) -> Iterator[ReadItem]:
    """Stream children with their doses; each bad row is quarantined on its own."""
    current: dict[str, Any] | None = None
    current_raw: dict[str, str] = {}
    seen: dict[str, int] = {}
    for line, row in open_csv(path):
        position = f"{path.name}:{line}"
        rejected = reject_row(row, REQUIRED, position)
        if rejected is not None:
            yield rejected
            continue
        if current is None or row["ma_tre"] != current_raw.get("ma_tre"):
            if current is not None:
                yield build_record(current, current["raw_ref"], current_raw)
            try:
                current = _child(row, position)
            except ValueError as exc:
                current = None
                current_raw = {}
                yield Rejected(position, str(exc), str(row)[:200])
                continue
            current_raw = row
            count = seen.get(row["ma_tre"], 0) + 1
            seen[row["ma_tre"]] = count
            if count > 1:
                current["record_id"] = f"{row['ma_tre']}#{count}"
        try:
            current["immunizations"].append(_dose(row))
        except ValueError as exc:
            yield Rejected(position, str(exc), str(row)[:200])
    if current is not None:
        yield build_record(current, current["raw_ref"], current_raw)
