"""Reviewers' operations on persons: link or unlink a record, merge, split, mark not-duplicate.

Each operation is one write transaction that first takes the write lock of every person it touches
(in id order), then checks the versions the caller saw: of two concurrent changes to one person, one
is applied and the other is refused with `ConflictError`, never lost. Each writes an entry to the
link history (who, when, what, why, before, after) and leaves at most one MATCH per record; golden
records of the persons touched are recomputed afterwards.

    ops = PersonOperations(driver)
    ops.merge("HS...A", "HS...B", actor="reviewer:lan", reason="same person, two CCCD typos")
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from neo4j import Driver, ManagedTransaction

from graph.errors import ConflictError, OperationError
from graph.persons import refresh_persons
from graph.queries import default_registry
from linkage import new_person_id


@dataclass(frozen=True)
class OperationResult:
    event_id: str
    action: str
    person_ids: list[str]
    versions: dict[str, int]


class PersonOperations:
    """The operations, each atomic and recorded in the link history."""

    def __init__(self, driver: Driver, database: str = "neo4j") -> None:
        self.driver = driver
        self.database = database
        self.queries = default_registry()

    # -- helpers -------------------------------------------------------------------------------
    def _lock(self, tx: ManagedTransaction, ids: Sequence[str], token: str,
              expected: Mapping[str, int] | None, active: bool = True) -> dict[str, int]:
        rows = self.queries.run(tx, "operations/lock_persons", ids=sorted(set(ids)), token=token)
        found = {r["person_id"]: (int(r["version"]), r["status"]) for r in rows}
        for person_id in ids:
            if person_id not in found:
                raise OperationError(f"no person {person_id}")
            if active and found[person_id][1] != "active":
                raise OperationError(f"person {person_id} is {found[person_id][1]}: use the surviving person")
        for person_id, version in (expected or {}).items():
            if found[person_id][0] != version:
                raise ConflictError(f"person {person_id} changed (version {found[person_id][0]}, you saw {version})")
        return {k: v for k, (v, _) in found.items()}

    def _links(self, tx: ManagedTransaction, uid: str) -> dict[str, Any]:
        rows = self.queries.run(tx, "operations/record_links", uid=uid)
        if not rows:
            raise OperationError(f"no source record {uid}")
        return {"uid": uid, "source": rows[0]["source"], "links": [dict(x) for x in rows[0]["links"]]}

    def _finish(self, tx: ManagedTransaction, token: str, action: str, actor: str, reason: str,
                before: Any, after: Any, person_ids: Sequence[str], uids: Sequence[str]) -> OperationResult:
        ids = sorted(set(person_ids))
        versions = {r["person_id"]: r["version"] for r in self.queries.run(tx, "operations/bump_versions", ids=ids)}
        self.queries.run(tx, "operations/log_event", event_id=token, actor=actor, action=action, reason=reason,
                         before=json.dumps(before, ensure_ascii=False), after=json.dumps(after, ensure_ascii=False),
                         person_ids=ids, uids=list(uids))
        return OperationResult(token, action, ids, versions)

    def _apply(self, work: Any, refresh: bool = True) -> OperationResult:
        with self.driver.session(database=self.database) as session:
            result: OperationResult = session.execute_write(work)
        if refresh:
            refresh_persons(self.driver, result.person_ids, self.database)
        return result

    # -- operations ----------------------------------------------------------------------------
    def link(self, uid: str, person_id: str, actor: str, reason: str, state: str = "MATCH",
             expected_version: int | None = None) -> OperationResult:
        """A reviewer's MATCH (the record joins the person) or NO_MATCH (it never will)."""
        if state not in ("MATCH", "NO_MATCH"):
            raise OperationError(f"state must be MATCH or NO_MATCH, not {state!r}")
        token = f"ev-{uuid.uuid4()}"

        def work(tx: ManagedTransaction) -> OperationResult:
            before = self._links(tx, uid)
            previous = [x["person_id"] for x in before["links"] if x["state"] == "MATCH"]
            expected = {person_id: expected_version} if expected_version is not None else None
            self._lock(tx, [person_id, *previous], token, expected)
            self.queries.run(tx, "operations/set_manual_link", uid=uid, person_id=person_id, state=state,
                             actor=actor, reason=reason)
            after = self._links(tx, uid)
            return self._finish(tx, token, f"link:{state}", actor, reason, before, after,
                                [person_id, *previous], [uid])

        return self._apply(work)

    def unlink(self, uid: str, person_id: str, actor: str, reason: str,
               expected_version: int | None = None) -> OperationResult:
        """Take a record off a person (NO_MATCH for good); it becomes a person of its own."""
        token = f"ev-{uuid.uuid4()}"
        new_id = new_person_id()

        def work(tx: ManagedTransaction) -> OperationResult:
            before = self._links(tx, uid)
            if not any(x["person_id"] == person_id and x["state"] == "MATCH" for x in before["links"]):
                raise OperationError(f"record {uid} is not matched to {person_id}")
            self._lock(tx, [person_id], token, {person_id: expected_version} if expected_version is not None
                       else None)
            self.queries.run(tx, "operations/create_person", person_id=new_id)
            self.queries.run(tx, "operations/set_manual_link", uid=uid, person_id=new_id, state="MATCH",
                             actor=actor, reason=reason)
            self.queries.run(tx, "operations/set_manual_link", uid=uid, person_id=person_id, state="NO_MATCH",
                             actor=actor, reason=reason)
            after = self._links(tx, uid)
            return self._finish(tx, token, "unlink", actor, reason, before, after, [person_id, new_id], [uid])

        return self._apply(work)

    def merge(self, survivor: str, retired: str, actor: str, reason: str,
              expected_versions: Mapping[str, int] | None = None) -> OperationResult:
        """Merge `retired` into `survivor`: one id survives, the other resolves to it."""
        if survivor == retired:
            raise OperationError("a person cannot be merged into itself")
        token = f"ev-{uuid.uuid4()}"

        def work(tx: ManagedTransaction) -> OperationResult:
            self._lock(tx, [survivor, retired], token, expected_versions)
            before = {p: [dict(r) for r in self.queries.run(tx, "operations/person_records", person_id=p)]
                      for p in (survivor, retired)}
            self.queries.run(tx, "operations/merge_persons", survivor=survivor, retired=retired, actor=actor,
                             reason=reason)
            after = {survivor: [dict(r) for r in self.queries.run(tx, "operations/person_records",
                                                                   person_id=survivor)], retired: []}
            uids = [r["uid"] for r in before[retired]]
            return self._finish(tx, token, "merge", actor, reason, before, after, [survivor, retired], uids)

        return self._apply(work)

    def split(self, person_id: str, uids: Sequence[str], actor: str, reason: str,
              expected_version: int | None = None) -> tuple[OperationResult, str]:
        """Move `uids` off the person into a new one; the id stays with the part holding the most
        trusted record (the population registry's). Returns the result and the new person's id."""
        token = f"ev-{uuid.uuid4()}"
        new_id = new_person_id()

        def work(tx: ManagedTransaction) -> OperationResult:
            self._lock(tx, [person_id], token, {person_id: expected_version} if expected_version is not None
                       else None)
            records = [dict(r) for r in self.queries.run(tx, "operations/person_records", person_id=person_id)]
            mine = {r["uid"] for r in records}
            chosen = set(uids)
            if not chosen or not chosen <= mine or chosen == mine:
                raise OperationError("split needs some, not all, of the person's own records")
            moving = chosen
            if any(r["source"] == "population" and r["uid"] in chosen for r in records):
                moving = mine - chosen  # the registry record keeps the id
            self.queries.run(tx, "operations/create_person", person_id=new_id)
            for uid in sorted(moving):
                self.queries.run(tx, "operations/set_manual_link", uid=uid, person_id=new_id, state="MATCH",
                                 actor=actor, reason=reason)
            self.queries.run(tx, "operations/mark_not_duplicate", a=person_id, b=new_id, actor=actor,
                             reason=f"split: {reason}")
            after = {p: [dict(r) for r in self.queries.run(tx, "operations/person_records", person_id=p)]
                     for p in (person_id, new_id)}
            return self._finish(tx, token, "split", actor, reason, {person_id: records}, after,
                                [person_id, new_id], sorted(moving))

        return self._apply(work), new_id

    def not_duplicate(self, a: str, b: str, actor: str, reason: str,
                      expected_versions: Mapping[str, int] | None = None) -> OperationResult:
        """Two persons are different people: their possible-duplicate mark closes for good."""
        token = f"ev-{uuid.uuid4()}"

        def work(tx: ManagedTransaction) -> OperationResult:
            self._lock(tx, [a, b], token, expected_versions)
            self.queries.run(tx, "operations/mark_not_duplicate", a=a, b=b, actor=actor, reason=reason)
            return self._finish(tx, token, "not_duplicate", actor, reason, {"possible_duplicate": [a, b]},
                                {"not_duplicate": [a, b]}, [a, b], [])

        return self._apply(work, refresh=False)

    def history(self, person_id: str) -> list[dict[str, Any]]:
        """The person's link history, newest first."""
        rows = self.queries.read(self.driver, "operations/person_history", database=self.database,
                                 person_id=person_id)
        events = []
        for row in rows:
            event = dict(row["event"])
            event["before"] = json.loads(event["before"]) if event.get("before") else None
            event["after"] = json.loads(event["after"]) if event.get("after") else None
            events.append(event)
        return events


def review_events(driver: Driver, database: str = "neo4j") -> list[dict[str, Any]]:
    """Reviewers' link decisions with before/after, as labelled pairs for evaluation."""
    rows = default_registry().read(driver, "operations/review_events", database=database)
    return [{"action": r["action"], "before": json.loads(r["before"]), "after": json.loads(r["after"])}
            for r in rows]
