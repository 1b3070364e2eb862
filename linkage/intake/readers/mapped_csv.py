"""Any CSV, through a mapping file (TOML) that names the columns: a new source needs no code.

    [source]
    system = "clinic-123"          # who sent it
    delimiter = ","                # optional
    [columns]
    record_id = "patient_no"       # required
    full_name = "name"             # or family_name / middle_name / given_name
    birth_date = "dob"
    birth_date_format = "%d/%m/%Y" # optional; ISO and dd/mm/yyyy are understood without it
    sex = "gender"
    phone = "mobile"
    address = "addr"
    province_code = "prov"
    district_code = "dist"
    commune_code = "ward"
    code_list = "pre2025"          # the list the codes belong to: pre2025 or post2025
    postcode = "zip"
    [sex_codes]                    # optional; source code -> male / female / undetermined
    M = "male"
    [[identifiers]]
    column = "cccd"
    kind = "personal_id"           # personal_id, cmnd, bhxh, insurance_card, facility_patient, passport
    scope = "79001"                # for facility_patient: the facility
"""

from __future__ import annotations

import codecs
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator

from linkage.errors import SourceError
from linkage.intake.readers.base import (
    ReadItem,
    Rejected,
    build_record,
    in_field,
    none_if_blank,
    open_csv,
    parse_sex,
    row_problem,
    validation_reason,
)
from linkage.standardize import parse_birth_date
from linkage.vocab import CodeList, IdKind, Sex, SourceKind


class IdentifierColumn(BaseModel):
    column: str
    kind: IdKind
    scope: str | None = None


class Columns(BaseModel):
    record_id: str
    full_name: str | None = None
    family_name: str | None = None
    middle_name: str | None = None
    given_name: str | None = None
    birth_date: str | None = None
    birth_date_format: str | None = None
    sex: str | None = None
    phone: str | None = None
    address: str | None = None
    province_code: str | None = None
    district_code: str | None = None
    commune_code: str | None = None
    code_list: CodeList | None = None
    postcode: str | None = None


class SourceInfo(BaseModel):
    system: str
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    encoding: str | None = None

    @field_validator("encoding")
    @classmethod
    def _known(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError(f"unknown encoding {value!r}") from None
        return value


class Mapping(BaseModel):
    """A parsed mapping file."""

    source: SourceInfo
    columns: Columns
    sex_codes: dict[str, Sex] = Field(default_factory=dict)
    identifiers: list[IdentifierColumn] = Field(default_factory=list)

    def used_columns(self) -> set[str]:
        cols = {v for k, v in self.columns.model_dump().items()
                if isinstance(v, str) and k not in ("birth_date_format", "code_list")}
        return {c.lower() for c in cols} | {i.column.lower() for i in self.identifiers}


def load_mapping(path: Path) -> Mapping:
    """Read and check a mapping file; a bad one is a `SourceError` naming the file and the problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        mapping = Mapping.model_validate(data)
    except FileNotFoundError as exc:
        raise SourceError(f"{path.name}: no such mapping file") from exc
    except UnicodeDecodeError as exc:
        raise SourceError(f"{path.name}: bad mapping: not UTF-8 text") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SourceError(f"{path.name}: bad mapping: {exc}") from exc
    except ValidationError as exc:
        raise SourceError(f"{path.name}: bad mapping: {validation_reason(exc)}") from exc
    if not (mapping.columns.full_name or mapping.columns.given_name):
        raise SourceError(f"{path.name}: bad mapping: map full_name or given_name")
    return mapping


def read(path: Path, mapping: Path | None = None, **_: Any) -> Iterator[ReadItem]:
    """Stream the rows of `path` as records, using the columns named by `mapping`."""
    if mapping is None:
        raise SourceError("a csv source needs --mapping FILE (see linkage/intake/readers/mapped_csv.py)")
    spec = load_mapping(mapping)
    cols = spec.columns
    sex_codes = {k.lower(): v for k, v in spec.sex_codes.items()} or None
    first = True
    for line, row in open_csv(path, delimiter=spec.source.delimiter, encoding=spec.source.encoding):
        if first:
            absent = sorted(c for c in spec.used_columns() if c not in row)
            if absent:
                raise SourceError(f"{path.name}: columns named by the mapping are missing: {', '.join(absent)}")
            first = False
        position = f"{path.name}:{line}"

        def col(name: str | None, row: dict[str, str] = row) -> str | None:
            return none_if_blank(row.get(name.lower())) if name else None

        problem = row_problem(row)
        record_id = col(cols.record_id)
        if problem or not record_id:
            yield Rejected(position, problem or "missing required field: record_id", str(row)[:200])
            continue
        raw_birth = col(cols.birth_date)
        try:
            birth, precision = in_field(f"birth_date ({cols.birth_date})", parse_birth_date, raw_birth,
                                        cols.birth_date_format) if raw_birth else (None, None)
            sex = in_field(f"sex ({cols.sex})", parse_sex, col(cols.sex), sex_codes)
        except ValueError as exc:
            yield Rejected(position, str(exc), str(row)[:200])
            continue
        identifiers = [
            {"kind": i.kind, "value": v, "scope": i.scope or (spec.source.system if i.kind is IdKind.FACILITY_PATIENT
                                                            else None)}
            for i in spec.identifiers if (v := col(i.column))
        ]
        address = {
            "use": "current", "text": col(cols.address), "province_code": col(cols.province_code),
            "district_code": col(cols.district_code), "commune_code": col(cols.commune_code),
            "postcode": col(cols.postcode),
        }  # fmt: skip
        if address["province_code"] or address["commune_code"] or address["district_code"]:
            address["code_list"] = cols.code_list
        fields: dict[str, Any] = {
            "source": SourceKind.CSV,
            "source_system": spec.source.system,
            "record_id": f"{spec.source.system}:{record_id}",
            "raw_ref": position,
            "identifiers": identifiers,
            "name_as_written": col(cols.full_name),
            "family_name": col(cols.family_name),
            "middle_name": col(cols.middle_name),
            "given_name": col(cols.given_name),
            "birth_date": birth,
            "birth_precision": precision,
            "sex": sex,
            "phones": [p] if (p := col(cols.phone)) else [],
            "addresses": [address] if any(v for k, v in address.items() if k != "use") else [],
        }
        if not fields["name_as_written"] and fields["given_name"]:
            parts = [fields["family_name"], fields["middle_name"], fields["given_name"]]
            fields["name_as_written"] = " ".join(p for p in parts if p)
        yield build_record(fields, position, row)
