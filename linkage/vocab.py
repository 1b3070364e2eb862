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
ICD10_SYSTEM = "http://hl7.org/fhir/sid/icd-10"
LOINC_SYSTEM = "http://loinc.org"
# LOINC codes of the vital signs HoSo keeps, with HoSo's own code for each.
LOINC_VITALS: dict[str, str] = {
    "8480-6": "systolic_bp", "8462-4": "diastolic_bp", "8867-4": "pulse", "8310-5": "temperature",
    "29463-7": "weight", "8302-2": "height", "39156-5": "bmi", "8280-0": "waist", "2339-0": "glucose",
}  # fmt: skip
