"""Safe XML: no DTDs, no entities, no external references (billion-laughs and XXE refused)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from linkage.errors import SourceError


def iter_elements(path: Path, tag: str) -> Iterator[tuple[int, Element]]:
    """Stream the `tag` elements of a file with their ordinal, clearing each after use."""
    if not path.is_file():
        raise SourceError(f"{path.name}: no such file")
    count = 0
    try:
        for _, elem in SafeET.iterparse(str(path), events=("end",), forbid_dtd=True):
            if elem.tag == tag:
                count += 1
                yield count, elem
                elem.clear()
    except DefusedXmlException as exc:
        raise SourceError(f"{path.name}: unsafe XML refused ({type(exc).__name__})") from exc
    except ParseError as exc:
        if count == 0:
            raise SourceError(f"{path.name}: not well-formed XML: {exc}") from exc
        raise SourceError(f"{path.name}: XML broken after element {count}: {exc}") from exc


def parse_fragment(text: str | bytes) -> Element:
    """Parse a small embedded document (the base64 tables of a 130 file) safely."""
    return SafeET.fromstring(text, forbid_dtd=True)


def child_text(elem: Element | None, tag: str) -> str | None:
    """The stripped text of `elem`'s child `tag`, or None when absent or empty."""
    if elem is None:
        return None
    found = elem.find(tag)
    if found is None or found.text is None:
        return None
    value = found.text.strip()
    return value or None
