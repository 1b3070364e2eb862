"""Vietnamese personal names: family, middle and given parts, and keys for comparing them.

Names are written family-middle-given (Nguyễn Thị Minh Khai). Hoàng = Huỳnh and Vũ = Võ are one
family name in its northern and southern forms; a handful of family names are compound.

    >>> split_name("Nguyễn Thị Minh Khai")
    ('Nguyễn', 'Thị Minh', 'Khai')
    >>> family_key("Huỳnh") == family_key("Hoàng")
    True
"""

from __future__ import annotations

import re

from linkage.standardize.text import fold, nfc, unify_tones

COMPOUND_FAMILY_NAMES = frozenset(
    {"ton nu", "ton that", "nguyen phuc", "au duong", "tu ma", "gia cat", "hoang phu", "thuong quan"}
)
# Equivalent family names, by their folded form, mapped to one representative.
FAMILY_EQUIVALENTS = {"huynh": "hoang", "vo": "vu"}


# A newborn without a name yet is recorded under the mother's name: "Con Nguyễn Thị A", "Con của ...",
# "Bé ...". Such a name identifies the mother, not the child.
_PLACEHOLDER = re.compile(r"^(con cua|con ba|con chi|con me|con|be|so sinh)\s+\S", re.IGNORECASE)


def is_placeholder_name(name: str | None) -> bool:
    """True for a newborn recorded under its mother's name.

    >>> is_placeholder_name("CON NGUYỄN THỊ HÀ"), is_placeholder_name("Công Văn An")
    (True, False)
    """
    if not name:
        return False
    # Every such name folds to a first letter c, b or s: most names are settled by their first letter.
    head = fold(name.lstrip()[:1])
    return (not head or head in "cbs") and bool(_PLACEHOLDER.match(fold(name)))


def clean_name(name: str) -> str:
    """NFC, unified tone marks, each word capitalised: the standard written form."""
    return " ".join(w[:1].upper() + w[1:].lower() for w in unify_tones(nfc(name)).split())


def split_name(full: str) -> tuple[str | None, str | None, str | None]:
    """Family, middle and given parts of a full name written family-middle-given."""
    words = clean_name(full).split()
    if not words:
        return None, None, None
    if len(words) == 1:
        return None, None, words[0]
    family_len = 2 if len(words) >= 3 and fold(" ".join(words[:2])) in COMPOUND_FAMILY_NAMES else 1
    family = " ".join(words[:family_len])
    rest = words[family_len:]
    given = rest[-1]
    middle = " ".join(rest[:-1]) or None
    return family, middle, given


def family_key(family: str | None) -> str | None:
    """Folded family name with Hoàng/Huỳnh and Vũ/Võ made one."""
    if not family:
        return None
    folded = fold(family)
    return FAMILY_EQUIVALENTS.get(folded, folded)
