"""A FHIR R4 facade over merged persons: read a Patient, search by identifier, $match, $summary (the
International Patient Summary), and the CapabilityStatement that lists them (`/fhir/metadata`, built
from these routes). Errors under /fhir are OperationOutcomes (see `api.app`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.parameters import Parameters
from neo4j import Driver
from pydantic import ValidationError

from api.access import audit_disclosures, readable_among, readable_profile
from api.deps import CurrentUser, DriverDep, SettingsDep, require
from api.fhir import patient_resource, patient_summary, retired_patient, search_bundle
from api.messages import Refusal
from api.security import Role, User
from api.settings import Settings
from graph import default_registry, person_profile
from linkage import SYSTEM_KINDS, IdKind, parse_birth_date

router = APIRouter(prefix="/fhir", tags=["fhir"])
FHIR_JSON = "application/fhir+json"
# A $match answers with whole Patient resources: reading persons, which reviewers may not.
PatientMatcher = Annotated[User, require(Role.CLINICIAN, may_not="match patients")]


def _fhir(what: str) -> dict[str, Any]:
    """The OpenAPI description of a FHIR answer (validated against FHIR R4B by the suite, not by a model here)."""
    return {"description": what, "content": {FHIR_JSON: {"schema": {"type": "object"}}}}


def _patient(request: Request, driver: Driver, settings: Settings, user: User, person_id: str) -> dict[str, Any]:
    return patient_resource(readable_profile(request, driver, settings, user, person_id))


@router.get("/Patient/{person_id}", operation_id="fhir_read_patient", response_class=JSONResponse,
            responses={200: _fhir("A Patient"), 400: {}, 403: {}, 404: {}})
def read_patient(person_id: str, request: Request, user: CurrentUser, driver: DriverDep,
                 settings: SettingsDep) -> JSONResponse:
    """The merged person as a FHIR Patient. A read returns the resource asked for: an id retired by a
    merge is a Patient that is not active and is `replaced-by` the survivor (who the caller must be
    allowed to read)."""
    profile = readable_profile(request, driver, settings, user, person_id)
    if profile["person_id"] != person_id:
        return JSONResponse(retired_patient(person_id, profile["person_id"]), media_type=FHIR_JSON)
    return JSONResponse(patient_resource(profile), media_type=FHIR_JSON)


@router.get("/Patient/{person_id}/$summary", operation_id="fhir_patient_summary", response_class=JSONResponse,
            responses={200: _fhir("An International Patient Summary document Bundle"), 400: {}, 403: {}, 404: {}})
def patient_summary_document(person_id: str, request: Request, user: CurrentUser, driver: DriverDep,
                             settings: SettingsDep) -> JSONResponse:
    """The person's International Patient Summary: allergies, chronic conditions, medications (HoSo
    holds none, and says so), immunizations and recent vital signs, as an IPS document Bundle in
    Vietnamese. A retired id gives the survivor's summary. Readers as for the Patient, audited."""
    profile = readable_profile(request, driver, settings, user, person_id)
    document = patient_summary(profile, settings.public_url.rstrip("/"), datetime.now(UTC))
    return JSONResponse(document, media_type=FHIR_JSON)


@router.get("/Patient", operation_id="fhir_search_patient", response_class=JSONResponse,
            responses={200: _fhir("A searchset Bundle of Patients"), 400: {}, 403: {}})
def search_patient(request: Request, user: CurrentUser, driver: DriverDep, settings: SettingsDep,
                   identifier: Annotated[str, Query(max_length=200, description="system|value")]) -> JSONResponse:
    """Patients whose personal id, social insurance number or CMND is the given identifier: in their
    golden record or in any record linked to them (an id of a person merged into another finds the
    survivor)."""
    system, _, value = identifier.partition("|")
    kind = SYSTEM_KINDS.get(system)
    if kind is None or not value or kind.value not in ("personal_id", "bhxh", "cmnd"):
        raise Refusal(status.HTTP_400_BAD_REQUEST, "identifier must be system|value with the cccd, bhxh or cmnd "
                      "system of https://hoso.gov.vn/fhir/sid/")
    ids = [r["person_id"] for r in default_registry().read(driver, "persons/by_identifier",
                                                           database=settings.neo4j_database, kind=kind.value,
                                                           value=value)]
    patients = []
    for person_id in ids:
        try:
            patients.append(_patient(request, driver, settings, user, person_id))
        except HTTPException as exc:
            if exc.status_code != status.HTTP_403_FORBIDDEN:
                raise
    base = settings.public_url.rstrip("/")
    # The search as its `self` link, when it found someone the caller may read: an identifier that found
    # nobody readable is not echoed back (the answer must not differ for a person of another province).
    self_url = f"{base}/fhir/Patient?{urlencode({'identifier': identifier})}" if patients else None
    return JSONResponse(search_bundle(patients, base, self_url), media_type=FHIR_JSON)


MATCH_GRADE = "http://hl7.org/fhir/StructureDefinition/match-grade"


def _grade(probability: float, upper: float, lower: float) -> str:
    if probability >= upper:
        return "certain"
    if probability >= lower:
        return "probable"
    return "possible" if probability >= lower / 2 else "certainly-not"


@router.post("/Patient/$match", operation_id="fhir_match_patient", response_class=JSONResponse,
             responses={200: _fhir("A searchset Bundle of candidate Patients with their scores"),
                        400: {}, 403: {}, 503: {}})
async def match_patient(request: Request, user: PatientMatcher, driver: DriverDep, settings: SettingsDep,
                        count: Annotated[int, Query(ge=1, le=50)] = 10) -> JSONResponse:
    """FHIR $match: a Parameters resource holding a Patient in; a searchset Bundle of candidate Patients
    with their search score and match-grade out. Patients are whole records: clinicians only, and only
    the persons of their province, each disclosure audited."""

    try:
        body = await request.json()
        params = Parameters.model_validate(body)
    except (ValueError, ValidationError) as exc:
        raise Refusal(status.HTTP_400_BAD_REQUEST, "send a FHIR Parameters resource with a 'resource' parameter "
                      "holding a Patient") from exc
    patient: Any = next((p.resource for p in params.parameter or [] if p.name == "resource" and p.resource), None)
    if patient is None or patient.get_resource_type() != "Patient":
        raise Refusal(status.HTTP_400_BAD_REQUEST, "the 'resource' parameter must hold a Patient")
    matcher = request.app.state.matcher()
    if matcher is None:
        raise Refusal(status.HTTP_503_SERVICE_UNAVAILABLE, "no trained model yet: run `hoso train`")
    name = patient.name[0] if patient.name else None
    full = (name.text or " ".join([name.family or "", *(name.given or [])]).strip()) if name else None
    if not full:
        raise Refusal(status.HTTP_400_BAD_REQUEST, "the Patient needs a name")
    ids = {SYSTEM_KINDS.get(i.system or ""): i.value for i in patient.identifier or []}
    birth = str(patient.birthDate) if patient.birthDate else None

    born, precision = parse_birth_date(birth) if birth else (None, None)
    fields = {"name_as_written": full, "birth_date": born, "birth_precision": precision,
              "sex": patient.gender if patient.gender in ("male", "female") else None,
              "personal_id": ids.get(IdKind.PERSONAL_ID), "bhxh": ids.get(IdKind.BHXH), "cmnd": ids.get(IdKind.CMND),
              "phones": [t.value for t in patient.telecom or [] if t.system == "phone" and t.value]}
    found = matcher.match(fields, limit=count)
    allowed = set(readable_among(driver, settings, user, [c.person_id for c in found]))
    candidates = [c for c in found if c.person_id in allowed]
    entries = []
    base = settings.public_url.rstrip("/")
    for candidate in candidates:
        profile = person_profile(driver, candidate.person_id, settings.neo4j_database)
        resource = patient_resource(profile)
        entries.append({"fullUrl": f"{base}/fhir/Patient/{candidate.person_id}", "resource": resource,
                        "search": {"mode": "match", "score": round(candidate.probability, 6), "extension": [
                            {"url": MATCH_GRADE, "valueCode": _grade(candidate.probability,
                                                                     settings.match_threshold_upper,
                                                                     settings.match_threshold_lower)}]}})
    audit_disclosures(request, settings, user, [c.person_id for c in candidates])
    bundle = Bundle.model_validate({"resourceType": "Bundle", "type": "searchset", "total": len(entries),
                                    "link": [{"relation": "self", "url": f"{base}/fhir/Patient/$match"}],
                                    "entry": entries})
    return JSONResponse(bundle.model_dump(mode="json", exclude_none=True), media_type=FHIR_JSON)


_OPERATION = re.compile(r"^/fhir/(?P<type>[A-Z][A-Za-z]+)(?P<instance>/\{[a-z_]+\})?(?:/\$(?P<op>[a-z-]+))?$")
OPERATION_DEFINITIONS = {"match": "http://hl7.org/fhir/OperationDefinition/Patient-match",
                         "summary": "http://hl7.org/fhir/uv/ips/OperationDefinition/summary"}


def capability_statement(app: Any, base: str) -> dict[str, Any]:
    """What HoSo's FHIR facade supports, read from the application's own OpenAPI paths under /fhir: each
    resource type with its interactions (read, search-type with its search parameters) and operations."""
    resources: dict[str, dict[str, Any]] = {}
    for path, operations in app.openapi()["paths"].items():
        match = _OPERATION.match(path)
        if match is None:
            continue
        entry = resources.setdefault(match["type"], {"type": match["type"], "interaction": [], "searchParam": [],
                                                     "operation": []})
        if match["op"]:
            entry["operation"].append({"name": match["op"], "definition": OPERATION_DEFINITIONS[match["op"]]})
        elif match["instance"]:
            entry["interaction"].append({"code": "read"})
        else:
            entry["interaction"].append({"code": "search-type"})
            entry["searchParam"] += [{"name": p["name"], "type": "token"}
                                     for p in operations.get("get", {}).get("parameters", []) if p["in"] == "query"]
    statement = {
        "resourceType": "CapabilityStatement", "status": "active", "date": "2026-11-30", "kind": "instance",
        "software": {"name": "HoSo", "version": app.version}, "implementation": {
            "description": "HoSo: the national personal health record's master person index", "url": f"{base}/fhir"},
        "fhirVersion": "4.0.1", "format": [FHIR_JSON],
        "rest": [{"mode": "server", "security": {"description": "OAuth2 password flow at /auth/token; "
                                                                "send Authorization: Bearer <token>"},
                  "resource": [{k: v for k, v in r.items() if v} for r in resources.values()]}]}
    return CapabilityStatement.model_validate(statement).model_dump(mode="json", exclude_none=True)


@router.get("/metadata", operation_id="fhir_metadata", response_class=JSONResponse,
            responses={200: _fhir("The CapabilityStatement")})
def metadata(request: Request, settings: SettingsDep) -> JSONResponse:
    """What the FHIR facade supports (no sign-in needed: it names no person)."""
    return JSONResponse(capability_statement(request.app, settings.public_url.rstrip("/")), media_type=FHIR_JSON)
