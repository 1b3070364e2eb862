"""Persons: merged profiles, search, real-time matching, link history. Every read is audited."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from analytics import next_doses
from api.access import (
    audit_disclosures,
    authorise_person,
    check_person_id,
    readable_among,
    readable_profile,
    refuse_citizens,
    related_ids,
)
from api.audit import audit
from api.deps import CurrentUser, DriverDep, SettingsDep, require
from api.export831 import record_831
from api.fhir import person_bundle
from api.messages import Refusal
from api.security import Role, User
from graph import ConflictError, OperationError, PersonOperations, default_registry, plain
from linkage import fold

router = APIRouter(tags=["persons"])
# Who may match demographics against the index.
Matcher = Annotated[User, require(Role.CLINICIAN, Role.REVIEWER, may_not="match persons")]
Searcher = Annotated[User, require(Role.CLINICIAN, may_not="search persons")]
Reviewer = Annotated[User, require(Role.REVIEWER, may_not="change persons")]


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
    relatives: list[Row] = Field(default_factory=list, description="Parents and children with their names and "
                                                                   "birth years (relation: parent or child)")
    history: list[Row]
    immunizations: list[Row]
    visits: list[Row]
    observations: list[Row]
    records: list[Row]
    next_doses: list[Row] | None = Field(default=None, description="A child under 6: doses still to come")
    closed_items: int | None = Field(default=None, description="Items the person closed to this reader (a visit, "
                                                               "a diagnosis group, the whole record), left out")


class LinkEvent(BaseModel):
    event_id: str
    actor: str | None = None
    action: str
    reason: str | None = None
    before: Any = None
    after: Any = None
    uids: list[str] | None = None
    at: str | None = None
    item_id: str | None = Field(default=None, description="The review item the decision closed")
    undone_by: str | None = Field(default=None, description="The entry that undid this one")
    undoes: str | None = Field(default=None, description="The entry this one undid")


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
    for related in related_ids(profile):
        audit(request, settings, user, 200, related)
    if user.role is not Role.CITIZEN:  # a citizen's own family is named; staff see the names they may read
        named = set(readable_among(driver, settings, user, [r["person_id"] for r in profile["relatives"]]))
        profile["relatives"] = [r if r["person_id"] in named else {**r, "name": None, "birth_year": None}
                                for r in profile["relatives"]]
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
        raise Refusal(status.HTTP_400_BAD_REQUEST, "give at least one of personal_id, bhxh, name, birth_date, commune")
    row = default_registry().read(
        driver, "persons/search", database=settings.neo4j_database, personal_id=personal_id, bhxh=bhxh,
        name_fold=fold(name) if name else None, birth_date=birth_date.isoformat() if birth_date else None,
        commune=commune, province=user.province, skip=skip, limit=limit)[0]
    page = [PersonSummary(**dict(x)) for x in row["data"]]
    audit_disclosures(request, settings, user, [person.person_id for person in page])
    return PersonPage(data=page, count=row["count"])


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
def match_person(body: MatchRequest, request: Request, user: Matcher, driver: DriverDep,
                 settings: SettingsDep) -> MatchResponse:
    """Candidate persons for one person's demographics, with probability and the weight of each field:
    only persons the caller may learn of (their province), each disclosure audited."""
    matcher = request.app.state.matcher()
    if matcher is None:
        raise Refusal(status.HTTP_503_SERVICE_UNAVAILABLE, "no trained model yet: run `hoso train`")
    found = matcher.match(body.fields())
    allowed = set(readable_among(driver, settings, user, [c.person_id for c in found]))
    candidates = [c for c in found if c.person_id in allowed]
    audit_disclosures(request, settings, user, [c.person_id for c in candidates])
    data = [MatchCandidate(person_id=c.person_id, probability=c.probability, match_weight=c.match_weight,
                           weights=c.weights) for c in candidates]
    return MatchResponse(data=data, count=len(data), model_version=matcher.version)


@router.get("/persons/{person_id}/history", operation_id="read_person_history", response_model=History,
            responses={400: {}, 403: {}, 404: {}})
def read_history(person_id: str, request: Request, user: CurrentUser, driver: DriverDep,
                 settings: SettingsDep) -> dict[str, Any]:
    """The link history of a person (reviewers, and clinicians of the person's province): it names
    reviewers, their notes and other people's records, so it is staff's reading only."""
    check_person_id(person_id)
    refuse_citizens(request, settings, user, person_id, "link history")
    if user.role is not Role.REVIEWER:
        authorise_person(request, driver, settings, user, person_id)
    elif not readable_among(driver, settings, user, [person_id]):  # a reviewer: their province's persons
        audit(request, settings, user, 403, person_id)
        raise Refusal(status.HTTP_403_FORBIDDEN, "this person is outside your province")
    events = PersonOperations(driver, settings.neo4j_database).history(person_id)
    audit(request, settings, user, 200, person_id)
    return {"data": events, "count": len(events)}


def _reviewer_may_change(request: Request, driver: Any, settings: Any, user: User, person_id: str) -> None:
    """A 403 (audited) unless the reviewer's province holds the person (a reviewer without one: any)."""
    if not readable_among(driver, settings, user, [person_id]):
        audit(request, settings, user, 403, person_id)
        raise Refusal(status.HTTP_403_FORBIDDEN, "this person is outside your province")


class Undo(BaseModel):
    version: int = Field(ge=0, description="The person's version as read (its history shows it)")
    reason: str = Field(min_length=1, max_length=2000)


class Split(BaseModel):
    uids: list[Annotated[str, Field(min_length=3, max_length=200)]] = Field(
        min_length=1, max_length=500, description="The records that leave for a new person")
    version: int = Field(ge=0)
    reason: str = Field(min_length=1, max_length=2000)


class Change(BaseModel):
    event_id: str
    action: str
    persons: list[str]
    versions: dict[str, int]
    new_person_id: str | None = None


def _change(request: Request, settings: Any, user: User, person_id: str, work: Any) -> Any:
    """Run an operation on a person: 409 (audited) when it changed since it was read or what the entry
    changed has changed since, 404 for an unknown entry or records."""
    try:
        result = work()
    except ConflictError as exc:
        audit(request, settings, user, 409, person_id)
        raise Refusal(status.HTTP_409_CONFLICT, "{reason}: reload the person and try again", reason=exc) from exc
    except OperationError as exc:
        audit(request, settings, user, 404, person_id)
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    audit(request, settings, user, 200, person_id)
    return result


@router.post("/persons/{person_id}/history/{event_id}/undo", operation_id="undo_decision", response_model=Change,
             responses={400: {}, 403: {}, 404: {}, 409: {"description": "The person changed since it was read, or "
                                                                       "what the entry changed has changed since"}})
def undo_decision(person_id: str, event_id: Annotated[str, PathParam(pattern=r"^ev-[0-9a-f-]{36}$")], body: Undo,
                  request: Request, user: Reviewer, driver: DriverDep, settings: SettingsDep) -> Change:
    """Undo one entry of the person's link history: links, review items, persons' status and duplicate
    marks go back to what they were before it, and the golden records with them."""
    check_person_id(person_id)
    _reviewer_may_change(request, driver, settings, user, person_id)
    ops = PersonOperations(driver, settings.neo4j_database)
    result = _change(request, settings, user, person_id, lambda: ops.undo(
        event_id, f"reviewer:{user.username}", body.reason, person_id=person_id, expected_version=body.version))
    return Change(event_id=result.event_id, action=result.action, persons=result.person_ids, versions=result.versions)


@router.post("/persons/{person_id}/split", operation_id="split_person", response_model=Change,
             responses={400: {}, 403: {}, 404: {}, 409: {"description": "The person changed since it was read"}})
def split_person(person_id: str, body: Split, request: Request, user: Reviewer, driver: DriverDep,
                 settings: SettingsDep) -> Change:
    """Split a person: the chosen records go to a new person (the id stays with the population registry's
    record), and the two are marked not duplicates."""
    check_person_id(person_id)
    _reviewer_may_change(request, driver, settings, user, person_id)
    ops = PersonOperations(driver, settings.neo4j_database)
    result, new_id = _change(request, settings, user, person_id, lambda: ops.split(
        person_id, body.uids, f"reviewer:{user.username}", body.reason, expected_version=body.version))
    return Change(event_id=result.event_id, action=result.action, persons=result.person_ids, versions=result.versions,
                  new_person_id=new_id)


class ClusterRecord(BaseModel):
    uid: str
    source: str | None
    name: str | None
    birth_date: str | None
    personal_id: str | None
    origin: str | None = Field(description="AUTO (the model) or MANUAL (a reviewer)")


class ClusterPair(BaseModel):
    left: str
    right: str
    probability: float
    match_weight: float


class Cluster(BaseModel):
    person_id: str
    version: int
    records: list[ClusterRecord]
    pairs: list[ClusterPair] = Field(description="Every pair of the person's records scored by the current model: "
                                                 "a chain of strong pairs holding two groups together shows here")
    model_version: str | None


CLUSTER_LIMIT = 60


@router.get("/persons/{person_id}/cluster", operation_id="read_person_cluster", response_model=Cluster,
            responses={400: {}, 403: {}, 404: {}})
def read_cluster(person_id: str, request: Request, user: Reviewer, driver: DriverDep, settings: SettingsDep) -> Cluster:
    """The person's records and the scored pairs between them (the first 60 records): the graph a reviewer
    cuts with a split."""
    check_person_id(person_id)
    _reviewer_may_change(request, driver, settings, user, person_id)
    rows = default_registry().read(driver, "persons/cluster", database=settings.neo4j_database, person_id=person_id)
    if not rows:
        audit(request, settings, user, 404, person_id)
        raise Refusal(status.HTTP_404_NOT_FOUND, "no active person {person_id}", person_id=person_id)
    records = [dict(r["record"]) for r in rows][:CLUSTER_LIMIT]
    matcher = request.app.state.matcher()
    pairs = []
    if matcher is not None and matcher.scorer.compiled is not None:
        for i, a in enumerate(records):
            for b in records[i + 1:]:
                _, total, probability, _ = matcher.scorer.explain(a, b)
                pairs.append(ClusterPair(left=a["uid"], right=b["uid"], probability=probability,
                                         match_weight=round(total, 3)))
    audit(request, settings, user, 200, person_id)
    return Cluster(person_id=person_id, version=rows[0]["version"], model_version=getattr(matcher, "version", None),
                   records=[ClusterRecord(uid=r["uid"], source=r.get("source"), name=r.get("name"),
                                          birth_date=str(plain(r["birth_date"])) if r.get("birth_date") else None,
                                          personal_id=r.get("personal_id"), origin=row["origin"])
                            for r, row in zip(records, rows, strict=False)],
                   pairs=pairs)


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
    return JSONResponse(person_bundle(profile, settings.public_url.rstrip("/")), media_type="application/fhir+json")
