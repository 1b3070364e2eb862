"""Vietnam's administrative units before and after the 1 July 2025 reform, from vietnamadminunits.

The package (MIT) ships both official code lists with coordinates and the old-to-new conversion
table; nothing here is hand-written. Codes were reused by the reform, so a code is only meaningful
with its code list: `units.commune(code, CodeList.PRE_2025)`.

    units = load_admin_units()
    units.to_post2025("00001")      # new commune codes of old commune 00001, the default one first
    units.province_post2025("77", CodeList.PRE_2025)  # Bà Rịa - Vũng Tàu went into Hồ Chí Minh City: "79"
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import vietnamadminunits
from vietnamadminunits.database import get_data

from linkage.vocab import CodeList

_CONVERTER = Path(vietnamadminunits.__file__).parent / "data" / "converter_2025.json"


@dataclass(frozen=True)
class AdminUnit:
    """One province, district or commune of one code list."""

    code: str
    name: str
    level: str  # province | district | commune
    code_list: CodeList
    parent_code: str | None
    province_code: str
    lat: float | None
    lon: float | None


@dataclass
class AdminUnits:
    """Both code lists, indexed by (code list, level, code), and the old-to-new commune table."""

    units: dict[tuple[CodeList, str, str], AdminUnit] = field(default_factory=dict)
    old_to_new: dict[str, list[str]] = field(default_factory=dict)
    old_province_to_new: dict[str, str] = field(default_factory=dict)

    def get(self, code_list: CodeList, level: str, code: str) -> AdminUnit | None:
        return self.units.get((code_list, level, code))

    def commune(self, code: str, code_list: CodeList) -> AdminUnit | None:
        return self.get(code_list, "commune", code)

    def of(self, code_list: CodeList, level: str) -> list[AdminUnit]:
        return [u for (cl, lv, _), u in self.units.items() if cl is code_list and lv == level]

    def to_post2025(self, old_commune_code: str) -> list[str]:
        """The post-2025 communes an old commune went into, the default (largest share) first."""
        return self.old_to_new.get(old_commune_code, [])

    def province_post2025(self, code: str | None, code_list: CodeList | str | None) -> str | None:
        """The post-2025 province of a province code of either list (the reform merged whole
        provinces: an old province lies in one new one)."""
        if not isinstance(code, str) or not isinstance(code_list, str) or not code:
            return None  # also NaN from a table
        if code_list == CodeList.POST_2025.value:
            return code if self.get(CodeList.POST_2025, "province", code) else None
        return self.old_province_to_new.get(code) if code_list == CodeList.PRE_2025.value else None


@lru_cache
def load_admin_units() -> AdminUnits:
    """Load both code lists and the conversion table once per process."""
    out = AdminUnits()
    new_by_key: dict[tuple[str, str], str] = {}
    for row in get_data(["province", "provinceCode", "provinceLat", "provinceLon", "provinceKey"], "admin_units"):
        code = row["provinceCode"]
        out.units[(CodeList.POST_2025, "province", code)] = AdminUnit(
            code, row["province"], "province", CodeList.POST_2025, None, code, row["provinceLat"], row["provinceLon"])
    for row in get_data(["ward", "wardCode", "wardLat", "wardLon", "provinceCode", "provinceKey", "wardKey"],
                        "admin_units"):
        code = row["wardCode"]
        out.units[(CodeList.POST_2025, "commune", code)] = AdminUnit(
            code, row["ward"], "commune", CodeList.POST_2025, row["provinceCode"], row["provinceCode"],
            row["wardLat"], row["wardLon"])
        new_by_key[(row["provinceKey"], row["wardKey"])] = code
    old_by_key: dict[str, str] = {}
    legacy_fields = ["province", "provinceCode", "provinceLat", "provinceLon", "district", "districtCode",
                     "districtLat", "districtLon", "ward", "wardCode", "wardLat", "wardLon", "provinceKey",
                     "districtKey", "wardKey"]
    for row in get_data(legacy_fields, "admin_units_legacy"):
        p, d, w = row["provinceCode"], row["districtCode"], row["wardCode"]
        out.units.setdefault((CodeList.PRE_2025, "province", p), AdminUnit(
            p, row["province"], "province", CodeList.PRE_2025, None, p, row["provinceLat"], row["provinceLon"]))
        out.units.setdefault((CodeList.PRE_2025, "district", d), AdminUnit(
            d, row["district"], "district", CodeList.PRE_2025, p, p, row["districtLat"], row["districtLon"]))
        if w:
            out.units[(CodeList.PRE_2025, "commune", w)] = AdminUnit(
                w, row["ward"], "commune", CodeList.PRE_2025, d, p, row["wardLat"], row["wardLon"])
            old_by_key[f"{row['provinceKey']}_{row['districtKey']}_{row['wardKey']}"] = w
    converter = json.loads(_CONVERTER.read_text(encoding="utf-8"))
    for new_province, wards in converter["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for new_ward, old_keys in wards.items():
            new_code = new_by_key.get((new_province, new_ward))
            for old_key in old_keys:
                old_code = old_by_key.get(old_key)
                if new_code and old_code:
                    out.old_to_new.setdefault(old_code, []).append(new_code)
    for new_province, olds in converter["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old_key, targets in olds.items():
            old_code = old_by_key.get(old_key)
            if old_code is None:
                continue
            ordered = sorted(targets, key=lambda t: not t["isDefaultNewWard"])
            codes = [c for t in ordered if (c := new_by_key.get((new_province, t["newWardKey"])))]
            out.old_to_new[old_code] = codes + [c for c in out.old_to_new.get(old_code, []) if c not in codes]
    votes: dict[str, Counter[str]] = {}
    for old_code, new_codes in out.old_to_new.items():
        old_unit, new_unit = out.commune(old_code, CodeList.PRE_2025), out.commune(new_codes[0], CodeList.POST_2025)
        if old_unit and new_unit:
            votes.setdefault(old_unit.province_code, Counter())[new_unit.province_code] += 1
    out.old_province_to_new = {old: counter.most_common(1)[0][0] for old, counter in votes.items()}
    return out
