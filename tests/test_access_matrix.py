"""Every route, as every role and as nobody, asked about a person that role may not read: no answer
discloses them. The matrix is built from the application's own OpenAPI, so a new route fails this test
until it is given a request here (and so passes the one access decision)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import LinkedWorld
from fastapi.testclient import TestClient
from neo4j import Driver

from api.app import create_app
from api.security import Role, add_user
from linkage.synth import SynthConfig
from linkage.vocab import SourceKind

ITEM = "pd-00000000-0000-4000-8000-000000000047"  # the open review item about the stranger
ROLES = ("anonymous", "citizen", "clinician", "reviewer", "epidemiologist", "admin")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, graph: Driver, linked_world: LinkedWorld) -> Any:
    root = tmp_path_factory.mktemp("matrix")
    local = linked_world(root, SynthConfig(persons=600, seed=47, profile="realistic"),
                         [SourceKind.POPULATION, SourceKind.COMMUNE831], graph, jobs_worker=False,
                         webhooks_worker=False)
    provinces = graph.execute_query(
        "MATCH (p:Person {status: 'active'}) WHERE p.province IS NOT NULL AND p.personal_id IS NOT NULL "
        "RETURN p.province AS province, count(*) AS n ORDER BY n DESC LIMIT 2").records
    home, away = provinces[0]["province"], provinces[1]["province"]
    stranger = graph.execute_query(
        "MATCH (p:Person {status: 'active', province: $away}) WHERE p.personal_id IS NOT NULL "
        "RETURN p {.person_id, .name, .personal_id, .birth_date, .sex, .commune} AS p LIMIT 1", {"away": away}
    ).records[0]["p"]
    citizen = graph.execute_query("MATCH (p:Person {status: 'active', province: $home}) "
                                  "WHERE NOT (p)-[:PARENT_OF]->() RETURN p.person_id AS id LIMIT 1",
                                  {"home": home}).records[0]["id"]
    record = graph.execute_query("MATCH (r:SourceRecord)-[:LINKED_TO {state: 'MATCH'}]->(:Person {person_id: $p}) "
                                 "RETURN r.uid AS uid ORDER BY r.source = 'population' DESC LIMIT 1",
                                 {"p": stranger["person_id"]}).records[0]["uid"]
    other = graph.execute_query("MATCH (p:Person {status: 'active', province: $away}) WHERE p.person_id <> $s "
                                "RETURN p.person_id AS id LIMIT 1", {"away": away, "s": stranger["person_id"]}
                                ).records[0]["id"]
    graph.execute_query(  # a reviewer's decision in the stranger's history: it names their record (and CCCD)
        "MATCH (p:Person {person_id: $p}) CREATE (e:LinkEvent {event_id: 'matrix-event', actor: 'reviewer:x', "
        "action: 'link:MATCH', uids: [$uid], at: datetime()})-[:ABOUT]->(p)",
        {"p": stranger["person_id"], "uid": record})
    graph.execute_query(  # an open review item between two persons of the other province
        "MATCH (a:Person {person_id: $a}), (b:Person {person_id: $b}) MERGE (a)-[d:POSSIBLE_DUPLICATE]->(b) "
        "SET d.status = 'open', d.probability = 0.7, d.created_at = datetime(), d.item_id = $item, "
        "d.item_since = datetime()",
        {"a": stranger["person_id"], "b": other, "item": ITEM})
    accounts = {"citizen": (Role.CITIZEN, {"person_id": citizen}), "clinician": (Role.CLINICIAN, {"province": home}),
                "reviewer": (Role.REVIEWER, {"province": home}), "epidemiologist": (Role.EPIDEMIOLOGIST, {}),
                "admin": (Role.ADMIN, {})}
    for name, (role, extra) in accounts.items():
        add_user(graph, f"matrix-{name}", "matrix password", role, **extra)
    with TestClient(create_app(local), raise_server_exceptions=False) as client:
        headers: dict[str, dict[str, str]] = {"anonymous": {}}
        for name in accounts:
            token = client.post("/auth/token", data={"username": f"matrix-{name}", "password": "matrix password"})
            headers[name] = {"Authorization": f"Bearer {token.json()['access_token']}"}
        yield {"client": client, "headers": headers, "stranger": stranger, "record": record, "other": other,
               "root": root}


def _requests(world: Any) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """One request per operation, each about the stranger where it names a person."""
    s, person = world["stranger"], world["stranger"]["person_id"]
    parts = s["name"].split()
    patient = {"resourceType": "Parameters", "parameter": [{"name": "resource", "resource": {
        "resourceType": "Patient", "name": [{"family": parts[0], "given": parts[1:]}], "birthDate": s["birth_date"],
        "identifier": [{"system": "https://hoso.gov.vn/fhir/sid/cccd", "value": s["personal_id"]}]}}]}
    registry = (world["root"] / "synth" / "population").glob("*.csv")
    upload = next(iter(registry)).read_bytes()[:2000].rsplit(b"\n", 1)[0] + b"\n"
    return {
        "health": ("GET", "/health", {}), "ready": ("GET", "/ready", {}),
        "create_token": ("POST", "/auth/token", {"data": {"username": "matrix-admin", "password": "wrong password"}}),
        "read_me": ("GET", "/auth/me", {}),
        "read_person": ("GET", f"/persons/{person}", {}),
        "search_persons": ("GET", "/persons", {"params": {"personal_id": s["personal_id"]}}),
        "match_person": ("POST", "/match", {"json": {"name": s["name"], "birth_date": s["birth_date"],
                                                      "personal_id": s["personal_id"]}}),
        "read_person_history": ("GET", f"/persons/{person}/history", {}),
        "export_person": ("GET", f"/persons/{person}/export", {"params": {"format": "831"}}),
        "review_queue": ("GET", "/review/queue", {"params": {"limit": 200}}),
        "review_item": ("GET", f"/review/items/{ITEM}", {}),
        "decide_review_item": ("POST", f"/review/items/{ITEM}/decision",
                               {"json": {"decision": "MERGE", "note": "matrix", "version": "0.0"}}),
        "undo_decision": ("POST", f"/persons/{person}/history/ev-00000000-0000-4000-8000-000000000000/undo",
                          {"json": {"version": 0, "reason": "matrix"}}),
        "split_person": ("POST", f"/persons/{person}/split",
                         {"json": {"uids": [world["record"]], "version": 0, "reason": "matrix"}}),
        "read_person_cluster": ("GET", f"/persons/{person}/cluster", {}),
        "read_change_feed": ("GET", "/events", {"params": {"after": 0, "limit": 1000}}),
        "add_webhook": ("POST", "/webhooks",
                        {"json": {"url": "http://127.0.0.1:9/feed", "province": "01", "after": 0}}),
        "list_webhooks": ("GET", "/webhooks", {}),
        "remove_webhook": ("DELETE", "/webhooks/wh-00000000-0000-4000-8000-000000000000", {}),
        "read_audit": ("GET", "/audit", {"params": {"person_id": person}}),
        "fhir_read_patient": ("GET", f"/fhir/Patient/{person}", {}),
        "fhir_search_patient": ("GET", "/fhir/Patient",
                                {"params": {"identifier": f"https://hoso.gov.vn/fhir/sid/cccd|{s['personal_id']}"}}),
        "fhir_match_patient": ("POST", "/fhir/Patient/$match", {"json": patient}),
        "fhir_metadata": ("GET", "/fhir/metadata", {}),
        "fhir_patient_summary": ("GET", f"/fhir/Patient/{person}/$summary", {}),
        "submit_ingest_job": ("POST", "/ingest/population", {"files": {"file": ("p.csv", upload, "text/csv")}}),
        "list_jobs": ("GET", "/jobs", {}),
        "get_job": ("GET", "/jobs/job-20260101000000-00000000", {}),
        "get_job_quarantine": ("GET", "/jobs/job-20260101000000-00000000/quarantine", {}),
        "retry_job": ("POST", "/jobs/job-20260101000000-00000000/retry", {}),
        "cancel_job": ("POST", "/jobs/job-20260101000000-00000000/cancel", {}),
        "list_analyses": ("GET", "/analytics", {}),
        "list_units": ("GET", "/analytics/units", {}),
        "run_analysis": ("GET", "/analytics/age_pyramid", {"params": {"period": "2026"}}),
        "statistical_report": ("GET", "/reports/statistics", {"params": {"period": "2026", "format": "json"}}),
        "immunization_due": ("GET", f"/stations/{s['commune']}/immunization-due", {}),
        "ncd_not_seen": ("GET", f"/stations/{s['commune']}/ncd-not-seen", {}),
        "request_correction": ("POST", f"/persons/{person}/corrections",
                               {"json": {"field": "phone", "value": "0912345678"}}),
        "self_report": ("POST", f"/persons/{person}/self-reports", {"json": {"smoking": True}}),
        "open_corrections": ("GET", "/tasks/corrections", {}),
        "decide_correction": ("POST", "/tasks/corrections/corr-20260101000000-000000/decision",
                              {"json": {"accept": False, "reason": "matrix test"}}),
        "list_users": ("GET", "/users", {}),
        "save_user": ("PUT", "/users/matrix-made",
                      {"json": {"role": "epidemiologist", "password": "matrix password 2"}}),
        "deactivate_user": ("POST", "/users/matrix-nobody/deactivate", {}),
        "list_batches": ("GET", "/batches", {}),
        "set_aside_batch": ("POST", "/batches/population-0000000000000000/set-aside", {"json": {"reason": "matrix"}}),
        "restore_batch": ("POST", "/batches/population-0000000000000000/restore", {}),
        "start_registration": ("POST", "/register", {"json": {"personal_id": s["personal_id"],
                                                              "birth_date": s["birth_date"], "phone": "0912345678"}}),
        "finish_registration": ("POST", f"/register/{'0' * 32}",
                                {"json": {"code": "000000", "username": "matrix-self", "password": "matrix pass 3"}}),
        "start_password_reset": ("POST", "/password-reset", {"json": {"personal_id": s["personal_id"],
                                                                      "birth_date": s["birth_date"],
                                                                      "phone": "0912345678"}}),
        "finish_password_reset": ("POST", f"/password-reset/{'0' * 32}",
                                  {"json": {"code": "000000", "password": "matrix pass 3"}}),
        "my_disclosures": ("GET", "/me/disclosures", {}),
        "flag_disclosure": ("POST", f"/me/disclosures/{'0' * 32}/flag", {"json": {"note": "matrix"}}),
        "open_access_flags": ("GET", "/tasks/access-flags", {}),
        "close_access_flag": ("POST", "/tasks/access-flags/flag-20260101000000-000000/finding",
                              {"json": {"finding": "justified", "reason": "matrix test"}}),
        "create_consent_code": ("POST", "/me/consent-codes", {"json": {"person_id": person}}),
        "request_consent": ("POST", "/consent-requests", {"json": {"personal_id": s["personal_id"]}}),
        "use_consent": ("POST", "/consent", {"json": {"code": "ABCD-EFGH"}}),
        "break_the_glass": ("POST", "/emergency", {"json": {"personal_id": s["personal_id"], "reason": "matrix"}}),
        "my_closures": ("GET", "/me/closures", {}),
        "close_part": ("POST", "/me/closures", {"json": {"scope": "record", "person_id": person}}),
        "reopen_part": ("DELETE", f"/me/closures/cl-{'0' * 16}", {}),
        "my_delegations": ("GET", "/me/delegations", {}),
        "delegate": ("POST", "/me/delegations", {"json": {"username": "matrix-admin", "days": 3, "person_id": person}}),
        "end_delegation": ("DELETE", f"/me/delegations/grant-{'0' * 16}", {}),
    }


def test_the_matrix_covers_every_operation(world: Any) -> None:
    spec = world["client"].app.openapi()
    operations = {op["operationId"] for ops in spec["paths"].values() for op in ops.values()}
    assert operations == set(_requests(world)), "give every new route a request in this matrix"


@pytest.mark.parametrize("role", ROLES)
def test_no_role_learns_of_a_person_it_may_not_read(world: Any, role: str) -> None:
    client, stranger = world["client"], world["stranger"]
    secrets = {stranger["person_id"], stranger["personal_id"], stranger["name"], world["record"]}
    leaks, errors = [], []
    for operation, (method, path, extra) in _requests(world).items():
        answer = client.request(method, path, headers=world["headers"][role], **extra)
        if answer.status_code >= 500:
            errors.append(f"{operation}: {answer.status_code}")
        body = answer.content.decode("utf-8", "replace")
        found = sorted(secret for secret in secrets if secret and (secret in body or json.dumps(secret)[1:-1] in body))
        if found and answer.status_code < 400:
            leaks.append(f"{operation} {answer.status_code}: {found}")
    assert errors == [] and leaks == []


def test_refusals_are_what_each_role_gets(world: Any) -> None:
    """The expected refusals, so that a route opened by mistake shows here as well as in the leak test."""
    client, requests = world["client"], _requests(world)
    staff_only = {"read_person_history": (), "search_persons": ("clinician",),
                  "fhir_match_patient": ("clinician",), "review_queue": ("reviewer",), "list_users": ("admin",),
                  "read_audit": ("admin",), "list_jobs": ("admin",), "run_analysis": ("epidemiologist",),
                  "statistical_report": ("epidemiologist",), "open_corrections": ("admin",),
                  "decide_correction": ("admin",), "save_user": ("admin",), "deactivate_user": ("admin",),
                  "list_batches": ("admin",), "undo_decision": (), "split_person": (),
                  "read_person_cluster": (), "read_change_feed": ("clinician",), "list_webhooks": ("admin",),
                  "my_disclosures": ("citizen",), "flag_disclosure": ("citizen",), "open_access_flags": ("admin",),
                  "close_access_flag": ("admin",), "create_consent_code": ("citizen",),
                  "request_consent": ("clinician",), "use_consent": ("clinician",), "break_the_glass": ("clinician",),
                  "my_closures": ("citizen",), "close_part": ("citizen",), "reopen_part": ("citizen",),
                  "my_delegations": ("citizen",), "delegate": ("citizen",), "end_delegation": ("citizen",)}
    for operation, allowed in staff_only.items():
        method, path, extra = requests[operation]
        for role in ROLES:
            status = client.request(method, path, headers=world["headers"][role], **extra).status_code
            expected_refusal = 401 if role == "anonymous" else 403
            if role in allowed:
                assert status < 500 and status != expected_refusal, (operation, role, status)
            else:
                assert status in (expected_refusal, 404), (operation, role, status)


def test_the_matrix_world_is_what_the_tests_assume(world: Any) -> None:
    assert Path(world["root"]).is_dir() and world["stranger"]["personal_id"] and world["record"]


PERSON_ID = re.compile(r"HS[0-9A-HJKMNP-TV-Z]{11}")


def test_every_disclosed_person_is_audited(world: Any, graph: Driver) -> None:
    """For each route that returns persons, asked by a role that may read them: one audit entry per
    distinct person the answer shows (counted by the active persons' ids in the answer: a profile shows
    the ids of the household, parents and children too), no more and no fewer."""
    client = world["client"]
    home = graph.execute_query(
        "MATCH (p:Person {status: 'active'}) WHERE p.province IS NOT NULL AND p.personal_id IS NOT NULL "
        "WITH p.province AS province, count(*) AS n ORDER BY n DESC LIMIT 1 "
        "MATCH (q:Person {status: 'active', province: province}) WHERE q.personal_id IS NOT NULL "
        "AND q.commune IS NOT NULL RETURN q {.person_id, .name, .personal_id, .birth_date, .commune} AS q LIMIT 1"
    ).records[0]["q"]
    person, given = home["person_id"], home["name"].split()[-1]
    calls = [
        ("clinician", "GET", f"/persons/{person}", {}),
        ("clinician", "GET", "/persons", {"params": {"name": given}}),
        ("clinician", "POST", "/match", {"json": {"name": home["name"], "birth_date": home["birth_date"]}}),
        ("clinician", "GET", f"/persons/{person}/history", {}),
        ("clinician", "GET", f"/persons/{person}/export", {"params": {"format": "831"}}),
        ("clinician", "GET", f"/fhir/Patient/{person}", {}),
        ("clinician", "GET", f"/fhir/Patient/{person}/$summary", {}),
        ("clinician", "GET", "/fhir/Patient",
         {"params": {"identifier": f"https://hoso.gov.vn/fhir/sid/cccd|{home['personal_id']}"}}),
        ("clinician", "GET", f"/stations/{home['commune']}/immunization-due", {}),
        ("clinician", "GET", f"/stations/{home['commune']}/ncd-not-seen", {}),
        ("reviewer", "POST", "/match", {"json": {"name": home["name"], "birth_date": home["birth_date"]}}),
        ("reviewer", "GET", f"/persons/{person}/history", {}),
        ("reviewer", "GET", "/review/queue", {"params": {"limit": 200}}),
        ("reviewer", "GET", f"/persons/{person}/cluster", {}),
        ("clinician", "GET", "/events", {"params": {"after": 0, "limit": 50}}),
    ]
    for role, method, path, extra in calls:
        client.app.state.audit.flush()
        before = graph.execute_query("MATCH (a:AuditEntry) RETURN count(a) AS n").records[0]["n"]
        answer = client.request(method, path, headers=world["headers"][role], **extra)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:200])
        ids = sorted(set(PERSON_ID.findall(answer.text)))  # retired ids are the same person as their survivor
        shown = {r["id"] for r in graph.execute_query(
            "MATCH (p:Person) WHERE p.person_id IN $ids AND p.status = 'active' RETURN p.person_id AS id",
            {"ids": ids}).records} | ({person} if person in path else set())  # the person asked about
        client.app.state.audit.flush()
        entries = graph.execute_query("MATCH (a:AuditEntry) RETURN a.person_hash AS h ORDER BY a.at SKIP $n",
                                      {"n": before}).records
        hashes = {e["h"] for e in entries if e["h"]}
        assert len(hashes) == len(shown), (role, path, len(hashes), len(shown))
