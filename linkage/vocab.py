"""The closed vocabularies of HoSo's records: source kinds, sexes, identifier kinds, code lists."""

from __future__ import annotations

from enum import StrEnum


class SourceKind(StrEnum):
    """The source systems (and formats) HoSo reads."""

    POPULATION = "population"
    COMMUNE831 = "commune831"
    HOSPITAL130 = "hospital130"
    IMMUNIZATION = "immunization"
    FHIR = "fhir"
    CSV = "csv"
    CITIZEN = "citizen"


class DatePrecision(StrEnum):
    DAY = "day"
    MONTH = "month"
    YEAR = "year"


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"
    UNDETERMINED = "undetermined"


class CodeList(StrEnum):
    """Which administrative code list a code belongs to: before or after the 1 July 2025 reform."""

    PRE_2025 = "pre2025"
    POST_2025 = "post2025"


class IdKind(StrEnum):
    PERSONAL_ID = "personal_id"  # 12-digit số định danh cá nhân (CCCD)
    CMND = "cmnd"  # 9-digit old identity card
    BHXH = "bhxh"  # 10-digit social insurance number
    INSURANCE_CARD = "insurance_card"  # 15-char health insurance card
    FACILITY_PATIENT = "facility_patient"  # a facility's own patient code, scoped by facility
    PASSPORT = "passport"
    OTHER = "other"


# FHIR identifier systems for Vietnam's identifiers, as HoSo reads and writes them.
ID_SYSTEMS: dict[IdKind, str] = {
    IdKind.PERSONAL_ID: "https://hoso.gov.vn/fhir/sid/cccd",
    IdKind.CMND: "https://hoso.gov.vn/fhir/sid/cmnd",
    IdKind.BHXH: "https://hoso.gov.vn/fhir/sid/bhxh",
    IdKind.INSURANCE_CARD: "https://hoso.gov.vn/fhir/sid/bhyt",
    IdKind.PASSPORT: "https://hoso.gov.vn/fhir/sid/passport",
}
SYSTEM_KINDS: dict[str, IdKind] = {system: kind for kind, system in ID_SYSTEMS.items()}
# HoSo's own systems: its lifelong person id, the Ministry of Health's facility code (MA_CSKCB, five
# characters), a source system's record id (the source's name follows the slash) and the national
# immunization programme's vaccine codes.
PERSON_SYSTEM = "https://hoso.gov.vn/fhir/sid/person"
FACILITY_SYSTEM = "https://hoso.gov.vn/fhir/sid/facility"
SOURCE_RECORD_SYSTEM = "https://hoso.gov.vn/fhir/sid/source/"
VACCINE_SYSTEM = "https://hoso.gov.vn/fhir/CodeSystem/vaccine"
UCUM_SYSTEM = "http://unitsofmeasure.org"
ICD10_SYSTEM = "http://hl7.org/fhir/sid/icd-10"
LOINC_SYSTEM = "http://loinc.org"
# LOINC codes of the vital signs HoSo keeps, with HoSo's own code for each.
LOINC_VITALS: dict[str, str] = {
    "8480-6": "systolic_bp", "8462-4": "diastolic_bp", "8867-4": "pulse", "8310-5": "temperature",
    "29463-7": "weight", "8302-2": "height", "39156-5": "bmi", "8280-0": "waist", "2339-0": "glucose",
}  # fmt: skip
# The UCUM unit HoSo keeps each reading in (glucose is LOINC 2339-0, a mass concentration), and the other
# spellings senders use for the same unit. A reading in another unit is not converted: it is refused.
VITAL_UNITS: dict[str, str] = {
    "systolic_bp": "mm[Hg]", "diastolic_bp": "mm[Hg]", "pulse": "/min", "temperature": "Cel", "weight": "kg",
    "height": "cm", "bmi": "kg/m2", "waist": "cm", "glucose": "mg/dL",
}  # fmt: skip
UNIT_SPELLINGS: dict[str, str] = {
    "mmhg": "mm[Hg]", "mm hg": "mm[Hg]", "mm[hg]": "mm[Hg]", "bpm": "/min", "beats/min": "/min", "/min": "/min",
    "{beats}/min": "/min", "lần/phút": "/min", "cel": "Cel", "°c": "Cel", "degc": "Cel", "kg": "kg", "cm": "cm",
    "kg/m2": "kg/m2", "kg/m²": "kg/m2", "kg/m^2": "kg/m2", "mg/dl": "mg/dL",
}  # fmt: skip


def ucum_unit(code: str, unit: str | None) -> str | None:
    """The UCUM unit of a reading of `code` written as `unit`, or None when it is not the unit HoSo keeps
    that reading in. A reading with no unit is taken in HoSo's unit.

    >>> ucum_unit("systolic_bp", "mmHg"), ucum_unit("temperature", "°C"), ucum_unit("height", "m")
    ('mm[Hg]', 'Cel', None)
    """
    expected = VITAL_UNITS.get(code)
    if expected is None:
        return None
    if not unit:
        return expected
    return expected if UNIT_SPELLINGS.get(unit.strip().lower()) == expected else None
