"""Reviewers' operations on the real Neo4j: history, one MATCH per record, retired ids, no lost update."""

from __future__ import annotations

import threading
from typing import Any

import pandas as pd
import pytest
from neo4j import Driver

from graph import apply_migrations, feed_after, wipe_graph
from graph.identity import GraphLinkStore
from graph.operations import ConflictError, OperationError, PersonOperations, review_events
from graph.persons import person_profile, refresh_persons
from linkage.evaluation import review_label_scores
from linkage.mpi.plan import Link, LinkPlan
from linkage.standardize.table import LINKAGE_COLUMNS


def record(uid: str, name: str, pid: str | None = None) -> dict[str, object]:
    source, record_id = uid.split("|")
    row: dict[str, object] = dict.fromkeys(LINKAGE_COLUMNS)
    row.update({"unique_id": uid, "source": source, "record_id": record_id, "name": name, "personal_id": pid,
                "pid_ok": pid is not None, "birth_date": "1990-03-05", "birth_precision": "day", "sex": "male"})
    return row


@pytest.fixture
def ops(graph: Driver) -> PersonOperations:
    wipe_graph(graph)
    apply_migrations(graph)
    table = pd.DataFrame([record("population|A1", "Nguyễn Văn An", "001090012345"),
                          record("hospital130|A2", "Nguyen Van An"), record("hospital130|B1", "Nguyễn Văn Ân"),
                          record("fhir|C1", "Lê Thị Cúc")])
    plan = LinkPlan(new_persons=["P1", "P2", "P3"], links=[
        Link("population|A1", "P1", "MATCH", 1.0, None, "{}"), Link("hospital130|A2", "P1", "MATCH", 0.99, 20.0, "{}"),
        Link("hospital130|B1", "P2", "MATCH", 1.0, None, "{}"), Link("hospital130|B1", "P1", "POSSIBLE_MATCH", 0.8,
                                                                     2.0, '{"given_name": 0.5}'),
        Link("fhir|C1", "P3", "MATCH", 1.0, None, "{}")],
        duplicates=[("P1", "P2", 0.8, "{}")])
    GraphLinkStore(graph).write(table, plan, "v001", "run-1", ["b1"], "link")
    return PersonOperations(graph)


def matches(graph: Driver, uid: str) -> list[str]:
    rows = graph.execute_query("MATCH (:SourceRecord {uid: $uid})-[:LINKED_TO {state: 'MATCH'}]->(p:Person) "
                               "RETURN p.person_id AS id", {"uid": uid}).records
    return sorted(r["id"] for r in rows)


def test_a_manual_match_moves_the_record_and_is_in_the_history(ops: PersonOperations, graph: Driver) -> None:
    result = ops.link("hospital130|B1", "P1", actor="reviewer:lan", reason="same CCCD on the paper card")
    assert matches(graph, "hospital130|B1") == ["P1"]
    assert set(result.person_ids) == {"P1", "P2"}
    event = ops.history("P1")[0]
    assert (event["actor"], event["action"], event["reason"]) == ("reviewer:lan", "link:MATCH",
                                                                  "same CCCD on the paper card")
    assert {"person_id": "P2", "state": "MATCH", "origin": "AUTO", "probability": 1.0} in event["before"]["links"]
    assert {"person_id": "P1", "state": "POSSIBLE_MATCH", "origin": "AUTO", "probability": 0.8} in \
        event["before"]["links"]
    assert {"person_id": "P1", "state": "MATCH", "origin": "MANUAL"} in [
        {k: v for k, v in link.items() if k != "probability"} for link in event["after"]["links"]]
    assert ops.history("P2")[0]["event_id"] == event["event_id"]
    golden = graph.execute_query("MATCH (p:Person {person_id: 'P1'}) RETURN p.record_count AS n").records[0]
    assert golden["n"] == 3


def test_no_match_keeps_a_record_away(ops: PersonOperations, graph: Driver) -> None:
    ops.link("hospital130|B1", "P1", actor="reviewer:lan", reason="different father", state="NO_MATCH")
    assert matches(graph, "hospital130|B1") == ["P2"]
    state = graph.execute_query("MATCH (:SourceRecord {uid: 'hospital130|B1'})-[l:LINKED_TO]->(:Person "
                                "{person_id: 'P1'}) RETURN l.state AS s, l.origin AS o").records[0]
    assert (state["s"], state["o"]) == ("NO_MATCH", "MANUAL")


def test_merge_retires_an_id_that_still_resolves(ops: PersonOperations, graph: Driver) -> None:
    ops.merge("P1", "P2", actor="reviewer:lan", reason="same person")
    assert matches(graph, "hospital130|B1") == ["P1"]
    profile = person_profile(graph, "P2")
    assert profile["person_id"] == "P1" and profile["merged_from"] == "P2"
    assert len(profile["records"]) == 3
    with pytest.raises(OperationError, match="retired"):
        ops.link("fhir|C1", "P2", actor="reviewer:lan", reason="x")
    assert graph.execute_query("MATCH (:Person)-[d:POSSIBLE_DUPLICATE]-(:Person) RETURN count(d) AS n"
                               ).records[0]["n"] == 0


def test_split_keeps_the_id_with_the_registry_record(ops: PersonOperations, graph: Driver) -> None:
    _, new_id = ops.split("P1", ["population|A1"], actor="reviewer:lan", reason="two people, one name")
    assert matches(graph, "population|A1") == ["P1"]
    assert matches(graph, "hospital130|A2") == [new_id]
    assert graph.execute_query("MATCH (:Person {person_id: 'P1'})-[:NOT_DUPLICATE]-(:Person {person_id: $n}) "
                               "RETURN count(*) AS n", {"n": new_id}).records[0]["n"] == 1
    with pytest.raises(OperationError, match="some, not all"):
        ops.split("P3", ["fhir|C1"], actor="reviewer:lan", reason="x")


def test_unlink_gives_the_record_a_person_of_its_own(ops: PersonOperations, graph: Driver) -> None:
    result = ops.unlink("hospital130|A2", "P1", actor="reviewer:lan", reason="newborn under mother's name")
    new_id = next(p for p in result.person_ids if p != "P1")
    assert matches(graph, "hospital130|A2") == [new_id]


def test_not_duplicate_is_sticky(ops: PersonOperations, graph: Driver) -> None:
    ops.not_duplicate("P1", "P2", actor="reviewer:lan", reason="twins")
    rows = graph.execute_query("MATCH (:Person {person_id: 'P1'})-[r]-(:Person {person_id: 'P2'}) "
                               "RETURN type(r) AS t").records
    assert [r["t"] for r in rows] == ["NOT_DUPLICATE"]


def test_two_concurrent_changes_one_wins_one_conflicts(ops: PersonOperations, graph: Driver) -> None:
    version = graph.execute_query("MATCH (p:Person {person_id: 'P1'}) RETURN coalesce(p.version, 0) AS v"
                                  ).records[0]["v"]
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def decide(uid: str) -> None:
        barrier.wait()
        try:
            ops.link(uid, "P1", actor=f"reviewer:{uid}", reason="race", expected_version=version)
            outcomes.append("applied")
        except ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=decide, args=(uid,)) for uid in ("hospital130|B1", "fhir|C1")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["applied", "conflict"]
    moved = [uid for uid in ("hospital130|B1", "fhir|C1") if matches(graph, uid) == ["P1"]]
    assert len(moved) == 1
    assert graph.execute_query("MATCH (p:Person {person_id: 'P1'}) RETURN p.version AS v").records[0]["v"] == \
        version + 1


def test_reviewers_decisions_serve_as_labels(ops: PersonOperations, graph: Driver) -> None:
    ops.link("hospital130|B1", "P1", actor="reviewer:lan", reason="confirmed")  # was POSSIBLE_MATCH to P1
    ops.unlink("hospital130|A2", "P1", actor="reviewer:lan", reason="wrong")  # was AUTO MATCH
    scores = review_label_scores(review_events(graph))
    assert scores == {"reviewed_auto_matches": 1.0, "match_precision": 0.0,
                      "reviewed_possible_matches": 1.0, "review_match_rate": 1.0,
                      "review_calibration": [
                          {"from": 0.8, "to": 0.9, "decisions": 1, "match_share": 1.0, "mean_probability": 0.8},
                          {"from": 0.9, "to": 1.0, "decisions": 1, "match_share": 0.0, "mean_probability": 0.99}]}
    # The record a reviewer put in P1 and P1's other record: a labelled match to train on.
    assert GraphLinkStore(graph).reviewed_match_pairs() == [("hospital130|B1", "population|A1")]


# -- undo ------------------------------------------------------------------------------------------
VOLATILE = {"golden_updated_at", "version", "lock_token", "golden_dirty", "retired_at", "status"}


def state(graph: Driver) -> dict[str, Any]:
    """Everything an undo must put back: each person's golden record and status, every link with its
    properties (review item ids included), every duplicate mark."""
    persons = {r["id"]: ({k: v for k, v in r["props"].items() if k not in VOLATILE}, r["status"])
               for r in graph.execute_query("MATCH (p:Person) RETURN p.person_id AS id, properties(p) AS props, "
                                            "p.status AS status").records}
    links = sorted((r["uid"], r["id"], sorted((k, str(v)) for k, v in r["props"].items() if k != "version"))
                   for r in graph.execute_query("MATCH (r:SourceRecord)-[l:LINKED_TO]->(p:Person) RETURN r.uid AS uid, "
                                                "p.person_id AS id, properties(l) AS props").records)
    marks = sorted((r["t"], *sorted((r["a"], r["b"])), r["item"]) for r in graph.execute_query(
        "MATCH (a:Person)-[d:POSSIBLE_DUPLICATE|NOT_DUPLICATE]->(b:Person) RETURN type(d) AS t, a.person_id AS a, "
        "b.person_id AS b, d.item_id AS item").records)
    merged = sorted((r["a"], r["b"]) for r in graph.execute_query(
        "MATCH (a:Person)-[:MERGED_INTO]->(b:Person) RETURN a.person_id AS a, b.person_id AS b").records)
    return {"persons": persons, "links": links, "marks": marks, "merged": merged}


def test_undo_of_each_decision_restores_the_state_before_it_exactly(ops: PersonOperations, graph: Driver) -> None:
    refresh_persons(graph, ["P1", "P2", "P3"])
    start = state(graph)
    assert start["marks"] and start["marks"][0][3].startswith("pd-")  # the duplicate mark is an item with an id
    decisions = [
        lambda: ops.link("hospital130|B1", "P1", actor="reviewer:lan", reason="same card"),
        lambda: ops.link("hospital130|B1", "P1", actor="reviewer:lan", reason="no", state="NO_MATCH"),
        lambda: ops.merge("P1", "P2", actor="reviewer:lan", reason="same person"),
        lambda: ops.split("P1", ["hospital130|A2"], actor="reviewer:lan", reason="two people")[0],
        lambda: ops.unlink("hospital130|A2", "P1", actor="reviewer:lan", reason="newborn"),
        lambda: ops.not_duplicate("P1", "P2", actor="reviewer:lan", reason="twins"),
    ]
    for decide in decisions:
        result = decide()
        assert state(graph) != start
        ops.undo(result.event_id, actor="reviewer:minh", reason="wrong key")
        after = state(graph)
        created = set(after["persons"]) - set(start["persons"])  # a split's or unlink's new id, retired
        assert all(after["persons"][p][1] == "retired" for p in created)
        assert {p: v for p, v in after["persons"].items() if p not in created} == start["persons"]
        assert after["links"] == start["links"] and after["marks"] == start["marks"]
        assert [m for m in after["merged"] if m[0] not in created] == start["merged"]


def test_an_undo_is_refused_once_its_persons_changed_or_twice(ops: PersonOperations, graph: Driver) -> None:
    linked = ops.link("hospital130|B1", "P1", actor="reviewer:lan", reason="same card")
    merged = ops.merge("P2", "P1", actor="reviewer:lan", reason="same person")  # P1 retired since
    with pytest.raises(ConflictError, match="has changed since"):
        ops.undo(linked.event_id, actor="reviewer:minh", reason="wrong key")
    undone = ops.undo(merged.event_id, actor="reviewer:minh", reason="wrong key")
    with pytest.raises(ConflictError, match="undone already"):
        ops.undo(merged.event_id, actor="reviewer:minh", reason="again")
    version = graph.execute_query("MATCH (p:Person {person_id: 'P1'}) RETURN p.version AS v").records[0]["v"]
    with pytest.raises(ConflictError, match="you saw"):
        ops.undo(linked.event_id, actor="reviewer:minh", reason="stale page", person_id="P1",
                 expected_version=version - 1)
    ops.undo(linked.event_id, actor="reviewer:minh", reason="wrong key", person_id="P1", expected_version=version)
    assert matches(graph, "hospital130|B1") == ["P2"]
    history = ops.history("P1")
    assert history[0]["action"] == "undo" and history[0]["undoes"] == linked.event_id
    assert next(e for e in history if e["event_id"] == merged.event_id)["undone_by"] == undone.event_id
    with pytest.raises(OperationError, match="no history entry"):
        ops.undo("ev-nothing", actor="reviewer:minh", reason="x")


# -- the change feed -------------------------------------------------------------------------------
def replay(graph: Driver) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """A connected system following the feed from 0, a page at a time: the events, and each record's
    person as the `record_linked` events leave it."""
    events: list[dict[str, Any]] = []
    while page := feed_after(graph, events[-1]["seq"] if events else 0, 3):
        events.extend(page)
    person_of = {str(e["uid"]): str(e["person_id"]) for e in events if e["type"] == "record_linked"}
    return events, person_of


def current_map(graph: Driver) -> dict[str, str]:
    return {r["uid"]: r["id"] for r in graph.execute_query(
        "MATCH (r:SourceRecord)-[:LINKED_TO {state: 'MATCH'}]->(p:Person) RETURN r.uid AS uid, p.person_id AS id"
    ).records}


def test_every_change_of_persons_is_in_the_feed_once_in_order(ops: PersonOperations, graph: Driver) -> None:
    events, person_of = replay(graph)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert sorted(e["person_id"] for e in events if e["type"] == "person_created") == ["P1", "P2", "P3"]
    assert person_of == current_map(graph)
    seen = len(events)
    merged = ops.merge("P1", "P2", actor="reviewer:lan", reason="same person")
    split, new_id = ops.split("P1", ["hospital130|A2"], actor="reviewer:lan", reason="two people")
    ops.undo(split.event_id, actor="reviewer:lan", reason="wrong key")
    ops.undo(merged.event_id, actor="reviewer:lan", reason="wrong key")
    events, person_of = replay(graph)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    told = [(e["type"], e["person_id"], e["other_person_id"]) for e in events[seen:]
            if e["type"] != "golden_changed"]
    assert told == [
        ("person_merged", "P2", "P1"), ("record_linked", "P1", "P2"),  # B1 came to P1
        ("person_created", new_id, None), ("record_linked", new_id, "P1"),  # split: A2 to the new person
        ("person_merged", new_id, "P1"), ("record_linked", "P1", new_id),  # its undo
        ("person_restored", "P2", "P1"), ("record_linked", "P2", "P1"),  # the merge's undo
    ]
    assert {e["person_id"] for e in events[seen:] if e["type"] == "golden_changed"} >= {"P1"}
    assert person_of == current_map(graph)


def test_a_rebuild_tells_only_of_records_that_changed_person(ops: PersonOperations, graph: Driver) -> None:
    seen = len(replay(graph)[0])
    table = pd.DataFrame([record("population|A1", "Nguyễn Văn An", "001090012345"),
                          record("hospital130|A2", "Nguyen Van An"), record("hospital130|B1", "Nguyễn Văn Ân"),
                          record("fhir|C1", "Lê Thị Cúc")])
    plan = LinkPlan(links=[  # B1 joins P1; the others stay
        Link("population|A1", "P1", "MATCH", 1.0, None, "{}"), Link("hospital130|A2", "P1", "MATCH", 0.99, 20.0, "{}"),
        Link("hospital130|B1", "P1", "MATCH", 0.97, 9.0, "{}", "population|A1"),
        Link("fhir|C1", "P3", "MATCH", 1.0, None, "{}")], retired=[("P2", "P1")])
    GraphLinkStore(graph).write(table, plan, "v002", "run-2", ["b1"], "relink")
    events, person_of = replay(graph)
    assert [(e["type"], e.get("uid"), e["person_id"], e["other_person_id"]) for e in events[seen:]
            if e["type"] != "golden_changed"] == [
        ("record_linked", "hospital130|B1", "P1", "P2"), ("person_merged", None, "P2", "P1")]
    assert person_of == current_map(graph)
