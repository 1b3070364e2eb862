"""The reviewers' desk through the API on a linked world: items with their own ids, the exact pair scored
level by level, conflicts that need an override (and a second reviewer when asked), undo, split, the
cluster of a person, and the change feed."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from conftest import LinkedWorld
from fastapi.testclient import TestClient
from neo4j import Driver

from api.app import create_app
from api.routes.review import ITEM_ID
from api.security import Role, add_user
from api.services import run_linking
from api.webhooks import SIGNATURE_HEADER, sign
from graph import EVENT_TYPES, feed_after
from linkage.synth import SynthConfig
from linkage.vocab import SourceKind

KINDS = (SourceKind.POPULATION, SourceKind.COMMUNE831, SourceKind.HOSPITAL130, SourceKind.IMMUNIZATION)
PASSWORD = "desk password"


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory, graph: Driver, linked_world: LinkedWorld
         ) -> Iterator[dict[str, Any]]:
    # A cautious registry (every link below 0.9999 goes to a reviewer): a world this small leaves too few
    # pairs between the default thresholds to fill a desk.
    local = linked_world(tmp_path_factory.mktemp("desk"), SynthConfig(persons=800, seed=61, profile="hard"), KINDS,
                         graph, jobs_worker=False, webhook_poll_seconds=0.3, match_threshold_upper=0.9999)
    province = graph.execute_query(
        "MATCH (p:Person {status: 'active'}) WHERE p.province IS NOT NULL RETURN p.province AS v, count(*) AS n "
        "ORDER BY n DESC LIMIT 1").records[0]["v"]
    for name, role, extra in [("desk-lan", Role.REVIEWER, {}), ("desk-minh", Role.REVIEWER, {}),
                              ("desk-home", Role.REVIEWER, {"province": province}),
                              ("desk-system", Role.CLINICIAN, {"province": province, "facility": "01001"}),
                              ("desk-admin", Role.ADMIN, {})]:
        add_user(graph, name, PASSWORD, role, **extra)
    with TestClient(create_app(local)) as client:
        def login(name: str, app: TestClient = client) -> dict[str, str]:
            token = app.post("/auth/token", data={"username": name, "password": PASSWORD})
            return {"Authorization": f"Bearer {token.json()['access_token']}"}

        yield {"client": client, "login": login, "province": province, "settings": local}


def conflicting_item(graph: Driver) -> tuple[str, str, str]:
    """A POSSIBLE_MATCH item between a population record and a person who carries another valid
    personal id (the case of a wrong keystroke giving a citizen another's CCCD): (item, uid, person)."""
    row = graph.execute_query(
        "MATCH (r:SourceRecord {source: 'population', pid_ok: true})-[:LINKED_TO {state: 'MATCH'}]->(home:Person) "
        "MATCH (p:Person {status: 'active'}) WHERE p <> home AND p.personal_id IS NOT NULL "
        "AND p.personal_id <> r.personal_id AND p.province = r.province AND p.sex = r.sex "
        "AND abs(p.birth_year - r.birth_year) < 2 "
        "WITH r, p LIMIT 1 MERGE (r)-[l:LINKED_TO]->(p) SET l.state = 'POSSIBLE_MATCH', l.origin = 'AUTO', "
        "l.probability = 0.62, l.weights = '{}', l.item_id = 'pm-' + randomUUID(), l.item_since = datetime(), "
        "l.updated_at = datetime() RETURN l.item_id AS item, r.uid AS uid, p.person_id AS person").records[0]
    return row["item"], row["uid"], row["person"]


def test_the_queue_says_what_each_item_is(desk: dict[str, Any], graph: Driver) -> None:
    client, headers = desk["client"], desk["login"]("desk-lan")
    queue = client.get("/review/queue", params={"limit": 200}, headers=headers).json()
    assert queue["count"] > 0 and queue["backlog"]["total"] == queue["count"]
    assert sum(queue["backlog"]["by_kind"].values()) == queue["count"]
    for item in queue["data"]:
        assert ITEM_ID.match(item["id"]) and item["kind"] in ("possible_match", "possible_duplicate")
        assert item["left"]["name"] and item["right"]["name"] and item["age_days"] == 0
        assert item["right"]["sources"] and item["right"]["person_id"]
        if item["kind"] == "possible_match":
            assert item["left"]["uid"] and item["linked_to"]  # the record already belongs to a person
    uncertainty = [abs(i["probability"] - 0.5) for i in queue["data"]]
    assert uncertainty == sorted(uncertainty)
    by_probability = client.get("/review/queue", params={"sort": "probability", "order": "desc", "limit": 200},
                                headers=headers).json()["data"]
    assert [i["probability"] for i in by_probability] == sorted((i["probability"] for i in by_probability),
                                                                 reverse=True)
    source = next(iter(queue["backlog"]["by_source"]))
    filtered = client.get("/review/queue", params={"source": source, "limit": 200}, headers=headers).json()
    assert filtered["count"] == queue["backlog"]["by_source"][source]
    assert all(source in i["left"]["sources"] + i["right"]["sources"] for i in filtered["data"])
    none = client.get("/review/queue", params={"source": "nowhere"}, headers=headers).json()
    assert none["count"] == 0 and none["data"] == [] and none["backlog"]["total"] == queue["count"]
    home = client.get("/review/queue", params={"limit": 200}, headers=desk["login"]("desk-home")).json()
    assert home["backlog"]["total"] <= queue["count"]
    assert set(home["backlog"]["by_province"]) <= {desk["province"], "–"} | set(queue["backlog"]["by_province"])
    elsewhere = "01" if desk["province"] != "01" else "79"
    assert client.get("/review/queue", params={"province": elsewhere},
                      headers=desk["login"]("desk-home")).status_code == 403


def test_an_item_shows_the_exact_pair_level_by_level(desk: dict[str, Any], graph: Driver) -> None:
    client, headers = desk["client"], desk["login"]("desk-lan")
    queue = client.get("/review/queue", params={"kind": "possible_match", "limit": 5}, headers=headers).json()
    item = client.get(f"/review/items/{queue['data'][0]['id']}", headers=headers).json()
    pair = item["pair"]
    assert pair["left"]["uid"] == item["record"]["uid"]
    assert pair["right"]["uid"] in {r["uid"] for r in item["records"]}  # one of the person's records
    assert abs(pair["prior"] + sum(f["weight"] for f in item["fields"]) - pair["match_weight"]) < 0.01
    assert all(f["level"] and f["level_key"] for f in item["fields"])
    keys = {f["level_key"] for f in item["fields"]}
    assert keys & {"exact", "similar", "missing", "different", "same_year", "same_commune", "one_keystroke"}
    record = item["record"]
    assert record["name"]
    if record["family"] is not None:  # a placeholder ("Con Nguyễn Thị A", a newborn) is not split in parts
        assert record["given"] and record["name"].startswith(record["family"])
    if record["commune"]:
        assert record["commune"]["name"]
    person = item["person"]
    assert person["value_sources"] and person["sources"]
    assert item["version"].isdigit() and item["conflicts"] == []


def test_a_conflict_refuses_a_match_without_an_override(desk: dict[str, Any], graph: Driver) -> None:
    client, headers = desk["client"], desk["login"]("desk-lan")
    item, uid, person = conflicting_item(graph)
    shown = client.get(f"/review/items/{item}", headers=headers).json()
    assert "personal_id" in shown["conflicts"]
    listed = client.get("/review/queue", params={"conflict": True, "limit": 200}, headers=headers).json()["data"]
    assert item in [i["id"] for i in listed] and all(i["conflicts"] for i in listed)
    decision = {"decision": "MATCH", "version": shown["version"], "note": "looks alike"}
    refused = client.post(f"/review/items/{item}/decision", json=decision, headers=headers)
    assert refused.status_code == 409 and "override" in refused.json()["detail"]
    short = client.post(f"/review/items/{item}/decision", json={**decision, "override": True}, headers=headers)
    assert short.status_code == 400 and "lý do" in short.json()["detail"]  # Vietnamese unless asked otherwise
    assert graph.execute_query("MATCH (:SourceRecord {uid: $uid})-[l:LINKED_TO {state: 'MATCH'}]->(p:Person) "
                               "RETURN p.person_id AS p", {"uid": uid}).records[0]["p"] != person
    done = client.post(f"/review/items/{item}/decision", headers=headers, json={
        **decision, "override": True, "note": "the registry record was keyed on the wrong citizen"})
    assert done.status_code == 200, done.text
    history = client.get(f"/persons/{person}/history", headers=headers).json()["data"]
    assert history[0]["item_id"] == item and history[0]["reason"].startswith("override of personal_id")
    undo = client.post(done.json()["undo"], headers=headers,
                       json={"version": done.json()["versions"][person], "reason": "wrong key"})
    assert undo.status_code == 200, undo.text
    assert client.get(f"/review/items/{item}", headers=headers).status_code == 200  # open again, same id


def test_a_second_reviewer_confirms_an_override(desk: dict[str, Any], graph: Driver) -> None:
    strict = desk["settings"].model_copy(update={"review_second_reviewer": True})
    item, uid, person = conflicting_item(graph)
    with TestClient(create_app(strict)) as client:
        lan, minh = desk["login"]("desk-lan", client), desk["login"]("desk-minh", client)
        version = client.get(f"/review/items/{item}", headers=lan).json()["version"]
        decision = {"decision": "MATCH", "version": version, "override": True,
                    "note": "same person: the card shows a typo in the registry"}
        first = client.post(f"/review/items/{item}/decision", json=decision, headers=lan)
        assert first.status_code == 202 and first.json()["action"] == "override_requested"
        assert client.get(f"/review/items/{item}", headers=minh).json()["override_by"] == "reviewer:desk-lan"
        again = client.post(f"/review/items/{item}/decision", json=decision,
                            headers={**lan, "Accept-Language": "en-GB,en;q=0.9,vi;q=0.5"})
        assert again.status_code == 409 and "second reviewer" in again.json()["detail"]
        assert again.headers["content-language"] == "en"
        second = client.post(f"/review/items/{item}/decision", json=decision, headers=minh)
        assert second.status_code == 200, second.text
    assert graph.execute_query("MATCH (:SourceRecord {uid: $uid})-[l:LINKED_TO {state: 'MATCH'}]->(p:Person) "
                               "RETURN p.person_id AS p", {"uid": uid}).records[0]["p"] == person


def test_only_open_items_are_decided(desk: dict[str, Any], graph: Driver) -> None:
    client, headers = desk["client"], desk["login"]("desk-lan")
    forged = f"pm-{uuid.uuid4()}"
    assert client.get(f"/review/items/{forged}", headers=headers).status_code == 404
    answer = client.post(f"/review/items/{forged}/decision", headers=headers,
                         json={"decision": "MATCH", "version": "0", "note": "forged"})
    assert answer.status_code == 404
    assert client.get("/review/items/zz~!!", headers=headers).status_code == 400
    item = client.get("/review/queue", params={"kind": "possible_match", "conflict": False}, headers=headers
                      ).json()["data"][0]["id"]
    version = client.get(f"/review/items/{item}", headers=headers).json()["version"]
    stale = client.post(f"/review/items/{item}/decision", headers=headers,
                        json={"decision": "NO_MATCH", "version": str(int(version) + 5), "note": "stale"})
    assert stale.status_code == 409
    done = client.post(f"/review/items/{item}/decision", headers=headers,
                       json={"decision": "NO_MATCH", "version": version, "note": "different mother"})
    assert done.status_code == 200 and done.json()["action"] == "link:NO_MATCH"
    again = client.post(f"/review/items/{item}/decision", headers=headers,
                        json={"decision": "MATCH", "version": version, "note": "changed my mind"})
    assert again.status_code == 404  # decided: closed


def test_split_a_person_from_its_cluster_and_undo_it(desk: dict[str, Any], graph: Driver) -> None:
    client, headers = desk["client"], desk["login"]("desk-lan")
    person = graph.execute_query(
        "MATCH (r:SourceRecord)-[:LINKED_TO {state: 'MATCH'}]->(p:Person {status: 'active'}) "
        "WITH p, count(r) AS n WHERE n >= 3 RETURN p.person_id AS id ORDER BY id LIMIT 1").records[0]["id"]
    cluster = client.get(f"/persons/{person}/cluster", headers=headers).json()
    n = len(cluster["records"])
    assert len(cluster["pairs"]) == n * (n - 1) // 2 and all(p["probability"] > 0 for p in cluster["pairs"])
    moving = next(r["uid"] for r in cluster["records"] if r["source"] != "population")
    golden = graph.execute_query("MATCH (p:Person {person_id: $p}) RETURN p.name AS name, p.record_count AS n",
                                 {"p": person}).records[0].data()
    stale = client.post(f"/persons/{person}/split", headers=headers,
                        json={"uids": [moving], "version": cluster["version"] + 1, "reason": "two people"})
    assert stale.status_code == 409
    split = client.post(f"/persons/{person}/split", headers=headers,
                        json={"uids": [moving], "version": cluster["version"], "reason": "two people"})
    assert split.status_code == 200, split.text
    new_id = split.json()["new_person_id"]
    assert client.get(f"/persons/{new_id}/cluster", headers=headers).json()["records"][0]["uid"] == moving
    version = split.json()["versions"][person]
    undo = client.post(f"/persons/{person}/history/{split.json()['event_id']}/undo", headers=headers,
                       json={"version": version, "reason": "wrong record"})
    assert undo.status_code == 200, undo.text
    assert graph.execute_query("MATCH (p:Person {person_id: $p}) RETURN p.name AS name, p.record_count AS n",
                               {"p": person}).records[0].data() == golden
    twice = client.post(f"/persons/{person}/history/{split.json()['event_id']}/undo", headers=headers,
                        json={"version": undo.json()["versions"][person], "reason": "again"})
    assert twice.status_code == 409
    unknown = client.post(f"/persons/{person}/history/ev-{uuid.uuid4()}/undo", headers=headers,
                          json={"version": 0, "reason": "x"})
    assert unknown.status_code == 404


def test_connected_systems_follow_the_change_feed(desk: dict[str, Any], graph: Driver) -> None:
    client = desk["client"]
    headers = desk["login"]("desk-system")
    first = client.get("/events", params={"after": 0, "limit": 50}, headers=headers).json()
    assert first["last"] >= first["next_after"] > 0 and len(first["data"]) == 50
    seqs = [e["seq"] for e in first["data"]]
    assert seqs == sorted(seqs) and all(e["type"] in EVENT_TYPES for e in first["data"])
    after = client.get("/events", params={"after": first["next_after"], "limit": 50}, headers=headers).json()
    assert all(e["seq"] > first["next_after"] for e in after["data"])
    provinces = graph.execute_query("MATCH (e:PersonEvent) WHERE e.seq IN $seqs RETURN DISTINCT e.province AS p",
                                    {"seqs": seqs}).records
    assert {r["p"] for r in provinces} == {desk["province"]}
    assert client.get("/events", headers=desk["login"]("desk-lan")).status_code == 403


def test_a_dose_reported_by_two_sources_is_one_dose(desk: dict[str, Any], graph: Driver) -> None:
    """The immunization registry and the 831 record report the same dose: the profile shows it once, with
    both records as its sources."""
    twice = graph.execute_query(
        "MATCH (p:Person {status: 'active', province: $province})<-[:LINKED_TO {state: 'MATCH'}]-(r:SourceRecord)"
        "-[:RECEIVED]->(i:Immunization)-[:OF_VACCINE]->(v:Vaccine) "
        "WITH p, v.code AS vaccine, i.date AS day, collect(DISTINCT r.uid) AS uids WHERE size(uids) > 1 "
        "RETURN p.person_id AS person, vaccine, toString(day) AS day, uids LIMIT 1",
        {"province": desk["province"]}).records
    assert twice, "the world holds a dose reported by the registry and by the 831 record"
    row = twice[0]
    profile = desk["client"].get(f"/persons/{row['person']}", headers=desk["login"]("desk-system")).json()
    same = [d for d in profile["immunizations"] if d["vaccine"] == row["vaccine"] and d["date"] == row["day"]]
    assert len(same) == 1 and sorted(same[0]["sources"]) == sorted(row["uids"])
    doses = [(d["vaccine"], d["date"]) for d in profile["immunizations"]]
    assert len(doses) == len(set(doses))

def test_replaying_the_feed_rebuilds_every_records_person(desk: dict[str, Any], graph: Driver) -> None:
    """After linking, the desk's decisions, undos and a split (the tests above), and a rebuild of every
    person: each change is in the feed once, in order, and a consumer replaying it from 0 holds every
    record's person as the graph does."""
    run_linking(desk["settings"], graph, "neo4j", kind="relink")
    events: list[dict[str, Any]] = []
    while page := feed_after(graph, events[-1]["seq"] if events else 0, 5000):
        events.extend(page)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    person_of: dict[str, str] = {}
    for event in events:
        if event["type"] == "record_linked":
            assert person_of.get(event["uid"]) == event["other_person_id"], event  # from where it was
            assert person_of.get(event["uid"]) != event["person_id"], event  # a change, told once
            person_of[event["uid"]] = event["person_id"]
    now = {r["uid"]: r["p"] for r in graph.execute_query(
        "MATCH (r:SourceRecord)-[:LINKED_TO {state: 'MATCH'}]->(p:Person) RETURN r.uid AS uid, p.person_id AS p"
    ).records}
    assert person_of == now
    created = [e["person_id"] for e in events if e["type"] == "person_created"]
    assert len(created) == len(set(created)) == graph.execute_query(
        "MATCH (p:Person) RETURN count(p) AS n").records[0]["n"]
    retired = {r["p"] for r in graph.execute_query(
        "MATCH (p:Person {status: 'retired'}) RETURN p.person_id AS p").records}
    merged = {e["person_id"] for e in events if e["type"] == "person_merged"}
    assert retired <= merged


class Receiver(BaseHTTPRequestHandler):
    """A connected system's webhook endpoint: refuses its first delivery (a system down for a moment),
    then keeps each delivery's body and signature."""

    deliveries: ClassVar[list[tuple[bytes, str]]] = []
    refused: ClassVar[int] = 0

    def do_POST(self) -> None:  # the name http.server calls
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if Receiver.refused == 0:
            Receiver.refused += 1
            self.send_response(503)
        else:
            Receiver.deliveries.append((body, self.headers[SIGNATURE_HEADER]))
            self.send_response(204)
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


def test_webhooks_receive_the_feed_signed_and_retried(desk: dict[str, Any], graph: Driver) -> None:
    client, admin = desk["client"], desk["login"]("desk-admin")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        province = desk["province"]
        expected = feed_after(graph, 0, 100_000, province)
        start = expected[-150]["seq"]  # the last 150 events of the province: two batches
        hook = client.post("/webhooks", headers=admin, json={
            "url": f"http://127.0.0.1:{server.server_port}/hoso", "province": province, "after": start})
        assert hook.status_code == 201, hook.text
        secret, hook_id = hook.json()["secret"], hook.json()["webhook_id"]
        deadline = time.monotonic() + 60
        received: list[dict[str, Any]] = []
        while time.monotonic() < deadline and len(received) < 150:
            time.sleep(0.3)
            received = [e for body, _ in list(Receiver.deliveries) for e in json.loads(body)["events"]]
        assert Receiver.refused == 1  # the first delivery was refused, then tried again
        assert [e["seq"] for e in received] == [e["seq"] for e in expected if e["seq"] > start]
        assert all(signature == sign(secret, body) for body, signature in Receiver.deliveries)
        listed = client.get("/webhooks", headers=admin).json()["data"]
        state = next(w for w in listed if w["webhook_id"] == hook_id)
        assert state["after"] == expected[-1]["seq"] and state["failures"] == 0 and "secret" not in state
        assert client.delete(f"/webhooks/{hook_id}", headers=admin).status_code == 204
        assert client.delete(f"/webhooks/{hook_id}", headers=admin).status_code == 404
        assert client.get("/webhooks", headers=desk["login"]("desk-lan")).status_code == 403
    finally:
        server.shutdown()
