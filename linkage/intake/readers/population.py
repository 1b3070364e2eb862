"""Population registry extract (CSV): the authoritative identity of every resident.

Columns (header names, case-insensitive): so_dinh_danh, ho_ten, ngay_sinh, gioi_tinh,
dia_chi_thuong_tru, ma_tinh_thuong_tru, ma_xa_thuong_tru, dia_chi_hien_tai, ma_tinh_hien_tai,
ma_xa_hien_tai, ma_ho, quan_he_chu_ho. Codes are from the post-2025 list.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from linkage.intake.readers.base import (
    ReadItem,
    Rejected,
    build_record,
    in_field,
    none_if_blank,
    open_csv,
    parse_sex,
    reject_row,
)
from linkage.standardize import parse_birth_date
from linkage.vocab import CodeList, IdKind, SourceKind

REQUIRED = ("so_dinh_danh", "ho_ten", "ngay_sinh", "gioi_tinh")


def _address(use: str, row: dict[str, str], suffix: str) -> dict[str, Any] | None:
    text = none_if_blank(row.get(f"dia_chi_{suffix}"))
    province = none_if_blank(row.get(f"ma_tinh_{suffix}"))
    commune = none_if_blank(row.get(f"ma_xa_{suffix}"))
    if not (text or province or commune):
        return None
    return {
        "use": use, "text": text, "province_code": province, "commune_code": commune,
        "code_list": CodeList.POST_2025 if (province or commune) else None,
    }  # fmt: skip


def read(path: Path, **_: Any) -> Iterator[ReadItem]:
    """Stream the registry's rows as records (or rejections with their line and reason)."""
    for line, row in open_csv(path):
        position = f"{path.name}:{line}"
        rejected = reject_row(row, REQUIRED, position)
        if rejected is not None:
            yield rejected
            continue
        try:
            birth, precision = in_field("ngay_sinh", parse_birth_date, row["ngay_sinh"])
            sex = in_field("gioi_tinh", parse_sex, row["gioi_tinh"])
        except ValueError as exc:
            yield Rejected(position, str(exc), str(row)[:200])
            continue
        addresses = [a for a in (_address("permanent", row, "thuong_tru"), _address("current", row, "hien_tai")) if a]
        fields: dict[str, Any] = {
            "source": SourceKind.POPULATION,
            "source_system": "population-registry",
            "record_id": row["so_dinh_danh"],
            "raw_ref": position,
            "identifiers": [{"kind": IdKind.PERSONAL_ID, "value": row["so_dinh_danh"]}],
            "name_as_written": row["ho_ten"],
            "birth_date": birth,
            "birth_precision": precision,
            "sex": sex,
            "addresses": addresses,
            "household_code": none_if_blank(row.get("ma_ho")),
            "household_relation": none_if_blank(row.get("quan_he_chu_ho")),
        }
        yield build_record(fields, position, row)
