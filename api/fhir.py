"""FHIR R4 views of HoSo's persons, built and validated with fhir.resources (R4B models)."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.patient import Patient

from linkage import ID_SYSTEMS, IdKind

GENDER = {"male": "male", "female": "female"}


def patient_resource(profile: dict[str, Any]) -> dict[str, Any]:
    """A Patient for a merged profile; Patient.link names the ids merged into it ('replaces') and the
    source records it was assembled from ('seealso')."""
    admin = profile["administrative"]
    identifiers = [{"system": ID_SYSTEMS[kind], "value": admin[field]}
                   for kind, field in ((IdKind.PERSONAL_ID, "personal_id"), (IdKind.BHXH, "bhxh"),
                                       (IdKind.CMND, "cmnd")) if admin.get(field)]
    identifiers.insert(0, {"system": "https://hoso.gov.vn/fhir/sid/person", "value": profile["person_id"]})
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
    links = [{"other": {"reference": f"Patient/{old}"}, "type": "replaces"} for old in profile["merged_ids"]]
    links += [{"other": {"identifier": {"system": f"https://hoso.gov.vn/fhir/sid/source/{r['source']}",
                                        "value": r["record_id"]}}, "type": "seealso"}
              for r in profile["records"] if r.get("record_id")]
    if links:
        resource["link"] = links
    return Patient.model_validate(resource).model_dump(mode="json", exclude_none=True)


def search_bundle(patients: list[dict[str, Any]], base: str, self_url: str | None = None) -> dict[str, Any]:
    """A searchset Bundle of Patients, each with its absolute URL, and the search itself as the `self` link."""
    bundle = {"resourceType": "Bundle", "type": "searchset", "total": len(patients),
              **({"link": [{"relation": "self", "url": self_url}]} if self_url else {}),
              "entry": [{"fullUrl": f"{base}/fhir/Patient/{p['id']}", "resource": p, "search": {"mode": "match"}}
                        for p in patients]}
    return Bundle.model_validate(bundle).model_dump(mode="json", exclude_none=True)


def person_bundle(profile: dict[str, Any], base: str) -> dict[str, Any]:
    """The merged record as a FHIR collection Bundle: the Patient, its encounters with their diagnoses,
    immunizations and conditions. Each entry's `fullUrl` is absolute (`base`/fhir/Type/id), so the relative
    references between them ("Patient/HS…") resolve within the Bundle."""
    pid = profile["person_id"]
    subject = {"reference": f"Patient/{pid}"}
    entries: list[dict[str, Any]] = [{"fullUrl": f"Patient/{pid}", "resource": patient_resource(profile)}]
    for n, visit in enumerate(profile["visits"], start=1):
        eid = f"{pid}-enc{n}"
        encounter: dict[str, Any] = {"resourceType": "Encounter", "id": eid, "status": "finished",
                                     "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                                               "code": "AMB"}, "subject": subject}
        if visit.get("admitted_at"):
            encounter["period"] = {"start": visit["admitted_at"], **({"end": visit["discharged_at"]}
                                                                      if visit.get("discharged_at") else {})}
        if visit.get("facility"):
            encounter["serviceProvider"] = {"identifier": {"value": visit["facility"]}}
        entries.append({"fullUrl": f"Encounter/{eid}", "resource": encounter})
        for m, dx in enumerate(visit.get("diagnoses") or [], start=1):
            entries.append({"fullUrl": f"Condition/{eid}-dx{m}", "resource": {
                "resourceType": "Condition", "id": f"{eid}-dx{m}", "subject": subject,
                "encounter": {"reference": f"Encounter/{eid}"},
                "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": dx["icd10"],
                                     "display": dx.get("name")}]}}})
    for n, dose in enumerate(profile["immunizations"], start=1):
        entries.append({"fullUrl": f"Immunization/{pid}-imm{n}", "resource": {
            "resourceType": "Immunization", "id": f"{pid}-imm{n}", "status": "completed", "patient": subject,
            "vaccineCode": {"coding": [{"system": "https://hoso.gov.vn/fhir/CodeSystem/vaccine",
                                        "code": dose["vaccine"]}], "text": dose.get("vaccine_name")},
            "occurrenceDateTime": dose["date"],
            **({"protocolApplied": [{"doseNumberPositiveInt": dose["dose"]}]} if dose.get("dose") else {})}})
    for n, item in enumerate(profile["history"], start=1):
        if item.get("category") != "chronic":
            continue
        coding = [{"system": "http://hl7.org/fhir/sid/icd-10", "code": item["icd10"]}] if item.get("icd10") else []
        entries.append({"fullUrl": f"Condition/{pid}-hx{n}", "resource": {
            "resourceType": "Condition", "id": f"{pid}-hx{n}", "subject": subject,
            "code": {"coding": coding, "text": item.get("disease") or item.get("code")}}})
    for entry in entries:
        entry["fullUrl"] = f"{base}/fhir/{entry['fullUrl']}"
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    return Bundle.model_validate(bundle).model_dump(mode="json", exclude_none=True)
