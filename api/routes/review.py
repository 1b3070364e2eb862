"""The reviewers' desk: the queue, one item (the exact pair scored, level by level, then its context), a
decision, and the conflicts that stop the hand.

A review item is a server-side object: linking gives every open POSSIBLE_MATCH link and possible-duplicate
mark an id (`pm-…`, `pd-…`), a decision closes it, and a decision on any other id is a 404. An item whose
two sides carry different valid personal ids or insurance numbers, different sexes or birth years far
apart (`linkage.mpi.conflicts`) is flagged; a MATCH or MERGE across a flag needs `override` with a written
reason, and, when `HOSO_REVIEW_SECOND_REVIEWER` is on, the same override from a second reviewer.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse
from neo4j import Driver
from pydantic import BaseModel, Field

from api.access import audit_disclosures
from api.audit import audit
from api.deps import DriverDep, SettingsDep, require
from api.messages import Refusal
from api.security import Role, User
from api.settings import Settings
from graph import ConflictError, OperationError, PersonOperations, default_registry, plain
from linkage import (
    CodeList,
    conflicts,
    conflicts_among,
    level_key,
    load_admin_units,
    one_keystroke_apart,
    split_name,
)

router = APIRouter(prefix="/review", tags=["review"])
ITEM_ID = re.compile(r"^p[md]-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ItemKind = Literal["possible_match", "possible_duplicate"]
KINDS: dict[str, ItemKind] = {"pm": "possible_match", "pd": "possible_duplicate"}
# What each comparison of the model is shown with: the field of each side.
SHOWN = {"personal_id": "personal_id", "cmnd": "cmnd", "bhxh": "bhxh", "other_id": "other_id",
         "family_name": "family", "middle_name": "middle", "given_name": "given", "birth": "birth_date",
         "sex": "sex", "phone": "phone", "address": "commune", "house": "address_text",
         "household_code": "household_code"}
ID_COMPARISONS = ("personal_id", "cmnd", "bhxh")
MIN_OVERRIDE_REASON = 20
SORTS = ("uncertain", "probability", "age", "province", "conflicts")

Reviewer = Annotated[User, require(Role.REVIEWER, may_not="review links")]


def item_kind(item: str) -> ItemKind:
    """The kind of a well-formed item id; a 400 for anything else."""
    if not ITEM_ID.match(item):
        raise Refusal(status.HTTP_400_BAD_REQUEST, "item: {value!r} is not a review item id (pm- or pd- and a UUID, "
                      "as the queue gives them)", value=item[:60])
    return KINDS[item[:2]]


# -- the queue -------------------------------------------------------------------------------------
class Side(BaseModel):
    """What the queue shows of one side: a record (uid, source) or a person (person_id, sources)."""

    uid: str | None = None
    person_id: str | None = None
    name: str | None = None
    birth_year: int | None = None
    province: str | None = None
    sources: list[str] = Field(default_factory=list)


class QueueItem(BaseModel):
    id: str
    kind: Literal["possible_match", "possible_duplicate"]
    probability: float | None
    since: str | None
    age_days: int | None = Field(description="Days the item has waited")
    left: Side
    right: Side
    province: str | None = Field(description="The person's province (of the first person, for two persons)")
    conflicts: list[str] = Field(description="personal_id, bhxh, sex, birth: the sides cannot be one person "
                                             "without an override")
    linked_to: str | None = Field(default=None, description="The person the record belongs to now")
    awaiting_second_reviewer: bool = False


class Backlog(BaseModel):
    total: int
    by_province: dict[str, int]
    by_source: dict[str, int]
    by_kind: dict[str, int]


class Queue(BaseModel):
    data: list[QueueItem]
    count: int = Field(description="Items that pass the filters")
    backlog: Backlog = Field(description="Every open item the reviewer may see, counted by province, source, kind")


def _age_days(since: str | None, now: datetime) -> int | None:
    if not since:
        return None
    try:
        return max(0, (now - datetime.fromisoformat(since)).days)
    except ValueError:
        return None


def _queue_item(row: Mapping[str, Any], now: datetime) -> QueueItem:
    left, right = dict(row["left"]), dict(row["right"])
    found = conflicts(left, right)
    sides = []
    for side in (left, right):
        sources = [side["source"]] if side.get("source") else list(side.get("sources") or [])
        sides.append(Side(uid=side.get("uid"), person_id=side.get("person_id"), name=side.get("name"),
                          birth_year=side.get("birth_year"), province=side.get("province"), sources=sources))
    province = right.get("province") if row["kind"] == "possible_match" else left.get("province")
    return QueueItem(id=row["id"], kind=row["kind"], probability=row["probability"], since=row["since"],
                     age_days=_age_days(row["since"], now), left=sides[0], right=sides[1],
                     province=province or left.get("province"), conflicts=found, linked_to=row["linked_to"],
                     awaiting_second_reviewer=row["override_by"] is not None)


def _sort_key(sort: str) -> Any:
    if sort == "probability":
        return lambda i: (i.probability if i.probability is not None else -1.0, i.id)
    if sort == "age":
        return lambda i: (i.age_days if i.age_days is not None else -1, i.id)
    if sort == "province":
        return lambda i: (i.province or "", i.id)
    if sort == "conflicts":
        return lambda i: (len(i.conflicts), i.id)
    return lambda i: (abs((i.probability if i.probability is not None else 0.5) - 0.5), i.since or "", i.id)


@router.get("/queue", operation_id="review_queue", response_model=Queue, responses={403: {}})
def review_queue(request: Request, user: Reviewer, driver: DriverDep, settings: SettingsDep,
                 province: Annotated[str | None, Query(pattern=r"^\d{2}$")] = None,
                 source: Annotated[str | None, Query(pattern=r"^[a-z0-9]{2,20}$")] = None,
                 kind: Literal["possible_match", "possible_duplicate"] | None = None,
                 conflict: Annotated[bool | None, Query(description="Only items with (true) or without (false) "
                                                                    "conflicts")] = None,
                 sort: Annotated[Literal["uncertain", "probability", "age", "province", "conflicts"],
                                 Query(description="uncertain: nearest 0.5 first")] = "uncertain",
                 order: Literal["asc", "desc"] = "asc",
                 skip: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
                 limit: Annotated[int, Query(ge=1, le=200)] = 50) -> Queue:
    """Open items, each with its kind, both sides (names, birth years, sources), province, probability,
    age and conflict flags; filtered and sorted by each; with the backlog by province, source and kind.
    A reviewer of a province sees that province's items only."""
    if user.province is not None and province not in (None, user.province):
        audit(request, settings, user, 403)
        raise Refusal(status.HTTP_403_FORBIDDEN, "this province is outside your own")
    rows = default_registry().read(driver, "review/queue", database=settings.neo4j_database,
                                   province=user.province or province)
    now = datetime.now(UTC)
    items = [_queue_item(row, now) for row in rows]
    backlog = Backlog(total=len(items), by_province=dict(Counter(i.province or "–" for i in items)),
                      by_source=dict(Counter(s for i in items
                                             for s in dict.fromkeys(i.left.sources + i.right.sources))),
                      by_kind=dict(Counter(i.kind for i in items)))
    chosen = [i for i in items
              if (source is None or source in i.left.sources or source in i.right.sources)
              and (kind is None or i.kind == kind)
              and (conflict is None or bool(i.conflicts) is conflict)]
    chosen.sort(key=_sort_key(sort), reverse=order == "desc")
    page = chosen[skip:skip + limit]
    audit_disclosures(request, settings, user, [p for i in page
                                                for p in (i.left.person_id, i.right.person_id, i.linked_to) if p])
    return Queue(data=page, count=len(chosen), backlog=backlog)


# -- one item --------------------------------------------------------------------------------------
class Unit(BaseModel):
    code: str
    name: str | None = None
    former: list[str] = Field(default_factory=list, description="Names of the pre-2025 communes it took in")


class Shown(BaseModel):
    """One side of the pair, as a reviewer reads it: names as family / middle / given, the address with
    the unit names of both code lists."""

    uid: str | None = None
    person_id: str | None = None
    source: str | None = None
    sources: list[str] = Field(default_factory=list)
    name: str | None = None
    family: str | None = None
    middle: str | None = None
    given: str | None = None
    birth_date: str | None = None
    birth_year: int | None = None
    sex: str | None = None
    personal_id: str | None = None
    cmnd: str | None = None
    bhxh: str | None = None
    other_id: str | None = None
    phone: str | None = None
    household_code: str | None = None
    address_text: str | None = None
    commune: Unit | None = None
    province: Unit | None = None
    value_sources: dict[str, str] = Field(default_factory=dict, description="A golden record: the record each "
                                                                            "value came from")


class FieldComparison(BaseModel):
    """One comparison of the model on the pair: both sides' values, the level it selected (Splink's
    label and a short key: exact, similar, one_keystroke, day_month_swapped, missing, different…) and
    its weight."""

    comparison: str
    field: str
    left: Any
    right: Any
    level: str | None = None
    level_key: str | None = None
    weight: float | None
    near: bool = Field(default=False, description="Two ids one keystroke apart (a substituted digit, two adjacent "
                                                  "digits swapped): a likely typo, not two people")


class Pair(BaseModel):
    """The two records scored, and the waterfall from the prior to the match weight."""

    left: Shown
    right: Shown
    prior: float | None
    match_weight: float | None
    probability: float | None
    model_version: str | None


class Item(BaseModel):
    """An open review item: the exact pair scored field by field (`pair`, `fields`), then the context: the
    record and the person (`record`, `person`, the person's `records`) or two persons (`left`, `right`,
    `left_records`, `right_records`), the conflicts, and the version a decision must quote."""

    id: str
    kind: Literal["possible_match", "possible_duplicate"]
    probability: float | None
    match_weight: float | None = None
    since: str | None = None
    conflicts: list[str]
    pair: Pair | None
    fields: list[FieldComparison]
    record: Shown | None = None
    person: Shown | None = None
    records: list[Shown] = Field(default_factory=list)
    linked_to: str | None = Field(default=None, description="The person the record belongs to now")
    left: Shown | None = None
    right: Shown | None = None
    left_records: list[Shown] = Field(default_factory=list)
    right_records: list[Shown] = Field(default_factory=list)
    override_by: str | None = Field(default=None, description="The reviewer whose override awaits a second one")
    override_reason: str | None = None
    version: str


def _unit(code: Any, level: str) -> Unit | None:
    if not isinstance(code, str) or not code:
        return None
    units = load_admin_units()
    unit = units.get(CodeList.POST_2025, level, code)
    former = []
    if level == "commune":
        former = [u.name for old, news in units.old_to_new.items() if news and news[0] == code
                  and (u := units.commune(old, CodeList.PRE_2025))][:6]
    return Unit(code=code, name=unit.name if unit else None, former=former)


def _shown(side: Mapping[str, Any]) -> Shown:
    family, middle, given = (split_name(side["name"]) if isinstance(side.get("name"), str)
                             and not side.get("placeholder_name") else (None, None, None))  # "Con Nguyễn Thị A"
    birth = side.get("birth_date")
    value_sources = {k.removesuffix("_source"): v for k, v in side.items()
                     if k.endswith("_source") and isinstance(v, str)}
    text = {k: v if isinstance(v, str) else None for k, v in side.items()}
    return Shown(uid=text.get("uid"), person_id=text.get("person_id"), source=text.get("source"),
                 sources=list(side.get("sources") or []), name=text.get("name"), family=family, middle=middle,
                 given=given, birth_date=str(plain(birth)) if birth is not None else None,
                 birth_year=side.get("birth_year"), sex=text.get("sex"), personal_id=text.get("personal_id"),
                 cmnd=text.get("cmnd"), bhxh=text.get("bhxh"), other_id=text.get("other_id"), phone=text.get("phone"),
                 household_code=text.get("household_code"), address_text=text.get("address_text"),
                 commune=_unit(side.get("commune"), "commune"),
                 province=_unit(side.get("province"), "province"), value_sources=value_sources)


def _value(shown: Shown, field: str) -> Any:
    if field == "commune":
        return shown.commune.name or shown.commune.code if shown.commune else (
            shown.province.name if shown.province else None)
    if field == "birth_date":
        return shown.birth_date or shown.birth_year
    return getattr(shown, field)


def _scorer(request: Request) -> Any:
    matcher = request.app.state.matcher()
    return None if matcher is None else matcher.scorer


def _best_pair(request: Request, lefts: list[dict[str, Any]], rights: list[dict[str, Any]],
               prefer: str | None) -> tuple[dict[str, Any], dict[str, Any], Any] | None:
    """The pair of records (one of `lefts`, one of `rights`) with the highest match weight under the
    current model, the stored partner `prefer` first; with its explanation."""
    scorer = _scorer(request)
    if scorer is None or scorer.compiled is None or not lefts or not rights:
        return None
    if prefer is not None and (chosen := [r for r in rights if r.get("uid") == prefer]):
        rights = chosen
    best = None
    for a in lefts[:50]:
        for b in rights[:50]:
            explained = scorer.explain(a, b)
            if best is None or explained[1] > best[2][1]:
                best = (a, b, explained)
    return best


def _fields(pair: tuple[dict[str, Any], dict[str, Any], Any] | None, left: Shown, right: Shown,
            stored: Mapping[str, float]) -> tuple[Pair | None, list[FieldComparison]]:
    """The pair's comparisons field by field (the model's levels and weights), or, with no model to
    explain it, both sides' values beside the weights stored on the item."""
    if pair is None:
        out = []
        for comparison, field in SHOWN.items():
            a, b = _value(left, field), _value(right, field)
            out.append(FieldComparison(comparison=comparison, field=field, left=a, right=b,
                                       weight=stored.get(comparison), near=_near(comparison, a, b)))
        return None, out
    a_raw, b_raw, (prior, total, probability, steps) = pair
    a, b = _shown(a_raw), _shown(b_raw)
    out = []
    for comparison, label, weight in steps:
        field = SHOWN.get(comparison, comparison)
        va, vb = _value(a, field), _value(b, field)
        out.append(FieldComparison(comparison=comparison, field=field, left=va, right=vb, level=label,
                                   level_key=level_key(label), weight=round(weight, 3), near=_near(comparison, va, vb)))
    return Pair(left=a, right=b, prior=round(prior, 3), match_weight=round(total, 3), probability=probability,
                model_version=None), out


def _near(comparison: str, a: Any, b: Any) -> bool:
    return comparison in ID_COMPARISONS and isinstance(a, str) and isinstance(b, str) and one_keystroke_apart(a, b)


def _refuse(request: Request, settings: Settings, user: User, item: str) -> Refusal:
    audit(request, settings, user, 404)
    return Refusal(status.HTTP_404_NOT_FOUND, "no open review item {item} (decided already?)", item=item)


def _open_item(request: Request, driver: Driver, settings: Settings, user: User, item: str
               ) -> tuple[ItemKind, Any]:
    """The open item `item`, within the reviewer's province (when the account has one); anything else, a
    forged or decided item included, is a 404 that is audited."""
    kind = item_kind(item)
    name = "review/possible_match" if kind == "possible_match" else "review/possible_duplicate"
    rows = default_registry().read(driver, name, database=settings.neo4j_database, item_id=item)
    if not rows:
        raise _refuse(request, settings, user, item)
    row = rows[0]
    sides = ("record", "person") if kind == "possible_match" else ("left", "right")
    if user.province is not None and user.province not in {row[side].get("province") for side in sides}:
        raise _refuse(request, settings, user, item)
    return kind, row


def _item_conflicts(kind: str, row: Any) -> list[str]:
    if kind == "possible_match":
        return conflicts_among(dict(row["record"]), [dict(row["person"]), *[dict(r) for r in row["records"]]])
    return conflicts(dict(row["left"]), dict(row["right"]))


@router.get("/items/{item}", operation_id="review_item", response_model=Item, responses={400: {}, 403: {}, 404: {}})
def review_item(item: str, request: Request, user: Reviewer, driver: DriverDep, settings: SettingsDep) -> Item:
    """The exact pair scored, field by field with each level and weight; the conflicts; the context (the
    person's golden record with its sources and its other records); the version to decide on."""
    kind, row = _open_item(request, driver, settings, user, item)
    stored = json.loads(row["weights"] or "{}")
    found = _item_conflicts(kind, row)
    override = {"override_by": row["override_by"], "override_reason": row["override_reason"]}
    scorer_version = getattr(request.app.state.matcher(), "version", None)
    if kind == "possible_match":
        record, person = dict(row["record"]), dict(row["person"])
        records = [dict(r) for r in row["records"]]
        pair = _best_pair(request, [record], records, row["pair_uid"])
        shown_pair, fields = _fields(pair, _shown(record), _shown(person), stored)
        if shown_pair is not None:
            shown_pair.model_version = scorer_version
        audit_disclosures(request, settings, user, [p for p in (person["person_id"], row["linked_to"]) if p])
        return Item(id=item, kind=kind, probability=row["probability"], match_weight=row["match_weight"],
                    since=row["since"], conflicts=found, pair=shown_pair, fields=fields, record=_shown(record),
                    person=_shown(person), records=[_shown(r) for r in records], linked_to=row["linked_to"],
                    version=str(row["version"]), **override)
    left, right = dict(row["left"]), dict(row["right"])
    lefts, rights = [dict(r) for r in row["left_records"]], [dict(r) for r in row["right_records"]]
    pair = _best_pair(request, lefts, rights, None)
    shown_pair, fields = _fields(pair, _shown(left), _shown(right), stored)
    if shown_pair is not None:
        shown_pair.model_version = scorer_version
    audit_disclosures(request, settings, user, [left["person_id"], right["person_id"]])
    return Item(id=item, kind=kind, probability=row["probability"], since=row["since"], conflicts=found,
                pair=shown_pair, fields=fields, left=_shown(left), right=_shown(right),
                left_records=[_shown(r) for r in lefts], right_records=[_shown(r) for r in rights],
                version=f"{row['left_version']}.{row['right_version']}", **override)


# -- a decision ------------------------------------------------------------------------------------
class Decision(BaseModel):
    decision: Literal["MATCH", "NO_MATCH", "MERGE", "NOT_DUPLICATE"]
    note: str = Field(default="", max_length=2000)
    version: str = Field(pattern=r"^\d+(\.\d+)?$", description="The item's version as read")
    override: bool = Field(default=False, description="MATCH or MERGE across the item's conflicts (needs a "
                                                      f"reason of {MIN_OVERRIDE_REASON} characters or more)")


class DecisionResult(BaseModel):
    event_id: str | None = None
    action: str
    item: str
    persons: list[str]
    versions: dict[str, int]
    undo: str | None = Field(default=None, description="POST here (with the person's version) to undo the decision")


def _check_override(request: Request, driver: Driver, settings: Settings, user: User, item: str, body: Decision,
                    found: list[str], row: Any) -> bool:
    """Whether the decision may go ahead now; False when it is an override waiting for a second reviewer
    (recorded on the item). A MATCH or MERGE across conflicts without an override is a 409."""
    if body.decision not in ("MATCH", "MERGE") or not found:
        return True
    if not body.override:
        audit(request, settings, user, 409)
        raise Refusal(status.HTTP_409_CONFLICT, "this item has conflicts ({conflicts}): a MATCH or MERGE across them "
                      "needs override=true and a written reason", conflicts=", ".join(found))
    if len(body.note.strip()) < MIN_OVERRIDE_REASON:
        raise Refusal(status.HTTP_400_BAD_REQUEST, "note: an override needs a written reason of {length} characters "
                      "or more", length=MIN_OVERRIDE_REASON)
    if not settings.review_second_reviewer:
        return True
    actor = f"reviewer:{user.username}"
    if row["override_by"] is None:
        default_registry().write(driver, "review/request_override",
                                 database=settings.neo4j_database, item_id=item, actor=actor, reason=body.note)
        return False
    if row["override_by"] == actor:
        raise Refusal(status.HTTP_409_CONFLICT, "a second reviewer must confirm your override")
    return True


@router.post("/items/{item}/decision", operation_id="decide_review_item", response_model=DecisionResult,
             responses={202: {"description": "An override waits for a second reviewer"}, 400: {}, 403: {}, 404: {},
                        409: {"description": "The item changed since it was read, or it has conflicts and no "
                                             "override"}})
def decide(item: str, body: Decision, request: Request, user: Reviewer, driver: DriverDep,
           settings: SettingsDep) -> Any:
    """MATCH or NO_MATCH for a record; MERGE or NOT_DUPLICATE for two persons, on an open item only (404
    otherwise). A stale version is a 409; so is a MATCH or MERGE across conflicts without an override."""
    kind, row = _open_item(request, driver, settings, user, item)
    if kind == "possible_match" and body.decision not in ("MATCH", "NO_MATCH"):
        raise Refusal(status.HTTP_400_BAD_REQUEST, "a record is decided with MATCH or NO_MATCH")
    if kind == "possible_duplicate" and body.decision not in ("MERGE", "NOT_DUPLICATE"):
        raise Refusal(status.HTTP_400_BAD_REQUEST, "two persons are decided with MERGE or NOT_DUPLICATE")
    versions = [int(v) for v in body.version.split(".")]
    if kind == "possible_duplicate" and len(versions) != 2:
        raise Refusal(status.HTTP_400_BAD_REQUEST, "version: a duplicate item's version has two parts")
    person = row["person"]["person_id"] if kind == "possible_match" else row["left"]["person_id"]
    current = [row["version"]] if kind == "possible_match" else [row["left_version"], row["right_version"]]
    if versions != current:  # checked again under the lock by the operation
        audit(request, settings, user, 409, person)
        raise Refusal(status.HTTP_409_CONFLICT, "the item changed since you read it: reload it and decide again")
    found = _item_conflicts(kind, row)
    if not _check_override(request, driver, settings, user, item, body, found, row):
        audit(request, settings, user, 202, person)
        return JSONResponse(status_code=status.HTTP_202_ACCEPTED, content=DecisionResult(
            action="override_requested", item=item, persons=[person], versions={}).model_dump())
    ops = PersonOperations(driver, settings.neo4j_database)
    actor = f"reviewer:{user.username}"
    note = body.note if not (body.override and found) else f"override of {', '.join(found)}: {body.note}"
    try:
        if kind == "possible_match":
            result = ops.link(row["record"]["uid"], person, actor, note, state=body.decision,
                              expected_version=versions[0])
        else:
            right = row["right"]["person_id"]
            expected = {person: versions[0], right: versions[1]}
            if body.decision == "MERGE":
                result = ops.merge(person, right, actor, note, expected, item_id=item)
            else:
                result = ops.not_duplicate(person, right, actor, note, expected, item_id=item)
    except ConflictError as exc:
        audit(request, settings, user, 409, person)
        raise Refusal(status.HTTP_409_CONFLICT, "{reason}: reload the item and decide again", reason=exc) from exc
    except OperationError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    audit(request, settings, user, 200, person)
    return DecisionResult(event_id=result.event_id, action=result.action, item=item, persons=result.person_ids,
                          versions=result.versions, undo=f"/persons/{person}/history/{result.event_id}/undo")
