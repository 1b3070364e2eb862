"""Vietnamese phone numbers in one form: 10 digits starting with 0, old 11-digit mobiles moved."""

from __future__ import annotations

import re

# The 2018-2019 move of mobile prefixes from 11 to 10 digits (only the prefix changed).
OLD_TO_NEW_PREFIX = {
    "0120": "070", "0121": "079", "0122": "077", "0126": "076", "0128": "078",
    "0123": "083", "0124": "084", "0125": "085", "0127": "081", "0129": "082",
    "0162": "032", "0163": "033", "0164": "034", "0165": "035", "0166": "036",
    "0167": "037", "0168": "038", "0169": "039",
    "0186": "056", "0188": "058", "0199": "059",
}  # fmt: skip
_DIGITS = re.compile(r"\D+")


def normalise_phone(raw: str | None) -> str | None:
    """The 10-digit form of a Vietnamese phone, or None when it is not one.

    >>> normalise_phone("+84 912 345 678"), normalise_phone("01234567890")
    ('0912345678', '0834567890')
    """
    if not raw:
        return None
    digits = _DIGITS.sub("", raw)
    if digits.startswith("84") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    if len(digits) == 11 and digits[:4] in OLD_TO_NEW_PREFIX:
        digits = OLD_TO_NEW_PREFIX[digits[:4]] + digits[4:]
    if len(digits) == 10 and digits.startswith("0"):
        return digits
    if len(digits) == 11 and digits.startswith("02"):  # landlines kept their 11 digits
        return digits
    return None


def old_form(phone: str) -> str | None:
    """The 11-digit number a 10-digit mobile had before the move, if it moved."""
    for old, new in OLD_TO_NEW_PREFIX.items():
        if phone.startswith(new) and len(phone) == 10:
            return old + phone[3:]
    return None
