"""What every reader shares: rejected items, safe decoding, and building a validated record."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from linkage.errors import SourceError
from linkage.intake.records import NO_CONTROL, SourceRecord
from linkage.standardize import EncodingProblem, nfc, repair_text, split_name
from linkage.vocab import Sex


@dataclass(frozen=True)
class Rejected:
    """A record that failed validation: where it was, why, and a short excerpt of it."""

    position: str
    reason: str
    excerpt: str


ReadItem = SourceRecord | Rejected
T = TypeVar("T")
Reader = Callable[..., Iterator[ReadItem]]

SEX_CODES: dict[str, Sex] = {
    "1": Sex.MALE, "nam": Sex.MALE, "m": Sex.MALE, "male": Sex.MALE,
    "2": Sex.FEMALE, "nữ": Sex.FEMALE, "nu": Sex.FEMALE, "f": Sex.FEMALE, "female": Sex.FEMALE,
    "3": Sex.UNDETERMINED, "u": Sex.UNDETERMINED, "unknown": Sex.UNDETERMINED, "khác": Sex.UNDETERMINED,
}  # fmt: skip


def parse_sex(value: str | None, codes: dict[str, Sex] | None = None) -> Sex | None:
    """Map a source's sex code; an unknown code raises ValueError (the record is quarantined)."""
    if value is None or not value.strip():
        return None
    table = codes or SEX_CODES
    key = nfc(value.strip()).lower()  # Windows-1258 writes "Nữ" with a combining tilde
    if key not in table:
        raise ValueError(f"unknown sex code {value!r}")
    return table[key]


def validation_reason(exc: ValidationError) -> str:
    """One line naming the first problem of a failed record."""
    return error_reason(exc.errors()[0])


def error_reason(first: Any) -> str:
    """One line naming the field and the problem of one of pydantic's errors."""
    where = ".".join(str(p) for p in first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "string_pattern_mismatch" and first.get("ctx", {}).get("pattern") == NO_CONTROL:
        message = "contains a control character"
    return f"{where}: {message}" if where else message


def excerpt(raw: Any, limit: int = 200) -> str:
    text = raw if isinstance(raw, str) else repr(raw)
    return text[:limit]


def build_record(fields: dict[str, Any], position: str, raw: Any, drop_bad_values: bool = False) -> ReadItem:
    """Validate `fields` into a `SourceRecord`, or a `Rejected` saying why not.

    Names are repaired when they are UTF-8 mojibake and refused when they are TCVN3/VNI; the
    full name is split into its parts when the source gives only the full name. With
    `drop_bad_values`, an invalid optional value (a birth date, a sex, one identifier, phone or
    address code) is left out and named in the record's `dropped` list instead of refusing a record
    whose name and id are good; the record is refused only when what is wrong is what makes it a
    record.
    """
    dropped: list[str] = []
    try:
        for key in ("name_as_written", "family_name", "middle_name", "given_name"):
            value = fields.get(key)
            if isinstance(value, str) and value:
                fields[key], _ = repair_text(value)
        for rel in fields.get("related", []):
            if isinstance(rel.get("name"), str):
                rel["name"], _ = repair_text(rel["name"])
        full = fields.get("name_as_written")
        if full and not fields.get("given_name"):
            fields["family_name"], fields["middle_name"], fields["given_name"] = split_name(full)
        for _ in range(MAX_DROPS):
            try:
                record = SourceRecord.model_validate(fields)
            except ValidationError as exc:
                if not drop_bad_values or not _drop_bad_values(fields, exc, dropped):
                    raise
                continue
            record.dropped.extend(dropped)
            return record
        return SourceRecord.model_validate(fields)
    except EncodingProblem as exc:
        return Rejected(position, f"encoding: {exc}", excerpt(raw))
    except ValidationError as exc:
        return Rejected(position, validation_reason(exc), excerpt(raw))
    except ValueError as exc:
        return Rejected(position, str(exc), excerpt(raw))


MAX_DROPS = 8  # values dropped from one record before it is refused whole
_SCALARS = {"birth_date": ("birth_date", "birth_precision"), "sex": ("sex",), "household_code": ("household_code",),
            "household_relation": ("household_relation",), "ethnicity": ("ethnicity",),
            "nationality": ("nationality",), "occupation": ("occupation",), "blood_group": ("blood_group",),
            "recorded_at": ("recorded_at",), "birth": ("birth",)}
_LISTS = ("identifiers", "phones", "addresses", "related", "encounters", "immunizations", "conditions",
          "observations")
_ADDRESS_CODES = ("province_code", "district_code", "commune_code")


def _drop_bad_values(fields: dict[str, Any], exc: ValidationError, dropped: list[str]) -> bool:
    """Remove from `fields` each value `exc` refuses, if it can go without the record (noting it in
    `dropped`); False when one of them cannot."""
    removals: list[tuple[str, int | None, str | None]] = []
    for error in exc.errors():
        loc = error["loc"]
        reason = error_reason(error)
        value = error.get("input")
        if isinstance(value, str | int | float) and not isinstance(value, bool) and repr(value) not in reason:
            reason += f" (value {str(value)[:100]!r})"
        head = str(loc[0]) if loc else ""
        if head in _SCALARS:
            removals.append((head, None, None))
        elif head in _LISTS and len(loc) > 1 and isinstance(loc[1], int):
            inner = str(loc[2]) if len(loc) > 2 else None
            removals.append((head, loc[1], inner if head == "addresses" and inner in _ADDRESS_CODES else None))
        else:
            return False
        dropped.append(reason)
    for head, index, inner in sorted(set(removals), key=lambda r: (-(r[1] if r[1] is not None else -1), r[0])):
        if index is None:
            for key in _SCALARS[head]:
                fields.pop(key, None)
        elif inner is not None:  # one bad code: the address keeps its text and other codes
            fields[head][index] = {**fields[head][index], inner: None}
        elif index < len(fields.get(head) or []):
            del fields[head][index]
    return bool(removals)


def detect_encoding(path: Path, sample_size: int = 1 << 20) -> str:
    """The encoding of a whole file, from its first megabyte: UTF-16 by its byte-order mark; UTF-8 when
    at least as many of the sample's non-ASCII lines are valid UTF-8 as are not (valid multi-byte UTF-8
    does not happen by chance in Windows-1258 text), so that a stray byte costs its own row, which is
    quarantined, instead of turning every other row into mojibake; else 'cp1258' (Windows Vietnamese)."""
    with open(path, "rb") as fh:
        sample = fh.read(sample_size)
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    lines = sample.splitlines()
    if len(sample) == sample_size and lines:
        lines = lines[:-1]  # the sample may end inside a character
    good = bad = 0
    for line in lines:
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            bad += 1
        else:
            good += 1
    return "utf-8-sig" if good >= bad else "cp1258"


def open_csv(path: Path, delimiter: str = ",", encoding: str | None = None) -> Iterator[tuple[int, dict[str, str]]]:
    """Stream a CSV file's rows as dicts with their line number; UTF-8 with or without BOM.

    Windows-1258 files are decoded as such (and their combining tones composed by NFC later).
    A row whose bytes are not valid in the file's encoding is yielded with a `__bad_bytes__` key.
    """
    if not path.is_file():
        raise SourceError(f"{path.name}: no such file")
    enc = encoding or detect_encoding(path)
    with open(path, "rb") as raw:
        text = io.TextIOWrapper(raw, encoding=enc, errors="surrogateescape", newline="")
        reader = csv.DictReader(text, delimiter=delimiter)
        if not reader.fieldnames:
            raise SourceError(f"{path.name}: empty file or no header row")
        reader.fieldnames = [f.strip().lower() for f in reader.fieldnames]
        try:
            for row in reader:
                line = reader.line_num
                clean = {k: (v or "").strip() for k, v in row.items() if k is not None}
                if any(_has_surrogates(v) for v in clean.values()):
                    clean["__bad_bytes__"] = "1"
                if None in row:
                    clean["__extra__"] = "1"
                yield line, clean
        except csv.Error as exc:
            raise SourceError(f"{path.name}: not a readable CSV file: {exc}") from exc


def _has_surrogates(value: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in value)


def row_problem(row: dict[str, str]) -> str | None:
    """The reason a raw CSV row cannot be used at all, if any."""
    if row.get("__bad_bytes__"):
        return "encoding: bytes that are not valid in the file's encoding"
    if row.get("__extra__"):
        return "more fields than the header names"
    return None


def reject_row(row: dict[str, str], required: tuple[str, ...], position: str) -> Rejected | None:
    """A rejection for a row that is unusable or lacks a required column, else None."""
    problem = row_problem(row)
    missing = [c for c in required if not row.get(c)]
    if problem or missing:
        return Rejected(position, problem or f"missing required field: {missing[0]}", str(row)[:200])
    return None


def in_field(field: str, parse: Callable[..., T], *args: Any) -> T:
    """`parse(*args)`, its ValueError renamed after the source's field, so a rejected row says which column.

        birth, precision = in_field("ngay_sinh", parse_birth_date, row["ngay_sinh"])
    """
    try:
        return parse(*args)
    except ValueError as exc:
        raise ValueError(f"{field}: {exc}") from exc


def none_if_blank(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None
