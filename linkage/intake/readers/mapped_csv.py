"""Any CSV, through a mapping file (TOML) that names the columns: a new source needs no code.

    [source]
    system = "clinic-123"          # who sent it
    delimiter = ","                # optional
    encoding = "cp1258"            # optional; detected when left out
    [columns]
    record_id = "patient_no"       # required
    full_name = "name"             # or family_name / middle_name / given_name
    birth_date = ["dob", "birth_year"]  # a list: the first column that is not blank (the date, else the year)
    birth_date_format = "%d/%m/%Y" # optional; ISO, dd/mm/yyyy and a bare year are understood without it
    address = { join = ["house", "street", "ward"], sep = ", " }  # several columns joined into one field
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
    system = "urn:oid:1.2.3"       # for kind other: whose identifier it is

Every field of [columns] but `birth_date_format` and `code_list` takes a column, a list of columns
(fallbacks) or a join. A value that is invalid (a date that does not exist, an unknown sex code, an
id of the wrong shape, a bad administrative code) is left out of the record and written to the
batch's quarantine with its field and value; the record is kept when its id and name are good.
"""

from __future__ import annotations

import codecs
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

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
from linkage.intake.records import SourceRecord
from linkage.standardize import parse_birth_date
from linkage.vocab import CodeList, IdKind, Sex, SourceKind


class Join(BaseModel):
    """Several columns joined into one field (blank ones left out)."""

    model_config = ConfigDict(extra="forbid")

    join: list[str] = Field(min_length=1)
    sep: str = " "


ColumnSpec = str | Annotated[list[str], Field(min_length=1)] | Join


def spec_columns(spec: ColumnSpec | None) -> list[str]:
    """The columns a field's spec reads."""
    if spec is None:
        return []
    if isinstance(spec, str):
        return [spec]
    return list(spec.join) if isinstance(spec, Join) else list(spec)


def spec_value(spec: ColumnSpec | None, row: dict[str, str]) -> tuple[str | None, str | None]:
    """A field's value in `row` and the column(s) it came from (for messages)."""
    if spec is None:
        return None, None
    if isinstance(spec, str):
        return none_if_blank(row.get(spec.lower())), spec
    if isinstance(spec, Join):
        parts = [v for c in spec.join if (v := none_if_blank(row.get(c.lower())))]
        return (spec.sep.join(parts) or None), "+".join(spec.join)
    for column in spec:
        if (value := none_if_blank(row.get(column.lower()))) is not None:
            return value, column
    return None, spec[0] if spec else None


class IdentifierColumn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    column: str
    kind: IdKind
    scope: str | None = None
    system: str | None = None

    @model_validator(mode="after")
    def _system_for_other(self) -> IdentifierColumn:
        if self.kind is IdKind.OTHER and not self.system:
            raise ValueError(f"identifier column {self.column!r} of kind other needs its system")
        return self


class Columns(BaseModel):
    model_config = ConfigDict(extra="forbid")

    record_id: ColumnSpec
    full_name: ColumnSpec | None = None
    family_name: ColumnSpec | None = None
    middle_name: ColumnSpec | None = None
    given_name: ColumnSpec | None = None
    birth_date: ColumnSpec | None = None
    birth_date_format: str | None = None
    sex: ColumnSpec | None = None
    phone: ColumnSpec | None = None
    address: ColumnSpec | None = None
    province_code: ColumnSpec | None = None
    district_code: ColumnSpec | None = None
    commune_code: ColumnSpec | None = None
    code_list: CodeList | None = None
    postcode: ColumnSpec | None = None


class SourceInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

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

    model_config = ConfigDict(extra="forbid")

    source: SourceInfo
    columns: Columns
    sex_codes: dict[str, Sex] = Field(default_factory=dict)
    identifiers: list[IdentifierColumn] = Field(default_factory=list)

    def used_columns(self) -> set[str]:
        cols = {c for k in Columns.model_fields if k not in ("birth_date_format", "code_list")
                for c in spec_columns(getattr(self.columns, k))}
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

        def col(spec: ColumnSpec | None, row: dict[str, str] = row) -> str | None:
            return spec_value(spec, row)[0]

        problem = row_problem(row)
        record_id = col(cols.record_id)
        if problem or not record_id:
            yield Rejected(position, problem or "missing required field: record_id", str(row)[:200])
            continue
        dropped: list[str] = []  # invalid values left out; the record is kept
        raw_birth, birth_column = spec_value(cols.birth_date, row)
        birth, precision = None, None
        if raw_birth:
            try:
                birth, precision = in_field(f"birth_date ({birth_column})", parse_birth_date, raw_birth,
                                            cols.birth_date_format)
            except ValueError as exc:
                dropped.append(str(exc))
        raw_sex, sex_column = spec_value(cols.sex, row)
        try:
            sex = in_field(f"sex ({sex_column})", parse_sex, raw_sex, sex_codes)
        except ValueError as exc:
            sex = None
            dropped.append(str(exc))
        identifiers = [
            {"kind": i.kind, "value": v, "scope": i.system if i.kind is IdKind.OTHER else i.scope or (
                spec.source.system if i.kind is IdKind.FACILITY_PATIENT else None)}
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
        item = build_record(fields, position, row, drop_bad_values=True)
        if isinstance(item, SourceRecord):
            item.dropped[:0] = dropped
        yield item
