"""Persons: merged profiles, search, real-time matching, link history. Every read is audited."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from fastapi.responses import JSONResponse
from neo4j import Driver
from pydantic import BaseModel, Field

from analytics import next_doses
from api.audit import audit
from api.deps import CurrentUser, DriverDep, SettingsDep, require
from api.export831 import record_831
from api.fhir import person_bundle
from api.security import Role, User
from api.settings import Settings
from graph import PersonNotFound, PersonOperations, default_registry, profile_and_viewer
from linkage import fold, valid_person_id

router = APIRouter(tags=["persons"])
# Who may match demographics against the index.
Matcher = Annotated[User, require(Role.CLINICIAN, Role.REVIEWER, may_not="match persons")]
Searcher = Annotated[User, require(Role.CLINICIAN, may_not="search persons")]


def check_person_id(person_id: str) -> None:
    """A 400 for anything but a well-formed person id with its check character right."""
    if not valid_person_id(person_id):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"person_id: {person_id!r} is not a person id (HS, ten "
                            "characters and a check character, as HS2WYNSFH8JJB)")


def check_may_read(request: Request, settings: Settings, user: User, person_id: str, province: str | None,
                   relation: Mapping[str, Any]) -> None:
    """Refuse with 403 (audited) unless `user` may read the person `person_id` of `province`, related to
    them as `relation` says (the flags `self`, `parent`, `dependant` of persons/viewer_relation):
    clinicians their province, citizens themselves, their children and the dependants of their household."""
    if user.role is Role.CLINICIAN:
        allowed = user.province is not None and province == user.province
    elif user.role is Role.CITIZEN:
        allowed = bool(relation["self"] or relation["parent"] or relation["dependant"])
    else:
        allowed = False
    if not allowed:
        audit(request, settings, user, 403, person_id)
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"the {user.role.value} role may not read this person")


def adult_year() -> int:
    return datetime.now(UTC).year - 18


def authorise_person(request: Request, driver: Driver, settings: Settings, user: User, person_id: str) -> str:
    """The surviving id of `person_id` if the user may read that person: 404 for an unknown id,
    403 (audited) beyond the role."""
    rows = default_registry().read(driver, "persons/viewer_relation", database=settings.neo4j_database,
                                   viewer=user.person_id or "", person_id=person_id, adult_year=adult_year())
    if not rows:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no person {person_id}")
    surviving: str = rows[0]["person_id"]
    check_may_read(request, settings, user, surviving, rows[0]["province"], rows[0])
    return surviving


def readable_profile(request: Request, driver: Driver, settings: Settings, user: User,
                     person_id: str) -> dict[str, Any]:
    """The profile of `person_id` (or its survivor) if the user may read it: 400 for a malformed id,
    404 for an unknown one, 403 (audited) beyond the role; the read itself is audited. One round trip:
    the profile comes with the reader's relation to it, and is dropped when that refuses the read."""
    check_person_id(person_id)
    try:
        profile, relation = profile_and_viewer(driver, person_id, settings.neo4j_database,
                                               viewer=user.person_id or "", adult_year=adult_year())
    except PersonNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no person {person_id}") from None
    check_may_read(request, settings, user, profile["person_id"], profile["administrative"].get("province"),
                   relation)
    audit(request, settings, user, 200, profile["person_id"])
    return profile


Row = dict[str, Any]


class Household(BaseModel):
    code: str
    relation: str | None = None
    members: list[str]


class Profile(BaseModel):
    """A person's merged record in the structure of the 831 record: the golden record
    (`administrative`) with where each value came from (`provenance`), household and family, and the
    facts of every linked record."""

    person_id: str
    merged_from: str | None = Field(description="The retired id asked for, when it was merged into this one")
    merged_ids: list[str]
    administrative: Row
    provenance: Row
    household: Household | None
    parents: list[str]
    children: list[str]
    history: list[Row]
    immunizations: list[Row]
    visits: list[Row]
    observations: list[Row]
    records: list[Row]
    next_doses: list[Row] | None = Field(default=None, description="A child under 6: doses still to come")


class LinkEvent(BaseModel):
    event_id: str
    actor: str | None = None
    action: str
    reason: str | None = None
    before: Any = None
    after: Any = None
    uids: list[str] | None = None
    at: str | None = None


class History(BaseModel):
    data: list[LinkEvent]
    count: int


@router.get("/persons/{person_id}", operation_id="read_person", response_model=Profile,
            responses={400: {}, 403: {}, 404: {}})
def read_person(person_id: str, request: Request, user: CurrentUser, driver: DriverDep,
                settings: SettingsDep) -> dict[str, Any]:
    """The merged profile (831 structure); a retired id answers with the surviving person and
    `merged_from`. A child under 6 also gets the doses of the national schedule still to come."""
    profile = readable_profile(request, driver, settings, user, person_id)
    birth = profile["administrative"].get("birth_date")
    if birth and (date.today() - date.fromisoformat(str(birth)[:10])).days < 6 * 366:
        doses = [{"vaccine": i.get("vaccine"), "dose": i.get("dose"), "date": i.get("date")}
                 for i in profile["immunizations"]]
        profile["next_doses"] = next_doses(str(birth), doses, date.today())
    return profile


class PersonSummary(BaseModel):
    person_id: str
    name: str | None = None
    birth_date: str | None = None
    birth_year: int | None = None
    sex: str | None = None
    commune: str | None = None
    province: str | None = None
    record_count: int | None = None


class PersonPage(BaseModel):
    data: list[PersonSummary]
    count: int


@router.get("/persons", operation_id="search_persons", response_model=PersonPage, responses={400: {}, 403: {}})
def search_persons(
    request: Request, user: Searcher, driver: DriverDep, settings: SettingsDep,
    personal_id: Annotated[str | None, Query(pattern=r"^\d{12}$")] = None,
    bhxh: Annotated[str | None, Query(pattern=r"^\d{10}$")] = None,
    name: Annotated[str | None, Query(min_length=2, max_length=100)] = None,
    birth_date: date | None = None,
    commune: Annotated[str | None, Query(pattern=r"^\d{5}$")] = None,
    skip: Annotated[int, Query(ge=0, le=100_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> PersonPage:
    """Search: exact on ids, tolerant of missing diacritics on names; clinicians within their province."""
    if not any((personal_id, bhxh, name, birth_date, commune)):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "give at least one of personal_id, bhxh, name, "
                                                         "birth_date, commune")
    row = default_registry().read(
        driver, "persons/search", database=settings.neo4j_database, personal_id=personal_id, bhxh=bhxh,
        name_fold=fold(name) if name else None, birth_date=birth_date.isoformat() if birth_date else None,
        commune=commune, province=user.province, skip=skip, limit=limit)[0]
    audit(request, settings, user, 200)
    return PersonPage(data=[PersonSummary(**dict(x)) for x in row["data"]], count=row["count"])


class MatchRequest(BaseModel):
    """One person's demographics."""

    name: str = Field(min_length=2, max_length=200, description="Full name, family first")
    birth_date: date | None = None
    birth_precision: str | None = Field(default=None, pattern="^(day|month|year)$")
    sex: str | None = Field(default=None, pattern="^(male|female)$")
    personal_id: str | None = Field(default=None, pattern=r"^\d{12}$")
    bhxh: str | None = Field(default=None, pattern=r"^\d{10}$")
    insurance_card: str | None = Field(default=None, pattern=r"^[A-Z]{2}\d{13}$")
    phone: str | None = Field(default=None, max_length=20)
    commune: str | None = Field(default=None, pattern=r"^\d{5}$", description="Post-2025 commune code")

    def fields(self) -> dict[str, Any]:
        """The source-record fields the real-time matcher standardises."""
        return {"name_as_written": self.name, "birth_date": self.birth_date, "birth_precision": self.birth_precision,
                "sex": self.sex, "personal_id": self.personal_id, "bhxh": self.bhxh,
                "insurance_cards": [self.insurance_card] if self.insurance_card else [],
                "phones": [self.phone] if self.phone else [], "commune_code": self.commune,
                "code_list": "post2025" if self.commune else None}


class MatchCandidate(BaseModel):
    person_id: str
    probability: float
    match_weight: float
    weights: dict[str, float]


class MatchResponse(BaseModel):
    data: list[MatchCandidate]
    count: int
    model_version: str


@router.post("/match", operation_id="match_person", response_model=MatchResponse, responses={403: {}, 503: {}})
def match_person(body: MatchRequest, request: Request, user: Matcher, settings: SettingsDep) -> MatchResponse:
    """Candidate persons for one person's demographics, with probability and the weight of each field."""
    matcher = request.app.state.matcher()
    if matcher is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "no trained model yet: run `hoso train`")
    candidates = matcher.match(body.fields())
    audit(request, settings, user, 200)
    data = [MatchCandidate(person_id=c.person_id, probability=c.probability, match_weight=c.match_weight,
                           weights=c.weights) for c in candidates]
    return MatchResponse(data=data, count=len(data), model_version=matcher.version)


@router.get("/persons/{person_id}/history", operation_id="read_person_history", response_model=History,
            responses={400: {}, 403: {}, 404: {}})
def read_history(person_id: str, request: Request, user: CurrentUser, driver: DriverDep,
                 settings: SettingsDep) -> dict[str, Any]:
    """The link history of a person (reviewers, and clinicians of the person's province)."""
    check_person_id(person_id)
    if user.role is not Role.REVIEWER:
        authorise_person(request, driver, settings, user, person_id)
    events = PersonOperations(driver, settings.neo4j_database).history(person_id)
    audit(request, settings, user, 200, person_id)
    return {"data": events, "count": len(events)}


@router.get("/persons/{person_id}/export", operation_id="export_person", response_class=Response,
            responses={200: {"description": "The person's 831 record (XML) or a FHIR Bundle",
                             "content": {"application/xml": {}, "application/fhir+json": {}}},
                       400: {}, 403: {}, 404: {}})
def export_person(person_id: str, request: Request, user: CurrentUser, driver: DriverDep, settings: SettingsDep,
                  format: Annotated[Literal["831", "fhir"], Query()] = "fhir") -> Response:
    """The merged record as an 831 XML document or a FHIR Bundle."""

    profile = readable_profile(request, driver, settings, user, person_id)
    if format == "831":
        return Response(record_831(profile), media_type="application/xml")
    return JSONResponse(person_bundle(profile), media_type="application/fhir+json")
