"""Persons through the API: roles, retired ids, search, matching, history, audit without ids in clear."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from conftest import LinkedWorld
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.patient import Patient
from neo4j import Driver

from api.app import create_app
from api.audit import person_hash
from api.security import Role, add_user
from linkage.intake import SOURCES
from linkage.intake.records import SourceRecord
from linkage.standardize.text import fold
from linkage.synth import SynthConfig
from linkage.vocab import SourceKind

KINDS = (SourceKind.POPULATION, SourceKind.COMMUNE831, SourceKind.HOSPITAL130)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, graph: Driver,  # type: ignore[no-untyped-def]
        linked_world: LinkedWorld):
    local = linked_world(tmp_path_factory.mktemp("api"), SynthConfig(persons=900, seed=31), KINDS, graph)
    family = graph.execute_query(
        "MATCH (parent:Person)-[:PARENT_OF]->(child:Person) WHERE parent.province IS NOT NULL "
        "AND child.birth_year > $adult "
        "RETURN parent.person_id AS parent, child.person_id AS child, parent.province AS province "
        "ORDER BY parent LIMIT 1", {"adult": date.today().year - 18}).records[0]  # a parent reads a minor child
    stranger = graph.execute_query(
        "MATCH (p:Person {status: 'active'}) WHERE p.province <> $prov AND p.birth_year < date().year - 20 "
        "RETURN p.person_id AS id ORDER BY id LIMIT 1",  # an adult: a parent may not read them
        {"prov": family["province"]}).records[0]["id"]
    add_user(graph, "doctor", "clinician password", Role.CLINICIAN, facility="01001", province=family["province"])
    add_user(graph, "citizen", "citizen password", Role.CITIZEN, person_id=family["parent"])
    add_user(graph, "epi", "epidemiologist password", Role.EPIDEMIOLOGIST, province=family["province"])
    add_user(graph, "reviewer", "reviewer password", Role.REVIEWER, province=family["province"])
    add_user(graph, "admin", "admin password", Role.ADMIN)
    with TestClient(create_app(local)) as client:
        def login(name: str) -> dict[str, str]:
            pw = {"doctor": "clinician password", "citizen": "citizen password",
                  "epi": "epidemiologist password", "reviewer": "reviewer password",
                  "admin": "admin password"}[name]
            token = client.post("/auth/token", data={"username": name, "password": pw})
            return {"Authorization": f"Bearer {token.json()['access_token']}"}

        yield {"client": client, "login": login, "family": family, "stranger": stranger}


def test_clinician_reads_persons_of_their_province_only(api) -> None:  # type: ignore[no-untyped-def]
    client, headers = api["client"], api["login"]("doctor")
    ok = client.get(f"/persons/{api['family']['parent']}", headers=headers)
    assert ok.status_code == 200
    body = ok.json()
    assert set(body) >= {"administrative", "history", "immunizations", "visits", "records", "provenance"}
    refused = client.get(f"/persons/{api['stranger']}", headers=headers)
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"


def test_citizen_sees_self_and_children_not_others(api) -> None:  # type: ignore[no-untyped-def]
    client, headers = api["client"], api["login"]("citizen")
    assert client.get(f"/persons/{api['family']['parent']}", headers=headers).status_code == 200
    assert client.get(f"/persons/{api['family']['child']}", headers=headers).status_code == 200
    # Another person's id answers as an unknown one does: a citizen cannot probe which ids exist.
    refused = client.get(f"/persons/{api['stranger']}", headers=headers)
    unknown = client.get("/persons/HS00000000000", headers=headers)
    assert refused.status_code == unknown.status_code == 404


def test_bad_and_unknown_ids(api) -> None:  # type: ignore[no-untyped-def]
    client, headers = api["client"], api["login"]("doctor")
    assert client.get("/persons/not-an-id", headers=headers).json()["code"] == "bad_request"
    assert client.get("/persons/HS00000000000", headers=headers).status_code == 404


def test_search_tolerates_missing_diacritics(api, graph: Driver) -> None:  # type: ignore[no-untyped-def]
    client, headers = api["client"], api["login"]("doctor")
    person = graph.execute_query("MATCH (p:Person {person_id: $id}) RETURN p.name AS name, p.birth_date AS b",
                                 {"id": api["family"]["parent"]}).records[0]

    found = client.get("/persons", params={"name": fold(person["name"]), "birth_date": person["b"]},
                       headers=headers).json()
    assert api["family"]["parent"] in [p["person_id"] for p in found["data"]] and found["count"] >= 1
    assert client.get("/persons", headers=headers).status_code == 400
    assert client.get("/persons", params={"personal_id": "12"}, headers=headers).status_code == 422


def test_match_returns_candidates_with_weights(api, graph: Driver) -> None:  # type: ignore[no-untyped-def]
    client, headers = api["client"], api["login"]("doctor")
    person = graph.execute_query("MATCH (p:Person {person_id: $id}) RETURN p", {"id": api["family"]["parent"]}
                                 ).records[0]["p"]
    body = {"name": person["name"], "birth_date": person["birth_date"], "sex": person["sex"]}
    result = client.post("/match", json=body, headers=headers).json()
    assert result["data"][0]["person_id"] == api["family"]["parent"]
    assert result["data"][0]["weights"]["given_name"] > 0
    assert client.post("/match", json=body, headers=api["login"]("epi")).status_code == 403
    assert client.post("/match", content=b"{not json", headers={**headers, "Content-Type": "application/json"}
                       ).status_code == 422


def test_reads_are_audited_without_ids_in_clear(api, graph: Driver) -> None:  # type: ignore[no-untyped-def]
    client = api["client"]
    client.get(f"/persons/{api['stranger']}", headers=api["login"]("citizen"))
    client.app.state.audit.flush()
    rows = graph.execute_query("MATCH (a:AuditEntry) RETURN a ORDER BY a.at").records
    entries = [dict(r["a"]) for r in rows]
    assert any(e["status"] == 403 and e["username"] == "citizen" for e in entries)
    assert all(e["endpoint"] in ("/persons/{person_id}", "/persons", "/match", "/persons/{person_id}/history",
                                 "/review/queue", "/review/items/{item}", "/review/items/{item}/decision", "/audit")
               for e in entries)
    text = repr(entries)
    assert api["stranger"] not in text and api["family"]["parent"] not in text


def test_admin_reads_the_audit_trail_by_person(api) -> None:  # type: ignore[no-untyped-def]
    client = api["client"]
    client.get(f"/persons/{api['family']['parent']}", headers=api["login"]("doctor"))
    trail = client.get("/audit", params={"person_id": api["family"]["parent"]}, headers=api["login"]("admin"))
    assert trail.status_code == 200
    entries = trail.json()["data"]
    assert entries and all(e["person_hash"] == entries[0]["person_hash"] for e in entries)
    assert any(e["username"] == "doctor" and e["endpoint"] == "/persons/{person_id}" for e in entries)
    assert client.get("/audit", headers=api["login"]("doctor")).status_code == 403
    assert client.get(f"/persons/{api['family']['parent']}", headers=api["login"]("admin")).status_code == 403


def test_fhir_patient_read_and_search(api, graph: Driver) -> None:  # type: ignore[no-untyped-def]

    client, headers = api["client"], api["login"]("doctor")
    parent = api["family"]["parent"]
    read = client.get(f"/fhir/Patient/{parent}", headers=headers)
    assert read.status_code == 200 and read.headers["content-type"].startswith("application/fhir+json")
    patient = Patient.model_validate(read.json())
    assert patient.id == parent
    assert any(i.system == "https://hoso.gov.vn/fhir/sid/person" and i.value == parent for i in patient.identifier)
    assert patient.link and all(link.type == "seealso" for link in patient.link)
    pid = graph.execute_query("MATCH (p:Person {person_id: $id}) RETURN p.personal_id AS pid", {"id": parent}
                              ).records[0]["pid"]
    found = client.get("/fhir/Patient", params={"identifier": f"https://hoso.gov.vn/fhir/sid/cccd|{pid}"},
                       headers=headers)
    bundle = Bundle.model_validate(found.json())
    assert bundle.total == 1 and bundle.entry[0].resource.id == parent
    assert bundle.link[0].relation == "self" and bundle.link[0].url.endswith(f"/fhir/Patient?identifier="
                                                                               f"https%3A%2F%2Fhoso.gov.vn%2Ffhir%2Fsid%2Fcccd%7C{pid}")
    assert client.get("/fhir/Patient", params={"identifier": "nonsense"}, headers=headers).status_code == 400
    assert client.get(f"/fhir/Patient/{api['stranger']}", headers=headers).status_code == 403


def test_fhir_match_grades_candidates(api, graph: Driver) -> None:  # type: ignore[no-untyped-def]

    client, headers = api["client"], api["login"]("doctor")
    person = graph.execute_query("MATCH (p:Person {person_id: $id}) RETURN p", {"id": api["family"]["parent"]}
                                 ).records[0]["p"]
    parts = person["name"].split()
    query = {"resourceType": "Parameters", "parameter": [{"name": "resource", "resource": {
        "resourceType": "Patient", "name": [{"family": parts[0], "given": parts[1:]}],
        "birthDate": person["birth_date"], "gender": person["sex"]}}]}
    answer = client.post("/fhir/Patient/$match", json=query, headers=headers)
    assert answer.status_code == 200, answer.text
    bundle = Bundle.model_validate(answer.json())
    best = bundle.entry[0]
    assert best.resource.id == api["family"]["parent"]
    assert best.search.score > 0.9 and best.search.extension[0].valueCode == "certain"
    bad = client.post("/fhir/Patient/$match", json={"resourceType": "Patient"}, headers=headers)
    assert bad.status_code == 400


def test_export_as_fhir_bundle_and_as_831_that_our_reader_reads(api, tmp_path) -> None:  # type: ignore[no-untyped-def]

    client, headers = api["client"], api["login"]("doctor")
    parent = api["family"]["parent"]
    fhir = client.get(f"/persons/{parent}/export", params={"format": "fhir"}, headers=headers)
    bundle = Bundle.model_validate(fhir.json())
    kinds = {e.resource.get_resource_type() for e in bundle.entry}
    assert "Patient" in kinds and bundle.type == "collection"
    for entry in bundle.entry:  # absolute, and naming the resource it holds: references resolve in the Bundle
        assert entry.fullUrl == f"http://localhost:8000/fhir/{entry.resource.get_resource_type()}/{entry.resource.id}"
    xml = client.get(f"/persons/{parent}/export", params={"format": "831"}, headers=headers)
    assert xml.headers["content-type"].startswith("application/xml")
    path = tmp_path / "export.xml"
    header = b'<?xml version="1.0" encoding="UTF-8"?>\n'
    path.write_bytes(header + b"<DANHSACHHOSO>" + xml.content.removeprefix(header) + b"</DANHSACHHOSO>")
    items = list(SOURCES[SourceKind.COMMUNE831].read(path))
    assert len(items) == 1 and isinstance(items[0], SourceRecord), items
    profile = client.get(f"/persons/{parent}", headers=headers).json()["administrative"]
    assert items[0].name_as_written == profile["name"]
    assert client.get(f"/persons/{parent}/export", params={"format": "pdf"}, headers=headers).status_code == 422


def _audited(graph: Driver, username: str) -> list[dict[str, object]]:
    rows = graph.execute_query("MATCH (a:AuditEntry {username: $u}) RETURN a", {"u": username}).records
    return [dict(r["a"]) for r in rows]


def _patient_query(person: Any) -> dict[str, Any]:
    parts = person["name"].split()
    return {"resourceType": "Parameters", "parameter": [{"name": "resource", "resource": {
        "resourceType": "Patient", "name": [{"family": parts[0], "given": parts[1:]}],
        "birthDate": person["birth_date"], "gender": person["sex"]}}]}


def test_matching_discloses_only_persons_the_caller_may_read_each_audited(  # type: ignore[no-untyped-def]
        api, graph: Driver) -> None:
    client = api["client"]
    stranger = graph.execute_query("MATCH (p:Person {person_id: $id}) RETURN p", {"id": api["stranger"]}
                                   ).records[0]["p"]
    doctor = api["login"]("doctor")
    fhir = client.post("/fhir/Patient/$match", json=_patient_query(stranger), headers=doctor)
    assert fhir.status_code == 200
    assert api["stranger"] not in json.dumps(fhir.json())  # another province: not even a smaller something
    assert client.post("/fhir/Patient/$match", json=_patient_query(stranger),
                       headers=api["login"]("reviewer")).status_code == 403
    body = {"name": stranger["name"], "birth_date": stranger["birth_date"], "sex": stranger["sex"]}
    for who in ("doctor", "reviewer"):
        found = client.post("/match", json=body, headers=api["login"](who)).json()["data"]
        assert api["stranger"] not in [c["person_id"] for c in found], who
    own = graph.execute_query("MATCH (p:Person {person_id: $id}) RETURN p", {"id": api["family"]["parent"]}
                              ).records[0]["p"]
    client.app.state.audit.flush()
    before = len(_audited(graph, "doctor"))
    found = client.post("/match", json={"name": own["name"], "birth_date": own["birth_date"]}, headers=doctor)
    disclosed = [c["person_id"] for c in found.json()["data"]]
    client.app.state.audit.flush()
    entries = _audited(graph, "doctor")[before:]
    assert disclosed and len(entries) == len(disclosed)
    keyed = client.app.state.settings
    assert {e["person_hash"] for e in entries} == {person_hash(p, keyed) for p in disclosed}


def test_a_parent_does_not_read_an_adult_childs_record_nor_a_citizen_link_history(  # type: ignore[no-untyped-def]
        api, graph: Driver) -> None:
    client, headers = api["client"], api["login"]("citizen")
    assert client.get(f"/persons/{api['family']['parent']}/history", headers=headers).status_code == 403
    graph.execute_query("MATCH (a:Person {person_id: $a}), (b:Person {person_id: $b}) MERGE (a)-[:PARENT_OF]->(b)",
                        {"a": api["family"]["parent"], "b": api["stranger"]})
    try:
        born = graph.execute_query("MATCH (p:Person {person_id: $id}) RETURN p.birth_year AS y",
                                   {"id": api["stranger"]}).records[0]["y"]
        adult = born is not None and born < date.today().year - 18
        answer = client.get(f"/persons/{api['stranger']}", headers=headers).status_code
        assert answer == (404 if adult else 200)
        assert adult, "the test needs an adult stranger"
    finally:
        graph.execute_query("MATCH (:Person {person_id: $a})-[r:PARENT_OF]->(:Person {person_id: $b}) DELETE r",
                            {"a": api["family"]["parent"], "b": api["stranger"]})


def test_a_phone_correction_must_be_a_phone(api, graph: Driver) -> None:  # type: ignore[no-untyped-def]
    client, headers, person = api["client"], api["login"]("citizen"), api["family"]["parent"]
    refused = client.post(f"/persons/{person}/corrections", headers=headers, json={"field": "phone", "value": "abc"})
    assert refused.status_code == 422 and "is not a Vietnamese phone number" in refused.text
    sent = client.post(f"/persons/{person}/corrections", headers=headers,
                       json={"field": "phone", "value": "+84 912 345 679"})
    assert sent.status_code < 300, sent.text
    stored = graph.execute_query("MATCH (t:CorrectionRequest)-[:ABOUT]->(:Person {person_id: $p}) "
                                 "RETURN collect(t.value) AS values", {"p": person}).records[0]["values"]
    assert "0912345679" in stored


def test_the_capability_statement_lists_every_fhir_route(api) -> None:  # type: ignore[no-untyped-def]
    client = api["client"]
    answer = client.get("/fhir/metadata")  # no sign-in: it names no person
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/fhir+json")
    statement = CapabilityStatement.model_validate(answer.json())
    listed = set()
    for resource in statement.rest[0].resource:
        listed |= {(resource.type, i.code) for i in resource.interaction or []}
        listed |= {(resource.type, f"${o.name}") for o in resource.operation or []}
    served = set()
    for path in client.app.openapi()["paths"]:
        if path.startswith("/fhir/") and path != "/fhir/metadata":
            parts = path.split("/")[2:]
            kind = parts[-1] if parts[-1].startswith("$") else "read" if len(parts) > 1 else "search-type"
            served.add((parts[0], kind))
    assert served and served == listed
