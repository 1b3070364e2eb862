"""Vietnamese text: NFC, one tone-mark placement, diacritics-free keys, legacy encodings.

    >>> nfc("Nguye\\u0302\\u0303n") == "Nguyễn"
    True
    >>> fold("Đoàn Thị Thuý")
    'doan thi thuy'
    >>> unify_tones("hòa") == unify_tones("hoà")
    True
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import ftfy

TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}  # huyền, sắc, ngã, hỏi, nặng
_VOWELS = set("aăâeêioôơuưy")
_MARKED_VOWELS = set("ăâêôơư")
_NEW_STYLE_PAIRS = {"oa", "oe", "uy"}
_WORD = re.compile(r"\w+", re.UNICODE)


def nfc(text: str) -> str:
    """NFC form with runs of whitespace collapsed: the first step for any text from a source."""
    return " ".join(unicodedata.normalize("NFC", text).split())


# The combining diacritical marks block: every mark Vietnamese decomposes into.
_COMBINING = dict.fromkeys(range(0x300, 0x370))


@lru_cache(maxsize=1 << 18)
def fold(text: str) -> str:
    """Lower-case, diacritics-free form for blocking and fuzzy comparison (đ mapped to d).

    Dropping diacritics merges different names (Đoàn, Doãn), so this is a key, never a replacement.
    Remembered for the most recent quarter million texts: the same names, words and address parts
    come back in every batch.
    """
    stripped = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D")).translate(_COMBINING)
    if not stripped.isascii():  # another script's marks (category Mn) outside that block
        stripped = "".join(ch for ch in stripped if unicodedata.category(ch) != "Mn")
    return " ".join(stripped.lower().split())


@lru_cache(maxsize=1 << 16)
def _unify_word(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word)
    tones = [ch for ch in decomposed if ch in TONE_MARKS]
    if len(tones) != 1:
        return unicodedata.normalize("NFC", word)
    base = unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in TONE_MARKS))
    lower = base.lower()
    start = 0
    if lower.startswith(("qu", "gi")) and len(lower) > 2 and lower[2] in _VOWELS:
        start = 2 if lower.startswith("qu") or lower[2] != "i" else 1
    idx = [i for i in range(start, len(lower)) if lower[i] in _VOWELS]
    if not idx:
        return unicodedata.normalize("NFC", word)
    first, last = idx[0], idx[-1]
    cluster = lower[first : last + 1]
    has_final = last + 1 < len(lower)
    marked = [i for i in idx if lower[i] in _MARKED_VOWELS]
    if marked:
        pos = marked[-1]
    elif len(idx) == 1:
        pos = first
    elif has_final:
        pos = last
    elif len(idx) == 3:
        pos = idx[1]
    else:
        pos = last if cluster in _NEW_STYLE_PAIRS else first
    rebuilt = base[: pos + 1] + tones[0] + base[pos + 1 :]
    return unicodedata.normalize("NFC", rebuilt)


def unify_tones(text: str) -> str:
    """The same text with every tone mark placed by one rule (the 'new style': hoà, thuý, quý)."""
    return _WORD.sub(lambda m: _unify_word(m.group(0)), nfc(text))


# Characters that never occur in Vietnamese written in Unicode but do when text in the TCVN3 (ABC)
# or VNI legacy encodings is read as if it were Windows-1252/Latin-1 (NguyÔn V¨n, Nguyeãn Vaên Hoøa).
_LEGACY_ONLY = frozenset("¡¢£¤¥¦§¨©ª«¬®¯°±²³´µ¶·¸¹º»¼½¾¿ÄÅÆÇËÎÏÐÑÖ×ØÛÜÞßäåæçëîïðñö÷øûüþÿ")
_MOJIBAKE_UTF8 = re.compile(r"[ÃÄÆá»áº][\x80-\xbf\u0100-\u02ff\u2000-\u206f\u20ac]|á»|áº|Ä‘|Æ°|Æ¡")


class EncodingProblem(ValueError):
    """Text in a legacy Vietnamese encoding that cannot be repaired safely."""


def repair_text(text: str) -> tuple[str, bool]:
    """Repair UTF-8 read as Windows-1252/Latin-1 (ftfy); refuse TCVN3 and VNI mojibake.

    Returns the text and whether it was changed; raises `EncodingProblem` when the text is in a
    legacy encoding that would need a guess to convert.
    """
    if _MOJIBAKE_UTF8.search(text):
        fixed = ftfy.fix_text(text, normalization="NFC")
        if fixed != text and not _MOJIBAKE_UTF8.search(fixed):
            return nfc(fixed), True
    if _looks_legacy(text):
        raise EncodingProblem("text looks like TCVN3 or VNI legacy encoding (mojibake)")
    return text, False


def _looks_legacy(text: str) -> bool:
    return any(ch in _LEGACY_ONLY for ch in text)
