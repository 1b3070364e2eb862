"""The one door to person data: who may read which person, and the audit entry of every disclosure.

Every route that returns anything about a person decides through here and audits each person it
discloses, one entry per person (a search page, a match, a work list: each person on it):
- a clinician reads the persons of their province;
- a reviewer reads the persons of their province's review items (all provinces when the account has
  none), through the review queue and matching, never a profile;
- a citizen reads themselves, their children under 18 and the children under 18 of their household;
- no other role reads a person.
A role that may not see a person gets nothing about them, not a smaller something.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from fastapi import Request, status
from neo4j import Driver

from api.audit import audit
from api.messages import Refusal
from api.security import Role, User
from api.settings import Settings
from graph import PersonNotFound, default_registry, profile_and_viewer
from linkage import valid_person_id


def check_person_id(person_id: str) -> None:
    """A 400 for anything but a well-formed person id with its check character right."""
    if not valid_person_id(person_id):
        raise Refusal(status.HTTP_400_BAD_REQUEST, "person_id: {value!r} is not a person id (HS, ten characters and a "
                      "check character, as HS2WYNSFH8JJB)", value=person_id)


def check_may_read(request: Request, settings: Settings, user: User, person_id: str, province: str | None,
                   relation: Mapping[str, Any]) -> None:
    """Refuse (audited; a 404 for a citizen, as for an unknown id, a 403 for staff) unless `user` may read
    the person `person_id` of `province`, related to them as `relation` says (the flags `self`, `parent`,
    `dependant` of persons/viewer_relation): clinicians their province, citizens themselves, their
    children under 18 and the children under 18 of their household."""
    if user.role is Role.CLINICIAN:
        allowed = user.province is not None and province == user.province
    elif user.role is Role.CITIZEN:
        allowed = bool(relation["self"] or relation["parent"] or relation["dependant"])
    else:
        allowed = False
    if not allowed:
        audit(request, settings, user, 403, person_id)
        if user.role is Role.CITIZEN:  # the same answer as for an id that does not exist: no way to probe ids
            raise Refusal(status.HTTP_404_NOT_FOUND, "no person {person_id} in your record or your children's",
                          person_id=person_id)
        raise Refusal(status.HTTP_403_FORBIDDEN, "the {role} role may not read this person", role=user.role.value)


def adult_year() -> int:
    return datetime.now(UTC).year - 18


def authorise_person(request: Request, driver: Driver, settings: Settings, user: User, person_id: str) -> str:
    """The surviving id of `person_id` if the user may read that person: 404 for an unknown id,
    403 (audited) beyond the role."""
    rows = default_registry().read(driver, "persons/viewer_relation", database=settings.neo4j_database,
                                   viewer=user.person_id or "", person_id=person_id, adult_year=adult_year())
    if not rows:
        raise Refusal(status.HTTP_404_NOT_FOUND, "no person {person_id}", person_id=person_id)
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
        raise Refusal(status.HTTP_404_NOT_FOUND, "no person {person_id}", person_id=person_id) from None
    check_may_read(request, settings, user, profile["person_id"], profile["administrative"].get("province"),
                   relation)
    audit(request, settings, user, 200, profile["person_id"])
    return profile


def related_ids(profile: Mapping[str, Any]) -> list[str]:
    """The other persons a profile names by id (household members, parents, children): showing the
    profile as it is discloses them too."""
    household = profile["household"]["members"] if profile["household"] else []
    return [p for p in dict.fromkeys([*household, *profile["parents"], *profile["children"]])
            if p != profile["person_id"]]


def refuse_citizens(request: Request, settings: Settings, user: User, person_id: str, what: str) -> None:
    """A 403 (audited) for a citizen asking for `what`, which is staff's work (it names other people)."""
    if user.role is Role.CITIZEN:
        audit(request, settings, user, 403, person_id)
        raise Refusal(status.HTTP_403_FORBIDDEN, "the citizen role may not read {what}", what=what)


def readable_among(driver: Driver, settings: Settings, user: User, person_ids: Iterable[str]) -> list[str]:
    """The ids of `person_ids`, in order, that a staff user may learn of from a match: those of the
    clinician's or reviewer's province (a reviewer without a province: all); none for other roles."""
    ids = list(dict.fromkeys(person_ids))
    if user.role is Role.REVIEWER and user.province is None:
        return ids
    if user.role not in (Role.CLINICIAN, Role.REVIEWER) or user.province is None or not ids:
        return []
    rows = default_registry().read(driver, "persons/provinces", database=settings.neo4j_database, ids=ids)
    province = {row["person_id"]: row["province"] for row in rows}
    return [person for person in ids if province.get(person) == user.province]


def audit_disclosures(request: Request, settings: Settings, user: User, person_ids: Iterable[str]) -> None:
    """One audit entry for each person disclosed by this request (one with none when it disclosed none)."""
    ids = list(dict.fromkeys(person_ids))
    for person in ids:
        audit(request, settings, user, 200, person)
    if not ids:
        audit(request, settings, user, 200)
