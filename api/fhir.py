"""FHIR R4 views of HoSo's persons: the Patient, the exported record, and the International Patient Summary.

Each is built as plain JSON and checked with fhir.resources (R4B models, wire-compatible with R4); the
suite runs HL7's reference validator (HAPI FHIR, R4) over every kind with 0 errors. The systems HoSo
names its identifiers and codes with are in `linkage.vocab` and listed in docs/fhir.md.

    patient_resource(profile)                  # GET /fhir/Patient/{id}
    retired_patient("HS…old", "HS…survivor")   # the same read after a merge
    person_bundle(profile, base)               # GET /persons/{id}/export?format=fhir
    patient_summary(profile, base, now)        # GET /fhir/Patient/{id}/$summary (an IPS document)
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from html import escape
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient

from linkage import (
    FACILITY_SYSTEM,
    ID_SYSTEMS,
    LOINC_VITALS,
    PERSON_SYSTEM,
    SOURCE_RECORD_SYSTEM,
    UCUM_SYSTEM,
    VACCINE_SYSTEM,
    VITAL_UNITS,
    IdKind,
)

GENDER = {"male": "male", "female": "female"}
ICD10 = "http://hl7.org/fhir/sid/icd-10"
LOINC = "http://loinc.org"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
EMPTY_REASON = "http://terminology.hl7.org/CodeSystem/list-empty-reason"
CORE_PROFILE = "http://hl7.org/fhir/StructureDefinition/"
IPS_PROFILE = "http://hl7.org/fhir/uv/ips/StructureDefinition/"
XHTML = "http://www.w3.org/1999/xhtml"

# Encounter.class from the source's visit type. Decision 130's MA_LOAI_KCB: 01 khám bệnh, 02 điều trị
# ngoại trú, 05/07/08 ngoại trú bệnh mạn tính (khám, nhận thuốc theo hẹn, thủ thuật) and 06 điều trị lưu
# tại trạm y tế xã are ambulatory; 03 điều trị nội trú is an inpatient stay; 04 nội trú ban ngày and 09
# nội trú dưới 4 giờ are short stays. A commune station's visit (831) is ambulatory; a FHIR source's own
# class is kept when it is one of v3 ActCode's encounter classes.
ENCOUNTER_CLASSES = {"AMB": "ambulatory", "IMP": "inpatient encounter", "EMER": "emergency", "SS": "short stay",
                     "HH": "home health", "VR": "virtual", "OBSENC": "observation encounter",
                     "ACUTE": "inpatient acute", "NONAC": "inpatient non-acute", "PRENC": "pre-admission",
                     "FLD": "field"}
LOAI_KCB = {"1": "AMB", "2": "AMB", "3": "IMP", "4": "SS", "5": "AMB", "6": "AMB", "7": "AMB", "8": "AMB", "9": "SS"}

# The LOINC code and name of each reading HoSo keeps, and the core vital-signs profile it meets.
READING_LOINC = {code: loinc for loinc, code in LOINC_VITALS.items()}
LOINC_NAMES = {
    "8480-6": "Systolic blood pressure", "8462-4": "Diastolic blood pressure", "8867-4": "Heart rate",
    "8310-5": "Body temperature", "29463-7": "Body weight", "8302-2": "Body height",
    "39156-5": "Body mass index (BMI) [Ratio]", "8280-0": "Waist Circumference at umbilicus by Tape measure",
    "2339-0": "Glucose [Mass/volume] in Blood", "85354-9": "Blood pressure panel with all children optional",
}  # fmt: skip
READING_PROFILES = {"pulse": "heartrate", "temperature": "bodytemp", "weight": "bodyweight", "height": "bodyheight",
                    "bmi": "bmi", "systolic_bp": "vitalsigns", "diastolic_bp": "vitalsigns"}
READING_NAMES_VI = {"systolic_bp": "Huyết áp tâm thu", "diastolic_bp": "Huyết áp tâm trương", "pulse": "Mạch",
                    "temperature": "Nhiệt độ", "weight": "Cân nặng", "height": "Chiều cao", "bmi": "BMI",
                    "waist": "Vòng bụng", "glucose": "Đường huyết"}
ALLERGY_CATEGORY = {"drug": "medication", "food": "food", "chemical": "environment"}
ALLERGY_NAMES_VI = {"drug": "Dị ứng thuốc", "food": "Dị ứng thức ăn", "chemical": "Dị ứng hóa chất",
                    "other": "Dị ứng khác"}


def _instant(text: str | None) -> str | None:
    """A FHIR dateTime from the graph's text of a datetime ("2025-03-01T07:00Z[Asia/Ho_Chi_Minh]"): with
    its seconds and its offset, as FHIR requires of a time."""
    if not text:
        return None
    moment = datetime.fromisoformat(text.split("[", 1)[0])
    return moment.isoformat(timespec="seconds") if moment.tzinfo is not None else moment.date().isoformat()


def _reference(kind: str, rid: str) -> dict[str, str]:
    return {"reference": f"{kind}/{rid}"}


def _facility(code: str | None, name: str | None) -> dict[str, Any] | None:
    if not code:
        return None
    return {"identifier": {"system": FACILITY_SYSTEM, "value": code}, **({"display": name} if name else {})}


def patient_resource(profile: dict[str, Any]) -> dict[str, Any]:
    """A Patient for a merged profile; Patient.link names the ids merged into it ('replaces') and the
    source records it was assembled from ('seealso')."""
    admin = profile["administrative"]
    identifiers = [{"system": ID_SYSTEMS[kind], "value": admin[field]}
                   for kind, field in ((IdKind.PERSONAL_ID, "personal_id"), (IdKind.BHXH, "bhxh"),
                                       (IdKind.CMND, "cmnd")) if admin.get(field)]
    identifiers.insert(0, {"system": PERSON_SYSTEM, "value": profile["person_id"]})
    resource: dict[str, Any] = {"resourceType": "Patient", "id": profile["person_id"], "active": True,
                                "identifier": identifiers}
    if admin.get("name"):
        parts = admin["name"].split()
        resource["name"] = [{"use": "official", "text": admin["name"], "family": parts[0], "given": parts[1:]}]
    if admin.get("sex") in GENDER:
        resource["gender"] = GENDER[admin["sex"]]
    if admin.get("birth_date"):
        resource["birthDate"] = str(admin["birth_date"])
    elif admin.get("birth_year"):
        resource["birthDate"] = str(admin["birth_year"])
    if admin.get("phone"):
        resource["telecom"] = [{"system": "phone", "value": admin["phone"], "use": "mobile"}]
    if admin.get("address_text"):
        resource["address"] = [{"use": "home", "text": admin["address_text"]}]
    links = [{"other": _reference("Patient", old), "type": "replaces"} for old in profile["merged_ids"]]
    links += [{"other": {"identifier": {"system": f"{SOURCE_RECORD_SYSTEM}{r['source']}", "value": r["record_id"]}},
               "type": "seealso"} for r in profile["records"] if r.get("record_id")]
    if links:
        resource["link"] = links
    return Patient.model_validate(resource).model_dump(mode="json", exclude_none=True)


def retired_patient(person_id: str, survivor: str) -> dict[str, Any]:
    """A person id retired by a merge, as FHIR's Patient $merge leaves the source Patient: not active, and
    `replaced-by` the surviving Patient, which holds the record."""
    resource = {"resourceType": "Patient", "id": person_id, "active": False,
                "identifier": [{"system": PERSON_SYSTEM, "value": person_id, "use": "old"}],
                "link": [{"other": _reference("Patient", survivor), "type": "replaced-by"}]}
    return Patient.model_validate(resource).model_dump(mode="json", exclude_none=True)


def search_bundle(patients: list[dict[str, Any]], base: str, self_url: str | None = None) -> dict[str, Any]:
    """A searchset Bundle of Patients, each with its absolute URL, and the search itself as the `self` link."""
    bundle = {"resourceType": "Bundle", "type": "searchset", "total": len(patients),
              **({"link": [{"relation": "self", "url": self_url}]} if self_url else {}),
              "entry": [{"fullUrl": f"{base}/fhir/Patient/{p['id']}", "resource": p, "search": {"mode": "match"}}
                        for p in patients]}
    return Bundle.model_validate(bundle).model_dump(mode="json", exclude_none=True)


def encounter_class(visit_type: str | None) -> dict[str, str]:
    """Encounter.class for a source's visit type (ambulatory when the source does not say)."""
    raw = (visit_type or "").strip()
    code = raw.upper() if raw.upper() in ENCOUNTER_CLASSES else LOAI_KCB.get(raw.lstrip("0"), "AMB")
    return {"system": ACT_CODE, "code": code, "display": ENCOUNTER_CLASSES[code]}


def operation_outcome(status: int, code: str, detail: str) -> dict[str, Any]:
    """An error under /fhir as FHIR clients expect it: an OperationOutcome with one issue, its FHIR issue
    type from the HTTP status and HoSo's own `code` in `details`."""
    kinds = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found", 405: "not-supported",
             409: "conflict", 410: "deleted", 413: "too-costly", 415: "not-supported", 422: "processing",
             429: "throttled", 503: "transient"}
    outcome = {"resourceType": "OperationOutcome", "issue": [{
        "severity": "error" if status < 500 else "fatal", "code": kinds.get(status, "exception"),
        "details": {"coding": [{"system": "urn:hoso:problem", "code": code}], "text": detail},
        "diagnostics": detail}]}
    return OperationOutcome.model_validate(outcome).model_dump(mode="json", exclude_none=True)


class _Entries:
    """The resources of one Bundle with their fullUrls; `ref(kind, id)` is how the others point at one.

    Server style (`base` given): fullUrl `base/fhir/Type/id`, references `Type/id`, resolved against it.
    Document style (no base): fullUrl `urn:uuid:…` (stable for the same resource), references the same.
    """

    def __init__(self, base: str | None, namespace: str) -> None:
        self.base = base
        self.namespace = uuid.uuid5(uuid.NAMESPACE_URL, namespace)
        self.items: list[dict[str, Any]] = []

    def url(self, kind: str, rid: str) -> str:
        if self.base is not None:
            return f"{self.base}/fhir/{kind}/{rid}"
        return f"urn:uuid:{uuid.uuid5(self.namespace, f'{kind}/{rid}')}"

    def ref(self, kind: str, rid: str) -> dict[str, str]:
        return _reference(kind, rid) if self.base is not None else {"reference": self.url(kind, rid)}

    def add(self, resource: dict[str, Any]) -> dict[str, str]:
        self.items.append({"fullUrl": self.url(resource["resourceType"], resource["id"]), "resource": resource})
        return self.ref(resource["resourceType"], resource["id"])


def _encounters(profile: dict[str, Any], out: _Entries, subject: dict[str, str]) -> list[dict[str, str]]:
    """The visits with their diagnoses; returns the references of the diagnoses."""
    pid = profile["person_id"]
    diagnoses = []
    for n, visit in enumerate(profile["visits"], start=1):
        eid = f"{pid}-enc{n}"
        encounter: dict[str, Any] = {"resourceType": "Encounter", "id": eid, "status": "finished",
                                     "class": encounter_class(visit.get("visit_type")), "subject": subject}
        start, end = _instant(visit.get("admitted_at")), _instant(visit.get("discharged_at"))
        if start:
            encounter["period"] = {"start": start, **({"end": end} if end else {})}
        if (provider := _facility(visit.get("facility"), visit.get("facility_name"))) is not None:
            encounter["serviceProvider"] = provider
        at = out.add(encounter)
        for m, dx in enumerate(visit.get("diagnoses") or [], start=1):
            coding = {"system": ICD10, "code": dx["icd10"], **({"display": dx["name"]} if dx.get("name") else {})}
            text = dx.get("name_vi") or dx.get("name")  # the display is WHO's title; the text, Vietnamese
            diagnoses.append(out.add({
                "resourceType": "Condition", "id": f"{eid}-dx{m}", "subject": subject, "encounter": at,
                "category": [{"coding": [{"system": CONDITION_CATEGORY, "code": "encounter-diagnosis"}]}],
                "code": {"coding": [coding], **({"text": text} if text else {})},
                **({"recordedDate": start} if start else {})}))
    return diagnoses


def _problems(profile: dict[str, Any], out: _Entries, subject: dict[str, str], ips: bool) -> list[dict[str, Any]]:
    """The chronic conditions of the history, as problem-list Conditions."""
    pid = profile["person_id"]
    rows = []
    for n, item in enumerate(profile["history"], start=1):
        if item.get("category") != "chronic" or item.get("relative"):
            continue
        name = item.get("disease_vi") or item.get("disease") or item.get("text") or item.get("code")
        coding = [{"system": ICD10, "code": item["icd10"], **({"display": item["disease"]} if item.get("disease")
                                                               else {})}] if item.get("icd10") else []
        condition = {
            "resourceType": "Condition", "id": f"{pid}-hx{n}", "subject": subject,
            "clinicalStatus": {"coding": [{"system": CONDITION_CLINICAL, "code": "active"}]},
            "category": [{"coding": [{"system": CONDITION_CATEGORY, "code": "problem-list-item"}]}],
            "code": {**({"coding": coding} if coding else {}), "text": name}}
        if ips:
            condition["meta"] = {"profile": [f"{IPS_PROFILE}Condition-uv-ips"]}
        rows.append({"ref": out.add(condition), "text": name, "code": item.get("icd10") or ""})
    return rows


def _allergies(profile: dict[str, Any], out: _Entries, patient: dict[str, str], ips: bool) -> list[dict[str, Any]]:
    pid = profile["person_id"]
    rows = []
    for n, item in enumerate(profile["history"], start=1):
        if item.get("category") != "allergy":
            continue
        kind = item.get("code") or "other"
        name = item.get("text") or ALLERGY_NAMES_VI.get(kind, ALLERGY_NAMES_VI["other"])
        allergy: dict[str, Any] = {
            "resourceType": "AllergyIntolerance", "id": f"{pid}-al{n}", "patient": patient,
            "clinicalStatus": {"coding": [{"system": ALLERGY_CLINICAL, "code": "active"}]},
            "code": {"text": name}}
        if kind in ALLERGY_CATEGORY:
            allergy["category"] = [ALLERGY_CATEGORY[kind]]
        if ips:
            allergy["meta"] = {"profile": [f"{IPS_PROFILE}AllergyIntolerance-uv-ips"]}
        rows.append({"ref": out.add(allergy), "text": name,
                     "kind": ALLERGY_NAMES_VI.get(kind, ALLERGY_NAMES_VI["other"])})
    return rows


def _immunizations(profile: dict[str, Any], out: _Entries, patient: dict[str, str], ips: bool
                   ) -> list[dict[str, Any]]:
    pid = profile["person_id"]
    rows = []
    for n, dose in enumerate(profile["immunizations"], start=1):
        immunization: dict[str, Any] = {
            "resourceType": "Immunization", "id": f"{pid}-imm{n}", "status": "completed", "patient": patient,
            "vaccineCode": {"coding": [{"system": VACCINE_SYSTEM, "code": dose["vaccine"],
                                        **({"display": dose["vaccine_name"]} if dose.get("vaccine_name") else {})}],
                            **({"text": dose["vaccine_name"]} if dose.get("vaccine_name") else {})},
            "occurrenceDateTime": dose["date"]}
        if (at := _facility(dose.get("facility"), dose.get("facility_name"))) is not None:
            immunization["location"] = at
        if dose.get("dose"):
            immunization["protocolApplied"] = [{"doseNumberPositiveInt": dose["dose"]}]
        if ips:
            immunization["meta"] = {"profile": [f"{IPS_PROFILE}Immunization-uv-ips"]}
        rows.append({"ref": out.add(immunization), "date": dose["date"], "dose": dose.get("dose"),
                     "text": dose.get("vaccine_name") or dose["vaccine"]})
    return rows


def _quantity(code: str, value: float, unit: str | None) -> tuple[dict[str, Any], bool]:
    """A reading's valueQuantity, and whether it is in HoSo's UCUM unit (a profile needs it)."""
    expected = VITAL_UNITS.get(code)
    if expected is not None and (not unit or unit == expected):
        return {"value": value, "unit": expected, "system": UCUM_SYSTEM, "code": expected}, True
    return {"value": value, **({"unit": unit} if unit else {})}, False


def _readings(profile: dict[str, Any], out: _Entries, subject: dict[str, str]) -> list[dict[str, Any]]:
    """The readings as Observations meeting FHIR's core vital-signs profiles: systolic and diastolic
    pressure taken together are one blood-pressure panel; the device that took them is a Device entry;
    a reading the person reported is performed by the person. Readings without a time are left out (a
    vital sign needs one)."""
    pid = profile["person_id"]
    kept = [o for o in profile.get("observations") or []
            if _instant(o.get("observed_at")) and (o.get("code") in READING_LOINC or o.get("code") in LOINC_VITALS)]
    # codes written as LOINC (self-reports before HoSo wrote its own) read as HoSo's
    readings = [{**o, "code": LOINC_VITALS.get(o["code"], o["code"])} for o in kept]
    devices: dict[str, dict[str, str]] = {}
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for o in readings:
        key = (o.get("observed_at"), o.get("source"), o.get("device"))
        group = "bp" if o["code"] in ("systolic_bp", "diastolic_bp") else o["code"]
        groups.setdefault((*key, group), []).append(o)
    rows = []
    for n, ((when, _, device, group), items) in enumerate(sorted(groups.items(), key=lambda kv: str(kv[0])),
                                                         start=1):
        by_code = {o["code"]: o for o in items}
        observation: dict[str, Any] = {
            "resourceType": "Observation", "id": f"{pid}-obs{n}", "status": "final", "subject": subject,
            "effectiveDateTime": _instant(when)}
        vital = group not in ("glucose", "waist")
        category = "vital-signs" if vital else ("laboratory" if group == "glucose" else "exam")
        observation["category"] = [{"coding": [{"system": OBSERVATION_CATEGORY, "code": category}]}]
        profiled = True
        if group == "bp" and len(by_code) == 2:
            observation["code"] = {"coding": [{"system": LOINC, "code": "85354-9", "display": LOINC_NAMES["85354-9"]}],
                                   "text": "Huyết áp"}
            observation["component"] = []
            for code in ("systolic_bp", "diastolic_bp"):
                loinc = READING_LOINC[code]
                quantity, ucum = _quantity(code, by_code[code]["value"], by_code[code].get("unit"))
                profiled = profiled and ucum
                observation["component"].append({"code": {"coding": [{"system": LOINC, "code": loinc,
                                                                        "display": LOINC_NAMES[loinc]}]},
                                                  "valueQuantity": quantity})
            profile_name: str | None = "bp"
        else:
            reading = items[0]
            loinc = READING_LOINC[reading["code"]]
            observation["code"] = {"coding": [{"system": LOINC, "code": loinc, "display": LOINC_NAMES[loinc]}],
                                   "text": READING_NAMES_VI[reading["code"]]}
            observation["valueQuantity"], profiled = _quantity(reading["code"], reading["value"], reading.get("unit"))
            profile_name = READING_PROFILES.get(reading["code"])
        if profile_name and profiled:
            observation["meta"] = {"profile": [f"{CORE_PROFILE}{profile_name}"]}
        if device == "self-reported":
            observation["performer"] = [subject]
        elif device:
            if device not in devices:
                devices[device] = out.add({
                    "resourceType": "Device", "id": f"{pid}-dev{len(devices) + 1}",
                    "identifier": [{"system": f"{SOURCE_RECORD_SYSTEM}device", "value": device}],
                    "type": {"text": "Máy đo huyết áp" if group == "bp" else "Thiết bị đo"}, "patient": subject})
            observation["device"] = devices[device]
        rows.append({"ref": out.add(observation), "when": _instant(when), "observation": observation})
    return rows


def person_bundle(profile: dict[str, Any], base: str) -> dict[str, Any]:
    """The merged record as a FHIR collection Bundle: the Patient, its encounters with their diagnoses,
    chronic conditions, allergies, immunizations, and readings (vital signs) with the devices that took
    them. Each entry's `fullUrl` is absolute (`base`/fhir/Type/id), so the relative references between
    them ("Patient/HS…") resolve within the Bundle."""
    out = _Entries(base, base)
    subject = out.add(patient_resource(profile))
    _encounters(profile, out, subject)
    _problems(profile, out, subject, ips=False)
    _allergies(profile, out, subject, ips=False)
    _immunizations(profile, out, subject, ips=False)
    _readings(profile, out, subject)
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": out.items}
    return Bundle.model_validate(bundle).model_dump(mode="json", exclude_none=True)


def _div(heading: str, rows: Iterable[str], empty: str) -> dict[str, str]:
    """A section's narrative: what a reader of the document sees (XHTML, every value escaped)."""
    items = "".join(f"<li>{row}</li>" for row in rows)
    body = f"<ul>{items}</ul>" if items else f"<p>{escape(empty)}</p>"
    div = f'<div xmlns="{XHTML}" lang="vi" xml:lang="vi"><h3>{escape(heading)}</h3>{body}</div>'
    return {"status": "generated", "div": div}


def _section(title: str, loinc: str, display: str, rows: list[dict[str, Any]], lines: list[str],
             empty: str) -> dict[str, Any]:
    section: dict[str, Any] = {"title": title, "code": {"coding": [{"system": LOINC, "code": loinc,
                                                                    "display": display}]},
                               "text": _div(title, lines, empty)}
    if rows:
        section["entry"] = [r["ref"] for r in rows]
    else:
        section["emptyReason"] = {"coding": [{"system": EMPTY_REASON, "code": "unavailable"}],
                                  "text": empty}
    return section


def patient_summary(profile: dict[str, Any], base: str, now: datetime) -> dict[str, Any]:
    """The International Patient Summary of a person (an IPS document Bundle): the Composition, then the
    Patient, HoSo as author and custodian, and the entries of its sections, in Vietnamese. Problems are
    the chronic conditions (not each visit's diagnoses); medications are a required section HoSo cannot
    fill (it holds no prescriptions), so it says so. Resources are named by `urn:uuid:` fullUrls, stable
    for the same person and resource."""
    pid = profile["person_id"]
    out = _Entries(None, f"{base}/fhir/Patient/{pid}")
    patient = patient_resource(profile)
    patient["meta"] = {"profile": [f"{IPS_PROFILE}Patient-uv-ips"]}
    if "birthDate" not in patient:  # required by the IPS: say why it is missing
        patient["_birthDate"] = {"extension": [{"url": f"{CORE_PROFILE}data-absent-reason", "valueCode": "unknown"}]}
    subject = out.add(patient)
    author = out.add({"resourceType": "Organization", "id": "hoso", "name": "HoSo – Hồ sơ sức khỏe điện tử"})
    problems = _problems(profile, out, subject, ips=True)
    allergies = _allergies(profile, out, subject, ips=True)
    immunizations = _immunizations(profile, out, subject, ips=True)
    readings = _readings(profile, out, subject)[:20]
    name = profile["administrative"].get("name") or pid
    stamp = now.isoformat(timespec="seconds")
    sections = [
        _section("Dị ứng", "48765-2", "Allergies and adverse reactions Document", allergies,
                 [f"{escape(a['kind'])}: {escape(a['text'])}" for a in allergies], "Không ghi nhận dị ứng"),
        _section("Bệnh mạn tính và vấn đề sức khỏe", "11450-4", "Problem list - Reported", problems,
                 [f"{escape(p['text'])} {escape(p['code'])}".strip() for p in problems],
                 "Không ghi nhận bệnh mạn tính"),
        _section("Thuốc đang dùng", "10160-0", "History of Medication use Narrative", [], [],
                 "HoSo không lưu đơn thuốc: chưa có thông tin thuốc"),
        _section("Tiêm chủng", "11369-6", "History of Immunization Narrative", immunizations,
                 [f"{escape(i['date'])}: {escape(i['text'])}" + (f" (mũi {i['dose']})" if i.get("dose") else "")
                  for i in immunizations], "Không ghi nhận mũi tiêm"),
        _section("Dấu hiệu sinh tồn", "8716-3", "Vital signs", readings,
                 [f"{escape(r['when'] or '')}: {escape(_reading_text(r['observation']))}" for r in readings],
                 "Không ghi nhận dấu hiệu sinh tồn"),
    ]
    composition_id = f"{pid}-summary"
    composition = {
        "resourceType": "Composition", "id": composition_id,
        "meta": {"profile": [f"{IPS_PROFILE}Composition-uv-ips"]},
        "text": _div(f"Tóm tắt hồ sơ sức khỏe: {name}", [], f"Lập lúc {stamp} từ hồ sơ {pid}"),
        "status": "final",
        "type": {"coding": [{"system": LOINC, "code": "60591-5", "display": "Patient summary Document"}]},
        "subject": subject, "date": stamp, "author": [author], "custodian": author,
        "title": f"Tóm tắt hồ sơ sức khỏe – {name}",
        "event": [{"code": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActClass",
                                         "code": "PCPR"}]}], "period": {"end": stamp}}],
        "section": sections}
    document_id = uuid.uuid5(out.namespace, f"summary/{stamp}")
    entries = [{"fullUrl": out.url("Composition", composition_id), "resource": composition}, *out.items]
    bundle = {"resourceType": "Bundle", "id": str(document_id),
              "meta": {"profile": [f"{IPS_PROFILE}Bundle-uv-ips"]},
              "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{document_id}"},
              "type": "document", "timestamp": stamp, "entry": entries}
    return Bundle.model_validate(bundle).model_dump(mode="json", exclude_none=True)


def _reading_text(observation: dict[str, Any]) -> str:
    if "component" in observation:
        values = [c["valueQuantity"] for c in observation["component"]]
        return f"Huyết áp {values[0]['value']:g}/{values[1]['value']:g} mmHg"
    quantity = observation["valueQuantity"]
    return f"{observation['code']['text']} {quantity['value']:g} {quantity.get('unit', '')}".strip()
