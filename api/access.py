"""The one door to person data: who may read which person, and the audit entry of every disclosure.

Every route that returns anything about a person decides through here and audits each person it
discloses, one entry per person (a search page, a match, a work list: each person on it):
- a clinician reads the persons of their province, and a person of another province who consented at
  the point of care (a grant to that clinician, for a day); in an emergency any clinician reads the
  emergency summary by breaking the glass (`api.routes.care`), never the whole record; what the person
  closed (a visit, a diagnosis group, the whole record) a clinician sees only from the facility that
  wrote it (`closed_view`);
- a reviewer reads the persons of their province's review items (all provinces when the account has
  none), through the review queue and matching, never a profile;
- a citizen reads themselves, their children under 18 and the children under 18 of their household, and
  a record its person let them read for a period (a relative's grant), closures honoured;
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
        allowed = (user.province is not None and province == user.province) or _granted(request, settings, user,
                                                                                       person_id)
    elif user.role is Role.CITIZEN:  # or a relative the person let in for a period
        allowed = bool(relation["self"] or relation["parent"] or relation["dependant"]) or _granted(
            request, settings, user, person_id)
    else:
        allowed = False
    if not allowed:
        audit(request, settings, user, 403, person_id)
        if user.role is Role.CITIZEN:  # the same answer as for an id that does not exist: no way to probe ids
            raise Refusal(status.HTTP_404_NOT_FOUND, "no person {person_id} in your record or your children's",
                          person_id=person_id)
        raise Refusal(status.HTTP_403_FORBIDDEN, "the {role} role may not read this person", role=user.role.value)


def _granted(request: Request, settings: Settings, user: User, person_id: str) -> bool:
    """Whether the person consented, at the point of care, to this clinician reading their record (a grant
    that has not expired)."""
    return bool(default_registry().read(request.app.state.driver, "portal/active_grant",
                                        database=settings.neo4j_database, username=user.username,
                                        person_id=person_id))


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
    own = user.role is Role.CITIZEN and (relation["self"] or relation["parent"] or relation["dependant"])
    if not own:  # the person's closures, for a clinician and a relative let in; the person sees everything
        profile = closed_view(profile, closures_of(driver, settings, profile["person_id"]),
                              user.facility if user.role is Role.CLINICIAN else None)
    audit(request, settings, user, 200, profile["person_id"])
    return profile


# Diagnosis groups a citizen may close, by ICD-10 prefix: mental and behavioural disorders (chapter V),
# HIV disease and asymptomatic HIV infection, and reproductive health (pregnancy and childbirth, disorders
# of the female genital organs N70-N98, contraception and pregnancy care Z30-Z39).
CLOSABLE_GROUPS: dict[str, tuple[str, ...]] = {
    "mental_health": ("F",),
    "hiv": ("B20", "B21", "B22", "B23", "B24", "Z21"),
    "reproductive_health": ("O", "N7", "N8", "N9", "Z3"),
}


def _in_groups(code: str | None, groups: set[str]) -> bool:
    return bool(code) and any(str(code).startswith(CLOSABLE_GROUPS[g]) for g in groups if g in CLOSABLE_GROUPS)


def closed_view(profile: dict[str, Any], closures: Iterable[Mapping[str, Any]], facility: str | None,
                emergency: bool = False) -> dict[str, Any]:
    """`profile` as a clinician of `facility` may see it under the person's closures: a closed visit, a
    visit or history item of a closed diagnosis group, and (the whole record closed) every visit, dose,
    history item and reading are left out, except those the clinician's own facility wrote (visits and
    doses name their facility). `closed_items` says how many were left out. In an emergency the whole
    record's closure gives way (the summary is what keeps a person alive) but groups stay closed."""
    closures = list(closures)
    if not closures:
        return profile
    whole = not emergency and any(c["scope"] == "record" for c in closures)
    visits = {c["target"] for c in closures if c["scope"] == "visit"}
    groups = {c["target"] for c in closures if c["scope"] == "group"}

    def visit_closed(visit: Mapping[str, Any]) -> bool:
        if facility is not None and visit.get("facility") == facility:
            return False
        return whole or visit.get("encounter_id") in visits or any(
            _in_groups(d.get("icd10"), groups) for d in visit.get("diagnoses") or [])

    kept = dict(profile)
    kept["visits"] = [v for v in profile["visits"] if not visit_closed(v)]
    kept["history"] = [] if whole else [h for h in profile["history"] if not _in_groups(h.get("icd10"), groups)]
    kept["immunizations"] = [i for i in profile["immunizations"]
                             if not whole or (facility is not None and i.get("facility") == facility)]
    kept["observations"] = [] if whole else profile["observations"]
    kept["closed_items"] = sum(len(profile[k]) - len(kept[k])
                               for k in ("visits", "history", "immunizations", "observations"))
    return kept


def closures_of(driver: Driver, settings: Settings, person_id: str) -> list[dict[str, Any]]:
    return [dict(r["closure"]) for r in default_registry().read(driver, "portal/closures",
                                                                database=settings.neo4j_database,
                                                                person_id=person_id)]


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
