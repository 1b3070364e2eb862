"""The canonical source record: one record of one source system, validated.

Every reader turns its format into `SourceRecord`s. Validation is strict about shapes (a personal id
is 12 digits, an ICD-10 code exists, a date is possible) and lenient about content (a missing id is
fine): a record that fails goes to the quarantine with the reason, never into a batch.

Every value is also held to what linking, the graph and the exports accept, so that one record can
never stop the pipeline for everyone: text (`Text`, `Name`) has no control characters (XML exports
refuse them) and a bounded length (Neo4j cannot index a long value, and no field of a health record is
long); a time (`Moment`) has a zone offset within ±18 hours (Neo4j refuses any other). The checks on
text run inside pydantic's core: they cost ingestion nothing measurable.
"""

from __future__ import annotations

import datetime as dt
import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    field_validator,
    model_validator,
)

from linkage.standardize import is_known_icd10, nfc, normalise_icd10
from linkage.vocab import CodeList, DatePrecision, IdKind, Sex, SourceKind

MAX_TEXT = 1_000  # characters of any text value (Neo4j indexes values of at most ~8 kB)
MAX_NAME = 200  # characters of a name
MAX_OFFSET = dt.timedelta(hours=18)  # the largest zone offset Neo4j stores
# No C0 control character but tab, newline and carriage return, and no DEL: what XML 1.0 refuses.
NO_CONTROL = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"


def _within_offsets(value: datetime) -> datetime:
    offset = value.utcoffset()
    if offset is not None and abs(offset) > MAX_OFFSET:
        raise ValueError(f"zone offset {offset} is beyond the ±18 hours a time can have")
    return value


Text = Annotated[str, StringConstraints(max_length=MAX_TEXT, pattern=NO_CONTROL)]
Name = Annotated[str, StringConstraints(max_length=MAX_NAME, pattern=NO_CONTROL)]
Moment = Annotated[datetime, AfterValidator(_within_offsets)]

_ID_SHAPES: dict[IdKind, re.Pattern[str]] = {
    IdKind.PERSONAL_ID: re.compile(r"\d{12}"),
    IdKind.CMND: re.compile(r"\d{9}"),
    IdKind.BHXH: re.compile(r"\d{10}"),
    IdKind.INSURANCE_CARD: re.compile(r"[A-Z]{2}\d{13}|[A-Z]{2}\d{2}[A-Z0-9]{11}"),
    IdKind.PASSPORT: re.compile(r"[A-Z0-9]{6,12}"),
}


class Identifier(BaseModel):
    """One identifier of a person, checked for shape; facility patient codes carry their facility."""

    model_config = ConfigDict(frozen=True)

    kind: IdKind
    value: Text
    scope: Text | None = None

    @model_validator(mode="after")
    def _shape(self) -> Identifier:
        shape = _ID_SHAPES.get(self.kind)
        if shape is not None and not shape.fullmatch(self.value):
            raise ValueError(f"{self.kind.value} {self.value!r} has the wrong shape")
        if self.kind is IdKind.FACILITY_PATIENT and not self.scope:
            raise ValueError("a facility patient code needs its facility")
        return self

    @field_validator("value", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value


class Address(BaseModel):
    """An address as written, with administrative codes and the code list they belong to."""

    use: str = Field(default="current", pattern="^(permanent|current|birth|other)$")
    text: Text | None = None
    province_code: str | None = Field(default=None, pattern=r"^\d{2}$")
    district_code: str | None = Field(default=None, pattern=r"^\d{3}$")
    commune_code: str | None = Field(default=None, pattern=r"^\d{5}$")
    code_list: CodeList | None = None
    postcode: Text | None = None

    @model_validator(mode="after")
    def _codes_need_a_list(self) -> Address:
        if (self.province_code or self.commune_code) and self.code_list is None:
            raise ValueError("administrative codes need their code list (pre2025 or post2025)")
        if self.district_code and self.code_list is CodeList.POST_2025:
            raise ValueError("post-2025 codes have no district level")
        return self


class RelatedPerson(BaseModel):
    """A mother, father or caregiver as the record names them."""

    role: str = Field(pattern="^(mother|father|caregiver)$")
    name: Name | None = None
    birth_date: date | None = None
    identifiers: list[Identifier] = Field(default_factory=list)
    phone: Text | None = None


def _icd10(value: str) -> str:
    code = normalise_icd10(value)
    if not is_known_icd10(code):
        raise ValueError(f"unknown ICD-10 code {value!r}")
    return code


Icd10 = Annotated[str, Field(min_length=3, max_length=8)]


class Encounter(BaseModel):
    """One visit or treatment episode."""

    encounter_id: Text
    facility_code: Text | None = None
    admitted_at: Moment | None = None
    discharged_at: Moment | None = None
    main_icd10: Icd10 | None = None
    secondary_icd10: list[Icd10] = Field(default_factory=list)
    outcome: Text | None = None
    visit_type: Text | None = None
    reason: Text | None = None

    @field_validator("main_icd10", mode="before")
    @classmethod
    def _main(cls, value: Any) -> Any:
        return _icd10(value) if isinstance(value, str) and value.strip() else None

    @field_validator("secondary_icd10", mode="before")
    @classmethod
    def _secondary(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [v for v in re.split(r"[;,]", value) if v.strip()]
        return [_icd10(v) for v in value] if isinstance(value, list) else value

    @model_validator(mode="after")
    def _order(self) -> Encounter:
        if self.admitted_at and self.discharged_at and self.discharged_at < self.admitted_at:
            raise ValueError("discharge before admission")
        return self


class Immunization(BaseModel):
    """One dose of a vaccine."""

    vaccine_code: Text
    vaccine_name: Text | None = None
    dose: int | None = Field(default=None, ge=1, le=10)
    date: dt.date
    facility_code: Text | None = None
    reaction: Text | None = None
    pregnancy_month: int | None = Field(default=None, ge=1, le=10)
    next_due: dt.date | None = None


class Condition(BaseModel):
    """A chronic condition, allergy, disability, risk factor or family history item."""

    category: str = Field(pattern="^(chronic|allergy|disability|risk_factor|family_history|surgery)$")
    code: Text
    text: Text | None = None
    icd10: Icd10 | None = None
    relative: Text | None = None
    recorded_on: date | None = None

    @field_validator("icd10", mode="before")
    @classmethod
    def _code(cls, value: Any) -> Any:
        return _icd10(value) if isinstance(value, str) and value.strip() else None


class BirthFacts(BaseModel):
    """Condition at birth."""

    weight_g: int | None = Field(default=None, ge=200, le=7000)
    length_cm: float | None = Field(default=None, ge=20, le=70)
    delivery: Text | None = None
    premature: bool | None = None
    asphyxia: bool | None = None
    congenital_defect: Text | None = None
    birth_order: int | None = Field(default=None, ge=1, le=20)


class Observation(BaseModel):
    """A vital sign or reading, from a visit or a device."""

    code: Text
    value: float
    unit: Text
    observed_at: Moment | None = None
    encounter_id: Text | None = None
    device: Text | None = None


class SourceRecord(BaseModel):
    """One validated record of one source system, in HoSo's canonical form."""

    model_config = ConfigDict(str_strip_whitespace=True)

    source: SourceKind
    source_system: Text | None = None  # the facility or system that sent it
    record_id: Text = Field(min_length=1, max_length=200)
    raw_ref: Text  # file and position of the raw input
    batch_id: Text | None = None

    identifiers: list[Identifier] = Field(default_factory=list)
    name_as_written: Name | None = None
    family_name: Name | None = None
    middle_name: Name | None = None
    given_name: Name | None = None
    birth_date: date | None = None
    birth_precision: DatePrecision | None = None
    sex: Sex | None = None
    phones: list[Text] = Field(default_factory=list)
    addresses: list[Address] = Field(default_factory=list)
    household_code: Text | None = None
    household_relation: Text | None = None
    related: list[RelatedPerson] = Field(default_factory=list)
    ethnicity: Text | None = None
    nationality: Text | None = None
    occupation: Text | None = None
    blood_group: Text | None = None
    reported_by_citizen: bool = False
    recorded_at: Moment | None = None

    encounters: list[Encounter] = Field(default_factory=list)
    immunizations: list[Immunization] = Field(default_factory=list)
    conditions: list[Condition] = Field(default_factory=list)
    birth: BirthFacts | None = None
    observations: list[Observation] = Field(default_factory=list)
    # Values a reader left out because they were invalid ("field: reason"), for the quarantine.
    _dropped: list[str] = PrivateAttr(default_factory=list)
    # What a reader accepted but a strict reader of the format would refuse (a FHIR Bundle entry without
    # its fullUrl), for the quarantine log: the record is kept whole.
    _warnings: list[str] = PrivateAttr(default_factory=list)

    @property
    def dropped(self) -> list[str]:
        return self._dropped

    @property
    def warnings(self) -> list[str]:
        return self._warnings

    @field_validator("birth_date")
    @classmethod
    def _plausible_birth(cls, value: date | None) -> date | None:
        if value is not None:
            if value > date.today():
                raise ValueError(f"birth date {value} is in the future")
            if value.year < 1890:
                raise ValueError(f"birth date {value} is before 1890")
        return value

    @field_validator("name_as_written", "family_name", "middle_name", "given_name", mode="before")
    @classmethod
    def _nfc(cls, value: Any) -> Any:
        return nfc(value) or None if isinstance(value, str) else value

    @model_validator(mode="after")
    def _check(self) -> SourceRecord:
        if not (self.name_as_written or self.given_name):
            raise ValueError("missing required field: name")
        if self.birth_date is not None and self.birth_precision is None:
            self.birth_precision = DatePrecision.DAY
        return self

    def identifier(self, kind: IdKind) -> str | None:
        """The first identifier of `kind`, if any."""
        return next((i.value for i in self.identifiers if i.kind is kind), None)

    def address(self, use: str) -> Address | None:
        """The first address with `use`, if any."""
        return next((a for a in self.addresses if a.use == use), None)
