"""A FHIR R4 facade over merged persons: read a Patient, search by identifier."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse

from api.audit import audit
from api.deps import CurrentUser, DriverDep, SettingsDep
from api.fhir import patient_resource, search_bundle
from api.routes.persons import authorise_person, check_person_id
from graph.persons import PersonNotFound, person_profile, resolve_person
from graph.queries import default_registry
from linkage.vocab import SYSTEM_KINDS

router = APIRouter(prefix="/fhir", tags=["fhir"])
FHIR_JSON = "application/fhir+json"


def _patient(request: Request, driver: Any, settings: Any, user: Any, person_id: str) -> dict[str, Any]:
    try:
        surviving, _ = resolve_person(driver, person_id, settings.neo4j_database)
    except PersonNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no Patient {person_id}") from exc
    authorise_person(request, driver, settings, user, surviving)
    profile = person_profile(driver, surviving, settings.neo4j_database)
    merged = default_registry().read(driver, "persons/merged_from", database=settings.neo4j_database,
                                     person_id=surviving)[0]["ids"]
    audit(request, driver, settings, user, 200, surviving)
    return patient_resource(profile, sorted(merged))


@router.get("/Patient/{person_id}", operation_id="fhir_read_patient", responses={400: {}, 403: {}, 404: {}})
def read_patient(person_id: str, request: Request, user: CurrentUser, driver: DriverDep,
                 settings: SettingsDep) -> JSONResponse:
    """The merged person as a FHIR Patient (a retired id answers with the surviving Patient)."""
    check_person_id(person_id)
    return JSONResponse(_patient(request, driver, settings, user, person_id), media_type=FHIR_JSON)


@router.get("/Patient", operation_id="fhir_search_patient", responses={400: {}, 403: {}})
def search_patient(request: Request, user: CurrentUser, driver: DriverDep, settings: SettingsDep,
                   identifier: Annotated[str, Query(max_length=200, description="system|value")]) -> JSONResponse:
    """Patients whose personal id, social insurance number or CMND is the given identifier."""
    system, _, value = identifier.partition("|")
    kind = SYSTEM_KINDS.get(system)
    if kind is None or not value or kind.value not in ("personal_id", "bhxh", "cmnd"):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "identifier must be system|value with the cccd, bhxh or "
                                                         "cmnd system of https://hoso.gov.vn/fhir/sid/")
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
    return JSONResponse(search_bundle(patients, str(request.base_url).rstrip("/")), media_type=FHIR_JSON)
