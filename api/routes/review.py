"""The review workflow: the queue, one item field by field with the weight of each field, a decision."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from neo4j import Driver
from pydantic import BaseModel, Field

from api.access import audit_disclosures
from api.audit import audit
from api.deps import DriverDep, SettingsDep, require
from api.security import Role, User
from api.settings import Settings
from graph import ConflictError, OperationError, PersonOperations, default_registry, plain
from linkage import one_keystroke_apart

router = APIRouter(prefix="/review", tags=["review"])
FIELDS = {"personal_id": "personal_id", "cmnd": "cmnd", "bhxh": "bhxh", "family_name": "name",
          "middle_name": "name", "given_name": "name", "birth": "birth_date", "sex": "sex", "phone": "phone",
          "address": "commune", "household_code": "household_code"}
ID_COMPARISONS = ("personal_id", "cmnd", "bhxh")


def item_id(kind: str, left: str, right: str) -> str:
    prefix = "pm" if kind == "possible_match" else "pd"
    return prefix + "~" + base64.urlsafe_b64encode(f"{left}\n{right}".encode()).decode().rstrip("=")


def parse_item_id(value: str) -> tuple[str, str, str]:
    try:
        prefix, encoded = value.split("~", 1)
        left, right = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode().split("\n")
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"{value!r} is not a review item id") from exc
    if prefix not in ("pm", "pd"):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"{value!r} is not a review item id")
    return ("possible_match" if prefix == "pm" else "possible_duplicate"), left, right


Reviewer = Annotated[User, require(Role.REVIEWER, may_not="review links")]


class QueueItem(BaseModel):
    id: str
    kind: Literal["possible_match", "possible_duplicate"]
    probability: float | None
    since: str | None


class Queue(BaseModel):
    data: list[QueueItem]
    count: int


class FieldComparison(BaseModel):
    """One comparison of the model: the field shown, both sides' values and the weight it gave."""

    comparison: str
    field: str
    left: Any
    right: Any
    weight: float | None
    near: bool = Field(default=False, description="Two ids one keystroke apart (a substituted digit, two adjacent "
                                                  "digits swapped): a likely typo, not two people")


class Item(BaseModel):
    """An open review item: a record against a person (`record`, `person`) or two persons (`left`,
    `right`), with the evidence and the version a decision must quote."""

    id: str
    kind: Literal["possible_match", "possible_duplicate"]
    record: dict[str, Any] | None = None
    person: dict[str, Any] | None = None
    left: dict[str, Any] | None = None
    right: dict[str, Any] | None = None
    probability: float | None
    match_weight: float | None = None
    fields: list[FieldComparison]
    version: str


class DecisionResult(BaseModel):
    event_id: str
    action: str
    persons: list[str]
    versions: dict[str, int]


@router.get("/queue", operation_id="review_queue", response_model=Queue, responses={403: {}})
def review_queue(request: Request, user: Reviewer, driver: DriverDep, settings: SettingsDep,
                 province: Annotated[str | None, Query(pattern=r"^\d{2}$")] = None,
                 source: Annotated[str | None, Query(pattern=r"^[a-z0-9]{2,20}$")] = None,
                 skip: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
                 limit: Annotated[int, Query(ge=1, le=200)] = 50) -> Queue:
    """Open items with the backlog count, most uncertain first, then oldest; a reviewer of a province sees
    that province's items only."""
    if user.province is not None and province not in (None, user.province):
        audit(request, settings, user, 403)
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this province is outside your own")
    province = user.province or province
    row = default_registry().read(driver, "review/queue", database=settings.neo4j_database, province=province,
                                  source=source, skip=skip, limit=limit)[0]
    items = [QueueItem(id=item_id(i["kind"], i["left"], i["right"]), kind=i["kind"], probability=i["probability"],
                       since=i["since"]) for i in row["data"]]
    return Queue(data=items, count=row["count"])


def _comparison(left: dict[str, Any], right: dict[str, Any], weights: dict[str, float]) -> list[dict[str, Any]]:
    out = []
    for comparison, field in FIELDS.items():
        a, b = left.get(field), right.get(field)
        near = comparison in ID_COMPARISONS and isinstance(a, str) and isinstance(b, str) and one_keystroke_apart(a, b)
        out.append({"comparison": comparison, "field": field, "left": a, "right": b,
                    "weight": weights.get(comparison), "near": near})
    return out


def _open_item(request: Request, driver: Driver, settings: Settings, user: User, kind: str, left: str,
               right: str) -> Any:
    """The open review item `kind` between `left` and `right`, within the reviewer's province (when the
    account has one); anything else, a forged or decided item included, is a 404 that is audited."""
    queries = default_registry()
    if kind == "possible_match":
        rows = queries.read(driver, "review/possible_match", database=settings.neo4j_database, uid=left,
                            person_id=right)
        sides = ("record", "person")
    else:
        rows = queries.read(driver, "review/possible_duplicate", database=settings.neo4j_database, a=left, b=right)
        sides = ("left", "right")
    provinces = {rows[0][side].get("province") for side in sides} if rows else set()
    if not rows or (user.province is not None and user.province not in provinces):
        audit(request, settings, user, 404)
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such open review item (decided already?)")
    return rows[0]


@router.get("/items/{item}", operation_id="review_item", response_model=Item, responses={400: {}, 403: {}, 404: {}})
def review_item(item: str, request: Request, user: Reviewer, driver: DriverDep,
                settings: SettingsDep) -> dict[str, Any]:
    """Both sides field by field with the weight of each field, and the version to decide on."""
    kind, left, right = parse_item_id(item)
    row = _open_item(request, driver, settings, user, kind, left, right)
    weights = json.loads(row["weights"] or "{}")
    if kind == "possible_match":
        audit(request, settings, user, 200, right)
        return {"id": item, "kind": kind, "record": plain(dict(row["record"])), "person": plain(dict(row["person"])),
                "probability": row["probability"], "match_weight": row["match_weight"],
                "fields": _comparison(dict(row["record"]), dict(row["person"]), weights),
                "version": str(row["version"])}
    audit_disclosures(request, settings, user, [left, right])
    return {"id": item, "kind": kind, "left": plain(dict(row["left"])), "right": plain(dict(row["right"])),
            "probability": row["probability"], "fields": _comparison(dict(row["left"]), dict(row["right"]), weights),
            "version": f"{row['left_version']}.{row['right_version']}"}


class Decision(BaseModel):
    decision: Literal["MATCH", "NO_MATCH", "MERGE", "NOT_DUPLICATE"]
    note: str = Field(default="", max_length=2000)
    version: str = Field(pattern=r"^\d+(\.\d+)?$", description="The item's version as read")


@router.post("/items/{item}/decision", operation_id="decide_review_item", response_model=DecisionResult,
             responses={400: {}, 403: {}, 404: {}, 409: {"description": "The item changed since it was read"}})
def decide(item: str, body: Decision, request: Request, user: Reviewer, driver: DriverDep,
           settings: SettingsDep) -> dict[str, Any]:
    """MATCH or NO_MATCH for a record; MERGE or NOT_DUPLICATE for two persons, on an open item only (404
    otherwise). A stale version is a 409."""
    kind, left, right = parse_item_id(item)
    _open_item(request, driver, settings, user, kind, left, right)
    ops = PersonOperations(driver, settings.neo4j_database)
    actor = f"reviewer:{user.username}"
    try:
        if kind == "possible_match":
            if body.decision not in ("MATCH", "NO_MATCH"):
                raise HTTPException(status.HTTP_400_BAD_REQUEST, "a record is decided with MATCH or NO_MATCH")
            result = ops.link(left, right, actor, body.note, state=body.decision,
                              expected_version=int(body.version.split(".")[0]))
            person = right
        else:
            if body.decision not in ("MERGE", "NOT_DUPLICATE"):
                raise HTTPException(status.HTTP_400_BAD_REQUEST, "two persons are decided with MERGE or NOT_DUPLICATE")
            versions = body.version.split(".")
            if len(versions) != 2:
                raise HTTPException(status.HTTP_400_BAD_REQUEST, "a duplicate item's version has two parts")
            expected = {left: int(versions[0]), right: int(versions[1])}
            if body.decision == "MERGE":
                result = ops.merge(left, right, actor, body.note, expected)
            else:
                result = ops.not_duplicate(left, right, actor, body.note, expected)
            person = left
    except ConflictError as exc:
        audit(request, settings, user, 409, right)
        raise HTTPException(status.HTTP_409_CONFLICT, f"{exc}: reload the item and decide again") from exc
    except OperationError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    audit(request, settings, user, 200, person)
    return {"event_id": result.event_id, "action": result.action, "persons": result.person_ids,
            "versions": result.versions}
