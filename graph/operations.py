"""Reviewers' operations on persons: link or unlink a record, merge, split, mark not-duplicate, undo.

Each operation is one write transaction that first takes the write lock of every person it touches
(in id order), then checks the versions the caller saw: of two concurrent changes to one person, one
is applied and the other is refused with `ConflictError`, never lost. Each writes an entry to the
link history (who, when, what, why, before, after) and leaves at most one MATCH per record; golden
records of the persons touched are recomputed afterwards.

Every entry also keeps a snapshot of what the operation changed (each link of its records with all
its properties, each person's status, the duplicate marks at its persons), taken before and after.
`undo` puts the snapshot before back, so the links, the review items and, recomputed from the same
records, the golden records are exactly as they were; it is refused when anything it would undo has
changed since. An undo is an operation like the others (it can be undone in turn).

In the same transaction, each operation writes the change-feed events its changes make (a record
linked to another person, a person created, merged, split or restored), found by comparing the two
snapshots.

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
from graph.values import freeze, thaw
from linkage import new_person_id


@dataclass(frozen=True)
class OperationResult:
    event_id: str
    action: str
    person_ids: list[str]
    versions: dict[str, int]


@dataclass(frozen=True)
class Snapshot:
    """What an operation changes, as it stands: links of records, persons' status, duplicate marks."""

    links: list[dict[str, Any]]
    persons: list[dict[str, Any]]
    marks: list[dict[str, Any]]

    def matches(self) -> dict[str, str]:
        """Each record's MATCH person."""
        return {link["uid"]: link["person_id"] for link in self.links if link["props"].get("state") == "MATCH"}

    def shape(self) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
        """The links (record, person, state, origin) and persons (id, status, merged into) it holds: what
        must still stand for an operation to be undone."""
        return ({(x["uid"], x["person_id"], x["props"].get("state"), x["props"].get("origin")) for x in self.links},
                {(p["person_id"], p["status"], p.get("merged_into")) for p in self.persons})

    def as_json(self) -> str:
        return json.dumps({"links": self.links, "persons": self.persons, "marks": self.marks}, default=freeze,
                          ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Snapshot:
        data = json.loads(text, object_hook=thaw)
        return cls(links=data["links"], persons=data["persons"], marks=data["marks"])


def feed_events(before: Snapshot, after: Snapshot) -> list[dict[str, Any]]:
    """The change-feed events of going from `before` to `after`: persons created, merged (retired into
    another) or restored, and records that came to another person."""
    events: list[dict[str, Any]] = []
    was = {p["person_id"]: p for p in before.persons}
    for person in after.persons:
        old = was.get(person["person_id"])
        base = {"person_id": person["person_id"], "province": person.get("province"), "uid": None}
        if old is None:
            events.append({**base, "type": "person_created", "other_person_id": None})
        elif old["status"] == "active" and person["status"] == "retired":
            events.append({**base, "type": "person_merged", "other_person_id": person.get("merged_into")})
        elif old["status"] == "retired" and person["status"] == "active":
            events.append({**base, "type": "person_restored", "other_person_id": old.get("merged_into")})
    province = {p["person_id"]: p.get("province") for p in after.persons}
    old_match, new_match = before.matches(), after.matches()
    for uid in sorted(new_match):
        if old_match.get(uid) != new_match[uid]:
            events.append({"type": "record_linked", "uid": uid, "person_id": new_match[uid],
                           "other_person_id": old_match.get(uid), "province": province.get(new_match[uid])})
    return events


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

    def _snapshot(self, tx: ManagedTransaction, uids: Sequence[str], ids: Sequence[str]) -> Snapshot:
        row = self.queries.run(tx, "operations/snapshot", uids=sorted(set(uids)), ids=sorted(set(ids)))[0]
        return Snapshot(links=[dict(x) | {"props": dict(x["props"])} for x in row["links"]],
                        persons=[dict(x) for x in row["persons"]],
                        marks=[dict(x) | {"props": dict(x["props"])} for x in row["marks"]])

    def _finish(self, tx: ManagedTransaction, token: str, action: str, actor: str, reason: str,
                before: Any, after: Any, person_ids: Sequence[str], uids: Sequence[str], snapshot: Snapshot,
                item_id: str | None = None, undoes: str | None = None) -> OperationResult:
        """Count the change on each person, write the history entry and the change-feed events."""
        ids = sorted(set(person_ids))
        versions = {r["person_id"]: r["version"] for r in self.queries.run(tx, "operations/bump_versions", ids=ids)}
        state_after = self._snapshot(tx, uids, ids)
        self.queries.run(tx, "operations/log_event", event_id=token, actor=actor, action=action, reason=reason,
                         before=json.dumps(before, ensure_ascii=False), after=json.dumps(after, ensure_ascii=False),
                         person_ids=ids, uids=sorted(set(uids)), snapshot=snapshot.as_json(),
                         state_after=state_after.as_json(), item_id=item_id, undoes=undoes)
        events = feed_events(snapshot, state_after)
        if events:
            self.queries.run(tx, "feed/append", events=events)
            self.queries.sequence_feed(tx)
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
            if state == "NO_MATCH" and person_id in previous:
                raise OperationError(f"record {uid} is matched to {person_id}: take it off with unlink")
            expected = {person_id: expected_version} if expected_version is not None else None
            self._lock(tx, [person_id, *previous], token, expected)
            snapshot = self._snapshot(tx, [uid], [person_id, *previous])
            item = next((x["props"].get("item_id") for x in snapshot.links if x["person_id"] == person_id), None)
            self.queries.run(tx, "operations/set_manual_link", uid=uid, person_id=person_id, state=state,
                             actor=actor, reason=reason)
            after = self._links(tx, uid)
            return self._finish(tx, token, f"link:{state}", actor, reason, before, after,
                                [person_id, *previous], [uid], snapshot, item_id=item)

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
            snapshot = self._snapshot(tx, [uid], [person_id])
            self.queries.run(tx, "operations/create_person", person_id=new_id)
            self.queries.run(tx, "operations/set_manual_link", uid=uid, person_id=new_id, state="MATCH",
                             actor=actor, reason=reason)
            self.queries.run(tx, "operations/set_manual_link", uid=uid, person_id=person_id, state="NO_MATCH",
                             actor=actor, reason=reason)
            after = self._links(tx, uid)
            return self._finish(tx, token, "unlink", actor, reason, before, after, [person_id, new_id], [uid],
                                snapshot)

        return self._apply(work)

    def merge(self, survivor: str, retired: str, actor: str, reason: str,
              expected_versions: Mapping[str, int] | None = None, item_id: str | None = None) -> OperationResult:
        """Merge `retired` into `survivor`: one id survives, the other resolves to it."""
        if survivor == retired:
            raise OperationError("a person cannot be merged into itself")
        token = f"ev-{uuid.uuid4()}"

        def work(tx: ManagedTransaction) -> OperationResult:
            self._lock(tx, [survivor, retired], token, expected_versions)
            before = {p: [dict(r) for r in self.queries.run(tx, "operations/person_records", person_id=p)]
                      for p in (survivor, retired)}
            linked = [r["uid"] for r in self.queries.run(tx, "operations/linked_records", person_id=retired)]
            snapshot = self._snapshot(tx, linked, [survivor, retired])
            self.queries.run(tx, "operations/merge_persons", survivor=survivor, retired=retired, actor=actor,
                             reason=reason)
            after = {survivor: [dict(r) for r in self.queries.run(tx, "operations/person_records",
                                                                   person_id=survivor)], retired: []}
            return self._finish(tx, token, "merge", actor, reason, before, after, [survivor, retired], linked,
                                snapshot, item_id=item_id)

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
            snapshot = self._snapshot(tx, sorted(moving), [person_id])
            self.queries.run(tx, "operations/create_person", person_id=new_id)
            for uid in sorted(moving):
                self.queries.run(tx, "operations/set_manual_link", uid=uid, person_id=new_id, state="MATCH",
                                 actor=actor, reason=reason)
            self.queries.run(tx, "operations/mark_not_duplicate", a=person_id, b=new_id, actor=actor,
                             reason=f"split: {reason}")
            after = {p: [dict(r) for r in self.queries.run(tx, "operations/person_records", person_id=p)]
                     for p in (person_id, new_id)}
            return self._finish(tx, token, "split", actor, reason, {person_id: records}, after,
                                [person_id, new_id], sorted(moving), snapshot)

        return self._apply(work), new_id

    def not_duplicate(self, a: str, b: str, actor: str, reason: str,
                      expected_versions: Mapping[str, int] | None = None, item_id: str | None = None
                      ) -> OperationResult:
        """Two persons are different people: their possible-duplicate mark closes for good."""
        token = f"ev-{uuid.uuid4()}"

        def work(tx: ManagedTransaction) -> OperationResult:
            self._lock(tx, [a, b], token, expected_versions)
            snapshot = self._snapshot(tx, [], [a, b])
            self.queries.run(tx, "operations/mark_not_duplicate", a=a, b=b, actor=actor, reason=reason)
            return self._finish(tx, token, "not_duplicate", actor, reason, {"possible_duplicate": [a, b]},
                                {"not_duplicate": [a, b]}, [a, b], [], snapshot, item_id=item_id)

        return self._apply(work, refresh=False)

    def undo(self, event_id: str, actor: str, reason: str, person_id: str | None = None,
             expected_version: int | None = None) -> OperationResult:
        """Undo one entry of the link history: its records' links, its persons' status and its duplicate
        marks go back to the snapshot before it; a person it created is retired into the person its
        records return to. `ConflictError` when `person_id` is not at `expected_version`, or when
        anything the entry changed has changed since (undo the later entries first)."""
        token = f"ev-{uuid.uuid4()}"

        def work(tx: ManagedTransaction) -> OperationResult:
            rows = self.queries.run(tx, "operations/read_event", event_id=event_id)
            if not rows or (person_id is not None and person_id not in (rows[0]["event"]["person_ids"] or [])):
                raise OperationError(f"no history entry {event_id}" + (f" of {person_id}" if person_id else ""))
            event = dict(rows[0]["event"])
            if not event.get("snapshot") or not event.get("state_after"):
                raise OperationError(f"history entry {event_id} was written before decisions could be undone")
            if event.get("undone_by"):
                raise ConflictError(f"history entry {event_id} was undone already (by {event['undone_by']})")
            target, done = Snapshot.from_json(event["snapshot"]), Snapshot.from_json(event["state_after"])
            ids = sorted({p["person_id"] for p in done.persons} | {p["person_id"] for p in target.persons})
            uids = sorted({x["uid"] for x in done.links} | {x["uid"] for x in target.links})
            expected = {person_id: expected_version} if person_id is not None and expected_version is not None else None
            self._lock(tx, ids, token, expected, active=False)
            now = self._snapshot(tx, uids, ids)
            if now.shape() != done.shape():
                raise ConflictError(f"what {event_id} changed has changed since: undo the later decisions first")
            self.queries.run(tx, "operations/restore_links", uids=uids, links=target.links)
            back = target.matches()
            restored = [{"person_id": p["person_id"], "status": p["status"], "merged_into": p["merged_into"]}
                        for p in target.persons]
            held = {p["person_id"] for p in target.persons}
            for person in done.persons:
                if person["person_id"] not in held:  # created by the entry: its records went back
                    home = next((back[u] for u, p in done.matches().items() if p == person["person_id"]
                                 and u in back), None)
                    restored.append({"person_id": person["person_id"], "status": "retired" if home else "active",
                                     "merged_into": home, "actor": actor, "reason": f"undo of {event_id}"})
            self.queries.run(tx, "operations/restore_persons", persons=restored)
            self.queries.run(tx, "operations/restore_marks", ids=ids, marks=target.marks)
            before = {"links": done.matches()}
            after = {"links": target.matches()}
            return self._finish(tx, token, "undo", actor, reason, before, after, ids, uids, now, undoes=event_id)

        return self._apply(work)

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
